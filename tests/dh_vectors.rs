//! The published DH-PSI test vectors: the committed file is exactly what the committed
//! generator produces; every value in it is rebuilt from its seed label by the spec's rules
//! (`protocol-spec/01-suite.md` 1.6, `03-dh-psi.md` 3.3 and 3.9), written out in
//! `support/dh_vectors.rs::spec` without the library's draws, DH-PSI code or hash-to-group;
//! and every message the library sent is recomputed, in order, from those values.

#[path = "support/dh_vectors.rs"]
mod dh_vectors;

use std::collections::BTreeSet;

use curve25519_dalek::ristretto::CompressedRistretto;
use curve25519_dalek::scalar::Scalar;
use dh_vectors::spec;
use serde_json::Value;

fn read(rel: &str) -> String {
    std::fs::read_to_string(format!("{}/{rel}", env!("CARGO_MANIFEST_DIR"))).expect(rel)
}

fn committed() -> Value {
    serde_json::from_str(&read("protocol-spec/vectors/dh-psi.json")).expect("json")
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

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("string").to_owned())
        .collect()
}

fn numbers(v: &Value) -> Vec<usize> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|n| n.as_u64().expect("number") as usize)
        .collect()
}

/// The messages `from` sent of the given type (0x01 Blinded, 0x02 Reblinded), each as its
/// list of elements, after checking the framing of 03-dh-psi.md 3.4.
fn messages(session: &Value, from: &str, kind: u8) -> Vec<Vec<[u8; 32]>> {
    let mut out = Vec::new();
    for m in session["messages"].as_array().expect("messages") {
        let bytes = hex::decode(m["bytes"].as_str().expect("hex")).expect("hex");
        if m["from"] == from && bytes[0] == kind {
            let count = u32::from_be_bytes(bytes[1..5].try_into().expect("4 bytes")) as usize;
            assert_eq!(bytes.len(), 5 + 32 * count);
            out.push(
                bytes[5..]
                    .chunks(32)
                    .map(|c| <[u8; 32]>::try_from(c).expect("32"))
                    .collect(),
            );
        }
    }
    out
}

/// The message lengths of a set of `n` elements in chunks of `c` (03-dh-psi.md 3.4).
fn chunking(n: usize, c: usize) -> Vec<usize> {
    (0..n.div_ceil(c).max(1))
        .map(|j| (n - j * c).min(c))
        .collect()
}

/// `Encode(k * Decode(e))`.
fn reblind(k: &Scalar, e: &[u8; 32]) -> [u8; 32] {
    let p = CompressedRistretto(*e).decompress().expect("valid element");
    (k * p).compress().to_bytes()
}

/// One party's values as the vector states them.
struct Party {
    items: Vec<String>,
    count: usize,
    key: Scalar,
    dummies: Vec<[u8; 32]>,
    order: Vec<usize>,
}

impl Party {
    fn of(v: &Value) -> Self {
        Party {
            items: strings(&v["items"]),
            count: v["count"].as_u64().expect("count") as usize,
            key: Scalar::from_canonical_bytes(hex32(&v["key"])).expect("canonical scalar"),
            dummies: v["dummies"]
                .as_array()
                .expect("dummies")
                .iter()
                .map(hex32)
                .collect(),
            order: numbers(&v["order"]),
        }
    }

    /// The value at sent position `i`: an item's bytes or a dummy's (03-dh-psi.md 3.3).
    fn value(&self, i: usize) -> Vec<u8> {
        let n = self.order[i];
        match n.checked_sub(self.items.len()) {
            None => self.items[n].as_bytes().to_vec(),
            Some(d) => self.dummies[d].to_vec(),
        }
    }

    /// Its `Blinded` elements in the order of sending.
    fn blinded(&self, sid: &[u8; 32]) -> Vec<[u8; 32]> {
        (0..self.count)
            .map(|i| spec::element(&self.key, sid, &self.value(i)))
            .collect()
    }
}

/// Every random value of every session, rebuilt from the session's seed label alone.
#[test]
fn every_drawn_value_rebuilds_from_the_seed_label() {
    let v = committed();
    assert_eq!(v["test_vector_seed"], "blindmatch-v1-test-vector-seed");
    assert_eq!(
        v["hash_to_group_dst"].as_str().expect("dst").as_bytes(),
        spec::DH_PSI_DST
    );
    for s in v["sessions"].as_array().expect("sessions") {
        let mode = s["mode"].as_str().expect("mode");
        let label = s["seed_label"].as_str().expect("label");
        assert_eq!(label, format!("dh-psi/{mode}"));
        let (init, resp) = (Party::of(&s["initiator"]), Party::of(&s["responder"]));
        let draws = spec::session(
            label,
            (init.items.len(), init.count),
            (resp.items.len(), resp.count),
            mode == "cardinality",
        );
        assert_eq!(hex32(&s["session_id"]), draws.session_id, "{mode}");
        for (who, party, drawn) in [
            ("initiator", &init, &draws.initiator),
            ("responder", &resp, &draws.responder),
        ] {
            assert_eq!(party.key, drawn.key, "{mode} {who} key");
            assert_eq!(party.dummies, drawn.dummies, "{mode} {who} dummies");
            assert_eq!(party.order, drawn.order, "{mode} {who} order");
        }
        let reply_order = s["responder"].get("reply_order").map(numbers);
        assert_eq!(reply_order, draws.reply_order, "{mode} reply order");
    }
}

