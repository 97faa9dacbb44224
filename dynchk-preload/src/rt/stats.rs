//! Process-wide counters for the summary record, all lock-free and allocation-free: they are
//! updated from any thread, from signal handlers and before `main`.

use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};

use super::thread;

/// Process totals of calls and checked calls. Threads count in their own (thread-local) state
/// and add to these every [`FLUSH_EVERY`] calls: a locked add on a shared line per call would
/// cost more than the rest of the fast path. A thread that exits leaves fewer than
/// `FLUSH_EVERY` calls uncounted.
static CALLS: AtomicU64 = AtomicU64::new(0);
static CHECKED: AtomicU64 = AtomicU64::new(0);

/// Calls a thread counts before adding them to the totals.
pub const FLUSH_EVERY: u32 = 64;

/// Counts one call that reached an interposer; `checked` when its checks ran.
#[inline(always)]
pub fn count_call(state: *mut thread::State, checked: bool) {
    // SAFETY: this thread's own state; a signal handler's calls on this thread may interleave
    // with the increments and lose one count at worst.
    let st = unsafe { &mut *state };
    st.calls += 1;
    st.checked += checked as u32;
    if st.calls >= FLUSH_EVERY {
        flush(state);
    }
}

/// Adds this thread's pending counts to the totals.
pub fn flush(state: *mut thread::State) {
    // SAFETY: this thread's own state.
    let st = unsafe { &mut *state };
    CALLS.fetch_add(st.calls as u64, Relaxed);
    CHECKED.fetch_add(st.checked as u64, Relaxed);
    st.calls = 0;
    st.checked = 0;
}

/// Totals of calls and checked calls (including this thread's pending ones).
pub fn calls() -> (u64, u64) {
    flush(thread::state());
    (CALLS.load(Relaxed), CHECKED.load(Relaxed))
}

/// A fixed-size set of addresses (open addressing, insert-only), for the interfaces used.
pub struct AddrSet<const N: usize> {
    slots: [AtomicUsize; N],
    len: AtomicUsize,
}

impl<const N: usize> AddrSet<N> {
    /// An empty set.
    pub const fn new() -> Self {
        AddrSet {
            slots: [const { AtomicUsize::new(0) }; N],
            len: AtomicUsize::new(0),
        }
    }

    /// Adds `addr` (non-zero); returns whether it was new. A full set stops growing.
    #[inline(always)]
    pub fn insert(&self, addr: usize) -> bool {
        // Interface descriptors are at least 16 bytes apart: the address is its own hash.
        let mut i = (addr >> 4) % N;
        for _ in 0..N {
            let cur = self.slots[i].load(Relaxed);
            if cur == addr {
                return false;
            }
            if cur == 0 {
                match self.slots[i].compare_exchange(0, addr, Relaxed, Relaxed) {
                    Ok(_) => {
                        self.len.fetch_add(1, Relaxed);
                        return true;
                    }
                    Err(now) if now == addr => return false,
                    Err(_) => {}
                }
            }
            i = (i + 1) % N;
        }
        false
    }

    /// Number of addresses in the set.
    pub fn len(&self) -> usize {
        self.len.load(Relaxed)
    }

    /// Empties the set (in a fork child, before any other thread exists).
    pub fn clear(&self) {
        for s in &self.slots {
            s.store(0, Relaxed);
        }
        self.len.store(0, Relaxed);
    }
}

/// The interfaces called at least once (by their `Iface` address).
pub static USED: AddrSet<4096> = AddrSet::new();

/// 64-bit mix (splitmix64 finaliser): spreads pointer and key bits over the table index.
pub fn hash(mut x: u64) -> u64 {
    x ^= x >> 30;
    x = x.wrapping_mul(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x = x.wrapping_mul(0x94d049bb133111eb);
    x ^ (x >> 31)
}

/// Violation counts per `check` name, for the summary's `by_check`.
pub struct ByCheck {
    /// A name as one word: address in the low 48 bits, length in the high 16, so that a reader
    /// never sees half of a name being published.
    names: [AtomicU64; 64],
    counts: [AtomicU64; 64],
}

impl ByCheck {
    const fn new() -> Self {
        ByCheck {
            names: [const { AtomicU64::new(0) }; 64],
            counts: [const { AtomicU64::new(0) }; 64],
        }
    }

    /// Counts one violation of `check`. Names are compared by content: the same check name may
    /// come from different string constants.
    pub fn add(&self, check: &'static str) {
        let packed =
            (check.as_ptr() as u64 & 0xffff_ffff_ffff) | ((check.len().min(0xffff) as u64) << 48);
        for i in 0..self.names.len() {
            let cur = match self.names[i].compare_exchange(0, packed, Relaxed, Relaxed) {
                Ok(_) => packed,
                Err(now) => now,
            };
            if unpack(cur) == check {
                self.counts[i].fetch_add(1, Relaxed);
                return;
            }
        }
    }

    /// Calls `f(check, count)` for every check counted so far.
    pub fn for_each(&self, mut f: impl FnMut(&str, u64)) {
        for i in 0..self.names.len() {
            let cur = self.names[i].load(Relaxed);
            if cur != 0 {
                f(unpack(cur), self.counts[i].load(Relaxed));
            }
        }
    }

    /// Forgets all counts (fork child).
    pub fn clear(&self) {
        for i in 0..self.names.len() {
            self.names[i].store(0, Relaxed);
            self.counts[i].store(0, Relaxed);
        }
    }
}

fn unpack(packed: u64) -> &'static str {
    let p = (packed & 0xffff_ffff_ffff) as *const u8;
    let len = (packed >> 48) as usize;
    // SAFETY: packed came from a &'static str (user-space addresses fit in 48 bits on x86-64 and
    // AArch64 Linux with 4-level tables) and check names are shorter than 64 KiB.
    unsafe { core::str::from_utf8_unchecked(core::slice::from_raw_parts(p, len)) }
}

