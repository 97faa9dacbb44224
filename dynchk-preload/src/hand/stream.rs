//! Stream lifetimes: every stream the C library hands out is tracked until it is closed, so the
//! `FILE pointer` and `DIR pointer` checks can tell a closed stream from an open one (glibc
//! frees the `FILE` on `fclose`; its memory may still look like a stream).

use core::ffi::{c_char, c_int, c_void};

use validators::{fd, mem, path, stream};

use crate::rt::{self, Iface, Real};

type File = *mut libc::FILE;

/// Enters `iface`, runs `checks`, forwards `real`, and hands the result to `after` (which must
/// not touch errno: the tracking sets are plain atomics).
fn checked<R: Copy>(
    iface: &'static Iface,
    checks: impl FnOnce(&rt::Call),
    real: impl FnOnce() -> R,
    after: impl FnOnce(R),
) -> R {
    let call_real = || {
        let r = real();
        after(r);
        r
    };
    match rt::enter(iface) {
        Some(call) => {
            checks(&call);
            call.forward(call_real)
        }
        None => call_real(),
    }
}

/// The descriptor a stream held was closed with it; `None` (the stream could not be read) forgets
/// every descriptor.
fn forget_fd(closed: Option<i64>) {
    let (first, last) = closed.map_or((0, i64::MAX), |fd| (fd, fd));
    fd::forget(first, last);
}

fn track_file(f: File) {
    if !f.is_null() {
        stream::track_file(f as *const c_void);
    }
}

const fn iface(name: &'static str, version: &'static str) -> Iface {
    Iface {
        name,
        lib: "libc",
        version,
    }
}

/// Checks of an `fopen`-style mode string at position `pos`.
fn check_mode(call: &rt::Call, pos: i32, mode: *const c_char) {
    // SAFETY: validators read only memory they have proven mapped.
    check!(call, pos, "mode", mode, unsafe {
        stream::fopen_mode(mode as *const c_void)
    });
}

/// Checks of a pathname at position `pos`.
fn check_path(call: &rt::Call, pos: i32, p: *const c_char) {
    // SAFETY: as above.
    check!(call, pos, "pathname", p, unsafe {
        path::pathname(p as *const c_void)
    });
}

/// Defines `fopen` and `fopen64`.
macro_rules! fopens {
    ($($name:ident),*) => {
        $(
            #[doc = concat!("`", stringify!($name), "(3)`: the new stream is tracked.")]
            #[no_mangle]
            pub unsafe extern "C-unwind" fn $name(pathname: *const c_char, mode: *const c_char) -> File {
                static IFACE: Iface = iface(stringify!($name), "GLIBC_2.2.5");
                static REAL: Real = Real::new(rt::cstr(concat!(stringify!($name), "\0")), c"GLIBC_2.2.5");
                // SAFETY: the prototype matches glibc's.
                let real: unsafe extern "C-unwind" fn(*const c_char, *const c_char) -> File = unsafe { REAL.get() };
                checked(
                    &IFACE,
                    |call| {
                        check_path(call, 0, pathname);
                        check_mode(call, 1, mode);
                    },
                    // SAFETY: the caller's arguments.
                    || unsafe { real(pathname, mode) },
                    track_file,
                )
            }
        )*
    };
}

fopens!(fopen, fopen64);

/// Defines `freopen` and `freopen64`: `pathname` may be NULL (change the mode of the same file).
macro_rules! freopens {
    ($($name:ident),*) => {
        $(
            #[doc = concat!("`", stringify!($name), "(3)`: the stream is re-tracked, or closed on failure.")]
            #[no_mangle]
            pub unsafe extern "C-unwind" fn $name(pathname: *const c_char, mode: *const c_char, f: File) -> File {
                static IFACE: Iface = iface(stringify!($name), "GLIBC_2.2.5");
                static REAL: Real = Real::new(rt::cstr(concat!(stringify!($name), "\0")), c"GLIBC_2.2.5");
                // SAFETY: the prototype matches glibc's.
                let real: unsafe extern "C-unwind" fn(*const c_char, *const c_char, File) -> File = unsafe { REAL.get() };
                checked(
                    &IFACE,
                    |call| {
                        if !pathname.is_null() {
                            check_path(call, 0, pathname);
                        }
                        check_mode(call, 1, mode);
                        // SAFETY: as check_path.
                        check!(call, 2, "stream", f, unsafe { stream::file(f as *const c_void) });
                    },
                    || {
                        // SAFETY: the validator reads only memory it has proven mapped.
                        let closed = unsafe { stream::file_fd(f as *const c_void) };
                        // SAFETY: the caller's arguments.
                        let r = unsafe { real(pathname, mode, f) };
                        forget_fd(closed);
                        r
                    },
                    |r| {
                        // On failure glibc has closed the original stream.
                        if r.is_null() {
                            stream::untrack_file(f as *const c_void);
                        } else {
                            track_file(r);
                        }
                    },
                )
            }
        )*
    };
}

