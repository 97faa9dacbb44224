//! Writing records (docs/report-format.md, rendered by `dynchk-record`): straight to the log
//! file with raw syscalls, one `write` per record, built on the stack (the summary in a mapping of
//! its own size).

use core::ffi::{c_int, CStr};
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering::Relaxed};

use validators::Fault;

use dynchk_record::{self as record, Buf, Value};

use super::backtrace::{self, Module};
use super::config::{self, PATH_CAP};
use super::{stack, stats, sys, thread, IfaceRef};

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

/// Whether `fd` is still the log this process opened. Under a seccomp filter that forbids
/// `fstat` it cannot be told and is trusted (the log sits high, out of the way of reused numbers).
fn still_ours(fd: c_int) -> bool {
    fd >= 0
        && match sys::identity(fd) {
            Ok(id) => id_hash(id) == LOG_ID.load(Relaxed),
            Err(e) => e == validators::seccomp::DENIED,
        }
}

/// The descriptor reports go to, (re)opened when needed; -1 when there is none. The log is
/// opened eagerly ([`open_eagerly`]), so that a program that later switches user, closes its
/// descriptors or runs out of them keeps its reports; it is reopened only when the program
/// closed it.
fn log_fd() -> c_int {
    let fd = LOG_FD.load(Relaxed);
    if still_ours(fd) {
        return fd;
    }
    reopen()
}

/// [`log_fd`]'s slow path, kept out of line: it holds a path buffer, and the reporting path runs
/// on stacks as small as an 8 KiB alternate signal stack.
#[cold]
#[inline(never)]
fn reopen() -> c_int {
    // Not open yet, or no longer ours: the old number belongs to the program now, so it is not
    // closed.
    let fd = match config::get().log() {
        // Standard error: a private duplicate, so that a program closing descriptor 2 before it
        // exits does not lose its summary.
        None => match sys::dup_high(2, high_fd_floor()) {
            fd if fd >= 0 => fd,
            _ => return 2,
        },
        Some(template) => match open_file(template) {
            fd if fd >= 0 => move_high(fd),
            _ => return -1,
        },
    };
    if let Ok(id) = sys::identity(fd) {
        LOG_ID.store(id_hash(id), Relaxed);
    }
    LOG_FD.store(fd, Relaxed);
    announce(fd);
    fd
}

/// Opens the log file safely: never through a symbolic link, never blocking (a FIFO), a
/// per-process file created exclusively, mode 0600 (reports hold command lines and paths), and
/// only a regular file owned by this process's user is kept.
fn open_file(template: &[u8]) -> c_int {
    let mut path = [0u8; PATH_CAP + 16];
    expand(template, sys::getpid(), &mut path);
    let flags =
        libc::O_WRONLY | libc::O_APPEND | libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_NONBLOCK;
    let per_pid = template.windows(2).any(|w| w == b"%p");
    let mut fd = -1;
    if per_pid {
        fd = sys::open(&path, flags | libc::O_CREAT | libc::O_EXCL, 0o600);
    }
    if fd < 0 {
        // A shared log, or this pid's file from before an exec (same process, new image).
        fd = sys::open(&path, flags | libc::O_CREAT, 0o600);
    }
    if fd < 0 {
        return -1;
    }
    if !sys::own_regular_file(fd) {
        sys::close(fd);
        return -1;
    }
    fd
}

/// The lowest number a report descriptor may take: [`HIGH_FD`], or the top of a lower
/// descriptor limit.
fn high_fd_floor() -> c_int {
    HIGH_FD.min(sys::fd_limit().saturating_sub(1).max(3))
}

/// Moves `fd` to the highest free number up to [`high_fd_floor`], out of the way of programs
/// that expect the lowest free descriptors (with `RLIMIT_NOFILE=8` the log takes 7, not 3).
fn move_high(fd: c_int) -> c_int {
    let mut floor = high_fd_floor();
    while floor > fd {
        let high = sys::dup_high(fd, floor);
        if high >= 0 {
            sys::close(fd);
            return high;
        }
        floor -= 1;
    }
    fd
}

