//! Windows: the big heap blocks a thread's checks passed lately, each clipped to its mapped
//! region, so that the next check inside one is a few compares.
//!
//! A pointer into a big block (sort's 5 MB line buffer, which `strcoll` and `memcmp` get two
//! pointers into, 5.5 million times a run) costs a look at the recently seen regions and one at
//! the heap's page bytes and big-block table, about 70 instructions. Inside a window that is
//! still valid, every byte is readable (and writable, if the window says so) and inside one
//! live block: exactly what those two looks would say. A window holds while its generation
//! ([`GEN`]) is the current one: a new map snapshot, a map change (`snapshot::EPOCH` moving) and
//! a big block leaving the heap's table (freed, or moved or widened by `realloc`) each start a
//! new one, which voids every window of every thread.
//!
//! Each thread writes only its own windows; a signal handler's check may interrupt a write or
//! a read on the same thread, which the entry's version (odd while written, read before and
//! after) detects.

use super::{READ, WRITE};
use core::sync::atomic::{compiler_fence, AtomicBool, AtomicUsize, Ordering};

/// A thread's windows, the latest first.
#[repr(C)]
pub struct Windows {
    entries: [Entry; WINDOWS],
    /// While windows are off (see [`ON`]): the blocks of the two latest big-block passes, the
    /// latest first, and the passes in a row that were in one of the two blocks before them.
    last: [AtomicUsize; WINDOWS],
    repeats: AtomicUsize,
}

/// Whether checks look at windows at all. A look that misses costs about 35 instructions, and
/// remembering a window about 40, more than the checks it would skip save in a program that
/// seldom checks one big block again and again: with windows always on, Python made 15% more
/// instructions and sqlite3 17%, ls 11%. So windows are off until one thread has passed
/// [`REPEATS`] checks in a row in its two latest big blocks, as many as it has windows (sort's
/// line buffer, millions of times; `cmp`-like loops over two blocks; Python passes big blocks
/// 3,262 times in all), then on for the rest of the process. Off, a check pays one load and a
/// branch, and a pass in a big block a compare or two with the blocks before.
static ON: AtomicBool = AtomicBool::new(false);
const REPEATS: usize = 1 << 16;

/// A thread's windows, and so the big blocks its gate counts passes in: two, for a loop over
/// two blocks (`memcmp` of one against another) as much as for one.
const WINDOWS: usize = 2;

#[repr(C)]
struct Entry {
    version: AtomicUsize,
    lo: AtomicUsize,
    hi: AtomicUsize,
    /// The region's permissions (`READ`, `WRITE`).
    perms: AtomicUsize,
    /// The [`GEN`] it was made under.
    gen: AtomicUsize,
    /// To 64 bytes: an entry's offset is then a shift.
    _pad: [usize; 3],
}

impl Windows {
    /// No windows (all zero, as static TLS starts: an empty entry holds no byte).
    pub const fn empty() -> Windows {
        Windows {
            entries: [const { Entry::empty() }; WINDOWS],
            last: [const { AtomicUsize::new(0) }; WINDOWS],
            repeats: AtomicUsize::new(0),
        }
    }
}

/// The windows' generation: bumped after every change of the memory map the checks see (a new
/// snapshot, `invalidate`) and before a big block leaves the heap's table. One word for a look
/// to compare, where the snapshot's epoch and the heap's count of big blocks taken out were two
/// loads and three instructions more on each of sort's 11 million looks.
static GEN: AtomicUsize = AtomicUsize::new(0);

/// Starts a new generation: every window made before is void.
pub(crate) fn void() {
    GEN.fetch_add(1, Ordering::AcqRel);
}

/// What a window is checked against: the [`GEN`] it was made under.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Stamp(usize);

impl Stamp {
    #[inline(always)]
    fn now() -> Stamp {
        Stamp(crate::local!(GEN: AtomicUsize).load(Ordering::Acquire))
    }
}

impl Entry {
    const fn empty() -> Entry {
        Entry {
            version: AtomicUsize::new(0),
            lo: AtomicUsize::new(0),
            hi: AtomicUsize::new(0),
            perms: AtomicUsize::new(0),
            gen: AtomicUsize::new(0),
            _pad: [0; 3],
        }
    }

