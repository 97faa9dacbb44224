//! `handle(KIND)`: library objects with a lifetime (`FILE *`, `DIR *`, `Display *`, `WINDOW *`,
//! `xmlDocPtr`, `png_structp`, `FcConfig *`, …), from the call that made them to the call that
//! destroyed them.
//!
//! Objects are not registered when made: one the checker never saw made (before it started, or
//! inside its library) is simply unknown and accepted. What is remembered is the set of objects
//! that were destroyed, in one fixed table of atomics shared by every kind, until an interposed
//! maker hands the same address out again. The `hook` lines of `db/semantics` say which calls
//! make (`opened`) and destroy (`closing`) an object of which kind; the runtime marks an object
//! *before* forwarding its destroyer: marked afterwards, a concurrent maker in another thread
//! could receive the freed address first and then be taken for the destroyed object.
//!
//! A destroyed address that is a live heap block again was allocated since: whatever made it
//! (a maker the database does not list, another library), it is not known to be the destroyed
//! object, so it is accepted. Reports are only ever "used after its destroyer" for sure.

use crate::{heap, mem, Fault, Verdict};
use core::ffi::c_void;
use core::sync::atomic::{compiler_fence, AtomicUsize, Ordering};

/// A kind of object, by the name the database gives it (`Display`, `WINDOW`, `xmlDoc`): a tag
/// in the table's entries, so that one table serves every kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Kind {
    pub name: &'static str,
    tag: usize,
}

/// Entries hold the address in the low 48 bits (x86-64 user space), the kind's tag above it,
/// and the top bit for [`shared`] objects. Addresses beyond are not remembered, which can only
/// lose a report.
const ADDR_BITS: u32 = 48;
const ADDR_MASK: usize = (1 << ADDR_BITS) - 1;
const SHARED: usize = 1 << 63;

impl Kind {
    /// The kind named `name`: its tag is a 15-bit FNV-1a hash of the name (never 0).
    pub const fn named(name: &'static str) -> Kind {
        let h = crate::fnv1a(name);
        let tag = ((h ^ (h >> 15)) & 0x7FFF) as usize;
        Kind {
            name,
            tag: if tag == 0 { 1 } else { tag },
        }
    }

    /// The table entry of `p` as this kind, if the address fits.
    fn entry(self, p: *const c_void) -> Option<usize> {
        let p = p as usize;
        (p != 0 && p & !ADDR_MASK == 0).then_some(p | self.tag << ADDR_BITS)
    }
}

/// Destroyed objects remembered; when a probe window is full the oldest guess is overwritten,
/// which can only lose a report, never invent one.
const SLOTS: usize = 4096;
/// Consecutive slots an entry may occupy; lookups scan all of them, so no tombstones are needed.
const WINDOW: usize = 8;

struct Table {
    slots: [AtomicUsize; SLOTS],
    /// Entries inserted so far (after each insert): a [`Memo`] made before one is void.
    inserts: AtomicUsize,
}

impl Table {
    const fn new() -> Table {
        Table {
            slots: [const { AtomicUsize::new(0) }; SLOTS],
            inserts: AtomicUsize::new(0),
        }
    }

    fn window(&self, e: usize) -> impl Iterator<Item = &AtomicUsize> {
        // Fibonacci hashing of the address without its allocator-aligned low bits: every kind
        // and state of one address shares its window.
        let start = ((e & ADDR_MASK) >> 4).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            >> (usize::BITS - SLOTS.trailing_zeros());
        (0..WINDOW).map(move |i| &self.slots[(start + i) % SLOTS])
    }

