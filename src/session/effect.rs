//! What the envelope asks its driver to do besides sending frames ([`Effect`]), and the
//! results it takes back ([`Completion`]).
//!
//! Each effect is I/O or touches a secret the envelope does not hold: asking the agency's
//! policy and budget to admit the session, appending to the signed audit log, signing a
//! receipt with the identity key, writing the output, recording a checkpoint. The envelope
//! decides when each happens
//! and in what order; the performer only carries it out.

use std::sync::Arc;

use crate::audit::{Event, ReceiptBody, SessionReceipt};
use crate::error::Result;

use super::agreement::Terms;
use super::body::BodyOutput;
use super::peer::PeerIdentity;
use super::resume::CheckpointEntry;

/// What the admission check needs: the agreed terms and who the peer is.
#[derive(Debug, Clone)]
pub struct AdmissionRequest {
    /// The agreed terms (mode, protocol, both announced sizes, key kinds).
    pub terms: Terms,
    /// Our true number of distinct items (stays local).
    pub own_unique: u64,
    /// Who the peer is (its certificate's fingerprint and agency name).
    pub peer: PeerIdentity,
}

/// The output file (or other sink) a session wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OutputRecord {
    /// Where it was written, as logged.
    pub location: String,
    /// SHA3-256 of the bytes written, hex (never logged: see `commitment`).
    pub sha3_256: String,
    /// The keyed commitment to those bytes, which the log records; filled in by the agency
    /// ([`crate::audit::CommitmentKey`]), `None` from a sink.
    pub commitment: Option<String>,
}

/// An effect the envelope asks for.
#[derive(Debug)]
#[non_exhaustive]
pub enum Effect {
    /// Check the session against the policy and the per-peer budget, and count it if
    /// admitted. Completed by [`Completion::Admission`].
    Admit(AdmissionRequest),
    /// Append this event to the audit log. Completed by [`Completion::Logged`].
    Log(Event),
    /// Sign our receipt with the identity key. Completed by [`Completion::Signed`].
    SignReceipt(ReceiptBody),
    /// Write what we learned (after both receipts). Completed by [`Completion::Written`].
    WriteOutput {
        /// What the body gave us.
        output: Arc<BodyOutput>,
        /// The session id (for per-session file names).
        session_id: [u8; 32],
    },
    /// Record this in the session's checkpoint, durably, before going on (a session run with
    /// one, [`crate::session::SessionConfig::checkpoint`]). Completed by
    /// [`Completion::Checkpointed`].
    Checkpoint(CheckpointEntry),
}

/// The result of an [`Effect`].
// Moved once per chunk or effect, never stored in bulk: boxing would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
#[non_exhaustive]
pub enum Completion {
    /// The admission verdict: `Err(Error::PolicyRefused)` refuses the session by rule.
    Admission(Result<()>),
    /// The entry was appended.
    Logged(Result<()>),
    /// Our signed receipt.
    Signed(SessionReceipt),
    /// The output was written (`None`: nothing to write).
    Written(Result<Option<OutputRecord>>),
    /// The checkpoint recorded the entry.
    Checkpointed(Result<()>),
}
