//! A party's own side of a DH-PSI session: its key, its items in the shuffled order they are
//! sent, padding dummies, and the matching of its doubly-blinded elements at the end.

use rand_core::CryptoRng;

use crate::dst;
use crate::error::{ConfigReason, Error, Result};
use crate::group::{batch, SessionKey, WireElement};
use crate::protocol::dh::element_set::ElementSet;
use crate::protocol::dh::params::DhParams;
use crate::protocol::Matches;
use crate::protocol::{draw, ItemSet};

/// The party's own set and key for one session.
pub(crate) struct OwnSet {
    key: SessionKey,
    items: ItemSet,
    /// Sent position -> what it carries, in the shuffled order of sending: `n` below
    /// `items.len()` is distinct item `n`, anything else is padding dummy
    /// `n - items.len()` (4 bytes a position, whatever the padding).
    slots: Vec<u32>,
    /// Padding dummies: 32 random bytes each, hashed exactly like an item, so their elements
    /// are indistinguishable from real ones and match nothing with overwhelming probability.
    dummies: Vec<[u8; 32]>,
    /// Positions sent so far.
    sent: usize,
    /// Messages sent so far.
    messages: usize,
}

impl OwnSet {
    /// Draws the session key, pads `items` to `count` with dummies and shuffles, in this
    /// order and with the specified draws (`protocol-spec/03-dh-psi.md` 3.3): the key
    /// (`draw::scalar`), then `count - items.len()` dummies of 32 bytes
    /// (`draw::byte_strings`), then the order of sending (`draw::shuffle` of the positions
    /// `0 .. count`, items first in [`ItemSet`] order, then dummies in the order drawn).
    ///
    /// # Errors
    /// [`Error::Input`] when there are more distinct items than the agreed `count`;
    /// [`Error::Config`] when `count` exceeds [`crate::protocol::MAX_SET_SIZE`] (which
    /// [`DhParams::validate`] already refuses).
    pub(crate) fn new<R: CryptoRng + ?Sized>(
        items: ItemSet,
        count: usize,
        rng: &mut R,
    ) -> Result<Self> {
        items.check_fits(count)?;
        let max = crate::protocol::MAX_SET_SIZE;
        let positions = u32::try_from(count)
            .ok()
            .filter(|_| count <= max)
            .ok_or_else(|| {
                Error::config(
                    ConfigReason::Parameter,
                    format!("a set of {count} elements exceeds the maximum of {max}"),
                )
            })?;
        let key = SessionKey::random(rng);
        let dummies = draw::byte_strings::<32, _>(rng, count - items.len());
        let mut slots: Vec<u32> = (0..positions).collect();
        draw::shuffle(rng, &mut slots);
        Ok(OwnSet {
            key,
            items,
            slots,
            dummies,
            sent: 0,
            messages: 0,
        })
    }

    pub(crate) fn key(&self) -> &SessionKey {
        &self.key
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
            .map(|&slot| self.slot_bytes(slot))
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

    /// What sent position `slot` carries: an item's bytes or a dummy's.
    fn slot_bytes(&self, slot: u32) -> &[u8] {
        let n = slot as usize;
        match n.checked_sub(self.items.len()) {
            None => &self.items.items()[n],
            Some(d) => &self.dummies[d],
        }
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
        peer: &ElementSet,
    ) -> Option<usize> {
        let n = self.slots[position] as usize;
        (n < self.items.len() && peer.contains(doubly)).then_some(n)
    }

    /// Turns distinct-item numbers into matches ordered by first input position.
    pub(crate) fn into_matches(self, matched: Vec<usize>) -> Matches {
        Matches::new(&self.items, matched)
    }

    pub(crate) fn items(&self) -> &ItemSet {
        &self.items
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use rand_chacha::ChaCha20Rng;

    use super::*;
    use crate::protocol::vector_rng::VectorRng;

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
                .position(|&s| s == 0)
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
        let dummies = own.slots.iter().filter(|&&s| s >= 1).count();
        assert_eq!(dummies, 4);
        assert_eq!(own.dummies.len(), 4);
    }

    /// The draws come in the specified order from the given RNG alone: the key, then the
    /// dummies, then the shuffle, and nothing more.
    #[test]
    fn draws_key_then_dummies_then_shuffle() {
        let mut rng = VectorRng::new(b"own-set");
        let own = OwnSet::new(ItemSet::new(["a", "b"]), 5, &mut rng).expect("fits");
        let mut replay = VectorRng::new(b"own-set");
        let key = draw::scalar(&mut replay);
        let dummies = draw::byte_strings::<32, _>(&mut replay, 3);
        let mut slots: Vec<u32> = (0..5).collect();
        draw::shuffle(&mut replay, &mut slots);
        assert_eq!(own.key().scalar(), &key);
        assert_eq!(own.dummies, dummies);
        assert_eq!(own.slots, slots);
        assert_eq!(
            draw::array::<8, _>(&mut rng),
            draw::array::<8, _>(&mut replay)
        );
    }

    #[test]
    fn a_set_above_the_engine_limit_is_refused() {
        let mut rng = ChaCha20Rng::seed_from_u64(3);
        let err = OwnSet::new(
            ItemSet::new(["a"]),
            crate::protocol::MAX_SET_SIZE + 1,
            &mut rng,
        )
        .err()
        .expect("refused");
        assert!(
            matches!(&err, Error::Config(c) if c.reason == ConfigReason::Parameter),
            "{err:?}"
        );
    }
}
