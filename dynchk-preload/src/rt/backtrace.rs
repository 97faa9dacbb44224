//! Call sites and raw backtraces (module + offset), without allocating.
//!
//! Frames come from the checker's own walk of the call frame information (`cfi`), which
//! follows `.eh_frame` through code built without frame pointers. Modules are found with
//! `dl_iterate_phdr`, which walks the loader's link map under its own recursive lock and never
//! allocates.

use core::ffi::{c_int, c_void, CStr};
use core::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use super::config::MAX_FRAMES;

/// Instruction addresses of the callers, innermost first, starting at the first frame outside
/// libdynchk (the call site of the interposed function).
pub struct Frames {
    /// Return addresses minus one, so that they point into the call instruction; after a
    /// signal frame, the interrupted instruction itself.
    pub ips: [usize; MAX_FRAMES],
    /// Frames filled.
    pub len: usize,
}

impl Frames {
    /// No frames: the call site is unknown.
    pub fn none() -> Frames {
        Frames {
            ips: [0; MAX_FRAMES],
            len: 0,
        }
    }
}

/// Up to `want` (at least 1: the call site) frames outside this library.
pub fn capture(want: usize) -> Frames {
    let (lo, hi) = own_range();
    let want = want.clamp(1, MAX_FRAMES);
    let mut frames = Frames::none();
    super::cfi::walk(|ip, returns| {
        if frames.len == 0 && (lo..hi).contains(&ip) {
            return true;
        }
        frames.ips[frames.len] = if returns { ip - 1 } else { ip };
        frames.len += 1;
        frames.len < want
    });
    frames
}

/// Makes now, while every system call is still allowed, the ones the reporting path makes only
/// the first time: reading the memory map (the walk reads the stack where the map says it may)
/// and the main program's path. Called before seccomp restricts the process.
pub fn prepare() {
    capture(1);
    exe_path(&mut [0; 512]);
}

static OWN_LO: AtomicUsize = AtomicUsize::new(0);
static OWN_HI: AtomicUsize = AtomicUsize::new(0);

/// The address range of libdynchk's own mapped segments.
fn own_range() -> (usize, usize) {
    let hi = OWN_HI.load(Relaxed);
    if hi != 0 {
        return (OWN_LO.load(Relaxed), hi);
    }
    let mut found = Module {
        ip: own_range as fn() -> (usize, usize) as usize,
        base: 0,
        lo: 0,
        hi: 0,
        name: core::ptr::null(),
    };
    find(&mut found);
    OWN_LO.store(found.lo, Relaxed);
    OWN_HI.store(found.hi, Relaxed);
    (found.lo, found.hi)
}

/// The loaded object that contains `ip`.
pub struct Module {
    /// The address looked up.
    pub ip: usize,
    /// Load bias: offsets in reports are `ip - base`, as tools (addr2line) expect them.
    pub base: usize,
    /// Lowest mapped address of its segments.
    pub lo: usize,
    /// End of its highest segment.
    pub hi: usize,
    /// Path from the link map (empty for the main program); null when not found.
    pub name: *const libc::c_char,
}

extern "C" fn visit(info: *mut libc::dl_phdr_info, _size: usize, arg: *mut c_void) -> c_int {
    // SAFETY: the loader passes a valid info; arg is the Module given to dl_iterate_phdr.
    let (info, m) = unsafe { (&*info, &mut *(arg as *mut Module)) };
    let base = info.dlpi_addr as usize;
    let (mut lo, mut hi, mut hit) = (usize::MAX, 0, false);
    for i in 0..info.dlpi_phnum as usize {
        // SAFETY: dlpi_phdr has dlpi_phnum entries.
        let ph = unsafe { &*info.dlpi_phdr.add(i) };
        if ph.p_type != libc::PT_LOAD {
            continue;
        }
        let start = base + ph.p_vaddr as usize;
        let end = start + ph.p_memsz as usize;
        lo = lo.min(start);
        hi = hi.max(end);
        hit |= (start..end).contains(&m.ip);
    }
    if hit {
        *m = Module {
            ip: m.ip,
            base,
            lo,
            hi,
            name: info.dlpi_name,
        };
        return 1;
    }
    0
}

/// Fills `m` for the object containing `m.ip` (leaves `name` null when none does).
pub fn find(m: &mut Module) {
    // SAFETY: visit only writes the Module it is given.
    unsafe { libc::dl_iterate_phdr(Some(visit), m as *mut Module as *mut c_void) };
}

static EXE: [AtomicUsize; 64] = [const { AtomicUsize::new(0) }; 64];
static EXE_LEN: AtomicUsize = AtomicUsize::new(usize::MAX);

/// Copies the module path to print for `m` into `exe_buf` and returns its length (the main
/// program's comes from /proc/self/exe; 0 when `m` was not found).
pub fn module_name(m: &Module, exe_buf: &mut [u8; 512]) -> usize {
    if m.name.is_null() {
        return 0;
    }
    // SAFETY: link-map names are NUL-terminated and live as long as the object is loaded.
    let name = unsafe { CStr::from_ptr(m.name) }.to_bytes();
    if !name.is_empty() {
        let n = name.len().min(exe_buf.len());
        exe_buf[..n].copy_from_slice(&name[..n]);
        return n;
    }
    exe_path(exe_buf)
}

/// The main program's path, read once (cached as words so that readers never see half of it).
fn exe_path(out: &mut [u8; 512]) -> usize {
    let mut len = EXE_LEN.load(Relaxed);
    if len == usize::MAX {
        let mut tmp = [0u8; 512];
        len = super::sys::readlink(b"/proc/self/exe\0", &mut tmp);
        for (i, w) in tmp.chunks(8).enumerate() {
            EXE[i].store(
                usize::from_ne_bytes(w.try_into().unwrap_or([0; 8])),
                Relaxed,
            );
        }
        EXE_LEN.store(len, Relaxed);
    }
    for (i, w) in EXE.iter().enumerate() {
        out[i * 8..i * 8 + 8].copy_from_slice(&w.load(Relaxed).to_ne_bytes());
    }
    len
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_program_is_found_with_its_path() {
        let mut m = Module {
            ip: the_test_program_is_found_with_its_path as fn() as usize,
            base: 0,
            lo: 0,
            hi: 0,
            name: core::ptr::null(),
        };
        find(&mut m);
        assert!(!m.name.is_null());
        assert!(m.lo <= m.ip && m.ip < m.hi);
        let mut buf = [0u8; 512];
        let n = module_name(&m, &mut buf);
        let exe = std::env::current_exe().unwrap();
        assert_eq!(&buf[..n], exe.as_os_str().as_encoded_bytes());
    }
}
