//! Counting the elements of a set as its messages arrive, against the agreed size.

use crate::error::{PeerMisbehaved, Result};
use crate::protocol::dh::params::DhParams;

/// Tracks one set in transit: how many messages and elements have arrived of the `total`
/// agreed in the handshake.
#[derive(Debug, Clone)]
pub(crate) struct Tally {
    what: &'static str,
    total: usize,
    chunk_size: usize,
    elements: usize,
    messages: usize,
    expected_messages: usize,
}

impl Tally {
    pub(crate) fn new(what: &'static str, total: usize, params: &DhParams) -> Self {
        Tally {
            what,
            total,
            chunk_size: params.chunk_size,
            elements: 0,
            messages: 0,
            expected_messages: total.div_ceil(params.chunk_size).max(1),
        }
    }

    /// Accepts a message of `len` elements, or says why not: called before any work is done
    /// on the message.
    pub(crate) fn accept(&mut self, len: usize) -> Result<()> {
        if self.messages == self.expected_messages {
            return Err(PeerMisbehaved::TooMuchData { what: self.what }.into());
        }
        let expected = (self.total - self.elements).min(self.chunk_size);
        if len != expected {
            return Err(PeerMisbehaved::WrongCount {
                what: self.what,
                got: len as u64,
                expected: expected as u64,
            }
            .into());
        }
        self.elements += len;
        self.messages += 1;
        Ok(())
    }

    /// True when every agreed message has arrived.
    pub(crate) fn is_complete(&self) -> bool {
        self.messages == self.expected_messages
    }

    /// Elements received so far.
    pub(crate) fn elements(&self) -> usize {
        self.elements
    }
}
