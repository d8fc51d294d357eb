//! Disclosure reports of real sessions (loopback mutual TLS through [`Agency`]), checked on
//! both sides: an abort after the peer's receipt says what the peer learned; the policy,
//! protocol, revealed columns and retention are named; refused handshakes (policy digest,
//! mode) and refused certificates are logged by the side that refuses and listed.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::sync::Arc;

mod agency_support;

use agency_support::{items, options, run_pair, spec, Results};
use blindmatch::agency::{Agency, AgencyFiles, OutputSink, RunOptions, SessionSpec};
use blindmatch::audit::{self, AbortStage, Event, Learned};
use blindmatch::error::{Error, Mismatch, TlsError, TlsReason};
use blindmatch::identity::{Fingerprint, Identity};
use blindmatch::policy::Policy;
use blindmatch::report::{markdown, Disclosure, Filter, RefusalKind, Status};
use blindmatch::session::{BodyOutput, OutputRecord, ProtocolChoice, SenderSource, SessionMode};
use blindmatch::transport::verifier::PeerAuth;

fn policy(name: &str, retention: u64) -> Policy {
    let text = format!(
        "version = 2\nname = \"{name}\"\n\
         modes = [\"intersection\", \"mutual\", \"cardinality\", \"labeled\"]\n\
         identifier_kinds = [\"raw\"]\nmin_set_size = 1\nmax_set_size = 100000\n\
         revealable_columns = [\"voyage\"]\npayload_len = 256\n\
         max_sessions_per_peer_per_day = 100\nmax_elements_per_peer = 10000000\n\
         cardinality_before_reveal = false\noutput_retention_days = {retention}\n"
    );
    Policy::parse(&text, "test.toml").unwrap()
}

struct Side {
    agency: Agency,
    log: PathBuf,
    key: ed25519_dalek::VerifyingKey,
    fingerprint: Fingerprint,
}

/// Agencies in `root`: `name`'s identity, pinning `peers`.
fn identity(root: &Path, name: &str) -> Identity {
    let dir = root.join(name);
    if !dir.exists() {
        Identity::create(&dir, name, false).unwrap();
    }
    Identity::load(&dir).unwrap()
}

fn side(root: &Path, name: &str, policy: Policy, pins: &[Fingerprint]) -> Side {
    let id = identity(root, name);
    let files = AgencyFiles::in_dir(&root.join(name));
    let (key, fingerprint) = (id.verifying_key(), id.fingerprint());
    let auth = PeerAuth::pinned_to_any(pins.to_vec());
    Side {
        agency: Agency::open(id, policy, auth, &files).unwrap(),
        log: files.audit_log,
        key,
        fingerprint,
    }
}

/// A and B pinning each other under `pa` and `pb`.
fn pair(root: &Path, pa: Policy, pb: Policy) -> (Side, Side) {
    let fa = identity(root, "Agency A").fingerprint();
    let fb = identity(root, "Agency B").fingerprint();
    (
        side(root, "Agency A", pa, &[fb]),
        side(root, "Agency B", pb, &[fa]),
    )
}

/// An output that cannot be written (the disk is full), after both receipts.
struct FullDisk;

impl OutputSink for FullDisk {
    fn write(&self, _: &BodyOutput, _: &[u8; 32]) -> blindmatch::Result<Option<OutputRecord>> {
        Err(Error::io(
            "writing matches.csv",
            std::io::Error::other("no space left on device"),
        ))
    }
}

/// The shared options, with `sink` for the output when given.
fn options_with(sink: Option<Arc<dyn OutputSink>>) -> RunOptions {
    let mut o = options();
    if let Some(s) = sink {
        o.sink = s;
    }
    o
}

/// B serves one connection, A connects; `full_disk` picks the side whose output fails.
fn session(
    a: &Agency,
    b: &Agency,
    a_spec: SessionSpec,
    b_spec: SessionSpec,
    full_disk: Option<char>,
) -> Results {
    let sink = |who| -> Option<Arc<dyn OutputSink>> {
        (full_disk == Some(who)).then(|| Arc::new(FullDisk) as Arc<dyn OutputSink>)
    };
    let (a_sink, b_sink) = (sink('a'), sink('b'));
    run_pair(
        a,
        b,
        (a_spec, options_with(a_sink)),
        (b_spec, options_with(b_sink)),
    )
}

fn report(s: &Side) -> Disclosure {
    let verified = audit::verify(&s.log, &[s.key]).unwrap();
    assert!(verified.is_ok(), "{:?}", verified.problem());
    Disclosure::build("audit.jsonl", &verified, &Filter::All)
}

fn events(s: &Side) -> Vec<Event> {
    audit::verify(&s.log, &[s.key])
        .unwrap()
        .entries
        .into_iter()
        .map(|e| e.event)
        .collect()
}

