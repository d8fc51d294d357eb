//! The one error type of the crate.
//!
//! Every variant says who is at fault, so a caller can decide what to do: fix its input
//! ([`Error::Input`]), fix its configuration ([`Error::Config`]), give up on a peer that broke
//! the protocol ([`Error::PeerMisbehaved`]), that aborted ([`Error::PeerAborted`]) or that
//! cannot talk to us ([`Error::Incompatible`]), respect a policy refusal
//! ([`Error::PolicyRefused`]), retry after an I/O or network failure ([`Error::Io`],
//! [`Error::Tls`], [`Error::Timeout`]), or report a bug ([`Error::Internal`]).
//!
//! Each variant carries a typed reason (in the manner of rustls' `PeerMisbehaved` and
//! `PeerIncompatible`), so callers and tests match on what went wrong, never on prose.
//! [`Error::category`] groups the variants for exit codes and [`Error::code`] names the
//! reason in a stable `snake_case` word for machine-readable output.
//!
//! Only the local side sees these details: a peer is told that the session failed, never why
//! (`protocol-spec/04-transport-and-handshake.md` section 4.7).

mod excerpt;
mod files;
mod incompatible;
mod local;
mod peer;
mod refusal;

use std::fmt;

pub use excerpt::{excerpt, Excerpt};
pub use files::{
    CheckpointError, CheckpointProblem, Exposure, FileModeError, IndexError, IndexFile,
    IndexProblem,
};
pub use incompatible::{Incompatible, Mismatch};
pub use local::{
    AuditError, AuditProblem, CancelReason, ConfigError, ConfigReason, Deadline, InputError,
    InputReason, Setting, TlsError, TlsReason,
};
pub use peer::{BucketProblem, Malformed, PeerMisbehaved, ReceiptProblem, SessionPhase};
pub use refusal::{PolicyRefusal, PolicyRule, RefusedBy};

/// The result type used throughout blindmatch.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why 32 bytes are not a valid ristretto255 element for the protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
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
    /// The caller's input is wrong: a file, a row, a value, an argument. The error says what
    /// and where (file, line, column).
    #[error("invalid input: {0}")]
    Input(InputError),

    /// Local configuration is wrong or missing: identity files, certificates, policy files,
    /// settings that contradict each other.
    #[error("configuration error: {0}")]
    Config(ConfigError),

    /// The peer sent something the protocol forbids: a malformed frame, a wrong element count,
    /// an invalid element, a message out of order.
    #[error("peer misbehaved: {0}")]
    PeerMisbehaved(PeerMisbehaved),

    /// The peer ended the session with `Abort`. It tells us only that it failed; its own audit
    /// log says why.
    #[error("the peer ended the session during {0} (it reported a failure; its own log says why)")]
    PeerAborted(SessionPhase),

    /// The peer is honest but cannot run this session with us: a different protocol version,
    /// suite, mode or policy. Both sides see the same list.
    #[error("incompatible peer: {0}")]
    Incompatible(Incompatible),

    /// The agreed policy forbids what was asked, on our side or the peer's.
    #[error("{0}")]
    PolicyRefused(PolicyRefusal),

    /// The audit log failed verification or could not be written.
    #[error("audit log: {0}")]
    Audit(AuditError),

    /// A precomputed index failed its seal: one of its files was altered, truncated or taken
    /// from another index (`protocol-spec/07-oprf-psi.md` section 7.8.5).
    #[error("index: {0}")]
    Index(IndexError),

    /// A secret-bearing file (or its directory) is open to other users: its mode lets the
    /// group or others read or write it.
    #[error("file permissions: {0}")]
    FileMode(FileModeError),

    /// A session's checkpoint directory cannot be used as asked (`--checkpoint`,
    /// `--resume`): typed by [`CheckpointProblem`].
    #[error("checkpoint: {0}")]
    Checkpoint(CheckpointError),

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
    Tls(TlsError),

    /// A peer or operation took longer than its deadline.
    #[error("timed out: {} (limit {} s)", deadline.description(), limit.as_secs_f64())]
    Timeout {
        /// Which deadline expired.
        deadline: Deadline,
        /// Its length.
        limit: std::time::Duration,
    },

    /// The session was cancelled locally (Ctrl-C, SIGTERM, a shutdown, or the caller dropped
    /// the session).
    #[error("cancelled: {}", .0.description())]
    Cancelled(CancelReason),

    /// A bug: an invariant of blindmatch itself did not hold. Please report it.
    #[error("internal error (a bug in blindmatch): {0}")]
    Internal(String),
}

