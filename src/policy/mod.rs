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
//! | `identifier_kinds` | the identifier kinds that may be matched, named as `--key` names them (`"container"`, `"imo_ship"`, `"raw"`, ...) |
//! | `min_set_size`, `max_set_size` | bounds on each side's number of unique items |
//! | `padding_bound` | if present, both sides pad their sets to exactly this many elements |
//! | `revealable_columns` | payload columns the labeled mode may reveal |
//! | `payload_len` | labeled mode: every payload is padded to exactly this many bytes (required when `labeled` is allowed) |
//! | `max_sessions_per_peer_per_day` | the session budget, enforced by [`crate::budget`] |
//! | `max_elements_per_peer` | the element budget: elements one peer may send us per identifier kind within `element_window_days` |
//! | `element_window_days` | optional, default 30: the rolling window of the element budget |
//! | `max_domain_share_percent` | optional, default 10: the largest share of an enumerable kind's domain a peer may cover within a window or a key's lifetime ([`domain`]) |
//! | `cardinality_before_reveal` | a count-only run under this policy must precede a run that reveals items |
//! | `cardinality_window_days` | optional, default 7: how recent that count-only run must be |
//! | `output_retention_days` | how long match outputs may be kept |
//! | `allow_key_reuse` | optional, default `false`: an OPRF-PSI sender may serve many sessions under one key (a precomputed index) |
//! | `index_key_lifetime_days` | optional, default 90: the longest an index key may serve |
//! | `max_evaluations_per_receiver_per_key` | optional, default `max_elements_per_peer`: elements one receiver may have evaluated under one index key |
//!
//! Which rules limit a curious peer and which only protect us from our own mistakes is the
//! subject of `protocol-spec/06-policy-and-audit.md` section 2.4: the element budget, the
//! domain share, padding, the key lifetime and the evaluation cap bound what a peer can learn;
//! `min_set_size` applies to our own set only (a peer's padded or filler-stuffed set cannot be
//! told from a real one).
//!
//! Parsing is strict: an unknown key, a wrong type, a duplicate list entry or contradictory
//! bounds are rejected with `file:line:column`. Its [`Policy::digest`] (SHA3-256 under
//! `blindmatch-v1-policy-digest` of a canonical encoding) does not depend on formatting,
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
//!     peer_count: Some(16_384), // the default policy pads every set to 16,384 elements
//!     kinds: vec!["imo_ship".into()],
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
pub mod domain;
mod exposure;
mod parse;

pub use check::SessionRequest;
pub use exposure::Exposure;

use std::collections::BTreeSet;
use std::path::Path;

use crate::error::{Error, Result};

/// The session modes a policy may allow, as spelled in the policy file and in
/// `protocol::Mode`'s `Display`.
pub const KNOWN_MODES: &[&str] = &["intersection", "mutual", "cardinality", "labeled"];

/// Modes that reveal items (not only a count) to at least one side.
pub const REVEALING_MODES: &[&str] = &["intersection", "mutual", "labeled"];

/// The policy format version this code reads.
pub const POLICY_VERSION: u64 = 2;