    fn insert(&self, e: usize) {
        if self.contains(e) {
            return;
        }
        let placed = self.window(e).any(|s| {
            s.compare_exchange(0, e, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
        });
        if !placed {
            // A shared entry is never the one overwritten: losing it could invent a report.
            if let Some(s) = self
                .window(e)
                .find(|s| s.load(Ordering::Relaxed) & SHARED == 0)
            {
                s.store(e, Ordering::Release);
            }
        }
        // After the entry: a reader that sees the new count also sees the entry.
        self.inserts.fetch_add(1, Ordering::Release);
    }

    /// Removes every entry of `e`'s address whatever its kind: a maker returned it, so no
    /// object destroyed there before is in it any more.
    fn remove_address(&self, e: usize) {
        // Every maker calls this and the address is almost never there: only a slot that holds
        // it pays for a locked compare-exchange.
        for s in self.window(e) {
            let v = s.load(Ordering::Relaxed);
            if v != 0 && v & ADDR_MASK == e & ADDR_MASK {
                let _ = s.compare_exchange(v, 0, Ordering::AcqRel, Ordering::Relaxed);
            }
        }
    }

    fn contains(&self, e: usize) -> bool {
        self.window(e).any(|s| s.load(Ordering::Acquire) == e)
    }
}

static DESTROYED: Table = Table::new();

/// A maker (`fopen`, `XOpenDisplay`, `newwin`, `xmlReadFile`, …) returned `p`: whatever was
/// destroyed at that address before, the object there is live.
pub fn opened(p: *const c_void, kind: Kind) {
    if let Some(e) = kind.entry(p) {
        DESTROYED.remove_address(e);
    }
}

/// A destroyer (`fclose`, `XCloseDisplay`, `delwin`, `xmlFreeDoc`, …) is about to destroy `p`:
/// later uses are reported, unless a reference was taken on it ([`shared`]).
pub fn closing(p: *const c_void, kind: Kind) {
    if let Some(e) = kind.entry(p) {
        if !DESTROYED.contains(e | SHARED) {
            DESTROYED.insert(e);
        }
    }
}

/// The destroyer of `p` failed and left it alive (`delwin` of a window with subwindows).
pub fn survived(p: *const c_void, kind: Kind) {
    if let Some(e) = kind.entry(p) {
        for s in DESTROYED
            .window(e)
            .filter(|s| s.load(Ordering::Relaxed) == e)
        {
            let _ = s.compare_exchange(e, 0, Ordering::AcqRel, Ordering::Relaxed);
        }
    }
}

/// A reference was taken on the reference-counted `p` (`FcConfigReference`,
/// `FcConfigSetCurrent`): its destroyer may now only drop a reference, so the checker stops
/// judging it until a maker returns the address again.
pub fn shared(p: *const c_void, kind: Kind) {
    if let Some(e) = kind.entry(p) {
        survived(p, kind);
        DESTROYED.insert(e | SHARED);
    }
}

/// Whether `p` is an object of `kind` that was destroyed and not made again since.
pub fn destroyed(p: *const c_void, kind: Kind) -> bool {
    kind.entry(p).is_some_and(|e| DESTROYED.contains(e)) && heap::size_of(p).is_none()
}

/// `handle(KIND)`: not NULL, not destroyed, and mapped.
///
/// # Safety
/// None beyond the caller's: `p` is never dereferenced.
pub unsafe fn handle(p: *const c_void, kind: Kind) -> Verdict {
    check(p, kind, "handle", 1)
}

/// [`handle`] for a check named `check` on an object stdio reads `size` bytes of. A hit in this
/// thread's [`Memo`] answers inline; the full check is out of line.
///
/// # Safety
/// As [`handle`].
#[inline(always)]
pub(crate) unsafe fn check(
    p: *const c_void,
    kind: Kind,
    check: &'static str,
    size: usize,
) -> Verdict {
    let memo = kind
        .entry(p)
        .and_then(|e| Some((thread_memo()?.slot(kind, e), e)));
    if let Some((m, e)) = memo {
        if m.holds(e, size) {
            return Ok(());
        }
    }
    // SAFETY: the caller's.
    unsafe { check_all(p, kind, check, size, memo) }
}

/// [`check`] without the memo's answer; remembers a pass in `memo`.
///
/// # Safety
/// As [`handle`].
#[inline(never)]
unsafe fn check_all(
    p: *const c_void,
    kind: Kind,
    check: &'static str,
    size: usize,
    memo: Option<(&MemoSlot, usize)>,
) -> Verdict {
    let addr = p as usize;
    if addr == 0 {
        return Err(Fault::new(check, format_args!("NULL")));
    }
    // Before the checks: an insert meanwhile leaves the memo void.
    let inserts = DESTROYED.inserts.load(Ordering::Acquire);
    if destroyed(p, kind) {
        return Err(Fault::new(
            check,
            format_args!("{} {addr:#x} was closed or freed already", kind.name),
        ));
    }
    mem::readable(p, size).map_err(|f| Fault { check, ..f })?;
    if let Some((m, e)) = memo {
        m.remember(e, size, inserts);
    }
    Ok(())
}

#[inline(always)]
fn thread_memo() -> Option<&'static Memo> {
    crate::memo::thread().map(|t| &t.objects)
}

