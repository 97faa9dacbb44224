//! The calls that set a signal's handler and return the old one (`signal`, `sigset`, …):
//! hand-coded because the old handler they return is rewritten. The checker's own handler stands
//! in for `SIG_DFL` on fatal signals (rt/signals.rs) and must read back as the `SIG_DFL` the
//! program would have seen; a `SIG_DFL` the program sets is taken over again. (`sigaction`
//! returns the old action through a pointer: it is generated, with a hook.)

use core::ffi::{c_int, c_void};

use crate::generated::checks;
use crate::rt::{self, signals, Iface, Real};

/// Defines the `signal`-like interposers (`signal(sig, handler)` returning the old handler):
/// the database's checks, the real call, then the old handler is translated and a new `SIG_DFL`
/// taken over.
macro_rules! handler_setters {
    ($($name:ident @ $ver:literal;)*) => {
        $(
            #[doc = concat!("`", stringify!($name), "(3)`; the old handler reads as without the checker.")]
            #[no_mangle]
            pub unsafe extern "C-unwind" fn $name(sig: c_int, handler: usize) -> usize {
                static IFACE: Iface = Iface::new(stringify!($name), "libc", $ver);
                static REAL: Real = Real::new(
                    rt::cstr(concat!(stringify!($name), "\0")),
                    rt::cstr(concat!($ver, "\0")),
                );
                // SAFETY: the prototype matches glibc's.
                let real: unsafe extern "C-unwind" fn(c_int, usize) -> usize =
                    unsafe { REAL.get() };
                let run = || {
                    // SAFETY: the caller's arguments.
                    let old = unsafe { real(sig, handler) };
                    signals::disposition_set(sig, old != libc::SIG_ERR);
                    signals::old_handler(old)
                };
                let Some(call) = rt::enter(&IFACE) else {
                    return run();
                };
                // SAFETY: the checks read only memory they have proven mapped.
                unsafe { checks::$name(&call, sig, handler as *mut c_void) };
                call.forward(run)
            }
        )*
    };
}

handler_setters! {
    signal @ "GLIBC_2.2.5";
    bsd_signal @ "GLIBC_2.2.5";
    ssignal @ "GLIBC_2.2.5";
    __sysv_signal @ "GLIBC_2.2.5";
    sysv_signal @ "GLIBC_2.2.5";
    sigset @ "GLIBC_2.2.5";
}
