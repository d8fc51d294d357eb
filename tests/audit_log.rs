//! The audit log: appends verify, and editing, deleting, reordering, truncating or tearing any
//! entry is detected at the right index; no raw identifier ever appears in it.

use blindmatch::audit::{
    self, AuditLog, Event, HeadStatus, Learned, Outcome, ReceiptBody, ReceiptOutcome, SessionInfo,
    SessionReceipt,
};
use blindmatch::error::{
    AuditError, AuditProblem, ConfigError, ConfigReason, PeerMisbehaved, ReceiptProblem,
};
use blindmatch::Error;
use ed25519_dalek::SigningKey;
use std::path::{Path, PathBuf};

/// The tags this file uses, as `protocol-spec/01-suite.md` spells them (the library's own
/// constants are private to it).
mod dst {
    /// The tag of session receipts (section 1.4).
    pub const SESSION_RECEIPT: &[u8] = b"blindmatch-v1-session-receipt";
}

fn key(seed: u8) -> SigningKey {
    SigningKey::from_bytes(&[seed; 32])
}

fn info(n: u8) -> SessionInfo {
    SessionInfo {
        session_id: hex::encode([n; 32]),
        transcript_hash: hex::encode([n ^ 0xff; 32]),
        role: "initiator".into(),
        mode: "mutual".into(),
        own_agency: "Customs Agency A".into(),
        peer_agency: "Customs Agency B".into(),
        peer_fingerprint: "cd".repeat(32),
        policy_digest: "ef".repeat(32),
        own_unique: Some(120),
        local_own_unique: None,
        own_sent: 5000,
        peer_sent: 5000,
        key_epoch: None,
    }
}

fn outcome(m: u64) -> Outcome {
    Outcome {
        own_learned: Learned::Matches(m),
        peer_learned: Learned::Matches(m),
        output_file: Some("matches.csv".into()),
        output_sha3_256: Some("00".repeat(32)),
        output_commitment: None,
    }
}

/// A log with 6 entries (two sessions and a refusal).
fn sample_log(dir: &Path) -> PathBuf {
    let path = dir.join("audit.jsonl");
    let log = AuditLog::open(&path, key(1)).expect("open");
    log.session_started(&info(1)).expect("append");
    log.session_ended(&info(1), &outcome(3)).expect("append");
    log.session_refused(
        "cd",
        "mutual",
        &Error::refused(
            blindmatch::error::PolicyRule::MaxSessionsPerPeerPerDay,
            "budget spent",
        ),
    )
    .expect("append");
    log.session_started(&info(2)).expect("append");
    log.session_aborted(&info(2), "peer disconnected")
        .expect("append");
    let receipt = SessionReceipt::sign(&body(2), &key(2));
    log.peer_receipt(&receipt).expect("append");
    path
}

fn body(n: u8) -> ReceiptBody {
    ReceiptBody {
        session_id: [n; 32],
        transcript_hash: [n ^ 0xff; 32],
        role: blindmatch::protocol::Role::Responder,
        terms: blindmatch::audit::ReceiptTerms {
            protocol: blindmatch::session::Protocol::Dh,
            mode: blindmatch::session::SessionMode::Mutual,
            suite: None,
            policy_digest: [7; 32],
            initiator: blindmatch::identity::Fingerprint([0xaa; 32]),
            responder: blindmatch::identity::Fingerprint([0xbb; 32]),
        },
        initiator_count: 5000,
        responder_count: 5000,
        outcome: ReceiptOutcome::Aborted,
        time: 1_790_000_000,
        checkpoint: blindmatch::audit::Checkpoint {
            size: u64::from(n),
            head: [n; 32],
        },
    }
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .expect("read")
        .lines()
        .map(str::to_owned)
        .collect()
}

fn write_lines(path: &Path, lines: &[String]) {
    let mut text = lines.join("\n");
    text.push('\n');
    std::fs::write(path, text).expect("write");
}

fn problem(path: &Path) -> AuditProblem {
    let r = audit::verify(path, &[key(1).verifying_key()]).expect("verify runs");
    let p = r.problem().expect("tampering must be detected");
    // The untyped accessor says the same.
    assert_eq!(
        r.first_bad().map(|(i, _)| i),
        Some(p.index().unwrap_or(r.entries.len()))
    );
    p
}

