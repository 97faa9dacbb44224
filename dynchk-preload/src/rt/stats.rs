//! Process-wide counters for the summary record, all lock-free and allocation-free: they are
//! updated from any thread, from signal handlers and before `main`.

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::sync::atomic::{
    AtomicBool, AtomicU64, AtomicUsize,
    Ordering::{Acquire, Relaxed, Release},
};

use super::{config, thread, IfaceRef};

/// Process total of the calls forwarded unchecked (made from inside the checker). Threads count
/// in their own (thread-local) state and add to it every [`FLUSH_EVERY`] calls: a locked add on
/// a shared line per call would cost more than the rest of the fast path. Checked calls have no
/// total of their own: they are the sum of the interfaces' counts ([`USED`]) and of
/// [`UNLISTED`], counted once per call in [`count_use`].
static UNCHECKED: AtomicU64 = AtomicU64::new(0);

/// Checked calls of interfaces that found the set of used interfaces full.
static UNLISTED: AtomicU64 = AtomicU64::new(0);

/// Unchecked calls a thread counts before adding them to the total.
pub const FLUSH_EVERY: u32 = 64;

/// One call in a thread's counter, which keeps its count in the top bits: the one addition
/// that counts a call carries out exactly when [`FLUSH_EVERY`] calls are due (`add` to memory
/// and a jump on carry, where a count, a comparison and its reload were five instructions).
const CALL: u32 = 1 << (32 - FLUSH_EVERY.trailing_zeros());
const _: () = assert!(FLUSH_EVERY.is_power_of_two());

/// Counts one call forwarded unchecked because the checker itself is running on this thread.
#[inline(always)]
pub fn count_unchecked(state: *mut thread::State) {
    // SAFETY: this thread's own state; a signal handler's calls on this thread may interleave
    // with the increments and lose one count at worst.
    let st = unsafe { &mut *state };
    add_carrying!(&mut st.unchecked, CALL, flush_due());
}

/// `*$n += $unit` (a `u32` in memory, `$unit` a constant), then `$due` if the addition carried
/// out. On x86-64 one `add` to memory and a `jc`: the compiler, left to itself, reloads and
/// compares the old value on some paths (five instructions).
macro_rules! add_carrying {
    ($n:expr, $unit:expr, $due:expr) => {{
        let n: &mut u32 = $n;
        #[cfg(target_arch = "x86_64")]
        // SAFETY: adds to the u32 that `n` borrows; touches no other memory, no stack.
        unsafe {
            core::arch::asm!(
                "add dword ptr [{n}], {unit}",
                "jc {due}",
                n = in(reg) n as *mut u32,
                unit = const $unit,
                due = label { $due; },
                options(nostack),
            );
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let (left, carried) = n.overflowing_add($unit);
            *n = left;
            if carried {
                $due;
            }
        }
    }};
}
use add_carrying;

/// Adds the [`FLUSH_EVERY`] calls that just wrapped a thread's counter.
#[cold]
fn flush_due() {
    UNCHECKED.fetch_add(FLUSH_EVERY as u64, Relaxed);
}

/// Counts one call of the interface `iface` (its `IfaceRef` address) for the summary's `used`.
///
/// The thread keeps the counts of the interfaces it called last (a [`thread::UsedEntry`] each)
/// and adds one to the shared set only when the entry is evicted, when it reaches
/// [`USE_FLUSH_EVERY`], or for the summary: a program alternating between a few interfaces (a
/// loop of `strlen`, `memcpy`, `read`) makes no shared write per call, which kept threads from
/// scaling. An entry has two places, so that two hot interfaces rarely keep evicting each other.
/// A thread adds its pending counts when it exits ([`flush_at_exit`]); whether an interface was
/// used at all is exact (it enters the set on first use). This is the checked calls' only count.
///
/// Returns whether the call is to be traced (`DYNCHK_TRACE=1`): tracing keeps every entry empty,
/// so that each call takes the cold path, and the hit paths return a constant (the interposer's
/// test of it goes away there).
#[inline(always)]
pub fn count_use(state: *mut thread::State, iface: usize, (a, b): Places) -> bool {
    // SAFETY: this thread's own state; a signal handler's calls on this thread may interleave
    // with the increments and lose one count at worst.
    let st = unsafe { &mut *state };
    // One branch per place, so that each counts at its constant offset.
    if st.used[a].iface == iface {
        bump(&mut st.used[a]);
        false
    } else if st.used[b].iface == iface {
        bump(&mut st.used[b]);
        false
    } else {
        take_entry(st, iface, a, b)
    }
}

