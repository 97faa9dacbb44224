//! SARIF 2.1.0 output, for code-scanning tools: one rule per check (described from the
//! database), one result per call site (the processes that hit it and the count in its
//! properties), located at the symbolized call site with the backtrace as a stack. Messages hold
//! no addresses or pids, so that two runs of the same program give the same results.

use crate::summary::{Model, SiteView};
use crate::symbolize::Symbols;
use serde_json::{json, Value};
use std::path::Path;

/// The OASIS schema the output declares.
pub const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// How the run was made, for `invocations` (none for `dynchk report`).
pub struct Invocation {
    /// The command line.
    pub argv: Vec<String>,
    /// Its exit status as a shell shows it.
    pub exit_code: i32,
}

/// What the SARIF log says beyond the logs.
#[derive(Clone, Copy, Default)]
pub struct Context<'a> {
    /// How the run was made (`dynchk run`).
    pub invocation: Option<&'a Invocation>,
    /// `--source-root`: files under it are written relative to `%SRCROOT%`.
    pub source_root: Option<&'a Path>,
}

/// The base id of URIs relative to `--source-root`.
const SRCROOT: &str = "%SRCROOT%";

/// Renders the model as one SARIF log.
pub fn render(model: &Model, symbols: &Symbols, cx: Context<'_>) -> Value {
    // Lexically absolute, as the compiler recorded the paths (no symbolic links resolved).
    let root = cx.source_root.map(|r| {
        let abs = std::path::absolute(r).unwrap_or_else(|_| r.to_path_buf());
        abs.to_string_lossy().trim_end_matches('/').to_string()
    });
    let uris = Uris {
        root: root.as_deref(),
    };
    let mut rules: Vec<&str> = Vec::new();
    let mut results = Vec::new();
    for g in &model.groups {
        for site in model.sites(g) {
            let v = site.first;
            let index = rules.iter().position(|r| *r == v.check).unwrap_or_else(|| {
                rules.push(&v.check);
                rules.len() - 1
            });
            results.push(result(model, &site, index, symbols, uris));
        }
    }
    let rules: Vec<Value> = rules.iter().map(|r| rule(r)).collect();
    let mut run = json!({
        "tool": { "driver": {
            "name": "dynchk",
            "version": env!("CARGO_PKG_VERSION"),
            "rules": rules,
        }},
        "results": results,
    });
    if let Some(root) = &root {
        run["originalUriBaseIds"] = json!({ SRCROOT: { "uri": file_uri(&format!("{root}/")) } });
    }
    if let Some(inv) = cx.invocation {
        run["invocations"] = json!([{
            "commandLine": inv.argv.join(" "),
            "arguments": inv.argv,
            "exitCode": inv.exit_code,
            "executionSuccessful": true,
            "properties": { "processes": model.processes.iter().map(|(pid, p)| json!({
                "pid": pid, "ppid": p.ppid, "command": p.command,
            })).collect::<Vec<Value>>() },
        }]);
    }
    json!({ "version": "2.1.0", "$schema": SCHEMA, "runs": [run] })
}

fn result(
    model: &Model,
    site: &SiteView<'_>,
    index: usize,
    symbols: &Symbols,
    uris: Uris<'_>,
) -> Value {
    let v = site.first;
    // Commands, not pids: pids change from run to run (they are in the invocation's properties).
    let processes: std::collections::BTreeSet<&str> = site
        .pids
        .iter()
        .map(|pid| {
            model
                .processes
                .get(pid)
                .and_then(|p| p.command.as_deref())
                .unwrap_or("(command unknown)")
        })
        .collect();
    let mut result = json!({
        "ruleId": v.check,
        "ruleIndex": index,
        "level": if v.severity == dynchk_record::Severity::Error { "error" } else { "warning" },
        "message": { "text": format!("{} breaks {}", v.callee(), v.check) },
        "properties": {
            "interface": v.interface, "param": v.param, "count": site.count, "processes": processes,
            "value": v.value, "detail": v.message,
        },
    });
    if let Some(m) = &v.member {
        result["properties"]["member"] = json!(m);
    }
    if let Some((event, f)) = v.block() {
        let mut related = location(f, symbols, uris);
        related["id"] = json!(1);
        related["message"] = json!({ "text": event.words() });
        result["relatedLocations"] = json!([related]);
    }
    let Some(frame) = site.frame else {
        return result;
    };
    let loc = symbols.get(frame);
    result["locations"] = json!([location(frame, symbols, uris)]);
    result["properties"]["module"] = json!(frame.module);
    result["properties"]["offset"] = json!(frame.offset);
    // Stable across runs and rebuilds that do not move the line: rule, function, file, line.
    result["partialFingerprints"] = json!({
        "dynchkSite/v1": format!(
            "{}:{}:{}:{}:{}",
            v.check,
            v.interface,
            loc.function.as_deref().unwrap_or(""),
            loc.file
                .as_deref()
                .map_or(frame.module.as_str(), |f| uris.relative(f).unwrap_or(f)),
            loc.line.map_or(String::new(), |l| l.to_string())
        )
    });
    let frames: Vec<Value> = v
        .backtrace
        .iter()
        .skip_while(|f| *f != frame)
        .map(|f| json!({ "location": location(f, symbols, uris) }))
        .collect();
    if !frames.is_empty() {
        result["stacks"] = json!([{ "message": { "text": "backtrace" }, "frames": frames }]);
    }
    result
}

