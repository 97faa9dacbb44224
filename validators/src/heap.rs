//! Live heap blocks: which addresses `malloc` returned and not yet took back, and how long each is.
//!
//! The allocator interposers record every block they hand out ([`allocated`]) and every block
//! given back ([`released`]). The record is a shadow of the address space, one byte per 16-byte
//! granule (glibc's allocation unit), in leaves of 4 MiB mapped on first use by raw `mmap` and
//! never unmapped: the byte of a block's first granule says "a live block starts here" or "a freed
//! block started here", with the block's slack (glibc's usable size minus the size asked for). The
//! block's length is then glibc's chunk header (read only for a live block, whose header is
//! mapped) minus the slack: the size the program asked for. A dense heap of small blocks costs
//! 1/16 of its span; a big block one byte; lookups are a few loads, no lock, no allocation, so
//! they are safe in signal handlers and from any thread.
//!
//! Every byte is written by the thread that owns the block at that moment (the allocator hands an
//! address to one thread at a time; `free` marks the block before glibc takes it back), so plain
//! relaxed stores suffice; readers racing with a writer see either state, both true at some point.

use crate::{sys, Fault, Verdict};
use core::ffi::c_void;
use core::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicU8, AtomicUsize, Ordering};

/// glibc's `MALLOC_ALIGNMENT` on 64-bit targets: every block starts on a granule.
const GRANULE_SHIFT: usize = 4;
/// One leaf covers 64 MiB of addresses.
const LEAF_SHIFT: usize = 26;
const LEAF_BYTES: usize = 1 << (LEAF_SHIFT - GRANULE_SHIFT);
/// User space of x86-64 and AArch64 Linux (without 5-level paging's opt-in): 47 bits.
const ADDR_BITS: usize = 47;
const LEAVES: usize = 1 << (ADDR_BITS - LEAF_SHIFT);

/// Shadow byte: a live block starts in this granule.
const LIVE: u8 = 0x80;
/// Shadow byte: a block that started here was freed (until another block starts here).
const FREED: u8 = 0x40;
/// Slack bits. The largest value means "the slack is in the next [`EXT`] shadow bytes, 6 bits
/// each": a slack that large means a usable size of at least 63 bytes, so those granules lie
/// inside the block, where no other block can start while it lives (and bits 6 and 7 stay clear,
/// so no scan mistakes them for a block). A slack beyond even that is stored as 0: the usable
/// size bounds the block then.
const SLACK: u8 = 0x3f;
const EXT: usize = 3;

/// How far back an interior pointer's block start is searched: 512 granules (8 KiB). A pointer
/// deeper inside a larger block is not bounds-checked (the check is per call, so it stays cheap).
const SCAN_WORDS: usize = 64;

/// Live blocks too long for the backward scan to find their start from deep inside (usable size
/// at least [`BIG_MIN`]), one word each: the block's start granule in the low 43 bits, its usable
/// size in 4 KiB pages (rounded down) in the high 21, 0 for a free entry. A pointer into such a
/// block (sort's 5 MB line buffer, passed to `strcoll` millions of times) finds its block here
/// instead of scanning 8 KiB of shadow, and is bounds-checked however deep it is. Blocks beyond
/// the table's capacity are found by the scan as before.
static BIG: [AtomicU64; BIG_CAP] = [const { AtomicU64::new(0) }; BIG_CAP];
const BIG_CAP: usize = 64;
/// One past the highest entry of [`BIG`] ever used: lookups stop there.
static BIG_USED: AtomicUsize = AtomicUsize::new(0);
/// The reach of the backward scan.
const BIG_MIN: usize = (SCAN_WORDS * 8) << GRANULE_SHIFT;
const BIG_START_BITS: u32 = 43;

fn big_entry(start: usize, usable: usize) -> u64 {
    ((start >> GRANULE_SHIFT) as u64) | ((usable >> 12).min((1 << 21) - 1) as u64) << BIG_START_BITS
}

/// Notes the live block `start` of `usable` bytes in [`BIG`] when there is room.
fn big_insert(start: usize, usable: usize) {
    let entry = big_entry(start, usable);
    for (i, e) in BIG.iter().enumerate() {
        if e.load(Ordering::Relaxed) == 0
            && e.compare_exchange(0, entry, Ordering::Release, Ordering::Relaxed)
                .is_ok()
        {
            BIG_USED.fetch_max(i + 1, Ordering::Release);
            return;
        }
    }
}

