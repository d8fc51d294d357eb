//! The records of the audit log (`protocol-spec/06-policy-and-audit.md` section 3). No field
//! ever holds a raw identifier: only counts, digests, fingerprints and names of agencies.

use serde::{Deserialize, Serialize};

use super::checkpoint::LoggedCheckpoint;
use super::receipt::{ReceiptOutcome, SessionReceipt};

/// What one session is, as logged at its start, end or abort.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionInfo {
    /// Session id (hex of the 32 bytes derived in the handshake).
    pub session_id: String,
    /// Handshake transcript hash (hex).
    pub transcript_hash: String,
    /// Our role: `"initiator"` or `"responder"`.
    pub role: String,
    /// The session mode (`"intersection"`, `"mutual"`, `"cardinality"`, `"labeled"`).
    pub mode: String,
    /// Our agency's name (from our certificate).
    pub own_agency: String,
    /// The peer agency's name (from its certificate).
    pub peer_agency: String,
    /// SHA-256 fingerprint of the peer's certificate (hex).
    pub peer_fingerprint: String,
    /// The agreed policy digest (hex).
    pub policy_digest: String,
    /// Entries written before the true size was marked local: our number of unique items.
    /// New entries leave it out and write [`SessionInfo::local_own_unique`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_unique: Option<u64>,
    /// Our true number of unique items. **Local**: with padding on, it is what the padding
    /// hides from the peer; leave it out of anything shared (reports omit it unless asked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub local_own_unique: Option<u64>,
    /// Elements we sent (padded count).
    pub own_sent: u64,
    /// Elements the peer sent (padded count).
    pub peer_sent: u64,
    /// The index key epoch (hex id) a served index answered under, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_epoch: Option<String>,
}

impl SessionInfo {
    /// Our true number of unique items, from either field.
    pub fn true_own_unique(&self) -> Option<u64> {
        self.local_own_unique.or(self.own_unique)
    }
}

/// What a third party needs to recompute a session's transcript hash
/// (`protocol-spec/04-transport-and-handshake.md` section 4.3.3): the TLS exporter value and
/// both hellos exactly as sent, each in hex. The exporter is not a key of the connection (RFC
/// 8446 section 7.5), so recording it after the handshake exposes no traffic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandshakeRecord {
    /// The TLS exporter value the transcript binds.
    pub exporter: String,
    /// The initiator's hello.
    pub initiator_hello: String,
    /// The responder's hello.
    pub responder_hello: String,
}

/// What a session ran under, besides [`SessionInfo`]: the protocol, our policy's name and
/// retention, and in labeled mode the payload columns revealed. Logged in `session_started`
/// (absent in entries written before it was recorded).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionTerms {
    /// The protocol that runs: `"dh"` or `"oprf"`.
    pub protocol: String,
    /// Our policy's `name` (its digest is [`SessionInfo::policy_digest`]).
    pub policy_name: String,
    /// Our policy's `output_retention_days`: how long the output may be kept.
    pub output_retention_days: u64,
    /// Labeled mode, as the sender: the payload columns we reveal to the receiver for each
    /// match. The receiver learns the names in the body: its `session_ended` lists them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub revealed_columns: Vec<String>,
    /// The buckets the body ran in (`protocol-spec/09-buckets.md`), when more than one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buckets: Option<u32>,
    /// The shard of a logical session this session ran (section 9.11), when sharded: the
    /// entries of all its shards, in both agencies' logs, carry the same `logical_session`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardRecord>,
    /// The session kept a checkpoint (`--checkpoint`): each finished bucket's matches were
    /// recorded on disk until the session completed (section 9.12).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub checkpoint: bool,
    /// This session resumed an interrupted logical session (section 9.12): every attempt's
    /// entries name the same first session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resumes: Option<ResumeRecord>,
}

/// Which logical session a resumed session continued, and from where
/// (`protocol-spec/09-buckets.md` section 9.12).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumeRecord {
    /// The session id (hex) of the logical session's first attempt, whose entries are earlier
    /// in this log.
    pub session: String,
    /// The buckets `0..buckets_done` this attempt took from the checkpoint instead of
    /// running them (both sides had finished them).
    pub buckets_done: u32,
}

