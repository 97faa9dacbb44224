//! Whole-program overhead of the checker, against the floor of interposition itself.
//!
//! Every workload runs plainly, under libdynchk.so (all checks on, records to a file) and under a
//! null interposer built here from libdynchk.so's export list (see `null.rs`), in rotation
//! (plain, checked, null, plain, …) so that machine noise hits all three alike. Printed per row:
//! the plain median, and for the checker and the null interposer the median of the per-round
//! ratios to the plain run with their min–max; beside the checker's, the same ratio of the CPU
//! time (user + system, from `wait4`) the runs used, which time spent waiting for a shared or
//! stolen CPU does not inflate. Ratios survive a loaded machine; absolute times do not. Then a thread-scaling row per thread count (a C program making small checked calls
//! on 1, 2, 4, 8 threads), the heap rows (a C program timing its own loop of malloc/free pairs
//! or of `memcmp` calls on heap, stack and deep big-block pointers: nanoseconds per operation
//! added over plain, median of the per-round differences), the server rows (the services of
//! matrix/debian.toml under load, through `dynchk certify`: throughput over plain, see
//! [`servers`]), the memory row (`ls -lR`'s maximum resident set, MiB over plain, median of the
//! per-round differences) and the startup cost (`/bin/true`, milliseconds over plain).
//!
//! `cargo bench -p dynchk-cli --bench overhead [-- FILTER…]` runs the rows whose name contains a
//! FILTER (all without one); `DYNCHK_BENCH_RUNS=N` sets the rounds per row (default 15, startup
//! 5×N); `DYNCHK_BENCH_BASELINE=PATH` adds another libdynchk.so (a build before a change) to the
//! rotation of the workload, thread and startup rows, which then also print the checked runs'
//! ratio to it (startup: milliseconds over it): a change's effect measured in one run, under the
//! same noise. A workload whose program (or server, or load driver) is missing is skipped with a
//! message. `tar` writes to
//! /dev/null, which GNU tar notices: it walks and stats the tree without reading file contents.

#[path = "../tests/common/mod.rs"]
mod common;
#[path = "overhead/null.rs"]
mod null;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// One program run: argv, and a file for its standard input.
struct Workload {
    name: String,
    argv: Vec<String>,
    stdin: Option<PathBuf>,
}

/// The three ways a workload runs.
struct Setups {
    checked: PathBuf,
    null: PathBuf,
    /// `DYNCHK_BENCH_BASELINE`: another libdynchk.so (an older build) that the workload, thread
    /// and startup rows also run under in each round, for a before/after measured in one run.
    baseline: Option<PathBuf>,
    log: PathBuf,
}

impl Setups {
    /// The workload's command, its output discarded, under `preload` if given.
    fn command(&self, w: &Workload, preload: Option<&Path>) -> Command {
        let mut cmd = Command::new(&w.argv[0]);
        cmd.args(&w.argv[1..])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        match &w.stdin {
            Some(f) => cmd.stdin(std::fs::File::open(f).unwrap()),
            None => cmd.stdin(Stdio::null()),
        };
        if let Some(lib) = preload {
            cmd.env("LD_PRELOAD", lib).env("DYNCHK_LOG", &self.log);
        }
        cmd
    }

    /// The nanoseconds a self-timing workload prints.
    fn self_timed(&self, w: &Workload, preload: Option<&Path>) -> f64 {
        let out = self
            .command(w, preload)
            .stdout(Stdio::piped())
            .output()
            .expect("workload runs");
        assert!(out.status.success(), "{:?} failed: {}", w.argv, out.status);
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    }

    /// `runs` rounds of plain, checked, null of a self-timing workload, as [`Setups::rounds`].
    fn self_timed_rounds(&self, w: &Workload, runs: usize) -> [Vec<f64>; 3] {
        self.measured_rounds(w, runs, Self::self_timed)
    }

    /// The maximum resident set of one run of the workload, in MiB, as `maxrss` (the program
    /// of overhead/maxrss.c, built as `helper`) measures it.
    fn max_rss(&self, helper: &Path, w: &Workload, preload: Option<&Path>) -> f64 {
        let out = Command::new(helper)
            .arg(preload.map_or(Default::default(), |p| p.as_os_str()))
            .args(&w.argv)
            .env_remove("LD_PRELOAD")
            .env("DYNCHK_LOG", &self.log)
            .stdin(Stdio::null())
            .stderr(Stdio::null())
            .output()
            .expect("maxrss runs");
        assert!(
            out.status.success(),
            "maxrss {:?} failed: {}",
            w.argv,
            out.status
        );
        let kib: f64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        kib / 1024.0
    }

