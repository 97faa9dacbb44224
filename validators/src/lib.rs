//! Layer-3 semantic validators of dynchk.
//!
//! Each module is named after the semantic type it checks (`fd`, `mem`, `path`, …). Every
//! validator returns a [`Verdict`]; it never allocates, never takes a lock a signal handler could
//! deadlock on, and never calls a C-library function that libdynchk interposes (raw syscalls only),
//! so it is safe from any thread, from signal handlers and before `main`.

mod verdict;

pub use verdict::{Fault, Msg, Verdict};
