//! The functions that `hook` lines in `db/semantics` name: what an interposer does around the
//! real call to keep the checker's own state true (generated interposers call them by name, see
//! docs/architecture.md). `after` hooks run inside the forwarded call, right after the original
//! returned, so none of them may change `errno`: each is an atomic update or a raw system call
//! that succeeds.

// Only the interposers call them, and those are not in the unit-test binary.
#![cfg_attr(test, allow(dead_code))]

use core::ffi::{c_int, c_void};

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

/// The process is about to be replaced or to end without destructors (`exec*`, `_exit`): its
/// summary record is written now.
pub fn summary() {
    report::summary();
}

/// A stream was opened (`fopen`, `popen`, `tmpfile`, …): tracked until it is closed.
pub fn track_stream(ret: *mut c_void) {
    if !ret.is_null() {
        stream::track_file(ret);
    }
}

/// A stream is being closed (`fclose`, `pclose`): marked before the real call, since once it
/// frees the `FILE` another thread's `fopen` may get the same address (and track it again).
pub fn untrack_stream(f: *mut c_void) {
    stream::untrack_file(f);
}

/// `freopen`: on failure glibc has closed the original stream; on success the result is open.
pub fn reopened_stream(f: *mut c_void, ret: *mut c_void) {
    if ret.is_null() {
        stream::untrack_file(f);
    } else {
        stream::track_file(ret);
    }
}

/// A directory stream was opened (`opendir`, `fdopendir`).
pub fn track_dir(ret: *mut c_void) {
    if !ret.is_null() {
        stream::track_dir(ret);
    }
}

/// A directory stream is being closed (`closedir`), marked before the real call as streams are.
pub fn untrack_dir(d: *mut c_void) {
    stream::untrack_dir(d);
}
