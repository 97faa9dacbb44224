//! `FILE pointer`, `DIR pointer`, `fopenmode`: stdio and directory streams.
//!
//! Streams are objects of [`object`]'s table, of kinds `FILE` and `DIR`: a stream the checker
//! never saw opened is unknown and accepted, a closed one is reported until an open hands the
//! same address out again. The runtime calls `untrack_*` *before* forwarding `fclose`/`closedir`
//! (see [`object`] for why).

use crate::object::{self, Kind};
use crate::{fd, mem, text::Quoted, Fault, Severity, Verdict};
use core::ffi::c_void;

/// glibc's `_IO_MAGIC` in the high half of `_flags`.
const IO_MAGIC: u32 = 0xFBAD_0000;
/// `sizeof(struct _IO_FILE)` in glibc x86-64: what stdio reads of any stream.
const FILE_SIZE: usize = 216;
/// glibc's `struct __dirstream` header before its buffer; its first member is the descriptor.
const DIR_HEADER: usize = 48;

/// The kinds of [`object`]'s table the streams are.
const FILE: Kind = Kind::named("FILE");
const DIR: Kind = Kind::named("DIR");

/// A stream was returned by `fopen`, `fdopen`, `popen`, `tmpfile`, `fmemopen`, …: its address is
/// live again even if an earlier stream there was closed.
pub fn track_file(p: *const c_void) {
    object::opened(p, FILE);
}

/// `fclose`/`pclose` is about to close (or tried to close) `p`: later uses are reported.
pub fn untrack_file(p: *const c_void) {
    object::closing(p, FILE);
}

/// A directory stream was returned by `opendir`/`fdopendir`.
pub fn track_dir(p: *const c_void) {
    object::opened(p, DIR);
}

/// `closedir` is about to close `p`.
pub fn untrack_dir(p: *const c_void) {
    object::closing(p, DIR);
}

/// `FILE pointer`: not NULL, not closed, readable, and carrying glibc's `_flags` magic.
///
/// Inline: its memo's answer and the magic's test are a few loads, where a call of its own cost
/// `fwrite_unlocked` (ls writes through it 28k times) a frame for the fault's text, six saved
/// registers and a returned verdict: 67 instructions a call.
///
/// # Safety
/// `_flags` is read only after the memory map says the stream is readable.
#[inline(always)]
pub unsafe fn file(p: *const c_void) -> Verdict {
    object::check(p, FILE, FILE_CHECK, FILE_SIZE)?;
    let flags = *(p as *const u32);
    if flags & 0xFFFF_0000 != IO_MAGIC {
        return Err(not_a_file(p as usize, flags));
    }
    Ok(())
}

const FILE_CHECK: &str = "FILE pointer";

#[cold]
#[inline(never)]
fn not_a_file(addr: usize, flags: u32) -> Fault {
    Fault::new(
        FILE_CHECK,
        format_args!("{addr:#x} is not a FILE: _flags is {flags:#x}, without the 0xFBAD magic"),
    )
}

/// glibc's `_fileno` in `FILE`.
const FILE_FILENO: usize = 112;

/// The descriptor of the stream at `p` when [`file`] accepts it: what `fclose` will close.
///
/// # Safety
/// As [`file`].
pub unsafe fn file_fd(p: *const c_void) -> Option<i64> {
    file(p).ok()?;
    Some(*(p.cast::<u8>().add(FILE_FILENO) as *const i32) as i64)
}

/// The descriptor of the directory stream at `p` when it is readable: what `closedir` will close.
///
/// # Safety
/// The descriptor is read only after the memory map says the stream is readable.
pub unsafe fn dir_fd(p: *const c_void) -> Option<i64> {
    if p.is_null() || mem::readable(p, DIR_HEADER).is_err() {
        return None;
    }
    Some(*(p as *const i32) as i64)
}

/// `DIR pointer`: not NULL, not closed, readable, and its descriptor still open. Inline, as
/// [`file`]: `ls` checks its `DIR` on each of 7k `readdir` calls.
///
/// # Safety
/// The descriptor is read only after the memory map says the stream is readable.
#[inline(always)]
pub unsafe fn dir(p: *const c_void) -> Verdict {
    object::check(p, DIR, DIR_CHECK, DIR_HEADER)?;
    let dfd = *(p as *const i32);
    match fd::open(dfd as i64) {
        Ok(()) => Ok(()),
        Err(_) => Err(dir_fd_closed(p as usize, dfd)),
    }
}

const DIR_CHECK: &str = "DIR pointer";

#[cold]
#[inline(never)]
fn dir_fd_closed(addr: usize, dfd: i32) -> Fault {
    Fault::new(
        DIR_CHECK,
        format_args!("DIR {addr:#x} holds fd {dfd}, which is not open"),
    )
}

/// `fopenmode`: `r`, `w` or `a`, then any of `+ b e x m c`, optionally `,ccs=CHARSET`.
///
/// # Safety
/// The string is read only as far as the memory map says it is readable.
pub unsafe fn fopen_mode(p: *const c_void) -> Verdict {
    parse_fopen_mode(p, "fopenmode").map(|_| ())
}

