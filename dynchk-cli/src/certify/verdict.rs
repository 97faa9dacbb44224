//! What certification says about one entry: the verdict and the evidence behind it. This is the
//! shape of `results.json` (a contract: fields are added, never renamed) and of the database's
//! per-entry record.

use dynchk_record::Severity;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// One verdict per entry (README, "Verdicts").
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Transparent, checked, no violation.
    Clean,
    /// Transparent, checked, violations in scope.
    Violations,
    /// The checked run behaved differently from a stable plain run: a dynchk defect.
    NotTransparent,
    /// Killed by a signal only under the checker.
    Crashed,
    /// Ran out of time only under the checker.
    Timeout,
    /// No process of the checked run was checked (static, setuid, `env -i`, …).
    Unchecked,
    /// Two plain runs differ: compared on the status only.
    Flaky,
    /// The plain run itself failed: the matrix entry is wrong.
    Broken,
}

impl Verdict {
    /// Every verdict, in the order reports list them.
    pub const ALL: [Verdict; 8] = [
        Verdict::Clean,
        Verdict::Violations,
        Verdict::NotTransparent,
        Verdict::Crashed,
        Verdict::Timeout,
        Verdict::Unchecked,
        Verdict::Flaky,
        Verdict::Broken,
    ];

    /// The name reports and options use.
    pub fn name(self) -> &'static str {
        match self {
            Verdict::Clean => "clean",
            Verdict::Violations => "violations",
            Verdict::NotTransparent => "not-transparent",
            Verdict::Crashed => "crashed",
            Verdict::Timeout => "timeout",
            Verdict::Unchecked => "unchecked",
            Verdict::Flaky => "flaky",
            Verdict::Broken => "broken",
        }
    }

    /// How bad it is for the library under test, for `certify diff`: a higher rank than before
    /// is a regression. Matrix-side verdicts (flaky, broken) rank with unchecked: they say
    /// nothing about dynchk.
    pub fn rank(self) -> u8 {
        match self {
            Verdict::Clean => 0,
            Verdict::Flaky | Verdict::Broken | Verdict::Unchecked => 1,
            Verdict::Violations => 2,
            Verdict::Timeout | Verdict::NotTransparent => 3,
            Verdict::Crashed => 4,
        }
    }

    /// Verdicts that fail the run by default: the checker changed the program's behaviour.
    pub fn fails_by_default(self) -> bool {
        matches!(
            self,
            Verdict::NotTransparent | Verdict::Crashed | Verdict::Timeout
        )
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Verdict {
    type Err = String;
    fn from_str(s: &str) -> Result<Verdict, String> {
        Verdict::ALL
            .into_iter()
            .find(|v| v.name() == s)
            .ok_or_else(|| {
                format!(
                    "{s:?} is not a verdict; allowed: {}",
                    Verdict::ALL.map(Verdict::name).join(", ")
                )
            })
    }
}

/// How one run of a command ended.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct RunFacts {
    /// The status a shell would show (128+N for signal N); null when it did not end by itself.
    pub status: Option<i32>,
    /// `exited`, `signaled`, `timeout`, `stopped` (after `run_for`), `failed` (cannot start) or
    /// `not-run`.
    pub outcome: String,
    /// Wall-clock seconds.
    pub wall_s: f64,
}

impl RunFacts {
    /// A run that was not made.
    pub fn not_run() -> RunFacts {
        RunFacts {
            status: None,
            outcome: "not-run".into(),
            wall_s: 0.0,
        }
    }
}

/// Processes of the checked run.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct Processes {
    /// Every process known from the logs.
    pub total: u64,
    /// Those that wrote a summary.
    pub with_summary: u64,
    /// Each one.
    pub list: Vec<ProcessFacts>,
}

/// One process of the checked run.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct ProcessFacts {
    /// Its pid.
    pub pid: i64,
    /// Its parent, when the logs say.
    pub ppid: Option<i64>,
    /// Executable or command line, when the logs say.
    pub command: Option<String>,
    /// Whether it wrote a summary (no: killed, or still running when stopped).
    pub summary: bool,
    /// Interposed calls.
    pub calls: u64,
    /// Violations including repeats.
    pub violations: u64,
}

