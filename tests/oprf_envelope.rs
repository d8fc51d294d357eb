//! OPRF-PSI inside the session envelope with compliance on both sides (library level, loopback
//! TLS in one process): the policy gate sees the agreed mode `labeled`, both audit logs get a
//! verified start, end and peer-receipt entry, and a policy without mode `labeled` refuses the
//! session on both sides before any element.

use std::path::Path;
use std::sync::Arc;

use blindmatch::audit;
use blindmatch::identity::Identity;
use blindmatch::oprf::{OprfKey, Suite};
use blindmatch::policy::Policy;
use blindmatch::protocol::oprf_psi::PreparedSender;
use blindmatch::protocol::{ItemSet, Mode, Role};
use blindmatch::transport::compliance::Compliance;
use blindmatch::transport::dispatch::{run_psi, Outcome, ProtocolSetup, Report, SenderSource};
use blindmatch::transport::negotiate::ProtocolChoice;
use blindmatch::transport::oprf_body::OprfOutcome;
use blindmatch::transport::server::{serve, ServeOptions};
use blindmatch::transport::session::SessionConfig;
use blindmatch::transport::timeouts::Timeouts;
use blindmatch::transport::verifier::PeerAuth;
use blindmatch::transport::{client, tls};

fn policy(labeled: bool) -> Policy {
    let modes = if labeled {
        "[\"intersection\", \"labeled\"]"
    } else {
        "[\"intersection\"]"
    };
    let text = format!(
        "version = 1\nname = \"oprf envelope\"\nmodes = {modes}\nidentifier_kinds = [\"raw\"]\n\
         min_set_size = 1\nmax_set_size = 100000\nrevealable_columns = [\"voyage\"]\n\
         max_sessions_per_peer_per_day = 10\ncardinality_before_reveal = false\n\
         output_retention_days = 1\n"
    );
    Policy::parse(&text, "test.toml").expect("policy")
}

fn config(policy: &Policy, id: &Identity, dir: &Path, name: &str) -> SessionConfig {
    let compliance = Compliance::open(
        policy.clone(),
        vec!["raw".into()],
        id,
        &dir.join(format!("{name}.log")),
        &dir.join(format!("{name}.budget.json")),
    )
    .expect("compliance");
    SessionConfig {
        mode: Mode::Intersection,
        policy_digest: policy.digest(),
        chunk_size: 16,
        padded_count: None,
        timeouts: Timeouts::default().with_read_secs(10),
        quiet: true,
        gate: None,
        compliance: Some(Arc::new(compliance)),
    }
}

type Pair = (blindmatch::Result<Report>, blindmatch::Result<Report>);

/// A labeled OPRF-PSI session: the receiver holds 20 items, the sender 100 with payloads.
fn session(dir: &Path, policy: &Policy) -> Pair {
    Identity::create(&dir.join("a"), "Receiver Agency", false).expect("id");
    Identity::create(&dir.join("b"), "Sender Agency", false).expect("id");
    let a = Identity::load(&dir.join("a")).expect("id");
    let b = Identity::load(&dir.join("b")).expect("id");
    let cc = tls::client_config(&a, &PeerAuth::pinned(b.fingerprint)).expect("tls");
    let sc = tls::server_config(&b, &PeerAuth::pinned(a.fingerprint)).expect("tls");
    let a_cfg = config(policy, &a, dir, "a");
    let b_cfg = config(policy, &b, dir, "b");
    let sender_items = ItemSet::new((0..100).map(|i| format!("s{i}")));
    let payloads: Vec<Vec<u8>> = (0..100)
        .map(|i| format!("{{\"voyage\":\"{i}W\"}}").into_bytes())
        .collect();
    let set = PreparedSender::new(
        Suite::default(),
        OprfKey::random(&mut rand_core::UnwrapErr(rand::rngs::SysRng)),
        &sender_items,
        Some(&payloads),
    )
    .expect("prepared");
    let b_setup = Arc::new(ProtocolSetup {
        choice: ProtocolChoice::Oprf,
        labeled: true,
        revealable_columns: policy.revealable_columns().clone(),
        sender: Some(SenderSource::Index {
            set: Arc::new(set),
            columns: vec!["voyage".into()],
        }),
        ..ProtocolSetup::default()
    });
    let a_setup = Arc::new(ProtocolSetup {
        labeled: true,
        revealable_columns: policy.revealable_columns().clone(),
        ..ProtocolSetup::default()
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let tx = std::sync::Mutex::new(Some(tx));
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
                let (cfg, setup) = (b_cfg.clone(), b_setup.clone());
                let tx = tx.lock().ok().and_then(|mut t| t.take());
                async move {
                    let r = match conn {
                        Ok(c) => {
                            let none = ItemSet::new(Vec::<Vec<u8>>::new());
                            run_psi(c, Role::Responder, &cfg, setup, none, |_, _| Ok(None)).await
                        }
                        Err(e) => Err(e),
                    };
                    if let Some(tx) = tx {
                        let _ = tx.send(r);
                    }
                }
            },
        ));
        let conn = client::connect(&addr, cc, &a_cfg.timeouts)
            .await
            .expect("connect");
        let items = ItemSet::new((0..20).map(|i| format!("s{}", i * 10)));
        let ra = run_psi(conn, Role::Initiator, &a_cfg, a_setup, items, |_, _| {
            Ok(None)
        })
        .await;
        let rb = rx.await.expect("responder result");
        let _ = server.await;
        (ra, rb)
    })
}

