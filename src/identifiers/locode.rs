//! UN/LOCODE location codes.

use super::{compact_upper, country, invalid};
use crate::error::Result;

const KIND: &str = "UN/LOCODE";

/// A UN/LOCODE: ISO 3166-1 alpha-2 country code (or `XZ`, international waters) and a
/// 3-character location code of letters A-Z and digits (UNECE Recommendation 16 assigns digits
/// 2-9, but the official list also holds `DE 9B0`, `DE B90` and `IT 940`, so every digit is
/// accepted); canonically 5 characters (`DE HAM` becomes `DEHAM`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UnLocode(String);

impl UnLocode {
    /// Parses a UN/LOCODE, ignoring (ASCII) case, white space, `-`, `.` and `/`.
    ///
    /// # Errors
    /// [`Error::Input`](crate::Error::Input) with
    /// [`InputReason::Value`](crate::error::InputReason::Value) if it is not 5 characters, the country is
    /// unknown, or the location holds a character outside A-Z and 0-9.
    pub fn parse(input: &str) -> Result<Self> {
        let shown = crate::error::excerpt(input);
        let s = compact_upper(input);
        if s.len() != 5 || !s.is_ascii() {
            return Err(invalid(KIND, format!("`{shown}` is not 5 characters")));
        }
        let (cc, loc) = s.split_at(2);
        if !(country::is_iso3166_alpha2(cc) || cc == "XZ") {
            return Err(invalid(
                KIND,
                format!("`{shown}`: `{cc}` is not a country code"),
            ));
        }
        if !loc
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        {
            return Err(invalid(
                KIND,
                format!("`{shown}`: the location must be letters A-Z and digits 0-9"),
            ));
        }
        Ok(UnLocode(s))
    }

    /// The canonical 5 characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_impls!(UnLocode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_of_the_official_list_with_digits() {
        // The three codes of UN/LOCODE 2018-1 (110,017 codes) holding a digit 0 or 1.
        for code in ["DE 9B0", "DE B90", "IT 940", "DE HAM", "XZ ZZZ"] {
            assert!(UnLocode::parse(code).is_ok(), "{code}");
        }
        for bad in ["DE HA!", "XX HAM", "DEHAMB", "DE HÄM"] {
            assert!(UnLocode::parse(bad).is_err(), "{bad}");
        }
    }
}
