//! `dynchk run` and `dynchk report`.

use crate::cli::{ReportArgs, ReportFormat, RunArgs, ShowArgs};
use crate::logs::{self, Logs, Source};
use crate::program::Program;
use crate::summary::{Builder, Model};
use crate::symbolize::symbolize;
use crate::{locate, sarif, EXIT_DYNCHK_ERROR};
use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::ffi::OsString;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, ExitStatus};

/// Where the preload writes.
#[derive(Debug)]
enum LogDest {
    /// One `dynchk.PID.jsonl` per process; `temp` dirs are ours to remove.
    Dir { dir: PathBuf, temp: bool },
    /// One file shared by every process (lines are appended whole with O_APPEND).
    File(PathBuf),
}

impl LogDest {
    fn env_value(&self) -> OsString {
        match self {
            LogDest::Dir { dir, .. } => dir.join("dynchk.%p.jsonl").into_os_string(),
            LogDest::File(f) => f.clone().into_os_string(),
        }
    }

    /// Current sizes of the log files, so that what earlier runs left there is not reported again.
    fn snapshot(&self) -> HashMap<PathBuf, u64> {
        let files = match self {
            LogDest::Dir { dir, .. } => logs::jsonl_files(dir).unwrap_or_default(),
            LogDest::File(f) => vec![f.clone()],
        };
        files
            .into_iter()
            .filter_map(|f| Some((f.clone(), std::fs::metadata(&f).ok()?.len())))
            .collect()
    }

    fn path(&self) -> &Path {
        match self {
            LogDest::Dir { dir, .. } => dir,
            LogDest::File(f) => f,
        }
    }

    fn is_temp(&self) -> bool {
        matches!(self, LogDest::Dir { temp: true, .. })
    }

    /// Removes a directory dynchk created for itself; a user's directory or file is never touched.
    fn discard_if_temp(&self) {
        if let LogDest::Dir { dir, temp: true } = self {
            let _ = std::fs::remove_dir_all(dir);
        }
    }

    /// The parts of the log files written since `before`: files this run created, and what it
    /// appended to older ones. An older file it did not touch is left out, so that its pid is not
    /// counted as a process of this run.
    fn sources(&self, before: &HashMap<PathBuf, u64>) -> Result<Vec<Source>> {
        let mut files = match self {
            LogDest::Dir { dir, .. } => logs::jsonl_files(dir)?,
            LogDest::File(f) if f.exists() => vec![f.clone()],
            LogDest::File(_) => Vec::new(),
        };
        files.sort();
        Ok(files
            .into_iter()
            .filter_map(|path| {
                let start = before.get(&path).copied();
                let len = std::fs::metadata(&path).map_or(0, |m| m.len());
                match start {
                    Some(s) if len <= s => None,
                    _ => Some(Source {
                        start: start.unwrap_or(0),
                        path,
                    }),
                }
            })
            .collect())
    }
}

/// A fresh private directory under $TMPDIR.
fn temp_dir() -> Result<PathBuf> {
    let base = std::env::temp_dir();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    let dir = base.join(format!("dynchk-{}-{nanos}", std::process::id()));
    std::fs::DirBuilder::new()
        .mode(0o700)
        .create(&dir)
        .with_context(|| format!("cannot create a log directory in {}", base.display()))?;
    Ok(dir)
}

/// Proves that the preload will be able to create files in `dir` and that we can list it after.
fn probe_dir(dir: &Path) -> Result<()> {
    std::fs::read_dir(dir).context("cannot list it")?;
    let probe = dir.join(format!(".dynchk-probe-{}", std::process::id()));
    std::fs::File::create_new(&probe).context("cannot create files in it")?;
    std::fs::remove_file(&probe).context("cannot remove files from it")?;
    Ok(())
}

