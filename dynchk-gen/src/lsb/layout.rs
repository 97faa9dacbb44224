//! Types on x86-64: references resolved to the x86-64 rows, sizes, alignments and struct layouts.

use super::*;

impl Dump {
    /// The row to use on x86-64 for a reference to type `tid`: a named typedef, struct, union or
    /// enum is looked up by name (x86-64 row, else the all-architectures row, else the
    /// architecture-neutral Tarch 0 row), since the dump's references may point at another
    /// architecture's row.
    pub(super) fn resolve(&self, tid: i64) -> i64 {
        let Some(t) = self.types.get(&tid) else {
            return tid;
        };
        if t.arch == X86_64
            || t.name.is_empty()
            || !matches!(t.kind.as_str(), "Typedef" | "Struct" | "Union" | "Enum")
        {
            return tid;
        }
        let rows = &self.by_name[&(t.name.clone(), t.kind.clone())];
        let pick = |arch| rows.iter().find(|(a, _)| *a == arch).map(|(_, id)| *id);
        pick(X86_64)
            .or_else(|| pick(ALL))
            .or_else(|| pick(0))
            .unwrap_or(tid)
    }

    /// The name of a type without a kind (`CARD16`, `XkbDescPtr`: rows whose Ttype MySQL could
    /// not store) that `tid` reaches through its base types or members, if any. `seen` stops the
    /// walk at types already visited (self-referencing structs).
    pub(super) fn kindless(&self, tid: i64, seen: &mut BTreeSet<i64>) -> Option<String> {
        let tid = self.resolve(tid);
        if tid == 0 || !seen.insert(tid) {
            return None;
        }
        let t = self.types.get(&tid)?;
        if t.kind.is_empty() {
            return Some(format!("{:?} (Tid {tid})", t.name));
        }
        let members = self.members.get(&tid).into_iter().flatten();
        let mut reached = std::iter::once(t.base).chain(members.map(|m| m.type_));
        reached.find_map(|r| self.kindless(r, seen))
    }

    /// Whether a parameter list is the dump's spelling of `(void)`: one parameter of type void.
    pub(super) fn is_void_list(&self, mut types: impl ExactSizeIterator<Item = i64>) -> bool {
        types.len() == 1
            && types.next().is_some_and(|t| {
                self.types
                    .get(&self.resolve(t))
                    .is_some_and(|t| t.kind == "Intrinsic" && t.name == "void")
            })
    }

    /// x86-64 size of `tid` (already resolved): the dump's, else derived.
    pub(super) fn size(&self, tid: i64) -> Option<i64> {
        self.size_align(tid, 0).0
    }

    /// x86-64 size and alignment of `tid` (already resolved). The dump's size (ArchType) wins; when
    /// it has none (it lacks many x86-64 rows), the size follows from the base type or, for structs
    /// and unions, from the x86-64 C layout of the members.
    pub(super) fn size_align(&self, tid: i64, depth: u32) -> (Option<i64>, Option<i64>) {
        let dump = for_x86_64(&self.sizes, tid).filter(|&s| s > 0);
        // Chains in the dump are shallow; the bound only stops a cyclic one.
        let Some(t) = self.types.get(&tid).filter(|_| depth < 32) else {
            return (dump, None);
        };
        let base = || self.size_align(self.resolve(t.base), depth + 1);
        let (size, align) = match t.kind.as_str() {
            "Pointer" | "FuncPtr" => (Some(POINTER_SIZE), Some(POINTER_SIZE)),
            "Enum" => (Some(ENUM_SIZE), Some(ENUM_SIZE)),
            // A complex number is aligned like one of its two parts.
            "Intrinsic" => (
                dump,
                dump.map(|s| if t.name.contains("complex") { s / 2 } else { s }),
            ),
            "Typedef" | "Const" | "Volatile" => base(),
            "Array" => {
                let (s, a) = base();
                (self.eval(&t.array).zip(s).map(|(n, s)| n * s), a)
            }
            // The computed layout is more reliable than the dump for these (see `layout`).
            "Struct" | "Union" => {
                let l = self.layout(tid, t, depth);
                return (l.size.or(dump), l.align);
            }
            _ => (None, None),
        };
        (dump.or(size), align)
    }

