//! The published identifier vectors: the committed file is exactly what the committed
//! generator produces, each item follows the byte layout of `protocol-spec/05-identifiers.md`
//! (recomputed here by hand), each item's DH-PSI element follows `01-suite.md` 1.1 and
//! `03-dh-psi.md` 3.3 (recomputed here with plain SHAKE256 and the RFC 9496 map), and the spec
//! shows every vector.

#[path = "support/identifier_vectors.rs"]
mod identifier_vectors;

use curve25519_dalek::ristretto::RistrettoPoint;
use serde_json::Value;
use sha3::digest::{ExtendableOutput, Update, XofReader};

fn read(rel: &str) -> String {
    std::fs::read_to_string(format!("{}/{rel}", env!("CARGO_MANIFEST_DIR"))).expect(rel)
}

fn committed() -> Value {
    serde_json::from_str(&read("protocol-spec/vectors/identifiers.json")).expect("json")
}

#[test]
fn committed_vectors_are_what_the_generator_produces() {
    assert_eq!(
        committed(),
        identifier_vectors::generate(),
        "run `cargo run --example gen_identifier_vectors`"
    );
}

/// `u8 count || (u8 tag || u8 version || u32_be len || value)*`, written out by hand.
fn layout(parts: &[(u8, &str)], version: u8) -> String {
    let mut out = vec![parts.len() as u8];
    for (tag, v) in parts {
        out.push(*tag);
        out.push(version);
        out.extend_from_slice(&(v.len() as u32).to_be_bytes());
        out.extend_from_slice(v.as_bytes());
    }
    hex::encode(out)
}

/// `Encode(H(sid || item, DST))`: RFC 9380 `expand_message_xof` (SHAKE256, 64 bytes) written
/// out, then the RFC 9496 one-way map.
fn dh_element(sid: &[u8], item: &[u8], dst: &[u8]) -> String {
    let mut h = sha3::Shake256::default();
    h.update(sid);
    h.update(item);
    h.update(&64u16.to_be_bytes());
    h.update(dst);
    h.update(&[dst.len() as u8]);
    let mut uniform = [0u8; 64];
    h.finalize_xof().read(&mut uniform);
    hex::encode(
        RistrettoPoint::from_uniform_bytes(&uniform)
            .compress()
            .to_bytes(),
    )
}

#[test]
fn dh_psi_elements_follow_the_spec_and_appear_in_the_spec() {
    let v = committed();
    let spec = read("protocol-spec/05-identifiers.md");
    let sid = hex::decode(v["dh_psi"]["session_id"].as_str().expect("sid")).expect("hex");
    assert_eq!(sid, (0u8..32).collect::<Vec<u8>>());
    let dst = v["dh_psi"]["dst"].as_str().expect("dst");
    assert_eq!(
        dst,
        "blindmatch-v1-DHPSI-ristretto255_XOF:SHAKE256_R255MAP_RO_"
    );
    let entries = v["valid"]
        .as_array()
        .expect("valid")
        .iter()
        .chain(v["composite"].as_array().expect("composite"));
    for x in entries {
        let item = hex::decode(x["item"].as_str().expect("item")).expect("hex");
        let element = x["dh_psi_element"].as_str().expect("element");
        assert_eq!(element, dh_element(&sid, &item, dst.as_bytes()), "{x}");
        assert!(
            spec.contains(element),
            "05-identifiers.md lacks the element of {x}"
        );
    }
}

#[test]
fn items_follow_the_spec_layout_and_appear_in_the_spec() {
    let v = committed();
    let spec = read("protocol-spec/05-identifiers.md");
    let version = v["rules_version"].as_u64().expect("version") as u8;
    assert_eq!(version, 1);
    for x in v["valid"].as_array().expect("valid") {
        let tag = x["tag"].as_u64().expect("tag") as u8;
        let canonical = x["canonical"].as_str().expect("canonical");
        let item = x["item"].as_str().expect("item");
        assert_eq!(item, layout(&[(tag, canonical)], version));
        assert!(
            spec.contains(item),
            "05-identifiers.md lacks the vector for {}",
            x["kind"]
        );
        assert!(
            spec.contains(&format!("`{canonical}`")),
            "05-identifiers.md lacks `{canonical}`"
        );
        let input = x["input"].as_str().expect("input");
        assert!(
            spec.contains(&format!("`{input}`")),
            "05-identifiers.md lacks the input `{input}`"
        );
    }
    let c = &v["composite"][0];
    let parts: Vec<&str> = c["canonical"]
        .as_array()
        .expect("parts")
        .iter()
        .map(|p| p.as_str().expect("str"))
        .collect();
    assert_eq!(
        c["item"].as_str().expect("item"),
        layout(&[(0x0c, parts[0]), (0x0e, parts[1])], version)
    );
    assert!(spec.contains(c["item"].as_str().expect("item")));
    for x in v["invalid"].as_array().expect("invalid") {
        assert!(
            spec.contains(&format!("`{}`", x["input"].as_str().expect("input"))),
            "spec lacks invalid {}",
            x["input"]
        );
    }
}
