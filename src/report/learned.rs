//! What each party learns, by protocol, mode and role: the one table the report's words come
//! from. It mirrors `protocol-spec/02-security-model.md` section 2.2 (DH-PSI) and
//! `07-oprf-psi.md` sections 7.9 and 7.11 (OPRF-PSI: the responder is the sender, the
//! initiator the receiver) and `08-vole-psi.md` section 8.9 (VOLE-PSI, the same roles); `tests/report_learned.rs` checks every row against the spec's
//! words. Both parties always learn the other's set size as sent (its padded size, section
//! 3.6), from the hello (`04-transport-and-handshake.md` section 4.3.1), even when the session
//! is refused or aborted.

use crate::audit::{AbortStage, Learned};

/// What a party learns about the intersection, besides the other's set size as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reveals {
    /// Nothing about the other's items.
    Nothing,
    /// How many items are shared (the count only).
    Count,
    /// Which of its own items are shared.
    Items,
    /// Which of its own items are shared, their payloads (the sender's revealed columns), the
    /// payload column names and the payload length.
    ItemsAndPayloads,
}

/// One row of the table: what the initiator and the responder learn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// `"dh"`, `"oprf"` or `"vole"`.
    pub protocol: &'static str,
    /// The session mode.
    pub mode: &'static str,
    /// What the initiator (OPRF-PSI: the receiver) learns.
    pub initiator: Reveals,
    /// What the responder (OPRF-PSI: the sender) learns.
    pub responder: Reveals,
}

/// Every protocol and mode a session can run (`04-transport-and-handshake.md` section
/// 4.3.5, rule 5).
pub const TABLE: &[Row] = &[
    Row {
        protocol: "dh",
        mode: "intersection",
        initiator: Reveals::Items,
        responder: Reveals::Nothing,
    },
    Row {
        protocol: "dh",
        mode: "mutual",
        initiator: Reveals::Items,
        responder: Reveals::Items,
    },
    Row {
        protocol: "dh",
        mode: "cardinality",
        initiator: Reveals::Count,
        responder: Reveals::Nothing,
    },
    Row {
        protocol: "oprf",
        mode: "intersection",
        initiator: Reveals::Items,
        responder: Reveals::Nothing,
    },
    Row {
        protocol: "oprf",
        mode: "labeled",
        initiator: Reveals::ItemsAndPayloads,
        responder: Reveals::Nothing,
    },
    Row {
        protocol: "vole",
        mode: "intersection",
        initiator: Reveals::Items,
        responder: Reveals::Nothing,
    },
    Row {
        protocol: "vole",
        mode: "mutual",
        initiator: Reveals::Items,
        responder: Reveals::Items,
    },
];

/// The row for a session. Entries written before the protocol was logged name none: the
/// mode then decides (such entries predate VOLE-PSI, so `mutual` and `cardinality` are
/// DH-PSI's, `labeled` OPRF-PSI's, and every protocol's `intersection` row says the same).
pub fn row(protocol: Option<&str>, mode: &str) -> Option<&'static Row> {
    TABLE
        .iter()
        .find(|r| r.mode == mode && protocol.is_none_or(|p| p == r.protocol))
}

/// What the party in `role` (`"initiator"` or `"responder"`) learns in `row`.
pub fn reveals(row: &Row, role: &str) -> Reveals {
    if role == "responder" {
        row.responder
    } else {
        row.initiator
    }
}

/// How far a session got, as far as the log says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reached {
    /// Completed: both receipts, the output written, `session_ended` logged.
    Completed,
    /// Aborted at this stage (`None`: an entry that did not record it, and no peer receipt).
    Aborted(Option<AbortStage>),
    /// Started, never ended in the log.
    Unfinished,
}

/// The words for what a party learned.
pub(crate) struct Words<'a> {
    /// What the party learns in this mode and role.
    pub reveals: Reveals,
    /// The count logged for it, if any.
    pub learned: Option<Learned>,
    /// The other party's set size as sent.
    pub other_sent: u64,
    /// The payload columns revealed (labeled mode).
    pub columns: &'a [String],
}

