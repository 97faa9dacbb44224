//! Resolution of the original functions behind the interposers.

use core::ffi::{c_char, c_int, c_void, CStr};
use core::sync::atomic::{AtomicUsize, Ordering};

/// The original of one interposed symbol at one symbol version, resolved on first use.
pub struct Real {
    name: &'static CStr,
    version: &'static CStr,
    /// The soname of the library that defines it, for the lookup RTLD_NEXT cannot do.
    soname: &'static CStr,
    addr: AtomicUsize,
}

impl Real {
    /// The original of `name` at `version` (e.g. `c"read"`, `c"GLIBC_2.2.5"`; `c""` for a library
    /// without symbol versions).
    pub const fn new(name: &'static CStr, version: &'static CStr) -> Real {
        Real::in_library(name, version, c"")
    }

    /// As [`Real::new`], also naming the library that defines the symbol (`c"libz.so.1"`). A
    /// library loaded with `RTLD_LOCAL` (Python's zlib module loads libz so) is not searched by
    /// `RTLD_NEXT`, yet its users' references bind to this library's export first; the original
    /// is then found in that library by its soname.
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
        if addr == 0 && !self.soname.is_empty() {
            addr = self.in_loaded_library();
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

impl Real {
    /// Looks the symbol up in the already loaded library `soname` (`RTLD_NOLOAD`: never loads
    /// one). dlopen and dlsym are called through their originals, not this library's trampolines.
    #[cold]
    fn in_loaded_library(&self) -> usize {
        type Open = unsafe extern "C" fn(*const c_char, c_int) -> *mut c_void;
        type Close = unsafe extern "C" fn(*mut c_void) -> c_int;
        type Sym = unsafe extern "C" fn(*mut c_void, *const c_char) -> *mut c_void;
        let lookup = |name: &CStr| -> usize {
            [c"GLIBC_2.34", c"GLIBC_2.2.5"]
                .iter()
                // SAFETY: NUL-terminated strings; RTLD_NEXT finds libc's own dl* functions.
                .map(|v| unsafe { dlvsym(libc::RTLD_NEXT, name.as_ptr(), v.as_ptr()) as usize })
                .find(|a| *a != 0)
                .unwrap_or(0)
        };
        let (open, close, sym) = (lookup(c"dlopen"), lookup(c"dlclose"), lookup(c"dlsym"));
        if open == 0 || close == 0 || sym == 0 {
            return 0;
        }
        // SAFETY: the three addresses are libc's dlopen, dlclose and dlsym.
        unsafe {
            let (open, close, sym): (Open, Close, Sym) = (
                core::mem::transmute::<usize, Open>(open),
                core::mem::transmute::<usize, Close>(close),
                core::mem::transmute::<usize, Sym>(sym),
            );
            let handle = open(self.soname.as_ptr(), libc::RTLD_LAZY | libc::RTLD_NOLOAD);
            if handle.is_null() {
                return 0;
            }
            let mut addr = if self.version.is_empty() {
                0
            } else {
                dlvsym(handle, self.name.as_ptr(), self.version.as_ptr()) as usize
            };
            if addr == 0 {
                addr = sym(handle, self.name.as_ptr()) as usize;
            }
            // The program keeps its own reference to the library; this lookup's is returned.
            close(handle);
            addr
        }
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