/// Counts one call in `entry`, whose pending count is in the top bits like a thread's call
/// counters: the addition carries out when [`USE_FLUSH_EVERY`] calls are due.
#[inline(always)]
fn bump(entry: &mut thread::UsedEntry) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: adds to the entry's `pending` (a u32 at `PENDING` in it); touches no other memory,
    // no stack. The entry's address, not the field's, is the operand, so that the cold path
    // finds the slot beside it without a register of its own.
    unsafe {
        const PENDING: usize = core::mem::offset_of!(thread::UsedEntry, pending);
        core::arch::asm!(
            "add dword ptr [{e} + {pending}], {unit}",
            "jc {due}",
            e = in(reg) &raw mut *entry,
            pending = const PENDING,
            unit = const USE,
            due = label { flush_due_use(entry); },
            options(nostack),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let (left, carried) = entry.pending.overflowing_add(USE);
        entry.pending = left;
        if carried {
            flush_due_use(entry);
        }
    }
}

/// Adds the [`USE_FLUSH_EVERY`] calls that just wrapped an entry's count.
#[cold]
#[inline(never)]
fn flush_due_use(entry: &thread::UsedEntry) {
    USED.add(entry.slot as usize, USE_FLUSH_EVERY as u64);
}

/// The two entries of [`thread::State::used`] an interface may take: two different ones, each
/// below [`thread::USED_ENTRIES`].
pub type Places = (usize, usize);

const PLACE_BITS: u32 = thread::USED_ENTRIES.trailing_zeros();
const _: () = assert!(thread::USED_ENTRIES.is_power_of_two());

/// Two fields of the Fibonacci hash of `x`, never the same entry twice.
#[inline(always)]
const fn fibonacci_places(x: u64) -> Places {
    let h = x.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    let a = (h >> (64 - PLACE_BITS)) as usize;
    let b = (h >> (64 - 2 * PLACE_BITS)) as usize & (thread::USED_ENTRIES - 1);
    (a, if b == a { a ^ 1 } else { b })
}

/// The places of the interface at `index` in the generated table. The interposers name a
/// constant index, so this is computed when the library is built, not per call.
#[inline(always)]
pub const fn listed_places(index: usize) -> Places {
    fibonacci_places(index as u64 + 1)
}

/// The places of a hand-coded interface, from its name (its FNV-1a hash, then two fields of
/// the Fibonacci hash, as for the listed ones): computed when the library is built.
pub const fn named_places(name: &str) -> Places {
    fibonacci_places(validators::fnv1a(name) as u64)
}

/// Calls an entry counts before adding them to the shared set, so that the summary of a
/// long-running thread's process stays close.
const USE_FLUSH_EVERY: u32 = 1 << 16;

/// One call in an entry's pending count (see [`bump`]).
const USE: u32 = 1 << (32 - USE_FLUSH_EVERY.trailing_zeros());

/// Counts a call of `iface` that found neither of its entries, `a` and `b`: gives it the
/// emptier one, flushing what it held, unless calls are traced (then the call is added to the
/// set at once, and this returns true) or the set of used interfaces is full. Also the place
/// where a thread first counts, so where it asks to be flushed at its exit.
#[cold]
fn take_entry(st: &mut thread::State, iface: usize, a: usize, b: usize) -> bool {
    if st.flush_at_exit == 0 {
        st.flush_at_exit = 1;
        super::exit::flush_at_exit();
    }
    let trace = super::tracing();
    let Some(slot) = USED.insert(iface) else {
        UNLISTED.fetch_add(1, Relaxed);
        return trace;
    };
    if trace {
        USED.add(slot, 1);
        return true;
    }
    let e = if st.used[a].pending <= st.used[b].pending {
        a
    } else {
        b
    };
    flush_entry(&mut st.used[e]);
    st.used[e] = thread::UsedEntry {
        iface,
        slot: slot as u32,
        pending: USE,
    };
    false
}

#[cold]
fn flush_entry(e: &mut thread::UsedEntry) {
    if e.pending > 0 {
        USED.add(e.slot as usize, (e.pending / USE) as u64);
        e.pending = 0;
    }
}

