//! Certifying one entry: the plain run, the checked run in the same environment, a second plain
//! run when they differ (to tell a flaky program from a checker that changed its behaviour), the
//! checked run's evidence, and the verdict.

use super::compare::{differ, Observed};
use super::evidence::{self, Evidence};
use super::exec::{End, Ran, Spec};
use super::matrix::{Cwd, Entry, Field, Stdin};
use super::verdict::{EntryResult, Verdict};
use super::{imports, service};
use anyhow::{Context, Result};
use dynchk_record::Severity;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// What every entry of one certification run shares.
pub struct Setup {
    /// libdynchk.so.
    pub lib: PathBuf,
    /// The run directory (`--out`).
    pub out: PathBuf,
    /// `DISPLAY` of the shared Xvfb, when an entry needs X11.
    pub display: Option<String>,
    /// Functions libdynchk.so interposes.
    pub covered: imports::Covered,
    /// Violations less severe than this do not count (`--min-severity`).
    pub min_severity: Severity,
}

/// Which of an entry's runs.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Mode {
    /// Without the checker.
    Plain,
    /// Without the checker, again.
    Plain2,
    /// Under the checker.
    Checked,
}

impl Mode {
    fn name(self) -> &'static str {
        match self {
            Mode::Plain => "plain",
            Mode::Plain2 => "plain2",
            Mode::Checked => "checked",
        }
    }
}

/// The files of one entry: `runs/NAME/` for outputs and logs, `work/NAME/` as its scratch cwd.
pub struct Place {
    /// `runs/NAME`.
    pub dir: PathBuf,
    scratch: PathBuf,
    stdin: Option<PathBuf>,
}

impl Place {
    /// Creates the entry's directories (emptied first: a resumed entry starts over).
    pub fn new(setup: &Setup, entry: &Entry) -> Result<Place> {
        let dir = setup.out.join("runs").join(&entry.name);
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let stdin = match &entry.stdin {
            Stdin::Null => None,
            Stdin::File(p) => Some(p.clone()),
            Stdin::Text(t) => {
                let p = dir.join("stdin.txt");
                std::fs::write(&p, t).with_context(|| format!("cannot write {}", p.display()))?;
                Some(p)
            }
        };
        Ok(Place {
            scratch: setup.out.join("work").join(&entry.name),
            dir,
            stdin,
        })
    }

    /// The checked run's log directory, writable for every user: servers that switch to
    /// `nobody` must still be able to create their logs.
    pub fn log_dir(&self, mode: Mode) -> Result<PathBuf> {
        let logs = self.dir.join(format!("{}-logs", mode.name()));
        let _ = std::fs::remove_dir_all(&logs);
        std::fs::create_dir(&logs).with_context(|| format!("cannot create {}", logs.display()))?;
        std::fs::set_permissions(&logs, std::fs::Permissions::from_mode(0o1777))?;
        Ok(logs)
    }

    /// The working directory of a run: the same path for every run of the entry, emptied.
    fn cwd(&self, entry: &Entry) -> Result<PathBuf> {
        Ok(match &entry.cwd {
            Cwd::Path(p) => p.clone(),
            Cwd::Scratch => {
                let _ = std::fs::remove_dir_all(&self.scratch);
                std::fs::create_dir_all(&self.scratch)
                    .with_context(|| format!("cannot create {}", self.scratch.display()))?;
                // Writable for servers that drop privileges, like the logs.
                std::fs::set_permissions(&self.scratch, std::fs::Permissions::from_mode(0o1777))?;
                self.scratch.clone()
            }
        })
    }

