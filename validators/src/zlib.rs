//! `zstream`: the buffers a `z_stream` lends `deflate` and `inflate`.
//!
//! Only those two calls move data through the stream's buffers; the other stream calls
//! (`deflateEnd` after the buffers were freed, `deflateInit_` before they are set) leave them
//! alone, so the buffers are a rule of these parameters, not of every `z_stream`.

use crate::{mem, Verdict};
use core::ffi::c_void;

/// The head of zlib's `z_stream` on LP64 targets (zlib.h, unchanged since zlib 1.0): the input
/// and output buffers and their lengths. `dynchk-preload/tests/planted.rs` runs real zlib
/// against it.
#[repr(C)]
struct Head {
    next_in: usize,
    avail_in: u32,
    total_in: u64,
    next_out: usize,
    avail_out: u32,
}

/// `zstream`: `next_in` readable for `avail_in` bytes and `next_out` writable for `avail_out`
/// (faults name the member). A stream that is not readable passes: its own memory rule reports it.
/// A stream libz made itself (`nested`: `compress` calling `deflate`) passes too: the buffers are
/// the outer call's, which its own rules checked.
///
/// # Safety
/// Reads `strm` only where the memory map says it is readable.
pub unsafe fn stream(strm: *const c_void, nested: bool) -> Verdict {
    if nested || mem::readable(strm, core::mem::size_of::<Head>()).is_err() {
        return Ok(());
    }
    // SAFETY: readable, just checked.
    let h = unsafe { core::ptr::read_unaligned(strm as *const Head) };
    // SAFETY: only compared against the memory map.
    unsafe {
        mem::readable(h.next_in as *const c_void, h.avail_in as usize)
            .map_err(|f| f.member("next_in"))?;
        mem::writable(h.next_out as *const c_void, h.avail_out as usize)
            .map_err(|f| f.member("next_out"))
    }
}

/// `zdest`: a buffer or length `compress`/`uncompress` write (`dest` for `*destLen` bytes,
/// `destLen` itself), writable for `len` bytes, unless libz passes it on itself (`compress` calls
/// `compress2` with the caller's buffers, which the outer call's rules checked).
///
/// # Safety
/// `dest` is only compared against the memory map.
pub unsafe fn dest(dest: *const c_void, len: i64, nested: bool) -> Verdict {
    // SAFETY: the caller's promise.
    unless_nested(nested, || unsafe { mem::writable(dest, length(len)) })
}

/// `zsource`: the input of `compress`/`uncompress`, readable for `len` bytes, unless libz passes
/// it on itself (as for [`dest`]).
///
/// # Safety
/// `src` is only compared against the memory map.
pub unsafe fn source(src: *const c_void, len: i64, nested: bool) -> Verdict {
    // SAFETY: the caller's promise.
    unless_nested(nested, || unsafe { mem::readable(src, length(len)) })
}

/// A negative length as the largest: a `uLong` that does not fit is unsatisfiable anyway.
fn length(len: i64) -> usize {
    usize::try_from(len).unwrap_or(usize::MAX)
}

/// `check`'s verdict for the caller's own call; libz's inner calls pass.
fn unless_nested(nested: bool, check: impl FnOnce() -> Verdict) -> Verdict {
    if nested {
        return Ok(());
    }
    check()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::Map;

    fn head(next_in: usize, avail_in: u32, next_out: usize, avail_out: u32) -> Head {
        Head {
            next_in,
            avail_in,
            total_in: 0,
            next_out,
            avail_out,
        }
    }

    fn verdict(h: &Head) -> String {
        match unsafe { stream(h as *const Head as *const c_void, false) } {
            Ok(()) => "ok".into(),
            Err(f) => format!("{} {f:?}", f.member.unwrap_or("-")),
        }
    }

    #[test]
    fn the_buffers_hold_what_the_lengths_say() {
        let mut buf = [0u8; 64];
        let ro = Map::new(1, libc::PROT_READ);
        let b = buf.as_mut_ptr() as usize;
        assert_eq!(verdict(&head(b, 64, b, 64)), "ok");
        assert_eq!(
            verdict(&head(0, 0, 0, 0)),
            "ok",
            "empty buffers are never touched"
        );
        assert_eq!(
            verdict(&head(ro.0 as usize, 16, b, 1)),
            "ok",
            "input is only read"
        );
        assert_eq!(
            verdict(&head(0x10, 4, b, 64)),
            "next_in Rdaddress: 0x10 is not mapped"
        );
        assert_eq!(
            verdict(&head(b, 64, ro.0 as usize, 8)),
            format!(
                "next_out RWaddress: {:#x} is not writable (mapped r--)",
                ro.0 as usize
            )
        );
        assert!(unsafe { stream(0x10 as *const c_void, false) }.is_ok());
        let bad = head(0x10, 4, b, 64);
        assert!(
            unsafe { stream(&bad as *const Head as *const c_void, true) }.is_ok(),
            "libz's own calls are not checked"
        );
        let mut buf = [0u8; 16];
        let b = buf.as_mut_ptr() as *const c_void;
        assert!(unsafe { dest(b, 16, false) }.is_ok());
        assert!(unsafe { dest(0x10 as *const c_void, 16, false) }.is_err());
        assert!(unsafe { dest(0x10 as *const c_void, 16, true) }.is_ok());
        let ro = Map::new(1, libc::PROT_READ);
        assert!(unsafe { source(ro.0 as *const c_void, 16, false) }.is_ok());
        assert!(unsafe { dest(ro.0 as *const c_void, 16, false) }.is_err());
        assert!(unsafe { source(0x10 as *const c_void, 16, false) }.is_err());
        assert!(unsafe { source(0x10 as *const c_void, 16, true) }.is_ok());
    }
}
