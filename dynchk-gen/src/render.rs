//! Renders plans through the askama templates in `templates/`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};
use askama::Template;

use crate::layer2::{self, StructValidator};
use crate::lower::{CheckIr, Follow};
use crate::model::Spec;
use crate::plan::{Disposition, Plan};

struct IfaceRow {
    /// Where its names start in the generated `IFACE_NAMES`.
    at: usize,
    name: String,
    lib: String,
    version: String,
}

struct FnRow {
    prototype: String,
    source: String,
    checked: bool,
    db_version: String,
    fn_name: String,
    name: String,
    version: String,
    params_decl: String,
    param_types: String,
    ret: String,
    args: String,
    index: usize,
    checks: Vec<String>,
    trampoline: bool,
    /// The soname the original is looked up in when RTLD_NEXT cannot see it.
    soname: String,
    /// The bytes of the `Real`'s packed names: name, version and soname, each with its NUL.
    real_len: usize,
    /// `rt::hooks` calls before and after the real call (see `Plan`).
    before: Vec<String>,
    after: Vec<String>,
    result: &'static str,
    /// The register the trampoline passes its register save area in, or empty (see `Plan`).
    saved_reg: &'static str,
}

/// The check function of a hand-coded interface (`checks::open`): its rules, for the hand-written
/// interposer to call, so that the database's rules run there too.
struct CheckFnRow {
    name: String,
    prototype: String,
    source: String,
    params_decl: String,
    checks: Vec<String>,
}

struct SymverRow {
    fn_name: String,
    name: String,
    at: &'static str,
    version: String,
}

#[derive(Template)]
#[template(path = "generated.rs.txt", escape = "none")]
struct GeneratedRs<'a> {
    ifaces: Vec<IfaceRow>,
    /// The text of `IFACE_NAMES` (one interface a line, joined by escaped newlines).
    iface_names: String,
    fns: Vec<FnRow>,
    check_fns: Vec<CheckFnRow>,
    symvers: Vec<SymverRow>,
    structs: &'a [StructValidator],
}

#[derive(Template)]
#[template(path = "interposer.rs.txt", escape = "none")]
struct Stub<'a> {
    f: &'a FnRow,
}

#[derive(Template)]
#[template(path = "check_fn.rs.txt", escape = "none")]
struct CheckFn<'a> {
    c: &'a CheckFnRow,
}

#[derive(Template)]
#[template(path = "check.rs.txt", escape = "none")]
struct CheckT<'a> {
    c: &'a CheckIr,
}

#[derive(Template)]
#[template(path = "follow.rs.txt", escape = "none")]
struct FollowT<'a> {
    f: &'a Follow,
}

#[derive(Template)]
#[template(path = "pair.rs.txt", escape = "none")]
struct PairT<'a> {
    p: Pair<'a>,
}

/// Two checks and the look at the windows that settles both (see [`paired`]).
struct Pair<'a> {
    look: String,
    /// Each check's statement past the windows.
    past: [&'a str; 2],
    /// Each check's own statement.
    full: [&'a str; 2],
}

/// The statement that performs a check.
pub fn check(c: &CheckIr) -> Result<String> {
    Ok(CheckT { c }.render()?)
}

/// The statement that calls a struct checker.
pub fn follow(f: &Follow) -> Result<String> {
    Ok(FollowT { f }.render()?)
}

#[derive(Template)]
#[template(path = "struct.rs.txt", escape = "none")]
struct StructFn<'a> {
    s: &'a StructValidator,
}

#[derive(Template)]
#[template(path = "exports.map.txt", escape = "none")]
struct ExportsMap {
    /// (version, trampolines exported under it)
    versions: Vec<(String, Vec<String>)>,
}

#[derive(Template)]
#[template(path = "layout.c.txt", escape = "none")]
struct LayoutC<'a> {
    headers: &'a [&'a str],
    structs: &'a [StructValidator],
}

/// What [`render`] produced.
pub struct Rendered {
    pub generated_rs: String,
    pub exports_map: String,
    pub layout_c: String,
}

/// Headers the layout program includes: every struct a validator reads is declared in one.
const LAYOUT_HEADERS: [&str; 22] = [
    "sys/types.h",
    "sys/socket.h",
    "sys/un.h",
    "netinet/in.h",
    "sys/uio.h",
    "sys/time.h",
    "time.h",
    "poll.h",
    "signal.h",
    "sys/resource.h",
    "sys/stat.h",
    "sys/statvfs.h",
    "sys/epoll.h",
    "sys/select.h",
    "sys/utsname.h",
    "utime.h",
    "sched.h",
    "termios.h",
    "netdb.h",
    "sys/timex.h",
    "sys/msg.h",
    "sys/sem.h",
];

