//! The items a session found in the intersection, held compactly.
//!
//! A session at 2^24 items a side may find 2^23 or more shared items. Holding each as a
//! [`Match`] (its bytes and its input positions in two heap allocations) costs about 112 bytes
//! a match, 0.9 GiB at 2^23; [`Matches`] shares the caller's [`ItemSet`] and keeps one item
//! number (8 bytes) a match, and hands out [`MatchRef`]s that read the set.

use std::fmt;

use serde::ser::{SerializeSeq, Serializer};
use serde::Serialize;

use crate::protocol::ItemSet;

/// One of the caller's own items found in the intersection, as an owned value
/// ([`Matches::to_vec`]; a session's output holds [`Matches`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Match {
    /// The item's bytes, as given to [`ItemSet::new`].
    pub item: Vec<u8>,
    /// Every position in the caller's input at which the item occurred, ascending.
    pub input_indices: Vec<usize>,
}

/// The caller's own items found in the intersection, ordered by first input position.
///
/// Compares equal to a `[Match]` with the same items and positions, so
/// `assert_eq!(matches, [Match { .. }, ..])` reads as before; [`Matches::to_vec`] gives owned
/// values.
#[derive(Clone, Default)]
pub struct Matches {
    set: ItemSet,
    /// Distinct item numbers in `set`, ascending (that is, by first input position).
    numbers: Vec<usize>,
}

impl Matches {
    /// The distinct items `numbers` of `set` (in any order; a repeated number counts once),
    /// sharing `set` rather than copying it.
    ///
    /// # Panics
    /// If a number is not below `set.len()`.
    pub fn new(set: &ItemSet, mut numbers: Vec<usize>) -> Self {
        numbers.sort_unstable();
        numbers.dedup();
        if let Some(&last) = numbers.last() {
            assert!(
                last < set.len(),
                "item number {last} is not in a set of {} items",
                set.len()
            );
        }
        numbers.shrink_to_fit();
        Matches {
            set: set.clone(),
            numbers,
        }
    }

    /// Number of matched items.
    pub fn len(&self) -> usize {
        self.numbers.len()
    }

    /// True when nothing matched.
    pub fn is_empty(&self) -> bool {
        self.numbers.is_empty()
    }

    /// The `i`-th match, if there is one.
    pub fn get(&self, i: usize) -> Option<MatchRef<'_>> {
        self.numbers.get(i).map(|&number| MatchRef {
            set: &self.set,
            number,
        })
    }

    /// The matches in order.
    pub fn iter(&self) -> MatchIter<'_> {
        MatchIter {
            set: &self.set,
            numbers: self.numbers.iter(),
        }
    }

    /// The matches as owned values (two allocations each).
    pub fn to_vec(&self) -> Vec<Match> {
        self.iter().map(|m| m.to_match()).collect()
    }
}

/// One of the caller's own items found in the intersection, read from its [`ItemSet`].
#[derive(Clone, Copy)]
pub struct MatchRef<'a> {
    set: &'a ItemSet,
    number: usize,
}

impl<'a> IntoIterator for &'a Matches {
    type Item = MatchRef<'a>;
    type IntoIter = MatchIter<'a>;

    fn into_iter(self) -> MatchIter<'a> {
        self.iter()
    }
}

/// The matches of a [`Matches`], in order.
#[derive(Clone)]
pub struct MatchIter<'a> {
    set: &'a ItemSet,
    numbers: std::slice::Iter<'a, usize>,
}

impl<'a> Iterator for MatchIter<'a> {
    type Item = MatchRef<'a>;

    fn next(&mut self) -> Option<MatchRef<'a>> {
        let set = self.set;
        self.numbers.next().map(|&number| MatchRef { set, number })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.numbers.size_hint()
    }
}

impl ExactSizeIterator for MatchIter<'_> {}

impl DoubleEndedIterator for MatchIter<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        let set = self.set;
        self.numbers
            .next_back()
            .map(|&number| MatchRef { set, number })
    }
}

