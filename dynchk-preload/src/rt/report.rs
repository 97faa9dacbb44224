//! Writing records (report-format.md): straight to the log file with raw syscalls, one `write`
//! per record, built on the stack.

use core::ffi::{c_int, CStr};
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering::Relaxed};

use validators::Fault;

use super::backtrace::{self, Module};
use super::config::{self, Format, PATH_CAP};
use super::fmt::Buf;
use super::{stack, stats, sys, Iface};

/// Report descriptors are moved at or above this number, out of the way of programs that
/// expect the lowest free descriptors (or `dup2` onto small numbers).
const HIGH_FD: c_int = 1000;

/// The descriptor reports go to (-1: not open yet) and the identity of the file it had when it
/// was opened: the program may close it or reuse the number, which is checked before each write.
static LOG_FD: AtomicI32 = AtomicI32::new(-1);
static LOG_ID: AtomicU64 = AtomicU64::new(0);
/// The process whose counters these are (a `vfork` child shares them but is not their owner).
static OWNER: AtomicI32 = AtomicI32::new(0);
static SUMMARY_DONE: AtomicBool = AtomicBool::new(false);

fn id_hash((dev, ino): (u64, u64)) -> u64 {
    stats::hash(dev ^ stats::hash(ino)) | 1
}

/// The descriptor to write reports to, (re)opened when needed; -1 when the log cannot be opened.
fn log_fd() -> c_int {
    let Some(template) = config::get().log() else {
        return 2;
    };
    let fd = LOG_FD.load(Relaxed);
    if fd >= 0 && sys::identity(fd).map(id_hash) == Some(LOG_ID.load(Relaxed)) {
        return fd;
    }
    // Not open yet, or no longer ours: the old number belongs to the program now, so it is not
    // closed.
    let mut path = [0u8; PATH_CAP + 16];
    expand(template, sys::getpid(), &mut path);
    let low = sys::open(
        &path,
        libc::O_WRONLY | libc::O_CREAT | libc::O_APPEND | libc::O_CLOEXEC,
        0o644,
    );
    if low < 0 {
        return -1;
    }
    let high = sys::dup_high(low, HIGH_FD);
    let fd = if high >= 0 {
        sys::close(low);
        high
    } else {
        low
    };
    if let Some(id) = sys::identity(fd) {
        LOG_ID.store(id_hash(id), Relaxed);
    }
    LOG_FD.store(fd, Relaxed);
    fd
}

/// Writes `template` with every `%p` replaced by `pid`, NUL-terminated, into `out`.
fn expand(template: &[u8], pid: c_int, out: &mut [u8; PATH_CAP + 16]) {
    let mut b: Buf<{ PATH_CAP + 16 }> = Buf::new();
    let mut i = 0;
    while i < template.len() {
        if template[i..].starts_with(b"%p") {
            b.int(pid as i64);
            i += 2;
        } else {
            b.push(&template[i..i + 1]);
            i += 1;
        }
    }
    let bytes = b.finish_line();
    let n = bytes.len() - 1;
    out[..n].copy_from_slice(&bytes[..n]);
    out[n] = 0;
}

fn emit(line: &[u8]) {
    let fd = log_fd();
    if fd >= 0 {
        sys::write_all(fd, line);
    }
}

fn json_head<const N: usize>(b: &mut Buf<N>, kind: &str, tid: bool) {
    b.push(b"{\"kind\":\"");
    b.push(kind.as_bytes());
    b.push(b"\",\"pid\":");
    b.int(sys::getpid() as i64);
    if tid {
        b.push(b",\"tid\":");
        b.int(sys::gettid() as i64);
    }
}

fn text_head<const N: usize>(b: &mut Buf<N>) {
    b.push(b"dynchk[");
    b.int(sys::getpid() as i64);
    b.push(b"]: ");
}

fn fnv(s: &[u8]) -> u64 {
    s.iter().fold(0xcbf29ce484222325, |h, &c| {
        (h ^ c as u64).wrapping_mul(0x100000001b3)
    })
}

/// What went wrong in one call.
pub struct Violation<'a> {
    /// The interface called.
    pub iface: &'static Iface,
    /// 0-based parameter position, -1 for the call as a whole.
    pub pos: i32,
    /// The parameter's name.
    pub name: &'a str,
    /// The struct member's path, for member rules.
    pub member: Option<&'a str>,
    /// The parameter's (or member's) value as an integer.
    pub value: u64,
    /// The broken rule.
    pub fault: &'a Fault,
}

/// Counts a violation and writes its record the first time its (call site, interface, param,
/// check) is seen. Returns whether it counted (false when suppressed).
pub fn violation(v: &Violation<'_>) -> bool {
    // A small stack (a signal handler's, a tiny thread's) gets a record without frames, or none;
    // this frame stays small, the ones below hold the buffers.
    let room = stack::room();
    if room < stack::FOR_RECORD {
        stats::VIOLATIONS.fetch_add(1, Relaxed);
        return true;
    }
    violation_in(v, room)
}

