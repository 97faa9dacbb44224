//! `template`: the templates of `mkstemp`, `mkdtemp` and their variants.

use crate::{text::Quoted, Fault, Verdict};
use core::ffi::c_void;

const CHECK: &str = "template";

/// `template(SUFFIXLEN)`: a string whose six characters before the last `suffixlen` are `XXXXXX`
/// (the call fails with EINVAL otherwise). Writability is the `out` rule's.
pub fn template(p: *const c_void, suffixlen: i64) -> Verdict {
    let Some(t) = crate::text::c_str(p, CHECK)? else {
        return Ok(());
    };
    let Ok(suffix) = usize::try_from(suffixlen) else {
        return Ok(()); // negative: the suffixlen rule's
    };
    let end = t.len().checked_sub(suffix);
    let ok = end.is_some_and(|e| e >= 6 && &t[e - 6..e] == b"XXXXXX");
    if !ok {
        let tail = if suffix == 0 {
            ""
        } else {
            " before its suffix"
        };
        return Err(Fault::new(
            CHECK,
            format_args!("{} does not have XXXXXX{tail}", Quoted(t)),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates() {
        assert!(template(c"/tmp/aXXXXXX".as_ptr().cast(), 0).is_ok());
        assert!(template(c"XXXXXX".as_ptr().cast(), 0).is_ok());
        assert!(template(c"/tmp/aXXXXXX.txt".as_ptr().cast(), 4).is_ok());
        for (t, s) in [
            (c"/tmp/aXXXXX", 0),
            (c"/tmp/aXXXXXX.txt", 0),
            (c"XXXXXX", 1),
            (c"ab", 5),
        ] {
            let v = template(t.as_ptr().cast(), s);
            assert_eq!(v.unwrap_err().check, CHECK, "{t:?} {s}");
        }
    }
}
