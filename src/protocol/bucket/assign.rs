//! Which bucket an item falls into, and the session id of each bucket's sub-session
//! (`protocol-spec/09-buckets.md` sections 9.2 and 9.5).
//!
//! ```text
//! u(x)      = LE( SHA-256( I2OSP(len(BUCKET), 4) || BUCKET || session_id
//!                          || I2OSP(len(x), 8) || x )[0..8] )
//! b(x)      = floor( u(x) · B / 2^64 )
//! sub_id(b) = SHA3-256( I2OSP(len(BUCKET_SESSION), 4) || BUCKET_SESSION || session_id
//!                       || I2OSP(b, 4) )
//! ```
//! The session id comes from the transcript of both hellos, each with its side's fresh nonce
//! (section 4.3.3), so the key of the assignment is fresh and neither side chooses it. The
//! assignment hashes with SHA-256 (since hello version 7), which runs on the CPU's SHA
//! extensions where it has them: every item is hashed once before any bucket opens, and
//! SHA3-256's software Keccak made that step a seventh of a 2^24 session (spec 9.2).

use std::ops::Range;
use std::sync::Arc;

use rayon::prelude::*;

use crate::dst;
use crate::error::Result;
use crate::packed::PackedBytes;
use crate::protocol::{Interrupt, ItemSet};
use crate::tagged_hash::{sha256_tagged, sha3_tagged};

/// Items assigned (hashed, or placed by the counting sort) between two checks of the
/// session's [`Interrupt`]: a few milliseconds of work, as VOLE-PSI's steps (spec 8.8.4).
const CHECK_EVERY: usize = 1 << 14;

/// The bucket `b(x)` of item `x` among `buckets` (section 9.2).
pub fn bucket_of(session_id: &[u8; 32], item: &[u8], buckets: u32) -> u32 {
    part_of(sha256_tagged, dst::BUCKET, session_id, item, buckets)
}

/// A tagged hash of [`crate::tagged_hash`]: SHA-256 for the buckets (9.2), SHA3-256 for the
/// shards (9.11).
pub(crate) type TaggedHash = fn(&[u8], &[&[u8]]) -> [u8; 32];

/// `floor(u · parts / 2^64)` with `u = LE(H(enc(tag) || key || I2OSP(len(x), 8) ||
/// x)[0..8])`: the part of `parts` that item `x` falls into under `key` (a bucket, section
/// 9.2, or a shard, 9.11).
pub(crate) fn part_of(
    hash: TaggedHash,
    tag: &[u8],
    key: &[u8; 32],
    item: &[u8],
    parts: u32,
) -> u32 {
    let len = (item.len() as u64).to_be_bytes();
    let h = hash(tag, &[key, &len, item]);
    let mut first = [0u8; 8];
    first.copy_from_slice(&h[..8]);
    let u = u128::from(u64::from_le_bytes(first));
    // Below `parts` since u < 2^64.
    ((u * u128::from(parts)) >> 64) as u32
}

/// The session id of bucket `bucket`'s sub-session (section 9.5).
pub fn sub_session_id(session_id: &[u8; 32], bucket: u32) -> [u8; 32] {
    sha3_tagged(dst::BUCKET_SESSION, &[session_id, &bucket.to_be_bytes()])
}

/// Our distinct items grouped by bucket: 4 bytes per item and 8 per bucket, besides the
/// items themselves (which the caller holds).
pub(crate) struct Layout {
    /// Distinct item numbers, by bucket, ascending within each bucket.
    order: Vec<u32>,
    /// Bucket `b`'s items are `order[starts[b]..starts[b + 1]]`.
    starts: Vec<usize>,
}

impl Layout {
    /// Assigns every distinct item of `items` (at most 2^32 of them) to its bucket, hashing
    /// on rayon's pool, and groups them with a counting sort.
    ///
    /// # Errors
    /// [`crate::error::Error::Cancelled`] once `stop` is raised: it is checked before every
    /// [`CHECK_EVERY`] items hashed and every [`CHECK_EVERY`] items placed.
    pub(crate) fn new(
        session_id: &[u8; 32],
        items: &ItemSet,
        buckets: u32,
        stop: &Interrupt,
    ) -> Result<Self> {
        let packed = items.items();
        let mut of = vec![0u32; packed.len()];
        of.par_chunks_mut(CHECK_EVERY)
            .enumerate()
            .try_for_each(|(batch, out)| -> Result<()> {
                stop.check()?;
                let first = batch * CHECK_EVERY;
                for (j, b) in out.iter_mut().enumerate() {
                    *b = bucket_of(session_id, &packed[first + j], buckets);
                }
                Ok(())
            })?;
        stop.check()?;
        let mut starts = vec![0usize; buckets as usize + 1];
        for &b in &of {
            starts[b as usize + 1] += 1;
        }
        for b in 0..buckets as usize {
            starts[b + 1] += starts[b];
        }
        let mut next = starts.clone();
        let mut order = vec![0u32; of.len()];
        for (batch, bs) in of.chunks(CHECK_EVERY).enumerate() {
            stop.check()?;
            for (j, &b) in bs.iter().enumerate() {
                order[next[b as usize]] = (batch * CHECK_EVERY + j) as u32;
                next[b as usize] += 1;
            }
        }
        Ok(Layout { order, starts })
    }

