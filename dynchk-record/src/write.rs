//! The writer: one function per record kind, filling a [`Buf`] with one line (JSON or text).
//! Callers pass borrowed data and callbacks, so nothing here allocates.

use crate::{iso8601, kind, BlockEvent, Buf, Format, Severity};

/// Longest module path a frame or site names.
pub const MODULE_CAP: usize = 512;

fn json_head(b: &mut Buf<'_>, kind: &str, pid: i32, tid: Option<i32>) {
    b.push(b"{\"kind\":\"");
    b.push(kind.as_bytes());
    b.push(b"\",\"pid\":");
    b.int(pid as i64);
    if let Some(tid) = tid {
        b.push(b",\"tid\":");
        b.int(tid as i64);
    }
}

fn text_head(b: &mut Buf<'_>, pid: i32) {
    b.push(b"dynchk[");
    b.int(pid as i64);
    b.push(b"]: ");
}

/// `,"name":"value"`
fn str_field(b: &mut Buf<'_>, name: &str, value: &[u8]) {
    b.push(b",\"");
    b.push(name.as_bytes());
    b.push(b"\":");
    b.json_quoted(value);
}

/// `,"name":N`
fn int_field(b: &mut Buf<'_>, name: &str, value: i64) {
    b.push(b",\"");
    b.push(name.as_bytes());
    b.push(b"\":");
    b.int(value);
}

/// `{"module":"M","offset":"0x…"}`: a code address as backtraces, sites and heap blocks give it.
fn json_frame(b: &mut Buf<'_>, module: &[u8], offset: u64) {
    b.push(b"{\"module\":");
    b.json_quoted(module);
    b.push(b",\"offset\":\"");
    b.hex(offset);
    b.push(b"\"}");
}

fn uint_field(b: &mut Buf<'_>, name: &str, value: u64) {
    b.push(b",\"");
    b.push(name.as_bytes());
    b.push(b"\":");
    b.uint(value);
}

/// The one text rendering of what was wrong: the message, then the value it was about unless the
/// message already spells it (`(value 12345)` after a message that gives flags in hex).
pub fn detail(b: &mut Buf<'_>, message: &[u8], value: &[u8]) {
    b.text(message);
    if !value.is_empty() && !message.windows(value.len()).any(|w| w == value) {
        b.push(b" (value ");
        b.text(value);
        b.push(b")");
    }
}

/// The one text rendering of "which argument": `read(arg1 buf)`, `connect(arg1 addr.sin_family)`,
/// `readv(arg1 iov[1].iov_base)` (a member path that starts with the parameter's own name, as
/// array elements do, is not prefixed again), `fcntl(call)` for a rule about the whole call.
pub fn callee(
    b: &mut Buf<'_>,
    interface: &str,
    param: i32,
    param_name: &str,
    member: Option<&str>,
) {
    b.text(interface.as_bytes());
    b.push(b"(");
    if param < 0 {
        b.push(b"call");
    } else {
        b.push(b"arg");
        b.int(param as i64);
    }
    let named_by_member = member.is_some_and(|m| {
        m.strip_prefix(param_name)
            .is_some_and(|rest| rest.starts_with('[') || rest.starts_with('.'))
    });
    if !param_name.is_empty() && !named_by_member {
        b.push(b" ");
        b.text(param_name.as_bytes());
    }
    if let Some(m) = member {
        b.push(if named_by_member || param_name.is_empty() {
            b" "
        } else {
            b"."
        });
        b.text(m.as_bytes());
    }
    b.push(b")");
}

/// The backtrace of a violation, resolved frame by frame while the record is written.
pub trait Frames {
    /// Number of frames.
    fn len(&self) -> usize;
    /// Whether there are none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Frame `i`: writes its module path into `name` and returns the path's length and the
    /// offset in the module (an empty path is written as `???`).
    fn frame(&self, i: usize, name: &mut [u8; MODULE_CAP]) -> (usize, u64);
}

/// A `violation` record.
/// A parameter's or member's value with what its C type says about printing it: integers in
/// decimal (signed or not), pointers in hexadecimal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value {
    /// A signed integer (`int`, `off_t`, `pid_t`, …).
    Signed(i64),
    /// An unsigned integer (`size_t`, `mode_t`, `unsigned`, …).
    Unsigned(u64),
    /// A pointer (data or function).
    Pointer(u64),
}

