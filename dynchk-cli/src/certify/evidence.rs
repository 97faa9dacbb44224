//! What the checked run's logs say: its processes (with or without a summary), its violations
//! grouped by interface/param/check and split by the entry's scope, and the interfaces it used.
//! The logs are read with `dynchk report`'s reader and model, so both agree on every count.

use super::verdict::{GroupKey, ProcessFacts, Processes, ViolationGroup};
use crate::logs::{self, Frame, Logs};
use crate::summary::{Distinct, Model};
use crate::symbolize::symbolize;
use anyhow::Result;
use dynchk_record::Severity;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// The evidence of one checked run.
#[derive(Debug, Default)]
pub struct Evidence {
    /// Its processes.
    pub processes: Processes,
    /// Violations whose call site is in scope.
    pub in_scope: Vec<ViolationGroup>,
    /// The others.
    pub outside_scope: Vec<ViolationGroup>,
    /// Calls per interface, summed over processes.
    pub used: BTreeMap<String, u64>,
    /// Corrupt log lines and interfaces without an original.
    pub notes: Vec<String>,
}

/// The summary additions of report-format.md that `dynchk report` does not read.
#[derive(Deserialize, Default)]
struct SummaryExtras {
    #[serde(default)]
    used: BTreeMap<String, u64>,
    #[serde(default)]
    sites: Vec<SiteCount>,
}

#[derive(Deserialize)]
struct SiteCount {
    site: Frame,
    interface: String,
    #[serde(default)]
    param: i64,
    check: String,
    count: u64,
}

/// Reads the logs in `dir`. `scope` lists modules (full paths or file names) whose call sites
/// decide the verdict; empty means every module. Violations less severe than `min` are left
/// out (`--min-severity`), and a note counts them.
pub fn gather(dir: &Path, scope: &[String], min: Severity) -> Result<Evidence> {
    let mut files = logs::jsonl_files(dir)?;
    files.sort();
    let sources: Vec<logs::Source> = files
        .into_iter()
        .map(|path| logs::Source { path, start: 0 })
        .collect();
    let logs = logs::read(&sources)?;
    Ok(from_logs(&logs, scope, min))
}

fn from_logs(logs: &Logs, scope: &[String], min: Severity) -> Evidence {
    let model = Model::build(logs, &[]);
    let mut ev = Evidence::default();
    // Exact repeat counts come from the summaries' `sites` when the preload writes them.
    let mut exact: HashMap<(i64, String, i64, String, Frame), u64> = HashMap::new();
    for r in &logs.records {
        if let logs::Kind::Summary(s) = &r.kind {
            let extras: SummaryExtras = serde_json::from_str(&r.raw).unwrap_or_default();
            for (iface, n) in extras.used {
                *ev.used.entry(iface).or_default() += n;
            }
            for sc in extras.sites {
                exact.insert((s.pid, sc.interface, sc.param, sc.check, sc.site), sc.count);
            }
        }
    }
    for (&pid, p) in &model.processes {
        ev.processes.list.push(ProcessFacts {
            pid,
            ppid: p.ppid,
            command: p.command.clone(),
            summary: p.has_summary,
            calls: p.calls,
            violations: p.violations,
        });
    }
    ev.processes.total = ev.processes.list.len() as u64;
    ev.processes.with_summary = ev.processes.list.iter().filter(|p| p.summary).count() as u64;
    for c in &logs.corrupt {
        ev.notes.push(format!("log line skipped: {c}"));
    }
    for m in &model.missing {
        ev.notes.push(format!(
            "{}@{} has no original after libdynchk: its calls failed with ENOSYS",
            m.interface, m.version
        ));
    }
    let symbols = symbolize(model.call_sites());
    // Grouped by rule and by the module of the call site: the same rule broken by the shell and
    // by the program under test are two findings.
    let mut groups: BTreeMap<(bool, GroupKey, String), ViolationGroup> = BTreeMap::new();
    let mut left_out: BTreeMap<String, u64> = BTreeMap::new();
    for d in &model.distinct {
        let v = &d.violation;
        let frame = d.call_site();
        let count = frame
            .and_then(|f| {
                exact
                    .get(&(
                        v.pid,
                        v.interface.clone(),
                        v.param,
                        v.check.clone(),
                        f.clone(),
                    ))
                    .copied()
            })
            .unwrap_or(d.count)
            .max(d.count);
        if v.severity > min {
            *left_out.entry(v.check.clone()).or_default() += count;
            continue;
        }
        let module = frame.map(|f| f.module.clone()).unwrap_or_default();
        let inside = in_scope(&module, scope);
        let g = ViolationGroup {
            interface: v.interface.clone(),
            param: v.param,
            check: v.check.clone(),
            member: v.member.clone(),
            severity: v.severity,
            count: 0,
            site: frame
                .map(|f| symbols.site(f).to_string())
                .unwrap_or_else(|| "(no call site)".into()),
            module,
            process: process_name(&model, d),
            message: v.message.clone(),
        };
        groups
            .entry((inside, g.key(), g.module.clone()))
            .or_insert(g)
            .count += count;
    }
    if !left_out.is_empty() {
        let n: u64 = left_out.values().sum();
        let rules: Vec<String> = left_out.iter().map(|(c, n)| format!("{c} {n}×")).collect();
        ev.notes.push(format!(
            "{n} violation{} less severe than --min-severity {} left out ({})",
            if n == 1 { "" } else { "s" },
            min.name(),
            rules.join(", ")
        ));
    }
    for ((inside, _, _), g) in groups {
        if inside {
            ev.in_scope.push(g);
        } else {
            ev.outside_scope.push(g);
        }
    }
    ev
}