/// Violations by check name.
pub static BY_CHECK: ByCheck = ByCheck::new();

/// Fixed-size table of the violations reported so far, keyed by a hash of (call site, interface,
/// param, check): a repeat is counted, not reported again.
pub struct Dedup<const N: usize> {
    keys: [AtomicU64; N],
}

impl<const N: usize> Dedup<N> {
    /// An empty table.
    pub const fn new() -> Self {
        Dedup {
            keys: [const { AtomicU64::new(0) }; N],
        }
    }

    /// Whether `key` is seen for the first time. When the table is full every further violation
    /// counts as new (reported, never lost).
    pub fn first(&self, key: u64) -> bool {
        let key = key.max(1);
        let mut i = hash(key) as usize % N;
        for _ in 0..N {
            match self.keys[i].compare_exchange(0, key, Relaxed, Relaxed) {
                Ok(_) => return true,
                Err(k) if k == key => return false,
                Err(_) => i = (i + 1) % N,
            }
        }
        true
    }

    /// Forgets everything (fork child).
    pub fn clear(&self) {
        for k in &self.keys {
            k.store(0, Relaxed);
        }
    }
}

/// Totals of violations (all) and distinct ones (reported).
pub static VIOLATIONS: AtomicU64 = AtomicU64::new(0);
/// Distinct violations: those written as records.
pub static DISTINCT: AtomicU64 = AtomicU64::new(0);
/// The dedup table.
pub static SEEN: Dedup<8192> = Dedup::new();

/// Resets every counter: a fork child starts its own summary.
pub fn reset() {
    restart_totals();
    SEEN.clear();
}

/// Resets the totals of a summary, keeping the dedup table (the records written stay written).
pub fn restart_totals() {
    CALLS.store(0, Relaxed);
    CHECKED.store(0, Relaxed);
    // The forking thread's pending counts were the parent's.
    // SAFETY: this thread's own state.
    let st = unsafe { &mut *thread::state() };
    st.calls = 0;
    st.checked = 0;
    USED.clear();
    BY_CHECK.clear();
    VIOLATIONS.store(0, Relaxed);
    DISTINCT.store(0, Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addr_set_counts_distinct_addresses() {
        let s: AddrSet<8> = AddrSet::new();
        assert!(s.insert(16));
        assert!(!s.insert(16));
        assert!(s.insert(32));
        assert_eq!(s.len(), 2);
        for a in 1..100 {
            s.insert(a * 8);
        }
        assert_eq!(s.len(), 8, "a full set stops growing");
        s.clear();
        assert_eq!(s.len(), 0);
    }

    #[test]
    fn dedup_reports_once_and_never_loses_when_full() {
        let d: Dedup<4> = Dedup::new();
        assert!(d.first(7));
        assert!(!d.first(7));
        for k in 100..103 {
            assert!(d.first(k));
        }
        assert!(
            d.first(999),
            "full table: reported again rather than dropped"
        );
        assert!(!d.first(7));
    }

    #[test]
    fn by_check_matches_names_by_content() {
        let b = ByCheck::new();
        let a: &'static str = "RWaddress";
        let owned: &'static str = String::from("RWaddress").leak();
        b.add(a);
        b.add(owned);
        b.add("filedescriptor");
        let mut seen = Vec::new();
        b.for_each(|n, c| seen.push((n.to_string(), c)));
        assert_eq!(
            seen,
            vec![
                ("RWaddress".to_string(), 2),
                ("filedescriptor".to_string(), 1)
            ]
        );
    }
}
