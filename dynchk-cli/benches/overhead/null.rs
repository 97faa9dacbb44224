//! The floor: a "null interposer" exporting the same functions as libdynchk.so (every name and
//! symbol version `nm -D` lists), each a `jmp` through a pointer to the original. Whatever it
//! costs is the price of interposition itself; the distance between it and the checker is the
//! checker's own work.
//!
//! Originals are resolved lazily, like the checker's: a stub's pointer first leads to a resolver
//! that saves the argument registers, looks the original up with `dlvsym(RTLD_NEXT, …)` (or the
//! real `dlsym` for unversioned exports; `dlvsym` itself is not interposed), stores it and jumps
//! on. The allocator family goes to glibc's, as the checker's does (see [`LIBC_ALLOC`]). The
//! resolver calls nothing else: every other libc function may be one of the stubs.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

/// One exported function: its name and, for a versioned export, the version and whether it is
/// the default one (`@@`).
struct Export {
    name: String,
    version: Option<(String, bool)>,
}

/// The functions `lib` exports, except the checker's own helpers (`dynchk_*`, which include the
/// internal names behind versioned exports; the null library has its own).
fn exports(lib: &Path) -> Vec<Export> {
    let out = Command::new("nm")
        .args(["-D", "--defined-only"])
        .arg(lib)
        .output()
        .expect("nm (binutils) lists the exports of libdynchk.so");
    assert!(out.status.success(), "nm -D {}: {:?}", lib.display(), out);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|line| {
            let mut f = line.split_whitespace();
            let (_, kind, sym) = (f.next()?, f.next()?, f.next()?);
            if !matches!(kind, "T" | "W" | "i") || sym.starts_with("dynchk_") {
                return None;
            }
            let version = sym.find('@').map(|at| {
                let v = sym[at..].trim_start_matches('@');
                (v.to_string(), sym[at..].starts_with("@@"))
            });
            let name = sym.split('@').next().unwrap().to_string();
            Some(Export { name, version })
        })
        .collect()
}

/// The allocator family and where each goes, as in the checker (`hand/alloc.rs`): all of it to
/// glibc, whichever allocator the program links. The entry points with a `__libc_` alias go
/// there without a lookup (the lookup could allocate); `aligned_alloc` is glibc's `memalign`,
/// `posix_memalign` checks its alignment and calls `__libc_memalign`, `malloc_usable_size` is
/// glibc's at its version. A program linked with jemalloc (redis-server) otherwise gets a glibc
/// block from `malloc` and hands it to jemalloc's `malloc_usable_size` (what `dlsym` finds first
/// for an unversioned export), which reads jemalloc's page map at a glibc address: SIGSEGV.
const LIBC_ALLOC: [(&str, &str); 10] = [
    ("malloc", "__libc_malloc"),
    ("calloc", "__libc_calloc"),
    ("realloc", "__libc_realloc"),
    ("free", "__libc_free"),
    ("memalign", "__libc_memalign"),
    ("valloc", "__libc_valloc"),
    ("pvalloc", "__libc_pvalloc"),
    ("aligned_alloc", "__libc_memalign"),
    ("posix_memalign", "null_posix_memalign"),
    (
        "malloc_usable_size",
        "dlvsym(RTLD_NEXT, \"malloc_usable_size\", \"GLIBC_2.2.5\")",
    ),
];

