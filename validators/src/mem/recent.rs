//! Regions recently found in the published snapshot, so that repeated checks on the same stack,
//! heap or library skip the binary search and touch one cache line instead of several.
//!
//! A slot is a copy of one region tagged with the epoch of the snapshot it came from (see
//! `snapshot::EPOCH`); it is used only while that snapshot is still the published, non-stale one,
//! so a hit means exactly what a lookup in the snapshot would have meant. Slots are guarded by a
//! sequence lock: readers never write (a torn read is detected and ignored), a writer takes the
//! slot with one compare-exchange and gives up instead of waiting, so a signal handler that
//! interrupts a writer on the same thread just misses.

use super::snapshot::{Seen, Stamp, EPOCH};
use core::sync::atomic::{fence, AtomicUsize, Ordering};

/// A power of two; 256 sets of two slots of one cache line each (32 KiB, touched only where
/// checks land): Python touches enough 64 KiB granules of its many arenas that 64 sets sent
/// two in five of its `memcpy` destinations to the second slot or past it.
const SETS: usize = 256;

#[repr(C, align(64))]
struct Slot {
    /// Odd while a writer fills the slot.
    version: AtomicUsize,
    epoch: AtomicUsize,
    start: AtomicUsize,
    end: AtomicUsize,
    flags: AtomicUsize,
}

impl Slot {
    const fn new() -> Slot {
        Slot {
            version: AtomicUsize::new(0),
            epoch: AtomicUsize::new(VOID),
            start: AtomicUsize::new(0),
            end: AtomicUsize::new(0),
            flags: AtomicUsize::new(0),
        }
    }
}

/// An epoch that never comes (the count would have to wrap): a slot with it never hits.
const VOID: usize = usize::MAX;

/// Two slots per set, so that two regions sharing a granule both stay: ls's `.bss` and the
/// `[heap]` right after it, which it alternates between once per file, evicted each other from a
/// single slot on every call.
static TABLE: [[Slot; 2]; SETS] = [const { [Slot::new(), Slot::new()] }; SETS];

#[inline(always)]
fn table() -> &'static [[Slot; 2]; SETS] {
    crate::local!(TABLE: [[Slot; 2]; SETS])
}

/// The set index for `addr`: 64 KiB granules, so that the pages a program checks over and over
/// (its stack frames, a heap arena) share one set, spread by Fibonacci hashing (the top bits of
/// the granule times 2^64/φ), which sends any regular stride to distinct sets: glibc's thread
/// stacks, 8 MiB + 4 KiB apart, all fell into one slot under the former xor of shifted granule
/// bits, so that threads evicted each other's stack on every call.
#[inline]
fn index(addr: usize) -> usize {
    let granule = (addr >> 16) as u64;
    (granule.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - SETS.trailing_zeros())) as usize
}

/// The epoch now: a slot is current if it has it. Read once per lookup, for both slots of the
/// set.
#[inline(always)]
pub(super) fn now() -> Stamp {
    Stamp {
        epoch: crate::local!(EPOCH: AtomicUsize).load(Ordering::Acquire),
    }
}

/// The slot's region and its stamp if it is whole (no writer in progress) and from the snapshot
/// `now` names. (Read before the slot: a slot written meanwhile has a later stamp and misses; one
/// with `now`'s stamp holds what that snapshot said, as when the stamp is read after.)
#[inline(always)]
fn current(s: &Slot, now: Stamp) -> Option<(Seen, Stamp)> {
    let v = s.version.load(Ordering::Acquire);
    let epoch = s.epoch.load(Ordering::Relaxed);
    let seen = Seen {
        start: s.start.load(Ordering::Relaxed),
        end: s.end.load(Ordering::Relaxed),
        flags: s.flags.load(Ordering::Relaxed),
    };
    fence(Ordering::Acquire);
    let whole = v & 1 == 0 && s.version.load(Ordering::Relaxed) == v;
    let current = epoch == now.epoch;
    // Non-short-circuit `&`: both are cheap, one branch is cheaper than two.
    (whole & current).then_some((seen, Stamp { epoch }))
}

