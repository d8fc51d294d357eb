//! The sender's encoded set: computed once, reused by every session that uses the same key
//! (the precomputation of unbalanced mode, persisted by [`crate::index`]).

use rayon::prelude::*;
use zeroize::Zeroize;

use super::label::label_key;
use super::params::MAX_PAYLOAD_LEN;
use super::tags::full_tag;
use crate::error::{ConfigReason, Error, InputReason, Result};
use crate::oprf::{OprfKey, Suite};
use crate::protocol::{Interrupt, ItemSet};

/// Items evaluated between two checks of an [`Interrupt`].
const EVALUATION_BATCH: usize = 1 << 15;

/// A sender's items, evaluated under its OPRF key and kept as full 128-bit tags sorted
/// ascending, with (labeled) each item's AEAD key and plaintext payload in the same order.
///
/// Holds the OPRF key: the same key evaluates the receivers' queries.
pub struct PreparedSender {
    suite: Suite,
    key: OprfKey,
    tags: Vec<u128>,
    labels: Option<Labels>,
    duplicates: usize,
    /// Padding values stored with the set (a precomputed index, section 7.8.3): full 128-bit
    /// values, used in order by every session; `None`: each session draws its own.
    stored_padding: Option<Vec<u128>>,
}

/// Per-entry label material, aligned with the sorted tags.
pub(crate) struct Labels {
    pub(crate) keys: Vec<[u8; 32]>,
    pub(crate) payloads: Vec<Vec<u8>>,
}

impl Drop for Labels {
    fn drop(&mut self) {
        self.keys.zeroize();
    }
}

impl std::fmt::Debug for PreparedSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PreparedSender({}, {} items, labeled: {})",
            self.suite,
            self.tags.len(),
            self.labels.is_some()
        )
    }
}

/// Stored label material: label keys and payloads, aligned with the sorted tags.
pub(crate) type LabelParts = (Vec<[u8; 32]>, Vec<Vec<u8>>);

/// One evaluated entry before sorting.
type Entry = (u128, Option<([u8; 32], Vec<u8>)>);

impl PreparedSender {
    /// Evaluates `items` under `key` (the precomputation). `payloads`, when given, holds one
    /// payload per *input* position of `items` (a repeated item keeps its first payload) and
    /// makes the set labeled.
    ///
    /// # Errors
    /// [`Error::Input`] if the payload count differs from the input count, a payload is
    /// longer than 4096 bytes, or an item is longer than 65535 bytes.
    pub fn new(
        suite: Suite,
        key: OprfKey,
        items: &ItemSet,
        payloads: Option<&[Vec<u8>]>,
    ) -> Result<Self> {
        let mut set = PreparedSender::empty(suite, key, items, payloads.is_some());
        set.add(items, payloads)?;
        Ok(set)
    }

    /// A set with no items yet, under `key`, labeled or not, counting `items`' duplicates.
    fn empty(suite: Suite, key: OprfKey, items: &ItemSet, labeled: bool) -> Self {
        PreparedSender {
            suite,
            key,
            tags: Vec::new(),
            labels: labeled.then(|| Labels {
                keys: Vec::new(),
                payloads: Vec::new(),
            }),
            duplicates: items.duplicates(),
            stored_padding: None,
        }
    }

    /// As [`PreparedSender::new`], checking `interrupt` between batches of items, so a
    /// cancelled session stops evaluating within a batch (a fresh sender key evaluates the
    /// whole set at the start of each session).
    ///
    /// # Errors
    /// As [`PreparedSender::new`], and [`Error::Cancelled`] once `interrupt` is raised.
    pub fn new_interruptible(
        suite: Suite,
        key: OprfKey,
        items: &ItemSet,
        payloads: Option<&[Vec<u8>]>,
        interrupt: &Interrupt,
    ) -> Result<Self> {
        let mut set = PreparedSender::empty(suite, key, items, payloads.is_some());
        set.add_checked(items, payloads, Some(interrupt))?;
        Ok(set)
    }

