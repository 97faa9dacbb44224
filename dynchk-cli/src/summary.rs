//! The grouped view of a set of logs: distinct violations, groups per interface/parameter/check,
//! and the process tree with per-process totals. Text rendering lives here; SARIF in `sarif`.

use crate::logs::{Frame, Kind, Logs, Missing, Record, Violation};
use crate::style::{BAD, GOOD, HEAD, SITE, WARN};
use crate::suppress::Rule;
use crate::symbolize::{symbolize, Symbols};
use dynchk_record::read::printable;
use dynchk_record::Severity;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write;

/// The library's own frames say nothing about the program's bug.
const SELF_MODULE: &str = "libdynchk.so";

/// One call site's violation, with repeats merged.
#[derive(Debug)]
pub struct Distinct {
    /// The first record of this site.
    pub violation: Violation,
    /// Highest count seen for it (later records of a site carry the running count).
    pub count: u64,
    /// The process image it happened in (index into [`Process::images`]).
    image: usize,
}

impl Distinct {
    /// The innermost frame outside libdynchk.so: where the program made the call.
    pub fn call_site(&self) -> Option<&Frame> {
        call_site(&self.violation)
    }
}

fn call_site(v: &Violation) -> Option<&Frame> {
    program_frames(v).next()
}

/// The recorded frames from the call site outwards (the checker's own left out).
fn program_frames(v: &Violation) -> impl Iterator<Item = &Frame> {
    v.backtrace.iter().skip_while(|f| {
        std::path::Path::new(&f.module)
            .file_name()
            .is_some_and(|n| n == SELF_MODULE)
    })
}

/// Violations of one (interface, parameter, check).
#[derive(Debug)]
pub struct Group {
    /// Indexes into [`Model::distinct`], in log order.
    pub members: Vec<usize>,
    /// Occurrences including repeats.
    pub count: u64,
}

/// One process of the tree.
#[derive(Debug, Default)]
pub struct Process {
    /// Parent, when the logs say.
    pub ppid: Option<i64>,
    /// Command line, when known.
    pub command: Option<String>,
    /// Interposed calls (summed over the images an `exec` chain ran under this pid).
    pub calls: u64,
    /// Checked calls.
    pub checked: u64,
    /// Violations including repeats.
    pub violations: u64,
    /// Violations including repeats, per check.
    pub by_check: BTreeMap<String, u64>,
    /// Whether any summary record was written (none: killed, or still running).
    pub has_summary: bool,
    /// Whether a `start` record was written (with no summary: killed or crashed).
    pub started: bool,
    /// The last image called exec and no image started after it: the new program ran without
    /// the checker (`LD_PRELOAD` dropped, or a static or setuid program).
    pub exec_unchecked: bool,
    /// The program images the pid ran, in order, from its `start` records: the forked or
    /// spawned one first, then one per successful exec.
    pub images: Vec<Image>,
}

/// One program image of a process (between two execs).
#[derive(Debug, Default)]
pub struct Image {
    /// `argv` joined, else `exe`.
    pub command: Option<String>,
    /// Interposed calls.
    pub calls: u64,
    /// Checked calls.
    pub checked: u64,
    /// Violations including repeats.
    pub violations: u64,
    /// Whether a summary was written for it.
    pub has_summary: bool,
}

/// The call sites of a group as shown: distinct violations at the same place (a parent and
/// its forked child on one line, one line reached through different callers) are one site.
#[derive(Debug)]
pub struct SiteView<'a> {
    /// The innermost frame outside the checker.
    pub frame: Option<&'a Frame>,
    /// The first violation there.
    pub first: &'a Violation,
    /// Occurrences including repeats.
    pub count: u64,
    /// Processes it happened in.
    pub pids: BTreeSet<i64>,
}

/// The summarized logs.
#[derive(Debug, Default)]
pub struct Model {
    /// Distinct violations in log order.
    pub distinct: Vec<Distinct>,
    /// Groups, ordered by descending count, then name.
    pub groups: Vec<Group>,
    /// Processes by pid.
    pub processes: BTreeMap<i64, Process>,
    /// Interfaces whose original was not found: their calls failed with ENOSYS, so the program did
    /// not behave as without the checker.
    pub missing: BTreeSet<Missing>,
    /// Violations not reported, per suppression rule as written, over all processes.
    pub suppressed: BTreeMap<String, u64>,
}