/// The region holding `addr` if a slot of its set has it from the current snapshot.
#[inline]
pub(super) fn get(addr: usize) -> Option<Seen> {
    let set = &table()[index(addr)];
    let now = now();
    match current(&set[0], now) {
        Some((r, _)) if r.holds(addr) => Some(r),
        _ => {
            let (start, end_flags) = get_second(addr, set, now);
            (end_flags != 0).then_some(Seen {
                start,
                end: end_flags & !FLAG_BITS,
                flags: end_flags & FLAG_BITS,
            })
        }
    }
}

/// Below the page size: regions start and end on pages, so their flags fit under the end.
const FLAG_BITS: usize = 0xfff;

/// [`get`]'s look at the set's older slot, out of line so that the first look stays small enough
/// to inline everywhere. With the stamp [`get`] read, and the region returned in two registers
/// (its start, and its end with the flags in the bits below the page): a slot whose set mate
/// is used as often lands here on every other call (memcached's item locks and its heap), where
/// reading the stamp again and returning the region through memory cost a third of the lookup.
#[inline(never)]
fn get_second(addr: usize, set: &[Slot; 2], now: Stamp) -> (usize, usize) {
    match current(&set[1], now) {
        Some((r, _)) if r.holds(addr) => {
            debug_assert!(r.end & FLAG_BITS == 0 && r.flags <= FLAG_BITS);
            (r.start, r.end | r.flags)
        }
        _ => (0, 0),
    }
}

/// [`get`] with the stamp of the snapshot the region came from (the current one).
pub(super) fn get_stamped(addr: usize) -> Option<(Seen, Stamp)> {
    let now = now();
    table()[index(addr)]
        .iter()
        .find_map(|s| current(s, now).filter(|(r, _)| r.holds(addr)))
}

/// Remembers `seen`, read from the snapshot `stamp` names, as the region of `addr`, in the first
/// slot of its set; another current region held there moves to the second, so the latest region
/// is found first and the one before it still found. Skipped when another writer (possibly the
/// code a signal handler interrupted) holds a slot.
pub(super) fn put(addr: usize, stamp: Stamp, seen: Seen) {
    let set = &table()[index(addr)];
    if let Some((other, its)) = current(&set[0], now()).filter(|(r, _)| !r.holds(addr)) {
        write(&set[1], its, other);
    }
    write(&set[0], stamp, seen);
}

fn write(s: &Slot, stamp: Stamp, seen: Seen) {
    let v = s.version.load(Ordering::Relaxed);
    if v & 1 != 0
        || s.version
            .compare_exchange(v, v + 1, Ordering::Relaxed, Ordering::Relaxed)
            .is_err()
    {
        return;
    }
    // Readers that see any of the stores below also see the odd version.
    fence(Ordering::Release);
    s.epoch.store(stamp.epoch, Ordering::Relaxed);
    s.start.store(seen.start, Ordering::Relaxed);
    s.end.store(seen.end, Ordering::Relaxed);
    s.flags.store(seen.flags, Ordering::Relaxed);
    s.version.store(v + 2, Ordering::Release);
}

