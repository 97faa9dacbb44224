//! The reader (feature `read`): serde types for every record kind, with the same field names as
//! the writer, and [`parse_line`], which says why a line is not a record.

use serde::Deserialize;
use std::collections::BTreeMap;

use crate::{kind, Buf, Severity};

/// One backtrace frame or call site: a module and an offset in its ELF address space.
#[derive(Deserialize, Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Frame {
    /// Path of the executable or shared object.
    pub module: String,
    /// Hexadecimal offset, `0x…`.
    pub offset: String,
}

impl Frame {
    /// The offset as a number, `None` if the log holds something unexpected.
    pub fn offset_value(&self) -> Option<u64> {
        let hex = self.offset.strip_prefix("0x")?;
        u64::from_str_radix(hex, 16).ok()
    }
}

/// A `violation` record.
#[derive(Deserialize, Debug, Clone, PartialEq)]
pub struct Violation {
    /// Reporting process.
    pub pid: i64,
    /// Reporting thread.
    #[serde(default)]
    pub tid: Option<i64>,
    /// Interface called, e.g. `read`.
    pub interface: String,
    /// Its library's short name.
    #[serde(default)]
    pub library: Option<String>,
    /// Its symbol version.
    #[serde(default)]
    pub version: Option<String>,
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
    /// How bad it is (`error` when the log predates the field).
    #[serde(default)]
    pub severity: Severity,
    /// The value as its C type prints: decimal for integers (`-1`, `4294967295`), `0x…` for
    /// pointers.
    #[serde(default)]
    pub value: Option<String>,
    /// The sentence explaining the failure.
    pub message: String,
    /// 1: repeats are in the summary's `sites`.
    #[serde(default = "one")]
    pub count: u64,
    /// Raw call-site frames, innermost first.
    #[serde(default)]
    pub backtrace: Vec<Frame>,
    /// Where the live heap block the fault is about was allocated.
    #[serde(default)]
    pub allocated_at: Option<Frame>,
    /// Where the heap block the fault is about was freed (use after free, double free).
    #[serde(default)]
    pub freed_at: Option<Frame>,
}

fn one() -> u64 {
    1
}

impl Violation {
    /// `read(arg1 buf)`: the one rendering of the argument at fault (control characters escaped).
    pub fn callee(&self) -> String {
        let mut mem = [0u8; 2048];
        let mut b = Buf::new(&mut mem);
        crate::callee(
            &mut b,
            &self.interface,
            i32::try_from(self.param).unwrap_or(-1),
            self.param_name.as_deref().unwrap_or(""),
            self.member.as_deref(),
        );
        String::from_utf8_lossy(b.as_bytes()).into_owned()
    }

    /// The heap block's allocation or free site, when the record names one.
    pub fn block(&self) -> Option<(crate::BlockEvent, &Frame)> {
        let allocated = self.allocated_at.as_ref();
        allocated
            .map(|f| (crate::BlockEvent::Allocated, f))
            .or_else(|| {
                self.freed_at
                    .as_ref()
                    .map(|f| (crate::BlockEvent::Freed, f))
            })
    }

    /// What was wrong, as the preload's text records say it: [`crate::detail`].
    pub fn detail(&self) -> String {
        let mut mem = vec![0u8; 4 * self.message.len() + 64];
        let mut b = Buf::new(&mut mem);
        crate::detail(
            &mut b,
            self.message.as_bytes(),
            self.value.as_deref().unwrap_or("").as_bytes(),
        );
        String::from_utf8_lossy(b.as_bytes()).into_owned()
    }
}

/// One distinct violation site in a summary.
#[derive(Deserialize, Debug, Clone, PartialEq)]
pub struct Site {
    /// Where the call was made.
    pub site: Frame,
    /// The interface called.
    pub interface: String,
    /// 0-based parameter position, -1 for the call as a whole.
    pub param: i64,
    /// Struct member path for member rules.
    #[serde(default)]
    pub member: Option<String>,
    /// The broken rule.
    pub check: String,
    /// Violations at this site.
    pub count: u64,
}

/// A `summary` record: one per process image (an `exec` starts a new one under the same pid).
#[derive(Deserialize, Debug, Clone, PartialEq, Default)]
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
    /// Distinct violations.
    #[serde(default)]
    pub distinct: u64,
    /// Interfaces called at least once.
    #[serde(default)]
    pub interfaces_used: u64,
    /// Calls made by signal handlers that could not be checked.
    #[serde(default)]
    pub unchecked_in_handler: u64,
    /// Written just before an exec replaced the process image.
    #[serde(default)]
    pub exec: bool,
    /// Violations including repeats, per check name.
    #[serde(default)]
    pub by_check: BTreeMap<String, u64>,
    /// Calls per interface.
    #[serde(default)]
    pub used: BTreeMap<String, u64>,
    /// Suppressed violations per suppression rule.
    #[serde(default)]
    pub suppressed: BTreeMap<String, u64>,
    /// Every distinct violation site with its count.
    #[serde(default)]
    pub sites: Vec<Site>,
}

