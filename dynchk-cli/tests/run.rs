//! `dynchk run` end to end with the libdynchk.so built into dynchk: transparency of argv and
//! exit status, the process tree, log directory fallbacks, and a real violation.

mod common;

use common::{c_program, dynchk, lib, scratch, text};
use serde_json::Value;
use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::Output;

/// `dynchk run EXTRA… -- CMD…`
fn run(extra: &[&str], cmd: &[&OsStr]) -> Output {
    dynchk()
        .arg("run")
        .args(extra)
        .arg("--")
        .args(cmd)
        .output()
        .unwrap()
}

/// `dynchk run --json DIR/run.json --sarif DIR/run.sarif EXTRA… -- CMD…`: its output, the
/// records and the SARIF log.
fn run_to_files(dir: &Path, extra: &[&str], cmd: &[&OsStr]) -> (Output, Vec<Value>, Value) {
    let (json, sarif) = (dir.join("run.json"), dir.join("run.sarif"));
    let mut both = vec![
        os("--json"),
        json.as_os_str(),
        os("--sarif"),
        sarif.as_os_str(),
    ];
    both.extend(extra.iter().map(|a| os(a)));
    let out = dynchk()
        .arg("run")
        .args(both)
        .arg("--")
        .args(cmd)
        .output()
        .unwrap();
    let records = std::fs::read_to_string(&json)
        .unwrap_or_else(|e| panic!("{}: {e}: {}", json.display(), text(&out.stderr)))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let sarif = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    (out, records, sarif)
}

/// Validates a SARIF log against the OASIS SARIF 2.1.0 schema (tests/data, from the
/// oasis-tcs/sarif-spec repository, sarif-2.1/schema/sarif-schema-2.1.0.json), listing every error.
fn assert_valid_sarif(log: &Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/sarif-schema-2.1.0.json");
    let schema: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("the SARIF schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "invalid SARIF:\n{}\n{log:#}",
        errors.join("\n")
    );
}

fn os(s: &str) -> &OsStr {
    OsStr::new(s)
}

#[test]
fn argv_is_passed_exactly() {
    let dir = scratch("argv");
    let exe = c_program(
        &dir,
        "argv",
        "#include <stdio.h>\nint main(int c, char **v) {\n  for (int i = 1; i < c; i++) { fputs(v[i], stdout); putchar(0); }\n  return 0;\n}\n",
    );
    let args: [&[u8]; 8] = [
        b"two words",
        b"",
        b"'single' \"double\" \\back",
        b"--",
        b"--log",
        b"$HOME *",
        b"\xff\xfe not UTF-8",
        b"",
    ];
    let mut cmd: Vec<&OsStr> = vec![exe.as_os_str()];
    cmd.extend(args.iter().map(|a| OsStr::from_bytes(a)));
    let out = run(&[], &cmd);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let expected: Vec<u8> = args
        .iter()
        .flat_map(|a| a.iter().copied().chain([0]))
        .collect();
    assert_eq!(out.stdout, expected);
}

#[test]
fn exit_status_is_the_commands_own_and_signals_map_like_a_shell() {
    let out = run(&[], &[os("sh"), os("-c"), os("exit 7")]);
    assert_eq!(out.status.code(), Some(7), "{}", text(&out.stderr));
    let out = run(&[], &[os("sh"), os("-c"), os("kill -TERM $$")]);
    assert_eq!(out.status.code(), Some(128 + 15), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("killed by signal 15"),
        "{}",
        text(&out.stderr)
    );
    let out = run(
        &["--fail-on-violation"],
        &[os("sh"), os("-c"), os("kill -KILL $$")],
    );
    assert_eq!(out.status.code(), Some(128 + 9), "{}", text(&out.stderr));
}

#[test]
fn ctrl_c_kills_the_command_but_dynchk_survives_to_report() {
    // Like a terminal's Ctrl-C: SIGINT to the whole process group, dynchk included. The group is
    // a new one so that the test harness is not hit.
    let out = dynchk()
        .args(["run", "--", "sh", "-c", "kill -INT 0; sleep 5"])
        .process_group(0)
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(128 + 2), "{stderr}");
    assert!(stderr.contains("killed by signal 2"), "{stderr}");
}

#[test]
fn clean_run_is_one_line_and_leaves_no_temp_logs() {
    let tmp = scratch("clean");
    let out = dynchk()
        .args(["run", "--fail-on-violation", "--", "/bin/true"])
        .env("TMPDIR", &tmp)
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.starts_with("dynchk: no violations (") && stderr.ends_with(" in 1 process)\n"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "temp logs left behind"
    );
}

