//! Process-level calls the runtime must see: `fork` (the child's own counters and log come from
//! the `pthread_atfork` handler the constructor registers, which also covers forks the program
//! makes through other paths), `_exit`/`_Exit` (the summary, since no destructor runs), and the
//! resource-limit setters (the descriptor range of the `filedescriptor` check follows
//! `RLIMIT_NOFILE`), and `prctl` (seccomp's strict mode leaves the checker only `read` and `write`).

use core::ffi::{c_int, c_ulong};

use crate::rt::{self, report, Iface, Real};

static FORK: Iface = Iface {
    name: "fork",
    lib: "libc",
    version: "GLIBC_2.2.5",
};

/// `fork(2)`.
#[no_mangle]
pub unsafe extern "C-unwind" fn fork() -> libc::pid_t {
    static REAL: Real = Real::new(c"fork", c"GLIBC_2.2.5");
    // SAFETY: the prototype matches glibc's.
    let real: unsafe extern "C-unwind" fn() -> libc::pid_t = unsafe { REAL.get() };
    match rt::enter(&FORK) {
        // SAFETY: no arguments.
        Some(call) => call.forward(|| unsafe { real() }),
        // SAFETY: no arguments.
        None => unsafe { real() },
    }
}

/// Defines `_exit` and `_Exit`: the summary, then the real call.
macro_rules! exits {
    ($($name:ident),*) => {
        $(
            #[doc = concat!("`", stringify!($name), "(2)`: writes the summary first.")]
            #[no_mangle]
            pub unsafe extern "C-unwind" fn $name(status: c_int) -> ! {
                static IFACE: Iface = Iface { name: stringify!($name), lib: "libc", version: "GLIBC_2.2.5" };
                static REAL: Real = Real::new(
                    rt::cstr(concat!(stringify!($name), "\0")),
                    c"GLIBC_2.2.5",
                );
                // SAFETY: the prototype matches glibc's.
                let real: unsafe extern "C-unwind" fn(c_int) -> ! = unsafe { REAL.get() };
                let call = rt::enter(&IFACE);
                report::summary();
                match call {
                    // SAFETY: the caller's argument.
                    Some(call) => call.forward(|| unsafe { real(status) }),
                    // SAFETY: as above.
                    None => unsafe { real(status) },
                }
            }
        )*
    };
}

exits!(_exit, _Exit);

/// Defines the limit setters: forward, then re-read `RLIMIT_NOFILE` when the call succeeded.
macro_rules! limit_setters {
    ($($name:ident($($p:ident: $t:ty),*) @ $ver:literal;)*) => {
        $(
            #[doc = concat!("`", stringify!($name), "(2)`, then the descriptor limit is re-read.")]
            #[no_mangle]
            pub unsafe extern "C-unwind" fn $name($($p: $t),*) -> c_int {
                static IFACE: Iface = Iface { name: stringify!($name), lib: "libc", version: $ver };
                static REAL: Real = Real::new(
                    rt::cstr(concat!(stringify!($name), "\0")),
                    rt::cstr(concat!($ver, "\0")),
                );
                // SAFETY: the prototype matches glibc's.
                let real: unsafe extern "C-unwind" fn($($t),*) -> c_int = unsafe { REAL.get() };
                let after = || {
                    // SAFETY: the caller's arguments.
                    let r = unsafe { real($($p),*) };
                    if r == 0 {
                        // A raw prlimit64 syscall that succeeds does not touch errno.
                        validators::fd::refresh_limit();
                    }
                    r
                };
                match rt::enter(&IFACE) {
                    Some(call) => call.forward(after),
                    None => after(),
                }
            }
        )*
    };
}

limit_setters! {
    setrlimit(resource: c_int, rlim: *const libc::rlimit) @ "GLIBC_2.2.5";
    setrlimit64(resource: c_int, rlim: *const libc::rlimit64) @ "GLIBC_2.2.5";
    prlimit(pid: libc::pid_t, resource: c_int, new: *const libc::rlimit, old: *mut libc::rlimit) @ "GLIBC_2.13";
    prlimit64(pid: libc::pid_t, resource: c_int, new: *const libc::rlimit64, old: *mut libc::rlimit64) @ "GLIBC_2.13";
}

static PRCTL: Iface = Iface {
    name: "prctl",
    lib: "libc",
    version: "GLIBC_2.2.5",
};

/// `prctl(2)`. Every option takes up to four `unsigned long` arguments, all passed in registers:
/// they are forwarded as they came, whether the option uses them or not. Before a request for
/// seccomp's strict mode, the validators are told to make no system call but `read` and `write`.
#[no_mangle]
pub unsafe extern "C-unwind" fn prctl(
    option: c_int,
    a2: c_ulong,
    a3: c_ulong,
    a4: c_ulong,
    a5: c_ulong,
) -> c_int {
    static REAL: Real = Real::new(c"prctl", c"GLIBC_2.2.5");
    // SAFETY: the prototype matches glibc's.
    let real: unsafe extern "C-unwind" fn(c_int, ...) -> c_int = unsafe { REAL.get() };
    if option == libc::PR_SET_SECCOMP && a2 == libc::SECCOMP_MODE_STRICT as c_ulong {
        validators::enter_strict();
    }
    // SAFETY: the caller's arguments.
    let forward = || unsafe { real(option, a2, a3, a4, a5) };
    match rt::enter(&PRCTL) {
        Some(call) => call.forward(forward),
        None => forward(),
    }
}
