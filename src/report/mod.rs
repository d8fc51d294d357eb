//! Disclosure reports for a compliance officer: per session, the two agencies, the policy
//! (name and digest), the protocol and mode, the revealed label columns and the output
//! retention, what each side learned (in words from one table, [`learned::TABLE`], that
//! mirrors `protocol-spec/02-security-model.md` section 2.2, qualified by how far an aborted
//! session got; for our side the matched records, read back from the output file only if it
//! still matches the log), the peer's receipt, refused handshakes, certificates and sessions,
//! and the verification status of the log with how many entries were left out; with a chart of
//! results per session over time.
//!
//! Two renderings of one [`Disclosure`]: [`html::render`] (a self-contained page: inline CSS
//! and inline SVG, no external resource of any kind) and [`markdown::render`].
//!
//! ```no_run
//! # fn main() -> blindmatch::Result<()> {
//! use blindmatch::{audit, report};
//! let verified = audit::verify("audit.jsonl".as_ref(), &[])?;
//! let mut d = report::Disclosure::build("audit.jsonl", &verified, &report::Filter::All);
//! d.attach_outputs(100, None); // with the agency's CommitmentKey, outputs are checked
//! std::fs::write("report.html", report::html::render(&d))
//!     .map_err(|e| blindmatch::Error::io("writing report.html", e))?;
//! # Ok(()) }
//! ```

mod attempts;
mod chart;
mod escape;
pub mod html;
pub mod learned;
pub mod markdown;

use crate::audit::{
    AbortStage, Event, Learned, Outcome, ReceiptOutcome, Report, SessionInfo, SessionTerms,
};
use std::collections::HashMap;

use crate::error::AuditProblem;

pub use attempts::AttemptReport;
use learned::{Reached, Words};

/// Which sessions a report covers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Filter {
    /// Every session in the log.
    All,
    /// One session, by its hex id (a unique prefix is enough).
    Session(String),
    /// Sessions started on or after this date or time (RFC 3339 or `YYYY-MM-DD`, compared as
    /// UTC text).
    Since(String),
}

/// An aborted session, as its `session_aborted` entry says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Abort {
    /// Our local reason.
    pub reason: String,
    /// The reason in one word, if logged.
    pub code: Option<String>,
    /// How far the session got, if logged.
    pub stage: Option<AbortStage>,
    /// What we had computed (from [`AbortStage::BodyDone`] on), if logged.
    pub own_learned: Option<Learned>,
    /// What the peer could compute, if logged.
    pub peer_learned: Option<Learned>,
    /// A bucketed session: the logical session's buckets finished before the abort, if
    /// logged.
    pub buckets_finished: Option<u32>,
}

/// How a session ended, as far as the log says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// Completed, with what each side learned.
    Completed(Outcome),
    /// Aborted.
    Aborted(Abort),
    /// Started but neither ended nor aborted in the log (crash, or still running).
    Unfinished,
}

/// The matched records of a completed session, read back from its output file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Records {
    /// Not requested or no output file.
    NotIncluded,
    /// The file's digest matches the log: its first lines (header first) and the total count.
    Verified {
        /// Up to the requested number of lines, header included.
        lines: Vec<String>,
        /// Data rows in the file.
        total_rows: usize,
    },
    /// The file is missing or changed since the session (the string says which).
    Unavailable(String),
}

/// One session as reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionReport {
    /// The session as logged at its start (or end).
    pub info: SessionInfo,
    /// The protocol, policy name, retention and revealed columns logged at its start (absent
    /// in logs written before they were recorded).
    pub terms: Option<SessionTerms>,
    /// The payload columns revealed (labeled mode): from its end entry, else its start.
    pub revealed_columns: Vec<String>,
    /// When it started (RFC 3339).
    pub started: String,
    /// When it ended or aborted, if it did.
    pub finished: Option<String>,
    /// How it ended.
    pub status: Status,
    /// The outcome the peer signed in its receipt, if we logged one.
    pub peer_receipt: Option<ReceiptOutcome>,
    /// Our matched records, if attached.
    pub records: Records,
    /// A logical session resumed after an interruption (`protocol-spec/09-buckets.md`
    /// section 9.12): every attempt, first to last (the entry shows the last one's result
    /// and the first one's start). Empty for a session run in one attempt.
    pub attempts: Vec<AttemptReport>,
}