#[test]
fn pipeline_gives_one_log_per_process_and_a_tree_of_three() {
    let dir = scratch("pipeline");
    let logs = dir.join("logs");
    std::fs::create_dir(&logs).unwrap();
    let log_arg = format!("{}/", logs.display());
    let cmd = [os("sh"), os("-c"), os("/bin/echo hi | /bin/cat")];
    let json = dir.join("run.json");
    let out = run(&["--log", &log_arg, "--json", json.to_str().unwrap()], &cmd);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(out.stdout, b"hi\n");
    let file_pids: BTreeSet<i64> = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter_map(|n| {
            n.strip_prefix("dynchk.")?
                .strip_suffix(".jsonl")?
                .parse()
                .ok()
        })
        .collect();
    assert_eq!(file_pids.len(), 3, "sh, echo and cat: {file_pids:?}");
    // --json passes every process's records through; each process wrote its summary.
    let summary_pids: BTreeSet<i64> = std::fs::read_to_string(&json)
        .unwrap()
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["kind"] == "summary")
        .map(|v| v["pid"].as_i64().unwrap())
        .collect();
    assert_eq!(summary_pids, file_pids, "{}", text(&out.stderr));
    // The same logs summarized as text count three processes.
    let report = dynchk().arg("report").arg(&logs).output().unwrap();
    assert!(
        text(&report.stdout).contains("in 3 processes"),
        "{}",
        text(&report.stdout)
    );
}

#[test]
fn background_processes_are_waited_for_before_the_summary() {
    let out = run(
        &[],
        &[os("sh"), os("-c"), os("(sleep 0.3; echo late >&2) &")],
    );
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let late = stderr.find("late\n").expect("the background process ran");
    let summary = stderr.find("dynchk: ").expect("a summary");
    assert!(
        late < summary,
        "summary before the background process ended:\n{stderr}"
    );
}

#[test]
fn one_log_file_collects_every_process_and_earlier_runs_are_not_summarized() {
    let dir = scratch("logfile");
    let log = dir.join("all.jsonl");
    let old = r#"{"kind":"violation","pid":1,"interface":"close","param":0,"check":"filedescriptor","message":"old run","count":1}"#;
    std::fs::write(&log, format!("{old}\n")).unwrap();
    let out = run(
        &["--log", log.to_str().unwrap()],
        &[os("sh"), os("-c"), os("/bin/echo hi | /bin/cat")],
    );
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    // Whatever the shell itself is found to do, the old run's record is not part of this run.
    assert!(stderr.contains(" in 3 processes"), "{stderr}");
    assert!(!stderr.contains("old run"), "{stderr}");
    let content = std::fs::read_to_string(&log).unwrap();
    assert!(content.starts_with(old), "the old content is kept");
    assert!(
        content.matches("\"kind\":\"summary\"").count() >= 3,
        "{content}"
    );
}

/// The directory named by the "dynchk: logs in DIR" line.
fn logs_in(stderr: &str) -> &Path {
    let line = stderr
        .lines()
        .find_map(|l| l.strip_prefix("dynchk: logs in "))
        .unwrap_or_else(|| panic!("no 'logs in' line in:\n{stderr}"));
    Path::new(line.split(" (").next().unwrap())
}

