//! `dynchk-gen check` (lint) on fixture databases, one per defect kind, on the real `db/`, and
//! the determinism of the LSB import.

use dynchk_gen::db::Db;
use dynchk_gen::{lint, lsb};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Fixture `name` as a loadable database, in a scratch directory: the `clean` fixture with
/// `name`'s files laid over it (a file of the same name replaces clean's, `TABLE_fixture.sql` adds
/// rows to clean's), and the project's real `db/schema.sql`. So a fixture holds only the rows that
/// make it broken.
fn fixture(name: &str) -> PathBuf {
    // One directory per call, not per fixture: tests that share a fixture run in parallel, and
    // one's clean-up deleted the other's database while it was loading.
    static CALLS: AtomicUsize = AtomicUsize::new(0);
    let call = CALLS.fetch_add(1, Ordering::Relaxed);
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let dir = std::env::temp_dir().join(format!(
        "dynchk-fixture-{}-{call}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    for sub in ["lsb", "semantics"] {
        std::fs::create_dir_all(dir.join(sub)).unwrap();
        for layer in ["clean", name] {
            if let Ok(entries) = std::fs::read_dir(fixtures.join(layer).join(sub)) {
                for e in entries.flatten() {
                    std::fs::copy(e.path(), dir.join(sub).join(e.file_name())).unwrap();
                }
            }
        }
    }
    std::fs::copy(repo().join("db/schema.sql"), dir.join("schema.sql")).unwrap();
    dir
}

/// Problems lint finds in fixture `name`, as (table, row, message).
fn problems(name: &str) -> Vec<(String, String, String)> {
    let dir = fixture(name);
    let db = Db::load(&dir).unwrap_or_else(|e| panic!("loading fixture {name}: {e:#}"));
    let _ = std::fs::remove_dir_all(&dir); // the database is in memory now
    lint::check(&db)
        .into_iter()
        .map(|p| (p.table, p.row, p.message))
        .collect()
}

fn p(table: &str, row: &str, message: &str) -> (String, String, String) {
    (table.to_owned(), row.to_owned(), message.to_owned())
}

#[test]
fn clean_fixture_has_no_problem() {
    assert_eq!(problems("clean"), vec![]);
}

#[test]
fn dangling_parameter_type() {
    assert_eq!(
        problems("dangling_param_type"),
        vec![p("Parameter", "iid=1 pos=2", "type 99 does not exist")]
    );
}

#[test]
fn dangling_return_type() {
    assert_eq!(
        problems("dangling_return_type"),
        vec![p(
            "Interface",
            "iid=1",
            "read: return type 98 does not exist"
        )]
    );
}

#[test]
fn dangling_base_type() {
    assert_eq!(
        problems("dangling_base_type"),
        vec![p("Type", "tid=5", "size_t: base type 97 does not exist")]
    );
}

#[test]
fn dangling_member_type() {
    assert_eq!(
        problems("dangling_member_type"),
        vec![p(
            "Member",
            "tid=11 pos=1",
            "tv_nsec: type 96 does not exist"
        )]
    );
}

#[test]
fn dangling_interface_ids() {
    assert_eq!(
        problems("dangling_iid"),
        vec![
            p("Parameter", "iid=50 pos=0", "interface 50 does not exist"),
            p(
                "ParamRule",
                "iid=51 pos=0 seq=0",
                "fd.open: interface 51 does not exist"
            ),
        ]
    );
}

#[test]
fn typedef_cycle_is_reported_once() {
    assert_eq!(
        problems("typedef_cycle"),
        vec![p(
            "Type",
            "tid=20",
            "base chain loops: a_t (20) -> b_t (21) -> a_t (20)"
        )]
    );
}

/// The base-chain check walks every type once: a 200,000-deep typedef chain (in front of the
/// typedef_cycle fixture's cycle) is linted in seconds, and the cycle is still reported once.
#[test]
fn a_deep_typedef_chain_is_linted_in_linear_time() {
    let dir = fixture("typedef_cycle");
    let mut rows = String::new();
    const DEPTH: i64 = 200_000;
    for i in 0..DEPTH {
        let base = if i + 1 == DEPTH { 20 } else { 100_000 + i + 1 };
        rows.push_str(&format!(
            "INSERT INTO Type VALUES({},'deep{i}_t','Typedef',{base},NULL,4,NULL);\n",
            100_000 + i
        ));
    }
    std::fs::write(dir.join("lsb/Type_deep.sql"), rows).unwrap();
    let db = Db::load(&dir).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let started = std::time::Instant::now();
    let found: Vec<_> = lint::check(&db)
        .into_iter()
        .filter(|p| p.message.contains("loops"))
        .map(|p| p.row)
        .collect();
    let took = started.elapsed();
    assert_eq!(found, ["tid=20"]);
    assert!(took.as_secs() < 20, "lint took {took:?}");
}

#[test]
fn unknown_rules() {
    assert_eq!(
        problems("unknown_rule"),
        vec![
            p(
                "ParamRule",
                "iid=1 pos=0 seq=0",
                "unknown rule \"fd.opne\" (not in Rule)"
            ),
            p(
                "MemberRule",
                "tid=11 member=tv_sec seq=0",
                "unknown rule \"nonnegative\" (not in Rule)"
            ),
        ]
    );
}

#[test]
fn rules_on_missing_parameter_or_member() {
    assert_eq!(
        problems("missing_target"),
        vec![
            p(
                "ParamRule",
                "iid=1 pos=5 seq=0",
                "rule \"out\" is on parameter 5 of read, which has 3 parameters"
            ),
            p(
                "MemberRule",
                "tid=11 member=tv_usec seq=0",
                "rule \"nonneg\" is on member \"tv_usec\", which timespec does not have"
            ),
        ]
    );
}

#[test]
fn hole_in_parameter_positions() {
    assert_eq!(
        problems("parameter_hole"),
        vec![
            // The rule on nanosleep's parameter 1 now points at nothing, too.
            p(
                "ParamRule",
                "iid=3 pos=1 seq=0",
                "rule \"out\" is on parameter 1 of nanosleep, which has 2 parameters"
            ),
            p(
                "Interface",
                "iid=3",
                "parameters of nanosleep are at positions 0,2: 1 missing"
            ),
        ]
    );
}

#[test]
fn hole_in_member_positions() {
    assert_eq!(
        problems("member_hole"),
        vec![p(
            "Type",
            "tid=11",
            "members of Struct timespec are at positions 0,2: 1 missing"
        )]
    );
}

#[test]
fn unknown_type_kind() {
    assert_eq!(
        problems("unknown_kind"),
        vec![p("Type", "tid=11", "timespec: unknown kind \"Klass\"")]
    );
}

#[test]
fn void_is_no_parameter() {
    assert_eq!(
        problems("void_parameter"),
        vec![p(
            "Parameter",
            "iid=4 pos=0",
            "getpid: a parameter of type void (`f(void)` has no parameter)"
        )]
    );
}

#[test]
fn varargs_must_be_last() {
    assert_eq!(
        problems("varargs_not_last"),
        vec![p(
            "Parameter",
            "iid=2 pos=0",
            "'...' of printf is not the last parameter"
        )]
    );
}

#[test]
fn duplicate_interface() {
    assert_eq!(
        problems("duplicate_interface"),
        vec![p(
            "Interface",
            "iid=4",
            "read in libc is already iid=1 (from lsb)"
        )]
    );
}

#[test]
fn size_differs_from_host() {
    assert_eq!(
        problems("size_mismatch"),
        vec![p(
            "Type",
            "tid=8",
            "Typedef ssize_t is 4 bytes, 8 on the host (x86-64 glibc)"
        )]
    );
}

#[test]
fn offset_differs_from_host() {
    assert_eq!(
        problems("offset_mismatch"),
        vec![
            p(
                "Member",
                "tid=11 pos=1",
                "timespec.tv_nsec (bytes 4..12) overlaps timespec.tv_sec (bytes 0..8): only a \
                 union's members share bytes"
            ),
            p(
                "Member",
                "tid=11 pos=1",
                "timespec.tv_nsec is at offset 4, 8 on the host (x86-64 glibc)"
            )
        ]
    );
}

#[test]
fn validator_that_does_not_exist() {
    let found = problems("unknown_validator");
    let [(table, row, message)] = &found[..] else {
        panic!("one problem expected: {found:?}");
    };
    assert_eq!((table.as_str(), row.as_str()), ("Rule", "name=fd.opened"));
    // The message lists the module's functions (whatever validators::fd holds today).
    let head = "validator `fd::opne` (rules.sem:9) is not a function of the validators crate \
                (validators::fd has ";
    assert!(message.starts_with(head), "{message}");
    assert!(message.contains(" open, opened, "), "{message}");
}

#[test]
fn member_beyond_its_struct() {
    assert_eq!(
        problems("member_beyond_struct"),
        vec![p(
            "Member",
            "tid=14 pos=1",
            "small.far is at offset 24, beyond the end of small (8 bytes)"
        )]
    );
}

#[test]
fn member_outside_its_struct() {
    assert_eq!(
        problems("member_outside_struct"),
        vec![p(
            "Member",
            "tid=14 pos=0",
            "half.x (bytes 2..6) reaches outside half (4 bytes)"
        )]
    );
}

#[test]
fn negative_array_length() {
    assert_eq!(
        problems("negative_array_length"),
        vec![
            p("Type", "tid=14", "char[-1]: array length -1 is negative"),
            p(
                "Member",
                "tid=15 pos=0",
                "text: array length -1 is negative"
            ),
        ]
    );
}

#[test]
fn zero_size_struct_with_overlapping_members() {
    assert_eq!(
        problems("zero_size_overlap"),
        vec![
            p(
                "Member",
                "tid=14 pos=0",
                "pair.first is at offset 0, beyond the end of pair (0 bytes)"
            ),
            p(
                "Member",
                "tid=14 pos=1",
                "pair.second is at offset 0, beyond the end of pair (0 bytes)"
            ),
            p(
                "Member",
                "tid=14 pos=1",
                "pair.second (bytes 0..4) overlaps pair.first (bytes 0..4): only a union's \
                 members share bytes"
            ),
        ]
    );
}

#[test]
fn length_expression_that_wraps() {
    assert_eq!(
        problems("wrapping_length"),
        vec![
            p(
                "ParamRule",
                "iid=2 pos=0 seq=0",
                "`out(0 - 8)` (fixture.sem:5): the length `0 - 8` is -8, which the call takes \
                 as 18446744073709551608 bytes"
            ),
            p(
                "ParamRule",
                "iid=3 pos=0 seq=0",
                "`out(sizeof(struct timespec) << 62)` (fixture.sem:4): \
                 `(sizeof(struct timespec) << 62)` wraps around 64 bits"
            ),
        ]
    );
}

#[test]
fn problem_display_names_table_and_row() {
    let problem = lint::Problem {
        table: "Type".into(),
        row: "tid=8".into(),
        message: "too small".into(),
    };
    assert_eq!(problem.to_string(), "Type row tid=8: too small");
}

#[test]
fn failing_statement_is_reported_with_file_and_line() {
    let dir = fixture("broken_statement");
    let err = format!(
        "{:#}",
        Db::load(&dir)
            .err()
            .expect("the fixture has a syntax error")
    );
    assert!(
        err.contains("lsb/Type.sql:3: INSERT INTO Type VALUES(2,"),
        "{err}"
    );
}

/// `generate` (the preload's build) refuses what `check` rejects, with the same problems.
#[test]
fn generate_lints_first() {
    let dir = fixture("dangling_param_type");
    let out = std::env::temp_dir().join(format!("dynchk-gen-out-{}", std::process::id()));
    std::fs::create_dir_all(&out).unwrap();
    let err = format!(
        "{:#}",
        dynchk_gen::build::run(&dir, &out)
            .err()
            .expect("generated from a database check rejects")
    );
    let problems = dynchk_gen::check(&dir).unwrap();
    assert!(!problems.is_empty());
    for p in &problems {
        assert!(err.contains(p.as_str()), "{p} missing from: {err}");
    }
    assert!(!out.join("generated.rs").exists(), "code was written");
}

/// The data files are data: a statement that is not a row is refused with its file and line, and
/// runs nothing (no attached database file appears).
#[test]
fn non_data_sql_is_refused_with_file_and_line() {
    for (name, at) in [
        ("attach", "lsb/Library_fixture.sql:2: ATTACH"),
        ("chained", "lsb/Library.sql:2: INSERT"),
    ] {
        let dir = fixture(name);
        let cwd = std::env::current_dir().unwrap();
        let _ = std::fs::remove_file(cwd.join("attached.db"));
        let err = format!(
            "{:#}",
            Db::load(&dir)
                .err()
                .unwrap_or_else(|| panic!("{name} loaded"))
        );
        assert!(err.contains(at), "{name}: {err}");
        assert!(
            err.contains("only `INSERT INTO TABLE VALUES(…);` rows")
                || err.contains("multiple statements")
                || err.contains("Multiple"),
            "{name}: {err}"
        );
        for d in [&dir, &dir.join("lsb"), &cwd] {
            assert!(
                !d.join("attached.db").exists(),
                "{name}: ATTACH ran in {}",
                d.display()
            );
        }
    }
}

#[test]
fn real_db_loads_fast_and_is_clean() {
    let start = std::time::Instant::now();
    let db = Db::load(&repo().join("db")).unwrap();
    let took = start.elapsed();
    let problems: Vec<String> = lint::check(&db).iter().map(ToString::to_string).collect();
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n")
    );
    let count = |sql: &str| -> i64 { db.conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert!(count("SELECT count(*) FROM Interface WHERE source = 'lsb'") > 1200);
    // The host-size check must actually see the types it is about.
    let host = lint::host_sizes();
    let mut stmt = db
        .conn
        .prepare("SELECT DISTINCT name FROM Type WHERE size IS NOT NULL")
        .unwrap();
    let compared = stmt
        .query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .filter(|n| host.contains_key(n.as_ref().unwrap().as_str()))
        .count();
    assert!(
        compared >= 60,
        "only {compared} named types compared with the host"
    );
    let offsets = lint::host_offsets();
    let mut stmt = db
        .conn
        .prepare("SELECT t.name, m.name FROM Member m JOIN Type t ON t.tid = m.tid WHERE m.offset IS NOT NULL")
        .unwrap();
    let members = stmt
        .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .filter(|(t, m)| offsets.contains_key(&(t.as_str(), m.as_str())))
        .count();
    assert!(
        members >= 150,
        "only {members} member offsets compared with the host"
    );
    eprintln!("Db::load of db/ took {took:?}; {compared} types and {members} member offsets compared with the host");
}

/// The specdb dump beside the repository, or `None` (with the reason printed) in a fresh clone.
fn specdb() -> Option<PathBuf> {
    let dir = repo().join("../shared/specdb");
    if dir.join("Type.init").exists() {
        Some(dir)
    } else {
        eprintln!(
            "skipped: no LSB dump at {} (a fresh clone has no ../shared)",
            dir.display()
        );
        None
    }
}

/// The `.sql` files of `dir` (name, bytes), sorted by name.
fn files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .path()
                .extension()
                .is_some_and(|x| x == "sql")
        })
        .map(|e| {
            let path = e.unwrap().path();
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&path).unwrap(),
            )
        })
        .collect();
    out.sort();
    out
}