    /// The window's bounds if it is whole, has the permissions `need` and holds `addr`.
    #[inline(always)]
    fn at(&self, addr: usize, need: usize) -> Option<(usize, Stamp)> {
        holding(self.read(), addr, need)
    }

    fn write(&self, lo: usize, hi: usize, perms: usize, stamp: Stamp) {
        let v = self.version.load(Ordering::Relaxed) | 1;
        self.version.store(v, Ordering::Relaxed);
        compiler_fence(Ordering::SeqCst);
        self.lo.store(lo, Ordering::Relaxed);
        self.hi.store(hi, Ordering::Relaxed);
        self.perms.store(perms, Ordering::Relaxed);
        self.gen.store(stamp.0, Ordering::Relaxed);
        compiler_fence(Ordering::SeqCst);
        self.version.store(v + 1, Ordering::Relaxed);
    }

    /// The whole entry, `None` while it is being written.
    #[inline(always)]
    fn read(&self) -> Option<(usize, usize, usize, Stamp)> {
        let v = self.version.load(Ordering::Relaxed);
        compiler_fence(Ordering::SeqCst);
        let e = (
            self.lo.load(Ordering::Relaxed),
            self.hi.load(Ordering::Relaxed),
            self.perms.load(Ordering::Relaxed),
            Stamp(self.gen.load(Ordering::Relaxed)),
        );
        compiler_fence(Ordering::SeqCst);
        (v & 1 == 0 && self.version.load(Ordering::Relaxed) == v).then_some(e)
    }
}

/// The end and stamp of the window `read` gave, if it holds `addr` with the permissions `need`.
#[inline(always)]
fn holding(
    read: Option<(usize, usize, usize, Stamp)>,
    addr: usize,
    need: usize,
) -> Option<(usize, Stamp)> {
    let (lo, hi, perms, stamp) = read?;
    // One comparison: below `lo` wraps around to beyond the window; an empty one is 0..0.
    (addr.wrapping_sub(lo) < hi.wrapping_sub(lo) && perms & need == need).then_some((hi, stamp))
}

/// Whether checks look at windows yet (see [`ON`]).
#[inline(always)]
pub(super) fn on() -> bool {
    crate::local!(ON: AtomicBool).load(Ordering::Relaxed)
}

/// The end of this thread's valid window that holds `addr` with the permissions `need`:
/// every byte from `addr` to it passes a buffer check. `None`: check in full.
#[inline(always)]
pub(super) fn end(addr: usize, need: usize) -> Option<usize> {
    if !on() {
        return None;
    }
    // SAFETY: they are.
    unsafe { end_on(addr, need) }
}

/// [`end`] for a caller that saw windows on (the string check's small frame, entered only
/// then): the flag's load again was 4 of its 47 instructions.
///
/// # Safety
/// [`on`] returned true (it never turns false again).
#[inline(always)]
pub(super) unsafe fn end_on(addr: usize, need: usize) -> Option<usize> {
    // On: a thread's check remembered a window, so the memos' place is known.
    // SAFETY: `remember` turns windows on only after `memo::thread` found the memos.
    let w = unsafe { &crate::memo::thread_known().windows };
    let (hi, stamp) = w.entries[0]
        .at(addr, need)
        .or_else(|| w.entries[1].at(addr, need))?;
    (stamp == Stamp::now()).then_some(hi)
}

/// [`end_on`] of two addresses at once, for an interposer with two buffer or string checks
/// (`memcmp`, `memcpy`, `strcoll`): the latest window is read once for both, where two looks
/// read it twice (its version, bounds and stamp, behind compiler fences that keep the second
/// look from reusing the first's loads). `None` unless both lie in valid windows.
///
/// # Safety
/// As [`end_on`].
#[inline(always)]
pub(super) unsafe fn ends_on(
    a: usize,
    need_a: usize,
    b: usize,
    need_b: usize,
) -> Option<(usize, usize)> {
    // SAFETY: as in `end_on`.
    let w = unsafe { &crate::memo::thread_known().windows };
    let latest = w.entries[0].read();
    // The second window is read at most once, when one of the two is not in the latest.
    let mut second = None;
    let mut find = |addr, need| {
        holding(latest, addr, need).or_else(|| {
            holding(
                *second.get_or_insert_with(|| w.entries[1].read()),
                addr,
                need,
            )
        })
    };
    let (end_a, stamp_a) = find(a, need_a)?;
    let (end_b, stamp_b) = find(b, need_b)?;
    let now = Stamp::now();
    (stamp_a == now && stamp_b == now).then_some((end_a, end_b))
}

