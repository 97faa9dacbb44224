//! `dynchk certify` end to end with the real libdynchk.so: one matrix of small C programs, each
//! built to earn one verdict, then the database, the reports (the HTML one in headless Chromium),
//! `certify diff`, shards and merge, a service that drops privileges, and the shipped smoke matrix.

mod common;

use common::{c_program, dynchk, lib, scratch, text};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `dynchk certify --lib LIB ARGS…`
fn certify(args: &[&str]) -> Output {
    dynchk()
        .arg("certify")
        .arg("--lib")
        .arg(lib())
        .args(args)
        .output()
        .unwrap()
}

fn results(dir: &Path) -> Value {
    let p = dir.join("results.json");
    serde_json::from_str(&std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{p:?}: {e}")))
        .unwrap()
}

fn by_name(results: &Value) -> BTreeMap<String, Value> {
    results["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["name"].as_str().unwrap().to_string(), e.clone()))
        .collect()
}

fn verdicts(results: &Value) -> BTreeMap<String, (String, u64)> {
    by_name(results)
        .into_iter()
        .map(|(n, e)| {
            let count = e["violations"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["count"].as_u64().unwrap())
                .sum();
            (n, (e["verdict"].as_str().unwrap().to_string(), count))
        })
        .collect()
}

/// The programs of the verdict matrix, compiled into `dir`.
fn verdict_matrix(dir: &Path) -> PathBuf {
    let planted = c_program(
        dir,
        "planted",
        "#include <unistd.h>\nint main(void) { char b[4]; read(-3, b, sizeof b); return 0; }\n",
    );
    let preload = c_program(
        dir,
        "preload",
        "#include <stdio.h>\n#include <stdlib.h>\nint main(void) { puts(getenv(\"LD_PRELOAD\") ? \"preloaded\" : \"plain\"); return 0; }\n",
    );
    let slow = c_program(
        dir,
        "slow",
        "#include <stdlib.h>\n#include <unistd.h>\nint main(void) { if (getenv(\"LD_PRELOAD\")) sleep(30); return 0; }\n",
    );
    let crash = c_program(
        dir,
        "crash",
        "#include <stdlib.h>\nint main(void) { if (getenv(\"LD_PRELOAD\")) abort(); return 0; }\n",
    );
    let killed = c_program(
        dir,
        "killed",
        "#include <signal.h>\n#include <unistd.h>\n#include <sys/wait.h>\n\
         int main(void) { pid_t p = fork(); if (p == 0) { close(-7); raise(SIGKILL); }\n\
         int st; waitpid(p, &st, 0); return WIFSIGNALED(st) ? 0 : 1; }\n",
    );
    let src = dir.join("static.c");
    std::fs::write(
        &src,
        "#include <stdio.h>\n#include <unistd.h>\n\
         int main(int c, char **v) { (void)v; puts(\"static\"); fflush(stdout); if (c > 1) sleep(30); return 0; }\n",
    )
    .unwrap();
    let stat = dir.join("static");
    let cc = Command::new("cc")
        .args(["-static", "-o"])
        .arg(&stat)
        .arg(&src)
        .output()
        .unwrap();
    assert!(cc.status.success(), "cc -static: {}", text(&cc.stderr));
    let m = dir.join("verdicts.toml");
    std::fs::write(
        &m,
        format!(
            r#"
[defaults]
timeout = "20s"

[[app]]
name = "planted"
cmd = ["{planted}"]

[[app]]
name = "planted-out-of-scope"
cmd = ["{planted}"]
scope = ["libnothing.so.1"]

[[app]]
name = "clean-ls"
cmd = ["ls", "-l", "/usr/include/linux/errno.h"]
expect_status = 0

[[app]]
name = "preload-fake"
cmd = ["{preload}"]

[[app]]
name = "flaky-random"
cmd = ["od", "-An", "-N16", "-tx8", "/dev/urandom"]

[[app]]
name = "slow-when-checked"
cmd = ["{slow}"]
timeout = "2s"

[[app]]
name = "crash-when-checked"
cmd = ["{crash}"]

[[app]]
name = "killed-child"
cmd = ["{killed}"]

[[app]]
name = "static"
cmd = ["{stat}"]

[[app]]
name = "static-stopped"
cmd = ["{stat}", "sleep"]
run_for = "500ms"

[[app]]
name = "wrong-status"
cmd = ["sh", "-c", "exit 3"]
expect_status = 0
"#,
            planted = planted.display(),
            preload = preload.display(),
            slow = slow.display(),
            crash = crash.display(),
            killed = killed.display(),
            stat = stat.display(),
        ),
    )
    .unwrap();
    m
}

#[test]
fn every_verdict_is_earned_recorded_and_rendered() {
    let dir = scratch("certify-verdicts");
    let matrix = verdict_matrix(&dir);
    let out = dir.join("out");
    let o = certify(&[
        matrix.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-j",
        "2",
    ]);
    let stderr = text(&o.stderr);
    // not-transparent, crashed and timeout fail the run.
    assert_eq!(o.status.code(), Some(1), "{stderr}");
    let r = results(&out);
    let e = by_name(&r);
    let verdict = |n: &str| e[n]["verdict"].as_str().unwrap().to_string();
    assert_eq!(verdict("planted"), "violations", "{:#}", e["planted"]);
    let v = &e["planted"]["violations"][0];
    assert_eq!(
        (v["interface"].as_str(), v["check"].as_str()),
        (Some("read"), Some("filedescriptor"))
    );
    assert!(v["site"].as_str().unwrap().contains("planted"), "{v}");
    let out_of_scope = &e["planted-out-of-scope"];
    assert_eq!(out_of_scope["verdict"], "clean", "{out_of_scope:#}");
    assert_eq!(out_of_scope["outside_scope"][0]["interface"], "read");
    assert!(out_of_scope["reason"]
        .as_str()
        .unwrap()
        .contains("1 outside scope"));
    assert_eq!(verdict("clean-ls"), "clean", "{:#}", e["clean-ls"]);
    assert_eq!(verdict("preload-fake"), "not-transparent");
    let diff = e["preload-fake"]["diff"].as_str().unwrap();
    assert!(diff.contains("-plain\n+preloaded\n"), "{diff}");
    assert_eq!(verdict("flaky-random"), "flaky", "{:#}", e["flaky-random"]);
    assert_eq!(e["flaky-random"]["plain2"]["outcome"], "exited");
    assert_eq!(verdict("slow-when-checked"), "timeout");
    assert_eq!(verdict("crash-when-checked"), "crashed");
    assert_eq!(verdict("static"), "unchecked");
    assert_eq!(verdict("static-stopped"), "unchecked");
    assert_eq!(e["static-stopped"]["checked"]["outcome"], "stopped");
    assert!(e["static-stopped"]["reason"]
        .as_str()
        .unwrap()
        .contains("before it was stopped"));
    assert_eq!(verdict("wrong-status"), "broken");
    assert!(e["wrong-status"]["reason"]
        .as_str()
        .unwrap()
        .contains("expect_status is 0"));
    // The killed child wrote its violation, never its summary.
    let k = &e["killed-child"];
    assert_eq!(
        (
            k["processes"]["total"].as_u64(),
            k["processes"]["with_summary"].as_u64()
        ),
        (Some(2), Some(1)),
        "{k:#}"
    );
    assert!(
        k["notes"][0]
            .as_str()
            .unwrap()
            .contains("1 of 2 processes wrote no summary"),
        "{k:#}"
    );
    assert_eq!(k["verdict"], "violations");
    // Shape of the contract.
    for key in ["id", "started", "dynchk_version", "spec_hash", "matrix"] {
        assert!(r["run"][key].is_string(), "run.{key}");
    }
    assert!(e["clean-ls"]["plain"]["wall_s"].is_f64() && e["clean-ls"]["ratio"].is_f64());
    assert!(!e["clean-ls"]["unchecked_imports"]
        .as_array()
        .unwrap()
        .is_empty());
    let md = std::fs::read_to_string(out.join("report.md")).unwrap();
    assert!(
        md.contains("| preload-fake | app | **not-transparent** |"),
        "{md}"
    );

    // The HTML report, rendered by a real browser: every entry's name and verdict in the DOM.
    let html = out.join("report.html");
    let dom = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
        .arg(format!("file://{}", html.display()))
        .output()
        .expect("chromium is needed for this test (Debian package chromium)");
    let dom = text(&dom.stdout);
    assert!(dom.contains("<table id=\"entries\">"), "{dom}");
    for (name, entry) in &e {
        let v = entry["verdict"].as_str().unwrap();
        assert!(
            dom.contains(&format!("<a href=\"#e-{name}\">{name}</a>")),
            "{name} not in the DOM"
        );
        assert!(
            dom.contains(&format!("class=\"badge bad\">{v}</span>"))
                || dom.contains(&format!(">{v}</span>")),
            "{v}"
        );
    }
    assert!(dom.contains("<svg class=\"chart\""), "no overhead chart");

    // --resume with everything done runs nothing and keeps the results.
    let again = certify(&[
        matrix.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--resume",
    ]);
    assert_eq!(again.status.code(), Some(1), "{}", text(&again.stderr));
    assert_eq!(verdicts(&results(&out)), verdicts(&r));
    assert!(
        !text(&again.stderr).contains("[1/"),
        "{}",
        text(&again.stderr)
    );
    let history = dynchk()
        .args(["certify", "history", "planted", "--db"])
        .arg(&out)
        .output()
        .unwrap();
    assert!(
        text(&history.stdout).contains("violations"),
        "{}",
        text(&history.stdout)
    );
}

#[test]
fn malformed_matrices_stop_certify_with_the_line_at_fault() {
    let dir = scratch("certify-malformed");
    let m = dir.join("bad.toml");
    std::fs::write(
        &m,
        "[[app]]\nname = \"x\"\ncmd = [\"true\"]\ntimeout = \"10\"\n",
    )
    .unwrap();
    let o = certify(&[
        m.to_str().unwrap(),
        "--out",
        dir.join("out").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(125));
    let e = text(&o.stderr);
    assert!(
        e.contains(&format!(
            "{}:4: entry `x`: field `timeout`: bad duration \"10\"",
            m.display()
        )),
        "{e}"
    );
    assert!(!dir.join("out").join("results.sqlite").exists());
}

/// A matrix of stable entries, for the shard test: several names so that all 4 shards get some.
fn stable_matrix(dir: &Path) -> PathBuf {
    let planted = c_program(
        dir,
        "planted",
        "#include <unistd.h>\nint main(void) { close(-9); close(-9); return 0; }\n",
    );
    let mut m = String::from("[defaults]\ntimeout = \"20s\"\n");
    for i in 0..10 {
        m += &format!(
            "\n[[app]]\nname = \"echo-{i}\"\ncmd = [\"sh\", \"-c\", \"echo {i} | wc -c\"]\n"
        );
    }
    m += &format!(
        "\n[[app]]\nname = \"planted\"\ncmd = [\"{}\"]\n",
        planted.display()
    );
    let p = dir.join("stable.toml");
    std::fs::write(&p, m).unwrap();
    p
}

#[test]
fn four_shards_merged_equal_one_whole_run() {
    let dir = scratch("certify-shards");
    let matrix = stable_matrix(&dir);
    let m = matrix.to_str().unwrap();
    let whole = dir.join("whole");
    let mut jobs = vec![dynchk()
        .args(["certify", "--lib"])
        .arg(lib())
        .args([m, "-j", "1", "--out"])
        .arg(&whole)
        .spawn()
        .unwrap()];
    for i in 1..=4 {
        jobs.push(
            dynchk()
                .args(["certify", "--lib"])
                .arg(lib())
                .args([m, "-j", "1", "--shard", &format!("{i}/4"), "--out"])
                .arg(dir.join(format!("shard{i}")))
                .spawn()
                .unwrap(),
        );
    }
    for mut j in jobs {
        assert!(j.wait().unwrap().success());
    }
    let shards: Vec<PathBuf> = (1..=4).map(|i| dir.join(format!("shard{i}"))).collect();
    let merged = dir.join("merged").join("results.sqlite");
    let missing = dynchk()
        .args(["certify", "merge"])
        .arg(dir.join("partial.sqlite"))
        .args(&shards[..3])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(125));
    assert!(
        text(&missing.stderr).contains("shards missing: 4/4"),
        "{}",
        text(&missing.stderr)
    );
    let o = dynchk()
        .args(["certify", "merge"])
        .arg(&merged)
        .args(&shards)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", text(&o.stderr));
    let w = verdicts(&results(&whole));
    assert_eq!(w.len(), 11);
    assert_eq!(w["planted"], ("violations".to_string(), 2));
    assert_eq!(verdicts(&results(&dir.join("merged"))), w);
    let d = dynchk()
        .args(["certify", "diff"])
        .arg(&whole)
        .arg(&merged)
        .output()
        .unwrap();
    assert!(d.status.success(), "{}", text(&d.stdout));
    assert!(
        text(&d.stdout).ends_with("certify diff: 11 unchanged\n"),
        "{}",
        text(&d.stdout)
    );
    // --fail-on widens the failing verdicts.
    let o = certify(&[
        m,
        "--only",
        "planted",
        "--fail-on",
        "violations",
        "--out",
        dir.join("strict").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o.stderr));
    // A whole run is not a shard: there is nothing to merge it with.
    let o = dynchk()
        .args(["certify", "merge"])
        .arg(dir.join("x.sqlite"))
        .arg(&whole)
        .output()
        .unwrap();
    assert!(
        text(&o.stderr).contains("whole run, not a shard"),
        "{}",
        text(&o.stderr)
    );
}

#[test]
fn a_server_that_drops_privileges_is_checked_under_load() {
    let dir = scratch("certify-service");
    let m = dir.join("svc.toml");
    std::fs::write(
        &m,
        r#"
[[service]]
name = "memcached"
cmd = ["memcached", "-l", "127.0.0.1", "-p", "{port}", "-U", "0", "-t", "2", "-u", "nobody"]
ready = "tcp:{port}"
load = ["memcslap", "--servers=127.0.0.1:{port}", "--concurrency=4", "--execute-number=2000"]
metric = 'Time total: +([0-9.]+) seconds'
timeout = "60s"
"#,
    )
    .unwrap();
    let out = dir.join("out");
    let o = certify(&[m.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let e = &by_name(&results(&out))["memcached"];
    assert!(
        matches!(e["verdict"].as_str(), Some("clean" | "violations")),
        "{e:#}"
    );
    assert_eq!(e["kind"], "service");
    // memcached switched to nobody before exiting: its summary still reached the log directory.
    assert!(
        e["processes"]["with_summary"].as_u64().unwrap() >= 1,
        "{e:#}"
    );
    assert!(
        e["ratio"].as_f64().unwrap() > 0.0 && e["throughput"].as_f64().unwrap() > 0.0,
        "{e:#}"
    );
}

/// The processes running `exe` (zombies, which are gone but for their exit status, excepted).
fn running(exe: &Path) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let state = stat.rsplit(") ").next().and_then(|s| s.chars().next());
            cmdline.split(|&b| b == 0).next() == Some(exe.as_os_str().as_encoded_bytes())
                && state.is_some_and(|s| s != 'Z')
        })
        .collect()
}

#[test]
fn a_server_whose_load_driver_cannot_start_is_stopped() {
    let dir = scratch("certify-no-driver");
    // Listens on the port it is given, then waits to be stopped.
    let server = c_program(
        &dir,
        "lingering-server",
        "#include <arpa/inet.h>\n#include <netinet/in.h>\n#include <stdlib.h>\n\
         #include <sys/socket.h>\n#include <unistd.h>\n\
         int main(int c, char **v) { (void)c; int s = socket(AF_INET, SOCK_STREAM, 0);\n\
         int one = 1; setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);\n\
         struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(v[1])) };\n\
         a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);\n\
         if (bind(s, (struct sockaddr *)&a, sizeof a) || listen(s, 16)) return 1;\n\
         sleep(600); return 0; }\n",
    );
    let m = dir.join("svc.toml");
    std::fs::write(
        &m,
        format!(
            r#"
[[service]]
name = "no-driver"
cmd = ["{}", "{{port}}"]
ready = "tcp:{{port}}"
load = ["{}"]
timeout = "30s"
"#,
            server.display(),
            dir.join("no-such-driver").display()
        ),
    )
    .unwrap();
    let out = dir.join("out");
    let o = certify(&[m.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let left = running(&server);
    for pid in &left {
        // SAFETY: kill only signals the stray server found above.
        unsafe { libc::kill(*pid as i32, libc::SIGKILL) };
    }
    assert!(o.status.success(), "{}", text(&o.stderr));
    let e = &by_name(&results(&out))["no-driver"];
    assert_eq!(e["verdict"], "broken", "{e:#}");
    assert!(
        e["reason"].as_str().unwrap().contains("no-such-driver"),
        "{e:#}"
    );
    assert!(left.is_empty(), "the server still runs: pids {left:?}");
}

#[test]
fn the_shipped_smoke_matrix_is_transparent() {
    let dir = scratch("certify-smoke");
    let smoke = Path::new(env!("CARGO_MANIFEST_DIR")).join("../matrix/smoke.toml");
    let out = dir.join("out");
    let o = certify(&[smoke.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o.stderr));
    let v = verdicts(&results(&out));
    assert!(v.len() >= 12, "{v:?}");
    for (name, (verdict, _)) in &v {
        assert!(
            matches!(verdict.as_str(), "clean" | "violations"),
            "{name}: {verdict}\n{}",
            text(&o.stderr)
        );
    }
}

#[test]
fn min_severity_error_leaves_portability_violations_out_of_the_verdict() {
    let dir = scratch("certify-severity");
    // fchmod with the file's own type bits: Linux ignores them (portability); close(-7) fails.
    let source = |extra: &str| {
        format!(
            "#include <fcntl.h>\n#include <sys/stat.h>\n#include <unistd.h>\n\
             int main(int c, char **v) {{ (void)c; struct stat st; int fd = open(v[0], O_RDONLY);\n\
             fstat(fd, &st); fchmod(fd, st.st_mode); {extra} return 0; }}\n"
        )
    };
    let portable = c_program(&dir, "portable", &source(""));
    let mixed = c_program(&dir, "mixed", &source("close(-7);"));
    let matrix = dir.join("severity.toml");
    std::fs::write(
        &matrix,
        format!(
            "[[app]]\nname = \"portability-only\"\ncmd = [\"{}\"]\n\n\
             [[app]]\nname = \"mixed\"\ncmd = [\"{}\"]\n",
            portable.display(),
            mixed.display()
        ),
    )
    .unwrap();
    let m = matrix.to_str().unwrap();

    let all = dir.join("all");
    let o = certify(&[m, "--out", all.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let e = by_name(&results(&all));
    let p = &e["portability-only"];
    assert_eq!(p["verdict"], "violations", "{p:#}");
    assert_eq!(p["violations"][0]["severity"], "portability", "{p:#}");
    assert!(
        p["reason"]
            .as_str()
            .unwrap()
            .ends_with("all of portability severity"),
        "{p:#}"
    );
    let md = std::fs::read_to_string(all.join("report.md")).unwrap();
    assert!(md.contains("`filemode` [portability]: 1 ×"), "{md}");

    let errors = dir.join("errors");
    let o = certify(&[
        m,
        "--out",
        errors.to_str().unwrap(),
        "--min-severity",
        "error",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let r = results(&errors);
    assert_eq!(r["run"]["min_severity"], "error");
    let e = by_name(&r);
    let p = &e["portability-only"];
    assert_eq!(p["verdict"], "clean", "{p:#}");
    assert!(
        p["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains(
                "1 violation less severe than --min-severity error left out (filemode 1×)"
            )),
        "{p:#}"
    );
    let x = &e["mixed"];
    assert_eq!(verdicts(&r)["mixed"], ("violations".into(), 1), "{x:#}");
    assert_eq!(x["violations"][0]["check"], "filedescriptor", "{x:#}");

    // A run is continued only with the setting it was made with.
    let o = certify(&[m, "--out", errors.to_str().unwrap(), "--resume"]);
    assert_eq!(o.status.code(), Some(125), "{}", text(&o.stderr));
    assert!(
        text(&o.stderr).contains("is a run with --min-severity error"),
        "{}",
        text(&o.stderr)
    );
}
