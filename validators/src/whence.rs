//! `whence`: the origin of `lseek`/`fseek`.

use crate::{Fault, Verdict};

/// `whence`: `SEEK_SET`, `SEEK_CUR`, `SEEK_END`, `SEEK_DATA` or `SEEK_HOLE`.
pub fn whence(v: i64) -> Verdict {
    match v {
        0..=4 => Ok(()),
        _ => Err(Fault::new(
            "whence",
            format_args!("{v} is not SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA or SEEK_HOLE"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seek_constants_only() {
        for w in [
            libc::SEEK_SET,
            libc::SEEK_CUR,
            libc::SEEK_END,
            libc::SEEK_DATA,
            libc::SEEK_HOLE,
        ] {
            assert!(whence(w as i64).is_ok());
        }
        assert_eq!(
            whence(5).unwrap_err().msg.as_str(),
            "5 is not SEEK_SET, SEEK_CUR, SEEK_END, SEEK_DATA or SEEK_HOLE"
        );
        assert!(whence(-1).is_err());
    }
}
