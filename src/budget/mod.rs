//! Budgets: how much each peer may run against us, counted durably at admission
//! (`protocol-spec/06-policy-and-audit.md` section 4).
//!
//! Three budgets, each charged before any element is evaluated:
//! - **sessions**: at most `max_sessions_per_peer_per_day` sessions admitted *under the policy
//!   in force* (by its digest) in any 24 hours: processes sharing a state file under other
//!   policies do not spend it;
//! - **elements**: per identifier kind, at most `max_elements_per_peer` elements announced by
//!   the peer within the last `element_window_days`, in sessions where the peer learns
//!   something (the elements it sends are the values whose membership it can test);
//! - **evaluations**: at most `max_evaluations_per_receiver_per_key` elements evaluated for
//!   one receiver under one index key epoch.
//!
//! Budgets are charged to every *payer* of a [`Charge`]: the peer's certificate fingerprint
//! and, when the certificate names one, its agency name, so a new certificate for the same
//! agency (under a CA) does not start a fresh budget. A session counts when it is admitted,
//! not when it completes, so aborting sessions cannot be used to probe without limit. The
//! store also remembers, per policy digest, when a count-only session with each payer last
//! completed, for `cardinality_before_reveal`: a count-only run under another policy does not
//! satisfy it. The element and evaluation budgets are not split by policy: they bound what a
//! peer can learn about our lists, whichever policy let it ask.
//!
//! The counts live in a small JSON file replaced atomically (written to a temporary file in
//! the same directory, fsynced, renamed, directory fsynced) on every change, so a crash never
//! loses or corrupts a count. A `BudgetStore` is a snapshot: the networked session
//! ([`crate::agency::Agency`]) opens it fresh under an exclusive lock file at every admission,
//! so several processes may share one state file.
//!
//! ```
//! # fn main() -> blindmatch::Result<()> {
//! use blindmatch::budget::{BudgetStore, Charge};
//! use blindmatch::policy::Policy;
//! let dir = tempfile::tempdir().map_err(|e| blindmatch::Error::io("tmp", e))?;
//! let mut store = BudgetStore::open(&dir.path().join("budget.json"))?;
//! let policy = Policy::default_policy();
//! let charge = Charge::new(vec!["cert:ab12".into()], vec!["imo_ship".into()], 16_384);
//! store.admit(&policy, &charge, 1_790_000_000)?;
//! assert_eq!(store.sessions_in_window("cert:ab12", 1_790_000_000), 1);
//! assert_eq!(store.elements_in_window(&policy, "cert:ab12", "imo_ship", 1_790_000_000), 16_384);
//! # Ok(()) }
//! ```

mod state;

use std::path::{Path, PathBuf};

use crate::error::{ConfigReason, Error, PolicyRule, Result};
use crate::policy::Policy;

use state::{PeerState, State, STATE_VERSION};

/// The session budget's period: 24 hours, in seconds.
pub const PERIOD_SECONDS: i64 = 24 * 60 * 60;

/// Seconds in a day, for the policy's windows given in days.
pub const DAY_SECONDS: i64 = 24 * 60 * 60;

/// The longest element or cardinality window a policy may set, in days; budget entries are
/// kept this long whatever the current policy's window.
pub const MAX_WINDOW_DAYS: u64 = 366;

/// What one admission charges, and to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Charge {
    /// Who pays: `cert:<fingerprint hex>` and, if the certificate names an agency,
    /// `agency:<name>` (see [`Charge::payers_of`]). Every payer's budget must allow it.
    pub payers: Vec<String>,
    /// The identifier kinds of the session's keys, as the policy names them.
    pub kinds: Vec<String>,
    /// Elements charged to each kind: what the peer announced, in sessions where it learns
    /// something; 0 otherwise.
    pub elements: u64,
    /// The index key epoch (hex id) the session is served under, if any: the elements are
    /// also charged to the payer's evaluations under it.
    pub key_epoch: Option<String>,
}

impl Charge {
    /// A charge of `elements` to `kinds`, paid by `payers`, outside any index key epoch.
    pub fn new(payers: Vec<String>, kinds: Vec<String>, elements: u64) -> Self {
        Charge {
            payers,
            kinds,
            elements,
            key_epoch: None,
        }
    }

    /// The same, served under index key epoch `epoch`.
    pub fn under_key(mut self, epoch: String) -> Self {
        self.key_epoch = Some(epoch);
        self
    }

    /// The payers for a peer with this certificate fingerprint (hex) and, when a configured
    /// CA vouched for the name, its agency name (the certificate's common name). A pinned
    /// certificate's name is whatever its holder wrote in it, so it pays by fingerprint only.
    /// Names are compared case-insensitively with runs of whitespace as one space.
    pub fn payers_of(fingerprint: &str, ca_vouched_agency: Option<&str>) -> Vec<String> {
        let mut payers = vec![format!("cert:{fingerprint}")];
        if let Some(name) = ca_vouched_agency {
            let name = name
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase();
            if !name.is_empty() {
                payers.push(format!("agency:{name}"));
            }
        }
        payers
    }
}

