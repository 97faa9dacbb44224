//! Raw system calls: the C library's wrappers are interposed by libdynchk, `libc::syscall` is not.

use core::ffi::{c_int, c_long, CStr};

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

/// `fcntl(fd, F_GETFD)`: whether `fd` is an open descriptor of this process.
pub(crate) fn fd_is_open(fd: c_int) -> bool {
    // SAFETY: F_GETFD has no memory arguments.
    unsafe { libc::syscall(libc::SYS_fcntl, fd as c_long, libc::F_GETFD as c_long) >= 0 }
}