/// The version node of the trampolines whose originals are unversioned (GLib's, Xt's): the
/// trampolines are assembly, which only a version node exports, and a reference without a version
/// binds to a symbol's one version as to an unversioned symbol (glibc's `check_match`: exactly one
/// version, not hidden), so programs and `dlsym` find them as they find the other interposers.
pub const UNVERSIONED_NODE: &str = "DYNCHK_UNVERSIONED";

/// Renders the generated Rust, the version script and the layout check program.
pub fn render(spec: &Spec, plans: &[Plan]) -> Result<Rendered> {
    let mut ifaces = Vec::new();
    let mut fns = Vec::new();
    let mut symvers = Vec::new();
    let mut versions: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut roots = BTreeSet::new();
    let mut check_fns = Vec::new();
    for p in plans
        .iter()
        .filter(|p| matches!(p.disposition, Disposition::Hand(_)))
    {
        roots.extend(p.structs.iter().copied());
        check_fns.push(check_fn_row(p));
    }
    for p in plans
        .iter()
        .filter(|p| p.disposition == Disposition::Generated)
    {
        let index = ifaces.len();
        let at = ifaces.last().map_or(0, |i: &IfaceRow| {
            i.at + i.name.len() + i.lib.len() + i.version.len()
        });
        ifaces.push(IfaceRow {
            at,
            name: p.name.clone(),
            lib: p.lib.clone(),
            version: p
                .exports
                .iter()
                .find(|e| e.checked)
                .map(|e| e.resolve_version.clone())
                .unwrap_or_default(),
        });
        roots.extend(p.structs.iter().copied());
        for e in &p.exports {
            if p.trampoline && e.symver.is_none() {
                let node = match e.resolve_version.as_str() {
                    "" => UNVERSIONED_NODE,
                    v => v,
                };
                versions
                    .entry(node.to_string())
                    .or_default()
                    .push(p.name.clone());
            }
            if let Some((v, default)) = &e.symver {
                versions.entry(v.clone()).or_default();
                symvers.push(SymverRow {
                    fn_name: e.fn_name.clone(),
                    name: p.name.clone(),
                    at: if *default { "@@" } else { "@" },
                    version: v.clone(),
                });
            }
        }
        fns.extend(fn_rows(p, index)?);
    }
    let structs = layer2::validators(spec, &roots)?;
    let iface_names = ifaces
        .iter()
        .map(|i| format!("\\\n{}{}{}", i.name, i.lib, i.version))
        .collect();
    let generated_rs = GeneratedRs {
        ifaces,
        iface_names,
        fns,
        check_fns,
        symvers,
        structs: &structs,
    }
    .render()?;
    let exports_map = ExportsMap {
        versions: versions.into_iter().collect(),
    }
    .render()?;
    let layout_c = LayoutC {
        headers: &LAYOUT_HEADERS,
        structs: &structs,
    }
    .render()?;
    Ok(Rendered {
        generated_rs,
        exports_map,
        layout_c,
    })
}

/// The check function of a hand-coded interface. A named variable argument (`... mode`) is
/// passed as the raw register word the hand-written code read.
fn check_fn_row(p: &Plan) -> CheckFnRow {
    let params: Vec<_> = p.params.iter().filter(|q| q.name != "...").collect();
    let decl: Vec<String> = params
        .iter()
        .map(|q| {
            let ty = if q.rust_ty.is_empty() {
                "u64"
            } else {
                &q.rust_ty
            };
            format!("{}: {ty}", q.ident)
        })
        .collect();
    CheckFnRow {
        name: p.name.clone(),
        prototype: p.prototype.clone(),
        source: p.source.clone(),
        params_decl: decl.join(", "),
        checks: params
            .iter()
            .flat_map(|q| q.checks.iter().map(|c| c.code.clone()))
            .collect(),
    }
}

/// The rows the interposer template renders for one plan: one per exported version.
fn fn_rows(p: &Plan, index: usize) -> Result<Vec<FnRow>> {
    // A trampoline's checking function receives only the register parameters.
    let passed = || p.params.iter().filter(|q| !q.rust_ty.is_empty());
    let mut params_decl: Vec<String> = passed()
        .map(|q| format!("{}: {}", q.ident, q.rust_ty))
        .collect();
    if p.saved_reg.is_some() {
        params_decl.push("__saved: *const c_void".into());
    }
    let param_types: Vec<String> = passed().map(|q| q.rust_ty.clone()).collect();
    let args: Vec<String> = passed().map(|q| q.ident.clone()).collect();
    let db_version = p
        .exports
        .iter()
        .find(|e| e.checked)
        .map(|e| e.resolve_version.clone())
        .unwrap_or_default();
    p.exports
        .iter()
        .map(|e| {
            Ok(FnRow {
                prototype: p.prototype.clone(),
                source: p.source.clone(),
                checked: e.checked,
                db_version: db_version.clone(),
                fn_name: e.fn_name.clone(),
                name: p.name.clone(),
                version: e.resolve_version.clone(),
                params_decl: params_decl.join(", "),
                param_types: param_types.join(", "),
                ret: p.ret_rust.clone(),
                args: args.join(", "),
                index,
                trampoline: p.trampoline,
                soname: p.soname.clone(),
                real_len: p.name.len() + e.resolve_version.len() + p.soname.len() + 3,
                before: p.before.clone(),
                after: p.after.clone(),
                result: crate::plan::RESULT,
                saved_reg: p.saved_reg.unwrap_or_default(),
                checks: if e.checked {
                    paired(passed().flat_map(|q| &q.checks).collect())?
                } else {
                    Vec::new()
                },
            })
        })
        .collect()
}