fn kinds(log: &Path) -> Vec<String> {
    std::fs::read_to_string(log)
        .expect("log")
        .lines()
        .filter_map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).ok()?;
            let e = &v["entry"]["event"];
            Some(format!(
                "{} {}",
                e["kind"].as_str().unwrap_or("?"),
                e["session"]["mode"].as_str().unwrap_or("")
            ))
        })
        .collect()
}

#[test]
fn labeled_oprf_runs_in_the_envelope_with_policy_audit_and_receipts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ra, rb) = session(dir.path(), &policy(true));
    let ra = ra.expect("receiver");
    let rb = rb.expect("sender");
    match &ra.output {
        Outcome::Oprf(OprfOutcome::Receiver { output, columns }) => {
            assert_eq!(columns, &vec!["voyage".to_string()]);
            let got: Vec<String> = output
                .matches
                .iter()
                .map(|m| String::from_utf8(m.payload.clone().expect("payload")).expect("utf-8"))
                .collect();
            let want: Vec<String> = (0..10)
                .map(|i| format!("{{\"voyage\":\"{}W\"}}", i * 10))
                .collect();
            assert_eq!(got, want);
        }
        other => panic!("the receiver ran {other:?}"),
    }
    assert!(matches!(rb.output, Outcome::Oprf(OprfOutcome::Sender(_))));
    assert!(ra.peer_receipt.is_some() && rb.peer_receipt.is_some());
    for (name, id) in [("a", "a"), ("b", "b")] {
        let log = dir.path().join(format!("{name}.log"));
        let key = Identity::load(&dir.path().join(id))
            .expect("id")
            .signing_key
            .verifying_key();
        let report = audit::verify(&log, &[key]).expect("verify");
        assert!(report.is_ok(), "{name}: {}", report.summary());
        let k = kinds(&log);
        assert!(k.contains(&"session_started labeled".to_string()), "{k:?}");
        assert!(k.contains(&"session_ended labeled".to_string()), "{k:?}");
        assert!(k.iter().any(|e| e.starts_with("peer_receipt")), "{k:?}");
    }
}

#[test]
fn a_policy_without_labeled_mode_refuses_before_any_element() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ra, rb) = session(dir.path(), &policy(false));
    let ea = ra.expect_err("the receiver must refuse").to_string();
    let eb = rb.expect_err("the sender must refuse").to_string();
    assert!(
        ea.contains("`modes`") || eb.contains("`modes`"),
        "{ea} / {eb}"
    );
    for name in ["a", "b"] {
        let k = kinds(&dir.path().join(format!("{name}.log")));
        assert!(!k.iter().any(|e| e.starts_with("session_started")), "{k:?}");
    }
}
