//! `dynchk certify merge OUT IN...`: the shards of one run, combined into one database and its
//! reports, as if it had run on one machine.

use super::db::{Db, RunInfo};
use super::db_file;
use super::report;
use super::shard::Shard;
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Checks that `runs` are all the shards of one run; returns the merged run's record.
pub fn combine(runs: &[(PathBuf, RunInfo)]) -> Result<RunInfo> {
    let (first_path, first) = runs.first().context("no input to merge")?;
    for (p, r) in &runs[1..] {
        for (what, a, b) in [
            ("matrix", first.matrix_hash.as_str(), r.matrix_hash.as_str()),
            ("dynchk version", &first.dynchk_version, &r.dynchk_version),
            ("libdynchk.so interface set", &first.spec_hash, &r.spec_hash),
            (
                "--min-severity",
                first.min_severity.name(),
                r.min_severity.name(),
            ),
        ] {
            if a != b {
                bail!(
                    "{} and {} are runs of a different {what} ({a} vs {b}); only shards of one \
                     run can be merged",
                    first_path.display(),
                    p.display()
                );
            }
        }
    }
    let mut seen: BTreeMap<u32, &PathBuf> = BTreeMap::new();
    let mut count = None;
    for (p, r) in runs {
        let Some(s) = r.shard.as_deref() else {
            bail!(
                "{} is a whole run, not a shard; there is nothing to merge it with",
                p.display()
            );
        };
        let s: Shard = s
            .parse()
            .map_err(|e| anyhow::anyhow!("{}: shard {e}", p.display()))?;
        if *count.get_or_insert(s.count) != s.count {
            bail!(
                "{} is shard {s}, but the others are of {} shards",
                p.display(),
                count.unwrap_or(0)
            );
        }
        if let Some(other) = seen.insert(s.index, p) {
            bail!(
                "shard {s} is given twice: {} and {}",
                other.display(),
                p.display()
            );
        }
    }
    let n = count.unwrap_or(0);
    let missing: Vec<String> = (1..=n)
        .filter(|i| !seen.contains_key(i))
        .map(|i| format!("{i}/{n}"))
        .collect();
    if !missing.is_empty() {
        bail!(
            "shards missing: {} (merge needs all {n})",
            missing.join(", ")
        );
    }
    let started = runs
        .iter()
        .map(|(_, r)| r.started.clone())
        .min()
        .unwrap_or_default();
    Ok(RunInfo {
        id: format!("merged-{}", first.id),
        started,
        shard: None,
        entries: runs.iter().map(|(_, r)| r.entries).sum(),
        ..first.clone()
    })
}

/// `dynchk certify merge`.
pub fn merge(out: &Path, inputs: &[PathBuf]) -> Result<ExitCode> {
    let mut dbs = Vec::new();
    for i in inputs {
        let path = db_file(i);
        let db = Db::open(&path)?;
        dbs.push((path, db.run()?, db));
    }
    let runs: Vec<(PathBuf, RunInfo)> =
        dbs.iter().map(|(p, r, _)| (p.clone(), r.clone())).collect();
    let run = combine(&runs)?;
    let dir = out
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut merged = Db::create(out, &run)?;
    let mut entries = Vec::new();
    for (_, _, db) in &dbs {
        for e in db.entries()? {
            merged.insert(&run.id, &e)?;
            entries.push(e);
        }
    }
    entries.sort_by(|a, b| a.name.cmp(&b.name));
    report::write_all(dir, &run, &entries)?;
    eprintln!(
        "certify merge: {} into {}",
        report::count_line(&entries),
        out.display()
    );
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shard(s: Option<&str>, matrix: &str) -> (PathBuf, RunInfo) {
        (
            PathBuf::from(format!(
                "{}.sqlite",
                s.unwrap_or("whole").replace('/', "of")
            )),
            RunInfo {
                id: "r".into(),
                started: "t".into(),
                host: "h".into(),
                dynchk_version: "1".into(),
                spec_hash: "s".into(),
                matrix: "m".into(),
                matrix_hash: matrix.into(),
                shard: s.map(str::to_string),
                entries: 1,
                min_severity: dynchk_record::Severity::Portability,
            },
        )
    }

    #[test]
    fn merge_needs_every_shard_of_one_matrix() {
        let all = [
            shard(Some("1/3"), "m"),
            shard(Some("2/3"), "m"),
            shard(Some("3/3"), "m"),
        ];
        let run = combine(&all).unwrap();
        assert_eq!((run.shard, run.entries), (None, 3));
        let e = combine(&all[..2]).unwrap_err();
        assert_eq!(format!("{e}"), "shards missing: 3/3 (merge needs all 3)");
        let e = combine(&[all[0].clone(), shard(Some("2/3"), "other")]).unwrap_err();
        assert!(format!("{e}").contains("different matrix"), "{e}");
        let e = combine(&[all[0].clone(), all[0].clone()]).unwrap_err();
        assert!(format!("{e}").contains("given twice"), "{e}");
        assert!(combine(&[shard(None, "m")]).is_err());
    }
}
