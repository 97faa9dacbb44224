//! `strarray`: the NULL-terminated string arrays of the exec family (`argv`, `envp`).

use crate::{mem, Fault, Severity, Verdict};
use core::ffi::c_void;

const CHECK: &str = "strarray";

/// More elements than any argument list the kernel accepts (`ARG_MAX` is 2 MiB of pointers and
/// strings): an array without its NULL within this many is reported as unterminated.
const MAX: usize = 1 << 18;

/// `strarray`: an array of pointers, each a readable NUL-terminated string, ended by a NULL
/// pointer, all in readable memory. NULL itself is accepted by Linux (an empty list) but not by
/// POSIX: portability.
///
/// # Safety
/// `p` is the program's argument; it is read only where readable.
pub unsafe fn strings(p: *const c_void) -> Verdict {
    if p.is_null() {
        return Err(Fault::new(
            CHECK,
            format_args!("is NULL (Linux takes it as an empty list; POSIX requires an array)"),
        )
        .severity(Severity::Portability));
    }
    let word = core::mem::size_of::<usize>();
    for i in 0..MAX {
        let at = (p as usize).wrapping_add(i * word) as *const c_void;
        if let Err(f) = unsafe { mem::readable(at, word) } {
            return Err(Fault::new(
                CHECK,
                format_args!(
                    "has no NULL before element {i}, which is not readable: {}",
                    f.msg.as_str()
                ),
            ));
        }
        // SAFETY: readable, checked above.
        let s = unsafe { (at as *const *const c_void).read_unaligned() };
        if s.is_null() {
            return Ok(());
        }
        if let Err(f) = unsafe { mem::string(s) } {
            return Err(Fault::new(
                CHECK,
                format_args!("element {i} ({s:p}) is not a string: {}", f.msg.as_str()),
            ));
        }
    }
    Err(Fault::new(
        CHECK,
        format_args!("has no NULL among its first {MAX} elements"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arrays() {
        let ok = [c"true".as_ptr(), c"x".as_ptr(), core::ptr::null()];
        assert!(unsafe { strings(ok.as_ptr().cast()) }.is_ok());
        let bad = [c"true".as_ptr(), 0x10 as *const _, core::ptr::null()];
        let f = unsafe { strings(bad.as_ptr().cast()) }.unwrap_err();
        assert!(f.msg.as_str().starts_with("element 1 (0x10)"), "{f:?}");
        let null = unsafe { strings(core::ptr::null()) }.unwrap_err();
        assert_eq!(null.severity, Severity::Portability);
    }
}
