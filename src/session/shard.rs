//! Shards of one logical session (`protocol-spec/09-buckets.md` section 9.11): `N` pairs of
//! processes, on as many machines, each run an ordinary session on a fixed share of both
//! agencies' items, so that the union of their outputs is the result of one session over all
//! the items.
//!
//! ```text
//! shard_key = SHA3-256( enc(SHARD_KEY) || name )          name: the logical session's name
//! s(x)      = floor( LE( SHA3-256( enc(SHARD) || shard_key || I2OSP(len(x), 8) || x )[0..8] )
//!                    · N / 2^64 )
//! ```
//! Shard `I` takes the items with `s(x) = I` and announces `L(n, N)` elements (the bucket bound
//! of section 9.3 for its side's padded total `n`), the same in every shard, so a shard's count
//! says nothing of how the items fell. Unlike a bucket's key, which is fresh per session, the
//! shard key must be the same in all `N` sessions, so it comes from a name both agencies are
//! given (a scheduler's job name); both sides' hellos carry it, and a session whose sides
//! name another shard, count or key is refused ([`crate::error::Mismatch::Shard`]).

use std::fmt;

use rayon::prelude::*;

use crate::dst;
use crate::error::{ConfigReason, Error, InputReason, Result};
use crate::protocol::bucket::{bucket_bound, part_of};
use crate::protocol::ItemSet;
use crate::tagged_hash::sha3_tagged;

/// The most shards a logical session may have.
pub const MAX_SHARDS: u32 = 4096;

/// Which share of a logical session a session runs: shard `index` of `count` under `key`.
/// [`Shard::WHOLE`] (one shard) is an ordinary session.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shard {
    index: u32,
    count: u32,
    key: [u8; 32],
}

impl Shard {
    /// The whole session: one shard of one, key all zeros.
    pub const WHOLE: Shard = Shard {
        index: 0,
        count: 1,
        key: [0; 32],
    };

    /// Shard `index` (from 0) of `count` of the logical session `name`; one shard of one is
    /// [`Shard::WHOLE`].
    ///
    /// # Errors
    /// [`Error::Config`] with [`ConfigReason::Parameter`] for `count` outside 1 to
    /// [`MAX_SHARDS`], `index ≥ count`, or an empty name for more than one shard.
    pub fn new(index: u32, count: u32, name: &str) -> Result<Shard> {
        if !(1..=MAX_SHARDS).contains(&count) || index >= count {
            return Err(Error::config(
                ConfigReason::Parameter,
                format!(
                    "shard {index}/{count}: the count must be 1 to {MAX_SHARDS} and the shard \
                     from 0 to count - 1"
                ),
            ));
        }
        if count == 1 {
            return Ok(Shard::WHOLE);
        }
        if name.is_empty() {
            return Err(Error::config(
                ConfigReason::Parameter,
                "a sharded session needs the logical session's name (--logical-session), the \
                 same for every shard on both sides",
            ));
        }
        Ok(Shard {
            index,
            count,
            key: sha3_tagged(dst::SHARD_KEY, &[name.as_bytes()]),
        })
    }

    /// A shard as a hello carries it, checked as [`Shard::new`] does (and a key of zeros for
    /// one shard); `None` if it is not one.
    pub fn from_parts(index: u32, count: u32, key: [u8; 32]) -> Option<Shard> {
        let whole = count == 1 && index == 0 && key == [0; 32];
        let sharded = (2..=MAX_SHARDS).contains(&count) && index < count;
        (whole || sharded).then_some(Shard { index, count, key })
    }

    /// This shard's number, from 0.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// How many shards the logical session has.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// The key of the assignment (zeros for [`Shard::WHOLE`]).
    pub fn key(&self) -> &[u8; 32] {
        &self.key
    }

    /// True for more than one shard.
    pub fn is_sharded(&self) -> bool {
        self.count > 1
    }

    /// The shard `s(x)` item `x` falls into.
    pub fn of(&self, item: &[u8]) -> u32 {
        if self.count == 1 {
            return 0;
        }
        part_of(sha3_tagged, dst::SHARD, &self.key, item, self.count)
    }

    /// The elements each shard of a side whose padded total is `total` announces: `L(total,
    /// N)` (section 9.3's bound; `total` itself for one shard).
    pub fn bound(&self, total: u64) -> u64 {
        let n = usize::try_from(total).unwrap_or(usize::MAX);
        bucket_bound(n, self.count) as u64
    }

