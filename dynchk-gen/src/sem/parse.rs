//! The annotation DSL as text → [`Item`]s. Knows nothing of the database.

use anyhow::{anyhow, bail, Result};

/// One parsed line (after joining `\` continuations), with the line it started on.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub line: usize,
    pub kind: ItemKind,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ItemKind {
    /// `[libc]`
    Library(String),
    /// `soname libncursesw.so.6 libtinfo.so.6`: the host's files that stand for the section's
    /// library (LSB's `libncurses.so.5`), searched in this order.
    Soname(Vec<String>),
    /// `header security/pam_ext.h`: the header declaring the section's `+` declarations that
    /// follow it (`Interface.header`, which the ABI test compiles), until the next `header` line.
    Header(String),
    /// `read(fd: fd.open, buf: out(count), count)` on an interface the LSB data has.
    Annotate { name: String, params: Vec<ParamAnn> },
    /// `+ int pipe2(int *fds: out(8), int flags) @GLIBC_2.9`; with `+ replace`, the
    /// prototype replaces a wrong one in the LSB data (readlink returns ssize_t, not int).
    Declare {
        ret: CType,
        name: String,
        params: Vec<ParamAnn>,
        version: Option<String>,
        replace: bool,
    },
    /// `+ struct statx 256` or with `{ TYPE member @OFFSET; … }`; `+ struct _GVariant` without
    /// a size is an incomplete type, only ever reached through pointers.
    StructDecl {
        name: String,
        size: Option<u64>,
        members: Vec<MemberDecl>,
    },
    /// `+ typedef TYPE NAME`
    Typedef { ty: CType, name: String },
    /// `struct timespec { tv_nsec: range(0, 999999999) }`
    StructRules {
        name: String,
        members: Vec<ParamAnn>,
    },
    /// `hand NAME "reason"` / `exclude NAME "reason"`
    Special {
        kind: SpecialKind,
        name: String,
        reason: String,
    },
    /// `hook NAME after=maps_changed`, `hook fopen after=track_stream(ret)`: a runtime function
    /// (`rt::hooks::FUNC`) the generated interposer calls before or after the real one, with the
    /// named parameters (`ret`: the result).
    Hook { name: String, hooks: Vec<HookUse> },
    /// `every Display *display: handle(Display)`: the rules (and name, nullability) of every
    /// parameter of that type in the section's library that no annotation gave a rule.
    Every(ParamAnn),
    /// `const NAME VALUE`
    Const { name: String, value: String },
    /// `rule NAME CHECK VALIDATOR SIGNATURE "description"`
    Rule {
        name: String,
        check: String,
        validator: String,
        signature: String,
        description: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecialKind {
    Hand,
    Exclude,
    /// Generated, but always through the assembly trampoline: the original must see the
    /// application's return address (dlopen and dlsym resolve relative to their caller).
    Trampoline,
}

impl SpecialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SpecialKind::Hand => "hand",
            SpecialKind::Exclude => "exclude",
            SpecialKind::Trampoline => "trampoline",
        }
    }

    pub fn parse(s: &str) -> Option<SpecialKind> {
        [
            SpecialKind::Hand,
            SpecialKind::Exclude,
            SpecialKind::Trampoline,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// When a hook runs relative to the real call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum HookPhase {
    /// After the checks, before the real call (outside the forwarded call).
    Before,
    /// Right after the real call returns (inside the forwarded call: it must keep `errno`).
    After,
}

impl HookPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            HookPhase::Before => "before",
            HookPhase::After => "after",
        }
    }

    pub fn parse(s: &str) -> Option<HookPhase> {
        match s {
            "before" => Some(HookPhase::Before),
            "after" => Some(HookPhase::After),
            _ => None,
        }
    }
}

/// `after=track_stream(ret)`
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HookUse {
    pub phase: HookPhase,
    pub func: String,
    /// Parameter names, `ret` (the result) or `pre` (what the `before` hook returned); the last
    /// two in `after` hooks only.
    pub args: Vec<String>,
}

