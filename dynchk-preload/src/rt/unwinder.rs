//! The C++ ABI unwinder (`libgcc_s.so.1`), bound at the first call the library makes into it,
//! not when the library loads (see the `__wrap__Unwind_*` functions of shim/shim.c).
//!
//! Those calls come from the landing pads and the personality routine of Rust code while an
//! unwind crosses the checker's frames. Whoever started that unwind (glibc's `pthread_exit` and
//! cancellation, libstdc++'s `throw`) has loaded the unwinder already, so this is a lookup; only
//! a program carrying its own copy of the unwinder leaves the library to load the shared one, as
//! the loader did before for every program.

use core::ffi::{c_char, c_int, c_void, CStr};

use dynchk_record::Buf;

use super::real::Real;
use super::{symbols, sys};

const LIBGCC_S: &CStr = c"libgcc_s.so.1";

/// The address of the unwinder's `name` at `version`; aborts with a message when even loading
/// the unwinder does not provide it (an unwind that cannot go on cannot return either).
///
/// # Safety
/// Both are NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn dynchk_unwinder(name: *const c_char, version: *const c_char) -> usize {
    // SAFETY: the caller's.
    let (name, version) = unsafe { (CStr::from_ptr(name), CStr::from_ptr(version)) };
    let found = symbols::find(name, version, LIBGCC_S);
    if found != 0 {
        return found;
    }
    type Dlopen = unsafe extern "C" fn(*const c_char, c_int) -> *mut c_void;
    // The original: the interposer would check and count a call of the checker's own.
    static DLOPEN: Real = Real::new(c"dlopen", c"GLIBC_2.34");
    // SAFETY: dlopen's prototype; the handle is never closed (the library stays).
    unsafe { DLOPEN.get::<Dlopen>()(LIBGCC_S.as_ptr(), libc::RTLD_NOW) };
    let found = symbols::find(name, version, LIBGCC_S);
    if found == 0 {
        let mut mem = [0u8; 256];
        let mut line = Buf::new(&mut mem);
        line.push(b"dynchk: the unwinder's ");
        line.push(name.to_bytes());
        line.push(b" is missing (libgcc_s.so.1 could not be loaded); aborting");
        sys::write_all(2, line.finish_line());
        sys::abort();
    }
    found
}
