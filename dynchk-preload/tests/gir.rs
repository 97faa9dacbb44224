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

/// The interfaces db/semantics/gir/*.sem annotates.
fn gir_annotated() -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../db/semantics/gir");
    let mut out = BTreeSet::new();
    for f in std::fs::read_dir(&dir).expect("db/semantics/gir") {
        let text = std::fs::read_to_string(f.unwrap().path()).unwrap();
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            if let Some((name, _)) = l.split_once('(') {
                out.insert(name.to_string());
            }
        }
    }
    assert!(out.len() > 500, "{} annotated interfaces", out.len());
    out
}

/// The GIR-annotated interfaces the summaries counted calls to.
fn gir_used(records: &[Value]) -> BTreeSet<String> {
    let gir = gir_annotated();
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
    }
    printf("%s %d %zu %zu %d %s %s %s %u\n", v, num, n_keys, n_list, list[2], latin, esc, s->str,
           g_hash_table_size(h));
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
    let used = assert_clean("glib_user", &transparent(&Run::new(&[prog]), &dir));
    for must in [
        "g_key_file_set_integer_list",
        "g_key_file_get_string",
        "g_markup_escape_text",
        "g_convert",
        "g_utf8_validate",
    ] {
        assert!(
            used.contains(must),
            "glib_user: {must} not counted: {used:?}"
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
    for (plant, interface, param, check) in [
        ("string", "g_key_file_has_group", "group_name", "string"),
        ("array", "g_key_file_set_integer_list", "list", "Rdaddress"),
        ("nonnull", "g_string_append_len", "string", "nonnull"),
        ("out", "g_key_file_get_groups", "length", "RWaddress"),
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
        assert_eq!(
            of_kind(&recs, "violation").len(),
            1,
            "{context}only the planted call: {recs:?}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
