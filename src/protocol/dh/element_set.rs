//! The doubly-blinded elements a party tests its own against at the end of a session.

use rayon::slice::ParallelSliceMut;

use crate::group::WireElement;

/// A set of doubly-blinded elements for membership tests: the encodings sorted, looked up by
/// binary search. Ristretto encodings are unique, so equal bytes are equal elements. 32 bytes
/// an element (a hash set of 2^22 elements would take about twice that), sorted on all cores.
/// The elements are blinded under both keys and reveal nothing by their order or by the time a
/// lookup takes.
#[derive(Debug, Default)]
pub(crate) struct ElementSet(Vec<WireElement>);

impl ElementSet {
    /// The set of `elements` (in any order).
    pub(crate) fn new(mut elements: Vec<WireElement>) -> Self {
        elements.par_sort_unstable();
        ElementSet(elements)
    }

    /// True when `element` is in the set.
    pub(crate) fn contains(&self, element: &WireElement) -> bool {
        self.0.binary_search(element).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn membership() {
        let e = |b: u8| WireElement([b; 32]);
        let set = ElementSet::new(vec![e(9), e(1), e(5), e(5)]);
        for b in [1, 5, 9] {
            assert!(set.contains(&e(b)), "{b}");
        }
        for b in [0, 2, 6, 10, 255] {
            assert!(!set.contains(&e(b)), "{b}");
        }
        assert!(!ElementSet::default().contains(&e(0)));
    }
}
