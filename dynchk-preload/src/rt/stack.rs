//! How much stack the reporter may use: a violation can come from a signal handler on a small
//! alternate stack (`SIGSTKSZ`, 8 KiB, of which the kernel's signal frame takes 3-4 KiB) or from
//! a thread created with a `PTHREAD_STACK_MIN` stack. Writing a record with a backtrace takes about
//! 9 KiB (measured by tests/stacks.rs); below that the record is written without frames from a
//! smaller buffer, and with too little stack even for that the violation is only counted.

use super::{sys, thread};

/// Room needed for the whole record: the unwinder (about 3 KiB), module lookups, the 4 KiB
/// record buffer, with a margin.
pub const FOR_BACKTRACE: usize = 14 * 1024;

/// Room needed for a record without frames, built in a 1 KiB buffer.
pub const FOR_RECORD: usize = 4096;

/// Bytes between the current stack pointer and the bottom of the stack it is on: the alternate
/// signal stack when running on it, otherwise the mapped region holding it (unbounded for the
/// main thread's growing stack, or when the map cannot tell).
pub fn room() -> usize {
    let sp = thread::stack_pointer();
    let lo = sys::alt_stack_base().or_else(|| validators::mem::region_start(sp));
    lo.map_or(usize::MAX, |lo| sp.saturating_sub(lo))
}
