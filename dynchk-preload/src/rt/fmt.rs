//! Formatting on the stack: records are built in a fixed buffer and written with one syscall.

use core::fmt;

/// A fixed-capacity byte buffer; text beyond the capacity is dropped (the record stays one
/// line: [`Buf::finish_line`] always has room for its newline).
pub struct Buf<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Buf<N> {
    /// An empty buffer.
    pub const fn new() -> Self {
        Buf {
            bytes: [0; N],
            len: 0,
        }
    }

    /// Appends raw bytes.
    pub fn push(&mut self, b: &[u8]) {
        // One byte stays free for the newline.
        let take = b.len().min(N - 1 - self.len);
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
                0..=0x1f | 0x7f => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    self.push(&[
                        b'\\',
                        b'u',
                        b'0',
                        b'0',
                        HEX[(c >> 4) as usize],
                        HEX[(c & 15) as usize],
                    ]);
                }
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

    /// Appends a decimal integer.
    pub fn int(&mut self, v: i64) {
        let mut tmp = [0u8; 20];
        let s = itoa(v, &mut tmp);
        self.push(s);
    }

    /// Appends `0x` and lowercase hex digits.
    pub fn hex(&mut self, v: u64) {
        let mut tmp = [0u8; 18];
        let mut i = tmp.len();
        let mut v = v;
        loop {
            i -= 1;
            tmp[i] = b"0123456789abcdef"[(v & 15) as usize];
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
        N - 1 - self.len
    }

    /// The bytes so far.
    #[cfg(test)]
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl<const N: usize> fmt::Write for Buf<N> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s.as_bytes());
        Ok(())
    }
}

/// Decimal digits of `v` in `buf`.
pub fn itoa(v: i64, buf: &mut [u8]) -> &[u8] {
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
        let mut b: Buf<64> = Buf::new();
        b.hex(0);
        b.push(b" ");
        b.hex(0x7ffd_1234);
        b.push(b" ");
        b.int(-7);
        assert_eq!(b.as_bytes(), b"0x0 0x7ffd1234 -7");
    }

    #[test]
    fn json_escapes_quotes_controls_and_backslashes() {
        let mut b: Buf<64> = Buf::new();
        b.json_quoted(b"a\"b\\c\nd\x01");
        assert_eq!(b.as_bytes(), br#""a\"b\\c\nd\u0001""#);
    }

    #[test]
    fn overflow_truncates_but_keeps_the_newline() {
        let mut b: Buf<8> = Buf::new();
        b.push(b"0123456789");
        assert_eq!(b.finish_line(), b"0123456\n");
    }
}