fn assert_falls_back(bad_log: &str) {
    let out = run(&["--log", bad_log], &[os("/bin/echo"), os("still runs")]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(text(&out.stdout), "still runs\n");
    assert!(
        stderr.contains(&format!("error: log directory {bad_log}")) && stderr.contains("instead"),
        "{stderr}"
    );
    let fallback = logs_in(&stderr);
    assert!(
        std::fs::read_dir(fallback).unwrap().count() >= 1,
        "no log in {}",
        fallback.display()
    );
    std::fs::remove_dir_all(fallback).unwrap();
}

#[test]
fn missing_log_directory_is_an_error_and_the_program_runs_with_a_temp_dir() {
    assert_falls_back("/nonexistent-dynchk-test/logs/");
}

#[test]
fn log_directory_below_a_regular_file_falls_back_too() {
    let dir = scratch("notadir");
    let file = dir.join("file");
    std::fs::write(&file, "").unwrap();
    assert_falls_back(&format!("{}/logs/", file.display()));
}

#[test]
fn a_fifo_as_log_file_falls_back_without_hanging() {
    let dir = scratch("fifo");
    let fifo = dir.join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let out = run(
        &["--log", fifo.to_str().unwrap()],
        &[os("/bin/echo"), os("still runs")],
    );
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert_eq!(text(&out.stdout), "still runs\n");
    assert!(
        stderr.contains(&format!("log file {}", fifo.display())) && stderr.contains("instead"),
        "{stderr}"
    );
    std::fs::remove_dir_all(logs_in(&stderr)).unwrap();
}

/// Three calls from one call site (line 4) with a negative descriptor.
const BAD_FD: &str = "#include <fcntl.h>\nint main(void) {\n  for (int i = 0; i < 3; i++)\n    (void)fcntl(-5, F_GETFD);\n  return 0;\n}\n";

#[test]
fn violation_is_grouped_symbolized_and_fails_the_run_on_request() {
    let dir = scratch("violation");
    let exe = c_program(&dir, "badfd", BAD_FD);
    let out = run(&["--fail-on-violation"], &[exe.as_os_str()]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("dynchk: 3 violations (filedescriptor 3) at 1 call site in 1 process")
            && stderr.contains("fcntl(arg0 fd) filedescriptor: 3 times at 1 call site\n"),
        "{stderr}"
    );
    let site = format!("at main at {}:4 [", dir.join("badfd.c").display());
    assert!(stderr.contains(&site), "want {site} in:\n{stderr}");
    assert!(
        stderr.contains(&format!(" {}: ", exe.display())),
        "{stderr}"
    );
    // Logs of a run with violations are kept for `dynchk report`.
    let kept = logs_in(&stderr).to_path_buf();
    assert!(kept.is_dir());
    std::fs::remove_dir_all(kept).unwrap();
}

#[test]
fn abort_on_violation_kills_the_program_with_sigabrt() {
    let dir = scratch("abort");
    let exe = c_program(&dir, "badfd", BAD_FD);
    let log = format!("{}/", dir.display());
    let out = run(&["--abort-on-violation", "--log", &log], &[exe.as_os_str()]);
    assert_eq!(out.status.code(), Some(128 + 6), "{}", text(&out.stderr));
}

#[test]
fn existing_ld_preload_is_kept_after_ours() {
    let lib = lib().canonicalize().unwrap();
    let out = dynchk()
        .args(["run", "--lib"])
        .arg(&lib)
        .args(["--", "sh", "-c", "printf %s \"$LD_PRELOAD\""])
        .env("LD_PRELOAD", &lib)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{0}:{0}", lib.display()));
}

#[test]
fn missing_library_is_an_error_naming_it() {
    let out = dynchk()
        .args(["run", "--lib", "/nonexistent/libdynchk.so", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(125));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("/nonexistent/libdynchk.so") && stderr.contains("copy built into dynchk"),
        "{stderr}"
    );
}

#[test]
fn usage_errors_exit_125_not_a_status_the_command_could_return() {
    let out = dynchk().arg("run").output().unwrap();
    assert_eq!(out.status.code(), Some(125));
    assert!(text(&out.stderr).contains("<CMD>"), "{}", text(&out.stderr));
    let out = dynchk().args(["run", "--help"]).output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(text(&out.stdout).contains("libdynchk.so is, first match wins"));
}

#[test]
fn unknown_command_exits_127() {
    let out = run(&[], &[os("/nonexistent/command")]);
    assert_eq!(out.status.code(), Some(127));
    assert!(text(&out.stderr).contains("command not found"));
}

#[test]
fn dynchk_own_paths_need_no_shell() {
    // A command name with a space and a quote is a file name, not shell syntax.
    let dir = scratch("odd-name");
    let exe = c_program(&dir, "odd name'", "int main(void) { return 3; }\n");
    let out = run(&[], &[exe.as_os_str()]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stderr));
}

/// A program with one bad call: `close(-7)`, then a line on stderr of its own.
const BAD_CLOSE: &str = "#include <unistd.h>\n#include <stdio.h>\nint main(void) {\n  close(-7);\n  fputs(\"own stderr\\n\", stderr);\n  return 0;\n}\n";

