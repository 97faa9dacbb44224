//! The summary of a process killed by a fatal signal it does not handle (`SIGTERM` from a
//! service manager, `SIGSEGV`, `SIGPIPE`, `abort`): the checker's own handler stands in for
//! `SIG_DFL`, writes the summary, restores `SIG_DFL` and lets the signal take its default action,
//! so the process dies exactly as it would have (same signal, same core dump).
//!
//! Invisible to the program: its own handlers replace this one (the kernel holds them as they
//! are), the old action it reads back through `sigaction`, `signal`, `sigset`, … is `SIG_DFL`
//! with the flags, mask and restorer it would have had, and a `SIG_DFL` it sets is taken over
//! again. `SIG_IGN` is never replaced (inherited across `exec`, as the program would see it);
//! a caught signal's disposition is reset by the kernel at `exec`, so an exec'd image gets
//! `SIG_DFL` whether or not it is checked. What the program reads with a raw `rt_sigaction`
//! system call, or after `siginterrupt` on a disposition it never set, is this handler.

use core::ffi::{c_int, c_void};
use core::sync::atomic::{AtomicU64, Ordering::Relaxed};

use super::{report, sys, Real};

/// The signals whose default action ends the process (SIGKILL cannot be caught). Real-time
/// signals are left alone: programs and libraries claim them by number.
const FATAL: [c_int; 22] = [
    libc::SIGHUP,
    libc::SIGINT,
    libc::SIGQUIT,
    libc::SIGILL,
    libc::SIGTRAP,
    libc::SIGABRT,
    libc::SIGBUS,
    libc::SIGFPE,
    libc::SIGUSR1,
    libc::SIGSEGV,
    libc::SIGUSR2,
    libc::SIGPIPE,
    libc::SIGALRM,
    libc::SIGTERM,
    libc::SIGSTKFLT,
    libc::SIGXCPU,
    libc::SIGXFSZ,
    libc::SIGVTALRM,
    libc::SIGPROF,
    libc::SIGIO,
    libc::SIGPWR,
    libc::SIGSYS,
];

/// Per signal, while this handler stands in for `SIG_DFL`: the `sa_flags` bits it added to the
/// program's, or [`UNSET`] when it was installed at start, where the program never set an action
/// (the kernel then reports no flags, an empty mask and no restorer).
static ADDED: [AtomicU64; 65] = [const { AtomicU64::new(0) }; 65];
const UNSET: u64 = 1 << 63;

fn is_fatal(sig: c_int) -> bool {
    FATAL.contains(&sig)
}

/// The C library's own `sigaction`, so that the flags and restorer it adds are the ones the
/// program's `SIG_DFL` would have carried.
fn real_sigaction(sig: c_int, act: *const libc::sigaction, old: *mut libc::sigaction) -> c_int {
    static REAL: Real = Real::new(c"sigaction", c"GLIBC_2.2.5");
    // SAFETY: the prototype matches glibc's.
    let real: unsafe extern "C" fn(c_int, *const libc::sigaction, *mut libc::sigaction) -> c_int =
        unsafe { REAL.get() };
    // SAFETY: act and old are null or valid (callers' own stack values).
    unsafe { real(sig, act, old) }
}

/// The kernel's current action for `sig`: handler, flags, restorer, mask (raw system call:
/// nothing interposed, errno kept on success); `None` when it cannot be read.
fn kernel_action(sig: c_int) -> Option<[u64; 4]> {
    let mut k = [0u64; 4];
    // Queries only, into k.
    let args = [sig as usize, 0, k.as_mut_ptr() as usize, 8];
    sys::call(libc::SYS_rt_sigaction, &args).ok().map(|_| k)
}

fn handler_address() -> usize {
    on_fatal as extern "C" fn(c_int, *mut libc::siginfo_t, *mut c_void) as usize
}

