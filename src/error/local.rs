//! Typed reasons of the errors that are not the peer's: input, configuration, audit log, TLS,
//! deadlines and cancellation.

use std::fmt;
use std::path::PathBuf;

macro_rules! reason_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $code:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// The reason in one `snake_case` word.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $code,)*
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

reason_enum! {
    /// What kind of input is wrong.
    InputReason {
        /// A command-line or API argument has an invalid value.
        Argument => "argument",
        /// The CSV structure is broken (quoting, field counts, line endings).
        Csv => "csv",
        /// A quoted CSV field is never closed: everything after its opening quote would be
        /// one value (the error names the line where the quote opened).
        UnterminatedQuote => "unterminated_quote",
        /// A header is missing, repeated or does not name a column.
        Header => "header",
        /// An identifier value is invalid for its kind.
        Value => "value",
        /// A value that is well formed but stands for "unknown" (all zeros and the like:
        /// IMO `0000000`, a container serial `000000`), which would match every other
        /// agency's placeholder (`protocol-spec/05-identifiers.md` 5.2).
        Placeholder => "placeholder",
        /// Bytes that are not valid text in the declared encoding.
        Encoding => "encoding",
        /// A value, field or file exceeds a limit.
        TooLarge => "too_large",
        /// Nothing to match: no item was read.
        Empty => "empty",
        /// More items than the agreed or padded set size.
        SetSize => "set_size",
        /// More of our items fell into one bucket of a bucketed session than its bound
        /// (`protocol-spec/09-buckets.md` section 9.3): probability at most 2^-40; a new
        /// session (a fresh key) assigns the items afresh.
        BucketOverflow => "bucket_overflow",
        /// More of our items fell into our shard of a sharded logical session than its bound
        /// (`protocol-spec/09-buckets.md` section 9.11): probability at most 2^-40; another
        /// logical session name assigns the items afresh.
        ShardOverflow => "shard_overflow",
        /// The input changed between its first reading (the items of the session) and its
        /// second (the matched rows are written from it): its rows cannot be trusted to be
        /// those matched.
        Changed => "changed",
        /// A labeled-mode payload cannot be built or read.
        Payload => "payload",
        /// An output path cannot be used (missing directory, existing file, the input itself).
        OutputPath => "output_path",
        /// A session id (or prefix) that names no session of the log (`report --session`).
        NoSuchSession => "no_such_session",
        /// A file of audit log checkpoints (signed notes) is malformed.
        Checkpoint => "checkpoint",
    }
}

reason_enum! {
    /// What kind of configuration is wrong.
    ConfigReason {
        /// The identity directory, key or certificate.
        Identity => "identity",
        /// Who the peer may be: pins, fingerprints, CA certificates.
        Peers => "peers",
        /// The policy file (syntax or values).
        Policy => "policy",
        /// The policy lets a peer cover more of an enumerable identifier kind's domain than
        /// its `max_domain_share_percent` (`protocol-spec/06` section 2.3).
        DomainExposure => "domain_exposure",
        /// The budget state file.
        Budget => "budget",
        /// A precomputed OPRF index: damaged or foreign files, a wrong or short passphrase.
        Index => "index",
        /// An index directory of another format (a `blindmatch-oprf-index-v1` directory, say):
        /// rebuild it with `blindmatch index`.
        IndexFormat => "index_format",
        /// An index whose key epoch is past its `not_after`: rebuild it with a fresh key
        /// (`protocol-spec/07-oprf-psi.md` section 7.8.2).
        IndexExpired => "index_expired",
        /// A session needs more padding tags than the index stores: rebuild or update it padded
        /// to a larger size (section 7.8.3).
        IndexPadding => "index_padding",
        /// Which columns to match on and as what: the keys or opaque column of an input, or a
        /// mapping file.
        Keys => "keys",
        /// A session parameter out of range (chunk size, padding, payload length).
        Parameter => "parameter",
        /// Settings that contradict each other.
        Conflict => "conflict",
        /// A file another process holds locked.
        Busy => "busy",
        /// An audit verification key that is not a log's signing key (a certificate
        /// fingerprint, say): the identity's [`crate::identity::Identity::verifying_key`] is.
        AuditKey => "audit_key",
        /// Building the TLS configuration.
        Tls => "tls",
    }
}

