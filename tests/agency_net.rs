//! Networked sessions through the library's one entry point ([`blindmatch::agency::Agency`]),
//! over loopback mutual TLS in one process, using only the public API: every mode and protocol
//! with a policy and signed audit logs; the policy's key-reuse and revealable-columns rules
//! enforced by the library; a dropped session still logs its abort on both sides.
#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

mod agency_support;

use agency_support::{items, options, run_pair, spec, Results};
use blindmatch::agency::{Agency, AgencyFiles, SessionSpec};
use blindmatch::audit;
use blindmatch::error::{CancelReason, Error, PolicyRule, SessionPhase};
use blindmatch::identity::Identity;
use blindmatch::oprf::{OprfKey, Suite};
use blindmatch::policy::Policy;
use blindmatch::protocol::oprf_psi::PreparedSender;
use blindmatch::protocol::{ItemSet, Role};
use blindmatch::session::{BodyOutput, ProtocolChoice, SenderSource, SessionMode};
use blindmatch::transport::server::ServerLimits;
use blindmatch::transport::shutdown;
use blindmatch::transport::verifier::PeerAuth;

fn policy(key_reuse: bool) -> Policy {
    let text = format!(
        "version = 2\nname = \"agency test\"\n\
         modes = [\"intersection\", \"mutual\", \"cardinality\", \"labeled\"]\n\
         identifier_kinds = [\"raw\"]\nmin_set_size = 1\nmax_set_size = 100000\n\
         revealable_columns = [\"voyage\"]\npayload_len = 256\n\
         max_sessions_per_peer_per_day = 100\nmax_elements_per_peer = 10000000\n\
         cardinality_before_reveal = false\noutput_retention_days = 1\n\
         allow_key_reuse = {key_reuse}\n"
    );
    Policy::parse(&text, "test.toml").unwrap()
}

struct Two {
    _dir: tempfile::TempDir,
    a: Agency,
    b: Agency,
    a_log: std::path::PathBuf,
    b_log: std::path::PathBuf,
    keys: (ed25519_dalek::VerifyingKey, ed25519_dalek::VerifyingKey),
}

fn two(policy: Policy) -> Two {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    Identity::create(&root.join("a"), "Agency A", false).unwrap();
    Identity::create(&root.join("b"), "Agency B", false).unwrap();
    let ia = Identity::load(&root.join("a")).unwrap();
    let ib = Identity::load(&root.join("b")).unwrap();
    let keys = (ia.verifying_key(), ib.verifying_key());
    let (fa, fb) = (ia.fingerprint(), ib.fingerprint());
    let files_a = AgencyFiles::in_dir(&root.join("a"));
    let files_b = AgencyFiles::in_dir(&root.join("b"));
    Two {
        a: Agency::open(ia, policy.clone(), PeerAuth::pinned(fb), &files_a).unwrap(),
        b: Agency::open(ib, policy, PeerAuth::pinned(fa), &files_b).unwrap(),
        a_log: files_a.audit_log,
        b_log: files_b.audit_log,
        keys,
        _dir: dir,
    }
}

fn kinds(log: &Path, key: ed25519_dalek::VerifyingKey) -> Vec<String> {
    let report = audit::verify(log, &[key]).unwrap();
    assert!(report.problem().is_none(), "{log:?} fails verification");
    let text = std::fs::read_to_string(log).unwrap();
    text.lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["entry"]["event"]["kind"].as_str().unwrap().to_string()
        })
        .collect()
}

/// Runs one session: B serves one connection with `b_spec`, A connects with `a_spec`.
fn session(t: &Two, a_spec: SessionSpec, b_spec: SessionSpec) -> Results {
    run_pair(&t.a, &t.b, (a_spec, options()), (b_spec, options()))
}