#[inline(never)]
fn violation_in(v: &Violation<'_>, room: usize) -> bool {
    let cfg = config::get();
    let frames = if room >= stack::FOR_BACKTRACE {
        backtrace::capture(cfg.backtrace.max(1))
    } else {
        backtrace::Frames::none()
    };
    let site = if frames.len > 0 { frames.ips[0] } else { 0 };
    let check = v.fault.check;
    let caller = cfg.needs_caller().then(|| {
        let mut m = Module {
            ip: site,
            base: 0,
            lo: 0,
            hi: 0,
            name: core::ptr::null(),
        };
        backtrace::find(&mut m);
        m
    });
    let mut caller_name = [0u8; 512];
    let caller_len = caller
        .as_ref()
        .map_or(0, |m| backtrace::module_name(m, &mut caller_name));
    let caller = caller.as_ref().map(|_| &caller_name[..caller_len]);
    if cfg.suppressed(v.iface.name, v.pos, v.name, check, caller) {
        return false;
    }
    // From here on the counters, the dedup table and the record stay consistent even if a
    // signal handler would longjmp out of this thread.
    let _blocked = sys::SignalsBlocked::new();
    stats::VIOLATIONS.fetch_add(1, Relaxed);
    stats::BY_CHECK.add(check);
    let key = stats::hash(site as u64)
        ^ stats::hash(v.iface as *const Iface as u64).rotate_left(17)
        ^ (v.pos as u64).wrapping_mul(0x9e3779b97f4a7c15)
        ^ fnv(check.as_bytes()).rotate_left(31)
        ^ v.member.map_or(0, |m| fnv(m.as_bytes()));
    if !stats::SEEN.first(key) {
        return true;
    }
    stats::DISTINCT.fetch_add(1, Relaxed);
    let want = cfg.backtrace.min(frames.len);
    if want > 0 {
        record::<4096>(cfg, v, check, &frames.ips[..want]);
    } else {
        record::<1024>(cfg, v, check, &[]);
    }
    true
}

/// Writes the record of a violation with the frames `ips`, built in an `N`-byte buffer.
#[inline(never)]
fn record<const N: usize>(cfg: &config::Config, v: &Violation<'_>, check: &str, ips: &[usize]) {
    let mut b: Buf<N> = Buf::new();
    match cfg.format {
        Format::Json => {
            json_head(&mut b, "violation", true);
            b.push(b",\"interface\":");
            b.json_quoted(v.iface.name.as_bytes());
            b.push(b",\"library\":");
            b.json_quoted(v.iface.lib.as_bytes());
            b.push(b",\"version\":");
            b.json_quoted(v.iface.version.as_bytes());
            b.push(b",\"param\":");
            b.int(v.pos as i64);
            b.push(b",\"param_name\":");
            b.json_quoted(v.name.as_bytes());
            if let Some(m) = v.member {
                b.push(b",\"member\":");
                b.json_quoted(m.as_bytes());
            }
            b.push(b",\"check\":");
            b.json_quoted(check.as_bytes());
            b.push(b",\"value\":\"");
            b.hex(v.value);
            b.push(b"\",\"message\":");
            b.json_quoted(v.fault.msg.as_str().as_bytes());
            b.push(b",\"count\":1,\"backtrace\":[");
            for (i, &ip) in ips.iter().enumerate() {
                let (name, len, off) = locate(ip);
                // Leave room to close the record: a cut frame list is better than broken JSON.
                if b.room() < len * 2 + 64 {
                    break;
                }
                if i > 0 {
                    b.push(b",");
                }
                b.push(b"{\"module\":");
                b.json_quoted(&name[..len]);
                b.push(b",\"offset\":\"");
                b.hex(off as u64);
                b.push(b"\"}");
            }
            b.push(b"]}");
        }
        Format::Text => {
            text_head(&mut b);
            b.push(v.iface.name.as_bytes());
            b.push(b"(arg");
            b.int(v.pos as i64);
            b.push(b" ");
            b.push(v.name.as_bytes());
            if let Some(m) = v.member {
                b.push(b" member ");
                b.push(m.as_bytes());
            }
            b.push(b"): ");
            b.push(check.as_bytes());
            b.push(b": ");
            b.push(v.fault.msg.as_str().as_bytes());
            for (i, &ip) in ips.iter().enumerate() {
                let (name, len, off) = locate(ip);
                b.push(b"\n    #");
                b.int(i as i64);
                b.push(b" ");
                b.push(&name[..len]);
                b.push(b"+");
                b.hex(off as u64);
            }
        }
    }
    emit(b.finish_line());
}

/// Module path and offset of a code address.
fn locate(ip: usize) -> ([u8; 512], usize, usize) {
    let mut m = Module {
        ip,
        base: 0,
        lo: 0,
        hi: 0,
        name: core::ptr::null(),
    };
    backtrace::find(&mut m);
    let mut name = [0u8; 512];
    let len = backtrace::module_name(&m, &mut name);
    if len == 0 {
        name[..3].copy_from_slice(b"???");
        return (name, 3, ip);
    }
    (name, len, ip - m.base)
}

