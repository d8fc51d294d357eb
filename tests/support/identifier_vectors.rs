//! The generator of the published identifier vectors (`protocol-spec/vectors/identifiers.json`).
//! Shared by `examples/gen_identifier_vectors.rs`, which writes the file, and
//! `tests/identifiers_vectors.rs`, which checks the committed file is exactly what this
//! produces and that `protocol-spec/05-identifiers.md` shows every vector.

use blindmatch::group::hash_to_group::hash_to_ristretto255_xof;
use blindmatch::group::WireElement;
use blindmatch::identifiers::{encode_item, IdentifierKind, RULES_VERSION};
use serde_json::{json, Value};

/// The tags this file uses, as `protocol-spec/01-suite.md` spells them (the library's own
/// constants are private to it).
mod dst {
    /// The DH-PSI hash-to-group DST (section 1.1).
    pub const DH_PSI_HASH_TO_GROUP: &[u8] =
        b"blindmatch-v1-DHPSI-ristretto255_XOF:SHAKE256_R255MAP_RO_";
}

/// The session id under which every item's DH-PSI element is given: the bytes 0, 1, .., 31.
pub fn session_id() -> [u8; 32] {
    std::array::from_fn(|i| i as u8)
}

/// `Encode(H(session_id || item, DH-PSI DST))`: what DH-PSI hashes an item to before the key
/// (`protocol-spec/03-dh-psi.md` 3.3).
fn element(item: &[u8]) -> String {
    let p = hash_to_ristretto255_xof(&[&session_id(), item], dst::DH_PSI_HASH_TO_GROUP);
    hex::encode(WireElement::encode(&p).0)
}

/// (kind, input) of each single-value vector.
pub const VALID: &[(&str, &str)] = &[
    ("raw", "  ABC 123 "),
    ("container", "msc u 123456-6"),
    ("imo_ship", "IMO 9187629"),
    ("imo_ship", "IMO: 9187629"),
    ("imo_ship", "imo:9187629"),
    ("imo_company", "IMO 5283413"),
    ("imo_company", "IMO: 5283413"),
    ("lei", "5067 00GE 1G29 325Q X363"),
    ("passport", "l898902c3"),
    ("passport_mrz", "AB12345<<6"),
    ("passport_mrz", "AB123456"),
    ("awb", "176-1234567 5"),
    ("eori", "de 123456789012345"),
    ("hs", "8471.30.00"),
    ("hs", "9801.00.10.00"),
    ("locode", "DE HAM"),
    ("locode", "DE 9B0"),
    ("bill_of_lading", "maeu-123 456 789"),
    ("person_name", "Müller, Hans"),
    ("company_name", "Acme Trading Co., Ltd."),
    ("date_of_birth", "11 Mar 1957"),
    ("date_of_birth", "11.3.1957"),
    ("iban", "IBAN GB82 WEST 1234 5698 7654 32"),
    ("iban", "fr14 2004 1010 0505 0001 3m02 606"),
    ("bic", "deut de ff xxx"),
    ("bic", "DEUTDEFF500"),
];

/// (kind, input) of each value that every implementation must reject.
pub const INVALID: &[(&str, &str)] = &[
    ("container", "MSCU1234567"),
    ("container", "MSCX1234566"),
    ("imo_ship", "IMO 9187628"),
    ("imo_ship", ":9187629"),
    ("imo_ship", "IMO::9187629"),
    ("imo_ship", "ımo 9187629"),
    ("imo_company", "IMO 52834130"),
    ("lei", "506700GE1G29325QX364"),
    ("passport_mrz", "L898902C37"),
    ("passport_mrz", "L898902C3A6"),
    ("awb", "17612345676"),
    ("eori", "XX123"),
    ("eori", "DEßAB1"),
    ("hs", "7701.10"),
    ("locode", "DEHA!"),
    ("date_of_birth", "1957"),
    ("date_of_birth", "1957-003-11"),
    ("person_name", " .,; "),
    ("imo_ship", "0000000"),
    ("imo_ship", "1234567"),
    ("imo_company", "IMO 9999999"),
    ("container", "MSCU0000007"),
    ("awb", "17600000000"),
    ("passport", "XXXXXXXX"),
    ("eori", "DE000000000"),
    ("bill_of_lading", "0000-0000"),
    ("iban", "GB82WEST12345698765433"),
    ("iban", "GB82WEST1234569876543"),
    ("iban", "GB99WEST12345698765432"),
    ("bic", "DEUTXXFF"),
    ("bic", "DEUTDEFF5"),
];

fn kind(name: &str) -> IdentifierKind {
    name.parse().expect("known kind")
}

/// The vectors.
pub fn generate() -> Value {
    let valid: Vec<Value> = VALID
        .iter()
        .map(|(k, input)| {
            let c = kind(k).parse(input).expect("vector input is valid");
            json!({
                "kind": k,
                "tag": kind(k).tag(),
                "input": input,
                "canonical": c.value(),
                "item": hex::encode(c.to_item()),
                "dh_psi_element": element(&c.to_item()),
            })
        })
        .collect();
    let name = kind("person_name").parse("Müller, Hans").expect("valid");
    let dob = kind("date_of_birth").parse("11 Mar 1957").expect("valid");
    let item = encode_item(&[name.clone(), dob.clone()]);
    let composite = json!({
        "key": "name:person_name+dob:date_of_birth",
        "inputs": ["Müller, Hans", "11 Mar 1957"],
        "canonical": [name.value(), dob.value()],
        "item": hex::encode(&item),
        "dh_psi_element": element(&item),
    });
    let invalid: Vec<Value> = INVALID
        .iter()
        .map(|(k, input)| {
            assert!(kind(k).parse(input).is_err(), "{k} {input} must be invalid");
            json!({ "kind": k, "input": input })
        })
        .collect();
    json!({
        "rules_version": RULES_VERSION,
        "dh_psi": {
            "session_id": hex::encode(session_id()),
            "dst": String::from_utf8_lossy(dst::DH_PSI_HASH_TO_GROUP),
            "element": "dh_psi_element = Encode(H(session_id || item, dst)) (protocol-spec/01-suite.md 1.1, 03-dh-psi.md 3.3)",
        },
        "valid": valid,
        "composite": [composite],
        "invalid": invalid,
    })
}
