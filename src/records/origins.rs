//! Where each distinct item came from: its (row, key) pairs, in file order.
//!
//! Loading meets every item's first occurrence in item order (item `i` is the `i`-th new
//! value), so the first (row, key) of each item is appended as it comes, and only the repeats
//! are kept aside (12 bytes each) and sorted in at the end. A file without repeats, the common
//! case for a register keyed on its identifier, needs no per-item start offsets and no sort.
//! A pair takes 4 bytes (`row · keys + key`) while that fits 32 bits, as it does for any file
//! under about 2^32 / keys rows, and 8 once a row does not.

/// (row, key) pairs in order: one 32-bit code `row · keys + key` each while every pair fits,
/// two 32-bit numbers each from the first one that does not.
#[derive(Debug, Clone)]
enum Pairs {
    Packed { keys: u32, codes: Vec<u32> },
    Wide(Vec<(u32, u32)>),
}

impl Pairs {
    /// No pairs, for keys `0..keys`.
    fn new(keys: u32, capacity: usize) -> Self {
        Pairs::Packed {
            keys: keys.max(1),
            codes: Vec::with_capacity(capacity),
        }
    }

    fn push(&mut self, row: u32, key: u32) {
        if let Pairs::Packed { keys, codes } = self {
            let code = (key < *keys)
                .then(|| row.checked_mul(*keys)?.checked_add(key))
                .flatten();
            match code {
                Some(code) => return codes.push(code),
                None => {
                    let keys = *keys;
                    let mut wide = Vec::with_capacity(codes.capacity().max(codes.len() + 1));
                    wide.extend(codes.iter().map(|&c| (c / keys, c % keys)));
                    *self = Pairs::Wide(wide);
                }
            }
        }
        if let Pairs::Wide(pairs) = self {
            pairs.push((row, key));
        }
    }

    /// Pair `i` (below `len()`).
    fn get(&self, i: usize) -> (u32, u32) {
        match self {
            Pairs::Packed { keys, codes } => (codes[i] / keys, codes[i] % keys),
            Pairs::Wide(pairs) => pairs[i],
        }
    }

    fn len(&self) -> usize {
        match self {
            Pairs::Packed { codes, .. } => codes.len(),
            Pairs::Wide(pairs) => pairs.len(),
        }
    }

    /// The key count the pairs were made for, for more pairs of the same file.
    fn keys(&self) -> u32 {
        match self {
            Pairs::Packed { keys, .. } => *keys,
            Pairs::Wide(_) => u32::MAX,
        }
    }
}

/// The origins being collected while a file loads.
#[derive(Debug)]
pub(crate) struct OriginsBuilder {
    /// (row, key) of each item's first occurrence; item `i`'s is pair `i`.
    first: Pairs,
    /// (item, row, key) of every later occurrence, in file order.
    repeats: Vec<(u32, u32, u32)>,
}

/// The origins of every distinct item.
#[derive(Debug, Clone)]
pub(crate) struct Origins {
    /// Every item's (row, key) pairs, item after item.
    pairs: Pairs,
    /// Item `i`'s pairs are `pairs[starts[i]..starts[i + 1]]`; `None` when every item has one
    /// pair, pair `i`.
    starts: Option<Vec<u32>>,
}

impl Default for Origins {
    fn default() -> Self {
        Origins {
            pairs: Pairs::new(1, 0),
            starts: None,
        }
    }
}

impl OriginsBuilder {
    /// Origins of a file read with `keys` keys (key numbers `0..keys`).
    pub(crate) fn new(keys: u32) -> Self {
        OriginsBuilder {
            first: Pairs::new(keys, 0),
            repeats: Vec::new(),
        }
    }

    /// Records the first occurrence of the next new item (item number `first.len()`).
    pub(crate) fn first(&mut self, row: u32, key: u32) {
        self.first.push(row, key);
    }

    /// Records a later occurrence of item `item`.
    pub(crate) fn repeat(&mut self, item: u32, row: u32, key: u32) {
        self.repeats.push((item, row, key));
    }

    /// How many (row, key) pairs were recorded, a repeated pair of one item counted each time.
    pub(crate) fn recorded(&self) -> usize {
        self.first.len() + self.repeats.len()
    }

    /// The origins grouped by item, in file order within an item; a (row, key) pair recorded
    /// twice for one item (an extractor finding one value twice in a cell) is kept once.
    ///
    /// Needs `recorded()` below 2^32 (the caller checks it).
    pub(crate) fn finish(self) -> Origins {
        let OriginsBuilder { first, mut repeats } = self;
        if repeats.is_empty() {
            return Origins {
                pairs: first,
                starts: None,
            };
        }
        // A repeat comes after its item's first occurrence in the file, so (row, key) of a
        // repeat is never below the first's: the first pair, then the sorted repeats, is file
        // order.
        repeats.sort_unstable();
        repeats.dedup();
        let mut pairs = Pairs::new(first.keys(), first.len() + repeats.len());
        let mut starts = Vec::with_capacity(first.len() + 1);
        let mut more = repeats.into_iter().peekable();
        for item in 0..first.len() {
            let pair = first.get(item);
            starts.push(pairs.len() as u32);
            pairs.push(pair.0, pair.1);
            while let Some(&(_, row, key)) = more.peek().filter(|r| r.0 as usize == item) {
                more.next();
                if (row, key) != pair {
                    pairs.push(row, key);
                }
            }
        }
        starts.push(pairs.len() as u32);
        Origins {
            pairs,
            starts: Some(starts),
        }
    }
}

