//! Every ristretto255-SHA512 OPRF-mode vector of RFC 9497 Appendix A.1.1, and the published
//! vectors of blindmatch's SHA3 suite (`protocol-spec/vectors/oprf-sha3.json`), each checked
//! step by step: DeriveKeyPair, Blind, BlindEvaluate, Finalize, and the server's Evaluate.

use blindmatch::oprf::{client, OprfKey, Suite};
use curve25519_dalek::scalar::Scalar;
use serde_json::Value;

#[path = "support/oprf_vectors.rs"]
mod oprf_vectors;

fn unhex(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().expect("hex string")).expect("valid hex")
}

fn list(v: &Value) -> Vec<Vec<u8>> {
    v.as_array().expect("array").iter().map(unhex).collect()
}

fn scalar(bytes: &[u8]) -> Scalar {
    Option::from(Scalar::from_canonical_bytes(
        bytes.try_into().expect("32 bytes"),
    ))
    .expect("canonical scalar")
}

fn check_file(suite: Suite, json: &str) -> usize {
    let v: Value = serde_json::from_str(json).expect("valid JSON");
    let seed: [u8; 32] = unhex(&v["seed"]).try_into().expect("32-byte seed");
    let info = unhex(&v["key_info"]);
    let key = OprfKey::derive(suite, &seed, &info).expect("DeriveKeyPair");
    // skSm is private; check it through the public key and the evaluations below.
    let sk = scalar(&unhex(&v["skSm"]));
    let expected_pk = (sk * curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT)
        .compress()
        .to_bytes();
    assert_eq!(
        key.public_key().0,
        expected_pk,
        "DeriveKeyPair gave another key"
    );
    let cases = v["cases"].as_array().expect("cases");
    for case in cases {
        let name = case["name"].as_str().unwrap_or("?");
        let inputs = list(&case["input"]);
        let blinds = list(&case["blind"]).iter().map(|b| scalar(b)).collect();
        let (state, blinded) = client::blind_with(suite, &inputs, blinds).expect("Blind");
        let blinded_bytes: Vec<Vec<u8>> = blinded.iter().map(|e| e.0.to_vec()).collect();
        assert_eq!(
            blinded_bytes,
            list(&case["blinded_element"]),
            "{name}: Blind"
        );
        let evaluated = key.blind_evaluate(&blinded).expect("BlindEvaluate");
        let evaluated_bytes: Vec<Vec<u8>> = evaluated.iter().map(|e| e.0.to_vec()).collect();
        assert_eq!(
            evaluated_bytes,
            list(&case["evaluation_element"]),
            "{name}: BlindEvaluate"
        );
        let outputs = state.finalize(&inputs, &evaluated).expect("Finalize");
        let expected = list(&case["output"]);
        let outputs_vec: Vec<Vec<u8>> = outputs.iter().map(|o| o.to_vec()).collect();
        assert_eq!(outputs_vec, expected, "{name}: Finalize");
        let direct: Vec<Vec<u8>> = key
            .evaluate(suite, &inputs)
            .expect("Evaluate")
            .iter()
            .map(|o| o.to_vec())
            .collect();
        assert_eq!(direct, expected, "{name}: server Evaluate");
    }
    cases.len()
}

#[test]
fn rfc9497_ristretto255_sha512_oprf_vectors() {
    let n = check_file(
        Suite::Ristretto255Sha512,
        include_str!("vectors/rfc9497-oprf-ristretto255-sha512.json"),
    );
    assert_eq!(n, 2, "RFC 9497 A.1.1 has two OPRF-mode vectors");
}

#[test]
fn a_wrong_blind_or_key_changes_the_output() {
    let suite = Suite::Ristretto255Sha512;
    let v: Value = serde_json::from_str(include_str!(
        "vectors/rfc9497-oprf-ristretto255-sha512.json"
    ))
    .expect("json");
    let seed: [u8; 32] = unhex(&v["seed"]).try_into().expect("seed");
    let good = OprfKey::derive(suite, &seed, b"test key").expect("key");
    let other = OprfKey::derive(suite, &seed, b"test kez").expect("key");
    let input = [vec![0u8]];
    let (state, blinded) = client::blind_with(suite, &input, vec![Scalar::from(7u8)]).expect("b");
    let out_good = state.finalize(&input, &good.blind_evaluate(&blinded).expect("e"));
    let out_other = other.evaluate(suite, &input).expect("e");
    assert_ne!(out_good.expect("f"), out_other);
    // The same key in the other suite gives another output.
    assert_ne!(
        good.evaluate(suite, &input).expect("e"),
        good.evaluate(Suite::Ristretto255Shake256, &input)
            .expect("e")
    );
}

#[test]
fn published_sha3_suite_vectors() {
    let published = include_str!("../protocol-spec/vectors/oprf-sha3.json");
    let n = check_file(Suite::Ristretto255Shake256, published);
    assert_eq!(n, 3);
    // The published file is exactly what the committed generator writes (every message of
    // the OPRF-PSI session included).
    let parsed: Value = serde_json::from_str(published).expect("json");
    assert_eq!(parsed, oprf_vectors::generate());
    // DeriveKeyPair written out from the RFC's pseudocode agrees with the library.
    let sk = oprf_vectors::derive_sk(Suite::Ristretto255Sha512, &[0xa3; 32], b"test key");
    assert_eq!(
        hex::encode(sk.to_bytes()),
        "5ebcea5ee37023ccb9fc2d2019f9d7737be85591ae8652ffa9ef0f4d37063b0e"
    );
}
