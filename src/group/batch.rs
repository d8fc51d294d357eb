//! The batched engine: the group operations of the protocols over slices, parallel over all
//! cores (rayon) in chunks of [`BATCH`] so memory stays bounded by the output.
//!
//! Every operation that ends in an encoding multiplies by `k / 2` and encodes with
//! `double_and_compress_batch`, which shares one field inversion across the batch: that makes
//! encoding several times cheaper than one `compress` per point (see `BENCHMARKS.md`).
//!
//! Each operation also has a `*_single` twin doing the same work one element at a time with
//! the plain dalek calls on the current thread: the reference the batched engine is tested
//! and benchmarked against.

use curve25519_dalek::ristretto::RistrettoPoint;
use rayon::prelude::*;

use super::element::WireElement;
use super::hash_to_group::hash_to_ristretto255_xof;
use super::key::SessionKey;
use crate::error::{Error, Result};

/// Elements per `double_and_compress_batch` call and per rayon task. Small enough that a
/// 1024-element batch keeps every core busy (4 tasks), large enough that the one field
/// inversion a `double_and_compress_batch` call shares costs under 0.1 µs an element.
pub const BATCH: usize = 256;

/// Hashes items to the group: `H(prefix || item)` under `dst`, in parallel.
pub fn hash_to_group<I: AsRef<[u8]> + Sync>(
    dst: &[u8],
    prefix: &[u8],
    items: &[I],
) -> Vec<RistrettoPoint> {
    items
        .par_iter()
        .with_min_len(BATCH / 4)
        .map(|item| hash_to_ristretto255_xof(&[prefix, item.as_ref()], dst))
        .collect()
}

/// `encode(k * P)` for a batch of points.
pub fn blind(key: &SessionKey, points: &[RistrettoPoint]) -> Vec<WireElement> {
    let mut out = vec![WireElement([0; 32]); points.len()];
    out.par_chunks_mut(BATCH)
        .zip(points.par_chunks(BATCH))
        .for_each(|(out, points)| {
            let halves: Vec<RistrettoPoint> = points.iter().map(|p| key.mul_half(p)).collect();
            encode_doubled(&halves, out);
        });
    out
}

/// `encode(k * H(prefix || item))` for every item: hash-to-group, exponentiation and encoding
/// fused, one chunk at a time.
pub fn hash_and_blind<I: AsRef<[u8]> + Sync>(
    key: &SessionKey,
    dst: &[u8],
    prefix: &[u8],
    items: &[I],
) -> Vec<WireElement> {
    let mut out = vec![WireElement([0; 32]); items.len()];
    out.par_chunks_mut(BATCH)
        .zip(items.par_chunks(BATCH))
        .for_each(|(out, items)| {
            let halves: Vec<RistrettoPoint> = items
                .iter()
                .map(|item| key.mul_half(&hash_to_ristretto255_xof(&[prefix, item.as_ref()], dst)))
                .collect();
            encode_doubled(&halves, out);
        });
    out
}

/// Decode, validate, exponentiate and encode every element the peer sent:
/// `encode(k * decode(e))`.
///
/// # Errors
/// [`Error::LegacyInvalidElement`] naming the first element (by position in `elements`) that is not
/// a canonical encoding or is the identity. No output is produced then.
pub fn reblind(key: &SessionKey, elements: &[WireElement]) -> Result<Vec<WireElement>> {
    let mut out = vec![WireElement([0; 32]); elements.len()];
    let failures: Vec<Error> = out
        .par_chunks_mut(BATCH)
        .zip(elements.par_chunks(BATCH))
        .enumerate()
        .filter_map(|(chunk, (out, elements))| {
            let mut halves = Vec::with_capacity(elements.len());
            for (i, e) in elements.iter().enumerate() {
                match e.decode() {
                    Ok(p) => halves.push(key.mul_half(&p)),
                    Err(reason) => {
                        return Some(Error::LegacyInvalidElement {
                            index: chunk * BATCH + i,
                            reason,
                        })
                    }
                }
            }
            encode_doubled(&halves, out);
            None
        })
        .collect();
    match failures.into_iter().next() {
        Some(first) => Err(first),
        None => Ok(out),
    }
}

/// Encodes points one `compress` each, in parallel (for points with no key at hand).
pub fn encode(points: &[RistrettoPoint]) -> Vec<WireElement> {
    points
        .par_iter()
        .with_min_len(BATCH / 4)
        .map(WireElement::encode)
        .collect()
}

/// Decodes and validates every element, in parallel.
///
/// # Errors
/// [`Error::LegacyInvalidElement`] naming the first invalid element.
pub fn decode(elements: &[WireElement]) -> Result<Vec<RistrettoPoint>> {
    let decoded: Vec<_> = elements
        .par_iter()
        .with_min_len(BATCH / 4)
        .map(WireElement::decode)
        .collect();
    decoded
        .into_iter()
        .enumerate()
        .map(|(index, r)| r.map_err(|reason| Error::LegacyInvalidElement { index, reason }))
        .collect()
}

/// `out[i] = encode(2 * halves[i])`, one shared inversion for the whole slice.
fn encode_doubled(halves: &[RistrettoPoint], out: &mut [WireElement]) {
    for (o, c) in out
        .iter_mut()
        .zip(RistrettoPoint::double_and_compress_batch(halves))
    {
        *o = c.into();
    }
}

/// [`hash_and_blind`] one element at a time on the current thread with plain dalek calls
/// (hash, multiply, `compress`): the reference for tests and the single-element baseline for
/// benchmarks.
pub fn hash_and_blind_single<I: AsRef<[u8]>>(
    key: &SessionKey,
    dst: &[u8],
    prefix: &[u8],
    items: &[I],
) -> Vec<WireElement> {
    items
        .iter()
        .map(|item| {
            WireElement::encode(&key.mul(&hash_to_ristretto255_xof(&[prefix, item.as_ref()], dst)))
        })
        .collect()
}

/// [`reblind`] one element at a time on the current thread (decompress, multiply, `compress`).
///
/// # Errors
/// As [`reblind`].
pub fn reblind_single(key: &SessionKey, elements: &[WireElement]) -> Result<Vec<WireElement>> {
    elements
        .iter()
        .enumerate()
        .map(|(index, e)| {
            e.decode()
                .map(|p| WireElement::encode(&key.mul(&p)))
                .map_err(|reason| Error::LegacyInvalidElement { index, reason })
        })
        .collect()
}
