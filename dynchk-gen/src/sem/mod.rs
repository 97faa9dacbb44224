//! The annotation DSL (`db/semantics/*.sem`, see docs/architecture.md): parsed by [`parse`],
//! loaded into the project tables of the database by [`load_dir`].

pub mod expr;
pub mod parse;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::{anyhow, bail, Context, Result};
use rusqlite::{params, Connection, OptionalExtension};

use parse::{CType, Item, ItemKind, ParamAnn};

/// Parses every `.sem` file in `dir` (sorted by name) into the project tables of `conn`.
/// Errors name the file and line at fault. A missing directory is an empty layer.
pub fn load_dir(conn: &Connection, dir: &Path) -> Result<()> {
    let mut files: Vec<_> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "sem"))
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
    };
    files.sort();
    let mut parsed = Vec::new();
    for f in &files {
        let text =
            std::fs::read_to_string(f).with_context(|| format!("reading {}", f.display()))?;
        let shown = format!(
            "semantics/{}",
            f.file_name().unwrap_or_default().to_string_lossy()
        );
        let items = parse::parse(&text).map_err(|e| anyhow!("{shown}: {e}"))?;
        parsed.push((shown, items));
    }
    let mut loader = Loader {
        conn,
        types: HashMap::new(),
    };
    // Phases, so that a file may use a rule, constant or type that a later file defines.
    for phase in Phase::ALL {
        for (file, items) in &parsed {
            let mut lib = String::from("libc");
            for item in items {
                if let ItemKind::Library(l) = &item.kind {
                    lib = l.clone();
                    continue;
                }
                if Phase::of(&item.kind) != phase {
                    continue;
                }
                let at = format!("{file}:{}", item.line);
                loader
                    .apply(item, &lib, &at)
                    .map_err(|e| anyhow!("{at}: {e}"))?;
            }
        }
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
    Definitions,
    Types,
    Interfaces,
    Annotations,
}

impl Phase {
    const ALL: [Phase; 4] = [
        Phase::Definitions,
        Phase::Types,
        Phase::Interfaces,
        Phase::Annotations,
    ];

    fn of(k: &ItemKind) -> Phase {
        match k {
            ItemKind::Rule { .. }
            | ItemKind::Const { .. }
            | ItemKind::Library(_)
            | ItemKind::Soname(_) => Phase::Definitions,
            ItemKind::StructDecl { .. } | ItemKind::Typedef { .. } => Phase::Types,
            ItemKind::Declare { .. } => Phase::Interfaces,
            ItemKind::Annotate { .. }
            | ItemKind::StructRules { .. }
            | ItemKind::Special { .. }
            | ItemKind::Hook { .. } => Phase::Annotations,
        }
    }
}

struct Loader<'a> {
    conn: &'a Connection,
    /// Cache of spelled type → tid.
    types: HashMap<String, i64>,
}

