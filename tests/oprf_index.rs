//! The precomputed index (unbalanced mode, `protocol-spec/07-oprf-psi.md` section 7.8):
//! create, reopen with the passphrase (and refuse a wrong one), add and remove items, serve
//! sessions whose results match the plaintext intersection and whose payloads decrypt; the
//! v3 format's key epochs, stored padding and refusals, matched by typed reasons.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use blindmatch::error::{ConfigError, ConfigReason};
use blindmatch::index::{unix_now, Index, IndexOptions, KdfParams, DAY};
use blindmatch::oprf::Suite;
use blindmatch::protocol::memory::Transcript;
use blindmatch::protocol::oprf_psi::{run_in_memory_with, tags, OprfPsiMessage, OprfPsiParams};
use blindmatch::protocol::{ItemSet, Role, WireMessage};
use blindmatch::Error;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const PASS: &[u8] = b"0123456789abcdef0123456789abcdef-test-only";

/// Cheap Argon2id parameters, so the tests open indexes quickly (the CLI uses the default).
fn quick() -> IndexOptions {
    IndexOptions {
        kdf: KdfParams {
            m_kib: 64,
            t: 1,
            p: 1,
        },
        ..IndexOptions::default()
    }
}

fn reason<T: std::fmt::Debug>(r: blindmatch::Result<T>) -> ConfigReason {
    match r {
        Err(Error::Config(ConfigError { reason, .. })) => reason,
        other => panic!("not a configuration error: {other:?}"),
    }
}

fn imo(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("IMO{:07}", 9_000_000 + i)).collect()
}

fn query(
    dir: &Path,
    receiver: &[&str],
    labeled: bool,
    rng: &mut ChaCha20Rng,
) -> Vec<(String, Option<String>)> {
    // A fresh copy of the prepared set per session: reopen from disk.
    let set = Index::open(dir, PASS).expect("reopen").into_prepared();
    let mut params = OprfPsiParams::new(set.suite(), [4; 32], receiver.len(), set.len());
    if labeled {
        params.payload_len = Some(64);
    }
    let ((out, _), _) =
        run_in_memory_with(params, ItemSet::new(receiver), Arc::new(set), rng, false).expect("run");
    out.matches
        .into_iter()
        .map(|m| {
            (
                String::from_utf8(m.item).expect("utf8"),
                m.payload.map(|p| String::from_utf8(p).expect("utf8")),
            )
        })
        .collect()
}

#[test]
fn index_round_trip_updates_and_wrong_passphrase() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("idx");
    let mut rng = ChaCha20Rng::from_seed([8; 32]);
    let sender = ItemSet::new(["IMO9074729", "IMO9321483", "IMO9811000"]);
    let payloads = vec![
        b"EVER GIVEN".to_vec(),
        b"MSC OSCAR".to_vec(),
        b"EVER ACE".to_vec(),
    ];
    Index::create(
        &dir,
        Suite::default(),
        PASS,
        &sender,
        Some(&payloads),
        &quick(),
        &mut rng,
    )
    .expect("create");
    let again = Index::create(
        &dir,
        Suite::default(),
        PASS,
        &sender,
        None,
        &quick(),
        &mut rng,
    );
    assert_eq!(reason(again), ConfigReason::Index);
    let wrong = Index::open(&dir, b"0123456789abcdef0123456789abcdef-wrong");
    assert_eq!(reason(wrong), ConfigReason::Index);
    assert_eq!(reason(Index::open(&dir, b"short")), ConfigReason::Index);

    let receiver = ["IMO9321483", "IMO1234567", "IMO9811000"];
    let got = query(&dir, &receiver, true, &mut rng);
    assert_eq!(
        got,
        vec![
            ("IMO9321483".to_string(), Some("MSC OSCAR".to_string())),
            ("IMO9811000".to_string(), Some("EVER ACE".to_string())),
        ]
    );

    // Incremental: add one (and one already present), remove one, persist, reopen.
    let mut index = Index::open(&dir, PASS).expect("open");
    let added = index
        .add(
            &ItemSet::new(["IMO1234567", "IMO9074729"]),
            Some(&[b"NEW".to_vec(), b"DUP".to_vec()]),
        )
        .expect("add");
    assert_eq!(added, 1);
    let removed = index
        .remove(&ItemSet::new(["IMO9811000", "IMO0000000"]), &mut rng)
        .expect("remove");
    assert_eq!(removed, 1);
    index.save().expect("save");
    let index = Index::open(&dir, PASS).expect("open");
    assert_eq!(index.prepared().len(), 3);
    let got = query(&dir, &receiver, true, &mut rng);
    assert_eq!(
        got,
        vec![
            ("IMO9321483".to_string(), Some("MSC OSCAR".to_string())),
            ("IMO1234567".to_string(), Some("NEW".to_string())),
        ]
    );

    // A damaged key file is refused.
    let wrapped = dir.join("key.wrapped");
    let mut bytes = std::fs::read(&wrapped).expect("read");
    bytes[20] ^= 1;
    std::fs::write(&wrapped, bytes).expect("write");
    assert_eq!(reason(Index::open(&dir, PASS)), ConfigReason::Index);
}

