//! A panic in the checker ends the process at once, never unwinding into the program.
//!
//! The library is built with `panic = "unwind"` so that a foreign unwind (`pthread_exit`, thread
//! cancellation, a C++ exception from a callback) passes through the interposers: with
//! `panic = "abort"` every Rust frame is "cannot unwind" and aborts on it. The interposers are
//! therefore `extern "C-unwind"`, through which a Rust panic would travel into C code; the hook
//! installed here runs before any unwinding starts and aborts instead. It writes one line with raw
//! system calls and never formats the panic message (that could allocate through the interposed
//! allocator, or recurse into the checker).

use core::fmt::Write;

use dynchk_record::Buf;

use super::sys;

/// Replaces the default hook. The hook is a function item (zero-sized), so boxing it allocates
/// nothing; nor does dropping the default hook it replaces.
pub fn install() {
    std::panic::set_hook(Box::new(abort_on_panic));
}

fn abort_on_panic(info: &std::panic::PanicHookInfo<'_>) {
    let mut mem = [0u8; 256];
    let mut line = Buf::new(&mut mem);
    line.push(b"dynchk: internal error: panic");
    if let Some(at) = info.location() {
        let _ = write!(line, " at {}:{}", at.file(), at.line());
    }
    line.push(b"; aborting");
    sys::write_all(2, line.finish_line());
    sys::abort();
}
