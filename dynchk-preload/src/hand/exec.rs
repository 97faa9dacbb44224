//! `execl`, `execlp` and `execle`: C-variadic argument lists, which their C shim gathers into an
//! argv array on its stack before calling [`dynchk_exec_call`]. The rest of the exec family is
//! generated (with the `summary` and `exec_failed` hooks); these run the same checks and hooks by
//! hand.

use core::ffi::{c_char, c_int, c_void};

use crate::generated::checks;
use crate::rt::{self, hooks, Iface, Real};

type Argv = *const *const c_char;
type ExecveFn = unsafe extern "C-unwind" fn(*const c_char, Argv, Argv) -> c_int;
type ExecvFn = unsafe extern "C-unwind" fn(*const c_char, Argv) -> c_int;

static EXECL: Iface = Iface::new("execl", "libc", "GLIBC_2.2.5");
static EXECLP: Iface = Iface::new("execlp", "libc", "GLIBC_2.2.5");
static EXECLE: Iface = Iface::new("execle", "libc", "GLIBC_2.2.5");

static REAL_EXECVE: Real = Real::new(c"execve", c"GLIBC_2.2.5");
static REAL_EXECV: Real = Real::new(c"execv", c"GLIBC_2.2.5");
static REAL_EXECVP: Real = Real::new(c"execvp", c"GLIBC_2.2.5");

/// Runs the database's checks of `iface`, writes the summary, and execs (returning only on
/// failure, with the real errno, after which counting starts again).
///
/// # Safety
/// `argv` is the shim's NULL-terminated array (at least one element).
unsafe fn checked_exec(
    iface: &'static Iface,
    path: *const c_char,
    argv: Argv,
    envp: Option<Argv>,
    check: unsafe fn(&rt::Call, *mut c_void, *mut c_void),
    real: impl FnOnce() -> c_int,
) -> c_int {
    let real = || {
        let r = real();
        hooks::exec_failed();
        r
    };
    let Some(call) = rt::enter(iface) else {
        hooks::exec_summary();
        return real();
    };
    // SAFETY: argv[0] is on the shim's stack; the checks read only memory they proved mapped.
    unsafe { check(&call, path as *mut c_void, *argv as *mut c_void) };
    // The rest of the list, which the database cannot name (`...`): each a string, as execv's
    // `strarray` rule asks of its argv (the shim stopped at the first NULL, so the array ends).
    // SAFETY: argv has at least its first element and the NULL after the list.
    let rest = if unsafe { *argv }.is_null() {
        argv
    } else {
        unsafe { argv.add(1) }
    };
    // SAFETY: only reads what it proves readable.
    let value = rt::Value::Pointer(rest as u64);
    check!(call, 2, "...", value, unsafe {
        validators::argv::strings(rest.cast())
    });
    if let Some(envp) = envp {
        // SAFETY: as above.
        let value = rt::Value::Pointer(envp as u64);
        check!(call, 3, "envp", value, unsafe {
            validators::argv::strings(envp.cast())
        });
    }
    hooks::exec_summary();
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
    // SAFETY: the shim passes the caller's path and a NULL-terminated argv on its stack; the
    // prototypes match glibc's.
    unsafe {
        match which {
            0 => checked_exec(&EXECL, path, argv, None, checks::execl, || {
                REAL_EXECV.get::<ExecvFn>()(path, argv)
            }),
            1 => checked_exec(&EXECLP, path, argv, None, checks::execlp, || {
                REAL_EXECVP.get::<ExecvFn>()(path, argv)
            }),
            _ => checked_exec(&EXECLE, path, argv, Some(envp), checks::execle, || {
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
