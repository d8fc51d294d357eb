//! A misbehaving initiator, written with the library's transport pieces, against a real
#![allow(clippy::unwrap_used)]
//! `blindmatch serve` process: each misbehaviour ends the session on both sides with a clear
//! error, no output file and no panic.

mod net_common;

use std::path::Path;

use blindmatch::group::WireElement;
use blindmatch::identity::{Fingerprint, Identity};
use blindmatch::protocol::dh::DhMessage;
use blindmatch::protocol::{Role, WireMessage};
use blindmatch::session::{ProtocolChoice, SessionMode};
use blindmatch::transport::framing::{write_frame, Frame, FrameKind};
use blindmatch::transport::timeouts::Timeouts;
use blindmatch::transport::verifier::PeerAuth;
use blindmatch::transport::{client, tls};
use net_common::raw::{handshake, next, until_end, RawHello};
use net_common::*;
use tokio::io::AsyncWriteExt;

const CHUNK: u32 = 16;
const ANNOUNCED: u64 = 20;

#[derive(Debug, Clone, Copy)]
enum Misbehaviour {
    DisconnectMidStream,
    OversizedFrame,
    TooManyElements,
    IdentityElement,
    InvalidEncoding,
    Stall,
    TruncatedFrame,
}

fn element(i: u64) -> WireElement {
    use curve25519_dalek::ristretto::RistrettoPoint;
    let mut bytes = [0u8; 64];
    bytes[..8].copy_from_slice(&i.to_le_bytes());
    bytes[8] = 1;
    WireElement::encode(&RistrettoPoint::from_uniform_bytes(&bytes))
}

/// Runs the bad initiator; returns what it observed from the server after misbehaving.
async fn bad_initiator(id_dir: &Path, server_fp: &str, addr: &str, how: Misbehaviour) -> String {
    let id = Identity::load(id_dir).unwrap();
    let fp: Fingerprint = server_fp.parse().unwrap();
    let config = tls::client_config(&id, &PeerAuth::pinned(fp)).unwrap();
    let t = Timeouts::default().with_read_secs(20);
    let conn = client::connect(addr, config, &t).await.unwrap();
    let exporter = *conn.exporter();
    let peer = conn.peer_fingerprint();
    let mut stream = conn.into_stream();
    let raw = RawHello {
        role: Role::Initiator,
        protocol: ProtocolChoice::Dh,
        mode: SessionMode::Mutual,
        chunk_size: CHUNK,
        set_size: ANNOUNCED,
        key_kinds: vec!["raw".into()],
    };
    handshake(&mut stream, &exporter, id.fingerprint(), peer, &raw).await;
    let good: Vec<WireElement> = (0..CHUNK as u64).map(element).collect();
    let send = |m: DhMessage| Frame::new(FrameKind::Protocol, m.encode());
    match how {
        Misbehaviour::DisconnectMidStream => {
            write_frame(&mut stream, &send(DhMessage::Blinded(good)))
                .await
                .unwrap();
            stream.shutdown().await.unwrap();
            drop(stream);
            return "closed".into();
        }
        Misbehaviour::OversizedFrame => {
            stream
                .write_all(&[0x7f, 0xff, 0xff, 0xff, 3])
                .await
                .unwrap();
            stream.flush().await.unwrap();
        }
        Misbehaviour::TooManyElements => {
            // 20 announced: a full chunk of 16, then 16 more where 4 are due.
            write_frame(&mut stream, &send(DhMessage::Blinded(good.clone())))
                .await
                .unwrap();
            let more: Vec<WireElement> = (100..116).map(element).collect();
            write_frame(&mut stream, &send(DhMessage::Blinded(more)))
                .await
                .unwrap();
        }
        Misbehaviour::IdentityElement => {
            let mut bad = good.clone();
            bad[3] = WireElement([0u8; 32]);
            write_frame(&mut stream, &send(DhMessage::Blinded(bad)))
                .await
                .unwrap();
        }
        Misbehaviour::InvalidEncoding => {
            let mut bad = good.clone();
            bad[5] = WireElement([0xff; 32]);
            write_frame(&mut stream, &send(DhMessage::Blinded(bad)))
                .await
                .unwrap();
        }
        Misbehaviour::Stall => {}
        Misbehaviour::TruncatedFrame => {
            let bytes = send(DhMessage::Blinded(good)).to_bytes().unwrap();
            stream.write_all(&bytes[..bytes.len() / 2]).await.unwrap();
            stream.flush().await.unwrap();
            stream.shutdown().await.unwrap();
            return "closed".into();
        }
    }
    // The server must end the session: an Abort frame, or the connection closing.
    until_end(&mut stream).await
}

