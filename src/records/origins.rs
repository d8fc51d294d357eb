//! Where each distinct item came from: its (row, key) pairs, in file order.
//!
//! Loading meets every item's first occurrence in item order (item `i` is the `i`-th new
//! value), so the first (row, key) of each item is appended as it comes, 8 bytes an item, and
//! only the repeats are kept aside (12 bytes each) and sorted in at the end. A file without
//! repeats, the common case for a register keyed on its identifier, needs no per-item start
//! offsets and no sort.

/// The origins being collected while a file loads.
#[derive(Debug, Default)]
pub(crate) struct OriginsBuilder {
    /// (row, key) of each item's first occurrence; item `i`'s is `first[i]`.
    first: Vec<(u32, u32)>,
    /// (item, row, key) of every later occurrence, in file order.
    repeats: Vec<(u32, u32, u32)>,
}

/// The origins of every distinct item.
#[derive(Debug, Clone, Default)]
pub(crate) struct Origins {
    /// Every item's (row, key) pairs, item after item.
    pairs: Vec<(u32, u32)>,
    /// Item `i`'s pairs are `pairs[starts[i]..starts[i + 1]]`; `None` when every item has one
    /// pair, `pairs[i]`.
    starts: Option<Vec<u32>>,
}

impl OriginsBuilder {
    /// Records the first occurrence of the next new item (item number `first.len()`).
    pub(crate) fn first(&mut self, row: u32, key: u32) {
        self.first.push((row, key));
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
        let mut pairs = Vec::with_capacity(first.len() + repeats.len());
        let mut starts = Vec::with_capacity(first.len() + 1);
        let mut more = repeats.into_iter().peekable();
        for (item, &pair) in first.iter().enumerate() {
            starts.push(pairs.len() as u32);
            pairs.push(pair);
            while let Some(&(_, row, key)) = more.peek().filter(|r| r.0 as usize == item) {
                more.next();
                if (row, key) != pair {
                    pairs.push((row, key));
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
    pub(crate) fn of(&self, i: usize) -> &[(u32, u32)] {
        match &self.starts {
            None => self.pairs.get(i..=i).unwrap_or(&[]),
            Some(starts) => match (starts.get(i), starts.get(i + 1)) {
                (Some(&start), Some(&end)) => &self.pairs[start as usize..end as usize],
                _ => &[],
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn without_repeats_each_item_has_its_own_pair() {
        let mut b = OriginsBuilder::default();
        b.first(0, 0);
        b.first(1, 0);
        b.first(1, 1);
        let o = b.finish();
        assert!(o.starts.is_none());
        assert_eq!(o.of(0), [(0, 0)]);
        assert_eq!(o.of(2), [(1, 1)]);
        assert!(o.of(3).is_empty());
    }

    #[test]
    fn repeats_follow_the_first_pair_in_file_order_once_each() {
        let mut b = OriginsBuilder::default();
        b.first(0, 0); // item 0
        b.first(0, 1); // item 1
        b.repeat(0, 0, 1); // item 0 again, row 0 key 1
        b.repeat(1, 0, 1); // item 1 twice in one cell
        b.first(1, 0); // item 2
        b.repeat(0, 2, 0);
        b.repeat(0, 1, 1);
        assert_eq!(b.recorded(), 7);
        let o = b.finish();
        assert_eq!(o.of(0), [(0, 0), (0, 1), (1, 1), (2, 0)]);
        assert_eq!(o.of(1), [(0, 1)]);
        assert_eq!(o.of(2), [(1, 0)]);
        assert!(o.of(3).is_empty());
    }

    proptest! {
        /// The grouped origins equal a plain group-by of the occurrences in file order.
        #[test]
        fn origins_group_the_occurrences_by_item(cells in proptest::collection::vec(0u8..6, 0..80)) {
            // Occurrence j is at row j / 2, key j % 2, of value cells[j].
            let mut b = OriginsBuilder::default();
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
                prop_assert_eq!(o.of(item), pairs.as_slice());
            }
            prop_assert!(o.of(want.len()).is_empty());
        }
    }
}
