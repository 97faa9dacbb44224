//! Check selection: for every interface, what happens to it (generated, hand-coded, excluded) and,
//! for every parameter, the resolved C type, the Rust type it travels as, and the ordered checks
//! with the reason each was chosen. Both `explain` and the code templates read these plans.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Result};

use crate::host::Host;
use crate::lower::{lower, Follow, Site};
use crate::model::{
    report_value, rust_int, Abi, ArgKind, Expr, HookPhase, Interface, Param, RuleUse, Spec,
    SpecialKind, TypeKind,
};
use crate::sem::parse::PORTABLE_NULL;

/// What the checker does with an interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Disposition {
    /// An interposer is generated from the database.
    Generated,
    /// Interposed by code in dynchk-preload/src/hand (the reason says why it cannot be generated).
    Hand(String),
    /// Not interposed, with the reason.
    Excluded(String),
    /// The host libraries do not export it: nothing to interpose.
    NotOnHost,
}

/// One check on one parameter.
#[derive(Debug, Clone)]
pub struct Check {
    /// The rule name (`fd.open`, `out`, …).
    pub rule: String,
    /// The report's `check` name.
    pub check: String,
    /// Why this check was chosen, for `explain`.
    pub reason: String,
    /// The Rust statement that performs it (uses `call` and the parameter variables).
    pub code: String,
    /// It walks the `...` arguments: the code reads the trampoline's register save area.
    pub saved: bool,
    /// Its rule comes from `semantics/gir/` (generated from GObject-Introspection data).
    pub gir: bool,
    /// What a look at the thread's windows needs to settle it, for a buffer or string check
    /// that runs unconditionally (see `render::paired`), and the statement that makes it when
    /// that look did not pass it.
    pub window: Option<(InWindow, String)>,
}

/// A check that passes whenever its memory lies in one of the thread's windows of big heap
/// blocks: `mem::readable`/`mem::writable` of a pointer and a length, or `mem::string`.
#[derive(Debug, Clone, PartialEq)]
pub enum InWindow {
    /// The pointer and length expressions, and whether the call writes there.
    Bytes {
        ptr: String,
        len: String,
        writes: bool,
    },
    /// The pointer expression.
    String { ptr: String },
}

impl InWindow {
    /// The window part of the check `ir` lowers to, if it has one.
    fn of(ir: &crate::lower::CheckIr) -> Option<InWindow> {
        if !ir.guards.is_empty() || ir.write.is_some() || ir.then.is_some() {
            return None;
        }
        let args = &ir.call.args;
        match (ir.call.validator.as_str(), args.as_slice()) {
            ("mem::readable" | "mem::writable", [ptr, len]) => Some(InWindow::Bytes {
                ptr: ptr.clone(),
                len: len.clone(),
                writes: ir.call.validator == "mem::writable",
            }),
            ("mem::string", [ptr]) => Some(InWindow::String { ptr: ptr.clone() }),
            _ => None,
        }
    }
}

/// A parameter as the generated code sees it.
#[derive(Debug, Clone)]
pub struct ParamPlan {
    pub pos: usize,
    /// The C name (or `argN`).
    pub name: String,
    /// The Rust identifier.
    pub ident: String,
    pub c_decl: String,
    pub rust_ty: String,
    pub checks: Vec<Check>,
}

/// One exported symbol version of an interface.
#[derive(Debug, Clone)]
pub struct Export {
    /// The Rust function name (the symbol itself when unversioned).
    pub fn_name: String,
    /// `Some((version, is_default))` when exported with `.symver`.
    pub symver: Option<(String, bool)>,
    /// The version the original is resolved with (empty: plain dlsym).
    pub resolve_version: String,
    /// Whether this version gets the checks (the db describes it).
    pub checked: bool,
}

/// Everything decided about one interface.
#[derive(Debug, Clone)]
pub struct Plan {
    pub name: String,
    pub lib: String,
    pub soname: String,
    pub source: String,
    pub prototype: String,
    pub disposition: Disposition,
    pub params: Vec<ParamPlan>,
    pub ret_rust: String,
    pub exports: Vec<Export>,
    /// Index into the generated `IFACES` table.
    pub index: usize,
    /// Struct validators this interface's checks call (type ids).
    pub structs: BTreeSet<i64>,
    /// Interposed through an assembly trampoline: a checking function receives the register
    /// parameters, then the trampoline jumps to the original with every register and the stack as
    /// the caller left them. Used where Rust cannot express the signature: varargs, long double.
    pub trampoline: bool,
    /// `rt::hooks` calls run after the checks, before the real call (`hook NAME before=…`).
    pub before: Vec<String>,
    /// `rt::hooks` calls run right after the real call; `__ret` is its result.
    pub after: Vec<String>,
    /// The register the trampoline passes its register save area in (the one after the named
    /// integer parameters), when a check walks the `...` arguments.
    pub saved_reg: Option<&'static str>,
}

