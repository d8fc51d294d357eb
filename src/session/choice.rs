//! What a session is asked to do: its [`SessionMode`], the protocol a side asks for
//! ([`ProtocolChoice`]) and the protocol that runs ([`Protocol`]), each with its one-byte code
//! in the hello (`protocol-spec/04-transport-and-handshake.md` section 4.3.1) and its name on
//! the command line, in policies and in logs.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, InputReason};
use crate::protocol::Mode;

/// What the parties learn. DH-PSI runs the first three; OPRF-PSI runs `Intersection` and
/// `Labeled`; VOLE-PSI runs `Intersection` and `Mutual`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum SessionMode {
    /// The initiator learns which of its items are shared; the responder learns only the
    /// initiator's set size.
    Intersection,
    /// Both parties learn which of their own items are shared (DH-PSI, VOLE-PSI).
    Mutual,
    /// The initiator learns only how many items are shared (DH-PSI).
    Cardinality,
    /// OPRF-PSI: the initiator also learns the responder's payload columns of each match.
    Labeled,
}

impl SessionMode {
    /// Every mode, in code order.
    pub const ALL: [SessionMode; 4] = [
        SessionMode::Intersection,
        SessionMode::Mutual,
        SessionMode::Cardinality,
        SessionMode::Labeled,
    ];

    /// The name: `intersection`, `mutual`, `cardinality`, `labeled`.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionMode::Intersection => "intersection",
            SessionMode::Mutual => "mutual",
            SessionMode::Cardinality => "cardinality",
            SessionMode::Labeled => "labeled",
        }
    }

    /// The code in the hello: 1 to 4 in the order above.
    pub fn code(self) -> u8 {
        match self {
            SessionMode::Intersection => 1,
            SessionMode::Mutual => 2,
            SessionMode::Cardinality => 3,
            SessionMode::Labeled => 4,
        }
    }

    /// The mode of a code, if any.
    pub fn from_code(code: u8) -> Option<Self> {
        SessionMode::ALL.into_iter().find(|m| m.code() == code)
    }

    /// The DH-PSI mode, if DH-PSI can run this mode.
    pub fn dh(self) -> Option<Mode> {
        match self {
            SessionMode::Intersection => Some(Mode::Intersection),
            SessionMode::Mutual => Some(Mode::Mutual),
            SessionMode::Cardinality => Some(Mode::Cardinality),
            SessionMode::Labeled => None,
        }
    }

    /// True when some party learns which items are shared (every mode but `cardinality`).
    pub fn reveals_items(self) -> bool {
        self != SessionMode::Cardinality
    }

    /// True for the modes a shard of a logical session may run (`protocol-spec/09-buckets.md`
    /// section 9.11): `intersection` and `mutual`, whose results add up over the shards.
    /// `cardinality` would reveal each shard's count; `labeled` needs the sender's whole set
    /// of payloads in one place.
    pub fn shardable(self) -> bool {
        matches!(self, SessionMode::Intersection | SessionMode::Mutual)
    }

    /// True when `protocol` has this mode.
    pub fn runs_over(self, protocol: Protocol) -> bool {
        match protocol {
            Protocol::Dh => self.dh().is_some(),
            Protocol::Oprf => matches!(self, SessionMode::Intersection | SessionMode::Labeled),
            Protocol::Vole => matches!(self, SessionMode::Intersection | SessionMode::Mutual),
        }
    }
}

impl From<Mode> for SessionMode {
    fn from(m: Mode) -> Self {
        match m {
            Mode::Intersection => SessionMode::Intersection,
            Mode::Mutual => SessionMode::Mutual,
            Mode::Cardinality => SessionMode::Cardinality,
        }
    }
}

impl fmt::Display for SessionMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SessionMode {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        SessionMode::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                Error::input(
                    InputReason::Argument,
                    format!(
                        "unknown mode `{s}`: expected intersection, mutual, cardinality or labeled"
                    ),
                )
            })
    }
}

/// A protocol a session runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Protocol {
    /// DH-PSI (`protocol-spec/03-dh-psi.md`).
    Dh,
    /// OPRF-PSI (`protocol-spec/07-oprf-psi.md`): the initiator is the receiver.
    Oprf,
    /// VOLE-PSI (`protocol-spec/08-vole-psi.md`, RR22): the initiator is the receiver.
    Vole,
}

impl Protocol {
    /// `dh`, `oprf` or `vole`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Dh => "dh",
            Protocol::Oprf => "oprf",
            Protocol::Vole => "vole",
        }
    }

    /// The protocol named `name` ([`Protocol::as_str`]), if any.
    pub fn from_name(name: &str) -> Option<Protocol> {
        [Protocol::Dh, Protocol::Oprf, Protocol::Vole]
            .into_iter()
            .find(|p| p.as_str() == name)
    }

    /// `DH-PSI`, `OPRF-PSI` or `VOLE-PSI`.
    pub fn title(self) -> &'static str {
        match self {
            Protocol::Dh => "DH-PSI",
            Protocol::Oprf => "OPRF-PSI",
            Protocol::Vole => "VOLE-PSI",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `auto` picks OPRF-PSI when one announced set is more than this many times the other
/// (section 4.3.5).
pub const AUTO_RATIO: u64 = 8;

/// What a side asks for: one protocol, or `auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum ProtocolChoice {
    /// Decided from the two hellos (section 4.3.5).
    #[default]
    Auto,
    /// Only DH-PSI.
    Dh,
    /// Only OPRF-PSI.
    Oprf,
    /// Only VOLE-PSI.
    Vole,
}

impl ProtocolChoice {
    /// Every choice, in code order.
    pub const ALL: [ProtocolChoice; 4] = [
        ProtocolChoice::Auto,
        ProtocolChoice::Dh,
        ProtocolChoice::Oprf,
        ProtocolChoice::Vole,
    ];

