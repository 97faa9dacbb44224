//! Memory: a cache of `/proc/self/maps` and the address validators built on it.
//!
//! [`snapshot`] holds the cache and its latch, [`maps`] parses `/proc/self/maps` into it,
//! [`recent`] remembers the regions checks hit, [`window`] the big heap blocks a thread's
//! checks passed, [`scan`] finds a string's terminator.

mod maps;
mod recent;
mod scan;
mod snapshot;
pub(crate) mod window;

use crate::{sys, Fault, Verdict};
use core::ffi::c_void;
use core::fmt;
use core::sync::atomic::{AtomicUsize, Ordering};
use scan::{find_nul, find_zero_u32};
pub use snapshot::{after_fork, invalidate, refreshes};
use snapshot::{lookup, Seen, Span};
pub use window::Windows;

const READ: usize = 1;
const WRITE: usize = 2;
const EXEC: usize = 4;
/// Backed by a file (inode != 0): executables, libraries, mapped files.
const FILE: usize = 8;
/// The main thread's `[stack]`.
const STACK: usize = 16;

/// `vm.mmap_min_addr`, read once (`usize::MAX` until then).
static MIN_ADDR: AtomicUsize = AtomicUsize::new(usize::MAX);

/// Below `vm.mmap_min_addr` only an explicit `mmap` (which invalidates the cache) can map memory,
/// so a fresh snapshot's "unmapped" there is final: a NULL-page pointer costs no re-read.
fn below_min_addr(addr: usize) -> bool {
    let mut min = MIN_ADDR.load(Ordering::Relaxed);
    if min == usize::MAX {
        // Unreadable: claim nothing, every miss re-reads.
        min = sys::read_number(c"/proc/sys/vm/mmap_min_addr").map_or(0, |m| m as usize);
        MIN_ADDR.store(min, Ordering::Relaxed);
    }
    addr < min
}

/// `n` elements of `size` bytes as a byte length, or the fault to report when it overflows.
///
/// ```
/// assert_eq!(validators::mem::array_len(3, 16, "RWaddress").unwrap(), 48);
/// let f = validators::mem::array_len(usize::MAX, 2, "RWaddress").unwrap_err();
/// assert_eq!(f.msg.as_str(), "18446744073709551615 elements of 2 bytes overflow size_t");
/// ```
pub fn array_len(n: usize, size: usize, check: &'static str) -> Result<usize, Fault> {
    n.checked_mul(size).ok_or_else(|| {
        Fault::new(
            check,
            format_args!("{n} elements of {size} bytes overflow size_t"),
        )
    })
}

/// `Rdaddress`: `p..p+len` is mapped readable (a zero length is always fine).
///
/// # Safety
/// None beyond the caller's: `p` is only compared against the memory map, never dereferenced.
#[inline(always)]
pub unsafe fn readable(p: *const c_void, len: usize) -> Verdict {
    buffer(p, len, READ, "Rdaddress")
}

/// `RWaddress`: `p..p+len` is mapped readable and writable (a zero length is always fine).
///
/// # Safety
/// None beyond the caller's: `p` is never dereferenced.
#[inline(always)]
pub unsafe fn writable(p: *const c_void, len: usize) -> Verdict {
    buffer(p, len, READ | WRITE, "RWaddress")
}

/// [`readable`] and [`writable`]: inside its heap block, if it starts in one, and mapped with the
/// permissions `need`. The common case is one look at the recently seen regions; in a file
/// mapping that holds the whole range the heap is not asked (see [`in_block`]). A zero length
/// passes at once: no byte is touched, and the heap passes it anywhere (even at a freed block's
/// start), so asking it, as sqlite's 10,000 `memmove(p, q, 0)` did, only cost two calls.
#[inline(always)]
unsafe fn buffer(p: *const c_void, len: usize, need: usize, check: &'static str) -> Verdict {
    let addr = p as usize;
    if len == 0 {
        return Ok(());
    }
    // Inside a window from 0 would wrap: `window::end` never holds address 0.
    if window::end(addr, need).is_some_and(|hi| len <= hi - addr) {
        return Ok(());
    }
    buffer_past_windows(p, len, need, check)
}

/// [`buffer`] past the windows' look.
#[inline(always)]
unsafe fn buffer_past_windows(
    p: *const c_void,
    len: usize,
    need: usize,
    check: &'static str,
) -> Verdict {
    let addr = p as usize;
    if len == 0 {
        return Ok(());
    }
    if addr != 0 {
        if let Some(r) = recent_fit(addr, len, need) {
            return in_block(p, len, r.flags, check);
        }
    }
    heap_slow(p, len, check)?;
    range_slow(addr, len, need, check)
}

