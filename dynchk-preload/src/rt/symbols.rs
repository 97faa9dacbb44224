//! Symbol lookup in the loaded objects' own dynamic symbol tables, without `dlsym`/`dlvsym`.
//!
//! glibc's `dlsym` and `dlvsym` reset the calling thread's dl error state (what `dlerror` returns
//! next) even when they succeed. Resolving an original on first use between a program's failed
//! `dlopen` and its `dlerror` would then make `dlerror` return NULL, so the checker reads the
//! hash tables and symbol versions itself, object by object in link-map order after this library:
//! the order in which `RTLD_NEXT` searches. The objects come from `dl_iterate_phdr` (under the
//! loader's lock); libc's own `dl_iterate_phdr`, which this library also exports, is found once
//! by walking `_r_debug`'s link map.

use core::ffi::{c_char, c_int, c_void, CStr};
use core::sync::atomic::{AtomicUsize, Ordering};

const DT_NULL: i64 = 0;
const DT_HASH: i64 = 4;
const DT_STRTAB: i64 = 5;
const DT_SYMTAB: i64 = 6;
const DT_SONAME: i64 = 14;
const DT_GNU_HASH: i64 = 0x6fff_fef5;
const DT_VERSYM: i64 = 0x6fff_fff0;
const DT_VERDEF: i64 = 0x6fff_fffc;
const DT_VERDEFNUM: i64 = 0x6fff_fffd;
const STT_GNU_IFUNC: u8 = 10;
const STT_TLS: u8 = 6;
const STB_LOCAL: u8 = 0;
const VERSYM_HIDDEN: u16 = 0x8000;

#[repr(C)]
struct Dyn {
    tag: i64,
    val: u64,
}

#[repr(C)]
struct Sym {
    name: u32,
    info: u8,
    other: u8,
    shndx: u16,
    value: u64,
    size: u64,
}

#[repr(C)]
struct Verdef {
    version: u16,
    flags: u16,
    ndx: u16,
    cnt: u16,
    hash: u32,
    aux: u32,
    next: u32,
}

#[repr(C)]
struct LinkMap {
    addr: usize,
    name: *const c_char,
    ld: *const Dyn,
    next: *const LinkMap,
}

#[repr(C)]
struct RDebug {
    version: c_int,
    map: *const LinkMap,
}

extern "C" {
    static _r_debug: RDebug;
}

/// What is looked for: a name, and a version (`None`: the default version, as `dlsym` finds).
#[derive(Clone, Copy)]
struct Query<'a> {
    name: &'a [u8],
    version: Option<&'a [u8]>,
}

/// One loaded object's dynamic tables, addresses already relocated.
struct Object {
    base: usize,
    strtab: *const u8,
    symtab: *const Sym,
    gnu_hash: *const u32,
    hash: *const u32,
    versym: *const u16,
    verdef: *const Verdef,
    verdefnum: usize,
    soname: Option<u32>,
}

impl Object {
    /// Reads the dynamic section `ld` of the object loaded at `base`.
    ///
    /// # Safety
    /// `ld` is the object's `PT_DYNAMIC`, as the loader mapped it.
    unsafe fn new(base: usize, mut ld: *const Dyn) -> Option<Object> {
        let mut o = Object {
            base,
            strtab: core::ptr::null(),
            symtab: core::ptr::null(),
            gnu_hash: core::ptr::null(),
            hash: core::ptr::null(),
            versym: core::ptr::null(),
            verdef: core::ptr::null(),
            verdefnum: 0,
            soname: None,
        };
        // The loader relocates these entries in place when the section is writable (every glibc
        // target this builds for), except in the vDSO; an address below the base is unrelocated.
        let at = |v: u64| {
            let v = v as usize;
            if v < base {
                v + base
            } else {
                v
            }
        };
        // SAFETY: the dynamic section ends with DT_NULL.
        unsafe {
            while (*ld).tag != DT_NULL {
                let v = (*ld).val;
                match (*ld).tag {
                    DT_STRTAB => o.strtab = at(v) as *const u8,
                    DT_SYMTAB => o.symtab = at(v) as *const Sym,
                    DT_GNU_HASH => o.gnu_hash = at(v) as *const u32,
                    DT_HASH => o.hash = at(v) as *const u32,
                    DT_VERSYM => o.versym = at(v) as *const u16,
                    DT_VERDEF => o.verdef = at(v) as *const Verdef,
                    DT_VERDEFNUM => o.verdefnum = v as usize,
                    DT_SONAME => o.soname = Some(v as u32),
                    _ => {}
                }
                ld = ld.add(1);
            }
        }
        let usable = !o.strtab.is_null()
            && !o.symtab.is_null()
            && (!o.gnu_hash.is_null() || !o.hash.is_null());
        usable.then_some(o)
    }

