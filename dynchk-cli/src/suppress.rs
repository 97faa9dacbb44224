//! Suppression files (`--suppress`, `DYNCHK_SUPPRESS`) checked before the program starts: the
//! preload reads them without allocating and cannot say much about a bad line, so every line
//! that would not match what it seems to mean is an error here, with its file and line.
//!
//! A rule is `interface[:param[:check]]`, `caller=MODULE`, or words combining them with
//! `fun=NAME`, `src=FILE[:LINE]`, `obj=MODULE` (and `caller=`). The preload applies the one-word
//! rules as the violations happen; a rule of several words needs the call site's functions and
//! source lines, which only the CLI can symbolize, so the preload leaves it alone and
//! [`Model::suppress`](crate::summary::Model::suppress) applies it to the records, counting what
//! it suppressed under the same rule text.

use crate::explain;
use crate::logs::{Frame, Violation};
use crate::symbolize::Symbols;
use anyhow::{bail, Result};
use std::path::Path;

/// What libdynchk.so keeps of a file (rt/config.rs): more would be cut.
const MAX_RULES: usize = 256;
const MAX_BYTES: usize = 16 * 1024 - 1;

/// The keys a rule's words may have.
const KEYS: &str = "caller=MODULE, obj=MODULE, fun=NAME, src=FILE[:LINE]";

/// One rule of a suppression file.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Rule {
    /// The line as written (trimmed): the key of its suppressed count.
    pub text: String,
    interface: Option<String>,
    param: Option<String>,
    check: Option<String>,
    /// The call site's module.
    caller: Option<String>,
    /// A module anywhere in the recorded frames.
    obj: Option<String>,
    /// A function anywhere in the recorded frames.
    fun: Option<String>,
    /// A source file (and line) anywhere in the recorded frames.
    src: Option<(String, Option<u32>)>,
}

/// Reads and checks a suppression file; the error lists every bad line.
pub fn load(path: &Path) -> Result<Vec<Rule>> {
    let text = std::fs::read(path)
        .map_err(|e| anyhow::anyhow!("cannot read suppression file {}: {e}", path.display()))?;
    let name = path.display();
    let mut errors = Vec::new();
    let mut rules = Vec::new();
    let mut count = 0;
    for (i, line) in String::from_utf8_lossy(&text).lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        count += 1;
        match Rule::parse(line) {
            Ok(r) => rules.push(r),
            Err(why) => errors.push(format!("{name}:{}: `{line}`: {why}", i + 1)),
        }
    }
    if count > MAX_RULES {
        errors.push(format!(
            "{name}: {count} rules; libdynchk.so takes at most {MAX_RULES}: merge rules (`*` for \
             any parameter or check) or split the run"
        ));
    }
    if text.len() > MAX_BYTES {
        errors.push(format!(
            "{name}: {} bytes; libdynchk.so reads at most {MAX_BYTES}: remove comments or merge rules",
            text.len()
        ));
    }
    if !errors.is_empty() {
        bail!(
            "bad suppression file (a rule is `interface[:param[:check]]`, `caller=MODULE`, or \
             these with {KEYS} after a space):\n  {}",
            errors.join("\n  ")
        );
    }
    Ok(rules)
}