/// `heap::within` unless the bytes lie in a file mapping (`flags` are its region's): glibc's
/// malloc hands out anonymous memory only, so no block can be there, and a heap lookup there
/// (string literals, stdout's `FILE` in libc's data, which share a shadow leaf with the heap
/// next to them) only scans shadow to find nothing. A big block that passes becomes this
/// thread's latest window.
#[inline(always)]
fn in_block(p: *const c_void, len: usize, flags: usize, check: &'static str) -> Verdict {
    if flags & FILE != 0 {
        return Ok(());
    }
    crate::heap::within_noting(p, len, check, |start, block| {
        window::remember(p as usize, start, block)
    })
}

/// [`in_block`] when the region is not known yet: a fault of the heap lookup stands unless the
/// map says `p` is in a file mapping, so that the verdict does not depend on what is remembered.
fn heap_slow(p: *const c_void, len: usize, check: &'static str) -> Verdict {
    crate::heap::within(p, len, check).or_else(|f| {
        let addr = p as usize;
        let file = lookup(
            |s| s.find(addr).map(|i| s.seen(i)),
            Option::is_some,
            |_| None,
        )
        .and_then(|(seen, _)| seen)
        .is_some_and(|r| r.flags & FILE != 0);
        if file {
            Ok(())
        } else {
            Err(f)
        }
    })
}

/// What a check that found `addr..addr+len` readable depends on, for a memo of it: the epoch
/// of the map snapshot it was read from and whether the bytes lie in a file mapping; `None`
/// unless one recently seen region holds them all, readable.
pub(crate) fn readable_stamp(addr: usize, len: usize) -> Option<(usize, bool)> {
    let (r, stamp) = recent::get_stamped(addr)?;
    (r.flags & READ != 0 && len <= r.end - addr).then_some((stamp.epoch, r.flags & FILE != 0))
}

/// The epoch [`readable_stamp`] gives now: a memo made under another one is void.
#[inline(always)]
pub(crate) fn stamp_now() -> usize {
    recent::now().epoch
}

/// `codeaddress`: `p` points into executable memory.
///
/// # Safety
/// None beyond the caller's: `p` is never dereferenced.
#[inline]
pub unsafe fn code(p: *const c_void) -> Verdict {
    range(p as usize, 1, EXEC, "codeaddress")
}

/// `string`: a NUL-terminated string in readable memory.
///
/// # Safety
/// The bytes before the NUL are read, but only where the memory map says they are readable.
#[inline(always)]
pub unsafe fn string(p: *const c_void) -> Verdict {
    if window::on() {
        string_in_windows(p)
    } else {
        string_past_windows(p)
    }
}

/// [`string`] once windows are on: a small frame for the look at them, the full check's (six
/// saved registers, room for a fault) only past it, where sort's 6 million strings in its
/// line buffer each paid about 15 instructions for it. Out of line, as the full check: inlined
/// into the interposers of every string parameter it made the preload 2.4 MB bigger.
#[inline(never)]
unsafe fn string_in_windows(p: *const c_void) -> Verdict {
    // SAFETY: `string` calls it only once windows are on.
    if unsafe { window_strlen_on(p as usize) }.is_some() {
        return Ok(());
    }
    string_past_windows(p)
}

/// [`string`] past the windows: where it found none holding `p`, or where
/// [`strings_in_windows`] said windows are off.
///
/// # Safety
/// As [`string`].
#[inline(never)]
pub unsafe fn string_past_windows(p: *const c_void) -> Verdict {
    let addr = p as usize;
    let (len, flags) = match quick_scan(addr, usize::MAX) {
        Some(found) => found,
        None => match strlen(addr, usize::MAX, "string")? {
            Some(len) => return heap_slow(p, len + 1, "string"),
            None => return Ok(()),
        },
    };
    in_block(p, len + 1, flags, "string")
}

/// The length of the string at `addr` if it and its NUL lie in one of this thread's windows.
#[inline(always)]
fn window_strlen(addr: usize) -> Option<usize> {
    if !window::on() {
        return None;
    }
    // SAFETY: they are.
    unsafe { window_strlen_on(addr) }
}

/// [`window_strlen`] once windows are on.
///
/// # Safety
/// As [`window::end_on`].
#[inline(always)]
unsafe fn window_strlen_on(addr: usize) -> Option<usize> {
    // SAFETY: the caller's.
    let hi = unsafe { window::end_on(addr, READ) }?;
    // SAFETY: a valid window is readable to its end.
    let nul = unsafe { find_nul(addr, hi) }?;
    Some(nul - addr)
}

