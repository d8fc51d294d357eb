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

use blindmatch::error::{CancelReason, Error, SessionPhase};
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

/// CPU time a process used (user and system) and whether it has exited (a zombie not yet
/// reaped, whose times are final), from `/proc/PID/stat` (in clock ticks of 10 ms: Linux's
/// `USER_HZ`).
fn cpu_time(pid: u32) -> (Duration, bool) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // After "PID (command) ": the state, then 10 fields, then utime and stime.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    (Duration::from_millis(ticks * 10), fields[0] == "Z")
}

/// When [`interrupted_mid_session`] sends the signal.
#[derive(Debug, Clone, Copy)]
enum When {
    /// This long after both sides logged `session_started`.
    After(Duration),
    /// Once the initiator has computed alone for a while: it is in one of its long steps
    /// (VOLE-PSI's receiver runs the longest: the code, the OKVS and the mask of a bucket)
    /// while the responder waits for its message.
    InitiatorComputesAlone,
}

/// Waits until the initiator `i` has used at least a third of a core for the last 300 ms
/// while the responder `r` used (almost) none.
fn until_initiator_computes_alone(i: u32, r: u32) {
    let window = Duration::from_millis(300);
    let t0 = Instant::now();
    let mut samples = std::collections::VecDeque::new();
    loop {
        let now = Instant::now();
        samples.push_back((now, cpu_time(i).0, cpu_time(r).0));
        while samples.len() > 1 && now - samples[1].0 >= window {
            samples.pop_front();
        }
        let (then, i0, r0) = samples[0];
        let (_, i1, r1) = samples[samples.len() - 1];
        if now - then >= window && i1 - i0 >= window / 3 && r1 - r0 <= Duration::from_millis(10) {
            return;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "the initiator never computed alone"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
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

/// The CPU time the peer of an interrupted side may use after the signal: enough to stop, log
/// the abort and exit (up to 0.3 s measured, freeing memory included), less than the rest of
/// a long step (a peer that finished its VOLE-PSI step used 1.5 s).
const PEER_CPU_AFTER: Duration = Duration::from_millis(750);

/// Ctrl-C on `side` in the middle of a `protocol` session of `n` items a side, at `when`: the
/// interrupted process ends within 2 s of the signal with `cancelled.interrupted`, and so
/// does its peer, with `peer_aborted.body` (it is told by `Abort`, which its driver reads
/// while a step runs, and does not go on computing: it uses less than [`PEER_CPU_AFTER`] of
/// CPU time after the signal); neither writes an output file, and both logs end with
/// `session_aborted` giving the same reasons.
fn interrupted_mid_session(side: Role, protocol: &str, n: usize, when: When) {
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
    match when {
        When::After(after) => std::thread::sleep(after),
        When::InitiatorComputesAlone => {
            until_initiator_computes_alone(matcher.id(), server.child.id())
        }
    }
    let (pid, peer_pid) = match side {
        Role::Initiator => (matcher.id(), server.child.id()),
        Role::Responder => (server.child.id(), matcher.id()),
    };
    let peer_cpu_before = cpu_time(peer_pid).0;
    let signalled = Instant::now();
    interrupt(pid);
    // When each process exits (it is then a zombie until reaped, below), and the peer's CPU
    // time since the signal.
    let (mut own, mut peer, mut peer_cpu) = (None, None, Duration::ZERO);
    while own.is_none() || peer.is_none() {
        if own.is_none() && cpu_time(pid).1 {
            own = Some(signalled.elapsed());
        }
        if peer.is_none() {
            let (cpu, exited) = cpu_time(peer_pid);
            if exited {
                peer = Some(signalled.elapsed());
                peer_cpu = cpu - peer_cpu_before;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    eprintln!(
        "{side:?} interrupted ({protocol}, {n} items, {when:?}): it ended after {own:?}, its \
         peer after {peer:?}, having used {peer_cpu:?} of CPU since the signal"
    );
    let took = own.max(peer).unwrap_or_default();
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
        "{side:?}: ended after {own:?}, its peer after {peer:?}\nmatch: {a_err}\nserve: {b_err}"
    );
    assert!(
        peer_cpu < PEER_CPU_AFTER,
        "{side:?}: the peer went on computing for {peer_cpu:?} of CPU time"
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
        Role::Initiator => ((&a_stdout, &s.a_dir), (&b_stdout, &s.b_dir)),
        Role::Responder => ((&b_stdout, &s.b_dir), (&a_stdout, &s.a_dir)),
    };
    // The codes of the typed errors each side must end with, and log.
    let cancelled = Error::Cancelled(CancelReason::Interrupted).code();
    let aborted = Error::PeerAborted(SessionPhase::Body).code();
    assert_eq!(
        error_code(interrupted.0),
        Some(cancelled.clone()),
        "{side:?}"
    );
    // The other side is told (`Abort`) while its step runs: it stops, reads the `Abort` and
    // ends with the peer's error, sending no `Abort` of its own.
    assert_eq!(error_code(other.0), Some(aborted.clone()), "{side:?}");
    assert_eq!(
        last_event(&interrupted.1.join("audit.jsonl"))["code"],
        cancelled.as_str(),
        "{side:?}"
    );
    assert_eq!(
        last_event(&other.1.join("audit.jsonl"))["code"],
        aborted.as_str(),
        "{side:?}"
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
        When::After(Duration::from_millis(500)),
    );
}

#[test]
fn ctrl_c_on_the_responder_ends_both_within_two_seconds() {
    interrupted_mid_session(
        Role::Responder,
        "dh",
        150_000,
        When::After(Duration::from_millis(500)),
    );
}

/// VOLE-PSI's steps are long (at 2^22 items a side each runs for a second or more in a test
/// build: the punctured PRFs and the code, the OKVS, the tags; a signal waiting for the step
/// took 4.2 s here). Both sides are interrupted while the initiator (the receiver) is in
/// one, and the responder waits for its message:
/// * the initiator, interrupted in its step, stops at the step's next check (spec 8.8.4);
/// * the responder, interrupted while it waits, sends `Abort` at once: the initiator's
///   driver, which watches the connection during the step, stops the step at its next check
///   (waiting for the step to end, the peer took 3.2 s on a loaded machine).
#[test]
fn ctrl_c_during_a_vole_psi_step_ends_both_sides_within_two_seconds() {
    for side in [Role::Initiator, Role::Responder] {
        interrupted_mid_session(side, "vole", 1 << 22, When::InitiatorComputesAlone);
    }
}