/// A `start` record.
#[derive(Deserialize, Debug, Clone, PartialEq)]
pub struct Start {
    /// The process.
    pub pid: i64,
    /// Its parent.
    #[serde(default)]
    pub ppid: Option<i64>,
    /// Executable path.
    #[serde(default)]
    pub exe: Option<String>,
    /// Command line.
    #[serde(default)]
    pub argv: Vec<String>,
    /// `YYYY-MM-DDTHH:MM:SSZ`.
    #[serde(default)]
    pub time: Option<String>,
}

/// A `config` record.
#[derive(Deserialize, Debug, Clone, PartialEq)]
pub struct Config {
    /// The process.
    pub pid: i64,
    /// The variable.
    pub variable: String,
    /// Its value as given.
    #[serde(default)]
    pub value: String,
    /// What was used instead.
    #[serde(default)]
    pub used: String,
    /// Why.
    #[serde(default)]
    pub why: String,
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

/// A `call` record.
#[derive(Deserialize, Debug, Clone, PartialEq)]
pub struct Call {
    /// The process.
    pub pid: i64,
    /// The interface.
    pub interface: String,
    /// Arguments as text (empty: the runtime does not see them).
    #[serde(default)]
    pub args: Vec<String>,
}

/// A record, by kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// `violation`
    Violation(Violation),
    /// `summary`
    Summary(Summary),
    /// `start`
    Start(Start),
    /// `config`
    Config(Config),
    /// `missing`
    Missing(Missing),
    /// `call`
    Call(Call),
    /// A kind this reader does not know (a newer writer): passed through.
    Other(String),
}

/// Parses one line (without its newline); the error says why it is not a record.
pub fn parse_line(line: &[u8]) -> Result<(Record, serde_json::Value), String> {
    let text = std::str::from_utf8(line).map_err(|_| "not UTF-8 text".to_string())?;
    let value: serde_json::Value =
        serde_json::from_str(text.trim()).map_err(|e| format!("not a JSON record ({e})"))?;
    let record = parse_value(&value)?;
    Ok((record, value))
}

/// The record a parsed JSON value holds.
pub fn parse_value(value: &serde_json::Value) -> Result<Record, String> {
    let kind_name = value
        .get("kind")
        .and_then(|k| k.as_str())
        .ok_or_else(|| "a JSON value without a \"kind\" string".to_string())?;
    let bad = |e: serde_json::Error| format!("invalid {kind_name} record ({e})");
    Ok(match kind_name {
        kind::VIOLATION => Record::Violation(Violation::deserialize(value).map_err(bad)?),
        kind::SUMMARY => Record::Summary(Summary::deserialize(value).map_err(bad)?),
        kind::START => Record::Start(Start::deserialize(value).map_err(bad)?),
        kind::CONFIG => Record::Config(Config::deserialize(value).map_err(bad)?),
        kind::MISSING => Record::Missing(Missing::deserialize(value).map_err(bad)?),
        kind::CALL => Record::Call(Call::deserialize(value).map_err(bad)?),
        other => Record::Other(other.to_string()),
    })
}

/// `s` safe to print on a terminal: control characters as `\xNN` (a crafted log must not clear
/// the screen or forge lines).
pub fn printable(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_control() {
            let n = c as u32;
            if n < 0x100 {
                out.push_str(&format!("\\x{n:02x}"));
            } else {
                out.push_str(&format!("\\u{{{n:x}}}"));
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_say_why() {
        let err = |l: &[u8]| parse_line(l).unwrap_err();
        assert!(err(b"{\"kind\":\"viol").contains("not a JSON record"));
        assert!(err(b"[1]").contains("kind"));
        assert!(err(br#"{"kind":"violation","pid":1}"#).contains("invalid violation record"));
        assert!(err(b"\xff\xfe").contains("UTF-8"));
        assert_eq!(
            parse_line(br#"{"kind":"future","pid":1}"#).unwrap().0,
            Record::Other("future".into())
        );
    }

    #[test]
    fn printable_escapes_c0_c1_and_del() {
        assert_eq!(printable("a\x1b[2J\u{9b}b\x7f"), "a\\x1b[2J\\x9bb\\x7f");
        assert_eq!(printable("é/ok"), "é/ok");
    }
}
