//! The group layer against published vectors (copied from the RFCs into `tests/vectors/`):
//! RFC 9380 Appendix K expand_message_xof, RFC 9496 Appendix A ristretto255.

use blindmatch::group::expand::{expand_message_xof, Xof};
use blindmatch::group::WireElement;
use blindmatch::ElementError;
use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT;
use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::traits::Identity;
use serde_json::Value;

fn load(name: &str) -> Value {
    let path = format!("{}/tests/vectors/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn hex32(s: &Value) -> [u8; 32] {
    let bytes = hex::decode(s.as_str().expect("hex string")).expect("valid hex");
    bytes.try_into().expect("32 bytes")
}

#[test]
fn rfc9380_expand_message_xof_all_cases() {
    let v = load("rfc9380-expand-message-xof.json");
    let mut checked = 0;
    for (suite, xof) in [("SHAKE128", Xof::Shake128), ("SHAKE256", Xof::Shake256)] {
        let s = &v["suites"][suite];
        let dst = s["dst"].as_str().expect("dst").as_bytes();
        for case in s["cases"].as_array().expect("cases") {
            let msg = case["msg"].as_str().expect("msg").as_bytes();
            let len = case["len_in_bytes"].as_u64().expect("len") as usize;
            let want = hex::decode(case["uniform_bytes"].as_str().expect("hex")).expect("hex");
            let mut got = vec![0u8; len];
            expand_message_xof(xof, &[msg], dst, &mut got);
            assert_eq!(
                hex::encode(&got),
                hex::encode(&want),
                "{suite} msg len {}",
                msg.len()
            );
            // Splitting the message into parts must not change the result.
            let (head, tail) = msg.split_at(msg.len() / 2);
            let mut split = vec![0u8; len];
            expand_message_xof(xof, &[head, tail], dst, &mut split);
            assert_eq!(split, got);
            checked += 1;
        }
    }
    assert_eq!(checked, 20, "RFC 9380 lists 10 cases per SHAKE suite");
}

#[test]
fn rfc9496_small_multiples_encode_and_decode() {
    let v = load("rfc9496-ristretto255.json");
    let multiples = v["small_multiples"].as_array().expect("list");
    assert_eq!(multiples.len(), 16);
    let mut p = RistrettoPoint::identity();
    for (i, want) in multiples.iter().enumerate() {
        let want = hex32(want);
        assert_eq!(WireElement::encode(&p).0, want, "{i} * B");
        let decoded = WireElement(want).decode();
        if i == 0 {
            assert_eq!(
                decoded,
                Err(ElementError::Identity),
                "the identity is refused"
            );
        } else {
            assert_eq!(decoded, Ok(p), "{i} * B decodes");
        }
        p += RISTRETTO_BASEPOINT_POINT;
    }
}

#[test]
fn rfc9496_every_bad_encoding_is_rejected() {
    let v = load("rfc9496-ristretto255.json");
    let bad = v["bad_encodings"].as_array().expect("list");
    assert_eq!(bad.len(), 29);
    for b in bad {
        assert_eq!(
            WireElement(hex32(b)).decode(),
            Err(ElementError::NonCanonical),
            "{b} must be rejected"
        );
    }
}

#[test]
fn rfc9496_element_derivation() {
    let v = load("rfc9496-ristretto255.json");
    let cases = v["from_uniform_bytes"].as_array().expect("list");
    assert!(!cases.is_empty());
    for case in cases {
        let input: [u8; 64] = hex::decode(case["input"].as_str().expect("hex"))
            .expect("hex")
            .try_into()
            .expect("64 bytes");
        let p = RistrettoPoint::from_uniform_bytes(&input);
        assert_eq!(WireElement::encode(&p).0, hex32(&case["output"]));
    }
}
