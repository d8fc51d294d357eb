//! What a misbehaving peer did, as typed reasons ([`PeerMisbehaved`]).

use std::fmt;

use super::ElementError;

/// The part of a session something happened in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SessionPhase {
    /// TLS, then the hellos and their confirmation (`protocol-spec/04` section 4.3).
    Handshake,
    /// The admission verdicts (section 4.3.4).
    Admission,
    /// The protocol body: elements (section 4.4).
    Body,
    /// The signed receipts (section 4.4.1).
    Receipts,
}

impl SessionPhase {
    /// `handshake`, `admission`, `body` or `receipts`.
    pub fn as_str(self) -> &'static str {
        match self {
            SessionPhase::Handshake => "handshake",
            SessionPhase::Admission => "admission",
            SessionPhase::Body => "body",
            SessionPhase::Receipts => "receipts",
        }
    }
}

impl fmt::Display for SessionPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SessionPhase::Handshake => "the handshake",
            SessionPhase::Admission => "the admission",
            SessionPhase::Body => "the protocol body",
            SessionPhase::Receipts => "the receipt exchange",
        })
    }
}

/// What is wrong with the bytes of a frame or message.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Malformed {
    /// Shorter than its fixed part.
    Truncated,
    /// Bytes after the last field.
    TrailingBytes,
    /// A type or kind byte that names nothing.
    UnknownType(u8),
    /// A count or length above what the field allows.
    TooLarge {
        /// The value announced.
        got: u64,
        /// The largest allowed.
        max: u64,
    },
    /// A length field that disagrees with the bytes that follow.
    LengthMismatch {
        /// Bytes the header announced.
        announced: u64,
        /// Bytes that followed.
        actual: u64,
    },
    /// A field whose value is not allowed (named).
    Field(&'static str),
}

impl fmt::Display for Malformed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Malformed::Truncated => f.write_str("truncated"),
            Malformed::TrailingBytes => f.write_str("trailing bytes"),
            Malformed::UnknownType(t) => write!(f, "unknown type 0x{t:02x}"),
            Malformed::TooLarge { got, max } => write!(f, "{got} exceeds the maximum of {max}"),
            Malformed::LengthMismatch { announced, actual } => {
                write!(
                    f,
                    "the header announces {announced} bytes but {actual} follow"
                )
            }
            Malformed::Field(name) => write!(f, "invalid field `{name}`"),
        }
    }
}

/// What is wrong with the peer's session receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ReceiptProblem {
    /// Not a well-formed receipt.
    Malformed,
    /// Signed by a key other than the one of the peer's certificate.
    WrongSigner,
    /// The signature does not verify.
    BadSignature,
    /// For another session id.
    WrongSession,
    /// For another transcript.
    WrongTranscript,
    /// It claims our role.
    WrongRole,
    /// Element counts other than the two hellos announced.
    WrongCounts,
    /// A mode, protocol, suite, policy digest or party other than the handshake agreed.
    WrongTerms,
    /// It reports an aborted session.
    Aborted,
    /// Its time is further from ours than the allowed clock skew.
    ClockSkew,
}

impl fmt::Display for ReceiptProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ReceiptProblem::Malformed => "it is malformed",
            ReceiptProblem::WrongSigner => {
                "it is signed by a key other than the peer's certificate key"
            }
            ReceiptProblem::BadSignature => "its signature does not verify",
            ReceiptProblem::WrongSession => "it is for another session id",
            ReceiptProblem::WrongTranscript => "it is for another transcript hash",
            ReceiptProblem::WrongRole => "it claims our role",
            ReceiptProblem::WrongCounts => "its element counts differ from the hellos'",
            ReceiptProblem::WrongTerms => {
                "its mode, protocol, suite, policy or parties differ from the handshake's"
            }
            ReceiptProblem::Aborted => "it reports an aborted session",
            ReceiptProblem::ClockSkew => "its time is too far from ours",
        })
    }
}

