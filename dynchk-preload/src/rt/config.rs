//! The checked program's `DYNCHK_*` settings (report-format.md), read once without allocating
//! and without calling anything the library interposes (the environment is walked directly, the
//! suppression file read with raw syscalls).

use core::cell::UnsafeCell;
use core::ffi::{c_char, CStr};
use core::sync::atomic::{AtomicU8, Ordering};

use super::sys;
use dynchk_record::Severity;

/// What to do after reporting a violation.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum OnViolation {
    /// Forward the call as if nothing happened.
    Continue,
    /// Abort the process after the report is written.
    Abort,
}

pub use dynchk_record::Format;

/// Longest `DYNCHK_LOG` path kept.
pub const PATH_CAP: usize = 1024;
const SUPPRESS_CAP: usize = 16 * 1024;
/// Most suppression rules kept.
pub const RULES_CAP: usize = 256;

/// One suppression rule: byte ranges into the suppression text (empty = any).
#[derive(Clone, Copy, Default)]
struct Rule {
    line: (u16, u16),
    /// Several words (`read:buf fun=main`) or a key other than `caller=`: a rule on the call
    /// site's functions, source lines or modules, which only the CLI can symbolize; it matches
    /// nothing here and the CLI applies it to the records (counting what it suppressed under
    /// the same rule text).
    at_site: bool,
    interface: (u16, u16),
    param: (u16, u16),
    check: (u16, u16),
    caller: (u16, u16),
}

/// A setting that could not be used as given (written as a `config` record).
#[derive(Clone, Copy)]
pub struct Warning {
    /// The variable.
    pub variable: &'static str,
    value: [u8; WARNING_VALUE_CAP],
    value_len: u8,
    /// What is used instead.
    pub used: &'static str,
    /// Why.
    pub why: &'static str,
}

const WARNING_VALUE_CAP: usize = 64;
const WARNINGS_CAP: usize = 12;

impl Warning {
    const EMPTY: Warning = Warning {
        variable: "",
        value: [0; WARNING_VALUE_CAP],
        value_len: 0,
        used: "",
        why: "",
    };

    /// The value as given (its first bytes).
    pub fn value(&self) -> &[u8] {
        &self.value[..self.value_len as usize]
    }
}

/// The settings.
pub struct Config {
    /// `DYNCHK_LOG`, NUL-terminated; empty for standard error.
    log: [u8; PATH_CAP],
    /// `DYNCHK_FORMAT` (or its default).
    pub format: Format,
    /// `DYNCHK_ON_VIOLATION`.
    pub on_violation: OnViolation,
    /// `DYNCHK_BACKTRACE` frames, capped at [`MAX_FRAMES`].
    pub backtrace: usize,
    /// `DYNCHK_TRACE=1`.
    pub trace: bool,
    /// `DYNCHK_MIN_SEVERITY`: less severe violations are neither written nor counted.
    pub min_severity: Severity,
    suppress: [u8; SUPPRESS_CAP],
    rules: [Rule; RULES_CAP],
    nrules: usize,
    warnings: [Warning; WARNINGS_CAP],
    nwarnings: usize,
}

/// Most backtrace frames written per violation.
pub const MAX_FRAMES: usize = 64;

impl Config {
    const DEFAULT: Config = Config {
        log: [0; PATH_CAP],
        format: Format::Text,
        on_violation: OnViolation::Continue,
        backtrace: 16,
        trace: false,
        min_severity: Severity::Portability,
        suppress: [0; SUPPRESS_CAP],
        rules: [Rule {
            line: (0, 0),
            at_site: false,
            interface: (0, 0),
            param: (0, 0),
            check: (0, 0),
            caller: (0, 0),
        }; RULES_CAP],
        nrules: 0,
        warnings: [Warning::EMPTY; WARNINGS_CAP],
        nwarnings: 0,
    };

    fn warn(
        &mut self,
        variable: &'static str,
        value: &[u8],
        used: &'static str,
        why: &'static str,
    ) {
        if self.nwarnings == WARNINGS_CAP {
            return;
        }
        let n = value.len().min(WARNING_VALUE_CAP);
        let w = &mut self.warnings[self.nwarnings];
        *w = Warning {
            variable,
            used,
            why,
            value_len: n as u8,
            ..Warning::EMPTY
        };
        w.value[..n].copy_from_slice(&value[..n]);
        self.nwarnings += 1;
    }

    /// The settings that could not be used as given.
    pub fn warnings(&self) -> &[Warning] {
        &self.warnings[..self.nwarnings]
    }