/// The case: our output cannot be written after the peer's receipt arrived. Our
/// report must say what the peer learned (its receipt shows it completed), and agree with the
/// peer's own report; tried with the initiator's output failing, then the responder's.
#[test]
fn an_abort_after_the_peers_receipt_says_what_the_peer_learned_on_both_sides() {
    for failing in ['a', 'b'] {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = pair(
            dir.path(),
            policy("customs-2026", 30),
            policy("customs-2026", 30),
        );
        let (ra, rb) = session(
            &a.agency,
            &b.agency,
            spec(SessionMode::Mutual, ProtocolChoice::Dh, items("a", 40, 9)),
            spec(SessionMode::Mutual, ProtocolChoice::Dh, items("b", 60, 9)),
            Some(failing),
        );
        let (failed, done, failed_side, done_side) = if failing == 'a' {
            (ra, rb, &a, &b)
        } else {
            (rb, ra, &b, &a)
        };
        assert!(matches!(failed, Err(Error::Io { .. })), "{failed:?}");
        done.unwrap();

        // The failing side logged how far it got and the counts.
        let ev = events(failed_side);
        let abort = ev.iter().find_map(|e| match e {
            Event::SessionAborted {
                stage,
                own_learned,
                peer_learned,
                ..
            } => Some((*stage, *own_learned, *peer_learned)),
            _ => None,
        });
        assert_eq!(
            abort,
            Some((
                Some(AbortStage::AfterReceipts),
                Some(Learned::Matches(9)),
                Some(Learned::Matches(9))
            ))
        );

        let ours = report(failed_side);
        let theirs = report(done_side);
        let (s, t) = (&ours.sessions[0], &theirs.sessions[0]);
        assert!(matches!(s.status, Status::Aborted(_)));
        assert!(matches!(t.status, Status::Completed(_)));
        assert_eq!(s.info.session_id, t.info.session_id);
        // The peer completed and learned 9 matches: both reports say so.
        assert_eq!(t.own_matches(), 9);
        let peer = s.peer_learned();
        assert!(peer.contains("9 matched items"), "{peer}");
        assert!(peer.contains("receipt"), "{peer}");
        assert!(!peer.contains("nothing"), "{peer}");
        assert!(t.own_learned().contains("9 matched items"));
        // What we learned is not counted as recorded, and says why.
        assert_eq!(ours.total_own_matches(), 0);
        assert!(
            s.own_learned().contains("not recorded"),
            "{}",
            s.own_learned()
        );
        // And the completed side's view of us: we learned the same 9.
        assert!(t.peer_learned().contains("9 matched items"));
        // Both name the policy, protocol and retention.
        for r in [s, t] {
            assert!(r.policy().starts_with("customs-2026 ("), "{}", r.policy());
            assert_eq!(r.protocol(), Some("dh"));
            assert_eq!(r.retention_text(), "30 days (our policy)");
        }
    }
}

/// An initiator in intersection mode: the peer learned our set size as sent, never a bare
/// "nothing"; the responder's report says the initiator learned which of its items are
/// shared. A labeled session names its protocol and revealed columns on both sides.
#[test]
fn intersection_and_labeled_sessions_say_what_each_side_learned_and_name_the_terms() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = pair(dir.path(), policy("p", 7), policy("p", 7));
    let (ra, rb) = session(
        &a.agency,
        &b.agency,
        spec(
            SessionMode::Intersection,
            ProtocolChoice::Dh,
            items("a", 20, 4),
        ),
        spec(
            SessionMode::Intersection,
            ProtocolChoice::Dh,
            items("b", 30, 4),
        ),
        None,
    );
    ra.unwrap();
    rb.unwrap();
    let b_items = items("b", 30, 4);
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
        &a.agency,
        &b.agency,
        spec(
            SessionMode::Labeled,
            ProtocolChoice::Auto,
            items("a", 20, 4),
        ),
        b_spec,
        None,
    );
    ra.unwrap();
    rb.unwrap();

    let (ra, rb) = (report(&a), report(&b));
    let (ai, bi) = (&ra.sessions[0], &rb.sessions[0]);
    assert_eq!(ai.info.role, "initiator");
    assert_eq!(
        ai.peer_learned(),
        "our set size as sent (24); nothing about our items"
    );
    assert!(ai
        .own_learned()
        .starts_with("which of our items are shared: 4 matched items"));
    assert_eq!(
        bi.own_learned(),
        "the peer's set size as sent (24); nothing about its items"
    );
    assert!(
        bi.peer_learned()
            .contains("how many is not disclosed to us"),
        "{}",
        bi.peer_learned()
    );
    assert!(bi.peer_learned().contains("our set size as sent (34)"));

    let (al, bl) = (&ra.sessions[1], &rb.sessions[1]);
    for r in [al, bl] {
        assert_eq!(r.protocol(), Some("oprf"));
        assert_eq!(r.revealed_columns, ["voyage"], "{:?}", r.info.role);
        assert_eq!(r.retention_text(), "7 days (our policy)");
    }
    assert!(al
        .own_learned()
        .contains("the peer's payloads for them (columns voyage): 4 matched items"));
    assert!(bl.peer_learned().contains("payloads"));
    let md = markdown::render(&ra);
    assert!(md.contains("| Revealed label columns | voyage |"), "{md}");
    assert!(md.contains("| Protocol | OPRF-PSI \\(oprf\\) |"), "{md}");
}

