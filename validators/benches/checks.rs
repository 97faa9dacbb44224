//! Cost per check class, in ns, measured on the hot path (map cache hit): `cargo bench -p validators`.
//!
//! Targets from the design: scalar checks <= 10 ns, pointer/range checks <= 30 ns; issue 10:
//! <= 15 ns added per malloc+free pair, <= 10 ns per heap-pointer check.

// Verdicts carry their message inline (no allocation), as the library's own functions do.
#![allow(clippy::result_large_err)]

use std::ffi::c_void;
use std::hint::black_box;
use std::time::Instant;
use validators::{fd, flags, heap, mem, path, scalar, stream, Verdict};

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
    fn malloc(n: usize) -> *mut c_void;
    fn free(p: *mut c_void);
}

/// Best of five runs of `ROUNDS` calls of `f`, in ns per call.
fn time(name: &str, mut f: impl FnMut()) -> f64 {
    let best = (0..5)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..ROUNDS {
                f();
            }
            t.elapsed().as_nanos() as f64 / ROUNDS as f64
        })
        .fold(f64::INFINITY, f64::min);
    println!("{name:<40} {best:>8.1} ns");
    best
}

/// Resident kilobytes of this process.
fn rss_kb() -> usize {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .expect("VmRSS");
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// A stand-in for the return address into the allocator's caller.
const SITE: usize = 0x5555_0000_1000;

/// Memory the block record costs per live block: the same blocks allocated once unrecorded
/// (their heap pages become resident), freed, then again recorded; the growth is the shadow's.
fn shadow_per_block() {
    const BLOCKS: usize = 1 << 20;
    let mut ptrs = Vec::with_capacity(BLOCKS);
    for record in [false, true] {
        let before = rss_kb();
        for i in 0..BLOCKS {
            let n = 16 + (i % 4) * 16;
            // SAFETY: glibc's allocator.
            let p = unsafe { malloc(n) };
            if record {
                // SAFETY: just returned by malloc.
                unsafe { heap::allocated(p, n, heap::Site::of(SITE)) };
            }
            ptrs.push(p);
        }
        let grown = rss_kb() - before;
        println!(
            "{:<40} {:>8.1} bytes per live block",
            if record {
                "RSS growth, recorded (shadow)"
            } else {
                "RSS growth, plain (heap)"
            },
            (grown * 1024) as f64 / BLOCKS as f64
        );
        for p in ptrs.drain(..) {
            // SAFETY: each block once.
            unsafe {
                heap::released(p, heap::Site::of(SITE));
                free(p);
            }
        }
    }
}

/// What the allocator interposers add to a malloc/free pair (the block record), and what a
/// buffer check into a live block costs beside one into the stack.
fn heap_blocks() {
    println!("heap blocks (glibc malloc/free, 16..272 bytes)");
    let mut n = 0usize;
    let mut size = || {
        n = (n + 16) % 256;
        16 + n
    };
    // SAFETY: glibc's allocator; each block is freed once.
    let plain = time("malloc+free", || unsafe {
        free(black_box(malloc(size())));
    });
    // SAFETY: as above, recorded as the interposers do.
    let recorded = time("malloc+free, recorded", || unsafe {
        let s = size();
        let p = malloc(s);
        heap::allocated(p, s, heap::Site::of(black_box(SITE)));
        heap::released(black_box(p), heap::Site::of(black_box(SITE + 8)));
        free(p);
    });
    println!("{:<40} {:>8.1} ns", "  added per pair", recorded - plain);
    shadow_per_block();
    // SAFETY: a live block, recorded.
    let block = unsafe { malloc(256) };
    // SAFETY: just returned by malloc.
    unsafe { heap::allocated(block, 256, heap::Site::UNKNOWN) };
    let inner = (block as usize + 100) as *const c_void;
    measure("mem::writable(heap block, 256)", || unsafe {
        mem::writable(black_box(block), 256)
    });
    measure("mem::writable(heap block + 100, 156)", || unsafe {
        mem::writable(black_box(inner), 156)
    });
    measure("heap::within(heap block, 256)", || {
        heap::within(black_box(block), 256, "RWaddress")
    });
    measure_expecting(
        "mem::writable(heap block, 257) (a fault)",
        false,
        ROUNDS,
        || unsafe { mem::writable(black_box(block), 257) },
    );
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
    heap_blocks();
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
