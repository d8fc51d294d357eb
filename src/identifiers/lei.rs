//! ISO 17442 Legal Entity Identifiers.

use super::{check::mod97_10, compact_upper, invalid};
use crate::error::Result;

const KIND: &str = "LEI (ISO 17442)";

/// An ISO 17442 Legal Entity Identifier: 18 alphanumerics and two check digits such that the
/// whole, read with A = 10 .. Z = 35, is 1 modulo 97 (ISO 7064 MOD 97-10). Canonically 20
/// upper-case characters. MOD 97-10 detects every substitution of a digit by a digit or a
/// letter by a letter; a letter put for a digit (or the reverse) changes the length of the
/// digit expansion and goes unnoticed about once in 97: a property of the standard.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Lei(String);

impl Lei {
    /// Parses an LEI, ignoring (ASCII) case, white space, `-`, `.` and `/`.
    ///
    /// # Errors
    /// [`Error::Input`](crate::Error::Input) with
    /// [`InputReason::Value`](crate::error::InputReason::Value) on a wrong length, a character other than A-Z and
    /// 0-9, non-digit check characters, or a failed MOD 97-10 check.
    pub fn parse(input: &str) -> Result<Self> {
        let shown = crate::error::excerpt(input);
        let s = compact_upper(input);
        if s.chars().count() != 20 {
            return Err(invalid(KIND, format!("`{shown}` is not 20 characters")));
        }
        if !s
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        {
            return Err(invalid(
                KIND,
                format!("`{shown}` holds a character other than A-Z, 0-9"),
            ));
        }
        if !s.as_bytes()[18..].iter().all(u8::is_ascii_digit) {
            return Err(invalid(
                KIND,
                format!("`{shown}`: the last two characters must be digits"),
            ));
        }
        if mod97_10(&s) != Some(1) {
            return Err(invalid(
                KIND,
                format!("`{shown}` fails the ISO 7064 MOD 97-10 check"),
            ));
        }
        Ok(Lei(s))
    }

    /// The canonical 20 characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_impls!(Lei);