type SiteKey = (i64, String, i64, String, Option<String>, Vec<Frame>);
/// (pid, interface, param, check, member, innermost frame) of a summary's `sites` entry.
type SiteCount = (i64, String, i64, String, Option<String>, Frame);

impl Model {
    /// Builds the model of logs read whole. `known` names commands the caller knows itself (the
    /// root of a run).
    pub fn build(logs: &Logs, known: &[(i64, String)]) -> Model {
        let mut b = Builder::default();
        for r in &logs.records {
            b.add(r);
        }
        b.finish(&logs.file_pids, known)
    }
}

/// A model built record by record, as the logs are read (`logs::each`): it keeps one entry per
/// distinct violation site and per process, never the records themselves.
#[derive(Default)]
pub struct Builder {
    m: Model,
    sites: HashMap<SiteKey, usize>,
    /// Repeat counts per site, from the summaries (violation records are written once).
    repeats: HashMap<SiteCount, u64>,
    /// Violations less severe than this are left out; the summaries' totals, which count every
    /// violation, then no longer apply, and totals come from the records kept.
    min: Option<Severity>,
}

impl Builder {
    /// A builder that leaves out the violations less severe than `min`.
    pub fn keeping(min: Severity) -> Builder {
        Builder {
            min: Some(min),
            ..Builder::default()
        }
    }

    /// Whether violations are left out: `Portability`, the least severe, keeps them all.
    fn filtered(&self) -> bool {
        self.min.is_some_and(|min| min < Severity::Portability)
    }

    /// Takes one record into account; false when it is left out (a violation less severe than
    /// the minimum).
    pub fn add(&mut self, r: &Record) -> bool {
        if matches!((&r.kind, self.min), (Kind::Violation(v), Some(min)) if v.severity > min) {
            return false;
        }
        let filtered = self.filtered();
        let Builder {
            m, sites, repeats, ..
        } = self;
        {
            if let Some(pid) = r.process.pid {
                let p = m.processes.entry(pid).or_default();
                p.ppid = p.ppid.or(r.process.ppid);
                let cmd = r
                    .process
                    .argv
                    .as_ref()
                    .map(|a| a.join(" "))
                    .or_else(|| r.process.exe.clone());
                if let Some(cmd) = cmd {
                    p.command = Some(match p.command.take() {
                        Some(prev) if prev != cmd => format!("{prev} → {cmd}"),
                        _ => cmd,
                    });
                }
            }
            match &r.kind {
                Kind::Violation(v) => {
                    let key = (
                        v.pid,
                        v.interface.clone(),
                        v.param,
                        v.check.clone(),
                        v.member.clone(),
                        v.backtrace.clone(),
                    );
                    match sites.get(&key) {
                        Some(&i) => m.distinct[i].count = m.distinct[i].count.max(v.count),
                        None => {
                            sites.insert(key, m.distinct.len());
                            m.distinct.push(Distinct {
                                violation: v.clone(),
                                count: v.count,
                                image: m
                                    .processes
                                    .get(&v.pid)
                                    .map_or(0, |p| p.images.len().saturating_sub(1)),
                            });
                        }
                    }
                }
                Kind::Summary(s) => {
                    let p = m.processes.entry(s.pid).or_default();
                    // Saturating: a corrupt or hostile log must not wrap the totals around.
                    p.calls = p.calls.saturating_add(s.calls);
                    p.checked = p.checked.saturating_add(s.checked);
                    if !filtered {
                        p.violations = p.violations.saturating_add(s.violations);
                        for (check, n) in &s.by_check {
                            let total = p.by_check.entry(check.clone()).or_default();
                            *total = total.saturating_add(*n);
                        }
                    }
                    p.has_summary = true;
                    p.exec_unchecked = s.exec;
                    if p.images.is_empty() {
                        p.images.push(Image::default());
                    }
                    if let Some(image) = p.images.last_mut() {
                        image.calls = image.calls.saturating_add(s.calls);
                        image.checked = image.checked.saturating_add(s.checked);
                        image.violations = image.violations.saturating_add(s.violations);
                        image.has_summary = true;
                    }
                    for (rule, n) in &s.suppressed {
                        let total = m.suppressed.entry(rule.clone()).or_default();
                        *total = total.saturating_add(*n);
                    }
                    for site in &s.sites {
                        let key = (
                            s.pid,
                            site.interface.clone(),
                            site.param,
                            site.check.clone(),
                            site.member.clone(),
                            site.site.clone(),
                        );
                        let n = repeats.entry(key).or_default();
                        *n = n.saturating_add(site.count);
                    }
                }
                Kind::Start(s) => {
                    let p = m.processes.entry(s.pid).or_default();
                    p.started = true;
                    p.exec_unchecked = false;
                    let command = if s.argv.is_empty() {
                        s.exe.clone()
                    } else {
                        Some(s.argv.join(" "))
                    };
                    p.images.push(Image {
                        command,
                        ..Image::default()
                    });
                }
                Kind::Missing(x) => {
                    m.missing.insert(x.clone());
                }
                Kind::Other => {}
            }
        }
        true
    }