/// The length of the string at `p` when [`string`] passes on its fast path (the NUL inside a
/// recently seen readable region, the string inside its heap block); `None`: run [`string`].
///
/// # Safety
/// As [`string`].
#[inline]
pub unsafe fn string_len(p: *const c_void) -> Option<usize> {
    if let Some(len) = window_strlen(p as usize) {
        return Some(len);
    }
    let (len, flags) = quick_scan(p as usize, usize::MAX)?;
    // The heap's no-call answer only, no fault: the caller's frame stays small.
    (flags & FILE != 0 || crate::heap::passes(p as usize, len + 1)).then_some(len)
}

/// What one look at the windows said of an interposer's two buffer or string checks
/// ([`buffers_in_windows`], [`strings_in_windows`]).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Pair {
    /// Windows are off: make both checks past them ([`readable_past_windows`], …), so that the
    /// pair costs the one test of the flag each check made.
    Off,
    /// Not both in windows: make both checks (each looks at the windows again).
    Apart,
    /// Both lie in windows: both checks pass.
    Both,
}

/// [`Pair`] of the buffer checks of `a..a+len_a` and `b..b+len_b` ([`readable`], or
/// [`writable`] where `writes_*`), for an interposer that checks two buffers (`memcmp`,
/// `memcpy`): one look answers for both (see `window::ends_on`), where sort's `memcmp` into its
/// line buffer made two.
///
/// # Safety
/// None beyond the caller's: the pointers are never dereferenced.
#[inline(always)]
pub unsafe fn buffers_in_windows(
    a: *const c_void,
    len_a: usize,
    writes_a: bool,
    b: *const c_void,
    len_b: usize,
    writes_b: bool,
) -> Pair {
    if !window::on() {
        return Pair::Off;
    }
    let need = |writes| if writes { READ | WRITE } else { READ };
    let (a, b) = (a as usize, b as usize);
    // SAFETY: windows are on.
    match unsafe { window::ends_on(a, need(writes_a), b, need(writes_b)) } {
        Some((end_a, end_b)) if len_a <= end_a - a && len_b <= end_b - b => Pair::Both,
        _ => Pair::Apart,
    }
}

/// [`readable`] where [`buffers_in_windows`] said windows are off.
///
/// # Safety
/// As [`readable`].
#[inline(always)]
pub unsafe fn readable_past_windows(p: *const c_void, len: usize) -> Verdict {
    buffer_past_windows(p, len, READ, "Rdaddress")
}

/// [`writable`] where [`buffers_in_windows`] said windows are off.
///
/// # Safety
/// As [`writable`].
#[inline(always)]
pub unsafe fn writable_past_windows(p: *const c_void, len: usize) -> Verdict {
    buffer_past_windows(p, len, READ | WRITE, "RWaddress")
}

/// [`Pair`] of the [`string`] checks of `a` and `b` (`strcoll`, `strcmp`).
///
/// # Safety
/// As [`string`].
#[inline(always)]
pub unsafe fn strings_in_windows(a: *const c_void, b: *const c_void) -> Pair {
    if !window::on() {
        return Pair::Off;
    }
    // SAFETY: windows are on; the caller's.
    if unsafe { strings_on(a as usize, b as usize) } {
        Pair::Both
    } else {
        Pair::Apart
    }
}

/// Whether both strings lie in windows, in a small frame of its own as [`string_in_windows`].
#[inline(never)]
unsafe fn strings_on(a: usize, b: usize) -> bool {
    // SAFETY: the caller saw windows on.
    let Some((end_a, end_b)) = (unsafe { window::ends_on(a, READ, b, READ) }) else {
        return false;
    };
    // SAFETY: a valid window is readable to its end.
    unsafe { find_nul(a, end_a).is_some() && find_nul(b, end_b).is_some() }
}

/// How many bytes from `p` a [`writable`] check would pass: to the end of its mapped region,
/// or of its heap block when it lies in one. `None` when no recently seen region holds `p`
/// writable: the caller checks a length it knows instead.
pub fn room(p: *const c_void) -> Option<usize> {
    let addr = p as usize;
    let r = recent::get(addr).filter(|r| addr != 0 && r.flags & (READ | WRITE) == READ | WRITE)?;
    let region = r.end - addr;
    if r.flags & FILE != 0 {
        return Some(region);
    }
    Some(crate::heap::room(p).map_or(region, |block| block.min(region)))
}

/// `string`: readable up to its NUL or `n` bytes, whichever comes first.
///
/// # Safety
/// As [`string`].
#[inline]
pub unsafe fn string_n(p: *const c_void, n: usize) -> Verdict {
    if n == 0 {
        return Ok(());
    }
    let Some(len) = strlen(p as usize, n, "string")? else {
        return Ok(());
    };
    crate::heap::within(p, (len + 1).min(n), "string")
}

