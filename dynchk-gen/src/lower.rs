//! The one lowering: a rule on a parameter or on a struct member becomes the same check IR
//! ([`CheckIr`]), which `templates/check.rs.txt` prints. Where the value lives (an interposer's
//! parameter, a member read from a struct element) is a [`Site`]; everything else (the validator
//! from `rules.sem`, its arguments by the rule's signature, the length of a memory rule, the
//! checker of the structs the memory holds) is decided here once for both.

use anyhow::{anyhow, bail, Result};

use crate::model::{ArgKind, Args, Expr, Rule, RuleUse, Spec, TypeKind};
use crate::plan::{kind_arg, struct_has_rules, table_arg};

/// One check, ready for the template.
#[derive(Debug, Clone)]
pub struct CheckIr {
    /// Conditions it runs under, outermost first (`when`, then `!p.is_null()`).
    pub guards: Vec<String>,
    /// The validator call.
    pub call: Call,
    /// For a rule with a validator per direction: the direction (a Rust `bool`, true where the
    /// call writes) and the validator called then; `call` is the other one.
    pub write: Option<(String, Call)>,
    /// The statement that reports fault `f`.
    pub report: String,
    /// Run when the memory passed its check: the checker of the structs it holds.
    pub then: Option<Follow>,
}

/// `validators::PATH(ARGS)`.
#[derive(Debug, Clone)]
pub struct Call {
    pub validator: String,
    pub args: Vec<String>,
}

/// A call of a struct checker (layer 2) on the memory a check passed.
#[derive(Debug, Clone)]
pub struct Follow {
    /// `structs::iovec` from an interposer, `iovec` from another checker.
    pub checker: String,
    /// From another checker: only at a depth below this ([`crate::plan::STRUCT_DEPTH`]).
    pub bounded: Option<u32>,
    /// The checker's arguments: the call, the parameter's position and name, the path of the
    /// parent, the elements' address and count, the direction, whether indexed, the depth.
    pub args: Vec<String>,
}

/// Where the checked value lives.
pub trait Site {
    /// For messages: `readv(iov)`, `struct msghdr.msg_iov`.
    fn what(&self) -> String;
    /// The C type of the value.
    fn ty(&self) -> Result<i64>;
    /// The value passed as a validator's first argument of `kind`.
    fn value(&self, kind: ArgKind) -> String;
    /// What a name in an expression stands for here (`*n`: the integer `n` points to), or None.
    fn name(&self, name: &str) -> Option<String>;
    /// The statement reporting fault `f` on this value.
    fn report(&self) -> Result<String>;
    /// Where NULL is allowed: the pointer the check runs only when it is not NULL.
    fn nullable(&self) -> Result<Option<String>>;
    /// The direction the structs reached from here are checked in: a Rust `bool`.
    fn direction(&self) -> String;
    /// The checker call for `count` structs at this value (`indexed`: an array, its elements
    /// named `[i]`).
    fn follow(&self, spec: &Spec, tid: i64, count: String, indexed: bool) -> Follow;
    /// The call's `...` arguments after this value, as a `validators::format::VaList` (a rule
    /// of kind `v`; only an interposer's parameter has them).
    fn varargs(&self) -> Result<String>;
    /// The closure a walking validator reports the fault `f` of argument `i` after this value
    /// through (kinds `v` and `a`).
    fn arg_report(&self) -> Result<String>;
}

/// A lowered rule: the IR, and what `explain` says about its length and the structs it reaches.
pub struct Lowered {
    pub ir: CheckIr,
    pub rule: Rule,
    /// `; length count bytes; then layer 2: struct iovec; NULL allowed; only when …`
    pub notes: String,
    /// The struct whose checker the IR calls.
    pub reaches: Option<i64>,
    /// It walks the `...` arguments: the code reads the trampoline's register save area.
    pub saved: bool,
}

