//! `envname`: names of environment variables, alone (`setenv`) or in a `NAME=VALUE` string
//! (`putenv`).

use crate::{text::Quoted, Fault, Severity, Verdict};
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

/// `envassign`: `putenv`'s string, `NAME=VALUE` with a non-empty NAME. The empty string fails
/// (glibc unsets it as a name: EINVAL). A string without `=`, which glibc takes as a name to
/// unset, and an empty NAME (`=VALUE`, which glibc adds as given) are outside POSIX's "name=value":
/// portability. NULL is the `string` rule's to report.
pub fn assignment(p: *const c_void) -> Verdict {
    let Some(s) = crate::text::c_str(p, CHECK)? else {
        return Ok(());
    };
    match s.iter().position(|&b| b == b'=') {
        _ if s.is_empty() => Err(Fault::new(CHECK, format_args!("is the empty string"))),
        Some(0) => Err(Fault::new(
            CHECK,
            format_args!("{} has an empty name before '='", Quoted(s)),
        )
        .severity(Severity::Portability)),
        Some(_) => Ok(()),
        None => Err(Fault::new(
            CHECK,
            format_args!(
                "{} has no '=' (glibc unsets the variable so named)",
                Quoted(s)
            ),
        )
        .severity(Severity::Portability)),
    }
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

    #[test]
    fn assignments() {
        for good in [c"A=B", c"A=", c"A==", c"A=B=C"] {
            assert!(assignment(good.as_ptr().cast()).is_ok(), "{good:?}");
        }
        assert!(assignment(core::ptr::null()).is_ok());
        let severity = |s: &core::ffi::CStr| assignment(s.as_ptr().cast()).unwrap_err().severity;
        assert_eq!(severity(c""), Severity::Error);
        assert_eq!(severity(c"=B"), Severity::Portability);
        assert_eq!(severity(c"PATH"), Severity::Portability);
    }
}
