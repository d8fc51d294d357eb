//! ISO 6346 freight container numbers.

use super::{compact_upper, invalid, placeholder};
use crate::error::Result;

const KIND: &str = "container number (ISO 6346)";

/// An ISO 6346 container number: 3-letter owner code, equipment category `U`, `J` or `Z`,
/// 6-digit serial number and check digit, canonically written as 11 characters with no
/// separator (`MSCU1234566`).
///
/// Parsing upper-cases the input and removes white space, `-`, `.` and `/`, so
/// `"msc u 123456-6"` and `"MSCU 123456 6"` both give `MSCU1234566`.
///
/// The check digit detects every change of one digit of the serial number and every change of
/// the check digit itself, except that ISO 6346 maps a remainder of 10 to the digit 0. Letter
/// values that differ by a multiple of 11 (`A` = 10 and `K` = 21, for example) are not told
/// apart by the check digit: that is a property of the standard, not of this parser.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ContainerNumber(String);

/// The ISO 6346 numerical value of a character: digits are themselves; letters start at
/// A = 10 and skip 11, 22 and 33.
fn value(c: char) -> Option<u32> {
    const LETTERS: [u32; 26] = [
        10, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 34, 35,
        36, 37, 38,
    ];
    match c {
        '0'..='9' => c.to_digit(10),
        'A'..='Z' => Some(LETTERS[(c as u8 - b'A') as usize]),
        _ => None,
    }
}

impl ContainerNumber {
    /// Parses and validates a container number.
    ///
    /// # Errors
    /// [`Error::Input`](crate::Error::Input) with
    /// [`InputReason::Value`](crate::error::InputReason::Value) naming the problem: wrong length, owner code not three letters,
    /// equipment category not `U`, `J` or `Z`, serial not six digits, or wrong check digit;
    /// with [`InputReason::Placeholder`](crate::error::InputReason::Placeholder) for the serial
    /// number `000000`.
    pub fn parse(input: &str) -> Result<Self> {
        let shown = crate::error::excerpt(input);
        let s = compact_upper(input);
        let chars: Vec<char> = s.chars().collect();
        if chars.len() != 11 {
            return Err(invalid(
                KIND,
                format!(
                    "`{shown}` has {} characters, expected 11 (4 letters, 7 digits)",
                    chars.len()
                ),
            ));
        }
        if !chars[..3].iter().all(|c| c.is_ascii_uppercase()) {
            return Err(invalid(
                KIND,
                format!("`{shown}`: the owner code must be 3 letters"),
            ));
        }
        if !matches!(chars[3], 'U' | 'J' | 'Z') {
            return Err(invalid(
                KIND,
                format!(
                    "`{shown}`: equipment category `{}` is not U, J or Z",
                    chars[3]
                ),
            ));
        }
        if !chars[4..].iter().all(char::is_ascii_digit) {
            return Err(invalid(
                KIND,
                format!("`{shown}`: serial and check digit must be 7 digits"),
            ));
        }
        let expected = check_digit(&s[..10]).ok_or_else(|| invalid(KIND, "bad character"))?;
        let given = chars[10].to_digit(10).unwrap_or(99);
        if given != expected {
            return Err(invalid(
                KIND,
                format!("`{shown}`: check digit is {given}, expected {expected}"),
            ));
        }
        if &s[4..10] == "000000" {
            return Err(placeholder(
                KIND,
                format!("`{shown}`: serial number 000000"),
            ));
        }
        Ok(ContainerNumber(s))
    }

    /// The canonical 11-character form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The 3-letter owner code.
    pub fn owner_code(&self) -> &str {
        &self.0[..3]
    }
}

/// ISO 6346 check value of the first 10 characters (owner code, category, serial): sum of
/// value × 2^position, mod 11 (0 to 10). `None` if a character has no value.
pub(crate) fn check_value(first10: &str) -> Option<u32> {
    let mut sum = 0u32;
    for (i, c) in first10.chars().enumerate() {
        sum += value(c)? << i;
    }
    Some(sum % 11)
}

/// ISO 6346 check digit: the check value mod 10 (a value of 10 is written 0).
pub(crate) fn check_digit(first10: &str) -> Option<u32> {
    check_value(first10).map(|v| v % 10)
}

text_impls!(ContainerNumber);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letter_values_follow_the_standard() {
        let expected = [
            10, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 34,
            35, 36, 37, 38,
        ];
        for (c, e) in ('A'..='Z').zip(expected) {
            assert_eq!(value(c), Some(e), "{c}");
        }
    }

    #[test]
    fn known_numbers() {
        // Example from the BIC (owner of ISO 6346) documentation: CSQU3054383.
        assert_eq!(
            ContainerNumber::parse("CSQU3054383").map(|c| c.0).ok(),
            Some("CSQU3054383".into())
        );
        assert!(ContainerNumber::parse("CSQU3054384").is_err());
        assert_eq!(
            ContainerNumber::parse("csq u 305438-3").map(|c| c.0).ok(),
            Some("CSQU3054383".into())
        );
        assert!(ContainerNumber::parse("CSQX3054383").is_err());
    }
}
