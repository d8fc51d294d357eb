//! One agency's side of networked sessions, with every guarantee inside the library: an
//! [`Agency`] holds the identity, the agreed policy, the signed audit log and the budget
//! state, and runs each session in the envelope ([`crate::session`]) over an authenticated
//! connection ([`crate::transport`]). What makes a session trustworthy happens here, whoever
//! the caller is: the policy's rules before connecting and at admission, key reuse and
//! revealable columns, padding, receipts, audit entries in order, the output digest, and an
//! abort entry when a session is cancelled or dropped.
//!
//! ```no_run
//! # async fn demo(identity: blindmatch::identity::Identity,
//! #               peers: blindmatch::transport::verifier::PeerAuth,
//! #               items: blindmatch::protocol::ItemSet) -> blindmatch::Result<()> {
//! use blindmatch::agency::{Agency, AgencyFiles, SessionSpec};
//! use blindmatch::policy::Policy;
//! use blindmatch::session::SessionMode;
//!
//! let files = AgencyFiles::in_dir("agency-a".as_ref());
//! let agency = Agency::open(identity, Policy::default_policy(), peers, &files)?;
//! let spec = SessionSpec::new(SessionMode::Intersection, items, vec!["imo_ship".into()]);
//! let report = agency.connect("peer.example:7443", spec, Default::default()).await?;
//! println!("the peer's receipt: {:?}", report.outcome().peer_receipt());
//! # Ok(()) }
//! ```

mod performer;
mod run;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::audit::{AuditLog, Event};
use crate::error::{ConfigReason, Error, PolicyRule, Result};
use crate::identity::{cert_common_name, Identity};
use crate::oprf::Suite;
use crate::policy::Policy;
use crate::protocol::dh::DEFAULT_CHUNK_SIZE;
use crate::protocol::{ItemSet, Role, MAX_SET_SIZE};
use crate::session::{BodyInput, ProtocolChoice, SenderSource, SessionConfig, SessionMode, Shard};
use crate::transport::verifier::PeerAuth;

pub use performer::OutputSink;
pub use run::{RunOptions, NO_OUTPUT};

/// How long an admission waits for another process holding the budget state.
pub const BUDGET_LOCK_WAIT: Duration = Duration::from_secs(10);

/// Default file name of the audit log inside an identity directory.
pub const AUDIT_LOG_FILE: &str = "audit.jsonl";
/// Default file name of the budget state inside an identity directory.
pub const BUDGET_STATE_FILE: &str = "budget.json";

/// Where an agency keeps its audit log and budget state.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AgencyFiles {
    /// The signed audit log.
    pub audit_log: PathBuf,
    /// The per-peer budget state.
    pub budget_state: PathBuf,
    /// The key of the output commitments the log records (created on first open).
    pub commitment_key: PathBuf,
}

impl AgencyFiles {
    /// `audit.jsonl`, `budget.json` and `output-commitment.key` in `dir` (for example the
    /// identity directory).
    pub fn in_dir(dir: &Path) -> Self {
        AgencyFiles {
            audit_log: dir.join(AUDIT_LOG_FILE),
            budget_state: dir.join(BUDGET_STATE_FILE),
            commitment_key: dir.join(crate::audit::COMMITMENT_KEY_FILE),
        }
    }
}

