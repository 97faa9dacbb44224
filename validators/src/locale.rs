//! `lccategory`: locale categories.

use crate::{Fault, Verdict};

/// `lccategory`: `LC_CTYPE` … `LC_IDENTIFICATION`, or `LC_ALL`.
pub fn category(v: i64) -> Verdict {
    if !(0..=libc::LC_IDENTIFICATION as i64).contains(&v) {
        return Err(Fault::new(
            "lccategory",
            format_args!("{v} is not an LC_* category"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glibc_categories() {
        for c in [
            libc::LC_CTYPE,
            libc::LC_ALL,
            libc::LC_MESSAGES,
            libc::LC_IDENTIFICATION,
        ] {
            assert!(category(c as i64).is_ok());
        }
        assert_eq!(
            category(13).unwrap_err().msg.as_str(),
            "13 is not an LC_* category"
        );
        assert!(category(-1).is_err());
    }
}