reason_enum! {
    /// The setting an input or configuration error is about, so a front end can name its own
    /// control for it: the library's messages name the setting (the `strict` field of
    /// [`crate::records::InputSpec`], say), and the command line adds the flag that sets it.
    Setting {
        /// Whether the input has a header row ([`crate::records::InputSpec`]'s `header`).
        Header => "header",
        /// The input's text encoding ([`crate::records::InputSpec`]'s `encoding`).
        Encoding => "encoding",
        /// The CSV delimiter ([`crate::records::Delimiter`]).
        Delimiter => "delimiter",
        /// CSV or one value per line ([`crate::records::InputSpec`]'s `format`).
        Format => "format",
        /// Which columns to match on and as what ([`crate::records::InputSpec`]'s `keys` and
        /// `column`).
        Keys => "keys",
        /// Whether an invalid value fails the load or becomes a reject
        /// ([`crate::records::InputSpec`]'s `strict`).
        Strict => "strict",
        /// Whether an existing identity may be replaced (`Identity::create`'s `force`).
        Overwrite => "overwrite",
        /// The agency name written into a new identity's certificate.
        IdentityName => "identity_name",
        /// The padded size of a precomputed index (`IndexBuild`'s `pad_to`).
        PadTo => "pad_to",
        /// The agency's audit signing key that a log is verified against.
        AuditKey => "audit_key",
        /// How many days a new index key serves (`IndexBuild`'s key lifetime).
        KeyLifetime => "key_lifetime",
    }
}

reason_enum! {
    /// Which deadline expired (`protocol-spec/04` section 4.6).
    Deadline {
        /// The TCP connection.
        Connect => "connect",
        /// The TLS handshake.
        TlsHandshake => "tls_handshake",
        /// The session handshake and admission.
        Handshake => "handshake",
        /// Waiting for the peer's next frame.
        Idle => "idle",
        /// Receiving the rest of a frame whose header arrived.
        Frame => "frame",
        /// Writing a frame to a peer that does not read.
        Write => "write",
        /// The whole session.
        Session => "session",
        /// Waiting for a free session slot on a busy server.
        SessionSlot => "session_slot",
    }
}

impl Deadline {
    /// What the deadline limits, in words.
    pub fn description(self) -> &'static str {
        match self {
            Deadline::Connect => "connecting to the peer",
            Deadline::TlsHandshake => "the TLS handshake",
            Deadline::Handshake => "the session handshake",
            Deadline::Idle => "the peer sent nothing",
            Deadline::Frame => "the peer is too slow sending a frame",
            Deadline::Write => "the peer does not read what we send",
            Deadline::Session => "the whole session",
            Deadline::SessionSlot => "waiting for a free session slot",
        }
    }
}

reason_enum! {
    /// Why a session was cancelled locally, or why its running step was stopped.
    CancelReason {
        /// Ctrl-C or SIGTERM.
        Interrupted => "interrupted",
        /// The server is shutting down.
        Shutdown => "shutdown",
        /// The caller dropped the session before it ended.
        Dropped => "dropped",
        /// `serve --once` ended without serving a session.
        NoSession => "no_session",
        /// Not a local cancellation: the peer aborted, or the connection ended or failed,
        /// while a step ran, and the network driver raised the step's interrupt so that it
        /// stops at its next check. The session then ends with the peer's error (its `Abort`
        /// or the end of the connection, read next), never with [`crate::Error::Cancelled`].
        PeerLeft => "peer_left",
    }
}

impl CancelReason {
    /// Why, in words.
    pub fn description(self) -> &'static str {
        match self {
            CancelReason::Interrupted => "interrupted (Ctrl-C or SIGTERM)",
            CancelReason::Shutdown => "the server is shutting down",
            CancelReason::Dropped => "the session was dropped before it ended",
            CancelReason::NoSession => "no session was served",
            CancelReason::PeerLeft => "the peer aborted or the connection ended",
        }
    }

    /// True for a cancellation decided on this side (every reason but
    /// [`CancelReason::PeerLeft`]): the session ends with [`crate::Error::Cancelled`] and
    /// tells the peer with `Abort`.
    pub fn is_local(self) -> bool {
        self != CancelReason::PeerLeft
    }
}

reason_enum! {
    /// What failed in TLS.
    TlsReason {
        /// The peer's certificate is neither pinned nor chained to a configured CA.
        PeerRefused => "peer_refused",
        /// The peer presented no certificate.
        NoPeerCertificate => "no_peer_certificate",
        /// The peer refused our certificate (it has not pinned us).
        RefusedByPeer => "refused_by_peer",
        /// Any other TLS failure.
        Handshake => "handshake",
        /// The TLS exporter could not be computed.
        Exporter => "exporter",
    }
}

/// An [`crate::Error::Input`]: what kind of input is wrong, and where and why in words.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct InputError {
    /// What kind of input is wrong.
    pub reason: InputReason,
    /// What, where (file, line, column) and what to do.
    pub detail: String,
    /// The line of the input file where the problem is, when it is in one.
    pub line: Option<u64>,
    /// The setting that would change the outcome, when one would.
    pub setting: Option<Setting>,
}