/// Whether this process image wrote its `start` record.
static STARTED: AtomicBool = AtomicBool::new(false);

/// Whether this process image wrote its `config` warnings.
static WARNED: AtomicBool = AtomicBool::new(false);

/// The `start` record, once per process image (fork children included), and the `config`
/// warnings, once per image, to a freshly opened log.
fn announce(fd: c_int) {
    let cfg = config::get();
    if !WARNED.swap(true, Relaxed) {
        for w in cfg.warnings() {
            let record = record::ConfigWarning {
                pid: sys::getpid(),
                variable: w.variable,
                value: w.value(),
                used: w.used,
                why: w.why,
            };
            let mut mem = [0u8; 1024];
            let mut b = Buf::new(&mut mem);
            record.write(&mut b, cfg.format);
            sys::write_all(fd, b.finish_line());
        }
    }
    if cfg.format != record::Format::Json || STARTED.swap(true, Relaxed) {
        return;
    }
    // Off the stack: this runs in fork children, on whatever thread forked.
    const CMDLINE: usize = 16 * 1024;
    let Some(mut map) = sys::Mapping::new(CMDLINE + record::MODULE_CAP + 6 * CMDLINE + 4096) else {
        return;
    };
    let (cmdline, rest) = map.bytes().split_at_mut(CMDLINE);
    let (exe, out) = rest.split_at_mut(record::MODULE_CAP);
    let n = sys::read_file(b"/proc/self/cmdline\0", cmdline).unwrap_or(0);
    let exe_len = sys::readlink(b"/proc/self/exe\0", exe);
    let start = record::Start {
        pid: sys::getpid(),
        ppid: sys::getppid(),
        exe: &exe[..exe_len],
        cmdline: &cmdline[..n],
        time: sys::wall_clock(),
    };
    let mut b = Buf::new(out);
    start.write(&mut b, record::Format::Json);
    sys::write_all(fd, b.finish_line());
}

/// Library constructor: the log is opened (and the `start` record written) before the program
/// can switch user or close descriptors.
pub fn open_eagerly() {
    log_fd();
}

/// Writes `template` with every `%p` replaced by `pid`, NUL-terminated, into `out`.
fn expand(template: &[u8], pid: c_int, out: &mut [u8; PATH_CAP + 16]) {
    let mut mem = [0u8; PATH_CAP + 16];
    let mut b = Buf::new(&mut mem);
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

/// Builds one record in a stack buffer of `N` bytes and writes it.
// Never inlined: a caller that picks the buffer size by the stack left must not hold both sizes.
#[inline(never)]
fn write_record<const N: usize>(f: impl FnOnce(&mut Buf<'_>)) {
    let mut mem = [0u8; N];
    let mut b = Buf::new(&mut mem);
    f(&mut b);
    emit(b.finish_line());
}

fn fnv(s: &[u8]) -> u64 {
    s.iter().fold(0xcbf29ce484222325, |h, &c| {
        (h ^ c as u64).wrapping_mul(0x100000001b3)
    })
}

/// What went wrong in one call.
pub struct Violation<'a> {
    /// The interface called.
    pub iface: IfaceRef,
    /// 0-based parameter position, -1 for the call as a whole.
    pub pos: i32,
    /// The parameter's name.
    pub name: &'a str,
    /// The struct member's path, for member rules.
    pub member: Option<&'a str>,
    /// The parameter's (or member's) value.
    pub value: Value,
    /// The broken rule.
    pub fault: &'a Fault,
}

/// The frames of a violation's backtrace, resolved to module and offset as they are written.
struct Located<'a>(&'a [usize]);