fn check_log_arg(p: &Path) -> Result<LogDest> {
    let text = p.as_os_str().as_encoded_bytes();
    if text.windows(2).any(|w| w == b"%p") {
        bail!("--log takes a directory for one log per process, not a %p pattern");
    }
    if p.is_dir() || text.ends_with(b"/") {
        probe_dir(p).with_context(|| format!("log directory {}", p.display()))?;
        return Ok(LogDest::Dir {
            dir: std::path::absolute(p)?,
            temp: false,
        });
    }
    // Never blocks on a FIFO, never follows a planted symlink; the preload refuses anything but
    // a regular file the same way.
    let f = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(p)
        .with_context(|| format!("log file {}", p.display()))?;
    if !f.metadata()?.is_file() {
        bail!("log file {} is not a regular file", p.display());
    }
    Ok(LogDest::File(std::path::absolute(p)?))
}

/// The log destination; a bad `--log` is reported and replaced by a temporary directory, because
/// losing the run over where its logs go would be worse than logging elsewhere.
fn choose_log(arg: Option<&Path>) -> Result<LogDest> {
    if let Some(p) = arg {
        match check_log_arg(p) {
            Ok(dest) => return Ok(dest),
            Err(e) => {
                let dir = temp_dir()?;
                eprintln!(
                    "dynchk: error: {e:#}; logging to {} instead (the program runs anyway)",
                    dir.display()
                );
                return Ok(LogDest::Dir { dir, temp: false });
            }
        }
    }
    Ok(LogDest::Dir {
        dir: temp_dir()?,
        temp: true,
    })
}

/// `LD_PRELOAD` with our library first, keeping what the user preloads.
fn preload_value(lib: &Path, existing: Option<OsString>) -> OsString {
    let mut v = lib.as_os_str().to_owned();
    if let Some(e) = existing.filter(|e| !e.is_empty()) {
        v.push(":");
        v.push(e);
    }
    v
}

extern "C" fn ignore_signal(_: libc::c_int) {}

/// While the child runs, a terminal's Ctrl-C or Ctrl-\ is for the child; dynchk has to survive it
/// to write the summary. A handler (unlike SIG_IGN) is reset by exec, so the child is unaffected.
fn survive_terminal_signals() {
    for sig in [libc::SIGINT, libc::SIGQUIT] {
        // SAFETY: installs an async-signal-safe handler that does nothing.
        unsafe { libc::signal(sig, ignore_signal as *const () as libc::sighandler_t) };
    }
}

/// How long processes that the command left running in the background get to finish (and write
/// their summaries) after it exits.
const ORPHAN_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Makes processes orphaned inside the command's tree our children instead of init's, so that
/// `sh -c 'a &'` is summarized with `a` once it ends and no zombie outlives the run.
fn become_subreaper() {
    // SAFETY: prctl with integer arguments only; failure (old kernel) just loses the orphans.
    unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) };
}

/// Reaps orphans adopted as subreaper until none is left or `grace` has passed. Returns whether
/// some are still running.
fn reap_orphans(grace: std::time::Duration) -> bool {
    let deadline = std::time::Instant::now() + grace;
    loop {
        let mut status = 0;
        // SAFETY: waitpid with a valid status pointer.
        match unsafe { libc::waitpid(-1, &mut status, libc::WNOHANG) } {
            0 if std::time::Instant::now() >= deadline => return true,
            0 => std::thread::sleep(std::time::Duration::from_millis(10)),
            pid if pid > 0 => {}
            _ => return false, // ECHILD: everyone is gone
        }
    }
}

/// The status a shell would report for the child.
fn shell_status(status: ExitStatus) -> u8 {
    match (status.code(), status.signal()) {
        (Some(c), _) => (c & 0xff) as u8,
        (None, Some(s)) => (128 + s).clamp(0, 255) as u8,
        (None, None) => EXIT_DYNCHK_ERROR,
    }
}

fn signal_name(sig: i32) -> String {
    // SAFETY: strsignal returns a pointer to a static or thread-local string, or NULL.
    let p = unsafe { libc::strsignal(sig) };
    if p.is_null() {
        return format!("signal {sig}");
    }
    // SAFETY: non-null strsignal results are NUL-terminated.
    let name = unsafe { std::ffi::CStr::from_ptr(p) }.to_string_lossy();
    format!("signal {sig} ({name})")
}

