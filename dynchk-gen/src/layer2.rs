//! Layer 2: one validator per struct reached from a checked parameter, checking members by their
//! rules at the database's x86-64 offsets and following nested and pointed-to structs.

use std::collections::BTreeSet;

use anyhow::{anyhow, bail, Result};

use crate::lower::{lower, Follow, Site};
use crate::model::{report_value, rust_int, Abi, ArgKind, Member, Spec, TypeKind};
use crate::plan::{struct_has_rules, STRUCT_DEPTH};
use crate::render;

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
        for e in m.rules.iter().flat_map(|r| r.args.exprs()) {
            used.extend(
                e.names()
                    .into_iter()
                    .filter(|n| members.iter().any(|m| m.name == *n))
                    .map(String::from),
            );
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
        let site = MemberSite {
            spec,
            c_name: &c_name,
            members: &members,
            m,
        };
        for r in &m.rules {
            let l = lower(spec, &site, r)?;
            reached.extend(l.reaches);
            body.push(render::check(&l.ir)?);
        }
        // Structs embedded by value are validated in place.
        if let Some(mt) = m.ty {
            let st = spec.strip(mt)?;
            if st.kind == TypeKind::Struct && struct_has_rules(spec, st.tid, 1)? {
                layout.push((m.name.clone(), off));
                reached.push(st.tid);
                body.push(render::follow(&site.checker_call(
                    spec,
                    st.tid,
                    format!("e.add({off})"),
                    "1".into(),
                    false,
                ))?);
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

/// A member of the struct element `e` as a place to check: its value was read into `m_NAME`.
struct MemberSite<'a> {
    spec: &'a Spec,
    c_name: &'a str,
    members: &'a [Member],
    m: &'a Member,
}

impl MemberSite<'_> {
    /// The path of this member in a report.
    fn path(&self) -> String {
        format!("&super::MemberPath::new(parent, index, {:?})", self.m.name)
    }

    /// The call of the checker of struct `tid` for `count` elements at `ptr`.
    fn checker_call(
        &self,
        spec: &Spec,
        tid: i64,
        ptr: String,
        count: String,
        indexed: bool,
    ) -> Follow {
        Follow {
            checker: checker_name(spec, tid),
            bounded: Some(STRUCT_DEPTH),
            args: vec![
                "call".into(),
                "pos".into(),
                "pname".into(),
                format!("Some({})", self.path()),
                ptr,
                count,
                "data_out".into(),
                indexed.to_string(),
                "depth + 1".into(),
            ],
        }
    }
}

impl Site for MemberSite<'_> {
    fn what(&self) -> String {
        format!("{}.{}", self.c_name, self.m.name)
    }

    fn ty(&self) -> Result<i64> {
        self.m
            .ty
            .ok_or_else(|| anyhow!("{}.{} has no type", self.c_name, self.m.name))
    }

    fn value(&self, kind: ArgKind) -> String {
        let m = &self.m.name;
        match kind {
            ArgKind::Ptr => format!("m_{m} as usize as *const c_void"),
            ArgKind::Len => format!("m_{m} as usize"),
            _ => format!("m_{m}"),
        }
    }

    fn name(&self, n: &str) -> Option<String> {
        self.members
            .iter()
            .find(|x| x.name == n)
            .map(|x| format!("m_{}", x.name))
    }

    fn report(&self) -> Result<String> {
        Ok(format!(
            "super::member_violation(call, pos, pname, {}, {}, f)",
            self.path(),
            report_value(self.spec.abi(self.ty()?)?, &format!("m_{}", self.m.name))
        ))
    }

    fn nullable(&self) -> Result<Option<String>> {
        Ok(None)
    }

    fn direction(&self) -> String {
        "data_out".into()
    }

    fn follow(&self, spec: &Spec, tid: i64, count: String, indexed: bool) -> Follow {
        let ptr = format!("m_{} as usize as *const u8", self.m.name);
        self.checker_call(spec, tid, ptr, count, indexed)
    }

    fn varargs(&self) -> Result<String> {
        bail!("walks a call's variable arguments: a rule for a parameter, not a member")
    }

    fn arg_report(&self) -> Result<String> {
        self.varargs()
    }
}