impl Rule {
    /// The rule a line says, or why it would not do what it says.
    fn parse(line: &str) -> std::result::Result<Rule, String> {
        let mut rule = Rule {
            text: line.to_string(),
            ..Rule::default()
        };
        let mut named = false;
        for word in line.split_whitespace() {
            let Some((key, value)) = word.split_once('=') else {
                if named {
                    return Err(format!(
                        "`{word}`: a rule names one interface (`interface[:param[:check]]`)"
                    ));
                }
                named = true;
                rule.function(word)?;
                continue;
            };
            if value.is_empty() {
                return Err(format!("`{key}=` needs a value ({KEYS})"));
            }
            let slot = match key {
                "caller" => &mut rule.caller,
                "obj" => &mut rule.obj,
                "fun" => &mut rule.fun,
                "src" => {
                    if rule.src.is_some() {
                        return Err("`src=` is given twice".into());
                    }
                    rule.src = Some(match value.rsplit_once(':') {
                        Some((file, n)) => {
                            let n = n.parse::<u32>().map_err(|_| {
                                format!("`src={value}`: `{n}` is not a line number")
                            })?;
                            (file.to_string(), Some(n))
                        }
                        None => (value.to_string(), None),
                    });
                    continue;
                }
                _ => return Err(format!("`{key}=` is not a rule key; the keys are {KEYS}")),
            };
            if slot.replace(value.to_string()).is_some() {
                return Err(format!("`{key}=` is given twice"));
            }
        }
        Ok(rule)
    }

    /// Checks and takes `interface[:param[:check]]`.
    fn function(&mut self, word: &str) -> std::result::Result<(), String> {
        let fields: Vec<&str> = word.split(':').collect();
        if fields.len() > 3 {
            return Err("more than three `:`-separated fields".into());
        }
        let iface = fields[0];
        let Some(proto) = explain::prototype(iface) else {
            return Err(explain::lookup(iface)
                .err()
                .map_or_else(String::new, |e| e.to_string()));
        };
        let params = param_names(proto);
        if let Some(&p) = fields.get(1) {
            let ok = p.is_empty()
                || p == "*"
                || p.parse::<usize>().is_ok_and(|n| n < params.len())
                || params.contains(&p);
            if !ok {
                return Err(format!(
                    "{iface} has no parameter `{p}`; it has {} (or `*`, or a position from 0)",
                    if params.is_empty() {
                        "none".to_string()
                    } else {
                        params.join(", ")
                    }
                ));
            }
        }
        if let Some(&c) = fields.get(2) {
            let checks = explain::checks();
            if !(c.is_empty() || c == "*" || checks.iter().any(|(check, _, _)| *check == c)) {
                let near = explain::similar(c, checks.iter().map(|(check, _, _)| *check));
                return Err(format!(
                    "`{c}` is not a check{}",
                    if near.is_empty() {
                        " (the checks are listed in README.md, `dynchk explain` shows an interface's)"
                            .to_string()
                    } else {
                        format!("; did you mean {}?", near.join(", "))
                    }
                ));
            }
        }
        let some = |f: Option<&&str>| {
            f.filter(|f| !f.is_empty() && **f != "*")
                .map(|f| f.to_string())
        };
        self.interface = Some(iface.to_string());
        self.param = some(fields.get(1));
        self.check = some(fields.get(2));
        Ok(())
    }

    /// Whether the rule needs the frames' functions or source lines (symbolized by the caller).
    pub fn needs_symbols(&self) -> bool {
        self.fun.is_some() || self.src.is_some()
    }

    /// Whether the rule suppresses `v`, whose recorded frames from the call site outwards are
    /// `frames` (the first `--backtrace N`).
    pub fn matches(&self, v: &Violation, frames: &[&Frame], symbols: &Symbols) -> bool {
        let is = |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
        let position = v.param.to_string();
        is(&self.interface, &v.interface)
            && (is(&self.param, &position)
                || is(&self.param, v.param_name.as_deref().unwrap_or("")))
            && is(&self.check, &v.check)
            && self
                .caller
                .as_deref()
                .is_none_or(|m| frames.first().is_some_and(|f| same_file(&f.module, m)))
            && self
                .obj
                .as_deref()
                .is_none_or(|m| frames.iter().any(|f| same_file(&f.module, m)))
            && self.fun.as_deref().is_none_or(|name| {
                frames
                    .iter()
                    .any(|f| symbols.get(f).function.as_deref() == Some(name))
            })
            && self.src.as_ref().is_none_or(|(file, line)| {
                frames.iter().any(|f| {
                    let l = symbols.get(f);
                    l.file.as_deref().is_some_and(|have| same_file(have, file))
                        && line.is_none_or(|n| l.line == Some(n))
                })
            })
    }
}