    /// `runs` rounds of plain, checked, null measured by `measure`, after one warm-up of each.
    fn measured_rounds(
        &self,
        w: &Workload,
        runs: usize,
        measure: impl Fn(&Self, &Workload, Option<&Path>) -> f64,
    ) -> [Vec<f64>; 3] {
        let setups = [None, Some(&*self.checked), Some(&*self.null)];
        // One warm-up of each, as in `rounds`.
        for p in setups {
            measure(self, w, p);
        }
        let mut t = [Vec::new(), Vec::new(), Vec::new()];
        for _ in 0..runs {
            for (values, p) in t.iter_mut().zip(setups) {
                values.push(measure(self, w, p));
            }
        }
        t
    }

    /// One run's wall-clock seconds and the CPU seconds (user + system) it used.
    fn time(&self, w: &Workload, preload: Option<&Path>) -> (f64, f64) {
        let mut cmd = self.command(w, preload);
        let start = Instant::now();
        #[allow(clippy::zombie_processes, reason = "reaped by the wait4 below")]
        let child = cmd.spawn().expect("workload runs");
        let mut status = 0;
        // SAFETY: an all-zero rusage is a valid value for wait4 to fill.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        // wait4 rather than Child::wait: it also reports the child's CPU time.
        // SAFETY: waits for our own child, writing into the two locals.
        let waited = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
        let took = start.elapsed();
        assert!(
            waited > 0 && libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
            "{:?} failed: wait status {status:#x}",
            w.argv
        );
        let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
        (
            took.as_secs_f64(),
            seconds(usage.ru_utime) + seconds(usage.ru_stime),
        )
    }

    /// `runs` rounds of plain, checked, null and the baseline (if any; else its times stay
    /// empty): their wall-clock times and their CPU times.
    fn rounds(&self, w: &Workload, runs: usize) -> [[Vec<f64>; 4]; 2] {
        let mut setups = vec![None, Some(&*self.checked), Some(&*self.null)];
        setups.extend(self.baseline.as_deref().map(Some));
        // One warm-up of each fills the page cache and resolves what is resolved once.
        for &p in &setups {
            self.time(w, p);
        }
        let mut t: [[Vec<f64>; 4]; 2] = Default::default();
        for _ in 0..runs {
            for (i, &p) in setups.iter().enumerate() {
                let (wall, cpu) = self.time(w, p);
                t[0][i].push(wall);
                t[1][i].push(cpu);
            }
        }
        t
    }
}

/// Median, min and max.
fn spread(mut v: Vec<f64>) -> (f64, f64, f64) {
    v.sort_by(f64::total_cmp);
    (v[v.len() / 2], v[0], v[v.len() - 1])
}

fn ratios(of: &[f64], to: &[f64]) -> String {
    let (m, lo, hi) = spread(of.iter().zip(to).map(|(a, b)| a / b).collect());
    format!("{m:.2}× ({lo:.2}–{hi:.2})")
}

fn extra_ms(of: &[f64], to: &[f64]) -> String {
    let (m, lo, hi) = spread(of.iter().zip(to).map(|(a, b)| (a - b) * 1e3).collect());
    format!("{m:+.2} ms ({lo:+.2}–{hi:+.2})")
}

fn row(name: &str, plain: &[f64], checked: &str, cpu: &str, null: &str, calls: &str) {
    let (p, _, _) = spread(plain.to_vec());
    println!(
        "{name:<40} {:>9.1} ms  {checked:<24} {cpu:<24} {null:<24} {calls:>9}",
        p * 1e3
    );
}

/// The row of a workload measured by [`Setups::rounds`]: wall-clock and CPU-time ratios, and
/// with a baseline the checked runs' ratios to the baseline's (wall-clock, then CPU time).
fn workload_row(name: &str, [[p, c, n, b], [pc, cc, _, bc]]: &[[Vec<f64>; 4]; 2], calls: &str) {
    row(
        name,
        p,
        &ratios(c, p),
        &ratios(cc, pc),
        &ratios(n, p),
        calls,
    );
    if !b.is_empty() {
        println!(
            "{:<40} {:>12}  vs baseline: {} (CPU time {})",
            "",
            "",
            ratios(c, b),
            ratios(cc, bc)
        );
    }
}

