//! Reader of the MySQL 4 dumps of the LSB specdb (`TABLE.sql` + `TABLE.init`, see
//! `../shared/specdb/README.md`).
//!
//! Only what those dumps contain is supported: `CREATE TABLE` column lists and
//! `INSERT INTO \`T\` VALUES (...),(...);` lines holding quoted strings (MySQL escapes, Latin-1),
//! numbers and `NULL`.

use anyhow::{anyhow, bail, Context};
use std::path::Path;

/// One field of a dumped row.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `NULL`
    Null,
    /// An unquoted integer.
    Int(i64),
    /// An unquoted number with a fraction or exponent.
    Real(f64),
    /// A quoted string, unescaped and decoded from Latin-1.
    Text(String),
}

impl Value {
    /// The value as an integer: `Int`, or `Text` holding a decimal integer (MySQL quotes some
    /// numeric columns). `None` for anything else.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(i) => Some(*i),
            Value::Text(s) => s.trim().parse().ok(),
            Value::Null | Value::Real(_) => None,
        }
    }

    /// The string of a `Text` value, `None` for anything else.
    pub fn as_text(&self) -> Option<&str> {
        match self {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

/// A whole dumped table: its column names (in `CREATE TABLE` order) and its rows.
#[derive(Debug)]
pub struct Table {
    /// Table name.
    pub name: String,
    /// Column names, in the order the `INSERT` tuples use.
    pub columns: Vec<String>,
    /// Every row of every `INSERT` line, in file order.
    pub rows: Vec<Vec<Value>>,
}

impl Table {
    /// Reads `dir/NAME.sql` (for the column names) and `dir/NAME.init` (the rows). Every row must
    /// have as many fields as there are columns; errors name the file and line.
    pub fn load(dir: &Path, name: &str) -> anyhow::Result<Table> {
        let sql_path = dir.join(format!("{name}.sql"));
        let sql =
            std::fs::read(&sql_path).with_context(|| format!("reading {}", sql_path.display()))?;
        let columns = parse_columns(&latin1(&sql));
        if columns.is_empty() {
            bail!("{}: no CREATE TABLE column found", sql_path.display());
        }
        let init_path = dir.join(format!("{name}.init"));
        let init = std::fs::read(&init_path)
            .with_context(|| format!("reading {}", init_path.display()))?;
        let mut rows = Vec::new();
        for (n, line) in init.split(|&b| b == b'\n').enumerate() {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if line.iter().all(u8::is_ascii_whitespace) || line.starts_with(b"--") {
                continue;
            }
            let at = || format!("{}:{}", init_path.display(), n + 1);
            let (table, tuples) = parse_insert(line).with_context(at)?;
            if table != name {
                bail!("{}: INSERT into `{table}`, expected `{name}`", at());
            }
            for row in tuples {
                if row.len() != columns.len() {
                    bail!(
                        "{}: {} fields for {} columns",
                        at(),
                        row.len(),
                        columns.len()
                    );
                }
                rows.push(row);
            }
        }
        Ok(Table {
            name: name.to_owned(),
            columns,
            rows,
        })
    }

    /// Index of column `name` in every row.
    pub fn col(&self, name: &str) -> anyhow::Result<usize> {
        self.columns
            .iter()
            .position(|c| c == name)
            .ok_or_else(|| anyhow!("table {} has no column {name}", self.name))
    }
}

/// Decodes Latin-1 bytes: every byte is the Unicode code point of the same value.
fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// Column names of a MySQL `CREATE TABLE`: the backquoted name opening each column line (key lines
/// start with a keyword instead).
pub fn parse_columns(create_table: &str) -> Vec<String> {
    create_table
        .lines()
        .skip_while(|l| !l.trim_start().starts_with("CREATE TABLE"))
        .skip(1)
        .filter_map(|l| l.trim_start().strip_prefix('`'))
        .filter_map(|l| l.split_once('`').map(|(name, _)| name.to_owned()))
        .collect()
}

/// Parses one `INSERT INTO \`T\` VALUES (...),(...);` line (raw Latin-1 bytes) into the table
/// name and its row tuples.
pub fn parse_insert(line: &[u8]) -> anyhow::Result<(String, Vec<Vec<Value>>)> {
    let mut p = Parser { s: line, i: 0 };
    p.expect(b"INSERT INTO `")?;
    let start = p.i;
    while p.peek().is_some_and(|c| c != b'`') {
        p.i += 1;
    }
    let table = latin1(&line[start..p.i]);
    p.expect(b"` VALUES ")?;
    let mut rows = Vec::new();
    loop {
        rows.push(p.tuple()?);
        match p.next() {
            Some(b',') => continue,
            Some(b';') if p.i == line.len() => return Ok((table, rows)),
            _ => return Err(p.error("',' or ';' at the end of the line")),
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let c = self.peek();
        self.i += 1;
        c
    }

    fn error(&self, expected: &str) -> anyhow::Error {
        anyhow!("column {}: expected {expected}", self.i + 1)
    }

    fn expect(&mut self, lit: &[u8]) -> anyhow::Result<()> {
        if self.s[self.i..].starts_with(lit) {
            self.i += lit.len();
            Ok(())
        } else {
            Err(self.error(&format!("`{}`", latin1(lit))))
        }
    }

    fn tuple(&mut self) -> anyhow::Result<Vec<Value>> {
        self.expect(b"(")?;
        let mut row = Vec::new();
        loop {
            row.push(self.value()?);
            match self.next() {
                Some(b',') => continue,
                Some(b')') => return Ok(row),
                _ => {
                    self.i -= 1;
                    return Err(self.error("',' or ')' after a value"));
                }
            }
        }
    }

    fn value(&mut self) -> anyhow::Result<Value> {
        match self.peek() {
            Some(b'\'') => self.string(),
            Some(b'N') => self.expect(b"NULL").map(|()| Value::Null),
            Some(c) if c == b'-' || c.is_ascii_digit() => self.number(),
            _ => Err(self.error("a value")),
        }
    }

    fn number(&mut self) -> anyhow::Result<Value> {
        let start = self.i;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'+' | b'.'))
        {
            self.i += 1;
        }
        let text = std::str::from_utf8(&self.s[start..self.i]).expect("ASCII checked above");
        if let Ok(i) = text.parse() {
            return Ok(Value::Int(i));
        }
        text.parse().map(Value::Real).map_err(|_| {
            self.i = start;
            self.error("a number")
        })
    }

    fn string(&mut self) -> anyhow::Result<Value> {
        self.i += 1;
        let mut out = String::new();
        loop {
            match self.next() {
                None => return Err(self.error("the closing quote of a string")),
                Some(b'\'') if self.peek() == Some(b'\'') => {
                    self.i += 1;
                    out.push('\'');
                }
                Some(b'\'') => return Ok(Value::Text(out)),
                Some(b'\\') => match self.next() {
                    None => return Err(self.error("an escaped character")),
                    Some(b'0') => out.push('\0'),
                    Some(b'b') => out.push('\u{8}'),
                    Some(b'n') => out.push('\n'),
                    Some(b'r') => out.push('\r'),
                    Some(b't') => out.push('\t'),
                    Some(b'Z') => out.push('\u{1a}'),
                    // MySQL keeps the backslash of \% and \_ (they are LIKE escapes).
                    Some(c @ (b'%' | b'_')) => {
                        out.push('\\');
                        out.push(char::from(c));
                    }
                    Some(c) => out.push(char::from(c)),
                },
                Some(c) => out.push(char::from(c)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(line: &str) -> Vec<Vec<Value>> {
        let (table, rows) = parse_insert(line.as_bytes()).unwrap();
        assert_eq!(table, "T");
        rows
    }

    fn text(s: &str) -> Value {
        Value::Text(s.to_owned())
    }

    #[test]
    fn escapes_are_decoded() {
        let r = rows(
            r#"INSERT INTO `T` VALUES ('a\'b','c\"d','e\\f','g\nh\ti','\0\r\Z','it''s','50\%\_');"#,
        );
        assert_eq!(
            r,
            vec![vec![
                text("a'b"),
                text("c\"d"),
                text("e\\f"),
                text("g\nh\ti"),
                text("\0\r\u{1a}"),
                text("it's"),
                text("50\\%\\_"),
            ]]
        );
    }

    #[test]
    fn null_numbers_and_several_tuples() {
        let r = rows("INSERT INTO `T` VALUES (1,NULL,-7,'x'),(2,'',3.5,'(,)');");
        assert_eq!(
            r,
            vec![
                vec![Value::Int(1), Value::Null, Value::Int(-7), text("x")],
                vec![Value::Int(2), text(""), Value::Real(3.5), text("(,)")],
            ]
        );
        assert_eq!(r[0][1].as_i64(), None);
        assert_eq!(text(" 12").as_i64(), Some(12));
        assert_eq!(r[1][1].as_text(), Some(""));
    }

    #[test]
    fn latin1_bytes_become_utf8() {
        let mut line = b"INSERT INTO `T` VALUES ('Gr".to_vec();
        line.extend_from_slice(&[0xfc, 0xdf, b'e', 0xa0, 0xff]);
        line.extend_from_slice(b"');");
        let (_, r) = parse_insert(&line).unwrap();
        assert_eq!(r, vec![vec![text("Grüße\u{a0}ÿ")]]);
    }

    #[test]
    fn malformed_lines_are_rejected_with_a_column() {
        for bad in [
            "INSERT INTO `T` VALUES (1,'x');junk",
            "INSERT INTO `T` VALUES (1,'x)",
            "INSERT INTO `T` VALUES (1 2);",
            "INSERT INTO `T` VALUES (nope);",
            "INSERT INTO `T` VALUES (1)",
            "REPLACE INTO `T` VALUES (1);",
        ] {
            let err = parse_insert(bad.as_bytes()).unwrap_err().to_string();
            assert!(err.starts_with("column "), "{bad}: {err}");
        }
    }

    #[test]
    fn columns_of_create_table() {
        let sql = "DROP TABLE IF EXISTS `T`;\nCREATE TABLE `T` (\n  `Tid` int(10) NOT NULL,\n  \
                   `Tname` varchar(128) binary NOT NULL default '',\n  PRIMARY KEY  (`Tid`),\n  \
                   UNIQUE KEY `k` (`Tname`)\n) TYPE=MyISAM;\n";
        assert_eq!(parse_columns(sql), vec!["Tid", "Tname"]);
    }
}
