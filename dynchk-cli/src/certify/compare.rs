//! Transparency: two runs compared on status, stdout and stderr after the entry's masks, and a
//! short unified diff of what differs.

use super::exec::Ran;
use super::matrix::{Entry, Field};
use regex::bytes::Regex;
use std::fmt::Write;

/// What a masked span is replaced by.
const MASKED: &[u8] = b"<masked>";
/// Diff lines kept per stream.
const MAX_DIFF_LINES: usize = 40;
/// Beyond this many differing lines on each side, the diff is a plain excerpt (no alignment).
const MAX_ALIGN: usize = 2000;

/// A run's comparable parts.
pub struct Observed {
    status: String,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Observed {
    /// Reads what `ran` wrote, with `entry`'s masks applied.
    pub fn of(ran: &Ran, entry: &Entry) -> Observed {
        let read = |p: &std::path::Path| mask(&std::fs::read(p).unwrap_or_default(), &entry.masks);
        let f = ran.facts();
        Observed {
            status: match f.status {
                Some(s) => format!("{} {s}", f.outcome),
                None => f.outcome,
            },
            stdout: read(&ran.stdout),
            stderr: read(&ran.stderr),
        }
    }
}

/// Blanks every match of every mask.
pub fn mask(bytes: &[u8], masks: &[Regex]) -> Vec<u8> {
    masks.iter().fold(bytes.to_vec(), |b, re| {
        re.replace_all(&b, MASKED).into_owned()
    })
}

/// `None` when `a` and `b` agree on `fields`; else a unified diff (`a` is `---`).
pub fn differ(a: &Observed, b: &Observed, fields: &[Field], names: (&str, &str)) -> Option<String> {
    let mut out = String::new();
    for f in fields {
        match f {
            Field::Status if a.status != b.status => {
                let _ = writeln!(
                    out,
                    "status: {} {}, {} {}",
                    names.0, a.status, names.1, b.status
                );
            }
            Field::Stdout if a.stdout != b.stdout => {
                out += &unified("stdout", &a.stdout, &b.stdout, names);
            }
            Field::Stderr if a.stderr != b.stderr => {
                out += &unified("stderr", &a.stderr, &b.stderr, names);
            }
            _ => {}
        }
    }
    (!out.is_empty()).then_some(out)
}

/// A unified diff of two texts with 3 lines of context, at most [`MAX_DIFF_LINES`] lines.
fn unified(stream: &str, a: &[u8], b: &[u8], names: (&str, &str)) -> String {
    let a = String::from_utf8_lossy(a);
    let b = String::from_utf8_lossy(b);
    let a: Vec<&str> = a.lines().collect();
    let b: Vec<&str> = b.lines().collect();
    let prefix = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let suffix = a[prefix..]
        .iter()
        .rev()
        .zip(b[prefix..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (da, db) = (&a[prefix..a.len() - suffix], &b[prefix..b.len() - suffix]);
    let mut ops: Vec<(char, &str)> = Vec::new();
    if da.len() <= MAX_ALIGN && db.len() <= MAX_ALIGN {
        ops = align(da, db);
    } else {
        ops.extend(da.iter().map(|l| ('-', *l)));
        ops.extend(db.iter().map(|l| ('+', *l)));
    }
    let ctx_before = &a[prefix.saturating_sub(3)..prefix];
    let ctx_after = &a[a.len() - suffix..(a.len() - suffix + 3).min(a.len())];
    let mut out = format!(
        "--- {stream} ({})\n+++ {stream} ({})\n@@ -{},{} +{},{} @@\n",
        names.0,
        names.1,
        prefix + 1 - ctx_before.len(),
        da.len() + ctx_before.len() + ctx_after.len(),
        prefix + 1 - ctx_before.len(),
        db.len() + ctx_before.len() + ctx_after.len(),
    );
    let lines = ctx_before
        .iter()
        .map(|l| (' ', *l))
        .chain(ops)
        .chain(ctx_after.iter().map(|l| (' ', *l)));
    let mut n = 0;
    let mut total = 0;
    for (op, line) in lines {
        total += 1;
        if n < MAX_DIFF_LINES {
            let _ = writeln!(out, "{op}{}", truncate(line, 200));
            n += 1;
        }
    }
    if total > n {
        let _ = writeln!(out, "… {} more diff lines", total - n);
    }
    out
}

fn truncate(line: &str, max: usize) -> &str {
    match line.char_indices().nth(max) {
        Some((i, _)) => &line[..i],
        None => line,
    }
}

/// The longest common subsequence of two small line lists as a diff script.
fn align<'a>(a: &[&'a str], b: &[&'a str]) -> Vec<(char, &'a str)> {
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![0u32; (n + 1) * (m + 1)];
    let at = |i: usize, j: usize| i * (m + 1) + j;
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[at(i, j)] = if a[i] == b[j] {
                lcs[at(i + 1, j + 1)] + 1
            } else {
                lcs[at(i + 1, j)].max(lcs[at(i, j + 1)])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut ops = Vec::new();
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if i < n && (j == m || lcs[at(i + 1, j)] >= lcs[at(i, j + 1)]) {
            ops.push(('-', a[i]));
            i += 1;
        } else {
            ops.push(('+', b[j]));
            j += 1;
        }
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(status: &str, out: &str) -> Observed {
        Observed {
            status: status.into(),
            stdout: out.as_bytes().to_vec(),
            stderr: Vec::new(),
        }
    }

    #[test]
    fn masks_blank_what_varies() {
        let re = [Regex::new(r"\b\d{2}:\d{2}:\d{2}\b").unwrap()];
        assert_eq!(mask(b"at 12:01:59 ok", &re), b"at <masked> ok");
    }

    #[test]
    fn the_diff_shows_the_changed_lines_with_context() {
        let all = [Field::Status, Field::Stdout, Field::Stderr];
        let a = obs("exited 0", "1\n2\n3\n4\n5\n6\n");
        let b = obs("exited 0", "1\n2\n3\nfour\n5\n6\n");
        assert!(differ(&a, &a, &all, ("plain", "checked")).is_none());
        let d = differ(&a, &b, &all, ("plain", "checked")).unwrap();
        assert_eq!(
            d,
            "--- stdout (plain)\n+++ stdout (checked)\n@@ -1,6 +1,6 @@\n 1\n 2\n 3\n-4\n+four\n 5\n 6\n"
        );
        let c = obs("exited 1", "1\n2\n3\n4\n5\n6\n");
        assert_eq!(
            differ(&a, &c, &all, ("plain", "checked")).unwrap(),
            "status: plain exited 0, checked exited 1\n"
        );
        assert!(differ(&a, &b, &[Field::Status], ("plain", "checked")).is_none());
    }

    #[test]
    fn long_diffs_are_cut() {
        let a: String = (0..100).map(|i| format!("{i}\n")).collect();
        let d = unified("stdout", a.as_bytes(), b"", ("plain", "checked"));
        assert!(d.ends_with("… 60 more diff lines\n"), "{d}");
    }
}