#[test]
fn import_is_deterministic_and_matches_committed_db() {
    let Some(specdb) = specdb() else { return };
    let tmp = std::env::temp_dir().join(format!("dynchk-import-{}", std::process::id()));
    let (a, b) = (tmp.join("a"), tmp.join("b"));
    let scope = lsb::libraries_in(&repo().join("db")).unwrap();
    let scope: Vec<&str> = scope.iter().map(String::as_str).collect();
    let stats = lsb::import(&specdb, &a, &scope).unwrap();
    // A re-import without names keeps the scope of the Library table (a's, given the schema).
    std::fs::create_dir_all(b.join("semantics")).unwrap();
    std::fs::copy(repo().join("db/schema.sql"), b.join("schema.sql")).unwrap();
    lsb::import(&specdb, &b, &scope).unwrap();
    lsb::import(&specdb, &b, &[]).unwrap();
    let (fa, fb) = (files(&a.join("lsb")), files(&b.join("lsb")));
    std::fs::remove_dir_all(&tmp).unwrap();
    assert_eq!(fa.len(), 7);
    assert!(fa == fb, "two imports differ");
    assert!(
        fa == files(&repo().join("db/lsb")),
        "db/lsb is not what `dynchk-gen import-lsb` writes: re-import it"
    );
    // Counts of the README, less the functions whose return type the dump lacks.
    assert_eq!(stats.functions["libm"], 302);
    assert_eq!(stats.functions["libpthread"], 94);
    let libc_skipped = stats
        .skipped
        .iter()
        .filter(|s| s.contains(" (libc): "))
        .count();
    assert_eq!(stats.functions["libc"] + libc_skipped, 782);
}

/// The generator's own check: a parameter rule that reads a union needs a rule saying how.
#[test]
fn union_reached_without_a_rule_is_reported_with_its_source() {
    let dir = fixture("union_without_rule");
    let problems = dynchk_gen::check(&dir).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].contains(
            "read(value): `in` (semantics/fixture.sem:2): it reaches union sigval, which has no rule"
        ),
        "{}",
        problems[0]
    );
}
