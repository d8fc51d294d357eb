//! Session receipts: at the end of a session each agency signs what happened (session id,
//! transcript hash, the agreed mode, protocol, suite and policy, both parties' certificate
//! fingerprints, the element counts both sides sent, the outcome) and sends it to the other,
//! which checks it and logs it ([`super::AuditLog::peer_receipt`]), so neither side can later
//! deny or rewrite the run alone, and a receipt alone says what was agreed and between whom.
//! A receipt never carries a match count: the peer may not be entitled to it (in
//! `intersection` mode only the initiator learns anything).
//!
//! Wire format (`protocol-spec/06-policy-and-audit.md` section 5), version 3, 391 bytes,
//! integers big-endian:
//! ```text
//! version u16 = 3 || session_id[32] || transcript_hash[32] || signer_public_key[32]
//! || role u8 (0 initiator, 1 responder) || protocol u8 (1 DH-PSI, 2 OPRF-PSI)
//! || mode u8 (hello codes) || suite u8 (OPRF suite code; 0 for DH-PSI)
//! || policy_digest[32] || initiator_fingerprint[32] || responder_fingerprint[32]
//! || initiator_count u64 || responder_count u64
//! || outcome u8 (0 completed, 1 aborted) || time i64 (Unix seconds)
//! || log_size u64 || log_head[32] || checkpoint_signature[64] || signature[64]
//! ```
//! `log_size` and `log_head` are the signer's audit log checkpoint
//! ([`super::checkpoint`]), `checkpoint_signature` its C2SP signed-note signature. The
//! signature is Ed25519 (verified with `verify_strict`) over
//! `len(SESSION_RECEIPT) u8 || SESSION_RECEIPT || the first 327 bytes`. Version 2 (287 bytes,
//! the same without the three checkpoint fields) is still decoded, so receipts in older logs
//! verify.

use ed25519_dalek::ed25519::signature::Signer;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};

use super::checkpoint::{Checkpoint, SignedCheckpoint};
use crate::dst;
use crate::error::{Error, PeerMisbehaved, ReceiptProblem, Result};
use crate::identity::Fingerprint;
use crate::oprf::Suite;
use crate::protocol::Role;
use crate::session::{Protocol, SessionMode};

/// The receipt format version.
pub const RECEIPT_VERSION: u16 = 3;

/// Length of an encoded receipt (version 3).
pub const RECEIPT_LEN: usize = 391;

/// Length of a version 2 receipt (no checkpoint), as older logs hold them.
pub const RECEIPT_V2_LEN: usize = 287;

/// What both sides agreed and who they are, as a receipt states it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReceiptTerms {
    /// The protocol that ran.
    pub protocol: Protocol,
    /// The session mode.
    pub mode: SessionMode,
    /// The OPRF suite (`None` for DH-PSI, which has one suite per version).
    pub suite: Option<Suite>,
    /// The agreed policy's digest.
    pub policy_digest: [u8; 32],
    /// The initiator's certificate fingerprint.
    pub initiator: Fingerprint,
    /// The responder's certificate fingerprint.
    pub responder: Fingerprint,
}

/// How the signer's side of the session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
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
    /// The agreed terms and the two parties.
    pub terms: ReceiptTerms,
    /// Elements the initiator sent (padded count).
    pub initiator_count: u64,
    /// Elements the responder sent (padded count).
    pub responder_count: u64,
    /// How the signer's side ended.
    pub outcome: ReceiptOutcome,
    /// When the receipt was signed, Unix seconds.
    pub time: i64,
    /// The signer's audit log checkpoint, signed (`None` in a version 2 receipt).
    pub checkpoint: Option<SignedCheckpoint>,
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
    /// The agreed terms and the two parties.
    pub terms: ReceiptTerms,
    /// Elements the initiator sent.
    pub initiator_count: u64,
    /// Elements the responder sent.
    pub responder_count: u64,
    /// How our side ended.
    pub outcome: ReceiptOutcome,
    /// Unix seconds.
    pub time: i64,
    /// Our audit log's checkpoint when the receipt is signed (the agency fills it in, as it
    /// does the time).
    pub checkpoint: Checkpoint,
}

