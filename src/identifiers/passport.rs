//! Passport and travel document numbers (ICAO 9303).

use super::{check::icao_9303, compact_upper, invalid, placeholder};
use crate::error::{Error, InputReason, Result};

const KIND: &str = "passport number";

/// A passport or travel document number in the ICAO 9303 character set (A-Z, 0-9), 1 to 20
/// characters, canonically upper-case with no separator and no `<` filler.
///
/// Parsing removes white space, `-`, `.` and `/` (`"92/664"` becomes `92664`). When the MRZ
/// check digit is supplied ([`PassportNumber::parse_with_check`] or
/// [`PassportNumber::parse_mrz_field`]) it is verified with weights 7, 3, 1 over the
/// 9-character field padded with `<`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PassportNumber(String);

impl PassportNumber {
    /// Parses a document number without check digit.
    ///
    /// # Errors
    /// [`Error::Input`](crate::Error::Input) with
    /// [`InputReason::Value`](crate::error::InputReason::Value) if it is empty, longer than 20 characters, or
    /// holds a character outside A-Z and 0-9.
    pub fn parse(input: &str) -> Result<Self> {
        let shown = crate::error::excerpt(input);
        let s = compact_upper(input);
        let s = s.trim_end_matches('<');
        if s.is_empty() || s.len() > 20 {
            return Err(invalid(
                KIND,
                format!("`{shown}` must have 1 to 20 characters"),
            ));
        }
        if let Some(c) = s
            .chars()
            .find(|c| !(c.is_ascii_digit() || c.is_ascii_uppercase()))
        {
            return Err(invalid(
                KIND,
                format!("`{shown}`: `{c}` is outside the ICAO 9303 character set A-Z, 0-9"),
            ));
        }
        if super::one_repeated(s) {
            return Err(placeholder(
                KIND,
                format!("`{shown}`: one character repeated"),
            ));
        }
        Ok(PassportNumber(s.to_string()))
    }

    /// Parses a document number and verifies its MRZ check digit.
    ///
    /// # Errors
    /// As [`PassportNumber::parse`], and when the check digit is not a digit or is wrong.
    pub fn parse_with_check(input: &str, check: char) -> Result<Self> {
        let shown = crate::error::excerpt(input);
        let number = Self::parse(input)?;
        let given = check
            .to_digit(10)
            .ok_or_else(|| invalid(KIND, format!("check digit `{check}` is not a digit")))?;
        let mut field = number.0.clone();
        while field.len() < 9 {
            field.push('<');
        }
        let expected = icao_9303(&field).ok_or_else(|| invalid(KIND, "bad character"))?;
        if given != expected {
            return Err(invalid(
                KIND,
                format!("`{shown}`: MRZ check digit is {given}, expected {expected}"),
            ));
        }
        Ok(number)
    }

    /// Parses the MRZ document-number field followed by its check digit: the number (1 to 9
    /// characters), optionally padded with `<` up to nine characters, then the check digit
    /// (`L898902C36` in the ICAO specimen; `AB12345<<6` and `AB123456` are the same number).
    ///
    /// # Errors
    /// As [`PassportNumber::parse_with_check`], and [`Error::Input`](crate::Error::Input)
    /// (reason `Value`) when the field before the check digit is longer than the nine
    /// characters of an ICAO 9303 document-number field.
    pub fn parse_mrz_field(input: &str) -> Result<Self> {
        let shown = crate::error::excerpt(input);
        let s = compact_upper(input);
        let mut chars = s.chars();
        let check = chars
            .next_back()
            .ok_or_else(|| invalid(KIND, "empty MRZ field"))?;
        let field = chars.as_str();
        if field.chars().count() > 9 {
            return Err(Error::input(
                InputReason::Value,
                format!(
                    "not a valid {KIND}: `{shown}`: an MRZ document-number field has at most 9 \
                     characters before its check digit"
                ),
            ));
        }
        Self::parse_with_check(field, check)
    }

    /// The canonical document number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_impls!(PassportNumber);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn icao_specimen() {
        assert_eq!(
            PassportNumber::parse_mrz_field("L898902C36")
                .map(|p| p.0)
                .ok(),
            Some("L898902C3".into())
        );
        assert!(PassportNumber::parse_mrz_field("L898902C37").is_err());
        // Fillers are optional; a field is at most 9 characters before its check digit
        // (`L898902C3A6` would pass the check computed over 10 characters).
        assert_eq!(
            PassportNumber::parse_mrz_field("AB123456").ok(),
            PassportNumber::parse_mrz_field("AB12345<<6").ok()
        );
        for long in ["L898902C3A6", "AB12345<<<6"] {
            let err = PassportNumber::parse_mrz_field(long).expect_err(long);
            assert!(
                matches!(&err, Error::Input(e) if e.reason == InputReason::Value),
                "{err:?}"
            );
        }
        assert!(PassportNumber::parse("AB 12-34").is_ok());
        assert!(PassportNumber::parse("AB#1234").is_err());
    }
}
