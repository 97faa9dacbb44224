//! The runtime the interposers (generated and hand-coded) are written against
//! (docs/architecture.md section 4): resolution of originals, the per-thread guard, and reporting.

pub(crate) mod backtrace;
mod cfi;
pub(crate) mod config;
mod exit;
pub(crate) mod hooks;
mod panic;
mod real;
pub(crate) mod report;
pub(crate) mod signals;
mod stack;
pub(crate) mod stats;
mod symbols;
pub(crate) mod sys;
pub(crate) mod thread;
mod unwinder;

use core::ffi::c_int;
use core::sync::atomic::{AtomicBool, Ordering::Relaxed};

pub use dynchk_record::Value;
pub use real::{cstr, Real};
use validators::Fault;

/// One interface of the specification, as reports name it: the hand-coded interposers' form.
#[derive(Debug)]
pub struct Iface {
    /// The C name (`read`).
    pub name: &'static str,
    /// The library short name (`libc`).
    pub lib: &'static str,
    /// The symbol version (`GLIBC_2.2.5`).
    pub version: &'static str,
    /// Its entries in a thread's table of recently used interfaces, from a hash of the name:
    /// constants in the interposer, where hashing its address cost ten instructions a call and
    /// moved with the code layout (which entries collided changed from build to build).
    places: stats::Places,
}

impl Iface {
    /// The interface `name` of library `lib` at symbol version `version`.
    pub const fn new(name: &'static str, lib: &'static str, version: &'static str) -> Iface {
        Iface {
            name,
            lib,
            version,
            places: stats::named_places(name),
        }
    }
}

/// One interface of the generated table: where its name, library and version lie in
/// `generated::IFACE_NAMES`, one after the other. Thousands of [`Iface`]s would be three
/// pointers each, which the loader relocates (writing every page of the table) at each start.
pub struct Listed {
    at: u32,
    lens: [u8; 3],
}

impl Listed {
    /// The names at `at` in the blob, `name`, `lib` and `version` bytes long.
    pub const fn new(at: u32, name: usize, lib: usize, version: usize) -> Listed {
        assert!(name < 256 && lib < 256 && version < 256);
        Listed {
            at,
            lens: [name as u8, lib as u8, version as u8],
        }
    }

    /// Its index in `generated::IFACES` (every `Listed` is an element of it). The interposers
    /// name a constant element, so this is a constant in each of them.
    #[inline(always)]
    fn index(&'static self) -> usize {
        let table = crate::generated::IFACES.as_ptr() as usize;
        (self as *const Listed as usize - table) / size_of::<Listed>()
    }

    fn names(&self) -> [&'static str; 3] {
        let blob = crate::generated::IFACE_NAMES;
        let mut at = self.at as usize;
        self.lens.map(|len| {
            at += len as usize;
            blob.get(at - len as usize..at).unwrap_or("")
        })
    }
}

/// What the interposers name their interface with.
pub trait Interface: Sync + 'static {
    /// The interface as calls carry it.
    fn id(&'static self) -> IfaceRef;

    /// The two entries of a thread's table of recently used interfaces that it may take (see
    /// `stats::count_use`).
    fn places(&'static self) -> stats::Places;

    /// Whether [`enter`] saves `errno` and [`Call::forward`] restores it: for interposers that
    /// may run code which changes it between the two. The generated ones run only checks
    /// (validators make raw system calls, which leave `errno` alone; reporting keeps it itself)
    /// and hooks (which must keep it, see `hooks`); the hand-coded ones do more.
    const KEEPS_ERRNO: bool;
}

impl Interface for Iface {
    #[inline(always)]
    fn id(&'static self) -> IfaceRef {
        IfaceRef(self as *const Iface as usize)
    }

    #[inline(always)]
    fn places(&'static self) -> stats::Places {
        self.places
    }

    const KEEPS_ERRNO: bool = true;
}

impl Interface for Listed {
    /// Its index in the table, tagged in the low bit (an `Iface` is at least 4-aligned): a
    /// constant in each interposer, where an address would be read from the GOT.
    #[inline(always)]
    fn id(&'static self) -> IfaceRef {
        IfaceRef(self.index() << 1 | 1)
    }

    /// From the index in the table, which each interposer names as a constant: no hashing per
    /// call.
    #[inline(always)]
    fn places(&'static self) -> stats::Places {
        stats::listed_places(self.index())
    }

    const KEEPS_ERRNO: bool = false;
}

/// An [`Iface`] or a [`Listed`] interface, as one word (the counters' key): an `Iface`'s address,
/// or a `Listed` one's index in `generated::IFACES`, shifted left and tagged with 1.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub struct IfaceRef(usize);

impl IfaceRef {
    fn names(self) -> [&'static str; 3] {
        if self.0 & 1 == 0 {
            // SAFETY: made by `Interface::id` from a static `Iface`.
            let i = unsafe { &*(self.0 as *const Iface) };
            [i.name, i.lib, i.version]
        } else {
            crate::generated::IFACES
                .get(self.0 >> 1)
                .map_or(["", "", ""], Listed::names)
        }
    }

    /// The C name.
    pub fn name(self) -> &'static str {
        self.names()[0]
    }

    /// The library short name.
    pub fn lib(self) -> &'static str {
        self.names()[1]
    }

    /// The symbol version.
    pub fn version(self) -> &'static str {
        self.names()[2]
    }

    /// The word that stands for it (see [`IfaceRef::from_addr`]).
    pub fn addr(self) -> usize {
        self.0
    }

    /// The interface whose [`IfaceRef::addr`] this is.
    ///
    /// # Safety
    /// `addr` must have come from `addr`.
    pub unsafe fn from_addr(addr: usize) -> IfaceRef {
        IfaceRef(addr)
    }
}