#[test]
fn a_misspelt_option_is_a_usage_error_with_a_suggestion_not_the_command() {
    let out = dynchk()
        .args(["run", "--fail-on-violations", "--", "true"])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{stderr}");
    assert!(stderr.contains("--fail-on-violation"), "{stderr}");
    assert!(!stderr.contains("command not found"), "{stderr}");
    // Without `--`, the command starts at the first word that is not an option; its own options
    // stay its own.
    let out = dynchk()
        .args(["run", "sh", "-c", "exit 4"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(4), "{}", text(&out.stderr));
}

#[test]
fn a_reused_log_directory_summarizes_only_this_runs_processes() {
    let dir = scratch("reuse");
    let logs = dir.join("logs");
    std::fs::create_dir(&logs).unwrap();
    for _ in 0..2 {
        let out = run(
            &["--log", logs.to_str().unwrap()],
            &[os("sh"), os("-c"), os("true; true")],
        );
        let stderr = text(&out.stderr);
        assert!(stderr.contains("in 1 process)"), "{stderr}");
    }
    assert!(std::fs::read_dir(&logs).unwrap().count() >= 2);
}

#[test]
fn json_and_sarif_go_to_their_own_files_and_exit_codes_follow_the_options() {
    let dir = scratch("machine");
    let exe = c_program(&dir, "badclose", BAD_CLOSE);
    let (out, records, s) = run_to_files(&dir, &["--error-exitcode=3"], &[exe.as_os_str()]);
    let json = dir.join("run.json");
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("own stderr") && stderr.contains("close(arg0 fd)"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("\"kind\""),
        "records leaked to stderr: {stderr}"
    );
    assert!(records
        .iter()
        .any(|r| r["kind"] == "violation" && r["interface"] == "close"));
    assert_eq!(s["runs"][0]["results"][0]["ruleId"], "filedescriptor");

    let fail = run(&["--fail-on-violation"], &[exe.as_os_str()]);
    assert_eq!(fail.status.code(), Some(1), "{}", text(&fail.stderr));
    let plain = run(&[], &[exe.as_os_str()]);
    assert_eq!(plain.status.code(), Some(0), "{}", text(&plain.stderr));
    let report = |extra: &[&str]| {
        dynchk()
            .arg("report")
            .args(extra)
            .arg(&json)
            .output()
            .unwrap()
            .status
            .code()
    };
    assert_eq!(report(&[]), Some(0));
    assert_eq!(report(&["--fail-on-violation"]), Some(1));
    assert_eq!(report(&["--error-exitcode=9"]), Some(9));
}

#[test]
fn backtrace_option_sets_the_depth() {
    let dir = scratch("backtrace");
    let exe = c_program(&dir, "badclose", BAD_CLOSE);
    let depth = |n: &str| {
        let json = dir.join(format!("bt{n}.json"));
        let out = dynchk()
            .args(["run", "--backtrace", n, "--json"])
            .arg(&json)
            .arg("--")
            .arg(&exe)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        let v: Value = std::fs::read_to_string(&json)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .find(|r| r["kind"] == "violation")
            .unwrap();
        v["backtrace"].as_array().map_or(0, Vec::len)
    };
    assert_eq!(depth("1"), 1);
    assert!(depth("8") > 1);
}

#[test]
fn asan_programs_run_with_the_link_order_check_off_and_dynchk_says_so() {
    let dir = scratch("asan");
    let src = dir.join("asan.c");
    std::fs::write(
        &src,
        "#include <stdio.h>\nint main(void) { puts(\"asan ok\"); return 0; }\n",
    )
    .unwrap();
    let exe = dir.join("asan");
    let cc = std::process::Command::new("cc")
        .args(["-fsanitize=address", "-g", "-o"])
        .arg(&exe)
        .arg(&src)
        .output()
        .unwrap();
    assert!(
        cc.status.success(),
        "cc -fsanitize=address: {}",
        text(&cc.stderr)
    );
    let out = run(&[], &[exe.as_os_str()]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(text(&out.stdout), "asan ok\n");
    assert!(
        stderr.contains("AddressSanitizer") && stderr.contains("verify_asan_link_order=0"),
        "{stderr}"
    );
}

#[test]
fn no_report_hints_name_the_likely_cause() {
    let dir = scratch("noreport");
    // A library the loader cannot preload: it says so and runs the program unchecked.
    let bogus = dir.join("bogus.so");
    std::fs::write(&bogus, "not ELF").unwrap();
    let out = dynchk()
        .args(["run", "--lib"])
        .arg(&bogus)
        .args(["--", "true"])
        .output()
        .unwrap();
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("env -i") && stderr.contains("failed to load"),
        "{stderr}"
    );
    let src = dir.join("static.c");
    std::fs::write(&src, "int main(void) { return 0; }\n").unwrap();
    let exe = dir.join("static");
    let cc = std::process::Command::new("cc")
        .args(["-static", "-o"])
        .arg(&exe)
        .arg(&src)
        .output()
        .unwrap();
    assert!(cc.status.success(), "cc -static: {}", text(&cc.stderr));
    let out = run(&[], &[exe.as_os_str()]);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("statically linked"), "{stderr}");
}

#[test]
fn an_exec_without_the_preload_is_named() {
    // `env -i` drops LD_PRELOAD: env itself is checked, the program it execs is not.
    let out = run(&[], &[os("env"), os("-i"), os("true")]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("env -i true exec'd a program that was not checked")
            && stderr.contains("env -i"),
        "{stderr}"
    );
    // An exec that keeps the environment is followed by the new image's start: no note.
    let out = run(&[], &[os("env"), os("true")]);
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("not checked"), "{stderr}");
    // dash runs `cat` through vfork: the child's execve is counted in the shell's (shared)
    // counters, but the shell itself never exec'd; cat is checked. No note either.
    let out = run(&[], &[os("dash"), os("-c"), os("cat /dev/null; true")]);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("in 2 processes") && !stderr.contains("not checked"),
        "{stderr}"
    );
}

