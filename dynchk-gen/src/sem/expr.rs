//! C expressions in annotations: lengths (`size * nmemb`), counts and `when` conditions.

use anyhow::{anyhow, bail, Result};

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Num(i64),
    /// A parameter, a sibling member, or a constant.
    Name(String),
    /// `sizeof(TYPE)` with the type as written.
    Sizeof(String),
    Unary(&'static str, Box<Expr>),
    Binary(&'static str, Box<Expr>, Box<Expr>),
}

const BINARY: [(&str, u8); 18] = [
    ("||", 1),
    ("&&", 2),
    ("|", 3),
    ("^", 4),
    ("&", 5),
    ("==", 6),
    ("!=", 6),
    ("<", 7),
    (">", 7),
    ("<=", 7),
    (">=", 7),
    ("<<", 8),
    (">>", 8),
    ("+", 9),
    ("-", 9),
    ("*", 10),
    ("/", 10),
    ("%", 10),
];

/// Parses a C expression over names, integer literals and `sizeof(TYPE)`.
///
/// ```
/// use dynchk_gen::sem::expr::{parse, Expr};
/// let e = parse("flags & (O_CREAT|O_TMPFILE)").unwrap();
/// assert!(matches!(e, Expr::Binary("&", _, _)));
/// ```
pub fn parse(s: &str) -> Result<Expr> {
    let toks = tokens(s)?;
    let mut p = Parser { toks: &toks, at: 0 };
    let e = p.expr(0)?;
    if p.at != toks.len() {
        bail!("unexpected `{}` in `{s}`", toks[p.at]);
    }
    Ok(e)
}

impl Expr {
    /// Every name the expression uses, in order of appearance.
    pub fn names(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Name(n) = e {
                out.push(n.as_str());
            }
        });
        out
    }

    /// Every name dereferenced with `*`.
    pub fn derefs(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Unary("*", inner) = e {
                if let Expr::Name(n) = &**inner {
                    out.push(n.as_str());
                }
            }
        });
        out
    }

    /// Every `sizeof` operand.
    pub fn sizeofs(&self) -> Vec<&str> {
        let mut out = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Sizeof(t) = e {
                out.push(t.as_str());
            }
        });
        out
    }

    fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        match self {
            Expr::Unary(_, e) => e.walk(f),
            Expr::Binary(_, l, r) => {
                l.walk(f);
                r.walk(f);
            }
            _ => {}
        }
    }

    /// The value of the expression where `leaf` gives one for every name and `sizeof` in it
    /// (`None` for a parameter or member), computed as the generated code would but refusing to
    /// wrap: `Err` names the part whose constant operands wrap around 64 bits.
    pub fn fold(&self, leaf: &dyn Fn(&Expr) -> Option<i64>) -> Result<Option<i64>, String> {
        let wraps = || format!("`{self}` wraps around 64 bits");
        Ok(match self {
            Expr::Num(n) => Some(*n),
            Expr::Name(_) | Expr::Sizeof(_) => leaf(self),
            Expr::Unary("*", _) => None,
            Expr::Unary(op, e) => match (e.fold(leaf)?, *op) {
                (None, _) => None,
                (Some(v), "!") => Some((v == 0) as i64),
                (Some(v), "~") => Some(!v),
                (Some(v), _) => Some(v.checked_neg().ok_or_else(wraps)?),
            },
            Expr::Binary(op, a, b) => {
                let (Some(a), Some(b)) = (a.fold(leaf)?, b.fold(leaf)?) else {
                    return Ok(None);
                };
                let v = match *op {
                    "+" => a.checked_add(b),
                    "-" => a.checked_sub(b),
                    "*" => a.checked_mul(b),
                    "/" => Some(a.checked_div(b).unwrap_or(0)),
                    "%" => Some(a.checked_rem(b).unwrap_or(0)),
                    "<<" => u32::try_from(b)
                        .ok()
                        .and_then(|b| a.checked_shl(b))
                        .filter(|v| v >> b == a),
                    ">>" => u32::try_from(b).ok().and_then(|b| a.checked_shr(b)),
                    "&" => Some(a & b),
                    "|" => Some(a | b),
                    "^" => Some(a ^ b),
                    "&&" => Some((a != 0 && b != 0) as i64),
                    "||" => Some((a != 0 || b != 0) as i64),
                    "==" => Some((a == b) as i64),
                    "!=" => Some((a != b) as i64),
                    "<" => Some((a < b) as i64),
                    ">" => Some((a > b) as i64),
                    "<=" => Some((a <= b) as i64),
                    _ => Some((a >= b) as i64),
                };
                Some(v.ok_or_else(wraps)?)
            }
        })
    }

    /// Renders as Rust over `i64` values: `name` becomes what `name_of` returns, `sizeof(T)` what
    /// `size_of` returns; comparisons and logic yield 0/1 as C does. Arithmetic wraps, so a
    /// program's absurd lengths become a failed range check rather than a panic.
    pub fn to_rust(
        &self,
        name_of: &dyn Fn(&str) -> String,
        size_of: &dyn Fn(&str) -> String,
    ) -> String {
        let r = |e: &Expr| e.to_rust(name_of, size_of);
        match self {
            Expr::Num(n) => format!("{n}i64"),
            Expr::Name(n) => name_of(n),
            Expr::Sizeof(t) => size_of(t),
            Expr::Unary("!", e) => format!("(({} == 0) as i64)", r(e)),
            Expr::Unary("~", e) => format!("(!{})", r(e)),
            Expr::Unary("*", e) => match &**e {
                Expr::Name(n) => name_of(&format!("*{n}")),
                e => r(e),
            },
            Expr::Unary(_, e) => format!("{}.wrapping_neg()", r(e)),
            Expr::Binary(op, a, b) => {
                let (a, b) = (r(a), r(b));
                match *op {
                    "||" | "&&" => format!("((({a} != 0) {op} ({b} != 0)) as i64)"),
                    "==" | "!=" | "<" | ">" | "<=" | ">=" => format!("(({a} {op} {b}) as i64)"),
                    "+" => format!("{a}.wrapping_add({b})"),
                    "-" => format!("{a}.wrapping_sub({b})"),
                    "*" => format!("{a}.wrapping_mul({b})"),
                    "/" => format!("{a}.checked_div({b}).unwrap_or(0)"),
                    "%" => format!("{a}.checked_rem({b}).unwrap_or(0)"),
                    "<<" => format!("{a}.wrapping_shl({b} as u32)"),
                    ">>" => format!("{a}.wrapping_shr({b} as u32)"),
                    _ => format!("({a} {op} {b})"),
                }
            }
        }
    }
}

