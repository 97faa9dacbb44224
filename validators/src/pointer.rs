//! `nonnull`: pointers a call dereferences or uses as a handle without a NULL check.

use crate::{Fault, Verdict};
use core::ffi::c_void;

/// `nonnull`: not NULL (for handles such as `dlclose`'s, which no memory rule covers).
pub fn nonnull(p: *const c_void) -> Verdict {
    if p.is_null() {
        return Err(Fault::new("nonnull", format_args!("is NULL")));
    }
    Ok(())
}
