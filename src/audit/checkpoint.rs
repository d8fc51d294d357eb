//! Log checkpoints (`protocol-spec/06-policy-and-audit.md` section 5.2): an agency's signed
//! statement "my audit log had `size` entries, the last with chain hash `head`". Each session
//! receipt carries the signer's checkpoint, and each side logs the peer's, so a rollback or a
//! fork of either log shows against the checkpoints the other agency holds (mutual
//! witnessing, as Certificate Transparency's gossip of signed tree heads, RFC 9162 section 8.1).
//!
//! A checkpoint is written as a C2SP signed note (<https://c2sp.org/signed-note>), with the
//! body lines of a C2SP checkpoint (<https://c2sp.org/tlog-checkpoint>):
//! ```text
//! blindmatch-v1-audit-checkpoint/<signer public key, 64 hex>
//! <size, decimal>
//! <head, base64 of 32 bytes>
//!
//! — blindmatch-v1-audit-checkpoint/<signer public key, 64 hex> <base64(key id || signature)>
//! ```
//! The Ed25519 signature (RFC 8032, checked with `verify_strict`) covers the three text lines
//! with their newlines; the key id is `SHA-256(key name || 0x0A || 0x01 || public key)[:4]`
//! (signed-note, "Ed25519 signatures"). The head is the log's chain hash, not an RFC 6962
//! Merkle tree hash: checking a checkpoint needs the log's first `size` lines.

use base64ct::{Base64, Encoding};
use ed25519_dalek::ed25519::signature::Signer;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::dst;
use crate::error::{AuditProblem, Error, InputError, InputReason, Result};

/// A log's size (entries) and the chain hash of its last entry (zeros for an empty log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Checkpoint {
    /// Number of entries.
    pub size: u64,
    /// Chain hash of entry `size - 1`.
    pub head: [u8; 32],
}

/// A checkpoint signed by a log's key: what a receipt carries and a witness checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// The log's signing key (the agency's identity key).
    pub signer: VerifyingKey,
    /// Ed25519 signature over [`SignedCheckpoint::text`].
    pub signature: Signature,
}

/// A checkpoint as a log entry records it: all hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoggedCheckpoint {
    /// Entries in the signer's log.
    pub size: u64,
    /// The chain hash of its last entry (hex).
    pub head: String,
    /// The signer's Ed25519 signature over the note text (hex).
    pub sig: String,
}

/// The origin line (and key name) of a log signed by `key`.
pub fn origin(key: &VerifyingKey) -> String {
    format!(
        "{}/{}",
        String::from_utf8_lossy(dst::AUDIT_CHECKPOINT),
        hex::encode(key.as_bytes())
    )
}

/// The signed-note key id of `key` under its origin name.
fn key_id(key: &VerifyingKey) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(origin(key).as_bytes());
    h.update([0x0a, 0x01]);
    h.update(key.as_bytes());
    let d = h.finalize();
    [d[0], d[1], d[2], d[3]]
}

impl Checkpoint {
    /// The note text for a log signed by `key`: origin, size and base64 head, each ending in a
    /// newline.
    pub fn text(&self, key: &VerifyingKey) -> String {
        format!(
            "{}\n{}\n{}\n",
            origin(key),
            self.size,
            Base64::encode_string(&self.head)
        )
    }

    /// Signs this checkpoint with the log's key.
    pub fn sign(&self, key: &SigningKey) -> SignedCheckpoint {
        let signer = key.verifying_key();
        SignedCheckpoint {
            checkpoint: *self,
            signer,
            signature: key.sign(self.text(&signer).as_bytes()),
        }
    }
}

impl SignedCheckpoint {
    /// The note text the signature covers.
    pub fn text(&self) -> String {
        self.checkpoint.text(&self.signer)
    }

    /// Checks the signature (`verify_strict`).
    ///
    /// # Errors
    /// [`Error::Audit`] with [`AuditProblem::CheckpointSignature`] if it does not verify.
    pub fn verify(&self) -> Result<()> {
        self.signer
            .verify_strict(self.text().as_bytes(), &self.signature)
            .map_err(|_| {
                Error::audit(AuditProblem::CheckpointSignature {
                    size: self.checkpoint.size,
                })
            })
    }

    /// The whole signed note: text, blank line, one signature line.
    pub fn to_note(&self) -> String {
        let mut sig = key_id(&self.signer).to_vec();
        sig.extend_from_slice(&self.signature.to_bytes());
        format!(
            "{}\n\u{2014} {} {}\n",
            self.text(),
            origin(&self.signer),
            Base64::encode_string(&sig)
        )
    }

    /// As a log entry records it.
    pub fn logged(&self) -> LoggedCheckpoint {
        LoggedCheckpoint {
            size: self.checkpoint.size,
            head: hex::encode(self.checkpoint.head),
            sig: hex::encode(self.signature.to_bytes()),
        }
    }

    /// From a log entry's record, for the log signed by `signer`; `None` if a field is not
    /// well-formed hex (the signature is not checked: call [`SignedCheckpoint::verify`]).
    pub fn from_logged(logged: &LoggedCheckpoint, signer: VerifyingKey) -> Option<Self> {
        let mut head = [0u8; 32];
        hex::decode_to_slice(&logged.head, &mut head).ok()?;
        let mut sig = [0u8; 64];
        hex::decode_to_slice(&logged.sig, &mut sig).ok()?;
        Some(SignedCheckpoint {
            checkpoint: Checkpoint {
                size: logged.size,
                head,
            },
            signer,
            signature: Signature::from_bytes(&sig),
        })
    }
}

