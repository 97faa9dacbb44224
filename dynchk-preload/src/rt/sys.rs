//! Raw system calls: the checker never calls a C-library function that it (or the generated code)
//! interposes. Every one goes through [`validators::seccomp::syscall`], which never touches
//! `errno` and never makes a call the process's seccomp state forbids (a forbidden one fails like
//! a refused one).

use core::ffi::c_int;
use core::sync::atomic::{AtomicI32, Ordering::Relaxed};

pub use validators::seccomp::syscall as call;

/// `write(2)` of the whole buffer (retries short writes and `EINTR`); false on failure.
pub fn write_all(fd: c_int, mut buf: &[u8]) -> bool {
    while !buf.is_empty() {
        match call(
            libc::SYS_write,
            &[fd as usize, buf.as_ptr() as usize, buf.len()],
        ) {
            Ok(n) => buf = &buf[n..],
            Err(libc::EINTR) => continue,
            Err(_) => return false,
        }
    }
    true
}

/// `openat(AT_FDCWD, path, flags, mode)`; `path` must be NUL-terminated.
pub fn open(path: &[u8], flags: c_int, mode: libc::mode_t) -> c_int {
    debug_assert!(path.contains(&0));
    let args = [
        libc::AT_FDCWD as usize,
        path.as_ptr() as usize,
        flags as usize,
        mode as usize,
    ];
    call(libc::SYS_openat, &args).map_or(-1, |fd| fd as c_int)
}

/// `close(2)`.
pub fn close(fd: c_int) {
    let _ = call(libc::SYS_close, &[fd as usize]);
}

/// `fcntl(fd, F_DUPFD_CLOEXEC, min)`.
pub fn dup_high(fd: c_int, min: c_int) -> c_int {
    let args = [fd as usize, libc::F_DUPFD_CLOEXEC as usize, min as usize];
    call(libc::SYS_fcntl, &args).map_or(-1, |fd| fd as c_int)
}

/// `fstat(2)` into a zeroed struct, made as glibc makes it (`newfstatat(fd, "", AT_EMPTY_PATH)`,
/// the call the dynamic loader made at startup, which seccomp filters therefore allow).
fn fstat(fd: c_int) -> Result<libc::stat, c_int> {
    // SAFETY: stat is a plain C struct the kernel fills.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    let (empty, flags) = (c"".as_ptr() as usize, libc::AT_EMPTY_PATH as usize);
    let args = [
        fd as usize,
        empty,
        &mut st as *mut libc::stat as usize,
        flags,
    ];
    call(libc::SYS_newfstatat, &args).map(|_| st)
}

/// Device and inode of an open descriptor, or the error (`DENIED` under seccomp).
pub fn identity(fd: c_int) -> Result<(u64, u64), c_int> {
    fstat(fd).map(|st| (st.st_dev, st.st_ino))
}

/// Whether `fd` is a regular file owned by this process's (effective) user with one name: a
/// log is never a FIFO, a device, someone else's file or a hard link planted to one.
pub fn own_regular_file(fd: c_int) -> bool {
    let Ok(st) = fstat(fd) else { return false };
    let euid = call(libc::SYS_geteuid, &[]).map(|u| u as libc::uid_t);
    st.st_mode & libc::S_IFMT == libc::S_IFREG && euid == Ok(st.st_uid) && st.st_nlink == 1
}

/// The soft `RLIMIT_NOFILE` (1024 when it cannot be read, `c_int::MAX` when unlimited).
pub fn fd_limit() -> c_int {
    // The kernel fills a struct rlimit64 (two u64) on this stack.
    let mut lim = [0u64; 2];
    let args = [
        0,
        libc::RLIMIT_NOFILE as usize,
        0,
        lim.as_mut_ptr() as usize,
    ];
    if call(libc::SYS_prlimit64, &args).is_err() {
        return 1024;
    }
    lim[0].min(c_int::MAX as u64) as c_int
}

/// Seconds since 1970 UTC.
pub fn wall_clock() -> i64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    let args = [
        libc::CLOCK_REALTIME as usize,
        &mut ts as *mut libc::timespec as usize,
    ];
    let _ = call(libc::SYS_clock_gettime, &args);
    ts.tv_sec
}

/// `getppid(2)` (0 when seccomp forbids it).
pub fn getppid() -> c_int {
    call(libc::SYS_getppid, &[]).map_or(0, |p| p as c_int)
}

/// The last pid [`getpid`] got from the kernel.
static PID: AtomicI32 = AtomicI32::new(0);

/// `getpid(2)`, uncached (correct in fork and vfork children); under a seccomp filter that
/// forbids it, the last answer.
pub fn getpid() -> c_int {
    match call(libc::SYS_getpid, &[]) {
        Ok(p) => {
            PID.store(p as c_int, Relaxed);
            p as c_int
        }
        Err(_) => PID.load(Relaxed),
    }
}

/// `gettid(2)` (0 when seccomp forbids it).
pub fn gettid() -> c_int {
    call(libc::SYS_gettid, &[]).map_or(0, |t| t as c_int)
}

/// Reads a whole (small) file into `buf`; returns the bytes read, `None` when it cannot be
/// opened. `path` must be NUL-terminated.
pub fn read_file(path: &[u8], buf: &mut [u8]) -> Option<usize> {
    let fd = open(path, libc::O_RDONLY | libc::O_CLOEXEC | libc::O_NONBLOCK, 0);
    if fd < 0 {
        return None;
    }
    let mut len = 0;
    while len < buf.len() {
        let args = [
            fd as usize,
            buf[len..].as_mut_ptr() as usize,
            buf.len() - len,
        ];
        match call(libc::SYS_read, &args) {
            Err(libc::EINTR) => continue,
            Ok(0) | Err(_) => break,
            Ok(n) => len += n,
        }
    }
    close(fd);
    Some(len)
}

