//! Identifier kinds: parse, validate and canonicalise the values agencies match on.
//!
//! PSI finds only byte-identical items, so both parties must turn `"msc u 123456-6"`,
//! `"MSCU1234566"` and `"MSCU 123456 6"` into the same bytes, and must reject `"MSCU1234567"`
//! (wrong check digit) instead of silently missing it. Each family lives in its own file and
//! exposes one type whose only constructor is `parse`, so an invalid value cannot exist past
//! the edge of the program.
//!
//! [`IdentifierKind`] names a kind, dispatches parsing to the family's type and yields a
//! [`Canonical`] value; [`encode_item`] turns one or more canonical values into the byte
//! string that is hashed (`protocol-spec/05-identifiers.md`).

/// Display (the canonical text) and `FromStr` (= `parse`) for a newtype over `String`.
macro_rules! text_impls {
    ($t:ty) => {
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl std::str::FromStr for $t {
            type Err = crate::error::Error;
            fn from_str(s: &str) -> crate::error::Result<Self> {
                Self::parse(s)
            }
        }
    };
}

mod awb;
mod bic;
mod bill_of_lading;
mod check;
mod container;
mod country;
mod date;
mod eori;
pub mod extract;
mod hs;
mod iban;
mod imo;
mod kind;
mod lei;
mod locode;
mod name;
mod passport;
mod raw;

pub use awb::AirWaybill;
pub use bic::Bic;
pub use bill_of_lading::BillOfLading;
pub use container::ContainerNumber;
pub use date::DateOfBirth;
pub use eori::Eori;
pub use hs::HsCode;
pub use iban::Iban;
pub use imo::{ImoCompanyNumber, ImoShipNumber};
pub use kind::{encode_item, item_values, Canonical, IdentifierKind, MAX_INPUT_LEN, RULES_VERSION};
pub use lei::Lei;
pub use locode::UnLocode;
pub use name::{CompanyName, PersonName};
pub use passport::PassportNumber;
pub use raw::RawValue;

#[cfg(feature = "cli")]
pub(crate) use container::check_value as container_check_value;
#[cfg(feature = "cli")]
pub(crate) use imo::check_digit as imo_check_digit;

use crate::error::{Error, InputReason};

/// Builds the error of a value that failed to parse as `kind` ([`InputReason::Value`]): says
/// what is wrong with it.
pub(crate) fn invalid(kind: &str, reason: impl std::fmt::Display) -> Error {
    invalid_as(InputReason::Value, kind, reason)
}

/// As [`invalid`], with another reason (a value over a length limit:
/// [`InputReason::TooLarge`]).
pub(crate) fn invalid_as(why: InputReason, kind: &str, reason: impl std::fmt::Display) -> Error {
    Error::input(why, format!("not a valid {kind}: {reason}"))
}

/// Builds the error of a well-formed value that stands for "unknown" ([`InputReason::Placeholder`],
/// `protocol-spec/05-identifiers.md` 5.2.1).
pub(crate) fn placeholder(kind: &str, reason: impl std::fmt::Display) -> Error {
    invalid_as(
        InputReason::Placeholder,
        kind,
        format!("{reason}: a placeholder for an unknown value, which would match every other list's placeholder"),
    )
}

/// True when `s` is at least two characters, all the same (`0000000`, `XXXXXX`).
pub(crate) fn one_repeated(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => s.len() >= 2 && chars.all(|c| c == first),
        None => false,
    }
}

/// "Compacts" `s` (`protocol-spec/05-identifiers.md` 5.2): removes the separators people type
/// inside identifiers (every character with the Unicode `White_Space` property, `-`, `.`,
/// `/`) and maps `a`-`z` to `A`-`Z`, keeping every other character as it is so the validator
/// rejects it. Upper-casing is ASCII only: a Unicode mapping would turn some non-ASCII input
/// into valid ASCII (`ß` into `SS`, dotless `ı` into `I`), altering it into validity.
pub(crate) fn compact_upper(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '.' | '/'))
        .map(|c| c.to_ascii_uppercase())
        .collect()
}
