//! Real mappings for the tests: pages with chosen protections.

use crate::mem::invalidate;
use core::ffi::c_void;

pub(crate) const PAGE: usize = 4096;

/// An anonymous mapping of whole pages, unmapped on drop; every change invalidates the map cache
/// as the runtime would.
pub(crate) struct Map(pub *mut u8, pub usize);

impl Map {
    pub fn new(pages: usize, prot: i32) -> Map {
        // SAFETY: a fresh anonymous mapping.
        let p = unsafe {
            libc::mmap(
                core::ptr::null_mut(),
                pages * PAGE,
                prot,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        assert_ne!(p, libc::MAP_FAILED);
        invalidate();
        Map(p.cast(), pages * PAGE)
    }

    /// `bytes` placed so that they end exactly where a `PROT_NONE` page begins.
    pub fn before_guard(bytes: &[u8]) -> (Map, *const c_void) {
        let m = Map::new(2, libc::PROT_READ | libc::PROT_WRITE);
        m.protect(PAGE, PAGE, libc::PROT_NONE);
        let start = PAGE - bytes.len();
        // SAFETY: the first page is ours and writable.
        unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), m.0.add(start), bytes.len()) };
        let p = m.at(start);
        (m, p)
    }

    pub fn at(&self, off: usize) -> *const c_void {
        self.0.wrapping_add(off) as *const c_void
    }

    pub fn protect(&self, off: usize, len: usize, prot: i32) {
        // SAFETY: inside our own mapping.
        assert_eq!(
            unsafe { libc::mprotect(self.0.add(off).cast(), len, prot) },
            0
        );
        invalidate();
    }
}

// SAFETY: the tests only pass the address around; the mapping lives until the last owner drops.
unsafe impl Send for Map {}
unsafe impl Sync for Map {}

impl Drop for Map {
    fn drop(&mut self) {
        // SAFETY: our own mapping, unmapped once.
        unsafe { libc::munmap(self.0.cast(), self.1) };
        invalidate();
    }
}

/// Whether `f` holds at least once within 30 s: for properties that tests running in parallel
/// can disturb for a while (one of them invalidates the map cache in a loop).
pub(crate) fn eventually(mut f: impl FnMut() -> bool) -> bool {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        if f() {
            return true;
        }
        std::thread::yield_now();
    }
    false
}