/// The integer argument registers, in order.
const INT_REGS: [&str; 6] = ["rdi", "rsi", "rdx", "rcx", "r8", "r9"];

/// The variable the checking function receives the trampoline's register save area in.
const SAVED: &str = "__saved";

/// The variable the generated code keeps the real call's result in, for `after` hooks.
pub const RESULT: &str = "__ret";

/// The variable that keeps what the `before` hook returned, for the `after` hook's `pre`.
const PRE: &str = "__pre";

impl Plan {
    /// Parameters that carry at least one check.
    pub fn semantic_params(&self) -> usize {
        self.params.iter().filter(|p| !p.checks.is_empty()).count()
    }

    /// Those whose checks come from the annotations generated from GObject-Introspection data.
    pub fn gir_params(&self) -> usize {
        self.params
            .iter()
            .filter(|p| !p.checks.is_empty() && p.checks.iter().all(|c| c.gir))
            .count()
    }
}

/// LSB TypeType → the project rule it implies, for parameters the project has not annotated.
/// RWaddress/Rdaddress are left out: LSB gives no length, and `read(fd, NULL, 0)` is legal.
const LSB_SEMANTICS: [(&str, &str); 4] = [
    ("filedescriptor", "fd"),
    ("pathname", "pathname"),
    ("FILE pointer", "FILE"),
    ("socketfamily", "socketfamily"),
];

/// How deep layer-2 validators follow pointers to structs inside structs.
pub const STRUCT_DEPTH: u32 = 4;

/// Plans every interface of the database against the host.
pub fn plan_all(spec: &Spec, host: &Host) -> Result<Vec<Plan>> {
    let mut plans = Vec::new();
    let mut taken: BTreeMap<String, String> = BTreeMap::new();
    for iface in &spec.interfaces {
        let mut p = plan_one(spec, host, iface)?;
        if p.disposition == Disposition::Generated || matches!(p.disposition, Disposition::Hand(_))
        {
            if let Some(lib) = taken.get(&iface.name) {
                // LSB lists a few functions in two libraries; one export serves both.
                p.disposition =
                    Disposition::Excluded(format!("the same symbol is interposed as {lib}'s"));
                p.exports.clear();
            } else {
                taken.insert(iface.name.clone(), iface.lib.clone());
            }
        }
        p.index = plans.len();
        plans.push(p);
    }
    Ok(plans)
}

/// Plans one interface.
pub fn plan_one(spec: &Spec, host: &Host, iface: &Interface) -> Result<Plan> {
    let mut plan = Plan {
        name: iface.name.clone(),
        lib: iface.lib.clone(),
        soname: iface.soname.clone(),
        source: iface.source.clone(),
        prototype: spec.prototype(iface)?,
        disposition: Disposition::Generated,
        params: Vec::new(),
        ret_rust: String::new(),
        exports: Vec::new(),
        index: 0,
        structs: BTreeSet::new(),
        trampoline: false,
        before: Vec::new(),
        after: Vec::new(),
        saved_reg: None,
    };
    let mut problems = Vec::new();
    plan.ret_rust = match spec.abi(iface.ret)? {
        Abi::X87 => {
            plan.trampoline = true;
            String::new()
        }
        _ => match rust_type(spec, iface.ret, true) {
            Ok(t) => t,
            Err(e) => {
                problems.push(format!("return type: {e}"));
                String::new()
            }
        },
    };
    for p in &iface.params {
        match plan_param(spec, iface, p, &mut plan.structs)? {
            Ok(pp) => plan.params.push(pp),
            Err(reason) => problems.push(reason),
        }
    }
    plan.trampoline |= plan.params.iter().any(|p| p.rust_ty.is_empty());
    let versions = host.symbols.get(&iface.name);
    plan.soname = spec
        .host_soname(iface, versions.map(|v| v.soname.as_str()))
        .to_string();
    let special = spec.specials.get(&iface.name);
    plan.trampoline |= special.is_some_and(|s| s.kind == SpecialKind::Trampoline);
    if plan.trampoline {
        if let Some(problem) = trampoline_problem(spec, iface)? {
            problems.push(problem);
        }
    }
    plan.disposition = if let Some(s) = special.filter(|s| s.kind == SpecialKind::Hand) {
        Disposition::Hand(s.reason.clone())
    } else if let Some(s) = special.filter(|s| s.kind == SpecialKind::Exclude) {
        Disposition::Excluded(s.reason.clone())
    } else if versions.is_none() {
        Disposition::NotOnHost
    } else if let Some(problem) = problems.first() {
        Disposition::Excluded(problem.clone())
    } else {
        Disposition::Generated
    };
    if plan.params.iter().any(|p| p.checks.iter().any(|c| c.saved)) {
        if matches!(plan.disposition, Disposition::Hand(_)) {
            bail!(
                "{}: a rule that walks the `...` arguments needs the generated trampoline; a hand-coded interposer walks them itself",
                iface.name
            );
        }
        // The rule's lowering made sure the named parameters leave an integer register free.
        if let Ok((ints, _)) = registers(spec, iface)? {
            plan.saved_reg = INT_REGS.get(ints).copied();
        }
    }
    if let (Disposition::Generated, Some(v)) = (&plan.disposition, versions) {
        plan.exports = exports(iface, v);
    }
    plan_hooks(spec, iface, &mut plan)?;
    Ok(plan)
}

