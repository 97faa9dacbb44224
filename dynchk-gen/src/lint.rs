//! Consistency checks of the specification database (`dynchk-gen check`): every defect names the
//! table and the row at fault, so that a broken `db/` is fixed before the generator sees it.

use crate::db::Db;
use crate::model::Args;
use crate::sem::expr::Expr;
use rusqlite::types::FromSql;
use rusqlite::{Connection, Row};
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::mem::size_of;

/// One defect of the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Table holding the row at fault.
    pub table: String,
    /// Key of the row, e.g. `iid=1251 pos=1`.
    pub row: String,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} row {}: {}", self.table, self.row, self.message)
    }
}

fn problem(table: &str, row: String, message: String) -> Problem {
    Problem {
        table: table.to_owned(),
        row,
        message,
    }
}

/// One family of checks: the problems it finds, or the query error that stopped it.
type Check = fn(&Connection) -> rusqlite::Result<Vec<Problem>>;

/// Every defect of `db`, in a stable order (by check, then by row).
pub fn check(db: &Db) -> Vec<Problem> {
    let checks: [(&str, Check); 13] = [
        ("dangling references", dangling),
        ("type kinds", unknown_kinds),
        ("base chains", base_cycles),
        ("struct layouts", struct_layouts),
        ("rules", unknown_rules),
        ("validators", unknown_validators),
        ("object kinds", unknown_object_kinds),
        ("expressions", wrapping_expressions),
        ("annotated positions", missing_targets),
        ("parameter positions", parameter_positions),
        ("duplicate interfaces", duplicates),
        ("host sizes", host_size_mismatches),
        ("host offsets", host_offset_mismatches),
    ];
    let mut out = Vec::new();
    for (name, check) in checks {
        match check(&db.conn) {
            Ok(found) => out.extend(found),
            // A database without the tables a check reads is itself a defect worth naming.
            Err(e) => out.push(problem(
                "(schema)",
                name.to_owned(),
                format!("query failed: {e}"),
            )),
        }
    }
    out
}