    /// The model. `file_pids`: processes named by their log file only; `known` as for
    /// [`Model::build`].
    pub fn finish(self, file_pids: &[i64], known: &[(i64, String)]) -> Model {
        let filtered = self.filtered();
        let Builder { mut m, repeats, .. } = self;
        for &pid in file_pids {
            m.processes.entry(pid).or_default();
        }
        for (pid, cmd) in known {
            let p = m.processes.entry(*pid).or_default();
            p.command.get_or_insert_with(|| cmd.clone());
        }
        for d in &mut m.distinct {
            let v = &d.violation;
            if let Some(frame) = v.backtrace.first() {
                let key = (
                    v.pid,
                    v.interface.clone(),
                    v.param,
                    v.check.clone(),
                    v.member.clone(),
                    frame.clone(),
                );
                if let Some(&n) = repeats.get(&key) {
                    d.count = d.count.max(n);
                }
            }
        }
        // A process killed before its summary still has its violation records (and after a
        // severity filter, the records are all that counts).
        for d in &m.distinct {
            if let Some(p) = m.processes.get_mut(&d.violation.pid) {
                if !p.has_summary || filtered {
                    p.violations = p.violations.saturating_add(d.count);
                    let total = p.by_check.entry(d.violation.check.clone()).or_default();
                    *total = total.saturating_add(d.count);
                }
            }
        }
        m.groups = group(&m.distinct);
        m
    }
}

impl Model {
    /// Applies suppression rules to the violation records: the rules the preload leaves to the
    /// CLI (on the frames' functions, source lines and modules; the others find nothing left to
    /// suppress). A suppressed site leaves the groups and the totals, and its count, repeats
    /// included, goes to the rule's suppressed count.
    pub fn suppress(&mut self, rules: &[Rule]) {
        if rules.is_empty() || self.distinct.is_empty() {
            return;
        }
        let symbols = if rules.iter().any(Rule::needs_symbols) {
            symbolize(
                self.distinct
                    .iter()
                    .flat_map(|d| program_frames(&d.violation)),
            )
        } else {
            Symbols::default()
        };
        let mut kept = Vec::new();
        for d in std::mem::take(&mut self.distinct) {
            let frames: Vec<&Frame> = program_frames(&d.violation).collect();
            let Some(rule) = rules
                .iter()
                .find(|r| r.matches(&d.violation, &frames, &symbols))
            else {
                kept.push(d);
                continue;
            };
            let n = self.suppressed.entry(rule.text.clone()).or_default();
            *n = n.saturating_add(d.count);
            let v = &d.violation;
            let Some(p) = self.processes.get_mut(&v.pid) else {
                continue;
            };
            p.violations = p.violations.saturating_sub(d.count);
            if let Some(n) = p.by_check.get_mut(&v.check) {
                *n = n.saturating_sub(d.count);
                if *n == 0 {
                    p.by_check.remove(&v.check);
                }
            }
            if let Some(image) = p.images.get_mut(d.image).filter(|i| i.has_summary) {
                image.violations = image.violations.saturating_sub(d.count);
            }
        }
        self.distinct = kept;
        self.groups = group(&self.distinct);
    }

    /// Violations including repeats, over all processes.
    pub fn total_violations(&self) -> u64 {
        self.processes
            .values()
            .fold(0u64, |n, p| n.saturating_add(p.violations))
    }

