//! Sessions served from one precomputed index through the whole envelope in memory
//! (`protocol-spec/07-oprf-psi.md` sections 7.8.3 and 7.9): every session sends the same tags,
//! real and padding, so a receiver intersecting two sessions' tag sets finds the padded size.
#![allow(clippy::unwrap_used)]

mod session_support;

use std::collections::BTreeSet;
use std::sync::Arc;

use blindmatch::index::{Index, IndexOptions, KdfParams};
use blindmatch::oprf::Suite;
use blindmatch::protocol::oprf_psi::{tags, OprfPsiMessage, OprfPsiParams};
use blindmatch::protocol::{ItemSet, Role, WireMessage};
use blindmatch::session::memory::FrameLog;
use blindmatch::session::{BodyOutput, ProtocolChoice, SenderSource, SessionMode};
use blindmatch::transport::framing::FrameKind;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;
use session_support::*;

const PASS: &[u8] = b"0123456789abcdef0123456789abcdef-test-only";

/// The tags the responder sent in the frames of one session.
fn responder_tags(frames: &FrameLog, n_r: usize, n_s: usize) -> BTreeSet<u128> {
    let params = OprfPsiParams::new(Suite::default(), [0; 32], n_r, n_s);
    let mut prev = 0;
    let mut out = BTreeSet::new();
    for (role, f) in frames {
        if *role != Role::Responder || f.kind != FrameKind::Protocol {
            continue;
        }
        if let OprfPsiMessage::Tags(c) = OprfPsiMessage::decode(&f.payload).unwrap() {
            let t = tags::decode(
                &c.code,
                c.count,
                params.tag_bits(),
                params.rice_bits(),
                &mut prev,
            )
            .unwrap();
            out.extend(t);
        }
    }
    assert_eq!(out.len(), n_s);
    out
}

#[test]
fn two_enveloped_sessions_from_one_index_send_the_same_tag_sets() {
    let tmp = tempfile::tempdir().unwrap();
    let mut rng = ChaCha20Rng::from_seed([11; 32]);
    let sender: Vec<String> = (0..40).map(|i| format!("S{i:04}")).collect();
    let options = IndexOptions {
        pad_to: Some(100),
        kdf: KdfParams {
            m_kib: 64,
            t: 1,
            p: 1,
        },
        ..IndexOptions::default()
    };
    let dir = tmp.path().join("idx");
    Index::create(
        &dir,
        Suite::default(),
        PASS,
        &ItemSet::new(&sender),
        None,
        &options,
        &mut rng,
    )
    .unwrap();
    let index = Index::open(&dir, PASS).unwrap();
    let source = SenderSource::Index {
        epoch: index.key_epoch(),
        set: Arc::new(index.into_prepared()),
        columns: Vec::new(),
    };
    let mut seen = Vec::new();
    for query in [&sender[..3], &sender[20..23]] {
        let mut pair = Pair::new(SessionMode::Intersection, ProtocolChoice::Oprf);
        pair.sender = Some(source.clone());
        pair.a_count = Some(8);
        pair.b_count = Some(100);
        let mut a: Vec<String> = query.to_vec();
        a.push("absent".into());
        let (ra, rb, frames) = pair.run(ItemSet::new(&a), ItemSet::default());
        match ra.unwrap().output() {
            BodyOutput::Receiver(o) => assert_eq!(o.matches.len(), 3),
            other => panic!("{other:?}"),
        }
        rb.unwrap();
        seen.push(responder_tags(&frames, 8, 100));
    }
    // With fresh padding per session only the 40 real tags would be common.
    assert_eq!(seen[0].intersection(&seen[1]).count(), 100);

    // A padded size past the stored padding is refused by the sender role, typed.
    let mut pair = Pair::new(SessionMode::Intersection, ProtocolChoice::Oprf);
    pair.sender = Some(source);
    pair.b_count = Some(101);
    let (_, rb, _) = pair.run(ItemSet::new(&sender[..2]), ItemSet::default());
    assert_eq!(rb.unwrap_err().code(), "config.index_padding");
}
