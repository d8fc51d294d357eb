//! Library-level sessions over loopback TLS in one process: the post-handshake gate (where the
//! policy check plugs in) refuses a session before any element is sent.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use blindmatch::identity::Identity;
use blindmatch::protocol::{ItemSet, Mode, Role};
use blindmatch::transport::server::{serve, ServeOptions};
use blindmatch::transport::session::{run_dh, SessionConfig, SessionGate};
use blindmatch::transport::timeouts::Timeouts;
use blindmatch::transport::verifier::PeerAuth;
use blindmatch::transport::{client, tls};
use blindmatch::Error;

fn config(gate: Option<SessionGate>) -> SessionConfig {
    SessionConfig {
        mode: Mode::Mutual,
        policy_digest: [7; 32],
        chunk_size: 8,
        padded_count: None,
        timeouts: Timeouts::default().with_read_secs(10),
        quiet: true,
        gate,
        compliance: None,
    }
}

/// Runs one session; returns (initiator, responder) results as strings.
fn session(gate: Option<SessionGate>) -> (Result<usize, String>, Result<usize, String>) {
    let dir = tempfile::tempdir().unwrap();
    Identity::create(&dir.path().join("a"), "A", false).unwrap();
    Identity::create(&dir.path().join("b"), "B", false).unwrap();
    let a = Identity::load(&dir.path().join("a")).unwrap();
    let b = Identity::load(&dir.path().join("b")).unwrap();
    let cc = tls::client_config(&a, &PeerAuth::pinned(b.fingerprint)).unwrap();
    let sc = tls::server_config(&b, &PeerAuth::pinned(a.fingerprint)).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let tx = std::sync::Mutex::new(Some(tx));
        let b_cfg = config(gate);
        let opts = ServeOptions {
            max_concurrent: 1,
            max_connections: Some(1),
            timeouts: b_cfg.timeouts,
        };
        let server = tokio::spawn(serve(
            listener,
            sc,
            opts,
            std::future::pending(),
            move |conn| {
                let cfg = b_cfg.clone();
                let tx = tx.lock().unwrap().take().unwrap();
                async move {
                    let items = ItemSet::new((0..40).map(|i| format!("b{i}")));
                    let r = run_dh(conn.unwrap(), Role::Responder, &cfg, items).await;
                    let _ = tx.send(r);
                }
            },
        ));
        let conn = client::connect(&addr, cc, &config(None).timeouts)
            .await
            .unwrap();
        let items = ItemSet::new((0..30).map(|i| format!("b{}", i * 2)));
        let ra = run_dh(conn, Role::Initiator, &config(None), items).await;
        let rb = rx.await.unwrap();
        server.await.unwrap().unwrap();
        let f = |r: blindmatch::Result<blindmatch::transport::session::SessionReport>| {
            r.map(|x| x.output.match_count().unwrap_or(usize::MAX))
                .map_err(|e| e.to_string())
        };
        (f(ra), f(rb))
    })
}

#[test]
fn session_without_gate_matches() {
    let (a, b) = session(None);
    assert_eq!(a, Ok(20));
    assert_eq!(b, Ok(20));
}

#[test]
fn gate_refusal_ends_the_session_on_both_sides_before_any_element() {
    let gate = SessionGate(Arc::new(|agreed, _peer| {
        if agreed.theirs.set_size > 10 {
            Err(Error::LegacyPolicyRefused {
                rule: "max_set_size".into(),
                detail: format!(
                    "the peer sends {} elements, at most 10 allowed",
                    agreed.theirs.set_size
                ),
            })
        } else {
            Ok(())
        }
    }));
    let (a, b) = session(Some(gate));
    let b = b.unwrap_err();
    assert!(
        b.contains("max_set_size") && b.contains("30 elements"),
        "{b}"
    );
    // The initiator learns the rule (admission, spec 04 4.3.4), not the detail.
    let a = a.unwrap_err();
    assert!(
        a.contains("refused by policy rule `max_set_size`") && !a.contains("30 elements"),
        "{a}"
    );
}
