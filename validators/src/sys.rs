//! Raw system calls: the C library's wrappers (`syscall` included) are interposed by libdynchk.
//! Every one goes through [`crate::seccomp::syscall`], which never touches `errno` and never makes a call
//! the process's seccomp state forbids.

use core::ffi::{c_int, CStr};

pub(crate) use crate::seccomp::syscall as call;
use crate::seccomp::DENIED;

/// Opens `path` read-only (close-on-exec, so a concurrent `exec` leaks nothing).
pub(crate) fn open_ro(path: &CStr) -> Option<c_int> {
    let flags = (libc::O_RDONLY | libc::O_CLOEXEC) as usize;
    let at = libc::AT_FDCWD as usize;
    call(libc::SYS_openat, &[at, path.as_ptr() as usize, flags])
        .ok()
        .map(|fd| fd as c_int)
}

/// Reads into `buf`; `None` at end of file or on error.
pub(crate) fn read(fd: c_int, buf: &mut [u8]) -> Option<usize> {
    let args = [fd as usize, buf.as_mut_ptr() as usize, buf.len()];
    call(libc::SYS_read, &args).ok().filter(|&n| n > 0)
}

/// Closes a descriptor this crate opened.
pub(crate) fn close(fd: c_int) {
    let _ = call(libc::SYS_close, &[fd as usize]);
}

/// Fresh zeroed private anonymous memory; pages only count once touched (`MAP_NORESERVE`).
pub(crate) fn map_anon(len: usize) -> Option<*mut u8> {
    let prot = (libc::PROT_READ | libc::PROT_WRITE) as usize;
    let flags = (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE) as usize;
    call(libc::SYS_mmap, &[0, len, prot, flags, usize::MAX, 0])
        .ok()
        .map(|p| p as *mut u8)
}

/// Unmaps memory obtained from [`map_anon`].
///
/// # Safety
/// Nothing may use `p..p+len` afterwards.
pub(crate) unsafe fn unmap(p: *mut u8, len: usize) {
    let _ = call(libc::SYS_munmap, &[p as usize, len]);
}

/// Whether the page holding `addr` is mapped now: `mincore` fails with `ENOMEM` on an unmapped
/// page, whatever its protection, and writes one byte of ours. The page size is found by trying
/// the usual ones (`EINVAL`: not aligned to the real one), since `getauxval` is interposed. When
/// `mincore` may not be called (seccomp), the page counts as mapped: only a kernel answer is
/// ever a negative one.
pub(crate) fn mapped(addr: usize) -> bool {
    for size in [4096usize, 16384, 65536] {
        let mut vec = 0u8;
        let args = [addr & !(size - 1), 1, &mut vec as *mut u8 as usize];
        match call(libc::SYS_mincore, &args) {
            Ok(_) => return true,
            Err(libc::EINVAL) => continue,
            Err(e) => return e != libc::ENOMEM,
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

/// `fcntl(fd, F_GETFL)`: the descriptor's status flags and access mode, `None` when it cannot
/// be asked or is not open.
pub(crate) fn fd_flags(fd: c_int) -> Option<c_int> {
    let args = [fd as usize, libc::F_GETFL as usize];
    call(libc::SYS_fcntl, &args).ok().map(|f| f as c_int)
}

/// Whether `fd` is an open descriptor of this process, `None` when the kernel cannot be asked.
/// `fcntl(fd, F_GETFD)`; where seccomp forbids it, a read (then a write) of zero bytes, which
/// fails with `EBADF` only for a descriptor that is closed or open for neither (`O_PATH`).
/// Only `EBADF` is a negative answer: a filter's `EPERM` or `ENOSYS` says nothing about `fd`.
pub(crate) fn fd_is_open(fd: c_int) -> Option<bool> {
    let answer = |r: Result<usize, c_int>| match r {
        Err(DENIED) => None,
        Err(libc::EBADF) => Some(false),
        _ => Some(true),
    };
    let fd = fd as usize;
    if let Some(open) = answer(call(libc::SYS_fcntl, &[fd, libc::F_GETFD as usize])) {
        return Some(open);
    }
    let zero = |nr| answer(call(nr, &[fd, 0, 0]));
    match zero(libc::SYS_read) {
        Some(false) => zero(libc::SYS_write),
        other => other,
    }
}