/// Adds this thread's pending counts to the totals and the interfaces' counts, leaving its
/// entries empty (so that under tracing, which [`init`](super::init) turns on after the first
/// calls, every later call takes the cold path).
#[cold]
pub fn flush(state: *mut thread::State) {
    // SAFETY: this thread's own state.
    let st = unsafe { &mut *state };
    UNCHECKED.fetch_add((st.unchecked / CALL) as u64, Relaxed);
    st.unchecked = 0;
    for e in &mut st.used {
        flush_entry(e);
        *e = thread::UsedEntry::EMPTY;
    }
}

/// Totals of calls and checked calls (including this thread's pending ones).
pub fn calls() -> (u64, u64) {
    flush(thread::state());
    let mut checked = UNLISTED.load(Relaxed);
    USED.for_each(|_, n| checked += n);
    (checked + UNCHECKED.load(Relaxed), checked)
}

/// A fixed-size set of addresses with a count each (open addressing, insert-only), for the
/// interfaces used.
pub struct AddrSet<const N: usize> {
    slots: [AtomicUsize; N],
    counts: [AtomicU64; N],
    /// A bit per slot, set once the slot holds an address: `for_each` and `clear` visit the
    /// occupied slots only, instead of all N (4,096 slots: 20k instructions at every exit).
    occupied: [AtomicU64; OCCUPIED_WORDS],
    len: AtomicUsize,
}

/// Words of [`AddrSet::occupied`]: up to 4,096 slots.
const OCCUPIED_WORDS: usize = 64;

impl<const N: usize> AddrSet<N> {
    /// An empty set.
    pub const fn new() -> Self {
        const { assert!(N <= OCCUPIED_WORDS * 64) };
        AddrSet {
            slots: [const { AtomicUsize::new(0) }; N],
            counts: [const { AtomicU64::new(0) }; N],
            occupied: [const { AtomicU64::new(0) }; OCCUPIED_WORDS],
            len: AtomicUsize::new(0),
        }
    }

    /// The occupied slots, in ascending order.
    fn each_occupied(&self, mut f: impl FnMut(usize)) {
        for (w, word) in self.occupied.iter().enumerate() {
            let mut bits = word.load(Relaxed);
            while bits != 0 {
                f(w * 64 + bits.trailing_zeros() as usize);
                bits &= bits - 1;
            }
        }
    }

    /// Adds `addr` (non-zero) if it is new; returns its slot, `None` when the set is full.
    pub fn insert(&self, addr: usize) -> Option<usize> {
        // Hashed: generated interfaces' keys are consecutive odd numbers.
        let mut i = hash(addr as u64) as usize % N;
        for _ in 0..N {
            let cur = self.slots[i].load(Relaxed);
            if cur == addr {
                return Some(i);
            }
            if cur == 0 {
                match self.slots[i].compare_exchange(0, addr, Relaxed, Relaxed) {
                    Ok(_) => {
                        self.occupied[i / 64].fetch_or(1 << (i % 64), Relaxed);
                        self.len.fetch_add(1, Relaxed);
                        return Some(i);
                    }
                    Err(now) if now == addr => return Some(i),
                    Err(_) => {}
                }
            }
            i = (i + 1) % N;
        }
        None
    }

    /// Adds `n` to the count of slot `i`.
    pub fn add(&self, i: usize, n: u64) {
        self.counts[i].fetch_add(n, Relaxed);
    }

    /// Calls `f(addr, count)` for every address in the set.
    pub fn for_each(&self, mut f: impl FnMut(usize, u64)) {
        self.each_occupied(|i| f(self.slots[i].load(Relaxed), self.counts[i].load(Relaxed)));
    }

    /// Number of addresses in the set.
    pub fn len(&self) -> usize {
        self.len.load(Relaxed)
    }

    /// Empties the set (in a fork child, before any other thread exists).
    pub fn clear(&self) {
        self.each_occupied(|i| {
            self.slots[i].store(0, Relaxed);
            self.counts[i].store(0, Relaxed);
        });
        for word in &self.occupied {
            word.store(0, Relaxed);
        }
        self.len.store(0, Relaxed);
    }
}

/// The interfaces called at least once (by their `IfaceRef` address).
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