/// A C type as spelled in a declaration: base words, then pointer levels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CType {
    /// `int`, `unsigned long`, `struct stat`, `size_t`, `fnptr`, `...`
    pub base: String,
    pub base_const: bool,
    /// One entry per `*`; `true` when that pointer is itself `const` (`char *const`).
    pub ptrs: Vec<bool>,
}

/// A parameter (or struct member) with its annotations.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ParamAnn {
    pub name: String,
    /// The C type, for declarations only.
    pub ty: Option<CType>,
    pub nullable: bool,
    /// `name?portability`: NULL is accepted by glibc and Linux, not by POSIX: the rules skip it
    /// and the rule `?portability` reports it with that severity (`nullable` is set too).
    pub null_portability: bool,
    pub rules: Vec<RuleUse>,
    /// `data=out`: the struct's `data(LEN)` members are written by the call.
    pub data_out: bool,
    /// `when EXPR`
    pub cond: Option<String>,
    /// Stands for the variable arguments (`...`, or `... NAME: rules`).
    pub vararg: bool,
}

/// `out(count)` → name `out`, args `(count)`; `in[n]` → args `[n]`; `fd.open` → args empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleUse {
    pub name: String,
    pub args: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MemberDecl {
    pub ty: CType,
    pub name: String,
    pub offset: u64,
}

/// Parses a whole `.sem` file. The error names the line.
pub fn parse(text: &str) -> Result<Vec<Item>> {
    let mut items = Vec::new();
    for (line, logical) in logical_lines(text) {
        let kind = parse_item(&logical).map_err(|e| anyhow!("line {line}: {e}"))?;
        if let Some(kind) = kind {
            items.push(Item { line, kind });
        }
    }
    Ok(items)
}

/// Joins `\` continuations and drops comments; yields (first line number, text).
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut acc = String::new();
    let mut start = 0;
    for (i, raw) in text.lines().enumerate() {
        let code = strip_comment(raw);
        if acc.is_empty() {
            start = i + 1;
        }
        let trimmed = code.trim_end();
        if let Some(body) = trimmed.strip_suffix('\\') {
            acc.push_str(body);
            acc.push(' ');
            continue;
        }
        acc.push_str(trimmed);
        if !acc.trim().is_empty() {
            out.push((start, acc.trim().to_string()));
        }
        acc.clear();
    }
    if !acc.trim().is_empty() {
        out.push((start, acc.trim().to_string()));
    }
    out
}

fn strip_comment(line: &str) -> &str {
    let mut in_quote = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_quote = !in_quote,
            '#' if !in_quote => return &line[..i],
            _ => {}
        }
    }
    line
}