/// A planted program: 1000 bad closes on one line, a bad socket family, a forked child that
/// breaks a rule on a line its parent breaks too, then execs a shell.
const FORKED: &str = r#"#include <unistd.h>
#include <sys/socket.h>
#include <sys/wait.h>
static void edge(int fd) { close(fd); }
int main(void) {
  for (int i = 0; i < 1000; i++) close(-5);
  socket(12345, SOCK_STREAM, 0);
  pid_t p = fork();
  if (p == 0) {
    edge(-9);
    execlp("sh", "sh", "-c", "exec true", (char *)0);
    _exit(1);
  }
  waitpid(p, 0, 0);
  edge(-9);
  return 0;
}
"#;

#[test]
fn the_summary_nests_processes_and_shows_every_site_with_its_count() {
    let dir = scratch("forked");
    let exe = c_program(&dir, "forked", FORKED);
    let out = run(&[], &[exe.as_os_str()]);
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(!stderr.contains('\x1b'), "no colour into a pipe: {stderr}");
    assert!(
        stderr.contains("1003 violations (filedescriptor 1002, socketfamily 1)")
            && stderr.contains("at 3 call sites in 2 processes"),
        "{stderr}"
    );
    assert!(
        stderr.contains("close(arg0 fd) filedescriptor: 1002 times at 2 call sites\n"),
        "{stderr}"
    );
    let c = exe.with_extension("c");
    let site = |func: &str, line: u32, times: &str, pids: &str| {
        format!("    at {func} at {}:{line} [", c.display()) + &format!("]: {times} (pid{pids}")
    };
    let first = site("main", 6, "1000 times", " ");
    let (at, rest) = first.split_once("[").unwrap();
    assert!(
        stderr.contains(at) && stderr.contains(&format!("]{}", rest.trim_start_matches(']'))),
        "{stderr}"
    );
    let edge = site("edge", 4, "2 times", "s ");
    let (at, _) = edge.split_once("[").unwrap();
    assert!(
        stderr.contains(at) && stderr.contains("]: 2 times (pids "),
        "{stderr}"
    );
    assert!(stderr.contains("\n        -5 is negative\n"), "{stderr}");
    assert!(
        stderr.contains("socket(arg0 domain) socketfamily: once at 1 call site"),
        "{stderr}"
    );
    // The tree: the child under its parent, the shell and true under the child.
    let tree = stderr.split("processes:\n").nth(1).unwrap();
    let lines: Vec<&str> = tree.lines().collect();
    let exe_s = exe.display().to_string();
    assert!(
        lines[0].starts_with("  ") && lines[0].contains(&format!(" {exe_s}: ")),
        "{tree}"
    );
    assert!(
        lines[1].starts_with("    ")
            && !lines[1].starts_with("     ")
            && lines[1].contains(&format!(" {exe_s}: "))
            && lines[1].contains("1 violation"),
        "{tree}"
    );
    assert!(
        lines[2].starts_with("      exec sh -c exec true: "),
        "{tree}"
    );
    assert!(lines[3].starts_with("      exec true: "), "{tree}");

    // --max-sites 1 hides the second close site and says so.
    let out = run(&["--max-sites", "1"], &[exe.as_os_str()]);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("    and 1 more call site (--max-sites N shows more)\n"),
        "{stderr}"
    );
    assert!(!stderr.contains(" at edge at "), "{stderr}");

    // Colour when asked for, never with NO_COLOR.
    let colour = |no_color: bool| {
        let mut cmd = dynchk();
        cmd.env("CLICOLOR_FORCE", "1")
            .arg("run")
            .arg("--")
            .arg(&exe);
        if no_color {
            cmd.env("NO_COLOR", "1");
        } else {
            cmd.env_remove("NO_COLOR");
        }
        text(&cmd.output().unwrap().stderr)
    };
    assert!(colour(false).contains("\x1b[1m\x1b[31m1002 violations\x1b[0m"));
    assert!(!colour(true).contains('\x1b'));
}

