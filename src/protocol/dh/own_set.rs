//! A party's own side of a DH-PSI session: its key, its items in the shuffled order they are
//! sent, padding dummies, and the matching of its doubly-blinded elements at the end.

use std::collections::HashSet;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use rand_core::{CryptoRng, Rng};

use crate::dst;
use crate::error::{Error, Result};
use crate::group::{batch, SessionKey, WireElement};
use crate::protocol::dh::output::Match;
use crate::protocol::dh::params::DhParams;
use crate::protocol::ItemSet;

/// What one sent position carries.
#[derive(Clone)]
enum Slot {
    /// Distinct item number `n` of the [`ItemSet`].
    Item(u32),
    /// A padding dummy: 32 random bytes hashed exactly like an item, so its element is
    /// indistinguishable from a real one, and it matches nothing with overwhelming probability.
    Dummy([u8; 32]),
}

impl Slot {
    fn bytes<'a>(&'a self, items: &'a ItemSet) -> &'a [u8] {
        match self {
            Slot::Item(n) => &items.items()[*n as usize],
            Slot::Dummy(bytes) => bytes,
        }
    }
}

/// The party's own set, key and randomness for one session.
pub(crate) struct OwnSet {
    key: SessionKey,
    rng: Box<ChaCha20Rng>,
    items: ItemSet,
    /// Sent position -> what it carries, in the shuffled order of sending.
    slots: Vec<Slot>,
    /// Positions sent so far.
    sent: usize,
    /// Messages sent so far.
    messages: usize,
}

impl OwnSet {
    /// Draws the session key, pads `items` to `count` with dummies and shuffles.
    ///
    /// # Errors
    /// [`Error::Input`] when there are more distinct items than the agreed `count`.
    pub(crate) fn new<R: CryptoRng + ?Sized>(
        items: ItemSet,
        count: usize,
        rng: &mut R,
    ) -> Result<Self> {
        if items.len() > count {
            return Err(Error::Input(format!(
                "{} distinct items do not fit the agreed set size of {count}",
                items.len()
            )));
        }
        if items.len() > u32::MAX as usize {
            return Err(Error::Input(format!(
                "{} items exceed 2^32 - 1",
                items.len()
            )));
        }
        let key = SessionKey::random(rng);
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let mut rng = ChaCha20Rng::from_seed(seed);
        let mut slots: Vec<Slot> = (0..items.len() as u32).map(Slot::Item).collect();
        for _ in items.len()..count {
            let mut dummy = [0u8; 32];
            rng.fill_bytes(&mut dummy);
            slots.push(Slot::Dummy(dummy));
        }
        slots.shuffle(&mut rng);
        Ok(OwnSet {
            key,
            rng: Box::new(rng),
            items,
            slots,
            sent: 0,
            messages: 0,
        })
    }

    pub(crate) fn key(&self) -> &SessionKey {
        &self.key
    }

    pub(crate) fn rng(&mut self) -> &mut ChaCha20Rng {
        &mut self.rng
    }

    /// Total elements this party sends.
    pub(crate) fn count(&self) -> usize {
        self.slots.len()
    }

    /// The next chunk of the party's blinded set, `encode(k * H(session_id || item))`, or
    /// `None` once every message of the set has been produced.
    pub(crate) fn next_blinded_chunk(&mut self, params: &DhParams) -> Option<Vec<WireElement>> {
        let expected_messages = self.slots.len().div_ceil(params.chunk_size).max(1);
        if self.messages == expected_messages {
            return None;
        }
        let len = params.expected_chunk(self.slots.len(), self.sent);
        let chunk: Vec<&[u8]> = self.slots[self.sent..self.sent + len]
            .iter()
            .map(|slot| slot.bytes(&self.items))
            .collect();
        let blinded = batch::hash_and_blind(
            &self.key,
            dst::DH_PSI_HASH_TO_GROUP,
            &params.session_id,
            &chunk,
        );
        self.sent += len;
        self.messages += 1;
        Some(blinded)
    }

    /// True when the whole blinded set has been produced.
    pub(crate) fn all_sent(&self, params: &DhParams) -> bool {
        self.messages == self.slots.len().div_ceil(params.chunk_size).max(1)
    }

    /// The real item at sent `position`, as a match, if `doubly` is in `peer`.
    pub(crate) fn match_at(
        &self,
        position: usize,
        doubly: &WireElement,
        peer: &HashSet<WireElement>,
    ) -> Option<usize> {
        match self.slots[position] {
            Slot::Item(n) if peer.contains(doubly) => Some(n as usize),
            _ => None,
        }
    }

    /// Turns distinct-item numbers into matches ordered by first input position.
    pub(crate) fn into_matches(self, mut matched: Vec<usize>) -> Vec<Match> {
        matched.sort_unstable();
        matched
            .into_iter()
            .map(|n| Match {
                item: self.items.items()[n].clone(),
                input_indices: self.items.input_indices(n),
            })
            .collect()
    }

    pub(crate) fn items(&self) -> &ItemSet {
        &self.items
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The order of sending hides the order of the input: over many sessions every item lands
    /// in every position about equally often.
    #[test]
    fn shuffling_hides_order() {
        const N: usize = 4;
        const TRIALS: usize = 2000;
        let mut rng = ChaCha20Rng::seed_from_u64(42);
        let mut first_item_at = [0usize; N];
        for _ in 0..TRIALS {
            let own = OwnSet::new(ItemSet::new(["a", "b", "c", "d"]), N, &mut rng).expect("fits");
            let pos = own
                .slots
                .iter()
                .position(|s| matches!(s, Slot::Item(0)))
                .expect("item 0 is sent");
            first_item_at[pos] += 1;
        }
        // Expected 500 per position, standard deviation ~19: 150 is over 7 deviations.
        for count in first_item_at {
            assert!((350..=650).contains(&count), "{first_item_at:?}");
        }
    }

    #[test]
    fn dummies_fill_up_to_the_agreed_count() {
        let mut rng = ChaCha20Rng::seed_from_u64(1);
        let own = OwnSet::new(ItemSet::new(["a"]), 5, &mut rng).expect("fits");
        assert_eq!(own.count(), 5);
        let dummies = own
            .slots
            .iter()
            .filter(|s| matches!(s, Slot::Dummy(_)))
            .count();
        assert_eq!(dummies, 4);
    }
}
