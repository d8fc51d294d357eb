//! IMO numbers: ship identification numbers and company / registered-owner numbers.

use crate::error::Result;

use super::{invalid, placeholder};

const SHIP: &str = "IMO ship number";
const COMPANY: &str = "IMO company number";

/// Compacts, strips an optional `IMO` prefix and, after it, an optional `:`, checks for
/// exactly 7 digits and refuses the placeholders `0000000` .. `9999999` (one digit seven
/// times) and `1234567` (`protocol-spec/05-identifiers.md` 5.2).
fn seven_digits(input: &str, kind: &str) -> Result<String> {
    let shown = crate::error::excerpt(input);
    let s = super::compact_upper(input);
    let s = match s.strip_prefix("IMO") {
        Some(rest) => rest.strip_prefix(':').unwrap_or(rest),
        None => &s,
    };
    if s.len() != 7 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(
            kind,
            format!("`{shown}` is not 7 digits (optionally after `IMO` or `IMO:`)"),
        ));
    }
    if super::one_repeated(s) || s == "1234567" {
        return Err(placeholder(kind, format!("`{shown}`")));
    }
    Ok(s.to_string())
}

/// An IMO ship identification number (SOLAS XI-1/3): seven digits, the last being the check
/// digit, canonically written without the `IMO` prefix (`9187629`).
///
/// The check digit is the sum of the first six digits weighted 7, 6, 5, 4, 3, 2, modulo 10.
/// It detects every change of the check digit, but not a change of a digit by `d` where
/// `d × weight` is a multiple of 10 (for example a change by 5 in a position of even weight):
/// a property of the scheme.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImoShipNumber(String);

impl ImoShipNumber {
    /// Parses `9187629`, `IMO 9187629`, `IMO9187629`, `IMO: 9187629` or `imo:9187629`: the
    /// input is compacted (white space, `-`, `.`, `/` removed, ASCII upper-cased), then a
    /// leading `IMO` and, only after it, one `:` are removed.
    ///
    /// # Errors
    /// [`Error::Input`](crate::Error::Input) with
    /// [`InputReason::Value`](crate::error::InputReason::Value) if it is not seven digits or the check digit is wrong.
    pub fn parse(input: &str) -> Result<Self> {
        let shown = crate::error::excerpt(input);
        let s = seven_digits(input, SHIP)?;
        let d: Vec<u32> = s.bytes().map(|b| u32::from(b - b'0')).collect();
        let expected = check_digit(&d[..6]);
        if d[6] != expected {
            return Err(invalid(
                SHIP,
                format!("`{shown}`: check digit is {}, expected {expected} (an IMO company number uses another scheme)", d[6]),
            ));
        }
        Ok(ImoShipNumber(s))
    }

    /// The canonical 7 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The IMO ship-number check digit of the first six digits.
pub(crate) fn check_digit(six: &[u32]) -> u32 {
    six.iter()
        .zip((2..=7).rev())
        .map(|(d, w)| d * w)
        .sum::<u32>()
        % 10
}

/// An IMO unique company and registered-owner identification number: seven digits with no
/// ship check digit (IMO Resolution MSC.160(78)), canonically written without `IMO`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ImoCompanyNumber(String);

impl ImoCompanyNumber {
    /// Parses seven digits, optionally after `IMO` or `IMO:` (as [`ImoShipNumber::parse`]).
    ///
    /// # Errors
    /// [`Error::Input`](crate::Error::Input) with
    /// [`InputReason::Value`](crate::error::InputReason::Value) if it is not seven digits.
    pub fn parse(input: &str) -> Result<Self> {
        seven_digits(input, COMPANY).map(ImoCompanyNumber)
    }

    /// The canonical 7 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_impls!(ImoShipNumber);
text_impls!(ImoCompanyNumber);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_numbers() {
        // IMO 9074729 is the example given in the IMO's own explanation of the scheme.
        assert!(ImoShipNumber::parse("IMO 9074729").is_ok());
        assert!(ImoShipNumber::parse("9074728").is_err());
        assert_eq!(
            ImoShipNumber::parse("imo:9187629").map(|n| n.0).ok(),
            Some("9187629".into())
        );
        assert!(ImoShipNumber::parse("918762").is_err());
        assert!(ImoCompanyNumber::parse("IMO 5283413").is_ok());
        assert!(ImoCompanyNumber::parse("IMO: 5283413").is_ok());
        // Placeholders pass the check digit (0000000, 1234567) but are refused.
        for p in ["0000000", "IMO 0000000", "1234567"] {
            for e in [
                ImoShipNumber::parse(p).map(|_| ()),
                ImoCompanyNumber::parse(p).map(|_| ()),
            ] {
                assert!(
                    matches!(&e, Err(crate::Error::Input(i)) if i.reason == crate::error::InputReason::Placeholder),
                    "{p}: {e:?}"
                );
            }
        }
        assert!(ImoCompanyNumber::parse("9999999").is_err());
        // The `:` only after `IMO`, once; ASCII upper-casing only (`ı` is dotless i).
        for bad in [":9187629", "IMO::9187629", "9187629:", "ımo 9187629"] {
            assert!(ImoShipNumber::parse(bad).is_err(), "{bad}");
        }
    }
}