#[test]
fn every_mode_and_protocol_over_the_network_with_audit() {
    let t = two(policy(false));
    let cases = [
        (SessionMode::Intersection, ProtocolChoice::Dh),
        (SessionMode::Mutual, ProtocolChoice::Dh),
        (SessionMode::Cardinality, ProtocolChoice::Dh),
        (SessionMode::Intersection, ProtocolChoice::Oprf),
        (SessionMode::Intersection, ProtocolChoice::Vole),
        (SessionMode::Mutual, ProtocolChoice::Vole),
    ];
    for (mode, protocol) in cases {
        let (ra, rb) = session(
            &t,
            spec(mode, protocol, items("a", 30, 7)),
            spec(mode, protocol, items("b", 50, 7)),
        );
        let (ra, rb) = (ra.unwrap(), rb.unwrap());
        let learned = match &ra.outcome().output() {
            BodyOutput::Dh(o) | BodyOutput::Vole(o) => o.match_count(),
            BodyOutput::Receiver(o) => Some(o.matches.len()),
            other => panic!("{other:?}"),
        };
        assert_eq!(learned, Some(7), "{mode} {protocol}");
        if protocol == ProtocolChoice::Vole {
            assert!(matches!(ra.outcome().output(), BodyOutput::Vole(_)));
            let responder = match rb.outcome().output() {
                BodyOutput::Vole(o) => o.match_count(),
                other => panic!("{other:?}"),
            };
            let mutual = mode == SessionMode::Mutual;
            assert_eq!(responder, mutual.then_some(7), "{mode} {protocol}");
        }
        assert_eq!(ra.outcome().session_id(), rb.outcome().session_id());
        assert!(ra.traffic().bytes_sent > 0 && ra.traffic().bytes_received > 0);
    }
    // Labeled OPRF-PSI, the sender's payloads from its own items under a fresh key.
    let b_items = items("b", 50, 7);
    let payloads: Vec<Vec<u8>> = (0..b_items.input_len())
        .map(|i| format!("{{\"voyage\":\"{i}W\"}}").into_bytes())
        .collect();
    let b_spec = spec(SessionMode::Labeled, ProtocolChoice::Auto, b_items).with_sender(
        SenderSource::Fresh {
            payloads: Some(Arc::new(payloads)),
            columns: vec!["voyage".into()],
        },
    );
    let (ra, rb) = session(
        &t,
        spec(
            SessionMode::Labeled,
            ProtocolChoice::Auto,
            items("a", 30, 7),
        ),
        b_spec,
    );
    match ra.unwrap().outcome().output() {
        BodyOutput::Receiver(o) => {
            assert_eq!(o.matches.len(), 7);
            assert_eq!(o.columns, ["voyage"]);
        }
        other => panic!("{other:?}"),
    }
    rb.unwrap();
    let per_session = ["session_started", "peer_receipt", "session_ended"];
    for (log, key) in [(&t.a_log, t.keys.0), (&t.b_log, t.keys.1)] {
        let k = kinds(log, key);
        assert_eq!(k.len(), 7 * per_session.len(), "{k:?}");
        assert!(k.chunks(3).all(|c| c == per_session), "{k:?}");
    }
}

fn index_spec(columns: Vec<String>) -> SessionSpec {
    let b_items = items("b", 40, 5);
    let payloads: Vec<Vec<u8>> = (0..b_items.input_len())
        .map(|i| format!("{{\"owner\":\"{i}\"}}").into_bytes())
        .collect();
    let set = PreparedSender::new(
        Suite::default(),
        OprfKey::random(&mut rand_core::UnwrapErr(rand::rngs::SysRng)),
        &b_items,
        Some(&payloads),
    )
    .unwrap();
    spec(
        SessionMode::Labeled,
        ProtocolChoice::Auto,
        ItemSet::default(),
    )
    .with_sender(SenderSource::Index {
        set: Arc::new(set),
        columns,
        epoch: blindmatch::index::KeyEpoch {
            id: [0; 16],
            created: blindmatch::index::unix_now(),
            not_after: u64::MAX,
        },
    })
}

#[test]
fn key_reuse_is_refused_under_a_policy_that_forbids_it() {
    let t = two(policy(false));
    let (ra, rb) = session(
        &t,
        spec(
            SessionMode::Labeled,
            ProtocolChoice::Auto,
            items("a", 10, 5),
        ),
        index_spec(vec!["voyage".into()]),
    );
    // The responder refuses before it listens; the initiator finds nobody to talk to.
    assert!(
        matches!(&rb, Err(Error::PolicyRefused(r)) if r.rule == PolicyRule::AllowKeyReuse),
        "{rb:?}"
    );
    assert!(ra.is_err());
    assert_eq!(kinds(&t.b_log, t.keys.1), ["session_refused"]);
}

