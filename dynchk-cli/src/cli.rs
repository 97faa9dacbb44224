//! Command-line definitions. The help texts are the user manual, so they carry examples.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::ffi::OsString;
use std::path::PathBuf;

/// Runtime ABI conformance checker: runs a program with every call it makes into the C libraries
/// checked against a specification database, and reports calls that break the interface's rules.
#[derive(Parser, Debug)]
#[command(name = "dynchk", version = crate::VERSION, after_help = EXAMPLES)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

const EXAMPLES: &str = "\
Examples:
  dynchk run -- ls -l /                            check ls, summary on stderr
  mkdir -p logs; dynchk run --log logs/ -- make    keep one log per process in logs/
  dynchk run --fail-on-violation -- ./tests        CI: exit 1 when a violation was found
  dynchk report logs/ --format sarif > d.sarif     code-scanning report from saved logs
  dynchk explain read                              how read() is checked and why
  dynchk certify matrix/smoke.toml --out /tmp/c    verdict per application, report.html
  dynchk completions bash > ~/.local/share/bash-completion/completions/dynchk";

/// The subcommands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run a command under the checker and summarize the violations of its whole process tree.
    Run(RunArgs),
    /// Summarize existing logs (files or directories of dynchk.PID.jsonl).
    Report(ReportArgs),
    /// Show the specification of an interface and the checks chosen for it.
    Explain(ExplainArgs),
    /// Certify a matrix of applications: each run plainly and checked, one verdict per entry.
    Certify(crate::certify::args::CertifyArgs),
    /// Print a shell completion script, e.g. `dynchk completions bash > /etc/bash_completion.d/dynchk`.
    Completions(CompletionsArgs),
    /// Print the manual page (roff), e.g. `dynchk man > ~/.local/share/man/man1/dynchk.1`.
    Man,
}

/// Options of `dynchk completions`.
#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// How bad a violation must be to be reported (`--min-severity`).
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum MinSeverity {
    /// Only calls that fail or are undefined on this system.
    Error,
    /// Also calls glibc and Linux accept but POSIX or the LSB do not (every violation).
    #[default]
    Portability,
}

impl MinSeverity {
    /// The record-format severity.
    pub fn severity(self) -> dynchk_record::Severity {
        match self {
            MinSeverity::Error => dynchk_record::Severity::Error,
            MinSeverity::Portability => dynchk_record::Severity::Portability,
        }
    }
}

/// Output formats of `dynchk report`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    /// Grouped, readable summary with symbolized call sites.
    Text,
    /// The raw JSON Lines records of every process, merged (report-format.md).
    Json,
    /// SARIF 2.1.0, for code-scanning tools.
    Sarif,
}

const RUN_AFTER_HELP: &str = "\
libdynchk.so is, first match wins:
  1. --lib PATH
  2. $DYNCHK_LIB
  3. PREFIX/lib/dynchk/libdynchk.so for PREFIX/bin/dynchk (distribution packages)
  4. the copy built into dynchk, written once to $XDG_CACHE_HOME/dynchk/VERSION-HASH/
     (~/.cache/dynchk/… by default, else $TMPDIR/dynchk-UID/…; private directories)

Options come before the command, which starts after `--` or at the first word that is not an
option: `dynchk run ls -l` runs `ls -l`.

Logs: without --log, a fresh directory under $TMPDIR is used and removed again when the run is
clean. A reused --log directory or file is fine: only what this run's processes wrote is
summarized. The summary goes to stderr; --json and --sarif write machine-readable copies to files
of their own. The program's stdin, stdout and stderr are its own. Processes the command leaves
running in the background get 2 seconds to finish before the summary.

Exit status: the command's own (128+N when killed by signal N, like a shell). With
--fail-on-violation, 1 when the command succeeded but a violation was reported; with
--error-exitcode=N, N whenever a violation was reported. 125: dynchk itself failed (bad options
included); 126: the command cannot be executed; 127: the command was not found.

A program built with -fsanitize=address is run with ASAN_OPTIONS=verify_asan_link_order=0 added
(ASan otherwise refuses to start when it is not the first library loaded); dynchk says so.

Examples:
  dynchk run -- ls -l /
  dynchk run --log run.jsonl --json run.json -- sh -c 'ls | wc -l'
  dynchk run --sarif dynchk.sarif --error-exitcode=3 -- ./tests
  dynchk run --abort-on-violation -- ./myprog    core dump at the first bad call, for a debugger
  dynchk run --suppress known.supp -- ./myprog   known.supp lines: read:buf:RWaddress, caller=libfoo.so,
                                                 close fun=cleanup, read src=net.c:42, obj=libfoo.so";

