//! `range`: plain integer bounds.

use crate::{Fault, Verdict};

const CHECK: &str = "range";

/// `range(LO, HI)`: `lo <= v <= hi`.
pub fn range(v: i64, lo: i64, hi: i64) -> Verdict {
    if v < lo || v > hi {
        return Err(Fault::new(
            CHECK,
            format_args!("{v} is not between {lo} and {hi}"),
        ));
    }
    Ok(())
}

/// `nonneg`: `v >= 0`.
pub fn nonneg(v: i64) -> Verdict {
    if v < 0 {
        return Err(Fault::new(CHECK, format_args!("{v} is negative")));
    }
    Ok(())
}

/// `positive`: `v > 0`.
pub fn positive(v: i64) -> Verdict {
    if v <= 0 {
        return Err(Fault::new(CHECK, format_args!("{v} is not positive")));
    }
    Ok(())
}

/// `atleast(MIN)`: a size of at least `min`, compared as the unsigned `size_t` it is.
pub fn at_least(v: i64, min: i64) -> Verdict {
    if (v as u64) < (min as u64) {
        return Err(Fault::new(
            CHECK,
            format_args!("{} is below the minimum {min}", v as u64),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_inclusive() {
        assert!(range(0, 0, 999_999_999).is_ok());
        assert!(range(999_999_999, 0, 999_999_999).is_ok());
        assert_eq!(
            range(1_000_000_000, 0, 999_999_999)
                .unwrap_err()
                .msg
                .as_str(),
            "1000000000 is not between 0 and 999999999"
        );
        assert!(range(-1, 0, 5).is_err());
        assert!(nonneg(0).is_ok());
        assert_eq!(nonneg(-1).unwrap_err().msg.as_str(), "-1 is negative");
        assert!(positive(1).is_ok());
        assert_eq!(positive(0).unwrap_err().msg.as_str(), "0 is not positive");
    }
}