/// Forgets the block `start` in [`BIG`].
fn big_remove(start: usize) {
    let granule = (start >> GRANULE_SHIFT) as u64;
    for e in &BIG[..BIG_USED.load(Ordering::Acquire)] {
        let cur = e.load(Ordering::Relaxed);
        if cur != 0 && cur & ((1 << BIG_START_BITS) - 1) == granule {
            let _ = e.compare_exchange(cur, 0, Ordering::Relaxed, Ordering::Relaxed);
            return;
        }
    }
}

/// The start of the big block holding `addr`, if [`BIG`] has one.
#[inline]
fn big_find(addr: usize) -> Option<usize> {
    BIG[..BIG_USED.load(Ordering::Acquire)]
        .iter()
        .find_map(|e| {
            let cur = e.load(Ordering::Acquire);
            let start = ((cur & ((1 << BIG_START_BITS) - 1)) as usize) << GRANULE_SHIFT;
            let pages = (cur >> BIG_START_BITS) as usize;
            (cur != 0 && start <= addr && addr - start < pages << 12).then_some(start)
        })
}

static LEAF: [AtomicPtr<AtomicU8>; LEAVES] =
    [const { AtomicPtr::new(core::ptr::null_mut()) }; LEAVES];
/// False once a leaf could not be mapped: some blocks are then unknown, and "not a block" proves
/// nothing.
static COMPLETE: AtomicBool = AtomicBool::new(true);

/// The shadow byte of `addr`'s granule; `None` when no block was ever recorded near it. With
/// `create`, maps the leaf when it is missing (`None` only when the kernel refuses memory).
#[inline]
fn shadow(addr: usize, create: bool) -> Option<&'static AtomicU8> {
    let leaf = addr >> LEAF_SHIFT;
    let slot = LEAF.get(leaf)?;
    let mut base = slot.load(Ordering::Acquire);
    if base.is_null() {
        if !create {
            return None;
        }
        base = new_leaf(slot)?;
    }
    let i = (addr >> GRANULE_SHIFT) & (LEAF_BYTES - 1);
    // SAFETY: the leaf holds LEAF_BYTES bytes, mapped for the life of the process.
    Some(unsafe { &*base.add(i) })
}

#[cold]
fn new_leaf(slot: &AtomicPtr<AtomicU8>) -> Option<*mut AtomicU8> {
    let Some(fresh) = sys::map_anon(LEAF_BYTES) else {
        COMPLETE.store(false, Ordering::Relaxed);
        return None;
    };
    let fresh = fresh.cast::<AtomicU8>();
    match slot.compare_exchange(
        core::ptr::null_mut(),
        fresh,
        Ordering::AcqRel,
        Ordering::Acquire,
    ) {
        Ok(_) => Some(fresh),
        Err(theirs) => {
            // SAFETY: nobody else saw `fresh`.
            unsafe { sys::unmap(fresh.cast(), LEAF_BYTES) };
            Some(theirs)
        }
    }
}

/// glibc's chunk header of the live block at `p`: its usable size, and whether it was mmapped.
///
/// # Safety
/// `p` must be a live block of glibc's malloc.
#[inline]
unsafe fn chunk(p: usize) -> (usize, bool) {
    const IS_MMAPPED: usize = 2;
    let size = core::ptr::read((p - 8) as *const usize);
    let overhead = if size & IS_MMAPPED != 0 { 16 } else { 8 };
    ((size & !7).saturating_sub(overhead), size & IS_MMAPPED != 0)
}