/// Durable per-peer budgets. See the module docs.
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
                version: STATE_VERSION,
                ..State::default()
            },
            Err(e) => {
                return Err(Error::io(
                    format!("reading budget state {}", path.display()),
                    e,
                ))
            }
        };
        let state = state::upgrade(state).map_err(|version| {
            Error::config(
                ConfigReason::Budget,
                format!(
                    "{}: budget state version {version} is newer than this blindmatch reads \
                     ({STATE_VERSION})",
                    path.display()
                ),
            )
        })?;
        Ok(BudgetStore {
            path: path.to_owned(),
            state,
        })
    }

    fn peer(&self, payer: &str) -> Option<&PeerState> {
        self.state.peers.get(payer)
    }

    /// Sessions admitted for `payer` in the 24 hours before `now` (Unix seconds), under any
    /// policy.
    pub fn sessions_in_window(&self, payer: &str, now: i64) -> u64 {
        self.peer(payer).map_or(0, |p| {
            let recorded = p.sessions_by_policy.values().flatten();
            in_day(p.sessions.iter().chain(recorded), now)
        })
    }

    /// Sessions admitted for `payer` in the 24 hours before `now` under `policy` (by its
    /// digest): what its `max_sessions_per_peer_per_day` counts. Sessions a version 2 state
    /// file recorded under no policy count against every policy.
    pub fn sessions_in_window_under(&self, policy: &Policy, payer: &str, now: i64) -> u64 {
        let digest = policy.digest_hex();
        self.peer(payer).map_or(0, |p| {
            let recorded = p.sessions_by_policy.get(&digest).into_iter().flatten();
            in_day(p.sessions.iter().chain(recorded), now)
        })
    }

    /// Elements of `kind` charged to `payer` within the policy's element window before `now`.
    pub fn elements_in_window(&self, policy: &Policy, payer: &str, kind: &str, now: i64) -> u64 {
        let from = now - window(policy.element_window_days());
        self.peer(payer)
            .and_then(|p| p.elements.get(kind))
            .map_or(0, |v| {
                v.iter()
                    .filter(|(t, _)| *t > from && *t <= now)
                    .map(|(_, n)| *n)
                    .fold(0u64, u64::saturating_add)
            })
    }

    /// Elements evaluated for `payer` under index key epoch `epoch` (hex id).
    pub fn evaluations(&self, payer: &str, epoch: &str) -> u64 {
        self.peer(payer)
            .and_then(|p| p.evaluations.get(epoch))
            .copied()
            .unwrap_or(0)
    }

    /// Whether a count-only session with any of `payers` completed under the policy whose
    /// digest is `policy_digest` within the policy's `cardinality_window_days` before `now`.
    pub fn recent_cardinality_run(&self, policy: &Policy, payers: &[String], now: i64) -> bool {
        let digest = policy.digest_hex();
        let from = now - window(policy.cardinality_window_days());
        payers.iter().any(|payer| {
            self.peer(payer)
                .and_then(|p| p.cardinality_runs.get(&digest))
                .is_some_and(|&t| t > from && t <= now)
        })
    }

    /// Admits one more session if every budget of every payer allows it, and durably records
    /// it before returning. Nothing is recorded on a refusal.
    ///
    /// # Errors
    /// [`Error::PolicyRefused`] with rule [`PolicyRule::MaxSessionsPerPeerPerDay`],
    /// [`PolicyRule::MaxElementsPerPeer`] or [`PolicyRule::MaxEvaluationsPerReceiverPerKey`];
    /// [`Error::Io`] if the state cannot be saved (the session must then not run).
    pub fn admit(&mut self, policy: &Policy, charge: &Charge, now: i64) -> Result<()> {
        for payer in &charge.payers {
            self.check(policy, charge, payer, now)?;
        }
        // Entries are kept for the longest window any policy may set, not only this policy's:
        // processes sharing the file under other policies still need them.
        let window_start = now - window(MAX_WINDOW_DAYS);
        let digest = policy.digest_hex();
        for payer in &charge.payers {
            let entry = self.state.peers.entry(payer.clone()).or_default();
            entry.sessions.retain(|&t| t > now - PERIOD_SECONDS);
            for admitted in entry.sessions_by_policy.values_mut() {
                admitted.retain(|&t| t > now - PERIOD_SECONDS);
            }
            entry.sessions_by_policy.retain(|_, v| !v.is_empty());
            entry
                .sessions_by_policy
                .entry(digest.clone())
                .or_default()
                .push(now);
            for spent in entry.elements.values_mut() {
                spent.retain(|(t, _)| *t > window_start);
            }
            entry.elements.retain(|_, v| !v.is_empty());
            // A count-only run older than the longest cardinality window can satisfy no policy.
            entry.cardinality_runs.retain(|_, t| *t > window_start);
            if charge.elements > 0 {
                for kind in &charge.kinds {
                    entry
                        .elements
                        .entry(kind.clone())
                        .or_default()
                        .push((now, charge.elements));
                }
                if let Some(epoch) = &charge.key_epoch {
                    let n = entry.evaluations.entry(epoch.clone()).or_default();
                    *n = n.saturating_add(charge.elements);
                }
            }
        }
        self.state.version = STATE_VERSION;
        self.save()
    }

    fn check(&self, policy: &Policy, charge: &Charge, payer: &str, now: i64) -> Result<()> {
        let used = self.sessions_in_window_under(policy, payer, now);
        let max = policy.max_sessions_per_peer_per_day();
        if used >= max {
            return Err(Error::refused(
                PolicyRule::MaxSessionsPerPeerPerDay,
                format!(
                    "peer {payer} already ran {used} sessions under this policy in the last 24 \
                     hours; the policy allows {max}"
                ),
            ));
        }
        if charge.elements == 0 {
            return Ok(());
        }
        let max = policy.max_elements_per_peer();
        for kind in &charge.kinds {
            let used = self.elements_in_window(policy, payer, kind, now);
            if used.saturating_add(charge.elements) > max {
                return Err(Error::refused(
                    PolicyRule::MaxElementsPerPeer,
                    format!(
                        "peer {payer} announced {} `{kind}` elements; with the {used} of the \
                         last {} days that exceeds the policy's {max}",
                        charge.elements,
                        policy.element_window_days()
                    ),
                ));
            }
        }
        if let Some(epoch) = &charge.key_epoch {
            let used = self.evaluations(payer, epoch);
            let max = policy.max_evaluations_per_receiver_per_key();
            if used.saturating_add(charge.elements) > max {
                return Err(Error::refused(
                    PolicyRule::MaxEvaluationsPerReceiverPerKey,
                    format!(
                        "receiver {payer} asks for {} evaluations; with the {used} it already \
                         had under index key {epoch} that exceeds the policy's {max}: rebuild \
                         the index with a fresh key",
                        charge.elements
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Records that a count-only session with `payers` completed under `policy` at `now`.
    ///
    /// # Errors
    /// [`Error::Io`] if the state cannot be saved.
    pub fn record_cardinality_run(
        &mut self,
        policy: &Policy,
        payers: &[String],
        now: i64,
    ) -> Result<()> {
        let digest = policy.digest_hex();
        for payer in payers {
            self.state
                .peers
                .entry(payer.clone())
                .or_default()
                .cardinality_runs
                .insert(digest.clone(), now);
        }
        self.state.version = STATE_VERSION;
        self.save()
    }

    fn save(&self) -> Result<()> {
        let ctx = format!("saving budget state {}", self.path.display());
        let bytes = serde_json::to_vec_pretty(&self.state)
            .map_err(|e| Error::internal(format!("{ctx}: encoding the state: {e}")))?;
        crate::file_mode::replace_private(&self.path, &bytes, &ctx)
    }
}

/// Everything an admission does before any element is evaluated: checks `req` against the
/// policy (with `prior_cardinality_run` taken from the store), then charges the budgets,
/// recording the admitted session durably, and logs a refusal to `log` if there is one.
///
/// # Errors
/// [`Error::PolicyRefused`] naming the [`PolicyRule`] (already logged when `log` is given;
/// see [`Policy::check_session`] and [`BudgetStore::admit`]); [`Error::Io`] if the budget
/// state or the log cannot be written (the session must then not run).
pub fn admit_session(
    policy: &Policy,
    store: &mut BudgetStore,
    log: Option<&crate::audit::AuditLog>,
    req: &crate::policy::SessionRequest,
    charge: &Charge,
    now: i64,
) -> Result<()> {
    let mut req = req.clone();
    req.prior_cardinality_run |= store.recent_cardinality_run(policy, &charge.payers, now);
    let verdict = policy
        .check_session(&req)
        .and_then(|()| store.admit(policy, charge, now));
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

/// How many of `times` fall in the 24 hours before `now`.
fn in_day<'a>(times: impl Iterator<Item = &'a i64>, now: i64) -> u64 {
    times
        .filter(|&&t| t > now - PERIOD_SECONDS && t <= now)
        .count() as u64
}

fn window(days: u64) -> i64 {
    i64::try_from(days)
        .unwrap_or(i64::MAX / DAY_SECONDS)
        .saturating_mul(DAY_SECONDS)
}
