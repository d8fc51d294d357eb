//! What a finished session gives its caller ([`SessionOutcome`]), and what it tells the audit
//! log each side learned ([`learned`]).
//!
//! Only the library makes a [`SessionOutcome`] or a [`SessionReport`], at the end of a session
//! that completed; their fields are crate-private, so a caller reads them through accessors
//! and cannot present a made-up result as a completed session:
//!
//! ```compile_fail
//! fn forge(report: blindmatch::session::SessionReport) -> blindmatch::session::SessionReport {
//!     blindmatch::session::SessionReport { elapsed: std::time::Duration::ZERO, ..report }
//! }
//! ```
//!
//! ```compile_fail
//! fn mutate(outcome: &mut blindmatch::session::SessionOutcome) {
//!     outcome.own_unique = 0;
//! }
//! ```
//!
//! ```
//! fn read(report: &blindmatch::session::SessionReport) -> (u64, usize) {
//!     (report.outcome().own_unique(), report.outcome().session_id().len())
//! }
//! ```

use std::time::Duration;

use crate::audit::{Learned, SessionReceipt};
use crate::protocol::{Mode, Role};

use super::agreement::Terms;
use super::body::BodyOutput;
use super::effect::OutputRecord;
use super::peer::PeerIdentity;

/// A completed session: both sides admitted it, ran the protocol to `Done` and exchanged
/// checked receipts, and the audit log holds its `session_ended`. Only the library makes one;
/// a caller reads it.
#[derive(Debug, Clone)]
pub struct SessionOutcome {
    /// The session id.
    pub(crate) session_id: [u8; 32],
    /// The transcript hash.
    pub(crate) transcript: [u8; 32],
    /// What both sides agreed to.
    pub(crate) terms: Terms,
    /// Who the peer was.
    pub(crate) peer: PeerIdentity,
    /// Our true number of distinct items.
    pub(crate) own_unique: u64,
    /// What we learned.
    pub(crate) output: BodyOutput,
    /// The peer's checked receipt.
    pub(crate) peer_receipt: SessionReceipt,
    /// Where our output was written, if anywhere.
    pub(crate) output_record: Option<OutputRecord>,
}

/// Byte counts of a session on the wire (frames, headers included; TLS overhead excluded).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Traffic {
    /// Bytes of frames written.
    pub bytes_sent: u64,
    /// Bytes of frames read.
    pub bytes_received: u64,
}

/// A completed session with what the driver measured. Only the library makes one.
#[derive(Debug, Clone)]
pub struct SessionReport {
    /// The session.
    pub(crate) outcome: SessionOutcome,
    /// Bytes each way.
    pub(crate) traffic: Traffic,
    /// Wall time from the connection to the end.
    pub(crate) elapsed: Duration,
}

impl SessionOutcome {
    /// The session id (`protocol-spec/04-transport-and-handshake.md` 4.3).
    pub fn session_id(&self) -> [u8; 32] {
        self.session_id
    }

    /// The transcript hash both sides signed in their receipts.
    pub fn transcript(&self) -> [u8; 32] {
        self.transcript
    }

    /// What both sides agreed to.
    pub fn terms(&self) -> &Terms {
        &self.terms
    }

    /// Who the peer was (authenticated by TLS).
    pub fn peer(&self) -> &PeerIdentity {
        &self.peer
    }

    /// Our true number of distinct items.
    pub fn own_unique(&self) -> u64 {
        self.own_unique
    }

    /// What we learned.
    pub fn output(&self) -> &BodyOutput {
        &self.output
    }

    /// What we learned, by value.
    pub fn into_output(self) -> BodyOutput {
        self.output
    }

    /// The peer's receipt, checked against its certificate's key and our transcript.
    pub fn peer_receipt(&self) -> &SessionReceipt {
        &self.peer_receipt
    }

    /// Where the output sink wrote our output (and its commitment), if it wrote one.
    pub fn output_record(&self) -> Option<&OutputRecord> {
        self.output_record.as_ref()
    }
}

impl SessionReport {
    /// The session.
    pub fn outcome(&self) -> &SessionOutcome {
        &self.outcome
    }

    /// The session, by value.
    pub fn into_outcome(self) -> SessionOutcome {
        self.outcome
    }

    /// Bytes each way.
    pub fn traffic(&self) -> Traffic {
        self.traffic
    }

    /// Wall time from the connection to the end.
    pub fn elapsed(&self) -> Duration {
        self.elapsed
    }
}

/// What we and the peer learned, as the audit log records it (counts only): the peer learns
/// the same intersection in mutual mode; the initiator's peer learns nothing beyond the set
/// size; what a responder's peer learned is `undisclosed` (we are not told how much).
pub fn learned(output: &BodyOutput) -> (Learned, Learned) {
    match output {
        BodyOutput::Dh(o) | BodyOutput::Vole(o) => {
            let own = Learned::from_dh(&o.learned);
            let peer = match (o.mode, o.role) {
                (Mode::Mutual, _) => own,
                (_, Role::Initiator) => Learned::Nothing,
                (_, Role::Responder) => Learned::Undisclosed,
            };
            (own, peer)
        }
        BodyOutput::Receiver(o) => (Learned::Matches(o.matches.len() as u64), Learned::Nothing),
        BodyOutput::Sender(_) => (Learned::Nothing, Learned::Undisclosed),
    }
}