/// The signed bytes: version 3 with the checkpoint, version 2 without (an old receipt).
fn body_bytes(
    b: &ReceiptBody,
    signer: &VerifyingKey,
    checkpoint: Option<&SignedCheckpoint>,
) -> Vec<u8> {
    let version: u16 = if checkpoint.is_some() {
        RECEIPT_VERSION
    } else {
        2
    };
    let mut out = Vec::with_capacity(RECEIPT_LEN - 64);
    out.extend_from_slice(&version.to_be_bytes());
    out.extend_from_slice(&b.session_id);
    out.extend_from_slice(&b.transcript_hash);
    out.extend_from_slice(signer.as_bytes());
    out.push(role_code(b.role));
    out.push(protocol_code(b.terms.protocol));
    out.push(b.terms.mode.code());
    out.push(b.terms.suite.map_or(0, Suite::code));
    out.extend_from_slice(&b.terms.policy_digest);
    out.extend_from_slice(&b.terms.initiator.0);
    out.extend_from_slice(&b.terms.responder.0);
    out.extend_from_slice(&b.initiator_count.to_be_bytes());
    out.extend_from_slice(&b.responder_count.to_be_bytes());
    out.push(match b.outcome {
        ReceiptOutcome::Completed => 0,
        ReceiptOutcome::Aborted => 1,
    });
    out.extend_from_slice(&b.time.to_be_bytes());
    if let Some(c) = checkpoint {
        out.extend_from_slice(&c.checkpoint.size.to_be_bytes());
        out.extend_from_slice(&c.checkpoint.head);
        out.extend_from_slice(&c.signature.to_bytes());
    }
    out
}

fn role_code(role: Role) -> u8 {
    match role {
        Role::Initiator => 0,
        Role::Responder => 1,
    }
}

/// The protocol's code in a receipt: its `ProtocolChoice` code of the hello.
fn protocol_code(p: Protocol) -> u8 {
    match p {
        Protocol::Dh => 1,
        Protocol::Oprf => 2,
        Protocol::Vole => 3,
    }
}

/// Reads fixed-size fields in order.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let (head, rest) = self.0.split_at(N);
        self.0 = rest;
        let mut a = [0u8; N];
        a.copy_from_slice(head);
        a
    }

    fn byte(&mut self) -> u8 {
        self.take::<1>()[0]
    }
}

fn signed_message(body: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(1 + dst::SESSION_RECEIPT.len() + body.len());
    m.push(dst::SESSION_RECEIPT.len() as u8);
    m.extend_from_slice(dst::SESSION_RECEIPT);
    m.extend_from_slice(body);
    m
}

impl SessionReceipt {
    /// Signs a receipt (version 3) and the checkpoint it carries with our identity key.
    pub fn sign(body: &ReceiptBody, key: &SigningKey) -> SessionReceipt {
        let signer = key.verifying_key();
        let checkpoint = body.checkpoint.sign(key);
        let signature = key.sign(&signed_message(&body_bytes(
            body,
            &signer,
            Some(&checkpoint),
        )));
        SessionReceipt {
            session_id: body.session_id,
            transcript_hash: body.transcript_hash,
            signer,
            role: body.role,
            terms: body.terms,
            initiator_count: body.initiator_count,
            responder_count: body.responder_count,
            outcome: body.outcome,
            time: body.time,
            checkpoint: Some(checkpoint),
            signature,
        }
    }

    fn body(&self) -> ReceiptBody {
        ReceiptBody {
            session_id: self.session_id,
            transcript_hash: self.transcript_hash,
            role: self.role,
            terms: self.terms,
            initiator_count: self.initiator_count,
            responder_count: self.responder_count,
            outcome: self.outcome,
            time: self.time,
            checkpoint: self.checkpoint.as_ref().map_or(
                Checkpoint {
                    size: 0,
                    head: [0; 32],
                },
                |c| c.checkpoint,
            ),
        }
    }