impl record::Frames for Located<'_> {
    fn len(&self) -> usize {
        self.0.len()
    }

    fn frame(&self, i: usize, name: &mut [u8; record::MODULE_CAP]) -> (usize, u64) {
        locate(self.0[i], name)
    }
}

/// Counts a violation and writes its record the first time its (call site, interface, param,
/// member, check) is seen. Returns whether it counted (false when suppressed).
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
    // The unwinder and the module lookups call dl_iterate_phdr, an interposed function: the
    // writer's own calls, which a signal handler's must not be taken for. Blocked from here on,
    // the counters, the site table and the record also stay consistent (no handler can longjmp
    // out of this thread).
    let _blocked = sys::SignalsBlocked::new();
    let _reporting = thread::Reporting::new();
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
    if let Some(rule) = cfg.suppressed(v.iface.name(), v.pos, v.name, check, caller) {
        stats::SUPPRESSED[rule].fetch_add(1, Relaxed);
        return false;
    }
    stats::VIOLATIONS.fetch_add(1, Relaxed);
    stats::BY_CHECK.add(check);
    let key = stats::hash(site as u64)
        ^ stats::hash(v.iface.addr() as u64).rotate_left(17)
        ^ (v.pos as u64).wrapping_mul(0x9e3779b97f4a7c15)
        ^ fnv(check.as_bytes()).rotate_left(31)
        ^ v.member.map_or(0, |m| fnv(m.as_bytes()));
    let data = || stats::SiteData::new(site, v.iface, v.pos, check, v.member);
    if !stats::SITES.first(key, data) {
        return true;
    }
    stats::DISTINCT.fetch_add(1, Relaxed);
    let want = cfg.backtrace.min(frames.len);
    // The caller's name is no longer needed: its buffer takes the heap block's module.
    let block = v.fault.block.map(|(event, ip)| {
        let (len, offset) = locate(ip, &mut caller_name);
        (
            event,
            record::BlockSite {
                module: &caller_name[..len],
                offset,
            },
        )
    });
    let record = record::Violation {
        pid: sys::getpid(),
        tid: sys::gettid(),
        interface: v.iface.name(),
        library: v.iface.lib(),
        version: v.iface.version(),
        param: v.pos,
        param_name: v.name,
        member: v.member,
        check,
        severity: v.fault.severity,
        value: v.value,
        message: v.fault.msg.as_str(),
        block,
    };
    let located = Located(&frames.ips[..want]);
    // Without frames the record fits a buffer a quarter the size (small stacks, see `violation`).
    if want > 0 {
        write_record::<4096>(|b| record.write(b, cfg.format, &located));
    } else {
        write_record::<1024>(|b| record.write(b, cfg.format, &located));
    }
    true
}

/// Module path (into `name`, its length returned) and offset of a code address.
fn locate(ip: usize, name: &mut [u8; record::MODULE_CAP]) -> (usize, u64) {
    let mut m = Module {
        ip,
        base: 0,
        lo: 0,
        hi: 0,
        name: core::ptr::null(),
    };
    backtrace::find(&mut m);
    let len = backtrace::module_name(&m, name);
    if len == 0 {
        name[..3].copy_from_slice(b"???");
        return (3, ip as u64);
    }
    (len, (ip - m.base) as u64)
}

/// The summary's tables, read from the process-wide counters.
struct Tables;

impl record::SummarySource for Tables {
    fn by_check(&self, f: &mut dyn FnMut(&str, u64)) {
        stats::BY_CHECK.for_each(f);
    }

    fn used(&self, f: &mut dyn FnMut(&str, u64)) {
        stats::USED.for_each(|addr, n| {
            // SAFETY: the set holds only `IfaceRef` addresses (see `rt::enter`).
            f(unsafe { IfaceRef::from_addr(addr) }.name(), n)
        });
    }

    fn suppressed(&self, f: &mut dyn FnMut(&[u8], u64)) {
        let cfg = config::get();
        for i in cfg.rules() {
            let n = stats::SUPPRESSED[i].load(Relaxed);
            if n > 0 {
                f(cfg.rule_text(i), n);
            }
        }
    }

