//! Many small byte strings in one allocation, and a set of distinct ones.
//!
//! A set of 2^22 items held as `Vec<Vec<u8>>` costs a heap allocation per item (24 bytes of
//! `Vec` plus the allocator's overhead, about 56 bytes for a 12-byte container number), and a
//! `HashMap<Vec<u8>, _>` to find repeats copies every item once more. [`PackedBytes`] keeps
//! the bytes back to back with one end offset each, and [`DistinctBytes`] finds repeats with a
//! hash table of 32-bit indices into it, so an item is stored once, in about its own length
//! plus 4 bytes (plus about 5 more for the table while it lives).

use std::hash::BuildHasher;
use std::ops::Index;
use std::sync::Arc;

use hashbrown::HashTable;

/// Bits of an end offset kept per string: 32 in a build, 4 in the unit tests, so that every
/// test that packs more than 16 bytes crosses a [`PackedBytes::wraps`] point.
#[cfg(not(test))]
const LOW_BITS: u32 = 32;
#[cfg(test)]
const LOW_BITS: u32 = 4;

/// Byte strings stored back to back: `get(i)` is the `i`-th one pushed.
///
/// Each string's end offset is kept as its low 32 bits (4 bytes a string rather than 8: 64 MiB
/// less at 2^24 items); the high bits, which change once per 4 GiB of data, are counted from
/// the few indices where they do ([`PackedBytes::wraps`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PackedBytes {
    data: Vec<u8>,
    /// `end(i) mod 2^LOW_BITS` of every string.
    ends: Vec<u32>,
    /// `wraps[k]` is the first string whose end is at least `(k + 1) · 2^LOW_BITS`
    /// (ascending; a string longer than `2^LOW_BITS` bytes appears more than once), so
    /// `end(i) >> LOW_BITS` is the number of entries at or below `i`. Empty below 4 GiB.
    wraps: Vec<usize>,
}

impl PackedBytes {
    /// No strings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends `bytes`; returns its index.
    pub fn push(&mut self, bytes: &[u8]) -> usize {
        let i = self.ends.len();
        self.data.extend_from_slice(bytes);
        let end = self.data.len() as u64;
        while (self.wraps.len() as u64) < end >> LOW_BITS {
            self.wraps.push(i);
        }
        self.ends.push((end & ((1 << LOW_BITS) - 1)) as u32);
        i
    }

    /// The end offset of string `i` (below `len()`).
    fn end(&self, i: usize) -> usize {
        let low = self.ends[i] as usize;
        if self.wraps.is_empty() {
            return low;
        }
        let high = self.wraps.partition_point(|&w| w <= i) as u64;
        low + (high << LOW_BITS) as usize
    }

    /// The start offset of string `i` (below `len()`).
    fn start(&self, i: usize) -> usize {
        if i == 0 {
            0
        } else {
            self.end(i - 1)
        }
    }

    /// The `i`-th string, if there is one.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        (i < self.len()).then(|| &self.data[self.start(i)..self.end(i)])
    }

    /// Number of strings.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// True when there are no strings.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The strings in order.
    pub fn iter(&self) -> Iter<'_> {
        Iter {
            packed: self,
            range: 0..self.len(),
        }
    }

    /// References to strings `range`, for the batch operations that take a slice.
    ///
    /// # Panics
    /// If `range` is out of bounds, like slice indexing.
    pub fn slice(&self, range: std::ops::Range<usize>) -> Vec<&[u8]> {
        range.map(|i| &self[i]).collect()
    }

    /// Releases spare capacity (after loading).
    pub fn shrink_to_fit(&mut self) {
        self.data.shrink_to_fit();
        self.ends.shrink_to_fit();
        self.wraps.shrink_to_fit();
    }
}

impl Index<usize> for PackedBytes {
    type Output = [u8];

    /// # Panics
    /// If `i` is out of range, like slice indexing.
    fn index(&self, i: usize) -> &[u8] {
        &self.data[self.start(i)..self.end(i)]
    }
}

/// The strings of a [`PackedBytes`], in order.
#[derive(Debug, Clone)]
pub struct Iter<'a> {
    packed: &'a PackedBytes,
    range: std::ops::Range<usize>,
}

impl<'a> Iterator for Iter<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        self.range.next().map(|i| &self.packed[i])
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.range.size_hint()
    }
}

impl ExactSizeIterator for Iter<'_> {}