    /// The wire encoding: [`RECEIPT_LEN`] bytes, or [`RECEIPT_V2_LEN`] for a version 2
    /// receipt.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = body_bytes(&self.body(), &self.signer, self.checkpoint.as_ref());
        out.extend_from_slice(&self.signature.to_bytes());
        out
    }

    /// Decodes a receipt (does not check the signature: call [`SessionReceipt::verify`]).
    ///
    /// # Errors
    /// [`Error::PeerMisbehaved`] with [`PeerMisbehaved::BadReceipt`] of
    /// [`ReceiptProblem::Malformed`] if the bytes are not a well-formed receipt (wrong length,
    /// unknown version, invalid signer key, role or outcome). Version 2 receipts (287 bytes,
    /// no checkpoint) decode with [`SessionReceipt::checkpoint`] `None`.
    pub fn decode(bytes: &[u8]) -> Result<SessionReceipt> {
        let bad = || Error::from(PeerMisbehaved::BadReceipt(ReceiptProblem::Malformed));
        let mut r = Reader(bytes);
        let version = match bytes.len() {
            RECEIPT_LEN | RECEIPT_V2_LEN => u16::from_be_bytes(r.take()),
            _ => return Err(bad()),
        };
        match (version, bytes.len()) {
            (RECEIPT_VERSION, RECEIPT_LEN) | (2, RECEIPT_V2_LEN) => {}
            _ => return Err(bad()),
        }
        let session_id = r.take::<32>();
        let transcript_hash = r.take::<32>();
        let signer = VerifyingKey::from_bytes(&r.take::<32>()).map_err(|_| bad())?;
        let role = match r.byte() {
            0 => Role::Initiator,
            1 => Role::Responder,
            _ => return Err(bad()),
        };
        let protocol = match r.byte() {
            1 => Protocol::Dh,
            2 => Protocol::Oprf,
            3 => Protocol::Vole,
            _ => return Err(bad()),
        };
        let mode = SessionMode::from_code(r.byte()).ok_or_else(bad)?;
        let suite = match (protocol, r.byte()) {
            (Protocol::Dh | Protocol::Vole, 0) => None,
            (Protocol::Oprf, code) => Some(Suite::from_code(code).ok_or_else(bad)?),
            _ => return Err(bad()),
        };
        let terms = ReceiptTerms {
            protocol,
            mode,
            suite,
            policy_digest: r.take(),
            initiator: Fingerprint(r.take()),
            responder: Fingerprint(r.take()),
        };
        let initiator_count = u64::from_be_bytes(r.take());
        let responder_count = u64::from_be_bytes(r.take());
        let outcome = match r.byte() {
            0 => ReceiptOutcome::Completed,
            1 => ReceiptOutcome::Aborted,
            _ => return Err(bad()),
        };
        let time = i64::from_be_bytes(r.take());
        let checkpoint = (version == RECEIPT_VERSION).then(|| {
            let size = u64::from_be_bytes(r.take());
            let head = r.take::<32>();
            SignedCheckpoint {
                checkpoint: Checkpoint { size, head },
                signer,
                signature: Signature::from_bytes(&r.take::<64>()),
            }
        });
        let signature = Signature::from_bytes(&r.take::<64>());
        Ok(SessionReceipt {
            session_id,
            transcript_hash,
            signer,
            role,
            terms,
            initiator_count,
            responder_count,
            outcome,
            time,
            checkpoint,
            signature,
        })
    }

    /// Checks that the receipt was signed by `expected` (the peer's identity key, from its
    /// pinned certificate) and that the signature is valid (`verify_strict`), and so is the
    /// checkpoint's, if it carries one.
    ///
    /// # Errors
    /// [`Error::PeerMisbehaved`] with [`PeerMisbehaved::BadReceipt`] of
    /// [`ReceiptProblem::WrongSigner`] if the signer is not `expected`, of
    /// [`ReceiptProblem::BadSignature`] if the receipt's or the checkpoint's signature is
    /// invalid.
    pub fn verify(&self, expected: &VerifyingKey) -> Result<()> {
        if self.signer != *expected {
            return Err(PeerMisbehaved::BadReceipt(ReceiptProblem::WrongSigner).into());
        }
        let bad_signature = || PeerMisbehaved::BadReceipt(ReceiptProblem::BadSignature).into();
        let msg = signed_message(&body_bytes(
            &self.body(),
            &self.signer,
            self.checkpoint.as_ref(),
        ));
        self.signer
            .verify_strict(&msg, &self.signature)
            .map_err(|_| bad_signature())?;
        match &self.checkpoint {
            Some(c) if c.signer != self.signer || c.verify().is_err() => Err(bad_signature()),
            _ => Ok(()),
        }
    }
}