/// An fopen mode string that [`fopen_mode`] accepts.
struct FopenMode<'a> {
    text: &'a [u8],
    /// `r`, `w` or `a`.
    first: u8,
    /// The letters after it, up to a `,ccs=` suffix.
    letters: &'a [u8],
}

/// The mode at `p` if [`fopen_mode`] accepts it; `Ok(None)` when the map cannot tell; faults
/// are named `check`.
///
/// # Safety
/// As [`fopen_mode`].
unsafe fn parse_fopen_mode<'a>(
    p: *const c_void,
    check: &'static str,
) -> Result<Option<FopenMode<'a>>, Fault> {
    let Some(len) = mem::strlen(p as usize, usize::MAX, check)? else {
        return Ok(None);
    };
    let mode = crate::text::bytes(p as usize, len);
    let Some((&first, rest)) = mode
        .split_first()
        .filter(|(f, _)| matches!(f, b'r' | b'w' | b'a'))
    else {
        return Err(Fault::new(
            check,
            format_args!("{} does not start with r, w or a", Quoted(mode)),
        ));
    };
    let flags = rest.split(|&b| b == b',').next().unwrap_or_default();
    // glibc ignores the letters it does not know (w3m's and libXfont2's "rt"); POSIX does not.
    if let Some(bad) = flags.iter().find(|b| !b"+bexmc".contains(b)) {
        return Err(Fault::new(
            check,
            format_args!(
                "{} has '{}' after '{}', which is not one of + b e x m c (glibc ignores it)",
                Quoted(mode),
                *bad as char,
                first as char
            ),
        )
        .severity(Severity::Portability));
    }
    Ok(Some(FopenMode {
        text: mode,
        first,
        letters: flags,
    }))
}

/// `popenmode`: exactly one of `r` and `w`, and any number of `e` (close-on-exec, a glibc
/// extension), as glibc's `popen` parses it.
pub fn popen_mode(p: *const c_void) -> Verdict {
    const CHECK: &str = "popenmode";
    let Some(mode) = crate::text::c_str(p, CHECK)? else {
        return Ok(());
    };
    let count = |c| mode.iter().filter(|&&b| b == c).count();
    let others = mode.iter().any(|b| !b"rwe".contains(b));
    if others || count(b'r') + count(b'w') != 1 || count(b'r').max(count(b'w')) > 1 {
        return Err(Fault::new(
            CHECK,
            format_args!("{} is not \"r\" or \"w\" (optionally with e)", Quoted(mode)),
        ));
    }
    Ok(())
}

