//! The reports of a run, all from the database's contents: `results.json` (machine-readable, a
//! contract), `report.md` (CI job summaries) and `report.html` (one self-contained page).

use super::db::RunInfo;
use super::verdict::{counts, EntryResult, Verdict};
use anyhow::{Context, Result};
use askama::Template;
use dynchk_record::Severity;
use serde::Serialize;
use std::fmt::Write;
use std::path::Path;

/// `results.json`.
#[derive(Serialize)]
struct Results<'a> {
    run: &'a RunInfo,
    counts: std::collections::BTreeMap<&'static str, usize>,
    entries: &'a [EntryResult],
}

/// Writes results.json, report.md and report.html into `dir`.
pub fn write_all(dir: &Path, run: &RunInfo, entries: &[EntryResult]) -> Result<()> {
    let json = serde_json::to_string_pretty(&Results {
        run,
        counts: counts(entries)
            .into_iter()
            .map(|(v, n)| (v.name(), n))
            .collect(),
        entries,
    })?;
    let write = |name: &str, text: String| {
        let p = dir.join(name);
        std::fs::write(&p, text).with_context(|| format!("cannot write {}", p.display()))
    };
    write("results.json", json + "\n")?;
    write("report.md", markdown(run, entries))?;
    write("report.html", html(run, entries)?)?;
    Ok(())
}

fn ratio_text(r: Option<f64>) -> String {
    r.map(|r| format!("{r:.2}×")).unwrap_or_else(|| "–".into())
}

fn status_text(s: Option<i32>, outcome: &str) -> String {
    match s {
        Some(s) => format!("{outcome} {s}"),
        None => outcome.to_string(),
    }
}

/// The one-line count summary: `12 entries: 9 clean, 2 violations, 1 flaky`.
pub fn count_line(entries: &[EntryResult]) -> String {
    let parts: Vec<String> = counts(entries)
        .into_iter()
        .filter(|&(_, n)| n > 0)
        .map(|(v, n)| format!("{n} {v}"))
        .collect();
    format!("{} entries: {}", entries.len(), parts.join(", "))
}

/// `report.md`.
pub fn markdown(run: &RunInfo, entries: &[EntryResult]) -> String {
    let mut s = format!(
        "# dynchk certify: {}\n\n{} — run {} on {}, dynchk {}{}\n\n",
        run.matrix,
        count_line(entries),
        run.id,
        run.host,
        run.dynchk_version,
        run.shard
            .as_deref()
            .map(|s| format!(", shard {s}"))
            .unwrap_or_default()
    );
    s += "| entry | kind | verdict | violations | processes (with summary) | overhead | reason |\n";
    s += "|---|---|---|---:|---:|---:|---|\n";
    for e in entries {
        let _ = writeln!(
            s,
            "| {} | {} | **{}** | {} | {} ({}) | {} | {} |",
            e.name,
            e.kind,
            e.verdict(),
            e.violation_count(),
            e.processes.total,
            e.processes.with_summary,
            ratio_text(e.ratio),
            e.reason.replace('|', "\\|")
        );
    }
    for e in entries
        .iter()
        .filter(|e| e.diff.is_some() || !e.violations.is_empty())
    {
        let _ = writeln!(s, "\n## {} ({})\n", e.name, e.verdict());
        for v in &e.violations {
            let _ = writeln!(
                s,
                "- `{}` param {} `{}`{}{}: {} × — first at {} in {}",
                v.interface,
                v.param,
                v.check,
                v.member
                    .as_deref()
                    .map(|m| format!(" ({m})"))
                    .unwrap_or_default(),
                portability_mark(v.severity),
                v.count,
                v.site,
                v.process
            );
        }
        if let Some(d) = &e.diff {
            let _ = writeln!(s, "\n```diff\n{}```", d);
        }
    }
    s
}

/// How a `portability` violation is told from an `error` one in the reports.
fn portability_mark(s: Severity) -> &'static str {
    if s == Severity::Portability {
        " [portability]"
    } else {
        ""
    }
}

/// One bar of the overhead chart.
struct Bar {
    name: String,
    x: u32,
    height: u32,
    y: u32,
    label: String,
}

/// One entry's row and details, with everything pre-formatted.
struct Row<'a> {
    e: &'a EntryResult,
    verdict: &'static str,
    violations: u64,
    ratio: String,
    ratio_sort: f64,
    plain: String,
    checked: String,
}

#[derive(Template)]
#[template(path = "certify.html")]
struct Html<'a> {
    run: &'a RunInfo,
    total: usize,
    counts: Vec<(&'static str, usize, f64)>,
    rows: Vec<Row<'a>>,
    bars: Vec<Bar>,
    chart_width: u32,
    chart_height: u32,
    baseline: u32,
}

const CHART_HEIGHT: u32 = 160;
const BAR_STEP: u32 = 14;

/// `report.html`.
pub fn html(run: &RunInfo, entries: &[EntryResult]) -> Result<String> {
    let total = entries.len();
    let counts = counts(entries)
        .into_iter()
        .filter(|&(_, n)| n > 0)
        .map(|(v, n)| (v.name(), n, 100.0 * n as f64 / total.max(1) as f64))
        .collect();
    let rows = entries
        .iter()
        .map(|e| Row {
            e,
            verdict: e.verdict().name(),
            violations: e.violation_count(),
            ratio: ratio_text(e.ratio),
            ratio_sort: e.ratio.unwrap_or(0.0),
            plain: status_text(e.plain.status, &e.plain.outcome),
            checked: status_text(e.checked.status, &e.checked.outcome),
        })
        .collect();
    let with_ratio: Vec<(&str, f64)> = entries
        .iter()
        .filter_map(|e| Some((e.name.as_str(), e.ratio?)))
        .collect();
    let top = with_ratio.iter().map(|&(_, r)| r).fold(2.0_f64, f64::max);
    let scale = |r: f64| ((r / top) * f64::from(CHART_HEIGHT - 20)).round() as u32;
    let bars = with_ratio
        .iter()
        .enumerate()
        .map(|(i, &(name, r))| {
            let height = scale(r).max(1);
            Bar {
                name: name.to_string(),
                x: 4 + i as u32 * BAR_STEP,
                height,
                y: CHART_HEIGHT - height,
                label: format!("{r:.2}"),
            }
        })
        .collect::<Vec<_>>();
    let page = Html {
        run,
        total,
        counts,
        rows,
        chart_width: 8 + bars.len() as u32 * BAR_STEP,
        bars,
        chart_height: CHART_HEIGHT,
        baseline: CHART_HEIGHT - scale(1.0),
    };
    Ok(page.render()?)
}

impl Row<'_> {
    /// CSS class of the verdict badge.
    fn badge(&self) -> &'static str {
        match self.e.verdict() {
            Verdict::Clean => "ok",
            Verdict::Violations => "warn",
            Verdict::Flaky | Verdict::Broken | Verdict::Unchecked => "info",
            Verdict::NotTransparent | Verdict::Crashed | Verdict::Timeout => "bad",
        }
    }
}
