//! The cached memory map.
//!
//! The cache holds two snapshot copies in memory mapped by raw `mmap` (never freed, so a reader
//! holding a stale pointer still reads mapped memory). One writer at a time (a try-lock, never
//! waited on) fills the copy readers are not directed to, then flips a sequence number; readers
//! validate the sequence number after their lookup and retry when it moved (a "latch"). Readers
//! never block and never write shared memory, so a signal handler that interrupts a writer on the
//! same thread simply reads the other copy. A lookup that fails is retried on a fresh read of
//! `/proc/self/maps` before anything is reported, because mappings appear without an interposed
//! call (malloc's own `mmap`, stack growth).

use super::{maps::fill, recent, Perms, EXEC, READ};
use crate::{sys, Fault};
use core::sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicUsize, Ordering};

/// Regions one snapshot holds: the kernel's default `vm.max_map_count` (65530) fits. Pages are
/// only touched as far as regions are written, so a process with 100 mappings pays one page.
pub(super) const CAPACITY: usize = 65536;

#[repr(C)]
pub(super) struct Region {
    pub(super) start: AtomicUsize,
    pub(super) end: AtomicUsize,
    pub(super) flags: AtomicUsize,
}

/// One parsed `/proc/self/maps`, sorted by address as the kernel prints it.
///
/// Fields are atomics because a reader may race with a writer refilling the copy; such a reader
/// sees torn values, which the sequence check then discards.
#[repr(C)]
pub(super) struct Snapshot {
    /// [`INVALIDATIONS`] when reading began: a later `invalidate()` makes the snapshot stale.
    pub(super) generation: AtomicUsize,
    pub(super) len: AtomicUsize,
    /// False when the process had more mappings than [`CAPACITY`]: misses then prove nothing.
    pub(super) complete: AtomicBool,
    pub(super) regions: [Region; CAPACITY],
}

pub(super) static SEQ: AtomicUsize = AtomicUsize::new(0);
static COPIES: [AtomicPtr<Snapshot>; 2] = [
    AtomicPtr::new(core::ptr::null_mut()),
    AtomicPtr::new(core::ptr::null_mut()),
];
pub(super) static WRITER: AtomicBool = AtomicBool::new(false);
pub(super) static INVALIDATIONS: AtomicUsize = AtomicUsize::new(0);
/// Counts the changes that void what was read from a snapshot: each published snapshot (a new
/// [`SEQ`]) and each `invalidate()`. One word for the remembered regions to compare (see
/// `recent`), where the pair of [`SEQ`] and [`INVALIDATIONS`] was two loads and two compares per
/// check. Bumped after the change it counts, so that a reader that sees the new count sees the
/// change too.
pub(super) static EPOCH: AtomicUsize = AtomicUsize::new(0);
static REFRESHES: AtomicUsize = AtomicUsize::new(0);

/// Marks the cached memory map stale; the next check re-reads `/proc/self/maps`.
///
/// The runtime calls it after every call that can remove or change a mapping (`mmap`, `munmap`,
/// `mremap`, `mprotect`, `brk`, `sbrk`, `shmat`, `shmdt`, `dlopen`, `dlclose`): a removed mapping
/// would otherwise still be accepted. New mappings are found without it (a miss re-reads).
pub fn invalidate() {
    INVALIDATIONS.fetch_add(1, Ordering::Release);
    EPOCH.fetch_add(1, Ordering::Release);
    super::window::void();
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

/// One region of a snapshot, copied out.
#[derive(Clone, Copy)]
pub(super) struct Seen {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) flags: usize,
}

impl Seen {
    #[inline]
    pub(super) fn holds(&self, addr: usize) -> bool {
        (self.start..self.end).contains(&addr)
    }
}

/// When a lookup read the published snapshot: the [`EPOCH`] before it began. What it found holds
/// as long as the epoch is unchanged.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) struct Stamp {
    pub(super) epoch: usize,
}

/// What the map says about the bytes from an address on.
pub(super) struct Span {
    /// The region holding the address, `None` when it is unmapped.
    pub(super) region: Option<Seen>,
    /// How many bytes from the address (up to the limit asked) lie in adjacent regions that all
    /// have the permissions asked for.
    pub(super) bytes: usize,
    pub(super) complete: bool,
    /// The span ends short of the limit at an address no region of the snapshot holds: either
    /// that address is unmapped, or the snapshot is torn (see [`lookup`]).
    pub(super) gap: bool,
}

impl Span {
    /// For [`lookup`]: the address a span from `addr` says is unmapped, if it ends at one.
    pub(super) fn gap_at(addr: usize) -> impl Fn(&Span) -> Option<usize> {
        move |s| s.gap.then_some(addr + s.bytes)
    }

    pub(super) fn fault(&self, check: &'static str, addr: usize, len: usize, need: usize) -> Fault {
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

impl Snapshot {
    pub(super) fn len(&self) -> usize {
        // A torn length must still index inside the mapping.
        self.len.load(Ordering::Relaxed).min(CAPACITY)
    }

    pub(super) fn seen(&self, i: usize) -> Seen {
        let r = &self.regions[i];
        Seen {
            start: r.start.load(Ordering::Relaxed),
            end: r.end.load(Ordering::Relaxed),
            flags: r.flags.load(Ordering::Relaxed),
        }
    }

    /// Index of the region holding `addr`.
    pub(super) fn find(&self, addr: usize) -> Option<usize> {
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
    pub(super) fn span(&self, addr: usize, need: usize, limit: usize, regions: usize) -> Span {
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
pub(super) fn lookup<T>(
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
        // Before anything else: a change after this read moves the epoch past the stamp.
        let epoch = EPOCH.load(Ordering::Acquire);
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
            return Some((r, Stamp { epoch }));
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
            EPOCH.fetch_add(1, Ordering::Release);
            super::window::void();
            f(snap)
        })
    };
    WRITER.store(false, Ordering::Release);
    r
}

pub(super) fn new_snapshot() -> Option<*mut Snapshot> {
    sys::map_anon(core::mem::size_of::<Snapshot>()).map(|p| p.cast())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mem::tests::msg;
    use crate::mem::{readable, string, writable};
    use crate::testutil::{Map, PAGE};
    use core::ffi::c_void;
    use std::sync::atomic::AtomicBool as StdBool;
    use std::sync::Arc;

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