    fn range(&self, bucket: u32) -> Range<usize> {
        self.starts[bucket as usize]..self.starts[bucket as usize + 1]
    }

    /// How many of our items fell into `bucket`.
    pub(crate) fn count(&self, bucket: u32) -> usize {
        self.range(bucket).len()
    }

    /// The largest bucket: its index and count.
    pub(crate) fn largest(&self) -> (u32, usize) {
        let buckets = (self.starts.len() - 1) as u32;
        (0..buckets)
            .map(|b| (b, self.count(b)))
            .max_by_key(|&(b, n)| (n, std::cmp::Reverse(b)))
            .unwrap_or((0, 0))
    }

    /// Bucket `bucket`'s items as a set of their own, in ascending item number, so that
    /// position `p` in it is item [`Layout::item`]`(bucket, p)` of the caller's set.
    pub(crate) fn items(&self, items: &ItemSet, bucket: u32) -> ItemSet {
        let packed = items.items();
        let own: PackedBytes = self.order[self.range(bucket)]
            .iter()
            .map(|&i| &packed[i as usize])
            .collect();
        ItemSet::from_distinct(Arc::new(own))
    }

    /// The caller's distinct item number of position `position` of bucket `bucket`.
    pub(crate) fn item(&self, bucket: u32, position: usize) -> usize {
        self.order[self.starts[bucket as usize] + position] as usize
    }
}

#[cfg(test)]
mod tests {
    use sha3::{Digest, Sha3_256};

    use super::*;

    #[test]
    fn the_assignment_is_keyed_spread_and_in_range() {
        let items: Vec<String> = (0..4000).map(|i| format!("item-{i}")).collect();
        for buckets in [1, 3, 16] {
            let mut counts = vec![0usize; buckets as usize];
            for item in &items {
                let b = bucket_of(&[7; 32], item.as_bytes(), buckets);
                assert!(b < buckets);
                counts[b as usize] += 1;
            }
            let mean = items.len() / buckets as usize;
            assert!(counts.iter().all(|&c| c > mean * 3 / 4 && c < mean * 5 / 4));
        }
        let moved = items
            .iter()
            .filter(|i| {
                bucket_of(&[7; 32], i.as_bytes(), 16) != bucket_of(&[8; 32], i.as_bytes(), 16)
            })
            .count();
        assert!(
            moved > items.len() * 7 / 8,
            "the session id keys the assignment"
        );
    }

    /// Recomputes `b(x)` (SHA-256) and `sub_id(b)` (SHA3-256) from the spec's formulas with
    /// nothing but the two hash functions.
    #[test]
    fn the_assignment_and_sub_ids_are_the_specs() {
        let sid = [0x42; 32];
        let item = b"IMO9321483";
        let mut input = Vec::new();
        input.extend_from_slice(&27u32.to_be_bytes());
        input.extend_from_slice(b"blindmatch-v1-bucket-sha256");
        input.extend_from_slice(&sid);
        input.extend_from_slice(&10u64.to_be_bytes());
        input.extend_from_slice(item);
        let h = sha2::Sha256::digest(&input);
        let u = u64::from_le_bytes(h[..8].try_into().expect("8 bytes"));
        let b = ((u128::from(u) * 96) >> 64) as u32;
        assert_eq!(bucket_of(&sid, item, 96), b);

        let mut input = Vec::new();
        input.extend_from_slice(&28u32.to_be_bytes());
        input.extend_from_slice(b"blindmatch-v1-bucket-session");
        input.extend_from_slice(&sid);
        input.extend_from_slice(&5u32.to_be_bytes());
        let id: [u8; 32] = Sha3_256::digest(&input).into();
        assert_eq!(sub_session_id(&sid, 5), id);
        assert_ne!(sub_session_id(&sid, 5), sub_session_id(&sid, 6));
    }

    #[test]
    fn the_layout_groups_every_item_once_in_order() {
        let set = ItemSet::new((0..500).map(|i| format!("x{}", i % 450)));
        let layout = Layout::new(&[1; 32], &set, 7, &Interrupt::new()).expect("not raised");
        let mut seen = vec![false; set.len()];
        for b in 0..7 {
            let own = layout.items(&set, b);
            assert_eq!(own.len(), layout.count(b));
            let mut last = None;
            for (p, item) in own.items().iter().enumerate() {
                let i = layout.item(b, p);
                assert!(last < Some(i), "ascending within a bucket");
                last = Some(i);
                assert_eq!(item, &set.items()[i]);
                assert_eq!(bucket_of(&[1; 32], item, 7), b);
                assert!(!std::mem::replace(&mut seen[i], true));
            }
        }
        assert!(seen.iter().all(|&s| s));
        let (b, n) = layout.largest();
        assert!((0..7).all(|c| layout.count(c) <= n) && layout.count(b) == n);
    }

    #[test]
    fn a_raised_interrupt_stops_the_assignment() {
        let set = ItemSet::new((0..(2 * CHECK_EVERY + 5)).map(|i| format!("x{i}")));
        let stop = Interrupt::new();
        assert!(Layout::new(&[1; 32], &set, 3, &stop).is_ok());
        stop.raise(crate::error::CancelReason::Interrupted);
        assert!(matches!(
            Layout::new(&[1; 32], &set, 3, &stop),
            Err(crate::error::Error::Cancelled(
                crate::error::CancelReason::Interrupted
            ))
        ));
    }
}