impl InputError {
    /// An input error.
    pub fn new(reason: InputReason, detail: impl Into<String>) -> Self {
        InputError {
            reason,
            detail: detail.into(),
            line: None,
            setting: None,
        }
    }

    /// The same, about `setting`.
    pub fn about(mut self, setting: Setting) -> Self {
        self.setting = Some(setting);
        self
    }

    /// The same, at `line` of the input file.
    pub fn at_line(mut self, line: u64) -> Self {
        self.line = Some(line);
        self
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

/// A [`crate::Error::Config`]: what kind of configuration is wrong, and why in words.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ConfigError {
    /// What kind of configuration is wrong.
    pub reason: ConfigReason,
    /// What, where and what to do.
    pub detail: String,
    /// The setting that would change the outcome, when one would.
    pub setting: Option<Setting>,
}

impl ConfigError {
    /// A configuration error.
    pub fn new(reason: ConfigReason, detail: impl Into<String>) -> Self {
        ConfigError {
            reason,
            detail: detail.into(),
            setting: None,
        }
    }

    /// The same, about `setting`.
    pub fn about(mut self, setting: Setting) -> Self {
        self.setting = Some(setting);
        self
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

/// A [`crate::Error::Tls`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TlsError {
    /// What failed.
    pub reason: TlsReason,
    /// rustls' explanation, naming the fingerprint refused where there is one.
    pub detail: String,
    /// The SHA-256 fingerprint (hex) of the peer certificate our verifier refused
    /// ([`TlsReason::PeerRefused`]), for the audit log's `certificate_refused`.
    pub refused_fingerprint: Option<String>,
}

impl TlsError {
    /// A TLS error.
    pub fn new(reason: TlsReason, detail: impl Into<String>) -> Self {
        TlsError {
            reason,
            detail: detail.into(),
            refused_fingerprint: None,
        }
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.detail)
    }
}

/// What is wrong with an audit log (`protocol-spec/06-policy-and-audit.md` section 6,
/// "Verification"). `index` is the 0-based entry where verification stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AuditProblem {
    /// The last line has no newline (a torn write).
    Torn {
        /// The entry.
        index: usize,
    },
    /// A line does not parse, or does not re-encode to its own bytes.
    Edited {
        /// The entry.
        index: usize,
    },
    /// `seq` is not the line's position (an entry deleted, inserted or moved).
    Sequence {
        /// The entry.
        index: usize,
    },
    /// `prev` is not the previous line's chain hash.
    Chain {
        /// The entry.
        index: usize,
    },
    /// Signed by a key that is not among those given.
    UnknownSigner {
        /// The entry.
        index: usize,
    },
    /// The signature does not verify.
    BadSignature {
        /// The entry.
        index: usize,
    },
    /// The head file is missing.
    HeadMissing,
    /// The head file does not parse or its signature does not verify.
    HeadInvalid,
    /// The head names more entries than the log has.
    Truncated {
        /// Entries the head names.
        head: u64,
        /// Entries in the log.
        log: u64,
    },
    /// The head's last hash differs from the log's at the position it names.
    HeadMismatch,
    /// An entry could not be encoded.
    Encoding,
    /// Unpinned verification: entry `index` is signed by a key other than the one that
    /// signed entry 0 (a tail re-signed by another identity). An agency's log has one signer.
    SignerChanged {
        /// The first entry with the other signer.
        index: usize,
    },
    /// A checkpoint's signature (a C2SP signed note) does not verify under the log's key.
    CheckpointSignature {
        /// The size the checkpoint names.
        size: u64,
    },
    /// A checkpoint (from a peer's receipt) names more entries than the log has: the log was
    /// rolled back (an older log and head put back, or the log truncated and its head
    /// restored).
    RolledBack {
        /// Entries the checkpoint names.
        checkpoint_size: u64,
        /// Entries in the log.
        log_size: u64,
    },
    /// A checkpoint names a head hash other than the log's after that many entries: the log
    /// was replaced by another history (a fork).
    Forked {
        /// Entries the checkpoint names.
        size: u64,
        /// The checkpoint's head (hex).
        checkpoint_head: String,
        /// The log's chain hash after `size` entries (hex).
        log_head: String,
    },
    /// `audit recover` refused: the log's problem is not a torn last line the head does not
    /// count (the problem it has is `problem`'s code).
    NotRecoverable {
        /// The log's own problem, in one word ([`AuditProblem::code`]).
        problem: &'static str,
        /// Entries that verified.
        entries: usize,
    },
}