freopens!(freopen, freopen64);

static FDOPEN: Iface = iface("fdopen", "GLIBC_2.2.5");

/// `fdopen(3)`: `fd` must be open; the new stream is tracked.
#[no_mangle]
pub unsafe extern "C-unwind" fn fdopen(fd: c_int, mode: *const c_char) -> File {
    static REAL: Real = Real::new(c"fdopen", c"GLIBC_2.2.5");
    // SAFETY: the prototype matches glibc's.
    let real: unsafe extern "C-unwind" fn(c_int, *const c_char) -> File = unsafe { REAL.get() };
    checked(
        &FDOPEN,
        |call| {
            check!(call, 0, "fd", fd, fd::open(fd as i64));
            check_mode(call, 1, mode);
        },
        // SAFETY: the caller's arguments.
        || unsafe { real(fd, mode) },
        track_file,
    )
}

static POPEN: Iface = iface("popen", "GLIBC_2.2.5");

/// `popen(3)`: the command and the type are strings; the new stream is tracked.
#[no_mangle]
pub unsafe extern "C-unwind" fn popen(command: *const c_char, ty: *const c_char) -> File {
    static REAL: Real = Real::new(c"popen", c"GLIBC_2.2.5");
    // SAFETY: the prototype matches glibc's.
    let real: unsafe extern "C-unwind" fn(*const c_char, *const c_char) -> File =
        unsafe { REAL.get() };
    checked(
        &POPEN,
        |call| {
            // SAFETY: validators read only memory they have proven mapped.
            unsafe {
                check!(
                    call,
                    0,
                    "command",
                    command,
                    mem::string(command as *const c_void)
                );
                check!(call, 1, "type", ty, mem::string(ty as *const c_void));
            }
        },
        // SAFETY: the caller's arguments.
        || unsafe { real(command, ty) },
        track_file,
    )
}

/// Defines `tmpfile` and `tmpfile64`.
macro_rules! tmpfiles {
    ($($name:ident),*) => {
        $(
            #[doc = concat!("`", stringify!($name), "(3)`: the new stream is tracked.")]
            #[no_mangle]
            pub unsafe extern "C-unwind" fn $name() -> File {
                static IFACE: Iface = iface(stringify!($name), "GLIBC_2.2.5");
                static REAL: Real = Real::new(rt::cstr(concat!(stringify!($name), "\0")), c"GLIBC_2.2.5");
                // SAFETY: the prototype matches glibc's.
                let real: unsafe extern "C-unwind" fn() -> File = unsafe { REAL.get() };
                // SAFETY: no arguments.
                checked(&IFACE, |_| {}, || unsafe { real() }, track_file)
            }
        )*
    };
}

tmpfiles!(tmpfile, tmpfile64);

static FMEMOPEN: Iface = iface("fmemopen", "GLIBC_2.22");

/// `fmemopen(3)`: `buf` (NULL: glibc allocates) readable for `size`; the new stream is tracked.
#[no_mangle]
pub unsafe extern "C-unwind" fn fmemopen(
    buf: *mut c_void,
    size: usize,
    mode: *const c_char,
) -> File {
    static REAL: Real = Real::new(c"fmemopen", c"GLIBC_2.22");
    // SAFETY: the prototype matches glibc's.
    let real: unsafe extern "C-unwind" fn(*mut c_void, usize, *const c_char) -> File =
        unsafe { REAL.get() };
    checked(
        &FMEMOPEN,
        |call| {
            if !buf.is_null() {
                // SAFETY: validators read only memory they have proven mapped.
                check!(call, 0, "buf", buf, unsafe { mem::readable(buf, size) });
            }
            check_mode(call, 2, mode);
        },
        // SAFETY: the caller's arguments.
        || unsafe { real(buf, size, mode) },
        track_file,
    )
}

static OPEN_MEMSTREAM: Iface = iface("open_memstream", "GLIBC_2.2.5");

/// `open_memstream(3)`: both out-pointers writable; the new stream is tracked.
#[no_mangle]
pub unsafe extern "C-unwind" fn open_memstream(ptr: *mut *mut c_char, sizeloc: *mut usize) -> File {
    static REAL: Real = Real::new(c"open_memstream", c"GLIBC_2.2.5");
    // SAFETY: the prototype matches glibc's.
    let real: unsafe extern "C-unwind" fn(*mut *mut c_char, *mut usize) -> File =
        unsafe { REAL.get() };
    checked(
        &OPEN_MEMSTREAM,
        |call| {
            // SAFETY: validators read only memory they have proven mapped.
            unsafe {
                check!(
                    call,
                    0,
                    "ptr",
                    ptr,
                    mem::writable(ptr as *const c_void, size_of::<usize>())
                );
                check!(
                    call,
                    1,
                    "sizeloc",
                    sizeloc,
                    mem::writable(sizeloc as *const c_void, size_of::<usize>())
                );
            }
        },
        // SAFETY: the caller's arguments.
        || unsafe { real(ptr, sizeloc) },
        track_file,
    )
}

