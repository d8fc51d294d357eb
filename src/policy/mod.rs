//! The policy two agencies agree on before they match anything.
//!
//! A policy is a small TOML file that both agencies load (see `examples/policy.toml` and
//! `protocol-spec/06-policy-and-audit.md`). It says in advance what a matching run may do and
//! reveal:
//!
//! | key | meaning |
//! |---|---|
//! | `version` | policy format version, `1` |
//! | `name` | a human-readable name of the agreement |
//! | `modes` | the session modes allowed (`"intersection"`, `"mutual"`, `"cardinality"`, `"labeled"`) |
//! | `identifier_kinds` | the identifier kinds that may be matched (`"container"`, `"imo"`, `"raw"`, ...) |
//! | `min_set_size`, `max_set_size` | bounds on each side's number of unique items |
//! | `padding_bound` | if present, both sides pad their sets to exactly this many elements |
//! | `revealable_columns` | payload columns the labeled mode may reveal |
//! | `max_sessions_per_peer_per_day` | the query budget, enforced by [`crate::budget`] |
//! | `cardinality_before_reveal` | a count-only run must precede a run that reveals items |
//! | `output_retention_days` | how long match outputs may be kept |
//! | `allow_key_reuse` | optional, default `false`: an OPRF-PSI sender may serve many sessions under one key (a precomputed index) |
//!
//! Parsing is strict: an unknown key, a wrong type, a duplicate list entry or contradictory
//! bounds are rejected with `file:line:column`. Its [`Policy::digest`] (SHA3-256 under
//! [`crate::dst::POLICY_DIGEST`] of a canonical encoding) does not depend on formatting,
//! comments, key order or list order; the handshake exchanges it, and different digests mean
//! no session.
//!
//! ```
//! use blindmatch::policy::{Policy, SessionRequest};
//!
//! let policy = Policy::default_policy();
//! let request = SessionRequest {
//!     mode: "cardinality".into(),
//!     own_count: 50,
//!     peer_count: Some(80),
//!     kinds: vec!["imo".into()],
//!     peer_fingerprint: "ab12...".into(),
//!     revealed_columns: vec![],
//!     prior_cardinality_run: false,
//! };
//! policy.check_session(&request)?;
//! println!("policy digest {}", policy.digest_hex());
//! # Ok::<(), blindmatch::Error>(())
//! ```

mod canonical;
mod check;
mod parse;

pub use check::SessionRequest;

use std::collections::BTreeSet;
use std::path::Path;

use crate::error::{Error, Result};

/// The session modes a policy may allow, as spelled in the policy file and in
/// `protocol::Mode`'s `Display`.
pub const KNOWN_MODES: &[&str] = &["intersection", "mutual", "cardinality", "labeled"];

/// Modes that reveal items (not only a count) to at least one side.
pub const REVEALING_MODES: &[&str] = &["intersection", "mutual", "labeled"];

/// The policy format version this code reads.
pub const POLICY_VERSION: u64 = 1;

/// A validated policy. The only ways to get one are [`Policy::load`], [`Policy::parse`] and
/// [`Policy::default_policy`], so its invariants (`min_set_size <= max_set_size`, a padding
/// bound within the size bounds, known modes, ...) always hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    name: String,
    modes: BTreeSet<String>,
    identifier_kinds: BTreeSet<String>,
    min_set_size: u64,
    max_set_size: u64,
    padding_bound: Option<u64>,
    revealable_columns: BTreeSet<String>,
    max_sessions_per_peer_per_day: u64,
    cardinality_before_reveal: bool,
    output_retention_days: u64,
    allow_key_reuse: bool,
}

