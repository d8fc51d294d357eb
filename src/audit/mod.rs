//! The signed, tamper-evident audit log and session receipts.
//!
//! The log is append-only JSON Lines (`protocol-spec/06-policy-and-audit.md` section 3). Each
//! line is `{"entry":{...},"sig":"..."}`: the entry holds its sequence number, the time, the
//! SHA3-256 hash (tag `blindmatch-v1-audit-chain`) of the previous line and the signer's public
//! key; `sig` is an Ed25519 signature (checked with `verify_strict`) by the agency's identity
//! key over the entry, prefixed with `blindmatch-v1-audit-signature`. Every append is fsynced,
//! and a signed head file (`LOG.head`: entry count and last hash) is replaced atomically
//! after it, so truncating the log is detected as well as editing, deleting or reordering any
//! entry. No entry ever holds a raw identifier.
//!
//! A rollback (an older log and head put back) still verifies on its own, so each session
//! receipt carries the signer's log [`checkpoint`] (size and head, a C2SP signed note) and
//! each side logs the peer's: [`witness()`] checks a log against the checkpoints another log
//! holds of it, and finds a rollback or a fork (section 6.2). [`recover`] removes a torn last
//! line that no one can have seen (section 6.3).
//!
//! The transport drives it like this:
//!
//! ```no_run
//! # fn demo(key: ed25519_dalek::SigningKey, peer_key: ed25519_dalek::VerifyingKey,
//! #         info: blindmatch::audit::SessionInfo, outcome: blindmatch::audit::Outcome,
//! #         peer_receipt_bytes: Vec<u8>, body: blindmatch::audit::ReceiptBody)
//! #         -> blindmatch::Result<()> {
//! use blindmatch::audit::{AuditLog, SessionReceipt};
//!
//! let log = AuditLog::open("audit.jsonl".as_ref(), key.clone())?;
//! log.session_started(&info)?;
//! // ... run the session ...
//! log.session_ended(&info, &outcome)?;
//! let ours = SessionReceipt::sign(&body, &key);
//! // send ours.encode(), receive the peer's:
//! let theirs = SessionReceipt::decode(&peer_receipt_bytes)?;
//! theirs.verify(&peer_key)?;
//! log.peer_receipt(&theirs)?;
//! // later: blindmatch::audit::verify("audit.jsonl".as_ref(), &[key.verifying_key()])?;
//! # Ok(()) }
//! ```

mod chain;
pub mod checkpoint;
mod commitment;
mod entry;
mod keys;
mod log;
mod receipt;
mod recover;
mod verify;
pub mod witness;

pub use checkpoint::{Checkpoint, LoggedCheckpoint, SignedCheckpoint};
pub use commitment::{CommitmentKey, COMMITMENT_KEY_FILE};
pub use entry::{
    AbortStage, Entry, Event, HandshakeRecord, Learned, Outcome, ResumeRecord, SessionInfo,
    SessionTerms, ShardRecord,
};
pub use keys::{identity_key_of_log, parse_public_key};
pub use log::AuditLog;
pub use receipt::{
    ReceiptBody, ReceiptOutcome, ReceiptTerms, SessionReceipt, RECEIPT_LEN, RECEIPT_V2_LEN,
    RECEIPT_VERSION,
};
pub use recover::{recover, Recovered};
pub use verify::{verify, verify_bytes, HeadStatus, Report};
pub use witness::{witness, Witnessed};

use sha3::{Digest, Sha3_256};

/// Plain SHA3-256 of a file's bytes (hex): what [`CommitmentKey::commit_hex`] commits to, and
/// what entries written before commitments logged in [`Outcome::output_sha3_256`]. It is a
/// file fingerprint for standard tools, not a protocol hash, so it carries no tag.
///
/// # Errors
/// [`crate::Error::Io`] if the file cannot be read.
pub fn file_digest(path: &std::path::Path) -> crate::Result<String> {
    let mut f = std::fs::File::open(path)
        .map_err(|e| crate::Error::io(format!("opening {}", path.display()), e))?;
    let mut h = Sha3_256::new();
    std::io::copy(&mut f, &mut HashWriter(&mut h))
        .map_err(|e| crate::Error::io(format!("reading {}", path.display()), e))?;
    Ok(hex::encode(h.finalize()))
}

struct HashWriter<'a>(&'a mut Sha3_256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