/// Renders the interface's `hook` lines into `plan.before` / `plan.after`. A hook that cannot run
/// (on a hand-coded, excluded or trampoline interface, or naming what is not a parameter) is a
/// mistake in the database.
fn plan_hooks(spec: &Spec, iface: &Interface, plan: &mut Plan) -> Result<()> {
    let hooks = spec.hooks.get(&iface.name).map_or(&[][..], Vec::as_slice);
    let passes_pre = hooks.iter().any(|h| h.args.iter().any(|a| a == "pre"));
    for h in hooks {
        let at = || format!("{} (`hook {}`)", h.source, iface.name);
        match &plan.disposition {
            Disposition::Hand(_) | Disposition::Excluded(_)
                if spec.specials.contains_key(&iface.name) =>
            {
                bail!("{}: a hand-coded or excluded interface runs no hooks; remove the `hook` line or the `hand`/`exclude` line", at())
            }
            _ => {}
        }
        if plan.trampoline {
            bail!(
                "{}: a trampoline jumps to the original, so nothing runs after it",
                at()
            );
        }
        let mut args = Vec::new();
        for a in &h.args {
            if a == "pre" {
                args.push(PRE.to_string());
            } else if a == "ret" {
                if plan.ret_rust == "()" {
                    bail!(
                        "{}: `{}` returns nothing to pass as `ret`",
                        at(),
                        iface.name
                    );
                }
                args.push(format!("{RESULT} as _"));
            } else if let Some(q) = plan
                .params
                .iter()
                .find(|q| q.name == *a && !q.rust_ty.is_empty())
            {
                args.push(format!("{} as _", q.ident));
            } else if object_kind(spec, a) {
                args.push(kind_arg(a)?);
            } else {
                bail!(
                    "{}: `{a}` is not a parameter of `{}`, nor an object kind that a `handle({a})` rule names",
                    at(),
                    iface.name
                );
            }
        }
        let call = format!("rt::hooks::{}({})", h.func, args.join(", "));
        match h.phase {
            // The parser made sure a `pre` has its `before` hook.
            HookPhase::Before if passes_pre => plan.before.push(format!("let {PRE} = {call};")),
            HookPhase::Before => plan.before.push(format!("{call};")),
            HookPhase::After => plan.after.push(format!("{call};")),
        }
    }
    Ok(())
}

/// Why a trampoline cannot serve this interface, if it cannot: the checking function only sees
/// register parameters.
fn trampoline_problem(spec: &Spec, iface: &Interface) -> Result<Option<String>> {
    let (ints, sse) = match registers(spec, iface)? {
        Ok(n) => n,
        Err(problem) => return Ok(Some(problem)),
    };
    if ints > 6 || sse > 8 {
        return Ok(Some(
            "parameters passed on the stack through a trampoline".into(),
        ));
    }
    Ok(None)
}

