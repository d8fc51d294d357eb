//! Properties of the wire encoding and of the batched engine.

use blindmatch::error::PeerMisbehaved;
use blindmatch::group::{batch, SessionKey, WireElement};
use blindmatch::{ElementError, Error};
use curve25519_dalek::ristretto::RistrettoPoint;
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// The tags this file uses, as `protocol-spec/01-suite.md` spells them (the library's own
/// constants are private to it).
mod dst {
    /// The DH-PSI hash-to-group DST (section 1.1).
    pub const DH_PSI_HASH_TO_GROUP: &[u8] =
        b"blindmatch-v1-DHPSI-ristretto255_XOF:SHAKE256_R255MAP_RO_";
}

proptest! {
    #[test]
    fn any_32_bytes_decode_without_panic(bytes in any::<[u8; 32]>()) {
        // Either a valid non-identity element that re-encodes to the same bytes, or an error.
        match WireElement(bytes).decode() {
            Ok(p) => prop_assert_eq!(WireElement::encode(&p).0, bytes),
            Err(ElementError::NonCanonical) | Err(ElementError::Identity) => {}
            other => panic!("this test does not know {other:?}"),
        }
    }

    #[test]
    fn encode_decode_round_trip(uniform in proptest::collection::vec(any::<u8>(), 64)) {
        let p = RistrettoPoint::from_uniform_bytes(&uniform.try_into().expect("64 bytes"));
        let e = WireElement::encode(&p);
        prop_assert_eq!(e.decode(), Ok(p));
    }
}

fn key(seed: u64) -> SessionKey {
    SessionKey::random(&mut ChaCha20Rng::seed_from_u64(seed))
}

fn items(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| format!("item-{i}").into_bytes()).collect()
}

#[test]
fn batched_operations_equal_the_single_element_reference() {
    // Sizes around the batch boundary, so partial and full batches are both covered.
    for n in [0, 1, 2, 1023, 1024, 1025, 2500] {
        let k1 = key(1);
        let k2 = key(2);
        let items = items(n);
        let blinded = batch::hash_and_blind(&k1, dst::DH_PSI_HASH_TO_GROUP, b"sid", &items);
        let reference =
            batch::hash_and_blind_single(&k1, dst::DH_PSI_HASH_TO_GROUP, b"sid", &items);
        assert_eq!(blinded, reference, "hash_and_blind, n = {n}");

        let points = batch::hash_to_group(dst::DH_PSI_HASH_TO_GROUP, b"sid", &items);
        assert_eq!(batch::blind(&k1, &points), blinded, "blind, n = {n}");
        assert_eq!(
            batch::decode(&batch::encode(&points)).expect("valid"),
            points
        );

        let doubly = batch::reblind(&k2, &blinded).expect("valid elements");
        assert_eq!(
            doubly,
            batch::reblind_single(&k2, &blinded).expect("valid"),
            "n = {n}"
        );

        // Commutativity: k2 * k1 * H(x) == k1 * k2 * H(x).
        let other = batch::hash_and_blind(&k2, dst::DH_PSI_HASH_TO_GROUP, b"sid", &items);
        assert_eq!(batch::reblind(&k1, &other).expect("valid"), doubly);
    }
}

/// The position and reason of an invalid-element error.
fn invalid_element<T: std::fmt::Debug>(r: blindmatch::Result<T>) -> (usize, ElementError) {
    match r {
        Err(Error::PeerMisbehaved(PeerMisbehaved::InvalidElement { index, reason })) => {
            (index, reason)
        }
        other => panic!("expected an invalid element error, got {other:?}"),
    }
}

#[test]
fn reblind_names_the_first_invalid_element() {
    let k = key(3);
    let mut elements = batch::hash_and_blind(&k, dst::DH_PSI_HASH_TO_GROUP, b"", &items(3000));
    elements[2100] = WireElement([0xff; 32]);
    elements[2900] = WireElement([0; 32]);
    assert_eq!(
        invalid_element(batch::reblind(&k, &elements)),
        (2100, ElementError::NonCanonical)
    );
    assert_eq!(
        invalid_element(batch::reblind_single(&k, &elements)),
        (2100, ElementError::NonCanonical)
    );
    assert_eq!(
        invalid_element(batch::decode(&elements)),
        (2100, ElementError::NonCanonical)
    );
    elements[2100] = elements[0];
    assert_eq!(
        invalid_element(batch::reblind(&k, &elements)),
        (2900, ElementError::Identity)
    );
    assert!(matches!(
        batch::decode(&elements),
        Err(Error::PeerMisbehaved(PeerMisbehaved::InvalidElement {
            index: 2900,
            reason: ElementError::Identity
        }))
    ));
}

#[test]
fn hashing_depends_on_prefix_and_tag() {
    let item = [b"MSCU1234566".to_vec()];
    let a = batch::hash_to_group(dst::DH_PSI_HASH_TO_GROUP, b"session-1", &item);
    let b = batch::hash_to_group(dst::DH_PSI_HASH_TO_GROUP, b"session-2", &item);
    let c = batch::hash_to_group(b"blindmatch-v1-other-tag", b"session-1", &item);
    assert_ne!(a, b);
    assert_ne!(a, c);
}
