//! Live heap blocks: which addresses `malloc` returned and not yet took back, and how long each is.
//!
//! The allocator interposers record every block they hand out ([`allocated`]) and every block
//! given back ([`released`]). The record is a shadow of the address space, one byte per 16-byte
//! granule (glibc's allocation unit), in leaves of 4 MiB (and a byte per 4 KiB page saying
//! whether a block ever started there) mapped on first use by raw `mmap` and never unmapped: the byte of a block's first granule says "a live block starts here" or "a freed
//! block started here", with the block's slack (glibc's usable size minus the size asked for). The
//! block's length is then glibc's chunk header (read only for a live block, whose header is
//! mapped) minus the slack: the size the program asked for. A dense heap of small blocks costs
//! 1/16 of its span; a big block one byte; lookups are a few loads, no lock, no allocation, so
//! they are safe in signal handlers and from any thread.
//!
//! Beside each granule's byte, two bytes name the [`Site`] that allocated the block starting there
//! (or, once it is freed, the one that freed it), for the reports: with glibc's 32-byte minimum
//! chunk a live block costs at most 2 shadow bytes and 4 site bytes, touched only where blocks
//! start (the unit test `shadow_memory_per_live_block_is_bounded` measures it).
//!
//! Every byte is written by the thread that owns the block at that moment (the allocator hands an
//! address to one thread at a time; `free` marks the block before glibc takes it back), so plain
//! relaxed stores suffice; readers racing with a writer see either state, both true at some point.

mod sites;

pub use sites::Site;

use crate::{sys, BlockEvent, Fault, Verdict};
use core::ffi::c_void;
use core::sync::atomic::{
    fence, AtomicBool, AtomicPtr, AtomicU16, AtomicU64, AtomicU8, AtomicUsize, Ordering,
};

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
/// size in 4 KiB pages (rounded up) in the high 21, 0 for a free entry, [`RESERVED`] while its
/// length is written. A pointer into such a block (sort's 5 MB line buffer, passed to `strcoll`
/// millions of times) finds its block and length here instead of scanning 8 KiB of shadow and
/// reading the chunk header and slack bytes, and is bounds-checked however deep it is. Blocks
/// beyond the table's capacity are found by the scan as before.
static BIG: [Big; BIG_CAP] = [const {
    Big {
        entry: AtomicU64::new(0),
        len: AtomicUsize::new(0),
    }
}; BIG_CAP];
/// A power of two, so that a page byte's entry needs no bounds check.
const BIG_CAP: usize = 64;

/// One entry of [`BIG`]: both words in one cache line for the lookup.
#[repr(C, align(16))]
struct Big {
    entry: AtomicU64,
    /// The length (as [`find`] reports it) of the block, written while the entry is
    /// [`RESERVED`]; a reader trusts it only if the entry is unchanged after reading it.
    len: AtomicUsize,
}
/// An entry being filled: its start granule is beyond user space, so no lookup matches it.
const RESERVED: u64 = u64::MAX;
/// One past the highest entry of [`BIG`] ever used: lookups stop there.
static BIG_USED: AtomicUsize = AtomicUsize::new(0);
/// The reach of the backward scan.
const BIG_MIN: usize = (SCAN_WORDS * 8) << GRANULE_SHIFT;
const BIG_START_BITS: u32 = 43;

fn big_entry(start: usize, usable: usize) -> u64 {
    ((start >> GRANULE_SHIFT) as u64)
        | (usable.div_ceil(1 << 12).min((1 << 21) - 1) as u64) << BIG_START_BITS
}

/// Notes the live block `start` of `usable` bytes, `len` of them the program's, in [`BIG`] when
/// there is room, and returns its entry. A block recorded again (`malloc_usable_size` widens it)
/// replaces its entry.
fn big_insert(start: usize, usable: usize, len: usize) -> Option<usize> {
    big_remove(start);
    for (i, Big { entry: e, len: at }) in BIG.iter().enumerate() {
        if e.load(Ordering::Relaxed) == 0
            && e.compare_exchange(0, RESERVED, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            // Readers that see the length also see the entry reserved (or replaced) again.
            fence(Ordering::Release);
            at.store(len, Ordering::Relaxed);
            e.store(big_entry(start, usable), Ordering::Release);
            BIG_USED.fetch_max(i + 1, Ordering::Release);
            return Some(i);
        }
    }
    None
}

/// Forgets the block `start` in [`BIG`]; whether it was there.
fn big_remove(start: usize) -> bool {
    let granule = (start >> GRANULE_SHIFT) as u64;
    for Big { entry: e, .. } in &BIG[..BIG_USED.load(Ordering::Acquire)] {
        let cur = e.load(Ordering::Relaxed);
        if cur != 0 && cur != RESERVED && cur & ((1 << BIG_START_BITS) - 1) == granule {
            // Before the entry goes: a window taken from it after this is stamped with the
            // new generation, and one taken before is void. Blocks come and go far less often
            // than they are checked: sort frees 69 blocks and checks 11 million pointers into one.
            crate::mem::window::void();
            let _ = e.compare_exchange(cur, 0, Ordering::Relaxed, Ordering::Relaxed);
            return true;
        }
    }
    false
}

/// The live big block holding `addr` if entry `i` of [`BIG`] is one (the entry the page bytes
/// name for `addr`'s page, see [`BIG_SLOT`]).
#[inline(always)]
fn big_at(i: usize, addr: usize) -> Option<Found> {
    let Big { entry: e, len } = &BIG[i % BIG_CAP];
    let cur = e.load(Ordering::Acquire);
    let start = ((cur & ((1 << BIG_START_BITS) - 1)) as usize) << GRANULE_SHIFT;
    let pages = (cur >> BIG_START_BITS) as usize;
    // One comparison: below `start` wraps around to beyond any block; a free entry (0) has no
    // pages, a RESERVED one starts beyond user space.
    if addr.wrapping_sub(start) < pages << 12 {
        let len = len.load(Ordering::Relaxed);
        fence(Ordering::Acquire);
        // Unchanged: the length is that of a block that started there while it was live.
        return (e.load(Ordering::Relaxed) == cur).then_some(Found::Live { start, len });
    }
    None
}