/// What a violation site is: the summary's `sites` entry.
#[derive(Clone, Copy)]
pub struct SiteData {
    /// Return address of the call into the interposer.
    pub ip: usize,
    /// The interface called.
    pub iface: Option<IfaceRef>,
    /// 0-based parameter position, -1 for the call as a whole.
    pub pos: i32,
    /// The broken rule.
    pub check: &'static str,
    member: [u8; MEMBER_CAP],
    member_len: u8,
}

/// Longest member path a site keeps (longer ones are cut).
const MEMBER_CAP: usize = 96;

impl SiteData {
    /// A site; `member` is cut to [`MEMBER_CAP`] bytes at a character boundary.
    pub fn new(
        ip: usize,
        iface: IfaceRef,
        pos: i32,
        check: &'static str,
        member: Option<&str>,
    ) -> Self {
        let mut d = SiteData {
            ip,
            iface: Some(iface),
            pos,
            check,
            ..SiteData::EMPTY
        };
        if let Some(m) = member {
            let mut n = m.len().min(MEMBER_CAP);
            while !m.is_char_boundary(n) {
                n -= 1;
            }
            d.member[..n].copy_from_slice(&m.as_bytes()[..n]);
            d.member_len = n as u8 + 1;
        }
        d
    }

    const EMPTY: SiteData = SiteData {
        ip: 0,
        iface: None,
        pos: 0,
        check: "",
        member: [0; MEMBER_CAP],
        member_len: 0,
    };

    /// The member path, for member rules.
    pub fn member(&self) -> Option<&str> {
        let n = (self.member_len as usize).checked_sub(1)?;
        core::str::from_utf8(&self.member[..n]).ok()
    }
}

struct SiteSlot {
    key: AtomicU64,
    count: AtomicU64,
    /// Set (release) once `data` is written by the thread that claimed the key.
    ready: AtomicBool,
    /// Uninitialised until claimed, so that the table is all zero bytes and lies in .bss: an
    /// empty `SiteData` has a pointer (its `check`), which put the 688 KiB table in .data, read
    /// from the file page by page by `for_each` at every exit.
    data: UnsafeCell<MaybeUninit<SiteData>>,
}

/// Fixed-size table of the violation sites seen so far, keyed by a hash of (call site, interface,
/// param, member, check), with a count each: a repeat is counted, not reported again.
pub struct Sites<const N: usize> {
    slots: [SiteSlot; N],
    /// Slots claimed: `for_each` and `clear` leave the table's pages untouched while it is 0,
    /// as it is in most processes (no page of it is ever faulted in).
    claimed: AtomicUsize,
}

// SAFETY: `data` is written only by the thread that claimed the slot's key, before `ready` is
// released, and read only after `ready` is acquired.
unsafe impl<const N: usize> Sync for Sites<N> {}

impl<const N: usize> Sites<N> {
    /// An empty table.
    pub const fn new() -> Self {
        Sites {
            slots: [const {
                SiteSlot {
                    key: AtomicU64::new(0),
                    count: AtomicU64::new(0),
                    ready: AtomicBool::new(false),
                    data: UnsafeCell::new(MaybeUninit::uninit()),
                }
            }; N],
            claimed: AtomicUsize::new(0),
        }
    }

    /// Counts one violation at the site `key`; whether it is the first there. When the table is
    /// full every further violation counts as new (reported, never lost; not in `sites`).
    pub fn first(&self, key: u64, data: impl FnOnce() -> SiteData) -> bool {
        let key = key.max(1);
        let mut i = hash(key) as usize % N;
        for _ in 0..N {
            let slot = &self.slots[i];
            match slot.key.compare_exchange(0, key, Relaxed, Relaxed) {
                Ok(_) => {
                    self.claimed.fetch_add(1, Relaxed);
                    // SAFETY: this thread claimed the slot; nobody reads data before ready.
                    unsafe { (*slot.data.get()).write(data()) };
                    slot.count.fetch_add(1, Relaxed);
                    slot.ready.store(true, Release);
                    return true;
                }
                Err(k) if k == key => {
                    slot.count.fetch_add(1, Relaxed);
                    return false;
                }
                Err(_) => i = (i + 1) % N,
            }
        }
        true
    }

