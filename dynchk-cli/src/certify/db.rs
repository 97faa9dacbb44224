//! The results database (`DIR/results.sqlite`, schema in `schema.sql`): one run per file, one
//! transaction per entry, so that an interrupted run keeps every entry that finished.

use super::verdict::EntryResult;
use anyhow::{bail, Context, Result};
use dynchk_record::Severity;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The schema version this dynchk writes and reads.
pub const SCHEMA_VERSION: i64 = 2;
const SCHEMA: &str = include_str!("schema.sql");

/// The run a database holds (`results.json`'s `run`).
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct RunInfo {
    /// Unique id: start time, host and pid.
    pub id: String,
    /// RFC 3339 UTC.
    pub started: String,
    /// Machine name.
    pub host: String,
    /// dynchk's version.
    pub dynchk_version: String,
    /// Hash of the interposed interface list of the libdynchk.so used.
    pub spec_hash: String,
    /// The matrix file as given.
    pub matrix: String,
    /// Hash of its bytes.
    pub matrix_hash: String,
    /// `I/N` for a shard.
    pub shard: Option<String>,
    /// Entries selected (all of a shard's, after `--only`).
    pub entries: u64,
    /// Violations less severe than this were left out (`--min-severity`).
    #[serde(default = "all_severities")]
    pub min_severity: Severity,
}

/// The setting of runs recorded before `--min-severity` existed: every violation counted.
fn all_severities() -> Severity {
    Severity::Portability
}

/// An open results database.
pub struct Db {
    conn: Connection,
    path: PathBuf,
}

