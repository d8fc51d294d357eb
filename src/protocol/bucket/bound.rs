//! How many buckets a session has and how many entries each side pads every bucket to
//! (`protocol-spec/09-buckets.md` sections 9.3 and 9.4), in integers only, so that every
//! platform computes the same values.
//!
//! ```text
//! B       = max(1, ceil(max(n_I, n_R) / 2^β))     β: the agreed bucket size, 20 by default
//! L(n, B) = min(n, the smallest L >= 0 with L·B >= n + 1 and
//!               3 · 2^16 · T^2 >= (40 + k) · 45427 · B · (6·(n + 1) + 2·T)),
//!           T = L·B - n - 1, k = ceil(log2 B)
//! ```
//! The condition is Bernstein's inequality for the count of one bucket, with `ln 2` rounded
//! up to `45427 / 2^16`, so that no bucket of `B` holds more than `L` of `n` items except
//! with probability at most `2^-40` (section 9.3 gives the argument).

use crate::error::{Error, InputReason, Result};

/// The number of items a bucket is meant to hold by default, `2^20`: `B` is chosen so that
/// the larger side's buckets hold about `2^β` ([`bucket_count`]; section 9.4).
pub const TARGET_BUCKET_SIZE: usize = 1 << DEFAULT_BUCKET_LOG2;

/// The default `β`, log2 of the items a bucket is meant to hold (section 9.4).
pub const DEFAULT_BUCKET_LOG2: u8 = 20;

/// The `β` a hello may announce: buckets of `2^10` to `2^20` items (section 4.3.1).
pub const BUCKET_LOG2_RANGE: std::ops::RangeInclusive<u8> = 10..=20;

/// The most buckets a session may have: a bucket index is 4 bytes, but no agreed count needs
/// more than `2^27 / 2^10 = 2^17` (the engine's limit in the smallest buckets a hello may
/// ask for; `2^27 / 2^20 = 128` at the default size).
pub const MAX_BUCKETS: u32 = 1 << 17;

/// `ln 2` rounded up to 16 fractional bits: `45427 / 2^16 = 0.6931610...`, above
/// `ln 2 = 0.6931471...`.
const LN2_UP: u128 = 45427;
const LN2_UP_SHIFT: u32 = 16;

/// The number of buckets `B` for announced counts `n_i` and `n_r` and buckets of about
/// `2^bucket_log2` items (section 9.4; [`DEFAULT_BUCKET_LOG2`] unless both sides agreed on
/// less).
pub fn bucket_count(n_i: usize, n_r: usize, bucket_log2: u8) -> u32 {
    let size = 1usize << bucket_log2.min(DEFAULT_BUCKET_LOG2);
    let b = n_i.max(n_r).div_ceil(size).max(1);
    u32::try_from(b).unwrap_or(u32::MAX)
}

/// `ceil(log2 b)`: the bits of `b - 1` (0 for `b = 1`).
fn ceil_log2(b: u32) -> u32 {
    u32::BITS - b.saturating_sub(1).leading_zeros()
}

/// True when `l` entries per bucket meet the condition of section 9.3 for `n` items in `b`
/// buckets. At most `2^27 · 2^17 = 2^44` for `T`, so every product fits in 128 bits.
fn meets(n: u128, b: u128, k: u128, l: u128) -> bool {
    let Some(t) = (l * b).checked_sub(n + 1) else {
        return false;
    };
    let lhs = (3 * t * t) << LN2_UP_SHIFT;
    let rhs = (40 + k) * LN2_UP * b * (6 * (n + 1) + 2 * t);
    lhs >= rhs
}