    fn sites(&self, f: &mut dyn FnMut(&record::Site<'_>)) {
        let mut name = [0u8; record::MODULE_CAP];
        stats::SITES.for_each(|s, count| {
            let (len, offset) = locate(s.ip, &mut name);
            f(&record::Site {
                module: &name[..len],
                offset,
                interface: s.iface.map_or("", IfaceRef::name),
                param: s.pos,
                member: s.member(),
                check: s.check,
                count,
            });
        });
    }
}

/// The summary record, once per process: at exit, `_exit`, or before `exec`. Not from a `vfork`
/// child, whose counters are its parent's.
pub fn summary() {
    write_summary(false);
}

/// [`summary`] written just before an exec replaces the image.
pub fn summary_before_exec() {
    write_summary(true);
}

/// Keeps `errno`: it runs as a hook before `exec` and `_exit`, which must not change it.
fn write_summary(exec: bool) {
    let errno = sys::errno();
    write_summary_once(exec);
    sys::set_errno(errno);
}

fn write_summary_once(exec: bool) {
    let pid = sys::getpid();
    let owner = OWNER.load(Relaxed);
    if owner != 0 && owner != pid {
        return;
    }
    if SUMMARY_DONE.swap(true, Relaxed) {
        return;
    }
    let _blocked = sys::SignalsBlocked::new();
    let _reporting = thread::Reporting::new();
    let (calls, checked) = stats::calls();
    let distinct = stats::DISTINCT.load(Relaxed);
    let record = record::Summary {
        pid,
        calls,
        checked,
        violations: stats::VIOLATIONS.load(Relaxed),
        distinct,
        interfaces_used: stats::USED.len() as u64,
        unchecked_in_handler: stats::UNCHECKED_IN_HANDLER.load(Relaxed),
        exec,
    };
    let format = config::get().format;
    // Every site and name must fit in the one line: the buffer is mapped for the size needed
    // (a raw mmap, not the program's allocator), with a stack buffer as the fallback.
    let names = stats::USED.len() + 64 + config::RULES_CAP;
    let size = record::Summary::json_size(distinct as usize, names);
    match sys::Mapping::new(size) {
        Some(mut map) => {
            let mut b = Buf::new(map.bytes());
            record.write(&mut b, format, &Tables);
            emit(b.finish_line());
        }
        None => write_record::<4096>(|b| record.write(b, format, &Tables)),
    }
}

/// Says that an original could not be found (its calls fail with `ENOSYS`).
pub fn missing(name: &CStr, version: &CStr) {
    let record = record::Missing {
        pid: sys::getpid(),
        tid: sys::gettid(),
        interface: name.to_bytes(),
        version: version.to_bytes(),
    };
    write_record::<1024>(|b| record.write(b, config::get().format));
}

/// A `call` record (`DYNCHK_TRACE=1`). Keeps `errno`, which the record's system calls may change:
/// the interposer forwards next.
#[cold]
pub fn trace(iface: IfaceRef) {
    let errno = sys::errno();
    let record = record::Call {
        pid: sys::getpid(),
        tid: sys::gettid(),
        interface: iface.name(),
    };
    write_record::<512>(|b| record.write(b, config::get().format));
    sys::set_errno(errno);
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
    STARTED.store(false, Relaxed);
    let per_pid = config::get()
        .log()
        .is_some_and(|t| t.windows(2).any(|w| w == b"%p"));
    let fd = LOG_FD.load(Relaxed);
    let ours = still_ours(fd);
    if per_pid {
        LOG_FD.store(-1, Relaxed);
        if ours {
            sys::close(fd);
        }
        // The child's own file, opened now: it may switch user next (a server's worker).
        open_eagerly();
    } else if ours {
        announce(fd);
    } else {
        open_eagerly();
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
