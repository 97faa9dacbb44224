//! Reading the JSON Lines logs the preload writes (report-format.md).
//!
//! A log may end in a half-written line (the process was killed mid-write) or hold lines that are
//! not records (a program that wrote to the log fd): such lines are reported by file and line and
//! skipped, never fatal, so that the rest of a crash's evidence is still summarized.

use anyhow::{Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

/// One backtrace frame as written by the preload: a module and an offset in its ELF address space.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Frame {
    /// Path of the executable or shared object.
    pub module: String,
    /// Hexadecimal offset, `0x…`.
    pub offset: String,
}

impl Frame {
    /// The offset as a number, `None` if the preload wrote something unexpected.
    pub fn offset_value(&self) -> Option<u64> {
        let hex = self.offset.strip_prefix("0x")?;
        u64::from_str_radix(hex, 16).ok()
    }
}

/// A `violation` record.
#[derive(Deserialize, Debug, Clone)]
pub struct Violation {
    /// Reporting process.
    pub pid: i64,
    /// Interface called, e.g. `read`.
    pub interface: String,
    /// 0-based parameter position, -1 for the call as a whole.
    pub param: i64,
    /// Parameter name, when the spec has one.
    #[serde(default)]
    pub param_name: Option<String>,
    /// Struct member path for member rules.
    #[serde(default)]
    pub member: Option<String>,
    /// Name of the failed rule.
    pub check: String,
    /// The sentence explaining the failure.
    pub message: String,
    /// How many times this site was seen when the record was written.
    #[serde(default = "one")]
    pub count: u64,
    /// Raw call-site frames, innermost first.
    #[serde(default)]
    pub backtrace: Vec<Frame>,
}

fn one() -> u64 {
    1
}

impl Violation {
    /// `read(arg 1 buf)` or `connect(arg 1 addr.sin_family)`, as the text reports write it.
    pub fn callee(&self) -> String {
        let mut s = format!("{}(", self.interface);
        if self.param >= 0 {
            s += &format!("arg {}", self.param);
        } else {
            s += "call";
        }
        if let Some(n) = &self.param_name {
            s += &format!(" {n}");
        }
        if let Some(m) = &self.member {
            s += &format!(".{m}");
        }
        s + ")"
    }
}

/// A `summary` record: one per process image (an `exec` starts a new one under the same pid).
#[derive(Deserialize, Debug, Clone)]
pub struct Summary {
    /// Reporting process.
    pub pid: i64,
    /// Interposed calls.
    #[serde(default)]
    pub calls: u64,
    /// Calls that were checked.
    #[serde(default)]
    pub checked: u64,
    /// Violations including repeats.
    #[serde(default)]
    pub violations: u64,
    /// Violations including repeats, per check name.
    #[serde(default)]
    pub by_check: BTreeMap<String, u64>,
}

/// Process facts any record may carry (beyond the contract's required fields): the parent pid and
/// the command line, which make the process tree readable.
#[derive(Deserialize, Debug, Clone, Default)]
pub struct ProcessInfo {
    /// Reporting process.
    pub pid: Option<i64>,
    /// Parent process.
    #[serde(default)]
    pub ppid: Option<i64>,
    /// Command line.
    #[serde(default)]
    pub argv: Option<Vec<String>>,
    /// Executable path, used when `argv` is absent.
    #[serde(default)]
    pub exe: Option<String>,
}

/// A `missing` record: an interface whose original the preload could not find.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Missing {
    /// The interface.
    pub interface: String,
    /// The symbol version looked for.
    #[serde(default)]
    pub version: String,
}

/// What a record says, as far as summaries care.
#[derive(Debug, Clone)]
pub enum Kind {
    /// A `violation` record.
    Violation(Violation),
    /// A `summary` record.
    Summary(Summary),
    /// A `missing` record.
    Missing(Missing),
    /// Any other kind (`call`, future kinds): passed through, not summarized.
    Other,
}

/// One valid record.
#[derive(Debug, Clone)]
pub struct Record {
    /// The line exactly as written, for JSON pass-through.
    pub raw: String,
    /// Its meaning.
    pub kind: Kind,
    /// Process facts it carries.
    pub process: ProcessInfo,
}

/// A line that was skipped.
#[derive(Debug, Clone)]
pub struct Corrupt {
    /// Log file.
    pub file: PathBuf,
    /// 1-based line number in that file.
    pub line: usize,
    /// Why it was skipped.
    pub reason: String,
}

impl fmt::Display for Corrupt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: skipped: {}",
            self.file.display(),
            self.line,
            self.reason
        )
    }
}

/// Everything read from a set of logs, in file order then line order.
#[derive(Debug, Default)]
pub struct Logs {
    /// The valid records.
    pub records: Vec<Record>,
    /// The skipped lines.
    pub corrupt: Vec<Corrupt>,
    /// Pids named by `dynchk.PID.jsonl` file names, so that a process that died before writing
    /// anything still appears in the tree.
    pub file_pids: Vec<i64>,
}

