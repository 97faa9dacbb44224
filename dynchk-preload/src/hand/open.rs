//! `open`, `openat` and their 64-bit aliases, `fcntl` and `ioctl`: C-variadic functions whose
//! optional argument is one integer or pointer, so a fixed-arity definition is ABI-correct on
//! x86-64 and AArch64 Linux. `open` reads `mode` only with `O_CREAT` or `O_TMPFILE`.

use core::ffi::{c_char, c_int, c_ulong, c_void};

use validators::{fd, flags, mode, path};

use crate::rt::{self, Iface, Real};

/// glibc's `__OPEN_NEEDS_MODE`: `O_CREAT`, or the `__O_TMPFILE` bit (without `O_DIRECTORY`).
fn needs_mode(flags: c_int) -> bool {
    const TMPFILE_BIT: c_int = libc::O_TMPFILE & !libc::O_DIRECTORY;
    flags & libc::O_CREAT != 0 || flags & TMPFILE_BIT == TMPFILE_BIT
}

type OpenFn = unsafe extern "C-unwind" fn(*const c_char, c_int, ...) -> c_int;
type OpenatFn = unsafe extern "C-unwind" fn(c_int, *const c_char, c_int, ...) -> c_int;

/// The checks and the forwarding shared by the four open variants (`dirfd` is `None` for open).
unsafe fn checked_open(
    iface: &'static Iface,
    real: &Real,
    dirfd: Option<c_int>,
    path: *const c_char,
    flags: c_int,
    mode: libc::mode_t,
) -> c_int {
    let mode = if needs_mode(flags) { mode } else { 0 };
    let call = rt::enter(iface);
    let forward = || {
        let asked = fd::ticket();
        let r = match dirfd {
            // SAFETY: the prototypes match glibc's; the caller's arguments are passed unchanged.
            None => unsafe { real.get::<OpenFn>()(path, flags, mode) },
            Some(d) => unsafe { real.get::<OpenatFn>()(d, path, flags, mode) },
        };
        if r >= 0 {
            fd::opened(asked, r as i64);
        }
        r
    };
    let Some(call) = call else { return forward() };
    let at = dirfd.is_some() as i32;
    // SAFETY: the validator only reads memory it has proven mapped.
    check!(call, at, "pathname", path, unsafe {
        path::pathname(path as *const c_void)
    });
    check!(call, at + 1, "flags", flags, flags::open(flags as i64));
    if needs_mode(flags) {
        check!(call, at + 2, "mode", mode, mode::perm(mode as i64));
    }
    call.forward(forward)
}

static OPEN: Iface = Iface {
    name: "open",
    lib: "libc",
    version: "GLIBC_2.2.5",
};
static OPEN64: Iface = Iface {
    name: "open64",
    lib: "libc",
    version: "GLIBC_2.2.5",
};
static OPENAT: Iface = Iface {
    name: "openat",
    lib: "libc",
    version: "GLIBC_2.4",
};
static OPENAT64: Iface = Iface {
    name: "openat64",
    lib: "libc",
    version: "GLIBC_2.4",
};

/// `open(2)`.
#[no_mangle]
pub unsafe extern "C-unwind" fn open(
    path: *const c_char,
    flags: c_int,
    mode: libc::mode_t,
) -> c_int {
    static REAL: Real = Real::new(c"open", c"GLIBC_2.2.5");
    // SAFETY: forwards the caller's arguments.
    unsafe { checked_open(&OPEN, &REAL, None, path, flags, mode) }
}

/// `open64(2)`.
#[no_mangle]
pub unsafe extern "C-unwind" fn open64(
    path: *const c_char,
    flags: c_int,
    mode: libc::mode_t,
) -> c_int {
    static REAL: Real = Real::new(c"open64", c"GLIBC_2.2.5");
    // SAFETY: forwards the caller's arguments.
    unsafe { checked_open(&OPEN64, &REAL, None, path, flags, mode) }
}

/// `openat(2)`. `dirfd` carries no rule: it is ignored for absolute paths.
#[no_mangle]
pub unsafe extern "C-unwind" fn openat(
    dirfd: c_int,
    path: *const c_char,
    flags: c_int,
    mode: libc::mode_t,
) -> c_int {
    static REAL: Real = Real::new(c"openat", c"GLIBC_2.4");
    // SAFETY: forwards the caller's arguments.
    unsafe { checked_open(&OPENAT, &REAL, Some(dirfd), path, flags, mode) }
}