/// Lowers `ru` at `site`.
pub fn lower(spec: &Spec, site: &dyn Site, ru: &RuleUse) -> Result<Lowered> {
    let at = |e: anyhow::Error| {
        anyhow!(
            "{}: `{}{}` ({}): {e}",
            site.what(),
            ru.rule,
            ru.written,
            ru.source
        )
    };
    let rule = spec.rules.get(&ru.rule).ok_or_else(|| {
        at(anyhow!(
            "unknown rule (rules are defined in semantics/rules.sem)"
        ))
    })?;
    let expr = |e: &Expr| render_expr(spec, e, &|n| site.name(n)).map_err(at);
    let first = rule.signature.first().copied().unwrap_or(ArgKind::Int);
    let mut args = vec![site.value(first)];
    let mut notes = String::new();
    let mut then = None;
    let mut reaches = None;
    let mut saved = false;
    if rule.memory {
        let (len, how) = length(spec, site, ru, &expr).map_err(at)?;
        notes.push_str(&format!("; length {how}"));
        args.push(format!("({len}) as usize"));
        if let Some(tid) = struct_target(spec, site, ru, rule).map_err(at)? {
            let count = match &ru.args {
                Args::Count(n) => expr(n)?,
                _ => "1i64".into(),
            };
            let indexed = matches!(ru.args, Args::Count(_));
            notes.push_str(&format!("; then layer 2: {}", spec.c_decl(tid, "")?));
            then = Some(site.follow(spec, tid, format!("({count}) as usize"), indexed));
            reaches = Some(tid);
        }
    } else {
        let extra = &rule.signature[1..];
        let given = ru.args.list();
        let written = extra.iter().filter(|k| k.written()).count();
        if written != given.len() || matches!(ru.args, Args::Count(_)) {
            return Err(at(anyhow!(
                "takes {written} argument(s), {} given",
                given.len()
            )));
        }
        let mut given = given.iter();
        for kind in extra {
            if *kind == ArgKind::Varargs {
                args.push(site.varargs().map_err(at)?);
                args.push(site.arg_report().map_err(at)?);
                saved = true;
                continue;
            }
            if *kind == ArgKind::Nested {
                args.push("call.inside_forward()".into());
                continue;
            }
            let g = given.next().expect("counted above");
            args.push(match kind {
                ArgKind::Table => match g {
                    Expr::Name(t) => table_arg(t).map_err(at)?,
                    other => return Err(at(anyhow!("`{other}` is not a table name"))),
                },
                ArgKind::Kind => match g {
                    Expr::Name(k) => kind_arg(k).map_err(at)?,
                    other => return Err(at(anyhow!("`{other}` is not an object kind"))),
                },
                ArgKind::Len => format!("({}) as usize", expr(g)?),
                ArgKind::Ptr => format!("({}) as usize as *const c_void", expr(g)?),
                ArgKind::VaList => format!(
                    "&mut validators::format::VaList::copy(({}) as usize as *const c_void)",
                    expr(g)?
                ),
                _ => expr(g)?,
            });
            if *kind == ArgKind::VaList {
                args.push(site.arg_report().map_err(at)?);
            }
        }
    }
    let call = |validator: &str| Call {
        validator: validator.to_string(),
        args: args.clone(),
    };
    let write = rule
        .write_validator
        .as_deref()
        .map(|w| (site.direction(), call(w)));
    let mut guards = Vec::new();
    if let Some(cond) = &ru.cond {
        guards.push(format!("{} != 0", expr(&cond.expr)?));
    }
    if let Some(ptr) = site.nullable()? {
        guards.push(format!("!{ptr}.is_null()"));
        notes.push_str("; NULL allowed");
    }
    if let Some(cond) = &ru.cond {
        notes.push_str(&format!("; only when {}", cond.text));
    }
    Ok(Lowered {
        ir: CheckIr {
            guards,
            call: call(&rule.validator),
            write,
            report: site.report()?,
            then,
        },
        rule: rule.clone(),
        notes,
        reaches,
        saved,
    })
}

/// The byte length a memory rule covers, and how it was derived.
fn length(
    spec: &Spec,
    site: &dyn Site,
    ru: &RuleUse,
    expr: &dyn Fn(&Expr) -> Result<String>,
) -> Result<(String, String)> {
    let elem = match spec.pointee(site.ty()?)? {
        Some(t) => spec.size_of(t)?,
        None => None,
    };
    match &ru.args {
        Args::None => {
            let size =
                elem.ok_or_else(|| anyhow!("the pointee has no known size: give a length"))?;
            Ok((format!("{size}i64"), format!("sizeof pointee = {size}")))
        }
        Args::Count(n) => {
            let size = elem.ok_or_else(|| anyhow!("`[N]` needs a pointee with a known size"))?;
            Ok((
                format!("({}).wrapping_mul({size}i64)", expr(n)?),
                format!(
                    "{} elements of {size} bytes",
                    Args::written(&ru.written)?.join(", ")
                ),
            ))
        }
        Args::List(l) => {
            let [len] = &l[..] else {
                bail!("a memory rule takes one length, {} given", l.len());
            };
            let written = Args::written(&ru.written)?.join(", ");
            Ok((expr(len)?, format!("{written} bytes")))
        }
    }
}

/// The struct a memory rule reaches whose members the call reads, if any: `in`/`inout` on a
/// pointer to a struct with rules (its own or its members' structs').
fn struct_target(spec: &Spec, site: &dyn Site, ru: &RuleUse, rule: &Rule) -> Result<Option<i64>> {
    let Some(pointee) = spec.pointee(site.ty()?)? else {
        return Ok(None);
    };
    let st = spec.strip(pointee)?;
    if !rule.reads {
        return Ok(None);
    }
    let union_without_rule = st.kind == TypeKind::Union
        && !matches!(ru.args, Args::List(_))
        && !spec
            .members
            .get(&st.tid)
            .into_iter()
            .flatten()
            .any(|m| !m.rules.is_empty());
    if union_without_rule {
        bail!(
            "it reaches union {}, which has no rule: which member the call reads is not known. \
             Give its members rules (`struct {} {{ … }}` works for unions too) or check it as \
             bytes with `{}(sizeof(union {}))`",
            st.name,
            st.name,
            ru.rule,
            st.name
        );
    }
    if st.kind != TypeKind::Struct || !struct_has_rules(spec, st.tid, 0)? {
        return Ok(None);
    }
    Ok(Some(st.tid))
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