/// Remembers the live big block `start..start+len`, which a check of `addr` just passed, as
/// this thread's latest window (clipped to `addr`'s region); the one before moves second.
/// The stamp is read first, then the block and the region are found again under it: a block
/// freed or a map read again since the check leaves no window, one after makes it void.
#[inline(never)]
pub(super) fn remember(addr: usize, start: usize, len: usize) {
    let Some(t) = crate::memo::thread() else {
        return;
    };
    let w = &t.windows;
    if !on() {
        let [latest, before] = &w.last;
        let previous = latest.load(Ordering::Relaxed);
        if previous != start {
            let known = before.load(Ordering::Relaxed) == start;
            before.store(previous, Ordering::Relaxed);
            latest.store(start, Ordering::Relaxed);
            if !known {
                w.repeats.store(0, Ordering::Relaxed);
                return;
            }
        }
        let n = w.repeats.load(Ordering::Relaxed) + 1;
        w.repeats.store(n, Ordering::Relaxed);
        if n == REPEATS {
            ON.store(true, Ordering::Relaxed);
        }
        return;
    }
    let stamp = Stamp::now();
    let Some(r) = super::recent::get(addr) else {
        return;
    };
    if !crate::heap::big_live(start, len) {
        return;
    }
    let (lo, hi) = (start.max(r.start), (start + len).min(r.end));
    let [first, second] = &w.entries;
    let perms = r.flags & (READ | WRITE);
    match first.read() {
        Some(same) if same == (lo, hi, perms, stamp) => return,
        Some((flo, fhi, fperms, fstamp)) if (flo, fhi) != (lo, hi) && fhi != 0 => {
            second.write(flo, fhi, fperms, fstamp)
        }
        _ => {}
    }
    first.write(lo, hi, perms, stamp);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::heap::{self, Site};
    use crate::mem::{invalidate, readable, string, writable};
    use crate::testutil::eventually;
    use core::ffi::c_void;

    /// A heap block of `n` bytes of 'a' and a NUL at its end, recorded as the allocator
    /// interposers record it.
    fn big_block(n: usize) -> *mut u8 {
        // SAFETY: the test process's own malloc; the block is n bytes.
        unsafe {
            let p = libc::malloc(n).cast::<u8>();
            p.write_bytes(b'a', n - 1);
            p.add(n - 1).write(0);
            heap::allocated(p.cast(), n, Site::UNKNOWN);
            p
        }
    }

    /// Checks `addr..addr+len` until this thread's window holds it: other tests free big blocks
    /// and re-read the map in parallel, which voids windows, and a check that ran into a
    /// re-read remembers nothing.
    fn windowed(addr: usize, len: usize) -> bool {
        eventually(|| {
            // SAFETY: the bytes are only compared against the map.
            assert!(unsafe { readable(addr as *const c_void, len) }.is_ok());
            end(addr, READ).is_some_and(|hi| len <= hi - addr)
        })
    }

    /// 64 KiB: a big block (8 KiB or more) below glibc's mmap threshold, so that its start
    /// still reads as a freed block once it is freed.
    const N: usize = 64 << 10;

    #[test]
    fn a_big_block_that_passed_answers_from_its_window_until_it_is_freed() {
        crate::memo::testing::install();
        let p = big_block(N);
        let at = p as usize + 100;
        assert!(
            windowed(at, 1000),
            "a pass inside a big block makes a window"
        );
        assert!(
            end(p as usize + N, READ).is_none_or(|hi| hi <= p as usize + N),
            "the window ends with its block"
        );
        // SAFETY: only compared against the map and the heap.
        unsafe {
            let over = readable((p as usize + N - 10) as *const c_void, 11);
            assert!(
                over.is_err(),
                "a range past the block's end is judged in full"
            );
            assert!(
                writable(at as *const c_void, 8).is_ok(),
                "heap memory is writable"
            );
            assert!(
                string(at as *const c_void).is_ok(),
                "its NUL is inside the block"
            );
            // No NUL left: the string runs past the block's end.
            p.add(N - 1).write(b'a');
            assert!(
                string(at as *const c_void).is_err(),
                "unterminated in its block"
            );
            p.add(N - 1).write(0);
            heap::released(p.cast(), Site::UNKNOWN);
            assert!(
                end(at, READ).is_none(),
                "freeing a big block voids its window"
            );
            let f = readable(p.cast(), 16).unwrap_err();
            assert!(
                f.msg.as_str().contains("freed"),
                "a freed block is reported again: {}",
                f.msg.as_str()
            );
            libc::free(p.cast());
        }
    }

    #[test]
    fn a_window_is_void_once_the_map_is_read_again() {
        crate::memo::testing::install();
        let p = big_block(N);
        let at = p as usize + 4096;
        assert!(windowed(at, 64));
        invalidate();
        assert!(end(at, READ).is_none(), "a map change voids every window");
        // SAFETY: a live block of big_block.
        unsafe {
            heap::released(p.cast(), Site::UNKNOWN);
            libc::free(p.cast());
        }
    }

    #[test]
    fn one_look_at_the_windows_settles_two_checks_or_leaves_both() {
        use crate::mem::{buffers_in_windows, strings_in_windows, Pair};
        crate::memo::testing::install();
        let (p, q) = (big_block(N), big_block(N));
        let (a, b) = (p as usize + 64, q as usize + 64);
        let pair = |a: usize, la, b: usize, lb| {
            // SAFETY: only compared against the windows.
            unsafe {
                buffers_in_windows(a as *const c_void, la, false, b as *const c_void, lb, true)
            }
        };
        let both = eventually(|| {
            assert!(windowed(a, 8) && windowed(b, 8));
            pair(a, 8, b, 8) == Pair::Both
        });
        assert!(both, "two ranges in the two windows pass in one look");
        let local = [0u8; 16];
        assert_eq!(
            pair(a, 8, local.as_ptr() as usize, 16),
            Pair::Apart,
            "a stack buffer lies in no window"
        );
        assert_eq!(
            pair(a, 8, q as usize + N - 4, 8),
            Pair::Apart,
            "a range past its block's end is judged in full"
        );
        let strings = || {
            // SAFETY: both blocks are live and readable; the look reads them only inside windows.
            unsafe { strings_in_windows(a as *const c_void, b as *const c_void) }
        };
        let both = eventually(|| {
            assert!(windowed(a, 8) && windowed(b, 8));
            strings() == Pair::Both
        });
        assert!(
            both,
            "two strings NUL-terminated in their windows pass in one look"
        );
        // SAFETY: the last byte of q's block, then its blocks given back.
        unsafe {
            q.add(N - 1).write(b'a');
            assert_eq!(
                strings(),
                Pair::Apart,
                "a string unterminated in its window"
            );
            for p in [p, q] {
                heap::released(p.cast(), Site::UNKNOWN);
                libc::free(p.cast());
            }
        }
    }

    #[test]
    fn the_two_latest_blocks_keep_a_window_each() {
        crate::memo::testing::install();
        let (p, q) = (big_block(N), big_block(N));
        let (a, b) = (p as usize + 64, q as usize + 64);
        let both = eventually(|| {
            assert!(windowed(a, 8) && windowed(b, 8));
            end(a, READ).is_some() && end(b, READ).is_some()
        });
        assert!(both, "the earlier window moved second");
        // SAFETY: live blocks of big_block.
        unsafe {
            for p in [p, q] {
                heap::released(p.cast(), Site::UNKNOWN);
                libc::free(p.cast());
            }
        }
    }
}