/// Why a bucketed session refused a message's bucket index (`protocol-spec/09-buckets.md`
/// section 9.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BucketProblem {
    /// The index is not below the session's number of buckets.
    OutOfRange {
        /// The session's number of buckets.
        buckets: u32,
    },
    /// The bucket's sub-session is already finished.
    Finished,
    /// The bucket's sub-session is not open yet (beyond the window).
    NotOpen,
}

impl fmt::Display for BucketProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BucketProblem::OutOfRange { buckets } => {
                write!(f, "the session has only {buckets} buckets")
            }
            BucketProblem::Finished => f.write_str("that bucket is already finished"),
            BucketProblem::NotOpen => f.write_str("that bucket is not open yet"),
        }
    }
}

/// What the peer did that the protocol forbids. The peer is never told which.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PeerMisbehaved {
    /// A frame whose length is 0 or above the maximum for its kind, refused before anything
    /// was allocated.
    FrameTooLarge {
        /// The announced length.
        len: u64,
        /// The largest allowed here.
        max: u64,
    },
    /// A frame of an unknown kind.
    UnknownFrameKind(u8),
    /// The connection closed inside a frame.
    TruncatedFrame,
    /// A frame of a kind the current state does not accept.
    UnexpectedFrame {
        /// What the state was waiting for.
        expected: &'static str,
        /// The kind received.
        got: &'static str,
    },
    /// The connection closed before the session was complete.
    ClosedEarly(SessionPhase),
    /// A message (hello, verdict, protocol message) whose bytes are malformed.
    MalformedMessage {
        /// Which message.
        message: &'static str,
        /// What is wrong.
        problem: Malformed,
    },
    /// A protocol message of the wrong type for the state.
    UnexpectedMessage {
        /// The message type that was due.
        expected: &'static str,
        /// The type received.
        got: &'static str,
    },
    /// A message carrying a number of entries other than the agreed one.
    WrongCount {
        /// Which set or message.
        what: &'static str,
        /// Entries received.
        got: u64,
        /// Entries due.
        expected: u64,
    },
    /// More messages or bytes than the agreed set sizes allow.
    TooMuchData {
        /// Which set or stream.
        what: &'static str,
    },
    /// An element that does not decode, or is the identity.
    InvalidElement {
        /// Position within its set.
        index: usize,
        /// What is wrong with it.
        reason: ElementError,
    },
    /// The peer's hello claims our role.
    SameRole,
    /// The peer's hello echoes our nonce.
    EchoedNonce,
    /// The peer's hello names certificates other than the two of this TLS connection.
    WrongIdentity,
    /// The peers' transcripts differ (a replayed or relayed handshake).
    TranscriptMismatch,
    /// A `Refused` verdict naming no rule of the policy.
    UnknownRule,
    /// `Done` before the peer sent everything the session needs.
    EarlyDone,
    /// The sender's parameters contradict the agreed mode.
    ParamsContradictMode,
    /// A labeled-mode payload that does not decode.
    MalformedPayload,
    /// The peer's session receipt was refused.
    BadReceipt(ReceiptProblem),
    /// A bucketed session's message for a bucket that does not accept one now.
    WrongBucket {
        /// The bucket index the message carried.
        bucket: u32,
        /// Why it was refused.
        problem: BucketProblem,
    },
}