    /// Adds the items not already in the set; returns how many were added.
    ///
    /// # Errors
    /// As [`PreparedSender::new`], and [`Error::Input`] when payloads are given to an
    /// unlabeled set or missing for a labeled one.
    pub fn add(&mut self, items: &ItemSet, payloads: Option<&[Vec<u8>]>) -> Result<usize> {
        self.add_checked(items, payloads, None)
    }

    fn add_checked(
        &mut self,
        items: &ItemSet,
        payloads: Option<&[Vec<u8>]>,
        interrupt: Option<&Interrupt>,
    ) -> Result<usize> {
        if payloads.is_some() != self.labels.is_some() {
            return Err(Error::input(
                InputReason::Payload,
                if self.labels.is_some() {
                    "this set is labeled: every added item needs a payload"
                } else {
                    "this set is not labeled: items cannot carry payloads"
                },
            ));
        }
        if let Some(p) = payloads {
            if p.len() != items.input_len() {
                return Err(Error::input(
                    InputReason::Payload,
                    format!("{} payloads for {} items", p.len(), items.input_len()),
                ));
            }
            if let Some(i) = p.iter().position(|p| p.len() > MAX_PAYLOAD_LEN) {
                return Err(Error::input(
                    InputReason::Payload,
                    format!("the payload of item {i} is longer than {MAX_PAYLOAD_LEN} bytes"),
                ));
            }
        }
        let mut outputs = Vec::with_capacity(items.len());
        for start in (0..items.len()).step_by(EVALUATION_BATCH) {
            if let Some(i) = interrupt {
                i.check()?;
            }
            let end = (start + EVALUATION_BATCH).min(items.len());
            outputs.extend(
                self.key
                    .evaluate(self.suite, &items.items().slice(start..end))?,
            );
        }
        let mut new: Vec<Entry> = outputs
            .par_iter()
            .enumerate()
            .map(|(u, out)| {
                let label = payloads.map(|p| {
                    let first = items.input_indices(u)[0];
                    (*label_key(out), p[first].clone())
                });
                (full_tag(out), label)
            })
            .collect();
        new.sort_unstable_by_key(|e| e.0);
        new.dedup_by_key(|e| e.0);
        new.retain(|e| self.tags.binary_search(&e.0).is_err());
        let added = new.len();
        self.merge(new);
        Ok(added)
    }

    /// Removes the given items where present; returns how many were removed.
    ///
    /// # Errors
    /// [`Error::Input`] if an item is longer than 65535 bytes.
    pub fn remove(&mut self, items: &ItemSet) -> Result<usize> {
        let outputs = self
            .key
            .evaluate(self.suite, &items.items().slice(0..items.len()))?;
        let mut gone: Vec<u128> = outputs.iter().map(full_tag).collect();
        gone.sort_unstable();
        let keep: Vec<bool> = self
            .tags
            .iter()
            .map(|t| gone.binary_search(t).is_err())
            .collect();
        let removed = keep.iter().filter(|k| !**k).count();
        let mut it = keep.iter();
        self.tags.retain(|_| *it.next().unwrap_or(&true));
        if let Some(labels) = &mut self.labels {
            let mut it = keep.iter();
            labels.keys.retain(|_| *it.next().unwrap_or(&true));
            let mut it = keep.iter();
            labels.payloads.retain(|_| *it.next().unwrap_or(&true));
        }
        Ok(removed)
    }

    fn merge(&mut self, new: Vec<Entry>) {
        let old_tags = std::mem::take(&mut self.tags);
        let mut old_labels = self.labels.as_mut().map(|l| {
            (
                std::mem::take(&mut l.keys).into_iter(),
                std::mem::take(&mut l.payloads).into_iter(),
            )
        });
        let mut tags = Vec::with_capacity(old_tags.len() + new.len());
        let mut keys = Vec::new();
        let mut payloads = Vec::new();
        let mut new = new.into_iter().peekable();
        let mut old = old_tags.into_iter().peekable();
        loop {
            let take_new = match (old.peek(), new.peek()) {
                (None, None) => break,
                (Some(_), None) => false,
                (None, Some(_)) => true,
                (Some(o), Some(n)) => n.0 < *o,
            };
            if take_new {
                if let Some((t, label)) = new.next() {
                    tags.push(t);
                    if let Some((k, p)) = label {
                        keys.push(k);
                        payloads.push(p);
                    }
                }
            } else if let Some(t) = old.next() {
                tags.push(t);
                if let Some((ks, ps)) = &mut old_labels {
                    if let (Some(k), Some(p)) = (ks.next(), ps.next()) {
                        keys.push(k);
                        payloads.push(p);
                    }
                }
            }
        }
        self.tags = tags;
        if let Some(l) = &mut self.labels {
            l.keys = keys;
            l.payloads = payloads;
        }
    }

