//! Comparing runs: `certify diff OLD NEW` (crater's regressed/fixed report) and
//! `certify history NAME --db FILE...`.

use super::db::Db;
use super::db_file;
use super::verdict::{EntryResult, GroupKey as Key};
use anyhow::Result;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// How an entry changed between two runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// A worse verdict, or violations it did not have.
    Regressed,
    /// A better verdict, or violations gone (and none new).
    Fixed,
    /// Same verdict and violation kinds.
    Unchanged,
    /// Only in the new run.
    New,
    /// Only in the old run.
    Gone,
}

impl Change {
    fn name(self) -> &'static str {
        match self {
            Change::Regressed => "regressed",
            Change::Fixed => "fixed",
            Change::Unchanged => "unchanged",
            Change::New => "new",
            Change::Gone => "gone",
        }
    }
}

fn keys(e: &EntryResult) -> BTreeSet<Key> {
    e.violations.iter().map(|v| v.key()).collect()
}

fn describe(k: &Key) -> String {
    let member = k.3.as_deref().map(|m| format!(".{m}")).unwrap_or_default();
    format!("{}(param {}{member}) {}", k.0, k.1, k.2)
}

/// Classifies one entry, with the words explaining it.
pub fn classify(old: Option<&EntryResult>, new: Option<&EntryResult>) -> (Change, String) {
    let (o, n) = match (old, new) {
        (None, Some(n)) => return (Change::New, n.verdict().to_string()),
        (Some(o), None) => return (Change::Gone, o.verdict().to_string()),
        (Some(o), Some(n)) => (o, n),
        (None, None) => return (Change::Unchanged, String::new()),
    };
    let (ko, kn) = (keys(o), keys(n));
    let added: Vec<String> = kn.difference(&ko).map(describe).collect();
    let removed: Vec<String> = ko.difference(&kn).map(describe).collect();
    let mut text = if o.verdict() == n.verdict() {
        n.verdict().to_string()
    } else {
        format!("{} → {}", o.verdict(), n.verdict())
    };
    if !added.is_empty() {
        text += &format!("; new: {}", added.join(", "));
    }
    if !removed.is_empty() {
        text += &format!("; gone: {}", removed.join(", "));
    }
    let change = if n.verdict().rank() > o.verdict().rank() || !added.is_empty() {
        Change::Regressed
    } else if n.verdict().rank() < o.verdict().rank() || !removed.is_empty() {
        Change::Fixed
    } else {
        Change::Unchanged
    };
    (change, text)
}

fn by_name(path: &Path) -> Result<BTreeMap<String, EntryResult>> {
    Ok(Db::open(&db_file(path))?
        .entries()?
        .into_iter()
        .map(|e| (e.name.clone(), e))
        .collect())
}

/// `dynchk certify diff OLD NEW`.
pub fn diff(old: &Path, new: &Path) -> Result<ExitCode> {
    let (o, n) = (by_name(old)?, by_name(new)?);
    let names: BTreeSet<&String> = o.keys().chain(n.keys()).collect();
    let mut rows: Vec<(Change, &String, String)> = names
        .into_iter()
        .map(|name| {
            let (c, t) = classify(o.get(name), n.get(name));
            (c, name, t)
        })
        .collect();
    rows.sort();
    let mut totals: BTreeMap<Change, usize> = BTreeMap::new();
    for (c, name, text) in &rows {
        println!("{:<10} {name}: {text}", c.name());
        *totals.entry(*c).or_default() += 1;
    }
    let summary: Vec<String> = totals
        .iter()
        .map(|(c, n)| format!("{n} {}", c.name()))
        .collect();
    println!("certify diff: {}", summary.join(", "));
    let regressed = totals.contains_key(&Change::Regressed);
    Ok(ExitCode::from(u8::from(regressed)))
}

/// `dynchk certify history NAME --db FILE...`.
pub fn history(name: &str, dbs: &[PathBuf]) -> Result<ExitCode> {
    let mut lines = Vec::new();
    for p in dbs {
        let db = Db::open(&db_file(p))?;
        let run = db.run()?;
        let entry = db.entries()?.into_iter().find(|e| e.name == name);
        let text = match entry {
            Some(e) => format!(
                "{:<16} {} violations, overhead {}, {}",
                e.verdict().to_string(),
                e.violation_count(),
                e.ratio.map_or("–".into(), |r| format!("{r:.2}×")),
                e.reason
            ),
            None => "(not in this run)".into(),
        };
        lines.push((
            run.started.clone(),
            format!(
                "{}  {}  dynchk {}  {text}",
                run.started, run.id, run.dynchk_version
            ),
        ));
    }
    lines.sort();
    for (_, l) in lines {
        println!("{l}");
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certify::verdict::{Verdict, ViolationGroup};

    fn entry(v: Verdict, ifaces: &[&str]) -> EntryResult {
        EntryResult {
            name: "e".into(),
            verdict: Some(v),
            violations: ifaces
                .iter()
                .map(|i| ViolationGroup {
                    interface: i.to_string(),
                    check: "filedescriptor".into(),
                    count: 1,
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn changes_follow_verdict_rank_and_violation_kinds() {
        let clean = entry(Verdict::Clean, &[]);
        let close = entry(Verdict::Violations, &["close"]);
        let both = entry(Verdict::Violations, &["close", "read"]);
        assert_eq!(classify(Some(&clean), Some(&clean)).0, Change::Unchanged);
        assert_eq!(classify(Some(&clean), Some(&close)).0, Change::Regressed);
        let (c, t) = classify(Some(&close), Some(&both));
        assert_eq!(c, Change::Regressed);
        assert!(t.contains("new: read(param 0) filedescriptor"), "{t}");
        assert_eq!(classify(Some(&both), Some(&close)).0, Change::Fixed);
        assert_eq!(classify(Some(&close), Some(&clean)).0, Change::Fixed);
        let nt = entry(Verdict::NotTransparent, &[]);
        assert_eq!(classify(Some(&close), Some(&nt)).0, Change::Regressed);
        assert_eq!(classify(None, Some(&clean)).0, Change::New);
        assert_eq!(classify(Some(&clean), None).0, Change::Gone);
    }
}
