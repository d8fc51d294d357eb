//! The three long messages of a VOLE-PSI session (`R3`, `S3`, `R4`) cut into chunks of at
//! most the agreed chunk size of entries, and put back together on arrival against the length
//! both sides know (`protocol-spec/08-vole-psi.md` section 8.8.2).

use crate::error::{PeerMisbehaved, Result};

use super::message::{Kind, VoleMessage};

/// The chunks of `bytes`, entries of `entry_len` bytes, at most `chunk_size` entries each;
/// every chunk but the last is full.
pub(crate) fn chunks(
    kind: Kind,
    bytes: &[u8],
    entry_len: usize,
    chunk_size: usize,
) -> impl Iterator<Item = VoleMessage> + '_ {
    bytes
        .chunks(entry_len * chunk_size)
        .map(move |chunk| VoleMessage {
            kind,
            count: (chunk.len() / entry_len) as u32,
            bytes: chunk.to_vec(),
        })
}

/// A long message arriving in chunks: `total` entries of `entry_len` bytes.
#[derive(Debug)]
pub(crate) struct Inbound {
    kind: Kind,
    what: &'static str,
    entry_len: usize,
    total: usize,
    chunk_size: usize,
    bytes: Vec<u8>,
}

impl Inbound {
    pub(crate) fn new(
        kind: Kind,
        what: &'static str,
        entry_len: usize,
        total: usize,
        chunk_size: usize,
    ) -> Self {
        Inbound {
            kind,
            what,
            entry_len,
            total,
            chunk_size,
            bytes: Vec::new(),
        }
    }

    fn received(&self) -> usize {
        self.bytes.len() / self.entry_len
    }

    /// Takes the next chunk, checked before it is stored: its kind, its count (a full chunk,
    /// or the remainder for the last) and its length. Returns true once every entry is in.
    ///
    /// # Errors
    /// [`PeerMisbehaved::UnexpectedMessage`] for another kind;
    /// [`PeerMisbehaved::TooMuchData`] for a chunk after the last;
    /// [`PeerMisbehaved::WrongCount`] for another count or a length that disagrees with it.
    pub(crate) fn accept(&mut self, message: VoleMessage) -> Result<bool> {
        if message.kind != self.kind {
            return Err(PeerMisbehaved::UnexpectedMessage {
                expected: self.kind.name(),
                got: message.kind.name(),
            }
            .into());
        }
        let left = self.total - self.received();
        if left == 0 {
            return Err(PeerMisbehaved::TooMuchData { what: self.what }.into());
        }
        let due = left.min(self.chunk_size);
        let count = message.count as usize;
        if count != due {
            return Err(PeerMisbehaved::WrongCount {
                what: self.what,
                got: count as u64,
                expected: due as u64,
            }
            .into());
        }
        if message.bytes.len() != due * self.entry_len {
            return Err(PeerMisbehaved::WrongCount {
                what: self.what,
                got: message.bytes.len() as u64,
                expected: (due * self.entry_len) as u64,
            }
            .into());
        }
        if self.bytes.is_empty() {
            self.bytes.reserve_exact(self.total * self.entry_len);
        }
        self.bytes.extend_from_slice(&message.bytes);
        Ok(self.received() == self.total)
    }

    /// The whole message, once complete.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

    #[test]
    fn chunks_reassemble_and_wrong_chunks_are_refused() {
        let bytes: Vec<u8> = (0..70u8).collect();
        let parts: Vec<VoleMessage> = chunks(Kind::Tags, &bytes, 7, 3).collect();
        assert_eq!(
            parts.iter().map(|m| m.count).collect::<Vec<_>>(),
            [3, 3, 3, 1]
        );
        let mut inbound = Inbound::new(Kind::Tags, "tags", 7, 10, 3);
        let done: Vec<bool> = parts
            .iter()
            .map(|m| inbound.accept(m.clone()).expect("accepted"))
            .collect();
        assert_eq!(done, [false, false, false, true]);
        assert!(matches!(
            inbound.accept(parts[3].clone()),
            Err(Error::PeerMisbehaved(PeerMisbehaved::TooMuchData { .. }))
        ));
        assert_eq!(inbound.into_bytes(), bytes);

        let fresh = || Inbound::new(Kind::Tags, "tags", 7, 10, 3);
        // The last chunk first: a count other than a full chunk.
        assert!(matches!(
            fresh().accept(parts[3].clone()),
            Err(Error::PeerMisbehaved(PeerMisbehaved::WrongCount { .. }))
        ));
        // A count that disagrees with the bytes.
        let mut short = parts[0].clone();
        short.bytes.pop();
        assert!(matches!(
            fresh().accept(short),
            Err(Error::PeerMisbehaved(PeerMisbehaved::WrongCount { .. }))
        ));
        let mut other = parts[0].clone();
        other.kind = Kind::Mask;
        assert!(matches!(
            fresh().accept(other),
            Err(Error::PeerMisbehaved(
                PeerMisbehaved::UnexpectedMessage { .. }
            ))
        ));
    }
}