/// Parses a file of checkpoint notes (each a [`SignedCheckpoint::to_note`], one blank line
/// between notes). Each note must carry a signature line whose key name is its origin and
/// whose key id is that key's; other signature lines (a witness's cosignature) are ignored.
/// Signatures are not checked here: call [`SignedCheckpoint::verify`].
///
/// # Errors
/// [`Error::Input`] with [`InputReason::Checkpoint`] naming the line of the first note that
/// is not a blindmatch checkpoint note.
pub fn parse_notes(text: &str) -> Result<Vec<SignedCheckpoint>> {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out = Vec::new();
    let mut i = 0;
    let bad = |line: usize, what: &str| {
        Error::Input(
            InputError::new(
                InputReason::Checkpoint,
                format!("line {}: {what}", line + 1),
            )
            .at_line(line as u64 + 1),
        )
    };
    while i < lines.len() {
        if lines[i].is_empty() {
            i += 1;
            continue;
        }
        let start = i;
        if lines.len() < i + 5 {
            return Err(bad(
                start,
                "a checkpoint note needs 3 text lines, a blank line and a signature line",
            ));
        }
        let key_hex = lines[i]
            .strip_prefix(&format!(
                "{}/",
                String::from_utf8_lossy(dst::AUDIT_CHECKPOINT)
            ))
            .ok_or_else(|| bad(i, "not a blindmatch audit checkpoint origin"))?;
        let mut key = [0u8; 32];
        hex::decode_to_slice(key_hex, &mut key)
            .map_err(|_| bad(i, "the origin's key is not 64 hex characters"))?;
        let signer = VerifyingKey::from_bytes(&key)
            .map_err(|_| bad(i, "the origin's key is not an Ed25519 public key"))?;
        // Decimal without sign or leading zeros (tlog-checkpoint), so each size has one text.
        let size_text = lines[i + 1];
        let canonical = size_text == "0"
            || (!size_text.is_empty()
                && !size_text.starts_with('0')
                && size_text.bytes().all(|b| b.is_ascii_digit()));
        let size: u64 = size_text
            .parse()
            .ok()
            .filter(|_| canonical)
            .ok_or_else(|| bad(i + 1, "the size is not a decimal number"))?;
        let head_bytes = Base64::decode_vec(lines[i + 2])
            .ok()
            .filter(|b| b.len() == 32)
            .ok_or_else(|| bad(i + 2, "the head is not the base64 of 32 bytes"))?;
        if !lines[i + 3].is_empty() {
            return Err(bad(i + 3, "expected the blank line before the signatures"));
        }
        let mut head = [0u8; 32];
        head.copy_from_slice(&head_bytes);
        let name = origin(&signer);
        let id = key_id(&signer);
        let mut signature = None;
        i += 4;
        while i < lines.len() && !lines[i].is_empty() {
            let rest = lines[i]
                .strip_prefix("\u{2014} ")
                .ok_or_else(|| bad(i, "a signature line starts with an em dash and a space"))?;
            let (line_name, b64) = rest
                .split_once(' ')
                .ok_or_else(|| bad(i, "a signature line is `— NAME BASE64`"))?;
            let raw = Base64::decode_vec(b64).map_err(|_| bad(i, "the signature is not base64"))?;
            if line_name == name && raw.len() == 68 && raw[..4] == id {
                let mut s = [0u8; 64];
                s.copy_from_slice(&raw[4..]);
                signature = Some(Signature::from_bytes(&s));
            }
            i += 1;
        }
        let signature = signature.ok_or_else(|| bad(start, "no signature by the log's own key"))?;
        out.push(SignedCheckpoint {
            checkpoint: Checkpoint { size, head },
            signer,
            signature,
        });
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_note_round_trips_and_verifies() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let c = Checkpoint {
            size: 12,
            head: [9; 32],
        }
        .sign(&key);
        c.verify().unwrap();
        let note = c.to_note();
        let two = format!("{note}\n{note}");
        let parsed = parse_notes(&two).unwrap();
        assert_eq!(parsed, vec![c.clone(), c.clone()]);
        let mut forged = c.clone();
        forged.checkpoint.size = 13;
        assert!(matches!(
            forged.verify(),
            Err(Error::Audit(e)) if e.problem == AuditProblem::CheckpointSignature { size: 13 }
        ));
    }

    #[test]
    fn the_key_id_follows_the_signed_note_rule() {
        let key = SigningKey::from_bytes(&[7; 32]).verifying_key();
        let mut h = Sha256::new();
        h.update(format!(
            "blindmatch-v1-audit-checkpoint/{}\n",
            hex::encode(key.as_bytes())
        ));
        h.update([1u8]);
        h.update(key.as_bytes());
        assert_eq!(key_id(&key), h.finalize()[..4]);
    }

    #[test]
    fn a_malformed_note_names_its_line() {
        let key = SigningKey::from_bytes(&[7; 32]);
        let note = Checkpoint {
            size: 3,
            head: [1; 32],
        }
        .sign(&key)
        .to_note();
        for (from, to, line) in [
            ("\n3\n", "\n03\n", 2),
            ("\n3\n", "\nx\n", 2),
            ("blindmatch-v1-audit-checkpoint/", "other/", 1),
        ] {
            let text = note.replacen(from, to, 1);
            match parse_notes(&text) {
                Err(Error::Input(e)) => {
                    assert_eq!(e.reason, InputReason::Checkpoint);
                    assert_eq!(e.line, Some(line), "{e}");
                }
                other => panic!("{other:?}"),
            }
        }
    }
}
