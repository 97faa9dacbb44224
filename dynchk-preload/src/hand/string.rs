//! `strlen`: its rule (`string`) measures the string, so the interposer returns that length
//! instead of forwarding to a second scan. Only the fast path answers itself; anything it cannot
//! settle runs the database's rule (`checks::strlen`) and the real `strlen`, as generated code
//! would.

use core::ffi::c_void;

use crate::generated::checks;
use crate::rt::{self, Iface, Real};

static STRLEN: Iface = Iface::new("strlen", "libc", "GLIBC_2.2.5");

/// `strlen(3)`.
#[no_mangle]
pub unsafe extern "C-unwind" fn strlen(s: *mut c_void) -> usize {
    static REAL: Real = Real::new(c"strlen", c"GLIBC_2.2.5");
    // SAFETY: the prototype matches the C library's.
    let real: unsafe extern "C-unwind" fn(*mut c_void) -> usize = unsafe { REAL.get() };
    let Some(call) = rt::enter(&STRLEN) else {
        // SAFETY: the caller's argument, unchanged.
        return unsafe { real(s) };
    };
    // SAFETY: the validator reads only memory the map says is readable.
    if let Some(len) = unsafe { validators::mem::string_len(s) } {
        return len;
    }
    // SAFETY: as above.
    unsafe { checked(call, real, s) }
}

/// The rule and the real `strlen`, out of line: the fast path above then needs a small frame
/// and few saved registers (strlen is the most called interface of most programs).
///
/// # Safety
/// As `strlen`'s.
#[cold]
#[inline(never)]
unsafe fn checked(
    call: rt::Call,
    real: unsafe extern "C-unwind" fn(*mut c_void) -> usize,
    s: *mut c_void,
) -> usize {
    // SAFETY: the validator reads only memory the map says is readable.
    unsafe { checks::strlen(&call, s) };
    // SAFETY: the caller's argument, unchanged.
    call.forward(|| unsafe { real(s) })
}
