//! Which DH-PSI variant runs, and which side a party plays.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// What the parties learn (`protocol-spec/03-dh-psi.md`, "Modes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Mode {
    /// The initiator learns which of its items are shared; the responder learns only the
    /// initiator's set size.
    Intersection,
    /// Both parties learn which of their own items are shared.
    Mutual,
    /// The initiator learns only how many items are shared.
    Cardinality,
}

impl Mode {
    /// Every mode, in wire-code order.
    pub const ALL: [Mode; 3] = [Mode::Intersection, Mode::Mutual, Mode::Cardinality];

    /// The name used on the command line, in policies and in logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Intersection => "intersection",
            Mode::Mutual => "mutual",
            Mode::Cardinality => "cardinality",
        }
    }

    /// The one-byte code of the mode in the handshake and in test vectors.
    pub fn wire_code(self) -> u8 {
        match self {
            Mode::Intersection => 1,
            Mode::Mutual => 2,
            Mode::Cardinality => 3,
        }
    }

    /// The mode with this wire code, if any.
    pub fn from_wire_code(code: u8) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.wire_code() == code)
    }

    /// Whether the responder returns the initiator's elements re-blinded, and shuffled.
    pub(crate) fn responder_shuffles_reply(self) -> bool {
        self == Mode::Cardinality
    }

    /// Whether the responder learns anything beyond the initiator's set size.
    pub fn responder_learns(self) -> bool {
        self == Mode::Mutual
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Mode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                Error::input(
                    crate::error::InputReason::Argument,
                    format!("unknown mode `{s}`: expected intersection, mutual or cardinality"),
                )
            })
    }
}

/// Which side of a session a party plays. The initiator is the party that connects (`match`);
/// the responder is the one that listens (`serve`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Sends its blinded set first; the party that learns in every mode.
    Initiator,
    /// Answers the initiator; learns its own matches only in mutual mode.
    Responder,
}

impl Role {
    /// The other role.
    pub fn peer(self) -> Role {
        match self {
            Role::Initiator => Role::Responder,
            Role::Responder => Role::Initiator,
        }
    }

    /// `"initiator"` or `"responder"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Initiator => "initiator",
            Role::Responder => "responder",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
