//! `signal`, `sighow`: signal numbers and mask operations.

use crate::{Fault, Verdict};

/// The kernel's highest signal on x86-64 and AArch64 (`_NSIG`); glibc's `SIGRTMAX` macro calls
/// `__libc_current_sigrtmax()`, which this crate must not call, and returns the same value.
pub const SIGRTMAX: i64 = 64;

const CHECK: &str = "signal";

/// `signal`: 1..=SIGRTMAX.
pub fn signal(v: i64) -> Verdict {
    if !(1..=SIGRTMAX).contains(&v) {
        return Err(Fault::new(
            CHECK,
            format_args!("{v} is not a signal number (1 to {SIGRTMAX})"),
        ));
    }
    Ok(())
}

/// `signal0`: 0..=SIGRTMAX; 0 asks whether the target exists (`kill(pid, 0)`).
pub fn signal_or_zero(v: i64) -> Verdict {
    if v == 0 {
        return Ok(());
    }
    signal(v)
}

/// `catchable(ACT)`: with a new action `act`, not `SIGKILL` or `SIGSTOP`, whose actions cannot be
/// changed (`sigaction` fails with EINVAL); querying them (`act` NULL) is fine.
pub fn catchable(v: i64, act: *const core::ffi::c_void) -> Verdict {
    if !act.is_null() && (v == libc::SIGKILL as i64 || v == libc::SIGSTOP as i64) {
        let name = if v == libc::SIGKILL as i64 {
            "SIGKILL"
        } else {
            "SIGSTOP"
        };
        return Err(Fault::new(
            CHECK,
            format_args!("{v} is {name}, which cannot be caught or ignored"),
        ));
    }
    Ok(())
}

/// `altstack`: a `stack_t` for `sigaltstack` that either disables the alternate stack
/// (`SS_DISABLE`) or is at least `MINSIGSTKSZ` bytes (the call fails with ENOMEM otherwise).
/// Readability is the `in` rule's.
///
/// # Safety
/// `p` is the program's argument: it is read only when readable.
pub unsafe fn alt_stack(p: *const core::ffi::c_void) -> Verdict {
    let size = core::mem::size_of::<libc::stack_t>();
    if p.is_null() || unsafe { crate::mem::readable(p, size) }.is_err() {
        return Ok(());
    }
    // SAFETY: readable, checked above.
    let ss = unsafe { (p as *const libc::stack_t).read_unaligned() };
    if ss.ss_flags & libc::SS_DISABLE == 0 && ss.ss_size < libc::MINSIGSTKSZ {
        return Err(Fault::new(
            "stacksize",
            format_args!(
                "ss_size {} is below MINSIGSTKSZ ({})",
                ss.ss_size,
                libc::MINSIGSTKSZ
            ),
        ));
    }
    Ok(())
}

/// `sighow`: `SIG_BLOCK`, `SIG_UNBLOCK` or `SIG_SETMASK`.
pub fn how(v: i64) -> Verdict {
    match v as i32 {
        libc::SIG_BLOCK | libc::SIG_UNBLOCK | libc::SIG_SETMASK if v == v as i32 as i64 => Ok(()),
        _ => Err(Fault::new(
            "sighow",
            format_args!("{v} is not SIG_BLOCK, SIG_UNBLOCK or SIG_SETMASK"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catchable_and_alt_stacks() {
        let act = core::ptr::dangling::<core::ffi::c_void>();
        assert!(catchable(9, act).is_err() && catchable(19, act).is_err());
        assert!(catchable(9, core::ptr::null()).is_ok() && catchable(15, act).is_ok());
        let mut ss: libc::stack_t = unsafe { core::mem::zeroed() };
        ss.ss_size = 1024;
        let p = &ss as *const libc::stack_t as *const core::ffi::c_void;
        assert_eq!(unsafe { alt_stack(p) }.unwrap_err().check, "stacksize");
        ss.ss_flags = libc::SS_DISABLE;
        assert!(unsafe { alt_stack(&ss as *const libc::stack_t as *const _) }.is_ok());
    }

    #[test]
    fn signal_numbers() {
        assert_eq!(SIGRTMAX, libc::SIGRTMAX() as i64, "the host agrees");
        assert!(signal(libc::SIGINT as i64).is_ok());
        assert!(signal(SIGRTMAX).is_ok());
        assert_eq!(
            signal(0).unwrap_err().msg.as_str(),
            "0 is not a signal number (1 to 64)"
        );
        assert!(signal(65).is_err());
        assert!(signal_or_zero(0).is_ok());
        assert!(signal_or_zero(-1).is_err());
    }

    #[test]
    fn mask_operations() {
        assert!(how(libc::SIG_BLOCK as i64).is_ok());
        assert!(how(libc::SIG_SETMASK as i64).is_ok());
        assert_eq!(
            how(3).unwrap_err().msg.as_str(),
            "3 is not SIG_BLOCK, SIG_UNBLOCK or SIG_SETMASK"
        );
        assert!(
            how(1 << 32).is_err(),
            "truncation to int must not hide garbage"
        );
    }
}