fn parse_item(s: &str) -> Result<Option<ItemKind>> {
    if let Some(lib) = s.strip_prefix('[') {
        let lib = lib
            .strip_suffix(']')
            .ok_or_else(|| anyhow!("`[` without `]`"))?
            .trim();
        // LSB's library names go beyond identifiers: libglib-2.0, libstdc++.
        let lib_char = |c: char| c.is_ascii_alphanumeric() || "_-.+".contains(c);
        if lib.is_empty() || !lib.chars().all(lib_char) {
            bail!("`[{lib}]` is not a library name");
        }
        return Ok(Some(ItemKind::Library(lib.to_string())));
    }
    if let Some(rest) = s.strip_prefix('+') {
        return parse_declaration(rest.trim()).map(Some);
    }
    let (word, rest) = split_word(s);
    match word {
        "hand" | "exclude" | "trampoline" => {
            let (name, reason) = split_word(rest);
            let kind = match word {
                "hand" => SpecialKind::Hand,
                "exclude" => SpecialKind::Exclude,
                _ => SpecialKind::Trampoline,
            };
            Ok(Some(ItemKind::Special {
                kind,
                name: ident(name)?,
                reason: quoted(reason)?,
            }))
        }
        "hook" => parse_hook(rest).map(Some),
        "every" => {
            let p = parse_param(rest, true)?;
            if p.rules.is_empty() || p.vararg || p.cond.is_some() || p.data_out {
                bail!("`every TYPE name: RULES` gives a type's parameters rules (no `...`, `when` or `data=`)");
            }
            Ok(Some(ItemKind::Every(p)))
        }
        "soname" => {
            let names: Vec<String> = rest.split_whitespace().map(str::to_string).collect();
            if names.is_empty() || names.iter().any(|n| !n.contains(".so")) {
                bail!("`soname` is followed by the host's library files (`soname libpng16.so.16`)");
            }
            Ok(Some(ItemKind::Soname(names)))
        }
        "header" => {
            if rest.is_empty() || rest.contains(char::is_whitespace) || !rest.ends_with(".h") {
                bail!("`header` is followed by one header file (`header security/pam_ext.h`)");
            }
            Ok(Some(ItemKind::Header(rest.to_string())))
        }
        "const" => {
            let (name, value) = split_word(rest);
            if value.is_empty() {
                bail!("`const {name}` needs a value");
            }
            Ok(Some(ItemKind::Const {
                name: ident(name)?,
                value: value.to_string(),
            }))
        }
        "rule" => parse_rule(rest).map(Some),
        "struct" if !rest.contains('(') || rest.contains('{') => {
            let (name, body) = split_word(rest);
            let body = braces(body)?;
            let members = split_top(body, ',')
                .iter()
                .map(|m| parse_param(m, false))
                .collect::<Result<Vec<_>>>()?;
            Ok(Some(ItemKind::StructRules {
                name: ident(name)?,
                members,
            }))
        }
        _ => {
            let open = s
                .find('(')
                .ok_or_else(|| anyhow!("expected `NAME(params…)`, found `{s}`"))?;
            let name = ident(s[..open].trim())?;
            let inner = parens(&s[open..])?;
            let params = split_top(inner, ',')
                .iter()
                .map(|p| parse_param(p, false))
                .collect::<Result<Vec<_>>>()?;
            Ok(Some(ItemKind::Annotate { name, params }))
        }
    }
}

/// `NAME PHASE=FUNC[(ARG, …)] …`
fn parse_hook(rest: &str) -> Result<ItemKind> {
    let (name, mut rest) = split_word(rest);
    let name = ident(name)?;
    let mut hooks = Vec::new();
    while !rest.is_empty() {
        let (phase, after) = rest.split_once('=').ok_or_else(|| {
            anyhow!("`hook {name}`: expected `before=FUNC` or `after=FUNC`, found `{rest}`")
        })?;
        let phase = HookPhase::parse(phase.trim()).ok_or_else(|| {
            anyhow!(
                "`hook {name}`: `{}` is not a phase (write `before=` or `after=`)",
                phase.trim()
            )
        })?;
        let after = after.trim_start();
        let end = after
            .find(|c: char| c.is_whitespace() || c == '(')
            .unwrap_or(after.len());
        let func = ident(&after[..end])?;
        let mut tail = &after[end..];
        let mut args = Vec::new();
        if tail.starts_with('(') {
            let close = matching(tail, 0)?;
            for a in split_top(&tail[1..close], ',') {
                let a = ident(a.trim())?;
                if (a == "ret" || a == "pre") && phase == HookPhase::Before {
                    bail!("`hook {name}`: `{a}` is only known after the call");
                }
                args.push(a);
            }
            tail = &tail[close + 1..];
        }
        if hooks.iter().any(|h: &HookUse| h.phase == phase) {
            bail!("`hook {name}`: two `{}=` hooks", phase.as_str());
        }
        hooks.push(HookUse { phase, func, args });
        rest = tail.trim_start();
    }
    if hooks.is_empty() {
        bail!("`hook {name}` names no hook: add `before=FUNC` or `after=FUNC`");
    }
    let passes_pre = hooks.iter().any(|h| h.args.iter().any(|a| a == "pre"));
    if passes_pre && !hooks.iter().any(|h| h.phase == HookPhase::Before) {
        bail!("`hook {name}`: `pre` is what the `before=` hook returns; add one");
    }
    Ok(ItemKind::Hook { name, hooks })
}