#[test]
fn an_untouched_log_verifies_and_reopens() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = sample_log(dir.path());
    let r = audit::verify(&path, &[key(1).verifying_key()]).expect("verify");
    assert!(r.is_ok(), "{}", r.summary());
    assert_eq!(r.entries.len(), 6);
    assert_eq!(r.head, HeadStatus::Matches);
    // Reopening continues the chain.
    let log = AuditLog::open(&path, key(1)).expect("reopen");
    log.session_started(&info(3)).expect("append");
    let r = audit::verify(&path, &[key(1).verifying_key()]).expect("verify");
    assert!(r.is_ok(), "{}", r.summary());
    assert_eq!(r.entries.len(), 7);
    assert_eq!(r.entries[6].seq, 6);
}

#[test]
fn editing_any_entry_is_detected_at_its_index() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = sample_log(dir.path());
    let original = lines(&path);
    for i in 0..original.len() {
        let mut l = original.clone();
        let edited = if l[i].contains("\"own_unique\":120") {
            l[i].replace("\"own_unique\":120", "\"own_unique\":121")
        } else {
            l[i].replace("\"seq\":", "\"seq\": ")
        };
        assert_ne!(edited, l[i]);
        // A changed value breaks the signature; changed white space the canonical form.
        let want = if edited.contains("\"own_unique\":121") {
            AuditProblem::BadSignature { index: i }
        } else {
            AuditProblem::Edited { index: i }
        };
        l[i] = edited;
        write_lines(&path, &l);
        assert_eq!(problem(&path), want, "edit of entry {i}");
    }
}

#[test]
fn a_changed_match_count_breaks_the_signature() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = sample_log(dir.path());
    let mut l = lines(&path);
    assert!(l[1].contains("{\"matches\":3}"));
    l[1] = l[1].replace("{\"matches\":3}", "{\"matches\":0}");
    write_lines(&path, &l);
    assert_eq!(problem(&path), AuditProblem::BadSignature { index: 1 });
}

#[test]
fn deleting_any_entry_is_detected() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = sample_log(dir.path());
    let original = lines(&path);
    for i in 0..original.len() - 1 {
        let mut l = original.clone();
        l.remove(i);
        write_lines(&path, &l);
        assert_eq!(
            problem(&path),
            AuditProblem::Sequence { index: i },
            "deletion of entry {i}"
        );
    }
}

#[test]
fn reordering_entries_is_detected() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = sample_log(dir.path());
    let mut l = lines(&path);
    l.swap(2, 3);
    write_lines(&path, &l);
    assert_eq!(problem(&path), AuditProblem::Sequence { index: 2 });
}

#[test]
fn truncating_the_log_is_detected_by_the_head() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = sample_log(dir.path());
    let original = lines(&path);
    for keep in [0, 3, 5] {
        write_lines(&path, &original[..keep]);
        if keep == 0 {
            std::fs::write(&path, "").expect("empty");
        }
        assert_eq!(
            problem(&path),
            AuditProblem::Truncated {
                head: 6,
                log: keep as u64
            }
        );
    }
    // Deleting the head as well is reported, not silently accepted.
    write_lines(&path, &original[..3]);
    std::fs::remove_file(dir.path().join("audit.jsonl.head")).expect("rm head");
    assert_eq!(problem(&path), AuditProblem::HeadMissing);
}

#[test]
fn a_torn_last_line_is_detected_and_blocks_appending() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = sample_log(dir.path());
    let text = std::fs::read_to_string(&path).expect("read");
    let cut = text.len() - 40;
    std::fs::write(&path, &text[..cut]).expect("cut");
    assert_eq!(problem(&path), AuditProblem::Torn { index: 5 });
    match AuditLog::open(&path, key(1)) {
        Err(Error::Audit(AuditError {
            problem: AuditProblem::Torn { index: 5 },
            path: Some(p),
            advice: Some(_),
            ..
        })) => assert_eq!(p, path),
        other => panic!("appending to a torn log must be refused, got {other:?}"),
    }
}

#[test]
fn a_wrong_key_is_named() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = sample_log(dir.path());
    let r = audit::verify(&path, &[key(9).verifying_key()]).expect("verify");
    assert_eq!(r.problem(), Some(AuditProblem::UnknownSigner { index: 0 }));
    // Without a key, a log is only self-consistent, and says UNPINNED, never OK.
    let r = audit::verify(&path, &[]).expect("verify");
    assert!(r.is_ok());
    assert!(!r.keys_pinned);
    assert!(r.summary().starts_with("UNPINNED: "), "{}", r.summary());
}

