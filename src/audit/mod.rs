//! The signed, tamper-evident audit log and session receipts.
//!
//! The log is append-only JSON Lines (`protocol-spec/06-policy-and-audit.md` section 3). Each
//! line is `{"entry":{...},"sig":"..."}`: the entry holds its sequence number, the time, the
//! SHA3-256 hash (tag [`crate::dst::AUDIT_CHAIN`]) of the previous line and the signer's public
//! key; `sig` is an Ed25519 signature (checked with `verify_strict`) by the agency's identity
//! key over the entry, prefixed with [`crate::dst::AUDIT_SIGNATURE`]. Every append is fsynced,
//! and a signed head file (`LOG.head`: entry count and last hash) is replaced atomically
//! after it, so truncating the log is detected as well as editing, deleting or reordering any
//! entry. No entry ever holds a raw identifier.
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

mod entry;
mod keys;
mod log;
mod receipt;
mod verify;

pub use entry::{Entry, Event, Learned, Outcome, SessionInfo};
pub use keys::parse_public_key;
pub use log::AuditLog;
pub use receipt::{ReceiptBody, ReceiptOutcome, ReceiptRole, SessionReceipt, RECEIPT_LEN};
pub use verify::{verify, verify_bytes, HeadStatus, Report};

use sha3::{Digest, Sha3_256};

use crate::dst;

/// The chain hash of one log line (its bytes without the newline).
pub(crate) fn chain_hash(line: &[u8]) -> [u8; 32] {
    let mut h = Sha3_256::new();
    h.update([dst::AUDIT_CHAIN.len() as u8]);
    h.update(dst::AUDIT_CHAIN);
    h.update(line);
    h.finalize().into()
}

/// The message an entry signature covers: tag, then the entry's compact JSON.
pub(crate) fn entry_message(entry_json: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(1 + dst::AUDIT_SIGNATURE.len() + entry_json.len());
    m.push(dst::AUDIT_SIGNATURE.len() as u8);
    m.extend_from_slice(dst::AUDIT_SIGNATURE);
    m.extend_from_slice(entry_json);
    m
}

/// The message the head file's signature covers: tag, `"head"`, count (u64 BE), last hash.
pub(crate) fn head_message(entries: u64, last: &[u8; 32]) -> Vec<u8> {
    let mut m = entry_message(b"head");
    m.extend_from_slice(&entries.to_be_bytes());
    m.extend_from_slice(last);
    m
}

/// Plain SHA3-256 of a file's bytes, as logged in [`Outcome::output_sha3_256`] (hex). This is a
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
