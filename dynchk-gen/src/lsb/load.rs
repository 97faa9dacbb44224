//! Reading the dump: the tables the import needs, indexed, with the ABI fixes applied.

use super::*;

/// Typedefs the dump gets wrong for the host's x86-64 libraries: (name, the kind and name of the
/// type it really aliases, why). The fix makes every use consistent (sizes, struct layouts) and
/// is listed in the stats.
const ABI_FIXES: [(&str, &str, &str, &str); 4] = [
    (
        "timer_t",
        "Pointer",
        "void *",
        "glibc's x86-64 timer_t is void * (8 bytes); LSB 3.1 says int (4 bytes)",
    ),
    (
        "chtype",
        "Intrinsic",
        "unsigned int",
        "ncurses 6's chtype (and attr_t, which aliases it) is unsigned int (4 bytes); LSB 3.1 \
         describes ncurses 5's unsigned long (8 bytes)",
    ),
    (
        "png_uint_32",
        "Intrinsic",
        "unsigned int",
        "libpng 1.6's png_uint_32 is unsigned int (4 bytes); LSB 3.1 describes libpng 1.2's \
         unsigned long (8 bytes)",
    ),
    (
        "png_int_32",
        "Intrinsic",
        "int",
        "libpng 1.6's png_int_32 is int (4 bytes); LSB 3.1 describes libpng 1.2's long (8 bytes)",
    ),
];

/// Header names by Hid, and by HGid (the header of each header group, which types refer to).
fn load_headers(dir: &Path) -> anyhow::Result<(HashMap<i64, String>, HashMap<i64, String>)> {
    let t = |name| Table::load(dir, name);
    let header = t("Header")?;
    let (hid, hname) = (header.col("Hid")?, header.col("Hname")?);
    let headers: HashMap<i64, String> = header
        .rows
        .iter()
        .map(|r| (int(&r[hid]), text(&r[hname])))
        .collect();
    let hg = t("HeaderGroup")?;
    let (hgid, hgheader) = (hg.col("HGid")?, hg.col("HGheader")?);
    let group_header: HashMap<i64, String> = hg
        .rows
        .iter()
        .filter_map(|r| Some((int(&r[hgid]), headers.get(&int(&r[hgheader]))?.clone())))
        .collect();

    Ok((headers, group_header))
}

impl Dump {
    /// Reads and indexes the tables of the dump in `dir` that the import needs.
    pub(super) fn load(dir: &Path) -> anyhow::Result<Dump> {
        let mut d = Dump::default();
        let (headers, group_headers) = load_headers(dir)?;
        d.load_interfaces(dir, &headers)?;
        d.load_types(dir, &group_headers)?;
        d.load_constants(dir)?;
        d.apply_abi_fixes()?;
        Ok(d)
    }

