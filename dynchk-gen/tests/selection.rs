//! Check selection on the real database: for representative interfaces, the resolved prototype,
//! what happens to the interface, and the checks chosen for each parameter.

use std::path::Path;
use std::sync::OnceLock;

use dynchk_gen::build::Generator;
use dynchk_gen::plan::{Disposition, Plan};

fn generator() -> &'static Generator {
    static G: OnceLock<Generator> = OnceLock::new();
    G.get_or_init(|| {
        Generator::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../db")).expect("db/ loads")
    })
}

fn plan(name: &str) -> &'static Plan {
    generator()
        .plan(name)
        .unwrap_or_else(|| panic!("{name} is in the database"))
}

/// The report `check` names chosen for parameter `pos`, in order.
fn checks(name: &str, pos: usize) -> Vec<String> {
    plan(name).params[pos]
        .checks
        .iter()
        .map(|c| c.check.clone())
        .collect()
}

fn reasons(name: &str, pos: usize) -> String {
    plan(name).params[pos]
        .checks
        .iter()
        .map(|c| c.reason.clone())
        .collect::<Vec<_>>()
        .join(" | ")
}

#[test]
fn read_checks_the_descriptor_and_the_buffer_for_count_bytes() {
    let p = plan("read");
    assert_eq!(p.prototype, "ssize_t read(int fd, void *buf, size_t count)");
    assert_eq!(p.disposition, Disposition::Generated);
    assert_eq!(checks("read", 0), ["filedescriptor"]);
    assert_eq!(checks("read", 1), ["RWaddress"]);
    assert!(
        reasons("read", 1).contains("length count bytes"),
        "{}",
        reasons("read", 1)
    );
    assert!(checks("read", 2).is_empty());
    assert_eq!(
        p.params
            .iter()
            .map(|q| q.rust_ty.as_str())
            .collect::<Vec<_>>(),
        ["i32", "*mut c_void", "u64"]
    );
    assert_eq!(p.ret_rust, "i64");
}

#[test]
fn write_reads_its_buffer() {
    assert_eq!(checks("write", 0), ["filedescriptor"]);
    assert_eq!(checks("write", 1), ["Rdaddress"]);
}

#[test]
fn open_is_hand_coded_and_its_checks_are_generated() {
    // Which flags make open read mode is asserted on behaviour, in
    // dynchk-preload/tests/behaviour.rs (open_reads_mode_only_when_glibc_passes_one).
    let p = plan("open");
    assert!(
        matches!(p.disposition, Disposition::Hand(_)),
        "{:?}",
        p.disposition
    );
    assert_eq!(checks("open", 0), ["pathname"]);
    assert_eq!(checks("open", 1), ["openflags"]);
    assert_eq!(checks("open", 2), ["filemode"]);
    let g = generator();
    let rs = dynchk_gen::render::render(&g.spec, &g.plans)
        .unwrap()
        .generated_rs;
    assert!(
        rs.contains(
            "pub unsafe fn open(call: &rt::Call, pathname: *mut c_void, flags: i32, mode: u64)"
        ),
        "no checks::open for the hand-coded interposer"
    );
}

#[test]
fn interfaces_that_only_need_hooks_are_generated_with_them() {
    for (name, before, after) in [
        ("munmap", "", "rt::hooks::maps_changed();"),
        ("setrlimit", "", "rt::hooks::fd_limit_changed(__ret as _);"),
        ("fopen", "", "rt::hooks::track_stream(__ret as _);"),
        ("close", "", "rt::hooks::fd_closed(fd as _);"),
        (
            "fclose",
            "let __pre = rt::hooks::untrack_stream(stream as _);",
            "rt::hooks::fds_of_stream_closed(__pre);",
        ),
        (
            "execve",
            "rt::hooks::exec_summary();",
            "rt::hooks::exec_failed();",
        ),
        ("_exit", "rt::hooks::summary();", ""),
    ] {
        let p = plan(name);
        assert_eq!(p.disposition, Disposition::Generated, "{name}");
        assert_eq!(p.before.join(" "), before, "{name}");
        assert_eq!(p.after.join(" "), after, "{name}");
    }
}

#[test]
fn memcpy_is_exported_once_per_version_and_both_are_checked() {
    let p = plan("memcpy");
    let versions: Vec<_> = p
        .exports
        .iter()
        .map(|e| e.symver.clone().unwrap())
        .collect();
    assert!(
        versions.contains(&("GLIBC_2.14".to_string(), true)),
        "{versions:?}"
    );
    assert!(
        versions.contains(&("GLIBC_2.2.5".to_string(), false)),
        "{versions:?}"
    );
    assert!(p.exports.iter().all(|e| e.checked));
    assert_eq!(checks("memcpy", 0), ["RWaddress"]);
    assert_eq!(checks("memcpy", 1), ["Rdaddress"]);
}