/// `openat64(2)`.
#[no_mangle]
pub unsafe extern "C-unwind" fn openat64(
    dirfd: c_int,
    path: *const c_char,
    flags: c_int,
    mode: libc::mode_t,
) -> c_int {
    static REAL: Real = Real::new(c"openat64", c"GLIBC_2.4");
    // SAFETY: forwards the caller's arguments.
    unsafe { checked_open(&OPENAT64, &REAL, Some(dirfd), path, flags, mode) }
}

type FcntlFn = unsafe extern "C-unwind" fn(c_int, c_int, ...) -> c_int;

/// The checks of `fcntl`: `fd` in range only (`F_GETFD` on a closed descriptor is how programs
/// ask whether it is open). The third argument is passed through whatever `cmd` is.
unsafe fn checked_fcntl(
    iface: &'static Iface,
    real: &Real,
    fd: c_int,
    cmd: c_int,
    arg: c_ulong,
) -> c_int {
    // SAFETY: the prototype matches glibc's.
    let real: FcntlFn = unsafe { real.get() };
    // SAFETY: the caller's arguments, unchanged.
    let forward = || unsafe { real(fd, cmd, arg) };
    let Some(call) = rt::enter(iface) else {
        return forward();
    };
    check!(call, 0, "fd", fd, fd::valid(fd as i64));
    call.forward(forward)
}

static FCNTL: Iface = Iface {
    name: "fcntl",
    lib: "libc",
    version: "GLIBC_2.2.5",
};
static FCNTL64: Iface = Iface {
    name: "fcntl64",
    lib: "libc",
    version: "GLIBC_2.28",
};

/// `fcntl(2)`.
#[no_mangle]
pub unsafe extern "C-unwind" fn fcntl(fd: c_int, cmd: c_int, arg: c_ulong) -> c_int {
    static REAL: Real = Real::new(c"fcntl", c"GLIBC_2.2.5");
    // SAFETY: forwards the caller's arguments.
    unsafe { checked_fcntl(&FCNTL, &REAL, fd, cmd, arg) }
}

/// `fcntl64(2)`.
#[no_mangle]
pub unsafe extern "C-unwind" fn fcntl64(fd: c_int, cmd: c_int, arg: c_ulong) -> c_int {
    static REAL: Real = Real::new(c"fcntl64", c"GLIBC_2.28");
    // SAFETY: forwards the caller's arguments.
    unsafe { checked_fcntl(&FCNTL64, &REAL, fd, cmd, arg) }
}

static IOCTL: Iface = Iface {
    name: "ioctl",
    lib: "libc",
    version: "GLIBC_2.2.5",
};

/// `ioctl(2)`: `fd` in range (a probe of a closed standard stream is no bug). The request's
/// argument is checked only for the program's own calls: a library issuing requests inside
/// another call (`tcgetattr`, `isatty`, …) knows its business. The third argument is passed
/// through whatever `request` is.
#[no_mangle]
pub unsafe extern "C-unwind" fn ioctl(fd: c_int, request: c_ulong, arg: *mut c_void) -> c_int {
    static REAL: Real = Real::new(c"ioctl", c"GLIBC_2.2.5");
    // SAFETY: the prototype matches glibc's.
    let real: unsafe extern "C-unwind" fn(c_int, c_ulong, ...) -> c_int = unsafe { REAL.get() };
    // SAFETY: the caller's arguments, unchanged.
    let forward = || unsafe { real(fd, request, arg) };
    let Some(call) = rt::enter(&IOCTL) else {
        return forward();
    };
    check!(call, 0, "fd", fd, fd::valid(fd as i64));
    if !call.inside_forward() {
        // SAFETY: the validator reads only memory it has proven mapped.
        check!(call, 2, "arg", arg, unsafe {
            validators::ioctl::ioctl(request, arg as usize)
        });
    }
    call.forward(forward)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_is_read_only_with_creat_or_tmpfile() {
        assert!(!needs_mode(libc::O_RDONLY));
        assert!(!needs_mode(
            libc::O_WRONLY | libc::O_TRUNC | libc::O_DIRECTORY
        ));
        assert!(needs_mode(libc::O_WRONLY | libc::O_CREAT));
        assert!(needs_mode(libc::O_RDWR | libc::O_TMPFILE));
        assert!(needs_mode(
            libc::O_RDWR | (libc::O_TMPFILE & !libc::O_DIRECTORY)
        ));
    }
}