/// Every tag value the sender sent in a recorded session, in order.
fn sent_tags(t: &Transcript, params: &OprfPsiParams) -> (Vec<u128>, Vec<Vec<u8>>) {
    let (mut out, mut cts, mut prev) = (Vec::new(), Vec::new(), 0u128);
    for (who, bytes) in &t.messages {
        if *who != Role::Responder {
            continue;
        }
        if let OprfPsiMessage::Tags(chunk) = OprfPsiMessage::decode(bytes).expect("decode") {
            out.extend(
                tags::decode(
                    &chunk.code,
                    chunk.count,
                    params.tag_bits(),
                    params.rice_bits(),
                    &mut prev,
                )
                .expect("tags"),
            );
            if params.payload_len.is_some() {
                let len = params.ciphertext_len();
                cts.extend(chunk.ciphertexts.chunks(len).map(<[u8]>::to_vec));
            }
        }
    }
    (out, cts)
}

/// One recorded session of `receiver` against the index in `dir`, `n_s` tags.
fn record(
    dir: &Path,
    receiver: &[String],
    n_s: usize,
    labeled: bool,
    sid: u8,
    rng: &mut ChaCha20Rng,
) -> (Vec<u128>, Vec<Vec<u8>>, usize) {
    let set = Index::open(dir, PASS).unwrap().into_prepared();
    let mut params = OprfPsiParams::new(set.suite(), [sid; 32], receiver.len(), n_s);
    params.chunk_size = 128;
    if labeled {
        params.payload_len = Some(set.max_payload_len());
    }
    let ((out, _), transcript) = run_in_memory_with(
        params.clone(),
        ItemSet::new(receiver),
        Arc::new(set),
        rng,
        true,
    )
    .unwrap();
    let (tags, cts) = sent_tags(&transcript, &params);
    assert_eq!(tags.len(), n_s);
    (tags, cts, out.matches.len())
}

#[test]
fn two_sessions_from_one_index_send_the_same_tags_so_their_intersection_is_the_padded_size() {
    for labeled in [false, true] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("idx");
        let mut rng = ChaCha20Rng::from_seed([labeled as u8; 32]);
        let sender = imo(300);
        let payloads: Option<Vec<Vec<u8>>> =
            labeled.then(|| (0..300).map(|i| format!("v{i}").into_bytes()).collect());
        let options = IndexOptions {
            pad_to: Some(1000),
            ..quick()
        };
        let index = Index::create(
            &dir,
            Suite::default(),
            PASS,
            &ItemSet::new(&sender),
            payloads.as_deref(),
            &options,
            &mut rng,
        )
        .unwrap();
        assert_eq!(index.pad_to(), Some(1000));
        // Two receivers with different queries, as two sessions of one curious receiver.
        let first: Vec<String> = sender[..5].to_vec();
        let second: Vec<String> = sender[100..105].to_vec();
        let (a, cts_a, hits_a) = record(&dir, &first, 1000, labeled, 1, &mut rng);
        let (b, cts_b, hits_b) = record(&dir, &second, 1000, labeled, 2, &mut rng);
        assert_eq!((hits_a, hits_b), (5, 5));
        let (a, b): (BTreeSet<u128>, BTreeSet<u128>) =
            (a.into_iter().collect(), b.into_iter().collect());
        // Fresh padding per session would leave exactly the 300 real tags in common.
        assert_eq!(a.intersection(&b).count(), 1000, "labeled: {labeled}");
        assert_eq!(a, b);
        if labeled {
            // Every ciphertext, real or padding, is new in each session (7.8.3).
            assert_eq!(cts_a.len(), 1000);
            assert!(cts_a.iter().zip(&cts_b).all(|(x, y)| x != y));
        }
        // A session padded to less uses a prefix of the same padding: still a subset.
        let (c, _, _) = record(&dir, &first, 600, labeled, 3, &mut rng);
        let c: BTreeSet<u128> = c.into_iter().collect();
        assert_eq!(c.len(), 600);
    }
}