    /// The OPRF suite.
    pub fn suite(&self) -> Suite {
        self.suite
    }

    /// Distinct items in the set.
    pub fn len(&self) -> usize {
        self.tags.len()
    }

    /// True when the set is empty.
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty()
    }

    /// Input items dropped as repeats when the set was first computed.
    pub fn duplicates(&self) -> usize {
        self.duplicates
    }

    /// True when every item carries a payload.
    pub fn is_labeled(&self) -> bool {
        self.labels.is_some()
    }

    /// The longest payload, the smallest `payload_len` a session can use (0 if unlabeled).
    pub fn max_payload_len(&self) -> usize {
        self.labels
            .as_ref()
            .and_then(|l| l.payloads.iter().map(Vec::len).max())
            .unwrap_or(0)
    }

    /// The padding values stored with the set (section 7.8.3), in the order sessions use
    /// them; `None` when each session draws fresh padding.
    pub(crate) fn stored_padding(&self) -> Option<&[u128]> {
        self.stored_padding.as_deref()
    }

    /// Stores padding values with the set: every session then uses their prefix instead of
    /// drawing (a precomputed index).
    pub(crate) fn set_stored_padding(&mut self, values: Vec<u128>) {
        self.stored_padding = Some(values);
    }

    /// Checks that a session of `sender_count` tags can be padded: always with fresh padding;
    /// with stored padding, when at least `sender_count - len` values are stored.
    ///
    /// # Errors
    /// [`Error::Config`] with [`ConfigReason::IndexPadding`] when the stored padding is too
    /// short (the detail names the padding the index needs).
    pub fn check_padding(&self, sender_count: usize) -> Result<()> {
        let need = sender_count.saturating_sub(self.len());
        match &self.stored_padding {
            Some(stored) if stored.len() < need => Err(Error::config(
                ConfigReason::IndexPadding,
                format!(
                    "the session sends {sender_count} tags, {need} of them padding for the \
                     index's {} items, but the index stores {} padding tags: rebuild or \
                     update it padded to at least {sender_count} items",
                    self.len(),
                    stored.len()
                ),
            )),
            _ => Ok(()),
        }
    }

    pub(crate) fn key(&self) -> &OprfKey {
        &self.key
    }

    pub(crate) fn tags(&self) -> &[u128] {
        &self.tags
    }

    pub(crate) fn labels(&self) -> Option<&Labels> {
        self.labels.as_ref()
    }

    /// Rebuilds a set from its stored parts (sorted tags, aligned labels).
    ///
    /// # Errors
    /// [`Error::Input`] if the tags are not strictly ascending or the labels do not align.
    pub(crate) fn from_parts(
        suite: Suite,
        key: OprfKey,
        tags: Vec<u128>,
        labels: Option<LabelParts>,
    ) -> Result<Self> {
        if tags.windows(2).any(|w| w[0] >= w[1]) {
            return Err(Error::config(
                ConfigReason::Index,
                "stored tags are not sorted",
            ));
        }
        if let Some((k, p)) = &labels {
            if k.len() != tags.len() || p.len() != tags.len() {
                return Err(Error::config(
                    ConfigReason::Index,
                    "stored labels do not match the tags",
                ));
            }
        }
        Ok(PreparedSender {
            suite,
            key,
            tags,
            labels: labels.map(|(keys, payloads)| Labels { keys, payloads }),
            duplicates: 0,
            stored_padding: None,
        })
    }
}
