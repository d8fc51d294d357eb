//! The generator of the published DH-PSI test vectors (`protocol-spec/vectors/dh-psi.json`).
//! Shared by `examples/gen_dh_vectors.rs`, which writes the file, and `tests/dh_vectors.rs`,
//! which checks the committed file is exactly what this produces and rebuilds it from the
//! spec.
//!
//! Each session runs the library's [`DhSession`]s on the vector stream of its seed label
//! (`protocol-spec/01-suite.md` 1.6.2), in the order of `protocol-spec/03-dh-psi.md` 3.9:
//! the session id, then the initiator's draws, then the responder's. What the parties drew
//! (keys, dummies, orders), which the library never shows, is recorded from [`spec`], an
//! implementation of the spec's draws written out here independently of the library's `draw`
//! module and of its DH-PSI code; the test checks every message the library sent against it.

#![allow(dead_code)]

use blindmatch::group::hash_to_group::hash_to_ristretto255_xof;
use blindmatch::group::WireElement;
use blindmatch::protocol::dh::{DhParams, DhSession, Learned};
use blindmatch::protocol::memory::{pump, Transcript};
use blindmatch::protocol::vector_rng::VectorRng;
use blindmatch::protocol::{ItemSet, Mode, Role, SansIo};
use rand_core::Rng;
use serde_json::{json, Value};

/// The tags this file uses, as `protocol-spec/01-suite.md` spells them (the library's own
/// constants are private to it).
mod dst {
    /// The DH-PSI hash-to-group DST (section 1.1).
    pub const DH_PSI_HASH_TO_GROUP: &[u8] =
        b"blindmatch-v1-DHPSI-ristretto255_XOF:SHAKE256_R255MAP_RO_";
    /// The DH-PSI hash-to-group suite ID (section 1.1).
    pub const DH_PSI_HASH_TO_GROUP_SUITE_ID: &[u8] = b"ristretto255_XOF:SHAKE256_R255MAP_RO_";
    /// The tag of the responder's reply order (section 1.4).
    pub const DH_PSI_REPLY_ORDER: &[u8] = b"blindmatch-v1-dh-psi-reply-order";
    /// The tag of the test-vector seeds (section 1.4).
    pub const TEST_VECTOR_SEED: &[u8] = b"blindmatch-v1-test-vector-seed";
}

/// The initiator's and responder's items in every vector session (two shared).
pub const INITIATOR_ITEMS: [&str; 3] = ["MSCU1234566", "IMO9187629", "HLXU1234560"];
/// See [`INITIATOR_ITEMS`].
pub const RESPONDER_ITEMS: [&str; 4] = ["IMO9187629", "CMAU0000010", "MSCU1234566", "IMO9321483"];
/// Elements the initiator sends: its 3 items and 1 padding dummy.
pub const INITIATOR_COUNT: usize = 4;
/// Elements the responder sends: its 4 items and 2 padding dummies.
pub const RESPONDER_COUNT: usize = 6;
/// Elements per message, small so that every set spans several messages.
pub const CHUNK_SIZE: usize = 2;

/// The seed label of the session of `mode`: `dh-psi/` and the mode's name.
pub fn seed_label(mode: Mode) -> String {
    format!("dh-psi/{}", mode.as_str())
}

/// The spec's random draws and hash-to-group, written out from `protocol-spec/01-suite.md`
/// (1.1, 1.6) and `03-dh-psi.md` (3.3, 3.9) with plain SHA3 and curve25519-dalek calls.
pub mod spec {
    use curve25519_dalek::ristretto::RistrettoPoint;
    use curve25519_dalek::scalar::Scalar;
    use sha3::digest::{ExtendableOutput, Update, XofReader};
    use sha3::{Shake256, Shake256Reader};

    /// `TEST_VECTOR_SEED`, as 01-suite.md 1.4 lists it.
    pub const TEST_VECTOR_SEED: &[u8] = b"blindmatch-v1-test-vector-seed";
    /// The DH-PSI DST, as 01-suite.md 1.1 spells it.
    pub const DH_PSI_DST: &[u8] = b"blindmatch-v1-DHPSI-ristretto255_XOF:SHAKE256_R255MAP_RO_";

    /// `SHAKE256(lp8(TEST_VECTOR_SEED) || label)`, read sequentially (1.6.2).
    pub struct Stream(Shake256Reader);

    impl Stream {
        pub fn new(label: &str) -> Self {
            let mut h = Shake256::default();
            h.update(&[TEST_VECTOR_SEED.len() as u8]);
            h.update(TEST_VECTOR_SEED);
            h.update(label.as_bytes());
            Stream(h.finalize_xof())
        }

