//! Resolution of the original functions behind the interposers.

use core::ffi::{c_int, CStr};
use core::sync::atomic::{AtomicUsize, Ordering};

/// The original of one interposed symbol at one symbol version, resolved on first use.
pub struct Real {
    name: &'static CStr,
    version: &'static CStr,
    /// The soname of the library that defines it, searched first (empty: any).
    soname: &'static CStr,
    addr: AtomicUsize,
}

impl Real {
    /// The original of `name` at `version` (e.g. `c"read"`, `c"GLIBC_2.2.5"`; `c""` for a library
    /// without symbol versions).
    pub const fn new(name: &'static CStr, version: &'static CStr) -> Real {
        Real::in_library(name, version, c"")
    }

    /// As [`Real::new`], also naming the library that defines the symbol (`c"libz.so.1"`): its
    /// definition is preferred over another object's of the same name (a program's bundled
    /// copy of zlib).
    pub const fn in_library(
        name: &'static CStr,
        version: &'static CStr,
        soname: &'static CStr,
    ) -> Real {
        Real {
            name,
            version,
            soname,
            addr: AtomicUsize::new(0),
        }
    }

    /// The original as a function pointer of type `F`.
    ///
    /// Looks for `name` at `version` in the objects loaded after this library (what
    /// `dlvsym(RTLD_NEXT, …)` searches, plus libraries loaded `RTLD_LOCAL`: Python's zlib module
    /// loads libz so, yet its users' references bind to this library's export first), because the
    /// default version of a multi-version symbol would break callers bound to an older one; then
    /// for the default version when the host has the symbol under another. The lookup reads the
    /// symbol tables itself (see `symbols`): `dlvsym` would reset the program's `dlerror` state.
    /// When the symbol is missing altogether, a record says so and a stand-in is returned that
    /// fails with `ENOSYS` (returns -1): the program gets an error it can handle instead of the
    /// checker exiting.
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
        // Resolution runs before `enter` saves errno: the program must see its own. Several
        // threads may resolve at once; they all find the same address.
        let errno = super::sys::errno();
        let mut addr = super::symbols::find(self.name, self.version, self.soname);
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

/// Stands in for an original the host does not have. Extra arguments passed to it are harmless:
/// the C calling convention leaves them to the caller.
extern "C" fn enosys() -> c_int {
    // SAFETY: errno is this thread's.
    unsafe { *libc::__errno_location() = libc::ENOSYS };
    -1
}
