//! `dynchk report` on hand-written logs (report-format.md), so these tests need no preload.

mod common;

use common::{c_program, dynchk, scratch, text};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const VIOLATION: &str = r#"{"kind":"violation","pid":4242,"tid":4242,"interface":"read","library":"libc","version":"GLIBC_2.2.5","param":1,"param_name":"buf","check":"RWaddress","value":"0x10","message":"0x10 is not a writable address (no mapping)","count":1,"backtrace":[{"module":"/nonexistent/bin/prog","offset":"0x5a3c"}],"extra_field":{"kept":true}}"#;
const SUMMARY: &str = r#"{"kind":"summary","pid":4242,"calls":310,"checked":300,"violations":3,"distinct":1,"interfaces_used":8,"by_check":{"RWaddress":3}}"#;
const CALL: &str =
    r#"{"kind":"call","pid":4242,"tid":4242,"interface":"read","args":["3","0x7ffd","4096"]}"#;

#[test]
fn corrupt_and_truncated_lines_are_reported_by_file_and_line_and_skipped() {
    let dir = scratch("corrupt");
    let log = dir.join("dynchk.4242.jsonl");
    let truncated = &SUMMARY[..SUMMARY.len() / 2];
    std::fs::write(
        &log,
        format!("{VIOLATION}\nthis is not json\n{SUMMARY}\n\n{truncated}"),
    )
    .unwrap();
    let out = dynchk().arg("report").arg(&dir).output().unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    let at = |line: usize| format!("{}:{line}: skipped", log.display());
    assert!(stderr.contains(&at(2)), "{stderr}");
    assert!(stderr.contains(&at(5)), "{stderr}");
    assert_eq!(stderr.matches("skipped").count(), 2, "{stderr}");
    // The good lines are still summarized.
    assert!(
        stdout.contains("dynchk: 3 violations (RWaddress 3) at 1 call site in 1 process")
            && stdout.contains("read(arg1 buf) RWaddress: once at 1 call site\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("4242 (command unknown): 310 calls, 300 checked, 3 violations"),
        "{stdout}"
    );
    assert!(stdout.contains("2 corrupt log lines skipped"), "{stdout}");
}

#[test]
fn json_passes_records_through_unchanged_in_file_order() {
    let dir = scratch("json");
    let second = SUMMARY.replace("4242", "4243");
    std::fs::write(
        dir.join("dynchk.4242.jsonl"),
        format!("{VIOLATION}\n{CALL}\n{SUMMARY}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("dynchk.4243.jsonl"),
        format!("garbage\n{second}\n"),
    )
    .unwrap();
    std::fs::write(dir.join("notes.txt"), "not a log\n").unwrap();
    let out = dynchk()
        .args(["report", "--format", "json"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        format!("{VIOLATION}\n{CALL}\n{SUMMARY}\n{second}\n")
    );
    assert!(text(&out.stderr).contains("dynchk.4243.jsonl:1: skipped"));
}

#[test]
fn missing_log_is_an_error_naming_it() {
    let out = dynchk()
        .args(["report", "/nonexistent/dynchk.1.jsonl"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(text(&out.stderr).contains("cannot read /nonexistent/dynchk.1.jsonl"));
}

/// Checks the properties SARIF 2.1.0 requires (sarifLog: version, runs; run: tool; tool: driver;
/// toolComponent: name; result: message with text or id; reportingDescriptor: id; region lines
/// ≥ 1) and the links between them that consumers follow (ruleIndex → rules[i].id == ruleId).
fn assert_valid_sarif(log: &Value) {
    assert_eq!(log["version"], "2.1.0");
    assert!(log["$schema"]
        .as_str()
        .unwrap()
        .contains("sarif-schema-2.1.0"));
    let runs = log["runs"].as_array().expect("runs is an array");
    for run in runs {
        let driver = &run["tool"]["driver"];
        assert!(driver["name"].is_string(), "tool.driver.name");
        let rules = driver["rules"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        for rule in rules {
            assert!(rule["id"].is_string(), "rule without id: {rule}");
        }
        for result in run["results"].as_array().expect("results is an array") {
            let msg = &result["message"];
            assert!(msg["text"].is_string() || msg["id"].is_string(), "{result}");
            let id = result["ruleId"].as_str().expect("ruleId");
            if let Some(i) = result["ruleIndex"].as_u64() {
                assert_eq!(rules[i as usize]["id"], id);
            }
            assert!(
                ["none", "note", "warning", "error"].contains(&result["level"].as_str().unwrap()),
                "{result}"
            );
            for loc in result["locations"]
                .as_array()
                .map(Vec::as_slice)
                .unwrap_or(&[])
            {
                let phys = &loc["physicalLocation"];
                assert!(phys["artifactLocation"]["uri"].is_string(), "{loc}");
                if let Some(region) = phys.get("region") {
                    assert!(region["startLine"].as_u64().unwrap() >= 1, "{loc}");
                }
            }
        }
    }
}

/// The address of `symbol` in `exe`, from its symbol table.
fn symbol_address(exe: &Path, symbol: &str) -> u64 {
    let out = Command::new("nm").arg(exe).output().expect("nm (binutils)");
    let listing = text(&out.stdout);
    let line = listing
        .lines()
        .find(|l| l.ends_with(&format!(" T {symbol}")))
        .unwrap_or_else(|| panic!("{symbol} not in nm output:\n{listing}"));
    u64::from_str_radix(line.split(' ').next().unwrap(), 16).unwrap()
}

/// A violation whose call site is in `main` of a program built with `-g` in `dir` (inside main's
/// first instructions, which belong to the line of its opening brace, line 3 of `site.c`), as a
/// log line.
fn violation_in_main(dir: &Path) -> String {
    let exe = c_program(
        dir,
        "site",
        "#include <unistd.h>\nint main(void)\n{\n  return 0;\n}\n",
    );
    let offset = format!("{:#x}", symbol_address(&exe, "main") + 1);
    VIOLATION
        .replace("/nonexistent/bin/prog", exe.to_str().unwrap())
        .replace("0x5a3c", &offset)
}

/// Call sites are symbolized without binutils: with a `PATH` that holds no `addr2line`, the
/// report still names the function and the line of the call site.
#[test]
fn call_sites_are_symbolized_without_binutils_on_the_path() {
    let dir = scratch("no-binutils");
    let log = dir.join("dynchk.4242.jsonl");
    std::fs::write(&log, format!("{}\n{SUMMARY}\n", violation_in_main(&dir))).unwrap();
    let empty = dir.join("bin");
    std::fs::create_dir_all(&empty).unwrap();
    let out = dynchk()
        .arg("report")
        .arg(&log)
        .env("PATH", &empty)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let site = format!("at main at {}:3 [", dir.join("site.c").display());
    assert!(stdout.contains(&site), "want {site} in:\n{stdout}");
}

#[test]
fn sarif_has_required_properties_and_symbolized_locations() {
    let dir = scratch("sarif");
    let symbolized = violation_in_main(&dir);
    let other = VIOLATION.replace("RWaddress", "filedescriptor");
    std::fs::write(
        dir.join("dynchk.4242.jsonl"),
        format!("{symbolized}\n{other}\n{SUMMARY}\n"),
    )
    .unwrap();
    let out = dynchk()
        .args(["report", "--format", "sarif"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let log: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_valid_sarif(&log);
    let results = log["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    let phys = &results[0]["locations"][0]["physicalLocation"];
    assert!(
        phys["artifactLocation"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("/site.c"),
        "{phys}"
    );
    assert_eq!(phys["region"]["startLine"], 3, "{phys}");
    assert_eq!(
        results[0]["locations"][0]["logicalLocations"][0]["name"],
        "main"
    );
    // The unresolvable module stays a module location without a region.
    let phys = &results[1]["locations"][0]["physicalLocation"];
    assert_eq!(
        phys["artifactLocation"]["uri"],
        "file:///nonexistent/bin/prog"
    );
    assert!(phys.get("region").is_none());
    let rules: Vec<&str> = log["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(rules, ["RWaddress", "filedescriptor"]);
}

#[test]
fn text_report_names_function_and_line_of_the_call_site() {
    let dir = scratch("text-symbol");
    let exe = c_program(&dir, "prog", "int main(void)\n{\n  return 0;\n}\n");
    let offset = format!("{:#x}", symbol_address(&exe, "main") + 1);
    let v = VIOLATION
        .replace("/nonexistent/bin/prog", exe.to_str().unwrap())
        .replace("0x5a3c", &offset);
    let log = dir.join("one.jsonl");
    std::fs::write(&log, format!("{v}\n")).unwrap();
    let out = dynchk().arg("report").arg(&log).output().unwrap();
    let stdout = text(&out.stdout);
    let expected = format!(
        "at main at {}:2 [{}+{offset}]",
        dir.join("prog.c").display(),
        exe.display()
    );
    assert!(stdout.contains(&expected), "want {expected} in:\n{stdout}");
}

#[test]
fn control_characters_in_a_crafted_log_are_escaped() {
    let dir = scratch("escapes");
    let log = dir.join("dynchk.7.jsonl");
    let evil = VIOLATION
        .replace("\"read\"", "\"re\\u001b[2Jad\"")
        .replace("(no mapping)", "\\u001b]0;pwned\\u0007\\r\\nfake result")
        .replace("/nonexistent/bin/prog", "/x\\u001b[31m");
    let start = r#"{"kind":"start","pid":4242,"ppid":1,"exe":"/bin/x","argv":["x\u001bc"],"time":"2026-12-01T09:00:00Z"}"#;
    std::fs::write(&log, format!("{start}\n{evil}\n{SUMMARY}\n")).unwrap();
    let out = dynchk().arg("report").arg(&log).output().unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    for (name, s) in [("stdout", &stdout), ("stderr", &stderr)] {
        assert!(
            !s.chars().any(|c| c.is_control() && c != '\n'),
            "raw control character on {name}: {s:?}"
        );
    }
    assert!(stdout.contains("re\\x1b[2Jad(arg1 buf)"), "{stdout}");
    assert!(stdout.contains("\\x0d\\x0afake result"), "{stdout}");
    assert!(stdout.contains("x\\x1bc"), "{stdout}");
}

#[test]
fn an_unreadable_log_or_a_fifo_is_skipped_with_a_warning() {
    let dir = scratch("unreadable");
    let good = dir.join("good.jsonl");
    std::fs::write(&good, format!("{VIOLATION}\n{SUMMARY}\n")).unwrap();
    let fifo = dir.join("fifo.jsonl");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let missing = dir.join("missing.jsonl");
    let mut child = dynchk()
        .arg("report")
        .arg(&fifo)
        .arg(&missing)
        .arg(&good)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("dynchk report hung on a FIFO");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("{}: skipped: not a regular file", fifo.display())),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{}: skipped: cannot read it", missing.display())),
        "{stderr}"
    );
    assert!(
        stdout.contains("dynchk: 3 violations (RWaddress 3)"),
        "{stdout}"
    );
}

/// Runs `dynchk report LOG --format FORMAT` with its output discarded; returns its peak resident
/// memory in MiB (the kernel's `ru_maxrss` of that one child).
#[allow(clippy::zombie_processes)] // reaped by wait4, which also gives its resource usage
fn report_peak_rss_mib(log: &Path, format: &str) -> u64 {
    let child = dynchk()
        .arg("report")
        .arg(log)
        .args(["--format", format])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut status = 0;
    // SAFETY: rusage is a plain C struct the kernel fills.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child, writing into the locals.
    let r = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    assert_eq!(r, child.id() as i32);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "dynchk report --format {format}: status {status:#x}"
    );
    usage.ru_maxrss as u64 / 1024
}

/// `dynchk report` aggregates while reading: memory follows the distinct sites and processes,
/// not the size of the logs (a 280 MB log of 1M violations took 1.7 GB when it held the records).
#[test]
fn a_million_violations_are_summarized_in_bounded_memory() {
    use std::io::Write;
    let dir = scratch("million");
    let log = dir.join("big.jsonl");
    let mut w = std::io::BufWriter::new(std::fs::File::create(&log).unwrap());
    for i in 0..1_000_000u64 {
        let (pid, site) = (100 + i % 50, 0x1000 + ((i / 50) % 4) * 16);
        writeln!(
            w,
            r#"{{"kind":"violation","pid":{pid},"tid":{pid},"interface":"read","library":"libc","version":"GLIBC_2.2.5","param":1,"param_name":"buf","check":"RWaddress","severity":"error","value":"0x10","message":"0x10 is not a writable address (no mapping)","count":1,"backtrace":[{{"module":"/nonexistent/prog","offset":"{site:#x}"}}]}}"#
        )
        .unwrap();
    }
    w.into_inner().unwrap().sync_all().unwrap();
    let size = std::fs::metadata(&log).unwrap().len() >> 20;
    let text_mib = report_peak_rss_mib(&log, "text");
    let json_mib = report_peak_rss_mib(&log, "json");
    eprintln!(
        "dynchk report of a {size} MiB log (1M violation records, 200 sites): \
         peak RSS text {text_mib} MiB, json {json_mib} MiB"
    );
    assert!(
        text_mib < 100 && json_mib < 100,
        "text {text_mib} MiB, json {json_mib} MiB"
    );
    let out = dynchk().arg("report").arg(&log).output().unwrap();
    let stdout = text(&out.stdout);
    // A site's records are merged: the preload writes each once per process, and the same call
    // site in 50 processes is one site hit 50 times.
    assert!(
        stdout.contains("dynchk: 200 violations (RWaddress 200) at 4 call sites in 50 processes"),
        "{stdout}"
    );
}

#[test]
fn totals_saturate_instead_of_wrapping_around() {
    let dir = scratch("saturate");
    let log = dir.join("huge.jsonl");
    let max = u64::MAX;
    let summary = format!(
        r#"{{"kind":"summary","pid":7,"calls":{max},"checked":{max},"violations":{max},"distinct":0,"interfaces_used":1,"by_check":{{"RWaddress":{max}}}}}"#
    );
    std::fs::write(&log, format!("{summary}\n{summary}\n")).unwrap();
    let out = dynchk().arg("report").arg(&log).output().unwrap();
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!("dynchk: {max} violations (RWaddress {max})"))
            && stdout.contains(&format!("({max} calls checked)")),
        "{stdout}"
    );
}