/// `heapaddress`: a pointer `malloc` could have returned (for `free`, `realloc`): aligned, in
/// writable memory, not on the calling thread's stack or the main stack, not in a file mapping.
///
/// # Safety
/// None beyond the caller's: `p` is never dereferenced.
pub unsafe fn heap(p: *const c_void) -> Verdict {
    const CHECK: &str = "heapaddress";
    let addr = p as usize;
    if addr == 0 {
        return Err(Fault::new(CHECK, format_args!("NULL")));
    }
    // Every allocator returns at least pointer-aligned blocks (glibc: 16).
    if !addr.is_multiple_of(core::mem::size_of::<usize>()) {
        return Err(Fault::new(
            CHECK,
            format_args!(
                "{addr:#x} is not {}-byte aligned, so no malloc returned it",
                core::mem::size_of::<usize>()
            ),
        ));
    }
    let marker = 0u8;
    let sp = core::ptr::addr_of!(marker) as usize;
    // A block of a malloc arena: read-write, anonymous, and not the region of our own stack.
    let heaplike =
        |r: &Seen| r.flags & (READ | WRITE | STACK | FILE) == READ | WRITE && !r.holds(sp);
    if recent::get(addr).is_some_and(|r| heaplike(&r)) {
        return Ok(());
    }
    let look = lookup(
        |s| {
            let at = s.find(addr);
            (
                at.map(|i| s.seen(i)),
                at.is_some() && at == s.find(sp),
                s.complete.load(Ordering::Relaxed),
            )
        },
        // Every negative verdict is confirmed on a fresh map: glibc grows a thread arena with
        // its own mprotect, which no invalidate() follows.
        |&(seen, _, _)| seen.is_some_and(|r| heaplike(&r)) || below_min_addr(addr),
        |&(seen, _, _)| seen.is_none().then_some(addr),
    );
    let Some(((seen, on_my_stack, complete), stamp)) = look else {
        return Ok(());
    };
    if let (Some(r), Some(stamp)) = (seen, stamp) {
        recent::put(addr, stamp, r);
    }
    let why = match seen.map(|r| r.flags) {
        None if complete => "is not mapped",
        None => return Ok(()),
        Some(f) if f & STACK != 0 || on_my_stack => "is on the stack",
        Some(f) if f & FILE != 0 => "is in a file mapping",
        Some(f) if f & (READ | WRITE) != READ | WRITE => {
            return Err(Fault::new(
                CHECK,
                format_args!(
                    "{addr:#x} is not in writable memory (mapped {}), so no malloc returned it",
                    Perms(f)
                ),
            ))
        }
        Some(_) => return Ok(()),
    };
    Err(Fault::new(
        CHECK,
        format_args!("{addr:#x} {why}, not on the heap"),
    ))
}

/// The start of the mapped region holding `addr` (a stack pointer), `None` when the map cannot
/// tell or the region is the main thread's `[stack]`, which the kernel grows on demand.
pub fn region_start(addr: usize) -> Option<usize> {
    let seen = match recent::get(addr) {
        Some(r) => r,
        None => {
            lookup(
                |s| s.find(addr).map(|i| s.seen(i)),
                Option::is_some,
                |_| None,
            )?
            .0?
        }
    };
    (seen.flags & STACK == 0).then_some(seen.start)
}

/// Checks a byte range against the memory map; `need` are the permission bits every byte needs.
#[inline]
fn range(addr: usize, len: usize, need: usize, check: &'static str) -> Verdict {
    // The common case in one test: a range inside a recently seen region (a zero length passes
    // trivially; NULL and a wrapping range are never inside one).
    if len == 0 || (addr != 0 && recent_fit(addr, len, need).is_some()) {
        return Ok(());
    }
    range_slow(addr, len, need, check)
}

/// The recently seen region holding all `len` bytes from `addr` with the permissions `need`.
#[inline(always)]
fn recent_fit(addr: usize, len: usize, need: usize) -> Option<Seen> {
    recent::get(addr).filter(|r| r.flags & need == need && len <= r.end.wrapping_sub(addr))
}

