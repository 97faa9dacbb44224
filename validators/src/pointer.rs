//! `nonnull`: pointers a call dereferences or uses as a handle without a NULL check.

use crate::{Fault, Severity, Verdict};
use core::ffi::c_void;

/// `nonnull`: not NULL (for handles such as `dlclose`'s, which no memory rule covers).
pub fn nonnull(p: *const c_void) -> Verdict {
    if p.is_null() {
        return Err(Fault::new("nonnull", format_args!("is NULL")));
    }
    Ok(())
}

/// `?portability`: not NULL, where glibc and Linux accept NULL but POSIX does not
/// (`gettimeofday`'s tv): a NULL is of `portability` severity.
pub fn null_portability(p: *const c_void) -> Verdict {
    if p.is_null() {
        return Err(Fault::new(
            "nonnull",
            format_args!("is NULL, which glibc and Linux accept and POSIX does not"),
        )
        .severity(Severity::Portability));
    }
    Ok(())
}
