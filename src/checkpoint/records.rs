//! `buckets.bin`: one record per finished bucket, appended as it finishes
//! (`protocol-spec/09-buckets.md` section 9.12.2).
//!
//! ```text
//! record = bucket (4) || kind (1) || body || check (16)
//!   kind 0 (nothing):  body empty
//!   kind 1 (a count):  body = count (8)
//!   kind 2 (matches):  body = n (4) || n × item number (4), ascending
//! check  = SHA3-256( I2OSP(len(CHECKPOINT_RECORD), 4) || CHECKPOINT_RECORD || record without check )[0..16]
//! ```
//! Integers are big-endian. A crash can leave the last record cut short or unchecked: reading
//! stops at the first record that is, and its bucket runs again.

use std::collections::BTreeMap;

use crate::dst;
use crate::protocol::bucket::{BucketLearned, FinishedBucket};
use crate::tagged_hash::sha3_tagged;

const CHECK_LEN: usize = 16;

/// Appends the encoding of `f` to `out`.
pub(crate) fn encode(f: &FinishedBucket, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(&f.bucket.to_be_bytes());
    match &f.learned {
        BucketLearned::Nothing => out.push(0),
        BucketLearned::Count(n) => {
            out.push(1);
            out.extend_from_slice(&n.to_be_bytes());
        }
        BucketLearned::Matches(items) => {
            out.push(2);
            out.extend_from_slice(&(items.len() as u32).to_be_bytes());
            for i in items {
                out.extend_from_slice(&i.to_be_bytes());
            }
        }
    }
    let check = sha3_tagged(dst::CHECKPOINT_RECORD, &[&out[start..]]);
    out.extend_from_slice(&check[..CHECK_LEN]);
}

/// One record from the front of `bytes` and its length, or `None` if it is cut short, of an
/// unknown kind, or fails its check.
fn decode_one(bytes: &[u8]) -> Option<(FinishedBucket, usize)> {
    let u32_at = |at: usize| -> Option<u32> {
        Some(u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
    };
    let bucket = u32_at(0)?;
    let (learned, end) = match *bytes.get(4)? {
        0 => (BucketLearned::Nothing, 5),
        1 => {
            let n = u64::from_be_bytes(bytes.get(5..13)?.try_into().ok()?);
            (BucketLearned::Count(n), 13)
        }
        2 => {
            let n = u32_at(5)? as usize;
            let end = 9usize.checked_add(n.checked_mul(4)?)?;
            let body = bytes.get(9..end)?;
            let items = body
                .chunks_exact(4)
                .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                .collect();
            (BucketLearned::Matches(items), end)
        }
        _ => return None,
    };
    let check = bytes.get(end..end + CHECK_LEN)?;
    let want = sha3_tagged(dst::CHECKPOINT_RECORD, &[&bytes[..end]]);
    (check == &want[..CHECK_LEN]).then_some((FinishedBucket { bucket, learned }, end + CHECK_LEN))
}

/// What `bytes` records, by bucket (a later record of a bucket replaces an earlier one), up
/// to the first record cut short or failing its check.
pub(crate) fn decode(bytes: &[u8]) -> BTreeMap<u32, BucketLearned> {
    let mut out = BTreeMap::new();
    let mut at = 0;
    while let Some((f, len)) = bytes.get(at..).and_then(decode_one) {
        out.insert(f.bucket, f.learned);
        at += len;
    }
    out
}

/// What buckets `0, 1, ...` gave, for as many as `recorded` holds one after another from 0.
pub(crate) fn prefix(recorded: &BTreeMap<u32, BucketLearned>) -> Vec<BucketLearned> {
    recorded
        .iter()
        .enumerate()
        .take_while(|(i, (b, _))| *i as u32 == **b)
        .map(|(_, (_, l))| l.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<FinishedBucket> {
        vec![
            FinishedBucket {
                bucket: 0,
                learned: BucketLearned::Matches(vec![3, 9, 70_000]),
            },
            FinishedBucket {
                bucket: 2,
                learned: BucketLearned::Nothing,
            },
            FinishedBucket {
                bucket: 1,
                learned: BucketLearned::Count(12),
            },
        ]
    }

    #[test]
    fn records_round_trip_and_the_prefix_is_contiguous_from_zero() {
        let mut bytes = Vec::new();
        for f in sample() {
            encode(&f, &mut bytes);
        }
        let recorded = decode(&bytes);
        assert_eq!(recorded.len(), 3);
        assert_eq!(recorded[&0], BucketLearned::Matches(vec![3, 9, 70_000]));
        assert_eq!(prefix(&recorded).len(), 3);
        let mut gap = recorded.clone();
        gap.remove(&1);
        assert_eq!(prefix(&gap), [BucketLearned::Matches(vec![3, 9, 70_000])]);
    }

    #[test]
    fn a_torn_or_altered_record_ends_the_reading() {
        let mut bytes = Vec::new();
        for f in sample() {
            encode(&f, &mut bytes);
        }
        let first_two = {
            let mut b = Vec::new();
            for f in &sample()[..2] {
                encode(f, &mut b);
            }
            b.len()
        };
        for cut in first_two..bytes.len() {
            assert_eq!(decode(&bytes[..cut]).len(), 2, "cut at {cut}");
        }
        // An item number (bytes 9 to 21 of the first record) or a byte of its check changed:
        // the lengths still hold, only the check refuses it.
        for at in [10, 21, 36] {
            let mut altered = bytes.clone();
            altered[at] ^= 1;
            assert_eq!(decode(&altered), BTreeMap::new(), "byte {at}");
        }
    }
}
