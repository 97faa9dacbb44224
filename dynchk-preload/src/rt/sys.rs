//! Raw system calls: the checker never calls a C-library function that it (or the generated code)
//! interposes. These go through `libc::syscall`, which may set `errno`; callers on a checking path
//! run before `Call::forward` restores it.

use core::ffi::{c_int, c_long};

/// `write(2)` of the whole buffer (retries short writes and `EINTR`); false on failure.
pub fn write_all(fd: c_int, mut buf: &[u8]) -> bool {
    while !buf.is_empty() {
        // SAFETY: buf is valid for buf.len() bytes.
        let n = unsafe { libc::syscall(libc::SYS_write, fd, buf.as_ptr(), buf.len()) };
        if n < 0 {
            if errno() == libc::EINTR {
                continue;
            }
            return false;
        }
        buf = &buf[n as usize..];
    }
    true
}

/// `openat(AT_FDCWD, path, flags, mode)`; `path` must be NUL-terminated.
pub fn open(path: &[u8], flags: c_int, mode: libc::mode_t) -> c_int {
    debug_assert!(path.contains(&0));
    // SAFETY: path is NUL-terminated.
    unsafe { libc::syscall(libc::SYS_openat, libc::AT_FDCWD, path.as_ptr(), flags, mode) as c_int }
}

/// `close(2)`.
pub fn close(fd: c_int) {
    // SAFETY: closes a descriptor the caller owns.
    unsafe { libc::syscall(libc::SYS_close, fd) };
}

/// `fcntl(fd, F_DUPFD_CLOEXEC, min)`.
pub fn dup_high(fd: c_int, min: c_int) -> c_int {
    // SAFETY: no memory is passed.
    unsafe { libc::syscall(libc::SYS_fcntl, fd, libc::F_DUPFD_CLOEXEC, min) as c_int }
}

/// Device and inode of an open descriptor, `None` when it is not open.
pub fn identity(fd: c_int) -> Option<(u64, u64)> {
    // SAFETY: stat is a plain C struct the kernel fills.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: st is writable.
    let r = unsafe { libc::syscall(libc::SYS_fstat, fd, &mut st as *mut libc::stat) };
    (r == 0).then_some((st.st_dev, st.st_ino))
}

/// Whether `fd` is a regular file owned by this process's (effective) user with one name: a
/// log is never a FIFO, a device, someone else's file or a hard link planted to one.
pub fn own_regular_file(fd: c_int) -> bool {
    // SAFETY: stat is a plain C struct the kernel fills.
    let mut st: libc::stat = unsafe { core::mem::zeroed() };
    // SAFETY: st is writable.
    let r = unsafe { libc::syscall(libc::SYS_fstat, fd, &mut st as *mut libc::stat) };
    // SAFETY: no arguments.
    let euid = unsafe { libc::syscall(libc::SYS_geteuid) } as libc::uid_t;
    r == 0 && st.st_mode & libc::S_IFMT == libc::S_IFREG && st.st_uid == euid && st.st_nlink == 1
}

/// The soft `RLIMIT_NOFILE` (1024 when it cannot be read, `c_int::MAX` when unlimited).
pub fn fd_limit() -> c_int {
    // SAFETY: the kernel fills a struct rlimit64 (two u64) on this stack.
    let mut lim = [0u64; 2];
    let r = unsafe {
        libc::syscall(
            libc::SYS_prlimit64,
            0,
            libc::RLIMIT_NOFILE,
            0usize,
            lim.as_mut_ptr(),
        )
    };
    if r != 0 {
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
    // SAFETY: ts is writable.
    unsafe {
        libc::syscall(
            libc::SYS_clock_gettime,
            libc::CLOCK_REALTIME,
            &mut ts as *mut libc::timespec,
        )
    };
    ts.tv_sec
}

/// `getppid(2)`.
pub fn getppid() -> c_int {
    // SAFETY: no arguments.
    unsafe { libc::syscall(libc::SYS_getppid) as c_int }
}

/// `getpid(2)`, uncached (correct in fork and vfork children).
pub fn getpid() -> c_int {
    // SAFETY: no arguments.
    unsafe { libc::syscall(libc::SYS_getpid) as c_int }
}

/// `gettid(2)`.
pub fn gettid() -> c_int {
    // SAFETY: no arguments.
    unsafe { libc::syscall(libc::SYS_gettid) as c_int }
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
        // SAFETY: the tail of buf is writable.
        let n =
            unsafe { libc::syscall(libc::SYS_read, fd, buf[len..].as_mut_ptr(), buf.len() - len) };
        if n < 0 && errno() == libc::EINTR {
            continue;
        }
        if n <= 0 {
            break;
        }
        len += n as usize;
    }
    close(fd);
    Some(len)
}