/// [`range`] when no recent region answers: the snapshot, then a fresh map.
#[inline(never)]
fn range_slow(addr: usize, len: usize, need: usize, check: &'static str) -> Verdict {
    if addr == 0 {
        return Err(Fault::new(check, format_args!("NULL")));
    }
    if addr.checked_add(len).is_none() {
        return Err(Fault::new(
            check,
            format_args!("{addr:#x} + {len} bytes runs past the end of the address space"),
        ));
    }
    let hit = |s: &Span| s.bytes >= len || (s.region.is_none() && below_min_addr(addr));
    match lookup(
        |s| s.span(addr, need, len, usize::MAX),
        hit,
        Span::gap_at(addr),
    ) {
        Some((span, _)) if span.bytes < len && span.complete => {
            Err(span.fault(check, addr, len, need))
        }
        Some((span, Some(stamp))) => {
            if let Some(r) = span.region {
                recent::put(addr, stamp, r);
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The common case of [`strlen`], small enough to inline into every caller: the length of a string
/// whose NUL lies within its first `max` bytes inside the recently seen readable region holding
/// `addr`. `None` means "ask [`strlen`]", never "unterminated".
#[inline(always)]
pub(crate) fn quick_strlen(addr: usize, max: usize) -> Option<usize> {
    quick_scan(addr, max).map(|(len, _)| len)
}

/// [`quick_strlen`] with the flags of the region that holds the string and its NUL.
#[inline(always)]
fn quick_scan(addr: usize, max: usize) -> Option<(usize, usize)> {
    let r = recent::get(addr).filter(|r| r.flags & READ != 0 && addr != 0)?;
    let stop = r.end.min(addr.saturating_add(max));
    // SAFETY: the current snapshot says the region, so addr..stop, is readable.
    let nul = unsafe { find_nul(addr, stop) }?;
    Some((nul - addr, r.flags))
}

/// Length of the string at `addr` (without its NUL), or `max` when its first `max` bytes hold no
/// NUL; the scan reads one region at a time and never past a readable one. `Ok(None)` when the
/// map cannot tell (it could not be read, or has more regions than the cache holds): the caller
/// must then neither report nor read the string.
pub(crate) fn strlen(addr: usize, max: usize, check: &'static str) -> Result<Option<usize>, Fault> {
    // The inlined look at one recent region first: most strings end in the one they start in.
    match quick_strlen(addr, max) {
        Some(len) => Ok(Some(len)),
        None => terminated::<1>(addr, max, check),
    }
}

/// [`strlen`] for `wchar_t` strings: the length in characters, at most `max`.
pub(crate) fn wcslen(addr: usize, max: usize, check: &'static str) -> Result<Option<usize>, Fault> {
    const UNIT: usize = core::mem::size_of::<libc::wchar_t>();
    if !addr.is_multiple_of(UNIT) {
        return Err(Fault::new(
            check,
            format_args!("{addr:#x} is not aligned for wchar_t"),
        ));
    }
    terminated::<UNIT>(addr, max, check)
}

/// Units of `UNIT` bytes before the first all-zero unit at `addr`, at most `max`.
fn terminated<const UNIT: usize>(
    addr: usize,
    max: usize,
    check: &'static str,
) -> Result<Option<usize>, Fault> {
    if addr == 0 {
        return Err(Fault::new(check, format_args!("NULL")));
    }
    // Whole units only, so that no read straddles the end of the allowed bytes.
    let max_bytes = max.saturating_mul(UNIT).min(usize::MAX - addr) / UNIT * UNIT;
    let mut cur = addr;
    loop {
        let left = max_bytes - (cur - addr);
        // One region at a time: a run of adjacent readable regions can be long, the string short.
        let readable = match recent::get(cur) {
            Some(r) if r.flags & READ != 0 => (r.end - cur).min(left),
            _ => readable_run(addr, cur, left, check)?,
        };
        if readable == 0 {
            return Ok(None);
        }
        // Regions are page-aligned and addr is unit-aligned, so runs hold whole units.
        let stop = cur + readable;
        // SAFETY: the snapshot (fresh, or just re-read) says cur..stop is readable.
        let nul = unsafe {
            if UNIT == 1 {
                find_nul(cur, stop)
            } else {
                find_zero_u32(cur, stop)
            }
        };
        if let Some(nul) = nul {
            return Ok(Some((nul - addr) / UNIT));
        }
        cur = stop;
        if cur - addr == max_bytes {
            return Ok(Some(max));
        }
    }
}

/// How many bytes from `cur` on (at most `left`) the region holding it lets a string scan read,
/// from the snapshot or a fresh map; 0 when the map cannot tell. The fault when `cur` is not
/// readable, for the string that started at `addr`.
#[inline(never)]
fn readable_run(addr: usize, cur: usize, left: usize, check: &'static str) -> Result<usize, Fault> {
    let hit = |s: &Span| s.bytes > 0 || (s.region.is_none() && below_min_addr(cur));
    let Some((span, stamp)) = lookup(|s| s.span(cur, READ, left, 1), hit, Span::gap_at(cur)) else {
        return Ok(0);
    };
    if let (Some(r), Some(stamp)) = (span.region, stamp) {
        recent::put(cur, stamp, r);
    }
    match (span.bytes, span.complete, cur == addr) {
        (0, false, _) => Ok(0),
        (0, true, true) => Err(span.fault(check, addr, 1, READ)),
        (0, true, false) => Err(Fault::new(
            check,
            format_args!(
                "{addr:#x} is not NUL-terminated within its {} readable bytes",
                cur - addr
            ),
        )),
        (bytes, _, _) => Ok(bytes),
    }
}

/// Permission bits the way `/proc/self/maps` shows them (`r-x`).
struct Perms(usize);

impl fmt::Display for Perms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bit = |mask, c| if self.0 & mask != 0 { c } else { '-' };
        write!(f, "{}{}{}", bit(READ, 'r'), bit(WRITE, 'w'), bit(EXEC, 'x'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{Map, PAGE};

    /// A verdict as `check: message`, empty when it passed.
    pub(super) fn msg(v: Verdict) -> String {
        v.map(|_| String::new())
            .unwrap_or_else(|f| format!("{}: {}", f.check, f.msg.as_str()))
    }

    #[test]
    fn the_null_page_is_known_unmapped_without_a_re_read() {
        let min: usize = std::fs::read_to_string("/proc/sys/vm/mmap_min_addr")
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        assert_eq!(below_min_addr(0x10), 0x10 < min);
        assert!(!below_min_addr(min));
        assert_eq!(
            unsafe { readable(0x10 as _, 4) }.unwrap_err().msg.as_str(),
            "0x10 is not mapped",
            "the shortcut still reports"
        );
    }

    #[test]
    fn stack_buffer_is_readable_and_writable() {
        let buf = [0u8; 64];
        unsafe {
            assert!(readable(buf.as_ptr().cast(), 64).is_ok());
            assert!(writable(buf.as_ptr().cast(), 64).is_ok());
        }
    }

    #[test]
    fn null_and_unmapped_and_wrapping() {
        unsafe {
            assert_eq!(msg(writable(core::ptr::null(), 8)), "RWaddress: NULL");
            assert!(
                writable(core::ptr::null(), 0).is_ok(),
                "read(fd, NULL, 0) is legal"
            );
            assert_eq!(msg(readable(0x10 as _, 4)), "Rdaddress: 0x10 is not mapped");
            assert_eq!(
                msg(readable(usize::MAX as _, 2)),
                "Rdaddress: 0xffffffffffffffff + 2 bytes runs past the end of the address space"
            );
        }
    }

    #[test]
    fn read_only_mapping_is_readable_not_writable() {
        let m = Map::new(1, libc::PROT_READ);
        unsafe {
            assert!(readable(m.at(0), PAGE).is_ok());
            assert_eq!(
                msg(writable(m.at(8), 8)),
                format!(
                    "RWaddress: {:#x} is not writable (mapped r--)",
                    m.0 as usize + 8
                )
            );
        }
    }

    #[test]
    fn a_tail_taken_away_is_reported_after_invalidate() {
        let m = Map::new(2, libc::PROT_READ | libc::PROT_WRITE);
        let p = m.at(PAGE - 8);
        unsafe {
            assert!(writable(p, 64).is_ok());
            // PROT_NONE rather than munmap: a test running in parallel could map the hole.
            m.protect(PAGE, PAGE, libc::PROT_NONE);
            assert_eq!(
                msg(writable(p, 64)),
                format!(
                    "RWaddress: {:#x} is writable for 8 of the 64 bytes",
                    p as usize
                )
            );
        }
    }

    #[test]
    fn a_mapping_made_behind_the_cache_is_found_on_a_miss() {
        let buf = [0u8; 8];
        unsafe { assert!(readable(buf.as_ptr().cast(), 8).is_ok()) };
        // Mapped with no invalidate(): only the re-read on a miss can find it.
        let p = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                PAGE,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        unsafe {
            assert!(readable(p, PAGE).is_ok());
            libc::munmap(p, PAGE);
        }
        invalidate();
    }

    #[test]
    fn ranges_span_adjacent_regions() {
        let m = Map::new(2, libc::PROT_READ | libc::PROT_WRITE);
        m.protect(0, PAGE, libc::PROT_READ);
        unsafe {
            assert!(
                readable(m.at(PAGE - 4), 8).is_ok(),
                "r-- then rw-: readable throughout"
            );
            assert!(writable(m.at(PAGE), PAGE).is_ok());
            assert_eq!(
                msg(writable(m.at(PAGE - 4), 8)),
                format!(
                    "RWaddress: {:#x} is not writable (mapped r--)",
                    m.0 as usize + PAGE - 4
                )
            );
        }
    }

    #[test]
    fn strings_end_at_their_nul_or_fail_at_the_mapping_end() {
        let m = Map::new(2, libc::PROT_READ | libc::PROT_WRITE);
        m.protect(PAGE, PAGE, libc::PROT_NONE);
        unsafe {
            core::ptr::write_bytes(m.0, b'a', PAGE);
            let start = m.at(PAGE - 100);
            assert_eq!(
                msg(string(start)),
                format!(
                    "string: {:#x} is not NUL-terminated within its 100 readable bytes",
                    start as usize
                )
            );
            assert!(
                string_n(start, 100).is_ok(),
                "100 bytes are readable and n stops the read there"
            );
            assert!(string_n(start, 101).is_err());
            *m.0.add(PAGE - 1) = 0;
            assert!(string(start).is_ok());
            assert_eq!(
                strlen(m.0 as usize + 3, usize::MAX, "string").unwrap(),
                Some(PAGE - 4)
            );
            assert_eq!(
                msg(string(m.at(PAGE))),
                format!(
                    "string: {:#x} is not readable (mapped ---)",
                    m.0 as usize + PAGE
                )
            );
            assert_eq!(msg(string(core::ptr::null())), "string: NULL");
        }
    }

    #[test]
    fn a_string_may_continue_into_the_next_region() {
        let m = Map::new(2, libc::PROT_READ | libc::PROT_WRITE);
        unsafe {
            core::ptr::write_bytes(m.0, b'b', PAGE + 10);
            *m.0.add(PAGE + 10) = 0;
        }
        m.protect(0, PAGE, libc::PROT_READ);
        assert_eq!(
            strlen(m.0 as usize + PAGE - 5, usize::MAX, "string").unwrap(),
            Some(15)
        );
    }

    #[test]
    fn the_scan_crosses_pages_and_ends_exactly_at_a_prot_none_page() {
        let m = Map::new(3, libc::PROT_READ | libc::PROT_WRITE);
        m.protect(2 * PAGE, PAGE, libc::PROT_NONE);
        unsafe { core::ptr::write_bytes(m.0, b'w', 2 * PAGE) };
        let guard = m.0 as usize + 2 * PAGE;
        for back in [PAGE + 1, PAGE + 7, PAGE + 8, PAGE + 13] {
            let start = guard - back;
            assert_eq!(
                msg(unsafe { string(start as _) }),
                format!(
                    "string: {start:#x} is not NUL-terminated within its {back} readable bytes"
                ),
                "the scan read up to the guard page and no further"
            );
            assert_eq!(strlen(start, back, "string").unwrap(), Some(back));
            assert_eq!(strlen(start, back - 1, "string").unwrap(), Some(back - 1));
        }
        // SAFETY: the last readable byte, just before the guard page.
        unsafe { *(guard as *mut u8).sub(1) = 0 };
        for back in [PAGE + 1, PAGE + 7, PAGE + 8, PAGE + 13] {
            let start = guard - back;
            assert_eq!(strlen(start, usize::MAX, "string").unwrap(), Some(back - 1));
            assert_eq!(
                strlen(start, back - 3, "string").unwrap(),
                Some(back - 3),
                "a NUL past the limit, in the same word, is not seen"
            );
        }
    }

    #[test]
    fn the_inlined_string_scan_answers_only_for_a_nul_within_its_limit() {
        let (_m, p) = Map::before_guard(b"seven c\0");
        let addr = p as usize;
        // Retried: tests running in parallel invalidate the map, which voids remembered regions.
        let remembered = crate::testutil::eventually(|| {
            assert_eq!(strlen(addr, usize::MAX, "string").unwrap(), Some(7));
            quick_strlen(addr, usize::MAX) == Some(7)
                && quick_strlen(addr, 8) == Some(7)
                && quick_strlen(addr, 7).is_none()
                && quick_strlen(addr + 1, usize::MAX) == Some(6)
        });
        assert!(
            remembered,
            "the region strlen read is used, up to the limit (a NUL past it is not seen)"
        );
        assert_eq!(
            quick_strlen(addr + 8, usize::MAX),
            None,
            "the guard page is not readable"
        );
        assert_eq!(quick_strlen(0, usize::MAX), None);
    }

    #[test]
    fn a_remembered_region_is_forgotten_when_the_map_is_re_read() {
        let m = Map::new(1, libc::PROT_READ | libc::PROT_WRITE);
        let p = m.at(16);
        unsafe {
            assert!(writable(p, 8).is_ok());
            assert!(writable(p, 8).is_ok(), "now from the remembered region");
            // No invalidate(), as when glibc changes a mapping on its own: only a re-read shows it.
            assert_eq!(libc::mprotect(m.0.cast(), PAGE, libc::PROT_READ), 0);
            // A miss elsewhere re-reads and publishes the map. Retried because a refresh that
            // another test started before the mprotect may publish the old picture meanwhile;
            // on a loaded machine (other builds sharing 2 cores) 3 tries were once not enough.
            let voided = (0..100).any(|_| {
                assert!(readable((1usize << 46) as _, 4).is_err(), "unmapped");
                let seen = writable(p, 8).is_err();
                if !seen {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                seen
            });
            assert!(voided, "the refresh voided the remembered rw-");
            assert_eq!(
                msg(writable(p, 8)),
                format!("RWaddress: {:#x} is not writable (mapped r--)", p as usize)
            );
        }
    }

    #[test]
    fn free_of_an_arena_block_glibc_made_writable_behind_the_cache_is_no_fault() {
        let m = Map::new(1, libc::PROT_NONE);
        let p = m.at(64);
        unsafe {
            assert_eq!(
                msg(heap(p)),
                format!(
                    "heapaddress: {:#x} is not in writable memory (mapped ---), so no malloc returned it",
                    p as usize
                )
            );
            // glibc grows a thread arena with its internal mprotect: no invalidate() follows.
            assert_eq!(
                libc::mprotect(m.0.cast(), PAGE, libc::PROT_READ | libc::PROT_WRITE),
                0
            );
            assert!(heap(p).is_ok(), "the negative verdict was re-read first");
            assert!(heap(p).is_ok(), "and the region is remembered as it is now");
        }
    }

    /// glibc's malloc hands out anonymous memory only, so the heap is not asked about a file
    /// mapping (where its lookup, next to the heap's own shadow leaf, scanned to find nothing):
    /// a block recorded there by hand is not seen, whether or not the region is remembered.
    #[test]
    fn the_heap_is_not_asked_about_file_mappings() {
        // Read-only data of the test binary: a chunk header of 32 bytes, then the "block" (on a
        // 16-byte granule, as glibc's blocks are).
        #[repr(align(16))]
        struct Granules([u64; 8]);
        static IN_FILE: Granules = Granules([0, 0x21, 1, 2, 3, 4, 5, 6]);
        let p = IN_FILE.0[2..].as_ptr() as *mut c_void;
        unsafe {
            crate::heap::allocated(p, 16, crate::heap::Site::UNKNOWN);
            assert_eq!(crate::heap::size_of(p), Some(16), "the heap has the block");
            assert!(readable(p, 48).is_ok(), "{}", msg(readable(p, 48)));
            assert!(
                readable(p, 48).is_ok(),
                "also once the region is remembered"
            );
            assert!(string(p).is_ok());
            crate::heap::released(p, crate::heap::Site::UNKNOWN);
        }
    }

    #[test]
    fn code_must_be_executable() {
        let f: fn() = a_string_may_continue_into_the_next_region;
        let buf = [0u8; 4];
        unsafe {
            assert!(code(f as *const c_void).is_ok());
            assert_eq!(
                msg(code(buf.as_ptr().cast())),
                format!(
                    "codeaddress: {:#x} is not executable (mapped rw-)",
                    buf.as_ptr() as usize
                )
            );
        }
    }

    #[test]
    fn heap_pointers_are_told_from_stack_file_and_misaligned_ones() {
        let boxed = Box::new([0u64; 4]);
        let on_stack = [0u64; 2];
        static IN_FILE: [u64; 2] = [1, 2]; // read-only data lives in the executable's file mapping
        unsafe {
            assert!(heap((&*boxed as *const [u64; 4]).cast()).is_ok());
            assert_eq!(
                msg(heap(on_stack.as_ptr().cast())),
                format!(
                    "heapaddress: {:#x} is on the stack, not on the heap",
                    on_stack.as_ptr() as usize
                )
            );
            assert_eq!(
                msg(heap(IN_FILE.as_ptr().cast())),
                format!(
                    "heapaddress: {:#x} is in a file mapping, not on the heap",
                    IN_FILE.as_ptr() as usize
                )
            );
            let odd = (&*boxed as *const [u64; 4] as usize + 4) as *const c_void;
            assert_eq!(
                msg(heap(odd)),
                format!(
                    "heapaddress: {:#x} is not 8-byte aligned, so no malloc returned it",
                    odd as usize
                )
            );
            assert_eq!(
                msg(heap(0x1000 as _)),
                "heapaddress: 0x1000 is not mapped, not on the heap"
            );
        }
    }

    #[test]
    fn cache_agrees_with_proc_maps_on_file_mappings() {
        invalidate();
        let maps = proc_maps::get_process_maps(std::process::id() as proc_maps::Pid).unwrap();
        let mut compared = 0;
        for m in maps
            .iter()
            .filter(|m| m.filename().is_some_and(|f| f.is_absolute()))
        {
            let (p, len) = (m.start() as *const c_void, m.size());
            unsafe {
                assert_eq!(readable(p, len).is_ok(), m.is_read(), "{m:?}");
                assert_eq!(
                    writable(p, len).is_ok(),
                    m.is_read() && m.is_write(),
                    "{m:?}"
                );
                assert_eq!(code(p).is_ok(), m.is_exec(), "{m:?}");
                assert!(heap(p).is_err(), "{m:?}");
            }
            compared += 1;
        }
        assert!(compared >= 4, "the test binary and libc are file mappings");
    }
}
