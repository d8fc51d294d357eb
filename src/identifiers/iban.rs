//! International Bank Account Numbers (ISO 13616).

use super::{check::mod97_10, compact_upper, invalid, placeholder};
use crate::error::Result;

const KIND: &str = "IBAN (ISO 13616)";

/// The countries that issue IBANs and the length of theirs, from the SWIFT IBAN Registry
/// (sorted; `protocol-spec/05-identifiers.md` 5.2.2 lists the same).
pub(crate) const LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BI", 27),
    ("BR", 29),
    ("BY", 28),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DJ", 27),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FK", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HN", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IQ", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LC", 32),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("LY", 25),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MN", 20),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NI", 28),
    ("NL", 18),
    ("NO", 15),
    ("OM", 23),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("RU", 33),
    ("SA", 24),
    ("SC", 31),
    ("SD", 18),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("SO", 23),
    ("ST", 25),
    ("SV", 28),
    ("TL", 23),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
    ("YE", 30),
];

/// An IBAN: a country code, two check digits and the country's basic bank account number
/// (BBAN), canonically the compact upper-case form without the `IBAN` label
/// (`GB82WEST12345698765432`).
///
/// The check digits are verified with ISO 7064 MOD 97-10 over the BBAN, the country and the
/// check digits, in that order (letters A = 10 .. Z = 35): the remainder must be 1, and the
/// check digits 02 to 98 (00, 01 and 99 are congruent to 97, 98 and 02, and never issued). As
/// for an LEI, every single-character substitution and every transposition of adjacent
/// characters is detected, except a letter put for a digit or the reverse about once in 97.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Iban(String);

impl Iban {
    /// Parses an IBAN, ignoring (ASCII) case, white space, `-`, `.`, `/` and a leading
    /// `IBAN` (or `IBAN:`) label, as printed (`IBAN GB82 WEST 1234 5698 7654 32`).
    ///
    /// # Errors
    /// [`Error::Input`](crate::Error::Input) with
    /// [`InputReason::Value`](crate::error::InputReason::Value) if the country issues no IBAN,
    /// the length is not the country's, a character is not A-Z or 0-9, or the check fails;
    /// with [`InputReason::Placeholder`](crate::error::InputReason::Placeholder) if the BBAN
    /// is only zeros.
    pub fn parse(input: &str) -> Result<Self> {
        let shown = crate::error::excerpt(input);
        let s = compact_upper(input);
        let s = match s.strip_prefix("IBAN") {
            Some(rest) => rest.strip_prefix(':').unwrap_or(rest),
            None => &s,
        };
        if !s
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
            || s.len() < 5
        {
            return Err(invalid(
                KIND,
                format!("`{shown}`: a country code, two check digits and letters or digits"),
            ));
        }
        let (cc, rest) = s.split_at(2);
        let Ok(i) = LENGTHS.binary_search_by(|(c, _)| (*c).cmp(cc)) else {
            return Err(invalid(KIND, format!("`{shown}`: `{cc}` issues no IBAN")));
        };
        let len = LENGTHS[i].1;
        if s.len() != len {
            return Err(invalid(
                KIND,
                format!(
                    "`{shown}` has {} characters; an IBAN of {cc} has {len}",
                    s.len()
                ),
            ));
        }
        let (check, bban) = rest.split_at(2);
        let digits = check
            .parse::<u8>()
            .ok()
            .filter(|_| check.bytes().all(|b| b.is_ascii_digit()));
        if !digits.is_some_and(|d| (2..=98).contains(&d)) {
            return Err(invalid(
                KIND,
                format!("`{shown}`: check digits `{check}` are not 02 to 98"),
            ));
        }
        if mod97_10(&format!("{bban}{cc}{check}")) != Some(1) {
            return Err(invalid(
                KIND,
                format!("`{shown}` fails the ISO 7064 MOD 97-10 check"),
            ));
        }
        if bban.bytes().all(|b| b == b'0') {
            return Err(placeholder(
                KIND,
                format!("`{shown}`: the account number is only zeros"),
            ));
        }
        Ok(Iban(s.to_string()))
    }

    /// The canonical form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The country code.
    pub fn country(&self) -> &str {
        &self.0[..2]
    }
}

text_impls!(Iban);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registry_examples() {
        // Examples of the SWIFT IBAN Registry and of national banks.
        for iban in [
            "GB82WEST12345698765432",
            "DE89370400440532013000",
            "FR1420041010050500013M02606",
            "NL91ABNA0417164300",
            "BE68539007547034",
            "CH9300762011623852957",
            "NO9386011117947",
            "MT84MALT011000012345MTLCAST001S",
            "IT60X0542811101000000123456",
            "ES9121000418450200051332",
            "AT611904300234573201",
            "PL61109010140000071219812874",
            "SA0380000000608010167519",
        ] {
            assert_eq!(Iban::parse(iban).map(|i| i.0).ok().as_deref(), Some(iban));
        }
        assert_eq!(
            Iban::parse("IBAN gb82 west 1234 5698 7654 32")
                .map(|i| i.0)
                .ok()
                .as_deref(),
            Some("GB82WEST12345698765432")
        );
        for bad in [
            "GB82WEST12345698765433", // check
            "GB82WEST1234569876543",  // length
            "XX82WEST12345698765432", // country
            "US82WEST12345698765432", // no IBAN in the US
            "GB28WEST12345698765432", // transposed check digits
            "GB82WEST1234569876543É",
        ] {
            assert!(Iban::parse(bad).is_err(), "{bad}");
        }
        assert!(LENGTHS.windows(2).all(|w| w[0].0 < w[1].0));
    }
}