impl<'a> IntoIterator for &'a PackedBytes {
    type Item = &'a [u8];
    type IntoIter = Iter<'a>;

    fn into_iter(self) -> Iter<'a> {
        self.iter()
    }
}

impl<T: AsRef<[u8]>> FromIterator<T> for PackedBytes {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut packed = PackedBytes::new();
        for item in iter {
            packed.push(item.as_ref());
        }
        packed
    }
}

/// Distinct byte strings, in order of first insertion, with lookup by value.
#[derive(Debug, Clone, Default)]
pub struct DistinctBytes {
    /// Shared (copy-free) with the item sets made from it once loading is over.
    strings: Arc<PackedBytes>,
    /// Indices into `strings` (32-bit: 4 bytes an entry instead of 8, 80 MiB less at 2^24).
    table: HashTable<u32>,
    hasher: std::collections::hash_map::RandomState,
}

impl DistinctBytes {
    /// An empty set.
    pub fn new() -> Self {
        Self::default()
    }

    /// The index of `bytes`, inserting it first if it is new: `(index, inserted)`.
    ///
    /// # Panics
    /// When a new string would be the 2^32-th (the loader refuses such a file first, with
    /// [`crate::error::InputReason::TooLarge`]).
    pub fn insert(&mut self, bytes: &[u8]) -> (usize, bool) {
        let hash = self.hasher.hash_one(bytes);
        let strings = &self.strings;
        if let Some(&i) = self.table.find(hash, |&i| &strings[i as usize] == bytes) {
            return (i as usize, false);
        }
        let i = u32::try_from(self.strings.len())
            .expect("a set of distinct byte strings holds fewer than 2^32 of them");
        Arc::make_mut(&mut self.strings).push(bytes);
        let (strings, hasher) = (&self.strings, &self.hasher);
        self.table
            .insert_unique(hash, i, |&j| hasher.hash_one(&strings[j as usize]));
        (i as usize, true)
    }

    /// The index of `bytes`, if present.
    #[cfg(test)]
    pub fn index_of(&self, bytes: &[u8]) -> Option<usize> {
        let hash = self.hasher.hash_one(bytes);
        self.table
            .find(hash, |&i| &self.strings[i as usize] == bytes)
            .map(|&i| i as usize)
    }

    /// Number of distinct strings.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    /// Drops the lookup table and keeps the strings.
    pub fn into_strings(self) -> Arc<PackedBytes> {
        self.strings
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn packed_returns_what_was_pushed(items in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..20), 0..50)) {
            let packed: PackedBytes = items.iter().collect();
            prop_assert_eq!(packed.len(), items.len());
            for (i, item) in items.iter().enumerate() {
                prop_assert_eq!(&packed[i], item.as_slice());
                prop_assert_eq!(packed.get(i), Some(item.as_slice()));
            }
            prop_assert_eq!(packed.get(items.len()), None);
            prop_assert!(packed.iter().eq(items.iter().map(Vec::as_slice)));
        }

        /// With 4-bit low ends (the unit tests' `LOW_BITS`), strings of up to 40 bytes cross
        /// many wrap points, some of them several at once.
        #[test]
        fn ends_past_the_low_bits_are_counted_back(items in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..40), 0..40)) {
            let packed: PackedBytes = items.iter().collect();
            let total: usize = items.iter().map(Vec::len).sum();
            prop_assert_eq!(packed.wraps.len(), total >> LOW_BITS);
            for (i, item) in items.iter().enumerate() {
                prop_assert_eq!(&packed[i], item.as_slice());
            }
        }

        #[test]
        fn distinct_keeps_first_occurrences_in_order(items in proptest::collection::vec(proptest::collection::vec(0u8..3, 0..3), 0..60)) {
            let mut set = DistinctBytes::new();
            let mut expected: Vec<&[u8]> = Vec::new();
            for item in &items {
                let (i, inserted) = set.insert(item);
                match expected.iter().position(|e| *e == item.as_slice()) {
                    Some(p) => prop_assert_eq!((i, inserted), (p, false)),
                    None => {
                        expected.push(item);
                        prop_assert_eq!((i, inserted), (expected.len() - 1, true));
                    }
                }
            }
            for (i, e) in expected.iter().enumerate() {
                prop_assert_eq!(set.index_of(e), Some(i));
            }
            prop_assert_eq!(set.index_of(b"not there"), None);
            prop_assert!(set.into_strings().iter().eq(expected.iter().copied()));
        }
    }
}
