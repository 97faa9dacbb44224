//! Reading the JSON Lines logs the preload writes (docs/report-format.md; the record types are
//! `dynchk-record`'s reader).
//!
//! A log may end in a half-written line (the process was killed mid-write) or hold lines that are
//! not records (a program that wrote to the log fd): such lines are reported by file and line and
//! skipped, never fatal, so that the rest of a crash's evidence is still summarized.

use anyhow::{Context, Result};
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

use dynchk_record::read::{parse_line as parse_record, printable, Record as Parsed};
pub use dynchk_record::read::{Frame, Missing, Start, Summary, Violation};

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

/// What a record says, as far as summaries care.
#[derive(Debug, Clone)]
pub enum Kind {
    /// A `violation` record.
    Violation(Violation),
    /// A `summary` record.
    Summary(Summary),
    /// A `start` record.
    Start(Start),
    /// A `missing` record.
    Missing(Missing),
    /// Any other kind (`call`, `config`, future kinds): passed through, not summarized.
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
            printable(&self.file.display().to_string()),
            self.line,
            printable(&self.reason)
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
/// An argument that cannot be read is skipped with a warning; an error only when none can be.
pub fn expand(inputs: &[PathBuf]) -> Result<Vec<Source>> {
    let mut out = Vec::new();
    let mut failed = None;
    for input in inputs {
        let meta = match std::fs::metadata(input) {
            Ok(m) => m,
            Err(e) => {
                eprintln!(
                    "dynchk: warning: {}: skipped: cannot read it ({e})",
                    printable(&input.display().to_string())
                );
                failed = Some(input);
                continue;
            }
        };
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
    if let (true, Some(input)) = (out.is_empty(), failed) {
        anyhow::bail!(
            "cannot read {} (and no other log was given)",
            input.display()
        );
    }
    Ok(out)
}

/// The bytes of a log, opened without blocking (a FIFO is refused, never waited on).
fn read_log(path: &Path) -> Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .context("cannot open it")?;
    if !f.metadata().context("cannot stat it")?.is_file() {
        anyhow::bail!("not a regular file");
    }
    let mut bytes = Vec::new();
    f.read_to_end(&mut bytes).context("cannot read it")?;
    Ok(bytes)
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

/// Reads and parses all sources. A file that cannot be read (or is not a regular file) is
/// skipped with a warning; bad lines are collected in [`Logs::corrupt`].
pub fn read(sources: &[Source]) -> Result<Logs> {
    let mut logs = Logs::default();
    for src in sources {
        let bytes = match read_log(&src.path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!(
                    "dynchk: warning: {}: skipped: {}",
                    printable(&src.path.display().to_string()),
                    printable(&format!("{e:#}"))
                );
                continue;
            }
        };
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
    let (parsed, value) = parse_record(line)?;
    let kind = match parsed {
        Parsed::Violation(v) => Kind::Violation(v),
        Parsed::Summary(s) => Kind::Summary(s),
        Parsed::Start(s) => Kind::Start(s),
        Parsed::Missing(m) => Kind::Missing(m),
        Parsed::Config(_) | Parsed::Call(_) | Parsed::Other(_) => Kind::Other,
    };
    let process = ProcessInfo::deserialize(&value).unwrap_or_default();
    // The reader accepted UTF-8: this is the line as written.
    let raw = String::from_utf8_lossy(line).trim().to_string();
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
        assert_eq!(v.callee(), "read(arg1 buf)");
        assert_eq!(v.backtrace[0].offset_value(), Some(0x5a3c));
    }

    #[test]
    fn pid_comes_from_the_per_process_file_name_only() {
        assert_eq!(pid_from_name(Path::new("/x/dynchk.4242.jsonl")), Some(4242));
        assert_eq!(pid_from_name(Path::new("/x/other.jsonl")), None);
    }
}