/// Whether the live big block `start`, `len` bytes long, is still in [`BIG`] (found through the
/// page byte of its first page).
pub(crate) fn big_live(start: usize, len: usize) -> bool {
    let Some((base, i)) = leaf(start, false) else {
        return false;
    };
    // SAFETY: i is the index of start's shadow byte in its leaf.
    let page = unsafe { page_byte(base, i) }.load(Ordering::Relaxed);
    page != 0
        && matches!(big_at(usize::from(page) - 1, start),
            Some(Found::Live { start: s, len: l }) if (s, l) == (start, len))
}

/// Writes `slot` (1 + a [`BIG`] entry, or 0) into the page bytes of every page of the block
/// `p..p+usable`. The first and the last page may be shared with another big block (one ending
/// or starting there): the last writer names its own, and the other's pointers in that page
/// fall back to the scan.
fn mark_big_pages(p: usize, usable: usize, slot: u8) {
    let (first, last) = (p >> 12, (p + usable - 1) >> 12);
    for page in first..=last {
        let Some((base, i)) = leaf(page << 12, false) else {
            continue;
        };
        // SAFETY: i is a shadow byte index of the leaf.
        unsafe { page_byte(base, i) }.store(slot, Ordering::Relaxed);
    }
}

static LEAF: [AtomicPtr<AtomicU8>; LEAVES] =
    [const { AtomicPtr::new(core::ptr::null_mut()) }; LEAVES];
/// False once a leaf could not be mapped: some blocks are then unknown, and "not a block" proves
/// nothing.
static COMPLETE: AtomicBool = AtomicBool::new(true);

/// After its shadow bytes, each leaf has one byte per 4 KiB page of its span (256 shadow bytes):
/// 1 + the [`BIG`] entry of the live big block over this page, 0 for none, so that a pointer
/// deep inside a big block finds its entry in one load, not a walk of the table (sort checks
/// two pointers into its 5 MB line buffer on every `strcoll`).
const PAGE_SHADOW: usize = 256;
const _: () = assert!(BIG_CAP < u8::MAX as usize);
/// Then one more byte per page, [`STARTED`] once a block has started in that page: the
/// backward scan skips pages where none ever did (the arenas of a program's own allocator, such
/// as Python's, which sit among glibc's blocks). A byte of its own, so that `malloc` marks it
/// with a plain store, not a test or an atomic update of a byte other threads write.
const STARTED_OFF: usize = LEAF_BYTES + LEAF_BYTES / PAGE_SHADOW;
/// Started byte: a block started in this page.
const STARTED: u8 = 1;
/// Then one more byte per page, [`STARTED`] once a block has started in that page or one of the
/// two before it: the backward scan's whole reach from an address in this page (see
/// [`scan_back`]), so that "no block to find" is one load. Two bytes of padding after the last
/// page's take the marks of a block that starts in the leaf's last pages (a scan never reaches
/// across leaves). Bytes of their own, for plain stores, as the started bytes.
const REACH_OFF: usize = STARTED_OFF + LEAF_BYTES / PAGE_SHADOW;
/// After the reach bytes, one [`Site`] id (two bytes) per granule.
const SITE_OFF: usize = REACH_OFF + LEAF_BYTES / PAGE_SHADOW + 2;
const LEAF_MAP: usize = SITE_OFF + 2 * LEAF_BYTES;

/// The shadow byte of `addr`'s granule; `None` when no block was ever recorded near it. With
/// `create`, maps the leaf when it is missing (`None` only when the kernel refuses memory).
#[inline]
fn shadow(addr: usize, create: bool) -> Option<&'static AtomicU8> {
    let (base, i) = leaf(addr, create)?;
    // SAFETY: the leaf holds LEAF_BYTES shadow bytes, mapped for the life of the process.
    Some(unsafe { &*base.add(i) })
}

/// The page byte of shadow byte `i` of the leaf at `base`.
///
/// # Safety
/// `base` is a leaf and `i` below [`LEAF_BYTES`].
#[inline]
unsafe fn page_byte(base: *mut AtomicU8, i: usize) -> &'static AtomicU8 {
    // SAFETY: the page bytes follow the shadow bytes in the leaf's mapping.
    unsafe { &*base.add(LEAF_BYTES + i / PAGE_SHADOW) }
}

/// The started byte of shadow byte `i` of the leaf at `base`.
///
/// # Safety
/// `base` is a leaf and `i` below [`LEAF_BYTES`].
#[inline]
unsafe fn started_byte(base: *mut AtomicU8, i: usize) -> &'static AtomicU8 {
    // SAFETY: the started bytes follow the page bytes in the leaf's mapping.
    unsafe { &*base.add(STARTED_OFF + i / PAGE_SHADOW) }
}

/// Marks a block start at shadow byte `i` of the leaf at `base` in its page's started byte and
/// in the reach bytes of that page and the two after it.
///
/// # Safety
/// `base` is a leaf and `i` below [`LEAF_BYTES`].
#[inline(always)]
unsafe fn mark_started(base: *mut AtomicU8, i: usize) {
    // SAFETY: the caller's; the reach bytes and their padding follow the started bytes in the
    // leaf's mapping.
    unsafe {
        started_byte(base, i).store(STARTED, Ordering::Relaxed);
        for k in 0..3 {
            (*base.add(REACH_OFF + i / PAGE_SHADOW + k)).store(STARTED, Ordering::Relaxed);
        }
    }
}

/// The site id of shadow byte `i` of the leaf at `base`.
///
/// # Safety
/// `base` is a leaf and `i` below [`LEAF_BYTES`].
#[inline]
unsafe fn site_slot(base: *mut AtomicU8, i: usize) -> &'static AtomicU16 {
    // SAFETY: the site ids follow the page bytes in the leaf's mapping, 2-aligned.
    unsafe { &*base.add(SITE_OFF + 2 * i).cast::<AtomicU16>() }
}

