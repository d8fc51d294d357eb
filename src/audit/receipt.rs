//! Session receipts: at the end of a session each agency signs what happened (session id,
//! transcript hash, the element counts both sides sent, the outcome) and sends it to the other,
//! which checks it and logs it ([`super::AuditLog::peer_receipt`]), so neither side can later
//! deny or rewrite the run alone. A receipt never carries a match count: the peer may not be
//! entitled to it (in `intersection` mode only the initiator learns anything).
//!
//! Wire format (`protocol-spec/06-policy-and-audit.md` section 5), 188 bytes:
//! `version u16 BE = 1 || session_id[32] || transcript_hash[32] || signer_public_key[32] ||
//! role u8 (0 initiator, 1 responder) || initiator_count u64 BE || responder_count u64 BE ||
//! outcome u8 (0 completed, 1 aborted) || time i64 BE (Unix seconds) || signature[64]`.
//! The signature is Ed25519 (verified with `verify_strict`) over
//! `len(SESSION_RECEIPT) u8 || SESSION_RECEIPT || the first 124 bytes`.

use ed25519_dalek::ed25519::signature::Signer;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};

use crate::dst;
use crate::error::{Error, PeerMisbehaved, ReceiptProblem, Result};
use crate::protocol::Role;

/// Length of an encoded receipt.
pub const RECEIPT_LEN: usize = 188;
const BODY_LEN: usize = RECEIPT_LEN - 64;

/// How the signer's side of the session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptOutcome {
    /// The session ran to the end.
    Completed,
    /// The session was aborted.
    Aborted,
}

/// A signed session receipt. Build with [`SessionReceipt::sign`]; check one from a peer with
/// [`SessionReceipt::decode`] then [`SessionReceipt::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionReceipt {
    /// The session id both sides derived in the handshake.
    pub session_id: [u8; 32],
    /// The handshake transcript hash.
    pub transcript_hash: [u8; 32],
    /// The signer's identity public key.
    pub signer: VerifyingKey,
    /// The signer's role.
    pub role: Role,
    /// Elements the initiator sent (padded count).
    pub initiator_count: u64,
    /// Elements the responder sent (padded count).
    pub responder_count: u64,
    /// How the signer's side ended.
    pub outcome: ReceiptOutcome,
    /// When the receipt was signed, Unix seconds.
    pub time: i64,
    /// Ed25519 signature over the body.
    pub signature: Signature,
}

/// The fields of a receipt before signing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiptBody {
    /// The session id.
    pub session_id: [u8; 32],
    /// The handshake transcript hash.
    pub transcript_hash: [u8; 32],
    /// Our role.
    pub role: Role,
    /// Elements the initiator sent.
    pub initiator_count: u64,
    /// Elements the responder sent.
    pub responder_count: u64,
    /// How our side ended.
    pub outcome: ReceiptOutcome,
    /// Unix seconds.
    pub time: i64,
}

fn body_bytes(b: &ReceiptBody, signer: &VerifyingKey) -> [u8; BODY_LEN] {
    let mut out = [0u8; BODY_LEN];
    out[0..2].copy_from_slice(&1u16.to_be_bytes());
    out[2..34].copy_from_slice(&b.session_id);
    out[34..66].copy_from_slice(&b.transcript_hash);
    out[66..98].copy_from_slice(signer.as_bytes());
    out[98] = match b.role {
        Role::Initiator => 0,
        Role::Responder => 1,
    };
    out[99..107].copy_from_slice(&b.initiator_count.to_be_bytes());
    out[107..115].copy_from_slice(&b.responder_count.to_be_bytes());
    out[115] = match b.outcome {
        ReceiptOutcome::Completed => 0,
        ReceiptOutcome::Aborted => 1,
    };
    out[116..124].copy_from_slice(&b.time.to_be_bytes());
    out
}

fn signed_message(body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(1 + dst::SESSION_RECEIPT.len() + body.len());
    m.push(dst::SESSION_RECEIPT.len() as u8);
    m.extend_from_slice(dst::SESSION_RECEIPT);
    m.extend_from_slice(body);
    m
}