impl std::fmt::Display for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Expr::Num(n) => write!(f, "{n}"),
            Expr::Name(n) => f.write_str(n),
            Expr::Sizeof(t) => write!(f, "sizeof({t})"),
            Expr::Unary(op, e) => write!(f, "{op}{e}"),
            Expr::Binary(op, a, b) => write!(f, "({a} {op} {b})"),
        }
    }
}

struct Parser<'a> {
    toks: &'a [String],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&str> {
        self.toks.get(self.at).map(String::as_str)
    }

    fn next(&mut self) -> Result<&str> {
        let t = self
            .toks
            .get(self.at)
            .ok_or_else(|| anyhow!("expression ends too early"))?;
        self.at += 1;
        Ok(t)
    }

    fn expect(&mut self, want: &str) -> Result<()> {
        match self.next()? {
            t if t == want => Ok(()),
            t => bail!("expected `{want}`, found `{t}`"),
        }
    }

    fn expr(&mut self, min: u8) -> Result<Expr> {
        let mut lhs = self.unary()?;
        while let Some(&(op, prec)) = self
            .peek()
            .and_then(|t| BINARY.iter().find(|(o, _)| *o == t))
        {
            if prec < min {
                break;
            }
            self.at += 1;
            let rhs = self.expr(prec + 1)?;
            lhs = Expr::Binary(op, Box::new(lhs), Box::new(rhs));
        }
        Ok(lhs)
    }

    fn unary(&mut self) -> Result<Expr> {
        let t = self.next()?.to_string();
        match t.as_str() {
            "!" | "~" | "-" => {
                let op = match t.as_str() {
                    "!" => "!",
                    "~" => "~",
                    _ => "-",
                };
                Ok(Expr::Unary(op, Box::new(self.unary()?)))
            }
            // `*addrlen`: the value a pointer parameter points to (socklen_t *, size_t *).
            "*" => match self.unary()? {
                Expr::Name(n) => Ok(Expr::Unary("*", Box::new(Expr::Name(n)))),
                e => bail!("`*` applies to a parameter name, not `{e}`"),
            },
            "(" => {
                let e = self.expr(0)?;
                self.expect(")")?;
                Ok(e)
            }
            "sizeof" => {
                self.expect("(")?;
                let mut words = Vec::new();
                while let Some(w) = self.peek().filter(|w| *w != ")") {
                    words.push(w.to_string());
                    self.at += 1;
                }
                self.expect(")")?;
                if words.is_empty() {
                    bail!("sizeof() needs a type");
                }
                Ok(Expr::Sizeof(words.join(" ").replace(" *", "*")))
            }
            t if t.starts_with(|c: char| c.is_ascii_digit()) => crate::sem::parse::parse_int(t)
                .map(Expr::Num)
                .ok_or_else(|| anyhow!("`{t}` is not an integer")),
            t if t.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') => {
                Ok(Expr::Name(t.to_string()))
            }
            t => bail!("unexpected `{t}`"),
        }
    }
}