/// Which shard of which logical session a session ran (`protocol-spec/09-buckets.md` 9.11).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardRecord {
    /// The shard, from 0.
    pub index: u32,
    /// How many shards the logical session has.
    pub count: u32,
    /// The shard key (hex): SHA3-256 of the logical session's name, the same in every shard.
    pub logical_session: String,
}

/// How far an aborted session got (`protocol-spec/06-policy-and-audit.md` section 7), which
/// bounds what each side may have learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AbortStage {
    /// During the body, before our part of the protocol was complete: we keep no result;
    /// the peer may have learned part or all of what the mode reveals to it.
    Body,
    /// Our part of the body was complete (we computed our result, which is discarded), before
    /// the peer's receipt was checked: the peer may have completed its part too.
    BodyDone,
    /// After the peer's receipt was checked (writing our output, or logging its end): the
    /// peer signed that it completed, so it learned all the mode reveals to it; our result was
    /// computed but not (or not entirely) recorded.
    AfterReceipts,
}

/// What a side learned in a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Learned {
    /// Nothing about the other side's items.
    Nothing,
    /// Only the size of the intersection.
    Cardinality(u64),
    /// The matched items themselves (this many).
    Matches(u64),
    /// Something we are not told the size of: what the peer learned when the mode reveals the
    /// matches or their count to the peer only (the responder's view of `intersection` and
    /// `cardinality` sessions).
    Undisclosed,
}

impl Learned {
    /// What a DH-PSI session's output learned, as logged: counts only, never the items.
    pub fn from_dh(learned: &crate::protocol::dh::Learned) -> Learned {
        use crate::protocol::dh::Learned as Dh;
        match learned {
            Dh::Nothing => Learned::Nothing,
            Dh::Cardinality(n) => Learned::Cardinality(*n as u64),
            Dh::Matches(m) => Learned::Matches(m.len() as u64),
        }
    }

    /// The number of matches learned (`None` for [`Learned::Nothing`] and
    /// [`Learned::Undisclosed`]).
    pub fn count(&self) -> Option<u64> {
        match self {
            Learned::Nothing | Learned::Undisclosed => None,
            Learned::Cardinality(n) | Learned::Matches(n) => Some(*n),
        }
    }
}

/// How a completed session ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    /// What we learned.
    pub own_learned: Learned,
    /// What the peer learned (derived from the mode and roles).
    pub peer_learned: Learned,
    /// Path of the output file we wrote, if any.
    pub output_file: Option<String>,
    /// Entries written before commitments: the plain SHA3-256 of the output file's bytes
    /// (hex). New entries write `null` here and the commitment below.
    pub output_sha3_256: Option<String>,
    /// The keyed commitment to the output ([`super::CommitmentKey::commit_file`]): checkable
    /// only with the agency's commitment key, so a small output of a public list cannot be
    /// found by hashing candidates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_commitment: Option<String>,
}