/// Violations of one (interface, param, check, member), with repeats counted.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct ViolationGroup {
    /// Interface called.
    pub interface: String,
    /// 0-based parameter, -1 for the call as a whole.
    pub param: i64,
    /// Rule that failed.
    pub check: String,
    /// Struct member path, for member rules.
    pub member: Option<String>,
    /// How bad it is (results written before severities were recorded read as `error`).
    #[serde(default)]
    pub severity: Severity,
    /// Occurrences.
    pub count: u64,
    /// First call site, symbolized when possible.
    pub site: String,
    /// Module of that call site.
    pub module: String,
    /// The process (executable or command) that made the call.
    pub process: String,
    /// The first message.
    pub message: String,
}

/// What identifies a kind of violation across runs: interface, param, check, member.
pub type GroupKey = (String, i64, String, Option<String>);

impl ViolationGroup {
    /// The key `certify diff` compares runs by.
    pub fn key(&self) -> GroupKey {
        (
            self.interface.clone(),
            self.param,
            self.check.clone(),
            self.member.clone(),
        )
    }
}

/// Everything known about one entry after certification.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Default)]
pub struct EntryResult {
    /// Entry name.
    pub name: String,
    /// `app` or `service`.
    pub kind: String,
    /// The verdict.
    pub verdict: Option<Verdict>,
    /// One sentence saying why.
    pub reason: String,
    /// The first plain run.
    pub plain: RunFacts,
    /// The checked run.
    pub checked: RunFacts,
    /// The second plain run, made only when the checked run differed from the first.
    pub plain2: Option<RunFacts>,
    /// Overhead: checked cost / plain cost (wall time, or the service's metric); 1.10 is 10% slower.
    pub ratio: Option<f64>,
    /// Services: checked / plain throughput (1 / ratio).
    pub throughput: Option<f64>,
    /// Processes of the checked run.
    pub processes: Processes,
    /// Violations that decide the verdict (in scope).
    pub violations: Vec<ViolationGroup>,
    /// Violations whose call site is outside the entry's `scope`.
    pub outside_scope: Vec<ViolationGroup>,
    /// Functions the executable imports that libdynchk.so does not check.
    pub unchecked_imports: Vec<String>,
    /// Calls per spec interface used, over all processes (from the summaries' `used` maps).
    pub used: BTreeMap<String, u64>,
    /// A short unified diff of plain vs checked, for not-transparent (and flaky) entries.
    pub diff: Option<String>,
    /// Anything else worth a line (the driver failed, a process had no summary, …).
    pub notes: Vec<String>,
}

impl EntryResult {
    /// The verdict, `broken` for a result written without one (never happens for finished runs).
    pub fn verdict(&self) -> Verdict {
        self.verdict.unwrap_or(Verdict::Broken)
    }

    /// Violations in scope, including repeats.
    pub fn violation_count(&self) -> u64 {
        self.violations.iter().map(|v| v.count).sum()
    }
}

/// Entries per verdict, in [`Verdict::ALL`] order, zeros included.
pub fn counts<'a>(entries: impl IntoIterator<Item = &'a EntryResult>) -> Vec<(Verdict, usize)> {
    let mut n: BTreeMap<Verdict, usize> = BTreeMap::new();
    for e in entries {
        *n.entry(e.verdict()).or_default() += 1;
    }
    Verdict::ALL
        .into_iter()
        .map(|v| (v, n.get(&v).copied().unwrap_or(0)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_names_round_trip_through_json_and_options() {
        for v in Verdict::ALL {
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(json, format!("\"{}\"", v.name()));
            assert_eq!(v.name().parse::<Verdict>(), Ok(v));
        }
        assert!("dirty"
            .parse::<Verdict>()
            .unwrap_err()
            .contains("clean, violations"));
    }
}
