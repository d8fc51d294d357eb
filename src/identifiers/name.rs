//! Person and company names.
//!
//! Names have no check digit, so canonicalisation is all we can do to make two spellings of
//! the same name meet. The steps, in order (rules version 1):
//!
//! 1. Unicode NFKC (compatibility forms such as full-width letters and ligatures unfold);
//! 2. transliteration to Latin ASCII (`deunicode`: `Müller` → `Muller`, `ООО` → `OOO`);
//! 3. case folding to upper case;
//! 4. `&` becomes the word `AND`; apostrophes and dots are deleted, so `O'Brien` → `OBRIEN`
//!    and `S.A.` → `SA` (initials stay one token); every other character that is not a letter
//!    or digit becomes a space;
//! 5. white space collapses: the name becomes a list of tokens;
//! 6. company names only: tokens that are legal forms ([`LEGAL_FORMS`]) are removed, unless
//!    nothing else would remain;
//! 7. the tokens are sorted and joined by single spaces, so `SMITH, John` = `John Smith`.
//!
//! Token sorting and legal-form removal deliberately make different names equal
//! (`JOHN SMITH LTD` = `SMITH JOHN`): PSI on names finds candidates for an analyst, not proof.

use unicode_normalization::UnicodeNormalization;

use super::invalid;
use crate::error::Result;

/// Legal-form tokens removed from company names (after step 4, so `S.A.` is `SA` and
/// `Co., Ltd.` is `CO LTD`).
pub const LEGAL_FORMS: &[&str] = &[
    "AB",
    "AG",
    "AO",
    "AS",
    "ASA",
    "BHD",
    "BV",
    "CJSC",
    "CO",
    "CORP",
    "CORPORATION",
    "CV",
    "EOOD",
    "FZC",
    "FZCO",
    "FZE",
    "GMBH",
    "INC",
    "INCORPORATED",
    "JSC",
    "KFT",
    "KG",
    "LIMITED",
    "LLC",
    "LLP",
    "LP",
    "LTD",
    "LTDA",
    "NV",
    "OAO",
    "OJSC",
    "OOO",
    "OU",
    "OY",
    "PAO",
    "PJSC",
    "PLC",
    "PTE",
    "PTY",
    "PVT",
    "SA",
    "SAL",
    "SARL",
    "SAS",
    "SDN",
    "SL",
    "SPA",
    "SPZOO",
    "SRL",
    "SRO",
    "TOO",
    "ZAO",
];

/// Steps 1 to 5: the tokens of a name.
fn tokens(input: &str) -> Vec<String> {
    let nfkc: String = input.nfkc().collect();
    let latin = deunicode::deunicode(&nfkc);
    let mut cleaned = String::with_capacity(latin.len());
    for c in latin.chars() {
        match c {
            '&' => cleaned.push_str(" AND "),
            '\'' | '`' | '.' => {}
            c if c.is_ascii_alphanumeric() => cleaned.push(c.to_ascii_uppercase()),
            _ => cleaned.push(' '),
        }
    }
    cleaned.split_whitespace().map(str::to_string).collect()
}

fn finish(mut toks: Vec<String>) -> String {
    toks.sort_unstable();
    toks.join(" ")
}

/// A person's name in canonical form (steps 1-5 and 7 above): `Müller, Hans` and
/// `HANS MULLER` are both `HANS MULLER`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PersonName(String);

impl PersonName {
    /// Canonicalises a person's name.
    ///
    /// # Errors
    /// [`Error::Input`](crate::Error::Input) with
    /// [`InputReason::Value`](crate::error::InputReason::Value) if no letter or digit remains.
    pub fn parse(input: &str) -> Result<Self> {
        let shown = crate::error::excerpt(input);
        let t = tokens(input);
        if t.is_empty() {
            return Err(invalid("name", format!("`{shown}` has no letter or digit")));
        }
        Ok(PersonName(finish(t)))
    }

    /// The canonical form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A company's name in canonical form (all steps above): `Acme Trading Co., Ltd.` and
/// `ACME TRADING LIMITED` are both `ACME TRADING`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CompanyName(String);

impl CompanyName {
    /// Canonicalises a company name.
    ///
    /// # Errors
    /// [`Error::Input`](crate::Error::Input) with
    /// [`InputReason::Value`](crate::error::InputReason::Value) if no letter or digit remains.
    pub fn parse(input: &str) -> Result<Self> {
        let shown = crate::error::excerpt(input);
        let all = tokens(input);
        if all.is_empty() {
            return Err(invalid(
                "company name",
                format!("`{shown}` has no letter or digit"),
            ));
        }
        let kept: Vec<String> = all
            .iter()
            .filter(|t| LEGAL_FORMS.binary_search(&t.as_str()).is_err())
            .cloned()
            .collect();
        Ok(CompanyName(finish(if kept.is_empty() {
            all
        } else {
            kept
        })))
    }

    /// The canonical form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

text_impls!(PersonName);
text_impls!(CompanyName);

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> String {
        PersonName::parse(s).map(|n| n.0).unwrap_or_default()
    }
    fn c(s: &str) -> String {
        CompanyName::parse(s).map(|n| n.0).unwrap_or_default()
    }

    #[test]
    fn legal_forms_sorted() {
        assert!(LEGAL_FORMS.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn variants_meet() {
        assert_eq!(p("Müller, Hans"), "HANS MULLER");
        assert_eq!(p("  hans   MÜLLER "), "HANS MULLER");
        assert_eq!(p("Ｈａｎｓ Muller"), "HANS MULLER");
        assert_eq!(p("O'Brien, Seán"), "OBRIEN SEAN");
        assert_eq!(c("Acme Trading Co., Ltd."), "ACME TRADING");
        assert_eq!(c("ACME TRADING LIMITED"), "ACME TRADING");
        assert_eq!(c("ООО Ромашка"), "ROMASHKA");
        assert_eq!(c("Banco Nacional S.A."), "BANCO NACIONAL");
        assert_eq!(c("LLC"), "LLC");
        assert_ne!(p("Hans Müller"), p("Hans Mueller"));
        assert!(PersonName::parse(" ,; ").is_err());
    }
}