    /// The `DYNCHK_LOG` template (`%p` not yet replaced), or `None` for standard error.
    pub fn log(&self) -> Option<&[u8]> {
        let len = self.log.iter().position(|&b| b == 0).unwrap_or(0);
        (len > 0).then(|| &self.log[..len])
    }

    /// Fills the settings from `NAME=value` environment entries.
    fn parse<'a>(&mut self, env: impl Iterator<Item = &'a [u8]>) {
        let mut format = None;
        let mut bad_format = false;
        for entry in env {
            let Some(eq) = entry.iter().position(|&b| b == b'=') else {
                continue;
            };
            let (name, value) = (&entry[..eq], &entry[eq + 1..]);
            match name {
                b"DYNCHK_LOG" if value.len() < PATH_CAP => {
                    self.log[..value.len()].copy_from_slice(value);
                    self.log[value.len()] = 0;
                }
                b"DYNCHK_LOG" => self.warn(
                    "DYNCHK_LOG",
                    value,
                    "standard error",
                    "the path is longer than 1023 bytes",
                ),
                b"DYNCHK_FORMAT" => match value {
                    b"json" => format = Some(Format::Json),
                    b"text" => format = Some(Format::Text),
                    _ => {
                        bad_format = true;
                        self.warn(
                            "DYNCHK_FORMAT",
                            value,
                            "",
                            "DYNCHK_FORMAT takes json or text",
                        )
                    }
                },
                b"DYNCHK_ON_VIOLATION" => match value {
                    b"abort" => self.on_violation = OnViolation::Abort,
                    b"continue" => self.on_violation = OnViolation::Continue,
                    _ => self.warn(
                        "DYNCHK_ON_VIOLATION",
                        value,
                        "continue",
                        "DYNCHK_ON_VIOLATION takes continue or abort",
                    ),
                },
                b"DYNCHK_BACKTRACE" => match parse_usize(value) {
                    Some(n) if n > MAX_FRAMES => {
                        self.backtrace = MAX_FRAMES;
                        self.warn(
                            "DYNCHK_BACKTRACE",
                            value,
                            "64",
                            "at most 64 frames are written",
                        )
                    }
                    Some(n) => self.backtrace = n,
                    None => self.warn(
                        "DYNCHK_BACKTRACE",
                        value,
                        "16",
                        "DYNCHK_BACKTRACE takes a number of frames (0 for none)",
                    ),
                },
                b"DYNCHK_MIN_SEVERITY" => match Severity::from_name(value) {
                    Some(s) => self.min_severity = s,
                    None => self.warn(
                        "DYNCHK_MIN_SEVERITY",
                        value,
                        "portability",
                        "DYNCHK_MIN_SEVERITY takes error or portability",
                    ),
                },
                b"DYNCHK_TRACE" => match value {
                    b"1" => self.trace = true,
                    b"0" | b"" => self.trace = false,
                    _ => self.warn("DYNCHK_TRACE", value, "0", "DYNCHK_TRACE takes 1 or 0"),
                },
                b"DYNCHK_SUPPRESS" => self.load_suppressions(value),
                _ => {}
            }
        }
        self.format = format.unwrap_or(if self.log().is_some() {
            Format::Json
        } else {
            Format::Text
        });
        if bad_format {
            let used = match self.format {
                Format::Json => "json",
                Format::Text => "text",
            };
            for w in &mut self.warnings[..self.nwarnings] {
                if w.variable == "DYNCHK_FORMAT" {
                    w.used = used;
                }
            }
        }
    }

    fn load_suppressions(&mut self, path: &[u8]) {
        const VAR: &str = "DYNCHK_SUPPRESS";
        let mut cpath = [0u8; PATH_CAP];
        if path.len() >= PATH_CAP {
            return self.warn(
                VAR,
                path,
                "no suppressions",
                "the path is longer than 1023 bytes",
            );
        }
        cpath[..path.len()].copy_from_slice(path);
        // One byte more than is kept, to tell a file that fits from one that is cut.
        let Some(n) = super::sys::read_file(&cpath, &mut self.suppress[..SUPPRESS_CAP]) else {
            return self.warn(VAR, path, "no suppressions", "the file cannot be read");
        };
        let n = if n == SUPPRESS_CAP {
            self.warn(
                VAR,
                path,
                "its first 16 KiB",
                "the file is longer than 16 KiB",
            );
            SUPPRESS_CAP - 1
        } else {
            n
        };
        if self.parse_rules(n) {
            self.warn(
                VAR,
                path,
                "its first 256 rules",
                "the file has more than 256 rules",
            );
        }
    }

    /// Splits the first `len` bytes of the suppression text into rules; whether some were left
    /// out (more than [`RULES_CAP`]).
    fn parse_rules(&mut self, len: usize) -> bool {
        let mut start = 0;
        while start < len {
            let end = self.suppress[start..len]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(len, |p| start + p);
            let line = trim(&self.suppress, start, end);
            start = end + 1;
            if line.0 == line.1 || self.suppress[line.0] == b'#' {
                continue;
            }
            if self.nrules == RULES_CAP {
                return true;
            }
            let mut rule = Rule {
                line: (line.0 as u16, line.1 as u16),
                at_site: {
                    let text = &self.suppress[line.0..line.1];
                    let words = text.iter().any(u8::is_ascii_whitespace);
                    words || text.contains(&b'=') && !text.starts_with(b"caller=")
                },
                ..Rule::default()
            };
            if self.suppress[line.0..line.1].starts_with(b"caller=") {
                rule.caller = (line.0 as u16 + 7, line.1 as u16);
            } else if !rule.at_site {
                let mut fields = [(line.1 as u16, line.1 as u16); 3];
                let mut f = 0;
                let mut s = line.0;
                for i in line.0..=line.1 {
                    if (i == line.1 || self.suppress[i] == b':') && f < 3 {
                        fields[f] = (s as u16, i as u16);
                        f += 1;
                        s = i + 1;
                    }
                }
                (rule.interface, rule.param, rule.check) = (fields[0], fields[1], fields[2]);
            }
            self.rules[self.nrules] = rule;
            self.nrules += 1;
        }
        false
    }

    /// The index of the first rule that suppresses a violation, if any. `caller` is the call
    /// site's module path, computed only when a `caller=` rule exists (see
    /// [`Config::needs_caller`]).
    pub fn suppressed(
        &self,
        interface: &str,
        pos: i32,
        param: &str,
        check: &str,
        caller: Option<&[u8]>,
    ) -> Option<usize> {
        let text = &self.suppress;
        let field = |r: (u16, u16)| &text[r.0 as usize..r.1 as usize];
        let any = |f: &[u8], v: &[u8]| f.is_empty() || f == b"*" || f == v;
        let mut num = [0u8; 20];
        let pos_text = dynchk_record::itoa(pos as i64, &mut num);
        self.rules[..self.nrules].iter().position(|r| {
            if r.at_site {
                return false;
            }
            if r.caller.1 > r.caller.0 {
                let m = field(r.caller);
                return caller.is_some_and(|c| {
                    c == m || c.ends_with(m) && c[..c.len() - m.len()].ends_with(b"/")
                });
            }
            field(r.interface) == interface.as_bytes()
                && (any(field(r.param), param.as_bytes()) || field(r.param) == pos_text)
                && any(field(r.check), check.as_bytes())
        })
    }

    /// The text of suppression rule `i`, as written in the file.
    pub fn rule_text(&self, i: usize) -> &[u8] {
        let (start, end) = self.rules[i].line;
        &self.suppress[start as usize..end as usize]
    }

    /// The indexes of the suppression rules.
    pub fn rules(&self) -> core::ops::Range<usize> {
        0..self.nrules
    }

    /// Whether some suppression rule needs the caller's module.
    pub fn needs_caller(&self) -> bool {
        self.rules[..self.nrules]
            .iter()
            .any(|r| !r.at_site && r.caller.1 > r.caller.0)
    }
}