/// `DYNCHK_TRACE=1`, copied out of the configuration for the per-call fast path.
static TRACE: AtomicBool = AtomicBool::new(false);

/// Whether calls are traced: [`TRACE`], read where it lies (rustc reads statics through the GOT in
/// this library, one more load per call; the version script makes the symbol local, so a
/// PC-relative reference links).
#[inline(always)]
pub(crate) fn tracing() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        let on: u32;
        // SAFETY: a one-byte load of TRACE (an AtomicBool: one byte, 0 or 1), as a relaxed load.
        unsafe {
            core::arch::asm!(
                "movzx {on:e}, byte ptr [rip + {flag}]",
                on = out(reg) on,
                flag = sym TRACE,
                options(readonly, nostack, preserves_flags),
            );
        }
        on != 0
    }
    #[cfg(not(target_arch = "x86_64"))]
    TRACE.load(Relaxed)
}

/// A checked call in progress on this thread. Made by [`enter`], consumed by [`Call::forward`].
pub struct Call {
    iface: IfaceRef,
    state: *mut thread::State,
    /// The program's `errno` at entry, for [`Call::forward`] to restore: `None` when nothing
    /// between the two can change it ([`Interface::KEEPS_ERRNO`]).
    errno: Option<c_int>,
    sp: usize,
}

/// What every interposer does first: counts the call of `iface`. Returns this thread's state, the
/// stack pointer, whether the call is the program's (false when the checker itself is running
/// on this thread: a call made by a validator, the reporter, or a signal handler that interrupted
/// them, which the interposer must forward at once), and whether a program call is to be traced.
/// Nothing here can change `errno`.
#[inline(always)]
fn arrive(iface: IfaceRef, places: stats::Places) -> (*mut thread::State, usize, bool, bool) {
    let state = thread::state();
    let sp = thread::stack_pointer();
    // SAFETY: state is this thread's own; signal handlers on this thread only run nested calls,
    // which leave it as they found it (or stale, which the stack-pointer comparison tolerates).
    let st = unsafe { &mut *state };
    if thread::inside_checker(st.busy_sp, sp, &mut st.ambiguous) {
        if st.reporting == 0 {
            // Not the record writer's own call: a signal handler's, which interrupted the
            // checker and cannot be checked (its state is the interrupted check's).
            stats::UNCHECKED_IN_HANDLER.fetch_add(1, Relaxed);
        }
        stats::count_unchecked(state);
        return (state, sp, false, false);
    }
    if !thread::encloses(st.fwd_sp, sp) {
        // Left behind by a longjmp out of a forwarded call: this call is above it.
        st.fwd_sp = 0;
    }
    let traced = stats::count_use(state, iface.addr(), places);
    (state, sp, true, traced)
}