#[test]
fn a_resigned_entry_by_another_key_is_detected() {
    // Someone without the agency key re-signs an edited entry with their own key.
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("audit.jsonl");
    {
        let log = AuditLog::open(&path, key(1)).expect("open");
        log.session_started(&info(1)).expect("append");
    }
    std::fs::remove_file(dir.path().join("audit.jsonl.head")).expect("rm");
    std::fs::remove_file(&path).expect("rm");
    let forged = AuditLog::open(&path, key(7)).expect("open");
    forged.session_started(&info(1)).expect("append");
    assert_eq!(problem(&path), AuditProblem::UnknownSigner { index: 0 });
}

#[test]
fn receipts_round_trip_and_reject_tampering() {
    let r = SessionReceipt::sign(&body(4), &key(2));
    let bytes = r.encode();
    assert_eq!(bytes.len(), audit::RECEIPT_LEN);
    let back = SessionReceipt::decode(&bytes).expect("decode");
    assert_eq!(back, r);
    back.verify(&key(2).verifying_key()).expect("valid");
    // The peer's fault: a receipt signed by another key.
    let wrong = back.verify(&key(3).verifying_key());
    assert!(
        matches!(
            &wrong,
            Err(Error::PeerMisbehaved(PeerMisbehaved::BadReceipt(
                ReceiptProblem::WrongSigner
            )))
        ),
        "wrong peer key: {wrong:?}"
    );
    for i in [0usize, 5, 40, 100, 110, 120, 150] {
        let mut b = bytes.clone();
        b[i] ^= 1;
        let ok = SessionReceipt::decode(&b).and_then(|r| r.verify(&key(2).verifying_key()));
        assert!(
            matches!(
                &ok,
                Err(Error::PeerMisbehaved(PeerMisbehaved::BadReceipt(_)))
            ),
            "flipping byte {i} went unnoticed: {ok:?}"
        );
    }
    assert!(matches!(
        SessionReceipt::decode(&bytes[..blindmatch::audit::RECEIPT_LEN - 1]),
        Err(Error::PeerMisbehaved(PeerMisbehaved::BadReceipt(
            ReceiptProblem::Malformed
        )))
    ));
}

#[test]
fn no_input_value_appears_in_the_log() {
    // Real IMO numbers as they would be matched; the log must contain none of them.
    let items = ["IMO9187629", "9187629", "IMO9354521", "MSCU1234565"];
    let dir = tempfile::tempdir().expect("tmp");
    let path = sample_log(dir.path());
    let text = std::fs::read_to_string(&path).expect("read");
    let head = std::fs::read_to_string(dir.path().join("audit.jsonl.head")).expect("head");
    for item in items {
        assert!(!text.contains(item), "{item} in log");
        assert!(!head.contains(item), "{item} in head");
    }
    // The sentinel check can fail: the same search finds a value that is there.
    assert!(text.contains("Customs Agency B"));
}

#[test]
fn public_keys_parse_from_hex_and_identity_dirs() {
    let k = key(5);
    let hex_key = hex::encode(k.verifying_key().as_bytes());
    assert_eq!(
        audit::parse_public_key(&hex_key).expect("hex"),
        k.verifying_key()
    );
    let dir = tempfile::tempdir().expect("tmp");
    use ed25519_dalek::pkcs8::EncodePrivateKey;
    let pem = k
        .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
        .expect("pem");
    let key_file = dir.path().join("identity.key");
    std::fs::write(&key_file, pem.as_bytes()).expect("write");
    let dir_str = dir.path().to_str().expect("utf8");
    // A key file others may read is refused, as every secret-bearing file is.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).expect("chmod");
        assert!(matches!(
            audit::parse_public_key(dir_str),
            Err(Error::FileMode(_))
        ));
        std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
    assert_eq!(
        audit::parse_public_key(dir_str).expect("dir"),
        k.verifying_key()
    );
    assert!(matches!(
        audit::parse_public_key("nothing-here"),
        Err(Error::Config(ConfigError {
            reason: ConfigReason::Identity,
            ..
        }))
    ));
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn receipt_decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = SessionReceipt::decode(&bytes);
        }

        #[test]
        fn verify_never_panics_and_rejects_garbage(
            bytes in proptest::collection::vec(any::<u8>(), 1..600),
            head in proptest::option::of(proptest::collection::vec(any::<u8>(), 0..200)),
        ) {
            let r = audit::verify_bytes(&bytes, head.as_deref(), &[key(1).verifying_key()]);
            prop_assert!(!r.is_ok());
        }

    }

    proptest! {
        // Each case writes and fsyncs a fresh log: fewer cases keep the run short.
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn any_single_byte_flip_in_a_log_is_detected(pos in 0usize..4000, bit in 0u8..8) {
            let dir = tempfile::tempdir().expect("tmp");
            let path = sample_log(dir.path());
            let mut bytes = std::fs::read(&path).expect("read");
            let head = std::fs::read(dir.path().join("audit.jsonl.head")).expect("head");
            let i = pos % bytes.len();
            bytes[i] ^= 1 << bit;
            let r = audit::verify_bytes(&bytes, Some(&head), &[key(1).verifying_key()]);
            prop_assert!(!r.is_ok(), "flip at byte {} went unnoticed", i);
        }
    }
}

