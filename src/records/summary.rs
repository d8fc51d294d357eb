//! Counts of what a load accepted, rejected and found twice.

use std::fmt;

/// Counts for one key.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct KeySummary {
    /// The key as written (`imo:imo_ship`), which names its kind(s).
    pub key: String,
    /// Valid values (each extracted identifier counts once), duplicates included.
    pub accepted: usize,
    /// Of `accepted`, values whose item was already produced by an earlier row or key.
    pub duplicates: usize,
    /// Invalid values (each is in the rejects).
    pub rejected: usize,
    /// Rows where the key's column was empty (or, for an extracting key, held no candidate).
    pub empty: usize,
}

/// What a load did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Summary {
    /// Rows read (readable and unreadable).
    pub rows: usize,
    /// Rows that could not be read (each is in the rejects).
    pub unreadable_rows: usize,
    /// Distinct items produced: what enters the protocol.
    pub unique_items: usize,
    /// Per-key counts, in key order.
    pub keys: Vec<KeySummary>,
}

impl Summary {
    /// The counts per kind rather than per key: keys of the same kind(s) are added together,
    /// and `key` holds the kind name (`imo_ship`, or `person_name+date_of_birth` for a
    /// composite). `keys` gives the kinds of each key, in order (as [`Summary::keys`]).
    pub fn by_kind(&self, keys: &[super::KeySpec]) -> Vec<KeySummary> {
        let mut out: Vec<KeySummary> = Vec::new();
        for (k, spec) in self.keys.iter().zip(keys) {
            let kind = spec
                .parts()
                .iter()
                .map(|p| p.kind.name())
                .collect::<Vec<_>>()
                .join("+");
            let slot = match out.iter().position(|s| s.key == kind) {
                Some(i) => &mut out[i],
                None => {
                    out.push(KeySummary {
                        key: kind,
                        ..KeySummary::default()
                    });
                    let last = out.len() - 1;
                    &mut out[last]
                }
            };
            slot.accepted += k.accepted;
            slot.duplicates += k.duplicates;
            slot.rejected += k.rejected;
            slot.empty += k.empty;
        }
        out
    }

    /// Total rejects: invalid values plus unreadable rows.
    pub fn rejected(&self) -> usize {
        self.unreadable_rows + self.keys.iter().map(|k| k.rejected).sum::<usize>()
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} rows ({} unreadable), {} unique items",
            self.rows, self.unreadable_rows, self.unique_items
        )?;
        let width = self
            .keys
            .iter()
            .map(|k| k.key.len())
            .max()
            .unwrap_or(3)
            .max(3);
        writeln!(
            f,
            "{:<width$}  {:>9}  {:>9}  {:>10}  {:>7}",
            "key", "accepted", "rejected", "duplicates", "empty"
        )?;
        for k in &self.keys {
            writeln!(
                f,
                "{:<width$}  {:>9}  {:>9}  {:>10}  {:>7}",
                k.key, k.accepted, k.rejected, k.duplicates, k.empty
            )?;
        }
        Ok(())
    }
}
