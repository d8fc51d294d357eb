//! The published vectors of blindmatch's SHA3 OPRF suite, of one small OPRF-PSI session and of
//! a small precomputed index with a session served from it (`protocol-spec/vectors/oprf-sha3.json`), shared by the generator
//! (`examples/gen_oprf_vectors.rs`) and the test that checks the published file.
//!
//! Every secret is derived from `dst::TEST_VECTOR_SEED`: the key with RFC 9497
//! `DeriveKeyPair` (written out here step by step, independently of the library), the
//! blinds with `HashToScalar(I2OSP(i, 2), DST = TEST_VECTOR_SEED || "-blind")`, and the
//! session's randomness from a ChaCha20 RNG seeded with the SHA3 suite's
//! `HashToGroup`-independent `SHAKE256(TEST_VECTOR_SEED || "-session")`.

#![allow(dead_code)]

use std::sync::Arc;

use blindmatch::oprf::{client, OprfKey, Suite};
use blindmatch::protocol::oprf_psi::{run_in_memory_with, tags, OprfPsiParams, PreparedSender};
use blindmatch::protocol::{ItemSet, Role};
use curve25519_dalek::scalar::Scalar;
use serde_json::{json, Value};
use sha3::digest::{ExtendableOutput, Update, XofReader};

/// The tags this file uses, as `protocol-spec/01-suite.md` spells them (the library's own
/// constants are private to it).
mod dst {
    /// The tag of the test-vector seeds (section 1.4).
    pub const TEST_VECTOR_SEED: &[u8] = b"blindmatch-v1-test-vector-seed";
}

pub const SUITE: Suite = Suite::Ristretto255Shake256;
pub const SEED: [u8; 32] = [0xa3; 32];
pub const KEY_INFO: &[u8] = b"test key";

fn shake(parts: &[&[u8]], out: &mut [u8]) {
    let mut h = sha3::Shake256::default();
    parts.iter().for_each(|p| h.update(p));
    h.finalize_xof().read(out);
}

/// RFC 9497 `DeriveKeyPair`, written out from the RFC's pseudocode.
pub fn derive_sk(suite: Suite, seed: &[u8; 32], info: &[u8]) -> Scalar {
    let info_len = (info.len() as u16).to_be_bytes();
    for counter in 0..=255u8 {
        let sk = suite.hash_to_scalar(
            &[seed, &info_len, info, &[counter]],
            &suite.derive_key_pair_dst(),
        );
        if sk != Scalar::ZERO {
            return sk;
        }
    }
    panic!("DeriveKeyPairError")
}

pub fn blind(i: u16) -> Scalar {
    let dst = [dst::TEST_VECTOR_SEED, b"-blind"].concat();
    SUITE.hash_to_scalar(&[&i.to_be_bytes()], &dst)
}

fn hexes<T: AsRef<[u8]>>(v: &[T]) -> Value {
    v.iter().map(|x| Value::from(hex::encode(x))).collect()
}

fn oprf_case(name: &str, inputs: &[Vec<u8>], first_blind: u16, key: &OprfKey) -> Value {
    let blinds: Vec<Scalar> = (0..inputs.len() as u16)
        .map(|i| blind(first_blind + i))
        .collect();
    let (state, blinded) = client::blind_with(SUITE, inputs, blinds.clone()).expect("blind");
    let evaluated = key.blind_evaluate(&blinded).expect("evaluate");
    let outputs = state.finalize(inputs, &evaluated).expect("finalize");
    json!({
        "name": name,
        "input": hexes(inputs),
        "blind": hexes(&blinds.iter().map(|b| b.to_bytes()).collect::<Vec<_>>()),
        "blinded_element": hexes(&blinded.iter().map(|e| e.0).collect::<Vec<_>>()),
        "evaluation_element": hexes(&evaluated.iter().map(|e| e.0).collect::<Vec<_>>()),
        "output": hexes(&outputs),
        "full_tag": hexes(&outputs.iter().map(|o| tags::full_tag(o).to_be_bytes()).collect::<Vec<_>>()),
        "label_key": hexes(&outputs.iter().map(|o| *blindmatch::protocol::oprf_psi::label_key(o)).collect::<Vec<_>>()),
    })
}

/// The seed label of the OPRF-PSI session vector's stream.
const SESSION_LABEL: &str = "oprf-psi/labeled";

