//! A policy refusal ([`PolicyRefusal`]) and the rules that refuse ([`PolicyRule`]).

use std::fmt;
use std::str::FromStr;

/// A rule of the policy, named by its key in the policy file
/// (`protocol-spec/06-policy-and-audit.md` section 3). A `Refused` verdict carries the name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum PolicyRule {
    /// The mode is not among the policy's `modes`.
    Modes,
    /// An identifier kind is not among `identifier_kinds`.
    IdentifierKinds,
    /// A set is smaller than `min_set_size`.
    MinSetSize,
    /// A set is larger than `max_set_size`.
    MaxSetSize,
    /// The padding bound is broken.
    PaddingBound,
    /// A payload column is not among `revealable_columns`.
    RevealableColumns,
    /// No count-only session came first.
    CardinalityBeforeReveal,
    /// The per-peer daily session budget is spent.
    MaxSessionsPerPeerPerDay,
    /// The per-peer element budget of an identifier kind within the element window is spent.
    MaxElementsPerPeer,
    /// An OPRF key would serve more than one session.
    AllowKeyReuse,
    /// An index key is older than the policy's key lifetime.
    IndexKeyLifetime,
    /// A receiver's evaluations under one index key would exceed the cap.
    MaxEvaluationsPerReceiverPerKey,
    /// A labeled session's payload length is not the policy's `payload_len`.
    PayloadLen,
}

impl PolicyRule {
    /// Every rule, in the order the checks run.
    pub const ALL: [PolicyRule; 13] = [
        PolicyRule::Modes,
        PolicyRule::IdentifierKinds,
        PolicyRule::MinSetSize,
        PolicyRule::MaxSetSize,
        PolicyRule::PaddingBound,
        PolicyRule::RevealableColumns,
        PolicyRule::CardinalityBeforeReveal,
        PolicyRule::MaxSessionsPerPeerPerDay,
        PolicyRule::MaxElementsPerPeer,
        PolicyRule::AllowKeyReuse,
        PolicyRule::IndexKeyLifetime,
        PolicyRule::MaxEvaluationsPerReceiverPerKey,
        PolicyRule::PayloadLen,
    ];

    /// The policy key: `modes`, `max_set_size`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            PolicyRule::Modes => "modes",
            PolicyRule::IdentifierKinds => "identifier_kinds",
            PolicyRule::MinSetSize => "min_set_size",
            PolicyRule::MaxSetSize => "max_set_size",
            PolicyRule::PaddingBound => "padding_bound",
            PolicyRule::RevealableColumns => "revealable_columns",
            PolicyRule::CardinalityBeforeReveal => "cardinality_before_reveal",
            PolicyRule::MaxSessionsPerPeerPerDay => "max_sessions_per_peer_per_day",
            PolicyRule::MaxElementsPerPeer => "max_elements_per_peer",
            PolicyRule::AllowKeyReuse => "allow_key_reuse",
            PolicyRule::IndexKeyLifetime => "index_key_lifetime_days",
            PolicyRule::MaxEvaluationsPerReceiverPerKey => "max_evaluations_per_receiver_per_key",
            PolicyRule::PayloadLen => "payload_len",
        }
    }
}

impl fmt::Display for PolicyRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PolicyRule {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        PolicyRule::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or(())
    }
}

/// Which side's policy check refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum RefusedBy {
    /// Our own check (the detail is ours).
    Us,
    /// The peer's check: it told us the rule only.
    Peer,
}

/// A session refused by the agreed policy.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PolicyRefusal {
    /// The rule that refused.
    pub rule: PolicyRule,
    /// What was asked and what the rule allows (for a peer's refusal: only that it refused).
    pub detail: String,
    /// Whose check refused.
    pub by: RefusedBy,
}

impl PolicyRefusal {
    /// The peer refused the session under `rule`.
    pub fn by_peer(rule: PolicyRule) -> Self {
        PolicyRefusal {
            rule,
            detail: "the peer refused the session under the agreed policy before any element \
                     was sent (its audit log has the details)"
                .into(),
            by: RefusedBy::Peer,
        }
    }
}

impl fmt::Display for PolicyRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "refused by policy rule `{}`: {}", self.rule, self.detail)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_names_round_trip() {
        for r in PolicyRule::ALL {
            assert_eq!(r.as_str().parse::<PolicyRule>(), Ok(r));
        }
        assert!("nope".parse::<PolicyRule>().is_err());
    }
}