/// A thread's memory of the last objects [`check`] passed, four slots: the low bit of the kind's
/// tag picks two (so that FILE and DIR, between which `ls` alternates, each keep theirs), and
/// bit 5 of the address one of those (glibc's `stdin`, `stdout` and `stderr` lie 0xe0 bytes
/// apart, so neighbours differ there: sqlite3 alternates `fgets` on stdin with `fflush` on
/// stdout, which evicted each other from one slot on every call, 220 instructions a miss).
/// stdio calls check their stream every time, most often the same one (`fwrite_unlocked` on
/// stdout): a memo that is still valid answers in a few loads what the destroyed-object table
/// and the memory map would (about 150 instructions).
///
/// A slot holds the object's table entry and what the verdict depended on: the count of
/// destroyed-table inserts and the map snapshot's epoch (both only grow), and whether the
/// object lies in a file mapping (stdout's `FILE` in libc's data). An object elsewhere (a heap
/// block from `fopen`) is looked up in the heap again on a hit, since `free` moves no counter.
/// Only this thread writes it; a signal handler's check may interrupt a read, which the entry
/// read before and after detects.
#[repr(C)]
pub struct Memo {
    slots: [MemoSlot; 4],
}

#[repr(C)]
struct MemoSlot {
    entry: AtomicUsize,
    size: AtomicUsize,
    inserts: AtomicUsize,
    epoch: AtomicUsize,
    file: AtomicUsize,
    /// To 64 bytes: a slot's offset is then the index shifted, not multiplied (seven
    /// instructions a check with 48-byte slots).
    _pad: [usize; 3],
}

impl Memo {
    /// An empty memo (all zero, as static TLS starts).
    pub const fn empty() -> Memo {
        Memo {
            slots: [const { MemoSlot::empty() }; 4],
        }
    }

    #[inline(always)]
    fn slot(&self, kind: Kind, e: usize) -> &MemoSlot {
        &self.slots[(kind.tag & 1) << 1 | (e >> 5) & 1]
    }
}

impl MemoSlot {
    const fn empty() -> MemoSlot {
        MemoSlot {
            entry: AtomicUsize::new(0),
            size: AtomicUsize::new(0),
            inserts: AtomicUsize::new(0),
            epoch: AtomicUsize::new(0),
            file: AtomicUsize::new(0),
            _pad: [0; 3],
        }
    }