fn session() -> Value {
    let mut rng = blindmatch::protocol::vector_rng::VectorRng::new(SESSION_LABEL.as_bytes());
    let key = OprfKey::derive(SUITE, &SEED, KEY_INFO).expect("key");
    let receiver = ["MSCU1234565", "TGHU0000001", "IMO9074729"];
    let sender = ["IMO9074729", "CSQU3054383", "MSCU1234565", "IMO9321483"];
    let payloads: Vec<Vec<u8>> = [
        "vessel=EVER GIVEN",
        "voyage=3E",
        "consignee=ACME",
        "vessel=MSC OSCAR",
    ]
    .iter()
    .map(|p| p.as_bytes().to_vec())
    .collect();
    let set = PreparedSender::new(SUITE, key, &ItemSet::new(sender), Some(&payloads)).expect("set");
    let mut params = OprfPsiParams::new(SUITE, [0x5e; 32], 4, 6);
    params.chunk_size = 2;
    params.payload_len = Some(24);
    let ((r, _), transcript) = run_in_memory_with(
        params.clone(),
        ItemSet::new(receiver),
        Arc::new(set),
        &mut rng,
        true,
    )
    .expect("session");
    json!({
        "description": "receiver = initiator; the first message is the sender's Params; every random value is drawn from the vector stream SHAKE256(lp8(TEST_VECTOR_SEED) || seed_label) (protocol-spec/01-suite.md 1.6) with the draws of 1.6, in this order: the receiver's n_r - |items| padding strings = bytes(32) each, its order of sending = shuffle([0 .. n_r-1]), its blinds = n_r scalar() draws in sending order; then the sender's n_s - |items| padding tags = bytes(16) each (big-endian, truncated to tag_bits), its padding seed = bytes(32), whose stream SHAKE256(lp8(OPRF_PSI_PADDING) || seed), cut into n_s blocks of 2 + payload_len + 16 bytes, gives the padding tag at position i (ascending tag order) block i (protocol-spec/07-oprf-psi.md 7.5, 7.6)",
        "seed_label": SESSION_LABEL,
        "session_id": hex::encode(params.session_id),
        "receiver_count": params.receiver_count,
        "sender_count": params.sender_count,
        "chunk_size": params.chunk_size,
        "payload_len": params.payload_len,
        "tag_bits": params.tag_bits(),
        "rice_bits": params.rice_bits(),
        "receiver_items": receiver,
        "sender_items": sender,
        "sender_payloads": payloads.iter().map(|p| String::from_utf8_lossy(p).into_owned()).collect::<Vec<_>>(),
        "messages": transcript.messages.iter().map(|(who, m)| json!({
            "from": if *who == Role::Initiator { "receiver" } else { "sender" },
            "bytes": hex::encode(m),
        })).collect::<Vec<_>>(),
        "receiver_learns": r.matches.iter().map(|m| json!({
            "item": String::from_utf8_lossy(&m.item),
            "payload": m.payload.as_ref().map(|p| String::from_utf8_lossy(p).into_owned()),
        })).collect::<Vec<_>>(),
    })
}

/// The seed labels of the index vector: its creation, and a session served from it.
pub const INDEX_LABEL: &str = "oprf-index/create";
pub const INDEX_SESSION_LABEL: &str = "oprf-index/session";
/// The index vector's public passphrase (never use it for anything else).
pub const INDEX_PASSPHRASE: &[u8] = b"blindmatch public test vector passphrase: never use it";
pub const INDEX_CREATED: u64 = 1_800_000_000;