    /// Removes the scratch directory once the entry is done.
    pub fn clean(&self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

/// The environment of a run: the entry's, `DISPLAY`, and for the checked run the preload with
/// its logs as JSON Lines into `logs`.
pub fn environment(
    setup: &Setup,
    entry: &Entry,
    checked: Option<&Path>,
    extra: &[(String, String)],
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = entry
        .env
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if let (true, Some(d)) = (entry.x11, &setup.display) {
        env.push(("DISPLAY".into(), d.clone()));
    }
    env.extend_from_slice(extra);
    if let Some(logs) = checked {
        let theirs = entry
            .env
            .get("LD_PRELOAD")
            .cloned()
            .or_else(|| std::env::var("LD_PRELOAD").ok())
            .filter(|p| !p.is_empty());
        let lib = setup.lib.display().to_string();
        let preload = match theirs {
            Some(t) => format!("{lib}:{t}"),
            None => lib,
        };
        env.push(("LD_PRELOAD".into(), preload));
        env.push((
            "DYNCHK_LOG".into(),
            logs.join("dynchk.%p.jsonl").display().to_string(),
        ));
        env.push(("DYNCHK_FORMAT".into(), "json".into()));
    }
    env
}

/// Runs one mode of an app entry.
fn run_app(
    setup: &Setup,
    entry: &Entry,
    place: &Place,
    mode: Mode,
) -> Result<(Ran, Option<PathBuf>)> {
    let logs = match mode {
        Mode::Checked => Some(place.log_dir(mode)?),
        _ => None,
    };
    let cwd = place.cwd(entry)?;
    let spec = Spec {
        argv: &entry.cmd,
        env: environment(setup, entry, logs.as_deref(), &[]),
        cwd: &cwd,
        stdin: place.stdin.as_deref(),
        out_prefix: place.dir.join(mode.name()),
    };
    Ok((spec.run(entry.timeout, entry.run_for)?, logs))
}

/// Certifies one entry. `None`: certify was interrupted meanwhile (nothing to record).
pub fn certify(setup: &Setup, entry: &Entry) -> Result<Option<EntryResult>> {
    let place = Place::new(setup, entry)?;
    let mut r = EntryResult {
        name: entry.name.clone(),
        kind: entry.kind().into(),
        unchecked_imports: setup.covered.unchecked_imports(&entry.cmd[0], &entry.cwd),
        ..EntryResult::default()
    };
    let result = if entry.service.is_some() {
        service::certify(setup, entry, &place, &mut r)
    } else {
        certify_app(setup, entry, &place, &mut r)
    };
    place.clean();
    match result {
        Ok(true) => Ok(Some(r)),
        Ok(false) => Ok(None),
        Err(e) => {
            // A run that could not even start is the matrix's problem, stated as such.
            r.verdict = Some(Verdict::Broken);
            r.reason = format!("{e:#}");
            Ok(Some(r))
        }
    }
}

/// Whether a plain run is usable as the reference; the reason when not (`broken`).
pub fn plain_failure(entry: &Entry, ran: &Ran) -> Option<String> {
    match ran.end {
        End::Timeout => Some(format!(
            "the plain run did not finish within {:?}",
            entry.timeout
        )),
        End::Status(_) if ran.crash_signal().is_some() && entry.expect_status.is_none() => {
            Some(format!(
                "the plain run was killed by signal {}",
                ran.crash_signal().unwrap_or(0)
            ))
        }
        End::Status(_) | End::Stopped(_) => {
            let got = ran.facts().status?;
            match entry.expect_status {
                Some(want) if want != got => Some(format!(
                    "the plain run exited with status {got}, expect_status is {want}"
                )),
                _ => None,
            }
        }
        End::Interrupted => None,
    }
}

/// The app flow; `Ok(false)` when interrupted.
fn certify_app(setup: &Setup, entry: &Entry, place: &Place, r: &mut EntryResult) -> Result<bool> {
    let (plain, _) = run_app(setup, entry, place, Mode::Plain)?;
    r.plain = plain.facts();
    if plain.end == End::Interrupted {
        return Ok(false);
    }
    if let Some(why) = plain_failure(entry, &plain) {
        r.verdict = Some(Verdict::Broken);
        r.reason = why;
        r.checked = super::verdict::RunFacts::not_run();
        return Ok(true);
    }
    let (checked, logs) = run_app(setup, entry, place, Mode::Checked)?;
    r.checked = checked.facts();
    if checked.end == End::Interrupted {
        return Ok(false);
    }
    r.ratio = ratio(r.checked.wall_s, r.plain.wall_s);
    let ev = evidence::gather(
        logs.as_deref().unwrap_or(place.dir.as_path()),
        &entry.scope,
        setup.min_severity,
    )?;
    let a = Observed::of(&plain, entry);
    let b = Observed::of(&checked, entry);
    let mut compared = None;
    if let Some(diff) = differ(&a, &b, &entry.compare, ("plain", "checked")) {
        let (plain2, _) = run_app(setup, entry, place, Mode::Plain2)?;
        r.plain2 = Some(plain2.facts());
        if plain2.end == End::Interrupted {
            return Ok(false);
        }
        let a2 = Observed::of(&plain2, entry);
        compared = Some(Verdict::NotTransparent);
        r.diff = Some(diff);
        if let Some(plain_diff) = differ(&a, &a2, &entry.compare, ("plain", "plain2")) {
            // Flaky: only a status that the two plain runs agree on and the checked run does
            // not share still counts against the checker.
            let same_plain_status = differ(&a, &a2, &[Field::Status], ("", "")).is_none();
            match differ(&a, &b, &[Field::Status], ("plain", "checked")) {
                Some(d) if same_plain_status => r.diff = Some(d),
                _ => {
                    compared = Some(Verdict::Flaky);
                    r.diff = Some(plain_diff);
                }
            }
        }
    }
    decide(r, ev, compared, &checked, entry)
}

/// Checked/plain, when both are measurable.
pub fn ratio(checked: f64, plain: f64) -> Option<f64> {
    (plain > 0.0 && checked > 0.0).then(|| checked / plain)
}

/// The verdict from the checked run's end, its evidence, and what the comparison found.
pub fn decide(
    r: &mut EntryResult,
    ev: Evidence,
    compared: Option<Verdict>,
    checked: &Ran,
    entry: &Entry,
) -> Result<bool> {
    let Evidence {
        processes,
        in_scope,
        outside_scope,
        used,
        notes,
    } = ev;
    let without = processes.total - processes.with_summary;
    if without > 0 {
        r.notes.push(format!(
            "{without} of {} processes wrote no summary (killed, crashed, or still running when \
             stopped)",
            processes.total
        ));
    }
    r.notes.extend(notes);
    let n_in: u64 = in_scope.iter().map(|v| v.count).sum();
    let n_out: u64 = outside_scope.iter().map(|v| v.count).sum();
    let (verdict, reason) = if checked.end == End::Timeout {
        (
            Verdict::Timeout,
            format!("the checked run did not finish within {:?}", entry.timeout),
        )
    } else if let Some(sig) = checked
        .crash_signal()
        .filter(|_| r.plain.status != r.checked.status)
    {
        (
            Verdict::Crashed,
            format!("the checked run was killed by signal {sig}; the plain run was not"),
        )
    } else if compared == Some(Verdict::NotTransparent) {
        (
            Verdict::NotTransparent,
            "the checked run's output or status differs from two identical plain runs".into(),
        )
    } else if processes.total == 0 && r.checked.outcome == "stopped" {
        (
            Verdict::Unchecked,
            "no process wrote a report before it was stopped: it was stopped before \
             libdynchk.so was loaded, or the library was not loaded at all"
                .into(),
        )
    } else if processes.total == 0 {
        (
            Verdict::Unchecked,
            "no process wrote a report: statically linked, setuid, LD_PRELOAD removed \
             (env -i), or libdynchk.so failed to load"
                .into(),
        )
    } else if compared == Some(Verdict::Flaky) {
        (
            Verdict::Flaky,
            "two plain runs differ, so the runs were compared on their status only".into(),
        )
    } else if n_in > 0 {
        let portability: u64 = in_scope
            .iter()
            .filter(|v| v.severity == Severity::Portability)
            .map(|v| v.count)
            .sum();
        (
            Verdict::Violations,
            format!(
                "{n_in} violation{} of {} rule{} in scope{}",
                plural(n_in),
                in_scope.len(),
                plural(in_scope.len() as u64),
                match portability {
                    0 => String::new(),
                    n if n == n_in => ", all of portability severity".into(),
                    n => format!(", {n} of portability severity"),
                }
            ),
        )
    } else if n_out > 0 {
        (
            Verdict::Clean,
            format!("no violation in scope ({n_out} outside scope)"),
        )
    } else {
        (
            Verdict::Clean,
            format!(
                "transparent; {} process{} checked, no violation",
                processes.total,
                if processes.total == 1 { "" } else { "es" }
            ),
        )
    };
    r.verdict = Some(verdict);
    r.reason = reason;
    r.processes = processes;
    r.violations = in_scope;
    r.outside_scope = outside_scope;
    r.used = used;
    Ok(true)
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