/// Starts checking a call of `iface`: counts it, saves `errno` (if `I::KEEPS_ERRNO`) and marks the
/// thread as running the checker. `None` when the checker itself is running on this thread (see
/// [`arrive`]): the interposer must forward at once.
#[inline(always)]
pub fn enter<I: Interface + ?Sized>(iface: &'static I) -> Option<Call> {
    let places = iface.places();
    let iface = iface.id();
    let (state, sp, program, traced) = arrive(iface, places);
    if !program {
        return None;
    }
    // SAFETY: this thread's state.
    let st = unsafe { &mut *state };
    // SAFETY: this thread's errno.
    let errno = I::KEEPS_ERRNO.then(|| unsafe { *st.errno_slot() });
    st.busy_sp = sp;
    if traced {
        report::trace(iface);
    }
    Some(Call {
        iface,
        state,
        errno,
        sp,
    })
}

/// Counts a checked call of `iface` whose interposer settled its checks and forwards it itself,
/// without a checker frame (`free` of a live block's start).
#[inline(always)]
pub fn counted<I: Interface + ?Sized>(iface: &'static I) {
    let state = thread::state();
    if stats::count_use(state, iface.id().addr(), iface.places()) {
        trace_unchecked(state, thread::stack_pointer(), iface.id());
    }
}

/// Traces a call that has no checker frame ([`counted`], [`pass`]) as if from one at `sp`, so
/// that the interposed calls the record's writing makes are the checker's own (as in [`enter`]).
#[cold]
#[inline(never)]
fn trace_unchecked(state: *mut thread::State, sp: usize, iface: IfaceRef) {
    // SAFETY: this thread's state.
    let st = unsafe { &mut *state };
    st.busy_sp = sp;
    report::trace(iface);
    st.busy_sp = 0;
}

/// Starts a call of `iface` whose interposer has no checks: only counts it (no `errno` to keep,
/// no checker to mark) and marks the thread as inside a forwarded call until the result is
/// dropped, on return or during an unwind, as [`Call::forward`] does.
#[inline(always)]
pub fn pass<I: Interface + ?Sized>(iface: &'static I) -> Forwarding {
    let places = iface.places();
    let iface = iface.id();
    let (state, sp, program, traced) = arrive(iface, places);
    // SAFETY: this thread's state.
    let st = unsafe { &mut *state };
    let outer = st.fwd_sp;
    if program {
        if traced {
            trace_unchecked(state, sp, iface);
        }
        st.fwd_sp = sp;
    }
    Forwarding { state, outer }
}

impl Call {
    /// Reports that parameter `pos` (`name`, whose value is `value`) broke a rule. Identical
    /// violations from one call site are written once and counted. Under
    /// `DYNCHK_ON_VIOLATION=abort` the process aborts after the record is written.
    ///
    /// The fault is borrowed: a check reports it where its validator returned it
    /// (`if let Err(ref f)`), so that an interposer's checks share one fault-sized slot of its
    /// frame instead of each holding its own and a copy (fcntl in a handler on an 8 KiB signal
    /// stack, corners.rs).
    ///
    /// Inline, handing the interface on by value to the out-of-line [`reported`]: a `&self`
    /// passed to an out-of-line call made every interposer store its `Call` on the stack on
    /// entry, four stores per checked call whether anything is reported or not.
    #[inline(always)]
    pub fn violation(&self, pos: i32, name: &'static str, value: Value, f: &Fault) {
        reported(&report::Violation {
            iface: self.iface,
            pos,
            name,
            member: f.member,
            value,
            fault: f,
        });
    }

    /// As [`Call::violation`] for a member of a struct parameter; `path` is the member's path
    /// (`sin_family`, `msg_iov[2].iov_base`).
    #[inline(always)]
    pub fn member_violation(
        &self,
        pos: i32,
        name: &'static str,
        path: &str,
        value: Value,
        f: &Fault,
    ) {
        reported(&report::Violation {
            iface: self.iface,
            pos,
            name,
            member: Some(path),
            value,
            fault: f,
        });
    }

    /// Calls the original: restores `errno` (if it was saved), leaves the checker, marks the thread as inside a
    /// forwarded call for the duration, and returns the result untouched (nothing runs after the
    /// call that could change `errno`).
    ///
    /// The original may unwind (`pthread_exit`, cancellation at a cancellation point, a C++
    /// exception thrown by a callback): the marker is restored on the way through, like on return.
    #[inline(always)]
    pub fn forward<R>(self, f: impl FnOnce() -> R) -> R {
        let state = self.state;
        let errno = self.errno;
        core::mem::forget(self);
        // SAFETY: this thread's state.
        let st = unsafe { &mut *state };
        let _restore = Forwarding {
            state,
            outer: st.fwd_sp,
        };
        st.fwd_sp = thread::stack_pointer();
        st.busy_sp = 0;
        if let Some(errno) = errno {
            // SAFETY: this thread's errno (its slot was found by `enter`).
            unsafe { *st.errno_slot() = errno };
        }
        f()
    }