/// The summary record, once per process: at exit, `_exit`, or before `exec`. Not from a `vfork`
/// child, whose counters are its parent's.
pub fn summary() {
    let pid = sys::getpid();
    let owner = OWNER.load(Relaxed);
    if owner != 0 && owner != pid {
        return;
    }
    if SUMMARY_DONE.swap(true, Relaxed) {
        return;
    }
    let (calls, checked) = stats::calls();
    let mut b: Buf<4096> = Buf::new();
    let fields: [(&str, u64); 5] = [
        ("calls", calls),
        ("checked", checked),
        ("violations", stats::VIOLATIONS.load(Relaxed)),
        ("distinct", stats::DISTINCT.load(Relaxed)),
        ("interfaces_used", stats::USED.len() as u64),
    ];
    match config::get().format {
        Format::Json => {
            json_head(&mut b, "summary", false);
            for (name, value) in fields {
                b.push(b",\"");
                b.push(name.as_bytes());
                b.push(b"\":");
                b.int(value as i64);
            }
            b.push(b",\"by_check\":{");
            let mut first = true;
            stats::BY_CHECK.for_each(|check, n| {
                if b.room() < check.len() * 2 + 32 {
                    return;
                }
                if !first {
                    b.push(b",");
                }
                first = false;
                b.json_quoted(check.as_bytes());
                b.push(b":");
                b.int(n as i64);
            });
            b.push(b"}}");
        }
        Format::Text => {
            text_head(&mut b);
            b.push(b"summary:");
            for (name, value) in fields {
                b.push(b" ");
                b.push(name.as_bytes());
                b.push(b"=");
                b.int(value as i64);
            }
            b.push(b" by_check:");
            stats::BY_CHECK.for_each(|check, n| {
                b.push(b" ");
                b.push(check.as_bytes());
                b.push(b"=");
                b.int(n as i64);
            });
        }
    }
    emit(b.finish_line());
}

/// Says that an original could not be found (its calls fail with `ENOSYS`).
pub fn missing(name: &CStr, version: &CStr) {
    let mut b: Buf<1024> = Buf::new();
    let (name, version) = (name.to_bytes(), version.to_bytes());
    match config::get().format {
        Format::Json => {
            json_head(&mut b, "missing", true);
            b.push(b",\"interface\":");
            b.json_quoted(name);
            b.push(b",\"version\":");
            b.json_quoted(version);
            b.push(
                b",\"message\":\"no library after libdynchk defines it; calls fail with ENOSYS\"}",
            );
        }
        Format::Text => {
            text_head(&mut b);
            b.push(name);
            b.push(b"@");
            b.push(version);
            b.push(b": no library after libdynchk defines it; calls fail with ENOSYS");
        }
    }
    emit(b.finish_line());
}

/// A `call` record (`DYNCHK_TRACE=1`). The runtime does not see the arguments, so `args` is
/// empty.
pub fn trace(iface: &Iface) {
    let mut b: Buf<512> = Buf::new();
    match config::get().format {
        Format::Json => {
            json_head(&mut b, "call", true);
            b.push(b",\"interface\":");
            b.json_quoted(iface.name.as_bytes());
            b.push(b",\"args\":[]}");
        }
        Format::Text => {
            text_head(&mut b);
            b.push(b"call ");
            b.push(iface.name.as_bytes());
        }
    }
    emit(b.finish_line());
}

/// An `exec` failed after its summary was written: the image goes on, and so does counting, from
/// zero, towards a further summary at exit (a reader adds up a pid's summaries, one per image,
/// so nothing is counted twice). Not in a `vfork` child, whose counters are its parent's.
pub fn after_failed_exec() {
    if OWNER.load(Relaxed) == sys::getpid() && SUMMARY_DONE.load(Relaxed) {
        stats::restart_totals();
        SUMMARY_DONE.store(false, Relaxed);
    }
}

/// Claims the counters for this process (library constructor).
pub fn claim() {
    OWNER.store(sys::getpid(), Relaxed);
}

/// A fork child starts afresh: its own pid, counters, summary, and (with `%p` in `DYNCHK_LOG`) its
/// own log file. Runs in the child before any other thread exists.
pub fn after_fork_child() {
    claim();
    stats::reset();
    SUMMARY_DONE.store(false, Relaxed);
    let per_pid = config::get()
        .log()
        .is_some_and(|t| t.windows(2).any(|w| w == b"%p"));
    if per_pid {
        let fd = LOG_FD.swap(-1, Relaxed);
        if fd >= 0 && sys::identity(fd).map(id_hash) == Some(LOG_ID.load(Relaxed)) {
            sys::close(fd);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_template_expands_every_pid_marker() {
        let mut out = [0u8; PATH_CAP + 16];
        expand(b"/tmp/log.%p.%p.json", 4242, &mut out);
        let n = out.iter().position(|&c| c == 0).unwrap();
        assert_eq!(&out[..n], b"/tmp/log.4242.4242.json");
        expand(b"plain", 1, &mut out);
        assert_eq!(&out[..6], b"plain\0");
    }
}