/// Records that glibc's malloc returned the live block `p` of `size` bytes asked for (`p` may be
/// NULL: nothing to record).
///
/// # Safety
/// `p` is NULL or a block glibc's malloc just returned.
#[inline]
pub unsafe fn allocated(p: *mut c_void, size: usize) {
    let p = p as usize;
    if p == 0 {
        return;
    }
    if let Some(s) = shadow(p, true) {
        let (usable, _) = chunk(p);
        if usable >= BIG_MIN {
            big_insert(p, usable);
        }
        let slack = usable.saturating_sub(size);
        if slack < SLACK.into() {
            s.store(LIVE | slack as u8, Ordering::Relaxed);
            return;
        }
        // Beyond what the bytes hold, 0: the usable size bounds the block.
        let slack = if slack >> (6 * EXT) == 0 { slack } else { 0 };
        for i in 1..=EXT {
            if let Some(e) = shadow(p + (i << GRANULE_SHIFT), true) {
                e.store((slack >> (6 * (i - 1))) as u8 & SLACK, Ordering::Relaxed);
            }
        }
        s.store(LIVE | SLACK, Ordering::Relaxed);
    }
}

/// Records that the live block `p` is about to go back to glibc (`free`, or a `realloc` that may
/// move it: [`allocated`] then marks it live again if it stays). Before the real call, so that
/// no other thread can be handed the address while it still reads as this block.
///
/// # Safety
/// `p` passed [`release`].
#[inline]
pub unsafe fn released(p: *mut c_void) {
    let p = p as usize;
    if let Some(s) = shadow(p, false) {
        if s.load(Ordering::Relaxed) & LIVE != 0 {
            let (usable, mmapped) = chunk(p);
            if usable >= BIG_MIN {
                big_remove(p);
            }
            // An mmapped block's memory goes back to the kernel: a later mapping there is no
            // freed block (and its header is gone).
            let freed = if mmapped { 0 } else { FREED };
            s.store(freed, Ordering::Relaxed);
        }
    }
}

/// A block found for an address.
#[derive(Clone, Copy)]
enum Found {
    /// The live block at `start`, `len` bytes long.
    Live { start: usize, len: usize },
    /// A freed block started exactly at the address, and no live block holds it.
    Freed,
}

/// The block holding `addr`: the nearest live block start at or before it (within
/// [`SCAN_WORDS`]) whose length reaches past `addr`, else a freed block that started exactly there.
fn find(addr: usize) -> Option<Found> {
    let here = shadow(addr, false)?;
    let m = here.load(Ordering::Relaxed);
    let granule = addr & !((1 << GRANULE_SHIFT) - 1);
    if m & LIVE != 0 {
        return live(granule, m).filter(|b| reaches(b, addr));
    }
    if let Some(start) = big_find(addr) {
        // Checked again: the entry may be going away with its block.
        let m = shadow(start, false).map_or(0, |s| s.load(Ordering::Relaxed));
        if m & LIVE != 0 {
            return live(start, m).filter(|b| reaches(b, addr));
        }
    }
    let before = scan_back(granule).and_then(|(start, m)| live(start, m));
    if let Some(b) = before.filter(|b| reaches(b, addr)) {
        return Some(b);
    }
    (m & FREED != 0 && addr == granule).then_some(Found::Freed)
}

fn reaches(b: &Found, addr: usize) -> bool {
    matches!(*b, Found::Live { start, len } if addr < start + len)
}

/// The live block at granule `start` whose shadow byte is `m`.
fn live(start: usize, m: u8) -> Option<Found> {
    // SAFETY: the shadow says a live block starts there, so its header is mapped.
    let (usable, _) = unsafe { chunk(start) };
    let mut slack = usize::from(m & SLACK);
    if slack == usize::from(SLACK) {
        slack = (1..=EXT).fold(0, |acc, i| {
            let e = shadow(start + (i << GRANULE_SHIFT), false);
            acc | usize::from(e.map_or(0, |e| e.load(Ordering::Relaxed) & SLACK)) << (6 * (i - 1))
        });
    }
    Some(Found::Live {
        start,
        len: usable.saturating_sub(slack),
    })
}