/// Builds the null interposer for `lib` in `dir`; its path and the number of stubs.
pub fn build(lib: &Path, dir: &Path) -> (PathBuf, usize) {
    let exports = exports(lib);
    let (mut asm, mut c, mut map) = (String::new(), String::new(), String::new());
    asm.push_str(".text\n");
    let mut slots =
        String::from(".data\n.p2align 3\n.globl null_slots\n.hidden null_slots\nnull_slots:\n");
    for (i, e) in exports.iter().enumerate() {
        let sym = format!("null_{i}");
        match &e.version {
            None => writeln!(asm, ".globl {0}\n.type {0},@function\n{0}:", e.name).unwrap(),
            Some((v, default)) => {
                let at = if *default { "@@" } else { "@" };
                writeln!(
                    asm,
                    ".globl {sym}\n.type {sym},@function\n.symver {sym}, {}{at}{v}\n{sym}:",
                    e.name
                )
                .unwrap()
            }
        }
        writeln!(
            asm,
            "  jmp *null_slots+{}(%rip)\nnull_lazy_{i}:\n  mov ${i}, %r11d\n  jmp null_lazy",
            8 * i
        )
        .unwrap();
        writeln!(slots, "  .quad null_lazy_{i}").unwrap();
    }
    asm.push_str(LAZY);
    asm.push_str(&slots);
    asm.push_str(".section .note.GNU-stack,\"\",@progbits\n");

    c.push_str(RESOLVER_HEAD);
    c.push_str("static const char *const names[] = {\n");
    for e in &exports {
        writeln!(c, "  \"{}\",", e.name).unwrap();
    }
    c.push_str("};\nstatic const char *const versions[] = {\n");
    for e in &exports {
        let v = e.version.as_ref().map_or("", |(v, _)| v.as_str());
        writeln!(c, "  \"{v}\",").unwrap();
    }
    c.push_str("};\n");
    c.push_str("static void *libc_alloc(const char *n) {\n");
    for (name, to) in LIBC_ALLOC {
        writeln!(c, "  if (same(n, \"{name}\")) return (void *){to};").unwrap();
    }
    c.push_str("  return 0;\n}\n");
    c.push_str(RESOLVER_TAIL);

    let mut versions: Vec<&str> = exports
        .iter()
        .filter_map(|e| e.version.as_ref().map(|(v, _)| v.as_str()))
        .collect();
    versions.sort();
    versions.dedup();
    for v in versions {
        writeln!(map, "{v} {{ }};").unwrap();
    }

    let (s, cfile, mapfile, so) = (
        dir.join("null.s"),
        dir.join("null.c"),
        dir.join("null.map"),
        dir.join("libnull.so"),
    );
    std::fs::write(&s, asm).unwrap();
    std::fs::write(&cfile, c).unwrap();
    std::fs::write(&mapfile, map).unwrap();
    let out = Command::new("cc")
        .args(["-shared", "-fPIC", "-O2", "-fno-builtin", "-o"])
        .arg(&so)
        .arg(&cfile)
        .arg(&s)
        .arg(format!("-Wl,--version-script={}", mapfile.display()))
        .output()
        .expect("a C compiler (cc) builds the null interposer");
    assert!(
        out.status.success(),
        "cc (null interposer): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (so, exports.len())
}

/// The shared slow path of every stub: index in %r11 (free at a call), the caller's argument
/// registers intact.
const LAZY: &str = r#"
.p2align 4
null_lazy:
  push %rbp
  mov %rsp, %rbp
  sub $192, %rsp
  mov %rdi, (%rsp)
  mov %rsi, 8(%rsp)
  mov %rdx, 16(%rsp)
  mov %rcx, 24(%rsp)
  mov %r8, 32(%rsp)
  mov %r9, 40(%rsp)
  mov %rax, 48(%rsp)
  movaps %xmm0, 64(%rsp)
  movaps %xmm1, 80(%rsp)
  movaps %xmm2, 96(%rsp)
  movaps %xmm3, 112(%rsp)
  movaps %xmm4, 128(%rsp)
  movaps %xmm5, 144(%rsp)
  movaps %xmm6, 160(%rsp)
  movaps %xmm7, 176(%rsp)
  mov %r11, %rdi
  call null_resolve
  mov %rax, %r11
  mov (%rsp), %rdi
  mov 8(%rsp), %rsi
  mov 16(%rsp), %rdx
  mov 24(%rsp), %rcx
  mov 32(%rsp), %r8
  mov 40(%rsp), %r9
  mov 48(%rsp), %rax
  movaps 64(%rsp), %xmm0
  movaps 80(%rsp), %xmm1
  movaps 96(%rsp), %xmm2
  movaps 112(%rsp), %xmm3
  movaps 128(%rsp), %xmm4
  movaps 144(%rsp), %xmm5
  movaps 160(%rsp), %xmm6
  movaps 176(%rsp), %xmm7
  leave
  jmp *%r11
"#;

const RESOLVER_HEAD: &str = r#"
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
extern void *null_slots[] __attribute__((visibility("hidden")));
void *__libc_malloc(size_t), *__libc_calloc(size_t, size_t), *__libc_realloc(void *, size_t),
    *__libc_memalign(size_t, size_t), *__libc_valloc(size_t), *__libc_pvalloc(size_t);
void __libc_free(void *);
static int same(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}
static long enosys(void) { errno = ENOSYS; return -1; }
static int null_posix_memalign(void **out, size_t align, size_t size) {
  if (!align || align & (align - 1) || align % sizeof(void *)) return EINVAL;
  void *p = __libc_memalign(align, size);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}
"#;

const RESOLVER_TAIL: &str = r#"
__attribute__((visibility("hidden"))) void *null_resolve(unsigned long i) {
  static void *(*real_dlsym)(void *, const char *);
  int saved = errno;
  void *f = libc_alloc(names[i]);
  if (!f && versions[i][0]) f = dlvsym(RTLD_NEXT, names[i], versions[i]);
  if (!f) {
    if (!real_dlsym) real_dlsym = dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.34");
    if (!real_dlsym) real_dlsym = dlvsym(RTLD_NEXT, "dlsym", "GLIBC_2.2.5");
    f = real_dlsym(RTLD_NEXT, names[i]);
  }
  if (!f) f = (void *)enosys;
  null_slots[i] = f;
  errno = saved;
  return f;
}
"#;