        /// `SHAKE256(lp8(tag) || seed)`: the stream of a reply seed (03-dh-psi.md 3.3).
        pub fn seeded(tag: &[u8], seed: &[u8; 32]) -> Self {
            let mut h = Shake256::default();
            h.update(&[tag.len() as u8]);
            h.update(tag);
            h.update(seed);
            Stream(h.finalize_xof())
        }

        /// `bytes(n)`.
        pub fn bytes<const N: usize>(&mut self) -> [u8; N] {
            let mut out = [0u8; N];
            self.0.read(&mut out);
            out
        }

        /// `scalar()`: 64 bytes, little-endian, mod l; again on zero.
        pub fn scalar(&mut self) -> Scalar {
            loop {
                let s = Scalar::from_bytes_mod_order_wide(&self.bytes::<64>());
                if s != Scalar::ZERO {
                    return s;
                }
            }
        }

        /// `index_below(n)`: 8 bytes little-endian `x`; again while
        /// `x >= 2^64 - (2^64 mod n)`; then `x mod n`.
        pub fn index_below(&mut self, n: u64) -> u64 {
            let two64 = 1u128 << 64;
            let limit = two64 - two64 % u128::from(n);
            loop {
                let x = u64::from_le_bytes(self.bytes::<8>());
                if u128::from(x) < limit {
                    return x % n;
                }
            }
        }

        /// `shuffle([0, 1, ..., len - 1])`: for i = len-1 down to 1, j = index_below(i+1),
        /// swap.
        pub fn shuffle(&mut self, len: usize) -> Vec<usize> {
            let mut list: Vec<usize> = (0..len).collect();
            for i in (1..len).rev() {
                let j = self.index_below(i as u64 + 1) as usize;
                list.swap(i, j);
            }
            list
        }
    }

    /// What one party draws (03-dh-psi.md 3.3).
    pub struct PartyDraws {
        /// The key `k = scalar()`.
        pub key: Scalar,
        /// `count - items` dummies, `bytes(32)` each.
        pub dummies: Vec<[u8; 32]>,
        /// The order of sending: position `i` carries item `order[i]` if it is below the
        /// number of items, else dummy `order[i] - items`.
        pub order: Vec<usize>,
    }

    /// A party's draws: key, dummies, order, in this order.
    pub fn party(stream: &mut Stream, items: usize, count: usize) -> PartyDraws {
        let key = stream.scalar();
        let dummies = (items..count).map(|_| stream.bytes::<32>()).collect();
        let order = stream.shuffle(count);
        PartyDraws {
            key,
            dummies,
            order,
        }
    }

    /// Every draw of one vector session (03-dh-psi.md 3.9).
    pub struct SessionDraws {
        pub session_id: [u8; 32],
        pub initiator: PartyDraws,
        pub responder: PartyDraws,
        /// Cardinality mode: reply position `i` carries the responder's re-blinding of the
        /// initiator's element `reply_order[i]`.
        pub reply_order: Option<Vec<usize>>,
    }

    /// The draws of the session with this seed label and sizes, `cardinality` saying whether
    /// the responder draws a reply order.
    pub fn session(
        label: &str,
        (initiator_items, initiator_count): (usize, usize),
        (responder_items, responder_count): (usize, usize),
        cardinality: bool,
    ) -> SessionDraws {
        let mut stream = Stream::new(label);
        let session_id = stream.bytes::<32>();
        let initiator = party(&mut stream, initiator_items, initiator_count);
        let responder = party(&mut stream, responder_items, responder_count);
        let reply_order = cardinality.then(|| {
            let seed = stream.bytes::<32>();
            Stream::seeded(super::dst::DH_PSI_REPLY_ORDER, &seed).shuffle(initiator_count)
        });
        SessionDraws {
            session_id,
            initiator,
            responder,
            reply_order,
        }
    }

    /// `H(msg, DST)` of 01-suite.md 1.1: RFC 9380 `expand_message_xof` with SHAKE256 and
    /// `len_in_bytes = 64`, then the RFC 9496 one-way map.
    pub fn hash_to_group(msg: &[&[u8]], dst: &[u8]) -> RistrettoPoint {
        let mut h = Shake256::default();
        msg.iter().for_each(|m| h.update(m));
        h.update(&64u16.to_be_bytes());
        h.update(dst);
        h.update(&[dst.len() as u8]);
        let mut uniform = [0u8; 64];
        h.finalize_xof().read(&mut uniform);
        RistrettoPoint::from_uniform_bytes(&uniform)
    }

