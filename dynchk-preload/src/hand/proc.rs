//! `prctl`: C-variadic, and its hook depends on a variadic argument: before a request for
//! seccomp's strict mode the validators are told to make no system call but `read` and `write`.

use core::ffi::{c_int, c_ulong};

use crate::generated::checks;
use crate::rt::{self, Iface, Real};

static PRCTL: Iface = Iface {
    name: "prctl",
    lib: "libc",
    version: "GLIBC_2.2.5",
};

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
    if option == libc::PR_SET_SECCOMP && a2 == libc::SECCOMP_MODE_STRICT as c_ulong {
        validators::enter_strict();
    }
    // SAFETY: the caller's arguments.
    let forward = || unsafe { real(option, a2, a3, a4, a5) };
    match rt::enter(&PRCTL) {
        Some(call) => {
            // SAFETY: only checks.
            unsafe { checks::prctl(&call, option) };
            call.forward(forward)
        }
        None => forward(),
    }
}
