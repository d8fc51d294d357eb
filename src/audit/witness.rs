//! Witnessing (`protocol-spec/06-policy-and-audit.md` section 6.2): checking a verified log
//! against checkpoints of it that another party holds, so a rollback (the log shorter than a
//! checkpoint) or a fork (another history at a checkpoint's size) shows, as a Certificate
//! Transparency monitor checks a log against signed tree heads it has seen (RFC 9162
//! section 8.1).
//!
//! Each agency's log records the checkpoint in each receipt the peer sent
//! ([`super::Event::PeerReceipt`]): [`checkpoints_of`] collects them, and [`witness`] checks
//! the peer's log against them.

use ed25519_dalek::VerifyingKey;

use super::checkpoint::SignedCheckpoint;
use super::entry::Event;
use super::verify::Report;
use crate::error::AuditProblem;

/// What checking a log against checkpoints found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Witnessed {
    /// Entries in the log (the good ones, as verified).
    pub log_size: u64,
    /// Checkpoints checked.
    pub checked: usize,
    /// The largest checkpoint size seen (0 if none).
    pub largest: u64,
    /// Every problem, in the checkpoints' order: [`AuditProblem::CheckpointSignature`],
    /// [`AuditProblem::RolledBack`] or [`AuditProblem::Forked`].
    pub problems: Vec<AuditProblem>,
}

impl Witnessed {
    /// True if every checkpoint is signed by the log's key and agrees with the log.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks `log` (verified under `key`, the log's signing key) against `checkpoints`: each
/// must be signed by `key` (a C2SP signed-note signature, `verify_strict`), name no more
/// entries than the log has, and name the log's own chain hash after that many entries.
/// Checkpoints are only compared with the log's good entries: verify the log first
/// ([`Report::problem`]), since a damaged log is its own finding.
pub fn witness(log: &Report, key: &VerifyingKey, checkpoints: &[SignedCheckpoint]) -> Witnessed {
    let log_size = log.entries.len() as u64;
    let mut problems = Vec::new();
    for c in checkpoints {
        let size = c.checkpoint.size;
        if c.signer != *key || c.verify().is_err() {
            problems.push(AuditProblem::CheckpointSignature { size });
            continue;
        }
        let at = usize::try_from(size).ok().and_then(|i| log.hashes.get(i));
        match at {
            None => problems.push(AuditProblem::RolledBack {
                checkpoint_size: size,
                log_size,
            }),
            Some(h) if *h != c.checkpoint.head => problems.push(AuditProblem::Forked {
                size,
                checkpoint_head: hex::encode(c.checkpoint.head),
                log_head: hex::encode(h),
            }),
            Some(_) => {}
        }
    }
    Witnessed {
        log_size,
        checked: checkpoints.len(),
        largest: checkpoints
            .iter()
            .map(|c| c.checkpoint.size)
            .max()
            .unwrap_or(0),
        problems,
    }
}

/// The checkpoints of `peer`'s log that `log` holds: one per `peer_receipt` entry from
/// `peer` that carries one (version 3 receipts), in log order, each exactly once.
/// Signatures are not checked here ([`witness`] checks them).
pub fn checkpoints_of(log: &Report, peer: &VerifyingKey) -> Vec<SignedCheckpoint> {
    let peer_hex = hex::encode(peer.as_bytes());
    let mut out: Vec<SignedCheckpoint> = Vec::new();
    for entry in &log.entries {
        if let Event::PeerReceipt {
            peer_key,
            checkpoint: Some(c),
            ..
        } = &entry.event
        {
            if *peer_key != peer_hex {
                continue;
            }
            if let Some(c) = SignedCheckpoint::from_logged(c, *peer) {
                if !out.contains(&c) {
                    out.push(c);
                }
            }
        }
    }
    out
}

/// The peers whose checkpoints `log` holds (keys of `peer_receipt` entries with one), in
/// order of first appearance.
pub fn peers_with_checkpoints(log: &Report) -> Vec<VerifyingKey> {
    let mut out: Vec<VerifyingKey> = Vec::new();
    for entry in &log.entries {
        if let Event::PeerReceipt {
            peer_key,
            checkpoint: Some(_),
            ..
        } = &entry.event
        {
            let mut b = [0u8; 32];
            if hex::decode_to_slice(peer_key, &mut b).is_err() {
                continue;
            }
            if let Ok(k) = VerifyingKey::from_bytes(&b) {
                if !out.contains(&k) {
                    out.push(k);
                }
            }
        }
    }
    out
}

/// The peer keys of sessions with the peer whose certificate fingerprint is `fingerprint`
/// (hex): the keys of `peer_receipt` entries for sessions whose `session_started` names that
/// fingerprint.
pub fn peer_keys_of_fingerprint(log: &Report, fingerprint: &str) -> Vec<VerifyingKey> {
    let fingerprint = fingerprint.to_ascii_lowercase();
    let sessions: Vec<&str> = log
        .entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::SessionStarted { session, .. } if session.peer_fingerprint == fingerprint => {
                Some(session.session_id.as_str())
            }
            _ => None,
        })
        .collect();
    let mut out: Vec<VerifyingKey> = Vec::new();
    for entry in &log.entries {
        if let Event::PeerReceipt {
            session_id,
            peer_key,
            ..
        } = &entry.event
        {
            let mut b = [0u8; 32];
            if !sessions.contains(&session_id.as_str())
                || hex::decode_to_slice(peer_key, &mut b).is_err()
            {
                continue;
            }
            if let Ok(k) = VerifyingKey::from_bytes(&b) {
                if !out.contains(&k) {
                    out.push(k);
                }
            }
        }
    }
    out
}
