//! `strarray`: the NULL-terminated string arrays of the exec family (`argv`, `envp`); `strlist`:
//! the NULL-terminated string lists of variadic calls (`g_strconcat`, `g_build_filename`).

use crate::format::ArgSource;
use crate::{mem, Fault, Severity, Verdict};
use core::ffi::c_void;

const CHECK: &str = "strarray";
const LIST: &str = "strlist";

/// More strings than a variadic list of them plausibly has: a list without its NULL within
/// this many arguments is reported as unterminated.
const MAX_LISTED: usize = 1 << 12;

/// `strlist`: `first` and the `...` arguments after it are readable NUL-terminated strings up
/// to a NULL pointer, which ends the list (`first` NULL is the empty list). A fault of an
/// argument goes to `report` with its 0-based index among the variadic arguments; a list whose
/// NULL is missing (the walk reaches memory the caller did not pass) is the returned fault.
///
/// # Safety
/// `args` must describe the call's variadic arguments; every string and argument slot is read
/// only where the memory map says it is readable.
pub unsafe fn list(
    first: *const c_void,
    args: &mut dyn ArgSource,
    report: &mut dyn FnMut(usize, Fault),
) -> Verdict {
    if first.is_null() {
        return Ok(());
    }
    if let Err(f) = unsafe { mem::string(first) } {
        return Err(Fault::new(
            LIST,
            format_args!("is not a string: {}", f.msg.as_str()),
        ));
    }
    for i in 0..MAX_LISTED {
        let Some(s) = args.next_ptr_readable() else {
            return Err(Fault::new(
                LIST,
                format_args!("starts a list with no NULL among the {i} arguments passed after it"),
            ));
        };
        if s == 0 {
            return Ok(());
        }
        if let Err(f) = unsafe { mem::string(s as *const c_void) } {
            report(
                i,
                Fault::new(
                    LIST,
                    format_args!("{s:#x} is not a string: {}", f.msg.as_str()),
                ),
            );
            // What follows a bad element cannot be trusted to be the list.
            return Ok(());
        }
    }
    Err(Fault::new(
        LIST,
        format_args!("starts a list with no NULL among the {MAX_LISTED} arguments after it"),
    ))
}

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

    /// Arguments as the test lays them out; reading past them finds unreadable memory.
    struct Listed<'a>(&'a [usize]);

    impl ArgSource for Listed<'_> {
        fn next_int(&mut self) -> i64 {
            self.next_ptr() as i64
        }
        fn next_long(&mut self) -> i64 {
            self.next_ptr() as i64
        }
        fn next_ptr(&mut self) -> usize {
            self.next_ptr_readable().unwrap_or(0)
        }
        fn next_double(&mut self) {}
        fn next_long_double(&mut self) {}
        fn next_ptr_readable(&mut self) -> Option<usize> {
            let (first, rest) = self.0.split_first()?;
            self.0 = rest;
            Some(*first)
        }
    }

    fn walk(first: *const c_char, rest: &[usize]) -> (Result<(), String>, Vec<String>) {
        let mut faults = Vec::new();
        let v = unsafe {
            list(first.cast(), &mut Listed(rest), &mut |i, f| {
                faults.push(format!("{i} {}", f.msg.as_str()))
            })
        };
        (v.map_err(|f| f.msg.as_str().to_owned()), faults)
    }

    use core::ffi::c_char;

    #[test]
    fn lists() {
        let (a, b) = (c"a".as_ptr(), c"b".as_ptr());
        assert_eq!(walk(a, &[b as usize, 0]), (Ok(()), vec![]));
        assert_eq!(walk(core::ptr::null(), &[]), (Ok(()), vec![]));
        let (v, faults) = walk(a, &[b as usize, 0x10, 0]);
        assert_eq!(v, Ok(()));
        assert_eq!(faults.len(), 1, "{faults:?}");
        assert!(
            faults[0].starts_with("1 0x10 is not a string"),
            "{faults:?}"
        );
        let (v, faults) = walk(a, &[b as usize]);
        assert!(faults.is_empty());
        assert!(v.unwrap_err().contains("no NULL among the 1 arguments"));
        let (v, _) = walk(0x10 as *const c_char, &[0]);
        assert!(v.unwrap_err().starts_with("is not a string"));
    }
}
