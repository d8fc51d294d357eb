//! The one error type of the crate.
//!
//! Every variant says who is at fault, so a caller can decide what to do: fix its input
//! ([`Error::Input`]), fix its configuration ([`Error::Config`]), give up on a peer that broke
//! the protocol ([`Error::PeerMisbehaved`]) or that cannot talk to us ([`Error::Incompatible`]),
//! respect a policy refusal ([`Error::PolicyRefused`]), or retry after an I/O or network failure
//! ([`Error::Io`], [`Error::Tls`], [`Error::Timeout`]).
//!
//! Only the local side sees these details: a peer is told that the session failed, never why
//! (see `protocol-spec/`).

use std::fmt;

/// The result type used throughout blindmatch.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why 32 bytes are not a valid ristretto255 element for the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ElementError {
    /// Not the canonical encoding of any ristretto255 element (RFC 9496 section 4.3.1).
    NonCanonical,
    /// The identity element, which the protocol never sends.
    Identity,
}

impl fmt::Display for ElementError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ElementError::NonCanonical => f.write_str("not a canonical ristretto255 encoding"),
            ElementError::Identity => f.write_str("the identity element"),
        }
    }
}

impl std::error::Error for ElementError {}

/// Everything that can go wrong in blindmatch, grouped by who is at fault.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The caller's input is wrong: a file, a row, a value, an argument. The message says what
    /// and where (file, line, column) and what to do.
    #[error("invalid input: {0}")]
    Input(String),

    /// Local configuration is wrong or missing: identity files, certificates, policy files,
    /// settings that contradict each other.
    #[error("configuration error: {0}")]
    Config(String),

    /// The peer sent something the protocol forbids: a malformed frame, a wrong element count,
    /// an invalid element, a message out of order.
    #[error("peer misbehaved: {0}")]
    PeerMisbehaved(String),

    /// An element received from the peer is invalid.
    #[error("peer sent an invalid element at position {index}: {reason}")]
    InvalidElement {
        /// Position of the element within the message that carried it.
        index: usize,
        /// What is wrong with it.
        reason: ElementError,
    },

    /// The peer is honest but cannot run this session with us: a different protocol version,
    /// suite, mode or policy.
    #[error("incompatible peer: {0}")]
    Incompatible(String),

    /// The agreed policy forbids what was asked. `rule` names the policy rule.
    #[error("refused by policy rule `{rule}`: {detail}")]
    PolicyRefused {
        /// The policy rule that refused the session, as named in the policy file.
        rule: String,
        /// What was asked and what the rule allows.
        detail: String,
    },

    /// The audit log failed verification or could not be written.
    #[error("audit log: {0}")]
    Audit(String),

    /// A file or socket operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, naming the file or address.
        context: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },

    /// The TLS layer failed or the peer's certificate was refused.
    #[error("TLS: {0}")]
    Tls(String),

    /// A peer or operation took longer than its deadline.
    #[error("timed out: {0}")]
    Timeout(String),

    /// The session was cancelled locally (for example by Ctrl-C).
    #[error("cancelled: {0}")]
    Cancelled(String),
}

impl Error {
    /// Wraps an I/O error with what was being done, for example
    /// `Error::io("reading shipments.csv", e)`.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// True when the error is the peer's fault (misbehaviour or an invalid element).
    pub fn is_peer_fault(&self) -> bool {
        matches!(
            self,
            Error::PeerMisbehaved(_) | Error::InvalidElement { .. }
        )
    }
}