#[test]
fn nullable_pointers_are_skipped_when_null() {
    for (name, pos) in [
        ("gettimeofday", 1),
        ("waitpid", 1),
        ("nanosleep", 1),
        ("time", 0),
    ] {
        assert!(
            reasons(name, pos).contains("NULL allowed"),
            "{name} param {pos}: {}",
            reasons(name, pos)
        );
        assert!(
            plan(name).params[pos]
                .checks
                .iter()
                .all(|c| c.code.contains(".is_null()")),
            "{name}"
        );
    }
    assert!(
        !reasons("strlen", 0).contains("NULL allowed"),
        "strlen(NULL) is a violation"
    );
    // `tv?portability`: the rules skip NULL, one check before them reports it.
    let tv = &plan("gettimeofday").params[0].checks;
    assert_eq!(
        tv.iter()
            .map(|c| (c.rule.as_str(), c.check.as_str()))
            .collect::<Vec<_>>(),
        [("?portability", "nonnull"), ("out", "RWaddress")]
    );
    assert!(!tv[0].code.contains(".is_null()") && tv[1].code.contains(".is_null()"));
}

#[test]
fn structs_read_by_the_call_get_layer_2_validation() {
    assert!(
        reasons("nanosleep", 0).contains("layer 2: struct timespec"),
        "{}",
        reasons("nanosleep", 0)
    );
    assert!(
        plan("nanosleep").params[0].checks[0]
            .code
            .contains("structs::timespec("),
        "struct checkers are named after their type"
    );
    assert_eq!(
        checks("connect", 1),
        ["sockaddr"],
        "a socket address of addrlen bytes, family-checked"
    );
    assert!(
        reasons("readv", 1).contains("iovcnt elements"),
        "{}",
        reasons("readv", 1)
    );
    assert!(
        plan("readv").params[1].checks[0]
            .code
            .contains("true, true, 0"),
        "readv writes the iov buffers"
    );
    assert!(
        plan("writev").params[1].checks[0]
            .code
            .contains("false, true, 0"),
        "writev reads them"
    );
}

#[test]
fn scalar_semantics() {
    assert_eq!(checks("kill", 0), ["processid"]);
    assert_eq!(checks("kill", 1), ["signal"]);
    assert_eq!(checks("socket", 0), ["socketfamily"]);
    assert_eq!(checks("lseek", 2), ["whence"]);
    assert_eq!(checks("strlen", 0), ["string"]);
    assert_eq!(checks("qsort", 3), ["codeaddress"]);
    assert_eq!(checks("pthread_mutex_lock", 0), ["RWaddress"]);
}

#[test]
fn lengths_from_expressions_and_element_counts() {
    assert!(
        reasons("fread", 0).contains("size*nmemb") || reasons("fread", 0).contains("size * nmemb")
    );
    assert!(
        reasons("getcwd", 0).contains("length size bytes"),
        "{}",
        reasons("getcwd", 0)
    );
    assert!(
        reasons("poll", 0).contains("nfds elements of 8 bytes"),
        "{}",
        reasons("poll", 0)
    );
    assert_eq!(checks("fread", 3), ["FILE pointer"]);
    assert!(
        reasons("getsockopt", 3).contains("length *optlen bytes"),
        "{}",
        reasons("getsockopt", 3)
    );
    assert!(plan("getsockopt").params[3].checks[0]
        .code
        .contains("read_unaligned(optlen as *const u32)"));
}

#[test]
fn long_double_and_varargs_go_through_trampolines() {
    let p = plan("frexpl");
    assert!(p.trampoline && p.disposition == Disposition::Generated);
    assert_eq!(checks("frexpl", 1), ["RWaddress"]);
    let p = plan("ulimit");
    assert!(p.trampoline && p.disposition == Disposition::Generated);
    let p = plan("dlopen");
    assert!(p.trampoline, "dlopen must keep its caller's return address");
}

#[test]
fn excluded_and_hand_coded_interfaces_say_why() {
    let Disposition::Excluded(why) = &plan("_setjmp").disposition else {
        panic!("_setjmp must not be interposed")
    };
    assert!(why.contains("returns twice"));
    let Disposition::Hand(why) = &plan("malloc").disposition else {
        panic!("malloc is hand-coded")
    };
    assert!(why.contains("__libc_malloc"));
    assert!(matches!(plan("printf").disposition, Disposition::Hand(_)));
    assert!(matches!(plan("mremap").disposition, Disposition::Hand(_)));
}

