//! What an OPRF-PSI session gives each party.

use serde::Serialize;

/// One of the receiver's own items found in the sender's set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct OprfMatch {
    /// The item's bytes, as given to [`crate::protocol::ItemSet::new`].
    pub item: Vec<u8>,
    /// Every position in the receiver's input at which the item occurred, ascending.
    pub input_indices: Vec<usize>,
    /// Labeled mode: the sender's payload for the item, decrypted and unpadded.
    pub payload: Option<Vec<u8>>,
}

/// The receiver's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ReceiverOutput {
    /// Distinct real items the receiver brought.
    pub own_unique: usize,
    /// Elements the receiver sent (distinct items plus padding).
    pub own_sent: usize,
    /// Tags the sender sent: all the receiver learns of the sender's set size.
    pub peer_sent: usize,
    /// Input items dropped as repeats before hashing.
    pub duplicates: usize,
    /// The receiver's items in the intersection, ordered by first input position. In
    /// labeled mode only items whose payload decrypted are here.
    pub matches: Vec<OprfMatch>,
    /// Labeled mode: the payload column names the sender announced (empty otherwise).
    pub columns: Vec<String>,
    /// Labeled mode: tags that matched but whose ciphertext did not decrypt (a false tag
    /// match, probability below 2^-40, or a tampered ciphertext). Such items are not matches.
    pub label_failures: usize,
}

/// The sender's result: it learns the receiver's (padded) set size and nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SenderOutput {
    /// Distinct real items in the sender's set.
    pub own_unique: usize,
    /// Tags the sender sent (distinct items plus padding).
    pub own_sent: usize,
    /// Elements the receiver sent.
    pub peer_sent: usize,
}
