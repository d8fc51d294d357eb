//! Query budgets: how many sessions each peer may run with us in any 24 hours.
//!
//! [`admit_session`] is the one call the transport needs before sending any element: policy
//! check, budget check, durable count, refusal logged.
//!
//! The counts live in durable local state, a small JSON file replaced atomically (written to a
//! temporary file in the same directory, fsynced, renamed, directory fsynced) on every change,
//! so a crash never loses or corrupts a count. The transport calls [`BudgetStore::admit`]
//! after [`crate::policy::Policy::check_session`] and before any element is evaluated; a
//! refusal is an [`Error::PolicyRefused`] with rule `max_sessions_per_peer_per_day`, which the
//! caller logs with [`crate::audit::AuditLog::session_refused`].
//!
//! A session counts when it is admitted (not when it completes), so aborting sessions cannot be
//! used to probe without limit. The store also remembers when a count-only (cardinality)
//! session with each peer last completed, for the policy's `cardinality_before_reveal` rule.
//! A `BudgetStore` is a snapshot: the networked session
//! ([`crate::agency::Agency`]) opens it fresh under an exclusive lock file
//! at every admission, so several processes may share one state file.
//!
//! ```
//! # fn main() -> blindmatch::Result<()> {
//! use blindmatch::budget::BudgetStore;
//! use blindmatch::policy::Policy;
//! let dir = tempfile::tempdir().map_err(|e| blindmatch::Error::io("tmp", e))?;
//! let mut store = BudgetStore::open(&dir.path().join("budget.json"))?;
//! let policy = Policy::default_policy();
//! store.admit(&policy, "ab12", 1_790_000_000)?;
//! assert_eq!(store.sessions_in_window("ab12", 1_790_000_000), 1);
//! # Ok(()) }
//! ```

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{ConfigReason, Error, PolicyRule, Result};
use crate::policy::Policy;

/// The budget period: 24 hours, in seconds.
pub const PERIOD_SECONDS: i64 = 24 * 60 * 60;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct State {
    version: u32,
    peers: BTreeMap<String, PeerState>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeerState {
    /// Unix seconds of each admitted session within the last period.
    sessions: Vec<i64>,
    /// Unix seconds of the last completed cardinality session.
    last_cardinality_run: Option<i64>,
}

/// Durable per-peer session counts. See the module docs.
#[derive(Debug)]
pub struct BudgetStore {
    path: PathBuf,
    state: State,
}

impl BudgetStore {
    /// Opens the state file at `path`, or starts empty if it does not exist yet.
    ///
    /// # Errors
    /// [`Error::Io`] if it cannot be read; [`Error::Config`] with [`ConfigReason::Budget`] if it
    /// is not a budget state file (naming `file:line:column`).
    pub fn open(path: &Path) -> Result<BudgetStore> {
        let state = match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::config(
                    ConfigReason::Budget,
                    format!(
                        "{}:{}:{}: not a blindmatch budget state file ({e}); restore it from \
                         backup (deleting it resets every peer's budget)",
                        path.display(),
                        e.line(),
                        e.column()
                    ),
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => State {
                version: 1,
                peers: BTreeMap::new(),
            },
            Err(e) => {
                return Err(Error::io(
                    format!("reading budget state {}", path.display()),
                    e,
                ))
            }
        };
        Ok(BudgetStore {
            path: path.to_owned(),
            state,
        })
    }

    /// Sessions admitted for `peer` in the 24 hours before `now` (Unix seconds).
    pub fn sessions_in_window(&self, peer: &str, now: i64) -> u64 {
        self.state.peers.get(peer).map_or(0, |p| {
            p.sessions
                .iter()
                .filter(|&&t| t > now - PERIOD_SECONDS && t <= now)
                .count() as u64
        })
    }

    /// Whether a cardinality session with `peer` has completed (see
    /// [`BudgetStore::record_cardinality_run`]).
    pub fn cardinality_run_done(&self, peer: &str) -> bool {
        self.state
            .peers
            .get(peer)
            .is_some_and(|p| p.last_cardinality_run.is_some())
    }

    /// Admits one more session with `peer` at `now` (Unix seconds) if the policy's budget
    /// allows, and durably records it before returning.
    ///
    /// # Errors
    /// [`Error::PolicyRefused`] with rule [`PolicyRule::MaxSessionsPerPeerPerDay`] if the
    /// budget is spent (nothing is recorded); [`Error::Io`] if the state cannot be saved (the session must
    /// then not run).
    pub fn admit(&mut self, policy: &Policy, peer: &str, now: i64) -> Result<()> {
        let used = self.sessions_in_window(peer, now);
        let max = policy.max_sessions_per_peer_per_day();
        if used >= max {
            return Err(Error::refused(
                PolicyRule::MaxSessionsPerPeerPerDay,
                format!(
                    "peer {peer} already ran {used} sessions in the last 24 hours; the policy \
                     allows {max}"
                ),
            ));
        }
        let entry = self.state.peers.entry(peer.to_owned()).or_default();
        entry.sessions.retain(|&t| t > now - PERIOD_SECONDS);
        entry.sessions.push(now);
        self.save()
    }

    /// Records that a cardinality session with `peer` completed at `now`.
    ///
    /// # Errors
    /// [`Error::Io`] if the state cannot be saved.
    pub fn record_cardinality_run(&mut self, peer: &str, now: i64) -> Result<()> {
        self.state
            .peers
            .entry(peer.to_owned())
            .or_default()
            .last_cardinality_run = Some(now);
        self.save()
    }

    fn save(&self) -> Result<()> {
        let ctx = format!("saving budget state {}", self.path.display());
        let io = |e| Error::io(ctx.clone(), e);
        let bytes = serde_json::to_vec_pretty(&self.state)
            .map_err(|e| Error::internal(format!("{ctx}: encoding the state: {e}")))?;
        let dir = self
            .path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
        tmp.write_all(&bytes).map_err(io)?;
        tmp.as_file().sync_all().map_err(io)?;
        tmp.persist(&self.path).map_err(|e| io(e.error))?;
        if let Ok(d) = std::fs::File::open(dir) {
            d.sync_all().map_err(io)?;
        }
        Ok(())
    }
}

/// Everything the transport calls before sending any element: checks `req` against the
/// policy (with `prior_cardinality_run` taken from the store), then the budget, records the
/// admitted session durably, and logs a refusal to `log` if there is one.
///
/// # Errors
/// [`Error::PolicyRefused`] naming the [`PolicyRule`] (already logged; see
/// [`Policy::check_session`] and [`BudgetStore::admit`]); [`Error::Io`] if the budget state or
/// the log cannot be written (the session must then not run).
pub fn admit_session(
    policy: &Policy,
    store: &mut BudgetStore,
    log: Option<&crate::audit::AuditLog>,
    req: &crate::policy::SessionRequest,
    now: i64,
) -> Result<()> {
    let mut req = req.clone();
    req.prior_cardinality_run |= store.cardinality_run_done(&req.peer_fingerprint);
    let verdict = policy
        .check_session(&req)
        .and_then(|()| store.admit(policy, &req.peer_fingerprint, now));
    match verdict {
        Err(refusal @ Error::PolicyRefused(_)) => {
            if let Some(log) = log {
                log.session_refused(&req.peer_fingerprint, &req.mode, &refusal)?;
            }
            Err(refusal)
        }
        other => other,
    }
}
