//! The README's "Checks" table is derived from the `rule` lines of db/semantics/*.sem, with the
//! shortest annotation that uses each rule as its example. This test fails when they drift apart;
//! `DYNCHK_BLESS=1 cargo test -p dynchk-cli --test readme` rewrites the table.

use std::path::{Path, PathBuf};

const BEGIN: &str =
    "<!-- checks:begin (generated: DYNCHK_BLESS=1 cargo test -p dynchk-cli --test readme) -->\n";
const END: &str = "<!-- checks:end -->\n";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Splits a line into words, keeping "double quoted" words (quotes removed) together.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = line.trim();
    while !rest.is_empty() {
        if let Some(q) = rest.strip_prefix('"') {
            let end = q.find('"').unwrap_or(q.len());
            out.push(q[..end].to_string());
            rest = q.get(end + 1..).unwrap_or("").trim_start();
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            out.push(rest[..end].to_string());
            rest = rest[end..].trim_start();
        }
    }
    out
}

/// The .sem lines (comments stripped, continuations joined), files in name order.
fn sem_lines() -> Vec<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(workspace().join("db/semantics"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sem"))
        .collect();
    files.sort();
    let mut lines = Vec::new();
    for f in files {
        let mut pending = String::new();
        for raw in std::fs::read_to_string(f).unwrap().lines() {
            let code = raw.split('#').next().unwrap().trim_end();
            if let Some(cont) = code.strip_suffix('\\') {
                pending.push_str(cont);
                pending.push(' ');
                continue;
            }
            pending.push_str(code);
            let line = std::mem::take(&mut pending).trim().to_string();
            if !line.is_empty() {
                lines.push(line);
            }
        }
    }
    lines
}

/// Rule names used by an annotation line: the words after each `name:` up to the next `,`, `)` or
/// `}` outside parentheses (rule arguments are dropped), stopping at `when`; `?portability` where
/// it follows the name.
fn rules_used(line: &str) -> Vec<String> {
    let mut used = Vec::new();
    for (i, _) in line.match_indices(':') {
        if line[..i].ends_with("?portability") {
            used.push("?portability".to_string());
        }
        let mut depth = 0;
        let mut top_level = String::new();
        for c in line[i + 1..].chars() {
            match c {
                '(' | '[' => depth += 1,
                ')' | ']' if depth > 0 => depth -= 1,
                ',' | ')' | '}' if depth == 0 => break,
                _ if depth == 0 => top_level.push(c),
                _ => {}
            }
        }
        for word in top_level.split_whitespace() {
            if word == "when" {
                break;
            }
            let name: String = word
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '.')
                .collect();
            used.push(name);
        }
    }
    used
}

fn table() -> String {
    let lines = sem_lines();
    let mut t = String::from("| check (in reports) | rule (in .sem) | what it asks | example annotation |\n|---|---|---|---|\n");
    for line in &lines {
        let w = words(line);
        if w.first().map(String::as_str) != Some("rule") || w.len() < 4 {
            continue;
        }
        let (rule, check, desc) = (&w[1], &w[2], w.last().unwrap());
        // The shortest use reads best; `min_by_key` keeps the first of equals, so it is stable.
        let example = lines
            .iter()
            .filter(|l| !l.starts_with("rule "))
            .filter(|l| rules_used(l).contains(rule))
            .min_by_key(|l| l.len())
            .map(|l| format!("`{}`", l.replace('|', "\\|")))
            .unwrap_or_else(|| "(not used yet)".into());
        t += &format!(
            "| `{check}` | `{rule}` | {} | {example} |\n",
            desc.replace('|', "\\|")
        );
    }
    t
}

#[test]
fn rules_used_reads_the_rules_after_each_colon() {
    assert_eq!(
        rules_used("open(path: pathname, flags: openflags, mode: filemode when flags & (O_CREAT|O_TMPFILE))"),
        ["pathname", "openflags", "filemode"]
    );
    assert_eq!(
        rules_used("readv(fd: fd.open, iov: in[iovcnt] data=out, iovcnt: range(0, 1024))"),
        ["fd.open", "in", "data", "range"]
    );
    assert_eq!(
        rules_used("gettimeofday(tv?portability: out, tz?: out)"),
        ["?portability", "out", "out"]
    );
}

#[test]
fn readme_checks_table_matches_the_rule_files() {
    let path = workspace().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let start = readme
        .find(BEGIN)
        .expect("README lacks the checks:begin marker")
        + BEGIN.len();
    let end = readme
        .find(END)
        .expect("README lacks the checks:end marker");
    let want = table();
    if readme[start..end] == want {
        return;
    }
    if std::env::var_os("DYNCHK_BLESS").is_some() {
        std::fs::write(
            &path,
            format!("{}{want}{}", &readme[..start], &readme[end..]),
        )
        .unwrap();
        return;
    }
    panic!(
        "README.md's checks table is out of date; run DYNCHK_BLESS=1 cargo test -p dynchk-cli --test readme\nwanted:\n{want}"
    );
}

/// The install test (tests/install.rs) runs exactly this command; the README must show it.
#[test]
fn install_section_is_the_tested_command() {
    let readme = std::fs::read_to_string(workspace().join("README.md")).unwrap();
    let section = readme
        .split("\n## Install\n")
        .nth(1)
        .expect("README has an Install section");
    let block = section
        .split("```sh\n")
        .nth(1)
        .and_then(|b| b.split("```").next())
        .expect("the Install section starts with a sh block");
    assert_eq!(block, "cargo install --locked --path dynchk-cli\n");
}
