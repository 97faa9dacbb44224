//! The GObject-Introspection importer (`dynchk-gen import-gir`, src/gir/): a fragment of a .gir
//! file becomes the rules it describes (golden output), functions whose prototypes disagree are
//! listed with the reason, hand-written rules win over generated ones, the checked-in layer
//! (db/semantics/gir/) is what the host's .gir files give, and coverage counts its parameters.

use std::fs;
use std::path::{Path, PathBuf};

use dynchk_gen::build::Generator;
use dynchk_gen::coverage::Coverage;
use dynchk_gen::plan::Disposition;

mod db_copy;
use db_copy::db;

/// A copy of the database without its generated layer, in a fresh directory named after `tag`.
fn copy_db(tag: &str) -> PathBuf {
    db_copy::copy_db("gir", tag)
}

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gir/Fragment-2.0.gir")
}

#[test]
fn a_gir_fragment_becomes_the_rules_it_describes() {
    let tmp = copy_db("fragment");
    let stats = dynchk_gen::gir::import(&[fixture()], &tmp).unwrap();
    let got = fs::read_to_string(tmp.join("semantics/gir/glib.sem")).unwrap();
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/gir/Fragment-2.0.sem");
    // The output names the .gir file it came from; the golden file names it relatively.
    let got = got.replace(
        &fixture().display().to_string(),
        "tests/fixtures/gir/Fragment-2.0.gir",
    );
    if std::env::var_os("DYNCHK_BLESS").is_some() {
        fs::write(&golden, &got).unwrap();
    }
    let want = fs::read_to_string(&golden).unwrap_or_default();
    assert_eq!(
        got,
        want,
        "the importer's output differs from {} (DYNCHK_BLESS=1 rewrites it)",
        golden.display()
    );
    assert_eq!(stats.skipped.get("C type differs"), Some(&1), "{stats}");
    assert_eq!(
        stats.skipped.get("parameter count differs"),
        Some(&1),
        "{stats}"
    );
    for why in [
        "no prototype in the database, and declared outside the library's header",
        "no prototype in the database, and the GIR names no header declaring it",
        "no prototype in the database, and a C type the GIR does not define",
        "not exported by the host library",
    ] {
        assert_eq!(stats.skipped.get(why), Some(&1), "{why}: {stats}");
    }
    // g_strv_contains, g_checksum_new, g_checksum_update: LSB's GLib 2.8 lacks them.
    assert_eq!(stats.written["glib.sem"].declared, 3, "{stats}");

    // Loaded with the rest: the generated rules check, and are counted apart.
    let g = Generator::load(&tmp).unwrap();
    let plan = g.plan("g_key_file_set_integer_list").unwrap();
    let list = plan.params.iter().find(|p| p.name == "list").unwrap();
    assert!(
        list.checks[0].reason.contains("semantics/gir/glib.sem"),
        "{:?}",
        list.checks
    );
    assert_eq!(plan.gir_params(), 4, "{:?}", plan.params);
    // Hand-written rules win: glib.sem's g_strjoinv allows a NULL separator, the fragment not.
    let joinv = g.plan("g_strjoinv").unwrap();
    assert_eq!(joinv.gir_params(), 0);
    for p in &joinv.params {
        for c in &p.checks {
            assert!(c.reason.contains("semantics/glib.sem"), "{}", c.reason);
        }
    }
    let cov = Coverage::of(&g);
    assert_eq!(
        cov.libraries["libglib-2.0"].gir_params,
        g.plans.iter().map(|p| p.gir_params()).sum::<usize>()
    );
    // A declared function is interposed with its rules, through the types declared with it.
    let update = g.plan("g_checksum_update").unwrap();
    assert_eq!(update.disposition, Disposition::Generated);
    assert!(
        update.source.contains("semantics/gir/glib.sem"),
        "{}",
        update.source
    );
    assert_eq!(update.gir_params(), 2, "{:?}", update.params);
    assert_eq!(
        update.prototype,
        "void g_checksum_update(GChecksum *checksum, const guchar *data, gssize length)"
    );

    // Hand-written declarations win too, and may use the types the generated layer declares.
    fs::write(
        tmp.join("semantics/zz_hand.sem"),
        "[libglib-2.0]\n+ GChecksum *g_checksum_new(GChecksumType checksum_type: range(0, 4))\n",
    )
    .unwrap();
    let g = Generator::load(&tmp).unwrap();
    let new = g.plan("g_checksum_new").unwrap();
    assert!(new.source.contains("zz_hand.sem"), "{}", new.source);
    assert_eq!(new.params[0].checks.len(), 1);
    assert!(new.params[0].checks[0].reason.contains("zz_hand.sem"));
    let _ = fs::remove_dir_all(&tmp);
}

