//! Cost per check class, in ns, measured on the hot path (map cache hit): `cargo bench -p validators`.
//!
//! Targets from the design: scalar checks <= 10 ns, pointer/range checks <= 30 ns.

// Verdicts carry their message inline (no allocation), as the library's own functions do.
#![allow(clippy::result_large_err)]

use std::ffi::c_void;
use std::hint::black_box;
use std::time::Instant;
use validators::{fd, flags, mem, path, scalar, stream, Verdict};

const ROUNDS: u32 = 2_000_000;

/// Best of five runs of `ROUNDS` checks, in ns per check; every verdict must be Ok.
fn measure(name: &str, check: impl FnMut() -> Verdict) {
    measure_expecting(name, true, ROUNDS, check)
}

/// As [`measure`], for checks that must find a fault (`ok == false`).
fn measure_expecting(name: &str, ok: bool, rounds: u32, mut check: impl FnMut() -> Verdict) {
    let best = (0..5)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..rounds {
                assert_eq!(black_box(check().is_ok()), ok, "{name}");
            }
            t.elapsed().as_nanos() as f64 / rounds as f64
        })
        .fold(f64::INFINITY, f64::min);
    println!("{name:<40} {best:>8.1} ns");
}

extern "C" {
    static stdout: *mut c_void;
}

fn main() {
    let buf = [1u8; 4096];
    let text = c"a string of thirty-two bytes....";
    let dir = c"/usr/share/doc/dynchk/README.md";
    let p = buf.as_ptr().cast::<c_void>();
    println!("loop overhead");
    measure("Ok(())", || black_box(Ok(())));
    println!("scalar");
    measure("fd::valid(3)", || fd::valid(black_box(3)));
    measure("flags::open(O_WRONLY|O_CREAT|O_TRUNC)", || {
        flags::open(black_box(0o1101))
    });
    measure("scalar::range(5, 0, 10)", || {
        scalar::range(black_box(5), 0, 10)
    });
    println!("pointer (map cache hit)");
    measure("mem::readable(stack, 64)", || unsafe {
        mem::readable(black_box(p), 64)
    });
    measure("mem::writable(stack, 4096)", || unsafe {
        mem::writable(black_box(p), 4096)
    });
    measure("stream::file(stdout)", || unsafe {
        stream::file(black_box(stdout))
    });
    measure_expecting(
        "mem::readable(0x10, 4) (a fault)",
        false,
        ROUNDS,
        || unsafe { mem::readable(black_box(0x10 as *const c_void), 4) },
    );
    println!("string");
    measure("mem::string(32 bytes)", || unsafe {
        mem::string(black_box(text.as_ptr().cast()))
    });
    measure("path::pathname(31 bytes)", || unsafe {
        path::pathname(black_box(dir.as_ptr().cast()))
    });
    println!("syscall-backed");
    measure("fd::open(1) (fcntl F_GETFD)", || fd::open(black_box(1)));
    println!("map re-reads");
    let before = mem::refreshes();
    measure_expecting(
        "mem::readable(1 << 46, 4) (re-reads)",
        false,
        2000,
        || unsafe { mem::readable(black_box((1usize << 46) as *const c_void), 4) },
    );
    println!("re-reads during the run: {}", mem::refreshes() - before);
}