fn trim(text: &[u8], mut start: usize, mut end: usize) -> (usize, usize) {
    while start < end && text[start].is_ascii_whitespace() {
        start += 1;
    }
    while end > start && text[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    (start, end)
}

fn parse_usize(s: &[u8]) -> Option<usize> {
    if s.is_empty() || s.len() > 9 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0, |n, &d| n * 10 + (d - b'0') as usize))
}

struct Cell(UnsafeCell<Config>);
// SAFETY: written only by the thread that wins STATE's 0→1 transition, read only after STATE is 2.
unsafe impl Sync for Cell {}

static CONFIG: Cell = Cell(UnsafeCell::new(Config::DEFAULT));
static DEFAULTS: Config = Config::DEFAULT;
static STATE: AtomicU8 = AtomicU8::new(0);

extern "C" {
    static environ: *const *const c_char;
}

/// The settings, read from the environment on first use (the library constructor makes that
/// first use happen early). Callers racing with the first reader get the defaults once rather
/// than waiting: the waiter might be a signal handler interrupting the reader.
pub fn get() -> &'static Config {
    if STATE.load(Ordering::Acquire) == 2 {
        // SAFETY: STATE 2 means the writer is done.
        return unsafe { &*CONFIG.0.get() };
    }
    match STATE.compare_exchange(0, 1, Ordering::Acquire, Ordering::Acquire) {
        Ok(_) => {
            // SAFETY: this thread won the right to write; nobody reads before STATE is 2.
            let cfg = unsafe { &mut *CONFIG.0.get() };
            // SAFETY: environ is the process environment, a NULL-terminated array of C strings.
            let env = unsafe { environ };
            if env.is_null() {
                parse_initial_env(cfg);
            } else {
                // SAFETY: as above.
                cfg.parse(unsafe { env_iter(env) });
            }
            STATE.store(2, Ordering::Release);
            cfg
        }
        // SAFETY: STATE 2 means the writer is done.
        Err(2) => unsafe { &*CONFIG.0.get() },
        Err(_) => &DEFAULTS,
    }
}