/// Quotes a word for display so that the command line shown can be pasted back into a shell.
fn shell_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// The value of `ASAN_OPTIONS` that lets an ASan program start with libdynchk.so loaded first.
fn asan_options(existing: Option<OsString>) -> OsString {
    let mut v = OsString::from("verify_asan_link_order=0");
    if let Some(e) = existing.filter(|e| !e.is_empty()) {
        v.push(":");
        v.push(e);
    }
    v
}

/// The command with the checker's environment: our library first in `LD_PRELOAD`, logs as JSON
/// Lines into `dest`, and the violation policy, backtrace depth and suppressions asked for.
fn checked_command(args: &RunArgs, lib: &Path, dest: &LogDest, facts: &Program) -> Result<Command> {
    let (program, rest) = args.cmd.split_first().context("no command given")?;
    let mut cmd = Command::new(program);
    let policy = if args.abort_on_violation {
        "abort"
    } else {
        "continue"
    };
    cmd.args(rest)
        .env(
            "LD_PRELOAD",
            preload_value(lib, std::env::var_os("LD_PRELOAD")),
        )
        .env("DYNCHK_LOG", dest.env_value())
        .env("DYNCHK_FORMAT", "json")
        .env("DYNCHK_ON_VIOLATION", policy)
        .env("DYNCHK_MIN_SEVERITY", args.min_severity.severity().name());
    if let Some(n) = args.backtrace {
        cmd.env("DYNCHK_BACKTRACE", n.to_string());
    }
    if facts.has_asan {
        let value = asan_options(std::env::var_os("ASAN_OPTIONS"));
        eprintln!(
            "dynchk: note: {} is built with AddressSanitizer, which refuses to start unless it is \
             the first library loaded; running it with ASAN_OPTIONS={} (ASan's own checks stay on)",
            program_name(args),
            value.to_string_lossy()
        );
        cmd.env("ASAN_OPTIONS", value);
    }
    if let Some(s) = &args.suppress {
        crate::suppress::load(s)?;
        cmd.env("DYNCHK_SUPPRESS", std::fs::canonicalize(s)?);
    }
    Ok(cmd)
}

fn program_name(args: &RunArgs) -> String {
    args.cmd[0].to_string_lossy().into_owned()
}

/// Why no process wrote a report, as far as the executable tells.
fn no_report_hint(program: &Program, shown: &str, lib: &Path) -> String {
    if program.is_static {
        format!(
            "{shown} is statically linked: static programs ignore LD_PRELOAD and cannot be checked"
        )
    } else if program.is_setid {
        format!("{shown} is setuid or setgid: the loader ignores LD_PRELOAD for it")
    } else {
        format!(
            "LD_PRELOAD did not reach {shown}: it was dropped from the environment (e.g. by \
             `env -i` or a wrapper that cleans the environment), or {} failed to load (see the \
             loader's message above)",
            lib.display()
        )
    }
}

/// Writes one machine-readable output to its own file (never to the program's stderr).
fn write_file(
    path: &Path,
    logs: &Logs,
    model: &Model,
    format: ReportFormat,
    sarif: sarif::Context<'_>,
) -> Result<()> {
    let mut f = std::io::BufWriter::new(
        std::fs::File::create(path).with_context(|| format!("cannot create {}", path.display()))?,
    );
    render(logs, model, format, ShowArgs::ALL, sarif, &mut f)?;
    f.flush()
        .with_context(|| format!("cannot write {}", path.display()))
}

