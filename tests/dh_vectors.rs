//! The published DH-PSI test vectors: the committed file is exactly what the committed
//! generator produces, and its contents are consistent with the spec when recomputed here
//! with plain dalek calls (hash, multiply, compare as sets, since sets are shuffled).

#[path = "support/dh_vectors.rs"]
mod dh_vectors;

use std::collections::BTreeSet;

use blindmatch::dst;
use blindmatch::group::hash_to_group::hash_to_ristretto255_xof;
use blindmatch::group::WireElement;
use curve25519_dalek::scalar::Scalar;
use serde_json::Value;

fn committed() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/protocol-spec/vectors/dh-psi.json"
    );
    serde_json::from_str(&std::fs::read_to_string(path).expect("vector file")).expect("json")
}

#[test]
fn committed_vectors_are_what_the_generator_produces() {
    assert_eq!(
        committed(),
        dh_vectors::generate(),
        "run `cargo run --example gen_dh_vectors`"
    );
}

fn hex32(v: &Value) -> [u8; 32] {
    hex::decode(v.as_str().expect("hex"))
        .expect("hex")
        .try_into()
        .expect("32 bytes")
}

/// Elements of the messages `from` sent of the given type (0x01 Blinded, 0x02 Reblinded).
fn elements(session: &Value, from: &str, kind: u8) -> Vec<[u8; 32]> {
    let mut out = Vec::new();
    for m in session["messages"].as_array().expect("messages") {
        let bytes = hex::decode(m["bytes"].as_str().expect("hex")).expect("hex");
        if m["from"] == from && bytes[0] == kind {
            let count = u32::from_be_bytes(bytes[1..5].try_into().expect("4 bytes")) as usize;
            assert_eq!(bytes.len(), 5 + 32 * count);
            out.extend(
                bytes[5..]
                    .chunks(32)
                    .map(|c| <[u8; 32]>::try_from(c).expect("32")),
            );
        }
    }
    out
}

#[test]
fn vectors_follow_the_spec() {
    let v = committed();
    for s in v["sessions"].as_array().expect("sessions") {
        let sid = hex32(&s["session_id"]);
        let key =
            |p: &str| Scalar::from_canonical_bytes(hex32(&s[p]["key"])).expect("canonical scalar");
        let (a, b) = (key("initiator"), key("responder"));
        let hashes = |p: &str| -> Vec<_> {
            s[p]["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|i| {
                    hash_to_ristretto255_xof(
                        &[&sid, i.as_str().expect("utf8").as_bytes()],
                        dst::DH_PSI_HASH_TO_GROUP,
                    )
                })
                .collect()
        };
        let (ha, hb) = (hashes("initiator"), hashes("responder"));
        let set = |v: Vec<[u8; 32]>| v.into_iter().collect::<BTreeSet<_>>();
        let enc = |k: &Scalar, hs: &[curve25519_dalek::ristretto::RistrettoPoint]| {
            hs.iter()
                .map(|h| WireElement::encode(&(k * h)).0)
                .collect::<BTreeSet<_>>()
        };
        assert_eq!(
            set(elements(s, "initiator", 1)),
            enc(&a, &ha),
            "initiator's Blinded"
        );
        assert_eq!(
            set(elements(s, "responder", 1)),
            enc(&b, &hb),
            "responder's Blinded"
        );
        assert_eq!(
            set(elements(s, "responder", 2)),
            enc(&(a * b), &ha),
            "initiator's set re-blinded"
        );
        let mode = s["mode"].as_str().expect("mode");
        let returned = set(elements(s, "initiator", 2));
        if mode == "mutual" {
            assert_eq!(returned, enc(&(a * b), &hb), "responder's set re-blinded");
        } else {
            assert!(returned.is_empty(), "{mode}: the initiator returns nothing");
        }
        // In order: the responder answers each Blinded chunk with its re-blinded elements.
        if mode != "cardinality" {
            let sent = elements(s, "initiator", 1);
            let back = elements(s, "responder", 2);
            for (x, y) in sent.iter().zip(&back) {
                let p = WireElement(*x).decode().expect("valid");
                assert_eq!(WireElement::encode(&(b * p)).0, *y, "{mode}: order kept");
            }
        }
    }
}
