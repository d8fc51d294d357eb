//! The agency's side of a session's effects ([`crate::session::Effect`]): admission under the
//! policy and the budget lock, audit appends, receipt signatures, the output. Runs on the
//! driver's blocking thread.

use std::sync::Arc;

use crate::audit::{Event, SessionReceipt};
use crate::budget::{self, BudgetStore};
use crate::error::Result;
use crate::session::{AdmissionRequest, BodyOutput, Completion, Effect, OutputRecord};
use crate::transport::machine::Perform;

use super::{lock, policy_kinds, Agency, BUDGET_LOCK_WAIT};

/// Where a session's result goes once both receipts are exchanged: a CSV file, a database, a
/// channel. The agency logs the record it returns (location and SHA3-256 of what was written).
pub trait OutputSink: Send + Sync + 'static {
    /// Writes what we learned in session `session_id`; `None` when there is nothing to write
    /// (for example the responder of an intersection session).
    ///
    /// # Errors
    /// Any error: the session is logged as aborted with it (the peer already holds our
    /// receipt).
    fn write(&self, output: &BodyOutput, session_id: &[u8; 32]) -> Result<Option<OutputRecord>>;
}

/// Unix seconds now.
pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

pub(crate) struct AgencyPerformer {
    pub(crate) agency: Agency,
    pub(crate) sink: Arc<dyn OutputSink>,
}

impl AgencyPerformer {
    fn with_budget<T>(&self, f: impl FnOnce(&mut BudgetStore) -> Result<T>) -> Result<T> {
        let path = &self.agency.inner.budget_state;
        let lock = lock::open_lock(path)?;
        lock::lock_exclusive(&lock, path, BUDGET_LOCK_WAIT)?;
        let mut store = BudgetStore::open(path)?;
        f(&mut store)
    }

    fn admit(&self, req: &AdmissionRequest) -> Result<()> {
        let policy = &self.agency.inner.policy;
        let request = crate::policy::SessionRequest {
            mode: req.terms.mode.as_str().to_owned(),
            own_count: req.own_unique,
            peer_count: Some(req.terms.peer_count()),
            kinds: policy_kinds(policy, &req.terms.key_kinds),
            peer_fingerprint: req.peer.to_string(),
            revealed_columns: Vec::new(),
            prior_cardinality_run: false,
        };
        self.with_budget(|store| budget::admit_session(policy, store, None, &request, now()))
    }

    fn log(&self, event: Event) -> Result<()> {
        let cardinality_with = match &event {
            Event::SessionEnded { session, .. } if session.mode == "cardinality" => {
                Some(session.peer_fingerprint.clone())
            }
            _ => None,
        };
        self.agency.inner.log.append(event)?;
        if let Some(peer) = cardinality_with {
            // The count-only run the `cardinality_before_reveal` rule asks for happened.
            self.with_budget(|store| store.record_cardinality_run(&peer, now()))?;
        }
        Ok(())
    }
}

impl Perform<Effect, Completion> for AgencyPerformer {
    fn perform(&self, effect: Effect) -> Completion {
        match effect {
            Effect::Admit(req) => Completion::Admission(self.admit(&req)),
            Effect::Log(event) => Completion::Logged(self.log(event)),
            Effect::SignReceipt(mut body) => {
                body.time = now();
                Completion::Signed(SessionReceipt::sign(
                    &body,
                    &self.agency.inner.identity.signing_key,
                ))
            }
            Effect::WriteOutput { output, session_id } => {
                Completion::Written(self.sink.write(&output, &session_id))
            }
        }
    }
}