/// Reads the settings from `/proc/self/environ` (the environment the process started with), for a
/// checked call made before the C library set `environ` (from the program's `.preinit_array`).
/// Only the `DYNCHK_` entries are kept, NUL-terminated, in a buffer on this (main thread's) stack.
#[inline(never)]
#[cold]
fn parse_initial_env(cfg: &mut Config) {
    const PREFIX: &[u8] = b"DYNCHK_";
    let mut kept = [0u8; 8192];
    let mut len = 0;
    let fd = sys::open(b"/proc/self/environ\0", libc::O_RDONLY | libc::O_CLOEXEC, 0);
    if fd >= 0 {
        const SKIP: usize = usize::MAX;
        // Position in the current entry (SKIP: not kept), and where it starts in `kept`.
        let (mut at, mut start) = (0usize, 0usize);
        let mut chunk = [0u8; 1024];
        loop {
            let args = [fd as usize, chunk.as_mut_ptr() as usize, chunk.len()];
            let n = match sys::call(libc::SYS_read, &args) {
                Ok(n) if n > 0 => n,
                _ => break,
            };
            for &b in &chunk[..n] {
                if b == 0 {
                    if at != SKIP && at >= PREFIX.len() {
                        kept[len] = 0;
                        len += 1;
                    } else {
                        len = start;
                    }
                    (at, start) = (0, len);
                } else if at != SKIP {
                    // Not ours, or too long for what is left: dropped whole.
                    if (at < PREFIX.len() && b != PREFIX[at]) || len + 2 > kept.len() {
                        (at, len) = (SKIP, start);
                    } else {
                        kept[len] = b;
                        len += 1;
                        at += 1;
                    }
                }
            }
        }
        sys::close(fd);
    }
    cfg.parse(kept[..len].split(|&b| b == 0).filter(|e| !e.is_empty()));
}

