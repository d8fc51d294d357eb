//! How many values each identifier kind can take: the domain a curious peer would have to
//! list to learn our whole set of that kind (`protocol-spec/06-policy-and-audit.md` section
//! 2.3, "Enumeration").
//!
//! PSI lets a peer learn which of *its* items we hold. A peer that lists every valid value of
//! a kind as "its own" set learns our whole list of that kind; nothing in the cryptography
//! prevents it. What bounds it is the number of elements the policy lets a peer send in a
//! window, compared with the size of the kind's domain. For kinds whose values are drawn from
//! a small or public register the domain is that register, not the syntactic space: an
//! attacker lists the values that exist, not every string that passes the check digit.

use crate::identifiers::IdentifierKind;

/// The domain of an enumerable kind: how many values a peer would have to list, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Domain {
    /// The number of values (an upper estimate of what a peer needs to list).
    pub size: u64,
    /// Where the number comes from, for messages and the spec.
    pub basis: &'static str,
}

/// The domain of `kind`, or `None` when listing it is out of reach of any budget a policy can
/// set (more than 10^9 values, or no register to list: names, opaque numbers).
pub fn enumerable_domain(kind: IdentifierKind) -> Option<Domain> {
    let (size, basis) = match kind {
        IdentifierKind::ImoShip => (
            900_000,
            "7 digits whose last is a check digit, the first non-zero",
        ),
        IdentifierKind::ImoCompany => (10_000_000, "7 digits"),
        IdentifierKind::Lei => (
            3_000_000,
            "the LEIs issued (GLEIF publishes them: about 2.8 million)",
        ),
        IdentifierKind::HsCode => (
            20_000,
            "5,612 HS 2022 subheadings and the national 8- and 10-digit tariff lines",
        ),
        IdentifierKind::UnLocode => (120_000, "UN/LOCODE lists about 110,000 locations"),
        IdentifierKind::DateOfBirth => (45_000, "every day of the last 120 years"),
        IdentifierKind::Bic => (
            200_000,
            "the BICs in the SWIFT directory, branches included (it is published)",
        ),
        IdentifierKind::Eori => (
            100_000_000,
            "registered operators (GB EORIs are VAT numbers with 000)",
        ),
        IdentifierKind::Container
        | IdentifierKind::AirWaybill
        | IdentifierKind::Passport
        | IdentifierKind::PassportMrz
        | IdentifierKind::BillOfLading
        | IdentifierKind::Iban
        | IdentifierKind::PersonName
        | IdentifierKind::CompanyName
        | IdentifierKind::Raw => return None,
    };
    Some(Domain { size, basis })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_registers_are_enumerable_and_open_spaces_are_not() {
        let imo = enumerable_domain(IdentifierKind::ImoShip).map(|d| d.size);
        assert_eq!(imo, Some(900_000));
        assert!(enumerable_domain(IdentifierKind::HsCode).is_some_and(|d| d.size < 100_000));
        assert_eq!(enumerable_domain(IdentifierKind::Container), None);
        assert_eq!(enumerable_domain(IdentifierKind::Raw), None);
        for k in IdentifierKind::ALL {
            if let Some(d) = enumerable_domain(*k) {
                assert!(d.size > 0 && d.size <= 1_000_000_000, "{k}");
            }
        }
    }
}
