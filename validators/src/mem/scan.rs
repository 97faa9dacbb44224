//! Scans for a string's terminator in memory the map says is readable.

/// The first zero `u32` in `from..to` (both 4-aligned).
///
/// # Safety
/// `from..to` must be readable.
pub(super) unsafe fn find_zero_u32(from: usize, to: usize) -> Option<usize> {
    (from..to)
        .step_by(4)
        .find(|&a| to - a >= 4 && *(a as *const u32) == 0)
}

/// The first NUL in `from..to`, 16 bytes at a time (SSE2, which every x86-64 has: most strings a
/// program passes fit in one or two such reads). Reads are aligned, so none crosses a page
/// boundary: the first and last may hold bytes outside `from..to`, but on the same pages as bytes
/// inside it, hence readable; those bytes are masked or ignored. Inline: called out of line
/// (through the GOT), the call cost `strlen`'s check a tenth of its instructions.
///
/// # Safety
/// `from..to` must be readable.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
pub(super) unsafe fn find_nul(from: usize, to: usize) -> Option<usize> {
    use core::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_load_si128, _mm_movemask_epi8};
    const CHUNK: usize = 16;
    if from >= to {
        return None;
    }
    // One bit per byte of the aligned chunk at `a`, set where the byte is NUL.
    let zeros = |a: usize| {
        let chunk = _mm_load_si128(a as *const __m128i);
        _mm_movemask_epi8(_mm_cmpeq_epi8(chunk, core::mem::zeroed())) as u32
    };
    let mut a = from & !(CHUNK - 1);
    // The bytes before `from` are not the string's.
    let mut mask = zeros(a) & (u32::MAX << (from - a));
    loop {
        if mask != 0 {
            let at = a + mask.trailing_zeros() as usize;
            return (at < to).then_some(at);
        }
        a += CHUNK;
        if a >= to {
            return None;
        }
        mask = zeros(a);
    }
}

/// The first NUL in `from..to`, a word at a time, by the reasoning of the SSE2 form.
///
/// # Safety
/// `from..to` must be readable.
#[cfg(not(target_arch = "x86_64"))]
#[inline(always)]
pub(super) unsafe fn find_nul(from: usize, to: usize) -> Option<usize> {
    const WORD: usize = core::mem::size_of::<usize>();
    const ONES: usize = usize::from_ne_bytes([0x01; WORD]);
    const HIGHS: usize = usize::from_ne_bytes([0x80; WORD]);
    if from >= to {
        return None;
    }
    let mut a = from & !(WORD - 1);
    // Little-endian order (first byte lowest) whatever the host, so the first NUL is the lowest
    // flagged byte; the bytes before `from` are forced non-zero.
    let word = |a: usize| usize::from_le(core::ptr::read(a as *const usize));
    let mut w = word(a) | ((1usize << (8 * (from - a))) - 1);
    loop {
        // Flags exactly the zero bytes up to and including the first one (borrows only run
        // upwards, past it).
        let zeros = w.wrapping_sub(ONES) & !w & HIGHS;
        if zeros != 0 {
            let at = a + zeros.trailing_zeros() as usize / 8;
            return (at < to).then_some(at);
        }
        a += WORD;
        if a >= to {
            return None;
        }
        w = word(a);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scan_finds_the_first_nul_at_every_alignment_and_stops_at_the_end() {
        let mut buf = [b'x'; 64];
        let base = buf.as_ptr() as usize;
        for from in 0..24 {
            for nul in from..40 {
                buf[nul] = 0;
                buf[nul + 3] = 0;
                for to in from..48 {
                    let want = (nul < to).then_some(base + nul);
                    // SAFETY: the whole buffer is readable.
                    let got = unsafe { find_nul(base + from, base + to) };
                    assert_eq!(got, want, "from {from} nul {nul} to {to}");
                }
                buf[nul] = b'x';
                buf[nul + 3] = b'x';
            }
        }
    }
}
