//! Calls that close descriptors: the `filedescriptor` check remembers which descriptors the kernel
//! said were open (so that checks add no system call), and forgets them here, after the real call.

use core::ffi::{c_int, c_uint};

use validators::{fd, scalar};

use crate::rt::{self, Iface, Real};

static CLOSE: Iface = Iface {
    name: "close",
    lib: "libc",
    version: "GLIBC_2.2.5",
};
static CLOSE_RANGE: Iface = Iface {
    name: "close_range",
    lib: "libc",
    version: "GLIBC_2.34",
};

/// Enters `iface`, runs `checks`, forwards `real` and then forgets `first..=last` (whatever the
/// result: a failed close may still have closed the descriptor, EINTR on NFS).
fn closing(
    iface: &'static Iface,
    checks: impl FnOnce(&rt::Call),
    real: impl FnOnce() -> c_int,
    (first, last): (i64, i64),
) -> c_int {
    let after = || {
        let r = real();
        fd::forget(first, last);
        r
    };
    match rt::enter(iface) {
        Some(call) => {
            checks(&call);
            call.forward(after)
        }
        None => after(),
    }
}

/// `close(2)`.
#[no_mangle]
pub unsafe extern "C-unwind" fn close(fd: c_int) -> c_int {
    static REAL: Real = Real::new(c"close", c"GLIBC_2.2.5");
    // SAFETY: the prototype matches glibc's.
    let real: unsafe extern "C-unwind" fn(c_int) -> c_int = unsafe { REAL.get() };
    closing(
        &CLOSE,
        |call| check!(call, 0, "fd", fd, fd::open(fd as i64)),
        // SAFETY: the caller's argument.
        || unsafe { real(fd) },
        (fd as i64, fd as i64),
    )
}

/// `close_range(2)`; with `CLOSE_RANGE_CLOEXEC` nothing is closed.
#[no_mangle]
pub unsafe extern "C-unwind" fn close_range(first: c_uint, last: c_uint, flags: c_int) -> c_int {
    static REAL: Real = Real::new(c"close_range", c"GLIBC_2.34");
    // SAFETY: the prototype matches glibc's.
    let real: unsafe extern "C-unwind" fn(c_uint, c_uint, c_int) -> c_int = unsafe { REAL.get() };
    let closed = if flags as c_uint & libc::CLOSE_RANGE_CLOEXEC != 0 {
        (0, -1)
    } else {
        (first as i64, last as i64)
    };
    closing(
        &CLOSE_RANGE,
        |call| {
            check!(
                call,
                1,
                "last",
                last,
                scalar::range(last as i64, first as i64, u32::MAX as i64)
            );
            check!(call, 2, "flags", flags, scalar::range(flags as i64, 0, 6));
        },
        // SAFETY: the caller's arguments.
        || unsafe { real(first, last, flags) },
        closed,
    )
}
