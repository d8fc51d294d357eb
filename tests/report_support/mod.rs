//! A small signed log with three sessions and a refusal, shared by the report tests.

use std::path::{Path, PathBuf};

use blindmatch::audit::{
    AuditLog, Learned, Outcome, ReceiptBody, ReceiptOutcome, SessionInfo, SessionReceipt,
};
use ed25519_dalek::SigningKey;

pub fn key() -> SigningKey {
    SigningKey::from_bytes(&[11; 32])
}

pub fn info(n: u8, mode: &str) -> SessionInfo {
    SessionInfo {
        session_id: hex::encode([n; 32]),
        transcript_hash: hex::encode([n ^ 0x55; 32]),
        role: "initiator".into(),
        mode: mode.into(),
        own_agency: "Customs Agency A".into(),
        peer_agency: "Customs Agency <B>".into(),
        peer_fingerprint: "be".repeat(32),
        policy_digest: "71ccb0a4".repeat(8),
        own_unique: Some(40 + u64::from(n)),
        local_own_unique: None,
        own_sent: 5000,
        peer_sent: 5000,
        key_epoch: None,
    }
}

/// Returns the log path. Sessions: 0x01 cardinality (count 7), 0x02 mutual (3 matches, with
/// an output file), 0x03 aborted; one refusal.
pub fn build(dir: &Path) -> PathBuf {
    let path = dir.join("audit.jsonl");
    let log = AuditLog::open(&path, key()).expect("open");
    let peer = SigningKey::from_bytes(&[12; 32]);

    let s1 = info(1, "cardinality");
    log.session_started(&s1).expect("log");
    log.session_ended(
        &s1,
        &Outcome {
            own_learned: Learned::Cardinality(7),
            peer_learned: Learned::Nothing,
            output_file: None,
            output_sha3_256: None,
            output_commitment: None,
        },
    )
    .expect("log");

    let output = dir.join("matches.csv");
    std::fs::write(
        &output,
        "imo,name\nIMO9187629,MV EXAMPLE ONE\nIMO9354521,MV EXAMPLE TWO\nIMO9000001,MV THREE\n",
    )
    .expect("write output");
    let s2 = info(2, "mutual");
    log.session_started(&s2).expect("log");
    log.session_ended(
        &s2,
        &Outcome {
            own_learned: Learned::Matches(3),
            peer_learned: Learned::Matches(3),
            output_file: Some(output.display().to_string()),
            output_sha3_256: Some(blindmatch::audit::file_digest(&output).expect("digest")),
            output_commitment: None,
        },
    )
    .expect("log");
    log.peer_receipt(&receipt(2, &peer)).expect("log");

    let s3 = info(3, "intersection");
    log.session_started(&s3).expect("log");
    log.session_aborted(&s3, "peer disconnected mid-stream")
        .expect("log");

    log.session_refused(
        &"be".repeat(32),
        "mutual",
        &blindmatch::Error::refused(
            blindmatch::error::PolicyRule::MaxSessionsPerPeerPerDay,
            "budget of 4 sessions spent",
        ),
    )
    .expect("log");
    path
}

/// The peer's signed, checked receipt (`completed`) for session `n` of [`info`], in mutual mode.
pub fn receipt(n: u8, peer: &SigningKey) -> SessionReceipt {
    let receipt = SessionReceipt::sign(
        &ReceiptBody {
            session_id: [n; 32],
            transcript_hash: [n ^ 0x55; 32],
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
            outcome: ReceiptOutcome::Completed,
            time: 1_790_000_000,
            checkpoint: blindmatch::audit::Checkpoint {
                size: 3,
                head: [3; 32],
            },
        },
        peer,
    );
    receipt
        .verify(&peer.verifying_key())
        .expect("valid receipt");
    receipt
}
