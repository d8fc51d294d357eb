//! What the log writer ([`super::AuditLog`]) and the verifier ([`super::verify`]) share: the
//! head file's name and the messages that are hashed and signed. Both depend on this file, and
//! neither on the other.

use std::path::{Path, PathBuf};

use sha3::{Digest, Sha3_256};

use crate::dst;

/// The head file next to a log: `LOG.head`.
pub(crate) fn head_path(log: &Path) -> PathBuf {
    let mut name = log.as_os_str().to_owned();
    name.push(".head");
    PathBuf::from(name)
}

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
