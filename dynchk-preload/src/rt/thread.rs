//! Per-thread guard state: "the checker is running" and "inside a forwarded call".
//!
//! The state lives in the C shim's initial-exec TLS (see shim/shim.c for why not `thread_local!`).
//! Both markers are stack pointers rather than flags or depths: a marker whose recorded stack
//! pointer is at or below the current one belongs to a frame that no longer exists (a `longjmp` or
//! `siglongjmp` went past it), so it is stale and ignored instead of disabling checks forever.

use core::ffi::c_int;

/// Mirrors `struct dynchk_thread` in shim/shim.c.
#[repr(C)]
pub struct State {
    /// Stack pointer of the checker frame running on this thread, 0 when none.
    pub busy_sp: usize,
    /// Stack pointer of the innermost forwarding frame on this thread, 0 when none.
    pub fwd_sp: usize,
    /// Non-zero once the thread asked for its counts to be flushed when it exits (`rt::exit`).
    pub flush_at_exit: u32,
    /// Calls forwarded unchecked (made from inside the checker), not yet added to the process
    /// total, in the top bits (see `stats::count_unchecked`).
    pub unchecked: u32,
    /// Consecutive entries checked although the checker's marker was (just) above them.
    pub ambiguous: u32,
    /// Non-zero while the checker writes a record ([`Reporting`]), with asynchronous signals
    /// blocked: the interposed calls it makes then are its own, not a signal handler's.
    pub reporting: u32,
    /// Calls of the interfaces this thread called last, not yet added to the interfaces-used
    /// set (see `stats::count_use`).
    pub used: [UsedEntry; USED_ENTRIES],
    /// This thread's `errno`, once found: `__errno_location` is a call into the C library, twice
    /// per checked call otherwise. The address is fixed for the thread's life (a fork child's
    /// thread is a copy at the same address; a new thread's TLS starts zeroed).
    errno: *mut c_int,
    /// What this thread's checks passed lately (see `validators::memo`), which they reach
    /// through [`memo`].
    memo: validators::memo::Thread,
}

// The shim's `memo[51]`.
const _: () = assert!(size_of::<validators::memo::Thread>() == 51 * size_of::<usize>());

/// This thread's memos, for `validators::memo::set`: in the static TLS block like the rest of
/// [`State`], so at one offset from the thread pointer in every thread.
pub fn memo() -> *mut validators::memo::Thread {
    // SAFETY: the field of this thread's state; only its address is taken.
    unsafe { &raw mut (*state()).memo }
}

impl State {
    /// This thread's `errno`.
    #[inline(always)]
    pub fn errno_slot(&mut self) -> *mut c_int {
        if self.errno.is_null() {
            // SAFETY: returns this thread's errno slot.
            self.errno = unsafe { libc::__errno_location() };
        }
        self.errno
    }
}

/// Entries of [`State::used`] (the size of `used` in shim.c): ls calls about 25 interfaces per
/// file, which kept evicting each other from 8, and Python about 100 in all, which evicted one
/// another 75,000 times a run from 32 (each eviction about 60 instructions). 2 KiB per thread.
pub const USED_ENTRIES: usize = 128;

/// An interface's calls on one thread not yet added to its count in the interfaces-used set.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct UsedEntry {
    /// The `Iface` address, 0 for an empty entry.
    pub iface: usize,
    /// Its slot in the set.
    pub slot: u32,
    /// Calls not yet added, in the top bits (see `stats::count_use`).
    pub pending: u32,
}

impl UsedEntry {
    /// No interface.
    pub const EMPTY: UsedEntry = UsedEntry {
        iface: 0,
        slot: 0,
        pending: 0,
    };
}

/// This thread's state. Valid on any thread at any time, including inside `__tls_get_addr` and
/// before any constructor ran, because it is static TLS. On x86-64 the initial-exec access is
/// inline (the thread pointer plus the variable's offset from the GOT), not a call into the shim.
#[inline(always)]
pub fn state() -> *mut State {
    #[cfg(target_arch = "x86_64")]
    {
        extern "C" {
            /// The shim's TLS variable; only its address is computed, in assembly.
            static dynchk_thread_state: State;
        }
        let p: *mut State;
        // SAFETY: the initial-exec TLS sequence for a variable of this object; reads the thread
        // pointer (its own TCB address at %fs:0) and the GOT, writes nothing.
        unsafe {
            core::arch::asm!(
                "mov {p}, qword ptr fs:[0]",
                "add {p}, qword ptr [rip + {tls}@GOTTPOFF]",
                p = out(reg) p,
                tls = sym dynchk_thread_state,
                options(pure, readonly, nostack),
            );
        }
        p
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        extern "C" {
            fn dynchk_thread() -> *mut State;
        }
        // SAFETY: the shim returns the address of a zero-initialised static TLS block member.
        unsafe { dynchk_thread() }
    }
}