/// Runs `sql` and maps every row with `f`.
fn query<T>(
    conn: &Connection,
    sql: &str,
    f: impl FnMut(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Vec<T>> {
    conn.prepare(sql)?.query_map([], f)?.collect()
}

fn col<T: FromSql>(row: &Row<'_>, i: usize) -> rusqlite::Result<T> {
    row.get(i)
}

/// References to rows that do not exist: types, interfaces, libraries.
fn dangling(conn: &Connection) -> rusqlite::Result<Vec<Problem>> {
    let mut out = Vec::new();
    // (table, row key SQL, what is referenced, the reference, condition of a dangling row)
    let refs = [
        (
            "Interface",
            "'iid=' || iid",
            "return type",
            "name || ': return type ' || ret",
            "ret NOT IN (SELECT tid FROM Type)",
        ),
        (
            "Interface",
            "'iid=' || iid",
            "library",
            "name || ': library ' || lid",
            "lid NOT IN (SELECT lid FROM Library)",
        ),
        (
            "Parameter",
            "'iid=' || iid || ' pos=' || pos",
            "type",
            "'type ' || type",
            "type NOT IN (SELECT tid FROM Type)",
        ),
        (
            "Parameter",
            "'iid=' || iid || ' pos=' || pos",
            "interface",
            "'interface ' || iid",
            "iid NOT IN (SELECT iid FROM Interface)",
        ),
        (
            "Type",
            "'tid=' || tid",
            "base type",
            "name || ': base type ' || base",
            "base IS NOT NULL AND base NOT IN (SELECT tid FROM Type)",
        ),
        (
            "Member",
            "'tid=' || tid || ' pos=' || pos",
            "type",
            "name || ': type ' || type",
            "type IS NOT NULL AND type NOT IN (SELECT tid FROM Type)",
        ),
        (
            "Member",
            "'tid=' || tid || ' pos=' || pos",
            "type",
            "name || ': member of type ' || tid",
            "tid NOT IN (SELECT tid FROM Type)",
        ),
        (
            "ParamRule",
            "'iid=' || iid || ' pos=' || pos || ' seq=' || seq",
            "interface",
            "rule || ': interface ' || iid",
            "iid NOT IN (SELECT iid FROM Interface)",
        ),
        (
            "MemberRule",
            "'tid=' || tid || ' member=' || member || ' seq=' || seq",
            "type",
            "rule || ': type ' || tid",
            "tid NOT IN (SELECT tid FROM Type)",
        ),
    ];
    for (table, key, _, what, cond) in refs {
        let sql = format!("SELECT {key}, {what} FROM {table} WHERE {cond} ORDER BY 1");
        for (row, what) in query(conn, &sql, |r| {
            Ok((col::<String>(r, 0)?, col::<String>(r, 1)?))
        })? {
            out.push(problem(table, row, format!("{what} does not exist")));
        }
    }
    Ok(out)
}

/// Types whose base chain (typedef, pointer, qualifier, array) loops back on itself. Linear in the
/// number of types: every type is walked once (a 200,000-deep typedef chain takes milliseconds).
fn base_cycles(conn: &Connection) -> rusqlite::Result<Vec<Problem>> {
    let types: BTreeMap<i64, (String, Option<i64>)> =
        query(conn, "SELECT tid, name, base FROM Type", |r| {
            Ok((col(r, 0)?, (col(r, 1)?, col(r, 2)?)))
        })?
        .into_iter()
        .collect();
    // A type's walk ended (it leads to a root or to a cycle already reported), or its position in
    // the chain being walked now.
    enum Seen {
        Done,
        OnPath(usize),
    }
    let mut seen: HashMap<i64, Seen> = HashMap::with_capacity(types.len());
    let mut out = Vec::new();
    for &start in types.keys() {
        let mut path = Vec::new();
        let mut at = Some(start);
        while let Some(t) = at.filter(|t| types.contains_key(t)) {
            match seen.get(&t) {
                Some(Seen::Done) => break,
                Some(Seen::OnPath(i)) => {
                    // The cycle is path[i..]; it is named from its smallest tid.
                    let cycle = &path[*i..];
                    let low = (0..cycle.len()).min_by_key(|&k| cycle[k]).unwrap_or(0);
                    let names: Vec<String> = (0..=cycle.len())
                        .map(|k| cycle[(low + k) % cycle.len()])
                        .map(|t: i64| format!("{} ({t})", types[&t].0))
                        .collect();
                    out.push((
                        cycle[low],
                        problem(
                            "Type",
                            format!("tid={}", cycle[low]),
                            format!("base chain loops: {}", names.join(" -> ")),
                        ),
                    ));
                    break;
                }
                None => {
                    seen.insert(t, Seen::OnPath(path.len()));
                    path.push(t);
                    at = types[&t].1;
                }
            }
        }
        for t in path {
            seen.insert(t, Seen::Done);
        }
    }
    out.sort_by_key(|(tid, _)| *tid);
    Ok(out.into_iter().map(|(_, p)| p).collect())
}

/// Types of a kind the generator does not know.
fn unknown_kinds(conn: &Connection) -> rusqlite::Result<Vec<Problem>> {
    let sql =
        "SELECT tid, name, kind FROM Type WHERE kind NOT IN ('Intrinsic', 'Pointer', 'Const', \
               'Volatile', 'Typedef', 'Array', 'FuncPtr', 'Struct', 'Union', 'Enum') ORDER BY tid";
    let rows = query(conn, sql, |r| {
        Ok((
            col::<i64>(r, 0)?,
            col::<String>(r, 1)?,
            col::<String>(r, 2)?,
        ))
    })?;
    Ok(rows
        .into_iter()
        .map(|(tid, name, kind)| {
            problem(
                "Type",
                format!("tid={tid}"),
                format!("{name}: unknown kind {kind:?}"),
            )
        })
        .collect())
}

/// ParamRule/MemberRule rules that `Rule` does not define.
fn unknown_rules(conn: &Connection) -> rusqlite::Result<Vec<Problem>> {
    let mut out = Vec::new();
    let param = "SELECT 'iid=' || iid || ' pos=' || pos || ' seq=' || seq, rule FROM ParamRule \
                 WHERE rule NOT IN (SELECT name FROM Rule) ORDER BY iid, pos, seq";
    for (row, rule) in query(conn, param, |r| {
        Ok((col::<String>(r, 0)?, col::<String>(r, 1)?))
    })? {
        out.push(problem(
            "ParamRule",
            row,
            format!("unknown rule {rule:?} (not in Rule)"),
        ));
    }
    let member =
        "SELECT 'tid=' || tid || ' member=' || member || ' seq=' || seq, rule FROM MemberRule \
                  WHERE rule NOT IN (SELECT name FROM Rule) ORDER BY tid, member, seq";
    for (row, rule) in query(conn, member, |r| {
        Ok((col::<String>(r, 0)?, col::<String>(r, 1)?))
    })? {
        out.push(problem(
            "MemberRule",
            row,
            format!("unknown rule {rule:?} (not in Rule)"),
        ));
    }
    Ok(out)
}

/// Rules on a kind of library object (`handle(KIND)`, signature `k`) that no `hook` line names:
/// nothing makes or destroys such an object, so the rule never finds one destroyed (a misspelt
/// kind). One problem per line of a `.sem` file and kind: an `every` line gives many rows.
fn unknown_object_kinds(conn: &Connection) -> rusqlite::Result<Vec<Problem>> {
    let hooked: std::collections::BTreeSet<String> =
        query(conn, "SELECT args FROM Hook", |r| col::<String>(r, 0))?
            .iter()
            .flat_map(|a| a.split(',').map(|k| k.trim().to_owned()))
            .collect();
    let sql = "SELECT 'iid=' || p.iid || ' pos=' || p.pos || ' seq=' || p.seq, p.rule, p.args, \
               p.source FROM ParamRule p JOIN Rule r ON r.name = p.rule \
               WHERE (' ' || r.signature || ' ') LIKE '% k %' ORDER BY p.iid, p.pos, p.seq";
    let rows: Vec<(String, String, String, String)> = query(conn, sql, |r| {
        Ok((col(r, 0)?, col(r, 1)?, col(r, 2)?, col(r, 3)?))
    })?;
    let kinds = |args: &str| -> Vec<String> {
        let written = Args::written(args).unwrap_or_default();
        written.into_iter().map(str::to_owned).collect()
    };
    let known: std::collections::BTreeSet<String> = rows
        .iter()
        .flat_map(|(_, _, args, _)| kinds(args))
        .filter(|k| hooked.contains(k))
        .collect();
    let known = known.into_iter().collect::<Vec<_>>().join(", ");
    let mut seen = std::collections::BTreeSet::new();
    let mut out = Vec::new();
    for (row, rule, args, source) in rows {
        for kind in kinds(&args).into_iter().filter(|k| !hooked.contains(k)) {
            if seen.insert((source.clone(), kind.clone())) {
                out.push(problem(
                    "ParamRule",
                    row.clone(),
                    format!(
                        "`{rule}{args}` ({source}): no hook makes or destroys a {kind} \
                         (`hook NAME after=opened(ret, {kind})`, `before=closing(PARAM, {kind})`), \
                         so the rule never finds one destroyed; kinds the hooks name: {known}"
                    ),
                ));
            }
        }
    }
    Ok(out)
}

/// `Rule` rows whose validator (either of `READ|WRITE`) is not a function of the validators crate.
fn unknown_validators(conn: &Connection) -> rusqlite::Result<Vec<Problem>> {
    let sql = "SELECT name, validator, source FROM Rule ORDER BY name";
    let rows: Vec<(String, String, String)> =
        query(conn, sql, |r| Ok((col(r, 0)?, col(r, 1)?, col(r, 2)?)))?;
    let mut out = Vec::new();
    for (name, validators, source) in rows {
        for validator in validators.split('|') {
            if validators::FUNCTIONS.contains(&validator) {
                continue;
            }
            let module = validator.rsplit_once("::").map_or("", |(m, _)| m);
            let near: Vec<&str> = validators::FUNCTIONS
                .iter()
                .filter_map(|f| f.strip_prefix(module)?.strip_prefix("::"))
                .collect();
            let hint = if near.is_empty() {
                format!("no module `{module}` has public functions")
            } else {
                format!("validators::{module} has {}", near.join(", "))
            };
            out.push(problem(
                "Rule",
                format!("name={name}"),
                format!("validator `{validator}` ({source}) is not a function of the validators crate ({hint})"),
            ));
        }
    }
    Ok(out)
}

/// Negative array lengths, and struct or union members outside their type's bytes or (in a
/// struct) sharing bytes with another member.
fn struct_layouts(conn: &Connection) -> rusqlite::Result<Vec<Problem>> {
    let mut out = Vec::new();
    let sql = "SELECT 'Type', 'tid=' || tid, name, array_len FROM Type WHERE array_len < 0 \
               UNION ALL SELECT 'Member', 'tid=' || tid || ' pos=' || pos, name, array_len FROM Member \
               WHERE array_len < 0 ORDER BY 1 DESC, 2";
    let rows: Vec<(String, String, String, i64)> = query(conn, sql, |r| {
        Ok((col(r, 0)?, col(r, 1)?, col(r, 2)?, col(r, 3)?))
    })?;
    for (table, row, name, len) in rows {
        out.push(problem(
            &table,
            row,
            format!("{name}: array length {len} is negative"),
        ));
    }
    let sql = "SELECT t.tid, t.name, t.kind, t.size, m.pos, m.name, m.offset, coalesce(m.size, 0) \
               FROM Member m JOIN Type t ON t.tid = m.tid \
               WHERE t.kind IN ('Struct', 'Union') AND m.offset IS NOT NULL ORDER BY t.tid, m.offset, m.pos";
    let rows = query(conn, sql, |r| {
        Ok((
            col::<i64>(r, 0)?,
            col::<String>(r, 1)?,
            col::<String>(r, 2)?,
            col::<Option<i64>>(r, 3)?,
            col::<i64>(r, 4)?,
            col::<String>(r, 5)?,
            col::<i64>(r, 6)?,
            col::<i64>(r, 7)?,
        ))
    })?;
    // The member of the current struct that ends last so far: (tid, name, offset, end).
    let mut last: Option<(i64, String, i64, i64)> = None;
    let mut found = Vec::new();
    for (tid, ty, kind, size, pos, name, offset, len) in rows {
        let row = format!("tid={tid} pos={pos}");
        let end = offset.saturating_add(len);
        if let Some(size) = size {
            let wrong = if offset < 0 {
                Some(format!(
                    "{ty}.{name} is at offset {offset}, before the start of {ty}"
                ))
            } else if offset > size || (offset == size && len > 0) {
                Some(format!(
                    "{ty}.{name} is at offset {offset}, beyond the end of {ty} ({size} bytes)"
                ))
            } else if end > size {
                Some(format!(
                    "{ty}.{name} (bytes {offset}..{end}) reaches outside {ty} ({size} bytes)"
                ))
            } else {
                None
            };
            if let Some(wrong) = wrong {
                found.push((tid, pos, problem("Member", row.clone(), wrong)));
            }
        }
        if kind != "Struct" || len == 0 {
            continue;
        }
        match &last {
            Some((t, other, at, other_end)) if *t == tid && offset < *other_end => {
                found.push((
                    tid,
                    pos,
                    problem(
                        "Member",
                        row,
                        format!(
                            "{ty}.{name} (bytes {offset}..{end}) overlaps {ty}.{other} (bytes \
                             {at}..{other_end}): only a union's members share bytes"
                        ),
                    ),
                ));
                if end <= *other_end {
                    continue;
                }
            }
            _ => {}
        }
        last = Some((tid, name, offset, end));
    }
    found.sort_by_key(|(tid, pos, _)| (*tid, *pos));
    out.extend(found.into_iter().map(|(_, _, p)| p));
    Ok(out)
}

/// Rule arguments and `when` conditions whose constant part wraps around 64 bits, and memory
/// lengths or counts that are constant and negative (the call would take them as a huge size).
fn wrapping_expressions(conn: &Connection) -> rusqlite::Result<Vec<Problem>> {
    // A database the model cannot read has defects the other checks name; where they name none,
    // the generator's run in `check` reports why it does not read.
    let Ok(spec) = crate::model::Spec::read(conn) else {
        return Ok(Vec::new());
    };
    let sql = "SELECT 'ParamRule', iid, 'iid=' || iid || ' pos=' || pos || ' seq=' || seq, rule, \
               args, cond, source FROM ParamRule \
               UNION ALL SELECT 'MemberRule', tid, 'tid=' || tid || ' member=' || member || ' seq=' || seq, \
               rule, args, NULL, source FROM MemberRule ORDER BY 1 DESC, 2, 3";
    let rows = query(conn, sql, |r| {
        let rule_use: (String, String, Option<String>, String) =
            (col(r, 3)?, col(r, 4)?, col(r, 5)?, col(r, 6)?);
        Ok((
            col::<String>(r, 0)?,
            col::<i64>(r, 1)?,
            col::<String>(r, 2)?,
            rule_use,
        ))
    })?;
    // Each use with the names that are not constants where it stands: parameters or members.
    let uses = rows.into_iter().map(|(table, owner, row, rule_use)| {
        let locals: Vec<String> = if table == "ParamRule" {
            spec.interfaces
                .iter()
                .filter(|i| i.iid == owner)
                .flat_map(|i| i.params.iter().filter_map(|p| p.name.clone()))
                .collect()
        } else {
            spec.members
                .get(&owner)
                .into_iter()
                .flatten()
                .map(|m| m.name.clone())
                .collect()
        };
        (table, row, rule_use, locals)
    });
    let mut out = Vec::new();
    for (table, row, rule_use, locals) in uses {
        let (rule, args, cond, source) = rule_use;
        let leaf = |e: &Expr| match e {
            Expr::Name(n) if !locals.contains(n) => spec.constants.get(n).copied(),
            Expr::Sizeof(t) => spec.size_of(spec.find_type(t)?).ok().flatten(),
            _ => None,
        };
        let length = spec.rules.get(&rule).is_some_and(|r| r.memory);
        let texts = Args::written(&args).unwrap_or_default();
        let texts = texts.into_iter().map(|a| (a, length));
        for (i, (text, is_length)) in texts.chain(cond.as_deref().map(|c| (c, false))).enumerate() {
            // Text that does not parse is the generator's to report, with its own message.
            let Ok(e) = crate::sem::expr::parse(text) else {
                continue;
            };
            let wrong = match e.fold(&leaf) {
                Err(wraps) => wraps,
                Ok(Some(v)) if v < 0 && is_length && i == 0 => format!(
                    "the length `{text}` is {v}, which the call takes as {} bytes",
                    v as u64
                ),
                Ok(_) => continue,
            };
            out.push(problem(
                &table,
                row.clone(),
                format!("`{rule}{args}` ({source}): {wrong}"),
            ));
        }
    }
    Ok(out)
}

/// Annotations of a parameter or member that does not exist.
fn missing_targets(conn: &Connection) -> rusqlite::Result<Vec<Problem>> {
    let mut out = Vec::new();
    let param = "SELECT 'iid=' || r.iid || ' pos=' || r.pos || ' seq=' || r.seq, r.rule, i.name, r.pos, \
                 (SELECT count(*) FROM Parameter p WHERE p.iid = r.iid) \
                 FROM ParamRule r JOIN Interface i ON i.iid = r.iid \
                 WHERE NOT EXISTS (SELECT 1 FROM Parameter p WHERE p.iid = r.iid AND p.pos = r.pos) \
                 ORDER BY r.iid, r.pos, r.seq";
    let rows = query(conn, param, |r| {
        Ok((
            col::<String>(r, 0)?,
            col::<String>(r, 1)?,
            col::<String>(r, 2)?,
            col::<i64>(r, 3)?,
            col::<i64>(r, 4)?,
        ))
    })?;
    for (row, rule, name, pos, n) in rows {
        out.push(problem(
            "ParamRule",
            row,
            format!("rule {rule:?} is on parameter {pos} of {name}, which has {n} parameters"),
        ));
    }
    let member = "SELECT 'tid=' || r.tid || ' member=' || r.member || ' seq=' || r.seq, r.rule, t.name, r.member \
                  FROM MemberRule r JOIN Type t ON t.tid = r.tid \
                  WHERE NOT EXISTS (SELECT 1 FROM Member m WHERE m.tid = r.tid AND m.name = r.member) \
                  ORDER BY r.tid, r.member, r.seq";
    let rows = query(conn, member, |r| {
        Ok((
            col::<String>(r, 0)?,
            col::<String>(r, 1)?,
            col::<String>(r, 2)?,
            col::<String>(r, 3)?,
        ))
    })?;
    for (row, rule, ty, member) in rows {
        out.push(problem(
            "MemberRule",
            row,
            format!("rule {rule:?} is on member {member:?}, which {ty} does not have"),
        ));
    }
    Ok(out)
}

/// What is wrong with the sorted `positions` of a list that must be exactly 0..n, if anything.
fn holes(positions: &str) -> Option<String> {
    let have: Vec<i64> = positions
        .split(',')
        .filter_map(|p| p.parse().ok())
        .collect();
    if have.iter().copied().eq(0..have.len() as i64) {
        return None;
    }
    let max = have.iter().copied().max().unwrap_or(0);
    let missing: Vec<String> = (0..=max)
        .filter(|p| !have.contains(p))
        .map(|p| p.to_string())
        .collect();
    Some(if missing.is_empty() {
        format!("are at positions {positions}, not 0..{}", have.len())
    } else {
        format!(
            "are at positions {positions}: {} missing",
            missing.join(", ")
        )
    })
}

/// Parameter and member lists with holes (positions must be 0..n), `...` anywhere but last, and
/// parameters of type void (`f(void)` has no parameter).
fn parameter_positions(conn: &Connection) -> rusqlite::Result<Vec<Problem>> {
    let mut out = Vec::new();
    let sql = "SELECT i.iid, i.name, group_concat(p.pos) FROM Interface i JOIN \
               (SELECT iid, pos FROM Parameter ORDER BY iid, pos) p ON p.iid = i.iid \
               GROUP BY i.iid ORDER BY i.iid";
    for (iid, name, positions) in query(conn, sql, |r| {
        Ok((
            col::<i64>(r, 0)?,
            col::<String>(r, 1)?,
            col::<String>(r, 2)?,
        ))
    })? {
        if let Some(wrong) = holes(&positions) {
            out.push(problem(
                "Interface",
                format!("iid={iid}"),
                format!("parameters of {name} {wrong}"),
            ));
        }
    }
    let sql = "SELECT t.tid, t.kind, t.name, group_concat(m.pos) FROM Type t JOIN \
               (SELECT tid, pos FROM Member ORDER BY tid, pos) m ON m.tid = t.tid \
               GROUP BY t.tid ORDER BY t.tid";
    let rows = query(conn, sql, |r| {
        Ok((
            col::<i64>(r, 0)?,
            col::<String>(r, 1)?,
            col::<String>(r, 2)?,
            col::<String>(r, 3)?,
        ))
    })?;
    for (tid, kind, name, positions) in rows {
        if let Some(wrong) = holes(&positions) {
            out.push(problem(
                "Type",
                format!("tid={tid}"),
                format!("members of {kind} {name} {wrong}"),
            ));
        }
    }
    let sql = "SELECT p.iid, p.pos, i.name FROM Parameter p JOIN Type t ON t.tid = p.type \
               JOIN Interface i ON i.iid = p.iid WHERE t.name = '...' \
               AND EXISTS (SELECT 1 FROM Parameter q WHERE q.iid = p.iid AND q.pos > p.pos) ORDER BY p.iid, p.pos";
    for (iid, pos, name) in query(conn, sql, |r| {
        Ok((col::<i64>(r, 0)?, col::<i64>(r, 1)?, col::<String>(r, 2)?))
    })? {
        out.push(problem(
            "Parameter",
            format!("iid={iid} pos={pos}"),
            format!("'...' of {name} is not the last parameter"),
        ));
    }
    let sql = "SELECT 'Parameter', 'iid=' || p.iid || ' pos=' || p.pos, i.name FROM Parameter p \
               JOIN Type v ON v.tid = p.type JOIN Interface i ON i.iid = p.iid \
               WHERE v.kind = 'Intrinsic' AND v.name = 'void' \
               UNION ALL SELECT 'Member', 'tid=' || m.tid || ' pos=' || m.pos, f.name FROM Member m \
               JOIN Type v ON v.tid = m.type JOIN Type f ON f.tid = m.tid \
               WHERE f.kind = 'FuncPtr' AND v.kind = 'Intrinsic' AND v.name = 'void' ORDER BY 1 DESC, 2";
    let rows = query(conn, sql, |r| {
        Ok((
            col::<String>(r, 0)?,
            col::<String>(r, 1)?,
            col::<String>(r, 2)?,
        ))
    })?;
    for (table, row, name) in rows {
        out.push(problem(
            &table,
            row,
            format!("{name}: a parameter of type void (`f(void)` has no parameter)"),
        ));
    }
    Ok(out)
}

/// The same interface twice in one library.
fn duplicates(conn: &Connection) -> rusqlite::Result<Vec<Problem>> {
    let sql = "SELECT a.iid, a.name, l.name, b.iid, b.source FROM Interface a \
               JOIN Interface b ON b.name = a.name AND b.lid = a.lid AND b.iid < a.iid \
               LEFT JOIN Library l ON l.lid = a.lid ORDER BY a.iid, b.iid";
    let rows = query(conn, sql, |r| {
        Ok((
            col::<i64>(r, 0)?,
            col::<String>(r, 1)?,
            col::<Option<String>>(r, 2)?,
            col::<i64>(r, 3)?,
            col::<String>(r, 4)?,
        ))
    })?;
    Ok(rows
        .into_iter()
        .map(|(iid, name, lib, other, source)| {
            let lib = lib.unwrap_or_else(|| "its library".to_owned());
            problem(
                "Interface",
                format!("iid={iid}"),
                format!("{name} in {lib} is already iid={other} (from {source})"),
            )
        })
        .collect())
}

/// Sizes on the host (x86-64 Linux, glibc) of C types the database records, taken from the
/// `libc` crate's definitions. Types the crate leaves opaque (size 0) are left out.
pub fn host_sizes() -> HashMap<&'static str, usize> {
    macro_rules! sizes {
        ($($t:ident),* $(,)?) => {
            HashMap::from([$((stringify!($t), size_of::<libc::$t>())),*]).into_iter().filter(|&(_, s)| s > 0).collect()
        };
    }
    sizes!(
        size_t,
        ssize_t,
        off_t,
        off64_t,
        pid_t,
        uid_t,
        gid_t,
        mode_t,
        socklen_t,
        time_t,
        clock_t,
        dev_t,
        ino_t,
        ino64_t,
        nlink_t,
        blksize_t,
        blkcnt_t,
        blkcnt64_t,
        useconds_t,
        suseconds_t,
        clockid_t,
        id_t,
        key_t,
        sa_family_t,
        in_port_t,
        in_addr_t,
        wchar_t,
        intptr_t,
        uintptr_t,
        ptrdiff_t,
        rlim_t,
        rlim64_t,
        nfds_t,
        fsblkcnt_t,
        fsfilcnt_t,
        speed_t,
        tcflag_t,
        cc_t,
        pthread_t,
        pthread_key_t,
        pthread_once_t,
        pthread_spinlock_t,
        timer_t,
        locale_t,
        sigset_t,
        fd_set,
        fpos_t,
        fpos64_t,
        mbstate_t,
        glob_t,
        regex_t,
        regmatch_t,
        pthread_mutex_t,
        pthread_mutexattr_t,
        pthread_cond_t,
        pthread_condattr_t,
        pthread_rwlock_t,
        pthread_rwlockattr_t,
        pthread_attr_t,
        siginfo_t,
        timespec,
        timeval,
        tm,
        iovec,
        msghdr,
        cmsghdr,
        sockaddr,
        sockaddr_in,
        sockaddr_in6,
        sockaddr_un,
        sockaddr_storage,
        pollfd,
        rlimit,
        rusage,
        utsname,
        termios,
        dirent,
        dirent64,
        stat,
        stat64,
        statvfs,
        statvfs64,
        sigaction,
        stack_t,
        itimerval,
        timezone,
        passwd,
        group,
        utimbuf,
        tms,
        sched_param,
        sigevent,
        addrinfo,
        hostent,
        linger,
        in_addr,
        in6_addr,
        ip_mreq,
        winsize,
        flock,
        lconv,
        Dl_info,
        ifaddrs,
        mallinfo,
        ucred,
        epoll_event,
        utmpx,
        aiocb,
        mq_attr,
        ipc_perm,
        shmid_ds,
        msqid_ds,
        sembuf,
        spwd,
        if_nameindex,
        sigval,
        max_align_t
    )
}

/// Named types whose size in the database differs from the host's.
fn host_size_mismatches(conn: &Connection) -> rusqlite::Result<Vec<Problem>> {
    let host = host_sizes();
    let sql = "SELECT tid, name, kind, size FROM Type WHERE size IS NOT NULL ORDER BY tid";
    let rows = query(conn, sql, |r| {
        Ok((
            col::<i64>(r, 0)?,
            col::<String>(r, 1)?,
            col::<String>(r, 2)?,
            col::<i64>(r, 3)?,
        ))
    })?;
    Ok(rows
        .into_iter()
        .filter_map(|(tid, name, kind, size)| {
            let &h = host.get(name.as_str())?;
            (usize::try_from(size) != Ok(h)).then(|| {
                problem(
                    "Type",
                    format!("tid={tid}"),
                    format!("{kind} {name} is {size} bytes, {h} on the host (x86-64 glibc)"),
                )
            })
        })
        .collect())
}

/// Offsets on the host (x86-64 Linux, glibc) of struct members the database records, as
/// ((struct, member), offset), taken from the `libc` crate's definitions. Only members whose name
/// is the same in glibc, LSB and the crate are listed.
pub fn host_offsets() -> HashMap<(&'static str, &'static str), usize> {
    macro_rules! offsets {
        ($($name:ident: $ty:ident { $($field:ident),* })*) => {
            HashMap::from([$($(
                ((stringify!($name), stringify!($field)), std::mem::offset_of!(libc::$ty, $field)),
            )*)*])
        };
    }
    offsets! {
        timespec: timespec { tv_sec, tv_nsec }
        timeval: timeval { tv_sec, tv_usec }
        iovec: iovec { iov_base, iov_len }
        msghdr: msghdr { msg_name, msg_namelen, msg_iov, msg_iovlen, msg_control, msg_controllen, msg_flags }
        cmsghdr: cmsghdr { cmsg_len, cmsg_level, cmsg_type }
        sockaddr: sockaddr { sa_family, sa_data }
        sockaddr_in: sockaddr_in { sin_family, sin_port, sin_addr, sin_zero }
        sockaddr_in6: sockaddr_in6 { sin6_family, sin6_port, sin6_flowinfo, sin6_addr, sin6_scope_id }
        sockaddr_un: sockaddr_un { sun_family, sun_path }
        pollfd: pollfd { fd, events, revents }
        tm: tm { tm_sec, tm_min, tm_hour, tm_mday, tm_mon, tm_year, tm_wday, tm_yday, tm_isdst, tm_gmtoff, tm_zone }
        stat: stat { st_dev, st_ino, st_nlink, st_mode, st_uid, st_gid, st_rdev, st_size, st_blksize, st_blocks }
        stat64: stat64 { st_dev, st_ino, st_nlink, st_mode, st_uid, st_gid, st_rdev, st_size, st_blksize, st_blocks }
        sigaction: sigaction { sa_mask, sa_flags, sa_restorer }
        sigaltstack: stack_t { ss_sp, ss_flags, ss_size }
        rlimit: rlimit { rlim_cur, rlim_max }
        itimerval: itimerval { it_interval, it_value }
        dirent: dirent { d_ino, d_off, d_reclen, d_type, d_name }
        dirent64: dirent64 { d_ino, d_off, d_reclen, d_type, d_name }
        utsname: utsname { sysname, nodename, release, version, machine, domainname }
        termios: termios { c_iflag, c_oflag, c_cflag, c_lflag, c_line, c_cc, c_ispeed, c_ospeed }
        passwd: passwd { pw_name, pw_passwd, pw_uid, pw_gid, pw_gecos, pw_dir, pw_shell }
        group: group { gr_name, gr_passwd, gr_gid, gr_mem }
        tms: tms { tms_utime, tms_stime, tms_cutime, tms_cstime }
        sched_param: sched_param { sched_priority }
        winsize: winsize { ws_row, ws_col, ws_xpixel, ws_ypixel }
        addrinfo: addrinfo { ai_flags, ai_family, ai_socktype, ai_protocol, ai_addrlen, ai_addr, ai_canonname, ai_next }
        hostent: hostent { h_name, h_aliases, h_addrtype, h_length, h_addr_list }
        statvfs: statvfs { f_bsize, f_frsize, f_blocks, f_bfree, f_bavail, f_files, f_ffree, f_favail, f_flag, f_namemax }
        rusage: rusage { ru_utime, ru_stime, ru_maxrss, ru_minflt, ru_majflt, ru_inblock, ru_oublock, ru_nvcsw, ru_nivcsw }
        sigevent: sigevent { sigev_value, sigev_signo, sigev_notify }
        lconv: lconv { decimal_point, thousands_sep, grouping, int_curr_symbol, currency_symbol, mon_decimal_point,
            mon_thousands_sep, mon_grouping, positive_sign, negative_sign, int_frac_digits, frac_digits,
            p_cs_precedes, p_sep_by_space, n_cs_precedes, n_sep_by_space, p_sign_posn, n_sign_posn,
            int_p_cs_precedes, int_p_sep_by_space, int_n_cs_precedes, int_n_sep_by_space, int_p_sign_posn,
            int_n_sign_posn }
        utimbuf: utimbuf { actime, modtime }
        flock: flock { l_type, l_whence, l_start, l_len, l_pid }
        linger: linger { l_onoff, l_linger }
        ipc_perm: ipc_perm { __key, uid, gid, cuid, cgid, mode, __seq }
        mq_attr: mq_attr { mq_flags, mq_maxmsg, mq_msgsize, mq_curmsgs }
        Dl_info: Dl_info { dli_fname, dli_fbase, dli_sname, dli_saddr }
    }
}

/// Struct members whose offset in the database differs from the host's.
fn host_offset_mismatches(conn: &Connection) -> rusqlite::Result<Vec<Problem>> {
    let host = host_offsets();
    let sql =
        "SELECT m.tid, m.pos, t.name, m.name, m.offset FROM Member m JOIN Type t ON t.tid = m.tid \
               WHERE t.kind IN ('Struct', 'Union') AND m.offset IS NOT NULL ORDER BY m.tid, m.pos";
    let rows = query(conn, sql, |r| {
        Ok((
            col::<i64>(r, 0)?,
            col::<i64>(r, 1)?,
            col::<String>(r, 2)?,
            col::<String>(r, 3)?,
            col::<i64>(r, 4)?,
        ))
    })?;
    Ok(rows
        .into_iter()
        .filter_map(|(tid, pos, ty, member, offset)| {
            let &h = host.get(&(ty.as_str(), member.as_str()))?;
            (usize::try_from(offset) != Ok(h)).then(|| {
                problem(
                    "Member",
                    format!("tid={tid} pos={pos}"),
                    format!("{ty}.{member} is at offset {offset}, {h} on the host (x86-64 glibc)"),
                )
            })
        })
        .collect())
}
