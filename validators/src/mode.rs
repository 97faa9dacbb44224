//! `filemode`, `accessmode`: permission bits and file types.

use crate::{text::Octal, Fault, Severity, Verdict};

const PERM: i64 = 0o7777;
const IFMT: i64 = libc::S_IFMT as i64;

/// `filemode`: permission bits only (`07777`), as `open`, `mkdir`, `chmod` take. File-type bits
/// on top (`fchmod(fd, st.st_mode)`, as vim and git do) are a portability fault: Linux keeps
/// only the permission bits, POSIX leaves the call undefined.
pub fn perm(v: i64) -> Verdict {
    let one_type = matches!(
        (v & IFMT) as libc::mode_t,
        libc::S_IFREG
            | libc::S_IFDIR
            | libc::S_IFLNK
            | libc::S_IFCHR
            | libc::S_IFBLK
            | libc::S_IFIFO
            | libc::S_IFSOCK
    );
    if v & !(PERM | IFMT) == 0 && one_type {
        return Err(Fault::new(
            "filemode",
            format_args!(
                "{} has file-type bits {}, which Linux ignores and POSIX does not allow",
                Octal(v),
                Octal(v & IFMT)
            ),
        )
        .severity(Severity::Portability));
    }
    if v & !PERM != 0 {
        return Err(Fault::new(
            "filemode",
            format_args!("{} has bits outside 07777", Octal(v)),
        ));
    }
    Ok(())
}

/// `filemode.type`: one file type `mknod` can create (or 0, meaning `S_IFREG`) plus permissions.
pub fn with_type(v: i64) -> Verdict {
    if v & !(PERM | IFMT) != 0 {
        return Err(Fault::new(
            "filemode",
            format_args!("{} has bits outside S_IFMT|07777", Octal(v)),
        ));
    }
    let kind = match (v & IFMT) as libc::mode_t {
        0 | libc::S_IFREG | libc::S_IFCHR | libc::S_IFBLK | libc::S_IFIFO | libc::S_IFSOCK => {
            return Ok(())
        }
        libc::S_IFDIR => "S_IFDIR (use mkdir)",
        libc::S_IFLNK => "S_IFLNK (use symlink)",
        _ => "no file type",
    };
    Err(Fault::new(
        "filemode",
        format_args!(
            "{} has file type {kind}, not S_IFREG, S_IFCHR, S_IFBLK, S_IFIFO or S_IFSOCK",
            Octal(v)
        ),
    ))
}

/// `accessmode`: `F_OK` or a combination of `R_OK`, `W_OK`, `X_OK`.
pub fn access(v: i64) -> Verdict {
    if v & !((libc::R_OK | libc::W_OK | libc::X_OK) as i64) != 0 {
        return Err(Fault::new(
            "accessmode",
            format_args!("{v:#x} is not F_OK or R_OK|W_OK|X_OK"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_bits() {
        assert!(perm(0o644).is_ok());
        assert!(perm(0o7777).is_ok());
        let typed = perm(0o100644).unwrap_err();
        assert_eq!(
            typed.msg.as_str(),
            "0100644 has file-type bits 0100000, which Linux ignores and POSIX does not allow"
        );
        assert_eq!(typed.severity, Severity::Portability);
        let wide = perm(0o1000644).unwrap_err();
        assert_eq!(wide.msg.as_str(), "01000644 has bits outside 07777");
        assert_eq!(wide.severity, Severity::Error);
        assert_eq!(perm(-1).unwrap_err().severity, Severity::Error);
        assert_eq!(
            perm(0o77777).unwrap_err().severity,
            Severity::Error,
            "no file type"
        );
    }

    #[test]
    fn mknod_types() {
        for m in [
            0o644,
            libc::S_IFREG as i64 | 0o600,
            libc::S_IFIFO as i64 | 0o644,
            libc::S_IFCHR as i64,
        ] {
            assert!(with_type(m).is_ok(), "{m:o}");
        }
        assert_eq!(
            with_type(libc::S_IFDIR as i64 | 0o755).unwrap_err().msg.as_str(),
            "040755 has file type S_IFDIR (use mkdir), not S_IFREG, S_IFCHR, S_IFBLK, S_IFIFO or S_IFSOCK"
        );
        assert!(with_type(0o1000000).is_err());
    }

    #[test]
    fn access_modes() {
        assert!(access(libc::F_OK as i64).is_ok());
        assert!(access((libc::R_OK | libc::X_OK) as i64).is_ok());
        assert_eq!(
            access(8).unwrap_err().msg.as_str(),
            "0x8 is not F_OK or R_OK|W_OK|X_OK"
        );
    }
}
