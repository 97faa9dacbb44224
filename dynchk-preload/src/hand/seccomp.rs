//! The two ways into seccomp, `prctl` and the raw `syscall`: both C-variadic, and the checker
//! must learn what the program asks for before the kernel applies it, so that no system call of
//! the checker's own is made that the new state forbids (see `validators::seccomp`).

use core::ffi::{c_int, c_long, c_ulong};

use crate::generated::checks;
use crate::rt::{self, Iface, Real};
use validators::seccomp;

static PRCTL: Iface = Iface::new("prctl", "libc", "GLIBC_2.2.5");

static SYSCALL: Iface = Iface::new("syscall", "libc", "GLIBC_2.2.5");

/// `seccomp(2)`'s operations.
const SET_MODE_STRICT: c_ulong = 0;
const SET_MODE_FILTER: c_ulong = 1;
/// `SECCOMP_FILTER_FLAG_NEW_LISTENER`: success returns a descriptor instead of 0.
const NEW_LISTENER: c_ulong = 1 << 3;

/// What the program is about to ask for; undone by [`Request::done`] if the kernel refuses.
enum Request {
    None,
    Filter(Option<usize>),
}

impl Request {
    /// A `prctl(PR_SET_SECCOMP, mode, prog)` or `seccomp(op, flags, prog)` is about to be made.
    ///
    /// # Safety
    /// `prog` is the program's argument, forwarded to the kernel as it came.
    unsafe fn seccomp(strict: bool, filter: bool, prog: c_ulong) -> Request {
        if strict || filter {
            crate::rt::backtrace::prepare();
        }
        if strict {
            seccomp::enter_strict();
        }
        if !filter {
            return Request::None;
        }
        // SAFETY: read only where readable.
        Request::Filter(unsafe { seccomp::filter_installing(prog as *const seccomp::Prog) })
    }

    /// The request returned; `ok` when the kernel applied it. A refused strict mode is kept:
    /// it only costs checks.
    fn done(self, ok: bool) {
        if let (Request::Filter(Some(slot)), false) = (self, ok) {
            seccomp::filter_failed(slot);
        }
    }
}

/// A `prctl` option and its first argument.
///
/// # Safety
/// As [`Request::seccomp`].
unsafe fn prctl_request(option: c_long, a2: c_ulong, a3: c_ulong) -> Request {
    if option != libc::PR_SET_SECCOMP as c_long {
        return Request::None;
    }
    let strict = a2 == libc::SECCOMP_MODE_STRICT as c_ulong;
    let filter = a2 == libc::SECCOMP_MODE_FILTER as c_ulong;
    // SAFETY: the caller's.
    unsafe { Request::seccomp(strict, filter, a3) }
}

/// `prctl(2)`. Every option takes up to four `unsigned long` arguments, all passed in registers:
/// they are forwarded as they came, whether the option uses them or not.
#[no_mangle]
pub unsafe extern "C-unwind" fn prctl(
    option: c_int,
    a2: c_ulong,
    a3: c_ulong,
    a4: c_ulong,
    a5: c_ulong,
) -> c_int {
    static REAL: Real = Real::new(c"prctl", c"GLIBC_2.2.5");
    // SAFETY: the prototype matches glibc's.
    let real: unsafe extern "C-unwind" fn(c_int, ...) -> c_int = unsafe { REAL.get() };
    // SAFETY: the program's arguments.
    let request = unsafe { prctl_request(option as c_long, a2, a3) };
    // SAFETY: the caller's arguments.
    let forward = || unsafe { real(option, a2, a3, a4, a5) };
    let r = match rt::enter(&PRCTL) {
        Some(call) => {
            // SAFETY: only checks.
            unsafe { checks::prctl(&call, option) };
            call.forward(forward)
        }
        None => forward(),
    };
    request.done(r == 0);
    r
}

/// `syscall(2)`: the system call number and up to six `long` arguments. The sixth is on the
/// caller's stack, where a caller passing fewer left whatever its frame holds; like glibc's own
/// `syscall`, it is loaded and passed on regardless (the kernel ignores unused arguments).
#[no_mangle]
pub unsafe extern "C-unwind" fn syscall(
    nr: c_long,
    a1: c_long,
    a2: c_long,
    a3: c_long,
    a4: c_long,
    a5: c_long,
    a6: c_long,
) -> c_long {
    static REAL: Real = Real::new(c"syscall", c"GLIBC_2.2.5");
    // SAFETY: the prototype matches glibc's.
    let real: unsafe extern "C-unwind" fn(c_long, ...) -> c_long = unsafe { REAL.get() };
    let (op, flags, prog) = (a1 as c_ulong, a2 as c_ulong, a3 as c_ulong);
    // SAFETY: the program's arguments, forwarded untouched.
    let request = unsafe {
        match nr {
            libc::SYS_seccomp => {
                Request::seccomp(op == SET_MODE_STRICT, op == SET_MODE_FILTER, prog)
            }
            libc::SYS_prctl => prctl_request(a1, a2 as c_ulong, a3 as c_ulong),
            _ => Request::None,
        }
    };
    // SAFETY: the caller's arguments.
    let forward = || unsafe { real(nr, a1, a2, a3, a4, a5, a6) };
    let r = match rt::enter(&SYSCALL) {
        Some(call) => {
            // SAFETY: only checks.
            unsafe { checks::syscall(&call, nr) };
            call.forward(forward)
        }
        None => forward(),
    };
    let listener = nr == libc::SYS_seccomp && flags & NEW_LISTENER != 0 && r > 0;
    request.done(r == 0 || listener);
    r
}
