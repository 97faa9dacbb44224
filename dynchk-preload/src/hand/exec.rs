//! The exec family. The summary record is written before the real call: a successful exec
//! replaces the image, and with it the counters; after a failed one, counting starts again
//! towards another summary. `execl`, `execlp` and `execle` are variadic; their
//! C shim gathers the list into an argv array and calls [`dynchk_exec_call`].

use core::ffi::{c_char, c_int, c_void};

use validators::{fd, mem, path};

use crate::rt::{self, report, Iface, Real};

type Argv = *const *const c_char;

/// The checks shared by the family: a pathname, and argv/envp readable (their first element).
unsafe fn check(call: &rt::Call, file: Option<*const c_char>, argv: Argv, envp: Option<Argv>) {
    if let Some(file) = file {
        // SAFETY: validators read only memory they have proven mapped.
        check!(call, 0, "pathname", file, unsafe {
            path::pathname(file as *const c_void)
        });
    }
    // SAFETY: as above.
    check!(call, 1, "argv", argv, unsafe {
        mem::readable(argv as *const c_void, size_of::<usize>())
    });
    if let Some(envp) = envp {
        // SAFETY: as above.
        check!(call, 2, "envp", envp, unsafe {
            mem::readable(envp as *const c_void, size_of::<usize>())
        });
    }
}

/// A failed exec returns: the process goes on counting (atomics only, `errno` is kept).
fn keep_counting(real: impl FnOnce() -> c_int) -> impl FnOnce() -> c_int {
    || {
        let r = real();
        report::after_failed_exec();
        r
    }
}

/// Checks, writes the summary, and execs (returning only on failure, with the real errno).
unsafe fn checked_exec(
    iface: &'static Iface,
    file: Option<*const c_char>,
    argv: Argv,
    envp: Option<Argv>,
    real: impl FnOnce() -> c_int,
) -> c_int {
    let real = keep_counting(real);
    let Some(call) = rt::enter(iface) else {
        report::summary();
        return real();
    };
    // SAFETY: only checks.
    unsafe { check(&call, file, argv, envp) };
    report::summary();
    call.forward(real)
}

static EXECVE: Iface = Iface {
    name: "execve",
    lib: "libc",
    version: "GLIBC_2.2.5",
};
static EXECV: Iface = Iface {
    name: "execv",
    lib: "libc",
    version: "GLIBC_2.2.5",
};
static EXECVP: Iface = Iface {
    name: "execvp",
    lib: "libc",
    version: "GLIBC_2.2.5",
};
static EXECVPE: Iface = Iface {
    name: "execvpe",
    lib: "libc",
    version: "GLIBC_2.11",
};
static FEXECVE: Iface = Iface {
    name: "fexecve",
    lib: "libc",
    version: "GLIBC_2.2.5",
};
static EXECL: Iface = Iface {
    name: "execl",
    lib: "libc",
    version: "GLIBC_2.2.5",
};
static EXECLP: Iface = Iface {
    name: "execlp",
    lib: "libc",
    version: "GLIBC_2.2.5",
};
static EXECLE: Iface = Iface {
    name: "execle",
    lib: "libc",
    version: "GLIBC_2.2.5",
};

static REAL_EXECVE: Real = Real::new(c"execve", c"GLIBC_2.2.5");
static REAL_EXECV: Real = Real::new(c"execv", c"GLIBC_2.2.5");
static REAL_EXECVP: Real = Real::new(c"execvp", c"GLIBC_2.2.5");
static REAL_EXECVPE: Real = Real::new(c"execvpe", c"GLIBC_2.11");

type ExecveFn = unsafe extern "C-unwind" fn(*const c_char, Argv, Argv) -> c_int;
type ExecvFn = unsafe extern "C-unwind" fn(*const c_char, Argv) -> c_int;

/// `execve(2)`.
#[no_mangle]
pub unsafe extern "C-unwind" fn execve(path: *const c_char, argv: Argv, envp: Argv) -> c_int {
    // SAFETY: the prototype matches glibc's; the caller's arguments are passed unchanged.
    unsafe {
        checked_exec(&EXECVE, Some(path), argv, Some(envp), || {
            REAL_EXECVE.get::<ExecveFn>()(path, argv, envp)
        })
    }
}

/// `execv(3)`.
#[no_mangle]
pub unsafe extern "C-unwind" fn execv(path: *const c_char, argv: Argv) -> c_int {
    // SAFETY: as execve.
    unsafe {
        checked_exec(&EXECV, Some(path), argv, None, || {
            REAL_EXECV.get::<ExecvFn>()(path, argv)
        })
    }
}

/// `execvp(3)`.
#[no_mangle]
pub unsafe extern "C-unwind" fn execvp(file: *const c_char, argv: Argv) -> c_int {
    // SAFETY: as execve.
    unsafe {
        checked_exec(&EXECVP, Some(file), argv, None, || {
            REAL_EXECVP.get::<ExecvFn>()(file, argv)
        })
    }
}

/// `execvpe(3)`.
#[no_mangle]
pub unsafe extern "C-unwind" fn execvpe(file: *const c_char, argv: Argv, envp: Argv) -> c_int {
    // SAFETY: as execve.
    unsafe {
        checked_exec(&EXECVPE, Some(file), argv, Some(envp), || {
            REAL_EXECVPE.get::<ExecveFn>()(file, argv, envp)
        })
    }
}

/// `fexecve(3)`: `fd` must be open.
#[no_mangle]
pub unsafe extern "C-unwind" fn fexecve(fd: c_int, argv: Argv, envp: Argv) -> c_int {
    static REAL: Real = Real::new(c"fexecve", c"GLIBC_2.2.5");
    let real = keep_counting(|| {
        // SAFETY: as execve.
        unsafe {
            REAL.get::<unsafe extern "C-unwind" fn(c_int, Argv, Argv) -> c_int>()(fd, argv, envp)
        }
    });
    let Some(call) = rt::enter(&FEXECVE) else {
        report::summary();
        return real();
    };
    check!(call, 0, "fd", fd, fd::open(fd as i64));
    // SAFETY: only checks.
    unsafe { check(&call, None, argv, Some(envp)) };
    report::summary();
    call.forward(real)
}

/// Called by the C shim for `execl` (0), `execlp` (1) and `execle` (2) with the list gathered into
/// `argv`; forwards to `execv`, `execvp` and `execve` of the C library.
#[no_mangle]
pub unsafe extern "C-unwind" fn dynchk_exec_call(
    which: c_int,
    path: *const c_char,
    argv: Argv,
    envp: Argv,
) -> c_int {
    // SAFETY: the shim passes the caller's path and a NULL-terminated argv on its stack.
    unsafe {
        match which {
            0 => checked_exec(&EXECL, Some(path), argv, None, || {
                REAL_EXECV.get::<ExecvFn>()(path, argv)
            }),
            1 => checked_exec(&EXECLP, Some(path), argv, None, || {
                REAL_EXECVP.get::<ExecvFn>()(path, argv)
            }),
            _ => checked_exec(&EXECLE, Some(path), argv, Some(envp), || {
                REAL_EXECVE.get::<ExecveFn>()(path, argv, envp)
            }),
        }
    }
}

variadic_trampolines! {
    execl => dynchk_shim_execl,
    execlp => dynchk_shim_execlp,
    execle => dynchk_shim_execle,
}