impl Loader<'_> {
    fn apply(&mut self, item: &Item, lib: &str, at: &str) -> Result<()> {
        let c = self.conn;
        match &item.kind {
            ItemKind::Library(_) => {}
            ItemKind::Soname(names) => {
                self.lib_id(lib)?;
                for (pos, so) in names.iter().enumerate() {
                    c.execute(
                        "INSERT INTO HostSoname(lib, pos, soname, source) VALUES(?,?,?,?)",
                        params![lib, pos as i64, so, at],
                    )
                    .map_err(|_| anyhow!("[{lib}] has two `soname` lines"))?;
                }
            }
            ItemKind::Rule {
                name,
                check,
                validator,
                signature,
                description,
            } => {
                c.execute(
                    "INSERT INTO Rule(name, check_name, validator, signature, description, source) VALUES(?,?,?,?,?,?)",
                    params![name, check, validator, signature, description, at],
                )
                .map_err(|_| anyhow!("rule `{name}` is defined twice"))?;
            }
            ItemKind::Const { name, value } => {
                let v = parse::parse_int(value)
                    .ok_or_else(|| anyhow!("`{value}` is not an integer"))?;
                c.execute(
                    "INSERT OR REPLACE INTO Constant(name, value) VALUES(?, ?)",
                    params![name, v.to_string()],
                )?;
            }
            ItemKind::Typedef { ty, name } => {
                let base = self.resolve(ty)?;
                let size: Option<i64> =
                    c.query_row("SELECT size FROM Type WHERE tid=?", [base], |r| r.get(0))?;
                self.insert_type(name, "Typedef", Some(base), size)?;
            }
            ItemKind::StructDecl {
                name,
                size,
                members,
            } => {
                let tid = self.insert_type(name, "Struct", None, Some(*size as i64))?;
                for (pos, m) in members.iter().enumerate() {
                    let mt = self.resolve(&m.ty)?;
                    let msize: Option<i64> =
                        c.query_row("SELECT size FROM Type WHERE tid=?", [mt], |r| r.get(0))?;
                    c.execute(
                        "INSERT INTO Member(tid, pos, name, type, offset, size) VALUES(?,?,?,?,?,?)",
                        params![tid, pos as i64, m.name, mt, m.offset as i64, msize],
                    )?;
                }
            }
            ItemKind::Declare { .. } => self.declare(lib, &item.kind, at)?,
            ItemKind::Annotate { name, params } => self.annotate(lib, name, params, at)?,
            ItemKind::StructRules { name, members } => self.struct_rules(name, members, at)?,
            ItemKind::Hook { name, hooks } => {
                if !self.interface_known(name)? {
                    bail!("`hook {name}`: `{name}` is not an interface of the database (declare it with `+` first)");
                }
                for h in hooks {
                    c.execute(
                        "INSERT INTO Hook(name, phase, func, args, source) VALUES(?,?,?,?,?)",
                        params![name, h.phase.as_str(), h.func, h.args.join(","), at],
                    )
                    .map_err(|_| anyhow!("`{name}` has two `{}=` hooks", h.phase.as_str()))?;
                }
            }
            ItemKind::Special { kind, name, reason } => {
                c.execute(
                    "INSERT INTO Special(name, kind, reason, source) VALUES(?,?,?,?)",
                    params![name, kind.as_str(), reason, at],
                )
                .map_err(|_| anyhow!("`{name}` is listed as hand-coded or excluded twice"))?;
                if !self.interface_known(name)? {
                    bail!(
                        "`{name}` is not an interface of the database (declare it with `+` first)"
                    );
                }
            }
        }
        Ok(())
    }

    fn interface_known(&self, name: &str) -> Result<bool> {
        Ok(self
            .conn
            .query_row("SELECT iid FROM Interface WHERE name=?", [name], |r| {
                r.get::<_, i64>(0)
            })
            .optional()?
            .is_some())
    }

    fn lib_id(&self, lib: &str) -> Result<i64> {
        self.conn
            .query_row("SELECT lid FROM Library WHERE name=?", [lib], |r| r.get(0))
            .optional()?
            .ok_or_else(|| anyhow!("library `{lib}` is not in the database"))
    }

    fn declare(&mut self, lib: &str, item: &ItemKind, at: &str) -> Result<()> {
        let ItemKind::Declare {
            ret,
            name,
            params,
            version,
            replace,
        } = item
        else {
            unreachable!("declare is only called for declarations")
        };
        let (name, replace) = (name.as_str(), *replace);
        let c = self.conn;
        let lid = self.lib_id(lib)?;
        if replace {
            let iid: i64 = c
                .query_row(
                    "SELECT iid FROM Interface WHERE name=? AND lid=? AND source='lsb'",
                    params![name, lid],
                    |r| r.get(0),
                )
                .optional()?
                .ok_or_else(|| {
                    anyhow!("`+ replace {name}`: {lib} has no LSB prototype of `{name}` to replace")
                })?;
            c.execute("DELETE FROM Parameter WHERE iid=?", [iid])?;
            c.execute("DELETE FROM Interface WHERE iid=?", [iid])?;
        }
        let existing: Option<String> = c
            .query_row(
                "SELECT source FROM Interface WHERE name=? AND lid=?",
                params![name, lid],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(src) = existing {
            bail!(
                "`{name}` is already in {lib} (from {src}); annotate it without `+`, or write \
                 `+ replace` if that prototype is wrong"
            );
        }
        let ret = self.resolve(ret)?;
        let iid: i64 = c.query_row("SELECT COALESCE(MAX(iid), 0) + 1 FROM Interface", [], |r| {
            r.get(0)
        })?;
        c.execute(
            "INSERT INTO Interface(iid, name, lid, ret, version, header, source) VALUES(?,?,?,?,?,NULL,?)",
            params![iid, name, lid, ret, version, at],
        )?;
        for (pos, p) in params.iter().enumerate() {
            let ty =
                p.ty.as_ref()
                    .ok_or_else(|| anyhow!("parameter `{}` has no type", p.name))?;
            let tid = self.resolve(ty)?;
            c.execute(
                "INSERT INTO Parameter(iid, pos, type, name, nullable) VALUES(?,?,?,?,?)",
                params![iid, pos as i64, tid, p.name, p.nullable as i64],
            )?;
        }
        self.param_rules(iid, name, params, at)
    }

    fn annotate(&mut self, lib: &str, name: &str, params: &[ParamAnn], at: &str) -> Result<()> {
        let c = self.conn;
        let lid = self.lib_id(lib)?;
        let iid: i64 = c
            .query_row("SELECT iid FROM Interface WHERE name=? AND lid=?", params![name, lid], |r| r.get(0))
            .optional()?
            .ok_or_else(|| anyhow!("`{name}` is not an interface of {lib} in the database (declare it with `+ RET {name}(…)`)"))?;
        let have: i64 = c.query_row("SELECT COUNT(*) FROM Parameter WHERE iid=?", [iid], |r| {
            r.get(0)
        })?;
        if have != params.len() as i64 {
            bail!(
                "`{name}` has {have} parameters in the database, the annotation names {}",
                params.len()
            );
        }
        let annotated: i64 = c.query_row(
            "SELECT COUNT(*) FROM Parameter WHERE iid=? AND name IS NOT NULL",
            [iid],
            |r| r.get(0),
        )?;
        if annotated > 0 {
            bail!("`{name}` is annotated twice");
        }
        for (pos, p) in params.iter().enumerate() {
            let is_var: i64 = c.query_row(
                "SELECT COUNT(*) FROM Parameter JOIN Type ON Type.tid = Parameter.type WHERE iid=? AND pos=? AND Type.name='...'",
                params![iid, pos as i64],
                |r| r.get(0),
            )?;
            if (is_var == 1) != p.vararg {
                bail!(
                    "`{name}`: parameter {pos} is {}variadic in the database",
                    if is_var == 1 { "" } else { "not " }
                );
            }
            c.execute(
                "UPDATE Parameter SET name=?, nullable=? WHERE iid=? AND pos=?",
                params![p.name, p.nullable as i64, iid, pos as i64],
            )?;
        }
        self.param_rules(iid, name, params, at)
    }

    /// Inserts ParamRule rows after checking rule names and the names their expressions use.
    fn param_rules(&self, iid: i64, iface: &str, params: &[ParamAnn], at: &str) -> Result<()> {
        let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
        for (pos, p) in params.iter().enumerate() {
            if let Some(cond) = &p.cond {
                self.check_expr(cond, &names, &format!("{iface}: `when {cond}`"))?;
            }
            for (seq, r) in p.rules.iter().enumerate() {
                self.check_rule_use(&r.name, &r.args, &names, &format!("{iface}({})", p.name))?;
                self.conn.execute(
                    "INSERT INTO ParamRule(iid, pos, seq, rule, args, cond, source) VALUES(?,?,?,?,?,?,?)",
                    params![iid, pos as i64, seq as i64, r.name, r.args, p.cond, at],
                )?;
            }
            if p.data_out {
                // Read back by model::Spec::read as the parameter's `data_out`.
                self.conn.execute(
                    "INSERT INTO ParamRule(iid, pos, seq, rule, args, cond, source) VALUES(?,?,?,'data',?,?,?)",
                    params![iid, pos as i64, p.rules.len() as i64, crate::model::DATA_OUT, p.cond, at],
                )?;
            }
        }
        Ok(())
    }

    fn struct_rules(&self, name: &str, members: &[ParamAnn], at: &str) -> Result<()> {
        let c = self.conn;
        let tid: i64 = c
            .query_row(
                "SELECT tid FROM Type WHERE name=? AND kind IN ('Struct','Union') ORDER BY tid LIMIT 1",
                [name],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| anyhow!("struct `{name}` is not in the database"))?;
        let mut stmt = c.prepare("SELECT name FROM Member WHERE tid=? ORDER BY pos")?;
        let siblings: Vec<String> = stmt
            .query_map([tid], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let names: Vec<&str> = siblings.iter().map(String::as_str).collect();
        for m in members {
            if !names.contains(&m.name.as_str()) {
                bail!(
                    "struct `{name}` has no member `{}` (members: {})",
                    m.name,
                    names.join(", ")
                );
            }
            if m.cond.is_some() || m.nullable {
                bail!(
                    "`{name}.{}`: `when` and `?` are not supported on members",
                    m.name
                );
            }
            for (seq, r) in m.rules.iter().enumerate() {
                self.check_rule_use(&r.name, &r.args, &names, &format!("{name}.{}", m.name))?;
                c.execute(
                    "INSERT INTO MemberRule(tid, member, seq, rule, args, source) VALUES(?,?,?,?,?,?)",
                    params![tid, m.name, seq as i64, r.name, r.args, at],
                )
                .map_err(|_| anyhow!("rules for `{name}.{}` are given twice", m.name))?;
            }
        }
        Ok(())
    }

    fn check_rule_use(&self, rule: &str, args: &str, names: &[&str], what: &str) -> Result<()> {
        let signature: String = self
            .conn
            .query_row("SELECT signature FROM Rule WHERE name=?", [rule], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or_else(|| {
                anyhow!("{what}: unknown rule `{rule}` (rules are defined in semantics/rules.sem)")
            })?;
        // The rule's own arguments follow the value it checks.
        let kinds: Vec<&str> = signature
            .split_whitespace()
            .skip(1)
            .filter(|k| !matches!(*k, "v" | "n"))
            .collect();
        let what = format!("{what}: `{rule}{args}`");
        let parts = crate::model::Args::written(args).map_err(|e| anyhow!("{what}: {e}"))?;
        for (i, part) in parts.into_iter().enumerate() {
            if kinds.get(i) == Some(&"t") {
                crate::plan::table_arg(part).map_err(|e| anyhow!("{what}: {e}"))?;
            } else {
                self.check_expr(part, names, &what)?;
            }
        }
        Ok(())
    }

    fn check_expr(&self, text: &str, names: &[&str], what: &str) -> Result<()> {
        let e = expr::parse(text).map_err(|e| anyhow!("{what}: {e}"))?;
        for n in e.names() {
            if names.contains(&n) || self.constant(n)?.is_some() {
                continue;
            }
            bail!(
                "{what}: no parameter or constant named `{n}` (parameters: {})",
                names.join(", ")
            );
        }
        Ok(())
    }

    fn constant(&self, name: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM Constant WHERE name=?", [name], |r| {
                r.get(0)
            })
            .optional()?)
    }

    fn insert_type(
        &mut self,
        name: &str,
        kind: &str,
        base: Option<i64>,
        size: Option<i64>,
    ) -> Result<i64> {
        let tid: i64 =
            self.conn
                .query_row("SELECT COALESCE(MAX(tid), 0) + 1 FROM Type", [], |r| {
                    r.get(0)
                })?;
        self.conn.execute(
            "INSERT INTO Type(tid, name, kind, base, size) VALUES(?,?,?,?,?)",
            params![tid, name, kind, base, size],
        )?;
        self.types.clear();
        Ok(tid)
    }

    /// The tid of a spelled C type, creating Pointer/Const rows that do not exist yet.
    fn resolve(&mut self, ty: &CType) -> Result<i64> {
        let key = format!("{ty:?}");
        if let Some(t) = self.types.get(&key) {
            return Ok(*t);
        }
        let mut tid = self.base_type(&ty.base)?;
        if ty.base_const {
            tid = self.derived(tid, "Const")?;
        }
        for &is_const in &ty.ptrs {
            tid = self.derived(tid, "Pointer")?;
            if is_const {
                tid = self.derived(tid, "Const")?;
            }
        }
        self.types.insert(key, tid);
        Ok(tid)
    }

    fn derived(&mut self, base: i64, kind: &str) -> Result<i64> {
        let found: Option<i64> = self
            .conn
            .query_row(
                "SELECT tid FROM Type WHERE kind=? AND base=? ORDER BY tid LIMIT 1",
                params![kind, base],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(t) = found {
            return Ok(t);
        }
        let (name, size) = match kind {
            "Pointer" => ("", Some(8)),
            _ => (
                "",
                self.conn
                    .query_row("SELECT size FROM Type WHERE tid=?", [base], |r| r.get(0))?,
            ),
        };
        self.insert_type(name, kind, Some(base), size)
    }

    fn base_type(&mut self, spelled: &str) -> Result<i64> {
        let (kinds, name): (&[&str], String) = if let Some(n) = spelled.strip_prefix("struct ") {
            (&["Struct"], n.to_string())
        } else if let Some(n) = spelled.strip_prefix("union ") {
            (&["Union"], n.to_string())
        } else if let Some(n) = spelled.strip_prefix("enum ") {
            (&["Enum"], n.to_string())
        } else if spelled == "fnptr" {
            return self.fnptr();
        } else {
            (
                &["Intrinsic", "Typedef"],
                intrinsic_name(spelled).to_string(),
            )
        };
        let mut found = None;
        for k in kinds {
            found = self
                .conn
                .query_row(
                    "SELECT tid FROM Type WHERE name=? AND kind=? ORDER BY tid LIMIT 1",
                    params![name, k],
                    |r| r.get(0),
                )
                .optional()?;
            if found.is_some() {
                break;
            }
        }
        found.ok_or_else(|| anyhow!("type `{spelled}` is not in the database (declare it with `+ struct` or `+ typedef`)"))
    }

    /// `fnptr`: a pointer to `void (void)`, for callbacks whose exact type LSB lacks.
    fn fnptr(&mut self) -> Result<i64> {
        let found: Option<i64> = self
            .conn
            .query_row(
                "SELECT tid FROM Type WHERE name='fnptr' AND kind='FuncPtr'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        match found {
            Some(t) => Ok(t),
            None => {
                let void = self.base_type("void")?;
                let t = self.insert_type("fnptr", "FuncPtr", Some(void), Some(8))?;
                Ok(t)
            }
        }
    }
}