    /// `auto`, `dh`, `oprf` or `vole`.
    pub fn as_str(self) -> &'static str {
        match self {
            ProtocolChoice::Auto => "auto",
            ProtocolChoice::Dh => "dh",
            ProtocolChoice::Oprf => "oprf",
            ProtocolChoice::Vole => "vole",
        }
    }

    /// The code in the hello: 0 auto, 1 dh, 2 oprf, 3 vole.
    pub fn code(self) -> u8 {
        match self {
            ProtocolChoice::Auto => 0,
            ProtocolChoice::Dh => 1,
            ProtocolChoice::Oprf => 2,
            ProtocolChoice::Vole => 3,
        }
    }

    /// The choice of a code, if any.
    pub fn from_code(code: u8) -> Option<Self> {
        ProtocolChoice::ALL.into_iter().find(|c| c.code() == code)
    }

    /// The protocol this choice names, `None` for `auto`.
    pub fn explicit(self) -> Option<Protocol> {
        match self {
            ProtocolChoice::Dh => Some(Protocol::Dh),
            ProtocolChoice::Oprf => Some(Protocol::Oprf),
            ProtocolChoice::Vole => Some(Protocol::Vole),
            ProtocolChoice::Auto => None,
        }
    }
}

impl fmt::Display for ProtocolChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ProtocolChoice {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        ProtocolChoice::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                Error::input(
                    InputReason::Argument,
                    format!("unknown protocol `{s}`: expected dh, oprf, vole or auto"),
                )
            })
    }
}

/// `auto` picks VOLE-PSI when both announced sets have at least this many items and no other
/// rule applies (section 4.3.5): below it, VOLE-PSI's fixed cost (about 1,900 base OTs and the
/// punctured PRFs) makes DH-PSI as fast. Measured in `BENCHMARKS.md` ("Where VOLE-PSI
/// overtakes DH-PSI").
pub const AUTO_VOLE_MIN: u64 = 1 << 12;

/// The `auto` rule (section 4.3.5, step 3) on the mode and the two announced sizes:
/// OPRF-PSI in mode `labeled`, or in mode `intersection` when one set is more than
/// [`AUTO_RATIO`] times the other; otherwise VOLE-PSI in modes `intersection` and `mutual`
/// when both sets have at least [`AUTO_VOLE_MIN`] items; DH-PSI otherwise.
pub fn auto_protocol(mode: SessionMode, a: u64, b: u64) -> Protocol {
    let (small, big) = (a.min(b), a.max(b));
    match mode {
        SessionMode::Labeled => Protocol::Oprf,
        SessionMode::Intersection if big > small.saturating_mul(AUTO_RATIO) => Protocol::Oprf,
        SessionMode::Intersection | SessionMode::Mutual if small >= AUTO_VOLE_MIN => Protocol::Vole,
        _ => Protocol::Dh,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_names_round_trip() {
        for m in SessionMode::ALL {
            assert_eq!(SessionMode::from_code(m.code()), Some(m));
            assert_eq!(m.as_str().parse::<SessionMode>().ok(), Some(m));
        }
        for c in ProtocolChoice::ALL {
            assert_eq!(ProtocolChoice::from_code(c.code()), Some(c));
            assert_eq!(c.as_str().parse::<ProtocolChoice>().ok(), Some(c));
        }
        assert_eq!(SessionMode::from_code(0), None);
        assert_eq!(ProtocolChoice::from_code(4), None);
        assert!(matches!(
            "fooo".parse::<SessionMode>(),
            Err(Error::Input(e)) if e.reason == InputReason::Argument
        ));
    }

    #[test]
    fn auto_rule() {
        use SessionMode::*;
        assert_eq!(auto_protocol(Intersection, 10, 80), Protocol::Dh);
        assert_eq!(auto_protocol(Intersection, 10, 81), Protocol::Oprf);
        assert_eq!(auto_protocol(Intersection, 810, 100), Protocol::Oprf);
        assert_eq!(auto_protocol(Mutual, 1, 1000), Protocol::Dh);
        assert_eq!(auto_protocol(Labeled, 10, 10), Protocol::Oprf);
        assert_eq!(auto_protocol(Intersection, 0, 0), Protocol::Dh);
        assert_eq!(auto_protocol(Intersection, 0, 1), Protocol::Oprf);
        let big = AUTO_VOLE_MIN;
        assert_eq!(auto_protocol(Intersection, big, big), Protocol::Vole);
        assert_eq!(auto_protocol(Mutual, big, 8 * big), Protocol::Vole);
        assert_eq!(
            auto_protocol(Intersection, big, 8 * big + 1),
            Protocol::Oprf
        );
        assert_eq!(auto_protocol(Mutual, big - 1, big), Protocol::Dh);
        assert_eq!(auto_protocol(Cardinality, big, big), Protocol::Dh);
        assert_eq!(auto_protocol(Labeled, big, big), Protocol::Oprf);
    }

    #[test]
    fn modes_per_protocol() {
        assert!(SessionMode::Mutual.runs_over(Protocol::Dh));
        assert!(!SessionMode::Mutual.runs_over(Protocol::Oprf));
        assert!(SessionMode::Labeled.runs_over(Protocol::Oprf));
        assert!(!SessionMode::Labeled.runs_over(Protocol::Dh));
        assert!(SessionMode::Intersection.runs_over(Protocol::Oprf));
        assert!(SessionMode::Intersection.runs_over(Protocol::Vole));
        assert!(SessionMode::Mutual.runs_over(Protocol::Vole));
        assert!(!SessionMode::Cardinality.runs_over(Protocol::Vole));
        assert!(!SessionMode::Labeled.runs_over(Protocol::Vole));
    }
}