/// Runs `dynchk run`.
pub fn run(args: RunArgs) -> Result<ExitCode> {
    let lib = locate::find(args.lib.as_deref())?;
    let program = Program::inspect(&args.cmd[0]);
    let dest = choose_log(args.log.as_deref())?;
    let mut cmd = match checked_command(&args, &lib, &dest, &program) {
        Ok(c) => c,
        Err(e) => {
            dest.discard_if_temp();
            return Err(e);
        }
    };
    let before = dest.snapshot();
    let shown = args
        .cmd
        .iter()
        .map(|a| shell_quote(&a.to_string_lossy()))
        .collect::<Vec<_>>()
        .join(" ");
    survive_terminal_signals();
    become_subreaper();
    let mut child = match cmd.spawn() {
        Ok(c) => c,
        Err(e) => {
            dest.discard_if_temp();
            let (what, code) = match e.kind() {
                ErrorKind::NotFound => ("command not found", 127),
                ErrorKind::PermissionDenied => ("permission denied", 126),
                _ => ("cannot execute it", 126),
            };
            eprintln!(
                "dynchk: error: {}: {what} ({e})",
                args.cmd[0].to_string_lossy()
            );
            return Ok(ExitCode::from(code));
        }
    };
    let root = i64::from(child.id());
    let status = child.wait().context("waiting for the command")?;
    let stragglers = reap_orphans(ORPHAN_GRACE);
    if stragglers {
        eprintln!(
            "dynchk: note: background processes of {shown} are still running; \
             their reports are missing from this summary"
        );
    }
    let mut code = shell_status(status);
    if let Some(sig) = status.signal() {
        let core = if status.core_dumped() {
            ", core dumped"
        } else {
            ""
        };
        eprintln!("dynchk: {shown} was killed by {}{core}", signal_name(sig));
    }
    let logs = match dest.sources(&before).and_then(|s| logs::read(&s)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("dynchk: error: cannot read the logs: {e:#}");
            return Ok(ExitCode::from(code));
        }
    };
    if logs.records.is_empty() && logs.corrupt.is_empty() {
        if status.signal().is_some() {
            eprintln!("dynchk: warning: no process wrote a report before dying");
        } else {
            eprintln!(
                "dynchk: warning: no process wrote a report: {}",
                no_report_hint(&program, &shown, &lib)
            );
        }
        dest.discard_if_temp();
        return Ok(ExitCode::from(code));
    }
    let mut model = Model::build(&logs, &[(root, shown)]);
    if let Some(s) = &args.suppress {
        // Checked before the run; a file changed since is only worth a warning now.
        match crate::suppress::load(s) {
            Ok(rules) => model.suppress(&rules),
            Err(e) => eprintln!("dynchk: warning: {e:#}"),
        }
    }
    let found = !model.distinct.is_empty() || model.total_violations() > 0;
    // The summary is a by-product: failing to print it must not hide the command's own status.
    warn_corrupt(&logs);
    let _ = render(
        &logs,
        &model,
        ReportFormat::Text,
        args.show,
        sarif::Context::default(),
        &mut anstream::AutoStream::auto(std::io::stderr()),
    );
    let invocation = sarif::Invocation {
        argv: args
            .cmd
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect(),
        exit_code: i32::from(code),
    };
    for (path, format) in [
        (&args.json, ReportFormat::Json),
        (&args.sarif, ReportFormat::Sarif),
    ] {
        if let Some(path) = path {
            let sarif = sarif::Context {
                invocation: Some(&invocation),
                source_root: args.source_root.as_deref(),
            };
            if let Err(e) = write_file(path, &logs, &model, format, sarif) {
                eprintln!("dynchk: error: {e:#}");
                code = EXIT_DYNCHK_ERROR;
            }
        }
    }
    // Stragglers still write into the directory, so it stays when they exist.
    let keep = found || stragglers || !logs.corrupt.is_empty();
    if !keep {
        dest.discard_if_temp();
    }
    if !dest.is_temp() || keep {
        let p = dest.path().display();
        eprintln!("dynchk: logs in {p} (summarize again with: dynchk report {p})");
    }
    Ok(ExitCode::from(args.fail.status(code, found)))
}

fn warn_corrupt(logs: &Logs) {
    for c in &logs.corrupt {
        eprintln!("dynchk: warning: {c}");
    }
}

