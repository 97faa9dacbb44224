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