/// One event of the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum Event {
    /// A session passed the policy and budget checks and is about to send elements.
    SessionStarted {
        /// The session.
        session: SessionInfo,
        /// The exporter and both hellos, so anyone can recompute the transcript hash that the
        /// receipts sign (absent in entries written before it was recorded).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        handshake: Option<HandshakeRecord>,
        /// The protocol, our policy's name and retention, revealed columns (absent in entries
        /// written before they were recorded).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        terms: Option<SessionTerms>,
    },
    /// A session completed.
    SessionEnded {
        /// The session.
        session: SessionInfo,
        /// What each side learned and the output written.
        outcome: Outcome,
        /// Labeled mode: the payload column names revealed to the receiver (absent when
        /// none, and in entries written before they were recorded).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        revealed_columns: Vec<String>,
    },
    /// A session was aborted.
    SessionAborted {
        /// The session.
        session: SessionInfo,
        /// Why (our local error message; never sent to the peer).
        reason: String,
        /// The reason in one stable word ([`crate::Error::code`]), for tools; absent in
        /// entries written before it was recorded.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        code: Option<String>,
        /// How far the session got (absent in entries written before it was recorded).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stage: Option<AbortStage>,
        /// From [`AbortStage::BodyDone`] on: what we computed, and so what the peer could
        /// compute, had the session completed (counts, as in [`Outcome`]).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        own_learned: Option<Learned>,
        /// See `own_learned`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        peer_learned: Option<Learned>,
        /// A bucketed session: the buckets of the logical session finished before the abort
        /// (from 0, counting those a resumed session took over). With a checkpoint, a later
        /// attempt resumes after those both sides finished.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        buckets_finished: Option<u32>,
    },
    /// A session was refused by the policy or the query budget before any element was sent.
    SessionRefused {
        /// SHA-256 fingerprint of the peer's certificate (hex).
        peer_fingerprint: String,
        /// The mode asked for.
        mode: String,
        /// The policy rule that refused it.
        rule: String,
        /// Why.
        detail: String,
    },
    /// The peer's signed receipt for a session, checked before logging.
    PeerReceipt {
        /// Session id (hex).
        session_id: String,
        /// The peer's identity public key (hex).
        peer_key: String,
        /// The outcome the peer signed.
        outcome: ReceiptOutcome,
        /// The full receipt (hex: 391 bytes, 287 for a version 2 receipt), so anyone can
        /// re-verify it.
        receipt: String,
        /// The peer's audit log checkpoint the receipt carries (absent for a version 2
        /// receipt): what `audit checkpoints` exports and `audit witness` checks the peer's
        /// log against.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        checkpoint: Option<LoggedCheckpoint>,
    },
    // Refusals before admission (issue 14): kept together.
    /// We refused the session handshake: the two hellos disagree (`protocol-spec/04` section
    /// 4.3.2), for example on the policy digest or the mode. Nothing was admitted or sent
    /// but the hellos.
    HandshakeRefused {
        /// SHA-256 fingerprint of the peer's certificate (hex).
        peer_fingerprint: String,
        /// The mode we asked for.
        mode: String,
        /// The fields that differ ([`crate::error::Mismatch::code`]), in the hello's order.
        mismatches: Vec<String>,
        /// Every difference in words, with both values.
        detail: String,
    },
    /// We refused the peer's certificate during the TLS handshake (neither pinned nor chained
    /// to a configured CA, or none presented): no session byte was exchanged.
    CertificateRefused {
        /// SHA-256 fingerprint of the certificate presented (hex), when there was one.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        peer_fingerprint: Option<String>,
        /// Our role: `"initiator"` (we connected) or `"responder"` (we accepted).
        role: String,
        /// Why, in one word ([`crate::Error::code`], for example `tls.peer_refused`).
        code: String,
        /// Why, in words (rustls' explanation).
        detail: String,
    },
    /// `audit recover` removed a torn last line (an append cut short by a crash, which the
    /// head did not count, so no receipt or peer can have seen it).
    LogRecovered {
        /// Bytes removed from the end of the log.
        removed_bytes: u64,
        /// The copy of the log as it was, kept beside it (file name).
        copy: String,
        /// SHA3-256 of the copy (hex, [`super::file_digest`]).
        copy_sha3_256: String,
    },
}

impl Event {
    /// The entry logging the peer's checked receipt, with the checkpoint it carries.
    pub fn peer_receipt(receipt: &SessionReceipt) -> Event {
        Event::PeerReceipt {
            session_id: hex::encode(receipt.session_id),
            peer_key: hex::encode(receipt.signer.as_bytes()),
            outcome: receipt.outcome,
            receipt: hex::encode(receipt.encode()),
            checkpoint: receipt.checkpoint.as_ref().map(|c| c.logged()),
        }
    }
}

/// The signed part of a log line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// Position in the log, from 0.
    pub seq: u64,
    /// When the entry was written (RFC 3339, UTC, seconds).
    pub time: String,
    /// Hash of the previous line (hex; 64 zeros for the first entry).
    pub prev: String,
    /// The signer's identity public key (hex).
    pub signer: String,
    /// What happened.
    pub event: Event,
}

/// A whole log line: the entry and its signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Line {
    pub(crate) entry: Entry,
    pub(crate) sig: String,
}