/// The program `name` on PATH (or at that path).
fn find(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        return Path::new(name).exists().then(|| name.into());
    }
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn argv(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

/// The workloads of the table, with their input files written to `dir`.
fn workloads(dir: &Path) -> Vec<Workload> {
    // About 5 MB of lines in a fixed pseudo-random order (xorshift), sorted with 2 threads.
    let sort_input = dir.join("sort.txt");
    let mut text = String::new();
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    while text.len() < 5 << 20 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        text.push_str(&format!("{:016x} line {}\n", x, x % 100_000));
    }
    std::fs::write(&sort_input, text).unwrap();
    let sql = dir.join("inserts.sql");
    let mut s = String::from("DROP TABLE IF EXISTS t;\nCREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT, n INTEGER);\nBEGIN;\n");
    for i in 0..5000 {
        s.push_str(&format!(
            "INSERT INTO t(name, n) VALUES('name {i}', {});\n",
            i * 7 % 1000
        ));
    }
    s.push_str("COMMIT;\nSELECT count(*), sum(n) FROM t;\n");
    std::fs::write(&sql, s).unwrap();
    // The system's python3, not a version manager's shell-script shim in front of it.
    let python = if Path::new("/usr/bin/python3").exists() {
        "/usr/bin/python3"
    } else {
        "python3"
    };
    vec![
        Workload {
            name: "ls -lR /usr/share/doc".into(),
            argv: argv(&["ls", "-lR", "/usr/share/doc"]),
            stdin: None,
        },
        Workload {
            name: "tar cf - /usr/share/doc".into(),
            argv: argv(&["tar", "cf", "-", "/usr/share/doc"]),
            stdin: None,
        },
        Workload {
            name: "sort 5 MB (2 threads)".into(),
            argv: vec![
                "sort".into(),
                "--parallel=2".into(),
                sort_input.display().to_string(),
            ],
            stdin: None,
        },
        Workload {
            name: "python3 reads /usr/share/doc".into(),
            argv: argv(&[
                python,
                "-c",
                "import os\nfor d, _, fs in os.walk('/usr/share/doc'):\n for f in fs:\n  p = os.path.join(d, f)\n  if os.path.isfile(p):\n   open(p, 'rb').read()",
            ]),
            stdin: None,
        },
        Workload {
            name: "sqlite3 5,000 inserts".into(),
            argv: vec!["sqlite3".into(), dir.join("bench.db").display().to_string()],
            stdin: Some(sql),
        },
    ]
}