#[test]
fn payload_columns_the_policy_does_not_reveal_are_refused() {
    let t = two(policy(true));
    let (_, rb) = session(
        &t,
        spec(
            SessionMode::Labeled,
            ProtocolChoice::Auto,
            items("a", 10, 5),
        ),
        index_spec(vec!["owner".into()]),
    );
    assert!(
        matches!(&rb, Err(Error::PolicyRefused(r)) if r.rule == PolicyRule::RevealableColumns),
        "{rb:?}"
    );
    // Served from an index the policy allows, with a column it allows: matches and payloads.
    let (ra, rb) = session(
        &t,
        spec(
            SessionMode::Labeled,
            ProtocolChoice::Auto,
            items("a", 10, 5),
        ),
        index_spec(vec!["voyage".into()]),
    );
    match ra.unwrap().outcome().output() {
        BodyOutput::Receiver(o) => assert_eq!(o.matches.len(), 5),
        other => panic!("{other:?}"),
    }
    rb.unwrap();
}

#[test]
fn a_dropped_session_logs_its_abort_on_both_sides() {
    let t = two(policy(false));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let (trigger, stop) = shutdown::channel();
    let rb = rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let tx = std::sync::Mutex::new(Some(tx));
        let limits = ServerLimits::default().with_max_connections(1);
        let b = t.b.clone();
        // A large set so the session is still running when the initiator gives up.
        let big = items("b", 60_000, 0);
        let server = tokio::spawn(async move {
            b.serve(
                listener,
                limits,
                stop,
                move || {
                    (
                        spec(SessionMode::Intersection, ProtocolChoice::Dh, big.clone()),
                        options(),
                    )
                },
                move |r| {
                    if let Some(tx) = tx.lock().unwrap().take() {
                        let _ = tx.send(r);
                    }
                },
            )
            .await
        });
        let ra = tokio::time::timeout(
            Duration::from_millis(400),
            t.a.connect(
                &addr,
                spec(
                    SessionMode::Intersection,
                    ProtocolChoice::Dh,
                    items("a", 60_000, 0),
                ),
                options(),
            ),
        )
        .await;
        assert!(ra.is_err(), "the session finished within 400 ms");
        let rb = rx.await.unwrap();
        trigger.trigger(CancelReason::Shutdown);
        server.await.unwrap().unwrap();
        // The dropped initiator's task logs its abort on its own.
        for _ in 0..100 {
            if kinds(&t.a_log, t.keys.0).last().map(String::as_str) == Some("session_aborted") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        rb
    });
    assert!(
        matches!(rb, Err(Error::PeerAborted(SessionPhase::Body))),
        "{rb:?}"
    );
    assert_eq!(
        kinds(&t.a_log, t.keys.0),
        ["session_started", "session_aborted"]
    );
    assert_eq!(
        kinds(&t.b_log, t.keys.1),
        ["session_started", "session_aborted"]
    );
    let text = std::fs::read_to_string(&t.a_log).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["entry"]["event"]["code"], "cancelled.dropped");
}

#[test]
fn an_index_key_older_than_the_policy_lifetime_is_refused_before_connecting() {
    let t = two(policy(true));
    let mut old = index_spec(vec!["voyage".into()]);
    if let Some(SenderSource::Index { epoch, .. }) = &mut old.input.sender {
        // Its own epoch runs for ever; the policy's 90 days are over.
        epoch.created -= 91 * blindmatch::index::DAY;
    }
    match t.b.prepare(Role::Responder, &mut old) {
        Err(Error::PolicyRefused(r)) => assert_eq!(r.rule, PolicyRule::IndexKeyLifetime),
        other => panic!("expected a lifetime refusal, got {other:?}"),
    }
    assert_eq!(kinds(&t.b_log, t.keys.1), ["session_refused"]);
}

