//! The identifier kinds, parse dispatch, and the item encoding that is hashed.

use std::fmt;
use std::str::FromStr;

use crate::error::{Error, InputReason, Result};

/// Version of the canonicalisation rules. It is part of every encoded item, so values
/// canonicalised under different rules never match by accident; bump it whenever a rule in
/// this module changes the canonical form of any input.
pub const RULES_VERSION: u8 = 1;

/// The longest input of any kind, in bytes (before canonicalisation); longer values are
/// rejected with [`InputReason::TooLarge`] (`protocol-spec/05-identifiers.md` 5.2).
pub const MAX_INPUT_LEN: usize = 4096;

/// Every identifier kind blindmatch can match on.
///
/// The names (for `--key column:kind`, mapping files and reports) are the snake-case strings
/// returned by [`IdentifierKind::name`]; [`IdentifierKind::tag`] is the byte that enters the
/// encoded item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum IdentifierKind {
    /// An opaque value: trimmed, otherwise kept as is.
    Raw,
    /// ISO 6346 freight container number.
    Container,
    /// IMO ship identification number (with its check digit).
    ImoShip,
    /// IMO unique company and registered owner identification number (no ship check digit).
    ImoCompany,
    /// ISO 17442 Legal Entity Identifier.
    Lei,
    /// Passport or travel document number (ICAO 9303 character set), without check digit.
    Passport,
    /// The ICAO 9303 MRZ document-number field followed by its check digit; canonicalises to
    /// the same item as [`IdentifierKind::Passport`].
    PassportMrz,
    /// IATA air waybill number.
    AirWaybill,
    /// EU Economic Operators Registration and Identification number.
    Eori,
    /// Harmonized System code (6 digits, or a national 8 or 10 digit extension).
    HsCode,
    /// UN/LOCODE location code.
    UnLocode,
    /// Bill of lading number (opaque).
    BillOfLading,
    /// A person's name.
    PersonName,
    /// A company's name (legal forms removed).
    CompanyName,
    /// A date of birth.
    DateOfBirth,
    /// ISO 13616 International Bank Account Number.
    Iban,
    /// ISO 9362 Business Identifier Code (SWIFT code).
    Bic,
}

