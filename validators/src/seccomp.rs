//! What seccomp lets the checker's own system calls do.
//!
//! A process under seccomp dies (or gets `SIGSYS`, or a tracer is woken) at a system call its
//! filter does not allow; the checker must never be the one making it. Every system call of the
//! checker goes through [`syscall`], which makes it only when it is sure the process's seccomp
//! state allows it and otherwise answers [`DENIED`], which every caller reads as "cannot tell"
//! (accept, count, or skip), never as a negative verdict.
//!
//! Three states are known:
//! - **strict mode** (`prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT)`, `seccomp(SECCOMP_SET_MODE_STRICT)`):
//!   `read`, `write`, `exit` and `rt_sigreturn` only;
//! - **filters the program installs** (`prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, prog)`,
//!   `seccomp(SECCOMP_SET_MODE_FILTER, flags, prog)`, libseccomp's `seccomp_load`): the interposers
//!   hand the classic-BPF program to [`filter_installing`] before the kernel gets it; a copy is
//!   kept, and each system call of the checker is run through every copy as the kernel would run it
//!   (same `seccomp_data`: number, architecture, arguments; the instruction pointer reads as 0)
//!   and made only when all of them return `SECCOMP_RET_ALLOW` or `SECCOMP_RET_LOG`;
//! - **filters inherited across `execve`** ([`inherited`], at startup): their program cannot be
//!   read back without privileges, so only what every dynamically linked program's startup makes
//!   before its constructors run is assumed allowed (the loader's `openat`/`read`/`mmap`/…,
//!   glibc's `prlimit64`), with the identity calls that every filter in practice permits
//!   (`getpid`, `gettid`, `clock_gettime`: systemd's `@default` set) and `write`.
//!
//! Filters of one thread are treated as the whole process's (a filter without
//! `SECCOMP_FILTER_FLAG_TSYNC` binds only its thread): that only makes other threads' checks more
//! cautious than they need to be.

use core::ffi::{c_int, c_long};
use core::sync::atomic::{AtomicPtr, AtomicU32, Ordering};

/// The answer of [`syscall`] for a call it did not make. Not an `errno` value.
pub const DENIED: c_int = -1;

const STRICT: u32 = 1;
const INHERITED: u32 = 2;
/// Set when a filter could not be copied: nothing but what [`INHERITED`] allows is made then.
const UNKNOWN: u32 = 4;
/// Set once a filter was copied into [`FILTERS`].
const FILTERED: u32 = 8;

/// Which of the states above hold. Zero on the fast path: one relaxed load per system call.
static STATE: AtomicU32 = AtomicU32::new(0);

/// Filters copied so far (more than this many filters: [`UNKNOWN`]).
const SLOTS: usize = 32;

/// One copied filter: its instructions in private memory, its length, and whether it is live
/// (published before the kernel installs it, withdrawn if the install fails).
struct Slot {
    insns: AtomicPtr<Insn>,
    len: AtomicU32,
}

#[allow(clippy::declare_interior_mutable_const)]
const EMPTY: Slot = Slot {
    insns: AtomicPtr::new(core::ptr::null_mut()),
    len: AtomicU32::new(0),
};
static FILTERS: [Slot; SLOTS] = [EMPTY; SLOTS];

/// A classic BPF instruction (`struct sock_filter`).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct Insn {
    code: u16,
    jt: u8,
    jf: u8,
    k: u32,
}

/// `struct sock_fprog`, as `prctl` and `seccomp` receive it.
#[repr(C)]
pub struct Prog {
    len: u16,
    filter: *const Insn,
}

/// The kernel's limit on one filter's length (`BPF_MAXINSNS`).
const MAX_INSNS: usize = 4096;