    /// `Encode(k * H(sid || value, DST))`, the element of `value` under key `k`.
    pub fn element(key: &Scalar, sid: &[u8; 32], value: &[u8]) -> [u8; 32] {
        (key * hash_to_group(&[sid, value], DH_PSI_DST))
            .compress()
            .to_bytes()
    }
}

fn party(items: &[&str], count: usize, draws: &spec::PartyDraws, sid: &[u8; 32]) -> Value {
    let hashed: Vec<_> = items
        .iter()
        .map(|i| hash_to_ristretto255_xof(&[sid, i.as_bytes()], dst::DH_PSI_HASH_TO_GROUP))
        .collect();
    json!({
        "items": items,
        "count": count,
        "key": hex::encode(draws.key.to_bytes()),
        "dummies": draws.dummies.iter().map(hex::encode).collect::<Vec<_>>(),
        "order": draws.order,
        "hashed": hashed.iter().map(|p| hex::encode(WireElement::encode(p).0)).collect::<Vec<_>>(),
        "blinded": hashed.iter().map(|p| hex::encode(WireElement::encode(&(draws.key * p)).0)).collect::<Vec<_>>(),
    })
}

fn learned(l: &Learned) -> Value {
    match l {
        Learned::Nothing => json!("nothing"),
        Learned::Cardinality(n) => json!({ "cardinality": n }),
        Learned::Matches(m) => json!({
            "matches": m.iter().map(|m| String::from_utf8_lossy(m.item()).into_owned()).collect::<Vec<_>>()
        }),
        other => panic!("the vectors describe no {other:?}"),
    }
}

/// One padded session per mode, every random value drawn from the session's seed label:
/// keys, dummies, orders, per-item hashes and blinded values, every message's bytes in order,
/// and what each party learned.
pub fn generate() -> Value {
    let sessions: Vec<Value> = Mode::ALL
        .into_iter()
        .map(|mode| {
            let label = seed_label(mode);
            let draws = spec::session(
                &label,
                (INITIATOR_ITEMS.len(), INITIATOR_COUNT),
                (RESPONDER_ITEMS.len(), RESPONDER_COUNT),
                mode == Mode::Cardinality,
            );
            let mut rng = VectorRng::new(label.as_bytes());
            let mut session_id = [0u8; 32];
            rng.fill_bytes(&mut session_id);
            let mut params = DhParams::new(mode, session_id, INITIATOR_COUNT, RESPONDER_COUNT);
            params.chunk_size = CHUNK_SIZE;
            let mut init = DhSession::new(
                Role::Initiator,
                params.clone(),
                ItemSet::new(INITIATOR_ITEMS),
                &mut rng,
            )
            .expect("initiator");
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
            let mut responder = party(&RESPONDER_ITEMS, RESPONDER_COUNT, &draws.responder, &session_id);
            if let Some(order) = &draws.reply_order {
                responder["reply_order"] = json!(order);
            }
            json!({
                "mode": mode.as_str(),
                "seed_label": label,
                "session_id": hex::encode(session_id),
                "chunk_size": CHUNK_SIZE,
                "initiator": party(&INITIATOR_ITEMS, INITIATOR_COUNT, &draws.initiator, &session_id),
                "responder": responder,
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
        "description": "blindmatch DH-PSI v1 test vectors: one padded session per mode (protocol-spec/03-dh-psi.md 3.9). Every random value is drawn from the vector stream SHAKE256(lp8(test_vector_seed) || seed_label) (protocol-spec/01-suite.md 1.6), in this order: session_id = bytes(32); the initiator's key = scalar(), count - |items| dummies = bytes(32) each, order = shuffle([0 .. count-1]); the same for the responder; in cardinality mode the responder's reply_seed = bytes(32) and reply_order = shuffle([0 .. initiator count-1]) drawn from SHAKE256(lp8(DH_PSI_REPLY_ORDER) || reply_seed). Sent position i carries item order[i] if order[i] < |items|, else dummy order[i] - |items|. Keys are little-endian scalars; elements are RFC 9496 encodings; items are UTF-8; hashed and blinded are per item in input order.",
        "test_vector_seed": String::from_utf8_lossy(dst::TEST_VECTOR_SEED),
        "hash_to_group_suite_id": String::from_utf8_lossy(dst::DH_PSI_HASH_TO_GROUP_SUITE_ID),
        "hash_to_group_dst": String::from_utf8_lossy(dst::DH_PSI_HASH_TO_GROUP),
        "sessions": sessions,
    })
}