impl IdentifierKind {
    /// All kinds, in tag order.
    pub const ALL: &'static [IdentifierKind] = &[
        IdentifierKind::Raw,
        IdentifierKind::Container,
        IdentifierKind::ImoShip,
        IdentifierKind::ImoCompany,
        IdentifierKind::Lei,
        IdentifierKind::Passport,
        IdentifierKind::PassportMrz,
        IdentifierKind::AirWaybill,
        IdentifierKind::Eori,
        IdentifierKind::HsCode,
        IdentifierKind::UnLocode,
        IdentifierKind::BillOfLading,
        IdentifierKind::PersonName,
        IdentifierKind::CompanyName,
        IdentifierKind::DateOfBirth,
        IdentifierKind::Iban,
        IdentifierKind::Bic,
    ];

    /// The kind's name as written in `--key column:kind` and in mapping files.
    pub fn name(self) -> &'static str {
        match self {
            IdentifierKind::Raw => "raw",
            IdentifierKind::Container => "container",
            IdentifierKind::ImoShip => "imo_ship",
            IdentifierKind::ImoCompany => "imo_company",
            IdentifierKind::Lei => "lei",
            IdentifierKind::Passport => "passport",
            IdentifierKind::PassportMrz => "passport_mrz",
            IdentifierKind::AirWaybill => "awb",
            IdentifierKind::Eori => "eori",
            IdentifierKind::HsCode => "hs",
            IdentifierKind::UnLocode => "locode",
            IdentifierKind::BillOfLading => "bill_of_lading",
            IdentifierKind::PersonName => "person_name",
            IdentifierKind::CompanyName => "company_name",
            IdentifierKind::DateOfBirth => "date_of_birth",
            IdentifierKind::Iban => "iban",
            IdentifierKind::Bic => "bic",
        }
    }

    /// The byte identifying the kind inside an encoded item (`protocol-spec/05-identifiers.md`).
    /// [`IdentifierKind::PassportMrz`] shares the tag of [`IdentifierKind::Passport`]: both
    /// canonicalise to the bare document number, so they must match each other.
    pub fn tag(self) -> u8 {
        match self {
            IdentifierKind::Raw => 0x01,
            IdentifierKind::Container => 0x02,
            IdentifierKind::ImoShip => 0x03,
            IdentifierKind::ImoCompany => 0x04,
            IdentifierKind::Lei => 0x05,
            IdentifierKind::Passport | IdentifierKind::PassportMrz => 0x06,
            IdentifierKind::AirWaybill => 0x07,
            IdentifierKind::Eori => 0x08,
            IdentifierKind::HsCode => 0x09,
            IdentifierKind::UnLocode => 0x0a,
            IdentifierKind::BillOfLading => 0x0b,
            IdentifierKind::PersonName => 0x0c,
            IdentifierKind::CompanyName => 0x0d,
            IdentifierKind::DateOfBirth => 0x0e,
            IdentifierKind::Iban => 0x0f,
            IdentifierKind::Bic => 0x10,
        }
    }

    /// Parses, validates and canonicalises `input` as a value of this kind.
    ///
    /// # Errors
    /// [`Error::Input`] with [`InputReason::Value`] saying what is wrong with the value (bad
    /// length, bad character, wrong check digit, unknown country, ...), or with
    /// [`InputReason::TooLarge`] for a value longer than [`MAX_INPUT_LEN`] bytes (a raw value:
    /// longer than [`RawValue::MAX_LEN`](super::RawValue::MAX_LEN) after trimming).
    pub fn parse(self, input: &str) -> Result<Canonical> {
        use super::*;
        if input.len() > MAX_INPUT_LEN {
            return Err(invalid_as(
                InputReason::TooLarge,
                self.name(),
                format!(
                    "a value of {} bytes (`{}`); no value of any kind is longer than \
                     {MAX_INPUT_LEN} bytes",
                    input.len(),
                    crate::error::excerpt(input)
                ),
            ));
        }
        let value = match self {
            IdentifierKind::Raw => RawValue::parse(input)?.to_string(),
            IdentifierKind::Container => ContainerNumber::parse(input)?.to_string(),
            IdentifierKind::ImoShip => ImoShipNumber::parse(input)?.to_string(),
            IdentifierKind::ImoCompany => ImoCompanyNumber::parse(input)?.to_string(),
            IdentifierKind::Lei => Lei::parse(input)?.to_string(),
            IdentifierKind::Passport => PassportNumber::parse(input)?.to_string(),
            IdentifierKind::PassportMrz => PassportNumber::parse_mrz_field(input)?.to_string(),
            IdentifierKind::AirWaybill => AirWaybill::parse(input)?.to_string(),
            IdentifierKind::Eori => Eori::parse(input)?.to_string(),
            IdentifierKind::HsCode => HsCode::parse(input)?.to_string(),
            IdentifierKind::UnLocode => UnLocode::parse(input)?.to_string(),
            IdentifierKind::BillOfLading => BillOfLading::parse(input)?.to_string(),
            IdentifierKind::PersonName => PersonName::parse(input)?.to_string(),
            IdentifierKind::CompanyName => CompanyName::parse(input)?.to_string(),
            IdentifierKind::DateOfBirth => DateOfBirth::parse(input)?.to_string(),
            IdentifierKind::Iban => Iban::parse(input)?.to_string(),
            IdentifierKind::Bic => Bic::parse(input)?.to_string(),
        };
        Ok(Canonical { kind: self, value })
    }
}

impl fmt::Display for IdentifierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for IdentifierKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        let wanted = s.trim().to_ascii_lowercase().replace('-', "_");
        IdentifierKind::ALL
            .iter()
            .copied()
            .find(|k| k.name() == wanted)
            .ok_or_else(|| {
                let names: Vec<&str> = IdentifierKind::ALL.iter().map(|k| k.name()).collect();
                Error::input(
                    InputReason::Argument,
                    format!(
                        "unknown identifier kind `{s}`; use one of: {}",
                        names.join(", ")
                    ),
                )
            })
    }
}

/// A validated value in canonical form, tagged with its kind. The only way to get one is
/// [`IdentifierKind::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Canonical {
    kind: IdentifierKind,
    value: String,
}

impl Canonical {
    /// The kind the value was parsed as.
    pub fn kind(&self) -> IdentifierKind {
        self.kind
    }

    /// The canonical text.
    pub fn value(&self) -> &str {
        &self.value
    }

    /// The item bytes of this value alone (`encode_item(&[self])`).
    pub fn to_item(&self) -> Vec<u8> {
        encode_item(std::slice::from_ref(self))
    }
}

