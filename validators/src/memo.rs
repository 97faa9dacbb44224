//! Where each thread keeps its memos of checks that passed: the runtime's static TLS.
//!
//! A memo answers a check that passed before, on the same object, while nothing the verdict
//! depended on changed, in a few loads instead of the lookups that found it. It is per thread
//! so that threads never write a line other threads read on every call.

use core::sync::atomic::{AtomicPtr, Ordering};

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

/// Where the runtime keeps this thread's memos (see [`set`]); null until it says.
static WHERE: AtomicPtr<()> = AtomicPtr::new(core::ptr::null_mut());

/// Tells the checks where this thread's [`Thread`] is: `f` returns it for the calling thread,
/// from any context (a signal handler, before `main`, inside `__tls_get_addr`), so it must be
/// static TLS, zeroed at thread start (the preload's initial-exec block; a lazily allocated
/// `thread_local!` would be neither). Without it every check runs in full.
pub fn set(f: extern "C" fn() -> *mut Thread) {
    WHERE.store(f as *mut (), Ordering::Release);
}

/// The calling thread's memos, once [`set`] said where.
#[inline(always)]
pub(crate) fn thread() -> Option<&'static Thread> {
    let f = crate::local!(WHERE: AtomicPtr<()>).load(Ordering::Acquire);
    if f.is_null() {
        return None;
    }
    // SAFETY: only `set` stores here, a function of this type.
    let f: extern "C" fn() -> *mut Thread = unsafe { core::mem::transmute(f) };
    // SAFETY: the calling thread's memos, which live as long as the thread.
    unsafe { f().as_ref() }
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    std::thread_local! {
        static MEMOS: Thread = const { Thread::empty() };
    }

    extern "C" fn test_thread() -> *mut Thread {
        MEMOS.with(|m| m as *const Thread as *mut Thread)
    }

    /// Gives the tests' threads memos of their own, as the runtime does.
    pub(crate) fn install() {
        set(test_thread);
    }
}