/// How paths become artifact URIs.
#[derive(Clone, Copy)]
struct Uris<'a> {
    /// `--source-root`, absolute, without a trailing `/`.
    root: Option<&'a str>,
}

impl Uris<'_> {
    /// `path` relative to the source root, when it is under it.
    fn relative<'p>(&self, path: &'p str) -> Option<&'p str> {
        path.strip_prefix(self.root?)?
            .strip_prefix('/')
            .filter(|rest| !rest.is_empty())
    }

    /// The `artifactLocation` of a file or module path.
    fn artifact(&self, path: &str) -> Value {
        match self.relative(path) {
            Some(rel) => json!({ "uri": file_uri(rel), "uriBaseId": SRCROOT }),
            None => json!({ "uri": file_uri(path) }),
        }
    }
}

/// A frame as a SARIF location: the source line when known, else the module.
fn location(frame: &crate::logs::Frame, symbols: &Symbols, uris: Uris<'_>) -> Value {
    let loc = symbols.get(frame);
    let mut physical = json!({
        "artifactLocation": uris.artifact(loc.file.as_deref().unwrap_or(&frame.module)),
    });
    if let (Some(_), Some(line)) = (&loc.file, loc.line) {
        physical["region"] = json!({ "startLine": line });
    }
    let mut location = json!({ "physicalLocation": physical });
    if let Some(func) = &loc.function {
        location["logicalLocations"] = json!([{ "name": func, "kind": "function" }]);
    }
    location
}

/// A rule per check, described by the database's rules of that check.
fn rule(check: &str) -> Value {
    let of_check: Vec<(&str, &str)> = crate::explain::checks()
        .iter()
        .filter(|(c, _, _)| *c == check)
        .map(|(_, r, d)| (*r, *d))
        .collect();
    let short = match of_check.as_slice() {
        [(_, d)] => format!("{check}: {d}"),
        _ => format!("{check}: an argument breaks the {check} rule"),
    };
    let full = if of_check.is_empty() {
        short.clone()
    } else {
        let list: Vec<String> = of_check
            .iter()
            .map(|(r, d)| format!("`{r}`: {d}"))
            .collect();
        format!(
            "The argument must satisfy the {check} rule of the specification database: {}.",
            list.join("; ")
        )
    };
    json!({
        "id": check,
        "name": check,
        "shortDescription": { "text": short },
        "fullDescription": { "text": full },
        "help": { "text": format!("{full} `dynchk explain INTERFACE` shows which parameters are checked with it and why; a rule `INTERFACE:PARAM:{check}` in a --suppress file silences it.") },
    })
}

/// A path as a URI reference: absolute paths become `file://` URIs, relative ones stay relative
/// (code-scanning services resolve those against the repository root).
fn file_uri(path: &str) -> String {
    let mut s = String::from(if path.starts_with('/') { "file://" } else { "" });
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
            s.push(char::from(b));
        } else {
            s += &format!("%{b:02X}");
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_percent_encoded_and_absolute_paths_get_file_scheme() {
        assert_eq!(file_uri("/a b/c.c"), "file:///a%20b/c.c");
        assert_eq!(file_uri("src/x.c"), "src/x.c");
    }

    #[test]
    fn rules_are_described_from_the_database() {
        let r = rule("filedescriptor");
        let full = r["fullDescription"]["text"].as_str().unwrap();
        assert!(full.contains("`fd.open`"), "{full}");
    }
}
