//! The precomputed index (unbalanced mode): create, reopen with the passphrase (and refuse a
//! wrong one), add and remove items, and serve sessions whose results match the plaintext
//! intersection and whose payloads decrypt.

use std::sync::Arc;

use blindmatch::error::{ConfigError, ConfigReason};
use blindmatch::index::Index;
use blindmatch::oprf::Suite;
use blindmatch::protocol::oprf_psi::{run_in_memory_with, OprfPsiParams};
use blindmatch::protocol::ItemSet;
use blindmatch::Error;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const PASS: &[u8] = b"0123456789abcdef0123456789abcdef-test-only";

/// True for an index configuration error.
fn index_error<T: std::fmt::Debug>(r: blindmatch::Result<T>) -> bool {
    matches!(
        r,
        Err(Error::Config(ConfigError {
            reason: ConfigReason::Index,
            ..
        }))
    )
}

fn query(
    dir: &std::path::Path,
    index: &Index,
    receiver: &[&str],
    labeled: bool,
    rng: &mut ChaCha20Rng,
) -> Vec<(String, Option<String>)> {
    let set = index.prepared();
    let mut params = OprfPsiParams::new(set.suite(), [4; 32], receiver.len(), set.len() + 5);
    if labeled {
        params.payload_len = Some(64);
    }
    // A fresh copy of the prepared set per session: reopen from disk.
    let reopened = Index::open(dir, PASS).expect("reopen").into_prepared();
    let ((out, _), _) = run_in_memory_with(
        params,
        ItemSet::new(receiver),
        Arc::new(reopened),
        rng,
        false,
    )
    .expect("run");
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
    let index = Index::create(
        &dir,
        Suite::default(),
        PASS,
        &sender,
        Some(&payloads),
        &mut rng,
    )
    .expect("create");
    assert!(index_error(Index::create(
        &dir,
        Suite::default(),
        PASS,
        &sender,
        None,
        &mut rng
    )));
    assert!(index_error(Index::open(
        &dir,
        b"0123456789abcdef0123456789abcdef-wrong"
    )));
    assert!(index_error(Index::open(&dir, b"short")));

    let receiver = ["IMO9321483", "IMO1234567", "IMO9811000"];
    let got = query(&dir, &index, &receiver, true, &mut rng);
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
    assert_eq!(
        index
            .remove(&ItemSet::new(["IMO9811000", "IMO0000000"]))
            .expect("remove"),
        1
    );
    index.save().expect("save");
    let index = Index::open(&dir, PASS).expect("open");
    assert_eq!(index.prepared().len(), 3);
    let got = query(&dir, &index, &receiver, true, &mut rng);
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
    assert!(index_error(Index::open(&dir, PASS)));
}