impl<'a> MatchRef<'a> {
    /// The item's bytes, as given to [`ItemSet::new`].
    pub fn item(&self) -> &'a [u8] {
        &self.set.items()[self.number]
    }

    /// The input position of the item's first occurrence.
    pub fn first_input_index(&self) -> usize {
        self.set.first_input_index(self.number)
    }

    /// Every input position at which the item occurred, ascending.
    pub fn input_indices(&self) -> impl Iterator<Item = usize> + 'a {
        std::iter::once(self.first_input_index())
            .chain(self.set.repeat_indices(self.number).iter().copied())
    }

    /// The match as an owned value.
    pub fn to_match(&self) -> Match {
        Match {
            item: self.item().to_vec(),
            input_indices: self.input_indices().collect(),
        }
    }

    fn same_as(&self, other: &Match) -> bool {
        self.item() == other.item.as_slice()
            && self.input_indices().eq(other.input_indices.iter().copied())
    }
}

impl fmt::Debug for MatchRef<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.to_match().fmt(f)
    }
}

impl fmt::Debug for Matches {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

/// The same item at the same input positions (of whichever sets).
impl PartialEq for MatchRef<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.item() == other.item() && self.input_indices().eq(other.input_indices())
    }
}

impl PartialEq for Matches {
    fn eq(&self, other: &Self) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Matches {}

impl PartialEq<[Match]> for Matches {
    fn eq(&self, other: &[Match]) -> bool {
        self.len() == other.len() && self.iter().zip(other).all(|(a, b)| a.same_as(b))
    }
}

impl PartialEq<Vec<Match>> for Matches {
    fn eq(&self, other: &Vec<Match>) -> bool {
        *self == other[..]
    }
}

impl<const N: usize> PartialEq<[Match; N]> for Matches {
    fn eq(&self, other: &[Match; N]) -> bool {
        *self == other[..]
    }
}

/// Serialised as a sequence of [`Match`] values (`{"item": [..], "input_indices": [..]}`).
impl Serialize for Matches {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.len()))?;
        for m in self.iter() {
            seq.serialize_element(&m.to_match())?;
        }
        seq.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owned(item: &str, input_indices: &[usize]) -> Match {
        Match {
            item: item.as_bytes().to_vec(),
            input_indices: input_indices.to_vec(),
        }
    }

    #[test]
    fn matches_read_their_items_and_positions_from_the_set() {
        let set = ItemSet::new(["a", "b", "a", "c", "b", "d"]);
        let found = Matches::new(&set, vec![3, 1, 3]);
        assert_eq!(found.len(), 2);
        assert_eq!(found.get(0).expect("a match").item(), b"b");
        assert_eq!(found.get(0).expect("a match").first_input_index(), 1);
        assert_eq!(
            found
                .get(1)
                .expect("a match")
                .input_indices()
                .collect::<Vec<_>>(),
            [5]
        );
        assert!(found.get(2).is_none());
        assert_eq!(found, [owned("b", &[1, 4]), owned("d", &[5])]);
        assert_ne!(found, [owned("b", &[1]), owned("d", &[5])]);
        assert_ne!(found, [owned("b", &[1, 4])]);
        assert_eq!(found.to_vec(), vec![owned("b", &[1, 4]), owned("d", &[5])]);
    }

    #[test]
    fn equal_matches_of_different_sets_compare_equal() {
        let one = Matches::new(&ItemSet::new(["x", "y"]), vec![1]);
        let other = Matches::new(&ItemSet::new(["y"]), vec![0]);
        assert_ne!(one, other, "y stood at a different input position");
        let same = Matches::new(&ItemSet::new(["z", "y"]), vec![1]);
        assert_eq!(one, same, "the same item at the same position");
        let repeated = Matches::new(&ItemSet::new(["z", "y", "y"]), vec![1]);
        assert_ne!(one, repeated, "y occurred twice");
    }

    #[test]
    fn matches_serialise_as_a_list_of_matches() {
        let found = Matches::new(&ItemSet::new(["a", "b", "a"]), vec![0]);
        assert_eq!(
            serde_json::to_string(&found).expect("json"),
            serde_json::to_string(&[owned("a", &[0, 2])]).expect("json")
        );
        assert_eq!(
            serde_json::to_string(&Matches::default()).expect("json"),
            "[]"
        );
    }
}
