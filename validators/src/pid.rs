//! `processid`: process and process-group ids.

use crate::{sys, Fault, Verdict};
use core::sync::atomic::{AtomicI64, Ordering};

const CHECK: &str = "processid";

/// The kernel's ceiling for pid_max on 64-bit (`PID_MAX_LIMIT`), used when /proc is unreadable.
const PID_MAX_LIMIT: i64 = 4 * 1024 * 1024;

static PID_MAX: AtomicI64 = AtomicI64::new(0);

/// `/proc/sys/kernel/pid_max`, read once: process ids are below it.
pub fn pid_max() -> i64 {
    match PID_MAX.load(Ordering::Relaxed) {
        0 => {
            let max = read_pid_max().unwrap_or(PID_MAX_LIMIT);
            PID_MAX.store(max, Ordering::Relaxed);
            max
        }
        max => max,
    }
}

fn read_pid_max() -> Option<i64> {
    let max = sys::read_number(c"/proc/sys/kernel/pid_max")?;
    i64::try_from(max).ok().filter(|&m| m > 1)
}

fn below_max(v: i64, what: &str) -> Verdict {
    let max = pid_max();
    if v.unsigned_abs() >= max as u64 {
        return Err(Fault::new(
            CHECK,
            format_args!("{v} is not a {what}: not below pid_max ({max})"),
        ));
    }
    Ok(())
}

/// `pid`: a process id, 1..pid_max.
pub fn positive(v: i64) -> Verdict {
    if v <= 0 {
        return Err(Fault::new(
            CHECK,
            format_args!("{v} is not a process id (must be positive)"),
        ));
    }
    below_max(v, "process id")
}

/// `pid.self`: 0 for the caller, or a process id.
pub fn self_or_positive(v: i64) -> Verdict {
    if v == 0 {
        return Ok(());
    }
    positive(v)
}

/// `pid.kill`: > 0 a process, 0 the caller's group, -1 every process, < -1 the group -pid.
pub fn kill(v: i64) -> Verdict {
    below_max(v, "process or group id")
}

/// `pid.wait`: > 0 a child, 0 the caller's group, -1 any child, < -1 the group -pid; the same
/// domain as [`kill`].
pub fn wait(v: i64) -> Verdict {
    kill(v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_max_matches_proc() {
        let text = std::fs::read_to_string("/proc/sys/kernel/pid_max").unwrap();
        assert_eq!(pid_max(), text.trim().parse::<i64>().unwrap());
    }

    #[test]
    fn pid_domains() {
        let max = pid_max();
        let me = std::process::id() as i64;
        assert!(positive(me).is_ok());
        assert!(positive(max - 1).is_ok());
        assert_eq!(
            positive(max).unwrap_err().msg.as_str(),
            format!("{max} is not a process id: not below pid_max ({max})")
        );
        assert_eq!(
            positive(0).unwrap_err().msg.as_str(),
            "0 is not a process id (must be positive)"
        );
        assert!(positive(-1).is_err());
        assert!(self_or_positive(0).is_ok());
        assert!(self_or_positive(-5).is_err());
        for v in [me, 0, -1, -me] {
            assert!(kill(v).is_ok(), "{v}");
            assert!(wait(v).is_ok(), "{v}");
        }
        assert!(kill(-max).is_err());
        assert!(wait(i64::MIN).is_err());
    }
}