fn process_name(model: &Model, d: &Distinct) -> String {
    let pid = d.violation.pid;
    model
        .processes
        .get(&pid)
        .and_then(|p| p.command.clone())
        .map(|c| format!("{c} (pid {pid})"))
        .unwrap_or_else(|| format!("pid {pid}"))
}

/// Whether a call site's module is one of `scope` (a full path, or a file name).
fn in_scope(module: &str, scope: &[String]) -> bool {
    scope.is_empty()
        || scope.iter().any(|s| {
            module == s
                || Path::new(module)
                    .file_name()
                    .is_some_and(|n| n == s.as_str())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_matches_paths_or_file_names() {
        assert!(in_scope("/usr/bin/foo", &[]));
        assert!(in_scope("/usr/bin/foo", &["/usr/bin/foo".into()]));
        assert!(in_scope("/usr/lib/libfoo.so.1", &["libfoo.so.1".into()]));
        assert!(!in_scope("/usr/bin/dash", &["/usr/bin/foo".into()]));
    }

    #[test]
    fn summary_sites_give_exact_counts_and_used_maps_add_up() {
        let dir = std::env::temp_dir().join(format!("dynchk-evidence-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("dynchk.7.jsonl"),
            concat!(
                r#"{"kind":"start","pid":7,"ppid":1,"exe":"/bin/prog","argv":["prog"]}"#, "\n",
                r#"{"kind":"violation","pid":7,"tid":7,"interface":"close","param":0,"check":"filedescriptor","message":"m","count":1,"backtrace":[{"module":"/bin/prog","offset":"0x10"}]}"#, "\n",
                r#"{"kind":"summary","pid":7,"calls":9,"checked":9,"violations":1000,"used":{"close":1000,"read":2},"sites":[{"site":{"module":"/bin/prog","offset":"0x10"},"interface":"close","param":0,"check":"filedescriptor","count":1000}]}"#, "\n",
            ),
        )
        .unwrap();
        std::fs::write(
            dir.join("dynchk.8.jsonl"),
            concat!(
                r#"{"kind":"start","pid":8,"ppid":7,"exe":"/bin/child","argv":["child"]}"#,
                "\n"
            ),
        )
        .unwrap();
        let ev = gather(&dir, &["other".into()], Severity::Portability).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!((ev.processes.total, ev.processes.with_summary), (2, 1));
        assert!(ev.in_scope.is_empty());
        assert_eq!(ev.outside_scope.len(), 1);
        assert_eq!(ev.outside_scope[0].count, 1000);
        assert_eq!(ev.used["close"], 1000);
    }
}