fn parse_rule(rest: &str) -> Result<ItemKind> {
    let (name, rest) = split_word(rest);
    let (check, rest) = if let Some(q) = rest.strip_prefix('"') {
        let end = q
            .find('"')
            .ok_or_else(|| anyhow!("unterminated check name"))?;
        (q[..end].to_string(), q[end + 1..].trim_start())
    } else {
        let (c, r) = split_word(rest);
        (c.to_string(), r)
    };
    let (validator, rest) = split_word(rest);
    let quote = rest
        .find('"')
        .ok_or_else(|| anyhow!("rule `{name}` needs a quoted description"))?;
    let signature: Vec<&str> = rest[..quote].split_whitespace().collect();
    if signature.is_empty()
        || signature
            .iter()
            .any(|k| crate::model::ArgKind::parse(k).is_none())
    {
        bail!("rule `{name}`: the signature must be a list of i, u, p, t, k, v, a, n");
    }
    if !validator.split('|').all(|v| v.contains("::")) {
        bail!("rule `{name}`: `{validator}` is not a module::function path (or READ|WRITE, two of them)");
    }
    Ok(ItemKind::Rule {
        name: name.to_string(),
        check,
        validator: validator.to_string(),
        signature: signature.join(" "),
        description: quoted(&rest[quote..])?,
    })
}

fn parse_declaration(s: &str) -> Result<ItemKind> {
    if let Some(rest) = s.strip_prefix("replace ") {
        return match parse_declaration(rest)? {
            ItemKind::Declare {
                ret,
                name,
                params,
                version,
                ..
            } => Ok(ItemKind::Declare {
                ret,
                name,
                params,
                version,
                replace: true,
            }),
            _ => bail!("`+ replace` is followed by a function prototype"),
        };
    }
    let (word, rest) = split_word(s);
    if word == "typedef" {
        let toks = c_tokens(rest);
        let (name, ty) = toks
            .split_last()
            .ok_or_else(|| anyhow!("typedef needs a type and a name"))?;
        return Ok(ItemKind::Typedef {
            ty: ctype(ty)?,
            name: ident(name)?,
        });
    }
    if word == "struct" && !s.contains('(') {
        let (name, rest) = split_word(rest);
        let (size, body) = split_word(rest);
        let size = match size {
            "" => None,
            s => Some(
                parse_int(s).ok_or_else(|| anyhow!("`+ struct {name}`: `{s}` is not a size"))?
                    as u64,
            ),
        };
        let mut members = Vec::new();
        if !body.is_empty() {
            if size.is_none() {
                bail!("`+ struct {name}` with members needs a size in bytes");
            }
            for m in split_top(braces(body)?, ';') {
                let (decl, off) = m
                    .split_once('@')
                    .ok_or_else(|| anyhow!("member `{m}` needs `@OFFSET`"))?;
                let toks = c_tokens(decl);
                let (mname, ty) = toks.split_last().ok_or_else(|| anyhow!("empty member"))?;
                let offset = parse_int(off.trim()).ok_or_else(|| anyhow!("bad offset in `{m}`"))?;
                members.push(MemberDecl {
                    ty: ctype(ty)?,
                    name: ident(mname)?,
                    offset: offset as u64,
                });
            }
        }
        return Ok(ItemKind::StructDecl {
            name: ident(name)?,
            size,
            members,
        });
    }
    let open = s
        .find('(')
        .ok_or_else(|| anyhow!("expected `+ RET NAME(params…)`"))?;
    let close = matching(s, open)?;
    let head = c_tokens(&s[..open]);
    let (name, ret) = head
        .split_last()
        .ok_or_else(|| anyhow!("declaration without a name"))?;
    let tail = s[close + 1..].trim();
    let version = match tail {
        "" => None,
        t => Some(
            t.strip_prefix('@')
                .filter(|v| !v.is_empty() && !v.contains(char::is_whitespace))
                .ok_or_else(|| anyhow!("expected `@VERSION` after the parameters, found `{t}`"))?
                .to_string(),
        ),
    };
    let inner = &s[open + 1..close];
    let params = if inner.trim() == "void" || inner.trim().is_empty() {
        Vec::new()
    } else {
        split_top(inner, ',')
            .iter()
            .map(|p| parse_param(p, true))
            .collect::<Result<Vec<_>>>()?
    };
    Ok(ItemKind::Declare {
        ret: ctype(ret)?,
        name: ident(name)?,
        params,
        version,
        replace: false,
    })
}

