//! The allocator family, forwarded to glibc's `__libc_*` entry points.
//!
//! Resolving `malloc` through `dlsym` would allocate, and `__tls_get_addr` (after a `dlopen` of a
//! library with TLS) calls `malloc` while updating the thread's TLS vector, so these interposers
//! resolve nothing and touch no TLS except the initial-exec guard state. Every block handed out
//! or taken back is recorded in `validators::heap` (whoever calls, the checker's guard or not),
//! which bounds the buffer checks by the block; `free` and `realloc` are checked (the pointer must
//! be NULL or the start of a live block) before the real call, which may abort.
//!
//! Each exported entry point is a two-instruction trampoline that passes its own return address
//! (the call into the allocator) to the body as one more argument: the block record keeps it as
//! the block's allocation or free site, which reports name. Unwinding the stack to find it
//! would cost a hundred times the allocation.

use core::ffi::c_void;

use crate::rt::{self, Iface, Value};
use validators::heap::{self, Site};

/// Exports `name` as a jump to `body`, which takes the same arguments and then the caller's
/// return address, placed in the next argument register (`x86_64` / `aarch64` spelling).
macro_rules! with_caller {
    ($($name:ident => $body:ident, $x86:literal, $arm:literal;)*) => {$(
        #[doc = concat!("`", stringify!($name), "(3)`: jumps to [`", stringify!($body), "`] with the caller's return address.")]
        #[unsafe(naked)]
        #[no_mangle]
        pub unsafe extern "C" fn $name() {
            #[cfg(target_arch = "x86_64")]
            core::arch::naked_asm!(concat!("mov ", $x86, ", qword ptr [rsp]"), "jmp {}", sym $body);
            #[cfg(target_arch = "aarch64")]
            core::arch::naked_asm!(concat!("mov ", $arm, ", x30"), "b {}", sym $body)
        }
    )*};
}

with_caller! {
    malloc => malloc_from, "rsi", "x1";
    calloc => calloc_from, "rdx", "x2";
    realloc => realloc_from, "rdx", "x2";
    free => free_from, "rsi", "x1";
    memalign => memalign_from, "rdx", "x2";
    aligned_alloc => aligned_alloc_from, "rdx", "x2";
    posix_memalign => posix_memalign_from, "rcx", "x3";
    valloc => valloc_from, "rsi", "x1";
    pvalloc => pvalloc_from, "rsi", "x1";
}

/// The site of the call whose return address is `ret` (the call instruction itself, as
/// backtraces name frames).
#[inline(always)]
fn site(ret: usize) -> Site {
    Site::of(ret.wrapping_sub(1))
}

extern "C" {
    fn __libc_malloc(size: usize) -> *mut c_void;
    fn __libc_calloc(n: usize, size: usize) -> *mut c_void;
    fn __libc_realloc(p: *mut c_void, size: usize) -> *mut c_void;
    fn __libc_free(p: *mut c_void);
    fn __libc_memalign(align: usize, size: usize) -> *mut c_void;
    fn __libc_valloc(size: usize) -> *mut c_void;
    fn __libc_pvalloc(size: usize) -> *mut c_void;
}

static FREE: Iface = Iface::new("free", "libc", "GLIBC_2.2.5");
static REALLOC: Iface = Iface::new("realloc", "libc", "GLIBC_2.2.5");

/// The `heapaddress` check of `free` and `realloc`; NULL is valid for both.
fn check_heap(call: &rt::Call, p: *mut c_void) {
    if p.is_null() {
        return;
    }
    // SAFETY: the validators only read the block record and the memory map cache.
    check!(call, 0, "ptr", Value::Pointer(p as u64), unsafe {
        heap::start(p, call.inside_forward())
    });
}

/// Records the block `p` (NULL: none) of `size` bytes, allocated at `site`, and returns it.
#[inline(always)]
fn record(p: *mut c_void, size: usize, site: Site) -> *mut c_void {
    // SAFETY: glibc's allocator just returned p (or NULL).
    unsafe { heap::allocated(p, size, site) };
    p
}

/// `malloc(3)`, called from `ret`.
unsafe extern "C-unwind" fn malloc_from(size: usize, ret: usize) -> *mut c_void {
    // SAFETY: glibc's allocator.
    record(unsafe { __libc_malloc(size) }, size, site(ret))
}

/// `calloc(3)`, called from `ret`.
unsafe extern "C-unwind" fn calloc_from(n: usize, size: usize, ret: usize) -> *mut c_void {
    // SAFETY: glibc's allocator; a block came back, so n * size did not overflow.
    let p = unsafe { __libc_calloc(n, size) };
    record(p, n.wrapping_mul(size), site(ret))
}

/// `realloc(3)`, called from `ret`: `ptr` must be NULL or a live block.
unsafe extern "C-unwind" fn realloc_from(ptr: *mut c_void, size: usize, ret: usize) -> *mut c_void {
    let site = site(ret);
    let Some(call) = rt::enter(&REALLOC) else {
        // SAFETY: glibc's allocator.
        return unsafe { resize(ptr, size, site) };
    };
    check_heap(&call, ptr);
    // SAFETY: glibc's allocator.
    call.forward(|| unsafe { resize(ptr, size, site) })
}

