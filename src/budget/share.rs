//! The bridge's share of the account's daily limit (`monday.daily_budget`): a number of calls,
//! or a percentage of the plan's limit, since every integration of the account draws on it.

use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Share {
    /// At most this many calls a day.
    Absolute(u64),
    /// This fraction (0 < f <= 1) of the account's daily limit.
    Fraction(f64),
}

impl Default for Share {
    fn default() -> Self {
        Share::Fraction(1.0)
    }
}

impl Share {
    /// Parses `"60%"`, `"0.6"` is refused (ambiguous), `"800"` is 800 calls.
    pub fn parse(text: &str) -> Result<Share, String> {
        let t = text.trim();
        if let Some(pct) = t.strip_suffix('%') {
            let p: f64 = pct
                .trim()
                .parse()
                .map_err(|_| format!("expected a percentage like \"60%\", got {text:?}"))?;
            if !(p > 0.0 && p <= 100.0) {
                return Err(format!(
                    "expected a percentage above 0 and at most 100, got {text:?}"
                ));
            }
            return Ok(Share::Fraction(p / 100.0));
        }
        match t.parse::<u64>() {
            Ok(0) => Err("expected at least 1 call a day (or a percentage like \"60%\")".into()),
            Ok(n) => Ok(Share::Absolute(n)),
            Err(_) => Err(format!(
                "expected a number of calls a day (e.g. 800) or a percentage of the plan's limit (e.g. \"60%\"), got {text:?}"
            )),
        }
    }

    /// The calls a day this share allows out of `limit`.
    pub fn of(&self, limit: u64) -> u64 {
        match *self {
            Share::Absolute(n) => n.min(limit),
            Share::Fraction(f) => ((limit as f64) * f).floor() as u64,
        }
    }
}

impl fmt::Display for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Share::Absolute(n) => write!(f, "{n} calls"),
            Share::Fraction(x) => write!(f, "{}%", x * 100.0),
        }
    }
}

/// Accepts a TOML integer (`800`) or string (`"800"`, `"60%"`); the error names what is wrong,
/// and config adds the key and the file.
impl<'de> Deserialize<'de> for Share {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Share, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Share;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number of calls a day or a percentage like \"60%\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Share, E> {
                Share::parse(&v.to_string()).map_err(E::custom)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Share, E> {
                Share::parse(&v.to_string()).map_err(E::custom)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Share, E> {
                Share::parse(v).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_calls_and_percentages() {
        assert_eq!(Share::parse("800"), Ok(Share::Absolute(800)));
        assert_eq!(Share::parse(" 60% "), Ok(Share::Fraction(0.6)));
        assert_eq!(Share::parse("100%"), Ok(Share::Fraction(1.0)));
        for bad in ["0", "0%", "101%", "-5", "0.6", "lots", ""] {
            assert!(Share::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn share_of_a_limit() {
        assert_eq!(Share::Fraction(0.6).of(1_000), 600);
        assert_eq!(Share::Absolute(800).of(1_000), 800);
        // Never more than the account has.
        assert_eq!(Share::Absolute(5_000).of(1_000), 1_000);
    }
}