/// Issue 13 item 14: two writers of one agency (a `serve` and a `match` on one identity) share
/// a log: each append takes the lock for itself, picks up what the other appended, and the
/// result is one valid chain with every entry once, in order.
#[test]
fn two_writers_of_one_agency_append_to_one_valid_chain() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("audit.jsonl");
    let a = AuditLog::open(&path, key(1)).expect("first writer");
    let b = AuditLog::open(&path, key(1)).expect("a second writer opens the same log at once");
    for n in 0..6u8 {
        let w = if n % 3 == 0 { &b } else { &a };
        let e = w.session_started(&info(n)).expect("append");
        assert_eq!(e.seq, u64::from(n));
    }
    // Concurrent appends from two threads, as two processes would.
    std::thread::scope(|s| {
        for w in [&a, &b] {
            s.spawn(move || {
                for n in 0..10u8 {
                    w.session_aborted(&info(n), "stopped").expect("append");
                }
            });
        }
    });
    let report = audit::verify(&path, &[key(1).verifying_key()]).expect("verify");
    assert!(report.problem().is_none(), "{}", report.summary());
    assert_eq!(report.entries.len(), 26);
    for (i, e) in report.entries.iter().enumerate() {
        assert_eq!(e.seq, i as u64);
    }
    // A writer under another key cannot follow entries it cannot verify.
    let c = AuditLog::open(&path, key(2));
    assert!(c.is_err(), "opening under another key is refused");
}

/// The receipt's bytes sit where `protocol-spec/06-policy-and-audit.md` section 5 puts them,
/// so an implementation written from the spec reads the same fields.
#[test]
fn receipt_fields_sit_at_the_spec_offsets() {
    use blindmatch::audit::ReceiptTerms;
    use blindmatch::identity::Fingerprint;
    use blindmatch::oprf::Suite;
    use blindmatch::session::{Protocol, SessionMode};
    let body = ReceiptBody {
        session_id: [0x11; 32],
        transcript_hash: [0x22; 32],
        role: blindmatch::protocol::Role::Responder,
        terms: ReceiptTerms {
            protocol: Protocol::Oprf,
            mode: SessionMode::Labeled,
            suite: Some(Suite::default()),
            policy_digest: [0x33; 32],
            initiator: Fingerprint([0x44; 32]),
            responder: Fingerprint([0x55; 32]),
        },
        initiator_count: 0x0102_0304_0506_0708,
        responder_count: 0x1112_1314_1516_1718,
        outcome: ReceiptOutcome::Aborted,
        time: -2,
        checkpoint: blindmatch::audit::Checkpoint {
            size: 0x2122_2324_2526_2728,
            head: [0x66; 32],
        },
    };
    let k = key(9);
    let bytes = SessionReceipt::sign(&body, &k).encode();
    assert_eq!(bytes.len(), 391);
    assert_eq!(bytes[0..2], [0, 3]);
    assert_eq!(bytes[2..34], [0x11; 32]);
    assert_eq!(bytes[34..66], [0x22; 32]);
    assert_eq!(&bytes[66..98], k.verifying_key().as_bytes());
    assert_eq!(bytes[98..102], [1, 2, 4, Suite::default().code()]);
    assert_eq!(bytes[102..134], [0x33; 32]);
    assert_eq!(bytes[134..166], [0x44; 32]);
    assert_eq!(bytes[166..198], [0x55; 32]);
    assert_eq!(bytes[198..206], 0x0102_0304_0506_0708u64.to_be_bytes());
    assert_eq!(bytes[206..214], 0x1112_1314_1516_1718u64.to_be_bytes());
    assert_eq!(bytes[214], 1);
    assert_eq!(bytes[215..223], (-2i64).to_be_bytes());
    assert_eq!(bytes[223..231], 0x2122_2324_2526_2728u64.to_be_bytes());
    assert_eq!(bytes[231..263], [0x66; 32]);
    // The checkpoint signature: Ed25519 over the C2SP signed-note text of section 5.2.
    let origin = format!(
        "blindmatch-v1-audit-checkpoint/{}",
        hex::encode(k.verifying_key().as_bytes())
    );
    let text = format!(
        "{origin}\n{}\n{}\n",
        0x2122_2324_2526_2728u64, "ZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmZmY="
    );
    let csig = ed25519_dalek::Signature::from_slice(&bytes[263..327]).expect("64 bytes");
    k.verifying_key()
        .verify_strict(text.as_bytes(), &csig)
        .expect("the spec's checkpoint note text");
    // The signature covers lp8(SESSION_RECEIPT) || the 327 bytes before it.
    let mut msg = vec![dst::SESSION_RECEIPT.len() as u8];
    msg.extend_from_slice(dst::SESSION_RECEIPT);
    msg.extend_from_slice(&bytes[..327]);
    let sig = ed25519_dalek::Signature::from_slice(&bytes[327..]).expect("64 bytes");
    k.verifying_key()
        .verify_strict(&msg, &sig)
        .expect("the spec's signed message");
}