impl Policy {
    /// Reads and validates a policy file.
    ///
    /// # Errors
    /// [`Error::Io`] if the file cannot be read; [`Error::Config`] with
    /// [`ConfigReason::Policy`](crate::error::ConfigReason::Policy) naming `file:line:column` if
    /// it is not a valid policy.
    pub fn load(path: &Path) -> Result<Policy> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::io(format!("reading policy file {}", path.display()), e))?;
        Policy::parse(&text, &path.display().to_string())
    }

    /// Parses and validates policy TOML; `origin` (usually the file name) prefixes error
    /// locations.
    ///
    /// # Errors
    /// [`Error::Config`] with [`ConfigReason::Policy`](crate::error::ConfigReason::Policy)
    /// naming `origin:line:column` and what to fix.
    pub fn parse(text: &str, origin: &str) -> Result<Policy> {
        parse::parse(text, origin)
    }

    /// The policy used when no file is given: every DH-PSI mode, the identifier kinds
    /// `container`, `imo` and `raw`, 1 to 2^24 items, no padding, nothing revealable beyond
    /// the items, 10 sessions per peer per day, no count-only run required, outputs kept 30
    /// days. Its text is `examples/policy-default.toml`.
    pub fn default_policy() -> Policy {
        Policy {
            name: "blindmatch default policy".to_owned(),
            modes: set(&["intersection", "mutual", "cardinality"]),
            identifier_kinds: set(&["container", "imo", "raw"]),
            min_set_size: 1,
            max_set_size: 1 << 24,
            padding_bound: None,
            revealable_columns: BTreeSet::new(),
            max_sessions_per_peer_per_day: 10,
            cardinality_before_reveal: false,
            output_retention_days: 30,
            allow_key_reuse: false,
        }
    }

    /// The canonical encoding (section 2 of `protocol-spec/06-policy-and-audit.md`).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        canonical::encode(self)
    }

    /// SHA3-256 under [`crate::dst::POLICY_DIGEST`] of [`Policy::canonical_bytes`]: the value
    /// both sides exchange in the handshake.
    pub fn digest(&self) -> [u8; 32] {
        canonical::digest(self)
    }

    /// [`Policy::digest`] as 64 lowercase hex characters.
    pub fn digest_hex(&self) -> String {
        hex::encode(self.digest())
    }

    /// The agreement's human-readable name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The allowed session modes.
    pub fn modes(&self) -> &BTreeSet<String> {
        &self.modes
    }

    /// The allowed identifier kinds.
    pub fn identifier_kinds(&self) -> &BTreeSet<String> {
        &self.identifier_kinds
    }

    /// Smallest allowed number of unique items on each side.
    pub fn min_set_size(&self) -> u64 {
        self.min_set_size
    }

    /// Largest allowed number of unique items on each side.
    pub fn max_set_size(&self) -> u64 {
        self.max_set_size
    }

    /// The padding bound, if padding is on: both sides send exactly this many elements.
    pub fn padding_bound(&self) -> Option<u64> {
        self.padding_bound
    }

    /// The number of elements to send for `unique` real items: the padding bound if padding is
    /// on, else `unique` itself. Call [`Policy::check_session`] first (it refuses a set larger
    /// than the bound).
    pub fn padded_count(&self, unique: u64) -> u64 {
        self.padding_bound.map_or(unique, |b| b.max(unique))
    }

    /// Payload columns the labeled mode may reveal.
    pub fn revealable_columns(&self) -> &BTreeSet<String> {
        &self.revealable_columns
    }

    /// The query budget: sessions per peer in any 24-hour window.
    pub fn max_sessions_per_peer_per_day(&self) -> u64 {
        self.max_sessions_per_peer_per_day
    }

    /// Whether a count-only (cardinality) run with the same peer must precede a revealing run.
    pub fn cardinality_before_reveal(&self) -> bool {
        self.cardinality_before_reveal
    }

    /// How many days match outputs may be kept.
    pub fn output_retention_days(&self) -> u64 {
        self.output_retention_days
    }

    /// Whether an OPRF-PSI sender may use one key across sessions (serve a precomputed
    /// index). A receiver querying twice under one key sees which of its items changed status
    /// in between (`protocol-spec/07-oprf-psi.md` section 7.9).
    pub fn allow_key_reuse(&self) -> bool {
        self.allow_key_reuse
    }

    /// Refuses serving a precomputed index (one OPRF key across sessions) unless the policy
    /// allows key reuse.
    ///
    /// # Errors
    /// [`Error::PolicyRefused`] with rule
    /// [`PolicyRule::AllowKeyReuse`](crate::error::PolicyRule::AllowKeyReuse).
    pub fn check_key_reuse(&self) -> Result<()> {
        if self.allow_key_reuse {
            return Ok(());
        }
        Err(Error::refused(
            crate::error::PolicyRule::AllowKeyReuse,
            "serving a precomputed index uses one OPRF key in every session, which lets a \
             receiver see which of its items changed status between sessions; the policy does \
             not allow it (set `allow_key_reuse = true` in both agencies' policy, or serve the \
             input with a fresh key per session)",
        ))
    }

    /// True if `mode` reveals items (not only a count) to at least one side.
    pub fn is_revealing(mode: &str) -> bool {
        REVEALING_MODES.contains(&mode)
    }
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| (*s).to_owned()).collect()
}
