//! The compliance side of a networked session (`protocol-spec/06-policy-and-audit.md`): the
//! agreed policy, the durable query budget, the signed audit log and the identity key that
//! signs session receipts, as the session envelope ([`super::session`]) uses them.
//!
//! * Before connecting, [`Compliance::precheck`] applies the rules that need only our own,
//!   unpadded set, and [`Compliance::padded_count`] takes the padding from the policy.
//! * After the handshake, before any element, [`Compliance::admit`] runs
//!   [`crate::budget::admit_session`]: the policy's session rules on the agreed mode and both
//!   announced sizes, then the per-peer budget (a refusal is logged).
//! * The envelope logs the start, the end (or the abort) and the peer's receipt.
//!
//! **Several processes.** The audit log's hash chain lives in the process that appends, so
//! [`Compliance::open`] takes an exclusive advisory lock (`LOG.lock`, `flock` through
//! [`std::fs::File::try_lock`]) for the life of the value: a second process using the same log
//! waits up to [`LOCK_WAIT`] and then fails naming the log (give it its own `--audit-log`).
//! The budget state is read, changed and saved under its own lock (`STATE.lock`) at every
//! admission, so processes sharing one budget file (for example `serve` and `match` of one
//! agency, with separate logs) count every session. The operating system drops both locks
//! when a process dies, so a crash never leaves a stale lock.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ed25519_dalek::{SigningKey, VerifyingKey};

use super::handshake::Agreed;
use crate::audit::{AuditLog, ReceiptBody, SessionReceipt};
use crate::budget::{self, BudgetStore};
use crate::error::{Error, Result};
use crate::identity::{cert_common_name, Fingerprint, Identity};
use crate::policy::{Policy, SessionRequest};

/// How long [`Compliance::open`] waits for another process to release the audit log.
pub const LOCK_WAIT: Duration = Duration::from_secs(120);

/// Policy, budget, audit log and receipt key of one agency. Share it between concurrent
/// sessions with an `Arc`.
pub struct Compliance {
    policy: Policy,
    kinds: Vec<String>,
    budget_path: PathBuf,
    log: Arc<AuditLog>,
    key: SigningKey,
    own_agency: String,
    /// Held for the life of the value: the exclusive lock on the audit log.
    _log_lock: File,
}

impl std::fmt::Debug for Compliance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compliance")
            .field("policy", &self.policy.name())
            .field("kinds", &self.kinds)
            .field("budget", &self.budget_path)
            .field("log", &self.log.path())
            .finish_non_exhaustive()
    }
}

/// The lock file next to `path`: `PATH.lock`.
fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

fn open_lock(path: &Path) -> Result<File> {
    let lock = lock_path(path);
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock)
        .map_err(|e| Error::io(format!("opening lock file {}", lock.display()), e))
}

/// Takes the exclusive lock on `file`, polling until `wait` has passed.
fn lock_exclusive(file: &File, what: &Path, wait: Duration) -> Result<()> {
    let start = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(TryLockError::WouldBlock) if start.elapsed() < wait => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(TryLockError::WouldBlock) => {
                return Err(Error::LegacyConfig(format!(
                    "{} is in use by another blindmatch process (waited {} s); give this \
                     process its own --audit-log, or wait for the other to finish",
                    what.display(),
                    wait.as_secs()
                )))
            }
            Err(TryLockError::Error(e)) => {
                return Err(Error::io(format!("locking {}", what.display()), e))
            }
        }
    }
}