/// The program is about to install the filter `prog` (a `struct sock_fprog *` from its caller):
/// copies it and makes the checker obey it from now on. Returns the slot to hand to
/// [`filter_failed`] if the kernel refuses it.
///
/// # Safety
/// `prog` is what the program passes to the kernel: it may be anything; it is read only when it
/// points at readable memory.
pub unsafe fn filter_installing(prog: *const Prog) -> Option<usize> {
    let copied = copy(prog);
    let Some((insns, len)) = copied else {
        STATE.fetch_or(UNKNOWN, Ordering::SeqCst);
        return None;
    };
    for (i, slot) in FILTERS.iter().enumerate() {
        if slot
            .insns
            .compare_exchange(
                core::ptr::null_mut(),
                insns,
                Ordering::SeqCst,
                Ordering::SeqCst,
            )
            .is_ok()
        {
            slot.len.store(len, Ordering::SeqCst);
            STATE.fetch_or(FILTERED, Ordering::SeqCst);
            return Some(i);
        }
    }
    // SAFETY: the copy was never published.
    unsafe { crate::sys::unmap(insns.cast(), len as usize * core::mem::size_of::<Insn>()) };
    STATE.fetch_or(UNKNOWN, Ordering::SeqCst);
    None
}

/// The kernel refused the filter [`filter_installing`] copied into `slot`: it no longer binds
/// the checker. The copy stays mapped (a concurrent check may be reading it); it is small.
pub fn filter_failed(slot: usize) {
    FILTERS[slot].len.store(0, Ordering::SeqCst);
}

/// Copies a filter program into private memory while the checker may still map memory (the
/// filter is not installed yet).
unsafe fn copy(prog: *const Prog) -> Option<(*mut Insn, u32)> {
    let head = core::mem::size_of::<Prog>();
    // SAFETY: only asks whether the memory is readable.
    if prog.is_null() || unsafe { crate::mem::readable(prog.cast(), head) }.is_err() {
        return None;
    }
    // SAFETY: readable, checked above; the program may pass an unaligned pointer.
    let p = unsafe { prog.read_unaligned() };
    let len = p.len as usize;
    let bytes = len * core::mem::size_of::<Insn>();
    // SAFETY: as above.
    if len == 0
        || len > MAX_INSNS
        || unsafe { crate::mem::readable(p.filter.cast(), bytes) }.is_err()
    {
        return None;
    }
    let to = crate::sys::map_anon(bytes)?;
    // SAFETY: both ranges are `bytes` long, the source readable, the destination fresh.
    unsafe { core::ptr::copy_nonoverlapping(p.filter.cast::<u8>(), to, bytes) };
    Some((to.cast(), len as u32))
}

/// The program is entering strict mode.
pub fn enter_strict() {
    STATE.fetch_or(STRICT, Ordering::SeqCst);
}

/// Whether any seccomp state restricts the checker.
#[inline]
pub fn restricted() -> bool {
    STATE.load(Ordering::Relaxed) != 0
}

/// At startup, before any other system call of the checker: whether this process inherited
/// seccomp filters across `execve` (`Seccomp: 2` in `/proc/self/status`, read with the
/// `openat`/`read`/`close` the dynamic loader itself made to load this library).
pub fn inherited() {
    let Some(fd) = crate::sys::open_ro(c"/proc/self/status") else {
        return;
    };
    let mut buf = [0u8; 4096];
    let mut len = 0;
    while let Some(n) = crate::sys::read(fd, &mut buf[len..]) {
        len += n;
        if len == buf.len() {
            break;
        }
    }
    crate::sys::close(fd);
    if seccomp_mode(&buf[..len]) == Some(2) {
        STATE.fetch_or(INHERITED, Ordering::SeqCst);
    }
}

/// The `Seccomp:` field of a `/proc/PID/status` text.
fn seccomp_mode(status: &[u8]) -> Option<u8> {
    // Line by line: on a 1.4 KB status 10.5k instructions, where comparing the key at every
    // byte took 14.2k (once per process, at start). The first line is `Name:`.
    status
        .split(|&b| b == b'\n')
        .skip(1)
        .find_map(|line| line.strip_prefix(b"Seccomp:\t"))?
        .first()
        .filter(|b| b.is_ascii_digit())
        .map(|b| b - b'0')
}

const AUDIT_ARCH_X86_64: u32 = 0xC000_003E;