/// Compiles a benchmark program (`name`.c, its source `text`) into `dir`.
fn c_bench(dir: &Path, name: &str, text: &str) -> PathBuf {
    let src = dir.join(format!("{name}.c"));
    let exe = dir.join(name);
    std::fs::write(&src, text).unwrap();
    // -fno-builtin: strlen, memcpy and memcmp stay calls into the C library.
    let out = Command::new("cc")
        .args(["-O2", "-fno-builtin", "-pthread", "-o"])
        .arg(&exe)
        .arg(&src)
        .output()
        .expect("a C compiler (cc) builds the thread benchmark");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    exe
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| {
            l.strip_prefix("model name")
                .map(|m| m.trim_start_matches([' ', '\t', ':']).to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let n = std::thread::available_parallelism().map_or(0, |n| n.get());
    format!("{cpu}, {n} CPUs")
}

fn load() -> String {
    let l = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    l.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
}

fn main() {
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted =
        |name: &str| filters.is_empty() || filters.iter().any(|f| name.contains(f.as_str()));
    let runs: usize = std::env::var("DYNCHK_BENCH_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(15);
    let dir = std::env::temp_dir().join(format!("dynchk-bench-{}", std::process::id()));
    let logs = dir.join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let checked = common::lib().to_path_buf();
    let (null, stubs) = null::build(&checked, &dir);
    let baseline = std::env::var_os("DYNCHK_BENCH_BASELINE").map(PathBuf::from);
    if let Some(b) = baseline.as_deref().filter(|b| !b.is_file()) {
        panic!(
            "DYNCHK_BENCH_BASELINE={}: no such file (give the path of another libdynchk.so)",
            b.display()
        );
    }
    let s = Setups {
        checked,
        null,
        baseline,
        log: logs.join("log.%p"),
    };
    println!("machine: {}; load average at start: {}", machine(), load());
    println!(
        "{runs} rounds of plain/checked/null per row; ratios: median (min–max) of per-round ratios; null interposer: {stubs} stubs"
    );
    if let Some(b) = &s.baseline {
        println!(
            "baseline (the workload, thread and startup rows' \"vs baseline\"): {}",
            b.display()
        );
    }
    println!(
        "{:<40} {:>12}  {:<24} {:<24} {:<24} {:>9}",
        "workload", "plain", "dynchk", "dynchk, CPU time", "null interposer", "calls"
    );
    for w in workloads(&dir) {
        if !wanted(&w.name) {
            continue;
        }
        if find(&w.argv[0]).is_none() {
            println!("{:<40} skipped: {} is not installed", w.name, w.argv[0]);
            continue;
        }
        let t = s.rounds(&w, runs);
        workload_row(&w.name, &t, &last_summary_calls(&logs).to_string());
        clear(&logs);
    }
    if wanted("threads") {
        let exe = c_bench(&dir, "threads", include_str!("overhead/threads.c"));
        let mut at = Vec::new();
        for n in [1, 2, 4, 8] {
            let w = Workload {
                name: format!("threads {n} (strlen memcpy read fstat)"),
                argv: vec![exe.display().to_string(), n.to_string(), "20000".into()],
                stdin: None,
            };
            let t = s.rounds(&w, runs);
            let [p, c, ..] = &t[0];
            at.push(spread(c.iter().zip(p).map(|(a, b)| a / b).collect()).0);
            workload_row(&w.name, &t, &last_summary_calls(&logs).to_string());
            clear(&logs);
        }
        println!(
            "{:<40} {:>12}  8 threads / 1 thread: {:.2}",
            "thread scaling",
            "",
            at[3] / at[0]
        );
    }
    if wanted("heap") {
        heap_rows(
            &s,
            &c_bench(&dir, "heap", include_str!("overhead/heap.c")),
            runs,
        );
    }
    servers(&s, &dir, runs, &wanted);
    let name = "memory: ls -lR /usr/share/doc (max RSS)";
    if wanted(name) {
        let w = Workload {
            name: name.into(),
            argv: argv(&["ls", "-lR", "/usr/share/doc"]),
            stdin: None,
        };
        let helper = c_bench(&dir, "maxrss", include_str!("overhead/maxrss.c"));
        let [p, c, n] = s.measured_rounds(&w, runs, |s, w, p| s.max_rss(&helper, w, p));
        let extra = |of: &[f64]| {
            let (m, lo, hi) = spread(of.iter().zip(&p).map(|(a, b)| a - b).collect());
            format!("{m:+.2} MiB ({lo:+.2}–{hi:+.2})")
        };
        println!(
            "{name:<40} {:>8.1} MiB  {:<24} {:<24} {:<24}",
            spread(p.clone()).0,
            extra(&c),
            "",
            extra(&n)
        );
        clear(&logs);
    }
    if wanted("true") {
        let w = Workload {
            name: "/bin/true (startup)".into(),
            argv: argv(&["/bin/true"]),
            stdin: None,
        };
        let [[p, c, n, b], _] = s.rounds(&w, 5 * runs);
        row(&w.name, &p, &extra_ms(&c, &p), "", &extra_ms(&n, &p), "");
        if !b.is_empty() {
            println!("{:<40} {:>12}  vs baseline: {}", "", "", extra_ms(&c, &b));
        }
    }
    println!("load average at end: {}", load());
    let _ = std::fs::remove_dir_all(&dir);
}

/// The `[[service]]` entries of matrix/debian.toml that the server rows certify, with the server
/// program each starts (some start it through `sh -c`).
const SERVERS: [(&str, &str); 4] = [
    ("memcached", "memcached"),
    ("nginx", "nginx"),
    ("redis-server", "redis-server"),
    ("lighttpd", "lighttpd"),
];

/// One service of the matrix, as the server rows use it.
struct Service {
    /// Entry name.
    name: String,
    /// The load driver's program.
    driver: String,
    /// The regex of the driver's number and whether it is a rate (else seconds).
    metric: regex::bytes::Regex,
    rate: bool,
}

/// The [`SERVERS`] entries of `matrix` and the PATH of its default environment.
fn services(matrix: &Path) -> (Vec<Service>, Option<String>) {
    let text = std::fs::read_to_string(matrix).unwrap();
    let m: toml::Table = text.parse().unwrap();
    let path = m
        .get("defaults")
        .and_then(|d| d.get("env")?.get("PATH")?.as_str())
        .map(str::to_string);
    let entries = m["service"].as_array().unwrap();
    let list = SERVERS
        .iter()
        .map(|(name, _)| {
            let e = entries
                .iter()
                .find(|e| e["name"].as_str() == Some(name))
                .unwrap_or_else(|| panic!("{} has no [[service]] {name}", matrix.display()));
            Service {
                name: name.to_string(),
                driver: e["load"][0].as_str().unwrap().to_string(),
                metric: regex::bytes::Regex::new(e["metric"].as_str().unwrap()).unwrap(),
                rate: e.get("metric_kind").and_then(|k| k.as_str()) == Some("rate"),
            }
        })
        .collect();
    (list, path)
}

/// What one `dynchk certify --only NAME` run measured.
struct Certified {
    /// Throughput under the preload over plain (certify's `throughput`).
    throughput: Option<f64>,
    /// The plain run's metric, as the driver printed it.
    plain: Option<f64>,
    /// Calls into checked interfaces (the `used` counts).
    calls: u64,
    /// Verdict and reason, for a run that measured no throughput.
    failure: String,
}

/// `dynchk certify MATRIX --only NAME --lib LIB` into a fresh directory under `dir`.
fn certify_once(matrix: &Path, svc: &Service, lib: &Path, dir: &Path) -> Certified {
    let out = dir.join(format!("certify-{}", svc.name));
    let _ = std::fs::remove_dir_all(&out);
    let o = common::dynchk()
        .arg("certify")
        .arg(matrix)
        .args(["--only", &svc.name, "-j", "1", "--lib"])
        .arg(lib)
        .arg("--out")
        .arg(&out)
        .output()
        .expect("dynchk certify runs");
    let results: serde_json::Value = std::fs::read_to_string(out.join("results.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or_default();
    let e = &results["entries"][0];
    let mut text = std::fs::read(out.join("runs").join(&svc.name).join("plain-load.stdout"))
        .unwrap_or_default();
    text.extend(
        std::fs::read(out.join("runs").join(&svc.name).join("plain-load.stderr"))
            .unwrap_or_default(),
    );
    let plain = svc
        .metric
        .captures(&text)
        .and_then(|c| std::str::from_utf8(c.get(1)?.as_bytes()).ok()?.parse().ok());
    let failure = if e.is_null() {
        format!(
            "certify exited with {}: {}",
            o.status,
            String::from_utf8_lossy(&o.stderr).trim()
        )
    } else {
        format!("{}: {}", e["verdict"].as_str().unwrap_or("?"), e["reason"])
    };
    let r = Certified {
        throughput: e["throughput"].as_f64(),
        plain,
        calls: e["used"]
            .as_object()
            .map_or(0, |u| u.values().filter_map(|v| v.as_u64()).sum()),
        failure,
    };
    let _ = std::fs::remove_dir_all(&out);
    r
}

/// Throughput ratios as median (min–max), or how many rounds measured none and why.
fn throughputs(runs: &[Certified]) -> (String, Option<String>) {
    let t: Vec<f64> = runs.iter().filter_map(|r| r.throughput).collect();
    let failed: Vec<&Certified> = runs.iter().filter(|r| r.throughput.is_none()).collect();
    let text = if t.is_empty() {
        "failed".to_string()
    } else {
        let (m, lo, hi) = spread(t);
        format!("{m:.2}× ({lo:.2}–{hi:.2})")
    };
    let why = failed.first().map(|f| {
        format!(
            "{} of {} rounds measured nothing, e.g. {}",
            failed.len(),
            runs.len(),
            f.failure
        )
    });
    (text, why)
}

/// The server rows: each [`SERVERS`] entry of matrix/debian.toml certified with libdynchk.so
/// and with the null interposer, alternating, `runs` rounds each: the throughput under the
/// preload over the plain run of the same certify (certify's own `throughput`, from the entry's
/// metric), as median (min–max). The plain column is the plain runs' metric (a rate per second,
/// or the load's time), median. A row whose server or load driver is not installed is skipped.
fn servers(s: &Setups, dir: &Path, runs: usize, wanted: &dyn Fn(&str) -> bool) {
    let matrix = Path::new(env!("CARGO_MANIFEST_DIR")).join("../matrix/debian.toml");
    let (list, path) = services(&matrix);
    let on_path = |p: &str| {
        let dirs = path.clone().or_else(|| std::env::var("PATH").ok());
        std::env::split_paths(&dirs.unwrap_or_default()).any(|d| d.join(p).is_file())
    };
    for (svc, (_, server)) in list.iter().zip(SERVERS) {
        let name = format!("server: {} ({})", svc.name, svc.driver);
        if !wanted(&name) {
            continue;
        }
        if let Some(missing) = [server, svc.driver.as_str()]
            .into_iter()
            .find(|p| !on_path(p))
        {
            println!("{name:<40} skipped: {missing} is not installed");
            continue;
        }
        let (mut checked, mut null) = (Vec::new(), Vec::new());
        for _ in 0..runs {
            checked.push(certify_once(&matrix, svc, &s.checked, dir));
            null.push(certify_once(&matrix, svc, &s.null, dir));
        }
        let plain: Vec<f64> = checked
            .iter()
            .chain(&null)
            .filter_map(|r| r.plain)
            .collect();
        let plain = if plain.is_empty() {
            "-".to_string()
        } else if svc.rate {
            format!("{:.0} /s", spread(plain).0)
        } else {
            format!("{:.1} ms", spread(plain).0 * 1e3)
        };
        let ((c, c_why), (n, n_why)) = (throughputs(&checked), throughputs(&null));
        let calls = checked.iter().map(|r| r.calls).max().unwrap_or(0);
        println!(
            "{name:<40} {plain:>12}  {c:<24} {:<24} {n:<24} {calls:>9}",
            ""
        );
        for (what, why) in [("dynchk", c_why), ("null interposer", n_why)] {
            if let Some(why) = why {
                println!("{:<40} {:>12}  {what}: {why}", "", "");
            }
        }
    }
}

/// The heap rows: nanoseconds per operation, plain, and added by the checker and by the null
/// interposer (medians of the per-round differences, min–max); then what one heap-pointer check
/// adds, from the heap and stack `memcmp` rows (two pointers a call).
fn heap_rows(s: &Setups, exe: &Path, runs: usize) {
    const OPS: u64 = 2_000_000;
    let mut added = Vec::new();
    for (mode, name) in [
        ("pairs", "heap: malloc+free pair"),
        ("heap", "heap: memcmp, 2 heap pointers"),
        ("stack", "heap: memcmp, 2 stack pointers"),
        ("deep", "heap: memcmp deep in a 5 MB block"),
    ] {
        let w = Workload {
            name: name.into(),
            argv: vec![exe.display().to_string(), mode.into(), OPS.to_string()],
            stdin: None,
        };
        let [p, c, n] = s.self_timed_rounds(&w, runs);
        let per_op = |v: &[f64]| v.iter().map(|t| t / OPS as f64).collect::<Vec<_>>();
        let (p, c, n) = (per_op(&p), per_op(&c), per_op(&n));
        let extra = |of: &[f64]| {
            let (m, lo, hi) = spread(of.iter().zip(&p).map(|(a, b)| a - b).collect());
            (m, format!("{m:+.1} ns ({lo:+.1}–{hi:+.1})"))
        };
        let ((checked, text), (_, null)) = (extra(&c), extra(&n));
        added.push(checked);
        println!(
            "{name:<40} {:>9.1} ns  {text:<24} {:<24} {null:<24} {OPS:>9}",
            spread(p.clone()).0,
            ""
        );
        clear(s.log.parent().expect("the log is in a directory"));
    }
    println!(
        "{:<40} {:>12}  {:+.1} ns per heap-pointer check ((heap - stack) / 2)",
        "heap: pointer check",
        "",
        (added[1] - added[2]) / 2.0
    );
}

fn clear(logs: &Path) {
    for e in std::fs::read_dir(logs).unwrap().flatten() {
        let _ = std::fs::remove_file(e.path());
    }
}

/// The `calls` of a summary record in the logs of the last workload (all runs do the same work).
fn last_summary_calls(dir: &Path) -> u64 {
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