/// `path` is `want`, or ends with `/want` (`libfoo.so`, `src/main.c`).
fn same_file(path: &str, want: &str) -> bool {
    path == want
        || path
            .strip_suffix(want)
            .is_some_and(|head| head.ends_with('/'))
}

/// The parameter names of a C prototype: `ssize_t read(int fd, void *buf, size_t count)` →
/// fd, buf, count.
fn param_names(proto: &str) -> Vec<&str> {
    let Some(inner) = proto
        .split_once('(')
        .and_then(|(_, rest)| rest.rsplit_once(')'))
        .map(|(inner, _)| inner)
    else {
        return Vec::new();
    };
    inner
        .split(',')
        .filter_map(|p| {
            // `char *const argv[]` → argv; `void` and `...` name nothing.
            let p = p.trim().trim_end_matches("[]");
            let start = p
                .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .map_or(0, |i| i + 1);
            let name = &p[start..];
            (start > 0 && !name.is_empty()).then_some(name)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameter_names_come_from_the_prototype() {
        assert_eq!(
            param_names("ssize_t read(int fd, void *buf, size_t count)"),
            ["fd", "buf", "count"]
        );
        assert!(param_names("pid_t fork(void)").is_empty());
    }

    fn rule(line: &str) -> std::result::Result<Rule, String> {
        Rule::parse(line)
    }

    #[test]
    fn rules_are_checked_against_the_database() {
        assert!(rule("read:buf:RWaddress").is_ok());
        assert!(rule("read:1").is_ok() && rule("write:*:filedescriptor").is_ok());
        assert!(rule("caller=libfoo.so").is_ok());
        assert!(rule("raed").unwrap_err().contains("similar"));
        assert!(rule("read:buff").unwrap_err().contains("fd, buf, count"));
        assert!(rule("read:buf:RWadress")
            .unwrap_err()
            .contains("did you mean RWaddress"));
        assert!(rule("read:buf:rwaddress")
            .unwrap_err()
            .contains("RWaddress"));
        assert!(rule("a:b:c:d").unwrap_err().contains("three"));
    }

    #[test]
    fn site_keys_combine_with_the_interface_and_bad_ones_are_named() {
        let r = rule("close:fd  fun=main src=dir/prog.c:12 obj=libfoo.so").unwrap();
        assert_eq!(r.interface.as_deref(), Some("close"));
        assert_eq!(r.param.as_deref(), Some("fd"));
        assert_eq!(r.check, None);
        assert_eq!(r.fun.as_deref(), Some("main"));
        assert_eq!(r.src, Some(("dir/prog.c".to_string(), Some(12))));
        assert_eq!(r.obj.as_deref(), Some("libfoo.so"));
        assert!(r.needs_symbols());
        assert!(!rule("read obj=libc.so.6").unwrap().needs_symbols());
        assert!(rule("src=prog.c").unwrap().src == Some(("prog.c".into(), None)));
        assert!(rule("fun=").unwrap_err().contains("needs a value"));
        assert!(rule("func=main").unwrap_err().contains("not a rule key"));
        assert!(rule("src=a.c:x").unwrap_err().contains("line number"));
        assert!(rule("fun=a fun=b").unwrap_err().contains("twice"));
        assert!(rule("read write").unwrap_err().contains("one interface"));
        assert!(rule("raed fun=main").unwrap_err().contains("similar"));
    }

    #[test]
    fn files_match_whole_path_components() {
        assert!(same_file("/usr/lib/libfoo.so", "libfoo.so"));
        assert!(same_file("/src/dir/prog.c", "dir/prog.c"));
        assert!(!same_file("/usr/lib/libxlibfoo.so", "libfoo.so"));
    }
}
