//! `dynchk certify`: a matrix of applications and services, each run plainly and under the
//! checker, one verdict per entry, stored in a results database and rendered as reports.
//! Anchor: rust-lang/crater (the plain run is its "start" toolchain, the checked run its "end").

pub mod args;
mod changes;
mod compare;
mod db;
mod evidence;
mod exec;
mod imports;
mod matrix;
mod merge;
mod progress;
mod report;
mod runner;
mod service;
mod shard;
mod stamp;
pub(crate) mod sweep;
mod verdict;
mod xvfb;

use anyhow::{bail, Context, Result};
use args::{Action, CertifyArgs};
use db::{Db, RunInfo};
use matrix::{Entry, Matrix};
use runner::Setup;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{mpsc, Mutex};
use verdict::{EntryResult, Verdict};

/// Status when Ctrl-C stopped the run (like a shell's for SIGINT).
const EXIT_INTERRUPTED: u8 = 130;

/// Runs `dynchk certify`.
pub fn certify(args: CertifyArgs) -> Result<ExitCode> {
    match &args.action {
        Some(Action::Diff { old, new }) => return changes::diff(old, new),
        Some(Action::History { name, db }) => return changes::history(name, db),
        Some(Action::Merge { out, inputs }) => return merge::merge(out, inputs),
        None => {}
    }
    let matrix = match (&args.sweep, &args.matrix) {
        (Some(dir), _) => sweep::matrix(dir, args.args.as_deref(), &args.sweep_timeout)?,
        (None, Some(m)) => matrix::load(m)?,
        (None, None) => bail!("give a MATRIX file or --sweep DIR"),
    };
    let lib = crate::locate::find(args.lib.as_deref())?;
    let shard = shard::choose(args.shard, args.shards, |v| std::env::var(v).ok())?;
    let selected = select(&matrix, shard, &args.only)?;
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create the run directory {}", args.out.display()))?;
    let out = std::fs::canonicalize(&args.out)?;
    let covered = imports::Covered::of_library(&lib)?;
    let run = RunInfo {
        id: format!(
            "{}-{}-{}",
            stamp::compact_now(),
            stamp::host(),
            std::process::id()
        ),
        started: stamp::now(),
        host: stamp::host(),
        dynchk_version: env!("CARGO_PKG_VERSION").into(),
        spec_hash: covered.hash(),
        matrix: matrix.path.display().to_string(),
        matrix_hash: matrix.hash.clone(),
        shard: shard.map(|s| s.to_string()),
        entries: selected.len() as u64,
        min_severity: args.min_severity.severity(),
    };
    let db_path = out.join("results.sqlite");
    let (mut db, run) = if args.resume && db_path.exists() {
        resume(&db_path, &run)?
    } else {
        (Db::create(&db_path, &run)?, run)
    };
    let done = db.names()?;
    let todo: Vec<&Entry> = selected
        .iter()
        .copied()
        .filter(|e| !done.contains(&e.name))
        .collect();
    let display = if todo.iter().any(|e| e.x11) {
        Some(xvfb::Xvfb::start()?)
    } else {
        None
    };
    let setup = Setup {
        lib,
        out: out.clone(),
        display: display.as_ref().map(|x| x.display.clone()),
        covered,
        min_severity: args.min_severity.severity(),
    };
    let jobs = match args.jobs.unwrap_or(matrix.jobs) {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    };
    exec::catch_interrupts();
    exec::adopt_orphans();
    let finished = run_pool(&setup, &todo, jobs, args.repeat.max(1), &mut db, &run.id)?;
    drop(display);
    let entries: Vec<EntryResult> = db
        .entries()?
        .into_iter()
        .filter(|e| selected.iter().any(|s| s.name == e.name))
        .collect();
    report::write_all(&out, &run, &entries)?;
    eprintln!("certify: {}", report::count_line(&entries));
    eprintln!(
        "certify: results in {} (report.html, report.md, results.json, results.sqlite)",
        out.display()
    );
    if exec::interrupted() {
        eprintln!(
            "certify: interrupted after {} of {} entries; continue with: dynchk certify {} --out {} --resume",
            done.len() + finished,
            selected.len(),
            matrix.path.display(),
            out.display()
        );
        return Ok(ExitCode::from(EXIT_INTERRUPTED));
    }
    let failed = entries
        .iter()
        .any(|e| e.verdict().fails_by_default() || args.fail_on.contains(&e.verdict()));
    Ok(ExitCode::from(u8::from(failed)))
}

