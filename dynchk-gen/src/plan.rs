//! Check selection: for every interface, what happens to it (generated, hand-coded, excluded) and,
//! for every parameter, the resolved C type, the Rust type it travels as, and the ordered checks
//! with the reason each was chosen. Both `explain` and the code templates read these plans.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{anyhow, bail, Result};

use crate::host::Host;
use crate::model::{report_value, rust_int, Abi, HookPhase, Interface, Param, RuleUse, Spec};
use crate::sem::expr::{self, Expr};

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
}

/// The variable the generated code keeps the real call's result in, for `after` hooks.
pub const RESULT: &str = "__ret";

/// The variable that keeps what the `before` hook returned, for the `after` hook's `pre`.
const PRE: &str = "__pre";

impl Plan {
    /// Parameters that carry at least one check.
    pub fn semantic_params(&self) -> usize {
        self.params.iter().filter(|p| !p.checks.is_empty()).count()
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
    let special = spec.specials.get(&iface.name);
    plan.trampoline |= special.is_some_and(|(kind, _, _)| kind == "trampoline");
    if plan.trampoline {
        if let Some(problem) = trampoline_problem(spec, iface, versions)? {
            problems.push(problem);
        }
    }
    plan.disposition = if let Some((kind @ ("hand" | "exclude"), reason, _)) =
        special.map(|(k, r, s)| (k.as_str(), r, s))
    {
        if kind == "hand" {
            Disposition::Hand(reason.clone())
        } else {
            Disposition::Excluded(reason.clone())
        }
    } else if versions.is_none() {
        Disposition::NotOnHost
    } else if let Some(problem) = problems.first() {
        Disposition::Excluded(problem.clone())
    } else {
        Disposition::Generated
    };
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
            } else {
                bail!("{}: `{a}` is not a parameter of `{}`", at(), iface.name);
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
/// register parameters, and the trampoline is exported under exactly one symbol version.
fn trampoline_problem(
    spec: &Spec,
    iface: &Interface,
    v: Option<&crate::host::Versions>,
) -> Result<Option<String>> {
    let (mut ints, mut sse) = (0, 0);
    for p in &iface.params {
        match spec.abi(p.ty)? {
            Abi::Int { .. } | Abi::Ptr => ints += 1,
            Abi::F32 | Abi::F64 | Abi::Complex(_) => sse += 1,
            Abi::Aggregate { .. } => {
                return Ok(Some("a struct passed by value through a trampoline".into()))
            }
            _ => {}
        }
    }
    if ints > 6 || sse > 8 {
        return Ok(Some(
            "parameters passed on the stack through a trampoline".into(),
        ));
    }
    Ok(match v {
        Some(v) if v.all.is_empty() => {
            Some("an unversioned symbol cannot be exported by a trampoline".into())
        }
        _ => None,
    })
}

fn exports(iface: &Interface, v: &crate::host::Versions) -> Vec<Export> {
    let db_version = iface.version.clone().unwrap_or_default();
    if v.all.len() <= 1 {
        return vec![Export {
            fn_name: iface.name.clone(),
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

const RUST_KEYWORDS: [&str; 38] = [
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn",
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
    let data_out = p.rules.iter().any(|r| r.rule == "data" && r.args == "=out");
    let ctx = ParamCtx {
        spec,
        iface,
        p,
        name: &name,
        ident: &ident,
        data_out,
    };
    for ru in p.rules.iter().filter(|r| r.rule != "data") {
        checks.push(ctx.check(ru, "annotation", structs)?);
    }
    if p.rules.is_empty() {
        if let Some(sem) = &p.semantic {
            if let Some((_, rule)) = LSB_SEMANTICS.iter().find(|(s, _)| s == sem) {
                let ru = RuleUse {
                    rule: rule.to_string(),
                    args: String::new(),
                    cond: None,
                    source: "lsb".into(),
                };
                checks.push(ctx.check(&ru, "LSB semantic type", structs)?);
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
            let known: Vec<&str> = validators::xlat::TABLES.iter().map(|t| t.name).collect();
            bail!(
                "no table `{name}` in validators/src/xlat/tables.rs (add it there; tables: {})",
                known.join(", ")
            )
        }
    }
}

struct ParamCtx<'a> {
    spec: &'a Spec,
    iface: &'a Interface,
    p: &'a Param,
    name: &'a str,
    ident: &'a str,
    data_out: bool,
}

impl ParamCtx<'_> {
    fn check(&self, ru: &RuleUse, why: &str, structs: &mut BTreeSet<i64>) -> Result<Check> {
        let spec = self.spec;
        let rule = spec.rules.get(&ru.rule).ok_or_else(|| {
            anyhow!(
                "{}: unknown rule `{}` ({})",
                self.iface.name,
                ru.rule,
                ru.source
            )
        })?;
        let abi = spec.abi(self.p.ty)?;
        let is_ptr = abi == Abi::Ptr;
        let pos = self.p.pos;
        let value = report_value(abi, self.ident);
        let mut args = vec![self.arg0(rule.signature.first().copied().unwrap_or('i'))?];
        let mut reason = format!(
            "{why} `{}{}` ({}): {}",
            ru.rule, ru.args, ru.source, rule.description
        );
        let mut followup = String::new();
        let extra = &rule.signature[1..];
        let given: Vec<String> = if ru.args.is_empty() {
            Vec::new()
        } else {
            crate::sem::parse_args(&ru.args[1..ru.args.len() - 1])
                .into_iter()
                .map(str::to_string)
                .collect()
        };
        if is_memory(&ru.rule) {
            let (len, how) = self.length(ru)?;
            reason.push_str(&format!("; length {how}"));
            args.push(format!("({len}) as usize"));
            if let Some((stid, count)) = self.struct_target(ru)? {
                if matches!(ru.rule.as_str(), "in" | "inout") && struct_has_rules(spec, stid, 0)? {
                    structs.insert(stid);
                    reason.push_str(&format!("; then layer 2: {}", spec.c_decl(stid, "")?));
                    // Elements of an array parameter are named after it: `iov[1].iov_base`.
                    let array = ru.args.starts_with('[');
                    let parent = if array {
                        format!("Some(&{:?})", self.name)
                    } else {
                        "None".into()
                    };
                    followup = format!(
                        "structs::{}(&call, {pos}, {:?}, {parent}, {} as *const u8, ({count}) as usize, {}, {array}, 0);",
                        crate::layer2::checker_name(spec, stid), self.name, self.ident, self.data_out,
                    );
                }
            }
        } else {
            if extra.len() != given.len() {
                bail!(
                    "{}({}): rule `{}` takes {} argument(s), {} given ({})",
                    self.iface.name,
                    self.name,
                    ru.rule,
                    extra.len(),
                    given.len(),
                    ru.source
                );
            }
            for (kind, g) in extra.iter().zip(&given) {
                if *kind == 't' {
                    args.push(table_arg(g).map_err(|e| {
                        anyhow!("{}({}): {e} ({})", self.iface.name, self.name, ru.source)
                    })?);
                    continue;
                }
                let e = self.expr(g)?;
                args.push(match kind {
                    'u' => format!("({e}) as usize"),
                    'p' => format!("({e}) as usize as *const c_void"),
                    _ => e,
                });
            }
        }
        let call = format!("validators::{}({})", rule.validator, args.join(", "));
        let mut code = if followup.is_empty() {
            format!(
                "if let Err(f) = {call} {{ call.violation({pos}, {:?}, {value}, f); }}",
                self.name
            )
        } else {
            format!(
                "match {call} {{ Err(f) => call.violation({pos}, {:?}, {value}, f), Ok(()) => {{ {followup} }} }}",
                self.name
            )
        };
        if self.p.nullable && is_ptr {
            code = format!("if !{}.is_null() {{ {code} }}", self.ident);
            reason.push_str("; NULL allowed");
        }
        if let Some(cond) = &ru.cond {
            code = format!("if {} != 0 {{ {code} }}", self.expr(cond)?);
            reason.push_str(&format!("; only when {cond}"));
        }
        Ok(Check {
            rule: ru.rule.clone(),
            check: rule.check.clone(),
            reason,
            code,
        })
    }

    fn arg0(&self, kind: char) -> Result<String> {
        Ok(match kind {
            'p' => format!("{} as *const c_void", self.ident),
            'u' => format!("{} as usize", self.ident),
            _ => format!("{} as i64", self.ident),
        })
    }

    /// Renders an expression over this interface's parameters and the database's constants.
    fn expr(&self, text: &str) -> Result<String> {
        let e = expr::parse(text)?;
        render_expr(self.spec, &e, &|n| {
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
        })
    }

    /// The byte length a memory rule covers, and how it was derived.
    fn length(&self, ru: &RuleUse) -> Result<(String, String)> {
        let spec = self.spec;
        let pointee = spec.pointee(self.p.ty)?;
        let elem = match pointee {
            Some(t) => spec.size_of(t)?,
            None => None,
        };
        let args = ru.args.as_str();
        if ru.rule.starts_with("string") {
            let inner = args.trim_start_matches('(').trim_end_matches(')');
            return Ok((self.expr(inner)?, format!("at most {inner} bytes")));
        }
        if args.is_empty() {
            let size = elem.ok_or_else(|| {
                anyhow!(
                    "{}({}): `{}` needs a length: the pointee has no known size ({})",
                    self.iface.name,
                    self.name,
                    ru.rule,
                    ru.source
                )
            })?;
            return Ok((format!("{size}i64"), format!("sizeof pointee = {size}")));
        }
        let inner = &args[1..args.len() - 1];
        if args.starts_with('[') {
            let size = elem.ok_or_else(|| {
                anyhow!(
                    "{}({}): `[{inner}]` needs a pointee with a known size",
                    self.iface.name,
                    self.name
                )
            })?;
            return Ok((
                format!("({}).wrapping_mul({size}i64)", self.expr(inner)?),
                format!("{inner} elements of {size} bytes"),
            ));
        }
        Ok((self.expr(inner)?, format!("{inner} bytes")))
    }

    /// For `in`/`inout` on a pointer to a struct: (struct tid, element count expression).
    fn struct_target(&self, ru: &RuleUse) -> Result<Option<(i64, String)>> {
        let Some(pointee) = self.spec.pointee(self.p.ty)? else {
            return Ok(None);
        };
        let st = self.spec.strip(pointee)?;
        let union_without_rule = st.kind == "Union"
            && matches!(ru.rule.as_str(), "in" | "inout")
            && !ru.args.starts_with('(')
            && !self
                .spec
                .members
                .get(&st.tid)
                .into_iter()
                .flatten()
                .any(|m| !m.rules.is_empty());
        if union_without_rule {
            bail!(
                "{}({}): `{}` reaches union {} ({}), which has no rule: which member the call reads \
                 is not known. Give its members rules (`struct {} {{ … }}` works for unions too) or \
                 check it as bytes with `{}(sizeof(union {}))`",
                self.iface.name,
                self.name,
                ru.rule,
                st.name,
                ru.source,
                st.name,
                ru.rule,
                st.name
            );
        }
        if st.kind != "Struct" {
            return Ok(None);
        }
        let count = if ru.args.starts_with('[') {
            self.expr(&ru.args[1..ru.args.len() - 1])?
        } else {
            "1i64".into()
        };
        Ok(Some((st.tid, count)))
    }
}

/// `*p` in a length: the integer `p` points to, read only when `p` is readable for it; an
/// unreadable `p` counts as 0, so the length check passes and `p`'s own rule reports it.
fn deref_read(spec: &Spec, ptr_ty: i64, ident: &str) -> Option<String> {
    let pointee = spec.pointee(ptr_ty).ok()??;
    let Abi::Int { size, signed } = spec.abi(pointee).ok()? else {
        return None;
    };
    let rust = rust_int(size, signed);
    Some(format!(
        "(if validators::mem::readable({ident} as *const c_void, {size}).is_ok() {{ \
         core::ptr::read_unaligned({ident} as *const {rust}) as i64 }} else {{ 0 }})"
    ))
}

/// Whether a memory rule: the generator computes its length.
pub fn is_memory(rule: &str) -> bool {
    matches!(rule, "in" | "out" | "inout" | "string.n")
}

/// Renders an expression: names through `lookup`, then constants; `sizeof` from the database.
pub fn render_expr(
    spec: &Spec,
    e: &Expr,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String> {
    for n in e.names() {
        if lookup(n).is_none() && !spec.constants.contains_key(n) {
            bail!("no parameter, member or constant named `{n}`");
        }
    }
    for n in e.derefs() {
        if lookup(&format!("*{n}")).is_none() {
            bail!("`*{n}`: only a parameter pointing to an integer can be dereferenced");
        }
    }
    for t in e.sizeofs() {
        let tid = spec
            .find_type(t)
            .ok_or_else(|| anyhow!("sizeof({t}): no such type"))?;
        spec.size_of(tid)?
            .ok_or_else(|| anyhow!("sizeof({t}): size unknown"))?;
    }
    Ok(e.to_rust(
        &|n| lookup(n).unwrap_or_else(|| format!("{}i64", spec.constants[n])),
        &|t| {
            let tid = spec.find_type(t).unwrap_or_default();
            format!("{}i64", spec.size_of(tid).ok().flatten().unwrap_or(0))
        },
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
            if st.kind == "Struct" && struct_has_rules(spec, st.tid, depth + 1)? {
                return Ok(true);
            }
        }
    }
    Ok(false)
}