/// The identifier kinds of a session's keys as the policy names them: each kind of each key
/// (a composite key `person_name+date_of_birth` contributes both), `passport_mrz` as
/// `passport` (they canonicalise to the same item), sorted and without repeats.
pub(crate) fn policy_kinds(key_kinds: &[String]) -> Vec<String> {
    let mut out: Vec<String> = key_kinds
        .iter()
        .flat_map(|k| k.split('+'))
        .map(|k| match k {
            "passport_mrz" => "passport".to_owned(),
            other => other.to_owned(),
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

/// What one session is to do.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SessionSpec {
    /// What the parties learn.
    pub mode: SessionMode,
    /// The protocol we ask for (`auto` by default).
    pub protocol: ProtocolChoice,
    /// The OPRF suite if OPRF-PSI runs.
    pub oprf_suite: Suite,
    /// Entries per message (both sides must agree; default 4096).
    pub chunk_size: u32,
    /// `β`: log2 of the largest bucket we take part in (10 to 20; default 20). Larger sessions
    /// of DH-PSI or VOLE-PSI run in buckets of about `2^β` items, the smaller `β` of the two
    /// sides (`protocol-spec/09-buckets.md`): a smaller `β` holds less per bucket in memory,
    /// at the cost of more padding per bucket.
    pub max_bucket_log2: u8,
    /// Send this many elements instead of our true count (the policy's padding bound, if it
    /// has one, is the default and the only value allowed).
    pub pad_to: Option<u64>,
    /// The share of a logical session to run ([`Shard::WHOLE`] by default): [`Agency::prepare`]
    /// keeps our items of that shard and announces the shard bound for our padded total
    /// (`protocol-spec/09-buckets.md` section 9.11).
    pub shard: Shard,
    /// Our items, and the responder's OPRF-PSI material.
    pub input: BodyInput,
    /// The identifier kinds of our keys, one entry per key (`imo_ship`,
    /// `person_name+date_of_birth`).
    pub key_kinds: Vec<String>,
}

impl SessionSpec {
    /// A session in `mode` over `items` keyed by `key_kinds`, with the defaults: protocol
    /// `auto`, the default OPRF suite and chunk size, the policy's padding.
    pub fn new(mode: SessionMode, items: ItemSet, key_kinds: Vec<String>) -> Self {
        SessionSpec {
            mode,
            protocol: ProtocolChoice::Auto,
            oprf_suite: Suite::default(),
            chunk_size: DEFAULT_CHUNK_SIZE as u32,
            max_bucket_log2: crate::protocol::bucket::DEFAULT_BUCKET_LOG2,
            pad_to: None,
            shard: Shard::WHOLE,
            input: BodyInput {
                items,
                sender: None,
                allowed_columns: BTreeSet::new(),
                payload_len: None,
            },
            key_kinds,
        }
    }

    /// The same, serving OPRF-PSI from `sender` (a precomputed index, or payloads of our
    /// items).
    pub fn with_sender(mut self, sender: SenderSource) -> Self {
        self.input.sender = Some(sender);
        self
    }
}

struct Inner {
    identity: Identity,
    own_agency: String,
    policy: Policy,
    peers: PeerAuth,
    log: AuditLog,
    budget_state: PathBuf,
    commitment_key: crate::audit::CommitmentKey,
}

/// One agency: identity, policy, audit log and budget, shared by its concurrent sessions
/// (cloning shares it).
#[derive(Clone)]
pub struct Agency {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Agency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agency")
            .field("identity", &self.inner.identity.fingerprint())
            .field("policy", &self.inner.policy.name())
            .field("log", &self.inner.log.path())
            .finish_non_exhaustive()
    }
}

impl Agency {
    /// Opens the agency: verifies the existing audit log under the identity's key, loads (or
    /// creates) the output commitment key, and checks the policy is within the engine's
    /// limits. Other processes of the same agency (a `serve` and a `match`) may open the same
    /// files: each append and each admission takes the file's lock only for its own
    /// read-modify-write.
    ///
    /// # Errors
    /// [`Error::Config`] ([`ConfigReason::Policy`]) for a policy above the engine's limits;
    /// [`Error::Audit`] if the existing log fails verification; [`Error::Io`].
    ///
    /// # Examples
    ///
    /// ```
    /// use blindmatch::agency::{Agency, AgencyFiles};
    /// use blindmatch::identity::{Fingerprint, Identity};
    /// use blindmatch::policy::Policy;
    /// use blindmatch::transport::verifier::PeerAuth;
    ///
    /// # fn main() -> blindmatch::Result<()> {
    /// # let tmp = tempfile::tempdir().map_err(|e| blindmatch::Error::io("tempdir", e))?;
    /// # let dir = tmp.path();
    /// # Identity::create(dir, "Agency A", false)?;
    /// # let peer: Fingerprint = "ab".repeat(32).parse()?;
    /// let identity = Identity::load(dir)?; // or Identity::from_pem(cert, key) from a secrets store
    /// let files = AgencyFiles::in_dir(dir); // audit.jsonl, budget.json, output-commitment.key
    /// let agency = Agency::open(identity, Policy::default_policy(), PeerAuth::pinned(peer), &files)?;
    /// assert_eq!(agency.name(), "Agency A");
    /// assert!(agency.audit_log().ends_with("audit.jsonl"));
    /// # Ok(()) }
    /// ```
    pub fn open(
        identity: Identity,
        policy: Policy,
        peers: PeerAuth,
        files: &AgencyFiles,
    ) -> Result<Agency> {
        if policy.max_set_size() > MAX_SET_SIZE as u64 {
            return Err(Error::config(
                ConfigReason::Policy,
                format!(
                    "the policy's max_set_size {} exceeds the engine's limit of {MAX_SET_SIZE}",
                    policy.max_set_size()
                ),
            ));
        }
        let log = AuditLog::open(&files.audit_log, identity.signing_key().clone())?;
        let commitment_key = crate::audit::CommitmentKey::load_or_create(&files.commitment_key)?;
        Ok(Agency {
            inner: Arc::new(Inner {
                own_agency: cert_common_name(identity.cert()).unwrap_or_default(),
                identity,
                policy,
                peers,
                log,
                budget_state: files.budget_state.clone(),
                commitment_key,
            }),
        })
    }

    /// The identity.
    pub fn identity(&self) -> &Identity {
        &self.inner.identity
    }

    /// The agreed policy.
    pub fn policy(&self) -> &Policy {
        &self.inner.policy
    }

    /// Who the peers may be.
    pub fn peers(&self) -> &PeerAuth {
        &self.inner.peers
    }

    /// The audit log's path.
    pub fn audit_log(&self) -> &Path {
        self.inner.log.path()
    }

    /// Our agency's name (our certificate's common name).
    pub fn name(&self) -> &str {
        &self.inner.own_agency
    }

    fn log_local_refusal(&self, mode: SessionMode, err: Error) -> Error {
        if let Error::PolicyRefused(r) = &err {
            // A refusal needs no peer: it is logged before any connection.
            let _ = self.inner.log.append(Event::SessionRefused {
                peer_fingerprint: "(not connected)".into(),
                mode: mode.as_str().into(),
                rule: r.rule.as_str().into(),
                detail: r.detail.clone(),
            });
        }
        err
    }

    /// The envelope's configuration for `spec` as `role`, after every check that needs no
    /// peer (each refusal logged): the mode is among the policy's; our true size passes the
    /// size rules; the padding follows the policy; a served index is allowed to reuse its key;
    /// served payload columns are revealable. Fills in the receiver's allowed columns from the
    /// policy.
    ///
    /// # Errors
    /// [`Error::PolicyRefused`] naming the rule; [`Error::Config`] for a session that cannot
    /// run (labeled mode without payloads, an index with DH-PSI, an index past its key epoch
    /// ([`ConfigReason::IndexExpired`]) or without the padding the session needs
    /// ([`ConfigReason::IndexPadding`])).
    pub fn prepare(&self, role: Role, spec: &mut SessionSpec) -> Result<SessionConfig> {
        self.prepare_checked(role, spec)
            .map_err(|e| self.log_local_refusal(spec.mode, e))
    }

    fn prepare_checked(&self, role: Role, spec: &mut SessionSpec) -> Result<SessionConfig> {
        let policy = &self.inner.policy;
        if !policy.modes().contains(spec.mode.as_str()) {
            return Err(Error::refused(
                PolicyRule::Modes,
                format!(
                    "mode `{}` is not among the policy's modes",
                    spec.mode.as_str()
                ),
            ));
        }
        if let Some(kind) = policy_kinds(&spec.key_kinds)
            .into_iter()
            .find(|k| !policy.identifier_kinds().contains(k))
        {
            return Err(Error::refused(
                PolicyRule::IdentifierKinds,
                format!(
                    "identifier kind `{kind}` is not among the policy's identifier kinds ({})",
                    policy
                        .identifier_kinds()
                        .iter()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let own_unique = spec.input.own_unique() as u64;
        policy.check_own_size(own_unique)?;
        if let Some(sender) = &spec.input.sender {
            if role == Role::Initiator {
                return Err(Error::config(
                    ConfigReason::Conflict,
                    "only the responder serves an OPRF-PSI set",
                ));
            }
            if let SenderSource::Index { epoch, .. } = sender {
                policy.check_key_reuse()?;
                // Spec 7.8.2: no session is served past the index key's epoch.
                let now = crate::index::unix_now();
                epoch.check_at(now)?;
                // ... nor past the policy's key lifetime (spec 06 section 2.4).
                let lifetime = policy
                    .index_key_lifetime_days()
                    .saturating_mul(crate::index::DAY);
                if now > epoch.created.saturating_add(lifetime) {
                    return Err(Error::refused(
                        PolicyRule::IndexKeyLifetime,
                        format!(
                            "the index key was created {} days ago; the policy lets one key \
                             serve for {} days: rebuild the index with a fresh key",
                            (now - epoch.created) / crate::index::DAY,
                            policy.index_key_lifetime_days()
                        ),
                    ));
                }
                if spec.protocol == ProtocolChoice::Dh {
                    return Err(Error::config(
                        ConfigReason::Conflict,
                        "a precomputed index serves OPRF-PSI only: ask for protocol oprf or auto",
                    ));
                }
                spec.protocol = ProtocolChoice::Oprf;
            }
            if spec.mode == SessionMode::Labeled {
                if let Some(c) = sender
                    .columns()
                    .iter()
                    .find(|c| !policy.revealable_columns().contains(*c))
                {
                    return Err(Error::refused(
                        PolicyRule::RevealableColumns,
                        format!(
                            "payload column `{c}` is not among the policy's revealable columns"
                        ),
                    ));
                }
            }
        }
        if spec.mode == SessionMode::Labeled
            && role == Role::Responder
            && !spec
                .input
                .sender
                .as_ref()
                .is_some_and(SenderSource::is_labeled)
        {
            return Err(Error::config(
                ConfigReason::Conflict,
                "labeled mode needs payloads: label columns of the input, or a labeled index",
            ));
        }
        spec.input.allowed_columns = policy.revealable_columns().clone();
        spec.input.payload_len = policy.payload_len().map(|l| l as usize);
        if let (SessionMode::Labeled, Some(fixed), Some(sender)) =
            (spec.mode, spec.input.payload_len, &spec.input.sender)
        {
            // Refused before connecting: a payload the fixed length cannot hold would abort
            // every session after admission.
            let longest = match sender {
                SenderSource::Index { set, .. } => set.max_payload_len(),
                SenderSource::Fresh { payloads, .. } => payloads
                    .as_ref()
                    .map_or(0, |p| p.iter().map(Vec::len).max().unwrap_or(0)),
            };
            if longest > fixed {
                return Err(Error::refused(
                    PolicyRule::PayloadLen,
                    format!(
                        "a payload of {longest} bytes does not fit the policy's payload_len of \
                         {fixed} bytes"
                    ),
                ));
            }
        }
        let own_count = match (policy.padding_bound(), spec.pad_to) {
            (None, None) => own_unique,
            (None, Some(p)) => p,
            (Some(bound), None) => bound,
            (Some(bound), Some(p)) if p == bound => p,
            (Some(bound), Some(p)) => {
                return Err(Error::refused(
                    PolicyRule::PaddingBound,
                    format!(
                        "padding to {p} differs from the policy's padding bound {bound}: each \
                         side must send exactly the bound"
                    ),
                ))
            }
        };
        if own_count < own_unique {
            return Err(Error::input(
                crate::error::InputReason::SetSize,
                format!(
                    "the padding bound {own_count} is below the {own_unique} distinct items to \
                     send"
                ),
            ));
        }
        let own_count = if spec.shard.is_sharded() {
            let whole_set = match &spec.input.sender {
                Some(SenderSource::Index { .. }) => true,
                Some(s) => s.is_labeled(),
                None => false,
            };
            if whole_set {
                return Err(Error::config(
                    ConfigReason::Conflict,
                    "a shard cannot serve OPRF-PSI from an index or with payloads (they hold \
                     the whole set): shards run intersection or mutual mode over the input",
                ));
            }
            // Spec 9.11: our items of this shard, at their rows of the whole input, and the
            // same count from every shard.
            spec.input.items = spec.shard.select(&spec.input.items, own_count)?;
            spec.shard.bound(own_count)
        } else {
            own_count
        };
        if let Some(SenderSource::Index { set, .. }) = &spec.input.sender {
            // Spec 7.8.3: the stored padding must cover the padded size.
            set.check_padding(usize::try_from(own_count).unwrap_or(usize::MAX))?;
        }
        Ok(SessionConfig {
            role,
            mode: spec.mode,
            protocol: spec.protocol,
            oprf_suite: spec.oprf_suite,
            chunk_size: spec.chunk_size,
            max_bucket_log2: spec.max_bucket_log2,
            shard: spec.shard,
            policy_digest: policy.digest(),
            own_count,
            key_kinds: spec.key_kinds.clone(),
            own_fingerprint: self.inner.identity.fingerprint(),
            own_agency: self.inner.own_agency.clone(),
            policy_name: policy.name().to_owned(),
            output_retention_days: policy.output_retention_days(),
            checkpoint: false,
            resume: None,
        })
    }
}