fn result(w: &Words<'_>, own: bool) -> Option<String> {
    let (whose, other) = if own {
        ("our", "the peer's")
    } else {
        ("its", "our")
    };
    let n = w.learned.and_then(|l| l.count());
    let cols = if w.columns.is_empty() {
        String::new()
    } else {
        format!(" (columns {})", w.columns.join(", "))
    };
    // We are never "not told" our own result: an entry that lacks it did not log it.
    let untold = if own {
        "how many was not logged"
    } else {
        "how many is not disclosed to us"
    };
    Some(match (w.reveals, n) {
        (Reveals::Nothing, _) => return None,
        (Reveals::Count, Some(n)) => format!("how many items are shared, the count only: {n}"),
        (Reveals::Count, None) => {
            format!("how many items are shared, the count only ({untold})")
        }
        (Reveals::Items, Some(n)) => {
            format!("which of {whose} items are shared: {n} matched items")
        }
        (Reveals::Items, None) => {
            format!("which of {whose} items are shared ({untold})")
        }
        (Reveals::ItemsAndPayloads, Some(n)) => format!(
            "which of {whose} items are shared and {other} payloads for them{cols}: {n} matched \
             items"
        ),
        (Reveals::ItemsAndPayloads, None) => format!(
            "which of {whose} items are shared and {other} payloads for them{cols} ({untold})"
        ),
    })
}

fn size(w: &Words<'_>, own: bool) -> String {
    if own {
        format!("the peer's set size as sent ({})", w.other_sent)
    } else {
        format!("our set size as sent ({})", w.other_sent)
    }
}

/// What we learned, in words.
pub(crate) fn ours(w: &Words<'_>, reached: Reached) -> String {
    let size = size(w, true);
    let full = match result(w, true) {
        Some(r) => format!("{r}; {size}"),
        None => format!("{size}; nothing about its items"),
    };
    match reached {
        Reached::Completed => full,
        Reached::Unfinished => {
            format!("{size}; the rest is unknown (the session never ended in the log)")
        }
        Reached::Aborted(Some(AbortStage::AfterReceipts)) => match result(w, true) {
            Some(r) => format!(
                "{r}, computed after both receipts but not recorded (the session aborted before \
                 its output was written or logged); {size}"
            ),
            None => full,
        },
        Reached::Aborted(Some(AbortStage::BodyDone)) => match result(w, true) {
            Some(r) => format!(
                "{r}, computed and then discarded (the session aborted before the peer's \
                 receipt); {size}"
            ),
            None => full,
        },
        Reached::Aborted(_) => {
            format!("{size}; no result (the session aborted during the protocol)")
        }
    }
}

/// What the peer learned, in words. `peer_completed`: we logged the peer's receipt saying it
/// completed.
pub(crate) fn theirs(w: &Words<'_>, reached: Reached, peer_completed: bool) -> String {
    let size = size(w, false);
    let result = result(w, false);
    let full = match &result {
        Some(r) => format!("{r}; {size}"),
        None => format!("{size}; nothing about our items"),
    };
    let Some(r) = result else {
        // Whatever the stage, it learned our size from the hello and nothing more.
        return full;
    };
    match reached {
        Reached::Completed => full,
        _ if peer_completed => format!("{full} (its signed receipt says it completed)"),
        Reached::Aborted(Some(AbortStage::AfterReceipts)) => {
            format!("{full} (it completed: its receipt was checked)")
        }
        Reached::Aborted(Some(AbortStage::BodyDone)) => format!(
            "{size}; possibly also {r} (our part of the protocol was complete when the session \
             aborted)"
        ),
        Reached::Aborted(_) => {
            format!("{size}; possibly part or all of {r} (the session aborted during the protocol)")
        }
        Reached::Unfinished => {
            format!("{size}; possibly also {r} (the session never ended in the log)")
        }
    }
}
