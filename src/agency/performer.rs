//! The agency's side of a session's effects ([`crate::session::Effect`]): admission under the
//! policy and the budget lock, audit appends, receipt signatures, the output, the checkpoint.
//! Runs on the driver's blocking thread.

use std::sync::Arc;

use crate::audit::{Event, SessionReceipt};
use crate::budget::{self, BudgetStore, Charge};
use crate::checkpoint::Checkpoint;
use crate::error::Result;
use crate::identity::Fingerprint;
use crate::protocol::Role;
use crate::session::SessionMode;
use crate::session::{AdmissionRequest, BodyOutput, Completion, Effect, OutputRecord};
use crate::transport::machine::Perform;

use super::{policy_kinds, Agency, BUDGET_LOCK_WAIT};
use crate::lock;

/// Where a session's result goes once both receipts are exchanged: a CSV file, a database, a
/// channel. The agency logs the record it returns: the location and a keyed commitment to the
/// SHA3-256 of what was written ([`crate::audit::CommitmentKey`]).
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
    /// The index key epoch (hex id) the session serves under, for the evaluation cap.
    pub(crate) key_epoch: Option<String>,
    /// The session's checkpoint, if it keeps one.
    pub(crate) checkpoint: Option<Arc<Checkpoint>>,
}

impl AgencyPerformer {
    /// Who pays for a session with this peer: its certificate, and its agency name only when
    /// the certificate chained to a configured CA (a pinned certificate's name is self-chosen).
    fn payers(&self, fp: &Fingerprint, name: &str) -> Vec<String> {
        let pinned = self.agency.peers().pinned.iter().any(|p| p == fp);
        Charge::payers_of(&fp.to_string(), (!pinned).then_some(name))
    }

    fn with_budget<T>(&self, f: impl FnOnce(&mut BudgetStore) -> Result<T>) -> Result<T> {
        let path = &self.agency.inner.budget_state;
        let lock = lock::open_lock(path)?;
        lock::lock_exclusive(&lock, path, BUDGET_LOCK_WAIT)?;
        let mut store = BudgetStore::open(path)?;
        f(&mut store)
    }

    fn admit(&self, req: &AdmissionRequest) -> Result<()> {
        let policy = &self.agency.inner.policy;
        let kinds = policy_kinds(&req.terms.key_kinds);
        let request = crate::policy::SessionRequest {
            mode: req.terms.mode.as_str().to_owned(),
            own_count: req.own_unique,
            peer_count: Some(req.terms.peer_count()),
            kinds: kinds.clone(),
            peer_fingerprint: req.peer.fingerprint.to_string(),
            revealed_columns: Vec::new(),
            prior_cardinality_run: false,
        };
        // The peer's elements are the values whose membership it tests: charged when it
        // learns something from the session (it is the responder's peer, or the mode is
        // mutual).
        let peer_learns =
            req.terms.role == Role::Responder || req.terms.mode == SessionMode::Mutual;
        let elements = if peer_learns {
            req.terms.peer_count()
        } else {
            0
        };
        let mut charge = Charge::new(
            self.payers(&req.peer.fingerprint, &req.peer.name),
            kinds,
            elements,
        );
        if let Some(epoch) = &self.key_epoch {
            charge = charge.under_key(epoch.clone());
        }
        self.with_budget(|store| {
            budget::admit_session(policy, store, None, &request, &charge, now())
        })
    }

    fn log(&self, event: Event) -> Result<()> {
        let cardinality_with = match &event {
            Event::SessionEnded { session, .. } if session.mode == "cardinality" => {
                let fp = session.peer_fingerprint.parse::<Fingerprint>().ok();
                Some(match fp {
                    Some(fp) => self.payers(&fp, &session.peer_agency),
                    None => vec![format!("cert:{}", session.peer_fingerprint)],
                })
            }
            _ => None,
        };
        self.agency.inner.log.append(event)?;
        if let Some(payers) = cardinality_with {
            // The count-only run the `cardinality_before_reveal` rule asks for happened.
            let policy = &self.agency.inner.policy;
            self.with_budget(|store| store.record_cardinality_run(policy, &payers, now()))?;
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
                // Our log's checkpoint after every append so far, this session's
                // `session_started` among them.
                body.checkpoint = self.agency.inner.log.checkpoint();
                Completion::Signed(SessionReceipt::sign(
                    &body,
                    self.agency.inner.identity.signing_key(),
                ))
            }
            Effect::WriteOutput { output, session_id } => {
                let key = &self.agency.inner.commitment_key;
                Completion::Written(self.sink.write(&output, &session_id).and_then(|record| {
                    record
                        .map(|mut r| {
                            r.commitment = Some(key.commit_hex(&r.sha3_256)?);
                            Ok(r)
                        })
                        .transpose()
                }))
            }
            Effect::Checkpoint(entry) => Completion::Checkpointed(match &self.checkpoint {
                Some(c) => c.record(&entry),
                None => Err(crate::error::Error::internal(
                    "a checkpoint entry for a session that keeps none",
                )),
            }),
        }
    }
}