impl Value {
    /// `-1`, `4294967295`, `0x7ffd1234`.
    pub fn write(self, b: &mut Buf<'_>) {
        match self {
            Value::Signed(v) => b.int(v),
            Value::Unsigned(v) => b.uint(v),
            Value::Pointer(v) => b.hex(v),
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Violation<'a> {
    /// Reporting process and thread.
    pub pid: i32,
    /// Reporting thread.
    pub tid: i32,
    /// The interface called (`read`).
    pub interface: &'a str,
    /// Its library's short name (`libc`).
    pub library: &'a str,
    /// Its symbol version (`GLIBC_2.2.5`).
    pub version: &'a str,
    /// 0-based parameter position, -1 for the call as a whole.
    pub param: i32,
    /// The parameter's name (may be empty).
    pub param_name: &'a str,
    /// The struct member's path, for member rules.
    pub member: Option<&'a str>,
    /// The broken rule.
    pub check: &'a str,
    /// How bad it is.
    pub severity: Severity,
    /// The parameter's (or member's) value, spelt as its C type prints.
    pub value: Value,
    /// What was wrong.
    pub message: &'a str,
    /// Where the heap block the fault is about was allocated or freed, when it is one.
    pub block: Option<(BlockEvent, BlockSite<'a>)>,
}

/// A heap block's allocation or free site: the module (path) and offset of the code that called
/// the allocator.
#[derive(Clone, Copy, Debug)]
pub struct BlockSite<'a> {
    /// The calling module's path (`???` when not found).
    pub module: &'a [u8],
    /// The offset of the call in it.
    pub offset: u64,
}

impl Violation<'_> {
    /// Writes the record with at most `frames.len()` backtrace frames.
    pub fn write(&self, b: &mut Buf<'_>, format: Format, frames: &dyn Frames) {
        let mut name = [0u8; MODULE_CAP];
        match format {
            Format::Json => {
                json_head(b, kind::VIOLATION, self.pid, Some(self.tid));
                str_field(b, "interface", self.interface.as_bytes());
                str_field(b, "library", self.library.as_bytes());
                str_field(b, "version", self.version.as_bytes());
                int_field(b, "param", self.param as i64);
                str_field(b, "param_name", self.param_name.as_bytes());
                if let Some(m) = self.member {
                    str_field(b, "member", m.as_bytes());
                }
                str_field(b, "check", self.check.as_bytes());
                str_field(b, "severity", self.severity.name().as_bytes());
                b.push(b",\"value\":\"");
                self.value.write(b);
                b.push(b"\"");
                str_field(b, "message", self.message.as_bytes());
                if let Some((event, site)) = self.block {
                    b.push(b",\"");
                    b.push(event.field().as_bytes());
                    b.push(b"\":");
                    json_frame(b, site.module, site.offset);
                }
                // Repeats of a site are counted in the summary's `sites`, never written again.
                b.push(b",\"count\":1,\"backtrace\":[");
                for i in 0..frames.len() {
                    let (len, off) = frames.frame(i, &mut name);
                    // Leave room to close the record: a cut frame list is better than broken
                    // JSON.
                    if b.room() < len * 6 + 64 {
                        break;
                    }
                    if i > 0 {
                        b.push(b",");
                    }
                    json_frame(b, &name[..len], off);
                }
                b.push(b"]}");
            }
            Format::Text => {
                text_head(b, self.pid);
                callee(b, self.interface, self.param, self.param_name, self.member);
                b.push(b": ");
                b.text(self.check.as_bytes());
                if self.severity != Severity::Error {
                    b.push(b" (");
                    b.push(self.severity.name().as_bytes());
                    b.push(b")");
                }
                b.push(b": ");
                let mut value = [0u8; 32];
                let mut v = Buf::new(&mut value);
                self.value.write(&mut v);
                detail(b, self.message.as_bytes(), v.as_bytes());
                if let Some((event, site)) = self.block {
                    b.push(b"\n    ");
                    b.push(event.words().as_bytes());
                    b.push(b" ");
                    b.text(site.module);
                    b.push(b"+");
                    b.hex(site.offset);
                }
                for i in 0..frames.len() {
                    let (len, off) = frames.frame(i, &mut name);
                    b.push(b"\n    #");
                    b.int(i as i64);
                    b.push(b" ");
                    b.text(&name[..len]);
                    b.push(b"+");
                    b.hex(off);
                }
            }
        }
    }
}

/// One distinct violation site of a process, with its count, for the summary.
#[derive(Clone, Copy, Debug)]
pub struct Site<'a> {
    /// The calling module's path.
    pub module: &'a [u8],
    /// The call site's offset in it.
    pub offset: u64,
    /// The interface called.
    pub interface: &'a str,
    /// 0-based parameter position, -1 for the call as a whole.
    pub param: i32,
    /// The struct member's path, for member rules.
    pub member: Option<&'a str>,
    /// The broken rule.
    pub check: &'a str,
    /// Violations at this site, including the reported one.
    pub count: u64,
}

