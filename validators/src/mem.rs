//! Memory: a cache of `/proc/self/maps` and the address validators built on it.
//!
//! The cache holds two snapshot copies in memory mapped by raw `mmap` (never freed, so a reader
//! holding a stale pointer still reads mapped memory). One writer at a time (a try-lock, never
//! waited on) fills the copy readers are not directed to, then flips a sequence number; readers
//! validate the sequence number after their lookup and retry when it moved (a "latch"). Readers
//! never block and never write shared memory, so a signal handler that interrupts a writer on the
//! same thread simply reads the other copy. A lookup that fails is retried on a fresh read of
//! `/proc/self/maps` before anything is reported, because mappings appear without an interposed
//! call (malloc's own `mmap`, stack growth).

mod recent;

use crate::{sys, Fault, Verdict};
use core::ffi::c_void;
use core::fmt;
use core::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicUsize, Ordering};

const READ: usize = 1;
const WRITE: usize = 2;
const EXEC: usize = 4;
/// Backed by a file (inode != 0): executables, libraries, mapped files.
const FILE: usize = 8;
/// The main thread's `[stack]`.
const STACK: usize = 16;

/// Regions one snapshot holds: the kernel's default `vm.max_map_count` (65530) fits. Pages are
/// only touched as far as regions are written, so a process with 100 mappings pays one page.
const CAPACITY: usize = 65536;

/// Read buffer for `/proc/self/maps`; small because the caller may run on a signal stack.
const READ_CHUNK: usize = 1024;

#[repr(C)]
struct Region {
    start: AtomicUsize,
    end: AtomicUsize,
    flags: AtomicUsize,
}

/// One parsed `/proc/self/maps`, sorted by address as the kernel prints it.
///
/// Fields are atomics because a reader may race with a writer refilling the copy; such a reader
/// sees torn values, which the sequence check then discards.
#[repr(C)]
struct Snapshot {
    /// [`INVALIDATIONS`] when reading began: a later `invalidate()` makes the snapshot stale.
    generation: AtomicUsize,
    len: AtomicUsize,
    /// False when the process had more mappings than [`CAPACITY`]: misses then prove nothing.
    complete: AtomicBool,
    regions: [Region; CAPACITY],
}

static SEQ: AtomicUsize = AtomicUsize::new(0);
static COPIES: [AtomicPtr<Snapshot>; 2] = [
    AtomicPtr::new(core::ptr::null_mut()),
    AtomicPtr::new(core::ptr::null_mut()),
];
static WRITER: AtomicBool = AtomicBool::new(false);
static INVALIDATIONS: AtomicUsize = AtomicUsize::new(0);
static REFRESHES: AtomicUsize = AtomicUsize::new(0);
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

/// Marks the cached memory map stale; the next check re-reads `/proc/self/maps`.
///
/// The runtime calls it after every call that can remove or change a mapping (`mmap`, `munmap`,
/// `mremap`, `mprotect`, `brk`, `sbrk`, `shmat`, `shmdt`, `dlopen`, `dlclose`): a removed mapping
/// would otherwise still be accepted. New mappings are found without it (a miss re-reads).
pub fn invalidate() {
    INVALIDATIONS.fetch_add(1, Ordering::Release);
}

/// Starts the child of `fork` on its own map: the child lacks the parent's `MADV_DONTFORK`
/// regions, so the snapshot inherited from the parent is made stale (the child's first check
/// re-reads `/proc/self/maps`). Also resets the refresh lock: a thread of the parent that was
/// refreshing at the time does not exist in the child, and would otherwise hold it forever (every
/// later refresh would then read a private copy instead of publishing). The runtime calls it first
/// thing in the child (its `pthread_atfork` child handler), while the child has one thread.
pub fn after_fork() {
    WRITER.store(false, Ordering::Release);
    recent::after_fork();
    invalidate();
}

