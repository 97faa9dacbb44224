//! Reading a GObject-Introspection repository (`/usr/share/gir-1.0/*.gir`, the XML format of
//! gobject-introspection's `gir-1.2.rnc`): the C functions it describes and what it says about
//! each parameter. Only the parts the importer uses are read; everything else (documentation,
//! signals, properties, fields) is skipped.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{anyhow, bail, Result};

/// One repository file.
#[derive(Debug, Default)]
pub struct Repository {
    /// `<namespace name=…>`: `GLib`, `GObject`.
    pub namespace: String,
    /// `<namespace shared-library=…>`: the files its functions live in.
    pub shared_libraries: Vec<String>,
    /// Functions, methods and constructors by C symbol, in file order.
    pub functions: Vec<Function>,
    /// The namespace's types by qualified name (`GLib.HashTable`) and what kind of element
    /// declares them (`record`, `class`, `callback`, `enumeration`, …).
    pub types: BTreeMap<String, String>,
    /// The same types by their C name (`GHashTable`), for prototypes the database lacks.
    pub c_types: BTreeMap<String, CDef>,
}

/// What the C name of a namespace type stands for, as far as a prototype's ABI goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CDef {
    /// A `record`, `class`, `interface` or `union`: a struct (or union) type.
    Record,
    /// An `enumeration` or `bitfield`, whether one of its values is negative (an `int` then, an
    /// `unsigned int` otherwise: what GCC makes of such an enum).
    Enum { signed: bool },
    /// An `alias` of the C type given.
    Alias(String),
    /// A `callback`: a function pointer.
    Callback,
}

/// A function, method or constructor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Function {
    /// `c:identifier`: the C symbol.
    pub symbol: String,
    /// `throws="1"`: the C function takes a `GError **error` after the listed parameters.
    pub throws: bool,
    /// The instance parameter (methods) first, then `<parameters>` in order.
    pub params: Vec<Parameter>,
    /// `<return-value>`, as a parameter without a name.
    pub ret: Parameter,
    /// `<source-position filename=…>`: the header that declares it (`gstdio.h`).
    pub header: Option<String>,
}

/// A parameter.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Parameter {
    pub name: String,
    /// `<instance-parameter>`: not counted by other parameters' `length=` indexes.
    pub instance: bool,
    /// `in` (the default), `out`, `inout`.
    pub direction: String,
    pub caller_allocates: bool,
    /// `nullable="1"`, `allow-none="1"` or `optional="1"`: NULL may be passed (for an out
    /// parameter `nullable` is about the value written, but every spelling counts as allowing
    /// NULL, which can only lose a check, never add a false one). Also set where the
    /// parameter's documentation allows NULL in words the attributes do not repeat ("or %NULL").
    pub null_ok: bool,
    /// `transfer-ownership`: `none`, `full`, `container`.
    pub transfer: String,
    pub ty: Ty,
}

/// A parameter's type.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Ty {
    /// No type element.
    #[default]
    Missing,
    /// `<varargs/>`.
    Varargs,
    /// `<type name=… c:type=…>`.
    Plain {
        name: String,
        c_type: Option<String>,
    },
    /// `<array …>` with its element type's name.
    Array {
        c_type: Option<String>,
        /// `length=N`: the index (among the non-instance parameters) of the length parameter.
        length: Option<usize>,
        zero_terminated: bool,
        fixed_size: Option<usize>,
        /// `name=` of a GLib.Array/GLib.PtrArray/GLib.ByteArray: a container, not a C array.
        container: Option<String>,
        element: Option<String>,
    },
}

/// One XML event.
enum Event<'a> {
    Start {
        name: &'a str,
        attrs: Vec<(&'a str, String)>,
        empty: bool,
    },
    End,
}