/// Options of `dynchk run`.
#[derive(Args, Debug)]
#[command(after_help = RUN_AFTER_HELP)]
pub struct RunArgs {
    /// Where the logs go: a directory (one dynchk.PID.jsonl per process) or one file for all.
    #[arg(long, value_name = "FILE|DIR")]
    pub log: Option<PathBuf>,
    /// Also write this run's JSON Lines records (report-format.md), merged, to FILE.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write the SARIF 2.1.0 report to FILE.
    #[arg(long, value_name = "FILE")]
    pub sarif: Option<PathBuf>,
    /// In SARIF, source files under DIR get URIs relative to it (base `%SRCROOT%`), as code
    /// scanning wants; files elsewhere keep absolute `file://` URIs.
    #[arg(long, value_name = "DIR")]
    pub source_root: Option<PathBuf>,
    #[command(flatten)]
    pub fail: FailArgs,
    #[command(flatten)]
    pub show: ShowArgs,
    /// Frames per violation in the backtraces (0 for none; the checker's default is 16).
    #[arg(long, value_name = "N")]
    pub backtrace: Option<u32>,
    /// Abort the checked process at the first violation (after reporting it).
    #[arg(long)]
    pub abort_on_violation: bool,
    /// File of suppression rules, one per line: `interface[:param[:check]]`, `caller=MODULE`,
    /// or these with `fun=NAME`, `src=FILE[:LINE]`, `obj=MODULE` (matched in the recorded frames).
    #[arg(long, value_name = "FILE")]
    pub suppress: Option<PathBuf>,
    /// Report only violations at least this severe: `error` leaves out the `portability` ones
    /// (glibc and Linux accept the call, POSIX or the LSB do not); they are not counted either.
    #[arg(long, value_enum, default_value_t = MinSeverity::Portability)]
    pub min_severity: MinSeverity,
    /// Path of libdynchk.so (overrides the search described below).
    #[arg(long, value_name = "PATH")]
    pub lib: Option<PathBuf>,
    /// The command and its arguments, passed exactly as given (no shell).
    #[arg(required = true, trailing_var_arg = true, value_name = "CMD")]
    pub cmd: Vec<OsString>,
}

/// When violations change the exit status (`run` and `report`).
#[derive(Args, Debug, Clone, Copy)]
pub struct FailArgs {
    /// Exit with status 1 when a violation was reported (for `run`: and the command succeeded).
    #[arg(long)]
    pub fail_on_violation: bool,
    /// Exit with status N whenever a violation was reported, like valgrind's option.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u8).range(1..))]
    pub error_exitcode: Option<u8>,
}

impl FailArgs {
    /// The exit status given the command's own (`code`) and whether violations were found.
    pub fn status(self, code: u8, found: bool) -> u8 {
        match (found, self.error_exitcode) {
            (true, Some(n)) => n,
            (true, None) if self.fail_on_violation && code == 0 => 1,
            _ => code,
        }
    }
}

/// How much the text summary shows (`run` and `report`).
#[derive(Args, Debug, Clone, Copy)]
pub struct ShowArgs {
    /// Call sites shown per interface/parameter/check (the rest are counted: "and 4 more").
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub max_sites: usize,
    /// After the summary, print a suppression rule for each reported interface/parameter/check,
    /// ready to paste into a --suppress file (its call sites as comments).
    #[arg(long)]
    pub gen_suppressions: bool,
}

impl ShowArgs {
    /// Everything, for files.
    pub const ALL: ShowArgs = ShowArgs {
        max_sites: usize::MAX,
        gen_suppressions: false,
    };
}

/// Options of `dynchk report`.
#[derive(Args, Debug)]
#[command(after_help = "\
Examples:
  dynchk report /tmp/logs/                      grouped summary of every dynchk.*.jsonl in it
  dynchk report dynchk.4242.jsonl --format json
  dynchk report logs/ --format sarif > dynchk.sarif
  dynchk report --fail-on-violation logs/       CI: exit 1 when the logs hold a violation")]
pub struct ReportArgs {
    /// Log files, or directories whose *.jsonl files are read.
    #[arg(required = true, value_name = "LOG")]
    pub logs: Vec<PathBuf>,
    /// Output format (on stdout).
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,
    #[command(flatten)]
    pub fail: FailArgs,
    #[command(flatten)]
    pub show: ShowArgs,
    /// Report only violations at least this severe: `error` leaves out the `portability` ones;
    /// the totals are then counted from the violation records kept.
    #[arg(long, value_enum, default_value_t = MinSeverity::Portability)]
    pub min_severity: MinSeverity,
    /// With `--format sarif`: source files under DIR get URIs relative to it (base `%SRCROOT%`);
    /// files elsewhere keep absolute `file://` URIs.
    #[arg(long, value_name = "DIR")]
    pub source_root: Option<PathBuf>,
    /// Suppression rules (as for `run --suppress`) applied to the logs' violations: they leave
    /// the summary, SARIF and exit status, counted per rule (`--format json` copies the records).
    #[arg(long, value_name = "FILE")]
    pub suppress: Option<PathBuf>,
}

/// Options of `dynchk explain`.
#[derive(Args, Debug)]
#[command(after_help = "\
The text comes from the specification database dynchk was built from (its hash is in
`dynchk --version`); `dynchk-gen explain NAME` explains from a database directory instead.

Example:
  dynchk explain read")]
pub struct ExplainArgs {
    /// Interface name, e.g. `read` or `pipe2`.
    pub name: String,
}