    /// ` (filedescriptor 1000, RWaddress 3)`: totals per check over all processes, largest first;
    /// empty when no log says.
    fn by_check_text(&self) -> String {
        let mut totals: BTreeMap<&str, u64> = BTreeMap::new();
        for p in self.processes.values() {
            for (check, n) in &p.by_check {
                let total = totals.entry(check).or_default();
                *total = total.saturating_add(*n);
            }
        }
        let mut v: Vec<(&str, u64)> = totals.into_iter().collect();
        v.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
        if v.is_empty() {
            return String::new();
        }
        let list: Vec<String> = v
            .iter()
            .map(|(c, n)| format!("{} {n}", printable(c)))
            .collect();
        format!(" ({})", list.join(", "))
    }

    /// The call site of every distinct violation and the site of its heap block, if it names
    /// one: the frames the summary and SARIF locate.
    pub fn call_sites(&self) -> impl Iterator<Item = &Frame> {
        let blocks = self.distinct.iter().filter_map(|d| d.violation.block());
        self.distinct
            .iter()
            .filter_map(Distinct::call_site)
            .chain(blocks.map(|(_, f)| f))
    }

    /// The call sites of a group, most frequent first (then in log order).
    pub fn sites(&self, g: &Group) -> Vec<SiteView<'_>> {
        let mut out: Vec<SiteView<'_>> = Vec::new();
        for &i in &g.members {
            let d = &self.distinct[i];
            let frame = d.call_site();
            let at = out
                .iter()
                .position(|s| s.frame.is_some() && s.frame == frame);
            let site = match at {
                Some(k) => &mut out[k],
                None => {
                    out.push(SiteView {
                        frame,
                        first: &d.violation,
                        count: 0,
                        pids: BTreeSet::new(),
                    });
                    out.last_mut().expect("just pushed")
                }
            };
            site.count = site.count.saturating_add(d.count);
            site.pids.insert(d.violation.pid);
        }
        // Stable: equal counts keep log order.
        out.sort_by_key(|s| std::cmp::Reverse(s.count));
        out
    }

    /// The readable summary: groups with every call site up to `max_sites` each, suppressed
    /// counts, then the process tree. Styled with ANSI sequences (see [`crate::style`]); the
    /// writer strips them when colour is off.
    pub fn render_text(&self, symbols: &Symbols, max_sites: usize) -> String {
        let mut out = String::new();
        for x in &self.missing {
            let _ = writeln!(
                out,
                "dynchk: {WARN}warning{WARN:#}: {}@{} has no original after libdynchk: its calls failed with ENOSYS",
                printable(&x.interface),
                printable(&x.version)
            );
        }
        let nproc = self.processes.len();
        let checked = self
            .processes
            .values()
            .fold(0u64, |n, p| n.saturating_add(p.checked));
        let total = self.total_violations();
        if self.distinct.is_empty() && total == 0 {
            let _ = writeln!(
                out,
                "dynchk: {GOOD}no violations{GOOD:#} ({checked} calls checked in {nproc} process{})",
                plural_es(nproc)
            );
            self.render_suppressed(&mut out);
            for (pid, p) in &self.processes {
                if p.started && !p.has_summary {
                    let _ = writeln!(
                        out,
                        "  {pid} {}: started, no summary (killed or crashed)",
                        printable(p.command.as_deref().unwrap_or("(command unknown)"))
                    );
                }
            }
            self.render_unchecked_execs(&mut out);
            return out;
        }
        let nsites: usize = self.groups.iter().map(|g| self.sites(g).len()).sum();
        let _ = writeln!(
            out,
            "dynchk: {BAD}{total} violation{}{BAD:#}{} at {nsites} call site{} in {nproc} process{} ({checked} calls checked)",
            plural(total),
            self.by_check_text(),
            plural(nsites as u64),
            plural_es(nproc)
        );
        for g in &self.groups {
            let first = &self.distinct[g.members[0]].violation;
            let sites = self.sites(g);
            let _ = writeln!(
                out,
                "  {HEAD}{} {}{HEAD:#}: {} at {} call site{}",
                first.callee(),
                printable(&first.check),
                times(g.count),
                sites.len(),
                plural(sites.len() as u64),
            );
            for site in sites.iter().take(max_sites) {
                let at = match site.frame {
                    Some(f) => printable(&symbols.site(f).to_string()),
                    None => "an unknown call site".into(),
                };
                let pids: Vec<String> = site.pids.iter().map(i64::to_string).collect();
                let _ = writeln!(
                    out,
                    "    at {SITE}{at}{SITE:#}: {} (pid{} {})",
                    times(site.count),
                    plural(pids.len() as u64),
                    pids.join(", ")
                );
                let _ = writeln!(out, "        {}", printable(&site.first.detail()));
                if let Some((event, frame)) = site.first.block() {
                    let at = printable(&symbols.site(frame).to_string());
                    let _ = writeln!(out, "        {} {SITE}{at}{SITE:#}", event.words());
                }
            }
            if sites.len() > max_sites {
                let more = sites.len() - max_sites;
                let _ = writeln!(
                    out,
                    "    and {more} more call site{} (--max-sites N shows more)",
                    plural(more as u64)
                );
            }
        }
        self.render_suppressed(&mut out);
        out.push_str("processes:\n");
        self.render_tree(&mut out);
        self.render_unchecked_execs(&mut out);
        out
    }

    /// One suppression rule per group, the group's call sites as comments above it, for a
    /// `--suppress` file.
    pub fn render_suppression_rules(&self, symbols: &Symbols) -> String {
        let mut out = String::new();
        if self.groups.is_empty() {
            return out;
        }
        out.push_str("# suppressions for the violations above (dynchk run --suppress FILE):\n");
        for g in &self.groups {
            let v = &self.distinct[g.members[0]].violation;
            for site in self.sites(g) {
                let at = site.frame.map_or_else(
                    || "an unknown call site".to_string(),
                    |f| printable(&symbols.site(f).to_string()),
                );
                let _ = writeln!(out, "# {}: {at}", times(site.count));
            }
            let param = match v.param_name.as_deref() {
                Some(n) if !n.is_empty() => n.to_string(),
                _ if v.param < 0 => "*".to_string(),
                _ => v.param.to_string(),
            };
            let _ = writeln!(
                out,
                "{}:{param}:{}",
                printable(&v.interface),
                printable(&v.check)
            );
        }
        out
    }

    /// Suppressed violations per rule, most used first, as valgrind lists its used suppressions.
    fn render_suppressed(&self, out: &mut String) {
        let total = self
            .suppressed
            .values()
            .fold(0u64, |n, c| n.saturating_add(*c));
        if total == 0 {
            return;
        }
        let _ = writeln!(
            out,
            "suppressed: {total} violation{} (not counted above)",
            plural(total)
        );
        let mut rules: Vec<(&String, &u64)> =
            self.suppressed.iter().filter(|(_, n)| **n > 0).collect();
        rules.sort_by_key(|(_, n)| std::cmp::Reverse(**n));
        for (rule, n) in rules {
            let _ = writeln!(out, "  {n:>8}  {}", printable(rule));
        }
    }

    /// A note per process whose exec'd program the checker did not reach.
    fn render_unchecked_execs(&self, out: &mut String) {
        for (pid, p) in &self.processes {
            if p.exec_unchecked {
                let _ = writeln!(
                    out,
                    "dynchk: {WARN}note{WARN:#}: {pid} {} exec'd a program that was not checked: LD_PRELOAD was \
                     dropped from its environment (e.g. by `env -i`), or the program is statically \
                     linked or setuid",
                    printable(p.command.as_deref().unwrap_or("(command unknown)"))
                );
            }
        }
    }

    /// Children under their parents, each exec'd image under its process.
    fn render_tree(&self, out: &mut String) {
        let mut children: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        let mut roots = Vec::new();
        for (&pid, p) in &self.processes {
            match p
                .ppid
                .filter(|pp| self.processes.contains_key(pp) && *pp != pid)
            {
                Some(pp) => children.entry(pp).or_default().push(pid),
                None => roots.push(pid),
            }
        }
        // An explicit stack, so that a ppid cycle in a corrupt log cannot recurse forever.
        let mut stack: Vec<(i64, usize)> = roots.into_iter().rev().map(|p| (p, 1)).collect();
        let mut seen = std::collections::HashSet::new();
        while let Some((pid, depth)) = stack.pop() {
            if !seen.insert(pid) {
                continue;
            }
            let p = &self.processes[&pid];
            if p.images.is_empty() {
                let _ = write!(
                    out,
                    "{:indent$}{pid} {}: ",
                    "",
                    printable(p.command.as_deref().unwrap_or("(command unknown)")),
                    indent = depth * 2
                );
                let _ = writeln!(
                    out,
                    "{}",
                    totals(p.has_summary, p.started, p.calls, p.checked, p.violations)
                );
            }
            for (i, image) in p.images.iter().enumerate() {
                let last = i + 1 == p.images.len();
                // Violations of an image killed before its summary are only in the records.
                let violations = if last && !image.has_summary {
                    p.violations
                        .saturating_sub(p.images.iter().map(|x| x.violations).sum())
                } else {
                    image.violations
                };
                let command = printable(
                    image
                        .command
                        .as_deref()
                        .or(p.command.as_deref())
                        .unwrap_or("(command unknown)"),
                );
                let _ = writeln!(
                    out,
                    "{:indent$}{}{command}: {}",
                    "",
                    if i == 0 {
                        format!("{pid} ")
                    } else {
                        "exec ".to_string()
                    },
                    totals(
                        image.has_summary,
                        true,
                        image.calls,
                        image.checked,
                        violations
                    ),
                    indent = (depth + usize::from(i > 0)) * 2
                );
            }
            if let Some(kids) = children.get(&pid) {
                stack.extend(kids.iter().rev().map(|&k| (k, depth + 1)));
            }
        }
    }
}