/// The nearest live block start strictly before `granule`, a word of shadow at a time, within
/// its leaf and [`SCAN_WORDS`].
fn scan_back(granule: usize) -> Option<(usize, u8)> {
    const LIVES: u64 = u64::from_ne_bytes([LIVE; 8]);
    let first = shadow(granule, false)? as *const AtomicU8 as usize;
    let leaf_start = first - ((granule >> GRANULE_SHIFT) & (LEAF_BYTES - 1));
    let mut at = first; // shadow address one past the bytes still to look at
    for _ in 0..SCAN_WORDS {
        if at <= leaf_start {
            return None;
        }
        let from = at.saturating_sub(8).max(leaf_start);
        // Byte by byte on unaligned ends, a word at a time in between.
        let bits = if from.is_multiple_of(8) && at - from == 8 {
            // SAFETY: 8 shadow bytes inside the leaf, aligned.
            let w = unsafe {
                (*(from as *const core::sync::atomic::AtomicU64)).load(Ordering::Relaxed)
            };
            w & LIVES
        } else {
            (from..at).fold(0u64, |w, a| {
                // SAFETY: shadow bytes inside the leaf.
                let b = unsafe { (*(a as *const AtomicU8)).load(Ordering::Relaxed) };
                w | (u64::from(b & LIVE) << (8 * (a - from)))
            })
        };
        if bits != 0 {
            let byte = (63 - bits.leading_zeros() as usize) / 8;
            let a = from + byte;
            // SAFETY: as above.
            let m = unsafe { (*(a as *const AtomicU8)).load(Ordering::Relaxed) };
            let back = (first - a) << GRANULE_SHIFT;
            return Some((granule - back, m));
        }
        at = from;
    }
    None
}

/// The bounds of heap blocks for a buffer check (`Rdaddress`/`RWaddress`/`string`): a buffer
/// that starts in a live block must end in it, one that starts where a freed block started is a
/// use after free. Anything else (not heap, or not known) passes: the memory map decides.
#[inline]
pub fn within(p: *const c_void, len: usize, check: &'static str) -> Verdict {
    let addr = p as usize;
    match find(addr) {
        None => Ok(()),
        Some(Found::Live { start, len: block }) if len > block - (addr - start) => {
            Err(if addr == start {
                Fault::new(
                    check,
                    format_args!("{addr:#x} is a {block}-byte heap block; {len} bytes passed"),
                )
            } else {
                Fault::new(
                    check,
                    format_args!(
                        "{addr:#x} is {} bytes into a {block}-byte heap block at {start:#x}; \
                         {len} bytes passed",
                        addr - start
                    ),
                )
            })
        }
        Some(Found::Live { .. }) => Ok(()),
        Some(Found::Freed) if len > 0 => Err(Fault::new(
            check,
            format_args!("{addr:#x} is a freed heap block (use after free)"),
        )),
        Some(Found::Freed) => Ok(()),
    }
}

/// `heapaddress` for `free` and `realloc`: `p` must be the start of a live block. A block freed
/// already is a double free; a pointer into a block is not its start. Other pointers (stack,
/// static, unmapped) are told apart by the memory map (`mem::heap`); this says nothing of them.
pub fn release(p: *const c_void) -> Verdict {
    const CHECK: &str = "heapaddress";
    let addr = p as usize;
    match find(addr) {
        Some(Found::Live { start, .. }) if start == addr => Ok(()),
        Some(Found::Live { start, len }) => Err(Fault::new(
            CHECK,
            format_args!(
                "{addr:#x} is {} bytes into the {len}-byte heap block at {start:#x}, not its start",
                addr - start
            ),
        )),
        Some(Found::Freed) => Err(Fault::new(
            CHECK,
            format_args!("{addr:#x} was freed already (double free)"),
        )),
        None => Ok(()),
    }
}

/// `heapaddress`: [`release`], then the memory map's verdict for pointers the block record does
/// not know (`mem::heap`: stack, file mapping, unmapped, misaligned).
///
/// # Safety
/// None beyond the caller's: `p` is never dereferenced.
pub unsafe fn start(p: *const c_void) -> Verdict {
    release(p)?;
    // SAFETY: as above.
    unsafe { crate::mem::heap(p) }
}

/// The length of the live block that starts at `p`, if one does.
pub fn size_of(p: *const c_void) -> Option<usize> {
    match find(p as usize) {
        Some(Found::Live { start, len }) if start == p as usize => Some(len),
        _ => None,
    }
}

