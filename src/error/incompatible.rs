//! Why an honest peer cannot run a session with us ([`Incompatible`]).

use std::fmt;

/// One field of the two hellos that does not agree (`protocol-spec/04` section 4.3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Mismatch {
    /// Protocol versions differ.
    Version {
        /// Ours.
        ours: u16,
        /// The peer's.
        theirs: u16,
    },
    /// The protocols asked for give no common protocol.
    Protocol {
        /// Ours, by name.
        ours: String,
        /// The peer's, by name.
        theirs: String,
    },
    /// The suites of the protocol picked differ.
    Suite {
        /// Ours, by name.
        ours: String,
        /// The peer's, by name.
        theirs: String,
    },
    /// The modes differ.
    Mode {
        /// Ours, by name.
        ours: String,
        /// The peer's, by name.
        theirs: String,
    },
    /// The protocol picked has no such mode.
    ModeNotInProtocol {
        /// The mode.
        mode: String,
        /// The protocol.
        protocol: String,
    },
    /// The policy digests differ: the agencies loaded different policies.
    PolicyDigest {
        /// Ours, hex.
        ours: String,
        /// The peer's, hex.
        theirs: String,
    },
    /// The chunk sizes differ.
    ChunkSize {
        /// Ours.
        ours: u32,
        /// The peer's.
        theirs: u32,
    },
    /// The identifier kinds of the keys differ (the sides would match nothing).
    KeyKinds {
        /// Ours, joined with `,`.
        ours: String,
        /// The peer's.
        theirs: String,
    },
    /// The sides run different shards of a logical session, or of different ones
    /// (`protocol-spec/09-buckets.md` section 9.11): another shard, shard count or logical
    /// session name.
    Shard {
        /// Ours: `I/N` and the first bytes of the key.
        ours: String,
        /// The peer's.
        theirs: String,
    },
    /// The clocks differ by more than the allowed skew.
    ClockSkew {
        /// Seconds between the two hellos' times.
        seconds: i64,
        /// The allowed skew.
        max: i64,
    },
}

impl Mismatch {
    /// The field's name in one `snake_case` word.
    pub fn code(&self) -> &'static str {
        match self {
            Mismatch::Version { .. } => "version",
            Mismatch::Protocol { .. } => "protocol",
            Mismatch::Suite { .. } => "suite",
            Mismatch::Mode { .. } => "mode",
            Mismatch::ModeNotInProtocol { .. } => "mode_not_in_protocol",
            Mismatch::PolicyDigest { .. } => "policy_digest",
            Mismatch::ChunkSize { .. } => "chunk_size",
            Mismatch::KeyKinds { .. } => "key_kinds",
            Mismatch::Shard { .. } => "shard",
            Mismatch::ClockSkew { .. } => "clock_skew",
        }
    }
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mismatch::Version { ours, theirs } => {
                write!(f, "protocol version: ours {ours}, peer's {theirs}")
            }
            Mismatch::Protocol { ours, theirs } => {
                write!(f, "protocol: ours `{ours}`, peer's `{theirs}`")
            }
            Mismatch::Suite { ours, theirs } => write!(f, "suite: ours `{ours}`, peer's `{theirs}`"),
            Mismatch::Mode { ours, theirs } => write!(f, "mode: ours `{ours}`, peer's `{theirs}`"),
            Mismatch::ModeNotInProtocol { mode, protocol } => write!(
                f,
                "mode `{mode}` cannot run over {protocol} (OPRF-PSI has modes intersection and \
                 labeled; DH-PSI has intersection, mutual and cardinality)"
            ),
            Mismatch::PolicyDigest { ours, theirs } => write!(
                f,
                "policy digest: ours {ours}, peer's {theirs} (both agencies must load the same policy)"
            ),
            Mismatch::ChunkSize { ours, theirs } => {
                write!(f, "chunk size: ours {ours}, peer's {theirs}")
            }
            Mismatch::KeyKinds { ours, theirs } => write!(
                f,
                "identifier kinds of the keys: ours `{ours}`, peer's `{theirs}` (the two sides \
                 would match nothing)"
            ),
            Mismatch::Shard { ours, theirs } => write!(
                f,
                "shard: ours {ours}, peer's {theirs} (pair shard I of one agency with shard I of \
                 the other, with the same shard count and --logical-session)"
            ),
            Mismatch::ClockSkew { seconds, max } => write!(
                f,
                "clocks: the two hellos' times differ by {seconds} s (allowed: {max} s); check \
                 both machines' clocks"
            ),
        }
    }
}

/// Every field of the two hellos that did not agree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incompatible {
    /// The mismatches, in the order of the hello's fields (never empty).
    pub mismatches: Vec<Mismatch>,
}

impl Incompatible {
    /// The first mismatch's code ([`super::Error::code`]).
    pub fn code(&self) -> &'static str {
        self.mismatches.first().map_or("unknown", Mismatch::code)
    }

    /// True when one of the mismatches is of the field whose code is `code`.
    pub fn has(&self, code: &str) -> bool {
        self.mismatches.iter().any(|m| m.code() == code)
    }
}

impl fmt::Display for Incompatible {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the handshake did not match: ")?;
        for (i, m) in self.mismatches.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{m}")?;
        }
        Ok(())
    }
}
