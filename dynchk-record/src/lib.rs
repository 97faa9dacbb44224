//! The records dynchk writes (docs/report-format.md): kinds, field names, severity, one JSON
//! writer and one text rendering, shared by the preload (no_std, no allocation: the writer fills
//! a caller's buffer) and, with the `read` feature, the serde reader the CLI uses.
//!
//! Field names are a contract other tools parse: add fields freely, never rename or remove one.

#![cfg_attr(not(feature = "read"), no_std)]

mod buf;
mod time;
mod write;

#[cfg(feature = "read")]
pub mod read;

pub use buf::{itoa, Buf};
pub use time::{iso8601, Utc};
pub use write::{
    callee, detail, BlockSite, Call, ConfigWarning, Frames, Missing, Site, Start, Summary,
    SummarySource, Value, Violation, MODULE_CAP,
};

/// Report syntax.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Format {
    /// JSON Lines.
    Json,
    /// One readable line per record.
    Text,
}

/// How bad a violation is.
#[derive(Clone, Copy, PartialEq, Eq, Debug, Default, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "read", derive(serde::Deserialize, serde::Serialize))]
#[cfg_attr(feature = "read", serde(rename_all = "lowercase"))]
pub enum Severity {
    /// The call fails or is undefined on this system.
    #[default]
    Error,
    /// glibc and Linux accept it; POSIX or the LSB do not.
    Portability,
}

impl Severity {
    /// The name records use.
    pub const fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Portability => "portability",
        }
    }

    /// The severity a record, a setting or a results database spells `name`.
    pub fn from_name(name: &[u8]) -> Option<Severity> {
        [Severity::Error, Severity::Portability]
            .into_iter()
            .find(|s| s.name().as_bytes() == name)
    }
}

/// What happened to a heap block at the site a violation record names beside its backtrace.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum BlockEvent {
    /// The (live) block was allocated there: the record's `allocated_at`.
    Allocated,
    /// The block was freed there: the record's `freed_at`.
    Freed,
}

impl BlockEvent {
    /// The record's field for this site.
    pub const fn field(self) -> &'static str {
        match self {
            BlockEvent::Allocated => "allocated_at",
            BlockEvent::Freed => "freed_at",
        }
    }

    /// How text lines say it.
    pub const fn words(self) -> &'static str {
        match self {
            BlockEvent::Allocated => "allocated at",
            BlockEvent::Freed => "freed at",
        }
    }
}

/// Record kinds (the `kind` field).
pub mod kind {
    /// A call broke a rule.
    pub const VIOLATION: &str = "violation";
    /// Totals of one process image, at exit, before exec, or before a fatal signal.
    pub const SUMMARY: &str = "summary";
    /// A process image started (the log was opened).
    pub const START: &str = "start";
    /// A `DYNCHK_*` setting could not be used as given.
    pub const CONFIG: &str = "config";
    /// An interposed function has no original.
    pub const MISSING: &str = "missing";
    /// One interposed call (`DYNCHK_TRACE=1`).
    pub const CALL: &str = "call";
    /// Every kind.
    pub const ALL: [&str; 6] = [VIOLATION, SUMMARY, START, CONFIG, MISSING, CALL];
}
