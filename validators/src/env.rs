//! `envname`: names of environment variables.

use crate::{text::Quoted, Fault, Verdict};
use core::ffi::c_void;

const CHECK: &str = "envname";

/// `envname`: a non-empty name without `=` (`setenv` and `unsetenv` fail with EINVAL otherwise;
/// NULL is the `string` rule's to report).
pub fn name(p: *const c_void) -> Verdict {
    let Some(name) = crate::text::c_str(p, CHECK)? else {
        return Ok(());
    };
    if name.is_empty() {
        return Err(Fault::new(CHECK, format_args!("is the empty string")));
    }
    if name.contains(&b'=') {
        return Err(Fault::new(
            CHECK,
            format_args!("{} contains '='", Quoted(name)),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(name(c"PATH".as_ptr().cast()).is_ok());
        assert!(name(core::ptr::null()).is_ok());
        for bad in [c"", c"A=B", c"="] {
            assert_eq!(
                name(bad.as_ptr().cast()).unwrap_err().check,
                CHECK,
                "{bad:?}"
            );
        }
    }
}
