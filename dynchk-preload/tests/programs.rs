//! Real programs run under the checker behave exactly as without it (stdout, stderr, exit status)
//! and leave a summary record that counted their calls.

mod common;

use common::{scratch, summaries, transparent, Run};

/// Runs `argv` both ways in a fresh scratch dir and checks transparency and the summary.
fn check_program(name: &str, run: &Run<'_>) {
    let dir = scratch(name);
    let records = transparent(run, &dir);
    let s = summaries(&records);
    assert!(!s.is_empty(), "{name}: no summary record");
    assert!(
        s.iter().any(|r| r["calls"].as_u64() > Some(0)),
        "{name}: no calls counted: {s:?}"
    );
    for r in &s {
        assert!(
            r["checked"].as_u64() <= r["calls"].as_u64(),
            "{name}: checked > calls: {r}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ls_recursive_long() {
    check_program("ls", &Run::new(&["ls", "-lR", "/usr/share/doc"]));
}

#[test]
fn sort_stdin() {
    let input: String = (0..5000)
        .map(|i| format!("line {}\n", (i * 7919) % 5000))
        .collect();
    let run = Run {
        stdin: Some(input.as_bytes()),
        ..Run::new(&["sort"])
    };
    check_program("sort", &run);
}

#[test]
fn grep_recursive() {
    check_program(
        "grep",
        &Run::new(&["grep", "-r", "-c", "GNU", "/usr/share/doc"]),
    );
}

#[test]
fn shell_pipeline() {
    let script = "ls /usr/share/doc | sort -r | head -n 5; echo done | tr a-z A-Z; exit 3";
    check_program("sh", &Run::new(&["sh", "-c", script]));
}

#[test]
fn python() {
    let code = "import json, os, subprocess\n\
                print(json.dumps(sorted(os.listdir('/usr/share/doc'))[:5]))\n\
                print(subprocess.run(['echo', 'child'], capture_output=True).stdout)";
    check_program("python", &Run::new(&["python3", "-c", code]));
}

#[test]
fn perl() {
    let code = r#"print join(",", sort { $a <=> $b } map { $_ * 2 } 1..20), "\n";
                  opendir(my $d, "/usr/share/doc") or die; my @e = readdir $d;
                  print scalar(@e) > 2 ? "ok\n" : "empty\n"; warn "to stderr\n"; exit 4;"#;
    check_program("perl", &Run::new(&["perl", "-e", code]));
}

#[test]
fn git_log() {
    let repo = scratch("git-repo");
    let home = repo.to_str().expect("utf-8 path");
    let env = [
        ("HOME", home),
        ("GIT_CONFIG_NOSYSTEM", "1"),
        ("GIT_AUTHOR_NAME", "A U Thor"),
        ("GIT_AUTHOR_EMAIL", "author@example.com"),
        ("GIT_COMMITTER_NAME", "C O Mitter"),
        ("GIT_COMMITTER_EMAIL", "committer@example.com"),
        ("GIT_AUTHOR_DATE", "2020-01-01T00:00:00Z"),
        ("GIT_COMMITTER_DATE", "2020-01-01T00:00:00Z"),
    ];
    let setup = |argv: &[&str]| {
        let out = Run {
            env: &env,
            cwd: Some(&repo),
            ..Run::new(argv)
        }
        .go(None);
        assert!(
            out.status.success(),
            "{argv:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    setup(&["git", "init", "-q", "."]);
    for i in 0..3 {
        std::fs::write(repo.join(format!("f{i}.txt")), format!("content {i}\n")).expect("write");
        setup(&["git", "add", "."]);
        setup(&["git", "commit", "-q", "-m", &format!("commit {i}")]);
    }
    let run = Run {
        env: &env,
        cwd: Some(&repo),
        ..Run::new(&["git", "log", "--stat", "--no-color"])
    };
    check_program("git", &run);
    let _ = std::fs::remove_dir_all(&repo);
}

#[test]
fn tar_archive() {
    check_program(
        "tar",
        &Run::new(&[
            "tar",
            "-cf",
            "-",
            "-C",
            "/usr/share",
            "doc/tar",
            "doc/gzip",
            "doc/libc6",
        ]),
    );
}

#[test]
fn gzip_roundtrip() {
    let data = scratch("gzip-data");
    let input: Vec<u8> = (0..200_000u32)
        .flat_map(|i| (i % 251).to_le_bytes())
        .collect();
    let file = data.join("input.bin");
    std::fs::write(&file, &input).expect("write input");
    let file = file.to_str().expect("utf-8 path");
    check_program("gzip", &Run::new(&["gzip", "-c", "-n", "-9", file]));
    let packed = data.join("input.bin.gz");
    std::fs::write(
        &packed,
        Run::new(&["gzip", "-c", "-n", file]).go(None).stdout,
    )
    .expect("write");
    check_program(
        "gunzip",
        &Run::new(&["gzip", "-d", "-c", packed.to_str().expect("utf-8 path")]),
    );
    let _ = std::fs::remove_dir_all(&data);
}