/// A log file and the byte offset to start reading at (what an earlier run left in it is skipped).
#[derive(Debug, Clone)]
pub struct Source {
    /// The file.
    pub path: PathBuf,
    /// First byte that belongs to this run.
    pub start: u64,
}

/// Expands the `report` arguments: files as given, directories to their `*.jsonl` files by name.
pub fn expand(inputs: &[PathBuf]) -> Result<Vec<Source>> {
    let mut out = Vec::new();
    for input in inputs {
        let meta =
            std::fs::metadata(input).with_context(|| format!("cannot read {}", input.display()))?;
        if meta.is_dir() {
            let mut files = jsonl_files(input)?;
            if files.is_empty() {
                eprintln!(
                    "dynchk: warning: {} contains no *.jsonl log",
                    input.display()
                );
            }
            files.sort();
            out.extend(files.into_iter().map(|path| Source { path, start: 0 }));
        } else {
            out.push(Source {
                path: input.clone(),
                start: 0,
            });
        }
    }
    Ok(out)
}

/// The `*.jsonl` files of a directory, unsorted.
pub fn jsonl_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let path = entry
            .with_context(|| format!("cannot read {}", dir.display()))?
            .path();
        if path.extension().is_some_and(|e| e == "jsonl") && path.is_file() {
            files.push(path);
        }
    }
    Ok(files)
}

/// Reads and parses all sources. Unreadable files are errors; bad lines are collected in
/// [`Logs::corrupt`].
pub fn read(sources: &[Source]) -> Result<Logs> {
    let mut logs = Logs::default();
    for src in sources {
        let bytes = std::fs::read(&src.path)
            .with_context(|| format!("cannot read {}", src.path.display()))?;
        let start = usize::try_from(src.start)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        let skipped_lines = bytes[..start].iter().filter(|&&b| b == b'\n').count();
        if let Some(pid) = pid_from_name(&src.path) {
            logs.file_pids.push(pid);
        }
        for (i, line) in bytes[start..].split(|&b| b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match parse_line(line) {
                Ok(r) => logs.records.push(r),
                Err(reason) => logs.corrupt.push(Corrupt {
                    file: src.path.clone(),
                    line: skipped_lines + i + 1,
                    reason,
                }),
            }
        }
    }
    Ok(logs)
}

/// `dynchk.4242.jsonl` → 4242.
fn pid_from_name(path: &Path) -> Option<i64> {
    let name = path.file_name()?.to_str()?;
    name.strip_prefix("dynchk.")?
        .strip_suffix(".jsonl")?
        .parse()
        .ok()
}

fn parse_line(line: &[u8]) -> std::result::Result<Record, String> {
    let text = std::str::from_utf8(line).map_err(|_| "not UTF-8 text".to_string())?;
    let raw = text.trim().to_string();
    let value: serde_json::Value =
        serde_json::from_str(&raw).map_err(|e| format!("not a JSON record ({e})"))?;
    let kind_name = value
        .get("kind")
        .and_then(|k| k.as_str())
        .ok_or_else(|| "a JSON value without a \"kind\" string".to_string())?;
    let bad = |e: serde_json::Error| format!("invalid {kind_name} record ({e})");
    let kind = match kind_name {
        "violation" => Kind::Violation(Violation::deserialize(&value).map_err(bad)?),
        "summary" => Kind::Summary(Summary::deserialize(&value).map_err(bad)?),
        "missing" => Kind::Missing(Missing::deserialize(&value).map_err(bad)?),
        _ => Kind::Other,
    };
    let process = ProcessInfo::deserialize(&value).unwrap_or_default();
    Ok(Record { raw, kind, process })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn violation_line_parses_with_contract_fields() {
        let r = parse_line(br#"{"kind":"violation","pid":7,"tid":7,"interface":"read","library":"libc","version":"GLIBC_2.2.5","param":1,"param_name":"buf","check":"RWaddress","value":"0x10","message":"m","count":1,"backtrace":[{"module":"/bin/x","offset":"0x5a3c"}]}"#).unwrap();
        let Kind::Violation(v) = r.kind else {
            panic!("not a violation")
        };
        assert_eq!(v.callee(), "read(arg 1 buf)");
        assert_eq!(v.backtrace[0].offset_value(), Some(0x5a3c));
    }

    #[test]
    fn bad_lines_say_why() {
        assert!(parse_line(b"{\"kind\":\"viol")
            .unwrap_err()
            .contains("not a JSON record"));
        assert!(parse_line(b"[1]").unwrap_err().contains("kind"));
        assert!(parse_line(br#"{"kind":"violation","pid":1}"#)
            .unwrap_err()
            .contains("invalid violation record"));
        assert!(parse_line(b"\xff\xfe").unwrap_err().contains("UTF-8"));
    }

    #[test]
    fn pid_comes_from_the_per_process_file_name_only() {
        assert_eq!(pid_from_name(Path::new("/x/dynchk.4242.jsonl")), Some(4242));
        assert_eq!(pid_from_name(Path::new("/x/other.jsonl")), None);
    }
}
