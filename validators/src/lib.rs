//! Layer-3 semantic validators of dynchk.
//!
//! Each module is named after the semantic type it checks (`fd`, `mem`, `path`, …). Every
//! validator returns a [`Verdict`]; it never allocates, never takes a lock a signal handler could
//! deadlock on, and never calls a C-library function that libdynchk interposes (raw syscalls only),
//! so it is safe from any thread, from signal handlers and before `main`.
//!
//! Integer parameters arrive as `i64` whatever their C type (the generator widens them), lengths as
//! `usize` and pointers as `*const c_void`, as `db/semantics/rules.sem` lists.
//!
//! The `check` names a [`Fault`] carries (the report's `check` field):
//!
//! | module | checks |
//! |---|---|
//! | [`mem`] | `Rdaddress`, `RWaddress`, `string`, `codeaddress`, `heapaddress` (the caller's check name for [`mem::array_len`]) |
//! | [`heap`] | the same, bounded by live heap blocks; `heapaddress` for `free`/`realloc` |
//! | [`path`] | `pathname` |
//! | [`stream`] | `FILE pointer`, `DIR pointer`, `fopenmode` |
//! | [`object`] | `handle` (library objects: `Display *`, `WINDOW *`, `xmlDocPtr`, …; also the streams' table) |
//! | [`fd`] | `filedescriptor` |
//! | [`flags`], [`mode`] | `openflags`, `atflags`, `filemode`, `accessmode` |
//! | [`whence`], [`signal`], [`clock`], [`locale`] | `whence`, `signal`, `sighow`, `clockid`, `lccategory` |
//! | [`socket`] | `socketfamily`, `sockettype`, `socketport`, `IPv4Address`, `shuthow`, `sockaddr` |
//! | [`sockopt`] | `sockopt` (setsockopt/getsockopt options and their lengths) |
//! | [`scalar`], [`pid`] | `range`, `processid` |
//! | [`argv`], [`env`], [`template`], [`thread`], [`pointer`] | `strarray`, `envname`, `template`, `thread`, `nonnull` |
//! | [`stream`] (`popen_mode`, `fdopen_mode`), [`signal`] (`catchable`, `alt_stack`) | `popenmode`, `fdopenmode`, `signal`, `stacksize` |
//! | [`format`](mod@format) | `format` for the format string; `string` and `RWaddress` for the arguments |
//! | [`ioctl`] | `Rdaddress`, `RWaddress` (the message names the request) |
//! | [`fcntl`] | `range`, `flags`, `openflags`, `Rdaddress`, `RWaddress`, `signal`, `oneof` (by command) |
//! | [`zlib`] | `Rdaddress`, `RWaddress` on a `z_stream`'s `next_in`/`next_out` members |

// No std outside tests: the compiler then guarantees what the runtime needs (no heap, no std
// locks, no std::fs/env, which would call interposed C functions).
#![cfg_attr(not(test), no_std)]
// A Fault carries its message inline because nothing here may allocate; the Ok path, the hot one,
// only writes the discriminant.
#![allow(clippy::result_large_err, clippy::large_enum_variant)]

/// `&STATIC` for a static of this library (`local!(STATIC: Type)`), addressed relative to the
/// instruction pointer. rustc reaches statics through the GOT, one more load each, because it
/// cannot tell they are not preempted; the region and heap lookups of every check read three
/// of them. The preload's version script makes them local, so the PC-relative form links there
/// (as in test executables).
macro_rules! local {
    ($s:path : $t:ty) => {{
        #[cfg(target_arch = "x86_64")]
        {
            let p: *const $t;
            // SAFETY: computes the static's address; reads and writes nothing.
            unsafe {
                core::arch::asm!(
                    "lea {p}, [rip + {s}]",
                    p = out(reg) p,
                    s = sym $s,
                    options(pure, nomem, nostack, preserves_flags),
                );
                &*p
            }
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            &$s
        }
    }};
}
pub(crate) use local;

mod sys;
#[cfg(test)]
mod testutil;
mod text;
mod verdict;

pub mod argv;
pub mod clock;
pub mod env;
pub mod fcntl;
pub mod fd;
pub mod flags;
pub mod format;
pub mod heap;
pub mod ioctl;
pub mod locale;
pub mod mem;
pub mod memo;
pub mod mode;
pub mod object;
pub mod path;
pub mod pid;
pub mod pointer;
pub mod scalar;
pub mod seccomp;
pub mod signal;
pub mod socket;
pub mod sockopt;
pub mod stream;
pub mod template;
pub mod thread;
pub mod whence;
pub mod xlat;
pub mod zlib;

include!(concat!(env!("OUT_DIR"), "/functions.rs"));

pub use verdict::{BlockEvent, Fault, Msg, Severity, Verdict};

/// The 32-bit FNV-1a hash of `name`, at compile time: how object kinds and the runtime's
/// hand-coded interfaces get stable numbers from their names.
pub const fn fnv1a(name: &str) -> u32 {
    let b = name.as_bytes();
    let mut h: u32 = 0x811C_9DC5;
    let mut i = 0;
    while i < b.len() {
        h = (h ^ b[i] as u32).wrapping_mul(0x0100_0193);
        i += 1;
    }
    h
}
