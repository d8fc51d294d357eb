//! The set of items a party brings: byte strings, deduplicated before anything is hashed.

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use crate::packed::{DistinctBytes, PackedBytes};

/// A party's items, each distinct, remembering where each one stood in the input.
///
/// Duplicates are removed here, before hashing (a duplicate would show on the wire as a
/// repeated element), and counted so the caller can report them. A clone shares the items
/// and their positions (the [`crate::protocol::Matches`] of a session hold one).
#[derive(Debug, Clone, Default)]
pub struct ItemSet {
    items: Arc<PackedBytes>,
    /// Input position of the first occurrence of each item; `None` when the input had no
    /// repeats, so item `i` stood at position `i`.
    first_index: Option<Arc<[usize]>>,
    /// Further input positions of items that occurred more than once.
    repeats: Arc<HashMap<usize, Vec<usize>>>,
    input_len: usize,
    /// The digest of the items, once computed ([`ItemSet::digest_once`]): shared by the
    /// clones, which hold the same items.
    digest: Arc<OnceLock<[u8; 32]>>,
}

impl ItemSet {
    /// Deduplicates `items`, keeping the first occurrence's order.
    pub fn new<I, T>(items: I) -> Self
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        let mut first_index = Vec::new();
        let mut repeats: HashMap<usize, Vec<usize>> = HashMap::new();
        let mut input_len = 0;
        let mut seen = DistinctBytes::new();
        for (input_index, item) in items.into_iter().enumerate() {
            input_len += 1;
            match seen.insert(item.as_ref()) {
                (unique, false) => repeats.entry(unique).or_default().push(input_index),
                (_, true) => first_index.push(input_index),
            }
        }
        let mut items = seen.into_strings();
        Arc::make_mut(&mut items).shrink_to_fit();
        ItemSet {
            items,
            first_index: Some(first_index.into()),
            repeats: Arc::new(repeats),
            input_len,
            digest: Arc::default(),
        }
    }

    /// The set of `items` known to be distinct (as [`crate::records::Records`] holds them),
    /// shared rather than copied, each at its own input position.
    pub(crate) fn from_distinct(items: Arc<PackedBytes>) -> Self {
        ItemSet {
            input_len: items.len(),
            items,
            first_index: None,
            repeats: Arc::default(),
            digest: Arc::default(),
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
        let mut all = vec![self.first_input_index(unique)];
        all.extend_from_slice(self.repeat_indices(unique));
        all
    }

    /// The input position of distinct item `unique`'s first occurrence.
    pub(crate) fn first_input_index(&self, unique: usize) -> usize {
        self.first_index.as_ref().map_or(unique, |f| f[unique])
    }

    /// The input positions of distinct item `unique`'s repeats (after the first), ascending.
    pub(crate) fn repeat_indices(&self, unique: usize) -> &[usize] {
        self.repeats.get(&unique).map_or(&[], Vec::as_slice)
    }

    /// The distinct items `keep` (ascending item numbers), as a set of their own that
    /// remembers where each stood in *this* set's input: its matches name the same input
    /// positions as this set's would (a shard of the input, `protocol-spec/09-buckets.md`
    /// 9.11).
    pub(crate) fn select(&self, keep: &[usize]) -> ItemSet {
        let items: PackedBytes = keep.iter().map(|&i| &self.items[i]).collect();
        let mut repeats = HashMap::new();
        let mut input_len = keep.len();
        let first_index = keep
            .iter()
            .enumerate()
            .map(|(new, &old)| {
                if let Some(more) = self.repeats.get(&old) {
                    input_len += more.len();
                    repeats.insert(new, more.clone());
                }
                self.first_input_index(old)
            })
            .collect();
        ItemSet {
            items: Arc::new(items),
            first_index: Some(first_index),
            repeats: Arc::new(repeats),
            input_len,
            digest: Arc::default(),
        }
    }

    /// The items' checkpoint digest ([`crate::checkpoint::items_digest`], its one caller,
    /// which passes the function): computed by the first call, then remembered for this set
    /// and its clones (a server with a checkpoint checks it before listening and again for
    /// the connection: one pass over 2^24 items, not two).
    pub(crate) fn digest_once(&self, digest: impl FnOnce(&PackedBytes) -> [u8; 32]) -> [u8; 32] {
        *self.digest.get_or_init(|| digest(&self.items))
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_selection_keeps_the_input_positions_and_repeats() {
        let set = ItemSet::new(["a", "b", "a", "c", "b", "d"]);
        let part = set.select(&[1, 3]);
        assert_eq!(part.len(), 2);
        assert_eq!(part.input_len(), 3);
        assert_eq!(part.duplicates(), 1);
        assert_eq!(&part.items()[0], b"b");
        assert_eq!(part.input_indices(0), vec![1, 4]);
        assert_eq!(part.input_indices(1), vec![5]);
        assert_eq!(part.repeat_indices(0), [4]);
        assert_eq!(part.first_input_index(1), 5);
        // A set that had no repeats (item i at input position i) maps the same way.
        let plain = ItemSet::new(["x", "y", "z"]).select(&[2]);
        assert_eq!(plain.input_indices(0), vec![2]);
    }

    #[test]
    fn the_digest_is_computed_once_for_a_set_and_its_clones() {
        let set = ItemSet::new(["a", "b"]);
        let calls = std::cell::Cell::new(0);
        let digest = |p: &PackedBytes| {
            calls.set(calls.get() + 1);
            [p.len() as u8; 32]
        };
        assert_eq!(set.digest_once(digest), [2; 32]);
        assert_eq!(set.clone().digest_once(digest), [2; 32]);
        assert_eq!(calls.get(), 1);
        // A selection holds other items: its own digest.
        assert_eq!(set.select(&[1]).digest_once(digest), [1; 32]);
        assert_eq!(calls.get(), 2);
    }

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
