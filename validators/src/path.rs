//! `pathname`: file names handed to the kernel.

use crate::{mem, text::Quoted, Fault, Verdict};
use core::ffi::c_void;

const CHECK: &str = "pathname";
const PATH_MAX: usize = libc::PATH_MAX as usize;
const NAME_MAX: usize = 255;

/// `pathname`: a string shorter than `PATH_MAX` (4096, NUL included) whose components are at most
/// `NAME_MAX` (255) bytes.
///
/// # Safety
/// The string is read only as far as the memory map says it is readable.
#[inline]
pub unsafe fn pathname(p: *const c_void) -> Verdict {
    // Most paths end inside a recently seen region within NAME_MAX bytes, so hold no component
    // longer than NAME_MAX.
    if mem::quick_strlen(p as usize, NAME_MAX + 1).is_some_and(|len| len <= NAME_MAX) {
        return Ok(());
    }
    pathname_slow(p as usize)
}

/// [`pathname`] for long, unterminated, unmapped or not recently seen strings.
///
/// # Safety
/// As [`pathname`].
#[inline(never)]
unsafe fn pathname_slow(addr: usize) -> Verdict {
    let Some(len) = mem::strlen(addr, PATH_MAX, CHECK)? else {
        return Ok(());
    };
    if len == PATH_MAX {
        return Err(Fault::new(
            CHECK,
            format_args!(
                "{} is not NUL-terminated within PATH_MAX ({PATH_MAX}) bytes",
                Quoted(crate::text::bytes(addr, len))
            ),
        ));
    }
    // A path no longer than NAME_MAX cannot hold a longer component: most paths stop here.
    if len <= NAME_MAX {
        return Ok(());
    }
    let path = crate::text::bytes(addr, len);
    if let Some(long) = path.split(|&b| b == b'/').find(|c| c.len() > NAME_MAX) {
        return Err(Fault::new(
            CHECK,
            format_args!(
                "component {} is {} bytes long (NAME_MAX is {NAME_MAX})",
                Quoted(long),
                long.len()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(s: &[u8]) -> Verdict {
        let mut v = s.to_vec();
        v.push(0);
        unsafe { pathname(v.as_ptr().cast()) }
    }

    #[test]
    fn lengths() {
        assert!(check(b"/etc/passwd").is_ok());
        assert!(
            check(b"").is_ok(),
            "an empty path is a runtime error (ENOENT), not a bad argument"
        );
        let name = vec![b'n'; 255];
        assert!(check(&[b"/tmp/".as_slice(), &name].concat()).is_ok());
        let long = vec![b'n'; 256];
        let f = check(&[b"/tmp/".as_slice(), &long, b"/x"].concat()).unwrap_err();
        assert_eq!(
            f.msg.as_str(),
            format!(
                "component \"{}\"… is 256 bytes long (NAME_MAX is 255)",
                "n".repeat(40)
            )
        );
        let deep: Vec<u8> = b"abc/".iter().copied().cycle().take(4095).collect();
        assert!(check(&deep).is_ok(), "4095 bytes + NUL fit in PATH_MAX");
        let deeper: Vec<u8> = b"abc/".iter().copied().cycle().take(4096).collect();
        let f = check(&deeper).unwrap_err();
        assert!(
            f.msg
                .as_str()
                .ends_with("is not NUL-terminated within PATH_MAX (4096) bytes"),
            "{f:?}"
        );
        assert_eq!(
            unsafe { pathname(0x10 as _) }.unwrap_err().msg.as_str(),
            "0x10 is not mapped"
        );
    }
}
