//! Records through the full DH-PSI protocol: real sanctions data against real vessel
//! registers, and generated data against its ground truth.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use blindmatch::generate::{generate, write_dataset, GenKind, GenSpec};
use blindmatch::identifiers::{extract::extract, IdentifierKind, ImoShipNumber};
use blindmatch::protocol::memory::run_dh_psi;
use blindmatch::protocol::{ItemSet, Mode};
use blindmatch::records::{self, InputSpec, Records};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(name)
}

fn load(path: &Path, key: &str) -> Records {
    records::load(&InputSpec::new(path, vec![key.parse().expect("key")])).expect("load")
}

/// Runs mutual DH-PSI and returns the canonical texts each side learned, mapped back through
/// its records.
fn psi(a: &Records, b: &Records) -> (BTreeSet<String>, BTreeSet<String>) {
    let (oa, ob) = run_dh_psi(
        Mode::Mutual,
        ItemSet::new(a.items()),
        ItemSet::new(b.items()),
        None,
    )
    .expect("session");
    let texts = |out: &blindmatch::protocol::dh::DhOutput, r: &Records| -> BTreeSet<String> {
        out.matches()
            .expect("mutual mode: both learn the matches")
            .iter()
            .map(|m| {
                let i = r.index_of(m.item()).expect("a matched item is one of ours");
                r.item_text(i).expect("text").to_string()
            })
            .collect()
    };
    (texts(&oa, a), texts(&ob, b))
}

/// The IMO numbers of a register, normalised without the records layer.
fn plain_register(file: &str) -> BTreeSet<String> {
    let mut r = csv::Reader::from_path(data(file)).expect("register");
    r.records()
        .filter_map(|rec| ImoShipNumber::parse(&rec.expect("row")[0]).ok())
        .map(|n| n.to_string())
        .collect()
}

#[test]
fn sdn_vessels_against_vessel_registers_find_exactly_the_plain_intersection() {
    let sdn = load(
        &data("ofac_sdn_2024-07-02_vessels_imo_lei.csv"),
        "remarks:imo_ship:extract",
    );
    // 864 valid IMO ship numbers extracted, the 9 company numbers rejected (not dropped).
    assert_eq!(sdn.summary().keys[0].rejected, 9);
    assert_eq!(sdn.rejects().len(), 9);
    // Plain normalised SDN IMO set, computed without the records layer.
    let mut r =
        csv::Reader::from_path(data("ofac_sdn_2024-07-02_vessels_imo_lei.csv")).expect("sdn");
    let plain_sdn: BTreeSet<String> = r
        .records()
        .flat_map(|rec| extract(IdentifierKind::ImoShip, &rec.expect("row")[11]).expect("extract"))
        .filter_map(|n| ImoShipNumber::parse(&n).ok())
        .map(|n| n.to_string())
        .collect();
    assert_eq!(plain_sdn.len(), sdn.items().len());

    let mut total = 0;
    let mut found = Vec::new();
    for file in ["vessel_register.csv", "4-vessels.csv"] {
        let register = load(&data(file), "imo:imo_ship");
        let expected: BTreeSet<String> = plain_sdn
            .intersection(&plain_register(file))
            .cloned()
            .collect();
        let (sdn_learned, register_learned) = psi(&sdn, &register);
        assert_eq!(sdn_learned, expected, "{file}");
        assert_eq!(register_learned, expected, "{file}");
        total += expected.len();
        found.push(expected.len());
    }
    assert!(total > 0, "the SDN and the registers share vessels");
    // data/README.md: 27 SDN IMO numbers appear in vessel_register.csv.
    assert_eq!(found[0], 27);

    // Mapping back: every matched SDN row is written with all its columns.
    let register = load(&data("vessel_register.csv"), "imo:imo_ship");
    let (oa, _) = run_dh_psi(
        Mode::Intersection,
        sdn.item_set(),
        register.item_set(),
        None,
    )
    .expect("session");
    let matched: Vec<Vec<u8>> = oa
        .matches()
        .expect("initiator learns")
        .iter()
        .map(|m| m.item().to_vec())
        .collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().join("hits.csv");
    let summary = records::write_matches(&out, &sdn, &matched).expect("write");
    assert_eq!(summary.matched_items, matched.len());
    let mut hits = csv::Reader::from_path(&out).expect("hits");
    let header: Vec<String> = hits
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    assert_eq!(header.len(), 14);
    assert_eq!(&header[12..], ["matched_values", "matched_keys"]);
    let rows: Vec<csv::StringRecord> = hits.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), summary.matched_rows);
    for row in &rows {
        assert_eq!(&row[13], "remarks:imo_ship:extract");
        assert!(
            row[11].contains(&row[12]),
            "the matched IMO number is in the row's remarks"
        );
        assert_eq!(&row[2], "vessel");
    }
}

