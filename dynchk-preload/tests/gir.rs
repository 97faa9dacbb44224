//! The rules generated from GLib's GObject-Introspection annotations (db/semantics/gir/): real
//! GLib programs run under them exactly as without the checker and with no violation, while
//! they call GIR-annotated interfaces; planted calls that break a GIR-derived rule are each
//! reported once, naming the interface, the parameter and the check.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use common::{
    assert_reported_once, compile, of_kind, records, scratch, summaries, transparent, Run,
};
use serde_json::Value;

/// The interfaces db/semantics/gir/*.sem annotates, and of those the ones it declares (`+
/// RET NAME(…)`: LSB has no prototype of them).
fn gir_annotated() -> (BTreeSet<String>, BTreeSet<String>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../db/semantics/gir");
    let (mut out, mut declared) = (BTreeSet::new(), BTreeSet::new());
    for f in std::fs::read_dir(&dir).expect("db/semantics/gir") {
        let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            if let Some((head, _)) = l.split_once('(') {
                let name = head.rsplit([' ', '*']).next().unwrap().to_string();
                if l.starts_with("+ ") {
                    declared.insert(name.clone());
                }
                out.insert(name);
            }
        }
    }
    assert!(out.len() > 500, "{} annotated interfaces", out.len());
    assert!(
        declared.len() > 300,
        "{} declared interfaces",
        declared.len()
    );
    (out, declared)
}

/// The GIR-annotated interfaces the summaries counted calls to.
fn gir_used(records: &[Value]) -> BTreeSet<String> {
    let (gir, _) = gir_annotated();
    summaries(records)
        .iter()
        .filter_map(|s| s["used"].as_object())
        .flatten()
        .filter(|(k, v)| gir.contains(*k) && v.as_u64().unwrap_or(0) > 0)
        .map(|(k, _)| k.clone())
        .collect()
}

