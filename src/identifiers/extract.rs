//! Extractors of identifiers embedded in free text, such as the `remarks` column of the OFAC
//! SDN list: `DOB 17 Dec 1984; Passport 1084010 (Egypt); Vessel Registration Identification
//! IMO 9187629;`.
//!
//! The text is split into clauses at `;` (and a final `.`), and each clause is read on its own,
//! after removing a leading `alt.` (OFAC's mark for a further value of the same field).
//! An extractor returns the raw text of each candidate; the caller parses it as the kind, so a
//! candidate that fails validation is reported as a reject, never dropped. What each kind
//! recognises, in a clause (labels are matched case-insensitively):
//!
//! | kind | clause | candidate |
//! |---|---|---|
//! | `imo_ship` | contains `Vessel Registration Identification IMO`, or starts with `IMO` | the 7 digits after `IMO` |
//! | `imo_company` | contains `Company Number IMO` or `Identification Number IMO` (OFAC's labels for company numbers) | the 7 digits after `IMO` |
//! | `lei` | starts with `Legal Entity Number` | the next word |
//! | `passport` | starts with `Passport` (also `Passport No.`, `Passport Number`, `Passport Booklet`) | up to `(`, `,`, a word that starts what follows the number (`issued`, `expires`, `and`, ... : [`PASSPORT_STOP_WORDS`]) or the end |
//! | `date_of_birth` | starts with `DOB` | the rest of the clause |
//! | `eori` | starts with `EORI` | the next word |
//! | `bic` | starts with `SWIFT/BIC`, `SWIFT` or `BIC` | the next word |
//! | `iban` | starts with `IBAN` | up to `(` or the end |
//!
//! Other kinds have no extractor.

use super::IdentifierKind;
use crate::error::{ConfigReason, Error, Result};

/// True if `kind` has an extractor.
pub fn supports(kind: IdentifierKind) -> bool {
    matches!(
        kind,
        IdentifierKind::ImoShip
            | IdentifierKind::ImoCompany
            | IdentifierKind::Lei
            | IdentifierKind::Passport
            | IdentifierKind::DateOfBirth
            | IdentifierKind::Eori
            | IdentifierKind::Bic
            | IdentifierKind::Iban
    )
}

/// The candidates for `kind` found in `text`, in order of appearance (raw, not yet validated).
///
/// # Errors
/// [`Error::Config`] with [`ConfigReason::Keys`] if `kind` has no extractor (see [`supports`]).
pub fn extract(kind: IdentifierKind, text: &str) -> Result<Vec<String>> {
    if !supports(kind) {
        return Err(Error::config(
            ConfigReason::Keys,
            format!(
                "identifiers of kind `{kind}` cannot be extracted from free text; extractors exist for imo_ship, imo_company, lei, passport, date_of_birth, eori, bic and iban"
            ),
        ));
    }
    let mut out = Vec::new();
    for clause in text.split(';') {
        let clause = clause.trim().trim_end_matches('.').trim();
        // OFAC marks further values of a field with `alt.`: `alt. Passport 6067015 (Comoros)`.
        let clause = clause
            .strip_prefix("alt.")
            .or_else(|| clause.strip_prefix("ALT."))
            .map_or(clause, str::trim_start);
        let upper = clause.to_ascii_uppercase();
        match kind {
            IdentifierKind::ImoShip
                if upper.contains("VESSEL REGISTRATION IDENTIFICATION IMO")
                    || upper.starts_with("IMO") =>
            {
                out.extend(imo_digits(&upper));
            }
            IdentifierKind::ImoCompany
                if (upper.contains("COMPANY NUMBER IMO")
                    || upper.contains("IDENTIFICATION NUMBER IMO"))
                    && !upper.contains("VESSEL REGISTRATION") =>
            {
                out.extend(imo_digits(&upper));
            }
            IdentifierKind::Lei => {
                out.extend(after_label(clause, &upper, &["LEGAL ENTITY NUMBER"], true))
            }
            IdentifierKind::Eori => {
                out.extend(after_label(clause, &upper, &["EORI NUMBER", "EORI"], true))
            }
            IdentifierKind::DateOfBirth => out.extend(after_label(clause, &upper, &["DOB"], false)),
            IdentifierKind::Bic => out.extend(after_label(
                clause,
                &upper,
                &["SWIFT/BIC", "SWIFT", "BIC"],
                true,
            )),
            IdentifierKind::Iban => out.extend(
                after_label(clause, &upper, &["IBAN"], false)
                    .map(|r| r.split('(').next().unwrap_or("").trim().to_string())
                    .filter(|r| !r.is_empty()),
            ),
            IdentifierKind::Passport => out.extend(passport(clause, &upper)),
            _ => {}
        }
    }
    Ok(out)
}