/// How many integer and SSE registers the named parameters take (the first 6 and 8 travel in
/// registers), or why they do not travel that way.
fn registers(spec: &Spec, iface: &Interface) -> Result<Result<(usize, usize), String>> {
    let (mut ints, mut sse) = (0, 0);
    for p in &iface.params {
        match spec.abi(p.ty)? {
            Abi::Int { .. } | Abi::Ptr => ints += 1,
            Abi::F32 | Abi::F64 | Abi::Complex(_) => sse += 1,
            Abi::Aggregate { .. } => {
                return Ok(Err("a struct passed by value through a trampoline".into()))
            }
            _ => {}
        }
    }
    Ok(Ok((ints, sse)))
}

fn exports(iface: &Interface, v: &crate::host::Versions) -> Vec<Export> {
    let db_version = iface.version.clone().unwrap_or_default();
    if v.all.len() <= 1 {
        return vec![Export {
            // `#[no_mangle] fn r#move` exports `move`.
            fn_name: if RUST_KEYWORDS.contains(&iface.name.as_str()) {
                format!("r#{}", iface.name)
            } else {
                iface.name.clone()
            },
            symver: None,
            resolve_version: v
                .default
                .clone()
                .or_else(|| v.all.first().cloned())
                .unwrap_or_default(),
            checked: true,
        }];
    }
    v.all
        .iter()
        .map(|ver| {
            let is_default = v.default.as_deref() == Some(ver.as_str());
            Export {
                fn_name: format!("dynchk_{}_{}", iface.name, ver.replace(['.', '-'], "_")),
                symver: Some((ver.clone(), is_default)),
                resolve_version: ver.clone(),
                checked: is_default || *ver == db_version,
            }
        })
        .collect()
}

/// Rust's keywords, strict and reserved (curses has `box` and `move`).
const RUST_KEYWORDS: [&str; 50] = [
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield",
];

/// A parameter's plan; the inner error is a reason to exclude the interface (its ABI cannot be
/// expressed), the outer one a mistake in the database that must be fixed.
fn plan_param(
    spec: &Spec,
    iface: &Interface,
    p: &Param,
    structs: &mut BTreeSet<i64>,
) -> Result<Result<ParamPlan, String>> {
    let name = p.name.clone().unwrap_or_else(|| format!("arg{}", p.pos));
    let ident = ident_for(&name);
    let abi = spec.abi(p.ty)?;
    let (rust_ty, c_decl) = match abi {
        // Not passed to the checking function: the trampoline leaves them where they are.
        Abi::Variadic if name == "..." => (String::new(), name.clone()),
        // A named variable argument: its rules document what a hand-coded interposer checks.
        Abi::Variadic => (String::new(), format!("... /* {name} */")),
        Abi::X87 => (String::new(), spec.c_decl(p.ty, &name)?),
        _ => match rust_type(spec, p.ty, false) {
            Ok(t) => (t, spec.c_decl(p.ty, &name)?),
            Err(e) => return Ok(Err(format!("parameter {name}: {e}"))),
        },
    };
    let mut checks = Vec::new();
    let site = ParamSite {
        spec,
        iface,
        p,
        name: &name,
        ident: &ident,
    };
    if p.null_portability {
        if abi != Abi::Ptr {
            bail!(
                "{}: `{name}{PORTABLE_NULL}` on a parameter that is not a pointer",
                iface.source
            );
        }
        // The one check that sees NULL: the parameter's own rules skip it.
        let strict = Param {
            nullable: false,
            ..p.clone()
        };
        let ru = RuleUse::new(
            PORTABLE_NULL.into(),
            String::new(),
            None,
            iface.source.clone(),
        )?;
        let site = ParamSite { p: &strict, ..site };
        checks.push(param_check(&site, &ru, "annotation", structs)?);
    }
    for ru in &p.rules {
        checks.push(param_check(&site, ru, "annotation", structs)?);
    }
    if p.rules.is_empty() {
        if let Some(sem) = &p.semantic {
            if let Some((_, rule)) = LSB_SEMANTICS.iter().find(|(s, _)| s == sem) {
                let ru = RuleUse::new(rule.to_string(), String::new(), None, "lsb".into())?;
                checks.push(param_check(&site, &ru, "LSB semantic type", structs)?);
            }
        }
    }
    Ok(Ok(ParamPlan {
        pos: p.pos,
        name,
        ident,
        c_decl,
        rust_ty,
        checks,
    }))
}

/// Whether `name` is a Rust keyword, which an identifier must not be.
pub fn is_keyword(name: &str) -> bool {
    RUST_KEYWORDS.contains(&name)
}

