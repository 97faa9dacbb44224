//! Suppression files (`--suppress`, `DYNCHK_SUPPRESS`) checked before the program starts: the
//! preload reads them without allocating and cannot say much about a bad line, so every line
//! that would not match what it seems to mean is an error here, with its file and line.

use crate::explain;
use anyhow::{bail, Result};
use std::path::Path;

/// What libdynchk.so keeps of a file (rt/config.rs): more would be cut.
const MAX_RULES: usize = 256;
const MAX_BYTES: usize = 16 * 1024 - 1;

/// Checks a suppression file; the error lists every bad line.
pub fn check(path: &Path) -> Result<()> {
    let text = std::fs::read(path)
        .map_err(|e| anyhow::anyhow!("cannot read suppression file {}: {e}", path.display()))?;
    let name = path.display();
    let mut errors = Vec::new();
    let mut rules = 0;
    for (i, line) in String::from_utf8_lossy(&text).lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        rules += 1;
        if let Err(why) = rule(line) {
            errors.push(format!("{name}:{}: `{line}`: {why}", i + 1));
        }
    }
    if rules > MAX_RULES {
        errors.push(format!(
            "{name}: {rules} rules; libdynchk.so takes at most {MAX_RULES}: merge rules (`*` for \
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
            "bad suppression file (rules are `interface[:param[:check]]` or `caller=MODULE`):\n  {}",
            errors.join("\n  ")
        );
    }
    Ok(())
}

/// Why one rule would not do what it says.
fn rule(line: &str) -> std::result::Result<(), String> {
    if let Some(module) = line.strip_prefix("caller=") {
        return if module.trim().is_empty() {
            Err("`caller=` needs a module: a path or a file name such as libfoo.so".into())
        } else {
            Ok(())
        };
    }
    if let Some((key, _)) = line.split_once('=') {
        return Err(format!(
            "`{key}=` is not a rule; only `caller=MODULE` takes a value"
        ));
    }
    let fields: Vec<&str> = line.split(':').collect();
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
    Ok(())
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
        assert!(rule("fun=main").unwrap_err().contains("`fun=`"));
        assert!(rule("a:b:c:d").unwrap_err().contains("three"));
    }
}