#[test]
fn suppressions_are_checked_before_the_run_counted_per_rule_and_generated() {
    let dir = scratch("suppress");
    let exe = c_program(&dir, "forked", FORKED);
    let bad = dir.join("bad.supp");
    std::fs::write(
        &bad,
        "# ok\nclose:fd:filedescriptor\nraed:buf\nread:buff\nsocket:*:socketfamly\nfunc=main\n",
    )
    .unwrap();
    let marker = dir.join("ran");
    let out = run(
        &["--suppress", bad.to_str().unwrap()],
        &[os("touch"), marker.as_os_str()],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(125), "{stderr}");
    assert!(!marker.exists(), "the program must not start");
    let b = bad.display();
    for want in [
        format!("{b}:3: `raed:buf`: `raed` is not an interface"),
        "similar: ".to_string(),
        format!("{b}:4: `read:buff`: read has no parameter `buff`; it has fd, buf, count"),
        format!("{b}:5: `socket:*:socketfamly`: `socketfamly` is not a check; did you mean socketfamily?"),
        format!("{b}:6: `func=main`: `func=` is not a rule key"),
    ] {
        assert!(stderr.contains(&want), "{want}\n{stderr}");
    }
    assert!(!stderr.contains(":2:"), "{stderr}");

    // --gen-suppressions gives rules that, pasted into a file, silence every report, which the
    // summary then counts per rule.
    let out = run(&["--gen-suppressions"], &[exe.as_os_str()]);
    let stderr = text(&out.stderr);
    let rules = stderr
        .split("# suppressions for the violations above")
        .nth(1)
        .expect(&stderr);
    let rules: String = rules
        .lines()
        .skip(1)
        .take_while(|l| !l.starts_with("dynchk:"))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(
        rules.contains("\nclose:fd:filedescriptor\n")
            && rules.contains("socket:domain:socketfamily\n"),
        "{rules}"
    );
    let good = dir.join("gen.supp");
    std::fs::write(&good, &rules).unwrap();
    let out = run(&["--suppress", good.to_str().unwrap()], &[exe.as_os_str()]);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("dynchk: no violations"), "{stderr}");
    assert!(
        stderr.contains("suppressed: 1003 violations (not counted above)\n      1002  close:fd:filedescriptor\n         1  socket:domain:socketfamily\n"),
        "{stderr}"
    );
}