/// `fdopenmode(FD)`: an fopen mode the descriptor's access mode allows (glibc's `fdopen` fails
/// with EINVAL for `"w"` on a read-only descriptor, `"r"` on a write-only one, any `+` on either).
/// The access mode comes from `fcntl(F_GETFL)`, which `fdopen` itself makes.
///
/// # Safety
/// As [`fopen_mode`].
pub unsafe fn fdopen_mode(p: *const c_void, fd: i64) -> Verdict {
    const CHECK: &str = "fdopenmode";
    let Some(FopenMode {
        text: mode,
        first,
        letters,
    }) = parse_fopen_mode(p, CHECK)?
    else {
        return Ok(());
    };
    let Some(flags) = i32::try_from(fd).ok().and_then(crate::sys::fd_flags) else {
        return Ok(());
    };
    let plus = letters.contains(&b'+');
    let (reads, writes) = (plus || first == b'r', plus || first != b'r');
    let (access, can_read, can_write) = match flags & libc::O_ACCMODE {
        libc::O_RDONLY => ("read-only", true, false),
        libc::O_WRONLY => ("write-only", false, true),
        _ => return Ok(()),
    };
    if (reads && !can_read) || (writes && !can_write) {
        return Err(Fault::new(
            CHECK,
            format_args!(
                "{} does not fit descriptor {fd}, which is open {access}",
                Quoted(mode)
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(v: Verdict) -> String {
        v.map(|_| String::new())
            .unwrap_or_else(|f| format!("{}: {}", f.check, f.msg.as_str()))
    }

    extern "C" {
        static stdin: *mut libc::FILE;
    }

    /// Records a stream's block as the preload's allocator interposer would have: the heap tests
    /// running in parallel leave freed blocks in the shadow, and this test binary's allocator is
    /// not interposed, so a stream reusing such an address would look like a use after free.
    fn allocated(p: *const c_void) -> *const c_void {
        // SAFETY: `p` is a live block of the C allocator.
        unsafe {
            crate::heap::allocated(
                p as *mut c_void,
                libc::malloc_usable_size(p as *mut c_void),
                crate::heap::Site::UNKNOWN,
            )
        };
        p
    }

    #[test]
    fn closed_files_are_reported_until_reopened() {
        unsafe {
            let f = allocated(libc::fopen(c"/dev/null".as_ptr(), c"r".as_ptr()).cast());
            track_file(f);
            assert!(file(f).is_ok());
            untrack_file(f);
            // What the preload's free interposer records when fclose frees the stream.
            crate::heap::released(f as *mut c_void, crate::heap::Site::UNKNOWN);
            libc::fclose(f as *mut libc::FILE);
            assert_eq!(
                msg(file(f)),
                format!(
                    "FILE pointer: FILE {:#x} was closed or freed already",
                    f as usize
                )
            );
            track_file(f);
            assert!(!object::destroyed(f, FILE));
            assert!(
                file(stdin as *const c_void).is_ok(),
                "never tracked: unknown, accepted"
            );
            assert_eq!(msg(file(core::ptr::null())), "FILE pointer: NULL");
            assert_eq!(msg(file(0x10 as _)), "FILE pointer: 0x10 is not mapped");
            let junk = [0x1234_5678u32; 64];
            assert_eq!(
                msg(file(junk.as_ptr().cast())),
                format!("FILE pointer: {:#x} is not a FILE: _flags is 0x12345678, without the 0xFBAD magic", junk.as_ptr() as usize)
            );
        }
    }

    #[test]
    fn closed_and_broken_dirs() {
        unsafe {
            // The stream's descriptor gets a high number, so that tests running in parallel
            // cannot reuse it once it is closed behind the stream's back.
            let fd = libc::open(c"/".as_ptr(), libc::O_RDONLY | libc::O_DIRECTORY);
            assert_eq!(libc::dup2(fd, 702), 702);
            libc::close(fd);
            let d = libc::fdopendir(702);
            let p = allocated(d.cast());
            track_dir(p);
            assert!(dir(p).is_ok());
            libc::close(702);
            // What the runtime's close interposer does after the real call.
            fd::forget(702, 702);
            assert_eq!(
                msg(dir(p)),
                format!(
                    "DIR pointer: DIR {:#x} holds fd 702, which is not open",
                    p as usize
                )
            );
            untrack_dir(p);
            crate::heap::released(p as *mut c_void, crate::heap::Site::UNKNOWN);
            libc::closedir(d);
            assert_eq!(
                msg(dir(p)),
                format!(
                    "DIR pointer: DIR {:#x} was closed or freed already",
                    p as usize
                )
            );
            track_dir(p);
            assert_eq!(msg(dir(core::ptr::null())), "DIR pointer: NULL");
        }
    }

    #[test]
    fn popen_modes() {
        for m in [c"r", c"w", c"re", c"we", c"er"] {
            assert!(popen_mode(m.as_ptr().cast()).is_ok(), "{m:?}");
        }
        for m in [c"rw", c"r+", c"", c"rr", c"x"] {
            let v = popen_mode(m.as_ptr().cast());
            assert!(msg(v).starts_with("popenmode: "), "{m:?}");
        }
    }

    #[test]
    fn fdopen_modes_follow_the_descriptors_access_mode() {
        let file = std::fs::File::open("/proc/self/exe").unwrap();
        let fd = std::os::fd::AsRawFd::as_raw_fd(&file) as i64;
        assert!(unsafe { fdopen_mode(c"r".as_ptr().cast(), fd) }.is_ok());
        assert!(unsafe { fdopen_mode(c"re".as_ptr().cast(), fd) }.is_ok());
        let w = unsafe { fdopen_mode(c"w".as_ptr().cast(), fd) };
        assert!(msg(w).contains("open read-only"), "{}", msg(w));
        let plus = unsafe { fdopen_mode(c"r+".as_ptr().cast(), fd) };
        assert!(msg(plus).starts_with("fdopenmode: "), "{}", msg(plus));
        // Not open: the fd rule's to report.
        assert!(unsafe { fdopen_mode(c"w".as_ptr().cast(), 99999) }.is_ok());
    }

    #[test]
    fn fopen_modes() {
        for m in [
            c"r",
            c"w+",
            c"a+b",
            c"rbe",
            c"wx",
            c"r,ccs=UTF-8",
            c"rm",
            c"wc",
        ] {
            assert!(unsafe { fopen_mode(m.as_ptr().cast()) }.is_ok(), "{m:?}");
        }
        assert_eq!(
            msg(unsafe { fopen_mode(c"rt".as_ptr().cast()) }),
            "fopenmode: \"rt\" has 't' after 'r', which is not one of + b e x m c (glibc ignores it)"
        );
        let rt = unsafe { fopen_mode(c"rt".as_ptr().cast()) }.unwrap_err();
        assert_eq!(rt.severity, Severity::Portability);
        assert_eq!(
            msg(unsafe { fopen_mode(c"+r".as_ptr().cast()) }),
            "fopenmode: \"+r\" does not start with r, w or a"
        );
        assert_eq!(
            msg(unsafe { fopen_mode(c"".as_ptr().cast()) }),
            "fopenmode: \"\" does not start with r, w or a"
        );
    }
}