/// The process totals of a summary.
#[derive(Clone, Copy, Debug, Default)]
pub struct Summary {
    /// Reporting process.
    pub pid: i32,
    /// Interposed calls.
    pub calls: u64,
    /// Calls whose checks ran.
    pub checked: u64,
    /// Violations including repeats.
    pub violations: u64,
    /// Distinct violations (records written).
    pub distinct: u64,
    /// Interfaces called at least once.
    pub interfaces_used: u64,
    /// Calls made by a signal handler that interrupted the checker (counted, not checked).
    pub unchecked_in_handler: u64,
    /// Written just before an exec replaced the process image.
    pub exec: bool,
}

/// The per-name tables of a summary, walked while it is written.
pub trait SummarySource {
    /// Violations per check name.
    fn by_check(&self, f: &mut dyn FnMut(&str, u64));
    /// Calls per interface used.
    fn used(&self, f: &mut dyn FnMut(&str, u64));
    /// Violations suppressed, per rule (the rule's text).
    fn suppressed(&self, f: &mut dyn FnMut(&[u8], u64));
    /// Every distinct violation site.
    fn sites(&self, f: &mut dyn FnMut(&Site<'_>));
}

/// A walk over a table's entries: calls its argument with each key and count.
type Walk<'w> = &'w mut dyn FnMut(&mut dyn FnMut(&[u8], u64));

/// `,"name":{"k":n,…}`, entries dropped (never the closing brace) when the buffer runs short.
fn json_map(b: &mut Buf<'_>, name: &str, walk: Walk<'_>) {
    b.push(b",\"");
    b.push(name.as_bytes());
    b.push(b"\":{");
    let mut first = true;
    walk(&mut |key, n| {
        if b.room() < key.len() * 6 + 32 {
            return;
        }
        if !first {
            b.push(b",");
        }
        first = false;
        b.json_quoted(key);
        b.push(b":");
        b.uint(n);
    });
    b.push(b"}");
}

impl Summary {
    /// Bytes a JSON summary needs for `sites` sites and `names` other table entries (names of
    /// at most 255 bytes), so that the caller can size the buffer.
    pub const fn json_size(sites: usize, names: usize) -> usize {
        1024 + sites * (MODULE_CAP * 6 + 1024) + names * (255 * 6 + 32)
    }

    /// Writes the summary.
    pub fn write(&self, b: &mut Buf<'_>, format: Format, tables: &dyn SummarySource) {
        let totals: [(&str, u64); 5] = [
            ("calls", self.calls),
            ("checked", self.checked),
            ("violations", self.violations),
            ("distinct", self.distinct),
            ("interfaces_used", self.interfaces_used),
        ];
        match format {
            Format::Json => {
                json_head(b, kind::SUMMARY, self.pid, None);
                for (name, v) in totals {
                    uint_field(b, name, v);
                }
                if self.unchecked_in_handler > 0 {
                    uint_field(b, "unchecked_in_handler", self.unchecked_in_handler);
                }
                if self.exec {
                    b.push(b",\"exec\":true");
                }
                json_map(b, "by_check", &mut |f| {
                    tables.by_check(&mut |k, n| f(k.as_bytes(), n))
                });
                json_map(b, "used", &mut |f| {
                    tables.used(&mut |k, n| f(k.as_bytes(), n))
                });
                json_map(b, "suppressed", &mut |f| tables.suppressed(f));
                b.push(b",\"sites\":[");
                let mut first = true;
                tables.sites(&mut |s| {
                    if b.room() < s.module.len() * 6 + 1024 {
                        return;
                    }
                    if !first {
                        b.push(b",");
                    }
                    first = false;
                    b.push(b"{\"site\":");
                    json_frame(b, s.module, s.offset);
                    str_field(b, "interface", s.interface.as_bytes());
                    int_field(b, "param", s.param as i64);
                    if let Some(m) = s.member {
                        str_field(b, "member", m.as_bytes());
                    }
                    str_field(b, "check", s.check.as_bytes());
                    uint_field(b, "count", s.count);
                    b.push(b"}");
                });
                b.push(b"]}");
            }
            Format::Text => {
                text_head(b, self.pid);
                b.push(b"summary:");
                for (name, v) in totals {
                    b.push(b" ");
                    b.push(name.as_bytes());
                    b.push(b"=");
                    b.uint(v);
                }
                if self.unchecked_in_handler > 0 {
                    b.push(b" unchecked_in_handler=");
                    b.uint(self.unchecked_in_handler);
                }
                if self.exec {
                    b.push(b" exec");
                }
                b.push(b" by_check:");
                tables.by_check(&mut |check, n| {
                    b.push(b" ");
                    b.text(check.as_bytes());
                    b.push(b"=");
                    b.uint(n);
                });
            }
        }
    }
}

/// A `start` record: a process image began (JSON only: on a terminal it would be noise).
#[derive(Clone, Copy, Debug)]
pub struct Start<'a> {
    /// The process.
    pub pid: i32,
    /// Its parent.
    pub ppid: i32,
    /// The executable's path.
    pub exe: &'a [u8],
    /// The command line as `/proc/PID/cmdline` holds it: NUL-terminated arguments.
    pub cmdline: &'a [u8],
    /// Seconds since 1970 UTC.
    pub time: i64,
}

impl Start<'_> {
    /// Writes the record; nothing in the text format.
    pub fn write(&self, b: &mut Buf<'_>, format: Format) {
        if format == Format::Text {
            return;
        }
        json_head(b, kind::START, self.pid, None);
        int_field(b, "ppid", self.ppid as i64);
        str_field(b, "exe", self.exe);
        b.push(b",\"argv\":[");
        let args = self.cmdline.strip_suffix(b"\0").unwrap_or(self.cmdline);
        if !args.is_empty() {
            for (i, arg) in args.split(|&c| c == 0).enumerate() {
                // Room for the closing brackets and the time.
                if b.room() < arg.len() * 6 + 64 {
                    break;
                }
                if i > 0 {
                    b.push(b",");
                }
                b.json_quoted(arg);
            }
        }
        b.push(b"],\"time\":\"");
        iso8601(b, self.time);
        b.push(b"\"}");
    }
}