    /// Calls `f(site, count)` for every site recorded so far.
    pub fn for_each(&self, mut f: impl FnMut(&SiteData, u64)) {
        if self.claimed.load(Relaxed) == 0 {
            return;
        }
        for slot in &self.slots {
            if slot.ready.load(Acquire) {
                // SAFETY: ready was released after data was written, and data never changes
                // again until `clear`.
                f(
                    unsafe { (*slot.data.get()).assume_init_ref() },
                    slot.count.load(Relaxed),
                );
            }
        }
    }

    /// Forgets everything (fork child, before any other thread exists).
    pub fn clear(&self) {
        if self.claimed.load(Relaxed) == 0 {
            return;
        }
        for slot in &self.slots {
            slot.ready.store(false, Relaxed);
            slot.key.store(0, Relaxed);
            slot.count.store(0, Relaxed);
        }
        self.claimed.store(0, Relaxed);
    }
}

/// Violations not reported because of a suppression rule, by the rule's index.
pub static SUPPRESSED: [AtomicU64; config::RULES_CAP] =
    [const { AtomicU64::new(0) }; config::RULES_CAP];

/// Totals of violations (all) and distinct ones (reported).
pub static VIOLATIONS: AtomicU64 = AtomicU64::new(0);
/// Distinct violations: those written as records.
pub static DISTINCT: AtomicU64 = AtomicU64::new(0);
/// Calls made by a signal handler that interrupted the checker, forwarded unchecked.
pub static UNCHECKED_IN_HANDLER: AtomicU64 = AtomicU64::new(0);
/// The violation sites.
pub static SITES: Sites<4096> = Sites::new();

/// Resets every counter: a fork child starts its own summary.
pub fn reset() {
    restart_totals();
}