/// Issue 18's binding: the hellos and the exporter are in the log, so a third party holding
/// only the log recomputes the transcript hash (spec 04 section 4.3.3) that both receipts
/// sign, and each receipt names the mode, protocol, policy digest and both fingerprints.
#[test]
fn a_third_party_recomputes_the_transcript_from_the_log_and_the_receipt_names_the_agreement() {
    use blindmatch::audit::{Event, SessionReceipt};
    use blindmatch::session::transcript::transcript_hash;
    use blindmatch::session::{Hello, Protocol};
    let p = policy(false);
    let t = two(p.clone());
    let (ra, rb) = session(
        &t,
        spec(SessionMode::Mutual, ProtocolChoice::Dh, items("a", 30, 7)),
        spec(SessionMode::Mutual, ProtocolChoice::Dh, items("b", 50, 7)),
    );
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    let (fa, fb) = (t.a.identity().fingerprint(), t.b.identity().fingerprint());
    for (log, key, peer_key) in [
        (&t.a_log, t.keys.0, t.keys.1),
        (&t.b_log, t.keys.1, t.keys.0),
    ] {
        let report = audit::verify(log, &[key]).unwrap();
        assert!(report.problem().is_none());
        let mut handshake = None;
        let mut receipt = None;
        for e in &report.entries {
            match &e.event {
                Event::SessionStarted {
                    session,
                    handshake: h,
                    ..
                } => handshake = Some((session.transcript_hash.clone(), h.clone().unwrap())),
                Event::PeerReceipt { receipt: r, .. } => {
                    receipt = Some(SessionReceipt::decode(&hex::decode(r).unwrap()).unwrap())
                }
                _ => {}
            }
        }
        let (logged, h) = handshake.expect("session_started with its handshake");
        let bytes = |x: &str| hex::decode(x).unwrap();
        let exporter: [u8; 32] = bytes(&h.exporter).try_into().unwrap();
        let recomputed = transcript_hash(
            &exporter,
            &bytes(&h.initiator_hello),
            &bytes(&h.responder_hello),
        );
        assert_eq!(hex::encode(recomputed), logged);
        let receipt = receipt.expect("the peer's receipt");
        receipt.verify(&peer_key).unwrap();
        assert_eq!(receipt.transcript_hash, recomputed);
        assert_eq!(receipt.session_id, ra.outcome().session_id());
        assert_eq!(receipt.terms.mode, SessionMode::Mutual);
        assert_eq!(receipt.terms.protocol, Protocol::Dh);
        assert_eq!(receipt.terms.suite, None);
        assert_eq!(receipt.terms.policy_digest, p.digest());
        assert_eq!((receipt.terms.initiator, receipt.terms.responder), (fa, fb));
        // The hellos themselves say the same, for anyone who decodes them.
        let hi = Hello::decode(&bytes(&h.initiator_hello)).unwrap();
        assert_eq!(hi.mode, SessionMode::Mutual);
        assert_eq!(hi.policy_digest, p.digest());
        assert_eq!((hi.own_fingerprint, hi.peer_fingerprint), (fa, fb));
    }
    assert_eq!(ra.outcome().session_id(), rb.outcome().session_id());
}