impl Origins {
    /// Item `i`'s (row, key) pairs in file order; none for an item number out of range.
    pub(crate) fn of(&self, i: usize) -> impl ExactSizeIterator<Item = (u32, u32)> + '_ {
        let range = match &self.starts {
            None if i < self.pairs.len() => i..i + 1,
            None => 0..0,
            Some(starts) => match (starts.get(i), starts.get(i + 1)) {
                (Some(&start), Some(&end)) => start as usize..end as usize,
                _ => 0..0,
            },
        };
        range.map(|j| self.pairs.get(j))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn without_repeats_each_item_has_its_own_pair() {
        let mut b = OriginsBuilder::new(2);
        b.first(0, 0);
        b.first(1, 0);
        b.first(1, 1);
        let o = b.finish();
        assert!(o.starts.is_none());
        assert_eq!(o.of(0).collect::<Vec<_>>(), [(0, 0)]);
        assert_eq!(o.of(2).collect::<Vec<_>>(), [(1, 1)]);
        assert_eq!(o.of(3).len(), 0);
    }

    #[test]
    fn repeats_follow_the_first_pair_in_file_order_once_each() {
        let mut b = OriginsBuilder::new(2);
        b.first(0, 0); // item 0
        b.first(0, 1); // item 1
        b.repeat(0, 0, 1); // item 0 again, row 0 key 1
        b.repeat(1, 0, 1); // item 1 twice in one cell
        b.first(1, 0); // item 2
        b.repeat(0, 2, 0);
        b.repeat(0, 1, 1);
        assert_eq!(b.recorded(), 7);
        let o = b.finish();
        assert_eq!(
            o.of(0).collect::<Vec<_>>(),
            [(0, 0), (0, 1), (1, 1), (2, 0)]
        );
        assert_eq!(o.of(1).collect::<Vec<_>>(), [(0, 1)]);
        assert_eq!(o.of(2).collect::<Vec<_>>(), [(1, 0)]);
        assert_eq!(o.of(3).len(), 0);
    }

    #[test]
    fn pairs_widen_once_a_row_or_key_does_not_fit_32_bits() {
        let mut p = Pairs::new(3, 0);
        p.push(5, 2);
        p.push(u32::MAX / 3 - 1, 0);
        assert!(matches!(p, Pairs::Packed { .. }));
        p.push(u32::MAX / 3 + 1, 1);
        assert!(matches!(p, Pairs::Wide(_)));
        p.push(7, 9);
        let got: Vec<_> = (0..p.len()).map(|i| p.get(i)).collect();
        assert_eq!(
            got,
            [(5, 2), (u32::MAX / 3 - 1, 0), (u32::MAX / 3 + 1, 1), (7, 9)]
        );
        let mut k = Pairs::new(2, 0);
        k.push(1, 1);
        k.push(1, 2); // a key beyond the count it was made for
        assert_eq!((k.get(0), k.get(1)), ((1, 1), (1, 2)));
    }

    proptest! {
        /// Any sequence of pairs reads back as pushed, packed or widened on the way.
        #[test]
        fn pairs_read_back_as_pushed(pushed in proptest::collection::vec((prop_oneof![0u32..1000, (u32::MAX - 1000)..=u32::MAX], 0u32..4), 0..60)) {
            let mut p = Pairs::new(3, 0);
            for &(row, key) in &pushed {
                p.push(row, key);
            }
            let got: Vec<_> = (0..p.len()).map(|i| p.get(i)).collect();
            prop_assert_eq!(got, pushed);
        }

        /// The grouped origins equal a plain group-by of the occurrences in file order.
        #[test]
        fn origins_group_the_occurrences_by_item(cells in proptest::collection::vec(0u8..6, 0..80)) {
            // Occurrence j is at row j / 2, key j % 2, of value cells[j].
            let mut b = OriginsBuilder::new(2);
            let mut numbers: Vec<u8> = Vec::new();
            let mut want: Vec<Vec<(u32, u32)>> = Vec::new();
            for (j, &value) in cells.iter().enumerate() {
                let (row, key) = ((j / 2) as u32, (j % 2) as u32);
                match numbers.iter().position(|&v| v == value) {
                    Some(item) => {
                        b.repeat(item as u32, row, key);
                        want[item].push((row, key));
                    }
                    None => {
                        numbers.push(value);
                        b.first(row, key);
                        want.push(vec![(row, key)]);
                    }
                }
            }
            let o = b.finish();
            for (item, pairs) in want.iter().enumerate() {
                prop_assert_eq!(o.of(item).collect::<Vec<_>>(), pairs.clone());
            }
            prop_assert_eq!(o.of(want.len()).len(), 0);
        }
    }
}