#[test]
fn misbehaving_initiator_ends_the_session_on_both_sides() {
    let root = tempfile::tempdir().unwrap();
    let (a_dir, a_fp) = identity(root.path(), "agency-a");
    let (b_dir, b_fp) = identity(root.path(), "agency-b");
    let input = root.path().join("items.txt");
    write_items(
        &input,
        &(0..10).map(|i| format!("item{i}")).collect::<Vec<_>>(),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let cases = [
        (
            Misbehaviour::DisconnectMidStream,
            "peer_misbehaved.closed_early",
        ),
        (
            Misbehaviour::OversizedFrame,
            "peer_misbehaved.frame_too_large",
        ),
        (Misbehaviour::TooManyElements, "peer_misbehaved.wrong_count"),
        (
            Misbehaviour::IdentityElement,
            "peer_misbehaved.invalid_element",
        ),
        (
            Misbehaviour::InvalidEncoding,
            "peer_misbehaved.invalid_element",
        ),
        (Misbehaviour::Stall, "timeout.idle"),
        (
            Misbehaviour::TruncatedFrame,
            "peer_misbehaved.truncated_frame",
        ),
    ];
    for (how, expected) in cases {
        let out = root.path().join(format!("{how:?}.csv"));
        let server = Server::start(
            &b_dir,
            &a_fp,
            &input,
            &[
                "--mode",
                "mutual",
                "--chunk-size",
                "16",
                "--read-timeout",
                "2",
                "--json",
                "--output",
                out.to_str().unwrap(),
            ],
        );
        let seen = rt.block_on(bad_initiator(&a_dir, &b_fp, &server.addr, how));
        let (ok, stdout, err) = server.finish();
        assert!(!ok, "{how:?}: the server succeeded");
        assert_eq!(
            error_code(&stdout).as_deref(),
            Some(expected),
            "{how:?}: server said {err}"
        );
        assert!(!out.exists(), "{how:?}: an output file was written");
        // The server's audit log records the abort.
        let event = last_event(&b_dir.join("audit.jsonl"));
        assert_eq!(event["kind"], "session_aborted", "{how:?}: {event}");
        assert_eq!(event["code"], expected, "{how:?}: {event}");
        assert!(
            seen == "abort" || seen == "closed" || seen.starts_with("error"),
            "{how:?}: {seen}"
        );
        if !matches!(
            how,
            Misbehaviour::DisconnectMidStream | Misbehaviour::TruncatedFrame | Misbehaviour::Stall
        ) {
            assert_eq!(
                seen, "abort",
                "{how:?}: the peer must be told the session failed"
            );
        }
    }
}

#[test]
fn client_without_certificate_refused() {
    use std::sync::Arc;
    let root = tempfile::tempdir().unwrap();
    let (_a_dir, a_fp) = identity(root.path(), "agency-a");
    let (b_dir, b_fp) = identity(root.path(), "agency-b");
    let input = root.path().join("items.txt");
    write_items(&input, &["x".to_string()]);
    let out = root.path().join("out.csv");
    let server = Server::start(
        &b_dir,
        &a_fp,
        &input,
        &[
            "--mode",
            "mutual",
            "--json",
            "--output",
            out.to_str().unwrap(),
        ],
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let client_result = rt.block_on(async {
        let verifier = blindmatch::transport::verifier::PeerVerifier::new(&PeerAuth::pinned(
            b_fp.parse().unwrap(),
        ))
        .unwrap();
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
        let tcp = tokio::net::TcpStream::connect(&server.addr).await.unwrap();
        let mut s = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(tls::server_name(), tcp)
            .await?;
        // TLS 1.3: the refusal arrives on the first read; the server must send no hello.
        let mut buf = [0u8; 1];
        tokio::io::AsyncReadExt::read(&mut s, &mut buf).await
    });
    let (ok, stdout, err) = server.finish();
    assert!(!ok);
    assert_eq!(
        error_code(&stdout).as_deref(),
        Some("tls.no_peer_certificate"),
        "server said {err}"
    );
    assert!(!out.exists());
    match client_result {
        Err(_) | Ok(0) => {}
        Ok(n) => panic!("the server sent {n} bytes to an unauthenticated client"),
    }
}

/// A misbehaving responder against a real `blindmatch match`: it answers the initiator's first
/// chunk, then sends a set holding an invalid element, or stalls after the handshake.
#[test]
fn misbehaving_responder_ends_the_session_on_both_sides() {
    let root = tempfile::tempdir().unwrap();
    let (a_dir, a_fp) = identity(root.path(), "agency-a");
    let (b_dir, b_fp) = identity(root.path(), "agency-b");
    let input = root.path().join("items.txt");
    write_items(
        &input,
        &(0..10).map(|i| format!("item{i}")).collect::<Vec<_>>(),
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    for (stall, expected) in [
        (false, "peer_misbehaved.invalid_element"),
        (true, "timeout.idle"),
    ] {
        let out = root.path().join(format!("out-{stall}.csv"));
        let b = Identity::load(&b_dir).unwrap();
        let config = tls::server_config(&b, &PeerAuth::pinned(a_fp.parse().unwrap())).unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let a_print: Fingerprint = a_fp.parse().unwrap();
        let b_print = b.fingerprint();
        let peer = rt.spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut s = tokio_rustls::TlsAcceptor::from(config)
                .accept(tcp)
                .await
                .unwrap();
            let exporter = blindmatch::transport::connection::exporter(s.get_ref().1).unwrap();
            let raw = RawHello {
                role: Role::Responder,
                protocol: ProtocolChoice::Dh,
                mode: SessionMode::Intersection,
                chunk_size: 16,
                set_size: 5,
                key_kinds: vec!["raw".into()],
            };
            handshake(&mut s, &exporter, b_print, a_print, &raw).await;
            if stall {
                // Say nothing; the initiator must give up and tell us.
            } else {
                let first = next(&mut s).await.unwrap();
                let n = match DhMessage::decode(&first.payload).unwrap() {
                    DhMessage::Blinded(e) => e.len(),
                    other => panic!("unexpected {other:?}"),
                };
                // Reblinded elements are compared as bytes (spec 1.2): the invalid element goes
                // into our own Blinded set, which the initiator must decode.
                let reply: Vec<WireElement> = (0..n as u64).map(element).collect();
                let frame = Frame::new(FrameKind::Protocol, DhMessage::Reblinded(reply).encode());
                write_frame(&mut s, &frame).await.unwrap();
                let mut own: Vec<WireElement> = (50..55).map(element).collect();
                own[2] = WireElement([0xff; 32]);
                let frame = Frame::new(FrameKind::Protocol, DhMessage::Blinded(own).encode());
                write_frame(&mut s, &frame).await.unwrap();
            }
            until_end(&mut s).await
        });
        let res = run_match(
            &a_dir,
            &b_fp,
            &addr,
            &input,
            &out,
            &["--chunk-size", "16", "--read-timeout", "1", "--json"],
        );
        let seen = rt.block_on(peer).unwrap();
        let err = String::from_utf8_lossy(&res.stderr).to_string();
        assert!(!res.status.success(), "stall={stall}");
        assert_eq!(
            error_code(&String::from_utf8_lossy(&res.stdout)).as_deref(),
            Some(expected),
            "stall={stall}: match said {err}"
        );
        assert_eq!(res.status.code(), Some(6), "peer faults exit with 6");
        assert!(!out.exists());
        assert_eq!(
            seen, "abort",
            "stall={stall}: the responder must be told the session failed"
        );
    }
}
