//! Reading the JSON Lines logs the preload writes (docs/report-format.md; the record types are
//! `dynchk-record`'s reader).
//!
//! A log may end in a half-written line (the process was killed mid-write) or hold lines that are
//! not records (a program that wrote to the log fd): such lines are reported by file and line and
//! skipped, never fatal, so that the rest of a crash's evidence is still summarized.

use anyhow::{Context, Result};
use serde::Deserialize;
use std::fmt;
use std::io::{BufRead, Read};
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
    /// The valid records (empty when they were handed over one by one, see [`each`]).
    pub records: Vec<Record>,
    /// The first [`CORRUPT_KEPT`] skipped lines.
    pub corrupt: Vec<Corrupt>,
    /// How many lines were skipped in all.
    pub corrupt_total: usize,
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

/// A log, opened without blocking (a FIFO is refused, never waited on).
fn open_log(path: &Path) -> Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .context("cannot open it")?;
    if !f.metadata().context("cannot stat it")?.is_file() {
        anyhow::bail!("not a regular file");
    }
    Ok(f)
}

/// Skipped lines kept for the warnings; the rest are only counted, so that a log of garbage
/// cannot fill the memory with warnings.
pub const CORRUPT_KEPT: usize = 100;

/// Longest line read as a record: a summary of 4096 sites and every interface takes about 2 MiB.
/// A longer line is skipped (read through, not held).
const LINE_CAP: usize = 64 << 20;

/// The next line of `r` into `line` (without its newline); `None` at the end, `Some(false)` when
/// it was longer than [`LINE_CAP`] (its rest is skipped).
fn next_line(r: &mut impl BufRead, line: &mut Vec<u8>) -> std::io::Result<Option<bool>> {
    line.clear();
    let (mut any, mut fits) = (false, true);
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(any.then_some(fits));
        }
        any = true;
        let (chunk, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], i + 1),
            None => (buf, buf.len()),
        };
        if line.len() + chunk.len() > LINE_CAP {
            fits = false;
        } else if fits {
            line.extend_from_slice(chunk);
        }
        let end = done > chunk.len();
        r.consume(done);
        if end {
            return Ok(Some(fits));
        }
    }
}

/// Reads and parses all sources, handing each record to `f` as it is read: memory stays bounded
/// by what `f` keeps, whatever the size of the logs. A file that cannot be read (or is not a
/// regular file) is skipped with a warning; bad lines are counted in [`Logs::corrupt_total`]
/// (the first ones kept in [`Logs::corrupt`]). An error from `f` stops the reading.
pub fn each(sources: &[Source], mut f: impl FnMut(Record) -> std::io::Result<()>) -> Result<Logs> {
    let mut logs = Logs::default();
    for src in sources {
        match each_of(src, &mut logs, &mut f).map_err(|e| e.downcast::<Stop>()) {
            Ok(()) => {}
            Err(Ok(Stop(e))) => return Err(e.into()),
            Err(Err(e)) => eprintln!(
                "dynchk: warning: {}: skipped: {}",
                printable(&src.path.display().to_string()),
                printable(&format!("{e:#}"))
            ),
        }
    }
    Ok(logs)
}

/// The consumer's error, told apart from the file's own.
#[derive(Debug)]
struct Stop(std::io::Error);

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for Stop {}

fn each_of(
    src: &Source,
    logs: &mut Logs,
    f: &mut impl FnMut(Record) -> std::io::Result<()>,
) -> Result<()> {
    let mut r = std::io::BufReader::with_capacity(1 << 16, open_log(&src.path)?);
    // The lines before `start` (an earlier run's) are counted for the line numbers, not parsed.
    let mut before = (&mut r).take(src.start);
    let mut line_no = 0;
    loop {
        let buf = before.fill_buf().context("cannot read it")?;
        if buf.is_empty() {
            break;
        }
        line_no += buf.iter().filter(|&&b| b == b'\n').count();
        let n = buf.len();
        before.consume(n);
    }
    let mut line = Vec::new();
    if let Some(pid) = pid_from_name(&src.path) {
        logs.file_pids.push(pid);
    }
    while let Some(fits) = next_line(&mut r, &mut line).context("cannot read it")? {
        line_no += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let parsed = if fits {
            parse_line(&line)
        } else {
            Err(format!("longer than {} MiB", LINE_CAP >> 20))
        };
        match parsed {
            Ok(rec) => f(rec).map_err(Stop)?,
            Err(reason) => {
                logs.corrupt_total += 1;
                if logs.corrupt.len() < CORRUPT_KEPT {
                    logs.corrupt.push(Corrupt {
                        file: src.path.clone(),
                        line: line_no,
                        reason,
                    });
                }
            }
        }
    }
    Ok(())
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

/// Reads and parses all sources, keeping every record (see [`each`]).
pub fn read(sources: &[Source]) -> Result<Logs> {
    let mut records = Vec::new();
    let mut logs = each(sources, |r| {
        records.push(r);
        Ok(())
    })?;
    logs.records = records;
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
