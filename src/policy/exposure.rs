//! How much of an enumerable kind's domain a curious peer could cover under a policy
//! (`protocol-spec/06-policy-and-audit.md` section 2.3), and the refusal of a policy that lets
//! it cover more than `max_domain_share_percent`.
//!
//! Within one element window a peer sends at most
//! `min(max_elements_per_peer, per_session x max_sessions_per_peer_per_day x element_window_days)`
//! elements of one kind, where `per_session` is the padding bound if padding is on and
//! `max_set_size` otherwise. Under one index key (when `allow_key_reuse` is on) a receiver has
//! at most `min(max_evaluations_per_receiver_per_key, window_cover x (lifetime / window + 1))`
//! evaluated: a key serves through both ends of its lifetime, which touches that many half-open
//! windows. Each of those elements can be a value the peer chose; so this is the number of
//! values whose membership in our set it can learn.

use super::domain::{enumerable_domain, Domain};
use super::Policy;
use crate::identifiers::IdentifierKind;

/// What a peer could cover of one enumerable kind under a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exposure {
    /// The kind.
    pub kind: IdentifierKind,
    /// Its domain.
    pub domain: Domain,
    /// Elements a peer can send within one element window.
    pub per_window: u64,
    /// Elements a receiver can have evaluated under one index key (`None` without key reuse).
    pub per_key: Option<u64>,
}

impl Exposure {
    /// The larger of the two covers, capped at the whole domain.
    pub fn worst(&self) -> u64 {
        self.per_window
            .max(self.per_key.unwrap_or(0))
            .min(self.domain.size)
    }

    /// Whether the cover exceeds `share_percent` of the domain, exactly:
    /// `worst * 100 > share_percent * domain`.
    pub fn exceeds(&self, share_percent: u64) -> bool {
        u128::from(self.worst()) * 100 > u128::from(share_percent) * u128::from(self.domain.size)
    }
}

impl Policy {
    /// Elements of one kind a peer can send within one element window.
    pub fn elements_per_window(&self) -> u64 {
        let per_session = self.padding_bound.unwrap_or(self.max_set_size);
        let by_sessions = per_session
            .saturating_mul(self.max_sessions_per_peer_per_day)
            .saturating_mul(self.element_window_days);
        self.max_elements_per_peer.min(by_sessions)
    }

    /// Elements one receiver can have evaluated under one index key (`None` when the policy
    /// does not allow key reuse, so every key serves one session).
    pub fn elements_per_key(&self) -> Option<u64> {
        if !self.allow_key_reuse {
            return None;
        }
        let windows = self.index_key_lifetime_days / self.element_window_days + 1;
        Some(
            self.max_evaluations_per_receiver_per_key
                .min(self.elements_per_window().saturating_mul(windows)),
        )
    }

    /// The exposure of every enumerable kind the policy allows, in the order of the kinds'
    /// names.
    pub fn exposure(&self) -> Vec<Exposure> {
        self.identifier_kinds
            .iter()
            .filter_map(|name| name.parse::<IdentifierKind>().ok())
            .filter_map(|kind| {
                enumerable_domain(kind).map(|domain| Exposure {
                    kind,
                    domain,
                    per_window: self.elements_per_window(),
                    per_key: self.elements_per_key(),
                })
            })
            .collect()
    }

    /// The first allowed kind a peer could cover more than `max_domain_share_percent` of,
    /// with a sentence naming the numbers.
    pub(super) fn over_exposed(&self) -> Option<String> {
        self.exposure().into_iter().find_map(|e| {
            if !e.exceeds(self.max_domain_share_percent) {
                return None;
            }
            let allowed = e.domain.size as u128 * self.max_domain_share_percent as u128 / 100;
            let (count, within) = match e.per_key {
                Some(k) if k > e.per_window => (k, "under one index key".to_owned()),
                _ => (
                    e.per_window,
                    format!("in {} days", self.element_window_days),
                ),
            };
            Some(format!(
                "a peer could send {count} `{}` elements {within}: {:.1} % of the {} values of \
                 the kind ({}), above `max_domain_share_percent` = {} %; lower \
                 `max_elements_per_peer`{} to at most {allowed}, or the session budget",
                e.kind,
                (count as f64 * 100.0 / e.domain.size as f64).min(100.0),
                e.domain.size,
                e.domain.basis,
                self.max_domain_share_percent,
                if e.per_key.is_some() {
                    " or `max_evaluations_per_receiver_per_key`"
                } else {
                    ""
                },
            ))
        })
    }
}
