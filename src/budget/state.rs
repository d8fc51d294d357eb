//! The durable form of the budgets: a small JSON file (`protocol-spec/06-policy-and-audit.md`
//! section 4), read whole and replaced atomically.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The state file's format version written by this code. Version 1 files (sessions and one
/// cardinality time per peer) are read; their cardinality time, which named no policy, is
/// not taken as a recent count-only run. Version 2 files (sessions under no recorded policy)
/// are read; those sessions count against every policy until they leave the 24-hour window.
pub(super) const STATE_VERSION: u32 = 3;

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct State {
    pub(super) version: u32,
    /// Per payer: a peer's certificate fingerprint (`cert:<hex>`) or agency name
    /// (`agency:<name>`).
    pub(super) peers: BTreeMap<String, PeerState>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct PeerState {
    /// Versions 1 and 2: Unix seconds of each session admitted within the last 24 hours under
    /// a policy the file did not record (counted against every policy). Version 3 writes none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(super) sessions: Vec<i64>,
    /// Per policy digest (hex): Unix seconds of each session admitted under that policy within
    /// the last 24 hours.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(super) sessions_by_policy: BTreeMap<String, Vec<i64>>,
    /// Per identifier kind: `(unix seconds, elements)` of each charged admission within the
    /// element window.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(super) elements: BTreeMap<String, Vec<(i64, u64)>>,
    /// Per index key epoch (hex id): elements this peer has had evaluated under it.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(super) evaluations: BTreeMap<String, u64>,
    /// Per policy digest (hex): Unix seconds of the last completed count-only session.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub(super) cardinality_runs: BTreeMap<String, i64>,
    /// Version 1 only: the last completed count-only session, under an unrecorded policy.
    #[serde(default, skip_serializing, rename = "last_cardinality_run")]
    _last_cardinality_run: Option<i64>,
}

/// Brings a state read from disk to [`STATE_VERSION`]: version 1 keyed peers by bare
/// certificate fingerprint, which become `cert:<fingerprint>` payers; version 2's sessions
/// stay in [`PeerState::sessions`], under no policy. Returns the version of a file newer than
/// this code reads as the error.
pub(super) fn upgrade(mut state: State) -> Result<State, u32> {
    match state.version {
        STATE_VERSION => Ok(state),
        2 => {
            state.version = STATE_VERSION;
            Ok(state)
        }
        1 => {
            state.peers = std::mem::take(&mut state.peers)
                .into_iter()
                .map(|(k, v)| (format!("cert:{k}"), v))
                .collect();
            state.version = STATE_VERSION;
            Ok(state)
        }
        v => Err(v),
    }
}