    /// x86-64 layout of struct or union `tid`, computed with the System V C rules from the member
    /// types. The dump's own member offsets and sizes (ArchTypeMem) are missing for many x86-64
    /// structs and plainly wrong for a few (every offset 0 in `fenv_t` and `mcontext_t`), so they
    /// are only compared: differences go to `mismatches`, and are used where the layout cannot be
    /// computed (a member of unknown size).
    pub(super) fn layout(&self, tid: i64, t: &LsbType, depth: u32) -> Layout {
        let members = self.members.get(&tid).map_or(&[][..], Vec::as_slice);
        let union = t.kind == "Union";
        let mut places = Vec::new();
        let mut mismatches = Vec::new();
        // In bits because of bit-fields; `None` from the first member of unknown size or alignment.
        let mut bit = Some(0i64);
        let mut end = 0i64;
        let mut max_align = 1;
        for m in members {
            let ty = self.resolve(m.type_);
            let array_type = self.types.get(&ty).filter(|t| t.kind == "Array");
            let is_array = array_type.is_some() || !m.array.is_empty();
            let elem = array_type.map_or(ty, |a| self.resolve(a.base));
            let (elem_size, align) = self.size_align(elem, depth + 1);
            let dump = for_x86_64(&self.member_layout, m.id);
            let dump_size = dump.map(|(s, _)| s).filter(|&s| s > 0);
            // Both sources of an array length are unreliable in their own way: TMarray says `1`
            // for `__x[3]`, the broken ArchTypeMem rows give one element's size. Neither errs
            // upwards, so the larger wins.
            let array_len = is_array.then(|| {
                let from_size = dump_size
                    .zip(elem_size)
                    .filter(|&(total, e)| total % e == 0)
                    .map(|(total, e)| total / e);
                let written = self.eval(&m.array);
                from_size.max(written)
            });
            let size = match array_len {
                Some(n) => elem_size.zip(n).map(|(e, n)| e * n),
                None => elem_size,
            };
            let offset = if m.bitfield != 0 {
                // A bit-field starts a new storage unit of its type when it would straddle one.
                bit = bit.zip(elem_size).map(|(b, unit)| {
                    let unit_bits = unit * 8;
                    let start = if union || b % unit_bits + m.bitfield <= unit_bits {
                        b
                    } else {
                        align_up(b, unit_bits)
                    };
                    end = end.max(start + m.bitfield);
                    if union {
                        0
                    } else {
                        start + m.bitfield
                    }
                });
                None
            } else {
                let offset = bit
                    .zip(align)
                    .map(|(b, a)| if union { 0 } else { align_up(b, a * 8) / 8 });
                bit = offset.zip(size).map(|(o, s)| {
                    end = end.max((o + s) * 8);
                    if union {
                        0
                    } else {
                        (o + s) * 8
                    }
                });
                offset
            };
            if let (Some((d_size, d_off)), Some(off)) = (dump, offset) {
                if d_off != off || dump_size.is_some_and(|d| Some(d) != size) {
                    mismatches.push(format!(
                        "{} member {}: dump offset {d_off} size {d_size}, C layout offset {off} size {}",
                        t.name,
                        m.name,
                        size.map_or("?".to_owned(), |s| s.to_string())
                    ));
                }
            }
            max_align = max_align.max(align.unwrap_or(1));
            if align.is_none() {
                bit = None;
            }
            let (dump_off, dump_size) = (dump.map(|(_, o)| o), dump_size);
            places.push(Place {
                offset: offset.or(if m.bitfield != 0 { None } else { dump_off }),
                size: if m.bitfield != 0 {
                    None
                } else {
                    size.or(dump_size)
                },
                array_len: array_len.flatten(),
            });
        }
        let complete = bit.is_some() && !members.is_empty();
        let size = complete.then(|| align_up((end + 7) / 8, max_align));
        if let (Some(d), Some(c)) = (for_x86_64(&self.sizes, tid).filter(|&s| s > 0), size) {
            if d != c {
                mismatches.push(format!("{}: dump size {d}, C layout size {c}", t.name));
            }
        }
        Layout {
            places,
            size,
            align: complete.then_some(max_align),
            mismatches,
        }
    }

    pub(super) fn typetype(&self, ttid: i64) -> Value {
        self.typetypes
            .get(&ttid)
            .map_or(Value::Null, |(name, _)| Value::Text(name.clone()))
    }
}

/// `n` rounded up to a multiple of `align`.
fn align_up(n: i64, align: i64) -> i64 {
    (n + align - 1) / align * align
}