impl SessionReport {
    fn new(info: &SessionInfo, time: &str) -> SessionReport {
        SessionReport {
            info: info.clone(),
            terms: None,
            revealed_columns: Vec::new(),
            started: time.to_owned(),
            finished: None,
            status: Status::Unfinished,
            peer_receipt: None,
            records: Records::NotIncluded,
            attempts: Vec::new(),
        }
    }

    /// The protocol that ran: `"dh"`, `"oprf"`, or `None` when the log does not say (then
    /// the mode decides what each side learned, [`learned::row`]).
    pub fn protocol(&self) -> Option<&str> {
        self.terms.as_ref().map(|t| t.protocol.as_str())
    }

    fn reached(&self) -> Reached {
        match &self.status {
            Status::Completed(_) => Reached::Completed,
            // An entry that did not record its stage, after the peer's receipt was logged:
            // receipts follow both `Done`, so it aborted after them.
            Status::Aborted(Abort { stage: None, .. })
                if self.peer_receipt == Some(ReceiptOutcome::Completed) =>
            {
                Reached::Aborted(Some(AbortStage::AfterReceipts))
            }
            Status::Aborted(a) => Reached::Aborted(a.stage),
            Status::Unfinished => Reached::Unfinished,
        }
    }

    fn counts(&self) -> (Option<Learned>, Option<Learned>) {
        match &self.status {
            Status::Completed(o) => (Some(o.own_learned), Some(o.peer_learned)),
            Status::Aborted(a) => (a.own_learned, a.peer_learned),
            Status::Unfinished => (None, None),
        }
    }