/// A receipt whose outer signature is valid but whose checkpoint signature is not (a signer
/// that signed a checkpoint it did not sign as a note) is refused: the checkpoint is logged and
/// exported on its own, so it must verify on its own.
#[test]
fn a_receipt_with_a_bad_checkpoint_signature_is_refused() {
    use ed25519_dalek::ed25519::signature::Signer;
    let k = key(9);
    let mut bytes = SessionReceipt::sign(&body(4), &k).encode();
    bytes[300] ^= 1;
    let mut msg = vec![dst::SESSION_RECEIPT.len() as u8];
    msg.extend_from_slice(dst::SESSION_RECEIPT);
    msg.extend_from_slice(&bytes[..327]);
    let sig = k.sign(&msg).to_bytes();
    bytes[327..].copy_from_slice(&sig);
    let r = SessionReceipt::decode(&bytes).expect("decodes");
    assert!(matches!(
        r.verify(&k.verifying_key()),
        Err(Error::PeerMisbehaved(PeerMisbehaved::BadReceipt(
            ReceiptProblem::BadSignature
        )))
    ));
}

/// A version 2 receipt (287 bytes, no checkpoint), as logs written before version 3 hold
/// them, still decodes, verifies and re-encodes to its own bytes; a live peer may not send one.
#[test]
fn a_version_2_receipt_still_verifies() {
    let k = key(9);
    let v3 = SessionReceipt::sign(&body(4), &k).encode();
    // The version 2 layout: the first 223 bytes with version 2, then the signature over them.
    let mut v2 = v3[..223].to_vec();
    v2[0..2].copy_from_slice(&[0, 2]);
    let mut msg = vec![dst::SESSION_RECEIPT.len() as u8];
    msg.extend_from_slice(dst::SESSION_RECEIPT);
    msg.extend_from_slice(&v2);
    use ed25519_dalek::ed25519::signature::Signer;
    v2.extend_from_slice(&k.sign(&msg).to_bytes());
    assert_eq!(v2.len(), audit::RECEIPT_V2_LEN);
    let r = SessionReceipt::decode(&v2).expect("decode v2");
    assert_eq!(r.checkpoint, None);
    r.verify(&k.verifying_key()).expect("a valid v2 receipt");
    assert_eq!(r.encode(), v2);
    // A version 3 header on 287 bytes, or version 2 on 391, is malformed.
    let mut wrong = v2.clone();
    wrong[1] = 3;
    assert!(matches!(
        SessionReceipt::decode(&wrong),
        Err(Error::PeerMisbehaved(PeerMisbehaved::BadReceipt(
            ReceiptProblem::Malformed
        )))
    ));
    let mut wrong = v3.clone();
    wrong[1] = 2;
    assert!(matches!(
        SessionReceipt::decode(&wrong),
        Err(Error::PeerMisbehaved(PeerMisbehaved::BadReceipt(
            ReceiptProblem::Malformed
        )))
    ));
    // Logged, the v2 receipt's entry has no checkpoint and the log verifies.
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("audit.jsonl");
    let log = AuditLog::open(&path, key(1)).expect("open");
    let e = log.peer_receipt(&r).expect("append");
    assert!(matches!(
        e.event,
        Event::PeerReceipt {
            checkpoint: None,
            ..
        }
    ));
    assert!(audit::verify(&path, &[key(1).verifying_key()])
        .expect("verify")
        .is_ok());
}