/// An interposer's check statements: of two in a row that windows can settle, both buffers or
/// both strings (`memcmp`'s two `in(n)`, `memcpy`'s `out(n)` and `in(n)`, `strcoll`'s two
/// `string`), one look at the windows answers for both (`validators::mem::buffers_in_windows`,
/// `strings_in_windows`); with windows off both are checked past them, so the pair costs one
/// test of the flag as each check did.
fn paired(checks: Vec<&crate::plan::Check>) -> Result<Vec<String>> {
    use crate::plan::InWindow;
    let mut out = Vec::new();
    let mut i = 0;
    while i < checks.len() {
        let a = checks[i];
        let pair = checks.get(i + 1).and_then(|b| {
            let ((wa, past_a), (wb, past_b)) = (a.window.as_ref()?, b.window.as_ref()?);
            let look = match (wa, wb) {
                (
                    InWindow::Bytes {
                        ptr: pa,
                        len: la,
                        writes: xa,
                    },
                    InWindow::Bytes {
                        ptr: pb,
                        len: lb,
                        writes: xb,
                    },
                ) => format!(
                    "validators::mem::buffers_in_windows({pa}, {la}, {xa}, {pb}, {lb}, {xb})"
                ),
                (InWindow::String { ptr: pa }, InWindow::String { ptr: pb }) => {
                    format!("validators::mem::strings_in_windows({pa}, {pb})")
                }
                _ => return None,
            };
            Some(Pair {
                look,
                past: [past_a, past_b],
                full: [&a.code, &b.code],
            })
        });
        match pair {
            Some(p) => {
                out.push(PairT { p }.render()?);
                i += 2;
            }
            None => {
                out.push(a.code.clone());
                i += 1;
            }
        }
    }
    Ok(out)
}

/// The generated interposer(s) of one plan, as `explain` shows them.
pub fn stub(p: &Plan) -> Result<String> {
    let mut out = String::new();
    for f in fn_rows(p, p.index)? {
        out.push_str(&Stub { f: &f }.render()?);
    }
    Ok(formatted(out))
}

/// The code generated for one interface, as a reviewer reads it (the golden files of
/// `dynchk-gen/tests/golden.rs`): its interposers, or for a hand-coded interface its
/// `checks::NAME` function, then the struct validators they call.
pub fn code_of(spec: &Spec, p: &Plan) -> Result<String> {
    let mut out = String::new();
    match &p.disposition {
        Disposition::Generated => {
            for f in fn_rows(p, p.index)? {
                out.push_str(&Stub { f: &f }.render()?);
            }
        }
        Disposition::Hand(_) => out.push_str(
            &CheckFn {
                c: &check_fn_row(p),
            }
            .render()?,
        ),
        other => anyhow::bail!("{} has no generated code: {other:?}", p.name),
    }
    for s in layer2::validators(spec, &p.structs)? {
        out.push_str(&StructFn { s: &s }.render()?);
    }
    Ok(formatted(out))
}

/// `code` as rustfmt formats it, or as it is when rustfmt is not installed or refuses it.
fn formatted(code: String) -> String {
    let run = rustfmt_command()
        .args(["--emit", "stdout"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child
                .stdin
                .take()
                .map(|mut i| i.write_all(code.as_bytes()))
                .transpose()?;
            child.wait_with_output()
        });
    match run {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        _ => code,
    }
}

/// `$RUSTFMT` (or `rustfmt`) for the edition the generated code is written in.
fn rustfmt_command() -> Command {
    let mut cmd = Command::new(std::env::var_os("RUSTFMT").unwrap_or_else(|| "rustfmt".into()));
    cmd.args(["--edition", "2021"]);
    cmd
}

/// Formats Rust source with rustfmt when it is installed; the text is valid either way.
pub fn rustfmt(path: &Path) -> Result<()> {
    let status = rustfmt_command().arg(path).status();
    match status {
        Ok(s) if s.success() => Ok(()),
        Ok(s) => Err(anyhow::anyhow!(
            "rustfmt failed on {} ({s})",
            path.display()
        )),
        Err(_) => Ok(()), // no rustfmt on this machine: leave it unformatted
    }
    .with_context(|| format!("formatting {}", path.display()))
}
