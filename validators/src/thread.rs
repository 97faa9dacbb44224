//! `thread`: thread ids.

use crate::{Fault, Verdict};

/// This thread's `pthread_t`: glibc's thread pointer, which `pthread_self` (interposed) returns;
/// on x86-64 the thread control block's `self` field at `%fs:16`.
#[cfg(target_arch = "x86_64")]
fn current() -> u64 {
    let me: u64;
    // SAFETY: glibc keeps the TCB's self pointer at %fs:16 for the thread's whole life.
    unsafe {
        core::arch::asm!("mov {}, fs:16", out(reg) me, options(nostack, readonly, preserves_flags))
    };
    me
}

/// `thread.other`: not the calling thread (`pthread_join` on itself would wait forever; glibc
/// fails with EDEADLK).
pub fn other(t: i64) -> Verdict {
    #[cfg(target_arch = "x86_64")]
    if t as u64 == current() {
        return Err(Fault::new(
            "thread",
            format_args!("is the calling thread (joining itself would never return: EDEADLK)"),
        ));
    }
    let _ = t;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_calling_thread_is_found() {
        let me = unsafe { libc::pthread_self() } as i64;
        assert_eq!(other(me).unwrap_err().check, "thread");
        let other_thread = std::thread::spawn(|| unsafe { libc::pthread_self() } as i64)
            .join()
            .unwrap();
        assert!(other(other_thread).is_ok());
    }
}
