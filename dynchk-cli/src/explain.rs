//! `dynchk explain`: the specification and checks of one interface, as the generator saw them when
//! this binary was built (embedded by build.rs, so that no database is needed at run time).

use crate::cli::ExplainArgs;
use anyhow::{bail, Result};

mod entries {
    include!(concat!(env!("OUT_DIR"), "/explain_entries.rs"));
}

/// The prototype of an interface of the database (the explain text's first line).
pub fn prototype(name: &str) -> Option<&'static str> {
    let entries = entries::ENTRIES;
    let i = entries.binary_search_by(|(n, _)| (*n).cmp(name)).ok()?;
    entries[i].1.lines().next()
}

/// `(check, rule, description)` of every rule of the database, by check then rule.
pub fn checks() -> &'static [(&'static str, &'static str, &'static str)] {
    entries::CHECKS
}

/// Runs `dynchk explain`.
pub fn explain(args: ExplainArgs) -> Result<()> {
    print!("{}", lookup(&args.name)?);
    Ok(())
}

pub fn lookup(name: &str) -> Result<&'static str> {
    let entries = entries::ENTRIES;
    if let Ok(i) = entries.binary_search_by(|(n, _)| (*n).cmp(name)) {
        return Ok(entries[i].1);
    }
    let near = similar(name, entries.iter().map(|(n, _)| *n));
    if near.is_empty() {
        bail!(
            "`{name}` is not an interface of the specification database (spec database {})",
            crate::DB_HASH
        );
    }
    bail!(
        "`{name}` is not an interface of the specification database; similar: {}",
        near.join(", ")
    )
}

/// Names close to `name`: one contains the other, or at most two edits apart (a typo); up to 8.
pub fn similar<'a>(name: &str, names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let lower = name.to_lowercase();
    let mut out: Vec<&str> = names
        .filter(|n| {
            let n = n.to_lowercase();
            n.contains(&lower) || lower.contains(&n) || edits(&n, &lower) <= 2
        })
        .collect();
    out.dedup();
    out.truncate(8);
    out
}

/// Levenshtein distance.
fn edits(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_interface_is_embedded_in_name_order() {
        let entries = entries::ENTRIES;
        assert!(entries.len() > 1000, "{} interfaces", entries.len());
        assert!(entries.windows(2).all(|w| w[0].0 < w[1].0));
        assert!(lookup("read")
            .unwrap()
            .contains("read(int fd, void *buf, size_t count)"));
        let e = lookup("pipe3").unwrap_err().to_string();
        assert!(e.contains("similar:") && e.contains("pipe"), "{e}");
        let e = lookup("raed").unwrap_err().to_string();
        assert!(e.contains("similar:") && e.contains("read"), "{e}");
    }
}