    fn words(&self, own: bool) -> Option<Words<'_>> {
        let row = learned::row(self.protocol(), &self.info.mode)?;
        let (ours, theirs) = self.counts();
        let role = self.info.role.as_str();
        let peer_role = if role == "responder" {
            "initiator"
        } else {
            "responder"
        };
        Some(Words {
            reveals: learned::reveals(row, if own { role } else { peer_role }),
            learned: if own { ours } else { theirs },
            other_sent: if own {
                self.info.peer_sent
            } else {
                self.info.own_sent
            },
            columns: &self.revealed_columns,
        })
    }

    /// What we learned, in words ([`learned::TABLE`], qualified by how far the session got).
    pub fn own_learned(&self) -> String {
        match self.words(true) {
            Some(w) => learned::ours(&w, self.reached()),
            None => format!("unknown (mode `{}` is not in the table)", self.info.mode),
        }
    }

    /// What the peer learned, in words: an abort after the peer's receipt says what its
    /// receipt shows it completed.
    pub fn peer_learned(&self) -> String {
        let completed = self.peer_receipt == Some(ReceiptOutcome::Completed);
        match self.words(false) {
            Some(w) => learned::theirs(&w, self.reached(), completed),
            None => format!("unknown (mode `{}` is not in the table)", self.info.mode),
        }
    }

    /// The set sizes in words: what each side sent, and our true size only if
    /// `include_local` (it is what padding hides from the peer).
    pub fn set_sizes(&self, include_local: bool) -> String {
        let i = &self.info;
        match (include_local, i.true_own_unique()) {
            (true, Some(n)) => format!(
                "we sent {}, the peer sent {}; our true size {n} (local: not for sharing)",
                i.own_sent, i.peer_sent
            ),
            _ => format!("we sent {}, the peer sent {}", i.own_sent, i.peer_sent),
        }
    }

    /// The matched items we learned and recorded: a completed session's revealed matches
    /// (0 for count-only sessions, which [`SessionReport::own_count`] gives, and for sessions
    /// that did not complete).
    pub fn own_matches(&self) -> u64 {
        match &self.status {
            Status::Completed(Outcome {
                own_learned: Learned::Matches(n),
                ..
            }) => *n,
            _ => 0,
        }
    }

    /// The intersection size a completed count-only session gave us (0 otherwise).
    pub fn own_count(&self) -> u64 {
        match &self.status {
            Status::Completed(Outcome {
                own_learned: Learned::Cardinality(n),
                ..
            }) => *n,
            _ => 0,
        }
    }

    /// The policy in words: its name (if logged) and digest.
    pub fn policy(&self) -> String {
        match &self.terms {
            Some(t) => format!("{} ({})", t.policy_name, self.info.policy_digest),
            None => format!("(name not logged) ({})", self.info.policy_digest),
        }
    }

    /// The protocol in words.
    pub fn protocol_text(&self) -> String {
        match self.protocol() {
            Some(name) => match crate::session::Protocol::from_name(name) {
                Some(p) => format!("{} ({name})", p.title()),
                None => name.to_owned(),
            },
            None => "not logged".to_owned(),
        }
    }

    /// The revealed label columns in words.
    pub fn columns_text(&self) -> String {
        if !self.revealed_columns.is_empty() {
            self.revealed_columns.join(", ")
        } else if self.info.mode == "labeled" {
            "not logged".to_owned()
        } else {
            "none (not a labeled session)".to_owned()
        }
    }

    /// How the session was split, in words: its buckets (`protocol-spec/09-buckets.md`) and,
    /// for a shard of a logical session (9.11), which shard of how many and the logical
    /// session's key, by which the shards' entries in both agencies' logs are joined.
    pub fn split_text(&self) -> String {
        let Some(t) = &self.terms else {
            return "not logged".to_owned();
        };
        let buckets = match t.buckets {
            Some(b) if b > 1 => format!("{b} buckets"),
            _ => "one bucket".to_owned(),
        };
        match &t.shard {
            Some(s) => format!(
                "shard {}/{} of logical session {}; {buckets}",
                s.index, s.count, s.logical_session
            ),
            None => format!("not sharded; {buckets}"),
        }
    }

    /// The attempts at the logical session in words: `one` for a session run in one attempt,
    /// else each attempt and how far it got.
    pub fn attempts_text(&self) -> String {
        if self.attempts.is_empty() {
            return "one".to_owned();
        }
        let buckets = self.terms.as_ref().and_then(|t| t.buckets);
        let each: Vec<String> = self
            .attempts
            .iter()
            .enumerate()
            .map(|(i, a)| format!("{}. {}", i + 1, a.text(buckets)))
            .collect();
        format!(
            "{} (interrupted and resumed from its checkpoint): {}",
            self.attempts.len(),
            each.join("; ")
        )
    }

    /// The output retention in words.
    pub fn retention_text(&self) -> String {
        match &self.terms {
            Some(t) => format!("{} days (our policy)", t.output_retention_days),
            None => "not logged".to_owned(),
        }
    }
}

/// What refused a connection or session before any element moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalKind {
    /// The policy or the query budget (`session_refused`).
    Policy,
    /// The session handshake: the hellos disagree, or a resumption's terms differ from its
    /// checkpoint's (`handshake_refused`).
    Handshake,
    /// The peer's certificate, at TLS (`certificate_refused`).
    Certificate,
}

impl RefusalKind {
    /// In words, for the report's table.
    pub fn as_str(self) -> &'static str {
        match self {
            RefusalKind::Policy => "policy or budget",
            RefusalKind::Handshake => "handshake",
            RefusalKind::Certificate => "certificate",
        }
    }
}