/// After a parameter's name: NULL is accepted by this system but not by POSIX; also the name of
/// the rule (in rules.sem) that reports it.
pub const PORTABLE_NULL: &str = "?portability";

impl ParamAnn {
    /// `Parameter.nullable`: 0 NULL reported by the rules, 1 allowed, 2 reported as portability.
    pub fn nullable_code(&self) -> i64 {
        i64::from(self.nullable) + i64::from(self.null_portability)
    }
}

/// `name?: rules when EXPR`, or with `typed`, `TYPE name?: rules when EXPR` (`name?portability`:
/// [`PORTABLE_NULL`]).
fn parse_param(s: &str, typed: bool) -> Result<ParamAnn> {
    let s = s.trim();
    if let Some(rest) = s.strip_prefix("...") {
        // `...` alone, or `... mode: filemode when …`: names and documents the argument a
        // hand-coded interposer reads from the variable part.
        let ty = typed.then(|| CType {
            base: "...".into(),
            base_const: false,
            ptrs: vec![],
        });
        let mut p = if rest.trim().is_empty() {
            ParamAnn {
                name: "...".into(),
                ..Default::default()
            }
        } else {
            parse_param(rest, false)?
        };
        p.ty = ty;
        p.vararg = true;
        return Ok(p);
    }
    let (head, rules) = match find_top(s, ':') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mut p = ParamAnn::default();
    let head = match head.trim_end().strip_suffix(PORTABLE_NULL) {
        Some(h) => {
            p.null_portability = true;
            format!("{h}?")
        }
        None => head.to_string(),
    };
    let head_toks = c_tokens(&head);
    let (name, ty) = head_toks
        .split_last()
        .ok_or_else(|| anyhow!("empty parameter"))?;
    let mut name = name.as_str();
    if let Some(n) = name.strip_suffix('?') {
        p.nullable = true;
        name = n;
    } else if ty.last().map(String::as_str) == Some("?") {
        bail!("write `name?` without a space before `?`");
    }
    p.name = ident(name)?;
    if typed {
        p.ty = Some(ctype(ty)?);
    } else if !ty.is_empty() {
        bail!("`{s}`: a type is only written in `+` declarations");
    }
    if let Some(rules) = rules {
        let (rules, cond) = match find_word(rules, "when") {
            Some(i) => (&rules[..i], Some(rules[i + 4..].trim().to_string())),
            None => (rules, None),
        };
        if cond.as_deref() == Some("") {
            bail!("`when` without a condition for `{name}`");
        }
        p.cond = cond;
        for tok in split_top(rules, ' ') {
            let tok = tok.trim();
            if tok.is_empty() {
                continue;
            }
            if tok == "data=out" {
                p.data_out = true;
                continue;
            }
            if tok == "data=in" {
                continue;
            }
            let cut = tok.find(['(', '[']).unwrap_or(tok.len());
            let rname = &tok[..cut];
            if rname.is_empty()
                || !rname
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '_')
            {
                bail!("`{tok}` is not a rule");
            }
            let args = &tok[cut..];
            if !args.is_empty() {
                let close = matching(args, 0)?;
                if close + 1 != args.len() {
                    bail!("unexpected text after `{}` in `{tok}`", &args[..=close]);
                }
            }
            p.rules.push(RuleUse {
                name: rname.to_string(),
                args: args.to_string(),
            });
        }
    }
    Ok(p)
}

/// Builds a [`CType`] from declaration tokens such as `const char *` or `struct stat *`.
fn ctype(toks: &[String]) -> Result<CType> {
    let mut base: Vec<&str> = Vec::new();
    let mut base_const = false;
    let mut ptrs: Vec<bool> = Vec::new();
    for t in toks {
        match t.as_str() {
            "*" => ptrs.push(false),
            "const" if ptrs.is_empty() => base_const = true,
            "const" => *ptrs.last_mut().expect("a pointer precedes") = true,
            "restrict" | "__restrict" | "volatile" => {}
            w if ptrs.is_empty() && (is_ident(w) || w == "...") => base.push(w),
            w => bail!("unexpected `{w}` in a type"),
        }
    }
    if base.is_empty() {
        bail!("a type is missing");
    }
    Ok(CType {
        base: base.join(" "),
        base_const,
        ptrs,
    })
}