/// A minimal XML tag scanner: GIR files are machine-written, attribute values double-quoted, text
/// never holds a raw `<`. Comments, declarations and processing instructions are skipped.
struct Scanner<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scanner<'a> {
    /// The text from here to the next tag (an element's content, still escaped).
    fn text_ahead(&self) -> &'a str {
        let rest = &self.text[self.at..];
        &rest[..rest.find('<').unwrap_or(rest.len())]
    }

    fn line(&self) -> usize {
        self.text[..self.at].matches('\n').count() + 1
    }

    fn next(&mut self) -> Result<Option<Event<'a>>> {
        loop {
            let Some(lt) = self.text[self.at..].find('<') else {
                return Ok(None);
            };
            self.at += lt;
            let rest = &self.text[self.at..];
            let skip_to = |end: &str| rest.find(end).map(|i| i + end.len());
            if rest.starts_with("<!--") || rest.starts_with("<?") || rest.starts_with("<!") {
                let end = if rest.starts_with("<!--") {
                    "-->"
                } else if rest.starts_with("<?") {
                    "?>"
                } else {
                    ">"
                };
                self.at += skip_to(end).ok_or_else(|| anyhow!("unterminated `<!`/`<?`"))?;
                continue;
            }
            let gt = tag_end(rest).ok_or_else(|| anyhow!("unterminated tag"))?;
            let tag = &rest[1..gt];
            self.at += gt + 1;
            if tag.starts_with('/') {
                return Ok(Some(Event::End));
            }
            let (tag, empty) = match tag.strip_suffix('/') {
                Some(t) => (t, true),
                None => (tag, false),
            };
            let name_end = tag.find(char::is_whitespace).unwrap_or(tag.len());
            let name = &tag[..name_end];
            let attrs = attributes(&tag[name_end..])?;
            return Ok(Some(Event::Start { name, attrs, empty }));
        }
    }
}