/// The caller's current stack pointer (approximately: any address in the current frame works,
/// since only comparisons against other frames' markers are made).
#[inline(always)]
pub fn stack_pointer() -> usize {
    let sp: usize;
    #[cfg(target_arch = "x86_64")]
    // SAFETY: reads a register, touches no memory.
    unsafe {
        core::arch::asm!("mov {}, rsp", out(reg) sp, options(nomem, nostack, preserves_flags));
    }
    #[cfg(target_arch = "aarch64")]
    // SAFETY: reads a register, touches no memory.
    unsafe {
        core::arch::asm!("mov {}, sp", out(reg) sp, options(nomem, nostack, preserves_flags));
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let marker = 0u8;
        sp = core::hint::black_box(&marker) as *const u8 as usize;
    }
    sp
}

/// Whether a marker set at stack pointer `marker` still belongs to a live frame that encloses the
/// code running at `sp` (stacks grow down: enclosing frames have higher addresses).
#[inline(always)]
pub fn encloses(marker: usize, sp: usize) -> bool {
    marker > sp
}

/// How much deeper than the checker's marker a call must be to count as made from inside the
/// checker for certain. A stale marker left by a `longjmp` (out of a signal handler that
/// interrupted the checker) sits in the frame of an interposer that is gone; the next call from
/// the same depth lands in an interposer whose frame may be larger (debug builds have interposer
/// frames of almost 3 KiB), i.e. below the marker. The checker's own calls into interposed
/// functions come from the unwinder, which runs under the reporter's 4 KiB record buffer (the
/// compiler's memcpy/memset/strlen calls are linked to private copies, see build.rs), so they
/// are always deeper than this. A signal handler that interrupts the checker closer than this
/// gets its calls checked: harmless, since the checker is reentrant (no locks, stack buffers,
/// atomic counters).
pub const NEST_MIN: usize = 4096;

/// How many entries in a row may be checked while the checker's marker is above them but closer
/// than [`NEST_MIN`]. A stale marker is cleared by the first such entry (its forward leaves the
/// checker); a real nesting that slipped through (the checker calling an interposed function from
/// a shallow frame) would recurse, and is cut off here.
pub const MAX_AMBIGUOUS: u32 = 4;

/// Whether a call at `sp` must be forwarded unchecked because the checker marked at `marker` is
/// running below it on this thread. Tracks the ambiguous entries in `ambiguous`.
#[inline(always)]
pub fn inside_checker(marker: usize, sp: usize, ambiguous: &mut u32) -> bool {
    if !encloses(marker, sp) {
        *ambiguous = 0;
        return false;
    }
    if marker > sp.saturating_add(NEST_MIN) || *ambiguous >= MAX_AMBIGUOUS {
        return true;
    }
    *ambiguous += 1;
    false
}

/// Marks this thread as running the checker while a record is written (a violation, the
/// summary at exit or before exec): the interposed functions the writer needs (`dl_iterate_phdr`
/// to name modules, from the unwinder too) are forwarded unchecked and untraced, and are not
/// counted as a signal handler's. Asynchronous signals must be blocked for its lifetime, so that
/// no handler's call is taken for the writer's and no `longjmp` can leave the marker behind.
pub struct Reporting {
    old: usize,
}

impl Reporting {
    /// Sets the marker far enough above the current frame that every deeper call counts as made
    /// by the checker (see [`inside_checker`]).
    pub fn new() -> Reporting {
        // SAFETY: this thread's own state.
        let st = unsafe { &mut *state() };
        let old = st.busy_sp;
        st.busy_sp = old.max(stack_pointer().saturating_add(NEST_MIN + 1));
        st.reporting += 1;
        Reporting { old }
    }
}

impl Drop for Reporting {
    fn drop(&mut self) {
        // SAFETY: this thread's own state.
        let st = unsafe { &mut *state() };
        st.busy_sp = self.old;
        st.reporting -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `State` mirrors shim.c's `struct dynchk_thread`, the TLS block it lives in: both sizes
    /// agree (a field added on one side only would make the other read or write past it).
    #[test]
    fn the_state_has_the_shims_size() {
        extern "C" {
            static dynchk_thread_size: usize;
        }
        // SAFETY: a constant of the shim.
        assert_eq!(unsafe { dynchk_thread_size }, size_of::<State>());
    }

    #[test]
    fn markers_compare_by_stack_depth() {
        let outer = stack_pointer();
        #[inline(never)]
        fn deeper() -> usize {
            let pad = core::hint::black_box([0u8; 256]);
            core::hint::black_box(&pad);
            stack_pointer()
        }
        let inner = deeper();
        assert!(encloses(outer, inner));
        assert!(!encloses(inner, outer));
        assert!(!encloses(0, inner));
        let mut ambiguous = 0;
        assert!(!inside_checker(0, inner, &mut ambiguous));
        assert!(
            !inside_checker(inner + NEST_MIN, inner, &mut ambiguous),
            "a sibling frame's stale marker"
        );
        assert_eq!(ambiguous, 1);
        assert!(inside_checker(inner + NEST_MIN + 16, inner, &mut ambiguous));
        for _ in 1..MAX_AMBIGUOUS {
            assert!(!inside_checker(inner + 64, inner, &mut ambiguous));
        }
        assert!(
            inside_checker(inner + 64, inner, &mut ambiguous),
            "recursion is cut off"
        );
        assert!(!inside_checker(0, inner, &mut ambiguous));
        assert_eq!(ambiguous, 0, "an unambiguous entry starts the count again");
    }
}
