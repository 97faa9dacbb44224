//! A line being built in caller-provided memory: records are written with one `write`, and the
//! writer never allocates.

use core::fmt;

/// A fixed-capacity byte buffer over borrowed memory; text beyond the capacity is dropped (the
/// record stays one line: [`Buf::finish_line`] always has room for its newline).
pub struct Buf<'a> {
    bytes: &'a mut [u8],
    len: usize,
}

impl<'a> Buf<'a> {
    /// An empty buffer writing into `bytes` (at least one byte, kept for the newline).
    pub fn new(bytes: &'a mut [u8]) -> Self {
        assert!(
            !bytes.is_empty(),
            "a record buffer needs room for its newline"
        );
        Buf { bytes, len: 0 }
    }

    /// Appends raw bytes.
    pub fn push(&mut self, b: &[u8]) {
        let take = b.len().min(self.room());
        self.bytes[self.len..self.len + take].copy_from_slice(&b[..take]);
        self.len += take;
    }

    /// Appends `s` as the inside of a JSON string (quotes not included).
    pub fn json_str(&mut self, s: &[u8]) {
        for &c in s {
            match c {
                b'"' => self.push(b"\\\""),
                b'\\' => self.push(b"\\\\"),
                b'\n' => self.push(b"\\n"),
                b'\t' => self.push(b"\\t"),
                b'\r' => self.push(b"\\r"),
                0..=0x1f | 0x7f => self.push(&[b'\\', b'u', b'0', b'0', hex(c >> 4), hex(c & 15)]),
                // Non-ASCII bytes are passed through: paths and messages are UTF-8 in practice,
                // and a reader that rejects a stray byte loses one record, not the log.
                _ => self.push(&[c]),
            }
        }
    }

    /// Appends a quoted JSON string.
    pub fn json_quoted(&mut self, s: &[u8]) {
        self.push(b"\"");
        self.json_str(s);
        self.push(b"\"");
    }

    /// Appends `s` for a terminal: control characters become `\xNN`, so that a path or an argv
    /// element cannot move the cursor or clear the screen of whoever reads the report.
    pub fn text(&mut self, s: &[u8]) {
        for &c in s {
            match c {
                0..=0x1f | 0x7f => self.push(&[b'\\', b'x', hex(c >> 4), hex(c & 15)]),
                _ => self.push(&[c]),
            }
        }
    }

    /// Appends a decimal integer.
    pub fn int(&mut self, v: i64) {
        let mut tmp = [0u8; 20];
        let s = itoa(v, &mut tmp);
        self.push(s);
    }

    /// Appends an unsigned decimal integer.
    pub fn uint(&mut self, v: u64) {
        let mut tmp = [0u8; 20];
        let mut i = tmp.len();
        let mut v = v;
        loop {
            i -= 1;
            tmp[i] = b'0' + (v % 10) as u8;
            v /= 10;
            if v == 0 {
                break;
            }
        }
        self.push(&tmp[i..]);
    }

    /// Appends `0x` and lowercase hex digits.
    pub fn hex(&mut self, v: u64) {
        let mut tmp = [0u8; 16];
        let mut i = tmp.len();
        let mut v = v;
        loop {
            i -= 1;
            tmp[i] = hex((v & 15) as u8);
            v >>= 4;
            if v == 0 {
                break;
            }
        }
        self.push(b"0x");
        self.push(&tmp[i..]);
    }

    /// Ends the record with a newline and returns its bytes.
    pub fn finish_line(&mut self) -> &[u8] {
        self.bytes[self.len] = b'\n';
        &self.bytes[..=self.len]
    }

    /// Bytes that can still be appended.
    pub fn room(&self) -> usize {
        self.bytes.len() - 1 - self.len
    }

    /// The bytes so far.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl fmt::Write for Buf<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s.as_bytes());
        Ok(())
    }
}

fn hex(nibble: u8) -> u8 {
    b"0123456789abcdef"[nibble as usize]
}

/// Decimal digits of `v` in `buf` (20 bytes hold every `i64`).
pub fn itoa(v: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut i = buf.len();
    let neg = v < 0;
    let mut u = v.unsigned_abs();
    loop {
        i -= 1;
        buf[i] = b'0' + (u % 10) as u8;
        u /= 10;
        if u == 0 {
            break;
        }
    }
    if neg {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        let mut t = [0u8; 20];
        assert_eq!(itoa(0, &mut t), b"0");
        assert_eq!(itoa(-42, &mut t), b"-42");
        assert_eq!(itoa(i64::MIN, &mut t), b"-9223372036854775808");
        let mut mem = [0u8; 64];
        let mut b = Buf::new(&mut mem);
        b.hex(0);
        b.push(b" ");
        b.hex(0x7ffd_1234);
        b.push(b" ");
        b.int(-7);
        b.push(b" ");
        b.uint(u64::MAX);
        assert_eq!(b.as_bytes(), b"0x0 0x7ffd1234 -7 18446744073709551615");
    }

    #[test]
    fn json_escapes_quotes_controls_and_backslashes() {
        let mut mem = [0u8; 64];
        let mut b = Buf::new(&mut mem);
        b.json_quoted(b"a\"b\\c\nd\x01");
        assert_eq!(b.as_bytes(), br#""a\"b\\c\nd\u0001""#);
    }

    #[test]
    fn text_escapes_terminal_controls() {
        let mut mem = [0u8; 64];
        let mut b = Buf::new(&mut mem);
        b.text(b"a\x1b[2Jb\x7f\n");
        assert_eq!(b.as_bytes(), br"a\x1b[2Jb\x7f\x0a");
    }

    #[test]
    fn overflow_truncates_but_keeps_the_newline() {
        let mut mem = [0u8; 8];
        let mut b = Buf::new(&mut mem);
        b.push(b"0123456789");
        assert_eq!(b.finish_line(), b"0123456\n");
    }
}
