//! Which entities go into which file, in which order: chosen once, cheaply (an entity is its
//! number, rebuilt from it when its row is written), so that 10^7 records per file need a few
//! hundred MB and can be rendered in parallel, in a fixed order.

use std::hash::{Hash, Hasher};

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use rayon::prelude::*;

use super::render::{self, Entity};
use super::{GenSpec, TruthRow};
use crate::error::{Error, InputReason, Result};

/// Entity numbers are drawn in batches of this many (in parallel, then deduplicated in order).
const BATCH: u64 = 1 << 16;

/// Rows are rendered in chunks of this many (in parallel, then written in order).
pub(crate) const CHUNK: usize = 1 << 12;

/// The entities of both files.
pub(crate) struct Plan {
    spec: GenSpec,
    /// Entity numbers of file A's rows, in row order, with the shared index of shared ones.
    a: Vec<(u64, Option<u32>)>,
    /// The same for file B.
    b: Vec<(u64, Option<u32>)>,
}

/// Which of the two files.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// `a.csv`.
    A,
    /// `b.csv`.
    B,
}

/// A generator of its own for each (purpose, number): a stream of the seed's ChaCha8.
fn stream(spec: &GenSpec, purpose: u64, n: u64) -> ChaCha8Rng {
    let mut rng =
        ChaCha8Rng::seed_from_u64(spec.seed ^ purpose.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    rng.set_stream(n);
    rng
}

const ENTITY: u64 = 1;
const SHUFFLE: u64 = 2;
const STYLE_A: u64 = 3;
const STYLE_B: u64 = 4;

/// Entity number `n` of `spec`.
pub(crate) fn entity(spec: &GenSpec, n: u64) -> Result<Entity> {
    Entity::random(spec.kind, &mut stream(spec, ENTITY, n))
}

fn item_hash(item: &[u8]) -> u64 {
    // SipHash with fixed keys: the same on every machine.
    let mut h = std::hash::DefaultHasher::new();
    item.hash(&mut h);
    h.finish()
}

impl Plan {
    /// Chooses `2 * count - overlap` entities with distinct items and places them.
    ///
    /// # Errors
    /// [`Error::Input`] with [`InputReason::TooLarge`] if the value space runs out (the
    /// caller checks the kind's limit first, so only for a space smaller than its bound).
    pub(crate) fn new(spec: &GenSpec) -> Result<Plan> {
        let total = 2 * spec.count - spec.overlap;
        let mut seen: std::collections::HashSet<u64> =
            std::collections::HashSet::with_capacity(total);
        let mut chosen: Vec<u64> = Vec::with_capacity(total);
        let mut next = 0u64;
        let give_up = 20 * total as u64 + 1000;
        while chosen.len() < total {
            if next > give_up {
                return Err(Error::input(
                    InputReason::TooLarge,
                    format!(
                        "cannot generate {total} distinct {} records: the value space is too small; ask for fewer",
                        spec.kind
                    ),
                ));
            }
            let remaining = (total - chosen.len()) as u64;
            let size = (remaining + remaining / 4 + 16).min(BATCH);
            let batch: Vec<(u64, u64)> = (next..next + size)
                .into_par_iter()
                .map(|n| {
                    Entity::random_item(spec.kind, &mut stream(spec, ENTITY, n))
                        .map(|item| (n, item_hash(&item)))
                })
                .collect::<Result<_>>()?;
            next += size;
            for (n, h) in batch {
                if chosen.len() == total {
                    break;
                }
                // Items hashing alike are treated as equal: distinct items are never chosen
                // twice (a 64-bit collision only skips an entity).
                if seen.insert(h) {
                    chosen.push(n);
                }
            }
        }
        drop(seen);
        let (shared, rest) = chosen.split_at(spec.overlap);
        let (only_a, only_b) = rest.split_at(spec.count - spec.overlap);
        let place = |only: &[u64]| -> Vec<(u64, Option<u32>)> {
            shared
                .iter()
                .enumerate()
                .map(|(i, &n)| (n, Some(i as u32)))
                .chain(only.iter().map(|&n| (n, None)))
                .collect()
        };
        let mut a = place(only_a);
        let mut b = place(only_b);
        let mut rng = stream(spec, SHUFFLE, 0);
        render::shuffle(&mut a, &mut rng);
        render::shuffle(&mut b, &mut rng);
        Ok(Plan { spec: *spec, a, b })
    }

    fn side(&self, side: Side) -> &[(u64, Option<u32>)] {
        match side {
            Side::A => &self.a,
            Side::B => &self.b,
        }
    }

    /// Rows `start..start + len` of a file, rendered in parallel.
    ///
    /// # Errors
    /// [`Error::Internal`] if a generated value fails its parser (a bug).
    pub(crate) fn rows(&self, side: Side, start: usize, len: usize) -> Result<Vec<Vec<String>>> {
        let purpose = match side {
            Side::A => STYLE_A,
            Side::B => STYLE_B,
        };
        let end = (start + len).min(self.side(side).len());
        self.side(side)[start..end]
            .par_iter()
            .enumerate()
            .map(|(i, &(n, _))| {
                let e = entity(&self.spec, n)?;
                Ok(e.render(&mut stream(&self.spec, purpose, (start + i) as u64)))
            })
            .collect()
    }

    /// Rows in a file.
    pub(crate) fn len(&self) -> usize {
        self.a.len()
    }

    /// The shared records, in the order of file A.
    ///
    /// # Errors
    /// [`Error::Internal`] if a generated value fails its parser (a bug).
    pub(crate) fn truth(&self) -> Result<Vec<TruthRow>> {
        let mut line_b = vec![0u64; self.spec.overlap];
        for (row, (_, s)) in self.b.iter().enumerate() {
            if let Some(i) = s {
                line_b[*i as usize] = row as u64 + 2;
            }
        }
        let mut truth = Vec::with_capacity(self.spec.overlap);
        for (row, &(n, s)) in self.a.iter().enumerate() {
            if let Some(i) = s {
                truth.push(TruthRow {
                    canonical: entity(&self.spec, n)?.canonical,
                    line_a: row as u64 + 2,
                    line_b: line_b[i as usize],
                });
            }
        }
        Ok(truth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::GenKind;

    #[test]
    fn the_item_drawn_alone_is_the_entitys() {
        for kind in GenKind::ALL {
            let spec = GenSpec {
                kind,
                count: 10,
                overlap: 0,
                seed: 7,
            };
            for n in 0..500 {
                let alone = Entity::random_item(kind, &mut stream(&spec, ENTITY, n));
                let whole = entity(&spec, n).map(|e| e.item);
                assert_eq!(alone.ok(), whole.ok(), "{kind} {n}");
            }
        }
    }
}
