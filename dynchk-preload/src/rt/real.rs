//! Resolution of the original functions behind the interposers.

use core::ffi::{c_int, CStr};
use core::sync::atomic::{AtomicUsize, Ordering};

/// The original of one interposed symbol at one symbol version, resolved on first use.
///
/// The generated interposers hold their names inline (`N` bytes, [`Real::packed`]), so that
/// their thousands of `Real`s carry no pointers: a pointer in a static is a relocation that
/// the loader applies to every page of the table at every program start. The hand-written ones
/// name C string literals ([`Real::new`]).
pub struct Real<const N: usize = 0> {
    names: Names<N>,
    addr: AtomicUsize,
}

enum Names<const N: usize> {
    Literals {
        name: &'static CStr,
        version: &'static CStr,
        /// The soname of the library that defines it, searched first (empty: any).
        soname: &'static CStr,
    },
    /// `name\0version\0soname\0`.
    Packed([u8; N]),
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
            names: Names::Literals {
                name,
                version,
                soname,
            },
            addr: AtomicUsize::new(0),
        }
    }
}

impl<const N: usize> Real<N> {
    /// As [`Real::in_library`] with the three names in one array, each ending with its NUL
    /// (`*b"readv\0GLIBC_2.2.5\0libc.so.6\0"`; an empty version or soname is just its NUL).
    pub const fn packed(names: [u8; N]) -> Real<N> {
        let mut nuls = 0;
        let mut i = 0;
        while i < N {
            nuls += (names[i] == 0) as usize;
            i += 1;
        }
        assert!(nuls == 3 && N > 0 && names[N - 1] == 0);
        Real {
            names: Names::Packed(names),
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
        match &self.names {
            Names::Literals {
                name,
                version,
                soname,
            } => resolve(&self.addr, name, version, soname),
            Names::Packed(names) => {
                let mut parts = names.split_inclusive(|&b| b == 0).map(|p| {
                    // SAFETY: `packed` checked that the array is three NUL-terminated parts.
                    unsafe { CStr::from_bytes_with_nul_unchecked(p) }
                });
                let (Some(name), Some(version), Some(soname)) =
                    (parts.next(), parts.next(), parts.next())
                else {
                    unreachable!("checked by Real::packed")
                };
                resolve(&self.addr, name, version, soname)
            }
        }
    }
}

/// Finds the original and stores it in `addr` (see [`Real::get`]).
#[inline(never)]
fn resolve(addr: &AtomicUsize, name: &CStr, version: &CStr, soname: &CStr) -> usize {
    // Resolution runs before `enter` saves errno: the program must see its own. Several
    // threads may resolve at once; they all find the same address.
    let errno = super::sys::errno();
    let mut found = super::symbols::find(name, version, soname);
    if found == 0 {
        super::report::missing(name, version);
        found = enosys as extern "C" fn() -> c_int as usize;
    }
    addr.store(found, Ordering::Release);
    super::sys::set_errno(errno);
    found
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
