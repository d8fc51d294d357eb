//! Harmonized System commodity codes.

use super::{compact_upper, invalid};
use crate::error::Result;

const KIND: &str = "HS code";

/// A Harmonized System code: 6 digits (the international subheading), or a national 8 or
/// 10-digit extension of one; canonically the digits alone (`0101.21` becomes `010121`).
/// The chapter (first two digits) must be 01 to 99, 77 excepted (reserved): chapters 98 and
/// 99 hold national codes (US HTS `9801.00.10.00`, special provisions).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HsCode(String);

impl HsCode {
    /// Parses an HS code, ignoring white space, `.`, `-` and `/`.
    ///
    /// # Errors
    /// [`Error::Input`](crate::Error::Input) with
    /// [`InputReason::Value`](crate::error::InputReason::Value) if it is not 6, 8 or 10 digits or the chapter
    /// does not exist.
    pub fn parse(input: &str) -> Result<Self> {
        let shown = crate::error::excerpt(input);
        let s = compact_upper(input);
        if !matches!(s.len(), 6 | 8 | 10) || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid(KIND, format!("`{shown}` is not 6, 8 or 10 digits")));
        }
        let chapter: u32 = s[..2].parse().unwrap_or(0);
        if !(1..=99).contains(&chapter) || chapter == 77 {
            return Err(invalid(
                KIND,
                format!("`{shown}`: chapter {chapter:02} does not exist"),
            ));
        }
        Ok(HsCode(s))
    }

    /// The canonical digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 6-digit international subheading.
    pub fn subheading(&self) -> &str {
        &self.0[..6]
    }
}

text_impls!(HsCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn national_chapters_98_and_99() {
        assert_eq!(
            HsCode::parse("9801.00.10.00").map(|c| c.0).ok().as_deref(),
            Some("9801001000")
        );
        assert!(HsCode::parse("9903.88.03").is_ok());
        for bad in ["7701.10", "000000", "0001.10"] {
            assert!(HsCode::parse(bad).is_err(), "{bad}");
        }
    }
}