/// The spec's rules alone, from the first session's seed label to the first element the
/// library sent: no value of the vector file but the items is used.
#[test]
fn the_first_blinded_element_follows_from_the_seed() {
    let v = committed();
    let s = &v["sessions"][0];
    let items = strings(&s["initiator"]["items"]);
    let count = s["initiator"]["count"].as_u64().expect("count") as usize;
    let mut stream = spec::Stream::new(s["seed_label"].as_str().expect("label"));
    let sid = stream.bytes::<32>();
    let key = stream.scalar();
    let dummies: Vec<[u8; 32]> = (items.len()..count).map(|_| stream.bytes::<32>()).collect();
    let order = stream.shuffle(count);
    let first = match order[0].checked_sub(items.len()) {
        None => items[order[0]].as_bytes().to_vec(),
        Some(d) => dummies[d].to_vec(),
    };
    let sent = messages(s, "initiator", 1);
    assert_eq!(spec::element(&key, &sid, &first), sent[0][0]);
    assert_eq!(hex::encode(key.to_bytes()), s["initiator"]["key"]);
}

#[test]
fn every_message_follows_from_the_drawn_values() {
    let v = committed();
    for s in v["sessions"].as_array().expect("sessions") {
        let mode = s["mode"].as_str().expect("mode");
        let sid = hex32(&s["session_id"]);
        let c = s["chunk_size"].as_u64().expect("chunk size") as usize;
        let (init, resp) = (Party::of(&s["initiator"]), Party::of(&s["responder"]));
        let (a, b) = (init.key, resp.key);

        // Per-item hashes and blinded values, in input order.
        for (who, party) in [("initiator", &init), ("responder", &resp)] {
            for (i, item) in party.items.iter().enumerate() {
                let h = spec::hash_to_group(&[&sid, item.as_bytes()], spec::DH_PSI_DST);
                assert_eq!(hex32(&s[who]["hashed"][i]), h.compress().to_bytes());
                assert_eq!(
                    hex32(&s[who]["blinded"][i]),
                    spec::element(&party.key, &sid, item.as_bytes())
                );
            }
        }

        // Round 1: the initiator's set, in its order of sending, chunked.
        let sent = messages(s, "initiator", 1);
        let lens: Vec<usize> = sent.iter().map(Vec::len).collect();
        assert_eq!(lens, chunking(init.count, c), "{mode}");
        let e: Vec<[u8; 32]> = sent.concat();
        assert_eq!(e, init.blinded(&sid), "{mode}: initiator's Blinded");

        // Round 2: the responder's re-blinding, then its own set.
        let back = messages(s, "responder", 2);
        let lens: Vec<usize> = back.iter().map(Vec::len).collect();
        assert_eq!(lens, chunking(init.count, c), "{mode}");
        let r: Vec<[u8; 32]> = back.concat();
        let expected: Vec<[u8; 32]> = match s["responder"].get("reply_order") {
            None => e.iter().map(|x| reblind(&b, x)).collect(),
            Some(q) => numbers(q).iter().map(|&i| reblind(&b, &e[i])).collect(),
        };
        assert_eq!(r, expected, "{mode}: responder's Reblinded");
        assert_eq!(
            s["responder"].get("reply_order").is_some(),
            mode == "cardinality"
        );
        let f: Vec<[u8; 32]> = messages(s, "responder", 1).concat();
        assert_eq!(f, resp.blinded(&sid), "{mode}: responder's Blinded");

        // Round 3: the initiator returns the responder's set only in mutual mode.
        let t: Vec<[u8; 32]> = messages(s, "initiator", 2).concat();
        if mode == "mutual" {
            let expected: Vec<[u8; 32]> = f.iter().map(|x| reblind(&a, x)).collect();
            assert_eq!(t, expected, "mutual: initiator's Reblinded");
        } else {
            assert!(t.is_empty(), "{mode}: the initiator returns nothing");
        }

        // What each side learns: the shared items in its own item order, or their count.
        let shared = |mine: &Party, theirs: &Party| -> Vec<String> {
            let theirs: BTreeSet<&String> = theirs.items.iter().collect();
            mine.items
                .iter()
                .filter(|i| theirs.contains(i))
                .cloned()
                .collect()
        };
        let matches = |l: &Value| strings(&l["matches"]);
        match mode {
            "intersection" => {
                assert_eq!(matches(&s["initiator_learns"]), shared(&init, &resp));
                assert_eq!(s["responder_learns"], "nothing");
            }
            "mutual" => {
                assert_eq!(matches(&s["initiator_learns"]), shared(&init, &resp));
                assert_eq!(matches(&s["responder_learns"]), shared(&resp, &init));
            }
            _ => {
                let n = shared(&init, &resp).len() as u64;
                assert_eq!(s["initiator_learns"]["cardinality"].as_u64(), Some(n));
                assert_eq!(s["responder_learns"], "nothing");
            }
        }
    }
}