fn tokens(s: &str) -> Result<Vec<String>> {
    let mut out = Vec::new();
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i] as char;
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_alphanumeric() || c == '_' {
            let start = i;
            while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'_') {
                i += 1;
            }
            out.push(s[start..i].to_string());
        } else {
            let two = s.get(i..i + 2).unwrap_or("");
            if ["||", "&&", "==", "!=", "<=", ">=", "<<", ">>"].contains(&two) {
                out.push(two.to_string());
                i += 2;
            } else if "()|^&<>+-*/%!~".contains(c) {
                out.push(c.to_string());
                i += 1;
            } else {
                bail!("unexpected character `{c}` in `{s}`");
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(s: &str) -> String {
        parse(s).unwrap().to_string()
    }

    #[test]
    fn precedence_follows_c() {
        assert_eq!(eval("a + b * c"), "(a + (b * c))");
        assert_eq!(eval("a & b == c"), "(a & (b == c))");
        assert_eq!(
            eval("flags & (O_CREAT|O_TMPFILE)"),
            "(flags & (O_CREAT | O_TMPFILE))"
        );
        assert_eq!(eval("a - b - c"), "((a - b) - c)");
        assert_eq!(eval("!(flags & MAP_ANONYMOUS)"), "!(flags & MAP_ANONYMOUS)");
        assert_eq!(
            eval("n * sizeof(struct iovec)"),
            "(n * sizeof(struct iovec))"
        );
        assert_eq!(eval("a || b && c"), "(a || (b && c))");
        assert_eq!(eval("*addrlen"), "*addrlen");
        assert_eq!(eval("n * *len"), "(n * *len)");
    }

    #[test]
    fn names_and_rust_rendering() {
        let e = parse("size * nmemb").unwrap();
        assert_eq!(e.names(), vec!["size", "nmemb"]);
        let rust = e.to_rust(&|n| format!("({n} as i64)"), &|_| unreachable!());
        assert_eq!(rust, "(size as i64).wrapping_mul((nmemb as i64))");
        let c = parse("!(flags & 32)")
            .unwrap()
            .to_rust(&|n| n.to_string(), &|_| String::new());
        assert_eq!(c, "(((flags & 32i64) == 0) as i64)");
    }

    #[test]
    fn folding_refuses_to_wrap() {
        let fold = |s: &str| {
            parse(s).unwrap().fold(&|e| match e {
                Expr::Name(n) if n == "K" => Some(1 << 40),
                _ => None,
            })
        };
        assert_eq!(fold("K * 4 + 1"), Ok(Some((1 << 42) + 1)));
        assert_eq!(
            fold("n * (K * K)"),
            Err("`(K * K)` wraps around 64 bits".into())
        );
        assert_eq!(
            fold("1 << 64"),
            Err("`(1 << 64)` wraps around 64 bits".into())
        );
        assert_eq!(
            fold("3 << 62"),
            Err("`(3 << 62)` wraps around 64 bits".into())
        );
        assert_eq!(fold("n * 8"), Ok(None));
    }

    #[test]
    fn errors() {
        assert!(parse("a +").is_err());
        assert!(parse("a b").is_err());
        assert!(parse("a $ b").is_err());
        assert!(parse("sizeof()").is_err());
    }
}