fn index() -> Value {
    use blindmatch::index::{Index, IndexOptions};
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("idx");
    let mut rng = blindmatch::protocol::vector_rng::VectorRng::new(INDEX_LABEL.as_bytes());
    let sender = ["IMO9074729", "IMO9321483", "IMO9811000"];
    let payloads: Vec<Vec<u8>> = ["vessel=EVER GIVEN", "vessel=MSC OSCAR", "vessel=EVER ACE"]
        .iter()
        .map(|p| p.as_bytes().to_vec())
        .collect();
    let options = IndexOptions {
        pad_to: Some(6),
        now: Some(INDEX_CREATED),
        ..IndexOptions::default()
    };
    Index::create(
        &path,
        SUITE,
        INDEX_PASSPHRASE,
        &ItemSet::new(sender),
        Some(&payloads),
        &options,
        &mut rng,
    )
    .expect("create");
    let file = |name: &str| std::fs::read(path.join(name)).expect("read");
    let meta: Value = serde_json::from_slice(&file("index.json")).expect("json");
    let set = Index::open(&path, INDEX_PASSPHRASE)
        .expect("open")
        .into_prepared();

    let mut rng = blindmatch::protocol::vector_rng::VectorRng::new(INDEX_SESSION_LABEL.as_bytes());
    let receiver = ["IMO9321483", "IMO1234567"];
    let mut params = OprfPsiParams::new(SUITE, [0x6e; 32], 3, 6);
    params.chunk_size = 2;
    params.payload_len = Some(set.max_payload_len());
    let ((r, _), transcript) = run_in_memory_with(
        params.clone(),
        ItemSet::new(receiver),
        Arc::new(set),
        &mut rng,
        true,
    )
    .expect("session");
    json!({
        "description": "an index of format blindmatch-oprf-index-v3 (protocol-spec/07-oprf-psi.md 7.8) created from the vector stream of create_seed_label with the draws of 1.6, in this order (7.8.4): skS = scalar(), epoch id = bytes(16), Argon2id salt = bytes(16), wrapping nonce = bytes(12), then pad_to - items padding values = bytes(16) each; KEK = Argon2id(P = passphrase, S = salt, K = empty, X = INDEX_KEY_WRAP, T = 32, m, t, p, v = 0x13); seal_bin seals the bytes of index_json_bytes, key_wrapped, tags_bin and padding_bin under HKDF-SHA3-256(salt = INDEX_SEAL_KEY, IKM = SerializeScalar(skS), info = the 57-byte AAD of key_wrapped) (7.8.5); then one labeled session served from it, whose stream (session_seed_label) gives the receiver's draws (7.5 step 1) and then the sender's padding seed only: its padding tags are the first n_s - items stored values, truncated to tag_bits (7.8.3); the padding tag at position i carries block i of that seed's stream (7.6)",
        "create_seed_label": INDEX_LABEL,
        "passphrase": String::from_utf8_lossy(INDEX_PASSPHRASE),
        "sender_items": sender,
        "sender_payloads": payloads.iter().map(|p| String::from_utf8_lossy(p).into_owned()).collect::<Vec<_>>(),
        "index_json": meta,
        "index_json_bytes": hex::encode(file("index.json")),
        "key_wrapped": hex::encode(file("key.wrapped")),
        "tags_bin": hex::encode(file("tags.bin")),
        "padding_bin": hex::encode(file("padding.bin")),
        "seal_bin": hex::encode(file("seal.bin")),
        "session": {
            "session_seed_label": INDEX_SESSION_LABEL,
            "session_id": hex::encode(params.session_id),
            "receiver_count": params.receiver_count,
            "sender_count": params.sender_count,
            "chunk_size": params.chunk_size,
            "payload_len": params.payload_len,
            "tag_bits": params.tag_bits(),
            "rice_bits": params.rice_bits(),
            "receiver_items": receiver,
            "messages": transcript.messages.iter().map(|(who, m)| json!({
                "from": if *who == Role::Initiator { "receiver" } else { "sender" },
                "bytes": hex::encode(m),
            })).collect::<Vec<_>>(),
            "receiver_learns": r.matches.iter().map(|m| json!({
                "item": String::from_utf8_lossy(&m.item),
                "payload": m.payload.as_ref().map(|p| String::from_utf8_lossy(p).into_owned()),
            })).collect::<Vec<_>>(),
        },
    })
}

pub fn generate() -> Value {
    let sk = derive_sk(SUITE, &SEED, KEY_INFO);
    let key = OprfKey::derive(SUITE, &SEED, KEY_INFO).expect("key");
    json!({
        "source": "blindmatch ristretto255-SHAKE256-blindmatch-v1, OPRF mode (protocol-spec/07-oprf-psi.md); generated by examples/gen_oprf_vectors.rs",
        "suite": SUITE.to_string(),
        "context_string": hex::encode(SUITE.context_string()),
        "seed": hex::encode(SEED),
        "key_info": hex::encode(KEY_INFO),
        "skSm": hex::encode(sk.to_bytes()),
        "pkSm": hex::encode(key.public_key().0),
        "cases": [
            oprf_case("Test Vector 1, Batch Size 1", &[vec![0x00]], 0, &key),
            oprf_case("Test Vector 2, Batch Size 1", &[vec![0x5a; 17]], 1, &key),
            oprf_case("Test Vector 3, Batch Size 3", &[b"MSCU1234565".to_vec(), vec![], vec![0xff; 300]], 2, &key),
        ],
        "oprf_psi_session": session(),
        "oprf_index": index(),
    })
}
