//! The functions that `hook` lines in `db/semantics` name: what an interposer does around the
//! real call to keep the checker's own state true (generated interposers call them by name, see
//! docs/architecture.md). `after` hooks run inside the forwarded call, right after the original
//! returned, so none of them may change `errno`: each is an atomic update or a raw system call
//! that succeeds. What a `before` hook returns reaches the `after` hook as `pre`.

// Only the interposers call them, and those are not in the unit-test binary.
#![cfg_attr(test, allow(dead_code))]

use core::ffi::{c_int, c_uint, c_void};

use validators::object::{self, Kind};
use validators::{fd, mem, stream};

use super::report;

/// The memory map changed (`mmap`, `munmap`, `mprotect`, `brk`, `shmat`, `dlclose`, …): the
/// validators' map cache is stale, so a removed or re-protected mapping is not accepted from it.
pub fn maps_changed() {
    mem::invalidate();
}

/// A resource limit was set: the `filedescriptor` range follows `RLIMIT_NOFILE`.
pub fn fd_limit_changed(ret: c_int) {
    if ret == 0 {
        fd::refresh_limit();
    }
}

/// `close` returned: the `filedescriptor` check forgets that `fd` was open (whatever the result:
/// a failed close may still have closed it, EINTR on NFS).
pub fn fd_closed(fd: c_int) {
    fd::forget(fd as i64, fd as i64);
}

/// `close_range` returned: `first..=last` are forgotten, unless `CLOSE_RANGE_CLOEXEC` only marked
/// them close-on-exec.
pub fn fds_closed(first: c_uint, last: c_uint, flags: c_int) {
    if flags as c_uint & libc::CLOSE_RANGE_CLOEXEC == 0 {
        fd::forget(first as i64, last as i64);
    }
}

/// The process is about to be replaced or to end without destructors (`exec*`, `_exit`): its
/// summary record is written now.
pub fn summary() {
    report::summary();
}

/// The image is about to be replaced: the summary, marked as written before an exec (a reader
/// then expects the new image's `start` record, and knows the exec went unchecked without one).
pub fn exec_summary() {
    report::summary_before_exec();
}

/// An exec returned, so it failed: the process goes on counting towards another summary.
pub fn exec_failed() {
    report::after_failed_exec();
}

/// A stream was opened (`fopen`, `popen`, `tmpfile`, …): tracked until it is closed.
pub fn track_stream(ret: *mut c_void) {
    if !ret.is_null() {
        stream::track_file(ret);
    }
}

/// A stream is being closed (`fclose`, `pclose`): marked before the real call, since once it
/// frees the `FILE` another thread's `fopen` may get the same address (and track it again).
/// Returns the descriptor it holds, for [`fds_of_stream_closed`].
pub fn untrack_stream(f: *mut c_void) -> Option<i64> {
    let fd = stream_fd(f);
    stream::untrack_file(f);
    fd
}

/// The descriptor `f` holds, read before a call that closes it (`None` if it cannot be read).
pub fn stream_fd(f: *mut c_void) -> Option<i64> {
    // SAFETY: the validator reads only memory it has proven mapped.
    unsafe { stream::file_fd(f) }
}

/// The stream (or directory stream) that held `closed` was closed, and the descriptor with it;
/// `None` (it could not be read) forgets every descriptor.
pub fn fds_of_stream_closed(closed: Option<i64>) {
    let (first, last) = closed.map_or((0, i64::MAX), |fd| (fd, fd));
    fd::forget(first, last);
}

/// `freopen`: the descriptor `f` held (`closed`) is closed; on failure glibc has closed the
/// original stream, on success the result is open.
pub fn reopened_stream(f: *mut c_void, ret: *mut c_void, closed: Option<i64>) {
    fds_of_stream_closed(closed);
    if ret.is_null() {
        stream::untrack_file(f);
    } else {
        stream::track_file(ret);
    }
}

/// Taken before a call that returns a new descriptor (`opendir`), for [`fd::opened`].
pub fn fd_ticket() -> fd::Ticket {
    fd::ticket()
}

/// A directory stream was opened (`opendir`, `fdopendir`; `asked` taken before the call): tracked,
/// and its descriptor is known open.
pub fn track_dir(ret: *mut c_void, asked: fd::Ticket) {
    if !ret.is_null() {
        stream::track_dir(ret);
        // SAFETY: a DIR the C library just returned; glibc's begins with its descriptor.
        fd::opened(asked, unsafe { *(ret as *const c_int) } as i64);
    }
}

/// A directory stream is being closed (`closedir`), marked before the real call as streams are;
/// returns its descriptor.
pub fn untrack_dir(d: *mut c_void) -> Option<i64> {
    // SAFETY: the validator reads only memory it has proven mapped.
    let fd = unsafe { stream::dir_fd(d) };
    stream::untrack_dir(d);
    fd
}

/// A maker of library objects returned `ret` (`XOpenDisplay`, `newwin`, `xmlReadFile`, …):
/// the object of `kind` there is live (`hook XOpenDisplay after=opened(ret, Display)`).
pub fn opened(ret: *mut c_void, kind: Kind) {
    object::opened(ret, kind);
}

/// A destroyer is about to destroy `p` (`XCloseDisplay`, `delwin`, `xmlFreeDoc`, …): marked
/// before the real call, as streams are; returns it for [`survived_unless_ok`].
pub fn closing(p: *mut c_void, kind: Kind) -> (*mut c_void, Kind) {
    object::closing(p, kind);
    (p, kind)
}

/// A destroyer that takes a pointer to the object's pointer (`png_destroy_read_struct(&png)`):
/// the object it points to, when it is readable, is about to be destroyed.
pub fn closing_at(pp: *mut c_void, kind: Kind) {
    // SAFETY: the pointer is read only after the memory map says it is readable.
    if !pp.is_null() && unsafe { mem::readable(pp, size_of::<usize>()) }.is_ok() {
        object::closing(unsafe { *(pp as *const *const c_void) }, kind);
    }
}

/// The destroyer [`closing`] marked returned `ret`: curses' `ERR` (-1) left the object alive
/// (`delwin` of a window that still has subwindows).
pub fn survived_unless_ok(pre: (*mut c_void, Kind), ret: c_int) {
    if ret == -1 {
        object::survived(pre.0, pre.1);
    }
}

/// A reference was taken on the reference-counted object `p` (`FcConfigReference`): its
/// destroyer may now drop only that reference, so it is not judged until made again.
pub fn referenced(p: *mut c_void, kind: Kind) {
    object::shared(p, kind);
}

/// `sigaction` returned `ret`: the old action reads as without the checker (its own fatal-signal
/// handler as the `SIG_DFL` the program would have got), and a `SIG_DFL` just set is taken over
/// again (rt/signals.rs). Keeps errno: only calls that succeed.
pub fn action_set(sig: c_int, act: *const c_void, old: *const c_void, ret: c_int) {
    if ret == 0 {
        // SAFETY: old is null or the struct sigaction the real call just filled.
        unsafe { super::signals::old_action(sig, old as *mut libc::sigaction) };
        super::signals::disposition_set(sig, !act.is_null());
    }
}