/// Resets the totals of a summary. The site table goes too: its counts belong to the summary
/// (a reader adds up one pid's summaries), so a site seen again is written again.
pub fn restart_totals() {
    UNCHECKED.store(0, Relaxed);
    UNLISTED.store(0, Relaxed);
    // The forking thread's pending counts were the parent's.
    // SAFETY: this thread's own state.
    let st = unsafe { &mut *thread::state() };
    st.unchecked = 0;
    st.used = [thread::UsedEntry::EMPTY; thread::USED_ENTRIES];
    USED.clear();
    BY_CHECK.clear();
    SITES.clear();
    for n in &SUPPRESSED {
        n.store(0, Relaxed);
    }
    VIOLATIONS.store(0, Relaxed);
    DISTINCT.store(0, Relaxed);
    UNCHECKED_IN_HANDLER.store(0, Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-coded interfaces, by name (tried on every name of the generated table): each has
    /// two distinct entries, and the first places spread over all entries as a random hash's
    /// would (at most four times the mean in every run of names).
    #[test]
    fn every_interface_has_two_places_spread_over_the_entries() {
        let mut names: Vec<&str> = crate::generated::IFACES
            .iter()
            .map(|l| l.names()[0])
            .collect();
        // One name per interface: its symbol versions share its places.
        names.dedup();
        for run in names.chunks(4 * thread::USED_ENTRIES) {
            let mut first = [0; thread::USED_ENTRIES];
            for name in run {
                let (a, b) = named_places(name);
                assert!(a < thread::USED_ENTRIES && b < thread::USED_ENTRIES);
                assert_ne!(a, b, "{name}");
                first[a] += 1;
            }
            assert!(first.iter().all(|&n| n <= 16), "{run:?}: {first:?}");
        }
    }

    /// The generated table's interfaces, by index: the same two properties over every run of
    /// consecutive indices, and `Listed::places` is the index's.
    #[test]
    fn listed_interfaces_have_two_places_by_index() {
        let n = crate::generated::IFACES.len();
        for start in 0..n.saturating_sub(4 * thread::USED_ENTRIES) {
            let mut first = [0; thread::USED_ENTRIES];
            for i in start..start + 4 * thread::USED_ENTRIES {
                let (a, b) = listed_places(i);
                assert!(a < thread::USED_ENTRIES && b < thread::USED_ENTRIES);
                assert_ne!(a, b, "interface {i}");
                first[a] += 1;
            }
            assert!(first.iter().all(|&n| n <= 12), "from {start}: {first:?}");
        }
        for i in [0, 1, n / 2, n - 1] {
            let listed: &'static crate::rt::Listed = &crate::generated::IFACES[i];
            assert_eq!(crate::rt::Interface::places(listed), listed_places(i));
            let id = crate::rt::Interface::id(listed);
            assert_eq!([id.name(), id.lib(), id.version()], listed.names());
            assert!(!id.name().is_empty());
        }
    }

    /// The counters in top bits: every call is counted, by a flush when it wraps a counter or
    /// as pending in the thread's state. (A state of its own: the unit-test binary's hand-coded
    /// interposers count the harness's calls in the threads' states and the totals.)
    #[test]
    fn calls_and_uses_add_up_across_flushes() {
        // SAFETY: every field of the state is an integer, a pointer or an array of them.
        let mut st: thread::State = unsafe { core::mem::zeroed() };
        let state = &raw mut st;
        let before = UNCHECKED.load(Relaxed);
        for _ in 0..3 * FLUSH_EVERY + 5 {
            count_unchecked(state);
        }
        assert!(UNCHECKED.load(Relaxed) - before >= 3 * FLUSH_EVERY as u64);
        assert_eq!(st.unchecked / CALL, 5);
        let key = 2 * 12345 + 1;
        for _ in 0..USE_FLUSH_EVERY + 7 {
            assert!(!count_use(state, key, listed_places(12345)), "not traced");
        }
        let count = || {
            let mut n = None;
            USED.for_each(|k, c| n = n.or((k == key).then_some(c)));
            n
        };
        assert_eq!(count(), Some(USE_FLUSH_EVERY as u64));
        st.used.iter_mut().for_each(flush_entry);
        assert_eq!(count(), Some(USE_FLUSH_EVERY as u64 + 7));
    }

    #[test]
    fn addr_set_counts_distinct_addresses() {
        let s: AddrSet<8> = AddrSet::new();
        let a = s.insert(16).unwrap();
        assert_eq!(s.insert(16), Some(a));
        let b = s.insert(32).unwrap();
        assert_ne!(a, b);
        assert_eq!(s.len(), 2);
        s.add(a, 3);
        s.add(a, 2);
        let mut seen = Vec::new();
        s.for_each(|addr, n| seen.push((addr, n)));
        seen.sort();
        assert_eq!(seen, [(16, 5), (32, 0)]);
        for a in 1..100 {
            s.insert(a * 8);
        }
        assert_eq!(s.len(), 8, "a full set stops growing");
        assert_eq!(s.insert(4096), None);
        let mut addrs = Vec::new();
        s.for_each(|addr, _| addrs.push(addr));
        assert_eq!(addrs.len(), 8, "every slot visited once");
        s.clear();
        assert_eq!(s.len(), 0);
        s.for_each(|_, _| panic!("an address left after clear"));
        let c = s.insert(16).unwrap();
        s.add(c, 1);
        let mut seen = Vec::new();
        s.for_each(|addr, n| seen.push((addr, n)));
        assert_eq!(seen, [(16, 1)], "a cleared slot starts at 0");
    }

    #[test]
    fn sites_report_once_count_repeats_and_never_lose_when_full() {
        static IFACE: crate::rt::Iface = crate::rt::Iface::new("close", "libc", "GLIBC_2.2.5");
        let d: Sites<4> = Sites::new();
        let site = || {
            SiteData::new(
                0x1234,
                crate::rt::Interface::id(&IFACE),
                0,
                "filedescriptor",
                Some("a.b"),
            )
        };
        assert!(d.first(7, site));
        assert!(!d.first(7, site));
        assert!(!d.first(7, site));
        for k in 100..103 {
            assert!(d.first(k, site));
        }
        assert!(
            d.first(999, site),
            "full table: reported again rather than dropped"
        );
        assert!(!d.first(7, site));
        let mut counts = Vec::new();
        d.for_each(|s, n| {
            assert_eq!(
                (s.ip, s.pos, s.check, s.member()),
                (0x1234, 0, "filedescriptor", Some("a.b"))
            );
            counts.push(n)
        });
        counts.sort();
        assert_eq!(counts, [1, 1, 1, 4]);
        d.clear();
        d.for_each(|_, _| panic!("a site left after clear"));
        assert!(d.first(7, site), "new again after clear");
        let mut n = 0;
        d.for_each(|_, count| n += count);
        assert_eq!(n, 1);
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
