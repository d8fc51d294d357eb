//! A misbehaving initiator, written with the library's transport pieces, against a real
#![allow(clippy::unwrap_used)]
//! `blindmatch serve` process: each misbehaviour ends the session on both sides with a clear
//! error, no output file and no panic.

mod net_common;

use std::path::Path;

use blindmatch::group::WireElement;
use blindmatch::identity::{Fingerprint, Identity};
use blindmatch::policy::Policy;
use blindmatch::protocol::dh::DhMessage;
use blindmatch::protocol::WireMessage;
use blindmatch::transport::framing::{read_frame, write_frame, Frame, FrameKind, MAX_FRAME_LEN};
use blindmatch::transport::handshake::{exchange, Hello, Side};
use blindmatch::transport::timeouts::Timeouts;
use blindmatch::transport::verifier::PeerAuth;
use blindmatch::transport::{admission, client, tls};
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
    let mut stream = conn.stream;
    let hello = Hello::new(
        Side::Initiator,
        &String::from_utf8_lossy(blindmatch::dst::DH_PSI_HASH_TO_GROUP),
        "dh",
        "mutual",
        CHUNK,
        Policy::default_policy().digest(),
        ANNOUNCED,
    );
    exchange(&mut stream, hello, &conn.exporter, &t)
        .await
        .unwrap();
    admission::exchange(&mut stream, Ok(()), &t).await.unwrap();
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
    loop {
        match read_frame(&mut stream, MAX_FRAME_LEN).await {
            Ok(Some(f)) if f.kind == FrameKind::Abort => return "abort".into(),
            Ok(Some(_)) => continue, // replies sent before the server noticed
            Ok(None) => return "closed".into(),
            Err(e) => return format!("error: {e}"),
        }
    }
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
        (Misbehaviour::DisconnectMidStream, "closed the connection"),
        (Misbehaviour::OversizedFrame, "announced a frame"),
        (Misbehaviour::TooManyElements, "elements"),
        (Misbehaviour::IdentityElement, "identity"),
        (Misbehaviour::InvalidEncoding, "canonical"),
        (Misbehaviour::Stall, "timed out"),
        (Misbehaviour::TruncatedFrame, "middle of a frame"),
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
                "--output",
                out.to_str().unwrap(),
            ],
        );
        let seen = rt.block_on(bad_initiator(&a_dir, &b_fp, &server.addr, how));
        let (ok, _, err) = server.finish();
        assert!(!ok, "{how:?}: the server succeeded");
        assert!(err.contains(expected), "{how:?}: server said {err}");
        assert!(!err.contains("panicked"), "{how:?}: {err}");
        assert!(!out.exists(), "{how:?}: an output file was written");
        // The server's audit log records the abort, with its local reason.
        let log = std::fs::read_to_string(b_dir.join("audit.jsonl")).unwrap();
        let last: serde_json::Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
        let event = &last["entry"]["event"];
        assert_eq!(event["kind"], "session_aborted", "{how:?}: {log}");
        assert!(
            event["reason"].as_str().unwrap().contains(expected),
            "{how:?}: {event}"
        );
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
        &["--mode", "mutual", "--output", out.to_str().unwrap()],
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
    let (ok, _, err) = server.finish();
    assert!(!ok);
    assert!(err.contains("certificate"), "server said {err}");
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
    for (stall, expected) in [(false, "canonical"), (true, "timed out")] {
        let out = root.path().join(format!("out-{stall}.csv"));
        let b = Identity::load(&b_dir).unwrap();
        let config = tls::server_config(&b, &PeerAuth::pinned(a_fp.parse().unwrap())).unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let peer = rt.spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut s = tokio_rustls::TlsAcceptor::from(config)
                .accept(tcp)
                .await
                .unwrap();
            let exporter = blindmatch::transport::handshake::exporter(s.get_ref().1).unwrap();
            let t = Timeouts::default().with_read_secs(20);
            let hello = Hello::new(
                Side::Responder,
                &String::from_utf8_lossy(blindmatch::dst::DH_PSI_HASH_TO_GROUP),
                "dh",
                "intersection",
                16,
                Policy::default_policy().digest(),
                5,
            );
            exchange(&mut s, hello, &exporter, &t).await.unwrap();
            admission::exchange(&mut s, Ok(()), &t).await.unwrap();
            if stall {
                // Say nothing; the initiator must give up and tell us.
            } else {
                let first = read_frame(&mut s, MAX_FRAME_LEN).await.unwrap().unwrap();
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
            &["--chunk-size", "16", "--read-timeout", "1"],
        );
        let seen = rt.block_on(peer).unwrap();
        let err = String::from_utf8_lossy(&res.stderr).to_string();
        assert!(!res.status.success(), "stall={stall}");
        assert!(err.contains(expected), "stall={stall}: match said {err}");
        assert!(!err.contains("panicked"), "{err}");
        assert!(!out.exists());
        assert_eq!(
            seen, "abort",
            "stall={stall}: the responder must be told the session failed"
        );
    }
}