fn ident_for(name: &str) -> String {
    if is_keyword(name) {
        format!("{name}_")
    } else {
        name.to_string()
    }
}

/// The Rust type a value of C type `tid` travels as through the interposer.
pub fn rust_type(spec: &Spec, tid: i64, is_return: bool) -> Result<String> {
    Ok(match spec.abi(tid)? {
        Abi::Void if is_return => "()".into(),
        Abi::Int { size, signed } => rust_int(size, signed),
        Abi::Ptr => "*mut c_void".into(),
        Abi::F32 => "f32".into(),
        Abi::F64 => "f64".into(),
        Abi::Complex(4) => "Complex<f32>".into(),
        Abi::Complex(_) => "Complex<f64>".into(),
        Abi::Aggregate { float: true, size } if size <= 16 => {
            bail!("a small struct with floating-point members travels in SSE registers: not expressible yet")
        }
        Abi::Aggregate { size, .. } if size % 4 == 0 => format!("ByValue<[u32; {}]>", size / 4),
        Abi::Aggregate { size, .. } => format!("ByValue<[u8; {size}]>"),
        Abi::X87 => bail!("long double travels on the x87 stack, which stable Rust cannot express"),
        Abi::Void | Abi::Variadic | Abi::Unknown => {
            bail!(
                "type `{}` has no known representation",
                spec.c_decl(tid, "")?
            )
        }
    })
}

/// A `flags(TABLE)`/`oneof(TABLE)` argument: a table of `validators::xlat`, by its name.
pub fn table_arg(name: &str) -> Result<String> {
    match validators::xlat::find(name) {
        Some(t) => Ok(format!("&validators::xlat::{}", t.name.to_uppercase())),
        None => {
            let known: Vec<&str> = validators::xlat::tables().map(|t| t.name).collect();
            bail!(
                "no table `{name}` in validators/src/xlat/tables.rs or libraries.rs (add it there; tables: {})",
                known.join(", ")
            )
        }
    }
}

/// A `handle(KIND)` argument, or a kind a `hook` passes: a `validators::object::Kind` by its
/// name (a C identifier: the type's own name, `Display`, `WINDOW`, `xmlDoc`).
pub fn kind_arg(name: &str) -> Result<String> {
    let ident = !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ident {
        bail!("`{name}` is not an object kind (a C identifier such as Display or WINDOW)");
    }
    Ok(format!(
        "const {{ validators::object::Kind::named(\"{name}\") }}"
    ))
}

/// Whether a parameter rule of the database names `name` as its object kind (`handle(NAME)`):
/// the kinds `hook` lines may pass.
fn object_kind(spec: &Spec, name: &str) -> bool {
    spec.interfaces.iter().flat_map(|i| &i.params).any(|p| {
        p.rules.iter().any(|ru| {
            let takes_kind = spec
                .rules
                .get(&ru.rule)
                .is_some_and(|r| r.signature.contains(&ArgKind::Kind));
            takes_kind && matches!(ru.args.list(), [Expr::Name(k)] if k == name)
        })
    })
}

/// A parameter of the interposer as a place to check.
struct ParamSite<'a> {
    spec: &'a Spec,
    iface: &'a Interface,
    p: &'a Param,
    name: &'a str,
    ident: &'a str,
}