/// What every dynamically linked glibc program's startup makes before constructors run (the
/// loader's `openat`/`read`/`newfstatat`/`mmap`/`munmap`/`close`, glibc's `prlimit64`), the
/// identity calls every practical filter allows, and `write` (see the module comment). Only the
/// calls the checker itself makes are listed.
const ASSUMED: [c_long; 15] = [
    libc::SYS_read,
    libc::SYS_write,
    libc::SYS_openat,
    libc::SYS_close,
    libc::SYS_newfstatat,
    libc::SYS_mmap,
    libc::SYS_munmap,
    libc::SYS_prlimit64,
    libc::SYS_getpid,
    libc::SYS_gettid,
    libc::SYS_getppid,
    libc::SYS_geteuid,
    libc::SYS_clock_gettime,
    libc::SYS_exit_group,
    libc::SYS_rt_sigreturn,
];

const IN_STRICT: [c_long; 4] = [
    libc::SYS_read,
    libc::SYS_write,
    libc::SYS_exit,
    libc::SYS_rt_sigreturn,
];

/// Whether the checker may make system call `nr` with `args` now.
pub fn permits(nr: c_long, args: &[usize; 6]) -> bool {
    let state = STATE.load(Ordering::Relaxed);
    if state == 0 {
        return true;
    }
    if state & STRICT != 0 && !IN_STRICT.contains(&nr) {
        return false;
    }
    if state & (INHERITED | UNKNOWN) != 0 && !ASSUMED.contains(&nr) {
        return false;
    }
    let data = Data::new(nr, args);
    FILTERS.iter().all(|slot| {
        let len = slot.len.load(Ordering::SeqCst) as usize;
        let insns = slot.insns.load(Ordering::SeqCst);
        if len == 0 || insns.is_null() {
            return true;
        }
        // SAFETY: a published copy of `len` instructions, never unmapped once published.
        let prog = unsafe { core::slice::from_raw_parts(insns, len) };
        run(prog, &data).is_some_and(allows)
    })
}

/// `SECCOMP_RET_ALLOW` and `SECCOMP_RET_LOG` let the call through; every other action (kill,
/// trap, errno, trace, user notification) would change what the program sees.
fn allows(ret: u32) -> bool {
    matches!(ret & 0xffff_0000, 0x7fff_0000 | 0x7ffc_0000)
}

/// `struct seccomp_data`, as the filter reads it (32-bit words).
struct Data([u32; 16]);

impl Data {
    fn new(nr: c_long, args: &[usize; 6]) -> Data {
        let mut w = [0u32; 16];
        w[0] = nr as u32;
        w[1] = AUDIT_ARCH_X86_64;
        for (i, &a) in args.iter().enumerate() {
            let a = a as u64;
            w[4 + 2 * i] = a as u32;
            w[5 + 2 * i] = (a >> 32) as u32;
        }
        Data(w)
    }
}

/// Runs a seccomp classic-BPF program as the kernel does; `None` for anything the kernel's
/// checker (`seccomp_check_filter`) would have refused, which the caller reads as "not allowed".
fn run(prog: &[Insn], data: &Data) -> Option<u32> {
    let (mut a, mut x) = (0u32, 0u32);
    let mut mem = [0u32; 16];
    let mut pc = 0usize;
    // Jumps only go forward, so a program ends within its length.
    for _ in 0..=prog.len() {
        let i = *prog.get(pc)?;
        pc += 1;
        let k = i.k;
        match i.code {
            0x20 => a = *data.0.get(word(k)?)?,       // LD W ABS
            0x80 => a = 64,                           // LD W LEN
            0x81 => x = 64,                           // LDX W LEN
            0x00 => a = k,                            // LD IMM
            0x01 => x = k,                            // LDX IMM
            0x60 => a = *mem.get(k as usize)?,        // LD MEM
            0x61 => x = *mem.get(k as usize)?,        // LDX MEM
            0x02 => *mem.get_mut(k as usize)? = a,    // ST
            0x03 => *mem.get_mut(k as usize)? = x,    // STX
            0x06 => return Some(k),                   // RET K
            0x16 => return Some(a),                   // RET A
            0x07 => x = a,                            // MISC TAX
            0x87 => a = x,                            // MISC TXA
            0x05 => pc = pc.checked_add(k as usize)?, // JMP JA
            c if c & 0x07 == 0x04 => a = alu(c, a, if c & 0x08 != 0 { x } else { k })?,
            c if c & 0x07 == 0x05 => {
                let v = if c & 0x08 != 0 { x } else { k };
                let taken = match c & 0xf0 {
                    0x10 => a == v,
                    0x20 => a > v,
                    0x30 => a >= v,
                    0x40 => a & v != 0,
                    _ => return None,
                };
                pc += if taken { i.jt } else { i.jf } as usize;
            }
            _ => return None,
        }
    }
    None
}

