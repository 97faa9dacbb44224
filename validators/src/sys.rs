//! Raw system calls: the C library's wrappers are interposed by libdynchk, `libc::syscall` is not.

use core::ffi::{c_int, c_long, CStr};
use core::sync::atomic::{AtomicBool, Ordering};

/// Opens `path` read-only (close-on-exec, so a concurrent `exec` leaks nothing).
pub(crate) fn open_ro(path: &CStr) -> Option<c_int> {
    // SAFETY: the path is NUL-terminated; openat has no other memory arguments.
    let fd = unsafe {
        libc::syscall(
            libc::SYS_openat,
            libc::AT_FDCWD as c_long,
            path.as_ptr(),
            (libc::O_RDONLY | libc::O_CLOEXEC) as c_long,
        )
    };
    (fd >= 0).then_some(fd as c_int)
}

/// Reads into `buf`; `None` at end of file or on error.
pub(crate) fn read(fd: c_int, buf: &mut [u8]) -> Option<usize> {
    // SAFETY: the kernel writes at most buf.len() bytes into buf.
    let n = unsafe { libc::syscall(libc::SYS_read, fd as c_long, buf.as_mut_ptr(), buf.len()) };
    (n > 0).then_some(n as usize)
}

/// Closes a descriptor this crate opened.
pub(crate) fn close(fd: c_int) {
    // SAFETY: fd was returned by open_ro and is closed exactly once.
    unsafe { libc::syscall(libc::SYS_close, fd as c_long) };
}

/// Fresh zeroed private anonymous memory; pages only count once touched (`MAP_NORESERVE`).
pub(crate) fn map_anon(len: usize) -> Option<*mut u8> {
    // SAFETY: an anonymous mapping at an address the kernel chooses touches no existing memory.
    let p = unsafe {
        libc::syscall(
            libc::SYS_mmap,
            0usize,
            len,
            (libc::PROT_READ | libc::PROT_WRITE) as c_long,
            (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE) as c_long,
            -1 as c_long,
            0usize,
        )
    };
    // libc::syscall turns the kernel's -errno into -1 (MAP_FAILED).
    (p != -1).then_some(p as *mut u8)
}

/// Unmaps memory obtained from [`map_anon`].
///
/// # Safety
/// Nothing may use `p..p+len` afterwards.
pub(crate) unsafe fn unmap(p: *mut u8, len: usize) {
    libc::syscall(libc::SYS_munmap, p, len);
}

/// Whether the page holding `addr` is mapped now: `mincore` fails with `ENOMEM` on an unmapped
/// page, whatever its protection, and writes one byte of ours. The page size is found by trying
/// the usual ones (`EINVAL`: not aligned to the real one), since `getauxval` is interposed.
pub(crate) fn mapped(addr: usize) -> bool {
    for size in [4096usize, 16384, 65536] {
        let mut vec = 0u8;
        // SAFETY: one page's residency byte goes into vec.
        let r = unsafe {
            libc::syscall(
                libc::SYS_mincore,
                addr & !(size - 1),
                1usize,
                &mut vec as *mut u8,
            )
        };
        match (r, errno()) {
            (0, _) => return true,
            (_, libc::EINVAL) => continue,
            (_, e) => return e != libc::ENOMEM,
        }
    }
    true
}

/// The decimal number at the start of a small file such as `/proc/sys/kernel/pid_max`.
pub(crate) fn read_number(path: &CStr) -> Option<u64> {
    let fd = open_ro(path)?;
    let mut buf = [0u8; 24];
    let n = read(fd, &mut buf);
    close(fd);
    let digits = &buf[..n?];
    let end = digits
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(digits.len());
    digits[..end]
        .iter()
        .try_fold(0u64, |acc, &b| {
            acc.checked_mul(10)?.checked_add((b - b'0') as u64)
        })
        .filter(|_| end > 0)
}

/// Whether `fd` is an open descriptor of this process: `fcntl(fd, F_GETFD)`; in seccomp's strict
/// mode, where only `read` and `write` are allowed, a read (then a write) of zero bytes, which
/// fails with `EBADF` only for a descriptor that is closed or open for neither (`O_PATH`, which
/// no call left to a strict process accepts either).
pub(crate) fn fd_is_open(fd: c_int) -> bool {
    if strict() {
        let not_ebadf = |nr: c_long| {
            // SAFETY: a zero-byte transfer touches no memory.
            let r = unsafe { libc::syscall(nr, fd as c_long, core::ptr::null::<u8>(), 0usize) };
            r >= 0 || errno() != libc::EBADF
        };
        return not_ebadf(libc::SYS_read) || not_ebadf(libc::SYS_write);
    }
    // SAFETY: F_GETFD has no memory arguments.
    unsafe { libc::syscall(libc::SYS_fcntl, fd as c_long, libc::F_GETFD as c_long) >= 0 }
}

fn errno() -> c_int {
    // SAFETY: this thread's errno.
    unsafe { *libc::__errno_location() }
}

/// Set once the program enters seccomp's strict mode, which is permanent.
static STRICT: AtomicBool = AtomicBool::new(false);

/// The program is about to enter seccomp's strict mode (`prctl(PR_SET_SECCOMP,
/// SECCOMP_MODE_STRICT)`): from now on the validators make no system call but `read` and `write`,
/// and accept what they cannot tell without one. Called before the request, so a failed one only
/// costs some checks.
pub fn enter_strict() {
    STRICT.store(true, Ordering::SeqCst);
}

/// Whether [`enter_strict`] was called.
pub fn strict() -> bool {
    STRICT.load(Ordering::Relaxed)
}
