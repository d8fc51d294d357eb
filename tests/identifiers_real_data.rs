//! Identifier validation against real public data (`data/README.md` lists sources, licences
//! and the independently measured facts checked here).

use std::collections::BTreeSet;
use std::path::Path;

use blindmatch::identifiers::{extract::extract, IdentifierKind, ImoShipNumber, Lei};

fn data(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(name)
}

/// (type, remarks) of every SDN record in the copy.
fn sdn() -> Vec<(String, String)> {
    let mut r =
        csv::Reader::from_path(data("ofac_sdn_2024-07-02_vessels_imo_lei.csv")).expect("sdn copy");
    r.records()
        .map(|rec| {
            let rec = rec.expect("readable row");
            (rec[2].trim().to_string(), rec[11].to_string())
        })
        .collect()
}

#[test]
fn sdn_vessel_registration_imo_numbers_validate_as_documented() {
    let records = sdn();
    // The documented count: labels with exactly one space before the 7 digits.
    let label = "Vessel Registration Identification IMO ";
    let (mut on_vessels, mut on_others) = (Vec::new(), Vec::new());
    for (kind, remarks) in &records {
        let mut rest = remarks.as_str();
        while let Some(i) = rest.find(label) {
            let digits: String = rest[i + label.len()..]
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            if digits.len() == 7 {
                if kind == "vessel" {
                    on_vessels.push(digits)
                } else {
                    on_others.push(digits)
                }
            }
            rest = &rest[i + label.len()..];
        }
    }
    assert_eq!(on_vessels.len(), 862);
    assert_eq!(on_others.len(), 9);
    assert!(on_vessels.iter().all(|n| ImoShipNumber::parse(n).is_ok()));
    assert_eq!(on_vessels.iter().collect::<BTreeSet<_>>().len(), 862);
    for n in &on_others {
        assert!(
            ImoShipNumber::parse(n).is_err(),
            "{n} on a company record passed"
        );
        assert!(IdentifierKind::ImoCompany.parse(n).is_ok());
    }

    // The extractor finds the same, plus the two vessel records written with two spaces.
    let (mut ext_vessels, mut ext_others) = (Vec::new(), Vec::new());
    for (kind, remarks) in &records {
        let found = extract(IdentifierKind::ImoShip, remarks).expect("extractor");
        if kind == "vessel" {
            ext_vessels.extend(found)
        } else {
            ext_others.extend(found)
        }
    }
    assert_eq!(ext_vessels.len(), 864);
    assert!(ext_vessels.iter().all(|n| ImoShipNumber::parse(n).is_ok()));
    assert!(on_vessels.iter().all(|n| ext_vessels.contains(n)));
    assert_eq!(ext_others.len(), 9);
    assert!(ext_others.iter().all(|n| ImoShipNumber::parse(n).is_err()));
}

#[test]
fn sdn_leis_validate_as_documented() {
    let leis: Vec<String> = sdn()
        .iter()
        .flat_map(|(_, remarks)| extract(IdentifierKind::Lei, remarks).expect("extractor"))
        .collect();
    assert_eq!(leis.len(), 81);
    assert_eq!(leis.iter().filter(|l| Lei::parse(l).is_ok()).count(), 73);
}

fn column(file: &str, col: &str) -> Vec<String> {
    let mut r = csv::Reader::from_path(data(file)).expect("file");
    let i = r
        .headers()
        .expect("header")
        .iter()
        .position(|h| h == col)
        .expect("column");
    r.records()
        .map(|rec| rec.expect("row")[i].to_string())
        .collect()
}

#[test]
fn vessel_registers_all_pass_and_reefers_have_two_failures() {
    for f in ["vessel_register.csv", "4-vessels.csv"] {
        let imos = column(f, "imo");
        assert!(!imos.is_empty());
        for n in &imos {
            assert!(ImoShipNumber::parse(n).is_ok(), "{f}: {n}");
        }
    }
    let reefers: Vec<String> = column("gfw_treniformis_REEFERS.csv", "imo")
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(reefers.len(), 654);
    assert_eq!(
        reefers
            .iter()
            .filter(|n| ImoShipNumber::parse(n).is_err())
            .count(),
        2
    );
}

#[test]
fn sdn_passport_numbers_are_read_without_their_tails() {
    use blindmatch::error::InputReason;
    use blindmatch::records::{self, InputSpec};
    // The original export has no header row: the remarks are column 12.
    let mut spec = InputSpec::new(
        data("ofac_sdn_2024-07-02_passports.csv"),
        vec!["12:passport:extract".parse().expect("key")],
    );
    spec.header = false;
    let r = records::load(&spec).expect("loads");
    assert_eq!((r.summary().rows, r.summary().unreadable_rows), (1700, 0));
    let k = &r.summary().keys[0];
    // 2,167 passport numbers, of which one holds a `_` (a typo in the list): 98 were rejected
    // when `issued ... expires ...` tails and `Booklet` were read as part of the number.
    assert_eq!(k.accepted + k.rejected, 2167);
    assert_eq!(k.rejected, 1, "{:?}", r.rejects());
    assert_eq!(r.rejects()[0].kind, InputReason::Value);
    assert_eq!(r.rejects()[0].value, "G9336_77");
    let canonical = |v: &str| IdentifierKind::Passport.parse(v).expect("valid").to_item();
    for n in ["A5250088", "G649385", "K754050", "E590976"] {
        assert!(r.index_of(&canonical(n)).is_some(), "{n}");
    }
    assert!(r.index_of(&canonical("BOOKLETA5250088")).is_none());
}

#[test]
fn sdn_bics_validate() {
    // The copy's remarks hold 39 `SWIFT/BIC` clauses (the whole list 166), every one a valid
    // ISO 9362 code.
    let bics: Vec<String> = sdn()
        .iter()
        .flat_map(|(_, remarks)| extract(IdentifierKind::Bic, remarks).expect("extractor"))
        .collect();
    assert_eq!(bics.len(), 39);
    for b in &bics {
        assert!(IdentifierKind::Bic.parse(b).is_ok(), "{b}");
    }
}