/// Splits C declaration text into identifiers, `*`, `?` and `...`.
fn c_tokens(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '.' {
            cur.push(c);
            continue;
        }
        if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        match c {
            '*' => out.push("*".into()),
            '?' => match out.last_mut() {
                Some(last) if last != "*" => last.push('?'),
                _ => out.push("?".into()),
            },
            _ => {}
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn split_word(s: &str) -> (&str, &str) {
    let s = s.trim();
    match s.find(char::is_whitespace) {
        Some(i) => (&s[..i], s[i..].trim_start()),
        None => (s, ""),
    }
}

fn ident(s: &str) -> Result<String> {
    if is_ident(s) {
        Ok(s.to_string())
    } else {
        bail!("`{s}` is not a C identifier")
    }
}

fn is_ident(s: &str) -> bool {
    let mut chars = s.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn quoted(s: &str) -> Result<String> {
    let s = s.trim();
    s.strip_prefix('"')
        .and_then(|r| r.strip_suffix('"'))
        .filter(|r| !r.contains('"'))
        .map(str::to_string)
        .ok_or_else(|| anyhow!("expected a \"quoted reason\", found `{s}`"))
}

/// Parses C integer literals: decimal, `0x…`, octal `0…`, with an optional `-`.
pub fn parse_int(s: &str) -> Option<i64> {
    let s = s.trim().trim_end_matches(['u', 'U', 'l', 'L']);
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s),
    };
    let v = if let Some(h) = digits
        .strip_prefix("0x")
        .or_else(|| digits.strip_prefix("0X"))
    {
        u64::from_str_radix(h, 16).ok()? as i64
    } else if digits.len() > 1 && digits.starts_with('0') {
        i64::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse::<i64>().ok()?
    };
    Some(if neg { v.wrapping_neg() } else { v })
}

/// Index of the bracket closing the one at `open` (`(`, `[` or `{`).
fn matching(s: &str, open: usize) -> Result<usize> {
    let mut depth = 0i32;
    for (i, c) in s[open..].char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return Ok(open + i);
                }
            }
            _ => {}
        }
    }
    bail!("unbalanced brackets in `{s}`")
}

fn parens(s: &str) -> Result<&str> {
    let close = matching(s, 0)?;
    if !s[close + 1..].trim().is_empty() {
        bail!("unexpected text after `)`: `{}`", s[close + 1..].trim());
    }
    Ok(&s[1..close])
}

fn braces(s: &str) -> Result<&str> {
    if !s.starts_with('{') {
        bail!("expected `{{ … }}`, found `{s}`");
    }
    parens(s)
}