    /// The NUL-terminated string at `off` in the string table, without its NUL.
    fn str(&self, off: u32) -> &[u8] {
        // SAFETY: offsets come from the object's own tables, which point into its string table.
        unsafe { CStr::from_ptr(self.strtab.add(off as usize).cast()).to_bytes() }
    }

    fn soname(&self) -> &[u8] {
        self.soname.map_or(b"", |off| self.str(off))
    }

    /// The address of the definition of `q` in this object, if it has one.
    fn find(&self, q: Query<'_>) -> Option<usize> {
        let mut found = None;
        self.each_candidate(q.name, |i| {
            // SAFETY: i is an index the hash table gave, so inside the symbol table.
            let sym = unsafe { &*self.symtab.add(i as usize) };
            let (kind, bind) = (sym.info & 0xf, sym.info >> 4);
            if sym.shndx == 0 || bind == STB_LOCAL || kind == STT_TLS || sym.value == 0 {
                return false;
            }
            if self.str(sym.name) != q.name || !self.version_matches(i, q.version) {
                return false;
            }
            found = Some(self.address(sym));
            true
        });
        found
    }

    /// Calls `f` with each symbol index whose hash matches `name`'s until `f` returns true.
    fn each_candidate(&self, name: &[u8], mut f: impl FnMut(u32) -> bool) {
        // SAFETY: the hash tables' layouts are the ELF gABI's and the GNU extension's; every
        // index read stays inside the counts they declare.
        unsafe {
            if !self.gnu_hash.is_null() {
                let h = gnu_hash(name);
                let t = self.gnu_hash;
                let (nbuckets, symoffset, bloom) = (*t, *t.add(1), *t.add(2) as usize);
                let buckets = t.add(4 + 2 * bloom);
                let chains = buckets.add(nbuckets as usize);
                let mut i = *buckets.add((h % nbuckets) as usize);
                if i < symoffset {
                    return;
                }
                loop {
                    let h2 = *chains.add((i - symoffset) as usize);
                    if (h | 1) == (h2 | 1) && f(i) {
                        return;
                    }
                    if h2 & 1 != 0 {
                        return;
                    }
                    i += 1;
                }
            }
            let t = self.hash;
            let nbucket = *t;
            let (buckets, chains) = (t.add(2), t.add(2 + nbucket as usize));
            let mut i = *buckets.add((elf_hash(name) % nbucket) as usize);
            while i != 0 {
                if f(i) {
                    return;
                }
                i = *chains.add(i as usize);
            }
        }
    }

    /// Whether symbol `i` has `version`, or (`None`) is the default version of its name.
    fn version_matches(&self, i: u32, version: Option<&[u8]>) -> bool {
        if self.versym.is_null() {
            // An object without versions satisfies every versioned reference (as in the loader).
            return true;
        }
        // SAFETY: the version table has one entry per symbol.
        let v = unsafe { *self.versym.add(i as usize) };
        let Some(want) = version else {
            return v & VERSYM_HIDDEN == 0;
        };
        let ndx = v & !VERSYM_HIDDEN;
        let mut d = self.verdef;
        for _ in 0..self.verdefnum {
            // SAFETY: DT_VERDEFNUM entries chained by their `next` offsets, each with its aux.
            unsafe {
                if (*d).ndx == ndx {
                    let name = *(d.cast::<u8>().add((*d).aux as usize) as *const u32);
                    return self.str(name) == want;
                }
                d = d.cast::<u8>().add((*d).next as usize).cast();
            }
        }
        false
    }

    /// The run-time address of `sym`; for an IFUNC, what its resolver picks for this CPU.
    fn address(&self, sym: &Sym) -> usize {
        let addr = self.base + sym.value as usize;
        if sym.info & 0xf != STT_GNU_IFUNC {
            return addr;
        }
        // SAFETY: an IFUNC symbol's value is its resolver; glibc's x86-64 resolvers take no
        // arguments (they read the CPU features the loader recorded at startup).
        unsafe { core::mem::transmute::<usize, extern "C" fn() -> usize>(addr)() }
    }

    /// Whether `addr` lies in one of the object's segments.
    fn contains(info: &libc::dl_phdr_info, addr: usize) -> bool {
        // SAFETY: the loader's program headers for this object.
        let phdrs = unsafe { core::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum.into()) };
        phdrs.iter().any(|p| {
            let start = info.dlpi_addr as usize + p.p_vaddr as usize;
            p.p_type == libc::PT_LOAD && (start..start + p.p_memsz as usize).contains(&addr)
        })
    }
}

