//! `clockid`: POSIX clock ids; `clockid.sleep`: the ones `clock_nanosleep` sleeps on.

use crate::{sys, Fault, Verdict};

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

/// `clockid.sleep`: a clock `clock_nanosleep` accepts. Measured on Linux 6.1 / glibc 2.36:
/// `CLOCK_THREAD_CPUTIME_ID` and the calling thread's own CPU clock are EINVAL (POSIX: a thread
/// cannot sleep on its own CPU time), the raw and coarse clocks and dynamic (PTP) clocks ENOTSUP.
/// The alarm clocks are accepted: whether they sleep depends on an RTC and `CAP_WAKE_ALARM`.
/// Another thread's CPU clock and any process CPU clock are valid.
pub fn sleep(v: i64) -> Verdict {
    id(v)?;
    let why = match v {
        3 => "CLOCK_THREAD_CPUTIME_ID: a thread cannot sleep on its own CPU time (EINVAL)",
        4..=6 => "a raw or coarse clock, which has no timers (ENOTSUP)",
        _ if v < 0 && v & CPU_TYPE_MASK == CLOCKFD => {
            "a dynamic clock, which has no timers (ENOTSUP)"
        }
        _ if v < 0 && v & PER_THREAD != 0 && own_thread(v) => {
            "the calling thread's CPU clock: a thread cannot sleep on its own CPU time (EINVAL)"
        }
        _ => return Ok(()),
    };
    Err(Fault::new("clockid", format_args!("{v} is {why}")))
}

/// Whether the per-thread CPU clock `v` is the calling thread's (its id field 0 or our tid).
fn own_thread(v: i64) -> bool {
    let tid = !v >> 3;
    tid == 0 || sys::call(libc::SYS_gettid, &[]).is_ok_and(|me| me as i64 == tid)
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

    #[test]
    fn clocks_clock_nanosleep_sleeps_on() {
        for c in [
            libc::CLOCK_REALTIME,
            libc::CLOCK_MONOTONIC,
            libc::CLOCK_PROCESS_CPUTIME_ID,
            libc::CLOCK_BOOTTIME,
            libc::CLOCK_TAI,
            libc::CLOCK_REALTIME_ALARM,
        ] {
            assert!(sleep(c as i64).is_ok(), "{c}");
        }
        for c in [
            libc::CLOCK_THREAD_CPUTIME_ID,
            libc::CLOCK_MONOTONIC_RAW,
            libc::CLOCK_REALTIME_COARSE,
            libc::CLOCK_MONOTONIC_COARSE,
            10,
        ] {
            assert!(sleep(c as i64).is_err(), "{c}");
        }
        let mut c: libc::clockid_t = 0;
        assert_eq!(unsafe { libc::clock_getcpuclockid(0, &mut c) }, 0);
        assert!(sleep(c as i64).is_ok());
        assert_eq!(
            unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut c) },
            0
        );
        assert!(sleep(c as i64)
            .unwrap_err()
            .msg
            .as_str()
            .contains("calling thread's CPU clock"));
        // Another thread's CPU clock is a valid one to sleep on.
        let other = std::thread::spawn(move || {
            let mut mine: libc::clockid_t = 0;
            unsafe { libc::pthread_getcpuclockid(libc::pthread_self(), &mut mine) };
            mine
        })
        .join()
        .unwrap();
        assert!(sleep(other as i64).is_ok());
        assert!(sleep((!3i64 << 3) | CLOCKFD).is_err());
    }
}