/// A refusal: by the policy or the budget, of a handshake, or of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What refused.
    pub kind: RefusalKind,
    /// When (RFC 3339).
    pub time: String,
    /// The peer's certificate fingerprint (`"(none)"` when it presented none).
    pub peer_fingerprint: String,
    /// The mode asked for (`"—"` for a certificate refusal).
    pub mode: String,
    /// The rule, the mismatching fields, or the TLS reason code.
    pub rule: String,
    /// Why.
    pub detail: String,
}

/// Everything a report shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disclosure {
    /// The log's name as given.
    pub log_name: String,
    /// Whether the log verified completely under a pinned key (an UNPINNED log, only
    /// self-consistent, is not verified).
    pub verified: bool,
    /// What is wrong with the log, if it did not verify ([`Report::problem`]).
    pub problem: Option<AuditProblem>,
    /// The verification summary line ([`Report::summary`]: the problem in words).
    pub verification: String,
    /// The signer keys of the log (hex).
    pub signers: Vec<String>,
    /// Whether the signer keys were pinned with `--key`.
    pub keys_pinned: bool,
    /// Entries the report is built from: those before the first bad one.
    pub entries_used: usize,
    /// Lines of the log left out: the bad entry and every one after it (0 for a log that
    /// verified; a head problem leaves none out but still fails verification).
    pub entries_left_out: usize,
    /// The sessions, in log order.
    pub sessions: Vec<SessionReport>,
    /// The refusals, in log order (for `Filter::Session`, none).
    pub refusals: Vec<Refusal>,
    /// When the report was made (RFC 3339).
    pub generated: String,
    /// Whether the report shows our true set sizes (local fields of the log, which padding
    /// hides from the peer): off unless asked for, so a report can be shared.
    pub include_local: bool,
}