fn gnu_hash(name: &[u8]) -> u32 {
    name.iter()
        .fold(5381u32, |h, &c| h.wrapping_mul(33).wrapping_add(c.into()))
}

fn elf_hash(name: &[u8]) -> u32 {
    name.iter().fold(0u32, |h, &c| {
        let h = (h << 4).wrapping_add(c.into());
        let g = h & 0xf000_0000;
        (h ^ (g >> 24)) & !g
    })
}

/// An address inside this library, to tell where "after this library" starts.
fn this_library() -> usize {
    this_library as fn() -> usize as usize
}

/// The first definition of `name` at `version` (empty: the default version; also the fallback
/// when no object has that version, as for a host that moved the symbol to another version) in
/// the objects loaded after this library, preferring the library `soname` when it is not empty.
/// 0 when there is none.
pub fn find(name: &CStr, version: &CStr, soname: &CStr) -> usize {
    let (name, version, soname) = (name.to_bytes(), version.to_bytes(), soname.to_bytes());
    let versions = [(!version.is_empty()).then_some(version), None];
    let sonames: &[&[u8]] = if soname.is_empty() {
        &[b""]
    } else {
        &[soname, b""]
    };
    for soname in sonames {
        for version in versions {
            let q = Query { name, version };
            let addr = search(q, soname);
            if addr != 0 {
                return addr;
            }
        }
    }
    0
}

/// State of one walk over the loaded objects.
struct Search<'a> {
    q: Query<'a>,
    soname: &'a [u8],
    after_self: bool,
    found: usize,
}

fn search(q: Query<'_>, soname: &[u8]) -> usize {
    unsafe extern "C" fn visit(info: *mut libc::dl_phdr_info, _: usize, arg: *mut c_void) -> c_int {
        // SAFETY: the loader passes a valid info; arg is the Search given to dl_iterate_phdr.
        let (info, s) = unsafe { (&*info, &mut *arg.cast::<Search<'_>>()) };
        if !s.after_self {
            s.after_self = Object::contains(info, this_library());
            return 0;
        }
        // SAFETY: the loader's program headers for this object.
        let phdrs = unsafe { core::slice::from_raw_parts(info.dlpi_phdr, info.dlpi_phnum.into()) };
        let Some(dynamic) = phdrs.iter().find(|p| p.p_type == libc::PT_DYNAMIC) else {
            return 0;
        };
        let ld = (info.dlpi_addr as usize + dynamic.p_vaddr as usize) as *const Dyn;
        // SAFETY: the object's PT_DYNAMIC as mapped.
        let Some(o) = (unsafe { Object::new(info.dlpi_addr as usize, ld) }) else {
            return 0;
        };
        if !s.soname.is_empty() && o.soname() != s.soname {
            return 0;
        }
        s.found = o.find(s.q).unwrap_or(0);
        c_int::from(s.found != 0)
    }
    let mut s = Search {
        q,
        soname,
        after_self: false,
        found: 0,
    };
    let Some(iterate) = iterate_phdr() else {
        return 0;
    };
    // SAFETY: libc's dl_iterate_phdr with a callback of its type and our state as its argument.
    unsafe { iterate(visit, (&raw mut s).cast()) };
    s.found
}

type IteratePhdr = unsafe extern "C" fn(
    unsafe extern "C" fn(*mut libc::dl_phdr_info, usize, *mut c_void) -> c_int,
    *mut c_void,
) -> c_int;

/// libc's `dl_iterate_phdr`, found once in the link map (the export of the same name in this
/// library is an interposer, which would resolve its own original through this module). `None`
/// only when the link map has no libc, which no dynamically linked program lacks.
fn iterate_phdr() -> Option<IteratePhdr> {
    static ADDR: AtomicUsize = AtomicUsize::new(0);
    let mut addr = ADDR.load(Ordering::Acquire);
    if addr == 0 {
        let q = Query {
            name: b"dl_iterate_phdr",
            version: Some(b"GLIBC_2.2.5"),
        };
        // SAFETY: the loader's list of loaded objects; objects are appended at the end, and the
        // ones linked at startup (libc among them) are never removed.
        let mut m = unsafe { _r_debug.map };
        while !m.is_null() && addr == 0 {
            // SAFETY: a link map entry, with its dynamic section as mapped.
            unsafe {
                if let Some(o) = Object::new((*m).addr, (*m).ld) {
                    if o.soname().starts_with(b"libc.so") {
                        addr = o.find(q).unwrap_or(0);
                    }
                }
                m = (*m).next;
            }
        }
        ADDR.store(addr, Ordering::Release);
    }
    // SAFETY: libc's dl_iterate_phdr.
    (addr != 0).then(|| unsafe { core::mem::transmute::<usize, IteratePhdr>(addr) })
}