    /// Libraries, the included x86-64 functions of each with their parameters, symbol versions.
    pub(super) fn load_interfaces(
        &mut self,
        dir: &Path,
        headers: &HashMap<i64, String>,
    ) -> anyhow::Result<()> {
        let t = |name| Table::load(dir, name);

        let lib = t("Library")?;
        let (lid, lname, lrun) = (lib.col("Lid")?, lib.col("Lname")?, lib.col("Lrunname")?);
        for r in &lib.rows {
            self.libraries
                .entry(text(&r[lname]))
                .or_default()
                .push((int(&r[lid]), text(&r[lrun])));
        }

        let iface = t("Interface")?;
        let c = |n| iface.col(n);
        let (iid, iname, istatus, itype, iarch, iheader, iret) = (
            c("Iid")?,
            c("Iname")?,
            c("Istatus")?,
            c("Itype")?,
            c("Iarch")?,
            c("Iheader")?,
            c("Ireturn")?,
        );
        for r in &iface.rows {
            let arch = int(&r[iarch]);
            if text(&r[itype]) == "Function"
                && text(&r[istatus]) == "Included"
                && (arch == ALL || arch == X86_64)
            {
                let header = headers.get(&int(&r[iheader])).cloned().unwrap_or_default();
                self.interfaces.insert(
                    int(&r[iid]),
                    LsbInterface {
                        name: text(&r[iname]),
                        ret: int(&r[iret]),
                        header,
                    },
                );
            }
        }

        let lg = t("LibGroup")?;
        let (lgid, lglib) = (lg.col("LGid")?, lg.col("LGlib")?);
        let group_lib: HashMap<i64, i64> = lg
            .rows
            .iter()
            .map(|r| (int(&r[lgid]), int(&r[lglib])))
            .collect();
        let lgi = t("LGInt")?;
        let (lgiint, lgilibg) = (lgi.col("LGIint")?, lgi.col("LGIlibg")?);
        for r in &lgi.rows {
            let i = int(&r[lgiint]);
            if let (true, Some(&l)) = (
                self.interfaces.contains_key(&i),
                group_lib.get(&int(&r[lgilibg])),
            ) {
                self.lib_functions.entry(l).or_default().insert(i);
            }
        }

        let par = t("Parameter")?;
        let c = |n| par.col(n);
        let (pint, ppos, ptype, pttid, pnull) = (
            c("Pint")?,
            c("Ppos")?,
            c("Ptype")?,
            c("Pttid")?,
            c("Pnull")?,
        );
        let mut params: HashMap<i64, Vec<(i64, LsbParam)>> = HashMap::new();
        for r in &par.rows {
            let p = LsbParam {
                type_: int(&r[ptype]),
                typetype: int(&r[pttid]),
                nullable: text(&r[pnull]) == "Y",
            };
            params
                .entry(int(&r[pint]))
                .or_default()
                .push((int(&r[ppos]), p));
        }
        for (i, mut ps) in params {
            ps.sort_by_key(|(pos, _)| *pos);
            self.params
                .insert(i, ps.into_iter().map(|(_, p)| p).collect());
        }

        let ver = t("Version")?;
        let (vid, vname) = (ver.col("Vid")?, ver.col("Vname")?);
        let vnames: HashMap<i64, String> = ver
            .rows
            .iter()
            .map(|r| (int(&r[vid]), text(&r[vname])))
            .collect();
        let ai = t("ArchInt")?;
        let (aiarch, aiint, aiver) = (ai.col("AIarch")?, ai.col("AIint")?, ai.col("AIversion")?);
        self.versions = ai
            .rows
            .iter()
            .filter_map(|r| {
                Some((
                    (int(&r[aiarch]), int(&r[aiint])),
                    vnames.get(&int(&r[aiver]))?.clone(),
                ))
            })
            .collect();

        Ok(())
    }