impl Site for ParamSite<'_> {
    fn what(&self) -> String {
        format!("{}({})", self.iface.name, self.name)
    }

    fn ty(&self) -> Result<i64> {
        Ok(self.p.ty)
    }

    fn value(&self, kind: ArgKind) -> String {
        match kind {
            ArgKind::Ptr => format!("{} as *const c_void", self.ident),
            ArgKind::Len => format!("{} as usize", self.ident),
            _ => format!("{} as i64", self.ident),
        }
    }

    fn name(&self, n: &str) -> Option<String> {
        let (deref, n) = match n.strip_prefix('*') {
            Some(n) => (true, n),
            None => (false, n),
        };
        let q = self
            .iface
            .params
            .iter()
            .find(|q| q.name.as_deref() == Some(n))?;
        let ident = ident_for(n);
        if !deref {
            return Some(format!("({ident} as i64)"));
        }
        deref_read(self.spec, q.ty, &ident)
    }

    fn report(&self) -> Result<String> {
        Ok(format!(
            "call.violation({}, {:?}, {}, f)",
            self.p.pos,
            self.name,
            report_value(self.spec.abi(self.p.ty)?, self.ident)
        ))
    }

    fn nullable(&self) -> Result<Option<String>> {
        Ok((self.p.nullable && self.spec.abi(self.p.ty)? == Abi::Ptr)
            .then(|| self.ident.to_string()))
    }

    fn direction(&self) -> String {
        self.p.data_out.to_string()
    }

    fn varargs(&self) -> Result<String> {
        let variadic = self.iface.params.iter().any(|q| {
            q.name.as_deref().is_none_or(|n| n == "...")
                && self.spec.abi(q.ty).is_ok_and(|a| a == Abi::Variadic)
        });
        if !variadic {
            bail!("walks the `...` arguments, and there are none (a `va_list` takes the `a` form)");
        }
        match registers(self.spec, self.iface)? {
            Ok((ints, sse)) if ints < INT_REGS.len() => Ok(format!(
                "&mut validators::format::VaList::after({SAVED}, {ints}, {sse})"
            )),
            _ => bail!("the named parameters leave no integer register for the saved arguments"),
        }
    }

    fn arg_report(&self) -> Result<String> {
        Ok(format!(
            "&mut |i: usize, f| call.violation({} + i as i32, \"...\", rt::Value::Pointer(0), &f)",
            self.p.pos + 1
        ))
    }

    fn follow(&self, spec: &Spec, tid: i64, count: String, indexed: bool) -> Follow {
        // Elements of an array parameter are named after it: `iov[1].iov_base`.
        let parent = if indexed {
            format!("Some(&{:?})", self.name)
        } else {
            "None".into()
        };
        Follow {
            checker: format!("structs::{}", crate::layer2::checker_name(spec, tid)),
            bounded: None,
            args: vec![
                "&call".into(),
                self.p.pos.to_string(),
                format!("{:?}", self.name),
                parent,
                format!("{} as *const u8", self.ident),
                count,
                self.direction(),
                indexed.to_string(),
                "0".into(),
            ],
        }
    }
}

/// Lowers one rule of a parameter.
fn param_check(
    site: &ParamSite<'_>,
    ru: &RuleUse,
    why: &str,
    structs: &mut BTreeSet<i64>,
) -> Result<Check> {
    let l = lower(site.spec, site, ru)?;
    structs.extend(l.reaches);
    Ok(Check {
        rule: ru.rule.clone(),
        check: l.rule.check.clone(),
        reason: format!(
            "{why} `{}{}` ({}): {}{}",
            ru.rule, ru.written, ru.source, l.rule.description, l.notes
        ),
        code: crate::render::check(&l.ir)?,
        saved: l.saved,
        gir: ru.source.starts_with(crate::sem::GIR_SOURCE),
        window: match InWindow::of(&l.ir) {
            Some(w) => {
                let mut past = l.ir.clone();
                past.call.validator.push_str("_past_windows");
                Some((w, crate::render::check(&past)?))
            }
            None => None,
        },
    })
}

/// `*p` in a length: the integer `p` points to, read only when `p` is readable for it; an
/// unreadable `p` counts as 0, so the length check passes and `p`'s own rule reports it.
fn deref_read(spec: &Spec, ptr_ty: i64, ident: &str) -> Option<String> {
    let pointee = spec.pointee(ptr_ty).ok()??;
    let Abi::Int { size, signed } = spec.abi(pointee).ok()? else {
        return None;
    };
    let rust = rust_int(size, signed);
    // Readable as the `in` rule of rules.sem checks it.
    let readable = &spec.rules.get("in")?.validator;
    Some(format!(
        "(if validators::{readable}({ident} as *const c_void, {size}).is_ok() {{ \
         core::ptr::read_unaligned({ident} as *const {rust}) as i64 }} else {{ 0 }})"
    ))
}

/// Whether a struct has member rules, itself or through members it validates (bounded depth).
pub fn struct_has_rules(spec: &Spec, tid: i64, depth: u32) -> Result<bool> {
    if depth > STRUCT_DEPTH {
        return Ok(false);
    }
    for m in spec.members.get(&tid).into_iter().flatten() {
        if !m.rules.is_empty() {
            return Ok(true);
        }
        if let Some(mt) = m.ty {
            let st = spec.strip(mt)?;
            if st.kind == TypeKind::Struct && struct_has_rules(spec, st.tid, depth + 1)? {
                return Ok(true);
            }
        }
    }
    Ok(false)
}
