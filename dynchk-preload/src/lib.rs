//! libdynchk.so: preloaded into a program (`LD_PRELOAD`), it checks every call the program makes
//! into the C libraries against the specification database before forwarding it.
//!
//! - [`rt`]: the runtime (originals, per-thread guard, reports), docs/architecture.md section 4;
//! - `hand`: the interposers the generator leaves to hand-written code (allocators, variadic and
//!   frame-sensitive functions, and those that must update the checker's own state);
//! - `generated`: the interposers `dynchk-gen` writes from `db/` at build time.

pub mod rt;

mod hand;

// The interposers inside are left out of the unit-test binary (see the template); the struct
// validators and the check functions of the hand-coded interfaces are in both.
#[allow(unused_imports, unused_variables, non_snake_case, clippy::all)]
#[cfg_attr(test, allow(dead_code))]
mod generated {
    include!(concat!(env!("OUT_DIR"), "/generated.rs"));
}
