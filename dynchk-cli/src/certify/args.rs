//! Options of `dynchk certify` and its subcommands. The help texts are the manual.

use super::shard::Shard;
use super::verdict::Verdict;
use clap::{Args, Subcommand};
use std::path::PathBuf;

const CERTIFY_AFTER_HELP: &str = "\
Each entry of MATRIX runs plainly and under the checker in the same environment; the two are
compared (status, stdout, stderr after masks) and the checked run's logs decide the verdict:
  clean            transparent, checked, no violation
  violations       transparent, checked, violations in scope (interface/param/check, counts, sites)
  not-transparent  the checked run differs from two identical plain runs: a dynchk defect
  crashed          killed by a signal only under the checker
  timeout          out of time only under the checker
  unchecked        no process was checked (static, setuid, LD_PRELOAD dropped by env -i)
  flaky            two plain runs differ: compared on the status only
  broken           the plain run itself failed or missed expect_status: the matrix is wrong

Results go to --out DIR: results.sqlite (the database), results.json, report.md, report.html, and
runs/NAME/ with each run's stdout, stderr and the checked run's logs.

Shards: --shard I/N runs the entries whose name hashes to shard I of N. Without it, the shard
comes from $JOB_COMPLETION_INDEX (Kubernetes Indexed Job; give --shards N) or
$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT. Combine shards with `dynchk certify merge`.

Exit status: 0 when no entry is not-transparent, crashed or timeout (--fail-on adds verdicts),
1 otherwise, 130 when interrupted (the finished entries are kept: rerun with --resume),
125 when certify itself failed (a malformed matrix included).

Examples:
  dynchk certify matrix/smoke.toml --out /tmp/smoke
  dynchk certify matrix/debian.toml --out out -j 4 --only ls-doc,sort-big
  dynchk certify matrix/debian.toml --out out --resume          after Ctrl-C
  dynchk certify matrix/debian.toml --out shard3 --shard 3/8    one job of eight
  dynchk certify --sweep /usr/bin --args=--version --out sweep -j 2
  dynchk certify diff last-week/ out/
  dynchk certify merge all.sqlite shard*/results.sqlite";

/// Options of `dynchk certify`.
#[derive(Args, Debug)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = CERTIFY_AFTER_HELP
)]
pub struct CertifyArgs {
    /// Comparing, tracing and merging results instead of running a matrix.
    #[command(subcommand)]
    pub action: Option<Action>,
    /// The matrix file (TOML; its fields are documented in the README).
    #[arg(required_unless_present = "sweep", value_name = "MATRIX")]
    pub matrix: Option<PathBuf>,
    /// Run directory for the database, the reports and each run's output.
    #[arg(long, value_name = "DIR", default_value = "dynchk-certify")]
    pub out: PathBuf,
    /// Entries run at once (default: the matrix's `jobs`, else the number of CPUs).
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Run only shard I of N (a deterministic partition by entry name).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Number of shards, with $JOB_COMPLETION_INDEX giving the index.
    #[arg(long, value_name = "N")]
    pub shards: Option<u32>,
    /// Certify each entry K times; the first verdict other than clean/violations is kept.
    #[arg(long, value_name = "K", default_value_t = 1)]
    pub repeat: u32,
    /// Only these entries (comma-separated names).
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub only: Vec<String>,
    /// Continue the run in --out: entries already in its database are skipped.
    #[arg(long)]
    pub resume: bool,
    /// Also exit 1 when an entry has one of these verdicts (comma-separated), e.g. violations.
    #[arg(long, value_name = "VERDICTS", value_delimiter = ',')]
    pub fail_on: Vec<Verdict>,
    /// Leave out violations less severe than this (as `dynchk run --min-severity`): with
    /// `error`, an entry whose only violations are of `portability` severity is clean.
    #[arg(long, value_enum, value_name = "SEVERITY", default_value_t)]
    pub min_severity: crate::cli::MinSeverity,
    /// Path of libdynchk.so (the search is the one of `dynchk run --help`).
    #[arg(long, value_name = "PATH")]
    pub lib: Option<PathBuf>,
    /// Instead of a matrix: every dynamically linked ELF executable in DIR (not setuid/setgid).
    #[arg(long, value_name = "DIR", conflicts_with = "matrix")]
    pub sweep: Option<PathBuf>,
    /// Arguments for every swept program, split on spaces (e.g. --args=--version).
    #[arg(
        long,
        value_name = "ARGS",
        allow_hyphen_values = true,
        requires = "sweep"
    )]
    pub args: Option<String>,
    /// Per-run timeout of swept programs.
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "10s",
        requires = "sweep"
    )]
    pub sweep_timeout: String,
}

/// `dynchk certify` subcommands.
#[derive(Subcommand, Debug)]
pub enum Action {
    /// Compare two runs entry by entry: regressed, fixed, unchanged, new, gone.
    #[command(after_help = "\
OLD and NEW are run directories or their results.sqlite files. An entry is regressed when its
verdict got worse or it has violations (interface, param, check) it did not have before; fixed in
the opposite case. Exit status 1 when an entry regressed.

Example:
  dynchk certify diff last-release/ out/")]
    Diff {
        /// The earlier run.
        old: PathBuf,
        /// The later run.
        new: PathBuf,
    },
    /// One line per run for one entry, oldest first.
    #[command(after_help = "\
Example:
  dynchk certify history ls-doc --db runs/*/results.sqlite")]
    History {
        /// The entry name.
        name: String,
        /// Results databases (or run directories) to look in.
        #[arg(long, value_name = "FILE", num_args = 1.., required = true)]
        db: Vec<PathBuf>,
    },
    /// Combine the databases of the shards of one run into one database (and its reports).
    #[command(after_help = "\
Refuses shards of different matrices, dynchk versions or libdynchk.so interface sets, and names
the shards that are missing. The reports are written next to OUT.

Example:
  dynchk certify merge all/results.sqlite shard-*/results.sqlite")]
    Merge {
        /// The database to create.
        out: PathBuf,
        /// The shards' databases (or run directories).
        #[arg(required = true, num_args = 1..)]
        inputs: Vec<PathBuf>,
    },
}