/// Stands in for `SIG_DFL` on `sig` if that is its disposition now, keeping the flags and mask
/// the program gave it. `unset`: at start, before the program set anything.
fn take_over(sig: c_int, unset: bool) {
    let Some(kernel) = kernel_action(sig) else {
        return;
    };
    if kernel[0] as usize != libc::SIG_DFL {
        return;
    }
    // SAFETY: a plain C struct, filled by the C library.
    let mut act: libc::sigaction = unsafe { core::mem::zeroed() };
    // A bare SIG_DFL (no flags, restorer or mask: every one at start, as exec leaves them) reads
    // through the C library as the zeroed act; only others need its reading, which would be one
    // more system call for each of these 22 signals at start.
    if kernel != [0; 4]
        && (real_sigaction(sig, core::ptr::null(), &mut act) != 0
            || act.sa_sigaction != libc::SIG_DFL)
    {
        return;
    }
    let added = libc::SA_SIGINFO as u64 & !(act.sa_flags as u64);
    ADDED[sig as usize].store(if unset { UNSET } else { added }, Relaxed);
    act.sa_sigaction = handler_address();
    act.sa_flags |= libc::SA_SIGINFO;
    real_sigaction(sig, &act, core::ptr::null_mut());
}

/// Library constructor: every fatal signal whose disposition is `SIG_DFL` gets the handler
/// (an inherited `SIG_IGN` stays).
pub fn install() {
    for sig in FATAL {
        take_over(sig, true);
    }
}

/// After the program set the disposition of `sig` (successfully: `ok`): a `SIG_DFL` is taken
/// over again. Changes nothing the program can see, `errno` included.
pub fn disposition_set(sig: c_int, ok: bool) {
    if ok && is_fatal(sig) {
        take_over(sig, false);
    }
}

/// The old handler a `signal`-like call returns: this handler reads as `SIG_DFL`.
pub fn old_handler(h: usize) -> usize {
    if h == handler_address() {
        libc::SIG_DFL
    } else {
        h
    }
}

/// The old action `sigaction` wrote to `old` (may be null) for `sig`: this handler reads as the
/// `SIG_DFL` action the program would have got.
///
/// # Safety
/// `old` is null or a `struct sigaction` the real call just filled.
pub unsafe fn old_action(sig: c_int, old: *mut libc::sigaction) {
    // SAFETY: the caller's promise.
    let Some(old) = (unsafe { old.as_mut() }) else {
        return;
    };
    if old.sa_sigaction != handler_address() || !(1..65).contains(&sig) {
        return;
    }
    old.sa_sigaction = libc::SIG_DFL;
    let added = ADDED[sig as usize].load(Relaxed);
    if added == UNSET {
        old.sa_flags = 0;
        old.sa_restorer = None;
        // The C library copies the kernel's 8-byte mask into the first word of sa_mask.
        // SAFETY: sa_mask is at least 8 bytes.
        unsafe { (&mut old.sa_mask as *mut libc::sigset_t as *mut u64).write_unaligned(0) };
    } else {
        old.sa_flags &= !(added as c_int);
    }
}

/// The stand-in for `SIG_DFL`: the summary, then the default action.
extern "C" fn on_fatal(sig: c_int, info: *mut libc::siginfo_t, _ctx: *mut c_void) {
    let errno = sys::errno();
    report::summary();
    // SAFETY: the kernel's siginfo for this delivery.
    let code = unsafe { info.as_ref() }.map_or(0, |i| i.si_code);
    sys::default_action(sig);
    let fault = code > 0
        && matches!(
            sig,
            libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE
        );
    if !fault {
        // Sent (kill, raise, abort, the terminal, a timer): sent again, now with the default
        // action, and unblocked (it is blocked while its handler runs) so it is delivered at once.
        let args = [sys::getpid() as usize, sys::gettid() as usize, sig as usize];
        let _ = sys::call(libc::SYS_tgkill, &args);
        sys::unblock(sig);
    }
    // A fault: returning runs the faulting instruction again, which now ends the process with
    // the kernel's own signal information in the core dump.
    sys::set_errno(errno);
}
