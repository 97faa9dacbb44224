//! Choosing what the import writes: the libraries' interfaces and parameters, the types they
//! reach, their members, the semantic types and the constants.

use super::*;

impl Dump {
    pub(super) fn select(
        &self,
        libs: &[&str],
        out: &mut Output,
        stats: &mut ImportStats,
    ) -> anyhow::Result<()> {
        let mut pending = Vec::new();
        for &name in libs {
            let (lid, soname) = match self.libraries.get(name).map(Vec::as_slice) {
                Some([one]) => one.clone(),
                Some(_) => bail!("library {name} appears more than once in the dump"),
                None => bail!("library {name} is not in the dump"),
            };
            out.library.insert(
                lid,
                vec![
                    Value::Int(lid),
                    Value::Text(name.to_owned()),
                    Value::Text(soname),
                ],
            );
            let mut count = 0;
            for &iid in self.lib_functions.get(&lid).into_iter().flatten() {
                let i = &self.interfaces[&iid];
                if !self.types.contains_key(&i.ret) {
                    stats.skipped.push(format!(
                        "{} ({name}): return type {} is not in the dump",
                        i.name, i.ret
                    ));
                    continue;
                }
                let params = self.params.get(&iid).map_or(&[][..], Vec::as_slice);
                let reached = std::iter::once(i.ret).chain(params.iter().map(|p| p.type_));
                if let Some(t) = reached
                    .into_iter()
                    .find_map(|t| self.kindless(t, &mut BTreeSet::new()))
                {
                    stats.skipped.push(format!(
                        "{} ({name}): type {t} has no kind in the dump (its Ttype is not one of the enum's values)",
                        i.name
                    ));
                    continue;
                }
                count += 1;
                let ret = self.resolve(i.ret);
                pending.push(ret);
                let version = for_x86_64(&self.versions, iid);
                out.interface.insert(
                    iid,
                    vec![
                        Value::Int(iid),
                        Value::Text(i.name.clone()),
                        Value::Int(lid),
                        Value::Int(ret),
                        version.map_or(Value::Null, Value::Text),
                        opt_text(&i.header),
                        Value::Text("lsb".to_owned()),
                    ],
                );
                let params = if self.is_void_list(params.iter().map(|p| p.type_)) {
                    &[]
                } else {
                    params
                };
                for (pos, p) in params.iter().enumerate() {
                    let ty = self.resolve(p.type_);
                    pending.push(ty);
                    out.parameter.insert(
                        (iid, pos as i64),
                        vec![
                            Value::Int(iid),
                            Value::Int(pos as i64),
                            Value::Int(ty),
                            Value::Null,
                            self.typetype(p.typetype),
                            Value::Int(i64::from(p.nullable)),
                        ],
                    );
                }
            }
            stats.functions.insert(name.to_owned(), count);
        }
        stats.skipped.sort();

        while let Some(tid) = pending.pop() {
            if tid == 0 || out.types.contains_key(&tid) {
                continue;
            }
            let Some(t) = self.types.get(&tid) else {
                bail!("type {tid} is referenced but not in the dump")
            };
            // Tarch 0 rows are the architecture-neutral derived types (pointers, const, arrays).
            if ![X86_64, ALL, 0].contains(&t.arch)
                && matches!(t.kind.as_str(), "Typedef" | "Struct" | "Union" | "Enum")
            {
                stats.foreign.push(format!(
                    "{} {:?} (Tid {tid}, Tarch {})",
                    t.kind, t.name, t.arch
                ));
            }
            let base = if t.base == 0 {
                None
            } else {
                Some(self.resolve(t.base))
            };
            pending.extend(base);
            out.types.insert(
                tid,
                vec![
                    Value::Int(tid),
                    Value::Text(t.name.clone()),
                    Value::Text(t.kind.clone()),
                    opt_int(base),
                    opt_int(self.eval(&t.array)),
                    opt_int(self.size(tid)),
                    opt_text(&t.header),
                ],
            );
            let places = if matches!(t.kind.as_str(), "Struct" | "Union") {
                let layout = self.layout(tid, t, 0);
                stats.layout_mismatches.extend(layout.mismatches);
                layout.places
            } else {
                Vec::new()
            };
            // Only these kinds have members (the dump also hangs two stray ones on typedef fpos_t);
            // a FuncPtr's `(void)` is no parameter.
            let members = match t.kind.as_str() {
                "Struct" | "Union" | "Enum" => self.members.get(&tid),
                "FuncPtr" => self
                    .members
                    .get(&tid)
                    .filter(|ms| !self.is_void_list(ms.iter().map(|m| m.type_))),
                _ => None,
            };
            for (pos, m) in members.into_iter().flatten().enumerate() {
                let row = self.member_row(tid, t, pos, m, &places);
                if let Value::Int(ty) = row[3] {
                    pending.push(ty);
                }
                out.member.insert((tid, pos as i64), row);
            }
        }
        stats.foreign.sort();
        stats.fixes = self.fixes.clone();
        stats.layout_mismatches.sort();

        for (name, desc) in self.typetypes.values() {
            out.semantic.insert(
                name.clone(),
                vec![Value::Text(name.clone()), opt_text(desc)],
            );
        }
        for (name, value) in &self.constants {
            out.constant.insert(
                name.clone(),
                vec![Value::Text(name.clone()), Value::Text(value.clone())],
            );
        }
        Ok(())
    }

    /// The Member row of `m`, member number `pos` of type `tid`; `places` is the layout of a
    /// struct or union.
    pub(super) fn member_row(
        &self,
        tid: i64,
        t: &LsbType,
        pos: usize,
        m: &LsbMember,
        places: &[Place],
    ) -> Vec<Value> {
        let semantic = self.typetype(m.typetype);
        let row = |name: &str, ty: Option<i64>, layout: [Option<i64>; 5]| {
            let mut r = vec![
                Value::Int(tid),
                Value::Int(pos as i64),
                Value::Text(name.to_owned()),
                opt_int(ty),
            ];
            r.extend(layout.map(opt_int));
            r.push(semantic.clone());
            r
        };
        match t.kind.as_str() {
            // The dump has no enumerator values; the constants table has most of them.
            "Enum" => row(&m.name, None, [None, None, None, None, self.eval(&m.name)]),
            "FuncPtr" => row("", Some(self.resolve(m.type_)), [None; 5]),
            _ => {
                let p = places[pos];
                let bitfield = Some(m.bitfield).filter(|&b| b != 0);
                row(
                    &m.name,
                    Some(self.resolve(m.type_)),
                    [p.offset, p.size, bitfield, p.array_len, None],
                )
            }
        }
    }
}