impl fmt::Display for Canonical {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

/// Encodes one value, or the parts of a composite key in the order of the key's definition,
/// as the byte string that is hashed (`protocol-spec/05-identifiers.md`, section "Item
/// encoding"):
///
/// ```text
/// item = u8 part_count || part_1 || ... || part_n
/// part = u8 kind_tag || u8 rules_version || u32_be(len(value)) || value (UTF-8)
/// ```
///
/// Every part is length-prefixed and carries its kind, so no two different lists of parts
/// encode to the same bytes, and an item of one kind never equals an item of another.
///
/// Composite keys have at most 255 parts and values are far below 4 GiB (both enforced by
/// [`crate::records`] and the parsers), so the count and lengths always fit.
pub fn encode_item(parts: &[Canonical]) -> Vec<u8> {
    let len: usize = parts.iter().map(|p| 6 + p.value.len()).sum();
    let mut out = Vec::with_capacity(1 + len);
    out.push(u8::try_from(parts.len()).unwrap_or(u8::MAX));
    for p in parts {
        out.push(p.kind.tag());
        out.push(RULES_VERSION);
        let n = u32::try_from(p.value.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&n.to_be_bytes());
        out.extend_from_slice(p.value.as_bytes());
    }
    out
}

/// The canonical values of the parts of an item made by [`encode_item`], in order; `None`
/// when `item` is not such an encoding (or a value is not UTF-8).
pub fn item_values(item: &[u8]) -> Option<Vec<&str>> {
    let (&count, mut rest) = item.split_first()?;
    let mut values = Vec::with_capacity(usize::from(count));
    for _ in 0..count {
        let (header, tail) = rest.split_at_checked(6)?;
        let len = u32::from_be_bytes([header[2], header[3], header[4], header[5]]);
        let (value, tail) = tail.split_at_checked(usize::try_from(len).ok()?)?;
        values.push(std::str::from_utf8(value).ok()?);
        rest = tail;
    }
    rest.is_empty().then_some(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_values_undo_encode_item() {
        let k = IdentifierKind::ImoShip.parse("IMO 9187629").expect("valid");
        let d = IdentifierKind::DateOfBirth
            .parse("1970-01-02")
            .expect("valid");
        let item = encode_item(&[k.clone(), d.clone()]);
        assert_eq!(item_values(&item), Some(vec![k.value(), d.value()]));
        assert_eq!(
            item_values(&encode_item(std::slice::from_ref(&k))),
            Some(vec![k.value()])
        );
        for cut in 0..item.len() {
            assert_eq!(item_values(&item[..cut]), None, "cut at {cut}");
        }
        let mut longer = item.clone();
        longer.push(0);
        assert_eq!(item_values(&longer), None);
    }

    #[test]
    fn names_round_trip_and_tags_are_distinct() {
        for k in IdentifierKind::ALL {
            assert_eq!(k.name().parse::<IdentifierKind>().ok(), Some(*k));
        }
        let mut tags: Vec<u8> = IdentifierKind::ALL
            .iter()
            .filter(|k| **k != IdentifierKind::PassportMrz)
            .map(|k| k.tag())
            .collect();
        tags.sort_unstable();
        tags.dedup();
        assert_eq!(tags.len(), IdentifierKind::ALL.len() - 1);
        assert!(matches!(
            "container-number".parse::<IdentifierKind>(),
            Err(Error::Input(crate::error::InputError {
                reason: InputReason::Argument,
                ..
            }))
        ));
        // A bad value is a `Value`, an over-long raw value `TooLarge`.
        let reason = |k: IdentifierKind, v: &str| match k.parse(v) {
            Err(Error::Input(e)) => Some(e.reason),
            _ => None,
        };
        assert_eq!(
            reason(IdentifierKind::Container, "CSQU3054384"),
            Some(InputReason::Value)
        );
        assert_eq!(
            reason(
                IdentifierKind::Raw,
                &"x".repeat(super::super::RawValue::MAX_LEN + 1)
            ),
            Some(InputReason::TooLarge)
        );
    }

    #[test]
    fn same_text_different_kind_differs() {
        let a = IdentifierKind::ImoShip.parse("9187629").ok();
        let b = IdentifierKind::ImoCompany.parse("9187629").ok();
        let (a, b) = (a.map(|c| c.to_item()), b.map(|c| c.to_item()));
        assert!(a.is_some() && b.is_some());
        assert_ne!(a, b);
    }
}