/// Defines `fclose` and `pclose`: the stream must be open; it counts as closed from the call on.
macro_rules! closes {
    ($($name:ident),*) => {
        $(
            #[doc = concat!("`", stringify!($name), "(3)`: the stream is marked closed.")]
            #[no_mangle]
            pub unsafe extern "C-unwind" fn $name(f: File) -> c_int {
                static IFACE: Iface = iface(stringify!($name), "GLIBC_2.2.5");
                static REAL: Real = Real::new(rt::cstr(concat!(stringify!($name), "\0")), c"GLIBC_2.2.5");
                // SAFETY: the prototype matches glibc's.
                let real: unsafe extern "C-unwind" fn(File) -> c_int = unsafe { REAL.get() };
                checked(
                    &IFACE,
                    // SAFETY: the validator reads only memory it has proven mapped.
                    |call| check!(call, 0, "stream", f, unsafe { stream::file(f as *const c_void) }),
                    || {
                        // Marked before the real call: once it frees the FILE, another thread's
                        // fopen may get the same address (and track it again).
                        // SAFETY: the validator reads only memory it has proven mapped.
                        let closed = unsafe { stream::file_fd(f as *const c_void) };
                        stream::untrack_file(f as *const c_void);
                        // SAFETY: the caller's argument.
                        let r = unsafe { real(f) };
                        forget_fd(closed);
                        r
                    },
                    |_| {},
                )
            }
        )*
    };
}

closes!(fclose, pclose);

static OPENDIR: Iface = iface("opendir", "GLIBC_2.2.5");
static FDOPENDIR: Iface = iface("fdopendir", "GLIBC_2.4");
static CLOSEDIR: Iface = iface("closedir", "GLIBC_2.2.5");

/// Tracks a new directory stream; its descriptor is known open (`asked` was taken before the call).
fn track_dir(asked: fd::Ticket, d: *mut libc::DIR) {
    if !d.is_null() {
        stream::track_dir(d as *const c_void);
        // SAFETY: a DIR the C library just returned; glibc's begins with its descriptor.
        fd::opened(asked, unsafe { *(d as *const c_int) } as i64);
    }
}

/// `opendir(3)`: the new directory stream is tracked.
#[no_mangle]
pub unsafe extern "C-unwind" fn opendir(name: *const c_char) -> *mut libc::DIR {
    static REAL: Real = Real::new(c"opendir", c"GLIBC_2.2.5");
    // SAFETY: the prototype matches glibc's.
    let real: unsafe extern "C-unwind" fn(*const c_char) -> *mut libc::DIR = unsafe { REAL.get() };
    // SAFETY: the caller's argument.
    checked(
        &OPENDIR,
        |call| check_path(call, 0, name),
        || (fd::ticket(), unsafe { real(name) }),
        |(asked, d)| track_dir(asked, d),
    )
    .1
}

/// `fdopendir(3)`: `fd` must be open; the new directory stream is tracked.
#[no_mangle]
pub unsafe extern "C-unwind" fn fdopendir(fd: c_int) -> *mut libc::DIR {
    static REAL: Real = Real::new(c"fdopendir", c"GLIBC_2.4");
    // SAFETY: the prototype matches glibc's.
    let real: unsafe extern "C-unwind" fn(c_int) -> *mut libc::DIR = unsafe { REAL.get() };
    checked(
        &FDOPENDIR,
        |call| check!(call, 0, "fd", fd, fd::open(fd as i64)),
        // SAFETY: the caller's argument.
        || (fd::ticket(), unsafe { real(fd) }),
        |(asked, d)| track_dir(asked, d),
    )
    .1
}

/// `closedir(3)`: the directory stream must be open; it counts as closed from the call on.
#[no_mangle]
pub unsafe extern "C-unwind" fn closedir(d: *mut libc::DIR) -> c_int {
    static REAL: Real = Real::new(c"closedir", c"GLIBC_2.2.5");
    // SAFETY: the prototype matches glibc's.
    let real: unsafe extern "C-unwind" fn(*mut libc::DIR) -> c_int = unsafe { REAL.get() };
    checked(
        &CLOSEDIR,
        // SAFETY: the validator reads only memory it has proven mapped.
        |call| {
            check!(call, 0, "dirp", d, unsafe {
                stream::dir(d as *const c_void)
            })
        },
        || {
            // SAFETY: the validator reads only memory it has proven mapped.
            let closed = unsafe { stream::dir_fd(d as *const c_void) };
            stream::untrack_dir(d as *const c_void);
            // SAFETY: the caller's argument.
            let r = unsafe { real(d) };
            forget_fd(closed);
            r
        },
        |_| {},
    )
}