/// Splits at `sep` outside brackets.
fn split_top(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            c if c == sep && depth == 0 => {
                out.push(&s[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out.retain(|p| !p.trim().is_empty());
    out
}

fn find_top(s: &str, want: char) -> Option<usize> {
    let mut depth = 0i32;
    for (i, c) in s.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            c if c == want && depth == 0 => return Some(i),
            _ => {}
        }
    }
    None
}

/// Finds `word` as a whole word outside brackets.
fn find_word(s: &str, word: &str) -> Option<usize> {
    let bytes = s.as_bytes();
    let mut depth = 0i32;
    for (i, c) in s.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            _ if depth == 0 && s[i..].starts_with(word) => {
                let before =
                    i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
                let after = bytes
                    .get(i + word.len())
                    .is_none_or(|b| !(b.is_ascii_alphanumeric() || *b == b'_'));
                if before && after {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(s: &str) -> ItemKind {
        let mut items = parse(s).unwrap();
        assert_eq!(items.len(), 1, "{items:?}");
        items.remove(0).kind
    }

    fn r(name: &str, args: &str) -> RuleUse {
        RuleUse {
            name: name.into(),
            args: args.into(),
        }
    }

    #[test]
    fn annotation_with_rules_nullability_and_condition() {
        let k = one("open(path: pathname, flags: openflags, mode: filemode when flags & (O_CREAT|O_TMPFILE))");
        let ItemKind::Annotate { name, params } = k else {
            panic!()
        };
        assert_eq!(name, "open");
        assert_eq!(params.len(), 3);
        assert_eq!(params[0].rules, vec![r("pathname", "")]);
        assert_eq!(
            params[2].cond.as_deref(),
            Some("flags & (O_CREAT|O_TMPFILE)")
        );
        let ItemKind::Annotate { params, .. } = one("gettimeofday(tv?: out, tz?: out) # comment")
        else {
            panic!()
        };
        assert!(params[0].nullable && params[1].nullable);
        assert!(!params[0].null_portability);
        let ItemKind::Declare { params, .. } =
            one("+ int f(struct timeval *tv?portability: out, int *n?: out) @V")
        else {
            panic!()
        };
        assert_eq!(params[0].name, "tv");
        assert_eq!(params[0].rules, vec![r("out", "")]);
        assert_eq!(
            (params[0].nullable_code(), params[1].nullable_code()),
            (2, 1)
        );
    }

    #[test]
    fn rule_arguments_lengths_and_counts() {
        let ItemKind::Annotate { params, .. } =
            one("readv(fd: fd.open, iov: in[iovcnt] data=out, iovcnt: range(0, 1024))")
        else {
            panic!()
        };
        assert_eq!(params[1].rules, vec![r("in", "[iovcnt]")]);
        assert!(params[1].data_out);
        assert_eq!(params[2].rules, vec![r("range", "(0, 1024)")]);
        let ItemKind::Annotate { params, .. } =
            one("fread(ptr: out(size * nmemb), size, nmemb, stream: FILE)")
        else {
            panic!()
        };
        assert_eq!(params[0].rules, vec![r("out", "(size * nmemb)")]);
        assert!(params[1].rules.is_empty());
    }

    #[test]
    fn declarations_with_types_versions_and_varargs() {
        let k = one(
            "+ int openat(int dirfd: fd.at, const char *path: pathname, int flags, ...) @GLIBC_2.4",
        );
        let ItemKind::Declare {
            ret,
            name,
            params,
            version,
            ..
        } = k
        else {
            panic!()
        };
        assert_eq!(
            (ret.base.as_str(), name.as_str(), version.as_deref()),
            ("int", "openat", Some("GLIBC_2.4"))
        );
        assert_eq!(
            params[1].ty,
            Some(CType {
                base: "char".into(),
                base_const: true,
                ptrs: vec![false]
            })
        );
        assert_eq!(params[3].name, "...");
        assert!(params[3].vararg);
        let ItemKind::Annotate { params, .. } =
            one("open(path: pathname, flags, ... mode: filemode when flags & 64)")
        else {
            panic!()
        };
        assert!(params[2].vararg);
        assert_eq!(
            (params[2].name.as_str(), params[2].cond.as_deref()),
            ("mode", Some("flags & 64"))
        );
        let ItemKind::Declare { params, .. } =
            one("+ void *x(char *const *argv?: in, unsigned long n)")
        else {
            panic!()
        };
        assert_eq!(params[0].ty.as_ref().unwrap().ptrs, vec![true, false]);
        assert!(params[0].nullable);
        assert_eq!(params[1].ty.as_ref().unwrap().base, "unsigned long");
        let k = one(
            "+ replace ssize_t readlink(const char *path: pathname, char *buf: out(n), size_t n)",
        );
        assert!(matches!(k, ItemKind::Declare { replace: true, .. }));
        let ItemKind::Declare { params, .. } = one("+ int getpid(void)") else {
            panic!()
        };
        assert!(params.is_empty());
    }

    #[test]
    fn structs_specials_consts_rules_and_continuations() {
        let k = one("struct timespec { tv_sec: nonneg, \\\n  tv_nsec: range(0, 999999999) }");
        let ItemKind::StructRules { name, members } = k else {
            panic!()
        };
        assert_eq!((name.as_str(), members.len()), ("timespec", 2));
        let k = one("+ struct epoll_event 12 { uint32_t events @0; uint64_t data @4 }");
        let ItemKind::StructDecl { size, members, .. } = k else {
            panic!()
        };
        assert_eq!((size, members[1].offset), (Some(12), 4));
        let k = one("+ struct _GVariant");
        assert!(
            matches!(k, ItemKind::StructDecl { size: None, .. }),
            "{k:?}"
        );
        let k = one("exclude setjmp \"returns twice # not a comment\"");
        assert_eq!(
            k,
            ItemKind::Special {
                kind: SpecialKind::Exclude,
                name: "setjmp".into(),
                reason: "returns twice # not a comment".into()
            }
        );
        assert_eq!(
            one("const O_TMPFILE 0x410000"),
            ItemKind::Const {
                name: "O_TMPFILE".into(),
                value: "0x410000".into()
            }
        );
        let k = one("rule FILE \"FILE pointer\" stream::file p \"an open stdio stream\"");
        let ItemKind::Rule {
            check, signature, ..
        } = k
        else {
            panic!()
        };
        assert_eq!((check.as_str(), signature.as_str()), ("FILE pointer", "p"));
    }

    #[test]
    fn hooks_name_a_phase_a_function_and_its_arguments() {
        assert_eq!(
            one("hook freopen before=untrack_stream(stream) after=retrack_stream(stream, ret)"),
            ItemKind::Hook {
                name: "freopen".into(),
                hooks: vec![
                    HookUse {
                        phase: HookPhase::Before,
                        func: "untrack_stream".into(),
                        args: vec!["stream".into()],
                    },
                    HookUse {
                        phase: HookPhase::After,
                        func: "retrack_stream".into(),
                        args: vec!["stream".into(), "ret".into()],
                    },
                ],
            }
        );
        let ItemKind::Hook { hooks, .. } = one("hook munmap after=maps_changed") else {
            panic!()
        };
        assert!(hooks[0].args.is_empty());
        for (bad, why) in [
            ("hook munmap", "names no hook"),
            ("hook munmap during=x", "not a phase"),
            ("hook munmap after=x after=y", "two `after=`"),
            ("hook close before=f(ret)", "only known after"),
            ("hook close before=f(pre)", "only known after"),
            ("hook close after=f(pre)", "add one"),
        ] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn errors_name_the_line_and_the_problem() {
        let e = parse("[libc]\n\nread(fd: fd.open, buf: out(count, count)\n").unwrap_err();
        assert!(e.to_string().starts_with("line 3:"), "{e}");
        let e = parse("hand open no-quotes").unwrap_err();
        assert!(e.to_string().contains("quoted reason"), "{e}");
        let e = parse("+ int f(int x) GLIBC_2.4").unwrap_err();
        assert!(e.to_string().contains("@VERSION"), "{e}");
        assert_eq!(
            one("header security/pam_ext.h"),
            ItemKind::Header("security/pam_ext.h".into())
        );
        for bad in ["header", "header a.h b.h", "header pam_ext"] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.contains("one header file"), "{bad}: {e}");
        }
        let e = parse("read(int fd)").unwrap_err();
        assert!(
            e.to_string().contains("only written in `+` declarations"),
            "{e}"
        );
    }

    #[test]
    fn every_gives_a_types_parameters_rules() {
        let ItemKind::Every(p) = one("every Display *display?: handle(Display)") else {
            panic!("not an `every` line")
        };
        assert_eq!(p.name, "display");
        assert!(p.nullable);
        assert_eq!(
            p.ty.as_ref().map(|t| (t.base.as_str(), t.ptrs.len())),
            Some(("Display", 1))
        );
        assert_eq!(
            (p.rules[0].name.as_str(), p.rules[0].args.as_str()),
            ("handle", "(Display)")
        );
        for bad in [
            "every Display *display",
            "every WINDOW *win: handle(WINDOW) when x",
        ] {
            let e = parse(bad).unwrap_err().to_string();
            assert!(e.contains("`every TYPE name: RULES`"), "{bad}: {e}");
        }
    }

    #[test]
    fn integers() {
        assert_eq!(parse_int("0x410000"), Some(0x410000));
        assert_eq!(parse_int("0644"), Some(0o644));
        assert_eq!(parse_int("-100"), Some(-100));
        assert_eq!(parse_int("0"), Some(0));
        assert_eq!(parse_int("12UL"), Some(12));
        assert_eq!(parse_int("x"), None);
    }
}