#[test]
fn modern_interfaces_from_the_project_data() {
    let p = plan("fstat");
    assert!(p.source.starts_with("semantics/"), "{}", p.source);
    assert_eq!(checks("fstat", 0), ["filedescriptor"]);
    assert_eq!(checks("fstat", 1), ["RWaddress"]);
    assert_eq!(checks("openat", 1), ["pathname"]);
    assert!(reasons("openat", 3).contains("only when flags & (O_CREAT|__O_TMPFILE)"));
}

#[test]
fn generation_is_deterministic_and_covers_every_library() {
    let g = generator();
    let a = dynchk_gen::render::render(&g.spec, &g.plans).unwrap();
    let b = dynchk_gen::render::render(&g.spec, &g.plans).unwrap();
    assert_eq!(a.generated_rs, b.generated_rs);
    assert_eq!(a.exports_map, b.exports_map);
    let cov = dynchk_gen::coverage::Coverage::of(g);
    // Every library of the Library table, and no other.
    let names: Vec<&str> = g.spec.libraries.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(cov.libraries.keys().collect::<Vec<_>>().len(), names.len());
    assert!(names.len() >= 8 && names[0] == "libc", "{names:?}");
    for lib in names {
        let c = &cov.libraries[lib];
        let covered = (c.generated + c.hand_coded) as f64 / c.spec as f64;
        // Small structs of floats passed by value (FcValue) are excluded until the generator
        // can interpose them: 5% of fontconfig's.
        let floor = 0.95;
        assert!(
            covered >= floor,
            "{lib}: {covered:.3} of {} covered",
            c.spec
        );
        assert_eq!(c.excluded, c.excluded_reasons.len());
    }
    assert!(cov.libraries["libc"].semantic_params >= 600);
}

#[test]
fn the_database_passes_its_own_lint() {
    let problems = dynchk_gen::check(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../db")).unwrap();
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn every_struct_checker_has_a_name_of_its_own() {
    let spec = &generator().spec;
    let mut seen = std::collections::BTreeMap::new();
    let mut structs: Vec<_> = spec
        .types
        .values()
        .filter(|t| t.kind == dynchk_gen::model::TypeKind::Struct)
        .collect();
    structs.sort_by_key(|t| t.tid);
    for t in structs {
        let name = dynchk_gen::layer2::checker_name(spec, t.tid);
        assert!(
            syn_ident(&name),
            "struct {} (tid {}) gets `{name}`, not an identifier",
            t.name,
            t.tid
        );
        if let Some(other) = seen.insert(name.clone(), t.tid) {
            panic!("`{name}` names the checkers of tids {other} and {}", t.tid);
        }
    }
    assert_eq!(
        dynchk_gen::layer2::checker_name(spec, spec.find_type("struct iovec").unwrap()),
        "iovec"
    );
}

fn syn_ident(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Library objects: `every` gave each `Display *` parameter of libX11 (and the other types'
/// parameters) the `handle` rule, and the makers and destroyers call the runtime with the kind.
#[test]
fn library_objects_are_checked_and_tracked_by_kind() {
    let kind = |k: &str| format!("const {{ validators::object::Kind::named(\"{k}\") }}");
    for (name, pos, param) in [
        ("XSync", 0, "display"),
        ("XCloseDisplay", 0, "display"),
        ("wmove", 0, "win"),
        ("xmlDocGetRootElement", 0, "doc"),
        ("png_read_info", 0, "png_ptr"),
        ("FcConfigGetFontDirs", 0, "config"),
    ] {
        assert_eq!(checks(name, pos), ["handle"], "{name}");
        assert_eq!(plan(name).params[pos].name, param, "{name}");
    }
    for (name, before, after) in [
        (
            "XOpenDisplay",
            String::new(),
            format!("rt::hooks::opened(__ret as _, {});", kind("Display")),
        ),
        (
            "XCloseDisplay",
            format!("rt::hooks::closing(display as _, {});", kind("Display")),
            String::new(),
        ),
        (
            "delwin",
            format!(
                "let __pre = rt::hooks::closing(win as _, {});",
                kind("WINDOW")
            ),
            "rt::hooks::survived_unless_ok(__pre, __ret as _);".to_string(),
        ),
        (
            "htmlReadFile",
            String::new(),
            format!("rt::hooks::opened(__ret as _, {});", kind("xmlDoc")),
        ),
        (
            "png_destroy_read_struct",
            format!(
                "rt::hooks::closing_at(png_ptr_ptr as _, {});",
                kind("png_struct")
            ),
            String::new(),
        ),
        (
            "FcConfigSetCurrent",
            String::new(),
            format!("rt::hooks::referenced(config as _, {});", kind("FcConfig")),
        ),
    ] {
        let p = plan(name);
        assert_eq!(p.disposition, Disposition::Generated, "{name}");
        assert_eq!(p.before.join(" "), before, "{name}");
        assert_eq!(p.after.join(" "), after, "{name}");
    }
}