/// A process's or image's totals, or why there are none.
fn totals(has_summary: bool, started: bool, calls: u64, checked: u64, violations: u64) -> String {
    let v = format!("{violations} violation{}", plural(violations));
    let v = if violations > 0 {
        format!("{BAD}{v}{BAD:#}")
    } else {
        v
    };
    if has_summary {
        format!("{calls} call{}, {checked} checked, {v}", plural(calls))
    } else if started {
        format!("{v} reported; started, no summary (killed or crashed)")
    } else {
        format!("{v} reported, no summary (killed, or exec of a program without the checker)")
    }
}

/// `once`, `1000 times`.
fn times(n: u64) -> String {
    if n == 1 {
        "once".into()
    } else {
        format!("{n} times")
    }
}

fn group(distinct: &[Distinct]) -> Vec<Group> {
    let mut by_key: BTreeMap<(&str, i64, &str), Group> = BTreeMap::new();
    for (i, d) in distinct.iter().enumerate() {
        let v = &d.violation;
        let g = by_key
            .entry((&v.interface, v.param, &v.check))
            .or_insert(Group {
                members: Vec::new(),
                count: 0,
            });
        g.members.push(i);
        g.count = g.count.saturating_add(d.count);
    }
    let mut groups: Vec<Group> = by_key.into_values().collect();
    groups.sort_by_key(|g| std::cmp::Reverse(g.count));
    groups
}