    /// Types, their x86-64 sizes, members and member layouts, and the semantic types.
    pub(super) fn load_types(
        &mut self,
        dir: &Path,
        group_headers: &HashMap<i64, String>,
    ) -> anyhow::Result<()> {
        let t = |name| Table::load(dir, name);
        let ty = t("Type")?;
        let c = |n| ty.col(n);
        let (tid, tname, ttype, tbase, tarray, tarch, thg) = (
            c("Tid")?,
            c("Tname")?,
            c("Ttype")?,
            c("Tbasetype")?,
            c("Tarray")?,
            c("Tarch")?,
            c("Theadergroup")?,
        );
        for r in &ty.rows {
            let t = LsbType {
                name: text(&r[tname]),
                kind: text(&r[ttype]),
                base: int(&r[tbase]),
                array: text(&r[tarray]),
                arch: int(&r[tarch]),
                header: group_headers
                    .get(&int(&r[thg]))
                    .cloned()
                    .unwrap_or_default(),
            };
            self.by_name
                .entry((t.name.clone(), t.kind.clone()))
                .or_default()
                .push((t.arch, int(&r[tid])));
            self.types.insert(int(&r[tid]), t);
        }

        let at = t("ArchType")?;
        let (ataid, attid, atsize) = (at.col("ATaid")?, at.col("ATtid")?, at.col("ATsize")?);
        self.sizes = at
            .rows
            .iter()
            .map(|r| ((int(&r[ataid]), int(&r[attid])), int(&r[atsize])))
            .collect();

        let tm = t("TypeMember")?;
        let c = |n| tm.col(n);
        let (tmid, tmname, tmtype, tmpos, tmof, tmarray, tmbit, tmtt) = (
            c("TMid")?,
            c("TMname")?,
            c("TMtypeid")?,
            c("TMposition")?,
            c("TMmemberof")?,
            c("TMarray")?,
            c("TMbitfield")?,
            c("TMtypetype")?,
        );
        let mut members: HashMap<i64, Vec<(i64, LsbMember)>> = HashMap::new();
        for r in &tm.rows {
            let m = LsbMember {
                id: int(&r[tmid]),
                name: text(&r[tmname]),
                type_: int(&r[tmtype]),
                array: text(&r[tmarray]),
                bitfield: int(&r[tmbit]),
                typetype: int(&r[tmtt]),
            };
            members
                .entry(int(&r[tmof]))
                .or_default()
                .push((int(&r[tmpos]), m));
        }
        for (of, mut ms) in members {
            // Positions are 0- or 1-based and repeat for aliased enumerators: the order is what
            // counts, with the member id breaking ties.
            ms.sort_by_key(|(pos, m)| (*pos, m.id));
            self.members
                .insert(of, ms.into_iter().map(|(_, m)| m).collect());
        }

        let atm = t("ArchTypeMem")?;
        let c = |n| atm.col(n);
        let (aaid, atmid, asize, aoff) =
            (c("ATMaid")?, c("ATMtmid")?, c("ATMsize")?, c("ATMoffset")?);
        self.member_layout = atm
            .rows
            .iter()
            .map(|r| {
                (
                    (int(&r[aaid]), int(&r[atmid])),
                    (int(&r[asize]), int(&r[aoff])),
                )
            })
            .collect();

        let tt = t("TypeType")?;
        let (ttid, ttname, ttdesc) = (tt.col("TTid")?, tt.col("TTname")?, tt.col("TTdesc")?);
        self.typetypes = tt
            .rows
            .iter()
            .map(|r| (int(&r[ttid]), (text(&r[ttname]), text(&r[ttdesc]))))
            .collect();

        Ok(())
    }

    /// Constants with a value for x86-64.
    pub(super) fn load_constants(&mut self, dir: &Path) -> anyhow::Result<()> {
        let t = |name| Table::load(dir, name);
        let con = t("Constant")?;
        let (cid, cname) = (con.col("Cid")?, con.col("Cname")?);
        let ac = t("ArchConst")?;
        let (acaid, accid, acvalue) = (ac.col("ACaid")?, ac.col("ACcid")?, ac.col("ACvalue")?);
        let values: HashMap<(i64, i64), String> = ac
            .rows
            .iter()
            .map(|r| ((int(&r[acaid]), int(&r[accid])), text(&r[acvalue])))
            .collect();
        self.constants = con
            .rows
            .iter()
            .filter(|r| !text(&r[cname]).is_empty())
            .filter_map(|r| Some((text(&r[cname]), for_x86_64(&values, int(&r[cid]))?)))
            .collect();
        Ok(())
    }

    /// Applies [`ABI_FIXES`] to the type rows, before any size or layout is derived from them.
    pub(super) fn apply_abi_fixes(&mut self) -> anyhow::Result<()> {
        for (name, base_kind, base, why) in ABI_FIXES {
            let find = |name: &str, kind: &str| {
                let rows = self.by_name.get(&(name.to_owned(), kind.to_owned()))?;
                rows.iter()
                    .find(|(a, _)| *a == ALL || *a == X86_64)
                    .map(|(_, id)| *id)
            };
            let (Some(tid), Some(base_tid)) = (find(name, "Typedef"), find(base, base_kind)) else {
                bail!("ABI fix for {name}: no x86-64 typedef {name} or {base_kind} type {base} in the dump");
            };
            self.types.get_mut(&tid).expect("found by name").base = base_tid;
            self.sizes.remove(&(X86_64, tid));
            self.sizes.remove(&(ALL, tid));
            self.fixes.push(format!(
                "{name} (Tid {tid}) now aliases {base} (Tid {base_tid}): {why}"
            ));
        }
        Ok(())
    }
}