    /// Our items of this shard, each remembering its position in `items`' input (so the
    /// matches name rows of the whole input), checked against the bound for `total`.
    ///
    /// # Errors
    /// [`Error::Input`] with [`InputReason::ShardOverflow`] when more of our items fall into
    /// this shard than the bound (probability at most `2^-40`, section 9.11); another logical
    /// session name assigns them afresh.
    pub fn select(&self, items: &ItemSet, total: u64) -> Result<ItemSet> {
        if !self.is_sharded() {
            return Ok(items.clone());
        }
        let packed = items.items();
        let keep: Vec<usize> = (0..packed.len())
            .into_par_iter()
            .filter(|&i| self.of(&packed[i]) == self.index)
            .collect();
        let bound = self.bound(total);
        if keep.len() as u64 > bound {
            return Err(Error::input(
                InputReason::ShardOverflow,
                format!(
                    "shard {self} holds {} of our items, above its bound of {bound} (this happens \
                     with probability at most 2^-40): run the logical session under another \
                     name, which assigns the items to shards afresh",
                    keep.len()
                ),
            ));
        }
        Ok(items.select(&keep))
    }
}

impl fmt::Display for Shard {
    /// `I/N`, as `--shard` takes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl fmt::Debug for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Shard({self}, key {})", hex::encode(&self.key[..8]))
    }
}

impl Default for Shard {
    fn default() -> Self {
        Shard::WHOLE
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::error::InputError;

    fn items(n: usize) -> ItemSet {
        ItemSet::new((0..n).map(|i| format!("MSCU{i:07}")))
    }

    #[test]
    fn the_shards_partition_the_items_and_keep_their_positions() {
        let set = items(5000);
        let total = set.len() as u64;
        let mut seen = HashSet::new();
        for index in 0..3 {
            let shard = Shard::new(index, 3, "ops-2026-12").expect("shard");
            let part = shard.select(&set, total).expect("fits");
            assert!(part.len() as u64 <= shard.bound(total));
            assert!(part.len() > 1000, "shard {index}: {}", part.len());
            for i in 0..part.len() {
                let pos = part.input_indices(i)[0];
                assert_eq!(&part.items()[i], &set.items()[pos]);
                assert_eq!(shard.of(&part.items()[i]), index);
                assert!(seen.insert(pos), "position {pos} in two shards");
            }
        }
        assert_eq!(seen.len(), set.len());
    }

    /// The example of `protocol-spec/09-buckets.md` 9.11 (computed there from the spec's
    /// formulas by an independent implementation).
    #[test]
    fn the_spec_example() {
        let shard = Shard::new(0, 3, "customs-2026-12-02").expect("shard");
        assert_eq!(
            hex::encode(shard.key()),
            "0d7f46118bc3ee3857f905b2261bf9ba6d1d8812a02136be7cc8b1306dae41e0"
        );
        let got: Vec<u32> = ["MSCU0000000", "MSCU0000001", "MSCU0000003"]
            .iter()
            .map(|x| shard.of(x.as_bytes()))
            .collect();
        assert_eq!(got, [2, 1, 0]);
    }

    #[test]
    fn the_name_keys_the_assignment() {
        let a = Shard::new(0, 4, "one").expect("a");
        let b = Shard::new(0, 4, "two").expect("b");
        assert_ne!(a.key(), b.key());
        let moved = (0..1000)
            .map(|i| format!("x{i}"))
            .filter(|x| a.of(x.as_bytes()) != b.of(x.as_bytes()))
            .count();
        assert!(moved > 600, "{moved} of 1000 moved");
        assert_eq!(a.key(), Shard::new(3, 4, "one").expect("c").key());
    }

    #[test]
    fn bad_shards_are_refused() {
        for (i, n, name) in [
            (4, 4, "x"),
            (0, 0, "x"),
            (0, MAX_SHARDS + 1, "x"),
            (1, 2, ""),
        ] {
            let e = Shard::new(i, n, name).expect_err("refused");
            assert!(
                matches!(&e, Error::Config(c) if c.reason == ConfigReason::Parameter),
                "{i}/{n}: {e:?}"
            );
        }
        assert_eq!(Shard::new(0, 1, "").expect("whole"), Shard::WHOLE);
        assert!(Shard::from_parts(0, 1, [1; 32]).is_none());
        assert!(Shard::from_parts(2, 2, [1; 32]).is_none());
        assert!(Shard::from_parts(0, 0, [0; 32]).is_none());
        assert!(Shard::from_parts(1, 2, [1; 32]).is_some());
        assert_eq!(Shard::from_parts(0, 1, [0; 32]), Some(Shard::WHOLE));
    }

    #[test]
    fn an_overflowing_shard_is_refused_not_truncated() {
        let set = items(2000);
        let shard = Shard::new(1, 2, "ops").expect("shard");
        // A total below the true count gives a bound the shard cannot meet.
        let e = shard.select(&set, 1000).expect_err("overflow");
        assert!(
            matches!(
                &e,
                Error::Input(InputError {
                    reason: InputReason::ShardOverflow,
                    ..
                })
            ),
            "{e:?}"
        );
        assert_eq!(Shard::WHOLE.select(&set, 10).expect("whole").len(), 2000);
    }
}
