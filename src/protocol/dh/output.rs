//! What a DH-PSI session gives its own party.

use serde::Serialize;

use crate::protocol::{Matches, Mode, Role};

/// What a party learned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum Learned {
    /// Nothing beyond the peer's set size (the responder outside mutual mode).
    Nothing,
    /// How many items are shared (the initiator in cardinality mode).
    Cardinality(usize),
    /// Which of its own items are shared, ordered by first input position.
    Matches(Matches),
}

/// The result of a DH-PSI session for one party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DhOutput {
    /// The side this party played.
    pub role: Role,
    /// The mode that ran.
    pub mode: Mode,
    /// Distinct real items this party brought.
    pub own_unique: usize,
    /// Elements this party sent (distinct items plus padding dummies).
    pub own_sent: usize,
    /// Elements the peer sent: all this party learns of the peer's set size.
    pub peer_sent: usize,
    /// Input items dropped as repeats before hashing.
    pub duplicates: usize,
    /// What this party learned.
    pub learned: Learned,
}

impl DhOutput {
    /// The matches, when this party learned them.
    pub fn matches(&self) -> Option<&Matches> {
        match &self.learned {
            Learned::Matches(m) => Some(m),
            _ => None,
        }
    }

    /// The number of shared items, when this party learned it (as a count or as matches).
    pub fn match_count(&self) -> Option<usize> {
        match &self.learned {
            Learned::Nothing => None,
            Learned::Cardinality(n) => Some(*n),
            Learned::Matches(m) => Some(m.len()),
        }
    }
}
