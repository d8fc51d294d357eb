//! The set of items a party brings: byte strings, deduplicated before anything is hashed.

use std::collections::HashMap;
use std::sync::Arc;

use crate::packed::{DistinctBytes, PackedBytes};

/// A party's items, each distinct, remembering where each one stood in the input.
///
/// Duplicates are removed here, before hashing (a duplicate would show on the wire as a
/// repeated element), and counted so the caller can report them.
#[derive(Debug, Clone, Default)]
pub struct ItemSet {
    items: Arc<PackedBytes>,
    /// Input position of the first occurrence of each item; `None` when the input had no
    /// repeats, so item `i` stood at position `i`.
    first_index: Option<Vec<usize>>,
    /// Further input positions of items that occurred more than once.
    repeats: HashMap<usize, Vec<usize>>,
    input_len: usize,
}

impl ItemSet {
    /// Deduplicates `items`, keeping the first occurrence's order.
    pub fn new<I, T>(items: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        let mut set = ItemSet::default();
        let mut first_index = Vec::new();
        let mut seen = DistinctBytes::new();
        for (input_index, item) in items.into_iter().enumerate() {
            set.input_len += 1;
            match seen.insert(item.as_ref()) {
                (unique, false) => set.repeats.entry(unique).or_default().push(input_index),
                (_, true) => first_index.push(input_index),
            }
        }
        set.items = seen.into_strings();
        Arc::make_mut(&mut set.items).shrink_to_fit();
        first_index.shrink_to_fit();
        set.first_index = Some(first_index);
        set
    }

    /// The set of `items` known to be distinct (as [`crate::records::Records`] holds them),
    /// shared rather than copied, each at its own input position.
    pub(crate) fn from_distinct(items: Arc<PackedBytes>) -> Self {
        ItemSet {
            input_len: items.len(),
            items,
            first_index: None,
            repeats: HashMap::new(),
        }
    }

    /// Number of distinct items.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when there are no items.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Number of input items dropped as repeats of an earlier one.
    pub fn duplicates(&self) -> usize {
        self.input_len - self.items.len()
    }

    /// Number of items given to [`ItemSet::new`], repeats included.
    pub fn input_len(&self) -> usize {
        self.input_len
    }

    /// The distinct items, in order of first occurrence.
    pub fn items(&self) -> &PackedBytes {
        &self.items
    }

    /// Every input position at which distinct item `unique` occurred, ascending.
    pub fn input_indices(&self, unique: usize) -> Vec<usize> {
        let first = self.first_index.as_ref().map_or(unique, |f| f[unique]);
        let mut all = vec![first];
        if let Some(more) = self.repeats.get(&unique) {
            all.extend_from_slice(more);
        }
        all
    }

    /// Checks the distinct items fit the `count` agreed for this party.
    ///
    /// # Errors
    /// [`crate::error::InputReason::SetSize`] when there are more.
    pub(crate) fn check_fits(&self, count: usize) -> crate::error::Result<()> {
        if self.len() > count {
            return Err(crate::error::Error::input(
                crate::error::InputReason::SetSize,
                format!(
                    "{} distinct items do not fit the agreed set size of {count}",
                    self.len()
                ),
            ));
        }
        Ok(())
    }

    /// The matches of distinct items `numbers` (in any order), ordered by first input
    /// position.
    pub(crate) fn matches(&self, mut numbers: Vec<usize>) -> Vec<crate::protocol::dh::Match> {
        numbers.sort_unstable();
        numbers
            .into_iter()
            .map(|n| crate::protocol::dh::Match {
                item: self.items[n].to_vec(),
                input_indices: self.input_indices(n),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_removed_and_remembered() {
        let set = ItemSet::new(["a", "b", "a", "c", "b", "a"]);
        assert!(set
            .items()
            .iter()
            .eq([b"a", b"b", b"c"].map(|i| i.as_slice())));
        assert_eq!(set.duplicates(), 3);
        assert_eq!(set.input_len(), 6);
        assert_eq!(set.input_indices(0), vec![0, 2, 5]);
        assert_eq!(set.input_indices(1), vec![1, 4]);
        assert_eq!(set.input_indices(2), vec![3]);
    }

    #[test]
    fn empty_input() {
        let set = ItemSet::new(Vec::<Vec<u8>>::new());
        assert!(set.is_empty());
        assert_eq!(set.duplicates(), 0);
    }
}
