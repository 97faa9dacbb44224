//! `open`, `openat` and their 64-bit aliases, `fcntl` and `ioctl`: C-variadic functions whose
//! optional argument is one integer or pointer, so a fixed-arity definition is ABI-correct on
//! x86-64 and AArch64 Linux. Their checks are the database's (`checks::open`, …): `open` reads
//! `mode` only when `flags` asks for one (the `when` condition in `db/semantics/io.sem`); the
//! register is forwarded as the caller left it either way.

use core::ffi::{c_char, c_int, c_ulong, c_void};

use validators::fd;

use crate::generated::checks;
use crate::rt::{self, Iface, Real, Value};

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
    let (p, m) = (path as *mut c_void, mode as u64);
    // SAFETY: the checks read only memory they have proven mapped.
    unsafe {
        match (dirfd, iface.name) {
            (None, "open64") => checks::open64(&call, p, flags, m),
            (None, _) => checks::open(&call, p, flags, m),
            (Some(d), "openat64") => checks::openat64(&call, d, p, flags, m),
            (Some(d), _) => checks::openat(&call, d, p, flags, m),
        }
    }
    call.forward(forward)
}
static OPEN: Iface = Iface::new("open", "libc", "GLIBC_2.2.5");
static OPEN64: Iface = Iface::new("open64", "libc", "GLIBC_2.2.5");
static OPENAT: Iface = Iface::new("openat", "libc", "GLIBC_2.4");
static OPENAT64: Iface = Iface::new("openat64", "libc", "GLIBC_2.4");

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

/// The checks of `fcntl` (`F_GETFD` on a closed descriptor is how programs ask whether it is
/// open, so the database asks only for a descriptor in range; the third argument as `cmd`
/// reads it). The third argument is passed through whatever `cmd` is.
unsafe fn checked_fcntl(
    iface: &'static Iface,
    real: &Real,
    fd: c_int,
    cmd: c_int,
    arg: c_ulong,
    check: unsafe fn(&rt::Call, c_int, c_int, u64),
) -> c_int {
    // SAFETY: the prototype matches glibc's.
    let real: FcntlFn = unsafe { real.get() };
    // SAFETY: the caller's arguments, unchanged.
    let forward = || unsafe { real(fd, cmd, arg) };
    let Some(call) = rt::enter(iface) else {
        return forward();
    };
    // SAFETY: the validators read only memory the map says is readable.
    unsafe { check(&call, fd, cmd, arg) };
    call.forward(forward)
}

static FCNTL: Iface = Iface::new("fcntl", "libc", "GLIBC_2.2.5");
static FCNTL64: Iface = Iface::new("fcntl64", "libc", "GLIBC_2.28");

/// `fcntl(2)`.
#[no_mangle]
pub unsafe extern "C-unwind" fn fcntl(fd: c_int, cmd: c_int, arg: c_ulong) -> c_int {
    static REAL: Real = Real::new(c"fcntl", c"GLIBC_2.2.5");
    // SAFETY: forwards the caller's arguments.
    unsafe { checked_fcntl(&FCNTL, &REAL, fd, cmd, arg, checks::fcntl) }
}

/// `fcntl64(2)`.
#[no_mangle]
pub unsafe extern "C-unwind" fn fcntl64(fd: c_int, cmd: c_int, arg: c_ulong) -> c_int {
    static REAL: Real = Real::new(c"fcntl64", c"GLIBC_2.28");
    // SAFETY: forwards the caller's arguments.
    unsafe { checked_fcntl(&FCNTL64, &REAL, fd, cmd, arg, checks::fcntl64) }
}

static IOCTL: Iface = Iface::new("ioctl", "libc", "GLIBC_2.2.5");

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
    // SAFETY: scalar checks.
    unsafe { checks::ioctl(&call, fd, request) };
    if !call.inside_forward() {
        // SAFETY: the validator reads only memory it has proven mapped.
        check!(call, 2, "arg", Value::Pointer(arg as u64), unsafe {
            validators::ioctl::ioctl(request, arg as usize)
        });
    }
    call.forward(forward)
}