/// Words that end a passport number in a clause: what OFAC writes after it (`Passport
/// K754050 issued 26 May 1999 expires 25 May 2004`, `Passport OR801168 and Kuwaiti National
/// ID ...`), compared case-insensitively and without a trailing `:`.
pub const PASSPORT_STOP_WORDS: &[&str] = &[
    "AND", "DATE", "DATED", "EXP", "EXPIRE", "EXPIRED", "EXPIRES", "EXPIRING", "EXPIRY", "ISSUE",
    "ISSUED", "PLACE", "VALID",
];

/// The passport number of a clause that starts with a passport label, if it has one.
fn passport(clause: &str, upper: &str) -> Option<String> {
    let rest = after_label(
        clause,
        upper,
        &[
            "PASSPORT BOOKLET NUMBER",
            "PASSPORT BOOKLET NO",
            "PASSPORT BOOKLET",
            "PASSPORT NUMBER",
            "PASSPORT NO",
            "PASSPORT",
        ],
        false,
    )?;
    let rest = rest.trim_start_matches(['.', ':', ' ']);
    let rest = rest.split(['(', ',']).next().unwrap_or("");
    let words: Vec<&str> = rest
        .split_whitespace()
        .take_while(|w| {
            let w = w.trim_end_matches(':').to_ascii_uppercase();
            !PASSPORT_STOP_WORDS.contains(&w.as_str())
        })
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// Every `IMO` followed (after optional spaces or `:`) by exactly 7 digits; a longer or
/// shorter run of digits is returned as is, so the parser rejects it visibly.
fn imo_digits(upper: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = upper;
    while let Some(i) = rest.find("IMO") {
        let after = rest[i + 3..].trim_start_matches([' ', ':']);
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() {
            found.push(digits);
        }
        rest = &rest[i + 3..];
    }
    found
}

/// The text after the first label of `labels` that starts the clause (followed by a space or
/// the end), either the next word only or the whole rest.
fn after_label(clause: &str, upper: &str, labels: &[&str], word: bool) -> Option<String> {
    let label = labels.iter().find(|l| {
        upper.starts_with(*l)
            && upper[l.len()..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_ascii_alphanumeric())
    })?;
    let rest = clause[label.len()..].trim();
    let value = if word {
        rest.split_whitespace().next()?.to_string()
    } else {
        rest.to_string()
    };
    (!value.is_empty()).then_some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    const REMARKS: &str = "DOB 17 Dec 1984; POB Cairo; Passport 1084010 (Egypt); Passport No. A123 (Syria); alt. Passport 6067015 (Comoros); Vessel Registration Identification IMO 9187629; Company Number IMO 5283413; IMO 9074729; Legal Entity Number 253400V1H6ART1UQ0N98; alt. DOB 1985.";

    #[test]
    fn sdn_style_remarks() {
        let x = |k| extract(k, REMARKS).unwrap_or_default();
        assert_eq!(x(IdentifierKind::ImoShip), ["9187629", "9074729"]);
        assert_eq!(x(IdentifierKind::ImoCompany), ["5283413"]);
        assert_eq!(x(IdentifierKind::Passport), ["1084010", "A123", "6067015"]);
        let tails = "Passport G 649385 issued 08 Sep 2006 expires 17 Jul 2011; Passport Booklet \
                     A5250088 (Pakistan); alt. Passport Booklet: A5199819 (Pakistan); Passport \
                     issued in Sarajevo; Passport D000000483, Diplomatic (Syria); Passport \
                     OR801168 and Kuwaiti National ID No. 281020505755; Passport No.: 0310857, \
                     Eritrea, Issue Date 21 August 2006";
        assert_eq!(
            extract(IdentifierKind::Passport, tails).unwrap_or_default(),
            [
                "G 649385",
                "A5250088",
                "A5199819",
                "D000000483",
                "OR801168",
                "0310857"
            ]
        );
        assert_eq!(x(IdentifierKind::Lei), ["253400V1H6ART1UQ0N98"]);
        assert_eq!(x(IdentifierKind::DateOfBirth), ["17 Dec 1984", "1985"]);
        let bank = "SWIFT/BIC HAVIGB2L; alt. SWIFT/BIC KDBKKPPY; IBAN GB82 WEST 1234 5698 7654 32 (United Kingdom)";
        assert_eq!(
            extract(IdentifierKind::Bic, bank).unwrap_or_default(),
            ["HAVIGB2L", "KDBKKPPY"]
        );
        assert_eq!(
            extract(IdentifierKind::Iban, bank).unwrap_or_default(),
            ["GB82 WEST 1234 5698 7654 32"]
        );
        assert!(matches!(
            extract(IdentifierKind::Container, REMARKS),
            Err(Error::Config(crate::error::ConfigError {
                reason: ConfigReason::Keys,
                ..
            }))
        ));
    }
}