/// The word index of an aligned load inside `seccomp_data`.
fn word(k: u32) -> Option<usize> {
    (k.is_multiple_of(4) && k < 64).then_some(k as usize / 4)
}

fn alu(code: u16, a: u32, v: u32) -> Option<u32> {
    Some(match code & 0xf0 {
        0x00 => a.wrapping_add(v),
        0x10 => a.wrapping_sub(v),
        0x20 => a.wrapping_mul(v),
        0x30 => a.checked_div(v)?,
        0x40 => a | v,
        0x50 => a & v,
        0x60 => a.checked_shl(v).unwrap_or(0),
        0x70 => a.checked_shr(v).unwrap_or(0),
        0x80 => a.wrapping_neg(),
        0x90 => a.checked_rem(v)?,
        0xa0 => a ^ v,
        _ => return None,
    })
}

/// Makes system call `nr` with up to six arguments (widened to registers) if [`permits`] says it
/// may, without touching `errno`: the result, or the kernel's error number, or [`DENIED`].
#[inline]
pub fn syscall(nr: c_long, args: &[usize]) -> Result<usize, c_int> {
    let mut regs = [0usize; 6];
    regs[..args.len()].copy_from_slice(args);
    if !permits(nr, &regs) {
        return Err(DENIED);
    }
    // SAFETY: the callers (the two `sys` modules) pass arguments valid for `nr`.
    let r = unsafe { raw(nr, regs) };
    if (-4095..0).contains(&r) {
        Err(-r as c_int)
    } else {
        Ok(r as usize)
    }
}

/// Ends the process with `code` whatever seccomp says (a filter that forbids `exit_group` ends it
/// too); in strict mode, where only `exit` is allowed, the thread, and the process with it when it
/// is the only one.
pub fn exit(code: c_int) -> ! {
    loop {
        // SAFETY: neither returns on success; nothing is passed by reference.
        unsafe {
            raw(libc::SYS_exit_group, [code as usize, 0, 0, 0, 0, 0]);
            raw(libc::SYS_exit, [code as usize, 0, 0, 0, 0, 0]);
        }
    }
}

#[cfg(target_arch = "x86_64")]
unsafe fn raw(nr: c_long, a: [usize; 6]) -> isize {
    let ret: isize;
    // SAFETY: the kernel's system call convention; it clobbers rcx and r11 only.
    unsafe {
        core::arch::asm!(
            "syscall",
            inlateout("rax") nr as isize => ret,
            in("rdi") a[0],
            in("rsi") a[1],
            in("rdx") a[2],
            in("r10") a[3],
            in("r8") a[4],
            in("r9") a[5],
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        )
    };
    ret
}