/// A `config` record: a `DYNCHK_*` setting that could not be used as given.
#[derive(Clone, Copy, Debug)]
pub struct ConfigWarning<'a> {
    /// The process.
    pub pid: i32,
    /// The variable (`DYNCHK_FORMAT`).
    pub variable: &'a str,
    /// Its value as given (possibly cut).
    pub value: &'a [u8],
    /// What is used instead.
    pub used: &'a str,
    /// Why.
    pub why: &'a str,
}

impl ConfigWarning<'_> {
    /// Writes the record.
    pub fn write(&self, b: &mut Buf<'_>, format: Format) {
        match format {
            Format::Json => {
                json_head(b, kind::CONFIG, self.pid, None);
                str_field(b, "variable", self.variable.as_bytes());
                str_field(b, "value", self.value);
                str_field(b, "used", self.used.as_bytes());
                str_field(b, "why", self.why.as_bytes());
                b.push(b"}");
            }
            Format::Text => {
                text_head(b, self.pid);
                b.push(b"warning: ");
                b.push(self.variable.as_bytes());
                b.push(b"=");
                b.text(self.value);
                b.push(b": ");
                b.push(self.why.as_bytes());
                b.push(b"; using ");
                b.push(self.used.as_bytes());
            }
        }
    }
}

/// A `missing` record: no library after libdynchk defines an interposed function.
#[derive(Clone, Copy, Debug)]
pub struct Missing<'a> {
    /// The process.
    pub pid: i32,
    /// The thread.
    pub tid: i32,
    /// The interface.
    pub interface: &'a [u8],
    /// The symbol version looked for.
    pub version: &'a [u8],
}

impl Missing<'_> {
    const MESSAGE: &'static str = "no library after libdynchk defines it; calls fail with ENOSYS";

    /// Writes the record.
    pub fn write(&self, b: &mut Buf<'_>, format: Format) {
        match format {
            Format::Json => {
                json_head(b, kind::MISSING, self.pid, Some(self.tid));
                str_field(b, "interface", self.interface);
                str_field(b, "version", self.version);
                str_field(b, "message", Self::MESSAGE.as_bytes());
                b.push(b"}");
            }
            Format::Text => {
                text_head(b, self.pid);
                b.text(self.interface);
                b.push(b"@");
                b.text(self.version);
                b.push(b": ");
                b.push(Self::MESSAGE.as_bytes());
            }
        }
    }
}

/// A `call` record (`DYNCHK_TRACE=1`). The runtime does not see the arguments: `args` is empty.
#[derive(Clone, Copy, Debug)]
pub struct Call<'a> {
    /// The process.
    pub pid: i32,
    /// The thread.
    pub tid: i32,
    /// The interface.
    pub interface: &'a str,
}

impl Call<'_> {
    /// Writes the record.
    pub fn write(&self, b: &mut Buf<'_>, format: Format) {
        match format {
            Format::Json => {
                json_head(b, kind::CALL, self.pid, Some(self.tid));
                str_field(b, "interface", self.interface.as_bytes());
                b.push(b",\"args\":[]}");
            }
            Format::Text => {
                text_head(b, self.pid);
                b.push(b"call ");
                b.text(self.interface.as_bytes());
            }
        }
    }
}