/// The bucket bound `L(n, B)` of section 9.3: the count every bucket of a side that announced
/// `n` items is padded to. At most `n` (a bucket never holds more than all the items, so
/// `L = n` never overflows), which it is for `B = 1`, and for counts above
/// [`crate::protocol::MAX_SET_SIZE`] or `B` above [`MAX_BUCKETS`], which no session has.
pub fn bucket_bound(n: usize, buckets: u32) -> usize {
    if n == 0 || buckets <= 1 || n > crate::protocol::MAX_SET_SIZE || buckets > MAX_BUCKETS {
        return n;
    }
    let (nn, b, k) = (
        n as u128,
        u128::from(buckets),
        u128::from(ceil_log2(buckets)),
    );
    if !meets(nn, b, k, nn) {
        return n;
    }
    // The condition holds from its smallest solution on (T^2 grows faster than T), so a
    // binary search over 0..=n finds it.
    let (mut lo, mut hi) = (0u128, nn);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if meets(nn, b, k, mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo as usize
}

/// Checks that bucket `bucket` of our items, holding `count` of them, fits the bound.
///
/// # Errors
/// [`Error::Input`] with [`InputReason::BucketOverflow`] when `count > bound`, which happens
/// with probability at most `2^-40` (section 9.3); a new session assigns the items afresh.
pub fn check_bucket(bucket: u32, count: usize, bound: usize) -> Result<()> {
    if count > bound {
        return Err(Error::input(
            InputReason::BucketOverflow,
            format!(
                "bucket {bucket} holds {count} of our items, above its bound of {bound} (this \
                 happens with probability at most 2^-40): run the session again, which \
                 assigns the items to buckets under a fresh key"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::InputError;

    /// The table of `protocol-spec/09-buckets.md` 9.3: `(n, B, L(n, B))`.
    const TABLE: &[(usize, u32, usize)] = &[
        (0, 4, 0),
        (10, 4, 10),
        (100, 4, 75),
        (1000, 3, 484),
        (1000, 16, 136),
        (4096, 8, 698),
        (100_000, 7, 15_219),
        (1 << 20, 1, 1 << 20),
        (1 << 21, 2, 1_056_307),
        (10_000_000, 10, 1_007_821),
        (100_000_000, 96, 1_049_916),
        (1 << 27, 128, 1_056_853),
    ];

    #[test]
    fn the_bound_is_not_monotone_in_the_bucket_count() {
        // k = ceil(log2 B) drops by one below a power of two: more buckets, a larger bound.
        assert_eq!((bucket_bound(100, 128), bucket_bound(100, 129)), (25, 26));
    }

    #[test]
    fn the_bound_is_the_spec_table() {
        for &(n, b, l) in TABLE {
            assert_eq!(bucket_bound(n, b), l, "L({n}, {b})");
        }
        let spec = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/protocol-spec/09-buckets.md"
        ))
        .expect("09-buckets.md");
        for &(n, b, l) in TABLE {
            let row = format!("| {n} | {b} | {l} |");
            assert!(spec.contains(&row), "09-buckets.md lacks the row {row}");
        }
    }

    #[test]
    fn the_bound_is_the_smallest_that_meets_the_condition() {
        for &(n, b, l) in TABLE {
            if l == n || b <= 1 {
                continue;
            }
            let k = u128::from(ceil_log2(b));
            assert!(meets(n as u128, b.into(), k, l as u128));
            assert!(
                !meets(n as u128, b.into(), k, l as u128 - 1),
                "L({n}, {b}) - 1"
            );
        }
    }

    /// `B · P[Bin(n, 1/B) > L]`, summed in log space in floating point (a test only: the
    /// library never uses floating point for the bound).
    fn union_tail(n: usize, b: u32, l: usize) -> f64 {
        fn ln_factorial(x: usize) -> f64 {
            (1..=x).map(|i| (i as f64).ln()).sum()
        }
        let (p, nf) = (1.0 / f64::from(b), ln_factorial(n));
        let (lp, lq) = (p.ln(), (-p).ln_1p());
        let mut ln_fact = ln_factorial(l + 1);
        let mut ln_rest = ln_factorial(n - l - 1);
        let mut sum = 0.0;
        for x in l + 1..=n {
            if x > l + 1 {
                ln_fact += (x as f64).ln();
                ln_rest -= ((n - x + 1) as f64).ln();
            }
            let term = (nf - ln_fact - ln_rest + x as f64 * lp + (n - x) as f64 * lq).exp();
            sum += term;
            if term < sum * 1e-18 {
                break;
            }
        }
        f64::from(b) * sum
    }

    #[test]
    fn an_overflow_has_probability_at_most_2_to_the_minus_40() {
        let limit = 2f64.powi(-40);
        for (n, b) in [
            (100, 4),
            (1000, 3),
            (1000, 16),
            (4096, 8),
            (20_000, 7),
            (50_000, 64),
        ] {
            let l = bucket_bound(n, b);
            assert!(l < n, "L({n}, {b}) = {l} would be trivial");
            let p = union_tail(n, b, l);
            assert!(p <= limit, "L({n}, {b}) = {l}: overflow probability {p:e}");
            // And the bound is not absurdly loose: halfway from the mean to it would overflow.
            let mean = n as f64 / f64::from(b);
            let tighter = (mean + 0.5 * (l as f64 - mean)) as usize;
            assert!(
                union_tail(n, b, tighter) > limit,
                "L({n}, {b}) is very loose"
            );
        }
    }

    #[test]
    fn bucket_counts_follow_the_target_size() {
        let d = DEFAULT_BUCKET_LOG2;
        assert_eq!(bucket_count(0, 0, d), 1);
        assert_eq!(bucket_count(1 << 20, 5, d), 1);
        assert_eq!(bucket_count(5, (1 << 20) + 1, d), 2);
        assert_eq!(bucket_count(100_000_000, 3, d), 96);
        assert_eq!(bucket_count(1 << 27, 1 << 27, d), 128);
        // Smaller agreed buckets; a β above the default is the default.
        assert_eq!(bucket_count(1024, 1, 10), 1);
        assert_eq!(bucket_count(1025, 1, 10), 2);
        assert_eq!(bucket_count(5000, 3000, 10), 5);
        assert_eq!(bucket_count(1 << 27, 0, 16), 2048);
        assert_eq!(bucket_count((1 << 20) + 1, 0, 30), 2);
        assert_eq!(ceil_log2(1), 0);
        assert_eq!(ceil_log2(2), 1);
        assert_eq!(ceil_log2(3), 2);
        assert_eq!(ceil_log2(96), 7);
        assert_eq!(ceil_log2(128), 7);
    }

    #[test]
    fn an_overflowing_bucket_is_a_typed_input_error() {
        assert!(check_bucket(3, 75, 75).is_ok());
        let e = check_bucket(3, 76, 75).expect_err("above the bound");
        assert!(
            matches!(
                e,
                Error::Input(InputError {
                    reason: InputReason::BucketOverflow,
                    ..
                })
            ),
            "{e:?}"
        );
    }
}