/// `readlink(path)` into `buf`; returns the length (0 on error). `path` must be NUL-terminated.
pub fn readlink(path: &[u8], buf: &mut [u8]) -> usize {
    debug_assert!(path.contains(&0));
    let at = libc::AT_FDCWD as usize;
    let args = [
        at,
        path.as_ptr() as usize,
        buf.as_mut_ptr() as usize,
        buf.len(),
    ];
    call(libc::SYS_readlinkat, &args).unwrap_or(0)
}

/// This thread's `errno`.
#[inline(always)]
pub fn errno() -> c_int {
    // SAFETY: __errno_location returns this thread's errno slot.
    unsafe { *libc::__errno_location() }
}

/// Sets this thread's `errno`.
#[inline(always)]
pub fn set_errno(e: c_int) {
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = e };
}

/// Unblocks `sig` on this thread (raw `rt_sigprocmask`).
pub fn unblock(sig: c_int) {
    let mask: u64 = 1 << (sig - 1);
    // A kernel-layout 8-byte signal set on this stack.
    let args = [
        libc::SIG_UNBLOCK as usize,
        &mask as *const u64 as usize,
        0,
        8,
    ];
    let _ = call(libc::SYS_rt_sigprocmask, &args);
}

/// Restores the default action of `sig` (raw `rt_sigaction`).
pub fn default_action(sig: c_int) {
    // The kernel's struct sigaction with every field 0: SIG_DFL, no flags, empty mask.
    let dfl = [0u64; 4];
    let _ = call(
        libc::SYS_rt_sigaction,
        &[sig as usize, dfl.as_ptr() as usize, 0, 8],
    );
}

/// `kill(getpid(), SIGABRT)` after unblocking it: `DYNCHK_ON_VIOLATION=abort` without calling the
/// C library's `abort`, which may itself be interposed.
pub fn abort() -> ! {
    unblock(libc::SIGABRT);
    let kill = || call(libc::SYS_kill, &[getpid() as usize, libc::SIGABRT as usize]);
    let _ = kill();
    // A handler caught or ignored SIGABRT: restore the default action, as abort(3) does.
    default_action(libc::SIGABRT);
    let _ = kill();
    validators::seccomp::exit(127)
}

/// The lowest address of the alternate signal stack when this thread is running on it.
pub fn alt_stack_base() -> Option<usize> {
    // SAFETY: stack_t is a plain C struct the kernel fills.
    let mut ss: libc::stack_t = unsafe { core::mem::zeroed() };
    // Queries only (no new stack), into ss.
    let r = call(
        libc::SYS_sigaltstack,
        &[0, &mut ss as *mut libc::stack_t as usize],
    );
    (r.is_ok() && ss.ss_flags & libc::SS_ONSTACK != 0).then_some(ss.ss_sp as usize)
}

/// Asynchronous signals blocked for as long as it lives: a record being written is never cut
/// short by a handler that `longjmp`s away (synchronous faults and glibc's internal signals stay
/// deliverable).
pub struct SignalsBlocked {
    old: u64,
    blocked: bool,
}

impl SignalsBlocked {
    /// Blocks the asynchronous signals of this thread.
    pub fn new() -> SignalsBlocked {
        const KEEP: [c_int; 8] = [
            libc::SIGSEGV,
            libc::SIGBUS,
            libc::SIGILL,
            libc::SIGFPE,
            libc::SIGTRAP,
            libc::SIGABRT,
            libc::SIGSYS,
            32, // glibc's SIGCANCEL
        ];
        let mut block = !0u64;
        for s in KEEP {
            block &= !(1u64 << (s - 1));
        }
        block &= !(1u64 << (33 - 1)); // glibc's SIGSETXID
        let mut old = 0u64;
        // Kernel-layout 8-byte signal sets on this stack. Under a seccomp filter that forbids
        // it, nothing is blocked and `old` stays empty: the drop then unblocks nothing either.
        let args = [
            libc::SIG_BLOCK as usize,
            &block as *const u64 as usize,
            &mut old as *mut u64 as usize,
            8,
        ];
        let blocked = call(libc::SYS_rt_sigprocmask, &args).is_ok();
        SignalsBlocked { old, blocked }
    }
}

impl Drop for SignalsBlocked {
    fn drop(&mut self) {
        if self.blocked {
            // Restores the mask saved above.
            let args = [
                libc::SIG_SETMASK as usize,
                &self.old as *const u64 as usize,
                0,
                8,
            ];
            let _ = call(libc::SYS_rt_sigprocmask, &args);
        }
    }
}

/// Anonymous memory mapped with raw syscalls (the program's allocator is never used), unmapped on
/// drop.
pub struct Mapping {
    ptr: *mut u8,
    len: usize,
}

impl Mapping {
    /// `len` bytes of zeroed memory, `None` when the kernel refuses.
    pub fn new(len: usize) -> Option<Mapping> {
        // A fresh private anonymous mapping; no existing memory is touched.
        let prot = (libc::PROT_READ | libc::PROT_WRITE) as usize;
        let flags = (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE) as usize;
        let p = call(libc::SYS_mmap, &[0, len, prot, flags, usize::MAX, 0]).ok()?;
        Some(Mapping {
            ptr: p as *mut u8,
            len,
        })
    }

    /// The mapped bytes.
    pub fn bytes(&mut self) -> &mut [u8] {
        // SAFETY: ptr is a live mapping of len writable bytes owned by self.
        unsafe { core::slice::from_raw_parts_mut(self.ptr, self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // Unmaps exactly the mapping this value owns.
        let _ = call(libc::SYS_munmap, &[self.ptr as usize, self.len]);
    }
}