/// The LSB data's name for a spelled base type.
fn intrinsic_name(spelled: &str) -> &str {
    const SPELLINGS: [(&str, &str); 12] = [
        ("unsigned", "unsigned int"),
        ("signed", "int"),
        ("signed int", "int"),
        ("long", "long int"),
        ("signed long", "long int"),
        ("unsigned long", "unsigned long int"),
        ("long long", "long long int"),
        ("unsigned long long", "unsigned long long int"),
        ("short int", "short"),
        ("unsigned short int", "unsigned short"),
        ("_Bool", "bool"),
        ("long unsigned int", "unsigned long int"),
    ];
    SPELLINGS
        .iter()
        .find(|(s, _)| *s == spelled)
        .map_or(spelled, |(_, n)| n)
}

/// Splits a rule's argument list at top-level commas.
pub fn parse_args(inner: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in inner.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(inner[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(inner[start..].trim());
    out.retain(|s| !s.is_empty());
    out
}

/// Every constant the database knows, for expression rendering.
pub fn constants(conn: &Connection) -> Result<BTreeMap<String, i64>> {
    let mut stmt = conn.prepare("SELECT name, value FROM Constant")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    let mut out = BTreeMap::new();
    for row in rows {
        let (n, v) = row?;
        if let Some(v) = parse::parse_int(&v) {
            out.insert(n, v);
        }
    }
    Ok(out)
}