impl SessionReceipt {
    /// Signs a receipt with our identity key.
    pub fn sign(body: &ReceiptBody, key: &SigningKey) -> SessionReceipt {
        let signer = key.verifying_key();
        let signature = key.sign(&signed_message(&body_bytes(body, &signer)));
        SessionReceipt {
            session_id: body.session_id,
            transcript_hash: body.transcript_hash,
            signer,
            role: body.role,
            initiator_count: body.initiator_count,
            responder_count: body.responder_count,
            outcome: body.outcome,
            time: body.time,
            signature,
        }
    }

    fn body(&self) -> ReceiptBody {
        ReceiptBody {
            session_id: self.session_id,
            transcript_hash: self.transcript_hash,
            role: self.role,
            initiator_count: self.initiator_count,
            responder_count: self.responder_count,
            outcome: self.outcome,
            time: self.time,
        }
    }

    /// The 188-byte wire encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = body_bytes(&self.body(), &self.signer).to_vec();
        out.extend_from_slice(&self.signature.to_bytes());
        out
    }

    /// Decodes a receipt (does not check the signature: call [`SessionReceipt::verify`]).
    ///
    /// # Errors
    /// [`Error::PeerMisbehaved`] with [`PeerMisbehaved::BadReceipt`] of
    /// [`ReceiptProblem::Malformed`] if the bytes are not a well-formed receipt (wrong length,
    /// unknown version, invalid signer key, role or outcome).
    pub fn decode(bytes: &[u8]) -> Result<SessionReceipt> {
        let bad = || Error::from(PeerMisbehaved::BadReceipt(ReceiptProblem::Malformed));
        if bytes.len() != RECEIPT_LEN {
            return Err(bad());
        }
        if bytes[0..2] != 1u16.to_be_bytes() {
            return Err(bad());
        }
        let arr32 = |r: std::ops::Range<usize>| -> [u8; 32] {
            let mut a = [0u8; 32];
            a.copy_from_slice(&bytes[r]);
            a
        };
        let arr8 = |r: std::ops::Range<usize>| -> [u8; 8] {
            let mut a = [0u8; 8];
            a.copy_from_slice(&bytes[r]);
            a
        };
        let signer = VerifyingKey::from_bytes(&arr32(66..98)).map_err(|_| bad())?;
        let role = match bytes[98] {
            0 => Role::Initiator,
            1 => Role::Responder,
            _ => return Err(bad()),
        };
        let outcome = match bytes[115] {
            0 => ReceiptOutcome::Completed,
            1 => ReceiptOutcome::Aborted,
            _ => return Err(bad()),
        };
        let mut sig = [0u8; 64];
        sig.copy_from_slice(&bytes[BODY_LEN..]);
        Ok(SessionReceipt {
            session_id: arr32(2..34),
            transcript_hash: arr32(34..66),
            signer,
            role,
            initiator_count: u64::from_be_bytes(arr8(99..107)),
            responder_count: u64::from_be_bytes(arr8(107..115)),
            outcome,
            time: i64::from_be_bytes(arr8(116..124)),
            signature: Signature::from_bytes(&sig),
        })
    }

    /// Checks that the receipt was signed by `expected` (the peer's identity key, from its
    /// pinned certificate) and that the signature is valid (`verify_strict`).
    ///
    /// # Errors
    /// [`Error::PeerMisbehaved`] with [`PeerMisbehaved::BadReceipt`] of
    /// [`ReceiptProblem::WrongSigner`] if the signer is not `expected`, of [`ReceiptProblem::BadSignature`] if the signature is
    /// invalid.
    pub fn verify(&self, expected: &VerifyingKey) -> Result<()> {
        if self.signer != *expected {
            return Err(PeerMisbehaved::BadReceipt(ReceiptProblem::WrongSigner).into());
        }
        let msg = signed_message(&body_bytes(&self.body(), &self.signer));
        self.signer
            .verify_strict(&msg, &self.signature)
            .map_err(|_| PeerMisbehaved::BadReceipt(ReceiptProblem::BadSignature).into())
    }
}
