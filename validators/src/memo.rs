//! Where each thread keeps its memos of checks that passed: the runtime's static TLS.
//!
//! A memo answers a check that passed before, on the same object, while nothing the verdict
//! depended on changed, in a few loads instead of the lookups that found it. It is per thread
//! so that threads never write a line other threads read on every call.

use core::sync::atomic::{AtomicIsize, Ordering};

/// One thread's memos: the objects its `handle`/`FILE`/`DIR` checks passed
/// ([`crate::object::Memo`]) and the windows of big heap blocks its buffer and string checks
/// passed ([`crate::mem::Windows`]).
#[repr(C)]
pub struct Thread {
    pub(crate) objects: crate::object::Memo,
    pub(crate) windows: crate::mem::Windows,
}

impl Thread {
    /// Empty memos (all zero, as static TLS starts).
    pub const fn empty() -> Thread {
        Thread {
            objects: crate::object::Memo::empty(),
            windows: crate::mem::Windows::empty(),
        }
    }
}

/// Where the runtime keeps this thread's memos (see [`set`]): their offset from the thread
/// pointer, 0 until it says (static TLS never starts at the thread pointer itself: on x86-64
/// it lies below it, on AArch64 above the thread control block).
static OFFSET: AtomicIsize = AtomicIsize::new(0);

/// Tells the checks where this thread's [`Thread`] is: `t`, of the calling thread, in the
/// static TLS block of a module loaded with the program (the preload's initial-exec block;
/// a lazily allocated `thread_local!` would not do), zeroed at thread start. Such a variable
/// lies at one offset from the thread pointer in every thread, so a check finds its thread's
/// memos in two instructions in any context (a signal handler, before `main`, inside
/// `__tls_get_addr`), where a call to ask the runtime cost a check about 13. Without it, and
/// on targets whose thread pointer the checks do not read, every check runs in full.
///
/// # Safety
/// `t` must be such a variable of the calling thread.
pub unsafe fn set(t: *mut Thread) {
    if let Some(tp) = thread_pointer() {
        OFFSET.store((t as isize).wrapping_sub(tp as isize), Ordering::Relaxed);
    }
}

/// The thread pointer: the address static TLS offsets are counted from.
#[inline(always)]
fn thread_pointer() -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    {
        let tp: usize;
        // SAFETY: reads the thread control block's pointer to itself, writes nothing.
        unsafe {
            core::arch::asm!(
                "mov {tp}, qword ptr fs:[0]",
                tp = out(reg) tp,
                options(pure, readonly, nostack, preserves_flags),
            );
        }
        Some(tp)
    }
    #[cfg(target_arch = "aarch64")]
    {
        let tp: usize;
        // SAFETY: reads a register, touches no memory.
        unsafe {
            core::arch::asm!(
                "mrs {tp}, tpidr_el0",
                tp = out(reg) tp,
                options(pure, nomem, nostack, preserves_flags),
            );
        }
        Some(tp)
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        None
    }
}

/// The calling thread's memos, once [`set`] said where.
#[inline(always)]
pub(crate) fn thread() -> Option<&'static Thread> {
    let offset = crate::local!(OFFSET: AtomicIsize).load(Ordering::Relaxed);
    if offset == 0 {
        return None;
    }
    let t = thread_pointer()?.wrapping_add_signed(offset) as *const Thread;
    // SAFETY: `set` made this the calling thread's memos, which live as long as the thread.
    Some(unsafe { &*t })
}

/// [`thread`] where a caller knows that [`set`] gave the place: one load and a branch fewer on
/// the windows' look (see `mem::window::end`).
///
/// # Safety
/// [`thread`] returned `Some` before (the offset, once set, is never taken back).
#[inline(always)]
pub(crate) unsafe fn thread_known() -> &'static Thread {
    let offset = crate::local!(OFFSET: AtomicIsize).load(Ordering::Relaxed);
    debug_assert_ne!(offset, 0);
    let tp = thread_pointer().unwrap_or_default();
    // SAFETY: the caller's promise: `set` made this the calling thread's memos.
    unsafe { &*(tp.wrapping_add_signed(offset) as *const Thread) }
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    std::thread_local! {
        static MEMOS: Thread = const { Thread::empty() };
    }

    /// Gives the tests' threads memos of their own, as the runtime does. Every test calls it on
    /// its own thread: were the memos not at one offset in every thread (std's `thread_local!`
    /// of a type without `Drop`, in an executable, is static TLS), a test would fail here
    /// rather than use another thread's.
    pub(crate) fn install() {
        let t = MEMOS.with(|m| m as *const Thread as *mut Thread);
        let before = OFFSET.load(Ordering::Relaxed);
        // SAFETY: this thread's memos, in the test executable's static TLS.
        unsafe { set(t) };
        let now = OFFSET.load(Ordering::Relaxed);
        assert!(
            before == 0 || before == now,
            "memos at offsets {before} and {now}"
        );
    }
}