/// The matrix's entries in this shard and in `--only`.
fn select<'m>(
    matrix: &'m Matrix,
    shard: Option<shard::Shard>,
    only: &[String],
) -> Result<Vec<&'m Entry>> {
    let names: BTreeSet<&str> = matrix.entries.iter().map(|e| e.name.as_str()).collect();
    let unknown: Vec<&String> = only
        .iter()
        .filter(|n| !names.contains(n.as_str()))
        .collect();
    if !unknown.is_empty() {
        bail!(
            "--only names entries that {} does not have: {}",
            matrix.path.display(),
            unknown
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    Ok(matrix
        .entries
        .iter()
        .filter(|e| shard.is_none_or(|s| s.holds(&e.name)))
        .filter(|e| only.is_empty() || only.contains(&e.name))
        .collect())
}

/// Reopens the database of an interrupted run of the same matrix and shard.
fn resume(path: &Path, fresh: &RunInfo) -> Result<(Db, RunInfo)> {
    let db = Db::open(path)?;
    let old = db.run()?;
    if old.min_severity != fresh.min_severity {
        bail!(
            "{} is a run with --min-severity {}; --resume continues it only with the same \
             setting: give --min-severity {0}, or another --out",
            path.display(),
            old.min_severity.name()
        );
    }
    if old.matrix_hash != fresh.matrix_hash || old.shard != fresh.shard {
        bail!(
            "{} is a run of another matrix or shard ({} shard {}); --resume continues only the \
             same one: give another --out",
            path.display(),
            old.matrix,
            old.shard.as_deref().unwrap_or("all")
        );
    }
    Ok((db, old))
}

/// Certifies `todo` on `jobs` threads; the calling thread records each result as it arrives.
/// Returns how many entries finished.
fn run_pool(
    setup: &Setup,
    todo: &[&Entry],
    jobs: usize,
    repeat: u32,
    db: &mut Db,
    run_id: &str,
) -> Result<usize> {
    let progress = progress::Progress::new(todo.len());
    let queue = Mutex::new(todo.iter());
    let (tx, rx) = mpsc::channel::<(String, Result<Option<EntryResult>>)>();
    let mut finished = 0;
    std::thread::scope(|s| -> Result<()> {
        for _ in 0..jobs.min(todo.len()).max(1) {
            let tx = tx.clone();
            let (queue, progress) = (&queue, &progress);
            s.spawn(move || loop {
                let next = queue.lock().ok().and_then(|mut q| q.next().copied());
                let Some(entry) = next else { break };
                if exec::interrupted() {
                    break;
                }
                progress.started(&entry.name);
                let result = certify_repeated(setup, entry, repeat);
                progress.stopped(&entry.name);
                if tx.send((entry.name.clone(), result)).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        for (name, result) in rx {
            match result.with_context(|| format!("entry {name}"))? {
                Some(r) => {
                    db.insert(run_id, &r)?;
                    finished += 1;
                    progress.finished(&r);
                }
                None => progress.note(&format!("{name}: interrupted, not recorded")),
            }
        }
        Ok(())
    })?;
    progress.done();
    Ok(finished)
}

/// `--repeat K`: the first round that is neither clean nor violations decides.
fn certify_repeated(setup: &Setup, entry: &Entry, repeat: u32) -> Result<Option<EntryResult>> {
    let mut last = None;
    for _ in 0..repeat {
        let Some(r) = runner::certify(setup, entry)? else {
            return Ok(None);
        };
        let settled = !matches!(r.verdict(), Verdict::Clean | Verdict::Violations);
        last = Some(r);
        if settled {
            break;
        }
    }
    Ok(last)
}

/// A run directory or a results.sqlite file → the database file.
pub fn db_file(p: &Path) -> PathBuf {
    if p.is_dir() {
        p.join("results.sqlite")
    } else {
        p.to_path_buf()
    }
}
