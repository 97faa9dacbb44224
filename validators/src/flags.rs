//! `openflags`, `atflags`: flag words.

use crate::{Fault, Verdict};

/// Every bit `open` knows on Linux x86-64 (`O_LARGEFILE` is 0 in glibc's headers there, but
/// callers may still pass the kernel's bit).
const OPEN_KNOWN: i64 = (libc::O_ACCMODE
    | libc::O_CREAT
    | libc::O_EXCL
    | libc::O_NOCTTY
    | libc::O_TRUNC
    | libc::O_APPEND
    | libc::O_NONBLOCK
    | libc::O_DSYNC
    | libc::O_ASYNC
    | libc::O_DIRECT
    | 0o100000 // the kernel's O_LARGEFILE
    | libc::O_DIRECTORY
    | libc::O_NOFOLLOW
    | libc::O_NOATIME
    | libc::O_CLOEXEC
    | libc::O_SYNC
    | libc::O_PATH
    | libc::O_TMPFILE) as i64;

/// Every `AT_*` bit one of the `*at` calls knows (`AT_EACCESS` shares `AT_REMOVEDIR`'s bit).
const AT_KNOWN: i64 = (libc::AT_SYMLINK_NOFOLLOW
    | libc::AT_REMOVEDIR
    | libc::AT_SYMLINK_FOLLOW
    | libc::AT_NO_AUTOMOUNT
    | libc::AT_EMPTY_PATH
    | libc::AT_STATX_SYNC_TYPE
    | 0x8000) as i64; // AT_RECURSIVE

/// Only `known` bits in the int `v` (which the generator sign-extended).
fn only_known(v: i64, known: i64, check: &'static str, what: &str) -> Verdict {
    let bits = v as u32 as i64;
    if v != v as i32 as i64 || bits & !known != 0 {
        let unknown = if v != v as i32 as i64 {
            v as u64
        } else {
            (bits & !known) as u64
        };
        return Err(Fault::new(
            check,
            format_args!("{v:#x} has bits {unknown:#x} that are not {what}"),
        ));
    }
    Ok(())
}

/// `openflags`: known `O_*` bits, an access mode other than 3.
pub fn open(v: i64) -> Verdict {
    only_known(v, OPEN_KNOWN, "openflags", "O_* flags")?;
    if v & libc::O_ACCMODE as i64 == libc::O_ACCMODE as i64 {
        return Err(Fault::new(
            "openflags",
            format_args!("{v:#x} has access mode 3, not O_RDONLY, O_WRONLY or O_RDWR"),
        ));
    }
    Ok(())
}

/// `atflags`: only `AT_*` bits.
pub fn at(v: i64) -> Verdict {
    only_known(v, AT_KNOWN, "atflags", "AT_* flags")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_flags() {
        for f in [
            libc::O_RDONLY,
            libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_CLOEXEC,
            libc::O_RDWR | libc::O_TMPFILE,
            libc::O_PATH | libc::O_NOFOLLOW,
            libc::O_RDONLY | libc::O_NOATIME | 0o100000,
        ] {
            assert!(open(f as i64).is_ok(), "{f:#o}");
        }
        assert_eq!(
            open(3).unwrap_err().msg.as_str(),
            "0x3 has access mode 3, not O_RDONLY, O_WRONLY or O_RDWR"
        );
        assert_eq!(
            open(0x4000_0000).unwrap_err().msg.as_str(),
            "0x40000000 has bits 0x40000000 that are not O_* flags"
        );
        assert!(open(-1).is_err(), "all bits set");
        assert!(open(1 << 33).is_err(), "wider than an int");
    }

    #[test]
    fn at_flags() {
        assert!(at(0).is_ok());
        assert!(at((libc::AT_SYMLINK_NOFOLLOW | libc::AT_EMPTY_PATH) as i64).is_ok());
        assert!(at(libc::AT_REMOVEDIR as i64).is_ok());
        assert_eq!(
            at(0x1).unwrap_err().msg.as_str(),
            "0x1 has bits 0x1 that are not AT_* flags"
        );
    }
}