/// glibc's realloc, recorded: the old block reads as freed before glibc may hand its address to
/// another thread, and is live again when it stays (in place: allocated at `site`; on failure:
/// as it was).
unsafe fn resize(ptr: *mut c_void, size: usize, site: Site) -> *mut c_void {
    let (old, old_site) = (heap::size_of(ptr), heap::site_of(ptr));
    // SAFETY: ptr passed the caller's check (or the checker is not watching this call).
    unsafe { heap::released(ptr, site) };
    // SAFETY: glibc's allocator.
    let p = unsafe { __libc_realloc(ptr, size) };
    match (p.is_null(), old) {
        // Failed, the old block stays (realloc(p, 0) freed it and returned NULL: size is 0).
        (true, Some(old)) if size != 0 => record(ptr, old, old_site),
        _ => record(p, size, site),
    }
}

/// `free(3)`, called from `ret`: `ptr` must be NULL or a heap pointer.
unsafe extern "C-unwind" fn free_from(ptr: *mut c_void, ret: usize) {
    if ptr.is_null() {
        return;
    }
    // A live block's start passes the check whoever calls, so the common case needs no checker
    // frame: glibc's free calls nothing interposed (its munmap and madvise are internal), so it
    // is not marked as a forwarded call either, and it keeps errno since glibc 2.33. Counted
    // after glibc's free, so that nothing lives across a call: no registers to save.
    // SAFETY: the block is the caller's to free.
    if unsafe { heap::release_common(ptr, ret.wrapping_sub(1)) } {
        // SAFETY: glibc's allocator, on a block it handed out.
        unsafe { __libc_free(ptr) };
        rt::counted(&FREE);
        return;
    }
    // SAFETY: the caller's.
    unsafe { free_other(ptr, ret) }
}

/// [`free_from`] for the other cases: a big or mmapped block's start, a call site seen for the
/// first time, and pointers that are no live block's start (checked in a checker frame). Out of
/// line, so that the common case needs no stack frame.
#[inline(never)]
unsafe fn free_other(ptr: *mut c_void, ret: usize) {
    // SAFETY: the block is the caller's to free.
    if unsafe { heap::release_start(ptr, ret.wrapping_sub(1)) } {
        rt::counted(&FREE);
        // SAFETY: glibc's allocator, on a block it handed out.
        return unsafe { __libc_free(ptr) };
    }
    let site = site(ret);
    let Some(call) = rt::enter(&FREE) else {
        // SAFETY: glibc's allocator.
        return unsafe { release(ptr, site) };
    };
    check_heap(&call, ptr);
    // SAFETY: glibc's allocator.
    call.forward(|| unsafe { release(ptr, site) })
}

/// glibc's free, recorded first (see [`heap::released`]).
unsafe fn release(ptr: *mut c_void, site: Site) {
    // SAFETY: ptr passed the caller's check, or the checker is not watching this call.
    unsafe {
        heap::released(ptr, site);
        __libc_free(ptr)
    }
}

/// `memalign(3)`, called from `ret`.
unsafe extern "C-unwind" fn memalign_from(align: usize, size: usize, ret: usize) -> *mut c_void {
    // SAFETY: glibc's allocator.
    record(unsafe { __libc_memalign(align, size) }, size, site(ret))
}

/// `aligned_alloc(3)`, called from `ret`: glibc's own is memalign with the same argument rules.
unsafe extern "C-unwind" fn aligned_alloc_from(
    align: usize,
    size: usize,
    ret: usize,
) -> *mut c_void {
    // SAFETY: glibc's allocator.
    record(unsafe { __libc_memalign(align, size) }, size, site(ret))
}

/// `posix_memalign(3)`, called from `ret`: the alignment rules of POSIX (a power of two multiple
/// of `sizeof(void *)`) are checked here because `__libc_memalign` accepts more.
unsafe extern "C-unwind" fn posix_memalign_from(
    out: *mut *mut c_void,
    align: usize,
    size: usize,
    ret: usize,
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
    unsafe { *out = record(p, size, site(ret)) };
    0
}

/// `valloc(3)`, called from `ret`.
unsafe extern "C-unwind" fn valloc_from(size: usize, ret: usize) -> *mut c_void {
    // SAFETY: glibc's allocator.
    record(unsafe { __libc_valloc(size) }, size, site(ret))
}

/// `pvalloc(3)`, called from `ret`.
unsafe extern "C-unwind" fn pvalloc_from(size: usize, ret: usize) -> *mut c_void {
    // SAFETY: glibc's allocator: pvalloc rounds the size up to whole pages, all of them usable.
    let p = unsafe { __libc_pvalloc(size) };
    record(p, usize::MAX, site(ret))
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
        record(p, usable, heap::site_of(p));
    }
    usable
}