/// Issue 18's enumeration limit at admission: the element budget is cumulative per peer and
/// identifier kind, counted on what the peer announces, so a sequence of sessions that
/// together would let the peer test more values than the policy allows is refused at
/// admission, before any element, naming the rule.
#[test]
fn a_cumulative_sequence_of_sessions_beyond_the_element_budget_is_refused_at_admission() {
    let text = "version = 2\nname = \"element budget\"\nmodes = [\"intersection\"]\n\
                identifier_kinds = [\"raw\"]\nmin_set_size = 1\nmax_set_size = 100\n\
                revealable_columns = []\nmax_sessions_per_peer_per_day = 100\n\
                max_elements_per_peer = 100\ncardinality_before_reveal = false\n\
                output_retention_days = 1\n";
    let t = two(Policy::parse(text, "budget.toml").unwrap());
    let run = |t: &Two| {
        session(
            t,
            spec(
                SessionMode::Intersection,
                ProtocolChoice::Dh,
                items("a", 55, 5),
            ),
            spec(
                SessionMode::Intersection,
                ProtocolChoice::Dh,
                items("b", 30, 5),
            ),
        )
    };
    // 60 elements from A: within B's budget of 100 for A.
    let (ra, rb) = run(&t);
    assert!(ra.is_ok() && rb.is_ok(), "{ra:?} {rb:?}");
    // 60 more would make 120: B refuses at admission, and both sides name the rule.
    let (ra, rb) = run(&t);
    assert!(
        matches!(&rb, Err(Error::PolicyRefused(r)) if r.rule == PolicyRule::MaxElementsPerPeer),
        "{rb:?}"
    );
    assert!(
        matches!(&ra, Err(Error::PolicyRefused(r)) if r.rule == PolicyRule::MaxElementsPerPeer)
    );
    let b_kinds = kinds(&t.b_log, t.keys.1);
    assert_eq!(b_kinds.last().map(String::as_str), Some("session_refused"));
    // The initiator learned something in both runs; the responder (B) learned nothing, so A
    // charged nothing to B's budget: A's own state has no elements for B.
    let now = chrono::Utc::now().timestamp();
    let p = Policy::parse(text, "budget.toml").unwrap();
    let b_payer = format!("cert:{}", t.b.identity().fingerprint());
    let a_store =
        blindmatch::budget::BudgetStore::open(&t.a_log.with_file_name("budget.json")).unwrap();
    assert_eq!(a_store.elements_in_window(&p, &b_payer, "raw", now), 0);
    assert_eq!(a_store.sessions_in_window(&b_payer, now), 2);
    // B charged A's 60 announced elements once: the refused run recorded nothing.
    let a_payer = format!("cert:{}", t.a.identity().fingerprint());
    let b_store =
        blindmatch::budget::BudgetStore::open(&t.b_log.with_file_name("budget.json")).unwrap();
    assert_eq!(b_store.elements_in_window(&p, &a_payer, "raw", now), 60);
}

/// A payload longer than the policy's fixed `payload_len` is refused before connecting (rule
/// `payload_len`), not after every admission.
#[test]
fn a_payload_longer_than_the_policy_length_is_refused_before_connecting() {
    let t = two(policy(false)); // payload_len = 256
    let items = items("b", 3, 0);
    let payloads: Vec<Vec<u8>> = (0..items.input_len())
        .map(|i| format!("{{\"voyage\":\"{}\"}}", "W".repeat(250 + i)).into_bytes())
        .collect();
    let mut spec =
        spec(SessionMode::Labeled, ProtocolChoice::Auto, items).with_sender(SenderSource::Fresh {
            payloads: Some(Arc::new(payloads)),
            columns: vec!["voyage".into()],
        });
    match t.b.prepare(Role::Responder, &mut spec) {
        Err(Error::PolicyRefused(r)) => assert_eq!(r.rule, PolicyRule::PayloadLen),
        other => panic!("expected a payload_len refusal, got {other:?}"),
    }
}

#[test]
fn a_padded_vole_session_sends_the_bound_and_the_log_and_report_name_it() {
    let t = two(policy(false));
    let (mut a_spec, mut b_spec) = (
        spec(SessionMode::Mutual, ProtocolChoice::Vole, items("a", 30, 7)),
        spec(SessionMode::Mutual, ProtocolChoice::Vole, items("b", 50, 7)),
    );
    a_spec.pad_to = Some(100);
    b_spec.pad_to = Some(120);
    let (ra, rb) = session(&t, a_spec, b_spec);
    let (ra, rb) = (ra.unwrap(), rb.unwrap());
    for (r, own, peer) in [(&ra, 100, 120), (&rb, 120, 100)] {
        match r.outcome().output() {
            BodyOutput::Vole(o) => {
                assert_eq!((o.own_sent, o.peer_sent), (own, peer));
                assert_eq!(o.match_count(), Some(7), "padding dummies never match");
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(ra.outcome().terms().initiator_count, 100);
    for (log, key) in [(&t.a_log, t.keys.0), (&t.b_log, t.keys.1)] {
        assert_eq!(
            kinds(log, key),
            ["session_started", "peer_receipt", "session_ended"]
        );
        let text = std::fs::read_to_string(log).unwrap();
        assert!(text.contains("\"protocol\":\"vole\""), "{text}");
    }
}
