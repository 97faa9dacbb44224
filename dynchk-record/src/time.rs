//! Wall-clock time as the `start` record writes it, without a C library.

use crate::Buf;

/// A UTC time broken down: year, month (1–12), day (1–31), hour, minute, second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Utc {
    pub year: i64,
    pub month: i64,
    pub day: i64,
    pub hour: i64,
    pub minute: i64,
    pub second: i64,
}

impl Utc {
    /// `secs` seconds since 1970 UTC, in the proleptic Gregorian calendar.
    pub fn of(secs: i64) -> Utc {
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        // Civil date from days since the epoch (H. Hinnant's algorithm).
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        Utc {
            year: yoe + era * 400 + (month <= 2) as i64,
            month,
            day: doy - (153 * mp + 2) / 5 + 1,
            hour: rem / 3600,
            minute: rem / 60 % 60,
            second: rem % 60,
        }
    }
}

/// Appends `secs` (seconds since 1970 UTC) as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn iso8601(b: &mut Buf<'_>, secs: i64) {
    let t = Utc::of(secs);
    let two = |b: &mut Buf<'_>, v: i64| {
        b.push(&[b'0' + (v / 10) as u8, b'0' + (v % 10) as u8]);
    };
    b.int(t.year);
    b.push(b"-");
    two(b, t.month);
    b.push(b"-");
    two(b, t.day);
    b.push(b"T");
    two(b, t.hour);
    b.push(b":");
    two(b, t.minute);
    b.push(b":");
    two(b, t.second);
    b.push(b"Z");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(secs: i64) -> String {
        let mut mem = [0u8; 64];
        let mut b = Buf::new(&mut mem);
        iso8601(&mut b, secs);
        String::from_utf8(b.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn known_dates() {
        assert_eq!(render(0), "1970-01-01T00:00:00Z");
        assert_eq!(render(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(render(1_796_115_600), "2026-12-01T09:00:00Z");
        assert_eq!(render(-1), "1969-12-31T23:59:59Z");
    }
}
