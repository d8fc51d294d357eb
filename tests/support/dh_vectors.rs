//! The generator of the published DH-PSI test vectors (`protocol-spec/vectors/dh-psi.json`).
//! Shared by `examples/gen_dh_vectors.rs`, which writes the file, and `tests/dh_vectors.rs`,
//! which checks the committed file is exactly what this produces.

use blindmatch::dst;
use blindmatch::group::expand::{expand_message_xof, Xof};
use blindmatch::group::hash_to_group::hash_to_ristretto255_xof;
use blindmatch::group::WireElement;
use blindmatch::protocol::dh::{DhParams, DhSession, Learned};
use blindmatch::protocol::memory::{pump, Transcript};
use blindmatch::protocol::{ItemSet, Mode, Role, SansIo};
use curve25519_dalek::scalar::Scalar;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde_json::{json, Value};

/// The initiator's and responder's items in every vector session (two shared).
pub const INITIATOR_ITEMS: [&str; 3] = ["MSCU1234566", "IMO9187629", "HLXU1234560"];
/// See [`INITIATOR_ITEMS`].
pub const RESPONDER_ITEMS: [&str; 4] = ["IMO9187629", "CMAU0000010", "MSCU1234566", "IMO9321483"];

fn derive(label: &str, mode: Mode) -> [u8; 32] {
    let mut out = [0u8; 32];
    expand_message_xof(
        Xof::Shake256,
        &[label.as_bytes(), mode.as_str().as_bytes()],
        dst::TEST_VECTOR_SEED,
        &mut out,
    );
    out
}

fn party(items: &[&str], key: &Scalar, session_id: &[u8; 32]) -> Value {
    let hashed: Vec<_> = items
        .iter()
        .map(|i| hash_to_ristretto255_xof(&[session_id, i.as_bytes()], dst::DH_PSI_HASH_TO_GROUP))
        .collect();
    json!({
        "items": items,
        "key": hex::encode(key.to_bytes()),
        "hashed": hashed.iter().map(|p| hex::encode(WireElement::encode(p).0)).collect::<Vec<_>>(),
        "blinded": hashed.iter().map(|p| hex::encode(WireElement::encode(&(key * p)).0)).collect::<Vec<_>>(),
    })
}

fn learned(l: &Learned) -> Value {
    match l {
        Learned::Nothing => json!("nothing"),
        Learned::Cardinality(n) => json!({ "cardinality": n }),
        Learned::Matches(m) => json!({
            "matches": m.iter().map(|m| String::from_utf8_lossy(&m.item).into_owned()).collect::<Vec<_>>()
        }),
    }
}

/// One session per mode, from fixed seeds: keys, per-item hashes and blinded values, every
/// message's bytes in order, and what each party learned.
pub fn generate() -> Value {
    let sessions: Vec<Value> = Mode::ALL
        .into_iter()
        .map(|mode| {
            let session_id = derive("session-id", mode);
            let mut rng = ChaCha20Rng::from_seed(derive("rng", mode));
            let mut params = DhParams::new(
                mode,
                session_id,
                INITIATOR_ITEMS.len(),
                RESPONDER_ITEMS.len(),
            );
            params.chunk_size = 2;
            // A session draws its key first: a clone of the RNG shows which scalar it drew.
            let a = Scalar::random(&mut rng.clone());
            let mut init = DhSession::new(
                Role::Initiator,
                params.clone(),
                ItemSet::new(INITIATOR_ITEMS),
                &mut rng,
            )
            .expect("initiator");
            let b = Scalar::random(&mut rng.clone());
            let mut resp = DhSession::new(
                Role::Responder,
                params,
                ItemSet::new(RESPONDER_ITEMS),
                &mut rng,
            )
            .expect("responder");
            let mut transcript = Transcript::default();
            pump(&mut init, &mut resp, Some(&mut transcript)).expect("session");
            let (io, ro) = (
                init.into_output().expect("output"),
                resp.into_output().expect("output"),
            );
            json!({
                "mode": mode.as_str(),
                "session_id": hex::encode(session_id),
                "chunk_size": 2,
                "initiator": party(&INITIATOR_ITEMS, &a, &session_id),
                "responder": party(&RESPONDER_ITEMS, &b, &session_id),
                "messages": transcript.messages.iter().map(|(who, bytes)| json!({
                    "from": who.as_str(),
                    "bytes": hex::encode(bytes),
                })).collect::<Vec<_>>(),
                "initiator_learns": learned(&io.learned),
                "responder_learns": learned(&ro.learned),
            })
        })
        .collect();
    json!({
        "description": "blindmatch DH-PSI v1 test vectors: one session per mode (protocol-spec/03-dh-psi.md). Keys are little-endian scalars; elements are RFC 9496 encodings; items are UTF-8; the message order and the element order within messages are those of this run's shuffles.",
        "hash_to_group_dst": String::from_utf8_lossy(dst::DH_PSI_HASH_TO_GROUP),
        "sessions": sessions,
    })
}