    /// Whether this call was made from inside another forwarded call, i.e. by a library on its own
    /// behalf (or by a callback the library invoked).
    pub fn inside_forward(&self) -> bool {
        // SAFETY: this thread's state.
        thread::encloses(unsafe { (*self.state).fwd_sp }, self.sp)
    }

    /// The interface being called.
    pub fn iface(&self) -> IfaceRef {
        self.iface
    }
}

/// Writes the record of [`Call::violation`] and [`Call::member_violation`]. Keeps `errno`: the
/// record's system calls (and the configuration's first reading) may change it, and a generated
/// interposer does not restore it when it forwards.
#[cold]
#[inline(never)]
fn reported(v: &report::Violation<'_>) {
    let errno = sys::errno();
    if v.fault.severity <= config::get().min_severity
        && report::violation(v)
        && config::get().on_violation == config::OnViolation::Abort
    {
        report::summary();
        sys::abort();
    }
    sys::set_errno(errno);
}

impl Drop for Call {
    /// A call that is not forwarded (the interposer answered itself) still leaves the checker.
    fn drop(&mut self) {
        // SAFETY: this thread's state.
        unsafe { (*self.state).busy_sp = 0 };
    }
}

/// Marks a forwarded call in progress; dropping it (on return or during an unwind) restores the
/// enclosing marker. A `longjmp` out of the call skips the drop, leaving a marker that the next
/// call from a higher frame recognises as stale.
#[must_use]
pub struct Forwarding {
    state: *mut thread::State,
    outer: usize,
}

impl Drop for Forwarding {
    #[inline(always)]
    fn drop(&mut self) {
        // SAFETY: this thread's state; only a plain store, which cannot change `errno`.
        unsafe { (*self.state).fwd_sp = self.outer };
    }
}

/// Library constructor: reads the configuration before the program runs, so that the first
/// report does not have to.
extern "C" fn init() {
    let errno = sys::errno();
    // First, before the checker makes any system call the loader did not: a filter inherited
    // across exec decides which calls the checker may make from now on.
    validators::seccomp::inherited();
    if validators::seccomp::restricted() {
        backtrace::prepare();
    }
    panic::install();
    // SAFETY: this thread's memos, in the shim's initial-exec TLS.
    unsafe { validators::memo::set(thread::memo()) };
    TRACE.store(config::get().trace, Relaxed);
    if tracing() {
        // Empties this thread's entries, which calls made before now filled: traced calls are
        // the ones that miss them.
        stats::flush(thread::state());
    }
    exit::init();
    report::claim();
    report::open_eagerly();
    // Taking over the fatal signals is rt_sigaction calls, which an inherited filter may forbid.
    if !validators::seccomp::restricted() {
        signals::install();
    }
    // `pthread_atfork` is libc_nonshared.a's call of `__register_atfork`, which this library
    // interposes: registering through it would check and count a call of the checker's own (and
    // its pointer check would read the memory map in every process, at startup). The original
    // is called directly; the handle of a library that is never unloaded can be NULL.
    type RegisterAtfork = unsafe extern "C" fn(
        Option<unsafe extern "C" fn()>,
        Option<unsafe extern "C" fn()>,
        Option<extern "C" fn()>,
        *mut core::ffi::c_void,
    ) -> c_int;
    static REGISTER_ATFORK: Real = Real::new(c"__register_atfork", c"GLIBC_2.3.2");
    // SAFETY: registers a plain function; fork children reset their counters in it.
    unsafe {
        REGISTER_ATFORK.get::<RegisterAtfork>()(
            None,
            None,
            Some(after_fork_child),
            core::ptr::null_mut(),
        )
    };
    sys::set_errno(errno);
}

extern "C" fn after_fork_child() {
    validators::mem::after_fork();
    report::after_fork_child();
}

/// Library destructor: the summary at exit (after the program's own atexit handlers and
/// destructors, which run first).
extern "C" fn fini() {
    report::summary();
}

#[used]
#[link_section = ".init_array"]
static INIT: extern "C" fn() = init;

#[used]
#[link_section = ".fini_array"]
static FINI: extern "C" fn() = fini;
