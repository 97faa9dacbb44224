//! Resolution of the original functions behind the interposers.

use core::ffi::{c_char, c_int, c_void, CStr};
use core::sync::atomic::{AtomicUsize, Ordering};

/// The original of one interposed symbol at one symbol version, resolved on first use.
pub struct Real {
    name: &'static CStr,
    version: &'static CStr,
    addr: AtomicUsize,
}

impl Real {
    /// The original of `name` at `version` (e.g. `c"read"`, `c"GLIBC_2.2.5"`; `c""` for a library
    /// without symbol versions).
    pub const fn new(name: &'static CStr, version: &'static CStr) -> Real {
        Real {
            name,
            version,
            addr: AtomicUsize::new(0),
        }
    }

    /// The original as a function pointer of type `F`.
    ///
    /// Resolves with `dlvsym(RTLD_NEXT, name, version)`, because plain `dlsym` picks the default
    /// version and breaks multi-version symbols, and falls back to `dlsym` when the host has the
    /// symbol under another version. When the symbol is missing altogether, a record says so and
    /// a stand-in is returned that fails with `ENOSYS` (returns -1): the program gets an error it
    /// can handle instead of the checker exiting.
    ///
    /// # Safety
    /// `F` must be an `extern "C"` function pointer type matching the symbol's C prototype.
    #[inline(always)]
    pub unsafe fn get<F: Copy>(&self) -> F {
        const { assert!(size_of::<F>() == size_of::<usize>()) };
        let mut addr = self.addr.load(Ordering::Acquire);
        if addr == 0 {
            addr = self.resolve();
        }
        // SAFETY: addr is a function address of the prototype the caller promised.
        unsafe { core::mem::transmute_copy::<usize, F>(&addr) }
    }

    #[cold]
    fn resolve(&self) -> usize {
        // Resolution runs before `enter` saves errno, and the loader may change errno on its way:
        // the program must see its own.
        let errno = super::sys::errno();
        // Several threads may resolve at once; they all find the same address. Libraries without
        // symbol versions (libz) come with an empty version, which dlvsym cannot look up.
        let mut addr = if self.version.is_empty() {
            0
        } else {
            // SAFETY: both strings are NUL-terminated; RTLD_NEXT searches the objects after this
            // one.
            unsafe { dlvsym(libc::RTLD_NEXT, self.name.as_ptr(), self.version.as_ptr()) as usize }
        };
        if addr == 0 {
            // SAFETY: as above.
            addr = unsafe { libc::dlsym(libc::RTLD_NEXT, self.name.as_ptr()) as usize };
        }
        if addr == 0 {
            super::report::missing(self.name, self.version);
            addr = enosys as extern "C" fn() -> c_int as usize;
        }
        self.addr.store(addr, Ordering::Release);
        super::sys::set_errno(errno);
        addr
    }
}

/// `s` (which must end with its only NUL) as a C string, at compile time: for names built with
/// `concat!` in interposer macros.
pub const fn cstr(s: &'static str) -> &'static CStr {
    match CStr::from_bytes_with_nul(s.as_bytes()) {
        Ok(c) => c,
        Err(_) => panic!("not a NUL-terminated string without inner NULs"),
    }
}

extern "C" {
    fn dlvsym(handle: *mut c_void, name: *const c_char, version: *const c_char) -> *mut c_void;
}

/// Stands in for an original the host does not have. Extra arguments passed to it are harmless:
/// the C calling convention leaves them to the caller.
extern "C" fn enosys() -> c_int {
    // SAFETY: errno is this thread's.
    unsafe { *libc::__errno_location() = libc::ENOSYS };
    -1
}