impl Disclosure {
    /// Builds a report from a verified log. Only the entries before the first bad one are used
    /// (a damaged log is reported as such, prominently, with the number of entries left out).
    pub fn build(log_name: &str, verified: &Report, filter: &Filter) -> Disclosure {
        let mut sessions: Vec<SessionReport> = Vec::new();
        let mut refusals = Vec::new();
        let find = |sessions: &mut Vec<SessionReport>, session: &SessionInfo, time: &str| {
            sessions
                .iter()
                .rposition(|s| s.info.session_id == session.session_id)
                .unwrap_or_else(|| {
                    sessions.push(SessionReport::new(session, time));
                    sessions.len() - 1
                })
        };
        for entry in &verified.entries {
            match &entry.event {
                Event::SessionStarted { session, terms, .. } => {
                    let mut s = SessionReport::new(session, &entry.time);
                    s.terms = terms.clone();
                    s.revealed_columns = terms
                        .as_ref()
                        .map(|t| t.revealed_columns.clone())
                        .unwrap_or_default();
                    sessions.push(s);
                }
                Event::SessionEnded {
                    session,
                    outcome,
                    revealed_columns,
                } => {
                    let i = find(&mut sessions, session, &entry.time);
                    sessions[i].info = session.clone();
                    sessions[i].finished = Some(entry.time.clone());
                    sessions[i].status = Status::Completed(outcome.clone());
                    if !revealed_columns.is_empty() {
                        sessions[i].revealed_columns = revealed_columns.clone();
                    }
                }
                Event::SessionAborted {
                    session,
                    reason,
                    code,
                    stage,
                    own_learned,
                    peer_learned,
                    buckets_finished,
                } => {
                    let i = find(&mut sessions, session, &entry.time);
                    sessions[i].finished = Some(entry.time.clone());
                    sessions[i].status = Status::Aborted(Abort {
                        reason: reason.clone(),
                        code: code.clone(),
                        stage: *stage,
                        own_learned: *own_learned,
                        peer_learned: *peer_learned,
                        buckets_finished: *buckets_finished,
                    });
                }
                Event::PeerReceipt {
                    session_id,
                    outcome,
                    ..
                } => {
                    if let Some(s) = sessions
                        .iter_mut()
                        .rev()
                        .find(|s| &s.info.session_id == session_id)
                    {
                        s.peer_receipt = Some(*outcome);
                    }
                }
                Event::SessionRefused {
                    peer_fingerprint,
                    mode,
                    rule,
                    detail,
                } => refusals.push(Refusal {
                    kind: RefusalKind::Policy,
                    time: entry.time.clone(),
                    peer_fingerprint: peer_fingerprint.clone(),
                    mode: mode.clone(),
                    rule: rule.clone(),
                    detail: detail.clone(),
                }),
                Event::HandshakeRefused {
                    peer_fingerprint,
                    mode,
                    mismatches,
                    detail,
                } => refusals.push(Refusal {
                    kind: RefusalKind::Handshake,
                    time: entry.time.clone(),
                    peer_fingerprint: peer_fingerprint.clone(),
                    mode: mode.clone(),
                    rule: mismatches.join(", "),
                    detail: detail.clone(),
                }),
                Event::CertificateRefused {
                    peer_fingerprint,
                    code,
                    detail,
                    ..
                } => refusals.push(Refusal {
                    kind: RefusalKind::Certificate,
                    time: entry.time.clone(),
                    peer_fingerprint: peer_fingerprint
                        .clone()
                        .unwrap_or_else(|| "(none)".to_owned()),
                    mode: "—".to_owned(),
                    rule: code.clone(),
                    detail: detail.clone(),
                }),
                // A recovery is about the log, not a session: `audit verify` lists it.
                Event::LogRecovered { .. } => {}
            }
        }
        let mut sessions = join_attempts(sessions);
        match filter {
            Filter::All => {}
            Filter::Session(id) => {
                let id = id.to_ascii_lowercase();
                sessions.retain(|s| {
                    s.info.session_id.starts_with(&id)
                        || s.attempts.iter().any(|a| a.session_id.starts_with(&id))
                });
                refusals.clear();
            }
            Filter::Since(date) => {
                sessions.retain(|s| s.started.as_str() >= date.as_str());
                refusals.retain(|r| r.time.as_str() >= date.as_str());
            }
        }
        Disclosure {
            log_name: log_name.to_owned(),
            verified: verified.is_ok() && verified.keys_pinned,
            problem: verified.problem(),
            verification: verified.summary(),
            signers: verified.signers.clone(),
            keys_pinned: verified.keys_pinned,
            entries_used: verified.entries.len(),
            entries_left_out: verified.lines.saturating_sub(verified.entries.len()),
            sessions,
            refusals,
            generated: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            include_local: false,
        }
    }

    /// Why entries were left out, in words (`None` when none were).
    pub fn left_out_text(&self) -> Option<String> {
        if self.entries_left_out == 0 {
            return None;
        }
        let why = self
            .problem
            .as_ref()
            .map_or_else(|| "it failed verification".to_owned(), |p| p.to_string());
        Some(format!(
            "{} of the log's {} entries were left out: this report shows only the {} entries \
             before the first bad one (entry {}: {why}); what the rest recorded is not shown \
             and cannot be trusted",
            self.entries_left_out,
            self.entries_used + self.entries_left_out,
            self.entries_used,
            self.entries_used
        ))
    }