fn plural(n: u64) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn plural_es(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "es"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::{read, Source};

    fn strip(styled: &str) -> String {
        anstream::adapter::strip_str(styled).to_string()
    }

    fn model_of(text: &str) -> Model {
        let path = std::env::temp_dir().join(format!(
            "dynchk-summary-test-{}-{}.jsonl",
            std::process::id(),
            text.len()
        ));
        std::fs::write(&path, text).unwrap();
        let logs = read(&[Source {
            path: path.clone(),
            start: 0,
        }])
        .unwrap();
        std::fs::remove_file(path).unwrap();
        Model::build(&logs, &[])
    }

    const V: &str = r#"{"kind":"violation","pid":10,"interface":"read","param":1,"param_name":"buf","check":"RWaddress","message":"m","count":1,"backtrace":[{"module":"/x/libdynchk.so","offset":"0x10"},{"module":"/bin/p","offset":"0x20"}]}"#;

    #[test]
    fn repeats_of_a_site_merge_and_the_call_site_skips_the_checker() {
        let again = V.replace("\"count\":1", "\"count\":5");
        let other_site = V.replace("0x20", "0x30");
        let m = model_of(&format!("{V}\n{again}\n{other_site}\n"));
        assert_eq!(m.distinct.len(), 2);
        assert_eq!(m.distinct[0].count, 5);
        assert_eq!(m.groups.len(), 1);
        assert_eq!(m.groups[0].count, 6);
        assert_eq!(m.distinct[0].call_site().unwrap().offset, "0x20");
        // No summary record: the violations still count for the process.
        assert_eq!(m.total_violations(), 6);
    }

    #[test]
    fn site_counts_come_from_the_summary() {
        let v = V.replace(r#"[{"module":"/x/libdynchk.so","offset":"0x10"},"#, "[");
        let summary = r#"{"kind":"summary","pid":10,"calls":9,"checked":9,"violations":7,"by_check":{"RWaddress":7},"sites":[{"site":{"module":"/bin/p","offset":"0x20"},"interface":"read","param":1,"check":"RWaddress","count":7}]}"#;
        let m = model_of(&format!("{v}\n{summary}\n"));
        assert_eq!(m.distinct[0].count, 7);
        let text = strip(&m.render_text(&Symbols::default(), 10));
        assert!(
            text.contains("read(arg1 buf) RWaddress: 7 times at 1 call site\n    at /bin/p+0x20: 7 times (pid 10)\n        m\n"),
            "{text}"
        );
    }

    #[test]
    fn totals_saturate_instead_of_wrapping() {
        let big = r#"{"kind":"summary","pid":1,"calls":18446744073709551615,"checked":18446744073709551615,"violations":18446744073709551615}"#;
        let m = model_of(&format!(
            "{big}\n{}\n",
            big.replace("\"pid\":1", "\"pid\":2")
        ));
        assert_eq!(m.total_violations(), u64::MAX);
    }

    #[test]
    fn started_without_summary_is_killed_or_crashed() {
        let m = model_of(concat!(
            r#"{"kind":"start","pid":5,"ppid":1,"exe":"/bin/sleep","argv":["sleep","9"],"time":"2026-12-01T09:00:00Z"}"#,
            "\n"
        ));
        let text = strip(&m.render_text(&Symbols::default(), 10));
        assert!(
            text.contains("5 sleep 9: started, no summary (killed or crashed)"),
            "{text}"
        );
    }

    #[test]
    fn clean_logs_give_the_one_line_summary() {
        let m = model_of(concat!(
            r#"{"kind":"summary","pid":1,"calls":5,"checked":4,"violations":0}"#,
            "\n",
            r#"{"kind":"summary","pid":2,"calls":3,"checked":3,"violations":0}"#,
            "\n"
        ));
        assert_eq!(
            strip(&m.render_text(&Symbols::default(), 10)),
            "dynchk: no violations (7 calls checked in 2 processes)\n"
        );
    }

    #[test]
    fn missing_originals_are_warned_about_once() {
        let line = r#"{"kind":"missing","pid":1,"tid":1,"interface":"foo","version":"GLIBC_2.99","message":"m"}"#;
        let m = model_of(&format!("{line}\n{line}\n"));
        let text = strip(&m.render_text(&Symbols::default(), 10));
        assert_eq!(
            text.matches("foo@GLIBC_2.99 has no original").count(),
            1,
            "{text}"
        );
    }

    #[test]
    fn tree_nests_children_under_parents() {
        let m = model_of(concat!(
            r#"{"kind":"summary","pid":1,"calls":1,"checked":1,"violations":0,"argv":["sh","-c","a|b"]}"#,
            "\n",
            r#"{"kind":"summary","pid":3,"ppid":1,"calls":1,"checked":1,"violations":1,"by_check":{"filedescriptor":1},"exe":"/bin/b"}"#,
            "\n",
            r#"{"kind":"violation","pid":3,"interface":"close","param":0,"check":"filedescriptor","message":"m","count":1}"#,
            "\n",
        ));
        let text = strip(&m.render_text(&Symbols::default(), 10));
        assert!(
            text.contains("processes:\n  1 sh -c a|b: 1 call, 1 checked, 0 violations\n    3 /bin/b: 1 call, 1 checked, 1 violation\n"),
            "{text}"
        );
        assert!(
            text.contains("dynchk: 1 violation (filedescriptor 1) at 1 call site in 2 processes")
                && text.contains("close(arg0) filedescriptor: once at 1 call site\n"),
            "{text}"
        );
    }
}
