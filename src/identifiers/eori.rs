//! EORI numbers.

use super::{compact_upper, country, invalid, placeholder};
use crate::error::Result;

const KIND: &str = "EORI number";

/// An Economic Operators Registration and Identification number: a 2-letter country prefix
/// (ISO 3166-1 alpha-2, plus `EL` for Greece and `XI` for Northern Ireland as the EU uses
/// them) and 1 to 15 letters or digits; canonically upper-case with no separator.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Eori(String);

impl Eori {
    /// Parses an EORI number, ignoring case, white space, `-`, `.` and `/`.
    ///
    /// # Errors
    /// [`Error::Input`](crate::Error::Input) with
    /// [`InputReason::Value`](crate::error::InputReason::Value) if the country prefix is unknown or the rest is
    /// not 1 to 15 letters and digits.
    pub fn parse(input: &str) -> Result<Self> {
        let shown = crate::error::excerpt(input);
        let s = compact_upper(input);
        if !s.is_ascii() || s.len() < 3 || s.len() > 17 {
            return Err(invalid(
                KIND,
                format!("`{shown}` must be a country code and 1 to 15 letters or digits"),
            ));
        }
        let (cc, rest) = s.split_at(2);
        if !(country::is_iso3166_alpha2(cc) || cc == "EL" || cc == "XI") {
            return Err(invalid(
                KIND,
                format!("`{shown}`: `{cc}` is not a country code"),
            ));
        }
        if !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return Err(invalid(
                KIND,
                format!("`{shown}`: only letters and digits may follow the country"),
            ));
        }
        if rest.bytes().all(|b| b == b'0') {
            return Err(placeholder(
                KIND,
                format!("`{shown}`: only zeros after the country"),
            ));
        }
        Ok(Eori(s))
    }

    /// The canonical form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_impls!(Eori);
