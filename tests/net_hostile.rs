//! `blindmatch serve` under hostile load, with real processes on 127.0.0.1: idle connections
//! and a byte-a-second ClientHello never keep a legitimate peer out; a peer announcing more
//! than the engine supports is refused at admission while serve keeps serving; peers that
//! flood without reading keep serve within a stated memory bound; Ctrl-C on either side ends
//! both within 2 s with an abort in both logs and no output file.
#![allow(clippy::unwrap_used)]

mod net_common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use blindmatch::group::WireElement;
use blindmatch::identity::{Fingerprint, Identity};
use blindmatch::protocol::dh::DhMessage;
use blindmatch::protocol::{Role, WireMessage};
use blindmatch::session::{ProtocolChoice, SessionMode};
use blindmatch::transport::framing::{write_frame, Frame, FrameKind};
use blindmatch::transport::timeouts::Timeouts;
use blindmatch::transport::verifier::PeerAuth;
use blindmatch::transport::{client, tls};
use net_common::raw::{handshake, next, RawHello};
use net_common::*;

fn interrupt(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Peak resident memory of a process, from `/proc/PID/status` (`VmHWM`), in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

struct Setup {
    root: tempfile::TempDir,
    a_dir: std::path::PathBuf,
    a_fp: String,
    b_dir: std::path::PathBuf,
    b_fp: String,
    a_in: std::path::PathBuf,
    b_in: std::path::PathBuf,
}

fn setup(a_n: usize, b_n: usize) -> Setup {
    let root = tempfile::tempdir().unwrap();
    let (a_dir, a_fp) = identity(root.path(), "agency-a");
    let (b_dir, b_fp) = identity(root.path(), "agency-b");
    let a_in = root.path().join("a.txt");
    let b_in = root.path().join("b.txt");
    write_items(
        &a_in,
        &(0..a_n).map(|i| format!("x{}", i * 3)).collect::<Vec<_>>(),
    );
    write_items(
        &b_in,
        &(0..b_n).map(|i| format!("x{}", i * 5)).collect::<Vec<_>>(),
    );
    Setup {
        root,
        a_dir,
        a_fp,
        b_dir,
        b_fp,
        a_in,
        b_in,
    }
}

fn legit_match(s: &Setup, addr: &str, name: &str) -> (std::process::Output, Duration) {
    let start = Instant::now();
    let log = s.root.path().join(format!("{name}.jsonl"));
    let out = run_match(
        &s.a_dir,
        &s.b_fp,
        addr,
        &s.a_in,
        &s.root.path().join(format!("{name}.csv")),
        &["--json", "--audit-log", log.to_str().unwrap()],
    );
    (out, start.elapsed())
}

#[test]
fn idle_connections_do_not_keep_a_legitimate_peer_out() {
    let s = setup(200, 300);
    let server = Server::start_with(&s.b_dir, &s.a_fp, &s.b_in, &[], false);
    // 50 TCP connections that never say anything (no certificate, no ClientHello).
    let idle: Vec<TcpStream> = (0..50)
        .map(|_| TcpStream::connect(&server.addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let (out, took) = legit_match(&s, &server.addr, "legit");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
    drop(idle);
    interrupt(server.child.id());
    let (ok, _, err) = server.finish();
    assert!(ok, "{err}");
}

#[test]
fn a_full_handshake_queue_drops_the_oldest_pending_connection() {
    let s = setup(50, 60);
    let server = Server::start_with(
        &s.b_dir,
        &s.a_fp,
        &s.b_in,
        &["--max-handshakes", "8"],
        false,
    );
    let mut idle: Vec<TcpStream> = (0..8)
        .map(|_| TcpStream::connect(&server.addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    // The legitimate peer is the ninth: the oldest idle connection makes room for it.
    let (out, took) = legit_match(&s, &server.addr, "legit");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let oldest = &mut idle[0];
    oldest
        .set_read_timeout(Some(Duration::from_secs(2)))
        .unwrap();
    let mut buf = [0u8; 1];
    assert_eq!(
        oldest.read(&mut buf).unwrap_or(0),
        0,
        "the oldest was dropped"
    );
    drop(idle);
    interrupt(server.child.id());
    assert!(server.finish().0);
}

#[test]
fn a_client_hello_at_one_byte_a_second_is_dropped_within_the_tls_deadline() {
    let s = setup(10, 10);
    let server = Server::start_with(&s.b_dir, &s.a_fp, &s.b_in, &["--tls-timeout", "2"], false);
    let mut slow = TcpStream::connect(&server.addr).unwrap();
    slow.set_write_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let start = Instant::now();
    // The start of a TLS record carrying a ClientHello, one byte a second.
    let hello_start = [
        0x16u8, 0x03, 0x01, 0x00, 0xf9, 0x01, 0x00, 0x00, 0xf5, 0x03, 0x03,
    ];
    let mut dropped = None;
    for b in hello_start.iter().cycle().take(30) {
        if slow.write_all(&[*b]).is_err() {
            dropped = Some(start.elapsed());
            break;
        }
        std::thread::sleep(Duration::from_secs(1));
        slow.set_nonblocking(true).unwrap();
        let mut buf = [0u8; 64];
        match slow.read(&mut buf) {
            Ok(0) => {
                dropped = Some(start.elapsed());
                break;
            }
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => {
                dropped = Some(start.elapsed());
                break;
            }
        }
        slow.set_nonblocking(false).unwrap();
    }
    let dropped = dropped.expect("the slow connection was never dropped");
    assert!(
        dropped <= Duration::from_secs(4),
        "dropped after {dropped:?}"
    );
    interrupt(server.child.id());
    assert!(server.finish().0);
}

/// A hand-made initiator's connection, after TLS.
async fn connected(
    s_a_dir: &Path,
    b_fp: &str,
    addr: &str,
) -> (
    blindmatch::transport::client::ClientStream,
    [u8; 32],
    Fingerprint,
    Fingerprint,
) {
    let id = Identity::load(s_a_dir).unwrap();
    let fp: Fingerprint = b_fp.parse().unwrap();
    let config = tls::client_config(&id, &PeerAuth::pinned(fp)).unwrap();
    let conn = client::connect(addr, config, &Timeouts::default())
        .await
        .unwrap();
    let exporter = *conn.exporter();
    let peer = conn.peer_fingerprint();
    (conn.into_stream(), exporter, id.fingerprint(), peer)
}

#[test]
fn a_peer_announcing_more_than_the_engine_supports_is_refused_and_serve_keeps_serving() {
    let s = setup(100, 100);
    let server = Server::start_with(&s.b_dir, &s.a_fp, &s.b_in, &["--json"], false);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let verdict = rt.block_on(async {
        let (mut stream, exporter, own, peer) = connected(&s.a_dir, &s.b_fp, &server.addr).await;
        let raw = RawHello {
            role: Role::Initiator,
            protocol: ProtocolChoice::Dh,
            mode: SessionMode::Intersection,
            chunk_size: 4096,
            set_size: 1 << 30,
            key_kinds: vec!["raw".into()],
        };
        // The hellos and the confirmation, by hand, up to the responder's verdict.
        let theirs = next(&mut stream).await.unwrap();
        let ours = raw.hello(own, peer).encode();
        write_frame(&mut stream, &Frame::new(FrameKind::Hello, ours.clone()))
            .await
            .unwrap();
        let t = blindmatch::session::transcript::transcript_hash(&exporter, &ours, &theirs.payload);
        write_frame(&mut stream, &Frame::new(FrameKind::Confirm, t.to_vec()))
            .await
            .unwrap();
        assert_eq!(next(&mut stream).await.unwrap().kind, FrameKind::Confirm);
        write_frame(&mut stream, &Frame::empty(FrameKind::Admitted))
            .await
            .unwrap();
        next(&mut stream).await.unwrap()
    });
    assert_eq!(verdict.kind, FrameKind::Refused);
    assert_eq!(verdict.payload, b"max_set_size");
    // Serve is still there, and serves the next peer.
    let (out, _) = legit_match(&s, &server.addr, "after");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let log = std::fs::read_to_string(s.b_dir.join("audit.jsonl")).unwrap();
    let refusal: serde_json::Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(refusal["entry"]["event"]["kind"], "session_refused");
    assert_eq!(refusal["entry"]["event"]["rule"], "max_set_size");
    interrupt(server.child.id());
    assert!(server.finish().0);
}

/// The stated bound (README, "Serving under load"): 16 MiB of received frames and a few
/// answers per session, on top of the process's own footprint.
const FLOOD_RSS_BOUND_KIB: u64 = 320 * 1024;

#[test]
fn flooding_peers_that_never_read_keep_serve_within_its_memory_bound() {
    let s = setup(10, 1000);
    let server = Server::start_with(
        &s.b_dir,
        &s.a_fp,
        &s.b_in,
        &["--max-sessions", "4", "--read-timeout", "5"],
        false,
    );
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    // One valid chunk of 4096 elements, sent again and again.
    let chunk: Vec<WireElement> = (0..4096u64)
        .map(|i| {
            let mut b = [0u8; 64];
            b[..8].copy_from_slice(&i.to_le_bytes());
            b[9] = 7;
            WireElement::encode(
                &curve25519_dalek::ristretto::RistrettoPoint::from_uniform_bytes(&b),
            )
        })
        .collect();
    // 2^24 announced items make a session of 16 buckets (spec 9.4): the chunk goes to bucket 0.
    let mut payload = 0u32.to_be_bytes().to_vec();
    payload.extend_from_slice(&DhMessage::Blinded(chunk).encode());
    let frame = Frame::new(FrameKind::Protocol, payload);
    let sent: Vec<u64> = rt.block_on(async {
        let mut floods = Vec::new();
        for _ in 0..4 {
            let (a_dir, b_fp, addr, frame) = (
                s.a_dir.clone(),
                s.b_fp.clone(),
                server.addr.clone(),
                frame.clone(),
            );
            floods.push(tokio::spawn(async move {
                let (mut stream, exporter, own, peer) = connected(&a_dir, &b_fp, &addr).await;
                let raw = RawHello {
                    role: Role::Initiator,
                    protocol: ProtocolChoice::Dh,
                    mode: SessionMode::Intersection,
                    chunk_size: 4096,
                    set_size: 1 << 24,
                    key_kinds: vec!["raw".into()],
                };
                handshake(&mut stream, &exporter, own, peer, &raw).await;
                // Send for 6 s without ever reading.
                let until = Instant::now() + Duration::from_secs(6);
                let mut bytes = 0u64;
                while Instant::now() < until {
                    match tokio::time::timeout(
                        Duration::from_millis(500),
                        write_frame(&mut stream, &frame),
                    )
                    .await
                    {
                        Ok(Ok(())) => bytes += frame.wire_len() as u64,
                        Ok(Err(_)) => break,
                        Err(_) => {} // blocked: the server stopped reading
                    }
                }
                bytes
            }));
        }
        let mut sent = Vec::new();
        for f in floods {
            sent.push(f.await.unwrap());
        }
        sent
    });
    let peak = peak_rss_kib(server.child.id());
    eprintln!(
        "serve's peak RSS while four peers flooded it: {} MiB",
        peak / 1024
    );
    assert!(
        peak < FLOOD_RSS_BOUND_KIB,
        "serve peaked at {} MiB while four peers flooded it ({sent:?} bytes sent)",
        peak / 1024
    );
    // Each flooder was stopped by back-pressure long before its announced 512 MiB.
    assert!(sent.iter().all(|&b| b < 128 << 20), "{sent:?}");
    if std::env::var("BM_DBG").is_ok() {
        let ss = std::process::Command::new("ss")
            .args(["-tnpi"])
            .output()
            .unwrap();
        eprintln!("SS: {}", String::from_utf8_lossy(&ss.stdout));
    }
    // Serve is still alive and serves a legitimate peer.
    let (out, took) = legit_match(&s, &server.addr, "after");
    if !out.status.success() {
        interrupt(server.child.id());
        let (_, _, err) = server.finish();
        panic!(
            "after {took:?}: {}\nserve: {err}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    interrupt(server.child.id());
    assert!(server.finish().0);
}

/// Ctrl-C on `side` in the middle of a `protocol` session of `n` items a side, `after` the
/// session started: the interrupted process ends within 2 s, and so does its peer unless
/// `peer_may_finish_its_step` (the peer sees the `Abort` once its own running step ends);
/// neither writes an output file, and both logs end with `session_aborted`.
fn interrupted_mid_session(
    side: Role,
    protocol: &str,
    n: usize,
    after: Duration,
    peer_may_finish_its_step: bool,
) {
    let s = setup(n, n);
    let b_out = s.root.path().join("b.csv");
    let a_out = s.root.path().join("a.csv");
    let server = Server::start(
        &s.b_dir,
        &s.a_fp,
        &s.b_in,
        &[
            "--mode",
            "mutual",
            "--protocol",
            protocol,
            "--json",
            "--output",
            b_out.to_str().unwrap(),
        ],
    );
    let mut matcher = std::process::Command::new(BIN)
        .args(["--quiet", "match", "--connect", &server.addr, "--identity"])
        .arg(&s.a_dir)
        .args(["--peer", &s.b_fp, "--input"])
        .arg(&s.a_in)
        .arg("--output")
        .arg(&a_out)
        .args([
            "--mode",
            "mutual",
            "--protocol",
            protocol,
            "--json",
            "--policy",
            net_common::open_policy(),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until both sides logged the start of the session, then interrupt one.
    let started = |dir: &Path| {
        std::fs::read_to_string(dir.join("audit.jsonl"))
            .unwrap_or_default()
            .contains("session_started")
    };
    let t0 = Instant::now();
    while !(started(&s.a_dir) && started(&s.b_dir)) {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the session never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(after);
    let pid = match side {
        Role::Initiator => matcher.id(),
        Role::Responder => server.child.id(),
    };
    let signalled = Instant::now();
    interrupt(pid);
    let mut server = server;
    let (mut m_at, mut s_at) = (None, None);
    while m_at.is_none() || s_at.is_none() {
        if m_at.is_none() && matcher.try_wait().unwrap().is_some() {
            m_at = Some(signalled.elapsed());
        }
        if s_at.is_none() && server.child.try_wait().unwrap().is_some() {
            s_at = Some(signalled.elapsed());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let (own, peer) = match side {
        Role::Initiator => (m_at, s_at),
        Role::Responder => (s_at, m_at),
    };
    let took = if peer_may_finish_its_step {
        assert!(
            peer < Some(Duration::from_secs(60)),
            "{side:?}: the peer took {peer:?}"
        );
        own.unwrap_or_default()
    } else {
        own.max(peer).unwrap_or_default()
    };
    let status = matcher.wait().unwrap();
    let (b_ok, b_stdout, b_err) = server.finish();
    let mut a_err = String::new();
    matcher
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut a_err)
        .unwrap();
    assert!(
        took < Duration::from_secs(2),
        "{side:?}: ended after {took:?}\nmatch: {a_err}\nserve: {b_err}"
    );
    assert!(!status.success() && !b_ok, "{side:?}: {b_err}");
    let mut a_stdout = String::new();
    matcher
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut a_stdout)
        .unwrap();
    let (interrupted, other) = match side {
        Role::Initiator => (&a_stdout, &b_stdout),
        Role::Responder => (&b_stdout, &a_stdout),
    };
    assert_eq!(
        error_code(interrupted).as_deref(),
        Some("cancelled.interrupted"),
        "{side:?}"
    );
    // The other side is told (`Abort`), or, when its own writes were already failing on
    // the closed connection, finds it closed.
    let code = error_code(other).unwrap_or_default();
    assert!(
        ["peer_aborted.body", "peer_misbehaved.closed_early"].contains(&code.as_str()),
        "{side:?}: {code}"
    );
    if side == Role::Initiator {
        assert_eq!(status.code(), Some(8), "cancelled exits with 8");
    }
    assert!(
        !a_out.exists() && !b_out.exists(),
        "{side:?}: an output file was written"
    );
    for dir in [&s.a_dir, &s.b_dir] {
        assert_eq!(
            last_event(&dir.join("audit.jsonl"))["kind"],
            "session_aborted",
            "{side:?}"
        );
    }
}

#[test]
fn ctrl_c_on_the_initiator_ends_both_within_two_seconds() {
    interrupted_mid_session(
        Role::Initiator,
        "dh",
        150_000,
        Duration::from_millis(500),
        false,
    );
}

#[test]
fn ctrl_c_on_the_responder_ends_both_within_two_seconds() {
    interrupted_mid_session(
        Role::Responder,
        "dh",
        150_000,
        Duration::from_millis(500),
        false,
    );
}

/// VOLE-PSI's steps are long (at 2^22 items a side each runs for seconds in a test build: the
/// punctured PRFs and the code, the OKVS, the tags; a signal waiting for the step took 4.2 s
/// here): they check the interrupt between batches, so Ctrl-C still ends the interrupted side
/// within 2 s. Its peer ends once its own step does (spec 8.8.4), which on a loaded machine
/// took 3.2 s.
#[test]
fn ctrl_c_during_a_vole_psi_step_ends_the_interrupted_side_within_two_seconds() {
    for (side, after) in [(Role::Initiator, 6000), (Role::Responder, 10000)] {
        interrupted_mid_session(side, "vole", 1 << 22, Duration::from_millis(after), true);
    }
}
