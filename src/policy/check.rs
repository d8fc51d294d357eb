//! [`Policy::check_session`]: is this session allowed? Called before any element is sent, once
//! locally before connecting (`peer_count: None`) and again after the handshake with the
//! peer's announced count.

use super::Policy;
use crate::error::{Error, PolicyRule, Result};

/// What a session would do, for [`Policy::check_session`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRequest {
    /// The session mode as `protocol::Mode` displays it: `"intersection"`, `"mutual"`,
    /// `"cardinality"` or `"labeled"`.
    pub mode: String,
    /// Our number of unique items (the true size, before padding).
    pub own_count: u64,
    /// The number of elements the peer announced in the handshake, or `None` before the
    /// handshake.
    pub peer_count: Option<u64>,
    /// The identifier kinds of our input (for example `["imo_ship"]`).
    pub kinds: Vec<String>,
    /// SHA-256 fingerprint of the peer's certificate (hex), for messages and budgets.
    pub peer_fingerprint: String,
    /// Payload columns the session would reveal (labeled mode), empty otherwise.
    pub revealed_columns: Vec<String>,
    /// Whether a count-only (cardinality) session with this peer under this policy completed
    /// within the policy's `cardinality_window_days` (see
    /// [`crate::budget::BudgetStore::recent_cardinality_run`]).
    pub prior_cardinality_run: bool,
}

/// A refusal under `rule`.
fn refuse(rule: PolicyRule, detail: String) -> Error {
    Error::refused(rule, detail)
}

impl Policy {
    /// Checks a session against every rule of the policy except the query budget (which needs
    /// local state: [`crate::budget::BudgetStore::admit`] checks both).
    ///
    /// # Errors
    /// [`Error::PolicyRefused`] whose `rule` is the [`PolicyRule`] that refused the session:
    /// [`PolicyRule::Modes`], [`PolicyRule::IdentifierKinds`], [`PolicyRule::MinSetSize`],
    /// [`PolicyRule::MaxSetSize`], [`PolicyRule::PaddingBound`],
    /// [`PolicyRule::RevealableColumns`] or [`PolicyRule::CardinalityBeforeReveal`].
    pub fn check_session(&self, req: &SessionRequest) -> Result<()> {
        if !self.modes.contains(&req.mode) {
            return Err(refuse(
                PolicyRule::Modes,
                format!(
                    "mode `{}` is not allowed; the policy allows {}",
                    req.mode,
                    list(self.modes.iter())
                ),
            ));
        }
        if req.kinds.is_empty() {
            return Err(refuse(
                PolicyRule::IdentifierKinds,
                "the session does not say which identifier kind it matches".to_owned(),
            ));
        }
        for kind in &req.kinds {
            if !self.identifier_kinds.contains(kind) {
                return Err(refuse(
                    PolicyRule::IdentifierKinds,
                    format!(
                        "identifier kind `{kind}` is not allowed; the policy allows {}",
                        list(self.identifier_kinds.iter())
                    ),
                ));
            }
        }
        self.check_own_size(req.own_count)?;
        if let Some(peer) = req.peer_count {
            match self.padding_bound {
                Some(bound) if peer != bound => {
                    return Err(refuse(
                        PolicyRule::PaddingBound,
                        format!(
                            "peer {} announced {peer} elements; the policy requires exactly the \
                             padding bound {bound}",
                            req.peer_fingerprint
                        ),
                    ));
                }
                Some(_) => {}
                None => self.check_size("the peer's set", peer)?,
            }
        }
        for column in &req.revealed_columns {
            if !self.revealable_columns.contains(column) {
                return Err(refuse(
                    PolicyRule::RevealableColumns,
                    format!(
                        "column `{column}` may not be revealed; the policy allows {}",
                        list(self.revealable_columns.iter())
                    ),
                ));
            }
        }
        if self.cardinality_before_reveal
            && Policy::is_revealing(&req.mode)
            && !req.prior_cardinality_run
        {
            return Err(refuse(
                PolicyRule::CardinalityBeforeReveal,
                format!(
                    "mode `{}` reveals items, and no count-only (cardinality) session with peer {} \
                     has completed yet; run one first",
                    req.mode, req.peer_fingerprint
                ),
            ));
        }
        Ok(())
    }

    /// The rules on our own true size alone, which need no peer and can be checked before
    /// connecting: `min_set_size`, `max_set_size` and `padding_bound` for `own_count` unique
    /// items. [`Policy::check_session`] applies them too.
    ///
    /// # Errors
    /// [`Error::PolicyRefused`] with [`PolicyRule::MinSetSize`], [`PolicyRule::MaxSetSize`] or
    /// [`PolicyRule::PaddingBound`].
    /// [`Policy::check_session`].)
    pub fn check_own_size(&self, own_count: u64) -> Result<()> {
        self.check_size("our set", own_count)?;
        if let Some(bound) = self.padding_bound {
            if own_count > bound {
                return Err(refuse(
                    PolicyRule::PaddingBound,
                    format!(
                        "our set has {own_count} unique items, more than the padding bound {bound}"
                    ),
                ));
            }
        }
        Ok(())
    }

    fn check_size(&self, whose: &str, count: u64) -> Result<()> {
        if count < self.min_set_size {
            return Err(refuse(
                PolicyRule::MinSetSize,
                format!(
                    "{whose} has {count} unique items, fewer than the minimum {}",
                    self.min_set_size
                ),
            ));
        }
        if count > self.max_set_size {
            return Err(refuse(
                PolicyRule::MaxSetSize,
                format!(
                    "{whose} has {count} unique items, more than the maximum {}",
                    self.max_set_size
                ),
            ));
        }
        Ok(())
    }
}

fn list<'a>(items: impl Iterator<Item = &'a String>) -> String {
    let v: Vec<String> = items.map(|s| format!("`{s}`")).collect();
    if v.is_empty() {
        "none".to_owned()
    } else {
        v.join(", ")
    }
}
