//! Property tests of the protocol state machines: random message sequences fed to each role of
//! DH-PSI and OPRF-PSI never panic, and the first error is a typed fault of the peer (never an
//! internal one); a failed session stays failed.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use blindmatch::error::Error;
use blindmatch::group::WireElement;
use blindmatch::oprf::{OprfKey, Suite};
use blindmatch::protocol::dh::{DhMessage, DhParams, DhSession};
use blindmatch::protocol::oprf_psi::{
    OprfPsiMessage, OprfPsiParams, OprfReceiver, OprfSender, PreparedSender, ReceiverSetup,
    SenderParams, TagChunk,
};
use blindmatch::protocol::{ItemSet, Mode, Role, SansIo};
use proptest::prelude::*;
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

fn element(valid: bool, i: u8) -> WireElement {
    if valid {
        let mut b = [0u8; 64];
        b[0] = i;
        b[1] = 9;
        WireElement::encode(&curve25519_dalek::ristretto::RistrettoPoint::from_uniform_bytes(&b))
    } else if i.is_multiple_of(2) {
        WireElement([0; 32])
    } else {
        WireElement([0xff; 32])
    }
}

fn elements() -> impl Strategy<Value = Vec<WireElement>> {
    proptest::collection::vec((any::<bool>(), any::<u8>()), 0..10).prop_map(|v| {
        v.into_iter()
            .map(|(ok, i)| element(ok || i > 40, i))
            .collect()
    })
}

fn dh_message() -> impl Strategy<Value = DhMessage> {
    (any::<bool>(), elements()).prop_map(|(blinded, e)| {
        if blinded {
            DhMessage::Blinded(e)
        } else {
            DhMessage::Reblinded(e)
        }
    })
}

fn oprf_message() -> impl Strategy<Value = OprfPsiMessage> {
    prop_oneof![
        elements().prop_map(OprfPsiMessage::Blinded),
        elements().prop_map(OprfPsiMessage::Evaluated),
        (0usize..5, proptest::collection::vec(any::<u8>(), 0..12)).prop_map(|(count, code)| {
            OprfPsiMessage::Tags(TagChunk {
                count,
                code,
                ciphertexts: vec![],
            })
        }),
        any::<bool>().prop_map(|labeled| OprfPsiMessage::Params(SenderParams {
            payload_len: labeled.then_some(8),
            columns: vec![],
        })),
    ]
}

/// Feeds `msgs` to `s`, polling between them; checks the first error and that it sticks.
fn feed<S: SansIo>(mut s: S, msgs: Vec<S::Message>) -> Result<(), TestCaseError> {
    let mut failed = false;
    for m in msgs {
        let r = s.poll_outgoing().map(|_| ()).and_then(|()| s.handle(m));
        match r {
            Ok(()) => prop_assert!(!failed, "a failed session accepted a message"),
            Err(e) if failed => prop_assert!(matches!(e, Error::Internal(_)) || e.is_peer_fault()),
            Err(e) => {
                prop_assert!(
                    e.is_peer_fault() || matches!(e, Error::PolicyRefused(_)),
                    "the first error is not the peer's: {e:?}"
                );
                failed = true;
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn dh_sessions_take_any_messages_without_panicking(
        initiator in any::<bool>(),
        mode in 0usize..3,
        msgs in proptest::collection::vec(dh_message(), 0..8),
    ) {
        let role = if initiator { Role::Initiator } else { Role::Responder };
        let mut params = DhParams::new(Mode::ALL[mode], [4; 32], 5, 4);
        params.chunk_size = 3;
        let mut rng = ChaCha20Rng::seed_from_u64(7);
        let items = ItemSet::new(["a", "b", "c"]);
        let s = DhSession::new(role, params, items, &mut rng).unwrap();
        feed(s, msgs)?;
    }

    #[test]
    fn oprf_roles_take_any_messages_without_panicking(
        receiver in any::<bool>(),
        msgs in proptest::collection::vec(oprf_message(), 0..8),
    ) {
        let mut rng = ChaCha20Rng::seed_from_u64(8);
        let mut params = OprfPsiParams::new(Suite::default(), [6; 32], 4, 5);
        params.chunk_size = 3;
        if receiver {
            let setup = ReceiverSetup { labeled: false, allowed_columns: None, payload_len: None };
            let s = OprfReceiver::new(params, setup, ItemSet::new(["a", "b"]), &mut rng).unwrap();
            feed(s, msgs)?;
        } else {
            let set = PreparedSender::new(
                Suite::default(),
                OprfKey::random(&mut rng),
                &ItemSet::new(["a", "c", "d"]),
                None,
            )
            .unwrap();
            let s = OprfSender::new(params, Arc::new(set), vec![], &mut rng).unwrap();
            feed(s, msgs)?;
        }
    }
}
