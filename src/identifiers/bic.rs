//! Business Identifier Codes (ISO 9362, the SWIFT code of a bank).

use super::{compact_upper, country, invalid};
use crate::error::Result;

const KIND: &str = "BIC (ISO 9362)";

/// A BIC: a 4-character business party prefix, a 2-letter country code, a 2-character
/// location and an optional 3-character branch, letters and digits (ISO 9362:2014).
/// Canonically 8 characters for the primary office (the branch `XXX` is dropped:
/// `DEUTDEFFXXX` is `DEUTDEFF`), 11 for a branch (`DEUTDEFF500`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Bic(String);

impl Bic {
    /// Parses a BIC, ignoring (ASCII) case, white space, `-`, `.` and `/`.
    ///
    /// # Errors
    /// [`Error::Input`](crate::Error::Input) with
    /// [`InputReason::Value`](crate::error::InputReason::Value) if it is not 8 or 11 letters
    /// and digits or the country code is not an ISO 3166-1 alpha-2 code (or `XK`, Kosovo).
    pub fn parse(input: &str) -> Result<Self> {
        let shown = crate::error::excerpt(input);
        let s = compact_upper(input);
        if !matches!(s.len(), 8 | 11)
            || !s
                .bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        {
            return Err(invalid(
                KIND,
                format!("`{shown}` is not 8 or 11 letters and digits"),
            ));
        }
        let cc = &s[4..6];
        if !(country::is_iso3166_alpha2(cc) || cc == "XK") {
            return Err(invalid(
                KIND,
                format!("`{shown}`: `{cc}` (characters 5 and 6) is not a country code"),
            ));
        }
        let s = match s.strip_suffix("XXX") {
            Some(primary) if s.len() == 11 => primary.to_string(),
            _ => s,
        };
        Ok(Bic(s))
    }

    /// The canonical form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_impls!(Bic);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primary_offices_and_branches() {
        let c = |s: &str| Bic::parse(s).map(|b| b.0).ok();
        assert_eq!(c("DEUTDEFF").as_deref(), Some("DEUTDEFF"));
        assert_eq!(c("deut de ff xxx").as_deref(), Some("DEUTDEFF"));
        assert_eq!(c("DEUTDEFF500").as_deref(), Some("DEUTDEFF500"));
        assert_eq!(c("NEDSZAJJXXX").as_deref(), Some("NEDSZAJJ"));
        for bad in ["DEUTXXFF", "DEUTDEF", "DEUTDEFF5", "DEUTDEFF50É", "DEUT-DE"] {
            assert!(Bic::parse(bad).is_err(), "{bad}");
        }
    }
}
