//! What both parties of an OPRF-PSI session agree on before the first message
//! (`protocol-spec/07-oprf-psi.md` section 3), and the tag length rule derived from it.

use crate::error::{ConfigReason, Error, Result};
use crate::oprf::Suite;

/// Default number of entries per message.
pub const DEFAULT_CHUNK_SIZE: usize = 4096;

/// Largest number of entries one message may carry.
pub const MAX_CHUNK_SIZE: usize = 65_536;

/// Largest set a party may send: the engine's limit, [`crate::protocol::MAX_SET_SIZE`].
pub const MAX_SET_SIZE: usize = crate::protocol::MAX_SET_SIZE;

/// Largest labeled-mode payload, in bytes (its length is sent in two bytes).
pub const MAX_PAYLOAD_LEN: usize = 4096;

/// The false-match bound of a whole session: at most `2^-STATISTICAL_SECURITY`.
pub const STATISTICAL_SECURITY: u32 = 40;

/// The parameters of one OPRF-PSI session, identical on both sides (the handshake agrees
/// them).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[non_exhaustive]
pub struct OprfPsiParams {
    /// The OPRF suite.
    pub suite: Suite,
    /// 32 bytes unique to the session (binds labeled-mode ciphertexts to it).
    pub session_id: [u8; 32],
    /// Elements the receiver sends: its distinct items, or a padding bound.
    pub receiver_count: usize,
    /// Tags the sender sends: its distinct items, or a padding bound.
    pub sender_count: usize,
    /// Entries per message; every message of a set carries `min(chunk_size, remaining)`
    /// entries, and an empty set is sent as one empty message.
    pub chunk_size: usize,
    /// Labeled mode: every payload is padded to this many bytes. `None`: no labels.
    pub payload_len: Option<usize>,
}

impl OprfPsiParams {
    /// Parameters with the default chunk size and no labels.
    pub fn new(
        suite: Suite,
        session_id: [u8; 32],
        receiver_count: usize,
        sender_count: usize,
    ) -> Self {
        OprfPsiParams {
            suite,
            session_id,
            receiver_count,
            sender_count,
            chunk_size: DEFAULT_CHUNK_SIZE,
            payload_len: None,
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
            ("receiver", self.receiver_count),
            ("sender", self.sender_count),
        ] {
            if n > MAX_SET_SIZE {
                return Err(Error::config(
                    ConfigReason::Parameter,
                    format!("the {who} set of {n} entries exceeds the maximum of {MAX_SET_SIZE}"),
                ));
            }
        }
        if let Some(len) = self.payload_len {
            if len > MAX_PAYLOAD_LEN {
                return Err(Error::config(
                    ConfigReason::Parameter,
                    format!("payload length {len} exceeds the maximum of {MAX_PAYLOAD_LEN} bytes"),
                ));
            }
        }
        Ok(())
    }

    /// Tag length in bits: `40 + ceil(log2 n_r) + ceil(log2 n_s)` with `n = max(count, 1)`.
    ///
    /// Each of the `n_r * n_s` pairs of a receiver's and a sender's distinct items gives
    /// equal `b`-bit tags with probability `2^-b` (tags are random-oracle outputs), so by the
    /// union bound the probability of any false match in the session is at most
    /// `n_r * n_s * 2^-b <= 2^-40`.
    pub fn tag_bits(&self) -> u32 {
        STATISTICAL_SECURITY
            + ceil_log2(self.receiver_count.max(1))
            + ceil_log2(self.sender_count.max(1))
    }

    /// The Rice parameter of the tag encoding: `tag_bits - bit_length(n_s)`, at least 0.
    pub fn rice_bits(&self) -> u32 {
        let bit_length = usize::BITS - self.sender_count.max(1).leading_zeros();
        self.tag_bits().saturating_sub(bit_length)
    }

    /// Bytes of one labeled-mode ciphertext: 2-byte length, padded payload, 16-byte tag.
    pub fn ciphertext_len(&self) -> usize {
        self.payload_len.map_or(0, |len| 2 + len + 16)
    }

    /// The number of entries of each message that carries a set of `total` entries.
    pub fn chunk_lengths(&self, total: usize) -> impl Iterator<Item = usize> + '_ {
        let count = total.div_ceil(self.chunk_size).max(1);
        (0..count).map(move |i| (total - i * self.chunk_size).min(self.chunk_size))
    }

    /// The number of messages that carry a set of `total` entries.
    pub fn chunk_count(&self, total: usize) -> usize {
        total.div_ceil(self.chunk_size).max(1)
    }

    /// Entries of message `i` of a set of `total`.
    pub(crate) fn chunk_len(&self, total: usize, i: usize) -> usize {
        total
            .saturating_sub(i * self.chunk_size)
            .min(self.chunk_size)
    }
}

/// `ceil(log2 n)` for `n >= 1`.
fn ceil_log2(n: usize) -> u32 {
    usize::BITS - (n - 1).leading_zeros()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_length_rule() {
        let mut p = OprfPsiParams::new(Suite::default(), [0; 32], 1, 1);
        assert_eq!(p.tag_bits(), 40);
        p.receiver_count = 1 << 10;
        p.sender_count = 1 << 20;
        assert_eq!(p.tag_bits(), 70);
        p.sender_count = (1 << 20) + 1;
        assert_eq!(p.tag_bits(), 71);
        p.receiver_count = MAX_SET_SIZE;
        p.sender_count = MAX_SET_SIZE;
        assert_eq!(p.tag_bits(), 40 + 27 + 27);
        assert!(p.rice_bits() < p.tag_bits());
    }

    #[test]
    fn chunks_cover_the_set() {
        let mut p = OprfPsiParams::new(Suite::default(), [0; 32], 0, 0);
        p.chunk_size = 3;
        assert_eq!(p.chunk_lengths(0).collect::<Vec<_>>(), vec![0]);
        assert_eq!(p.chunk_lengths(7).collect::<Vec<_>>(), vec![3, 3, 1]);
        assert_eq!(p.chunk_count(7), 3);
        assert_eq!(p.chunk_len(7, 2), 1);
    }
}