/// How many times `/proc/self/maps` was read (for the runtime's statistics and benchmarks).
pub fn refreshes() -> usize {
    REFRESHES.load(Ordering::Relaxed)
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
#[inline]
pub unsafe fn readable(p: *const c_void, len: usize) -> Verdict {
    crate::heap::within(p, len, "Rdaddress")?;
    range(p as usize, len, READ, "Rdaddress")
}

/// `RWaddress`: `p..p+len` is mapped readable and writable (a zero length is always fine).
///
/// # Safety
/// None beyond the caller's: `p` is never dereferenced.
#[inline]
pub unsafe fn writable(p: *const c_void, len: usize) -> Verdict {
    crate::heap::within(p, len, "RWaddress")?;
    range(p as usize, len, READ | WRITE, "RWaddress")
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
#[inline]
pub unsafe fn string(p: *const c_void) -> Verdict {
    let len = match quick_strlen(p as usize, usize::MAX) {
        Some(len) => len,
        None => match strlen(p as usize, usize::MAX, "string")? {
            Some(len) => len,
            None => return Ok(()),
        },
    };
    crate::heap::within(p, len + 1, "string")
}

/// The length of the string at `p` when [`string`] passes on its fast path (the NUL inside a
/// recently seen readable region, the string inside its heap block); `None`: run [`string`].
///
/// # Safety
/// As [`string`].
#[inline]
pub unsafe fn string_len(p: *const c_void) -> Option<usize> {
    let len = quick_strlen(p as usize, usize::MAX)?;
    crate::heap::within(p, len + 1, "string").ok()?;
    Some(len)
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
    let len = match quick_strlen(p as usize, n) {
        Some(len) => len,
        None => match strlen(p as usize, n, "string")? {
            Some(len) => len,
            None => return Ok(()),
        },
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
    if len == 0
        || (addr != 0
            && recent::get(addr)
                .is_some_and(|r| r.flags & need == need && len <= r.end.wrapping_sub(addr)))
    {
        return Ok(());
    }
    range_slow(addr, len, need, check)
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
#[inline]
pub(crate) fn quick_strlen(addr: usize, max: usize) -> Option<usize> {
    let r = recent::get(addr).filter(|r| r.flags & READ != 0 && addr != 0)?;
    let stop = r.end.min(addr.saturating_add(max));
    // SAFETY: the current snapshot says the region, so addr..stop, is readable.
    let nul = unsafe { find_nul(addr, stop) }?;
    Some(nul - addr)
}

/// Length of the string at `addr` (without its NUL), or `max` when its first `max` bytes hold no
/// NUL; the scan reads one region at a time and never past a readable one. `Ok(None)` when the
/// map cannot tell (it could not be read, or has more regions than the cache holds): the caller
/// must then neither report nor read the string.
pub(crate) fn strlen(addr: usize, max: usize, check: &'static str) -> Result<Option<usize>, Fault> {
    terminated::<1>(addr, max, check)
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

/// The first zero `u32` in `from..to` (both 4-aligned).
///
/// # Safety
/// `from..to` must be readable.
unsafe fn find_zero_u32(from: usize, to: usize) -> Option<usize> {
    (from..to)
        .step_by(4)
        .find(|&a| to - a >= 4 && *(a as *const u32) == 0)
}

/// The first NUL in `from..to`, a word at a time. Words are read aligned, so no read crosses a
/// page boundary: the first and last word may hold bytes outside `from..to`, but on the same
/// pages as bytes inside it, hence readable; those bytes are masked or ignored.
///
/// # Safety
/// `from..to` must be readable.
unsafe fn find_nul(from: usize, to: usize) -> Option<usize> {
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

/// One region of a snapshot, copied out.
#[derive(Clone, Copy)]
struct Seen {
    start: usize,
    end: usize,
    flags: usize,
}

impl Seen {
    fn holds(&self, addr: usize) -> bool {
        (self.start..self.end).contains(&addr)
    }
}

/// Which published snapshot a lookup read: its sequence number and generation.
#[derive(Clone, Copy)]
struct Stamp {
    seq: usize,
    generation: usize,
}

/// What the map says about the bytes from an address on.
struct Span {
    /// The region holding the address, `None` when it is unmapped.
    region: Option<Seen>,
    /// How many bytes from the address (up to the limit asked) lie in adjacent regions that all
    /// have the permissions asked for.
    bytes: usize,
    complete: bool,
    /// The span ends short of the limit at an address no region of the snapshot holds: either
    /// that address is unmapped, or the snapshot is torn (see [`lookup`]).
    gap: bool,
}

impl Span {
    /// For [`lookup`]: the address a span from `addr` says is unmapped, if it ends at one.
    fn gap_at(addr: usize) -> impl Fn(&Span) -> Option<usize> {
        move |s| s.gap.then_some(addr + s.bytes)
    }

    fn fault(&self, check: &'static str, addr: usize, len: usize, need: usize) -> Fault {
        let adjective = match need {
            READ => "readable",
            EXEC => "executable",
            _ => "writable",
        };
        match self.region.map(|r| r.flags) {
            None => Fault::new(check, format_args!("{addr:#x} is not mapped")),
            Some(f) if self.bytes == 0 => Fault::new(
                check,
                format_args!("{addr:#x} is not {adjective} (mapped {})", Perms(f)),
            ),
            Some(_) => Fault::new(
                check,
                format_args!(
                    "{addr:#x} is {adjective} for {} of the {len} bytes",
                    self.bytes
                ),
            ),
        }
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

impl Snapshot {
    fn len(&self) -> usize {
        // A torn length must still index inside the mapping.
        self.len.load(Ordering::Relaxed).min(CAPACITY)
    }

    fn seen(&self, i: usize) -> Seen {
        let r = &self.regions[i];
        Seen {
            start: r.start.load(Ordering::Relaxed),
            end: r.end.load(Ordering::Relaxed),
            flags: r.flags.load(Ordering::Relaxed),
        }
    }

    /// Index of the region holding `addr`.
    fn find(&self, addr: usize) -> Option<usize> {
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if self.regions[mid].start.load(Ordering::Relaxed) <= addr {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        let i = lo.checked_sub(1)?;
        (addr < self.regions[i].end.load(Ordering::Relaxed)).then_some(i)
    }

    /// What the `regions` regions from `addr` on offer, up to `limit` bytes.
    fn span(&self, addr: usize, need: usize, limit: usize, regions: usize) -> Span {
        let complete = self.complete.load(Ordering::Relaxed);
        let Some(first) = self.find(addr) else {
            return Span {
                region: None,
                bytes: 0,
                complete,
                gap: true,
            };
        };
        let mut end = addr;
        for r in self.regions[first..self.len()].iter().take(regions) {
            let (start, stop) = (
                r.start.load(Ordering::Relaxed),
                r.end.load(Ordering::Relaxed),
            );
            let f = r.flags.load(Ordering::Relaxed);
            // The first region holds addr; each further one must start where the last ended.
            if f & need != need || (end != addr && start != end) || stop <= end {
                break;
            }
            end = stop;
            if end - addr >= limit {
                break;
            }
        }
        let bytes = (end - addr).min(limit);
        Span {
            region: Some(self.seen(first)),
            bytes,
            complete,
            gap: bytes < limit && self.find(end).is_none(),
        }
    }
}

/// How many fresh reads of the map a negative answer that the kernel contradicts may take.
const CONFIRMATIONS: usize = 4;

/// Runs `f` on the published snapshot, or on a fresh read of the map when there is none, it is
/// stale, or `hit` rejects the answer. `None` when no map could be read (no descriptor left, no
/// memory, no /proc): the caller then accepts, since it cannot tell. The stamp names the published
/// snapshot the answer came from (none for a fresh read), under which regions may be remembered.
///
/// A fresh read is not atomic: `/proc/self/maps` comes in several `read`s, and a region split or
/// merged by another thread between two of them may be missing from the snapshot. So a negative
/// answer whose `gap` (an address the snapshot says is unmapped) the kernel says is mapped is
/// re-read, a few times; if the map keeps contradicting the kernel, `None`.
fn lookup<T>(
    f: impl Fn(&Snapshot) -> T,
    hit: impl Fn(&T) -> bool,
    gap: impl Fn(&T) -> Option<usize>,
) -> Option<(T, Option<Stamp>)> {
    if let Some((r, stamp)) = read_published(&f) {
        if hit(&r) {
            return Some((r, Some(stamp)));
        }
    }
    for _ in 0..CONFIRMATIONS {
        let r = refresh_with(&f)?;
        if hit(&r) || !gap(&r).is_some_and(sys::mapped) {
            return Some((r, None));
        }
    }
    None
}

fn read_published<T>(f: &impl Fn(&Snapshot) -> T) -> Option<(T, Stamp)> {
    // A reader only retries when a writer flipped copies twice during its lookup.
    for _ in 0..4 {
        let seq = SEQ.load(Ordering::Acquire);
        let p = COPIES[seq & 1].load(Ordering::Acquire);
        if p.is_null() {
            return None;
        }
        // SAFETY: snapshot copies are never unmapped.
        let snap = unsafe { &*p };
        let generation = snap.generation.load(Ordering::Relaxed);
        if generation != INVALIDATIONS.load(Ordering::Acquire) {
            return None;
        }
        let r = f(snap);
        fence(Ordering::Acquire);
        if SEQ.load(Ordering::Relaxed) == seq {
            return Some((r, Stamp { seq, generation }));
        }
    }
    None
}

/// Re-reads the map, publishes it when no other refresh is running, and runs `f` on it.
fn refresh_with<T>(f: &impl Fn(&Snapshot) -> T) -> Option<T> {
    REFRESHES.fetch_add(1, Ordering::Relaxed);
    if WRITER
        .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        // Another thread (or the code this signal handler interrupted) is refreshing; waiting
        // could deadlock, so read a private copy.
        let p = new_snapshot()?;
        // SAFETY: p is a fresh private mapping of a whole Snapshot.
        let r = unsafe { fill(&*p) }.then(|| f(unsafe { &*p }));
        // SAFETY: the private copy was never published.
        unsafe { sys::unmap(p.cast(), core::mem::size_of::<Snapshot>()) };
        return r;
    }
    let seq = SEQ.load(Ordering::Relaxed);
    let slot = &COPIES[(seq + 1) & 1];
    let mut p = slot.load(Ordering::Relaxed);
    if p.is_null() {
        p = new_snapshot().unwrap_or(core::ptr::null_mut());
        slot.store(p, Ordering::Release);
    }
    // Readers that saw our writes to this copy must also see the flip that directed them away.
    fence(Ordering::Release);
    let r = if p.is_null() {
        None
    } else {
        // SAFETY: copies are never unmapped; only the WRITER holder writes them.
        let snap = unsafe { &*p };
        unsafe { fill(snap) }.then(|| {
            SEQ.store(seq + 1, Ordering::Release);
            f(snap)
        })
    };
    WRITER.store(false, Ordering::Release);
    r
}

fn new_snapshot() -> Option<*mut Snapshot> {
    sys::map_anon(core::mem::size_of::<Snapshot>()).map(|p| p.cast())
}

/// Reads `/proc/self/maps` into `snap`; false when it cannot be opened.
///
/// # Safety
/// Nobody else may write `snap` meanwhile.
unsafe fn fill(snap: &Snapshot) -> bool {
    snap.generation
        .store(INVALIDATIONS.load(Ordering::Acquire), Ordering::Relaxed);
    let Some(fd) = sys::open_ro(c"/proc/self/maps") else {
        return false;
    };
    let mut parser = Parser::default();
    let mut buf = [0u8; READ_CHUNK];
    while let Some(n) = sys::read(fd, &mut buf) {
        for &b in &buf[..n] {
            parser.byte(b, snap);
        }
    }
    sys::close(fd);
    snap.complete.store(!parser.overflow, Ordering::Relaxed);
    snap.len.store(parser.len, Ordering::Relaxed);
    true
}

/// A byte-at-a-time parser of `start-end perms offset dev inode path` lines, so that lines of
/// any length (long paths) need no line buffer.
#[derive(Default)]
struct Parser {
    field: u8,
    start: usize,
    end: usize,
    flags: usize,
    perm: u8,
    inode: u64,
    /// How much of `[stack` the path matched; `usize::MAX` once decided.
    tag: usize,
    len: usize,
    overflow: bool,
    last_end: usize,
}

const STACK_TAG: &[u8] = b"[stack";

impl Parser {
    fn byte(&mut self, b: u8, snap: &Snapshot) {
        let hex = |b: u8| (b as char).to_digit(16).unwrap_or(0) as usize;
        match (self.field, b) {
            (_, b'\n') => self.emit(snap),
            (0, b'-') | (1..=5, b' ') => self.field += 1,
            (0, _) => self.start = self.start << 4 | hex(b),
            (1, _) => self.end = self.end << 4 | hex(b),
            (2, _) => {
                self.flags |= match (self.perm, b) {
                    (0, b'r') => READ,
                    (1, b'w') => WRITE,
                    (2, b'x') => EXEC,
                    _ => 0,
                };
                self.perm += 1;
            }
            (5, _) => self.inode = self.inode * 10 + u64::from(b.wrapping_sub(b'0')),
            (6, b' ') if self.tag == 0 => {}
            (6, _) if self.tag != usize::MAX => {
                let next = STACK_TAG.get(self.tag);
                if next == Some(&b) {
                    self.tag += 1;
                } else {
                    // `[stack]`, or `[stack:TID]` before Linux 4.5; not `[stacked…]`.
                    if next.is_none() && matches!(b, b']' | b':') {
                        self.flags |= STACK;
                    }
                    self.tag = usize::MAX;
                }
            }
            _ => {}
        }
    }

    fn emit(&mut self, snap: &Snapshot) {
        // A map that changed between two reads can repeat a region; keep the snapshot sorted.
        if self.field >= 5 && self.start < self.end && self.start >= self.last_end {
            self.last_end = self.end;
            if self.inode != 0 {
                self.flags |= FILE;
            }
            match snap.regions.get(self.len) {
                Some(r) => {
                    r.start.store(self.start, Ordering::Relaxed);
                    r.end.store(self.end, Ordering::Relaxed);
                    r.flags.store(self.flags, Ordering::Relaxed);
                    self.len += 1;
                }
                None => self.overflow = true,
            }
        }
        *self = Parser {
            len: self.len,
            overflow: self.overflow,
            last_end: self.last_end,
            ..Parser::default()
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::{Map, PAGE};
    use std::sync::atomic::AtomicBool as StdBool;
    use std::sync::Arc;

    fn msg(v: Verdict) -> String {
        v.map(|_| String::new())
            .unwrap_or_else(|f| format!("{}: {}", f.check, f.msg.as_str()))
    }

    /// A private snapshot parsed from `text`, unmapped on drop.
    struct Parsed(*mut Snapshot);

    impl Parsed {
        fn new(text: &[u8]) -> Parsed {
            let p = new_snapshot().unwrap();
            // SAFETY: a fresh private snapshot.
            let snap = unsafe { &*p };
            let mut parser = Parser::default();
            for &b in text {
                parser.byte(b, snap);
            }
            snap.complete.store(!parser.overflow, Ordering::Relaxed);
            snap.len.store(parser.len, Ordering::Relaxed);
            Parsed(p)
        }
        fn snap(&self) -> &Snapshot {
            // SAFETY: mapped until drop.
            unsafe { &*self.0 }
        }
    }

    impl Drop for Parsed {
        fn drop(&mut self) {
            // SAFETY: never published.
            unsafe { sys::unmap(self.0.cast(), core::mem::size_of::<Snapshot>()) };
        }
    }

    #[test]
    fn parser_reads_every_field_of_proc_maps_lines() {
        let long = "/very/long/".repeat(400);
        let text = format!(
            "00400000-00452000 r-xp 00000000 08:02 173521      /usr/bin/dbus-daemon\n\
             00652000-00655000 rw-p 00052000 08:02 173521      {long}\n\
             00e03000-00e24000 rw-p 00000000 00:00 0           [heap]\n\
             00e03000-00e24000 rw-p 00000000 00:00 0           [heap]\n\
             7fff5a9ba000-7fff5a9db000 rw-p 00000000 00:00 0   [stack]\n\
             7fff5a9db000-7fff5a9dc000 ---p 00000000 00:00 0   [stacked-not]\n\
             ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]\n"
        );
        let parsed = Parsed::new(text.as_bytes());
        let s = parsed.snap();
        let got: Vec<_> = (0..s.len())
            .map(|i| {
                let r = &s.regions[i];
                (
                    r.start.load(Ordering::Relaxed),
                    r.end.load(Ordering::Relaxed),
                    s.seen(i).flags,
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                (0x400000, 0x452000, READ | EXEC | FILE),
                (0x652000, 0x655000, READ | WRITE | FILE),
                (0xe03000, 0xe24000, READ | WRITE),
                (0x7fff5a9ba000, 0x7fff5a9db000, READ | WRITE | STACK),
                (0x7fff5a9db000, 0x7fff5a9dc000, 0),
                (0xffffffffff600000, 0xffffffffff601000, EXEC),
            ],
            "the repeated [heap] line is dropped, [stack] alone is the stack"
        );
        assert!(s.complete.load(Ordering::Relaxed));
        assert_eq!(s.find(0x452000), None);
        assert_eq!(s.find(0x451fff), Some(0));
        let span = s.span(0x7fff5a9ba010, READ, usize::MAX, usize::MAX);
        assert_eq!(
            (span.region.map(|r| r.flags), span.bytes),
            (Some(READ | WRITE | STACK), 0x21000 - 0x10)
        );
    }

    #[test]
    fn a_map_larger_than_the_cache_is_marked_incomplete() {
        let text: String = (0..CAPACITY + 1)
            .map(|i| {
                format!(
                    "{:x}-{:x} r--p 00000000 00:00 0\n",
                    (i + 1) * PAGE * 2,
                    (i + 1) * PAGE * 2 + PAGE
                )
            })
            .collect();
        let parsed = Parsed::new(text.as_bytes());
        assert_eq!(parsed.snap().len(), CAPACITY);
        let last = (CAPACITY + 1) * PAGE * 2;
        let span = parsed.snap().span(last, READ, 1, usize::MAX);
        assert!(
            span.region.is_none() && !span.complete,
            "a miss there proves nothing"
        );
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
    fn the_word_scan_finds_the_first_nul_at_every_alignment_and_stops_at_the_end() {
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

    #[test]
    fn the_word_scan_crosses_pages_and_ends_exactly_at_a_prot_none_page() {
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
            // another test started before the mprotect may publish the old picture meanwhile.
            let voided = (0..3).any(|_| {
                assert!(readable((1usize << 46) as _, 4).is_err(), "unmapped");
                writable(p, 8).is_err()
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

    #[test]
    fn after_fork_releases_a_refresh_lock_held_by_a_vanished_thread() {
        WRITER.store(true, Ordering::Release);
        after_fork();
        let before = SEQ.load(Ordering::Acquire);
        invalidate();
        let buf = [0u8; 8];
        assert!(unsafe { readable(buf.as_ptr().cast(), 8) }.is_ok());
        assert_ne!(
            SEQ.load(Ordering::Acquire),
            before,
            "the refresh was published"
        );
    }

    /// The child of a fork lacks the parent's `MADV_DONTFORK` regions, and no interposed call
    /// says so: after_fork makes the inherited snapshot stale, so the child's first check re-reads.
    #[test]
    fn after_fork_makes_the_parents_snapshot_stale() {
        let m = Map::new(1, libc::PROT_READ | libc::PROT_WRITE);
        let p = m.at(0);
        unsafe {
            assert!(readable(p, 8).is_ok());
            // Gone behind the cache's back, as a MADV_DONTFORK region is in the child.
            assert_eq!(libc::mprotect(p as *mut c_void, PAGE, libc::PROT_NONE), 0);
            after_fork();
            assert_eq!(
                msg(readable(p, 8)),
                format!("Rdaddress: {:#x} is not readable (mapped ---)", p as usize)
            );
        }
    }

    static HANDLER_RUNS: AtomicUsize = AtomicUsize::new(0);
    static HANDLER_ERRORS: AtomicUsize = AtomicUsize::new(0);

    extern "C" fn check_in_handler(_: i32) {
        let local = [7u8; 32];
        let ok = unsafe {
            writable(local.as_ptr().cast(), 32).is_ok()
                && readable(0x10 as _, 1).is_err()
                && string(c"in a handler".as_ptr().cast()).is_ok()
        };
        HANDLER_RUNS.fetch_add(1, Ordering::Relaxed);
        if !ok {
            HANDLER_ERRORS.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn signal_handlers_check_safely_while_their_thread_refreshes() {
        // Installed before the worker exists, so no signal finds the default action (exit).
        unsafe {
            let mut sa: libc::sigaction = core::mem::zeroed();
            sa.sa_sigaction = check_in_handler as *const () as usize;
            sa.sa_flags = libc::SA_RESTART;
            assert_eq!(
                libc::sigaction(libc::SIGUSR1, &sa, core::ptr::null_mut()),
                0
            );
        }
        let stop = Arc::new(StdBool::new(false));
        let worker = {
            let stop = stop.clone();
            std::thread::spawn(move || unsafe {
                let buf = [1u8; 16];
                while !stop.load(Ordering::Relaxed) {
                    // Each check after invalidate() refreshes: signals land inside refreshes.
                    invalidate();
                    assert!(writable(buf.as_ptr().cast(), 16).is_ok());
                }
            })
        };
        let target = std::os::unix::thread::JoinHandleExt::as_pthread_t(&worker);
        // Pending signals merge, so count deliveries rather than sends.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while HANDLER_RUNS.load(Ordering::Relaxed) < 200 && std::time::Instant::now() < deadline {
            unsafe { libc::pthread_kill(target, libc::SIGUSR1) };
            std::thread::sleep(std::time::Duration::from_micros(100));
        }
        stop.store(true, Ordering::Relaxed);
        worker.join().unwrap();
        assert!(HANDLER_RUNS.load(Ordering::Relaxed) >= 200);
        assert_eq!(HANDLER_ERRORS.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn readers_get_no_false_results_while_the_map_changes() {
        let stop = Arc::new(StdBool::new(false));
        let churn = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut rounds = 0;
                while !stop.load(Ordering::Relaxed) || rounds < 200 {
                    let m = Map::new(1 + rounds % 3, libc::PROT_READ | libc::PROT_WRITE);
                    m.protect(0, PAGE, libc::PROT_READ);
                    drop(m);
                    rounds += 1;
                }
                rounds
            })
        };
        let shared = Arc::new(Map::new(5, libc::PROT_READ | libc::PROT_WRITE));
        shared.protect(4 * PAGE, PAGE, libc::PROT_NONE);
        let readers: Vec<_> = (0..3)
            .map(|_| {
                let shared = shared.clone();
                std::thread::spawn(move || {
                    let mut s = [1u8; 256];
                    s[255] = 0;
                    for _ in 0..5000 {
                        unsafe {
                            assert!(writable(s.as_ptr().cast(), 256).is_ok());
                            assert!(string(s.as_ptr().cast()).is_ok());
                            assert!(writable(shared.at(0), 4 * PAGE).is_ok());
                            assert!(readable(0x10 as _, 1).is_err());
                            assert!(writable(shared.at(4 * PAGE - 1), 2).is_err());
                        }
                    }
                })
            })
            .collect();
        for r in readers {
            r.join().unwrap();
        }
        stop.store(true, Ordering::Relaxed);
        assert!(churn.join().unwrap() >= 200);
    }
}
