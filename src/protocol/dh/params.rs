//! What both parties agree on before the first element is sent.

use crate::error::{ConfigReason, Error, Result};
use crate::protocol::Mode;

/// Default number of elements per message (128 KiB of elements).
pub const DEFAULT_CHUNK_SIZE: usize = 4096;

/// Largest number of elements one message may carry (2 MiB of elements).
pub const MAX_CHUNK_SIZE: usize = 65_536;

/// Largest set a party may send: the engine's limit, [`crate::protocol::MAX_SET_SIZE`].
pub const MAX_SET_SIZE: usize = crate::protocol::MAX_SET_SIZE;

/// The parameters of one DH-PSI session, identical on both sides (the handshake agrees them).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DhParams {
    /// What the parties learn.
    pub mode: Mode,
    /// 32 bytes unique to the session; prefixed to every item before hashing
    /// (`protocol-spec/03-dh-psi.md`, "Hashing items").
    pub session_id: [u8; 32],
    /// How many elements the initiator sends: its distinct items, or a padding bound.
    pub initiator_count: usize,
    /// How many elements the responder sends.
    pub responder_count: usize,
    /// Elements per message: every message carries exactly `min(chunk_size, remaining)`
    /// elements, and an empty set is sent as one empty message.
    pub chunk_size: usize,
}

impl DhParams {
    /// Parameters with the default chunk size.
    pub fn new(
        mode: Mode,
        session_id: [u8; 32],
        initiator_count: usize,
        responder_count: usize,
    ) -> Self {
        DhParams {
            mode,
            session_id,
            initiator_count,
            responder_count,
            chunk_size: DEFAULT_CHUNK_SIZE,
        }
    }

    /// Checks the parameters are within the protocol's limits.
    ///
    /// # Errors
    /// [`Error::Config`] naming the parameter out of range.
    pub fn validate(&self) -> Result<()> {
        if self.chunk_size == 0 || self.chunk_size > MAX_CHUNK_SIZE {
            return Err(Error::config(
                ConfigReason::Parameter,
                format!(
                    "chunk size {} is outside 1..={MAX_CHUNK_SIZE}",
                    self.chunk_size
                ),
            ));
        }
        for (who, n) in [
            ("initiator", self.initiator_count),
            ("responder", self.responder_count),
        ] {
            if n > MAX_SET_SIZE {
                return Err(Error::config(
                    ConfigReason::Parameter,
                    format!("the {who} set of {n} elements exceeds the maximum of {MAX_SET_SIZE}"),
                ));
            }
        }
        Ok(())
    }

    /// The exact number of elements of each message that carries a set of `total` elements.
    pub fn chunk_lengths(&self, total: usize) -> impl Iterator<Item = usize> + '_ {
        let count = total.div_ceil(self.chunk_size).max(1);
        (0..count).map(move |i| (total - i * self.chunk_size).min(self.chunk_size))
    }

    /// How many elements the next message of a set of `total` must carry once `done` have
    /// arrived.
    pub(crate) fn expected_chunk(&self, total: usize, done: usize) -> usize {
        (total - done).min(self.chunk_size)
    }
}