/// `readlink(path)` into `buf`; returns the length (0 on error). `path` must be NUL-terminated.
pub fn readlink(path: &[u8], buf: &mut [u8]) -> usize {
    // SAFETY: path is NUL-terminated, buf writable for its length.
    let n = unsafe {
        libc::syscall(
            libc::SYS_readlinkat,
            libc::AT_FDCWD,
            path.as_ptr(),
            buf.as_mut_ptr(),
            buf.len(),
        )
    };
    n.max(0) as usize
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
    // SAFETY: a kernel-layout 8-byte signal set on this stack.
    unsafe {
        libc::syscall(
            libc::SYS_rt_sigprocmask,
            libc::SIG_UNBLOCK,
            &mask as *const u64,
            0usize,
            8usize,
        )
    };
}

/// Restores the default action of `sig` (raw `rt_sigaction`).
pub fn default_action(sig: c_int) {
    // The kernel's struct sigaction with every field 0: SIG_DFL, no flags, empty mask.
    let dfl = [0u64; 4];
    // SAFETY: a kernel-layout struct on this stack.
    unsafe { libc::syscall(libc::SYS_rt_sigaction, sig, dfl.as_ptr(), 0usize, 8usize) };
}

/// `kill(getpid(), SIGABRT)` after unblocking it: `DYNCHK_ON_VIOLATION=abort` without calling the
/// C library's `abort`, which may itself be interposed.
pub fn abort() -> ! {
    unblock(libc::SIGABRT);
    // SAFETY: plain syscalls on this process.
    unsafe { libc::syscall(libc::SYS_kill, getpid(), libc::SIGABRT as c_long) };
    // A handler caught or ignored SIGABRT: restore the default action, as abort(3) does.
    default_action(libc::SIGABRT);
    loop {
        // SAFETY: as above.
        unsafe {
            libc::syscall(libc::SYS_kill, getpid(), libc::SIGABRT as c_long);
            libc::syscall(libc::SYS_exit_group, 127);
        }
    }
}

/// The lowest address of the alternate signal stack when this thread is running on it.
pub fn alt_stack_base() -> Option<usize> {
    // SAFETY: stack_t is a plain C struct the kernel fills.
    let mut ss: libc::stack_t = unsafe { core::mem::zeroed() };
    // SAFETY: queries only (no new stack), into ss.
    let r = unsafe {
        libc::syscall(
            libc::SYS_sigaltstack,
            core::ptr::null::<libc::stack_t>(),
            &mut ss as *mut libc::stack_t,
        )
    };
    (r == 0 && ss.ss_flags & libc::SS_ONSTACK != 0).then_some(ss.ss_sp as usize)
}

/// Asynchronous signals blocked for as long as it lives: a record being written is never cut
/// short by a handler that `longjmp`s away (synchronous faults and glibc's internal signals stay
/// deliverable).
pub struct SignalsBlocked {
    old: u64,
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
        // SAFETY: kernel-layout 8-byte signal sets on this stack.
        unsafe {
            libc::syscall(
                libc::SYS_rt_sigprocmask,
                libc::SIG_BLOCK,
                &block as *const u64,
                &mut old as *mut u64,
                8usize,
            )
        };
        SignalsBlocked { old }
    }
}

impl Drop for SignalsBlocked {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved above.
        unsafe {
            libc::syscall(
                libc::SYS_rt_sigprocmask,
                libc::SIG_SETMASK,
                &self.old as *const u64,
                0usize,
                8usize,
            )
        };
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
        // SAFETY: a fresh private anonymous mapping; no existing memory is touched.
        let p = unsafe {
            libc::syscall(
                libc::SYS_mmap,
                0usize,
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1 as c_int,
                0usize,
            )
        };
        // syscall(3) returns -1 (errno set) for a failure.
        (p != -1).then_some(Mapping {
            ptr: p as usize as *mut u8,
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
        // SAFETY: unmaps exactly the mapping this value owns.
        unsafe { libc::syscall(libc::SYS_munmap, self.ptr, self.len) };
    }
}
