//! Running one command of an entry: its own process group (so that a timeout or Ctrl-C stops the
//! whole tree, and background children are accounted for), output into files, a deadline.

use super::verdict::RunFacts;
use anyhow::{Context, Result};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// Set by SIGINT/SIGTERM: running entries are stopped and not recorded.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

extern "C" fn on_interrupt(_: libc::c_int) {
    INTERRUPTED.store(true, Ordering::Relaxed);
}

/// Makes Ctrl-C (and SIGTERM from a job engine) stop certify cleanly instead of killing it.
pub fn catch_interrupts() {
    for sig in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: the handler only stores to an atomic.
        unsafe { libc::signal(sig, on_interrupt as *const () as libc::sighandler_t) };
    }
}

/// Whether the user asked certify to stop.
pub fn interrupted() -> bool {
    INTERRUPTED.load(Ordering::Relaxed)
}

/// Background processes get this long after the command exits to finish (and write their
/// summaries); then the group is killed and they are counted as "no summary".
const LINGER: Duration = Duration::from_secs(2);
/// Between `run_for`'s SIGTERM and SIGKILL.
const STOP_GRACE: Duration = Duration::from_secs(3);

/// How a run ended, beyond [`RunFacts`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum End {
    /// It exited or was killed by a signal by itself.
    Status(ExitStatus),
    /// Stopped on purpose after `run_for` (or a service's stop signal).
    Stopped(ExitStatus),
    /// Killed at the deadline.
    Timeout,
    /// Certify was interrupted.
    Interrupted,
}

/// One finished run.
#[derive(Debug)]
pub struct Ran {
    /// How it ended.
    pub end: End,
    /// Wall time.
    pub wall: Duration,
    /// Where its standard output went.
    pub stdout: PathBuf,
    /// Where its standard error went.
    pub stderr: PathBuf,
}

impl Ran {
    /// The facts stored in results.
    pub fn facts(&self) -> RunFacts {
        let (status, outcome) = match self.end {
            End::Status(s) => (
                Some(shell_status(s)),
                if s.signal().is_some() {
                    "signaled"
                } else {
                    "exited"
                },
            ),
            End::Stopped(s) => (Some(shell_status(s)), "stopped"),
            End::Timeout => (None, "timeout"),
            End::Interrupted => (None, "interrupted"),
        };
        RunFacts {
            status,
            outcome: outcome.into(),
            wall_s: self.wall.as_secs_f64(),
        }
    }

    /// The signal that killed it, when it was not stopped on purpose.
    pub fn crash_signal(&self) -> Option<i32> {
        match self.end {
            End::Status(s) => s.signal(),
            _ => None,
        }
    }
}

/// The status a shell shows: the exit code, or 128+N for signal N.
pub fn shell_status(s: ExitStatus) -> i32 {
    s.code().unwrap_or_else(|| 128 + s.signal().unwrap_or(0))
}

/// A command ready to start: argv, environment and where its files go.
pub struct Spec<'a> {
    /// argv.
    pub argv: &'a [String],
    /// Variables set on top of certify's environment.
    pub env: Vec<(String, String)>,
    /// Working directory.
    pub cwd: &'a Path,
    /// Standard input file, `None` for /dev/null.
    pub stdin: Option<&'a Path>,
    /// `stdout`/`stderr` files are `PREFIX.stdout`, `PREFIX.stderr`.
    pub out_prefix: PathBuf,
}

impl Spec<'_> {
    /// Starts the command in a new process group.
    pub fn spawn(&self) -> Result<(Child, PathBuf, PathBuf)> {
        let stdout = self.out_prefix.with_extension("stdout");
        let stderr = self.out_prefix.with_extension("stderr");
        let file = |p: &Path| {
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))
        };
        let stdin = match self.stdin {
            Some(p) => Stdio::from(
                std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()))?,
            ),
            None => Stdio::null(),
        };
        let mut cmd = Command::new(&self.argv[0]);
        cmd.args(&self.argv[1..])
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(self.cwd)
            .stdin(stdin)
            .stdout(file(&stdout)?)
            .stderr(file(&stderr)?)
            .process_group(0);
        let child = cmd
            .spawn()
            .with_context(|| format!("cannot start {:?}", self.argv[0]))?;
        Ok((child, stdout, stderr))
    }

    /// Runs to the end, to `run_for` (then SIGTERM), or to `timeout` (then SIGKILL).
    pub fn run(&self, timeout: Duration, run_for: Option<Duration>) -> Result<Ran> {
        let start = Instant::now();
        let (mut child, stdout, stderr) = self.spawn()?;
        let end = wait(
            &mut child,
            start,
            timeout,
            run_for.map(|d| (d, libc::SIGTERM)),
        )?;
        Ok(Ran {
            end,
            wall: start.elapsed(),
            stdout,
            stderr,
        })
    }
}

/// Sends `sig` to the process group led by `child`.
pub fn signal_group(child: &Child, sig: i32) {
    // SAFETY: kill with a negative pid signals the group we created for the child.
    unsafe { libc::kill(-(child.id() as i32), sig) };
}

/// Whether a member of the group still runs. Members orphaned by the leader's exit were adopted
/// by certify (a subreaper, see [`adopt_orphans`]) and are reaped here, so that a zombie does not
/// count as running.
fn group_alive(pgid: i32) -> bool {
    let mut status = 0;
    // SAFETY: waitpid on our own children of that group, without blocking.
    while unsafe { libc::waitpid(-pgid, &mut status, libc::WNOHANG) } > 0 {}
    // SAFETY: signal 0 only probes.
    unsafe { libc::kill(-pgid, 0) == 0 }
}

/// Makes processes orphaned inside an entry's tree certify's children instead of init's, so that
/// they can be waited for and reaped (init in a container may never reap them).
pub fn adopt_orphans() {
    // SAFETY: prctl with integer arguments only; failure (old kernel) just leaves orphans to init.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
}

/// Waits for `child` (and then its group) until `timeout`; `stop_after` = (when, signal) stops it
/// on purpose first.
pub fn wait(
    child: &mut Child,
    start: Instant,
    timeout: Duration,
    stop_after: Option<(Duration, i32)>,
) -> Result<End> {
    let pgid = child.id() as i32;
    let mut stopped = false;
    let end = loop {
        if let Some(s) = child.try_wait().context("waiting for the command")? {
            break if stopped {
                End::Stopped(s)
            } else {
                End::Status(s)
            };
        }
        let now = start.elapsed();
        if interrupted() {
            kill_and_reap(child);
            return Ok(End::Interrupted);
        }
        if now >= timeout || (stopped && stop_after.is_some_and(|(d, _)| now >= d + STOP_GRACE)) {
            if stopped {
                kill_and_reap(child);
                let s = child.wait().context("waiting for the command")?;
                break End::Stopped(s);
            }
            kill_and_reap(child);
            return Ok(End::Timeout);
        }
        if let Some((d, sig)) = stop_after {
            if !stopped && now >= d {
                signal_group(child, sig);
                stopped = true;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    // The leader is gone; background members get a moment to finish and write their summaries.
    let linger = Instant::now();
    while group_alive(pgid) && linger.elapsed() < LINGER && !interrupted() {
        std::thread::sleep(Duration::from_millis(10));
    }
    // SAFETY: as in signal_group; the group may be empty already (ESRCH is fine).
    unsafe { libc::kill(-pgid, libc::SIGKILL) };
    group_alive(pgid);
    Ok(end)
}

fn kill_and_reap(child: &mut Child) {
    signal_group(child, libc::SIGKILL);
    let _ = child.wait();
}
