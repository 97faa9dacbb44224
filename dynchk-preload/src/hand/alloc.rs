//! The allocator family, forwarded to glibc's `__libc_*` entry points.
//!
//! Resolving `malloc` through `dlsym` would allocate, and `__tls_get_addr` (after a `dlopen` of a
//! library with TLS) calls `malloc` while updating the thread's TLS vector, so these interposers
//! resolve nothing and touch no TLS except the initial-exec guard state. Every block handed out
//! or taken back is recorded in `validators::heap` (whoever calls, the checker's guard or not),
//! which bounds the buffer checks by the block; `free` and `realloc` are checked (the pointer must
//! be NULL or the start of a live block) before the real call, which may abort.

use core::ffi::c_void;

use crate::rt::{self, Iface, Value};
use validators::heap;

extern "C" {
    fn __libc_malloc(size: usize) -> *mut c_void;
    fn __libc_calloc(n: usize, size: usize) -> *mut c_void;
    fn __libc_realloc(p: *mut c_void, size: usize) -> *mut c_void;
    fn __libc_free(p: *mut c_void);
    fn __libc_memalign(align: usize, size: usize) -> *mut c_void;
    fn __libc_valloc(size: usize) -> *mut c_void;
    fn __libc_pvalloc(size: usize) -> *mut c_void;
}

static FREE: Iface = Iface {
    name: "free",
    lib: "libc",
    version: "GLIBC_2.2.5",
};
static REALLOC: Iface = Iface {
    name: "realloc",
    lib: "libc",
    version: "GLIBC_2.2.5",
};

/// The `heapaddress` check of `free` and `realloc`; NULL is valid for both.
fn check_heap(call: &rt::Call, p: *mut c_void) {
    if p.is_null() {
        return;
    }
    // SAFETY: the validators only read the block record and the memory map cache.
    check!(call, 0, "ptr", Value::Pointer(p as u64), unsafe {
        heap::start(p)
    });
}

/// Records the block `p` (NULL: none) of `size` bytes and returns it.
#[inline(always)]
fn record(p: *mut c_void, size: usize) -> *mut c_void {
    // SAFETY: glibc's allocator just returned p (or NULL).
    unsafe { heap::allocated(p, size) };
    p
}

/// `malloc(3)`.
#[no_mangle]
pub unsafe extern "C-unwind" fn malloc(size: usize) -> *mut c_void {
    // SAFETY: glibc's allocator.
    record(unsafe { __libc_malloc(size) }, size)
}

/// `calloc(3)`.
#[no_mangle]
pub unsafe extern "C-unwind" fn calloc(n: usize, size: usize) -> *mut c_void {
    // SAFETY: glibc's allocator; a block came back, so n * size did not overflow.
    let p = unsafe { __libc_calloc(n, size) };
    record(p, n.wrapping_mul(size))
}

/// `realloc(3)`: `ptr` must be NULL or a live block.
#[no_mangle]
pub unsafe extern "C-unwind" fn realloc(ptr: *mut c_void, size: usize) -> *mut c_void {
    let Some(call) = rt::enter(&REALLOC) else {
        // SAFETY: glibc's allocator.
        return unsafe { resize(ptr, size) };
    };
    check_heap(&call, ptr);
    // SAFETY: glibc's allocator.
    call.forward(|| unsafe { resize(ptr, size) })
}

/// glibc's realloc, recorded: the old block reads as freed before glibc may hand its address to
/// another thread, and is live again when it stays (in place, or on failure).
unsafe fn resize(ptr: *mut c_void, size: usize) -> *mut c_void {
    let old = heap::size_of(ptr);
    // SAFETY: ptr passed the caller's check (or the checker is not watching this call).
    unsafe { heap::released(ptr) };
    // SAFETY: glibc's allocator.
    let p = unsafe { __libc_realloc(ptr, size) };
    match (p.is_null(), old) {
        // Failed, the old block stays (realloc(p, 0) freed it and returned NULL: size is 0).
        (true, Some(old)) if size != 0 => record(ptr, old),
        _ => record(p, size),
    }
}

/// `free(3)`: `ptr` must be NULL or a heap pointer.
#[no_mangle]
pub unsafe extern "C-unwind" fn free(ptr: *mut c_void) {
    if ptr.is_null() {
        return;
    }
    let Some(call) = rt::enter(&FREE) else {
        // SAFETY: glibc's allocator.
        return unsafe { release(ptr) };
    };
    check_heap(&call, ptr);
    // SAFETY: glibc's allocator.
    call.forward(|| unsafe { release(ptr) })
}

/// glibc's free, recorded first (see [`heap::released`]).
unsafe fn release(ptr: *mut c_void) {
    // SAFETY: ptr passed the caller's check, or the checker is not watching this call.
    unsafe {
        heap::released(ptr);
        __libc_free(ptr)
    }
}

/// `memalign(3)`.
#[no_mangle]
pub unsafe extern "C-unwind" fn memalign(align: usize, size: usize) -> *mut c_void {
    // SAFETY: glibc's allocator.
    record(unsafe { __libc_memalign(align, size) }, size)
}

/// `aligned_alloc(3)`: glibc's own is memalign with the same argument rules.
#[no_mangle]
pub unsafe extern "C-unwind" fn aligned_alloc(align: usize, size: usize) -> *mut c_void {
    // SAFETY: glibc's allocator.
    record(unsafe { __libc_memalign(align, size) }, size)
}

/// `posix_memalign(3)`: the alignment rules of POSIX (a power of two multiple of
/// `sizeof(void *)`) are checked here because `__libc_memalign` accepts more.
#[no_mangle]
pub unsafe extern "C-unwind" fn posix_memalign(
    out: *mut *mut c_void,
    align: usize,
    size: usize,
) -> i32 {
    if !align.is_power_of_two() || !align.is_multiple_of(size_of::<*mut c_void>()) {
        return libc::EINVAL;
    }
    // SAFETY: glibc's allocator.
    let p = unsafe { __libc_memalign(align, size) };
    if p.is_null() {
        return libc::ENOMEM;
    }
    // SAFETY: the caller passes where to store the result.
    unsafe { *out = record(p, size) };
    0
}

/// `valloc(3)`.
#[no_mangle]
pub unsafe extern "C-unwind" fn valloc(size: usize) -> *mut c_void {
    // SAFETY: glibc's allocator.
    record(unsafe { __libc_valloc(size) }, size)
}

/// `pvalloc(3)`.
#[no_mangle]
pub unsafe extern "C-unwind" fn pvalloc(size: usize) -> *mut c_void {
    // SAFETY: glibc's allocator: pvalloc rounds the size up to whole pages, all of them usable.
    let p = unsafe { __libc_pvalloc(size) };
    record(p, usize::MAX)
}

/// `malloc_usable_size(3)`. glibc has no `__libc_` alias for it; resolving it by name is fine
/// here because nothing on the way calls it. A program that asks may use every usable byte, so
/// the block's bound becomes its usable size.
#[no_mangle]
pub unsafe extern "C-unwind" fn malloc_usable_size(p: *mut c_void) -> usize {
    static REAL: rt::Real = rt::Real::new(c"malloc_usable_size", c"GLIBC_2.2.5");
    // SAFETY: the prototype matches glibc's.
    let real: unsafe extern "C-unwind" fn(*mut c_void) -> usize = unsafe { REAL.get() };
    // SAFETY: forwards the caller's pointer.
    let usable = unsafe { real(p) };
    if heap::size_of(p).is_some() {
        record(p, usable);
    }
    usable
}
