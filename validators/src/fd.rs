//! `filedescriptor`: file descriptor numbers.

use crate::{sys, Fault, Verdict};
use core::sync::atomic::{AtomicI64, Ordering};

const CHECK: &str = "filedescriptor";

/// The soft `RLIMIT_NOFILE`, 0 until first needed.
static LIMIT: AtomicI64 = AtomicI64::new(0);

/// Re-reads the soft `RLIMIT_NOFILE` and returns it; the runtime calls it after `setrlimit`/
/// `prlimit` succeeded.
pub fn refresh_limit() -> i64 {
    let mut lim = libc::rlimit64 {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: prlimit64 on ourselves (pid 0) writes one rlimit64 and reads nothing (new = NULL).
    let rc = unsafe {
        libc::syscall(
            libc::SYS_prlimit64,
            0,
            libc::RLIMIT_NOFILE,
            core::ptr::null::<libc::rlimit64>(),
            &mut lim,
        )
    };
    // Descriptors are ints, so an infinite or failed limit means "any int".
    let limit = if rc == 0 {
        lim.rlim_cur.min(i32::MAX as u64 + 1) as i64
    } else {
        i32::MAX as i64 + 1
    };
    LIMIT.store(limit, Ordering::Relaxed);
    limit
}

fn limit() -> i64 {
    match LIMIT.load(Ordering::Relaxed) {
        0 => refresh_limit(),
        l => l,
    }
}

/// `fd`: 0 <= fd < RLIMIT_NOFILE.
pub fn valid(fd: i64) -> Verdict {
    if fd < 0 {
        return Err(Fault::new(CHECK, format_args!("{fd} is negative")));
    }
    let limit = limit();
    if fd >= limit {
        return Err(Fault::new(
            CHECK,
            format_args!("{fd} is not below RLIMIT_NOFILE ({limit})"),
        ));
    }
    Ok(())
}

/// `fd.open`: a valid descriptor that is open now.
pub fn open(fd: i64) -> Verdict {
    valid(fd)?;
    if !sys::fd_is_open(fd as i32) {
        return Err(Fault::new(CHECK, format_args!("fd {fd} is not open")));
    }
    Ok(())
}

/// `fd.at`: `AT_FDCWD` or an open descriptor (the `*at` calls' directory argument).
pub fn at(fd: i64) -> Verdict {
    if fd == libc::AT_FDCWD as i64 {
        return Ok(());
    }
    open(fd)
}

/// `fd.orneg`: a valid descriptor, or any negative number meaning "none" (`poll`, `mmap`).
pub fn valid_or_neg(fd: i64) -> Verdict {
    if fd < 0 {
        return Ok(());
    }
    valid(fd)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(v: Verdict) -> String {
        v.map(|_| String::new())
            .unwrap_or_else(|f| f.msg.as_str().to_owned())
    }

    #[test]
    fn range_follows_rlimit_nofile() {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
        assert_eq!(
            refresh_limit(),
            lim.rlim_cur.min(i32::MAX as u64 + 1) as i64
        );
        let top = lim.rlim_cur as i64;
        assert!(valid(0).is_ok());
        assert!(valid(top - 1).is_ok());
        assert_eq!(
            msg(valid(top)),
            format!("{top} is not below RLIMIT_NOFILE ({top})")
        );
        assert_eq!(msg(valid(-1)), "-1 is negative");
        assert!(valid_or_neg(-1).is_ok());
        assert!(valid_or_neg(top).is_err());
    }

    #[test]
    fn open_tells_closed_descriptors() {
        let mut fds = [0; 2];
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        // A high number: tests running in parallel reuse the lowest free descriptors.
        let r = 700;
        assert_eq!(unsafe { libc::dup2(fds[0], r) }, r);
        let (r, w) = (r as i64, fds[1] as i64);
        assert!(open(r).is_ok());
        assert!(at(w).is_ok());
        unsafe { libc::close(r as i32) };
        assert_eq!(msg(open(r)), format!("fd {r} is not open"));
        assert_eq!(msg(at(r)), format!("fd {r} is not open"));
        assert!(at(libc::AT_FDCWD as i64).is_ok());
        assert_eq!(msg(at(-1)), "-1 is negative");
        unsafe { libc::close(fds[0]) };
        unsafe { libc::close(fds[1]) };
    }
}