/// The entries of a `NULL`-terminated `environ`-style array.
unsafe fn env_iter(mut p: *const *const c_char) -> impl Iterator<Item = &'static [u8]> {
    core::iter::from_fn(move || {
        // SAFETY: p walks a NULL-terminated array of NUL-terminated strings.
        unsafe {
            if p.is_null() || (*p).is_null() {
                return None;
            }
            let s = CStr::from_ptr(*p).to_bytes();
            p = p.add(1);
            Some(s)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(env: &[&str]) -> Box<Config> {
        let mut c = Box::new(Config::DEFAULT);
        c.parse(env.iter().map(|s| s.as_bytes()));
        c
    }

    #[test]
    fn defaults_follow_the_log_destination() {
        let c = parsed(&["PATH=/bin"]);
        assert_eq!(c.log(), None);
        assert_eq!(c.format, Format::Text);
        assert_eq!(c.backtrace, 16);
        assert_eq!(c.on_violation, OnViolation::Continue);
        assert!(!c.trace);
        let c = parsed(&["DYNCHK_LOG=/tmp/x.%p"]);
        assert_eq!(c.log(), Some(&b"/tmp/x.%p"[..]));
        assert_eq!(c.format, Format::Json);
    }

    #[test]
    fn every_unusable_setting_is_named_with_what_is_used_instead() {
        let long = format!("DYNCHK_LOG={}", "x".repeat(PATH_CAP + 10));
        let c = parsed(&[
            "DYNCHK_FORMAT=xml",
            "DYNCHK_ON_VIOLATION=explode",
            "DYNCHK_BACKTRACE=abc",
            "DYNCHK_TRACE=yes",
            &long,
            "DYNCHK_SUPPRESS=/nonexistent/rules",
        ]);
        let got: Vec<(&str, &[u8], &str)> = c
            .warnings()
            .iter()
            .map(|w| (w.variable, w.value(), w.used))
            .collect();
        assert_eq!(
            got,
            [
                ("DYNCHK_FORMAT", &b"xml"[..], "text"),
                ("DYNCHK_ON_VIOLATION", b"explode", "continue"),
                ("DYNCHK_BACKTRACE", b"abc", "16"),
                ("DYNCHK_TRACE", b"yes", "0"),
                ("DYNCHK_LOG", &[b'x'; 64][..], "standard error"),
                ("DYNCHK_SUPPRESS", b"/nonexistent/rules", "no suppressions"),
            ]
        );
        assert!(parsed(&["DYNCHK_FORMAT=json", "DYNCHK_BACKTRACE=3"])
            .warnings()
            .is_empty());
        assert_eq!(parsed(&["DYNCHK_BACKTRACE=1000"]).warnings()[0].used, "64");
    }

    #[test]
    fn a_cut_suppression_file_is_named() {
        let dir = std::env::temp_dir().join(format!("dynchk-cfg-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let many = dir.join("many");
        std::fs::write(&many, "read\n".repeat(300)).unwrap();
        let big = dir.join("big");
        std::fs::write(&big, "#".repeat(20_000)).unwrap();
        let env = |p: &std::path::Path| format!("DYNCHK_SUPPRESS={}", p.display());
        let c = parsed(&[&env(&many)]);
        assert_eq!(c.warnings().len(), 1);
        assert_eq!(c.warnings()[0].used, "its first 256 rules");
        let c = parsed(&[&env(&big)]);
        assert_eq!(c.warnings()[0].used, "its first 16 KiB");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn explicit_settings_win() {
        let c = parsed(&[
            "DYNCHK_LOG=/tmp/x",
            "DYNCHK_FORMAT=text",
            "DYNCHK_ON_VIOLATION=abort",
            "DYNCHK_BACKTRACE=1000",
            "DYNCHK_TRACE=1",
        ]);
        assert_eq!(c.format, Format::Text);
        assert_eq!(c.on_violation, OnViolation::Abort);
        assert_eq!(c.backtrace, MAX_FRAMES);
        assert!(c.trace);
        assert_eq!(parsed(&["DYNCHK_BACKTRACE=0"]).backtrace, 0);
        assert_eq!(parsed(&["DYNCHK_BACKTRACE=x"]).backtrace, 16);
    }

    #[test]
    fn suppression_rules_match_interface_param_check_and_caller() {
        let mut c = Box::new(Config::DEFAULT);
        let text = b"# comment\nread:buf:RWaddress\n  open  \nioctl:1\nwrite:*:filedescriptor\ncaller=libfoo.so\nclose fun=main\n";
        c.suppress[..text.len()].copy_from_slice(text);
        c.parse_rules(text.len());
        assert!(c.suppressed("read", 1, "buf", "RWaddress", None).is_some());
        assert!(c.suppressed("read", 1, "buf", "Rdaddress", None).is_none());
        assert!(c
            .suppressed("read", 0, "fd", "filedescriptor", None)
            .is_none());
        assert!(c.suppressed("open", 0, "path", "pathname", None).is_some());
        assert!(
            c.suppressed("ioctl", 1, "request", "ioctl", None).is_some(),
            "param by position"
        );
        assert!(c.suppressed("ioctl", 2, "arg", "RWaddress", None).is_none());
        assert!(c
            .suppressed("write", 0, "fd", "filedescriptor", None)
            .is_some());
        assert!(c
            .suppressed("openat", 0, "fd", "filedescriptor", None)
            .is_none());
        assert!(c.needs_caller());
        assert_eq!(
            c.suppressed("write", 0, "fd", "filedescriptor", None),
            Some(3)
        );
        assert_eq!(c.rule_text(3), b"write:*:filedescriptor");
        assert_eq!(c.rule_text(1), b"open");
        assert!(c
            .suppressed("x", 0, "p", "c", Some(b"/usr/lib/libfoo.so"))
            .is_some());
        assert!(c
            .suppressed("x", 0, "p", "c", Some(b"/usr/lib/libxlibfoo.so"))
            .is_none());
        assert!(c
            .suppressed("x", 0, "p", "c", Some(b"/usr/bin/ls"))
            .is_none());
        // Left to the CLI, which symbolizes: listed (for the counts) but never matched here.
        assert_eq!(c.rule_text(5), b"close fun=main");
        assert!(c
            .suppressed("close", 0, "fd", "filedescriptor", Some(b"/usr/bin/ls"))
            .is_none());
    }
}
