//! Hand-coded interposers: the functions the generator leaves alone (`hand` in `db/semantics`):
//! C variadics that walk their own arguments, and the allocator. They use the same runtime API as
//! generated code and run the database's rules through the generated `checks::NAME` functions;
//! the exported names are listed in `tests/exports.rs`.
//!
//! Deliberately not interposed: `setjmp`, `_setjmp`, `sigsetjmp` and `vfork` return twice (a
//! wrapper frame would be gone, or shared with the parent, when they return the second time).
//! `dlopen` and `dlsym` resolve relative to their caller, so the generator interposes them with
//! tail-jumping trampolines rather than here.

/// Reports a failed check: `check!(call, pos, "name", value, verdict)`, `value` an [`rt::Value`].
macro_rules! check {
    ($call:expr, $pos:expr, $name:expr, $value:expr, $verdict:expr) => {
        if let Err(ref f) = $verdict {
            $call.violation($pos, $name, $value, f);
        }
    };
}

/// Defines the exported variadic symbols as naked jumps to their C shim bodies, so that the
/// caller's variadic arguments (registers, stack, and `%al`) reach the shim untouched.
macro_rules! variadic_trampolines {
    ($($name:ident => $shim:ident),* $(,)?) => {
        extern "C" {
            $(fn $shim();)*
        }
        $(
            #[doc = concat!("`", stringify!($name), "`: jumps to the C shim that gathers its `...`.")]
            #[unsafe(naked)]
            #[no_mangle]
            pub unsafe extern "C" fn $name() {
                core::arch::naked_asm!("jmp {}", sym $shim)
            }
        )*
    };
}

mod alloc;
mod exec;
mod format;
mod mem;
mod open;
mod seccomp;
mod signal;
// Not in the unit-test binary: there the runtime's own strlen calls (which the library links to
// private copies, see build.rs) would reach it while it resolves the original.
#[cfg(not(test))]
mod string;
