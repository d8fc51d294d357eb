//! Disclosure reports for a compliance officer: per session, the two agencies, the policy
//! digest, the mode, what each side learned (counts; for our side the matched records, read
//! back from the output file only if its SHA3-256 still matches the log), the peer's receipt,
//! and the verification status of the log; with a chart of matches per session over time.
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

mod chart;
mod escape;
pub mod html;
pub mod markdown;

use crate::audit::{Event, Outcome, ReceiptOutcome, Report, SessionInfo};
use crate::error::AuditProblem;

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

/// How a session ended, as far as the log says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Status {
    /// Completed, with what each side learned.
    Completed(Outcome),
    /// Aborted, with our local reason.
    Aborted(String),
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
}

impl SessionReport {
    /// What we learned, in words.
    pub fn own_learned(&self) -> String {
        learned_text(&self.status, true)
    }

    /// What the peer learned, in words.
    pub fn peer_learned(&self) -> String {
        learned_text(&self.status, false)
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

    /// The number of matches we learned (0 when we learned nothing or the session failed).
    pub fn own_matches(&self) -> u64 {
        match &self.status {
            Status::Completed(o) => o.own_learned.count().unwrap_or(0),
            _ => 0,
        }
    }
}

fn learned_text(status: &Status, own: bool) -> String {
    use crate::audit::Learned;
    match status {
        Status::Completed(o) => match if own { o.own_learned } else { o.peer_learned } {
            Learned::Nothing => "nothing".to_owned(),
            Learned::Undisclosed => {
                "what the mode reveals to it (how much is not disclosed to us)".to_owned()
            }
            Learned::Cardinality(n) => format!("the count only: {n}"),
            Learned::Matches(n) => format!("{n} matched items"),
        },
        Status::Aborted(_) => "nothing (aborted)".to_owned(),
        Status::Unfinished => "unknown (unfinished)".to_owned(),
    }
}

/// A refusal by the policy or the budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// When (RFC 3339).
    pub time: String,
    /// The peer's certificate fingerprint.
    pub peer_fingerprint: String,
    /// The mode asked for.
    pub mode: String,
    /// The rule that refused it.
    pub rule: String,
    /// Why.
    pub detail: String,
}

/// Everything a report shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disclosure {
    /// The log's name as given.
    pub log_name: String,
    /// Whether the log verified completely.
    pub verified: bool,
    /// What is wrong with the log, if it did not verify ([`Report::problem`]).
    pub problem: Option<AuditProblem>,
    /// The verification summary line ([`Report::summary`]: the problem in words).
    pub verification: String,
    /// The signer keys of the log (hex).
    pub signers: Vec<String>,
    /// Whether the signer keys were pinned with `--key`.
    pub keys_pinned: bool,
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
    /// (a damaged log is reported as such, prominently).
    pub fn build(log_name: &str, verified: &Report, filter: &Filter) -> Disclosure {
        let mut sessions: Vec<SessionReport> = Vec::new();
        let mut refusals = Vec::new();
        let find = |sessions: &mut Vec<SessionReport>, id: &str| {
            sessions.iter().rposition(|s| s.info.session_id == id)
        };
        for entry in &verified.entries {
            match &entry.event {
                Event::SessionStarted { session, .. } => sessions.push(SessionReport {
                    info: session.clone(),
                    started: entry.time.clone(),
                    finished: None,
                    status: Status::Unfinished,
                    peer_receipt: None,
                    records: Records::NotIncluded,
                }),
                Event::SessionEnded { session, outcome } => {
                    let i = find(&mut sessions, &session.session_id).unwrap_or_else(|| {
                        sessions.push(orphan(session, &entry.time));
                        sessions.len() - 1
                    });
                    sessions[i].info = session.clone();
                    sessions[i].finished = Some(entry.time.clone());
                    sessions[i].status = Status::Completed(outcome.clone());
                }
                Event::SessionAborted {
                    session, reason, ..
                } => {
                    let i = find(&mut sessions, &session.session_id).unwrap_or_else(|| {
                        sessions.push(orphan(session, &entry.time));
                        sessions.len() - 1
                    });
                    sessions[i].finished = Some(entry.time.clone());
                    sessions[i].status = Status::Aborted(reason.clone());
                }
                Event::PeerReceipt {
                    session_id,
                    outcome,
                    ..
                } => {
                    if let Some(i) = find(&mut sessions, session_id) {
                        sessions[i].peer_receipt = Some(*outcome);
                    }
                }
                Event::SessionRefused {
                    peer_fingerprint,
                    mode,
                    rule,
                    detail,
                } => refusals.push(Refusal {
                    time: entry.time.clone(),
                    peer_fingerprint: peer_fingerprint.clone(),
                    mode: mode.clone(),
                    rule: rule.clone(),
                    detail: detail.clone(),
                }),
            }
        }
        match filter {
            Filter::All => {}
            Filter::Session(id) => {
                let id = id.to_ascii_lowercase();
                sessions.retain(|s| s.info.session_id.starts_with(&id));
                refusals.clear();
            }
            Filter::Since(date) => {
                sessions.retain(|s| s.started.as_str() >= date.as_str());
                refusals.retain(|r| r.time.as_str() >= date.as_str());
            }
        }
        Disclosure {
            log_name: log_name.to_owned(),
            verified: verified.is_ok(),
            problem: verified.problem(),
            verification: verified.summary(),
            signers: verified.signers.clone(),
            keys_pinned: verified.keys_pinned,
            sessions,
            refusals,
            generated: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            include_local: false,
        }
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

    /// Total matches we learned across the reported sessions.
    pub fn total_own_matches(&self) -> u64 {
        self.sessions.iter().map(SessionReport::own_matches).sum()
    }
}

fn orphan(session: &SessionInfo, time: &str) -> SessionReport {
    SessionReport {
        info: session.clone(),
        started: time.to_owned(),
        finished: None,
        status: Status::Unfinished,
        peer_receipt: None,
        records: Records::NotIncluded,
    }
}