    /// Whether the object of entry `e` passed with at least `size` bytes readable, and nothing
    /// it depended on changed since.
    #[inline(always)]
    fn holds(&self, e: usize, size: usize) -> bool {
        if self.entry.load(Ordering::Relaxed) != e {
            return false;
        }
        compiler_fence(Ordering::SeqCst);
        let (held, inserts, epoch, file) = (
            self.size.load(Ordering::Relaxed),
            self.inserts.load(Ordering::Relaxed),
            self.epoch.load(Ordering::Relaxed),
            self.file.load(Ordering::Relaxed),
        );
        compiler_fence(Ordering::SeqCst);
        // Another entry written meanwhile (by a signal handler) mixed its fields in; the same
        // entry written again can only have moved its counts forward, which then do not match
        // unless both writes saw the same.
        if self.entry.load(Ordering::Relaxed) != e || size > held {
            return false;
        }
        let p = (e & ADDR_MASK) as *const c_void;
        inserts == DESTROYED.inserts.load(Ordering::Acquire)
            && epoch == mem::stamp_now()
            && (file != 0 || heap::within(p, size, "handle").is_ok())
    }

    /// Remembers that the object of entry `e` passed with `size` bytes readable, the
    /// destroyed-table count having been `inserts` before the check.
    fn remember(&self, e: usize, size: usize, inserts: usize) {
        let p = (e & ADDR_MASK) as *const c_void;
        let Some((epoch, file)) = mem::readable_stamp(p as usize, size) else {
            return;
        };
        self.entry.store(0, Ordering::Relaxed);
        compiler_fence(Ordering::SeqCst);
        self.size.store(size, Ordering::Relaxed);
        self.inserts.store(inserts, Ordering::Relaxed);
        self.epoch.store(epoch, Ordering::Relaxed);
        self.file.store(file as usize, Ordering::Relaxed);
        compiler_fence(Ordering::SeqCst);
        self.entry.store(e, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DISPLAY: Kind = Kind::named("Display");
    const WINDOW: Kind = Kind::named("WINDOW");

    fn msg(v: Verdict) -> String {
        v.map(|_| String::new())
            .unwrap_or_else(|f| format!("{}: {}", f.check, f.msg.as_str()))
    }

    #[test]
    fn destroyed_objects_are_reported_until_made_again() {
        let obj = [0u64; 4];
        let p = obj.as_ptr().cast::<c_void>();
        unsafe {
            assert!(handle(p, DISPLAY).is_ok(), "never seen: accepted");
            closing(p, DISPLAY);
            assert_eq!(
                msg(handle(p, DISPLAY)),
                format!(
                    "handle: Display {:#x} was closed or freed already",
                    p as usize
                )
            );
            assert!(handle(p, WINDOW).is_ok(), "another kind at the address");
            closing(p, WINDOW);
            opened(p, DISPLAY);
            assert!(handle(p, DISPLAY).is_ok());
            assert!(
                handle(p, WINDOW).is_ok(),
                "made again: no kind destroyed there"
            );
            assert_eq!(msg(handle(core::ptr::null(), DISPLAY)), "handle: NULL");
            assert_eq!(
                msg(handle(0x10 as _, DISPLAY)),
                "handle: 0x10 is not mapped"
            );
        }
    }

    #[test]
    fn failed_destroyers_and_references_keep_objects_alive() {
        let obj = [0u64; 4];
        let p = obj.as_ptr().cast::<c_void>();
        closing(p, WINDOW);
        survived(p, WINDOW);
        assert!(!destroyed(p, WINDOW));
        shared(p, DISPLAY);
        closing(p, DISPLAY);
        assert!(!destroyed(p, DISPLAY), "a reference was taken");
        opened(p, DISPLAY);
        closing(p, DISPLAY);
        assert!(destroyed(p, DISPLAY), "made again: judged again");
        opened(p, DISPLAY);
    }

    #[test]
    fn a_live_heap_block_at_a_destroyed_address_is_accepted() {
        extern "C" {
            fn malloc(n: usize) -> *mut c_void;
            fn free(p: *mut c_void);
        }
        unsafe {
            let p = malloc(48);
            heap::allocated(p, 48, heap::Site::UNKNOWN);
            closing(p, DISPLAY);
            assert!(
                !destroyed(p, DISPLAY),
                "still live: made by a maker not listed"
            );
            heap::released(p, heap::Site::UNKNOWN);
            free(p);
            assert!(destroyed(p, DISPLAY));
            opened(p, DISPLAY);
        }
    }

    /// Checks `p` as `kind` until this thread's memo holds it (the next check is answered
    /// there): other tests' mappings invalidate the map cache all the time, and a check that
    /// found the map being re-read by another thread remembers nothing.
    unsafe fn remembered(p: *const c_void, kind: Kind) -> bool {
        let e = kind.entry(p).unwrap();
        (0..1000).any(|_| {
            assert!(unsafe { handle(p, kind) }.is_ok());
            thread_memo().is_some_and(|m| m.slot(kind, e).entry.load(Ordering::Relaxed) == e)
        })
    }

    /// Two objects of one kind used in turn, 0xe0 bytes apart as glibc's `stdin` and `stdout`
    /// (sqlite3 alternates `fgets` and `fflush` on them), are remembered side by side.
    #[test]
    fn neighbouring_objects_of_one_kind_keep_a_slot_each() {
        crate::memo::testing::install();
        let objs = [0u64; 64];
        let p = objs.as_ptr().cast::<c_void>();
        let q = p.wrapping_byte_add(0xe0);
        unsafe {
            assert!(remembered(p, DISPLAY) && remembered(q, DISPLAY));
            let e = DISPLAY.entry(p).unwrap();
            let m = thread_memo().unwrap();
            assert_eq!(m.slot(DISPLAY, e).entry.load(Ordering::Relaxed), e);
        }
    }

    #[test]
    fn a_remembered_object_is_judged_again_when_what_it_passed_on_changes() {
        crate::memo::testing::install();
        // Destroyed after it was remembered.
        let obj = [0u64; 4];
        let p = obj.as_ptr().cast::<c_void>();
        unsafe {
            assert!(remembered(p, DISPLAY), "passed objects are remembered");
            closing(p, DISPLAY);
            assert!(handle(p, DISPLAY).is_err(), "destroyed since");
            opened(p, DISPLAY);
            assert!(handle(p, DISPLAY).is_ok());
        }
        // Unmapped after it was remembered.
        let m = crate::testutil::Map::new(1, libc::PROT_READ | libc::PROT_WRITE);
        let q = m.at(64);
        unsafe {
            assert!(remembered(q, WINDOW));
            m.protect(0, crate::testutil::PAGE, libc::PROT_NONE);
            assert!(
                msg(handle(q, WINDOW)).contains("is not readable"),
                "{}",
                msg(handle(q, WINDOW))
            );
        }
        // Freed without its destroyer after it was remembered: the heap is asked on every hit.
        extern "C" {
            fn malloc(n: usize) -> *mut c_void;
            fn free(p: *mut c_void);
        }
        unsafe {
            let keep = malloc(32);
            let b = malloc(48);
            let guard = malloc(32);
            heap::allocated(b, 48, heap::Site::UNKNOWN);
            assert!(remembered(b, DISPLAY));
            heap::released(b, heap::Site::UNKNOWN);
            free(b);
            assert!(
                msg(handle(b, DISPLAY)).contains("use after free"),
                "{}",
                msg(handle(b, DISPLAY))
            );
            free(guard);
            free(keep);
        }
    }

    #[test]
    fn the_table_keeps_recent_entries_under_pressure() {
        let t = Table::new();
        for i in 1..=20000usize {
            let e = DISPLAY.entry((i * 16) as *const c_void).unwrap();
            t.insert(e);
            assert!(t.contains(e), "{i}");
        }
        let last = DISPLAY.entry((20000 * 16) as *const c_void).unwrap();
        t.remove_address(last);
        assert!(!t.contains(last));
        assert_ne!(DISPLAY.tag, WINDOW.tag);
        assert!(DISPLAY.entry((1usize << 50) as *const c_void).is_none());
    }
}
