//! Whole-program overhead of the checker: real programs run plainly and under libdynchk.so,
//! alternately (A/B/A/B…) so that machine noise hits both sides alike, and the ratio of the median
//! wall times printed. The design target is ≤ 1.10× on `ls -lR /usr/share/doc`.
//!
//! `cargo bench -p dynchk-cli --bench overhead` (the libdynchk.so built into dynchk);
//! `DYNCHK_BENCH_RUNS=N` sets the number of pairs (default 21).

#[path = "../tests/common/mod.rs"]
mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// (name, argv): call-heavy programs whose output does not depend on the run.
const WORKLOADS: [(&str, &[&str]); 4] = [
    ("ls -lR /usr/share/doc", &["ls", "-lR", "/usr/share/doc"]),
    (
        "grep -r include /usr/include",
        &["grep", "-r", "-c", "include", "/usr/include"],
    ),
    ("sort /etc/services", &["sort", "/etc/services"]),
    (
        "tar cf - /usr/share/doc",
        &["tar", "cf", "-", "/usr/share/doc"],
    ),
];

fn time(argv: &[&str], preload: Option<&std::path::Path>, log: &std::path::Path) -> Duration {
    let mut cmd = Command::new(argv[0]);
    cmd.args(&argv[1..])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    if let Some(lib) = preload {
        cmd.env("LD_PRELOAD", lib).env("DYNCHK_LOG", log);
    }
    let start = Instant::now();
    let status = cmd.status().expect("workload runs");
    let took = start.elapsed();
    assert!(
        status.success() || argv[0] == "grep",
        "{argv:?} failed: {status}"
    );
    took
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let lib = common::lib();
    let runs: usize = std::env::var("DYNCHK_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(21);
    let dir = std::env::temp_dir().join(format!("dynchk-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let log = dir.join("log.%p");
    println!(
        "{:<34} {:>10} {:>10} {:>7} {:>10}",
        "workload", "plain", "dynchk", "ratio", "calls"
    );
    for (name, argv) in WORKLOADS {
        let (mut plain, mut checked) = (Vec::new(), Vec::new());
        // One warm-up of each fills the page cache.
        time(argv, None, &log);
        time(argv, Some(lib), &log);
        for _ in 0..runs {
            plain.push(time(argv, None, &log));
            checked.push(time(argv, Some(lib), &log));
        }
        let calls = last_summary_calls(&dir);
        let (p, c) = (median(plain), median(checked));
        println!(
            "{name:<34} {:>8.1}ms {:>8.1}ms {:>6.2}x {calls:>10}",
            p.as_secs_f64() * 1e3,
            c.as_secs_f64() * 1e3,
            c.as_secs_f64() / p.as_secs_f64()
        );
        for e in std::fs::read_dir(&dir).unwrap().flatten() {
            let _ = std::fs::remove_file(e.path());
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The `calls` of a summary record in the logs of the last workload (all runs do the same work).
fn last_summary_calls(dir: &std::path::Path) -> u64 {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let text = std::fs::read_to_string(e.path()).unwrap_or_default();
        for line in text.lines().rev() {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(line) {
                if v["kind"] == "summary" {
                    return v["calls"].as_u64().unwrap_or(0);
                }
            }
        }
    }
    0
}
