//! The OPRF-PSI session vector (`protocol-spec/vectors/oprf-sha3.json`) rebuilt from the spec's
//! rules alone: the receiver's draws from the vector stream (sections 1.6 and 7.5: padding
//! entries, order, blinds) and its `Blinded` messages, computed here with a copy of the draw
//! rules and of `HashToGroup` (`tests/support/dh_vectors.rs`), not with the library's code.
#![allow(clippy::unwrap_used)]

#[path = "support/dh_vectors.rs"]
mod dh_vectors;

use dh_vectors::spec::{hash_to_group, Stream};
use serde_json::Value;

const SUITE_ID: &[u8] = b"ristretto255-SHAKE256-blindmatch-v1";

#[test]
fn the_receivers_blinded_messages_follow_from_the_seed_label() {
    let v: Value =
        serde_json::from_str(include_str!("../protocol-spec/vectors/oprf-sha3.json")).unwrap();
    let s = &v["oprf_psi_session"];
    let label = s["seed_label"].as_str().unwrap();
    let items: Vec<Vec<u8>> = s["receiver_items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().as_bytes().to_vec())
        .collect();
    let n_r = s["receiver_count"].as_u64().unwrap() as usize;
    let chunk = s["chunk_size"].as_u64().unwrap() as usize;
    let m = items.len();
    assert!(n_r > m, "the vector pads the receiver");

    // Section 7.5 step 1: padding entries, the order of sending, one blind per position.
    let mut stream = Stream::new(label);
    let padding: Vec<[u8; 32]> = (m..n_r).map(|_| stream.bytes::<32>()).collect();
    let order = stream.shuffle(n_r);
    let blinds: Vec<_> = (0..n_r).map(|_| stream.scalar()).collect();

    // RFC 9497: contextString = "OPRFV1-" || I2OSP(0x00, 1) || "-" || identifier.
    let mut dst = b"HashToGroup-OPRFV1-".to_vec();
    dst.push(0);
    dst.push(b'-');
    dst.extend_from_slice(SUITE_ID);
    let blinded: Vec<[u8; 32]> = (0..n_r)
        .map(|i| {
            let entry: &[u8] = if order[i] < m {
                &items[order[i]]
            } else {
                &padding[order[i] - m]
            };
            let p = hash_to_group(&[entry], &dst);
            (blinds[i] * p).compress().to_bytes()
        })
        .collect();

    let from_receiver: Vec<Vec<u8>> = s["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|msg| msg["from"] == "receiver")
        .map(|msg| hex::decode(msg["bytes"].as_str().unwrap()).unwrap())
        .collect();
    // The sender's Params come first; then the receiver's Blinded messages, one per chunk.
    assert_eq!(s["messages"][0]["from"], "sender");
    assert_eq!(from_receiver.len(), n_r.div_ceil(chunk));
    for (c, msg) in from_receiver.iter().enumerate() {
        let positions = c * chunk..((c + 1) * chunk).min(n_r);
        let mut expected = vec![0x11];
        expected.extend_from_slice(&(positions.len() as u32).to_be_bytes());
        for i in positions {
            expected.extend_from_slice(&blinded[i]);
        }
        assert_eq!(msg, &expected, "Blinded message {c}");
    }
}
