//! A misbehaving OPRF-PSI sender, written with the library's transport pieces, against a real
//! `blindmatch match`: a sender that sends more tags than it announced in the handshake, or
//! more Tags messages, is rejected; the receiver writes no output and tells the sender.

#[allow(clippy::unwrap_used)]
mod net_common;

use blindmatch::identity::{Fingerprint, Identity};
use blindmatch::oprf::Suite;
use blindmatch::protocol::oprf_psi::{tags, OprfPsiMessage, OprfPsiParams, SenderParams, TagChunk};
use blindmatch::protocol::{Role, WireMessage};
use blindmatch::session::{ProtocolChoice, SessionMode};
use blindmatch::transport::framing::{write_frame, Frame, FrameKind};
use blindmatch::transport::tls;
use blindmatch::transport::verifier::PeerAuth;
use net_common::raw::{handshake, next, until_end, RawHello};
use net_common::*;

const CHUNK: usize = 16;
const ANNOUNCED: usize = 10;

#[derive(Debug, Clone, Copy)]
enum Lie {
    /// One Tags message with more tags than the announced set size.
    MoreTagsThanAnnounced,
    /// The announced tags, then one more Tags message.
    ExtraTagsMessage,
}

/// A Tags message of `n` sorted tags `start + 1 ..= start + n` (scaled into the tag range).
fn tag_message(p: &OprfPsiParams, start: u128, n: usize, prev: &mut u128) -> Vec<u8> {
    let shift = p.tag_bits() - 8;
    let values: Vec<u128> = (1..=n as u128).map(|i| (start + i) << shift).collect();
    let code = tags::encode(&values, p.rice_bits(), prev).expect("encode");
    OprfPsiMessage::Tags(TagChunk {
        count: n,
        code,
        ciphertexts: Vec::new(),
    })
    .encode()
}

#[test]
fn a_sender_sending_more_tags_than_announced_is_rejected() {
    let root = tempfile::tempdir().expect("tempdir");
    let (a_dir, a_fp) = identity(root.path(), "agency-a");
    let (b_dir, b_fp) = identity(root.path(), "agency-b");
    let input = root.path().join("items.txt");
    let items: Vec<String> = (0..5).map(|i| format!("item{i}")).collect();
    write_items(&input, &items);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for lie in [Lie::MoreTagsThanAnnounced, Lie::ExtraTagsMessage] {
        let out = root.path().join(format!("out-{lie:?}.csv"));
        let b = Identity::load(&b_dir).expect("identity");
        let config =
            tls::server_config(&b, &PeerAuth::pinned(a_fp.parse().expect("fp"))).expect("config");
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let a_print: Fingerprint = a_fp.parse().expect("fp");
        let b_print = b.fingerprint();
        let peer = rt.spawn(async move {
            let (tcp, _) = listener.accept().await.expect("accept");
            let mut s = tokio_rustls::TlsAcceptor::from(config)
                .accept(tcp)
                .await
                .expect("tls");
            let exporter =
                blindmatch::transport::connection::exporter(s.get_ref().1).expect("exporter");
            let raw = RawHello {
                role: Role::Responder,
                protocol: ProtocolChoice::Oprf,
                mode: SessionMode::Intersection,
                chunk_size: CHUNK as u32,
                set_size: ANNOUNCED as u64,
                key_kinds: vec!["raw".into()],
            };
            let (theirs, session_id) = handshake(&mut s, &exporter, b_print, a_print, &raw).await;
            let n_r = theirs.set_size as usize;
            let mut p = OprfPsiParams::new(Suite::default(), session_id, n_r, ANNOUNCED);
            p.chunk_size = CHUNK;
            let params = OprfPsiMessage::Params(SenderParams {
                payload_len: None,
                columns: vec![],
            });
            write_frame(&mut s, &Frame::new(FrameKind::Protocol, params.encode()))
                .await
                .expect("params");
            // Answer the Blinded chunk with its own elements (valid points).
            let first = next(&mut s).await.expect("a frame");
            let reply = match OprfPsiMessage::decode(&first.payload).expect("message") {
                OprfPsiMessage::Blinded(e) => OprfPsiMessage::Evaluated(e),
                other => panic!("unexpected {}", other.name()),
            };
            write_frame(&mut s, &Frame::new(FrameKind::Protocol, reply.encode()))
                .await
                .expect("evaluated");
            let mut prev = 0u128;
            let messages = match lie {
                Lie::MoreTagsThanAnnounced => vec![tag_message(&p, 0, ANNOUNCED + 1, &mut prev)],
                Lie::ExtraTagsMessage => vec![
                    tag_message(&p, 0, ANNOUNCED, &mut prev),
                    tag_message(&p, ANNOUNCED as u128, 1, &mut prev),
                ],
            };
            for m in messages {
                if write_frame(&mut s, &Frame::new(FrameKind::Protocol, m))
                    .await
                    .is_err()
                {
                    break;
                }
            }
            until_end(&mut s).await
        });
        let res = run_match(
            &a_dir,
            &b_fp,
            &addr,
            &input,
            &out,
            &[
                "--protocol",
                "oprf",
                "--chunk-size",
                "16",
                "--read-timeout",
                "5",
                "--json",
            ],
        );
        let seen = rt.block_on(peer).expect("peer task");
        let err = String::from_utf8_lossy(&res.stderr).to_string();
        assert!(!res.status.success(), "{lie:?}: the receiver accepted");
        // The extra message is caught either while the Tags are handled or after the
        // receiver finished (it then already sent Done, so the sender may see only a close).
        let (expected, told): (&[&str], &[&str]) = match lie {
            Lie::MoreTagsThanAnnounced => (&["peer_misbehaved.wrong_count"], &["abort"]),
            Lie::ExtraTagsMessage => (
                &[
                    "peer_misbehaved.too_much_data",
                    "peer_misbehaved.unexpected_frame",
                ],
                &["abort", "closed"],
            ),
        };
        let code = error_code(&String::from_utf8_lossy(&res.stdout)).unwrap_or_default();
        assert!(
            expected.contains(&code.as_str()),
            "{lie:?}: match said {code}: {err}"
        );
        assert!(
            told.contains(&seen.as_str()),
            "{lie:?}: the sender saw {seen}"
        );
        assert!(!out.exists(), "{lie:?}: an output file was written");
    }
}