fn round_trip(kind: GenKind, count: usize, overlap: usize, seed: u64) {
    let spec = GenSpec {
        kind,
        count,
        overlap,
        seed,
    };
    let data = generate(&spec).expect("generate");
    assert_eq!(data, generate(&spec).expect("generate"), "deterministic");
    let dir = tempfile::tempdir().expect("tempdir");
    let files = write_dataset(&data, dir.path()).expect("write");
    let mapping = records::Mapping::load(&files.mapping).expect("mapping");
    let load = |p: &Path| {
        let mut s = InputSpec::new(p, mapping.keys.clone());
        s.strict = true;
        records::load(&s).expect("generated files are valid")
    };
    let (a, b) = (load(&files.a), load(&files.b));
    assert_eq!(
        a.items().len(),
        count,
        "{kind}: distinct records stay distinct"
    );
    assert_eq!(b.items().len(), count, "{kind}");
    let truth: BTreeSet<String> = data.truth.iter().map(|t| t.canonical.clone()).collect();
    assert_eq!(truth.len(), overlap);
    let (la, lb) = psi(&a, &b);
    assert_eq!(la, truth, "{kind}");
    assert_eq!(lb, truth, "{kind}");
    // Truth line numbers point at the matched rows.
    let (rows_a, rows_b) = (
        a.read_rows().expect("read A again"),
        b.read_rows().expect("read B again"),
    );
    for t in &data.truth {
        let i =
            (0..a.items().len()).find(|&i| a.item_text(i).as_deref() == Some(t.canonical.as_str()));
        let i = i.expect("truth item is in A");
        assert_eq!(
            rows_a
                .get(a.origins(i).next().expect("origin").row)
                .expect("row")
                .line(),
            t.line_a
        );
        let j =
            (0..b.items().len()).find(|&j| b.item_text(j).as_deref() == Some(t.canonical.as_str()));
        let j = j.expect("truth item is in B");
        assert_eq!(
            rows_b
                .get(b.origins(j).next().expect("origin").row)
                .expect("row")
                .line(),
            t.line_b
        );
    }
}

#[test]
fn generated_containers_round_trip() {
    round_trip(GenKind::Container, 300, 41, 7);
}

#[test]
fn generated_vessels_round_trip() {
    round_trip(GenKind::Imo, 300, 300, 8);
}

#[test]
fn generated_people_round_trip() {
    round_trip(GenKind::Person, 300, 57, 9);
}

#[test]
fn generated_companies_round_trip() {
    round_trip(GenKind::Company, 200, 0, 10);
    round_trip(GenKind::Company, 200, 23, 11);
}

#[test]
fn seeds_change_the_data_and_spellings_differ_between_files() {
    let spec = GenSpec {
        kind: GenKind::Person,
        count: 50,
        overlap: 50,
        seed: 1,
    };
    let one = generate(&spec).expect("generate");
    let two = generate(&GenSpec { seed: 2, ..spec }).expect("generate");
    assert_ne!(one.a, two.a);
    // With everything shared, the same people are written differently in A and B.
    let a: BTreeSet<&String> = one.a.iter().map(|r| &r[0]).collect();
    let b: BTreeSet<&String> = one.b.iter().map(|r| &r[0]).collect();
    assert!(
        a.difference(&b).count() > 10,
        "realistic variation between the files"
    );
    assert!(matches!(
        generate(&GenSpec {
            overlap: 51,
            ..spec
        }),
        Err(blindmatch::Error::Input(blindmatch::error::InputError {
            reason: blindmatch::error::InputReason::Argument,
            ..
        }))
    ));
}