#[cfg(not(target_arch = "x86_64"))]
unsafe fn raw(nr: c_long, a: [usize; 6]) -> isize {
    // SAFETY: this thread's errno, kept: libc::syscall sets it on failure, and the checker's
    // callers (the generated interposers) rely on the validators leaving it alone.
    let slot = unsafe { libc::__errno_location() };
    // SAFETY: as above.
    let saved = unsafe { *slot };
    // SAFETY: as above.
    let r = unsafe { libc::syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]) };
    // SAFETY: as above.
    let ret = if r == -1 {
        -(unsafe { *slot } as isize)
    } else {
        r as isize
    };
    // SAFETY: as above.
    unsafe { *slot = saved };
    ret
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn stmt(code: u16, k: u32) -> Insn {
        Insn {
            code,
            jt: 0,
            jf: 0,
            k,
        }
    }
    const fn jeq(k: u32, jt: u8, jf: u8) -> Insn {
        Insn {
            code: 0x15,
            jt,
            jf,
            k,
        }
    }

    /// Allow everything but `fcntl` (killed) and `mincore` (EPERM), like a sandbox would.
    fn sandbox() -> [Insn; 7] {
        [
            stmt(0x20, 4), // arch
            jeq(AUDIT_ARCH_X86_64, 1, 0),
            stmt(0x06, 0), // kill
            stmt(0x20, 0), // nr
            jeq(libc::SYS_fcntl as u32, 2, 0),
            jeq(libc::SYS_mincore as u32, 2, 0),
            stmt(0x06, 0x7fff_0000),
        ]
    }

    fn verdict(prog: &[Insn], nr: c_long, args: [usize; 6]) -> Option<u32> {
        run(prog, &Data::new(nr, &args))
    }

    #[test]
    fn a_filter_runs_as_the_kernel_runs_it() {
        let mut p = sandbox().to_vec();
        assert_eq!(verdict(&p, libc::SYS_fcntl, [0; 6]), None); // jumps past the end
        p.push(stmt(0x06, 0x8000_0000)); // fcntl: kill process
        p.push(stmt(0x06, 0x0005_0001)); // mincore: EPERM
        assert_eq!(verdict(&p, libc::SYS_read, [0; 6]), Some(0x7fff_0000));
        assert_eq!(verdict(&p, libc::SYS_fcntl, [0; 6]), Some(0x8000_0000));
        assert_eq!(verdict(&p, libc::SYS_mincore, [0; 6]), Some(0x0005_0001));
        let mut other_arch = Data::new(libc::SYS_read, &[0; 6]);
        other_arch.0[1] = 0x4000_0003; // i386
        assert_eq!(run(&p, &other_arch), Some(0));
        assert!(!allows(0x0005_0001) && !allows(0x8000_0000) && !allows(0));
        assert!(allows(0x7fff_0000) && allows(0x7ffc_0000));
    }

    #[test]
    fn arguments_are_read_as_two_words_each() {
        // Allow write only to fd 2 (upper word 0): `A = args[0] low; if A == 2 && high == 0`.
        let p = [
            stmt(0x20, 16),
            jeq(2, 0, 2),
            stmt(0x20, 20),
            jeq(0, 1, 0),
            stmt(0x06, 0),
            stmt(0x06, 0x7fff_0000),
        ];
        assert!(verdict(&p, libc::SYS_write, [2, 0, 0, 0, 0, 0]).is_some_and(allows));
        assert!(!verdict(&p, libc::SYS_write, [1, 0, 0, 0, 0, 0]).is_some_and(allows));
        assert!(!verdict(&p, libc::SYS_write, [2 | 1 << 32, 0, 0, 0, 0, 0]).is_some_and(allows));
    }

    #[test]
    fn what_the_kernel_would_refuse_is_not_allowed() {
        for bad in [
            [stmt(0x20, 2), stmt(0x06, 0x7fff_0000)],  // unaligned load
            [stmt(0x20, 64), stmt(0x06, 0x7fff_0000)], // beyond seccomp_data
            [stmt(0x28, 0), stmt(0x06, 0x7fff_0000)],  // LD H ABS
            [stmt(0x34, 0), stmt(0x06, 0x7fff_0000)],  // DIV by K 0
        ] {
            assert_eq!(verdict(&bad, 0, [0; 6]), None);
        }
        assert_eq!(verdict(&[stmt(0x00, 1)], 0, [0; 6]), None); // falls off the end
    }

    #[test]
    fn the_status_field_is_found() {
        let s = b"Name:\tx\nNoNewPrivs:\t1\nSeccomp:\t2\nSeccomp_filters:\t1\n";
        assert_eq!(seccomp_mode(s), Some(2));
        assert_eq!(seccomp_mode(b"Name:\tx\n"), None);
        assert_eq!(
            seccomp_mode(b"Seccomp:\t2\n"),
            None,
            "not a field: no line before"
        );
        assert_eq!(seccomp_mode(b"Name:\tx\nSeccomp:\t0"), Some(0));
        assert_eq!(seccomp_mode(b"Name:\tx\nSeccomp:\t\n"), None);
    }
}