/// Different policies, or different modes: both sides refuse the handshake, log it with the
/// fields that differ, and report it; no session appears.
#[test]
fn refused_handshakes_are_logged_by_both_sides_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = pair(dir.path(), policy("p", 30), policy("p", 31));
    let (ra, rb) = session(
        &a.agency,
        &b.agency,
        spec(SessionMode::Mutual, ProtocolChoice::Dh, items("a", 10, 2)),
        spec(
            SessionMode::Cardinality,
            ProtocolChoice::Dh,
            items("b", 10, 2),
        ),
        None,
    );
    for r in [&ra, &rb] {
        assert!(
            matches!(r, Err(Error::Incompatible(i)) if i.mismatches.iter().any(|m| matches!(m, Mismatch::PolicyDigest { .. }))),
            "{r:?}"
        );
    }
    for (s, peer) in [(&a, b.fingerprint), (&b, a.fingerprint)] {
        let ev = events(s);
        assert_eq!(ev.len(), 1, "{ev:?}");
        match &ev[0] {
            Event::HandshakeRefused {
                peer_fingerprint,
                mismatches,
                ..
            } => {
                assert_eq!(peer_fingerprint, &peer.to_string());
                assert_eq!(mismatches, &["mode", "policy_digest"]);
            }
            other => panic!("{other:?}"),
        }
        let d = report(s);
        assert!(d.sessions.is_empty());
        assert_eq!(d.refusals_of(RefusalKind::Handshake), 1);
        assert_eq!(d.refusals[0].rule, "mode, policy_digest");
        let page = blindmatch::report::html::render(&d);
        assert!(page.contains("id=\"handshake-refusals\">1<"));
    }
}

/// A certificate neither pinned nor from a configured CA: the side whose verifier refuses it
/// logs `certificate_refused` with its fingerprint (and the refused side logs nothing: it
/// only learns that it was refused).
#[test]
fn refused_certificates_are_logged_by_the_refusing_side_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let fb = identity(root, "Agency B").fingerprint();
    let fc = identity(root, "Stranger C").fingerprint();
    // B pins nobody it knows of C; C pins B. C connects: B refuses C's certificate.
    let b = side(root, "Agency B", policy("p", 30), &[Fingerprint([9; 32])]);
    let c = side(root, "Stranger C", policy("p", 30), &[fb]);
    let (rc, rb) = session(
        &c.agency,
        &b.agency,
        spec(SessionMode::Mutual, ProtocolChoice::Dh, items("c", 10, 2)),
        spec(SessionMode::Mutual, ProtocolChoice::Dh, items("b", 10, 2)),
        None,
    );
    assert!(
        matches!(
            rb,
            Err(Error::Tls(TlsError {
                reason: TlsReason::PeerRefused,
                ..
            }))
        ),
        "{rb:?}"
    );
    assert!(rc.is_err());
    match &events(&b)[..] {
        [Event::CertificateRefused {
            peer_fingerprint,
            role,
            code,
            ..
        }] => {
            assert_eq!(peer_fingerprint.as_deref(), Some(fc.to_string().as_str()));
            assert_eq!(role, "responder");
            assert_eq!(code, "tls.peer_refused");
        }
        other => panic!("{other:?}"),
    }
    assert!(events(&c).is_empty(), "the refused side refused nothing");
    let d = report(&b);
    assert_eq!(d.refusals_of(RefusalKind::Certificate), 1);
    assert_eq!(d.refusals[0].peer_fingerprint, fc.to_string());

    // The other way round: C (initiator) does not pin the server it reaches.
    let c2 = side(root, "Stranger C", policy("p", 30), &[Fingerprint([8; 32])]);
    let b2 = side(root, "Agency B", policy("p", 30), &[fc]);
    let (rc, _) = session(
        &c2.agency,
        &b2.agency,
        spec(SessionMode::Mutual, ProtocolChoice::Dh, items("c", 10, 2)),
        spec(SessionMode::Mutual, ProtocolChoice::Dh, items("b", 10, 2)),
        None,
    );
    assert!(
        matches!(
            rc,
            Err(Error::Tls(TlsError {
                reason: TlsReason::PeerRefused,
                ..
            }))
        ),
        "{rc:?}"
    );
    let refused: Vec<_> = events(&c2)
        .into_iter()
        .filter_map(|e| match e {
            Event::CertificateRefused {
                peer_fingerprint,
                role,
                ..
            } => Some((peer_fingerprint, role)),
            _ => None,
        })
        .collect();
    assert_eq!(refused, [(Some(fb.to_string()), "initiator".to_owned())]);
}