#[test]
fn suppressions_match_call_sites_by_function_source_line_and_module() {
    let dir = scratch("suppress-sites");
    let exe = c_program(&dir, "forked", FORKED);
    let rules = dir.join("sites.supp");
    // `edge` closes in the parent and the child; the socket call is on line 7; the 1000 closes
    // of `main` match none of the rules that do not apply (other interface, function or module).
    std::fs::write(
        &rules,
        "close fun=edge\nsocket src=forked.c:7\nsocket:domain src=forked.c:6\n\
         close fun=nosuch\nread fun=edge\nclose obj=libnosuch.so\n",
    )
    .unwrap();
    let want = |stderr: &str| {
        assert!(
            stderr.contains("dynchk: 1000 violations (filedescriptor 1000) at 1 call site"),
            "{stderr}"
        );
        assert!(
            stderr.contains(
                "suppressed: 3 violations (not counted above)\n         2  close fun=edge\n         1  socket src=forked.c:7\n"
            ),
            "{stderr}"
        );
        assert!(!stderr.contains("socket("), "{stderr}");
    };
    let out = run(&["--suppress", rules.to_str().unwrap()], &[exe.as_os_str()]);
    want(&text(&out.stderr));

    // The same rules applied by `dynchk report` to the logs of a run without them; `obj=` matches
    // a module anywhere in the frames (here the program itself, for every call).
    let logs = dir.join("logs");
    let out = run(&["--log", logs.to_str().unwrap()], &[exe.as_os_str()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let report = |rules: &Path| {
        let out = dynchk()
            .args(["report", "--fail-on-violation", "--suppress"])
            .arg(rules)
            .arg(&logs)
            .output()
            .unwrap();
        (out.status.code(), text(&out.stdout))
    };
    let (code, stdout) = report(&rules);
    want(&stdout);
    assert_eq!(code, Some(1));
    let every = dir.join("obj.supp");
    std::fs::write(&every, "obj=forked\n").unwrap();
    let (code, stdout) = report(&every);
    assert!(stdout.contains("dynchk: no violations"), "{stdout}");
    assert!(stdout.contains("      1003  obj=forked\n"), "{stdout}");
    assert_eq!(code, Some(0), "{stdout}");
}

#[test]
fn sarif_is_the_same_for_two_runs_of_the_same_program() {
    let dir = scratch("sarif-stable");
    let exe = c_program(&dir, "forked", FORKED);
    let sarif = |n: u32| {
        let path = dir.join(format!("{n}.sarif"));
        let out = run(&["--sarif", path.to_str().unwrap()], &[exe.as_os_str()]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let mut v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let inv = v["runs"][0]
            .as_object_mut()
            .unwrap()
            .remove("invocations")
            .unwrap();
        (v, inv)
    };
    let (a, inv) = sarif(1);
    let (b, _) = sarif(2);
    let mut whole = a.clone();
    whole["runs"][0]["invocations"] = inv.clone();
    assert_valid_sarif(&whole);
    assert_eq!(
        serde_json::to_string_pretty(&a).unwrap(),
        serde_json::to_string_pretty(&b).unwrap()
    );
    let results = a["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 3, "one result per call site: {results:#?}");
    let edge = results
        .iter()
        .find(|r| r["locations"][0]["logicalLocations"][0]["name"] == "edge")
        .unwrap();
    assert_eq!(edge["properties"]["count"], 2);
    assert!(edge["partialFingerprints"]["dynchkSite/v1"]
        .as_str()
        .unwrap()
        .starts_with("filedescriptor:close:edge:"));
    assert!(edge["stacks"][0]["frames"].as_array().unwrap().len() >= 2);
    let close = &a["runs"][0]["tool"]["driver"]["rules"][0];
    assert!(close["fullDescription"]["text"]
        .as_str()
        .unwrap()
        .contains("fd.open"));
    assert_eq!(inv[0]["exitCode"], 0);
    assert_eq!(inv[0]["arguments"][0], exe.to_str().unwrap());
    assert_eq!(
        inv[0]["properties"]["processes"].as_array().unwrap().len(),
        2
    );
}

/// A portability violation (vim's fchmod with the file's own st_mode) and an error (a negative
/// descriptor).
const PORTABLE_AND_BAD: &str = "#include <fcntl.h>\n#include <sys/stat.h>\n#include <unistd.h>\nint main(void) {\n  int fd = open(\"typed.tmp\", O_CREAT | O_RDWR, 0600);\n  struct stat st;\n  fstat(fd, &st);\n  fchmod(fd, st.st_mode);\n  (void)fcntl(-5, F_GETFD);\n  return 0;\n}\n";

#[test]
fn min_severity_error_leaves_portability_violations_out_of_run_and_report() {
    let dir = scratch("severity");
    let exe = c_program(&dir, "portable", PORTABLE_AND_BAD);
    let all = dynchk()
        .current_dir(&*dir)
        .args(["run", "--log", &format!("{}/", dir.display()), "--"])
        .arg(&exe)
        .output()
        .unwrap();
    let stderr = text(&all.stderr);
    assert!(
        stderr.contains("dynchk: 2 violations (filedescriptor 1, filemode 1)"),
        "{stderr}"
    );
    // The same logs, reported again with the filter: only the error, counted alone.
    let report = dynchk()
        .args(["report", "--min-severity", "error"])
        .arg(&*dir)
        .output()
        .unwrap();
    let shown = text(&report.stdout);
    assert!(
        shown.contains("dynchk: 1 violation (filedescriptor 1)") && !shown.contains("fchmod"),
        "{shown}"
    );
    // Filtered in the checked process: not written, not counted.
    let errors = dynchk()
        .current_dir(&*dir)
        .args(["run", "--min-severity", "error", "--"])
        .arg(&exe)
        .output()
        .unwrap();
    let stderr = text(&errors.stderr);
    assert!(
        stderr.contains("dynchk: 1 violation (filedescriptor 1)") && !stderr.contains("fchmod"),
        "{stderr}"
    );
    std::fs::remove_dir_all(logs_in(&stderr)).unwrap();
}

#[test]
fn values_are_spelt_as_their_c_type_prints_in_records_text_and_sarif() {
    let dir = scratch("values");
    let exe = c_program(
        &dir,
        "values",
        "#include <fcntl.h>\n#include <sys/stat.h>\n#include <unistd.h>\n\
         int main(int argc, char **argv) {\n  (void)argc;\n\
         int fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0600);\n\
         close(-5);\n  fchmod(fd, 0xffffffffu);\n  read(fd, (void *)0x10, 1);\n  return 0;\n}\n",
    );
    let file = dir.join("file");
    let (out, records, s) = run_to_files(&dir, &[], &[exe.as_os_str(), file.as_os_str()]);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let want = [("close", "-5"), ("fchmod", "4294967295"), ("read", "0x10")];
    let results = s["runs"][0]["results"].as_array().unwrap();
    for (interface, value) in want {
        let r = records
            .iter()
            .find(|r| r["kind"] == "violation" && r["interface"] == interface)
            .unwrap_or_else(|| panic!("no {interface} violation in {records:?}"));
        assert_eq!(r["value"], value, "{r}");
        assert!(
            results
                .iter()
                .any(|r| r["properties"]["interface"] == interface
                    && r["properties"]["value"] == value),
            "{interface} = {value} not in {results:?}"
        );
    }
    // The mode's message spells it in octal; the text adds the decimal value, the others spell it.
    assert!(stderr.contains("(value 4294967295)"), "{stderr}");
    assert!(stderr.contains("-5") && stderr.contains("0x10"), "{stderr}");
}

#[test]
fn source_root_makes_sarif_uris_relative_to_srcroot_and_leaves_other_files_absolute() {
    let dir = scratch("source-root");
    let exe = c_program(&dir, "forked", FORKED);
    let logs = dir.join("logs");
    let root = format!("{}/", dir.display());
    let (out, _, s) = run_to_files(
        &dir,
        &["--source-root", &root, "--log", logs.to_str().unwrap()],
        &[exe.as_os_str()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let check = |s: &Value| {
        let run = &s["runs"][0];
        assert_eq!(
            run["originalUriBaseIds"]["%SRCROOT%"]["uri"],
            format!("file://{}/", dir.display()),
            "{run:#}"
        );
        let results = run["results"].as_array().unwrap();
        for r in results {
            let artifact = &r["locations"][0]["physicalLocation"]["artifactLocation"];
            assert_eq!(artifact["uri"], "forked.c", "{artifact}");
            assert_eq!(artifact["uriBaseId"], "%SRCROOT%", "{artifact}");
        }
        // The C library's frames are outside the root: absolute, without a base.
        let outside: Vec<&Value> = results
            .iter()
            .flat_map(|r| r["stacks"][0]["frames"].as_array().unwrap())
            .map(|f| &f["location"]["physicalLocation"]["artifactLocation"])
            .filter(|a| a.get("uriBaseId").is_none())
            .collect();
        assert!(!outside.is_empty(), "{results:#?}");
        for a in outside {
            assert!(a["uri"].as_str().unwrap().starts_with("file:///"), "{a}");
        }
    };
    check(&s);
    assert_valid_sarif(&s);
    let report = dynchk()
        .args(["report", "--format", "sarif", "--source-root", &root])
        .arg(&logs)
        .output()
        .unwrap();
    check(&serde_json::from_slice(&report.stdout).unwrap());
}

/// A read past a 16-byte block, a use after free and a double free, with the allocation on line
/// 5 (in `make`) and the free on line 8 (in `drop`).
const HEAP_SITES: &str = "#include <fcntl.h>\n#include <stdlib.h>\n#include <unistd.h>\nstatic char *make(size_t n) {\n  return malloc(n);\n}\nstatic void drop(char *p) {\n  free(p);\n}\nint main(void) {\n  int out = open(\"/dev/null\", O_WRONLY);\n  char *p = make(16);\n  (void)write(out, p, 64);\n  char *volatile q = make(48);\n  char *keep = make(32);\n  drop(q);\n  (void)write(out, q, 8);\n  drop(q);\n  (void)keep;\n  return 0;\n}\n";

#[test]
fn heap_reports_name_where_the_block_was_allocated_and_freed() {
    let dir = scratch("heap-sites");
    let exe = c_program(&dir, "heapsites", HEAP_SITES);
    let (out, records, sarif) = run_to_files(&dir, &[], &[exe.as_os_str()]);
    let stderr = text(&out.stderr);
    // glibc aborts on the double free, after the report.
    assert_eq!(out.status.code(), Some(134), "{stderr}");
    let src = dir.join("heapsites.c");
    let (made, dropped) = (
        format!("allocated at make at {}:5 [", src.display()),
        format!("freed at drop at {}:8 [", src.display()),
    );
    assert!(stderr.contains(&made), "want {made} in:\n{stderr}");
    assert_eq!(
        stderr.matches(&dropped).count(),
        2,
        "want {dropped} twice in:\n{stderr}"
    );
    let violations: Vec<&Value> = records
        .iter()
        .filter(|r| r["kind"] == "violation")
        .collect();
    let checks: Vec<(&str, bool, bool)> = violations
        .iter()
        .map(|v| {
            (
                v["check"].as_str().unwrap(),
                v.get("allocated_at").is_some(),
                v.get("freed_at").is_some(),
            )
        })
        .collect();
    assert_eq!(
        checks,
        [
            ("Rdaddress", true, false),
            ("Rdaddress", false, true),
            ("heapaddress", false, true)
        ],
        "{violations:#?}"
    );
    assert_eq!(
        violations[0]["allocated_at"]["module"],
        exe.to_str().unwrap()
    );
    assert_eq!(violations[1]["freed_at"], violations[2]["freed_at"]);
    assert_valid_sarif(&sarif);
    let related = &sarif["runs"][0]["results"][0]["relatedLocations"][0];
    assert_eq!(related["message"]["text"], "allocated at");
    assert_eq!(related["logicalLocations"][0]["name"], "make");
    assert_eq!(related["physicalLocation"]["region"]["startLine"], 5);
}
