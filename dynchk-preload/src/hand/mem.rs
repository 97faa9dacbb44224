//! `mremap`: C-variadic (`new_address` is passed only with `MREMAP_FIXED`), and the validators'
//! map cache must be invalidated after the real call, which a tail-jumping trampoline cannot do.
//! A fixed-arity definition whose trailing argument is one pointer is ABI-correct on x86-64 and
//! AArch64 Linux. The other calls that change the map are generated with the `maps_changed` hook.

use core::ffi::{c_int, c_void};

use crate::generated::checks;
use crate::rt::{self, hooks, Iface, Real};

static MREMAP: Iface = Iface::new("mremap", "libc", "GLIBC_2.2.5");

/// `mremap(2)`: the database's checks, then the real call, then the map cache is invalidated.
#[no_mangle]
pub unsafe extern "C-unwind" fn mremap(
    old_address: *mut c_void,
    old_size: usize,
    new_size: usize,
    flags: c_int,
    new_address: *mut c_void,
) -> *mut c_void {
    static REAL: Real = Real::new(c"mremap", c"GLIBC_2.2.5");
    // SAFETY: the prototype matches the C library's.
    let real: unsafe extern "C-unwind" fn(*mut c_void, usize, usize, c_int, ...) -> *mut c_void =
        unsafe { REAL.get() };
    let run = || {
        // SAFETY: the caller's arguments, unchanged.
        let r = unsafe { real(old_address, old_size, new_size, flags, new_address) };
        hooks::maps_changed();
        r
    };
    let Some(call) = rt::enter(&MREMAP) else {
        return run();
    };
    // SAFETY: the checks read only memory they have proven mapped.
    unsafe { checks::mremap(&call, old_address, old_size as u64, new_size as u64, flags) };
    call.forward(run)
}