/// Default of `element_window_days`.
pub const DEFAULT_ELEMENT_WINDOW_DAYS: u64 = 30;
/// Default of `max_domain_share_percent`.
pub const DEFAULT_MAX_DOMAIN_SHARE_PERCENT: u64 = 10;
/// Default of `cardinality_window_days`.
pub const DEFAULT_CARDINALITY_WINDOW_DAYS: u64 = 7;
/// Default of `index_key_lifetime_days`.
pub const DEFAULT_INDEX_KEY_LIFETIME_DAYS: u64 = 90;

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
    payload_len: Option<u64>,
    max_sessions_per_peer_per_day: u64,
    max_elements_per_peer: u64,
    element_window_days: u64,
    max_domain_share_percent: u64,
    cardinality_before_reveal: bool,
    cardinality_window_days: u64,
    output_retention_days: u64,
    allow_key_reuse: bool,
    index_key_lifetime_days: u64,
    max_evaluations_per_receiver_per_key: u64,
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

    /// The policy used when no file is given, restrictive on purpose: every DH-PSI mode, the
    /// identifier kinds `container`, `imo_ship`, `imo_company` and `raw`, padding on (both
    /// sides send exactly 16,384 elements, so sets of 1 to 16,384 items), nothing revealable
    /// beyond the items, 10 sessions and 65,536 elements per peer and kind in 30 days (7.3 %
    /// of the IMO ship numbers), no count-only run required, outputs kept 30 days. Its text is
    /// `examples/policy-default.toml`.
    pub fn default_policy() -> Policy {
        Policy {
            name: "blindmatch default policy".to_owned(),
            modes: set(&["intersection", "mutual", "cardinality"]),
            identifier_kinds: set(&["container", "imo_company", "imo_ship", "raw"]),
            min_set_size: 1,
            max_set_size: 1 << 14,
            padding_bound: Some(1 << 14),
            revealable_columns: BTreeSet::new(),
            payload_len: None,
            max_sessions_per_peer_per_day: 10,
            max_elements_per_peer: 1 << 16,
            element_window_days: DEFAULT_ELEMENT_WINDOW_DAYS,
            max_domain_share_percent: DEFAULT_MAX_DOMAIN_SHARE_PERCENT,
            cardinality_before_reveal: false,
            cardinality_window_days: DEFAULT_CARDINALITY_WINDOW_DAYS,
            output_retention_days: 30,
            allow_key_reuse: false,
            index_key_lifetime_days: DEFAULT_INDEX_KEY_LIFETIME_DAYS,
            max_evaluations_per_receiver_per_key: 1 << 16,
        }
    }

    /// The canonical encoding (section 2 of `protocol-spec/06-policy-and-audit.md`).
    pub fn canonical_bytes(&self) -> Vec<u8> {
        canonical::encode(self)
    }

    /// SHA3-256 under `blindmatch-v1-policy-digest` of [`Policy::canonical_bytes`]: the value
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

    /// The fixed payload length of labeled sessions, in bytes (`None`: labeled mode is not
    /// allowed). Every payload is padded to it, so the peer learns this bound, not the longest
    /// payload of the data.
    pub fn payload_len(&self) -> Option<u64> {
        self.payload_len
    }

    /// The session budget: sessions per peer in any 24-hour window.
    pub fn max_sessions_per_peer_per_day(&self) -> u64 {
        self.max_sessions_per_peer_per_day
    }

    /// The element budget: elements one peer may send us, per identifier kind, within
    /// [`Policy::element_window_days`] (counted at admission on what the peer announces, in
    /// sessions where the peer learns something).
    pub fn max_elements_per_peer(&self) -> u64 {
        self.max_elements_per_peer
    }

    /// The rolling window of the element budget, in days.
    pub fn element_window_days(&self) -> u64 {
        self.element_window_days
    }

    /// The largest share, in percent, of an enumerable kind's domain a peer may cover within
    /// one window or one index key's lifetime ([`Policy::exposure`]).
    pub fn max_domain_share_percent(&self) -> u64 {
        self.max_domain_share_percent
    }

    /// Whether a recent count-only (cardinality) run under this policy with the same peer
    /// must precede a revealing run.
    pub fn cardinality_before_reveal(&self) -> bool {
        self.cardinality_before_reveal
    }

    /// How recent (in days) the count-only run [`Policy::cardinality_before_reveal`] asks for
    /// must be.
    pub fn cardinality_window_days(&self) -> u64 {
        self.cardinality_window_days
    }

    /// The longest an index key may serve, in days from its creation.
    pub fn index_key_lifetime_days(&self) -> u64 {
        self.index_key_lifetime_days
    }

    /// Elements one receiver may have evaluated under one index key, over the key's life.
    pub fn max_evaluations_per_receiver_per_key(&self) -> u64 {
        self.max_evaluations_per_receiver_per_key
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