/// The names of our identifier kinds as the policy spells them: the exact kind name
/// (`imo_ship`) if the policy lists it, else its family, the part before the first `_`
/// (`imo`), so a policy may allow a family of kinds.
pub fn policy_kinds(policy: &Policy, kinds: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = kinds
        .iter()
        .map(|k| {
            if policy.identifier_kinds().contains(*k) {
                (*k).to_owned()
            } else {
                k.split('_').next().unwrap_or(k).to_owned()
            }
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

impl Compliance {
    /// Opens the audit log at `audit_log` (signed with `identity`'s key, which also signs our
    /// receipts) under an exclusive lock, and remembers where the budget state lives.
    /// `kinds` are the policy names of our input's identifier kinds ([`policy_kinds`]).
    ///
    /// # Errors
    /// [`Error::Config`] if another process holds the log longer than [`LOCK_WAIT`];
    /// [`Error::Audit`] if the existing log fails verification; [`Error::Io`] if a file cannot
    /// be opened.
    pub fn open(
        policy: Policy,
        kinds: Vec<String>,
        identity: &Identity,
        audit_log: &Path,
        budget_state: &Path,
    ) -> Result<Compliance> {
        let lock = open_lock(audit_log)?;
        lock_exclusive(&lock, audit_log, LOCK_WAIT)?;
        let log = AuditLog::open(audit_log, identity.signing_key.clone())?;
        Ok(Compliance {
            policy,
            kinds,
            budget_path: budget_state.to_owned(),
            log: Arc::new(log),
            key: identity.signing_key.clone(),
            own_agency: cert_common_name(&identity.cert).unwrap_or_default(),
            _log_lock: lock,
        })
    }

    /// The agreed policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The audit log.
    pub fn log(&self) -> &Arc<AuditLog> {
        &self.log
    }

    /// Our agency's name, from our certificate.
    pub fn own_agency(&self) -> &str {
        &self.own_agency
    }

    /// Our identity public key (what the peer checks our receipts against).
    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// Signs our session receipt.
    pub fn sign_receipt(&self, body: &ReceiptBody) -> SessionReceipt {
        SessionReceipt::sign(body, &self.key)
    }

    /// The rules on our own true (unpadded) size, checked before connecting
    /// ([`Policy::check_own_size`]): a refusal here needs no peer and is logged. Every other
    /// rule is checked after the handshake ([`Compliance::admit`]), where both sides see a
    /// refusal.
    ///
    /// # Errors
    /// [`Error::PolicyRefused`] naming the rule; [`Error::Io`] if the refusal cannot be
    /// logged.
    pub fn precheck(&self, mode: &str, own_unique: usize) -> Result<()> {
        match self.policy.check_own_size(own_unique as u64) {
            Err(refusal @ Error::LegacyPolicyRefused { .. }) => {
                self.log
                    .session_refused("(not connected)", mode, &refusal)?;
                Err(refusal)
            }
            other => other,
        }
    }

    /// How many elements to send: the policy's padding bound when it has one (`--pad-to`, if
    /// given, must equal it), else `--pad-to` if given, else `None` (the true count).
    ///
    /// # Errors
    /// [`Error::PolicyRefused`] with rule `padding_bound` if `pad_to` differs from the
    /// policy's bound (the peer requires exactly the bound).
    pub fn padded_count(&self, pad_to: Option<usize>) -> Result<Option<usize>> {
        match (self.policy.padding_bound(), pad_to) {
            (None, p) => Ok(p),
            (Some(bound), None) => Ok(Some(usize::try_from(bound).map_err(|_| {
                Error::LegacyConfig(format!("padding bound {bound} is too large"))
            })?)),
            (Some(bound), Some(p)) if p as u64 == bound => Ok(Some(p)),
            (Some(bound), Some(p)) => Err(Error::LegacyPolicyRefused {
                rule: "padding_bound".to_owned(),
                detail: format!(
                    "--pad-to {p} differs from the policy's padding bound {bound}: each side \
                     must send exactly the bound (drop --pad-to to use it)"
                ),
            }),
        }
    }

    /// Runs `f` on the budget state, loaded fresh and saved under the budget lock.
    fn with_budget<T>(&self, f: impl FnOnce(&mut BudgetStore) -> Result<T>) -> Result<T> {
        let lock = open_lock(&self.budget_path)?;
        lock_exclusive(&lock, &self.budget_path, LOCK_WAIT)?;
        let mut store = BudgetStore::open(&self.budget_path)?;
        f(&mut store)
    }

    /// The gate after the handshake, before any element: the policy's session rules on the
    /// agreed mode, our unique count and the peer's announced (padded) count, then the
    /// per-peer budget, counted durably. A refusal is logged.
    ///
    /// # Errors
    /// [`Error::PolicyRefused`] naming the rule; [`Error::Io`] if the budget state or the log
    /// cannot be written.
    pub fn admit(&self, agreed: &Agreed, peer: &Fingerprint, own_unique: usize) -> Result<()> {
        let req = SessionRequest {
            mode: agreed.ours.mode.clone(),
            own_count: own_unique as u64,
            peer_count: Some(agreed.theirs.set_size),
            kinds: self.kinds.clone(),
            peer_fingerprint: peer.to_string(),
            revealed_columns: Vec::new(),
            prior_cardinality_run: false,
        };
        self.with_budget(|store| {
            budget::admit_session(&self.policy, store, Some(&self.log), &req, now())
        })
    }

    /// Records a completed session: for a `cardinality` session, that the count-only run the
    /// policy's `cardinality_before_reveal` rule asks for has happened.
    ///
    /// # Errors
    /// [`Error::Io`] if the budget state cannot be saved.
    pub fn completed(&self, mode: &str, peer: &Fingerprint) -> Result<()> {
        if mode != "cardinality" {
            return Ok(());
        }
        self.with_budget(|store| store.record_cardinality_run(&peer.to_string(), now()))
    }
}

/// Unix seconds now.
pub(crate) fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn kinds_map_to_policy_families() {
        let p = Policy::default_policy();
        assert_eq!(policy_kinds(&p, &["imo_ship", "raw"]), ["imo", "raw"]);
        assert_eq!(policy_kinds(&p, &["container"]), ["container"]);
        assert_eq!(policy_kinds(&p, &["lei"]), ["lei"]);
    }

    #[test]
    fn a_second_holder_of_the_log_waits_then_fails() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("audit.jsonl");
        let a = open_lock(&log).unwrap();
        lock_exclusive(&a, &log, Duration::ZERO).unwrap();
        let b = open_lock(&log).unwrap();
        let err = lock_exclusive(&b, &log, Duration::from_millis(120)).unwrap_err();
        assert!(
            err.to_string().contains("another blindmatch process"),
            "{err}"
        );
        drop(a);
        lock_exclusive(&b, &log, Duration::ZERO).unwrap();
    }
}
