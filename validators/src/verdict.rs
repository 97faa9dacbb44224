//! The result type every validator returns.

use core::fmt;

pub use dynchk_record::{BlockEvent, Severity};

/// `Ok(())` when the value obeys the rule, else the [`Fault`] to report.
pub type Verdict = Result<(), Fault>;

/// A broken rule: the report's `check` name, the sentence that explains it and how bad it is.
#[derive(Clone, Copy)]
pub struct Fault {
    /// The report-format name of the rule (`filedescriptor`, `RWaddress`, …).
    pub check: &'static str,
    /// What was wrong, in a C programmer's words, without the parameter's name.
    pub msg: Msg,
    /// `error` unless the rule says otherwise ([`Fault::severity`]).
    pub severity: Severity,
    /// The member of the parameter's struct that is wrong, when a parameter's validator looks
    /// inside it ([`Fault::member`]: `sa_family` of a `sockaddr`).
    pub member: Option<&'static str>,
    /// For a fault about a heap block: where it was allocated (live) or freed, as the code
    /// address that called the allocator ([`Fault::block`]).
    pub block: Option<(BlockEvent, usize)>,
}

impl Fault {
    /// A fault whose message is built with `format_args!`; text beyond [`Msg::CAPACITY`] is cut.
    ///
    /// ```
    /// let f = validators::Fault::new("filedescriptor", format_args!("{} is negative", -1));
    /// assert_eq!(f.msg.as_str(), "-1 is negative");
    /// ```
    pub fn new(check: &'static str, args: fmt::Arguments<'_>) -> Fault {
        let mut msg = Msg::new();
        let _ = fmt::write(&mut msg, args);
        Fault {
            check,
            msg,
            severity: Severity::Error,
            member: None,
            block: None,
        }
    }

    /// The same fault with another severity (a rule that only POSIX or the LSB forbid is
    /// `Severity::Portability`).
    pub fn severity(self, severity: Severity) -> Fault {
        Fault { severity, ..self }
    }

    /// The same fault naming where its heap block was allocated or freed (`None`: not known).
    pub fn block(self, block: Option<(BlockEvent, usize)>) -> Fault {
        Fault { block, ..self }
    }

    /// The same fault about `member` of the parameter (reported as the record's `member`).
    pub fn member(self, member: &'static str) -> Fault {
        Fault {
            member: Some(member),
            ..self
        }
    }
}

impl fmt::Debug for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.check, self.msg.as_str())
    }
}

/// Fixed-capacity UTF-8 text on the stack: reports are built without allocating.
#[derive(Clone, Copy)]
pub struct Msg {
    buf: [u8; Msg::CAPACITY],
    len: u8,
}

impl Msg {
    /// Bytes a message can hold; longer text is cut at a character boundary.
    pub const CAPACITY: usize = 200;

    /// An empty message.
    pub const fn new() -> Msg {
        Msg {
            buf: [0; Msg::CAPACITY],
            len: 0,
        }
    }

    /// The text written so far.
    pub fn as_str(&self) -> &str {
        // Only whole UTF-8 characters are ever copied in (see write_str).
        core::str::from_utf8(&self.buf[..self.len as usize]).unwrap_or("")
    }
}

impl Default for Msg {
    fn default() -> Self {
        Msg::new()
    }
}

impl fmt::Write for Msg {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let room = Msg::CAPACITY - self.len as usize;
        let mut take = s.len().min(room);
        while !s.is_char_boundary(take) {
            take -= 1;
        }
        let start = self.len as usize;
        self.buf[start..start + take].copy_from_slice(&s.as_bytes()[..take]);
        self.len += take as u8;
        Ok(())
    }
}
