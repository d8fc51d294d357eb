//! One attempt at a logical session, as a report lists it (`protocol-spec/09-buckets.md`
//! section 9.12): a session interrupted and resumed, once or more, is one session for its
//! reader ([`crate::report::Disclosure::build`] joins them), whose result is the last
//! attempt's, with every attempt listed and how far each got.

/// One attempt at a logical session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttemptReport {
    /// Its session id (hex).
    pub session_id: String,
    /// When it started (RFC 3339).
    pub started: String,
    /// How it ended, in words: `completed`, `aborted (code)` or `unfinished`.
    pub outcome: String,
    /// The buckets it took from the checkpoint instead of running them (`0..n`).
    pub buckets_done: u32,
    /// The logical session's buckets finished when it aborted, if logged.
    pub buckets_finished: Option<u32>,
}

impl AttemptReport {
    /// The attempt in words, for the report's "Attempts" row.
    pub fn text(&self, buckets: Option<u32>) -> String {
        let id = &self.session_id[..self.session_id.len().min(16)];
        let of = buckets.map_or(String::new(), |b| format!(" of {b}"));
        let from = if self.buckets_done > 0 {
            format!(
                "resumed with {} buckets from the checkpoint, ",
                self.buckets_done
            )
        } else {
            String::new()
        };
        let got = match self.buckets_finished {
            Some(n) => format!(" after {n}{of} buckets"),
            None => String::new(),
        };
        format!("{id}… ({}): {from}{}{got}", self.started, self.outcome)
    }
}