/// The index of the `>` closing the tag at the start of `s`, outside quoted values.
fn tag_end(s: &str) -> Option<usize> {
    let mut quoted = false;
    for (i, c) in s.char_indices() {
        match c {
            '"' => quoted = !quoted,
            '>' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

/// Whether a parameter's documentation says NULL may be passed: it mentions `%NULL` other than
/// to forbid it.
fn doc_allows_null(doc: &str) -> bool {
    let doc = doc.split_whitespace().collect::<Vec<_>>().join(" ");
    doc.contains("%NULL")
        && !["not be %NULL", "non-%NULL", "never %NULL"]
            .iter()
            .any(|f| doc.contains(f))
}

fn attributes(mut s: &str) -> Result<Vec<(&str, String)>> {
    let mut out = Vec::new();
    loop {
        s = s.trim_start();
        if s.is_empty() {
            return Ok(out);
        }
        let eq = s
            .find('=')
            .ok_or_else(|| anyhow!("attribute without `=`: `{s}`"))?;
        let name = s[..eq].trim();
        let rest = s[eq + 1..].trim_start();
        let value = rest
            .strip_prefix('"')
            .ok_or_else(|| anyhow!("attribute `{name}` is not double-quoted"))?;
        let close = value
            .find('"')
            .ok_or_else(|| anyhow!("attribute `{name}` is not closed"))?;
        out.push((name, unescape(&value[..close])));
        s = &value[close + 1..];
    }
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn attr<'a>(attrs: &'a [(&str, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_str())
}

fn flag(attrs: &[(&str, String)], name: &str) -> bool {
    attr(attrs, name) == Some("1")
}

/// The elements that declare a type of the namespace by `name=`.
const TYPE_ELEMENTS: [&str; 9] = [
    "record",
    "class",
    "interface",
    "union",
    "callback",
    "enumeration",
    "bitfield",
    "alias",
    "glib:boxed",
];

/// The elements that describe a C function by `c:identifier=`.
const FUNCTION_ELEMENTS: [&str; 3] = ["function", "method", "constructor"];

/// Parses one repository file's text; errors name the line.
pub fn parse(text: &str) -> Result<Repository> {
    let mut sc = Scanner { text, at: 0 };
    parse_events(&mut sc).map_err(|e| anyhow!("line {}: {e}", sc.line()))
}

fn parse_events(sc: &mut Scanner) -> Result<Repository> {
    let mut repo = Repository::default();
    // The open elements, innermost last.
    let mut open: Vec<&str> = Vec::new();
    let mut func: Option<(Function, usize)> = None;
    let mut param: Option<(Parameter, usize)> = None;
    // The parameter being read is the function's return value.
    let mut returning = false;
    // The type definition being read: its C name, what it is, its depth.
    let mut def: Option<(String, CDef, usize)> = None;
    let mut seen = BTreeSet::new();
    while let Some(ev) = sc.next()? {
        match ev {
            Event::Start { name, attrs, empty } => {
                let depth = open.len();
                if name == "namespace" {
                    repo.namespace = attr(&attrs, "name").unwrap_or_default().to_string();
                    repo.shared_libraries = attr(&attrs, "shared-library")
                        .unwrap_or_default()
                        .split(',')
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect();
                } else if TYPE_ELEMENTS.contains(&name) && depth == 2 {
                    // Directly inside <repository><namespace>.
                    let n = attr(&attrs, "name").or_else(|| attr(&attrs, "glib:name"));
                    if let Some(n) = n {
                        let kind = name.trim_start_matches("glib:").to_string();
                        repo.types.insert(format!("{}.{n}", repo.namespace), kind);
                    }
                    let c_def = match name {
                        "record" | "class" | "interface" | "union" => Some(CDef::Record),
                        "enumeration" | "bitfield" => Some(CDef::Enum { signed: false }),
                        "callback" => Some(CDef::Callback),
                        // The aliased type follows inside.
                        "alias" => Some(CDef::Alias(String::new())),
                        _ => None,
                    };
                    match (attr(&attrs, "c:type"), c_def) {
                        (Some(c), Some(d)) if empty => {
                            repo.c_types.insert(c.to_string(), d);
                        }
                        (Some(c), Some(d)) => def = Some((c.to_string(), d, depth)),
                        _ => {}
                    }
                } else if let Some((_, d, ddepth)) = &mut def {
                    if depth == *ddepth + 1 {
                        match (d, name) {
                            (CDef::Enum { signed }, "member") => {
                                *signed |= attr(&attrs, "value").is_some_and(|v| v.starts_with('-'))
                            }
                            (CDef::Alias(to), "type") => {
                                *to = attr(&attrs, "c:type").unwrap_or_default().to_string()
                            }
                            _ => {}
                        }
                    }
                }
                if FUNCTION_ELEMENTS.contains(&name) && func.is_none() {
                    if let Some(sym) = attr(&attrs, "c:identifier") {
                        let f = Function {
                            symbol: sym.to_string(),
                            throws: flag(&attrs, "throws"),
                            params: Vec::new(),
                            ret: Parameter::default(),
                            header: None,
                        };
                        func = Some((f, depth));
                    }
                } else if let (Some((f, fdepth)), "source-position") = (&mut func, name) {
                    if depth == *fdepth + 1 {
                        f.header = attr(&attrs, "filename").map(str::to_string);
                    }
                } else if let (Some(_), "parameter" | "instance-parameter" | "return-value") =
                    (&func, name)
                {
                    returning = name == "return-value";
                    let null_ok = ["nullable", "allow-none", "optional"]
                        .iter()
                        .any(|a| flag(&attrs, a));
                    let p = Parameter {
                        name: attr(&attrs, "name").unwrap_or_default().to_string(),
                        instance: name == "instance-parameter",
                        direction: attr(&attrs, "direction").unwrap_or("in").to_string(),
                        caller_allocates: flag(&attrs, "caller-allocates"),
                        null_ok,
                        transfer: attr(&attrs, "transfer-ownership")
                            .unwrap_or("none")
                            .to_string(),
                        ty: Ty::Missing,
                    };
                    param = Some((p, depth));
                } else if let Some((p, pdepth)) = &mut param {
                    if name == "doc" && depth == *pdepth + 1 {
                        p.null_ok |= doc_allows_null(sc.text_ahead());
                    }
                    type_element(p, *pdepth, depth, name, &attrs, &repo.namespace);
                }
                if !empty {
                    open.push(name);
                }
            }
            Event::End => {
                open.pop()
                    .ok_or_else(|| anyhow!("closing tag without an open one"))?;
                let depth = open.len();
                if param.as_ref().is_some_and(|(_, d)| *d == depth) {
                    let (p, _) = param.take().expect("checked");
                    if let Some((f, _)) = &mut func {
                        if returning {
                            f.ret = p;
                        } else {
                            f.params.push(p);
                        }
                    }
                }
                if def.as_ref().is_some_and(|(_, _, d)| *d == depth) {
                    let (c, d, _) = def.take().expect("checked");
                    repo.c_types.insert(c, d);
                }
                if func.as_ref().is_some_and(|(_, d)| *d == depth) {
                    let (f, _) = func.take().expect("checked");
                    // `moved-to`/`shadows` copies describe the same symbol again.
                    if seen.insert(f.symbol.clone()) {
                        repo.functions.push(f);
                    }
                }
            }
        }
    }
    if !open.is_empty() {
        bail!("the file ends inside <{}>", open.join("><"));
    }
    Ok(repo)
}

/// A `<type>`, `<array>` or `<varargs>` inside a parameter: the parameter's type directly inside
/// it, an array's element one level deeper.
fn type_element(
    p: &mut Parameter,
    pdepth: usize,
    depth: usize,
    name: &str,
    attrs: &[(&str, String)],
    namespace: &str,
) {
    let qualified = |n: &str| {
        if n.contains('.') || !n.starts_with(char::is_uppercase) {
            n.to_string()
        } else {
            format!("{namespace}.{n}")
        }
    };
    let c_type = attr(attrs, "c:type").map(str::to_string);
    if depth == pdepth + 1 {
        p.ty = match name {
            "varargs" => Ty::Varargs,
            "type" => Ty::Plain {
                name: qualified(attr(attrs, "name").unwrap_or_default()),
                c_type,
            },
            "array" => Ty::Array {
                c_type,
                length: attr(attrs, "length").and_then(|l| l.parse().ok()),
                zero_terminated: flag(attrs, "zero-terminated"),
                fixed_size: attr(attrs, "fixed-size").and_then(|l| l.parse().ok()),
                container: attr(attrs, "name").map(qualified),
                element: None,
            },
            _ => return,
        };
    } else if depth == pdepth + 2 && name == "type" {
        if let Ty::Array { element, .. } = &mut p.ty {
            if element.is_none() {
                *element = attr(attrs, "name").map(qualified);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_parameters_and_types_are_read() {
        let repo = parse(
            r#"<?xml version="1.0"?>
<!-- generated > by hand -->
<repository version="1.2">
  <namespace name="GLib" shared-library="libglib-2.0.so.0">
    <callback name="Func"><parameters><parameter name="data"><type name="gpointer"/></parameter></parameters></callback>
    <record name="Checksum" c:type="GChecksum">
      <method name="update" c:identifier="g_checksum_update">
        <doc xml:space="preserve">a &lt;b&gt; text</doc>
        <return-value><type name="none" c:type="void"/></return-value>
        <parameters>
          <instance-parameter name="checksum"><type name="Checksum" c:type="GChecksum*"/></instance-parameter>
          <parameter name="data" nullable="1"><array length="1" c:type="const guchar*"><type name="guint8"/></array></parameter>
          <parameter name="length"><type name="gssize" c:type="gssize"/></parameter>
          <parameter name="ctx"><doc>a context, or %NULL for the default</doc><type name="Ctx" c:type="GCtx*"/></parameter>
          <parameter name="must"><doc>a context (must not be %NULL)</doc><type name="Ctx" c:type="GCtx*"/></parameter>
        </parameters>
      </method>
    </record>
    <function name="f" c:identifier="g_f" throws="1">
      <parameters><parameter name="out" direction="out" caller-allocates="0" optional="1"><type name="utf8" c:type="gchar**"/></parameter>
      <parameter name="..."><varargs/></parameter></parameters>
    </function>
    <function name="f" c:identifier="g_f" moved-to="x"/>
  </namespace>
</repository>"#,
        )
        .unwrap();
        assert_eq!(repo.namespace, "GLib");
        assert_eq!(repo.shared_libraries, ["libglib-2.0.so.0"]);
        assert_eq!(
            repo.types.get("GLib.Func").map(String::as_str),
            Some("callback")
        );
        assert_eq!(
            repo.types.get("GLib.Checksum").map(String::as_str),
            Some("record")
        );
        assert_eq!(repo.functions.len(), 2);
        let upd = &repo.functions[0];
        assert_eq!(upd.symbol, "g_checksum_update");
        assert!(upd.params[0].instance);
        assert_eq!(
            upd.params[0].ty,
            Ty::Plain {
                name: "GLib.Checksum".into(),
                c_type: Some("GChecksum*".into())
            }
        );
        assert!(upd.params[1].null_ok);
        let Ty::Array {
            length, element, ..
        } = &upd.params[1].ty
        else {
            panic!("{:?}", upd.params[1].ty)
        };
        assert_eq!((*length, element.as_deref()), (Some(1), Some("guint8")));
        assert!(!upd.params[2].null_ok);
        assert!(upd.params[3].null_ok, "documented as NULL-able");
        assert!(!upd.params[4].null_ok, "documented as never NULL");
        let f = &repo.functions[1];
        assert!(f.throws);
        assert_eq!(f.params[0].direction, "out");
        assert!(f.params[0].null_ok);
        assert_eq!(f.params[1].ty, Ty::Varargs);
    }

    #[test]
    fn a_truncated_file_names_the_line() {
        let e = parse("<repository>\n<namespace name=\"G\">\n").unwrap_err();
        let e = e.to_string();
        assert!(
            e.contains("line 2") && e.contains("ends inside <repository><namespace>"),
            "{e}"
        );
    }
}
