//! Quoting C data inside messages without allocating.

use core::fmt;

/// A C string shown the way a C programmer would write it, cut after [`Quoted::MAX`] bytes.
pub(crate) struct Quoted<'a>(pub &'a [u8]);

impl Quoted<'_> {
    /// Messages have a fixed capacity; a path or format can be far longer.
    const MAX: usize = 40;
}

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        for &b in self.0.iter().take(Self::MAX) {
            match b {
                b'"' => f.write_str("\\\"")?,
                b'\\' => f.write_str("\\\\")?,
                b'\n' => f.write_str("\\n")?,
                b'\t' => f.write_str("\\t")?,
                0x20..=0x7e => fmt::Write::write_char(f, b as char)?,
                _ => write!(f, "\\x{b:02x}")?,
            }
        }
        f.write_str(if self.0.len() > Self::MAX {
            "\"…"
        } else {
            "\""
        })
    }
}

/// A C integer in octal with C's leading zero (`0644`), as modes are written.
pub(crate) struct Octal(pub i64);

impl fmt::Display for Octal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 < 0 {
            write!(f, "-0{:o}", self.0.unsigned_abs())
        } else {
            write!(f, "0{:o}", self.0)
        }
    }
}

/// The bytes of the NUL-terminated string at `p` whose length is already known to be `len`.
///
/// # Safety
/// `p..p+len` must be readable.
pub(crate) unsafe fn bytes<'a>(p: usize, len: usize) -> &'a [u8] {
    core::slice::from_raw_parts(p as *const u8, len)
}

/// The bytes of the C string at `p` (without its NUL); `Ok(None)` for NULL or when the map cannot
/// tell, so that a rule that only looks at a string's contents leaves those to `string`; a fault
/// named `check` when it is not a readable string.
pub(crate) fn c_str<'a>(
    p: *const core::ffi::c_void,
    check: &'static str,
) -> Result<Option<&'a [u8]>, crate::Fault> {
    if p.is_null() {
        return Ok(None);
    }
    let Some(len) = crate::mem::strlen(p as usize, usize::MAX, check)? else {
        return Ok(None);
    };
    // SAFETY: strlen found len readable bytes and a NUL.
    Ok(Some(unsafe { bytes(p as usize, len) }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Fault;

    #[test]
    fn quoted_escapes_and_cuts() {
        let f = Fault::new("t", format_args!("{}", Quoted(b"a\"b\n\x01")));
        assert_eq!(f.msg.as_str(), "\"a\\\"b\\n\\x01\"");
        let long = [b'x'; 50];
        let f = Fault::new("t", format_args!("{}", Quoted(&long)));
        assert_eq!(f.msg.as_str(), format!("\"{}\"…", "x".repeat(40)));
    }

    #[test]
    fn octal_has_c_prefix() {
        let f = Fault::new("t", format_args!("{} {}", Octal(0o644), Octal(-8)));
        assert_eq!(f.msg.as_str(), "0644 -010");
    }
}