/// `pkg-config --cflags --libs` of `pkgs`, split into arguments.
fn pkg_config(pkgs: &[&str]) -> Vec<String> {
    let out = Command::new("pkg-config")
        .args(["--cflags", "--libs"])
        .args(pkgs)
        .output()
        .expect("pkg-config (see .ci/run)");
    assert!(out.status.success(), "pkg-config {pkgs:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .split_whitespace()
        .map(str::to_string)
        .collect()
}

/// A GLib/GObject program: without an argument, ordinary use of annotated interfaces (key files,
/// integer lists, conversions, strings, markup, hash tables, a main loop, objects and signals); with one, the
/// planted call of that name.
const PROGRAM: &str = r#"
#include <glib.h>
#include <glib-object.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static gboolean quit(gpointer loop) { g_main_loop_quit(loop); return G_SOURCE_REMOVE; }
static void on_notify(GObject *o, GParamSpec *p, gpointer n) { (void)o; (void)p; ++*(int *)n; }

int main(int argc, char **argv) {
    const char *plant = argc > 1 ? argv[1] : "";
    GKeyFile *kf = g_key_file_new();
    GError *err = NULL;
    const char *data = "[group]\nkey=value\nnum=42\n";
    if (!g_key_file_load_from_data(kf, data, strlen(data), G_KEY_FILE_NONE, &err)) return 1;
    gchar *v = g_key_file_get_string(kf, "group", "key", &err);
    gint num = g_key_file_get_integer(kf, "group", "num", NULL);
    gsize n_keys = 0;
    gchar **keys = g_key_file_get_keys(kf, "group", &n_keys, NULL);
    gint ints[3] = {1, 2, 3};
    g_key_file_set_integer_list(kf, "group", "list", ints, 3);
    gsize n_list = 0;
    gint *list = g_key_file_get_integer_list(kf, "group", "list", &n_list, NULL);
    gchar *latin = g_convert("caf\xe9", 4, "UTF-8", "ISO-8859-1", NULL, NULL, NULL);
    if (!latin || !g_utf8_validate(latin, -1, NULL) || !g_utf8_validate(latin, 5, NULL)) return 3;
    gchar *esc = g_markup_escape_text("<a & b>", -1);
    GString *s = g_string_new("x");
    g_string_append_len(s, "yz-ignored", 2);
    GHashTable *h = g_hash_table_new(g_str_hash, g_str_equal);
    g_hash_table_insert(h, "k", "v");
    GMainLoop *loop = g_main_loop_new(NULL, FALSE);
    g_idle_add(quit, loop);
    g_main_loop_run(loop);
    g_main_context_wakeup(NULL);
    GObject *o = g_object_new(G_TYPE_OBJECT, NULL);
    int notified = 0;
    g_signal_connect(o, "notify", G_CALLBACK(on_notify), &notified);
    g_object_set_data(o, "key", &notified);
    if (g_object_get_data(o, "key") != &notified) return 2;
    /* Variadic: formats and string lists walked through the trampoline. */
    gchar *fmt = g_strdup_printf("%d %s %5.1f %c", 7, "seven", 7.0, '7');
    gchar *cat = g_strconcat("con", "cat", "en", "ated", NULL);
    gchar *path = g_build_filename("/usr", "share", "glib-2.0", NULL);
    gchar *joined = g_strjoin("+", "a", "b", NULL);
    GString *gs = g_string_new(NULL);
    g_string_printf(gs, "%s-%u", "gs", 3u);
    g_string_append_printf(gs, "/%ld", 40L);
    /* Declared from the GIR's C types (not in LSB 3.1's GLib 2.8). */
    GChecksum *sum = g_checksum_new(G_CHECKSUM_SHA256);
    g_checksum_update(sum, (const guchar *)"abc", 3);
    const gchar *const strv[] = {"x", "y", NULL};
    GVariant *var = g_variant_ref_sink(g_variant_new_string("variant"));
    if (!strcmp(plant, "string")) {
        g_key_file_has_group(kf, NULL);                  /* group_name: string, not NULL */
    } else if (!strcmp(plant, "array")) {
        gint *two = malloc(2 * sizeof(gint));
        two[0] = two[1] = 7;
        g_key_file_set_integer_list(kf, "group", "two", two, 4); /* list: in[length], 2 short */
        free(two);
    } else if (!strcmp(plant, "nonnull")) {
        g_string_append_len(NULL, "a", 1);               /* string: nonnull */
    } else if (!strcmp(plant, "out")) {
        gsize *half = malloc(4);
        gchar **groups = g_key_file_get_groups(kf, half); /* length?: out, 4 of 8 bytes */
        g_strfreev(groups);
        free(half);
    } else if (!strcmp(plant, "printf")) {
        g_free(g_strdup_printf("%d %s", 1, (char *)1));  /* %s: a string, first vararg next */
    } else if (!strcmp(plant, "strlist")) {
        g_free(g_strconcat("a", (char *)1, NULL));       /* string1: strlist, its second element */
    } else if (!strcmp(plant, "declared")) {
        g_checksum_update(NULL, (const guchar *)"a", 1); /* checksum: nonnull (GIR prototype) */
    }
    printf("%s %d %zu %zu %d %s %s %s %u\n", v, num, n_keys, n_list, list[2], latin, esc, s->str,
           g_hash_table_size(h));
    printf("%s|%s|%s|%s|%s|%s|%d|%s\n", fmt, cat, path, joined, gs->str,
           g_checksum_get_string(sum), g_strv_contains(strv, "y"), g_variant_get_string(var, NULL));
    g_variant_unref(var);
    g_checksum_free(sum);
    g_string_free(gs, TRUE);
    g_free(joined);
    g_free(path);
    g_free(cat);
    g_free(fmt);
    g_object_unref(o);
    g_main_loop_unref(loop);
    g_hash_table_destroy(h);
    g_string_free(s, TRUE);
    g_free(esc);
    g_free(list);
    g_free(latin);
    g_strfreev(keys);
    g_free(v);
    g_key_file_free(kf);
    return 0;
}
"#;

fn program(dir: &Path) -> std::path::PathBuf {
    let flags = pkg_config(&["glib-2.0", "gobject-2.0"]);
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    compile(dir, "glib_user", PROGRAM, &flags)
}

fn assert_clean(name: &str, records: &[Value]) -> BTreeSet<String> {
    let violations = of_kind(records, "violation");
    assert!(violations.is_empty(), "{name}: {violations:?}");
    let used = gir_used(records);
    assert!(
        !used.is_empty(),
        "{name}: no GIR-annotated interface called"
    );
    used
}

#[test]
fn glib_programs_run_transparently_under_the_gir_rules() {
    let dir = scratch("gir-clean");
    let prog = program(&dir);
    let prog = prog.to_str().unwrap();
    let records = transparent(&Run::new(&[prog]), &dir);
    let used = assert_clean("glib_user", &records);
    let called: BTreeSet<&str> = summaries(&records)
        .iter()
        .filter_map(|s| s["used"].as_object())
        .flatten()
        .filter(|(_, v)| v.as_u64().unwrap_or(0) > 0)
        .map(|(k, _)| k.as_str())
        .collect();
    for variadic in [
        "g_strdup_printf",
        "g_strconcat",
        "g_build_filename",
        "g_string_printf",
    ] {
        assert!(
            called.contains(variadic),
            "{variadic} not counted: {called:?}"
        );
    }
    let (_, declared) = gir_annotated();
    for must in [
        "g_key_file_set_integer_list",
        "g_key_file_get_string",
        "g_markup_escape_text",
        "g_convert",
        "g_utf8_validate",
        "g_checksum_update",
        "g_strv_contains",
        "g_variant_new_string",
    ] {
        assert!(
            used.contains(must),
            "glib_user: {must} not counted: {used:?}"
        );
    }
    for must in ["g_checksum_new", "g_strv_contains", "g_variant_get_string"] {
        assert!(
            declared.contains(must),
            "{must} is not declared from the GIR"
        );
    }
    let mut runs: Vec<(&str, Vec<&str>)> = vec![
        ("gio", vec!["gio", "info", "/etc/hostname"]),
        ("gobject-query", vec!["gobject-query", "tree"]),
    ];
    if Path::new("/usr/share/glib-2.0/schemas").is_dir() {
        runs.push((
            "glib-compile-schemas",
            vec![
                "glib-compile-schemas",
                "--strict",
                "--dry-run",
                "/usr/share/glib-2.0/schemas",
            ],
        ));
    }
    // PyGObject calls GLib and GObject through their introspection data (python3-gi).
    let python = "from gi.repository import GLib, GObject\n\
                  print(GLib.markup_escape_text('<a>', -1), GLib.get_prgname() is None)\n\
                  k = GLib.KeyFile()\n\
                  print(k.load_from_data('[g]\\nk=v\\n', 8, 0), k.get_string('g', 'k'))\n\
                  print(GObject.Object().__gtype__.name)\n";
    runs.push(("python3-gi", vec!["/usr/bin/python3", "-c", python]));
    for (i, (name, argv)) in runs.iter().enumerate() {
        let d = dir.join(format!("run{i}"));
        std::fs::create_dir_all(&d).unwrap();
        assert_clean(name, &transparent(&Run::new(argv), &d));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn planted_calls_breaking_gir_rules_are_reported_once() {
    let dir = scratch("gir-planted");
    let prog = program(&dir);
    // The original of a variadic GLib function runs after its trampoline has left the checker,
    // so the C library calls it makes with the same arguments are checked again, at their own
    // call site in libglib (GLib formats with glibc's vasprintf): that record, and no other, may
    // come with the planted one.
    for (plant, interface, param, check, inside) in [
        (
            "string",
            "g_key_file_has_group",
            "group_name",
            "string",
            None,
        ),
        (
            "array",
            "g_key_file_set_integer_list",
            "list",
            "Rdaddress",
            None,
        ),
        ("nonnull", "g_string_append_len", "string", "nonnull", None),
        ("out", "g_key_file_get_groups", "length", "RWaddress", None),
        (
            "printf",
            "g_strdup_printf",
            "...",
            "string",
            Some("__vasprintf_chk"),
        ),
        ("strlist", "g_strconcat", "...", "strlist", Some("strlen")),
        ("declared", "g_checksum_update", "checksum", "nonnull", None),
    ] {
        let d = dir.join(plant);
        std::fs::create_dir_all(&d).unwrap();
        let out = Command::new(&prog)
            .arg(plant)
            .env("LD_PRELOAD", common::lib())
            .env("DYNCHK_LOG", d.join("log.%p"))
            .output()
            .unwrap();
        let recs = records(&d, "log.");
        let context = format!("plant {plant} (exit {:?}): ", out.status.code());
        assert_reported_once(&recs, interface, check, &context);
        let v = common::violations(&recs, interface, check)[0];
        assert_eq!(v["param_name"], param, "{context}{v}");
        let others: Vec<_> = of_kind(&recs, "violation")
            .into_iter()
            .filter(|r| r["interface"] != interface)
            .collect();
        assert!(
            others.len() <= 1,
            "{context}only the planted call: {recs:?}"
        );
        for r in others {
            assert_eq!(r["interface"].as_str(), inside, "{context}{r}");
            let site = r["backtrace"][0]["module"].as_str().unwrap_or_default();
            assert!(site.contains("libglib-2.0"), "{context}{r}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Where a program's references and `dlsym` find an unversioned variadic function (whose
/// trampoline only a version node can export) and a versioned one, and the result of a call.
const BINDING: &str = r#"
#define _GNU_SOURCE
#include <dlfcn.h>
#include <glib.h>
#include <err.h>
#include <stdio.h>

static const char *where(void *p) {
    Dl_info i;
    return p && dladdr(p, &i) && i.dli_fname ? i.dli_fname : "nowhere";
}

int main(void) {
    gchar *(*direct)(const gchar *, ...) = g_strdup_printf;
    void (*versioned)(const char *, ...) = warnx;
    printf("reference %s\n", where((void *)direct));
    printf("dlsym %s\n", where(dlsym(RTLD_DEFAULT, "g_strdup_printf")));
    printf("versioned %s\n", where((void *)versioned));
    printf("dlvsym %s\n", where(dlvsym(RTLD_DEFAULT, "warnx", "GLIBC_2.2.5")));
    gchar *s = direct("%d-%s", 7, "seven");
    printf("%s\n", s);
    g_free(s);
    return 0;
}
"#;

/// The trampolines of unversioned originals are exported under one version node: an unversioned
/// reference binds to them, `dlsym(RTLD_DEFAULT)` finds them, their original is found (the call
/// works), and the versioned trampolines stay where they were.
#[test]
fn unversioned_variadic_trampolines_bind_as_unversioned_symbols() {
    let dir = scratch("gir-binding");
    let flags = pkg_config(&["glib-2.0"]);
    let mut flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    flags.push("-ldl");
    let prog = compile(&dir, "binding", BINDING, &flags);
    let run = |preload: bool| {
        let mut cmd = Command::new(&prog);
        if preload {
            cmd.env("LD_PRELOAD", common::lib())
                .env("DYNCHK_LOG", dir.join("log.%p"));
        }
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    let lib = common::lib();
    let lib = lib.file_name().unwrap().to_str().unwrap();
    let plain = run(false);
    let checked = run(true);
    let found = |out: &str, what: &str| {
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{what} ")))
            .unwrap_or_default()
            .to_string()
    };
    for what in ["reference", "dlsym"] {
        assert!(found(&plain, what).contains("libglib-2.0"), "{plain}");
        assert!(found(&checked, what).ends_with(lib), "{what}: {checked}");
    }
    for what in ["versioned", "dlvsym"] {
        assert!(found(&plain, what).contains("libc.so"), "{plain}");
        assert!(found(&checked, what).ends_with(lib), "{what}: {checked}");
    }
    assert!(
        plain.ends_with("7-seven\n") && checked.ends_with("7-seven\n"),
        "{checked}"
    );
    let recs = records(&dir, "log.");
    assert!(of_kind(&recs, "violation").is_empty(), "{recs:?}");
    let used = summaries(&recs)[0]["used"]["g_strdup_printf"].as_u64();
    assert_eq!(used, Some(1), "{recs:?}");
    let syms = Command::new("readelf")
        .args(["--dyn-syms", "--wide"])
        .arg(common::lib())
        .output()
        .unwrap();
    let syms = String::from_utf8_lossy(&syms.stdout);
    assert!(
        syms.contains("g_strdup_printf@@DYNCHK_UNVERSIONED"),
        "g_strdup_printf's export"
    );
    assert!(syms.contains("warnx@@GLIBC_2.2.5"), "warnx's export");
    let _ = std::fs::remove_dir_all(&dir);
}