#[test]
fn add_and_remove_keep_the_stored_padding_at_the_padded_size() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("idx");
    let mut rng = ChaCha20Rng::from_seed([3; 32]);
    let sender = imo(50);
    let options = IndexOptions {
        pad_to: Some(80),
        ..quick()
    };
    Index::create(
        &dir,
        Suite::default(),
        PASS,
        &ItemSet::new(&sender[..40]),
        None,
        &options,
        &mut rng,
    )
    .unwrap();
    let receiver = sender[..3].to_vec();
    let (before, _, _) = record(&dir, &receiver, 80, false, 1, &mut rng);
    let mut index = Index::open(&dir, PASS).unwrap();
    assert_eq!(index.add(&ItemSet::new(&sender[40..]), None).unwrap(), 10);
    index.save().unwrap();
    let (after, _, hits) = record(&dir, &receiver, 80, false, 2, &mut rng);
    assert_eq!(hits, 3);
    let (before, after): (BTreeSet<u128>, BTreeSet<u128>) =
        (before.into_iter().collect(), after.into_iter().collect());
    // Ten padding tags gave way to the ten new items; the other 70 tags are unchanged.
    assert_eq!(before.intersection(&after).count(), 70);
    let mut index = Index::open(&dir, PASS).unwrap();
    index
        .remove(&ItemSet::new(&sender[40..]), &mut rng)
        .unwrap();
    index.save().unwrap();
    let (again, _, _) = record(&dir, &receiver, 80, false, 3, &mut rng);
    let again: BTreeSet<u128> = again.into_iter().collect();
    assert_eq!(again.intersection(&before).count(), 70);
    // The padded size cannot drop below the items held, nor can a session exceed it.
    let mut index = Index::open(&dir, PASS).unwrap();
    let low = index.set_pad_to(10, &mut rng);
    assert!(
        matches!(low, Err(Error::Input(ref e)) if e.reason == blindmatch::error::InputReason::SetSize),
        "{low:?}"
    );
    let set = index.into_prepared();
    let params = OprfPsiParams::new(set.suite(), [9; 32], 3, 81);
    let r = run_in_memory_with(
        params,
        ItemSet::new(&receiver),
        Arc::new(set),
        &mut rng,
        false,
    );
    let e = r.map(|_| ()).unwrap_err();
    assert_eq!(e.code(), "config.index_padding");
    // The library names the padding; the command line's hint names its flag.
    assert!(blindmatch::cli::hint::hint(&e).is_some(), "{e}");
}

#[test]
fn an_index_without_pad_to_refuses_padded_sessions() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("idx");
    let mut rng = ChaCha20Rng::from_seed([4; 32]);
    let index = Index::create(
        &dir,
        Suite::default(),
        PASS,
        &ItemSet::new(imo(10)),
        None,
        &quick(),
        &mut rng,
    )
    .unwrap();
    assert_eq!(index.pad_to(), None);
    let set = index.into_prepared();
    assert!(set.check_padding(10).is_ok());
    assert_eq!(reason(set.check_padding(11)), ConfigReason::IndexPadding);
}

#[test]
fn epochs_are_fresh_per_creation_and_bound_to_the_wrapped_key() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = ChaCha20Rng::from_seed([5; 32]);
    let items = ItemSet::new(imo(4));
    let options = IndexOptions {
        lifetime_days: 30,
        now: Some(1_800_000_000),
        ..quick()
    };
    let create = |name: &str, rng: &mut ChaCha20Rng| {
        Index::create(
            &tmp.path().join(name),
            Suite::default(),
            PASS,
            &items,
            None,
            &options,
            rng,
        )
        .unwrap()
    };
    let (a, b) = (create("a", &mut rng), create("b", &mut rng));
    let (ea, eb) = (a.key_epoch(), b.key_epoch());
    assert_ne!(ea.id, eb.id);
    assert_eq!(ea.created, 1_800_000_000);
    assert_eq!(ea.not_after, 1_800_000_000 + 30 * DAY);
    assert_eq!(
        Index::open(&tmp.path().join("a"), PASS)
            .unwrap()
            .key_epoch(),
        ea
    );
    // A rebuilt index has another key: the same item has another tag.
    let ta = record(&tmp.path().join("a"), &imo(1), 4, false, 1, &mut rng).0;
    let tb = record(&tmp.path().join("b"), &imo(1), 4, false, 1, &mut rng).0;
    assert!(ta.iter().all(|t| !tb.contains(t)));

    // Extending the lifetime in index.json does not unwrap the key.
    let json_path = tmp.path().join("a/index.json");
    let text = std::fs::read_to_string(&json_path).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["epoch"]["not_after"] = serde_json::json!(ea.not_after + 365 * DAY);
    std::fs::write(&json_path, v.to_string()).unwrap();
    assert_eq!(
        reason(Index::open(&tmp.path().join("a"), PASS)),
        ConfigReason::Index
    );
}