impl PeerMisbehaved {
    /// The reason in one `snake_case` word ([`super::Error::code`]).
    pub fn code(&self) -> &'static str {
        match self {
            PeerMisbehaved::FrameTooLarge { .. } => "frame_too_large",
            PeerMisbehaved::UnknownFrameKind(_) => "unknown_frame_kind",
            PeerMisbehaved::TruncatedFrame => "truncated_frame",
            PeerMisbehaved::UnexpectedFrame { .. } => "unexpected_frame",
            PeerMisbehaved::ClosedEarly(_) => "closed_early",
            PeerMisbehaved::MalformedMessage { .. } => "malformed_message",
            PeerMisbehaved::UnexpectedMessage { .. } => "unexpected_message",
            PeerMisbehaved::WrongCount { .. } => "wrong_count",
            PeerMisbehaved::TooMuchData { .. } => "too_much_data",
            PeerMisbehaved::InvalidElement { .. } => "invalid_element",
            PeerMisbehaved::SameRole => "same_role",
            PeerMisbehaved::EchoedNonce => "echoed_nonce",
            PeerMisbehaved::WrongIdentity => "wrong_identity",
            PeerMisbehaved::TranscriptMismatch => "transcript_mismatch",
            PeerMisbehaved::UnknownRule => "unknown_rule",
            PeerMisbehaved::EarlyDone => "early_done",
            PeerMisbehaved::ParamsContradictMode => "params_contradict_mode",
            PeerMisbehaved::MalformedPayload => "malformed_payload",
            PeerMisbehaved::BadReceipt(_) => "bad_receipt",
            PeerMisbehaved::WrongBucket { .. } => "wrong_bucket",
        }
    }
}

impl fmt::Display for PeerMisbehaved {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerMisbehaved::FrameTooLarge { len, max } => write!(
                f,
                "the peer announced a frame of {len} bytes (allowed here: 1 to {max})"
            ),
            PeerMisbehaved::UnknownFrameKind(k) => {
                write!(f, "the peer sent a frame of unknown kind {k}")
            }
            PeerMisbehaved::TruncatedFrame => {
                f.write_str("the connection closed in the middle of a frame")
            }
            PeerMisbehaved::UnexpectedFrame { expected, got } => {
                write!(f, "expected {expected}, got a {got} frame")
            }
            PeerMisbehaved::ClosedEarly(phase) => {
                write!(f, "the peer closed the connection during {phase}")
            }
            PeerMisbehaved::MalformedMessage { message, problem } => {
                write!(f, "malformed {message}: {problem}")
            }
            PeerMisbehaved::UnexpectedMessage { expected, got } => {
                write!(
                    f,
                    "received a {got} message where a {expected} message was due"
                )
            }
            PeerMisbehaved::WrongCount {
                what,
                got,
                expected,
            } => write!(f, "{what}: {got} entries where {expected} were due"),
            PeerMisbehaved::TooMuchData { what } => {
                write!(f, "{what}: more than the agreed set sizes allow")
            }
            PeerMisbehaved::InvalidElement { index, reason } => {
                write!(
                    f,
                    "the peer sent an invalid element at position {index}: {reason}"
                )
            }
            PeerMisbehaved::SameRole => f.write_str("the peer claims the same role as us"),
            PeerMisbehaved::EchoedNonce => f.write_str("the peer echoed our handshake nonce"),
            PeerMisbehaved::WrongIdentity => f.write_str(
                "the peer's hello names certificates other than those of this connection",
            ),
            PeerMisbehaved::TranscriptMismatch => {
                f.write_str("the handshake transcripts differ (a replayed or relayed handshake?)")
            }
            PeerMisbehaved::UnknownRule => {
                f.write_str("the peer refused the session naming no rule of the policy")
            }
            PeerMisbehaved::EarlyDone => f.write_str(
                "the peer declared the session complete before all agreed messages were exchanged",
            ),
            PeerMisbehaved::ParamsContradictMode => {
                f.write_str("the sender's parameters contradict the agreed mode")
            }
            PeerMisbehaved::MalformedPayload => {
                f.write_str("a labeled-mode payload does not decode")
            }
            PeerMisbehaved::BadReceipt(p) => {
                write!(f, "the peer's session receipt was refused: {p}")
            }
            PeerMisbehaved::WrongBucket { bucket, problem } => {
                write!(f, "the peer sent a message for bucket {bucket}: {problem}")
            }
        }
    }
}