/// Frees the slots a vanished thread of the parent was writing at `fork`: they would otherwise
/// stay odd (never used again) in the child. Their half-written contents are voided first.
pub(super) fn after_fork() {
    for s in TABLE.iter().flatten() {
        let v = s.version.load(Ordering::Relaxed);
        if v & 1 != 0 {
            s.epoch.store(VOID, Ordering::Relaxed);
            s.version.store(v + 1, Ordering::Release);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A made-up 64 KiB region at an address nothing maps; tests running in parallel use
    /// different `k`, so different slots, and leave the granule after each region unused.
    fn far(k: usize) -> Seen {
        let start = 0x1234_5678_0000 + k * 2 * 0x10000;
        Seen {
            start,
            end: start + 0x10000,
            flags: super::super::READ,
        }
    }

    #[test]
    fn a_slot_answers_only_inside_its_region_and_only_for_its_snapshot() {
        let r = far(0);
        // Other tests refresh and invalidate in parallel: retry until no refresh hit the window.
        let hit = crate::testutil::eventually(|| {
            let stamp = now();
            put(r.start + 8, stamp, r);
            let got = get(r.end - 8);
            let now = now();
            now == stamp
                && got.is_some_and(|g| (g.start, g.end, g.flags) == (r.start, r.end, r.flags))
        });
        assert!(hit, "a fresh slot is used");
        assert!(get(r.end).is_none(), "the region's end is outside");
        assert!(get(r.start - 1).is_none(), "before its start too");
    }

    #[test]
    fn a_refresh_or_an_invalidate_voids_every_slot() {
        let r = far(2);
        let stamp = now();
        let older = Stamp {
            epoch: stamp.epoch.wrapping_sub(1),
        };
        put(r.start, older, r);
        assert!(
            get(r.start).is_none(),
            "a region read before the last refresh or invalidate() is not used"
        );
        put(r.start, stamp, r);
        super::super::invalidate();
        assert!(get(r.start).is_none(), "invalidate() voids it");
    }

    /// A program's `.bss` and the `[heap]` right after it share a 64 KiB granule: remembering
    /// one must not evict the other, or a program alternating between them (ls, once per file)
    /// reads the snapshot on every check.
    #[test]
    fn two_regions_sharing_a_granule_are_both_remembered() {
        let whole = far(6);
        let mid = whole.start + 0x8000;
        let (bss, heap) = (
            Seen { end: mid, ..whole },
            Seen {
                start: mid,
                ..whole
            },
        );
        let both = crate::testutil::eventually(|| {
            let stamp = now();
            put(bss.start, stamp, bss);
            put(heap.start, stamp, heap);
            let got = (get(bss.end - 8), get(heap.start + 8));
            now() == stamp
                && got
                    .0
                    .is_some_and(|r| (r.start, r.end) == (bss.start, bss.end))
                && got
                    .1
                    .is_some_and(|r| (r.start, r.end) == (heap.start, heap.end))
        });
        assert!(both, "each region answers for its own addresses");
    }

    /// Thread stacks as glibc places them (each 8 MiB + 4 KiB below the previous one), from
    /// made-up bases: 16 threads get 16 slots, also when each checks the two granules at the top
    /// of its stack.
    #[test]
    fn thread_stack_strides_spread_over_distinct_slots() {
        const STRIDE: usize = (8 << 20) + 4096;
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..1000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let base = 0x7f00_0000_0000 + (x as usize & 0xff_ffff_f000);
            let tops: Vec<usize> = (0..16).map(|k| index(base - k * STRIDE)).collect();
            let mut distinct = tops.clone();
            distinct.sort();
            distinct.dedup();
            assert_eq!(distinct.len(), 16, "stacks below {base:#x}: slots {tops:?}");
            let mut two: Vec<usize> = (0..8)
                .flat_map(|k| [index(base - k * STRIDE), index(base - k * STRIDE - 0x10000)])
                .collect();
            two.sort();
            two.dedup();
            assert!(
                two.len() >= 14,
                "two granules per stack below {base:#x}: {two:?}"
            );
        }
    }

    #[test]
    fn a_slot_being_written_is_skipped_and_released_after_fork() {
        let r = far(4);
        let s = &TABLE[index(r.start)][0];
        let v = s.version.load(Ordering::Relaxed) | 1;
        s.version.store(v, Ordering::Relaxed);
        put(r.start, now(), r);
        assert_eq!(
            s.version.load(Ordering::Relaxed),
            v,
            "a writer in progress (an interrupted one) is not overtaken"
        );
        assert!(get(r.start).is_none());
        after_fork();
        assert_eq!(s.version.load(Ordering::Relaxed), v + 1);
        assert_eq!(s.epoch.load(Ordering::Relaxed), VOID, "its contents void");
        put(r.start, now(), r);
        assert_eq!(s.version.load(Ordering::Relaxed), v + 3, "usable again");
    }
}