    /// Reads back each completed session's output file, if it still matches the log's
    /// commitment (checked with `key`, the agency's commitment key; without it a committed
    /// output cannot be checked and is not shown) or, in entries written before commitments,
    /// its plain SHA3-256, keeping at most `max_lines` lines (header included) per session.
    pub fn attach_outputs(&mut self, max_lines: usize, key: Option<&crate::audit::CommitmentKey>) {
        for s in &mut self.sessions {
            let Status::Completed(o) = &s.status else {
                continue;
            };
            let Some(file) = &o.output_file else {
                continue;
            };
            let path = std::path::Path::new(file);
            let check = match (&o.output_commitment, &o.output_sha3_256, key) {
                (Some(want), _, Some(key)) => {
                    key.commit_file(path).map(|d| (d, want, "commitment"))
                }
                (Some(_), _, None) => {
                    s.records = Records::Unavailable(format!(
                        "{file}: its logged commitment needs the agency's {} to be checked",
                        crate::audit::COMMITMENT_KEY_FILE
                    ));
                    continue;
                }
                (None, Some(want), _) => {
                    crate::audit::file_digest(path).map(|d| (d, want, "SHA3-256"))
                }
                (None, None, _) => continue,
            };
            s.records = match check {
                Err(e) => Records::Unavailable(format!("{file}: {e}")),
                Ok((d, want, what)) if &d != want => Records::Unavailable(format!(
                    "{file} changed since the session ({what} {d}, logged {want})"
                )),
                Ok(_) => match std::fs::read_to_string(path) {
                    Ok(text) => {
                        let total_rows = text.lines().count().saturating_sub(1);
                        let lines = text.lines().take(max_lines).map(str::to_owned).collect();
                        Records::Verified { lines, total_rows }
                    }
                    Err(e) => Records::Unavailable(format!("{file}: {e}")),
                },
            };
        }
    }

    /// Total matched items we learned across the reported sessions (revealed matches only:
    /// count-only results are in [`Disclosure::total_own_counts`]).
    pub fn total_own_matches(&self) -> u64 {
        self.sessions.iter().map(SessionReport::own_matches).sum()
    }

    /// Total of the intersection sizes count-only sessions gave us (no item was revealed).
    pub fn total_own_counts(&self) -> u64 {
        self.sessions.iter().map(SessionReport::own_count).sum()
    }

    /// Refusals of each kind.
    pub fn refusals_of(&self, kind: RefusalKind) -> usize {
        self.refusals.iter().filter(|r| r.kind == kind).count()
    }
}

/// One attempt's line of [`SessionReport::attempts`].
fn attempt_of(s: &SessionReport) -> AttemptReport {
    let outcome = match &s.status {
        Status::Completed(_) => "completed".to_owned(),
        Status::Aborted(a) => match &a.code {
            Some(c) => format!("aborted ({c})"),
            None => "aborted".to_owned(),
        },
        Status::Unfinished => "unfinished".to_owned(),
    };
    let (buckets_done, buckets_finished) = match (&s.terms, &s.status) {
        (Some(t), Status::Aborted(a)) => (
            t.resumes.as_ref().map_or(0, |r| r.buckets_done),
            a.buckets_finished,
        ),
        (Some(t), _) => (t.resumes.as_ref().map_or(0, |r| r.buckets_done), None),
        (None, _) => (0, None),
    };
    AttemptReport {
        session_id: s.info.session_id.clone(),
        started: s.started.clone(),
        outcome,
        buckets_done,
        buckets_finished,
    }
}

/// Joins each resumed session into the entry of the logical session it continued (at the
/// first attempt's place, with the last attempt's result); sessions that were never resumed
/// are left as they are, with no attempts listed.
fn join_attempts(sessions: Vec<SessionReport>) -> Vec<SessionReport> {
    let mut out: Vec<SessionReport> = Vec::with_capacity(sessions.len());
    let mut by_logical: HashMap<String, usize> = HashMap::new();
    for s in sessions {
        let resumes = s
            .terms
            .as_ref()
            .and_then(|t| t.resumes.as_ref())
            .map(|r| r.session.clone());
        let target = resumes.as_ref().and_then(|id| by_logical.get(id).copied());
        match target {
            Some(i) => {
                let first = &mut out[i];
                if first.attempts.is_empty() {
                    first.attempts.push(attempt_of(first));
                }
                let mut attempts = std::mem::take(&mut first.attempts);
                attempts.push(attempt_of(&s));
                let started = std::mem::take(&mut first.started);
                *first = s;
                first.started = started;
                first.attempts = attempts;
            }
            None => {
                let logical = resumes.unwrap_or_else(|| s.info.session_id.clone());
                by_logical.insert(logical, out.len());
                out.push(s);
            }
        }
    }
    out
}
