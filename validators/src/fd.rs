//! `filedescriptor`: file descriptor numbers.

use crate::{sys, Fault, Verdict};
use core::sync::atomic::{AtomicI64, AtomicU64, Ordering};

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
    // prlimit64 on ourselves (pid 0) writes one rlimit64 and reads nothing (new = NULL).
    let args = [
        0,
        libc::RLIMIT_NOFILE as usize,
        0,
        &mut lim as *mut _ as usize,
    ];
    let rc = sys::call(libc::SYS_prlimit64, &args);
    // Descriptors are ints, so an infinite or failed limit means "any int".
    let limit = if rc.is_ok() {
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
///
/// Answered from [`KNOWN_OPEN`] when it can be, so that checks add no system call the program
/// does not make (a process under seccomp may die of any other call); otherwise the
/// kernel is asked, so a negative verdict is always the kernel's own.
#[inline]
pub fn open(fd: i64) -> Verdict {
    valid(fd)?;
    if known_open(fd) || probe(fd) {
        return Ok(());
    }
    Err(Fault::new(CHECK, format_args!("fd {fd} is not open")))
}

/// Descriptors below this number have a "known open" bit.
const CACHED: usize = 4096;

/// One bit per descriptor below [`CACHED`]: set once the kernel said the descriptor is open,
/// cleared when an interposed call closes it ([`forget`]). A bit may only be stale when the
/// program closed the descriptor behind the checker's back (a raw `syscall(SYS_close)`, a library
/// closing it internally): then a use of the closed descriptor goes unreported, but a bit never
/// makes an open descriptor look closed.
static KNOWN_OPEN: [AtomicU64; CACHED / 64] = [const { AtomicU64::new(0) }; CACHED / 64];

/// Bumped by every [`forget`], after the descriptors were closed: a probe that raced with a close
/// withdraws the bit it set.
static CLOSES: AtomicU64 = AtomicU64::new(0);

#[inline]
fn known_open(fd: i64) -> bool {
    let i = fd as usize;
    i < CACHED && KNOWN_OPEN[i / 64].load(Ordering::Acquire) & (1 << (i % 64)) != 0
}

/// Asks the kernel, and remembers a positive answer.
#[inline(never)]
fn probe(fd: i64) -> bool {
    let asked = ticket();
    match sys::fd_is_open(fd as i32) {
        Some(true) => opened(asked, fd),
        Some(false) => return false,
        // seccomp forbids every way of asking: accepted, not remembered.
        None => {}
    }
    true
}

/// A point in the sequence of closes, taken before asking the kernel about a descriptor (or before
/// a call that returns a new one).
#[derive(Clone, Copy)]
pub struct Ticket(u64);

/// The current point in the sequence of closes.
pub fn ticket() -> Ticket {
    Ticket(CLOSES.load(Ordering::SeqCst))
}

/// The kernel said `fd` is open (it returned it from `open`, `opendir`, …) after `asked` was
/// taken. Only atomics: it never changes `errno`.
pub fn opened(asked: Ticket, fd: i64) {
    let i = fd as usize;
    if fd < 0 || i >= CACHED {
        return;
    }
    let bit = 1u64 << (i % 64);
    KNOWN_OPEN[i / 64].fetch_or(bit, Ordering::SeqCst);
    // A close finished since the question was asked: the answer may be about the descriptor it
    // closed.
    if CLOSES.load(Ordering::SeqCst) != asked.0 {
        KNOWN_OPEN[i / 64].fetch_and(!bit, Ordering::SeqCst);
    }
}

/// The runtime calls this after every interposed call that closed (or may have closed) the
/// descriptors `first..=last`: `close`, `close_range`, `fclose`, `closedir`, …. Only atomics: it
/// never changes `errno`.
pub fn forget(first: i64, last: i64) {
    CLOSES.fetch_add(1, Ordering::SeqCst);
    let (first, last) = (first.max(0) as usize, last.min(CACHED as i64 - 1));
    if last < 0 || first > last as usize {
        return;
    }
    let last = last as usize;
    for (w, word) in KNOWN_OPEN
        .iter()
        .enumerate()
        .take(last / 64 + 1)
        .skip(first / 64)
    {
        let lo = if w == first / 64 { first % 64 } else { 0 };
        let hi = if w == last / 64 { last % 64 } else { 63 };
        let mask = (u64::MAX >> (63 - hi)) & (u64::MAX << lo);
        word.fetch_and(!mask, Ordering::SeqCst);
    }
}

/// `fd.at`: `AT_FDCWD` or an open descriptor (the `*at` calls' directory argument).
pub fn at(fd: i64) -> Verdict {
    if fd == libc::AT_FDCWD as i64 {
        return Ok(());
    }
    open(fd)
}

/// `fd.atpath(PATH)`: the directory descriptor of an `*at` call, which is used only when `path`
/// is relative (or empty, with `AT_EMPTY_PATH`, or NULL for `utimensat`): then `AT_FDCWD` or an
/// open descriptor; with an absolute path anything (POSIX: the descriptor is ignored).
pub fn at_path(fd: i64, path: *const core::ffi::c_void) -> Verdict {
    // A path that cannot be read is the pathname rule's to report; without it, nothing says
    // whether the descriptor is used.
    if !path.is_null() {
        match crate::text::c_str(path, CHECK) {
            Ok(Some(p)) if p.first() == Some(&b'/') => return Ok(()),
            Ok(Some(_)) => {}
            _ => return Ok(()),
        }
    }
    at(fd).map_err(|f| {
        Fault::new(
            CHECK,
            format_args!(
                "{} and the path is relative, so the call uses it",
                f.msg.as_str()
            ),
        )
    })
}

/// `fd.other(OTHER)`: not the same descriptor as `other` (`dup3(fd, fd, …)` fails with EINVAL,
/// unlike `dup2`).
pub fn other(fd: i64, other: i64) -> Verdict {
    if fd == other {
        return Err(Fault::new(
            CHECK,
            format_args!("{fd} is the descriptor being duplicated (dup3 refuses that: EINVAL)"),
        ));
    }
    Ok(())
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
        assert!(
            open(r).is_ok(),
            "closed behind the cache's back: still known open"
        );
        forget(r, r);
        assert_eq!(msg(open(r)), format!("fd {r} is not open"));
        assert_eq!(msg(at(r)), format!("fd {r} is not open"));
        assert!(at(libc::AT_FDCWD as i64).is_ok());
        assert_eq!(msg(at(-1)), "-1 is negative");
        unsafe { libc::close(fds[0]) };
        unsafe { libc::close(fds[1]) };
    }

    #[test]
    fn forget_clears_exactly_the_range() {
        let mut fds = [0; 2];
        assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
        let fds: Vec<i64> = [127, 128, 191, 192]
            .iter()
            .map(|&n| i64::from(unsafe { libc::dup2(fds[0], n) }))
            .collect();
        for &fd in &fds {
            assert!(open(fd).is_ok());
            assert!(known_open(fd));
        }
        forget(128, 191);
        assert!(known_open(127) && known_open(192));
        assert!(!known_open(128) && !known_open(191));
        assert!(open(128).is_ok(), "still open: asked again");
        forget(-5, i64::MAX);
        assert!(fds.iter().all(|&fd| !known_open(fd)));
        for fd in fds {
            unsafe { libc::close(fd as i32) };
        }
    }
}