/// Writes the report to `out` (the text one as `show` says).
fn render(
    logs: &Logs,
    model: &Model,
    format: ReportFormat,
    show: ShowArgs,
    sarif: sarif::Context<'_>,
    out: &mut dyn Write,
) -> Result<()> {
    match format {
        // Empty when `dynchk report` streamed them already.
        ReportFormat::Json => {
            for r in &logs.records {
                writeln!(out, "{}", r.raw)?;
            }
        }
        ReportFormat::Text => {
            let symbols = symbolize(model.call_sites());
            out.write_all(model.render_text(&symbols, show.max_sites).as_bytes())?;
            if show.gen_suppressions {
                out.write_all(model.render_suppression_rules(&symbols).as_bytes())?;
            }
            if logs.corrupt_total > 0 {
                let shown = if logs.corrupt_total > logs.corrupt.len() {
                    format!("the first {} in the warnings above", logs.corrupt.len())
                } else {
                    "see the warnings above".to_string()
                };
                writeln!(
                    out,
                    "dynchk: {} corrupt log line{} skipped ({shown})",
                    logs.corrupt_total,
                    if logs.corrupt_total == 1 { "" } else { "s" }
                )?;
            }
        }
        ReportFormat::Sarif => {
            let symbols = symbolize(model.call_sites());
            serde_json::to_writer_pretty(&mut *out, &sarif::render(model, &symbols, sarif))
                .map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
    }
    Ok(())
}

/// Runs `dynchk report`: the logs are streamed (JSON records written as they are read, the
/// summary aggregated per site), so memory follows the number of distinct sites and processes,
/// not the size of the logs.
pub fn report(args: ReportArgs) -> Result<ExitCode> {
    let sources = logs::expand(&args.logs)?;
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut model = Builder::keeping(args.min_severity.severity());
    let json = args.format == ReportFormat::Json;
    let logs = logs::each(&sources, |r| {
        if model.add(&r) && json {
            writeln!(out, "{}", r.raw)?;
        }
        Ok(())
    })?;
    let mut model = model.finish(&logs.file_pids, &[]);
    if let Some(s) = &args.suppress {
        model.suppress(&crate::suppress::load(s)?);
    }
    warn_corrupt(&logs);
    let show = args.show;
    let sarif = sarif::Context {
        invocation: None,
        source_root: args.source_root.as_deref(),
    };
    if args.format != ReportFormat::Text {
        // Colour only for people: JSON and SARIF go out exactly as rendered.
        render(&logs, &model, args.format, show, sarif, &mut out)?;
        out.flush()?;
    } else {
        out.flush()?;
        drop(out);
        render(
            &logs,
            &model,
            args.format,
            show,
            sarif,
            &mut anstream::AutoStream::auto(std::io::stdout()),
        )?;
    }
    let found = !model.distinct.is_empty() || model.total_violations() > 0;
    Ok(ExitCode::from(args.fail.status(0, found)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preload_is_prepended_to_an_existing_one() {
        let lib = Path::new("/l/libdynchk.so");
        assert_eq!(preload_value(lib, None), "/l/libdynchk.so");
        assert_eq!(preload_value(lib, Some("".into())), "/l/libdynchk.so");
        assert_eq!(
            preload_value(lib, Some("/x/a.so".into())),
            "/l/libdynchk.so:/x/a.so"
        );
    }

    #[test]
    fn asan_options_keep_the_users_own() {
        assert_eq!(asan_options(None), "verify_asan_link_order=0");
        assert_eq!(
            asan_options(Some("halt_on_error=0".into())),
            "verify_asan_link_order=0:halt_on_error=0"
        );
    }

    #[test]
    fn displayed_commands_are_shell_quoted() {
        assert_eq!(shell_quote("ls"), "ls");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("kill $$"), "'kill $$'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }

    #[test]
    fn percent_p_patterns_are_refused_with_advice() {
        let e = check_log_arg(Path::new("/tmp/x.%p.jsonl")).unwrap_err();
        assert!(format!("{e}").contains("directory"));
    }
}