/// Who is at fault, as a coarse category: what the command line turns into an exit code
/// (README, "Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Category {
    /// Bad input data or arguments ([`Error::Input`]).
    Input,
    /// Local configuration ([`Error::Config`], [`Error::Audit`], [`Error::Index`],
    /// [`Error::FileMode`]).
    Config,
    /// The policy refused the session ([`Error::PolicyRefused`]).
    Policy,
    /// The peer misbehaved or aborted, or the network or TLS failed ([`Error::PeerMisbehaved`],
    /// [`Error::PeerAborted`], [`Error::Io`], [`Error::Tls`], [`Error::Timeout`]).
    Peer,
    /// The peer cannot run this session with us ([`Error::Incompatible`]).
    Incompatible,
    /// Cancelled locally ([`Error::Cancelled`]).
    Cancelled,
    /// A bug ([`Error::Internal`]).
    Internal,
}

impl Category {
    /// The category's name in machine-readable output.
    pub fn as_str(self) -> &'static str {
        match self {
            Category::Input => "input",
            Category::Config => "config",
            Category::Policy => "policy",
            Category::Peer => "peer",
            Category::Incompatible => "incompatible",
            Category::Cancelled => "cancelled",
            Category::Internal => "internal",
        }
    }
}

impl Error {
    /// An [`Error::Checkpoint`] about the checkpoint directory `dir`.
    pub fn checkpoint(problem: CheckpointProblem, dir: impl Into<std::path::PathBuf>) -> Self {
        Error::Checkpoint(CheckpointError {
            problem,
            dir: dir.into(),
        })
    }

    /// Wraps an I/O error with what was being done, for example
    /// `Error::io("reading shipments.csv", e)`.
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// An [`Error::Input`] with this reason and detail.
    pub fn input(reason: InputReason, detail: impl Into<String>) -> Self {
        Error::Input(InputError::new(reason, detail))
    }

    /// An [`Error::Config`] with this reason and detail.
    pub fn config(reason: ConfigReason, detail: impl Into<String>) -> Self {
        Error::Config(ConfigError::new(reason, detail))
    }

    /// An [`Error::PolicyRefused`] of ours: `rule` refused, `detail` says why (kept local).
    pub fn refused(rule: PolicyRule, detail: impl Into<String>) -> Self {
        Error::PolicyRefused(PolicyRefusal {
            rule,
            detail: detail.into(),
            by: RefusedBy::Us,
        })
    }

    /// An [`Error::Timeout`] of `deadline` after `limit`.
    pub fn timeout(deadline: Deadline, limit: std::time::Duration) -> Self {
        Error::Timeout { deadline, limit }
    }

    /// An [`Error::Audit`] of this problem.
    pub fn audit(problem: AuditProblem) -> Self {
        Error::Audit(AuditError::new(problem))
    }

    /// An [`Error::Tls`] with this reason and detail.
    pub fn tls(reason: TlsReason, detail: impl Into<String>) -> Self {
        Error::Tls(TlsError::new(reason, detail))
    }

    /// An [`Error::Internal`]: an invariant that should hold did not.
    pub fn internal(detail: impl Into<String>) -> Self {
        Error::Internal(detail.into())
    }

