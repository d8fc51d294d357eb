//! A misbehaving OPRF-PSI sender, written with the library's transport pieces, against a real
//! `blindmatch match`: a sender that sends more tags than it announced in the handshake, or
//! more Tags messages, is rejected; the receiver writes no output and tells the sender.

#[allow(clippy::unwrap_used)]
mod net_common;

use blindmatch::identity::Identity;
use blindmatch::oprf::Suite;
use blindmatch::policy::Policy;
use blindmatch::protocol::oprf_psi::{tags, OprfPsiMessage, OprfPsiParams, TagChunk};
use blindmatch::protocol::WireMessage;
use blindmatch::transport::framing::{read_frame, write_frame, Frame, FrameKind, MAX_FRAME_LEN};
use blindmatch::transport::handshake::{exchange, Hello, Side};
use blindmatch::transport::oprf_body::SenderParams;
use blindmatch::transport::timeouts::Timeouts;
use blindmatch::transport::verifier::PeerAuth;
use blindmatch::transport::{admission, tls};
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
        let peer = rt.spawn(async move {
            let (tcp, _) = listener.accept().await.expect("accept");
            let mut s = tokio_rustls::TlsAcceptor::from(config)
                .accept(tcp)
                .await
                .expect("tls");
            let exporter =
                blindmatch::transport::handshake::exporter(s.get_ref().1).expect("exporter");
            let t = Timeouts::default().with_read_secs(20);
            let hello = Hello::new(
                Side::Responder,
                &Suite::default().to_string(),
                "oprf",
                "intersection",
                CHUNK as u32,
                Policy::default_policy().digest(),
                ANNOUNCED as u64,
            );
            let agreed = exchange(&mut s, hello, &exporter, &t)
                .await
                .expect("handshake");
            admission::exchange(&mut s, Ok(()), &t)
                .await
                .expect("admission");
            let n_r = agreed.theirs.set_size as usize;
            let mut p = OprfPsiParams::new(Suite::default(), agreed.session_id, n_r, ANNOUNCED);
            p.chunk_size = CHUNK;
            let params = SenderParams {
                payload_len: None,
                columns: vec![],
            };
            write_frame(&mut s, &Frame::new(FrameKind::Protocol, params.encode()))
                .await
                .expect("params");
            // Answer the Blinded chunk with its own elements (valid points).
            let first = read_frame(&mut s, MAX_FRAME_LEN)
                .await
                .expect("read")
                .expect("a frame");
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
            loop {
                match read_frame(&mut s, MAX_FRAME_LEN).await {
                    Ok(Some(f)) if f.kind == FrameKind::Abort => return "abort".to_string(),
                    Ok(Some(_)) => continue,
                    Ok(None) => return "closed".to_string(),
                    Err(e) => return format!("error: {e}"),
                }
            }
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
            ],
        );
        let seen = rt.block_on(peer).expect("peer task");
        let err = String::from_utf8_lossy(&res.stderr).to_string();
        assert!(!res.status.success(), "{lie:?}: the receiver accepted");
        // The extra message is caught either while the Tags are handled or after the
        // receiver finished (it then already sent Done, so the sender may see only a close).
        let (expected, told): (&[&str], &[&str]) = match lie {
            Lie::MoreTagsThanAnnounced => (&["carries 11 tags"], &["abort"]),
            Lie::ExtraTagsMessage => (
                &[
                    "more Tags messages than agreed",
                    "after the session was complete",
                ],
                &["abort", "closed"],
            ),
        };
        assert!(
            expected.iter().any(|e| err.contains(e)),
            "{lie:?}: match said {err}"
        );
        assert!(
            told.contains(&seen.as_str()),
            "{lie:?}: the sender saw {seen}"
        );
        assert!(!err.contains("panicked"), "{err}");
        assert!(!out.exists(), "{lie:?}: an output file was written");
    }
}
