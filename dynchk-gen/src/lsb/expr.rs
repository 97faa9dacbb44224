//! C constant expressions of the dump (array bounds, constant values), evaluated for x86-64.

use super::*;

impl Dump {
    /// Value on x86-64 of a C constant expression from the dump (array bounds, constant values):
    /// integers, constants, `sizeof(TYPE)`, `+ - * / << |` and parentheses. `None` for anything
    /// else (casts, unknown names).
    pub(super) fn eval(&self, expr: &str) -> Option<i64> {
        let mut e = ConstExpr {
            dump: self,
            s: expr.as_bytes(),
            i: 0,
            depth: 0,
        };
        let v = e.or()?;
        e.skip_space();
        (e.i == e.s.len()).then_some(v)
    }
}

/// Recursive-descent evaluator behind [`Dump::eval`].
struct ConstExpr<'a> {
    dump: &'a Dump,
    s: &'a [u8],
    i: usize,
    /// Nesting of constants defined through other constants; bounded against a cyclic definition.
    depth: u32,
}

impl ConstExpr<'_> {
    fn skip_space(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn eat(&mut self, op: &str) -> bool {
        self.skip_space();
        let found = self.s[self.i..].starts_with(op.as_bytes());
        if found {
            self.i += op.len();
        }
        found
    }

    fn or(&mut self) -> Option<i64> {
        let mut v = self.shift()?;
        while self.eat("|") {
            v |= self.shift()?;
        }
        Some(v)
    }

    fn shift(&mut self) -> Option<i64> {
        let mut v = self.sum()?;
        while self.eat("<<") {
            v = v.checked_shl(u32::try_from(self.sum()?).ok()?)?;
        }
        Some(v)
    }

    fn sum(&mut self) -> Option<i64> {
        let mut v = self.product()?;
        loop {
            if self.eat("+") {
                v = v.checked_add(self.product()?)?;
            } else if self.eat("-") {
                v = v.checked_sub(self.product()?)?;
            } else {
                return Some(v);
            }
        }
    }

    fn product(&mut self) -> Option<i64> {
        let mut v = self.unary()?;
        loop {
            if self.eat("*") {
                v = v.checked_mul(self.unary()?)?;
            } else if self.eat("/") {
                v = v.checked_div(self.unary()?)?;
            } else {
                return Some(v);
            }
        }
    }

    fn unary(&mut self) -> Option<i64> {
        if self.eat("-") {
            return self.unary()?.checked_neg();
        }
        if self.eat("(") {
            let v = self.or()?;
            return self.eat(")").then_some(v);
        }
        self.skip_space();
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|&c| c.is_ascii_alphanumeric() || c == b'_')
        {
            self.i += 1;
        }
        let word = std::str::from_utf8(&self.s[start..self.i]).ok()?;
        if word.starts_with(|c: char| c.is_ascii_digit()) {
            c_integer(word)
        } else if word == "sizeof" {
            self.sizeof()
        } else {
            let value = self.dump.constants.get(word)?;
            if self.depth > 16 {
                return None;
            }
            let mut inner = ConstExpr {
                dump: self.dump,
                s: value.as_bytes(),
                i: 0,
                depth: self.depth + 1,
            };
            let v = inner.or()?;
            inner.skip_space();
            (inner.i == inner.s.len()).then_some(v)
        }
    }

    /// `sizeof (TYPE)` after the keyword: TYPE is looked up by name, x86-64 row first.
    fn sizeof(&mut self) -> Option<i64> {
        if !self.eat("(") {
            return None;
        }
        let close = self.i + self.s[self.i..].iter().position(|&c| c == b')')?;
        let name = std::str::from_utf8(&self.s[self.i..close]).ok()?.trim();
        self.i = close + 1;
        let name = ["struct ", "union ", "enum "]
            .iter()
            .find_map(|p| name.strip_prefix(p))
            .unwrap_or(name)
            .trim();
        let d = self.dump;
        let tid = ["Typedef", "Struct", "Union", "Enum", "Intrinsic", "Pointer"]
            .iter()
            .find_map(|kind| {
                let rows = d.by_name.get(&(name.to_owned(), (*kind).to_owned()))?;
                let pick = |arch| rows.iter().find(|(a, _)| *a == arch).map(|(_, id)| *id);
                pick(X86_64).or_else(|| pick(ALL)).or_else(|| pick(0))
            })?;
        d.size(tid)
    }
}
