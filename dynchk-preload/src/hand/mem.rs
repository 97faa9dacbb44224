//! Calls that change the memory map: the validators' map cache is invalidated after each, so a
//! removed or re-protected mapping is not accepted from a stale snapshot. They carry no checks of
//! their own here.
//!
//! `dlopen` is not among them: glibc resolves a relative name against the *caller's* RUNPATH, and
//! a wrapper would make libdynchk the caller. It only adds mappings, which the cache finds on its
//! own (a miss re-reads the map).

use core::ffi::{c_int, c_void};

use crate::rt::{self, Iface, Real};

/// Enters, forwards `real`, and invalidates the map cache after it (invalidation is a counter
/// bump: it cannot change `errno`).
fn changing_map<R>(iface: &'static Iface, real: impl FnOnce() -> R) -> R {
    let after = || {
        let r = real();
        validators::mem::invalidate();
        r
    };
    match rt::enter(iface) {
        Some(call) => call.forward(after),
        None => after(),
    }
}

/// Defines one interposer per line: `name @ "VERSION" (params) -> ret;`.
macro_rules! map_changers {
    ($($name:ident @ $ver:literal ($($p:ident: $t:ty),*) -> $ret:ty;)*) => {
        $(
            #[doc = concat!("`", stringify!($name), "`, then the memory map cache is invalidated.")]
            #[no_mangle]
            pub unsafe extern "C-unwind" fn $name($($p: $t),*) -> $ret {
                static IFACE: Iface = Iface { name: stringify!($name), lib: "libc", version: $ver };
                static REAL: Real = Real::new(
                    rt::cstr(concat!(stringify!($name), "\0")),
                    rt::cstr(concat!($ver, "\0")),
                );
                // SAFETY: the prototype matches the C library's.
                let real: unsafe extern "C-unwind" fn($($t),*) -> $ret = unsafe { REAL.get() };
                // SAFETY: the caller's arguments, unchanged.
                changing_map(&IFACE, || unsafe { real($($p),*) })
            }
        )*
    };
}

map_changers! {
    mmap @ "GLIBC_2.2.5" (addr: *mut c_void, len: usize, prot: c_int, flags: c_int, fd: c_int, off: libc::off_t) -> *mut c_void;
    mmap64 @ "GLIBC_2.2.5" (addr: *mut c_void, len: usize, prot: c_int, flags: c_int, fd: c_int, off: libc::off64_t) -> *mut c_void;
    munmap @ "GLIBC_2.2.5" (addr: *mut c_void, len: usize) -> c_int;
    mremap @ "GLIBC_2.2.5" (old: *mut c_void, old_len: usize, new_len: usize, flags: c_int, new_addr: *mut c_void) -> *mut c_void;
    mprotect @ "GLIBC_2.2.5" (addr: *mut c_void, len: usize, prot: c_int) -> c_int;
    brk @ "GLIBC_2.2.5" (addr: *mut c_void) -> c_int;
    sbrk @ "GLIBC_2.2.5" (incr: libc::intptr_t) -> *mut c_void;
    shmat @ "GLIBC_2.2.5" (id: c_int, addr: *const c_void, flags: c_int) -> *mut c_void;
    shmdt @ "GLIBC_2.2.5" (addr: *const c_void) -> c_int;
    dlclose @ "GLIBC_2.34" (handle: *mut c_void) -> c_int;
}