impl AuditProblem {
    /// The problem in one `snake_case` word.
    pub fn code(&self) -> &'static str {
        match self {
            AuditProblem::Torn { .. } => "torn",
            AuditProblem::Edited { .. } => "edited",
            AuditProblem::Sequence { .. } => "sequence",
            AuditProblem::Chain { .. } => "chain",
            AuditProblem::UnknownSigner { .. } => "unknown_signer",
            AuditProblem::BadSignature { .. } => "bad_signature",
            AuditProblem::HeadMissing => "head_missing",
            AuditProblem::HeadInvalid => "head_invalid",
            AuditProblem::Truncated { .. } => "truncated",
            AuditProblem::HeadMismatch => "head_mismatch",
            AuditProblem::Encoding => "encoding",
            AuditProblem::SignerChanged { .. } => "signer_changed",
            AuditProblem::CheckpointSignature { .. } => "checkpoint_signature",
            AuditProblem::RolledBack { .. } => "rolled_back",
            AuditProblem::Forked { .. } => "forked",
            AuditProblem::NotRecoverable { .. } => "not_recoverable",
        }
    }

    /// The entry where verification stopped, if the problem is in an entry.
    pub fn index(&self) -> Option<usize> {
        match self {
            AuditProblem::Torn { index }
            | AuditProblem::Edited { index }
            | AuditProblem::Sequence { index }
            | AuditProblem::Chain { index }
            | AuditProblem::UnknownSigner { index }
            | AuditProblem::BadSignature { index }
            | AuditProblem::SignerChanged { index } => Some(*index),
            _ => None,
        }
    }
}

impl fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditProblem::Torn { index } => write!(f, "entry {index}: torn last line (no newline)"),
            AuditProblem::Edited { index } => {
                write!(
                    f,
                    "entry {index}: edited (does not parse or re-encode to its bytes)"
                )
            }
            AuditProblem::Sequence { index } => {
                write!(
                    f,
                    "entry {index}: sequence number out of place (deleted, inserted or moved)"
                )
            }
            AuditProblem::Chain { index } => write!(f, "entry {index}: hash chain broken"),
            AuditProblem::UnknownSigner { index } => {
                write!(f, "entry {index}: signer is not one of the given keys")
            }
            AuditProblem::BadSignature { index } => write!(f, "entry {index}: bad signature"),
            AuditProblem::HeadMissing => f.write_str("head file missing"),
            AuditProblem::HeadInvalid => f.write_str("head file invalid or badly signed"),
            AuditProblem::Truncated { head, log } => {
                write!(
                    f,
                    "truncated: the head names {head} entries, the log has {log}"
                )
            }
            AuditProblem::HeadMismatch => f.write_str("the head disagrees with the log"),
            AuditProblem::Encoding => f.write_str("an entry could not be encoded"),
            AuditProblem::SignerChanged { index } => write!(
                f,
                "entry {index}: signed by another key than the entries before it (more than \
                 one signer)"
            ),
            AuditProblem::CheckpointSignature { size } => write!(
                f,
                "the checkpoint at {size} entries is not signed by the log's key"
            ),
            AuditProblem::RolledBack {
                checkpoint_size,
                log_size,
            } => write!(
                f,
                "rolled back: a checkpoint signed by the log's key names {checkpoint_size} \
                 entries, the log has only {log_size}"
            ),
            AuditProblem::Forked {
                size,
                checkpoint_head,
                log_head,
            } => write!(
                f,
                "forked: at {size} entries a checkpoint names head {checkpoint_head}, the log \
                 has {log_head}"
            ),
            AuditProblem::NotRecoverable { problem, entries } => write!(
                f,
                "not recoverable: the log's problem is `{problem}` after {entries} good \
                 entries, not a torn last line the head does not count"
            ),
        }
    }
}

/// An [`crate::Error::Audit`]: the problem and the log it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuditError {
    /// What is wrong.
    pub problem: AuditProblem,
    /// The log, when known.
    pub path: Option<PathBuf>,
    /// What to do about it, when there is advice.
    pub advice: Option<String>,
}

impl AuditError {
    /// An audit error of `problem`.
    pub fn new(problem: AuditProblem) -> Self {
        AuditError {
            problem,
            path: None,
            advice: None,
        }
    }

    /// The same, naming the log.
    pub fn at(mut self, path: impl Into<PathBuf>) -> Self {
        self.path = Some(path.into());
        self
    }

    /// The same, with advice.
    pub fn advising(mut self, advice: impl Into<String>) -> Self {
        self.advice = Some(advice.into());
        self
    }
}

impl fmt::Display for AuditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.path {
            write!(f, "{}: ", p.display())?;
        }
        write!(f, "{}", self.problem)?;
        if let Some(a) = &self.advice {
            write!(f, "; {a}")?;
        }
        Ok(())
    }
}
