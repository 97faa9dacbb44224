//! SARIF 2.1.0 output, for code-scanning tools: one rule per check, one result per distinct
//! violation, located at the symbolized call site.

use crate::summary::Model;
use crate::symbolize::Symbols;
use serde_json::{json, Value};

/// The OASIS schema the output declares.
pub const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// Renders the model as one SARIF log.
pub fn render(model: &Model, symbols: &Symbols) -> Value {
    let mut rules: Vec<&str> = Vec::new();
    let mut results = Vec::new();
    for d in &model.distinct {
        let v = &d.violation;
        let index = rules.iter().position(|r| *r == v.check).unwrap_or_else(|| {
            rules.push(&v.check);
            rules.len() - 1
        });
        let mut result = json!({
            "ruleId": v.check,
            "ruleIndex": index,
            "level": "error",
            "message": { "text": format!("{}: {}: {}", v.callee(), v.check, v.message) },
            "properties": { "interface": v.interface, "param": v.param, "pid": v.pid, "count": d.count },
        });
        if let Some(frame) = d.call_site() {
            let loc = symbols.get(frame);
            let mut physical = json!({
                "artifactLocation": { "uri": file_uri(loc.file.as_deref().unwrap_or(&frame.module)) },
            });
            if let (Some(_), Some(line)) = (&loc.file, loc.line) {
                physical["region"] = json!({ "startLine": line });
            }
            let mut location = json!({ "physicalLocation": physical });
            if let Some(func) = &loc.function {
                location["logicalLocations"] = json!([{ "name": func, "kind": "function" }]);
            }
            result["locations"] = json!([location]);
            result["properties"]["module"] = json!(frame.module);
            result["properties"]["offset"] = json!(frame.offset);
        }
        results.push(result);
    }
    let rules: Vec<Value> = rules
        .iter()
        .map(|r| json!({ "id": r, "name": r, "shortDescription": { "text": format!("dynchk check {r}") } }))
        .collect();
    json!({
        "version": "2.1.0",
        "$schema": SCHEMA,
        "runs": [{
            "tool": { "driver": {
                "name": "dynchk",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }],
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
}
