//! What a finished session gives its caller ([`SessionOutcome`]), and what it tells the audit
//! log each side learned ([`learned`]).

use std::time::Duration;

use crate::audit::{Learned, SessionReceipt};
use crate::protocol::{Mode, Role};

use super::agreement::Terms;
use super::body::BodyOutput;
use super::effect::OutputRecord;
use super::peer::PeerIdentity;

/// A completed session.
#[derive(Debug, Clone)]
pub struct SessionOutcome {
    /// The session id.
    pub session_id: [u8; 32],
    /// The transcript hash.
    pub transcript: [u8; 32],
    /// What both sides agreed to.
    pub terms: Terms,
    /// Who the peer was.
    pub peer: PeerIdentity,
    /// Our true number of distinct items.
    pub own_unique: u64,
    /// What we learned.
    pub output: BodyOutput,
    /// The peer's checked receipt.
    pub peer_receipt: SessionReceipt,
    /// Where our output was written, if anywhere.
    pub output_record: Option<OutputRecord>,
}

/// Byte counts of a session on the wire (frames, headers included; TLS overhead excluded).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Traffic {
    /// Bytes of frames written.
    pub bytes_sent: u64,
    /// Bytes of frames read.
    pub bytes_received: u64,
}

/// A completed session with what the driver measured.
#[derive(Debug, Clone)]
pub struct SessionReport {
    /// The session.
    pub outcome: SessionOutcome,
    /// Bytes each way.
    pub traffic: Traffic,
    /// Wall time from the connection to the end.
    pub elapsed: Duration,
}

/// What we and the peer learned, as the audit log records it (counts only): the peer learns
/// the same intersection in mutual mode; the initiator's peer learns nothing beyond the set
/// size; what a responder's peer learned is `undisclosed` (we are not told how much).
pub fn learned(output: &BodyOutput) -> (Learned, Learned) {
    match output {
        BodyOutput::Dh(o) => {
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
