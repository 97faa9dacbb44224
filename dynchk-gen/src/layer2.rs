//! Layer 2: one validator per struct reached from a checked parameter, checking members by their
//! rules at the database's x86-64 offsets and following nested and pointed-to structs.

use std::collections::BTreeSet;

use anyhow::{anyhow, bail, Result};

use crate::model::{report_value, rust_int, Abi, Member, Spec};
use crate::plan::{is_memory, render_expr, struct_has_rules, STRUCT_DEPTH};

/// A generated struct validator, ready for the template.
pub struct StructValidator {
    pub tid: i64,
    /// The checker function's name in `structs` ([`checker_name`]).
    pub fn_name: String,
    /// `struct timespec`
    pub c_name: String,
    pub size: i64,
    /// Statements run for each element `e` (a `*const u8`), in member order.
    pub body: Vec<String>,
    /// (member, offset) pairs the layout test compares with the host ABI.
    pub layout: Vec<(String, i64)>,
}

/// Builds the validators for `roots` and every struct they reach, sorted by type id.
pub fn validators(spec: &Spec, roots: &BTreeSet<i64>) -> Result<Vec<StructValidator>> {
    let mut todo: Vec<i64> = roots.iter().copied().collect();
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    while let Some(tid) = todo.pop() {
        if !done.insert(tid) {
            continue;
        }
        let (v, reached) = build(spec, tid)?;
        todo.extend(reached);
        out.push(v);
    }
    out.sort_by_key(|v| v.tid);
    Ok(out)
}

/// The name of the checker of struct `tid` in the generated `structs` module: the struct's tag
/// (`structs::iovec`), so that the code reads like the C it checks. Where the database has several
/// structs of one tag, the one with the lowest type id keeps the tag and the others get their type
/// id after it, so a name depends only on the database, not on which checkers one build emits.
pub fn checker_name(spec: &Spec, tid: i64) -> String {
    let Ok(t) = spec.ty(tid) else {
        return format!("s{tid}");
    };
    let tag: String = t
        .name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let first = spec
        .types
        .values()
        .filter(|o| o.kind == t.kind && o.name == t.name)
        .map(|o| o.tid)
        .min();
    if tag.is_empty() || tag.starts_with(|c: char| c.is_ascii_digit()) {
        format!("s{tid}")
    } else if first != Some(tid) {
        format!("{tag}_{tid}")
    } else if crate::plan::is_keyword(&tag) {
        format!("{tag}_")
    } else {
        tag
    }
}

fn build(spec: &Spec, tid: i64) -> Result<(StructValidator, Vec<i64>)> {
    let c_name = spec.c_decl(tid, "")?;
    let size = spec
        .size_of(tid)?
        .ok_or_else(|| anyhow!("{c_name} has no size"))?;
    let members = spec.members.get(&tid).cloned().unwrap_or_default();
    let mut body = Vec::new();
    let mut reached = Vec::new();
    let mut layout = Vec::new();
    // Read every member that a rule uses or names, once per element.
    let mut used: BTreeSet<String> = BTreeSet::new();
    for m in members.iter().filter(|m| !m.rules.is_empty()) {
        used.insert(m.name.clone());
        for r in m.rules.iter().filter(|r| !r.args.is_empty()) {
            for a in crate::sem::parse_args(&r.args[1..r.args.len() - 1]) {
                let e =
                    crate::sem::expr::parse(a).map_err(|e| anyhow!("{c_name}.{}: {e}", m.name))?;
                used.extend(
                    e.names()
                        .into_iter()
                        .filter(|n| members.iter().any(|m| m.name == *n))
                        .map(String::from),
                );
            }
        }
    }
    for m in members.iter().filter(|m| used.contains(&m.name)) {
        let off = m
            .offset
            .ok_or_else(|| anyhow!("{c_name}.{} has no offset", m.name))?;
        if m.bitfield.unwrap_or(0) > 0 {
            bail!("{c_name}.{}: rules on bit-fields are not supported", m.name);
        }
        layout.push((m.name.clone(), off));
        body.push(format!(
            "let m_{} = {};",
            m.name,
            read_member(spec, m, off)?
        ));
    }
    for m in &members {
        let off = m.offset.unwrap_or(0);
        for r in &m.rules {
            body.push(member_rule(spec, &c_name, &members, m, r, &mut reached)?);
        }
        // Structs embedded by value are validated in place.
        if let Some(mt) = m.ty {
            let st = spec.strip(mt)?;
            if st.kind == "Struct" && struct_has_rules(spec, st.tid, 1)? {
                layout.push((m.name.clone(), off));
                reached.push(st.tid);
                body.push(format!(
                    "if depth < {STRUCT_DEPTH} {{ {}(call, pos, pname, Some(&super::MemberPath::new(parent, index, {:?})), e.add({off}), 1, data_out, false, depth + 1); }}",
                    checker_name(spec, st.tid), m.name
                ));
            }
        }
    }
    Ok((
        StructValidator {
            tid,
            fn_name: checker_name(spec, tid),
            c_name,
            size,
            body,
            layout,
        },
        reached,
    ))
}