    /// The setting the error is about, when one would change the outcome (a front end names
    /// its own control for it).
    pub fn setting(&self) -> Option<Setting> {
        match self {
            Error::Input(e) => e.setting,
            Error::Config(e) => e.setting,
            _ => None,
        }
    }

    /// True when the error is the peer's fault (it broke the protocol).
    pub fn is_peer_fault(&self) -> bool {
        matches!(self, Error::PeerMisbehaved(_))
    }

    /// The policy refusal, if this is one.
    pub fn refusal(&self) -> Option<&PolicyRefusal> {
        match self {
            Error::PolicyRefused(r) => Some(r),
            _ => None,
        }
    }

    /// Who is at fault (for exit codes).
    pub fn category(&self) -> Category {
        match self {
            Error::Input(_) => Category::Input,
            Error::Config(_)
            | Error::Audit(_)
            | Error::Index(_)
            | Error::FileMode(_)
            | Error::Checkpoint(_) => Category::Config,
            Error::PolicyRefused(_) => Category::Policy,
            Error::PeerMisbehaved(_)
            | Error::PeerAborted(_)
            | Error::Io { .. }
            | Error::Tls(_)
            | Error::Timeout { .. } => Category::Peer,
            Error::Incompatible(_) => Category::Incompatible,
            Error::Cancelled(_) => Category::Cancelled,
            Error::Internal(_) => Category::Internal,
        }
    }

    /// The reason in one stable `snake_case` word, for machine-readable output (the `--json`
    /// error object) and scripts: for example `policy_refused.max_set_size`,
    /// `peer_misbehaved.invalid_element`, `timeout.handshake`.
    pub fn code(&self) -> String {
        let (head, tail): (&str, &str) = match self {
            Error::Input(e) => ("input", e.reason.as_str()),
            Error::Config(e) => ("config", e.reason.as_str()),
            Error::PeerMisbehaved(p) => ("peer_misbehaved", p.code()),
            Error::PeerAborted(p) => ("peer_aborted", p.as_str()),
            Error::Incompatible(i) => ("incompatible", i.code()),
            Error::PolicyRefused(r) => ("policy_refused", r.rule.as_str()),
            Error::Audit(a) => ("audit", a.problem.code()),
            Error::Index(i) => ("index", i.problem.code()),
            Error::FileMode(m) => ("file_mode", m.exposure.as_str()),
            Error::Checkpoint(c) => ("checkpoint", c.problem.code()),
            Error::Io { .. } => ("io", "failed"),
            Error::Tls(t) => ("tls", t.reason.as_str()),
            Error::Timeout { deadline, .. } => ("timeout", deadline.as_str()),
            Error::Cancelled(c) => ("cancelled", c.as_str()),
            Error::Internal(_) => ("internal", "bug"),
        };
        format!("{head}.{tail}")
    }
}

impl From<PeerMisbehaved> for Error {
    fn from(p: PeerMisbehaved) -> Self {
        Error::PeerMisbehaved(p)
    }
}

impl From<Incompatible> for Error {
    fn from(i: Incompatible) -> Self {
        Error::Incompatible(i)
    }
}

impl From<PolicyRefusal> for Error {
    fn from(r: PolicyRefusal) -> Self {
        Error::PolicyRefused(r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_name_the_variant_and_the_reason() {
        let e = Error::refused(PolicyRule::MaxSetSize, "too big");
        assert_eq!(e.code(), "policy_refused.max_set_size");
        assert_eq!(e.category(), Category::Policy);
        let e: Error = PeerMisbehaved::InvalidElement {
            index: 3,
            reason: ElementError::Identity,
        }
        .into();
        assert_eq!(e.code(), "peer_misbehaved.invalid_element");
        assert_eq!(e.category(), Category::Peer);
        let e = Error::timeout(Deadline::Handshake, std::time::Duration::from_secs(10));
        assert_eq!(e.code(), "timeout.handshake");
        assert_eq!(
            e.to_string(),
            "timed out: the session handshake (limit 10 s)"
        );
    }
}