#[test]
fn a_v1_index_is_refused_with_a_typed_error_naming_the_rebuild() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("old");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("index.json"),
        r#"{"format":"blindmatch-oprf-index-v1","suite":"ristretto255-SHAKE256-blindmatch-v1","items":0,"labeled":false,"salt":"00000000000000000000000000000000"}"#,
    )
    .unwrap();
    std::fs::write(dir.join("key.wrapped"), [0u8; 60]).unwrap();
    std::fs::write(dir.join("tags.bin"), []).unwrap();
    let e = Index::open(&dir, PASS).unwrap_err();
    assert_eq!(e.code(), "config.index_format");
    // The library says to rebuild; the command line names the command that does it.
    assert!(e.to_string().contains("rebuild"), "{e}");
    assert!(
        blindmatch::cli::hint::hint(&e).is_some_and(|h| h.contains("blindmatch index")),
        "{e}"
    );
}

#[test]
fn an_expired_index_is_refused_before_connecting() {
    use blindmatch::agency::{Agency, AgencyFiles, SessionSpec};
    use blindmatch::identity::Identity;
    use blindmatch::policy::Policy;
    use blindmatch::session::{SenderSource, SessionMode};
    use blindmatch::transport::verifier::PeerAuth;

    let tmp = tempfile::tempdir().unwrap();
    let mut rng = ChaCha20Rng::from_seed([6; 32]);
    let items = ItemSet::new(imo(4));
    let open_at = |name: &str, now: u64, rng: &mut ChaCha20Rng| {
        let options = IndexOptions {
            lifetime_days: 90,
            now: Some(now),
            ..quick()
        };
        let dir = tmp.path().join(name);
        Index::create(&dir, Suite::default(), PASS, &items, None, &options, rng).unwrap();
        Index::open(&dir, PASS).unwrap()
    };
    let old = open_at("old", unix_now() - 91 * DAY, &mut rng);
    let epoch = old.key_epoch();
    assert!(epoch.is_expired_at(unix_now()));
    assert_eq!(
        reason(epoch.check_at(unix_now())),
        ConfigReason::IndexExpired
    );
    let fresh = open_at("fresh", unix_now() - 89 * DAY, &mut rng);

    Identity::create(&tmp.path().join("id"), "Agency B", false).unwrap();
    let identity = Identity::load(&tmp.path().join("id")).unwrap();
    let policy = Policy::parse(
        "version = 2\nname = \"t\"\nmodes = [\"intersection\"]\nidentifier_kinds = [\"raw\"]\n\
         min_set_size = 1\nmax_set_size = 1000\nrevealable_columns = []\n\
         max_sessions_per_peer_per_day = 10\nmax_elements_per_peer = 10000\n\
         cardinality_before_reveal = false\n\
         output_retention_days = 1\nallow_key_reuse = true\n",
        "t.toml",
    )
    .unwrap();
    let agency = Agency::open(
        identity,
        policy,
        PeerAuth::pinned(blindmatch::identity::Fingerprint([1; 32])),
        &AgencyFiles::in_dir(&tmp.path().join("id")),
    )
    .unwrap();
    let spec = |index: Index| {
        let epoch = index.key_epoch();
        SessionSpec::new(
            SessionMode::Intersection,
            ItemSet::default(),
            vec!["raw".into()],
        )
        .with_sender(SenderSource::Index {
            set: Arc::new(index.into_prepared()),
            columns: Vec::new(),
            epoch,
        })
    };
    let refused = agency.prepare(Role::Responder, &mut spec(old));
    assert_eq!(reason(refused), ConfigReason::IndexExpired);
    let e = agency
        .prepare(Role::Responder, &mut spec(open_at("x", 0, &mut rng)))
        .unwrap_err();
    assert_eq!(e.code(), "config.index_expired");
    assert!(e.to_string().contains("rebuild"), "{e}");
    agency
        .prepare(Role::Responder, &mut spec(fresh))
        .expect("an index within its epoch is served");
}
