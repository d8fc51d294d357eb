//! The index vector (`protocol-spec/vectors/oprf-sha3.json`, `oprf_index`) rebuilt from the
//! spec's rules (`protocol-spec/07-oprf-psi.md` section 7.8): the creation draws from the
//! vector stream, the Argon2id KEK (RFC 9106) and the AAD written out here, the wrapped key,
//! the stored padding, and the sender's `Tags` messages of a session served from the index
//! (its padding tags are the stored values, its padding ciphertexts the stream of its only
//! draw), and the seal over every file (section 7.8.5, HKDF and HMAC over SHA3-256 written out). The draw rules are a copy (`tests/support/dh_vectors.rs`), not the library's code;
//! the OPRF evaluation is written out from RFC 9497; the tag hash, the Rice code and the label
//! AEAD are the library's, checked by their own vectors.
#![allow(clippy::unwrap_used)]

#[path = "support/dh_vectors.rs"]
mod dh_vectors;

use argon2::{Algorithm, Argon2, AssociatedData, ParamsBuilder, Version};
use blindmatch::protocol::oprf_psi::{label_key, seal_label, tags};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use dh_vectors::spec::{hash_to_group, Stream};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha3::{Digest, Sha3_256, Sha3_512};

fn unhex(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_index_vector_follows_from_the_spec() {
    let all: Value =
        serde_json::from_str(include_str!("../protocol-spec/vectors/oprf-sha3.json")).unwrap();
    let v = &all["oprf_index"];
    let meta = &v["index_json"];
    assert_eq!(meta["format"], "blindmatch-oprf-index-v3");
    let items = strings(&v["sender_items"]);
    let payloads = strings(&v["sender_payloads"]);
    let m = meta["items"].as_u64().unwrap() as usize;
    let pad_to = meta["pad_to"].as_u64().unwrap() as usize;
    assert_eq!((m, pad_to), (items.len(), 6));

    // 7.8.4: skS, epoch id, salt, nonce, then the padding values.
    let mut stream = Stream::new(v["create_seed_label"].as_str().unwrap());
    let sk = stream.scalar();
    let epoch_id = stream.bytes::<16>();
    let salt = stream.bytes::<16>();
    let nonce = stream.bytes::<12>();
    let padding: Vec<[u8; 16]> = (m..pad_to).map(|_| stream.bytes::<16>()).collect();
    assert_eq!(unhex(&meta["epoch"]["id"]), epoch_id);
    assert_eq!(unhex(&meta["kdf"]["salt"]), salt);
    assert_eq!(unhex(&v["padding_bin"]), padding.concat());

    // 7.8.1: KEK = Argon2id(P, S, K = empty, X = INDEX_KEY_WRAP, T = 32, m, t, p, v = 0x13).
    let k = &meta["kdf"];
    assert_eq!(
        (k["algorithm"].as_str(), k["version"].as_u64()),
        (Some("argon2id"), Some(19))
    );
    let params = ParamsBuilder::new()
        .m_cost(k["m_kib"].as_u64().unwrap() as u32)
        .t_cost(k["t"].as_u64().unwrap() as u32)
        .p_cost(k["p"].as_u64().unwrap() as u32)
        .data(AssociatedData::new(b"blindmatch-v1-index-key-wrap").unwrap())
        .output_len(32)
        .build()
        .unwrap();
    let mut kek = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(
            v["passphrase"].as_str().unwrap().as_bytes(),
            &salt,
            &mut kek,
        )
        .unwrap();
    let mut aad = b"blindmatch-oprf-index-v3".to_vec();
    aad.push(0x02);
    aad.extend_from_slice(&epoch_id);
    aad.extend_from_slice(&meta["epoch"]["created"].as_u64().unwrap().to_be_bytes());
    aad.extend_from_slice(&meta["epoch"]["not_after"].as_u64().unwrap().to_be_bytes());
    assert_eq!(aad.len(), 57);
    let ct = ChaCha20Poly1305::new(Key::from_slice(&kek))
        .encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: &sk.to_bytes(),
                aad: &aad,
            },
        )
        .unwrap();
    assert_eq!(unhex(&v["key_wrapped"]), [nonce.as_slice(), &ct].concat());

    // tags.bin: per item ascending by full tag, T || label key || len || payload.
    // 7.2 Evaluate, written out: Hash(I2OSP(len(x), 2) || x || I2OSP(32, 2) || Encode(skS *
    // HashToGroup(x)) || "Finalize"), Hash = SHA3-512, HashToGroup with the suite's DST.
    let mut dst = b"HashToGroup-OPRFV1-".to_vec();
    dst.push(0);
    dst.push(b'-');
    dst.extend_from_slice(b"ristretto255-SHAKE256-blindmatch-v1");
    let outputs: Vec<[u8; 64]> = items
        .iter()
        .map(|x| {
            let n = sk * hash_to_group(&[x.as_bytes()], &dst);
            let mut h = Sha3_512::new();
            h.update((x.len() as u16).to_be_bytes());
            h.update(x.as_bytes());
            h.update(32u16.to_be_bytes());
            h.update(n.compress().as_bytes());
            h.update(b"Finalize");
            h.finalize().into()
        })
        .collect();
    let mut entries: Vec<(u128, usize)> = outputs
        .iter()
        .enumerate()
        .map(|(i, o)| (tags::full_tag(o), i))
        .collect();
    entries.sort_unstable();
    let mut tags_bin = Vec::new();
    for (t, i) in &entries {
        tags_bin.extend_from_slice(&t.to_be_bytes());
        tags_bin.extend_from_slice(&label_key(&outputs[*i])[..]);
        tags_bin.extend_from_slice(&(payloads[*i].len() as u16).to_be_bytes());
        tags_bin.extend_from_slice(payloads[*i].as_bytes());
    }
    assert_eq!(unhex(&v["tags_bin"]), tags_bin);

    // 7.8.5: the seal over the bytes of index.json, key.wrapped, tags.bin and padding.bin,
    // under HKDF-SHA3-256 (RFC 5869) of skS with the AAD above as info.
    let index_json = unhex(&v["index_json_bytes"]);
    assert_eq!(
        serde_json::from_slice::<Value>(&index_json).unwrap(),
        *meta,
        "index_json is index_json_bytes parsed"
    );
    let mac = |key: &[u8], parts: &[&[u8]]| -> [u8; 32] {
        let mut m = <Hmac<Sha3_256> as hmac::KeyInit>::new_from_slice(key).unwrap();
        for p in parts {
            m.update(p);
        }
        m.finalize().into_bytes().into()
    };
    let prk = mac(b"blindmatch-v1-index-seal-key", &[&sk.to_bytes()]);
    let seal_key = mac(&prk, &[&aad, &[0x01]]);
    let file_dst = b"blindmatch-v1-index-seal-file";
    let mut seal = Vec::new();
    for (name, bytes) in [
        ("index.json", index_json),
        ("key.wrapped", unhex(&v["key_wrapped"])),
        ("tags.bin", tags_bin),
        ("padding.bin", padding.concat()),
    ] {
        seal.extend(mac(
            &seal_key,
            &[
                &[file_dst.len() as u8],
                file_dst,
                &[name.len() as u8],
                name.as_bytes(),
                &(bytes.len() as u64).to_be_bytes(),
                &bytes,
            ],
        ));
    }
    let whole_dst = b"blindmatch-v1-index-seal";
    let whole = mac(&seal_key, &[&[whole_dst.len() as u8], whole_dst, &seal]);
    seal.extend(whole);
    assert_eq!(seal.len(), 160);
    assert_eq!(unhex(&v["seal_bin"]), seal);

    // The session: the receiver draws first (7.5 step 1), then the sender its padding seed
    // only; its padding tags are the first n_s - m stored values, truncated (7.8.3).
    let s = &v["session"];
    let (n_r, n_s) = (
        s["receiver_count"].as_u64().unwrap() as usize,
        s["sender_count"].as_u64().unwrap() as usize,
    );
    let receiver_items = s["receiver_items"].as_array().unwrap().len();
    let bits = s["tag_bits"].as_u64().unwrap() as u32;
    let rice = s["rice_bits"].as_u64().unwrap() as u32;
    let payload_len = s["payload_len"].as_u64().unwrap() as usize;
    let sid: [u8; 32] = unhex(&s["session_id"]).try_into().unwrap();
    let mut stream = Stream::new(s["session_seed_label"].as_str().unwrap());
    for _ in receiver_items..n_r {
        stream.bytes::<32>();
    }
    stream.shuffle(n_r);
    for _ in 0..n_r {
        stream.scalar();
    }
    let seed = stream.bytes::<32>();
    let mut pad_stream = Stream::seeded(b"blindmatch-v1-oprf-psi-padding", &seed);
    // (tag, Some(item) | None for padding), in ascending tag order.
    let mut sent: Vec<(u128, Option<usize>)> = entries
        .iter()
        .map(|(t, i)| (tags::truncate(*t, bits), Some(*i)))
        .chain(
            padding[..n_s - m]
                .iter()
                .map(|p| (tags::truncate(u128::from_be_bytes(*p), bits), None)),
        )
        .collect();
    sent.sort_by_key(|e| e.0);
    let ct_len = 2 + payload_len + 16;
    let chunk = s["chunk_size"].as_u64().unwrap() as usize;
    let mut expected = Vec::new();
    let mut prev = 0u128;
    for part in sent.chunks(chunk) {
        let values: Vec<u128> = part.iter().map(|e| e.0).collect();
        let code = tags::encode(&values, rice, &mut prev).unwrap();
        let mut msg = vec![0x13];
        msg.extend_from_slice(&(part.len() as u32).to_be_bytes());
        msg.extend_from_slice(&(code.len() as u32).to_be_bytes());
        msg.extend_from_slice(&code);
        for (_, item) in part {
            // 7.6: every position takes the next block of the stream; padding keeps it.
            let block: Vec<u8> = (0..ct_len).map(|_| pad_stream.bytes::<1>()[0]).collect();
            match item {
                Some(i) => msg.extend(
                    seal_label(
                        &label_key(&outputs[*i]),
                        &sid,
                        payloads[*i].as_bytes(),
                        payload_len,
                    )
                    .unwrap(),
                ),
                None => msg.extend(block),
            }
        }
        expected.push(msg);
    }
    let from_sender: Vec<Vec<u8>> = s["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|msg| msg["from"] == "sender")
        .map(|msg| unhex(&msg["bytes"]))
        .filter(|b| b[0] == 0x13)
        .collect();
    assert_eq!(from_sender, expected);
}