/// Whether every block the process allocated is known (false when shadow memory ran out).
pub fn complete() -> bool {
    COMPLETE.load(Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    extern "C" {
        fn malloc(n: usize) -> *mut c_void;
        fn free(p: *mut c_void);
    }

    fn block(n: usize) -> *mut c_void {
        // SAFETY: glibc's malloc (the test process has no interposer).
        let p = unsafe { malloc(n) };
        // SAFETY: just returned by malloc.
        unsafe { allocated(p, n) };
        p
    }

    fn give_back(p: *mut c_void) {
        // SAFETY: a live block of `block`.
        unsafe {
            released(p);
            free(p);
        }
    }

    #[test]
    fn a_buffer_must_end_inside_its_block() {
        let p = block(16);
        assert!(within(p, 16, "RWaddress").is_ok());
        let f = within(p, 64, "RWaddress").unwrap_err();
        assert_eq!(
            f.msg.as_str(),
            format!("{p:?} is a 16-byte heap block; 64 bytes passed")
        );
        let inner = (p as usize + 4) as *const c_void;
        assert!(within(inner, 12, "Rdaddress").is_ok());
        let f = within(inner, 13, "Rdaddress").unwrap_err();
        assert!(
            f.msg
                .as_str()
                .contains("is 4 bytes into a 16-byte heap block"),
            "{}",
            f.msg.as_str()
        );
        give_back(p);
    }

    #[test]
    fn the_size_asked_for_not_the_usable_size() {
        // glibc rounds 20 up to 24 usable bytes.
        let p = block(20);
        assert!(within(p, 20, "RWaddress").is_ok());
        assert!(within(p, 21, "RWaddress").is_err());
        give_back(p);
    }

    #[test]
    fn interior_of_a_large_block_within_the_scan() {
        let p = block(4000);
        let q = (p as usize + 3000) as *const c_void;
        assert!(within(q, 1000, "RWaddress").is_ok());
        assert!(within(q, 1001, "RWaddress").is_err());
        give_back(p);
    }

    #[test]
    fn free_of_a_freed_or_interior_pointer() {
        let keep = block(32); // keeps the freed block from merging into the top chunk
        let p = block(48);
        let guard = block(32);
        assert!(release(p).is_ok());
        let inner = (p as usize + 16) as *const c_void;
        assert!(release(inner)
            .unwrap_err()
            .msg
            .as_str()
            .contains("16 bytes into the 48-byte heap block"));
        give_back(p);
        assert!(release(p)
            .unwrap_err()
            .msg
            .as_str()
            .contains("freed already"));
        assert!(within(p, 8, "Rdaddress")
            .unwrap_err()
            .msg
            .as_str()
            .contains("use after free"));
        // Reused: live again, and nothing of the old block is left.
        let again = block(48);
        if again == p {
            assert!(release(p).is_ok());
        }
        give_back(again);
        give_back(guard);
        give_back(keep);
    }

    #[test]
    fn memory_that_is_no_block_passes() {
        let x = [0u8; 64];
        assert!(within(x.as_ptr().cast(), 64, "RWaddress").is_ok());
        assert!(release(x.as_ptr().cast()).is_ok());
    }

    #[test]
    fn mmapped_blocks_are_forgotten_when_freed() {
        let p = block(1 << 20);
        assert!(within(p, 1 << 20, "RWaddress").is_ok());
        assert!(within(p, (1 << 20) + 1, "RWaddress").is_err());
        give_back(p);
        assert!(
            release(p).is_ok(),
            "an unmapped block is the memory map's business"
        );
        // In the same test: a big block mapped where `p` was would hold `p`.
        deep_inside_a_big_block_beyond_the_scan();
    }

    fn deep_inside_a_big_block_beyond_the_scan() {
        let n = 5 << 20;
        let p = block(n);
        let deep = (p as usize + (3 << 20)) as *const c_void;
        assert!(within(deep, n - (3 << 20), "Rdaddress").is_ok());
        let f = within(deep, n - (3 << 20) + 1, "Rdaddress").unwrap_err();
        assert!(
            f.msg
                .as_str()
                .contains(&format!("is {} bytes into a {n}-byte heap block", 3 << 20)),
            "{}",
            f.msg.as_str()
        );
        assert!(release(deep).is_err(), "not the block's start");
        give_back(p);
        assert!(
            within(deep, 1, "Rdaddress").is_ok(),
            "forgotten with its block"
        );
    }
}
