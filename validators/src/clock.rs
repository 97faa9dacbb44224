//! `clockid`: POSIX clock ids.

use crate::{Fault, Verdict};

/// Ids 0..=11 the kernel knows, as a bit set: 10 (`CLOCK_SGI_CYCLE`) was removed.
const KNOWN: u32 = 0b1011_1111_1111;

/// The low bits of a negative id: `(~pid << 3) | per-thread << 2 | clock` for CPU clocks,
/// `(~fd << 3) | 3` for dynamic (PTP) clocks.
const CPU_TYPE_MASK: i64 = 3;
const PER_THREAD: i64 = 4;
const CLOCKFD: i64 = 3;

/// `clockid`: a `CLOCK_*` id, or a CPU-time/`FD_TO_CLOCKID` id encoded by
/// `clock_getcpuclockid`/`pthread_getcpuclockid`.
pub fn id(v: i64) -> Verdict {
    let known = match v {
        0..=11 => KNOWN >> v & 1 != 0,
        // clockid_t is an int; the kernel rejects per-thread dynamic clocks.
        _ if v < 0 && v >= i32::MIN as i64 => v & CPU_TYPE_MASK != CLOCKFD || v & PER_THREAD == 0,
        _ => false,
    };
    if !known {
        return Err(Fault::new(
            "clockid",
            format_args!("{v} is not a clock id the kernel knows"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_clocks() {
        for c in [
            libc::CLOCK_REALTIME,
            libc::CLOCK_MONOTONIC,
            libc::CLOCK_BOOTTIME,
            libc::CLOCK_TAI,
        ] {
            assert!(id(c as i64).is_ok());
        }
        assert_eq!(
            id(10).unwrap_err().msg.as_str(),
            "10 is not a clock id the kernel knows"
        );
        assert!(id(12).is_err());
    }

    #[test]
    fn cpu_clock_ids_from_the_c_library() {
        let mut c: libc::clockid_t = 0;
        assert_eq!(unsafe { libc::clock_getcpuclockid(0, &mut c) }, 0);
        assert!(c < 0);
        assert!(id(c as i64).is_ok());
        assert_eq!(
            unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut c) },
            0
        );
        assert!(id(c as i64).is_ok());
        let fd_clock = (!3i64 << 3) | CLOCKFD;
        assert!(id(fd_clock).is_ok());
        assert!(id(fd_clock | PER_THREAD).is_err());
    }
}