#[test]
fn a_stale_generated_line_names_the_command_that_regenerates_it() {
    let tmp = copy_db("stale");
    fs::create_dir_all(tmp.join("semantics/gir")).unwrap();
    fs::write(
        tmp.join("semantics/gir/glib.sem"),
        "[libglib-2.0]\ng_markup_escape_text(text: string)\n",
    )
    .unwrap();
    let e = Generator::load(&tmp)
        .err()
        .expect("a line naming too few parameters");
    let e = format!("{e:#}");
    assert!(e.contains("semantics/gir/glib.sem:2"), "{e}");
    assert!(e.contains("dynchk-gen import-gir"), "{e}");
    let _ = fs::remove_dir_all(&tmp);
}

/// The libraries whose semantic parameters count as "outside the C core" (issue 13).
const C_CORE: [&str; 8] = [
    "libc",
    "libpthread",
    "libdl",
    "librt",
    "libm",
    "libcrypt",
    "libutil",
    "libz",
];

#[test]
fn the_checked_in_gir_layer_is_what_the_host_gir_files_give() {
    for f in dynchk_gen::gir::DEFAULT_FILES {
        assert!(
            Path::new(f).exists(),
            "{f} is missing: install libgirepository1.0-dev (see .ci/run)"
        );
    }
    let tmp = copy_db("fresh");
    let files: Vec<PathBuf> = dynchk_gen::gir::DEFAULT_FILES.map(PathBuf::from).to_vec();
    dynchk_gen::gir::import(&files, &tmp).unwrap();
    for name in ["glib.sem", "gobject.sem", "gmodule.sem"] {
        let fresh = fs::read_to_string(tmp.join("semantics/gir").join(name)).unwrap();
        let checked_in = fs::read_to_string(db().join("semantics/gir").join(name)).unwrap();
        assert!(
            fresh == checked_in,
            "db/semantics/gir/{name} is stale: run `cargo run -p dynchk-gen -- import-gir`"
        );
    }
    let _ = fs::remove_dir_all(&tmp);
}

#[test]
fn semantic_parameters_beyond_the_c_core_are_counted_with_the_gir_ones_apart() {
    let g = Generator::load(&db()).unwrap();
    let cov = Coverage::of(&g);
    let beyond = cov
        .libraries
        .iter()
        .filter(|(lib, _)| !C_CORE.contains(&lib.as_str()));
    let (all, gir) = beyond.fold((0, 0), |(a, g), (_, c)| {
        (a + c.semantic_params, g + c.gir_params)
    });
    eprintln!("semantic parameters beyond the C core: {all}, of which from GIR: {gir}");
    assert!(all >= 1000, "{all} semantic parameters beyond the C core");
    assert!(all - gir >= 150, "{} hand-written", all - gir);
    assert!(gir >= 1000, "{gir} from GIR");
    for lib in ["libglib-2.0", "libgobject-2.0", "libgmodule-2.0"] {
        assert!(cov.libraries[lib].gir_params > 0, "{lib}");
    }
    for lib in C_CORE {
        assert_eq!(cov.libraries[lib].gir_params, 0, "{lib}");
    }
}