/// Rust expression reading a member of element `e` as i64.
fn read_member(spec: &Spec, m: &Member, off: i64) -> Result<String> {
    let ty =
        m.ty.ok_or_else(|| anyhow!("member {} has no type", m.name))?;
    let rust = match spec.abi(ty)? {
        Abi::Int { size, signed } => rust_int(size, signed),
        Abi::Ptr => "usize".to_string(),
        other => bail!("member {} ({other:?}) cannot carry a rule", m.name),
    };
    Ok(format!(
        "core::ptr::read_unaligned(e.add({off}) as *const {rust}) as i64"
    ))
}

fn member_rule(
    spec: &Spec,
    c_name: &str,
    members: &[Member],
    m: &Member,
    r: &crate::model::RuleUse,
    reached: &mut Vec<i64>,
) -> Result<String> {
    let at = |e: anyhow::Error| {
        anyhow!(
            "{c_name}.{}: `{}{}` ({}): {e}",
            m.name,
            r.rule,
            r.args,
            r.source
        )
    };
    let lookup = |n: &str| {
        members
            .iter()
            .find(|x| x.name == n)
            .map(|x| format!("m_{}", x.name))
    };
    let args: Vec<&str> = if r.args.is_empty() {
        Vec::new()
    } else {
        crate::sem::parse_args(&r.args[1..r.args.len() - 1])
    };
    let expr =
        |s: &str| -> Result<String> { render_expr(spec, &crate::sem::expr::parse(s)?, &lookup) };
    let path = format!("&super::MemberPath::new(parent, index, {:?})", m.name);
    let ty =
        m.ty.ok_or_else(|| anyhow!("{c_name}.{} has no type", m.name))?;
    let report = format!(
        "super::member_violation(call, pos, pname, {path}, {}, f)",
        report_value(spec.abi(ty)?, &format!("m_{}", m.name))
    );
    let pointee = spec.pointee(ty)?;
    if r.rule == "data" || is_memory(&r.rule) {
        let elem = match pointee {
            Some(p) => spec.size_of(p)?,
            None => None,
        };
        let len = if r.args.starts_with('[') {
            let size =
                elem.ok_or_else(|| at(anyhow!("`[N]` needs a pointee with a known size")))?;
            format!(
                "({}).wrapping_mul({size}i64)",
                expr(args.first().copied().unwrap_or("0")).map_err(at)?
            )
        } else if let Some(a) = args.first() {
            expr(a).map_err(at)?
        } else {
            format!(
                "{}i64",
                elem.ok_or_else(|| at(anyhow!("the pointee has no known size: give a length")))?
            )
        };
        let ptr = format!("m_{} as usize as *const c_void", m.name);
        let check = match r.rule.as_str() {
            "data" => format!(
                "if data_out {{ validators::mem::writable({ptr}, ({len}) as usize) }} else {{ validators::mem::readable({ptr}, ({len}) as usize) }}"
            ),
            "in" => format!("validators::mem::readable({ptr}, ({len}) as usize)"),
            "string.n" => format!("validators::mem::string_n({ptr}, ({len}) as usize)"),
            _ => format!("validators::mem::writable({ptr}, ({len}) as usize)"),
        };
        let mut follow = String::new();
        if let Some(p) = pointee {
            let st = spec.strip(p)?;
            if st.kind == "Struct"
                && matches!(r.rule.as_str(), "in" | "inout")
                && struct_has_rules(spec, st.tid, 1)?
            {
                reached.push(st.tid);
                let count = if r.args.starts_with('[') {
                    expr(args[0]).map_err(at)?
                } else {
                    "1i64".into()
                };
                follow = format!(
                    "if depth < {STRUCT_DEPTH} {{ {}(call, pos, pname, Some({path}), m_{} as usize as *const u8, ({count}) as usize, data_out, {}, depth + 1); }}",
                    checker_name(spec, st.tid),
                    m.name,
                    r.args.starts_with('[')
                );
            }
        }
        return Ok(if follow.is_empty() {
            format!("if let Err(f) = {check} {{ {report}; }}")
        } else {
            format!("match {check} {{ Err(f) => {report}, Ok(()) => {{ {follow} }} }}")
        });
    }
    let rule = spec
        .rules
        .get(&r.rule)
        .ok_or_else(|| at(anyhow!("unknown rule")))?;
    let extra = &rule.signature[1..];
    if extra.len() != args.len() {
        return Err(at(anyhow!(
            "takes {} argument(s), {} given",
            extra.len(),
            args.len()
        )));
    }
    let mut call_args = vec![match rule.signature.first() {
        Some('p') => format!("m_{} as usize as *const c_void", m.name),
        Some('u') => format!("m_{} as usize", m.name),
        _ => format!("m_{}", m.name),
    }];
    for (k, a) in extra.iter().zip(&args) {
        if *k == 't' {
            call_args.push(crate::plan::table_arg(a).map_err(at)?);
            continue;
        }
        let e = expr(a).map_err(at)?;
        call_args.push(match k {
            'u' => format!("({e}) as usize"),
            'p' => format!("({e}) as usize as *const c_void"),
            _ => e,
        });
    }
    Ok(format!(
        "if let Err(f) = validators::{}({}) {{ {report}; }}",
        rule.validator,
        call_args.join(", ")
    ))
}