impl Db {
    /// Creates a database for a new run; an existing file is an error (the caller decides about
    /// `--resume`).
    pub fn create(path: &Path, run: &RunInfo) -> Result<Db> {
        if path.exists() {
            bail!(
                "{} already exists: continue that run with --resume, or give another --out",
                path.display()
            );
        }
        let conn =
            Connection::open(path).with_context(|| format!("cannot create {}", path.display()))?;
        conn.execute_batch(SCHEMA)
            .with_context(|| format!("cannot create the schema in {}", path.display()))?;
        conn.pragma_update(None, "user_version", SCHEMA_VERSION)?;
        conn.execute(
            "INSERT INTO run (id, started, host, dynchk_version, spec_hash, matrix, matrix_hash, \
             shard, entries, min_severity) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                run.id,
                run.started,
                run.host,
                run.dynchk_version,
                run.spec_hash,
                run.matrix,
                run.matrix_hash,
                run.shard,
                run.entries as i64,
                run.min_severity.name()
            ],
        )?;
        Ok(Db {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// Opens an existing database and checks its schema version.
    pub fn open(path: &Path) -> Result<Db> {
        if !path.is_file() {
            bail!(
                "{} does not exist (a results.sqlite written by dynchk certify)",
                path.display()
            );
        }
        let conn =
            Connection::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let mut version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if version == 1 {
            migrate_from_1(&conn).with_context(|| {
                format!(
                    "cannot bring {} from results schema version 1 to {SCHEMA_VERSION} \
                     (is it writable?)",
                    path.display()
                )
            })?;
            version = SCHEMA_VERSION;
        }
        if version != SCHEMA_VERSION {
            bail!(
                "{} has results schema version {version}; this dynchk reads version \
                 {SCHEMA_VERSION}",
                path.display()
            );
        }
        Ok(Db {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// The run.
    pub fn run(&self) -> Result<RunInfo> {
        self.conn
            .query_row(
                "SELECT id, started, host, dynchk_version, spec_hash, matrix, matrix_hash, shard, \
                 entries, min_severity FROM run",
                [],
                |r| {
                    Ok(RunInfo {
                        id: r.get(0)?,
                        started: r.get(1)?,
                        host: r.get(2)?,
                        dynchk_version: r.get(3)?,
                        spec_hash: r.get(4)?,
                        matrix: r.get(5)?,
                        matrix_hash: r.get(6)?,
                        shard: r.get(7)?,
                        entries: r.get::<_, i64>(8)? as u64,
                        // An unknown spelling (a newer dynchk's) counts as the most severe: nothing is hidden.
                        min_severity: Severity::from_name(r.get::<_, String>(9)?.as_bytes())
                            .unwrap_or(Severity::Error),
                    })
                },
            )
            .optional()?
            .with_context(|| format!("{} holds no run", self.path.display()))
    }

    /// Records one entry with all its rows, atomically.
    pub fn insert(&mut self, run_id: &str, e: &EntryResult) -> Result<()> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM entry WHERE run_id = ?1 AND name = ?2",
            params![run_id, e.name],
        )?;
        for table in ["process", "violation", "interface_use", "unchecked_import"] {
            tx.execute(
                &format!("DELETE FROM {table} WHERE run_id = ?1 AND entry = ?2"),
                params![run_id, e.name],
            )?;
        }
        tx.execute(
            "INSERT INTO entry (run_id, name, kind, verdict, reason, plain_status, plain_wall_s, \
             checked_status, checked_wall_s, ratio, diff, processes, with_summary, result) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                run_id,
                e.name,
                e.kind,
                e.verdict().name(),
                e.reason,
                e.plain.status,
                e.plain.wall_s,
                e.checked.status,
                e.checked.wall_s,
                e.ratio,
                e.diff,
                e.processes.total as i64,
                e.processes.with_summary as i64,
                serde_json::to_string(e)?
            ],
        )?;
        {
            let mut p = tx.prepare_cached(
                "INSERT INTO process (run_id, entry, pid, ppid, command, summary, calls, \
                 violations) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for x in &e.processes.list {
                p.execute(params![
                    run_id,
                    e.name,
                    x.pid,
                    x.ppid,
                    x.command,
                    x.summary,
                    x.calls as i64,
                    x.violations as i64
                ])?;
            }
            let mut v = tx.prepare_cached(
                "INSERT INTO violation (run_id, entry, interface, param, check_name, member, \
                 count, first_site, module, process, in_scope, severity) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?;
            for (inside, list) in [(true, &e.violations), (false, &e.outside_scope)] {
                for g in list {
                    v.execute(params![
                        run_id,
                        e.name,
                        g.interface,
                        g.param,
                        g.check,
                        g.member,
                        g.count as i64,
                        g.site,
                        g.module,
                        g.process,
                        inside,
                        g.severity.name()
                    ])?;
                }
            }
            let mut u = tx.prepare_cached(
                "INSERT INTO interface_use (run_id, entry, interface, calls) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for (iface, n) in &e.used {
                u.execute(params![run_id, e.name, iface, *n as i64])?;
            }
            let mut i = tx.prepare_cached(
                "INSERT INTO unchecked_import (run_id, entry, name) VALUES (?1, ?2, ?3)",
            )?;
            for name in &e.unchecked_imports {
                i.execute(params![run_id, e.name, name])?;
            }
        }
        tx.commit()
            .with_context(|| format!("cannot write to {}", self.path.display()))
    }

    /// Every entry, by name.
    pub fn entries(&self) -> Result<Vec<EntryResult>> {
        let mut st = self
            .conn
            .prepare("SELECT name, result FROM entry ORDER BY name")?;
        let rows = st.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
        let mut out = Vec::new();
        for row in rows {
            let (name, json) = row?;
            out.push(serde_json::from_str(&json).with_context(|| {
                format!("{}: entry {name}: unreadable result", self.path.display())
            })?);
        }
        Ok(out)
    }

    /// Names of the entries already recorded (what `--resume` skips).
    pub fn names(&self) -> Result<BTreeSet<String>> {
        let mut st = self.conn.prepare("SELECT name FROM entry")?;
        let names = st.query_map([], |r| r.get(0))?;
        Ok(names.collect::<rusqlite::Result<_>>()?)
    }
}

/// Version 2 added the severity of each violation and the run's `--min-severity`; a version 1
/// run counted every violation, and every rule then was of `error` severity.
fn migrate_from_1(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "BEGIN;
         ALTER TABLE run ADD COLUMN min_severity TEXT NOT NULL DEFAULT 'portability';
         ALTER TABLE violation ADD COLUMN severity TEXT NOT NULL DEFAULT 'error';
         PRAGMA user_version = 2;
         COMMIT;",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::certify::verdict::{Verdict, ViolationGroup};

    fn run() -> RunInfo {
        RunInfo {
            id: "r1".into(),
            started: "2026-12-01T10:00:00Z".into(),
            host: "h".into(),
            dynchk_version: "0.1.0".into(),
            spec_hash: "s".into(),
            matrix: "m.toml".into(),
            matrix_hash: "mh".into(),
            shard: Some("1/2".into()),
            entries: 2,
            min_severity: Severity::Error,
        }
    }

    /// An empty directory for one test, and the database path in it.
    fn fresh(name: &str) -> (PathBuf, PathBuf) {
        let dir = std::env::temp_dir().join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("results.sqlite");
        (dir, path)
    }

    #[test]
    fn entries_round_trip_and_a_rewrite_replaces_its_rows() {
        let (dir, path) = fresh("dynchk-db");
        let mut db = Db::create(&path, &run()).unwrap();
        let mut e = EntryResult {
            name: "a".into(),
            kind: "app".into(),
            verdict: Some(Verdict::Violations),
            violations: vec![ViolationGroup {
                interface: "close".into(),
                count: 3,
                ..Default::default()
            }],
            unchecked_imports: vec!["foo".into()],
            ..Default::default()
        };
        db.insert("r1", &e).unwrap();
        e.verdict = Some(Verdict::Clean);
        e.violations.clear();
        db.insert("r1", &e).unwrap();
        drop(db);
        let db = Db::open(&path).unwrap();
        assert_eq!(db.run().unwrap(), run());
        assert_eq!(db.entries().unwrap(), vec![e]);
        let n: i64 = db
            .conn
            .query_row("SELECT count(*) FROM violation", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
        assert!(format!("{:#}", Db::create(&path, &run()).err().unwrap()).contains("--resume"));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_version_1_database_is_migrated_and_counted_every_violation() {
        let (dir, path) = fresh("dynchk-db-v1");
        let mut db = Db::create(&path, &run()).unwrap();
        let e = EntryResult {
            name: "a".into(),
            violations: vec![ViolationGroup {
                interface: "close".into(),
                severity: Severity::Portability,
                count: 1,
                ..Default::default()
            }],
            ..Default::default()
        };
        db.insert("r1", &e).unwrap();
        // What version 1 looked like: neither column.
        db.conn
            .execute_batch(
                "ALTER TABLE run DROP COLUMN min_severity;
                 ALTER TABLE violation DROP COLUMN severity;
                 PRAGMA user_version = 1;",
            )
            .unwrap();
        drop(db);
        let db = Db::open(&path).unwrap();
        assert_eq!(db.run().unwrap().min_severity, Severity::Portability);
        let v: (i64, String) = db
            .conn
            .query_row("PRAGMA user_version", [], |r| {
                Ok((r.get(0)?, String::new()))
            })
            .unwrap();
        assert_eq!(v.0, SCHEMA_VERSION);
        let s: String = db
            .conn
            .query_row("SELECT severity FROM violation", [], |r| r.get(0))
            .unwrap();
        assert_eq!(s, "error");
        assert_eq!(db.entries().unwrap(), vec![e]);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