/// The site id stored for the granule of `addr` (see [`allocated`] and [`released`]).
fn site_at(addr: usize) -> Site {
    match leaf(addr, false) {
        // SAFETY: i is the index of addr's shadow byte in its leaf.
        Some((base, i)) => Site(unsafe { site_slot(base, i) }.load(Ordering::Relaxed)),
        None => Site::UNKNOWN,
    }
}

/// The leaf of `addr` and the index of its granule's shadow byte in it (see [`shadow`]).
#[inline]
fn leaf(addr: usize, create: bool) -> Option<(*mut AtomicU8, usize)> {
    let leaf = addr >> LEAF_SHIFT;
    let slot = crate::local!(LEAF: [AtomicPtr<AtomicU8>; LEAVES]).get(leaf)?;
    let mut base = slot.load(Ordering::Acquire);
    if base.is_null() {
        if !create {
            return None;
        }
        base = new_leaf(slot)?;
    }
    Some((base, (addr >> GRANULE_SHIFT) & (LEAF_BYTES - 1)))
}

#[cold]
fn new_leaf(slot: &AtomicPtr<AtomicU8>) -> Option<*mut AtomicU8> {
    let Some(fresh) = sys::map_anon(LEAF_MAP) else {
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
            unsafe { sys::unmap(fresh.cast(), LEAF_MAP) };
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

/// The leaf of the user-space address `addr` (below 2^[`ADDR_BITS`]) if it is mapped, and the
/// index of its granule's shadow byte in it: [`leaf`] without the bounds check.
#[inline(always)]
fn user_leaf(addr: usize) -> Option<(*mut AtomicU8, usize)> {
    debug_assert!(addr >> ADDR_BITS == 0);
    // SAFETY: addr >> LEAF_SHIFT is below LEAVES for a user-space address.
    let base = unsafe { LEAF.get_unchecked(addr >> LEAF_SHIFT) }.load(Ordering::Acquire);
    (!base.is_null()).then_some((base, (addr >> GRANULE_SHIFT) & (LEAF_BYTES - 1)))
}

/// Chunk header bits that send [`allocated`] to its general path: `IS_MMAPPED`, and a chunk of
/// 8 KiB or more (so a usable size that may reach [`BIG_MIN`]).
const HEADER_SLOW: usize = 2 | !((BIG_MIN) - 1);

/// Records that glibc's malloc returned the live block `p` of `size` bytes asked for, at `site`
/// (`p` may be NULL: nothing to record).
///
/// The common case (a block of the heap proper under 8 KiB, a leaf already mapped, a slack that
/// fits the start byte) is a few loads and three stores; the rest goes to [`record_block`].
///
/// # Safety
/// `p` is NULL or a block glibc's malloc just returned.
#[inline(always)]
pub unsafe fn allocated(p: *mut c_void, size: usize, site: Site) {
    let p = p as usize;
    // NULL, or (never from malloc) beyond user space.
    if p.wrapping_sub(1) >= (1 << ADDR_BITS) - 1 {
        return;
    }
    if let Some((base, i)) = user_leaf(p) {
        // SAFETY: a block glibc's malloc just returned has its header before it.
        let header = unsafe { core::ptr::read((p - 8) as *const usize) };
        // Not mmapped (usable size: the chunk's minus its 8-byte header), under BIG_MIN.
        let slack = (header & !7).wrapping_sub(8).wrapping_sub(size);
        if header & HEADER_SLOW == 0 && slack < SLACK.into() {
            // SAFETY: i is the index of p's shadow byte in its leaf.
            unsafe {
                mark_started(base, i);
                site_slot(base, i).store(site.0, Ordering::Relaxed);
                (*base.add(i)).store(LIVE | slack as u8, Ordering::Relaxed);
            }
            return;
        }
    }
    record_block(p, size, site);
}

/// [`allocated`] in general: maps the leaf when it is missing; a block of [`BIG_MIN`] or more
/// usable bytes enters [`BIG`]; a slack of [`SLACK`] or more goes to the bytes after the start's.
/// Big and mmapped blocks always keep their slack there, so that `free` tells them from the
/// common case by their start byte alone ([`release_start`]). Out of line, so that the common
/// case keeps to a few registers.
#[cold]
#[inline(never)]
fn record_block(p: usize, size: usize, site: Site) {
    if let Some((base, i)) = leaf(p, true) {
        // SAFETY: i is the index of p's shadow byte in its leaf.
        let s = unsafe { &*base.add(i) };
        // SAFETY: as above.
        unsafe {
            mark_started(base, i);
            site_slot(base, i).store(site.0, Ordering::Relaxed);
        }
        // SAFETY: the caller's: a block glibc's malloc just returned.
        let (usable, mmapped) = unsafe { chunk(p) };
        let slack = usable.saturating_sub(size);
        // Beyond what the bytes hold, 0: the usable size bounds the block.
        let slack = if slack >> (6 * EXT) == 0 { slack } else { 0 };
        if usable >= BIG_MIN {
            big_allocated(p, usable, slack);
        }
        // A big or mmapped block has at least 4 KiB usable: room for the slack bytes.
        if slack < SLACK.into() && usable < BIG_MIN && !mmapped {
            s.store(LIVE | slack as u8, Ordering::Relaxed);
            return;
        }
        wide_slack(p, slack);
        s.store(LIVE | SLACK, Ordering::Relaxed);
    }
}

/// [`record_block`] for a block of at least [`BIG_MIN`] usable bytes.
fn big_allocated(p: usize, usable: usize, slack: usize) {
    // Every address of the block has a leaf, so that lookups there reach `BIG`.
    let last = p.saturating_add(usable - 1) >> LEAF_SHIFT;
    for l in (p >> LEAF_SHIFT) + 1..=last {
        leaf(l << LEAF_SHIFT, true);
    }
    if let Some(e) = big_insert(p, usable, usable - slack) {
        mark_big_pages(p, usable, e as u8 + 1);
    }
}

/// Writes a slack into the [`EXT`] shadow bytes after the block's first.
fn wide_slack(p: usize, slack: usize) {
    for i in 1..=EXT {
        if let Some(e) = shadow(p + (i << GRANULE_SHIFT), true) {
            e.store((slack >> (6 * (i - 1))) as u8 & SLACK, Ordering::Relaxed);
        }
    }
}

/// Records that the live block `p` is about to go back to glibc, at `site` (`free`, or a
/// `realloc` that may move it: [`allocated`] then marks it live again if it stays). Before the
/// real call, so that no other thread can be handed the address while it still reads as this
/// block.
///
/// # Safety
/// `p` passed [`release`].
#[inline]
pub unsafe fn released(p: *mut c_void, site: Site) {
    // SAFETY: the caller's.
    unsafe { mark_freed(p as usize, site) };
}

/// Where a block starting at `p` would keep its start byte: `p` as an address, its leaf, its
/// index there and the byte; `None` when `p` is misaligned (no block starts there), beyond user
/// space, or in no leaf.
#[inline(always)]
fn start_shadow(p: *mut c_void) -> Option<(usize, *mut AtomicU8, usize, &'static AtomicU8)> {
    let p = p as usize;
    if p & (!((1 << ADDR_BITS) - 1) | ((1 << GRANULE_SHIFT) - 1)) != 0 {
        return None;
    }
    let (base, i) = user_leaf(p)?;
    // SAFETY: i is the index of p's shadow byte in its leaf, which stays mapped.
    Some((p, base, i, unsafe { &*base.add(i) }))
}

/// [`release_start`]'s most common case alone, with no call and no stack frame: if a live
/// block that is neither big nor mmapped starts at `p` and `ip` is a [`Site::known`] address,
/// records it freed and returns true; false leaves everything to [`release_start`].
///
/// # Safety
/// As [`release_start`].
#[inline(always)]
pub unsafe fn release_common(p: *mut c_void, ip: usize) -> bool {
    let Some((_, base, i, s)) = start_shadow(p) else {
        return false;
    };
    // A live block whose slack is in its start byte: neither big nor mmapped (see
    // `record_block`), so nothing else to update.
    if s.load(Ordering::Relaxed).wrapping_sub(LIVE) >= SLACK {
        return false;
    }
    let Some(site) = Site::known(ip) else {
        return false;
    };
    // SAFETY: as above.
    unsafe { site_slot(base, i) }.store(site.0, Ordering::Relaxed);
    s.store(FREED, Ordering::Relaxed);
    true
}

/// `free`'s common case in one lookup: if a live block starts at `p` (which [`start`] accepts
/// with nothing more to ask), records it as [`released`] does and returns true. False when none
/// does: nothing is recorded, and the caller checks `p` before [`released`]. `ip` is the code
/// address of the call (the [`Site`] of [`released`]), interned only for a block it records.
///
/// # Safety
/// None: a live block's header is mapped, and it is the caller's to free.
#[inline]
pub unsafe fn release_start(p: *mut c_void, ip: usize) -> bool {
    let Some((p, base, i, s)) = start_shadow(p) else {
        return false;
    };
    let m = s.load(Ordering::Relaxed);
    // A live block whose slack is in its start byte: neither big nor mmapped (see
    // `record_block`), so nothing else to update.
    if m.wrapping_sub(LIVE) < SLACK {
        // SAFETY: as above.
        unsafe { site_slot(base, i) }.store(Site::of(ip).0, Ordering::Relaxed);
        s.store(FREED, Ordering::Relaxed);
        return true;
    }
    // SAFETY: a granule whose shadow says a live block starts there is one.
    m & LIVE != 0 && unsafe { mark_freed(p, Site::of(ip)) }
}

/// [`released`]: whether `p`'s granule held a live block start, now freed.
#[inline(never)]
unsafe fn mark_freed(p: usize, site: Site) -> bool {
    let Some((base, i)) = leaf(p, false) else {
        return false;
    };
    // SAFETY: i is the index of p's shadow byte in its leaf.
    let s = unsafe { &*base.add(i) };
    if s.load(Ordering::Relaxed) & LIVE == 0 {
        return false;
    }
    // SAFETY: the shadow says a live block starts in this granule.
    let (usable, mmapped) = unsafe { chunk(p) };
    if usable >= BIG_MIN && big_remove(p) {
        mark_big_pages(p, usable, 0);
    }
    // An mmapped block's memory goes back to the kernel: a later mapping there is no freed
    // block (and its header is gone).
    let freed = if mmapped { 0 } else { FREED };
    // SAFETY: as above.
    unsafe { site_slot(base, i) }.store(site.0, Ordering::Relaxed);
    s.store(freed, Ordering::Relaxed);
    true
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
/// The common cases (an address with no leaf: the stack, static data; a block's start) inline.
#[inline]
fn find(addr: usize) -> Option<Found> {
    let (base, i) = leaf(addr, false)?;
    // SAFETY: i is the index of addr's shadow byte in its leaf.
    let m = unsafe { &*base.add(i) }.load(Ordering::Relaxed);
    let granule = addr & !((1 << GRANULE_SHIFT) - 1);
    if m & LIVE != 0 {
        return live(granule, m).filter(|b| reaches(b, addr));
    }
    // SAFETY: as above.
    let page = unsafe { page_byte(base, i) }.load(Ordering::Relaxed);
    if page != 0 {
        let big = big_at(usize::from(page) - 1, addr);
        if let Some(b) = big.filter(|b| reaches(b, addr)) {
            return Some(b);
        }
    }
    if i == 0 {
        // The leaf's first granule: the scan stays in its leaf.
        return find_inside(addr, granule, m, base, i, 0);
    }
    // The scan's first word inline (the shadow bytes before `i` in its word, or the word before
    // at a word's first byte), without the started byte's test: a block of up to 8 granules
    // that holds `addr` starts there.
    let from = (i - 1) & !7;
    // SAFETY: 8 aligned shadow bytes inside the leaf (LEAF_BYTES is a multiple of 8).
    let w = u64::from_le(unsafe { (*base.add(from).cast::<AtomicU64>()).load(Ordering::Relaxed) });
    let bits = w & LIVES & (u64::MAX >> (8 * (8 - (i - from))));
    if bits == 0 {
        return find_inside(addr, granule, m, base, i, from);
    }
    let k = (63 - bits.leading_zeros() as usize) / 8;
    let start = granule - ((i - from - k) << GRANULE_SHIFT);
    if let Some(b) = live(start, (w >> (8 * k)) as u8).filter(|b| reaches(b, addr)) {
        return Some(b);
    }
    freed_at(addr, granule, m)
}

/// A live block start in each byte of a shadow word.
const LIVES: u64 = u64::from_ne_bytes([LIVE; 8]);

/// [`find`]'s answer for `addr` (in `granule`, whose shadow byte is `m`) when no live block
/// holds it.
#[inline(always)]
fn freed_at(addr: usize, granule: usize, m: u8) -> Option<Found> {
    (m & FREED != 0 && addr == granule).then_some(Found::Freed)
}

/// [`find`] for an address where no live block starts, no big block is known and none starts
/// in the shadow bytes from `at` to the pointer's (index `i`): inside a larger one, or after a
/// freed one.
#[inline(never)]
fn find_inside(
    addr: usize,
    granule: usize,
    m: u8,
    base: *mut AtomicU8,
    i: usize,
    at: usize,
) -> Option<Found> {
    let before = scan_back(granule, base, i, at).and_then(|(start, m)| live(start, m));
    if let Some(b) = before.filter(|b| reaches(b, addr)) {
        return Some(b);
    }
    freed_at(addr, granule, m)
}

fn reaches(b: &Found, addr: usize) -> bool {
    matches!(*b, Found::Live { start, len } if addr < start + len)
}

/// The live block at granule `start` whose shadow byte is `m`.
#[inline(always)]
fn live(start: usize, m: u8) -> Option<Found> {
    let slack = usize::from(m & SLACK);
    if slack == usize::from(SLACK) {
        return live_wide(start);
    }
    // SAFETY: the shadow says a live block starts there, so its header is mapped.
    let header = unsafe { core::ptr::read((start - 8) as *const usize) };
    // A slack in the start byte: not mmapped (see `record_block`), so the usable size is the
    // chunk's minus its 8-byte header. (Wrapping: a header another thread's free is rewriting
    // gives a length that passes, not a fault.)
    Some(Found::Live {
        start,
        len: (header & !7).wrapping_sub(8 + slack),
    })
}

/// [`live`] for a block whose slack is in the bytes after its start's: big, mmapped or with a
/// slack of [`SLACK`] or more.
#[inline(never)]
fn live_wide(start: usize) -> Option<Found> {
    // SAFETY: the shadow says a live block starts there, so its header is mapped.
    let (usable, _) = unsafe { chunk(start) };
    let slack = (1..=EXT).fold(0, |acc, i| {
        let e = shadow(start + (i << GRANULE_SHIFT), false);
        acc | usize::from(e.map_or(0, |e| e.load(Ordering::Relaxed) & SLACK)) << (6 * (i - 1))
    });
    Some(Found::Live {
        start,
        len: usable.saturating_sub(slack),
    })
}

/// The nearest live block start strictly before `granule`, an aligned word of shadow at a time
/// (pages where no block ever started skipped whole), within its leaf and [`SCAN_WORDS`]. The
/// words at either end of the scan are read whole and masked: a byte-by-byte walk of the
/// pointer's own word cost more than the rest of the lookup.
/// `base` and `first` are the leaf of `granule` and its shadow byte's index there; the scan
/// starts below `at` (the bytes from there to `first` have no live block start).
#[inline(always)]
fn scan_back(granule: usize, base: *mut AtomicU8, first: usize, at: usize) -> Option<(usize, u8)> {
    const _: () = assert!(SCAN_WORDS >= 2);
    let limit = first.saturating_sub(SCAN_WORDS * 8);
    if at == 0 {
        return None;
    }
    // The scan's reach spans at most three pages, the page of `at - 1` and the two before: when
    // no block ever started in any of them (a pointer into Python's own arenas, near glibc's
    // blocks but outside them) it has nothing to find, which that page's reach byte says in one
    // load. Python's memcpy walked those pages one by one, three iterations a check, then read
    // their three started bytes (about 20 instructions).
    const _: () = assert!(SCAN_WORDS * 8 <= 2 * PAGE_SHADOW);
    // SAFETY: `at - 1` is a shadow byte of the leaf; its page's reach byte follows the started
    // bytes.
    let reach = unsafe { &*base.add(REACH_OFF + (at - 1) / PAGE_SHADOW) };
    if reach.load(Ordering::Relaxed) == 0 {
        return None;
    }
    // The first word without the started byte's test (one load either way) or the limit's
    // mask (`at` is at most 8 bytes below `first`, so the word is within SCAN_WORDS).
    let from = (at - 1) & !7;
    debug_assert!(at + 8 >= first && from >= limit);
    // SAFETY: 8 aligned shadow bytes inside the leaf (LEAF_BYTES is a multiple of 8).
    let w = unsafe { (*base.add(from).cast::<AtomicU64>()).load(Ordering::Relaxed) };
    let bits = u64::from_le(w) & LIVES & (u64::MAX >> (8 * (8 - (at - from))));
    if bits != 0 {
        let k = (63 - bits.leading_zeros() as usize) / 8;
        let m = (u64::from_le(w) >> (8 * k)) as u8;
        return Some((granule - ((first - from - k) << GRANULE_SHIFT), m));
    }
    let mut at = from; // index one past the shadow bytes still to look at
    while at > limit {
        // SAFETY: at - 1 is a shadow byte of the leaf.
        if unsafe { started_byte(base, at - 1) }.load(Ordering::Relaxed) == 0 {
            at = (at - 1) & !(PAGE_SHADOW - 1);
            continue;
        }
        let from = (at - 1) & !7;
        // SAFETY: 8 aligned shadow bytes inside the leaf (LEAF_BYTES is a multiple of 8).
        let w = unsafe { (*base.add(from).cast::<AtomicU64>()).load(Ordering::Relaxed) };
        // Byte k of the word is shadow byte from + k: only those from `limit` on (after the
        // first word `at` is word-aligned, so the whole word is before it; from > limit - 8).
        let from_limit = if from >= limit {
            u64::MAX
        } else {
            u64::MAX << (8 * (limit - from))
        };
        let bits = u64::from_le(w) & LIVES & from_limit;
        if bits != 0 {
            let a = from + (63 - bits.leading_zeros() as usize) / 8;
            // SAFETY: as above.
            let m = unsafe { (*base.add(a)).load(Ordering::Relaxed) };
            return Some((granule - ((first - a) << GRANULE_SHIFT), m));
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
    within_noting(p, len, check, |_, _| {})
}

/// [`within`], telling `big` the bounds of the big block that passed the bytes on the common
/// path (see [`passes_noting`]).
#[inline(always)]
pub(crate) fn within_noting(
    p: *const c_void,
    len: usize,
    check: &'static str,
    big: impl FnOnce(usize, usize),
) -> Verdict {
    if passes_noting(p as usize, len, big) {
        return Ok(());
    }
    within_found(p, len, check)
}

/// Whether [`within`] passes `addr..addr+len` for a reason found with no call: no shadow there,
/// no block holding `addr`, or a block whose slack is in its start byte (or a big one) that
/// holds the bytes. False: ask [`within_found`], which decides in general. No call, so that the
/// common case saves no registers.
#[inline(always)]
pub(crate) fn passes(addr: usize, len: usize) -> bool {
    passes_noting(addr, len, |_, _| {})
}

/// [`passes`], telling `big` the bounds (start, length) of the big block that answered, when
/// one did and passed the bytes.
#[inline(always)]
pub(crate) fn passes_noting(addr: usize, len: usize, big: impl FnOnce(usize, usize)) -> bool {
    let Some((base, i)) = leaf(addr, false) else {
        return true;
    };
    // SAFETY: i is the index of addr's shadow byte in its leaf.
    let m = unsafe { &*base.add(i) }.load(Ordering::Relaxed);
    let granule = addr & !((1 << GRANULE_SHIFT) - 1);
    // As find's verdict when no live block holds addr (Freed only where a freed block started).
    let no_block = || m & FREED == 0 || addr != granule || len == 0;
    let (start, ms) = if m & LIVE != 0 {
        (granule, m)
    } else {
        // SAFETY: as above.
        let page = unsafe { page_byte(base, i) }.load(Ordering::Relaxed);
        if page != 0 {
            if let Some(Found::Live { start, len: block }) = big_at(usize::from(page) - 1, addr) {
                if addr - start < block {
                    let inside = len <= block - (addr - start);
                    if inside {
                        big(start, block);
                    }
                    return inside;
                }
            }
        }
        match scan_back(granule, base, i, i) {
            Some(found) => found,
            None => return no_block(),
        }
    };
    let slack = usize::from(ms & SLACK);
    if slack == usize::from(SLACK) {
        return false;
    }
    // SAFETY: the shadow says a live block starts there, so its header is mapped.
    let header = unsafe { core::ptr::read((start - 8) as *const usize) };
    // As in `live`.
    let block = (header & !7).wrapping_sub(8 + slack);
    if addr - start >= block {
        return no_block();
    }
    len <= block - (addr - start)
}

/// [`within`] in general, from [`find`].
#[inline(never)]
fn within_found(p: *const c_void, len: usize, check: &'static str) -> Verdict {
    let addr = p as usize;
    match find(addr) {
        None => Ok(()),
        Some(Found::Live { start, len: block }) if len <= block - (addr - start) => Ok(()),
        Some(Found::Freed) if len == 0 => Ok(()),
        Some(found) => Err(outside(addr, len, found, check)),
    }
}

/// The fault of a buffer that [`within`] refused.
#[cold]
#[inline(never)]
fn outside(addr: usize, len: usize, found: Found, check: &'static str) -> Fault {
    let fault = match found {
        Found::Live { start, len: block } => {
            if addr == start {
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
            }
        }
        Found::Freed => Fault::new(
            check,
            format_args!("{addr:#x} is a freed heap block (use after free)"),
        ),
    };
    fault.block(origin(addr, found))
}

/// Where the block [`find`] found for `addr` was allocated (live) or freed.
fn origin(addr: usize, found: Found) -> Option<(BlockEvent, usize)> {
    let (event, at) = match found {
        Found::Live { start, .. } => (BlockEvent::Allocated, start),
        Found::Freed => (BlockEvent::Freed, addr),
    };
    site_at(at).ip().map(|ip| (event, ip))
}

/// The site recorded for the live block that starts at `p` ([`Site::UNKNOWN`] if none does), for
/// an interposer that records the block again (`malloc_usable_size`, a failed `realloc`).
pub fn site_of(p: *const c_void) -> Site {
    match size_of(p) {
        Some(_) => site_at(p as usize),
        None => Site::UNKNOWN,
    }
}

/// `heapaddress` for `free` and `realloc`: `p` must be the start of a live block. A block freed
/// already is a double free; a pointer into a block is not its start. Other pointers (stack,
/// static, unmapped) are told apart by the memory map (`mem::heap`); this says nothing of them.
pub fn release(p: *const c_void) -> Verdict {
    refused(p, find(p as usize))
}

/// [`release`]'s verdict on `p`, for which [`find`] found `found`.
fn refused(p: *const c_void, found: Option<Found>) -> Verdict {
    const CHECK: &str = "heapaddress";
    let addr = p as usize;
    let fault = match found {
        Some(Found::Live { start, .. }) if start == addr => return Ok(()),
        Some(Found::Live { start, len }) => Fault::new(
            CHECK,
            format_args!(
                "{addr:#x} is {} bytes into the {len}-byte heap block at {start:#x}, not its start",
                addr - start
            ),
        ),
        Some(Found::Freed) => Fault::new(
            CHECK,
            format_args!("{addr:#x} was freed already (double free)"),
        ),
        None => return Ok(()),
    };
    Err(fault.block(found.and_then(|f| origin(addr, f))))
}

/// `heapaddress`: [`release`], then the memory map's verdict for pointers the block record does
/// not know (`mem::heap`: stack, file mapping, unmapped, misaligned). `nested`: a library makes
/// the call on its own behalf, inside another checked call (see [`REFUSED`]).
///
/// # Safety
/// None beyond the caller's: `p` is never dereferenced.
pub unsafe fn start(p: *const c_void, nested: bool) -> Verdict {
    match find(p as usize) {
        // A live block's start is a heap pointer: the memory map has nothing to add.
        Some(Found::Live { start, .. }) if start == p as usize => Ok(()),
        found => {
            // SAFETY: as above.
            let verdict = refused(p, found).and_then(|()| unsafe { crate::mem::heap(p) });
            match verdict {
                Ok(()) => Ok(()),
                Err(f) => reported_once(p, nested, f),
            }
        }
    }
}

/// The pointer a deallocator refused last on the program's own call (`XFree`, `g_free`,
/// `free`). The library's deallocators are `free` underneath: the `free` that `g_free` then
/// makes of the same pointer, nested inside the call that was just reported, is the same
/// violation, and is not reported again. One slot for the process, taken by the first nested
/// refusal of that pointer: another thread's could take it first, which names that thread's
/// `free` in place of this one's, never adds a report.
static REFUSED: AtomicUsize = AtomicUsize::new(0);

/// [`start`]'s fault `f` for `p`, unless an enclosing call was refused `p` already.
#[cold]
#[inline(never)]
fn reported_once(p: *const c_void, nested: bool, f: Fault) -> Verdict {
    let addr = p as usize;
    if !nested {
        REFUSED.store(addr, Ordering::Relaxed);
    } else if addr != 0
        && REFUSED
            .compare_exchange(addr, 0, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        return Ok(());
    }
    Err(f)
}

/// The bytes from `p` to the end of the live heap block that holds it, 0 where a freed block
/// started (as [`within`] bounds a buffer there); `None` outside any known block.
pub fn room(p: *const c_void) -> Option<usize> {
    let addr = p as usize;
    match find(addr)? {
        Found::Live { start, len } => Some(len - (addr - start)),
        Found::Freed => Some(0),
    }
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

    /// Stand-ins for the code addresses of an allocation and of a free.
    const ALLOC_SITE: usize = 0x5555_0000_1000;
    const FREE_SITE: usize = 0x5555_0000_2000;

    fn block(n: usize) -> *mut c_void {
        // SAFETY: glibc's malloc (the test process has no interposer).
        let p = unsafe { malloc(n) };
        // SAFETY: just returned by malloc.
        unsafe { allocated(p, n, Site::of(ALLOC_SITE)) };
        p
    }

    fn give_back(p: *mut c_void) {
        // SAFETY: a live block of `block`.
        unsafe {
            released(p, Site::of(FREE_SITE));
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
        assert_eq!(f.block, Some((BlockEvent::Allocated, ALLOC_SITE)));
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
        // 7000 bytes in, the pointer is in a later page than the start (one where no block
        // started): the scan goes on into the page of the start.
        let p = block(7500);
        let q = (p as usize + 7000) as *const c_void;
        assert!(within(q, 500, "RWaddress").is_ok());
        assert!(within(q, 501, "RWaddress").is_err());
        give_back(p);
    }

    #[test]
    fn free_of_a_freed_or_interior_pointer() {
        let keep = block(32); // keeps the freed block from merging into the top chunk
        let p = block(48);
        let guard = block(32);
        assert!(release(p).is_ok());
        let inner = (p as usize + 16) as *const c_void;
        let f = release(inner).unwrap_err();
        assert!(f
            .msg
            .as_str()
            .contains("16 bytes into the 48-byte heap block"));
        assert_eq!(f.block, Some((BlockEvent::Allocated, ALLOC_SITE)));
        give_back(p);
        let f = release(p).unwrap_err();
        assert!(f.msg.as_str().contains("freed already"));
        assert_eq!(f.block, Some((BlockEvent::Freed, FREE_SITE)));
        let f = within(p, 8, "Rdaddress").unwrap_err();
        assert!(f.msg.as_str().contains("use after free"));
        assert_eq!(f.block, Some((BlockEvent::Freed, FREE_SITE)));
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
    fn the_free_inside_a_refused_deallocator_is_not_reported_again() {
        let p = block(48);
        let inner = (p as usize + 16) as *const c_void;
        // SAFETY: only the block record and the memory map are read.
        unsafe {
            assert!(start(inner, false).is_err(), "g_free(p + 16)");
            assert!(start(inner, true).is_ok(), "g_free's own free(p + 16)");
            assert!(start(inner, true).is_err(), "a library's free of its own");
            assert!(start(inner, true).is_err());
            assert!(start(p, true).is_ok(), "a live block's start");
        }
        give_back(p);
    }

    #[test]
    fn every_interior_byte_finds_its_block() {
        // Shadow words hold 8 granules: starts and pointers at every position within them.
        for n in [24, 136, 1000, 7900] {
            let p = block(n);
            for off in 0..n {
                let q = (p as usize + off) as *const c_void;
                assert!(within(q, n - off, "Rdaddress").is_ok(), "{n} {off}");
                assert!(within(q, n - off + 1, "Rdaddress").is_err(), "{n} {off}");
            }
            give_back(p);
        }
    }

    #[test]
    fn a_pointer_two_pages_after_its_block_start_finds_it() {
        // A block under BIG_MIN that starts near a page's end reaches two pages further: the
        // reach byte of that page must say a block started within the scan's reach. glibc
        // places consecutive 7900-byte blocks at different page offsets.
        let mut held = Vec::new();
        let p = loop {
            let p = block(7900);
            if (p as usize + 7899) >> 12 == (p as usize >> 12) + 2 {
                break p;
            }
            held.push(p);
            assert!(held.len() < 64, "no 7900-byte block over three pages");
        };
        let last = (p as usize + 7899) as *const c_void;
        assert!(within(last, 1, "Rdaddress").is_ok());
        let f = within(last, 2, "Rdaddress").unwrap_err();
        assert!(
            f.msg
                .as_str()
                .contains("7899 bytes into a 7900-byte heap block"),
            "{}",
            f.msg.as_str()
        );
        give_back(p);
        held.into_iter().for_each(give_back);
    }

    #[test]
    fn free_of_a_live_start_is_recorded_in_one_lookup() {
        let keep = block(32);
        let p = block(64);
        let guard = block(32);
        let inner = (p as usize + 16) as *mut c_void;
        // SAFETY: the test's own blocks; nothing is recorded for pointers that are no start.
        unsafe {
            assert!(!release_start(inner, FREE_SITE));
            assert!(!release_start((p as usize + 1) as *mut c_void, FREE_SITE));
            assert!(release(p).is_ok(), "still live");
            assert!(release_start(p, FREE_SITE));
            free(p);
            assert!(!release_start(p, FREE_SITE), "freed already");
        }
        let f = release(p).unwrap_err();
        assert!(f.msg.as_str().contains("freed already"));
        assert_eq!(f.block, Some((BlockEvent::Freed, FREE_SITE)));
        give_back(guard);
        give_back(keep);
    }

    #[test]
    fn the_common_free_leaves_the_rest_to_release_start() {
        let keep = block(32);
        let (p, big) = (block(64), block(20_000));
        let guard = block(32);
        let first_seen = 0x5555_0000_3000;
        Site::of(FREE_SITE);
        // SAFETY: the test's own blocks; nothing is recorded where false is returned.
        unsafe {
            assert!(!release_common((p as usize + 16) as *mut c_void, FREE_SITE));
            assert!(!release_common(big, FREE_SITE), "a big block");
            assert!(
                !release_common(p, first_seen),
                "a call site not interned yet"
            );
            assert!(release(p).is_ok() && release(big).is_ok(), "still live");
            assert!(release_common(p, FREE_SITE));
            free(p);
            assert!(!release_common(p, FREE_SITE), "freed already");
        }
        let f = release(p).unwrap_err();
        assert_eq!(f.block, Some((BlockEvent::Freed, FREE_SITE)));
        give_back(big);
        give_back(guard);
        give_back(keep);
    }

    /// Resident bytes of every shadow leaf.
    fn shadow_resident() -> usize {
        let page = 4096;
        let mut vec = vec![0u8; LEAF_MAP.div_ceil(page)];
        LEAF.iter()
            .map(|l| l.load(Ordering::Acquire))
            .filter(|l| !l.is_null())
            .map(|l| {
                // SAFETY: a leaf mapping of LEAF_MAP bytes; vec has a byte per page of it.
                let r = unsafe { libc::mincore(l.cast(), LEAF_MAP, vec.as_mut_ptr()) };
                assert_eq!(r, 0);
                vec.iter().filter(|&&v| v & 1 != 0).count() * page
            })
            .sum()
    }

    #[test]
    fn shadow_memory_per_live_block_is_bounded() {
        // The densest heap: glibc's smallest chunks (16 bytes asked for, 32 with the header).
        const N: usize = 200_000;
        let before = shadow_resident();
        let blocks: Vec<_> = (0..N).map(|_| block(16)).collect();
        let per_block = (shadow_resident() - before) as f64 / N as f64;
        blocks.into_iter().for_each(give_back);
        eprintln!("shadow memory per live 16-byte block: {per_block:.2} bytes");
        assert!(per_block <= 16.0, "{per_block} bytes per live block");
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
        big_blocks_freed_by_their_start();
    }

    /// `free`'s one-lookup path on blocks whose record holds more than the start byte: an
    /// mmapped block is forgotten, a big one leaves `BIG`.
    fn big_blocks_freed_by_their_start() {
        // Beyond glibc's largest mmap threshold (which freeing the blocks above raised): mmapped.
        let p = block(40 << 20);
        // SAFETY: p is live, and freed right after.
        unsafe {
            assert!(chunk(p as usize).1, "mmapped");
            assert!(release_start(p, FREE_SITE));
            free(p);
        }
        assert!(release(p).is_ok(), "forgotten");
        let keep = block(32);
        let p = block(20_000);
        let guard = block(32);
        let deep = (p as usize + 15_000) as *const c_void;
        assert!(within(deep, 5_001, "Rdaddress").is_err());
        // SAFETY: as above.
        unsafe {
            assert!(release_start(p, FREE_SITE));
            free(p);
        }
        assert!(within(deep, 5_001, "Rdaddress").is_ok(), "left BIG");
        let f = release(p).unwrap_err();
        assert!(f.msg.as_str().contains("freed already"));
        assert_eq!(f.block, Some((BlockEvent::Freed, FREE_SITE)));
        give_back(guard);
        give_back(keep);
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
        // Recorded again with its usable size (malloc_usable_size): one entry, the wider bound,
        // and nothing left of it once freed.
        // SAFETY: p is live.
        unsafe { allocated(p, n + 100, site_of(p)) };
        assert!(within(deep, n - (3 << 20) + 100, "Rdaddress").is_ok());
        assert!(within(deep, n - (3 << 20) + 101, "Rdaddress").is_err());
        give_back(p);
        assert!(
            within(deep, 1, "Rdaddress").is_ok(),
            "forgotten with its block"
        );
    }
}
