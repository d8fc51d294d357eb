//! The RR22 PSI on top of silent VOLE and the OKVS (`protocol-spec/08-vole-psi.md` section 8.7),
//! semi-honest, for the `intersection` and `mutual` modes.
//!
//! Raghuraman and Rindal, "Blazing Fast PSI from Improved OKVS and Subfield VOLE" (ACM CCS 2022),
//! the VOLE-based OPRF and the PSI built from it (after Rindal and Schoppmann, "VOLE-PSI",
//! Eurocrypt 2021):
//!
//! 1. a silent VOLE ([`super::silent_vole`]) of the OKVS's length gives the receiver `A`, `C`
//!    and the sender `Δ`, `B`, with `C = B + A·Δ`; the receiver speaks first and announces the
//!    OKVS sizes (its encoder's choice, computed in floating point, so never recomputed by the
//!    sender);
//! 2. the receiver encodes `P = Encode({(key(y), h(y))})` over its items and sends `A' = P + A`;
//! 3. the sender sets `K = B + A'·Δ`, so that `Decode(K, x) + Δ·h(x) = Decode(C, x)` exactly
//!    when `x` is one of the receiver's items, and sends the tags
//!    `T(Decode(K, x) + Δ·h(x))` of its items in a random order;
//! 4. the receiver computes `T(Decode(C, y))` for its items and keeps those among the tags.
//!
//! In `mutual` mode the receiver then sends the positions (in the sender's order) of the tags
//! that matched, never a tag or an OPRF value (which would let the sender test items offline).

use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};
use aes::Aes128;
use rand_core::CryptoRng;
use sha3::digest::XofReader;

use super::gf128::{Gf128, MulTable};
use super::okvs::{self, OkvsParams};
use super::silent_vole::{
    ReceiverVole, SenderVole, VoleReceiver, VoleReceiverAwaitingTrees, VoleSender,
    VoleSenderAwaitingNoise,
};
use super::timing;
use super::wrong_length;
use crate::dst;
use crate::error::{Error, Malformed, PeerMisbehaved, Result};
use crate::protocol::{draw, Interrupt};

/// Bytes of a tag for sets of `receiver` and `sender` entries in one of `sessions` PSI runs
/// that share the false-match bound (the buckets of a bucketed session, spec 9; 1 otherwise):
/// `ceil((40 + b) / 8)` with `b` the bit length of `receiver · sender · sessions − 1`
/// (`ceil(log2(receiver · sender · sessions))`, in integers so both parties agree exactly),
/// so that a false match has probability at most `2^-40` per session, all runs together.
pub(crate) fn tag_len(receiver: usize, sender: usize, sessions: usize) -> usize {
    let product = (receiver.max(1) as u128) * (sender.max(1) as u128) * (sessions.max(1) as u128);
    let b = 128 - (product - 1).leading_zeros() as usize;
    (40 + b).div_ceil(8)
}

/// An item's OKVS key and value: `SHA-256(I2OSP(len(tag), 4) || tag || session_id ||
/// I2OSP(len(item), 8) || item)` (tag [`dst::VOLE_PSI_ITEM`]), its first 16 bytes the key, the
/// next 16 `h(item)`. The input is prefix-free (every length is encoded before what it
/// measures), the condition under which Merkle–Damgård is indifferentiable from a random oracle
/// (Coron, Dodis, Malinaud and Puniya, "Merkle-Damgård Revisited", CRYPTO 2005); SHA-256 runs
/// on the CPU's SHA extensions where it has them, about nine times faster here than SHAKE256's
/// software Keccak.
fn item_hash(session: &[u8; 32], item: &[u8]) -> ([u8; 16], Gf128) {
    let digest = super::sha256_tagged(
        dst::VOLE_PSI_ITEM,
        &[session, &(item.len() as u64).to_be_bytes(), item],
    );
    let mut key = [0u8; 16];
    let mut value = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    value.copy_from_slice(&digest[16..]);
    (key, Gf128::from_le_bytes(value))
}

/// The OKVS seed of a session: the first 16 bytes of `SHAKE256(I2OSP(len(tag), 4) || tag ||
/// session_id)`, tag [`dst::VOLE_PSI_OKVS_SEED`].
fn okvs_seed(session: &[u8; 32]) -> [u8; 16] {
    let mut seed = [0u8; 16];
    super::shake_tagged(dst::VOLE_PSI_OKVS_SEED, &[session]).read(&mut seed);
    seed
}

/// Items hashed, values tagged or tags looked up between two checks of an [`Interrupt`]: a
/// few milliseconds of work.
const CHECK_EVERY: usize = 1 << 14;

/// The items' OKVS keys and values ([`item_hash`]), in parallel.
///
/// # Errors
/// [`Error::Cancelled`] once `stop` is raised (checked every [`CHECK_EVERY`] items).
fn item_hashes(
    session: &[u8; 32],
    items: &[Vec<u8>],
    stop: &Interrupt,
) -> Result<(Vec<[u8; 16]>, Vec<Gf128>)> {
    use rayon::prelude::*;
    let batches: Vec<Vec<([u8; 16], Gf128)>> = items
        .par_chunks(CHECK_EVERY)
        .map(|batch| {
            stop.check()?;
            Ok(batch.iter().map(|item| item_hash(session, item)).collect())
        })
        .collect::<Result<_>>()?;
    Ok(batches.into_iter().flatten().unzip())
}

/// Values whose tags are made in one batch of AES blocks.
const TAG_BATCH: usize = 1024;

/// The tags of `values` (spec 8.7), each the first `len ≤ 16` bytes of
/// `π(σ(z)) ⊕ σ(z)` with `π = AES-128_{K_tag}`, `K_tag` the first 16 bytes of
/// `SHA3-256(I2OSP(len(tag), 4) || tag || session_id)` (tag [`dst::VOLE_PSI_TAG_KEY`]) and
/// `σ(z_0 + 2^64·z_1) = z_1 + 2^64·(z_0 ⊕ z_1)` (`z_0`, `z_1` the 64-bit halves).
///
/// This is the circular-correlation-robust hash from a fixed-key block cipher of Guo, Katz,
/// Wang and Yu ("Efficient and Secure Multiparty Computation from Fixed-Key Block Ciphers",
/// IEEE S&P 2020, ePrint 2019/074: `H(x) = π(σ(x)) ⊕ σ(x)` with the linear orthomorphism `σ`),
/// in place of a random oracle on the OPRF values; the session's key binds the tags to the
/// session. Made in batches with `encrypt_blocks` and in parallel.
///
/// # Errors
/// [`Error::Cancelled`] once `stop` is raised (checked every [`CHECK_EVERY`] values).
fn tags(
    session: &[u8; 32],
    values: &[Gf128],
    len: usize,
    stop: &Interrupt,
) -> Result<Vec<[u8; 16]>> {
    use rayon::prelude::*;
    debug_assert!(len <= 16);
    let digest = super::sha3_tagged(dst::VOLE_PSI_TAG_KEY, &[session]);
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    let cipher = Aes128::new(&Array::from(key));
    let batches: Vec<Vec<[u8; 16]>> = values
        .par_chunks(CHECK_EVERY)
        .map(|batch| {
            stop.check()?;
            Ok(batch
                .chunks(TAG_BATCH)
                .flat_map(|chunk| tag_batch(&cipher, chunk))
                .collect())
        })
        .collect::<Result<_>>()?;
    Ok(batches.concat())
}

/// The tags of one batch of values under `cipher` (see [`tags`]), by `encrypt_blocks`.
fn tag_batch(cipher: &Aes128, chunk: &[Gf128]) -> Vec<[u8; 16]> {
    let sigma: Vec<u128> = chunk
        .iter()
        .map(|z| {
            let (lo, hi) = (z.0 as u64, (z.0 >> 64) as u64);
            (u128::from(lo ^ hi) << 64) | u128::from(hi)
        })
        .collect();
    let mut blocks: Vec<Array<u8, aes::cipher::consts::U16>> =
        sigma.iter().map(|x| Array::from(x.to_le_bytes())).collect();
    cipher.encrypt_blocks(&mut blocks);
    blocks
        .into_iter()
        .zip(sigma)
        .map(|(b, x)| (u128::from_le_bytes(b.into()) ^ x).to_le_bytes())
        .collect()
}

/// The receiver's tags, by value: their first `len` bytes (zero-padded to 16) as 128-bit
/// integers, bucketed by their low bits (a counting sort; about 8 tags a bucket). The tags are
/// pseudorandom, so the buckets are even; a peer's tags only pick which bucket is read, and a
/// lookup scans one bucket of the receiver's own tags, so no choice of them slows it down.
struct TagIndex {
    len: usize,
    mask: usize,
    starts: Vec<usize>,
    entries: Vec<(u128, usize)>,
}

impl TagIndex {
    fn new(tags: &[[u8; 16]], len: usize) -> Self {
        let buckets = (tags.len() / 8).next_power_of_two().max(1);
        let mask = buckets - 1;
        use rayon::prelude::*;
        let keys: Vec<u128> = tags.par_iter().map(|t| Self::key(&t[..len])).collect();
        let mut starts = vec![0usize; buckets + 1];
        for k in &keys {
            starts[(*k as usize & mask) + 1] += 1;
        }
        for b in 0..buckets {
            starts[b + 1] += starts[b];
        }
        let mut fill = starts.clone();
        let mut entries = vec![(0u128, 0usize); keys.len()];
        for (i, k) in keys.iter().enumerate() {
            let b = *k as usize & mask;
            entries[fill[b]] = (*k, i);
            fill[b] += 1;
        }
        TagIndex {
            len,
            mask,
            starts,
            entries,
        }
    }

    fn key(t: &[u8]) -> u128 {
        let mut b = [0u8; 16];
        b[..t.len()].copy_from_slice(t);
        u128::from_le_bytes(b)
    }

    /// The index of our item with tag `t`, if any (the first, should two share a tag).
    fn get(&self, t: &[u8]) -> Option<&usize> {
        if t.len() != self.len {
            return None;
        }
        let k = Self::key(t);
        let b = k as usize & self.mask;
        let bucket = &self.entries[self.starts[b]..self.starts[b + 1]];
        bucket.iter().find(|(key, _)| *key == k).map(|(_, i)| i)
    }
}

/// The sender before the receiver's first message: its items and the receiver's announced
/// count.
pub(crate) struct PsiSender {
    session: [u8; 32],
    items: Vec<Vec<u8>>,
    receiver_count: usize,
    tag_len: usize,
}

/// The sender during the VOLE.
pub(crate) struct PsiSenderVole {
    session: [u8; 32],
    items: Vec<Vec<u8>>,
    params: OkvsParams,
    tag_len: usize,
    vole: VoleSenderAwaitingNoise,
}

/// The sender with its VOLE, waiting for `A'`.
pub(crate) struct PsiSenderAwaitingMask {
    session: [u8; 32],
    items: Vec<Vec<u8>>,
    params: OkvsParams,
    tag_len: usize,
    vole: SenderVole,
}

/// Bytes of the OKVS sizes the receiver announces before its VOLE message: `I2OSP(m', 8) ||
/// I2OSP(g, 1) || I2OSP(B, 4)` (per-bin sparse and dense columns, bins).
const SIZES_LEN: usize = 13;

/// The OKVS sizes a receiver of `n` items may announce (spec 8.7): `1 ≤ B ≤ max(n, 1)` bins of
/// `m' ≥ 4` sparse and `1 ≤ g ≤ 64` dense columns, with `B·m'` from `n` to `4n + 64` and
/// `B·(m' + g) ≤ 4n + 128` (a larger table only costs the receiver; these bounds cap what it
/// can make the sender spend).
fn plausible(n: usize, sparse: u64, dense: u8, bins: u32) -> Option<OkvsParams> {
    let sparse = usize::try_from(sparse).ok()?;
    let bins = usize::try_from(bins).ok()?;
    let dense_cols = usize::from(dense);
    let total_sparse = sparse.checked_mul(bins)?;
    let total = sparse.checked_add(dense_cols)?.checked_mul(bins)?;
    let ok = (1..=n.max(1)).contains(&bins)
        && sparse > okvs::WEIGHT
        && (1..=64).contains(&dense)
        && total_sparse >= n
        && total_sparse <= 4 * n + 64
        && total <= 4 * n + 128;
    ok.then_some(OkvsParams {
        items: n,
        sparse,
        dense: dense_cols,
        bins,
    })
}

/// The sender after sending its tags, for `mutual` mode: `order[j]` is the item behind tag `j`.
pub(crate) struct PsiSenderAwaitingPositions {
    order: Vec<usize>,
}

impl PsiSender {
    /// A sender of `items` (distinct; padded by the caller) for a receiver that announced
    /// `receiver_count` items, in one of `sessions` runs sharing the false-match bound
    /// ([`tag_len`]). It speaks second: its VOLE starts on the receiver's `R1`, which carries
    /// the OKVS sizes.
    pub(crate) fn new(
        session: &[u8; 32],
        items: Vec<Vec<u8>>,
        receiver_count: usize,
        sessions: usize,
    ) -> Self {
        PsiSender {
            session: *session,
            tag_len: tag_len(receiver_count, items.len(), sessions),
            items,
            receiver_count,
        }
    }

    /// Takes the receiver's `R1` (its OKVS sizes, then its VOLE message), starts the VOLE of
    /// the OKVS's length and returns the state and `S1`.
    ///
    /// # Errors
    /// [`PeerMisbehaved::MalformedMessage`] for sizes outside [`plausible`]'s bounds or a
    /// message too short to hold them; as [`VoleSender::on_first`] for the rest.
    pub(crate) fn on_first<R: CryptoRng + ?Sized>(
        self,
        rng: &mut R,
        message: &[u8],
    ) -> Result<(PsiSenderVole, Vec<u8>)> {
        let malformed = || -> Error {
            PeerMisbehaved::MalformedMessage {
                message: "the PSI receiver's first message",
                problem: Malformed::Field("OKVS sizes"),
            }
            .into()
        };
        let (sizes, rest) = message.split_at_checked(SIZES_LEN).ok_or_else(malformed)?;
        let mut sparse = [0u8; 8];
        sparse.copy_from_slice(&sizes[..8]);
        let mut bins = [0u8; 4];
        bins.copy_from_slice(&sizes[9..13]);
        let params = plausible(
            self.receiver_count,
            u64::from_be_bytes(sparse),
            sizes[8],
            u32::from_be_bytes(bins),
        )
        .ok_or_else(malformed)?;
        let (vole, first) = VoleSender::start(rng, &self.session, params.len())?;
        Ok((
            PsiSenderVole {
                session: self.session,
                items: self.items,
                params,
                tag_len: self.tag_len,
                vole: vole.on_first(rest)?,
            },
            first,
        ))
    }
}

impl PsiSenderVole {
    /// Entries of the receiver's mask `A'` (`R3`): the announced `m' + g`.
    pub(crate) fn mask_entries(&self) -> usize {
        self.params.len()
    }

    /// Takes the receiver's `R2`; returns the state and `S2`.
    ///
    /// # Errors
    /// As [`VoleSenderAwaitingNoise::finish`].
    pub(crate) fn on_noise<R: CryptoRng + ?Sized>(
        self,
        rng: &mut R,
        message: &[u8],
        stop: &Interrupt,
    ) -> Result<(PsiSenderAwaitingMask, Vec<u8>)> {
        let (vole, out) = self.vole.finish(rng, message, stop)?;
        Ok((
            PsiSenderAwaitingMask {
                session: self.session,
                items: self.items,
                params: self.params,
                tag_len: self.tag_len,
                vole,
            },
            out,
        ))
    }
}

impl PsiSenderAwaitingMask {
    /// Bytes of each of its tags ([`tag_len`] of this run's counts and runs).
    pub(crate) fn tag_len(&self) -> usize {
        self.tag_len
    }

    /// Takes `A'` (`R3`) and returns the tags (`S3`: its items' tags, concatenated, in an order
    /// drawn with [`draw::shuffle`]).
    ///
    /// # Errors
    /// [`PeerMisbehaved::WrongCount`] if `A'` is not the OKVS's length; [`Error::Cancelled`]
    /// once `stop` is raised (checked between batches of each phase).
    pub(crate) fn on_mask<R: CryptoRng + ?Sized>(
        self,
        rng: &mut R,
        message: &[u8],
        stop: &Interrupt,
    ) -> Result<(PsiSenderAwaitingPositions, Vec<u8>)> {
        let params = self.params;
        if message.len() != 16 * params.len() {
            return Err(wrong_length(
                "the PSI receiver's mask (bytes)",
                message.len(),
                16 * params.len(),
            ));
        }
        use rayon::prelude::*;
        let delta = self.vole.delta;
        // K = B + A'·Δ: A' is the peer's message, so a table of Δ indexed by it hides Δ.
        let k: Vec<Gf128> = timing::phase("sender K = B + A'·Δ", || {
            let times_delta = MulTable::new(delta);
            message
                .par_chunks_exact(16)
                .zip(self.vole.b.par_iter())
                .map(|(a, b)| {
                    let mut bytes = [0u8; 16];
                    bytes.copy_from_slice(a);
                    *b + times_delta.mul(Gf128::from_le_bytes(bytes))
                })
                .collect()
        });
        let seed = okvs_seed(&self.session);
        let len = self.tag_len;
        stop.check()?;
        let (keys, hs) =
            timing::phase("hashing", || item_hashes(&self.session, &self.items, stop))?;
        let tags: Vec<[u8; 16]> = timing::phase("OKVS decode + tags", || {
            let decoded = okvs::decode_all(&params, &seed, &k, &keys, stop)?;
            // Δ·h(x) with h secret: the constant-time multiplication.
            let values: Vec<Gf128> = decoded
                .par_iter()
                .zip(hs.par_iter())
                .map(|(v, h)| *v + delta * *h)
                .collect();
            tags(&self.session, &values, len, stop)
        })?;
        let mut order: Vec<usize> = (0..tags.len()).collect();
        draw::shuffle(rng, &mut order);
        let mut out = Vec::with_capacity(len * tags.len());
        for &i in &order {
            out.extend_from_slice(&tags[i][..len]);
        }
        Ok((PsiSenderAwaitingPositions { order }, out))
    }
}

impl PsiSenderAwaitingPositions {
    /// `mutual` mode: the receiver's bitmap over the sender's tags (`R4`: bit `j` of byte
    /// `j div 8`, least significant first, set when tag `j` matched; `ceil(n_S / 8)` bytes, the
    /// bits past `n_S` zero) gives the sender's items in the intersection (their indices,
    /// ascending).
    ///
    /// # Errors
    /// [`PeerMisbehaved::WrongCount`] for another length; [`PeerMisbehaved::MalformedMessage`]
    /// for a bit set past the last tag.
    pub(crate) fn on_positions(self, message: &[u8]) -> Result<Vec<usize>> {
        let n = self.order.len();
        if message.len() != bitmap_len(n) {
            return Err(wrong_length(
                "the PSI receiver's matched positions (bytes)",
                message.len(),
                bitmap_len(n),
            ));
        }
        let mut out = Vec::new();
        for (byte_index, &byte) in message.iter().enumerate() {
            for bit in 0..8 {
                if byte >> bit & 1 == 0 {
                    continue;
                }
                let j = 8 * byte_index + bit;
                let Some(&item) = self.order.get(j) else {
                    return Err(PeerMisbehaved::MalformedMessage {
                        message: "the PSI receiver's matched positions",
                        problem: Malformed::Field("bit past the last tag"),
                    }
                    .into());
                };
                out.push(item);
            }
        }
        out.sort_unstable();
        Ok(out)
    }
}

/// Bytes of the bitmap over `n` tags: `ceil(n / 8)`.
pub(crate) fn bitmap_len(n: usize) -> usize {
    n.div_ceil(8)
}

/// The receiver's first step.
pub(crate) struct PsiReceiver {
    session: [u8; 32],
    items: Vec<Vec<u8>>,
    sender_count: usize,
    tag_len: usize,
    vole: VoleReceiver,
}

/// The receiver during the VOLE.
pub(crate) struct PsiReceiverVole {
    session: [u8; 32],
    items: Vec<Vec<u8>>,
    sender_count: usize,
    tag_len: usize,
    vole: VoleReceiverAwaitingTrees,
}

/// The receiver with `C`, waiting for the tags.
pub(crate) struct PsiReceiverAwaitingTags {
    session: [u8; 32],
    items: Vec<Vec<u8>>,
    /// The items' OKVS keys, kept from encoding.
    keys: Vec<[u8; 16]>,
    sender_count: usize,
    tag_len: usize,
    vole: ReceiverVole,
}

impl PsiReceiver {
    /// Starts a receiver of `items` (distinct, padded by the caller) for a sender that
    /// announced `sender_count` items, in one of `sessions` runs sharing the false-match bound
    /// ([`tag_len`]); returns the state and `R1`.
    ///
    /// # Errors
    /// [`Error::Internal`] for no items or an impossible size.
    pub(crate) fn start<R: CryptoRng + ?Sized>(
        rng: &mut R,
        session: &[u8; 32],
        items: Vec<Vec<u8>>,
        sender_count: usize,
        sessions: usize,
    ) -> Result<(Self, Vec<u8>)> {
        let params = OkvsParams::new(items.len())?;
        let (vole, vole_first) = VoleReceiver::start(rng, session, params.len())?;
        let mut first = Vec::with_capacity(SIZES_LEN + vole_first.len());
        first.extend_from_slice(&(params.sparse as u64).to_be_bytes());
        first.push(
            u8::try_from(params.dense)
                .map_err(|_| Error::Internal(format!("{} dense OKVS columns", params.dense)))?,
        );
        first.extend_from_slice(
            &u32::try_from(params.bins)
                .map_err(|_| Error::Internal(format!("{} OKVS bins", params.bins)))?
                .to_be_bytes(),
        );
        first.extend_from_slice(&vole_first);
        Ok((
            PsiReceiver {
                session: *session,
                tag_len: tag_len(items.len(), sender_count, sessions),
                items,
                sender_count,
                vole,
            },
            first,
        ))
    }

    /// Takes the sender's `S1`; returns the state and `R2`.
    ///
    /// # Errors
    /// As [`VoleReceiver::on_first`].
    pub(crate) fn on_first(self, message: &[u8]) -> Result<(PsiReceiverVole, Vec<u8>)> {
        let (vole, out) = self.vole.on_first(message)?;
        Ok((
            PsiReceiverVole {
                session: self.session,
                items: self.items,
                sender_count: self.sender_count,
                tag_len: self.tag_len,
                vole,
            },
            out,
        ))
    }
}

impl PsiReceiverVole {
    /// Takes the sender's `S2`, encodes the OKVS (its free columns drawn from `rng`, spec 8.6)
    /// and returns the state and `A' = P + A` (`R3`).
    ///
    /// # Errors
    /// As [`VoleReceiverAwaitingTrees::finish`]; [`Error::Internal`] if the OKVS cannot be
    /// encoded (probability below `2^-40`); [`Error::Cancelled`] once `stop` is raised
    /// (checked between batches of each phase).
    pub(crate) fn on_trees<R: CryptoRng + ?Sized>(
        self,
        rng: &mut R,
        message: &[u8],
        stop: &Interrupt,
    ) -> Result<(PsiReceiverAwaitingTags, Vec<u8>)> {
        let vole = self.vole.finish(message, stop)?;
        let params = OkvsParams::new(self.items.len())?;
        let (keys, values) =
            timing::phase("hashing", || item_hashes(&self.session, &self.items, stop))?;
        let p = timing::phase("OKVS encode", || {
            okvs::encode(
                &params,
                &okvs_seed(&self.session),
                &keys,
                &values,
                rng,
                stop,
            )
        })?;
        let mut out = Vec::with_capacity(16 * p.len());
        for (p, a) in p.iter().zip(&vole.a) {
            out.extend_from_slice(&(*p + *a).to_le_bytes());
        }
        Ok((
            PsiReceiverAwaitingTags {
                session: self.session,
                items: self.items,
                keys,
                sender_count: self.sender_count,
                tag_len: self.tag_len,
                vole,
            },
            out,
        ))
    }
}

impl PsiReceiverAwaitingTags {
    /// Bytes of each of the sender's tags ([`tag_len`] of this run's counts and runs).
    pub(crate) fn tag_len(&self) -> usize {
        self.tag_len
    }

    /// Takes the tags (`S3`) and returns the indices of its items in the intersection
    /// (ascending) and, for `mutual` mode, the bitmap of the tags that matched (`R4`, see
    /// [`PsiSenderAwaitingPositions::on_positions`]).
    ///
    /// # Errors
    /// [`PeerMisbehaved::WrongCount`] if the tags are not `sender_count` tags of the agreed
    /// length; [`Error::Cancelled`] once `stop` is raised (checked between batches).
    pub(crate) fn on_tags(self, message: &[u8], stop: &Interrupt) -> Result<(Vec<usize>, Vec<u8>)> {
        let len = self.tag_len;
        if message.len() != len * self.sender_count {
            return Err(wrong_length(
                "the PSI sender's tags (bytes)",
                message.len(),
                len * self.sender_count,
            ));
        }
        let params = OkvsParams::new(self.items.len())?;
        let seed = okvs_seed(&self.session);
        let ours = TagIndex::new(
            &timing::phase("OKVS decode + tags", || {
                let decoded = okvs::decode_all(&params, &seed, &self.vole.c, &self.keys, stop)?;
                tags(&self.session, &decoded, len, stop)
            })?,
            len,
        );
        stop.check()?;
        // Looked up in parallel, CHECK_EVERY tags a batch: each batch's hits as (our item,
        // position of the sender's tag), in the sender's order.
        use rayon::prelude::*;
        let hits: Vec<Vec<(usize, usize)>> = message
            .par_chunks(len * CHECK_EVERY)
            .enumerate()
            .map(|(batch, tags)| {
                stop.check()?;
                let first = batch * CHECK_EVERY;
                Ok(tags
                    .chunks_exact(len)
                    .enumerate()
                    .filter_map(|(j, t)| ours.get(t).map(|&i| (i, first + j)))
                    .collect())
            })
            .collect::<Result<_>>()?;
        let mut positions = vec![0u8; bitmap_len(self.sender_count)];
        let mut matched = Vec::with_capacity(hits.iter().map(Vec::len).sum());
        for (i, j) in hits.into_iter().flatten() {
            matched.push(i);
            positions[j / 8] |= 1 << (j % 8);
        }
        matched.par_sort_unstable();
        Ok((matched, positions))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::vector_rng::VectorRng;

    fn never() -> Interrupt {
        Interrupt::new()
    }

    fn items(range: std::ops::Range<u32>) -> Vec<Vec<u8>> {
        range.map(|i| format!("MSCU{i:07}").into_bytes()).collect()
    }

    /// The whole exchange in memory; returns the receiver's and the sender's matched indices.
    fn run(receiver_items: Vec<Vec<u8>>, sender_items: Vec<Vec<u8>>) -> (Vec<usize>, Vec<usize>) {
        let session = [6u8; 32];
        let mut rng_s = VectorRng::new(b"psi test sender");
        let mut rng_r = VectorRng::new(b"psi test receiver");
        let (nr, ns) = (receiver_items.len(), sender_items.len());
        let sender = PsiSender::new(&session, sender_items, nr, 1);
        let (receiver, r1) =
            PsiReceiver::start(&mut rng_r, &session, receiver_items, ns, 1).expect("receiver");
        let (sender, s1) = sender.on_first(&mut rng_s, &r1).expect("S on R1");
        let (receiver, r2) = receiver.on_first(&s1).expect("R on S1");
        let (sender, s2) = sender.on_noise(&mut rng_s, &r2, &never()).expect("S on R2");
        let (receiver, r3) = receiver
            .on_trees(&mut rng_r, &s2, &never())
            .expect("R on S2");
        let (sender, s3) = sender.on_mask(&mut rng_s, &r3, &never()).expect("S on R3");
        let (ours, r4) = receiver.on_tags(&s3, &never()).expect("R on S3");
        let theirs = sender.on_positions(&r4).expect("S on R4");
        (ours, theirs)
    }

    #[test]
    fn both_sides_learn_exactly_the_intersection() {
        // Receiver 0..300, sender 200..700: shared 200..300.
        let (ours, theirs) = run(items(0..300), items(200..700));
        assert_eq!(ours, (200..300).collect::<Vec<_>>());
        assert_eq!(theirs, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn disjoint_sets_and_tiny_sets_work() {
        let (ours, theirs) = run(items(0..50), items(50..90));
        assert!(ours.is_empty() && theirs.is_empty());
        let (ours, theirs) = run(items(7..8), items(7..8));
        assert_eq!((ours, theirs), (vec![0], vec![0]));
        let (ours, _) = run(items(0..3000), items(2990..3010));
        assert_eq!(ours, (2990..3000).collect::<Vec<_>>());
    }

    #[test]
    fn the_tag_index_finds_exactly_our_tags() {
        let values: Vec<Gf128> = (0..5000u128).map(|i| Gf128(i * 77 + 1)).collect();
        let ours = tags(&[1; 32], &values, 7, &never()).expect("tags");
        let index = TagIndex::new(&ours, 7);
        for (i, t) in ours.iter().enumerate() {
            assert_eq!(index.get(&t[..7]), Some(&i));
            assert_eq!(index.get(&t[..6]), None);
        }
        let others = tags(&[2; 32], &values, 7, &never()).expect("tags");
        assert!(others.iter().all(|t| index.get(&t[..7]).is_none()));
        assert_eq!(TagIndex::new(&[], 5).get(&[0; 5]), None);
    }

    /// Items' keys and values rebuilt from spec 8.7 with SHA-256 alone.
    #[test]
    fn item_hashes_follow_the_spec() {
        use sha2::{Digest, Sha256};
        let session = [0x21u8; 32];
        let items = [b"".to_vec(), b"MSCU0000001".to_vec(), vec![0xab; 300]];
        let (keys, values) = item_hashes(&session, &items, &never()).expect("hashes");
        for (i, item) in items.iter().enumerate() {
            let tag = b"blindmatch-v1-vole-psi-item-sha256";
            let mut h = Sha256::new();
            h.update((tag.len() as u32).to_be_bytes());
            h.update(tag);
            h.update(session);
            h.update((item.len() as u64).to_be_bytes());
            h.update(item);
            let d = h.finalize();
            assert_eq!(keys[i], d[..16]);
            assert_eq!(values[i].to_le_bytes(), d[16..]);
        }
    }

    /// Tags rebuilt from spec 8.7 with the `aes` crate and SHA3 alone.
    #[test]
    fn tags_follow_the_spec() {
        use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};
        use sha3::{Digest, Sha3_256};
        let session = [0x33u8; 32];
        let values: Vec<Gf128> = (0..2500u128)
            .map(|i| Gf128(i.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835) ^ (i << 70)))
            .collect();
        let got = tags(&session, &values, 10, &never()).expect("tags");
        let tag = b"blindmatch-v1-vole-psi-tag-key";
        let mut h = Sha3_256::new();
        Digest::update(&mut h, (tag.len() as u32).to_be_bytes());
        Digest::update(&mut h, tag);
        Digest::update(&mut h, session);
        let key: [u8; 16] = h.finalize()[..16].try_into().expect("16");
        let pi = aes::Aes128::new(&Array::from(key));
        for (z, t) in values.iter().zip(&got) {
            let (z0, z1) = (z.0 as u64, (z.0 >> 64) as u64);
            let sigma = u128::from(z1) + (u128::from(z0 ^ z1) << 64);
            let mut b = Array::from(sigma.to_le_bytes());
            pi.encrypt_block(&mut b);
            let want = (u128::from_le_bytes(b.into()) ^ sigma).to_le_bytes();
            assert_eq!(t, &want);
        }
        // Another session, other tags.
        assert_ne!(
            tags(&[0x34; 32], &values[..1], 10, &never()).expect("tags"),
            got[..1]
        );
    }

    #[test]
    fn tag_lengths_keep_false_matches_below_2_to_the_minus_40() {
        assert_eq!(tag_len(1 << 20, 1 << 20, 1), 10);
        assert_eq!(tag_len(1, 1, 1), 5);
        assert_eq!(tag_len(1000, 10, 1), 7);
        // 2^56 - 1 needs 56 bits, 2^56 exactly 56 and 2^56 + 1 needs 57: the boundary is exact.
        assert_eq!(tag_len(1 << 28, (1 << 28) - 1, 1), 12);
        assert_eq!(tag_len(1 << 28, 1 << 28, 1), 12);
        assert_eq!(tag_len((1 << 28) + 1, 1 << 28, 1), 13);
        // Buckets multiply the pairs that may collide: 16 buckets of 2^20 need 44 bits more.
        assert_eq!(tag_len(1 << 20, 1 << 20, 16), 11);
        assert_eq!(tag_len(1 << 20, 1 << 20, 1 << 8), 11);
        assert_eq!(tag_len(1 << 20, 1 << 20, (1 << 8) + 1), 12);
        assert_eq!(tag_len(0, 0, 0), tag_len(1, 1, 1));
    }

    #[test]
    fn implausible_okvs_sizes_are_refused() {
        let session = [6u8; 32];
        let (_, r1) = PsiReceiver::start(&mut VectorRng::new(b"r"), &session, items(0..100), 10, 1)
            .expect("receiver");
        let announced = u64::from_be_bytes(r1[..8].try_into().expect("8 bytes"));
        assert_eq!(
            announced as usize,
            OkvsParams::new(100).expect("params").sparse
        );
        assert_eq!(r1[9..13], [0, 0, 0, 1]);
        for (sparse, dense, bins) in [
            (99u64, 3u8, 1u32),
            (465, 3, 1),
            (200, 0, 1),
            (200, 65, 1),
            (200, 3, 0),
            (49, 3, 2),
            (3, 3, 101),
            (200, 3, 3),
        ] {
            let mut bad = r1.clone();
            bad[..8].copy_from_slice(&sparse.to_be_bytes());
            bad[8] = dense;
            bad[9..13].copy_from_slice(&bins.to_be_bytes());
            let sender = PsiSender::new(&session, items(0..10), 100, 1);
            assert!(
                matches!(
                    sender.on_first(&mut VectorRng::new(b"s"), &bad),
                    Err(Error::PeerMisbehaved(
                        PeerMisbehaved::MalformedMessage { .. }
                    ))
                ),
                "{sparse}, {dense}, {bins}"
            );
        }
        let sender = PsiSender::new(&session, items(0..10), 100, 1);
        assert!(matches!(
            sender.on_first(&mut VectorRng::new(b"s"), &r1[..5]),
            Err(Error::PeerMisbehaved(
                PeerMisbehaved::MalformedMessage { .. }
            ))
        ));
    }

    #[test]
    fn bad_positions_are_refused() {
        let state = || PsiSenderAwaitingPositions {
            order: vec![2, 0, 1],
        };
        // Three tags: one byte, bits 3 to 7 must be zero.
        assert!(matches!(
            state().on_positions(&[0b1000]),
            Err(Error::PeerMisbehaved(
                PeerMisbehaved::MalformedMessage { .. }
            ))
        ));
        assert!(matches!(
            state().on_positions(&[0, 0]),
            Err(Error::PeerMisbehaved(PeerMisbehaved::WrongCount { .. }))
        ));
        assert!(matches!(
            state().on_positions(&[]),
            Err(Error::PeerMisbehaved(PeerMisbehaved::WrongCount { .. }))
        ));
        // Tags 0 and 2 matched: the sender's items 2 and 1.
        assert_eq!(state().on_positions(&[0b101]).expect("valid"), vec![1, 2]);
        assert_eq!(
            state().on_positions(&[0]).expect("valid"),
            Vec::<usize>::new()
        );
    }

    const VECTOR_PATH: &str = "protocol-spec/vectors/vole-psi.json";

    /// The vector's items (spec 8.7.1): the receiver's `vessel-00 .. vessel-11`, the sender's
    /// `vessel-07 .. vessel-16`.
    fn vector_items() -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let named = |r: std::ops::Range<u32>| -> Vec<Vec<u8>> {
            r.map(|i| format!("vessel-{i:02}").into_bytes()).collect()
        };
        (named(0..12), named(7..17))
    }

    /// A whole `mutual` session: the session id and then the receiver's draws from the stream
    /// of `vole/psi-receiver`, the sender's from that of `vole/psi-sender`.
    fn generate_vector() -> serde_json::Value {
        use crate::vole::vectors::hex;
        let blocks = |v: &[Gf128]| -> Vec<serde_json::Value> {
            v.iter().map(|x| hex(&x.to_le_bytes())).collect()
        };
        let (receiver_items, sender_items) = vector_items();
        let (nr, ns) = (receiver_items.len(), sender_items.len());
        let mut rng_r = VectorRng::new(b"vole/psi-receiver");
        let mut rng_s = VectorRng::new(b"vole/psi-sender");
        let session: [u8; 32] = draw::array(&mut rng_r);
        let sender = PsiSender::new(&session, sender_items.clone(), nr, 1);
        let (receiver, r1) =
            PsiReceiver::start(&mut rng_r, &session, receiver_items.clone(), ns, 1)
                .expect("receiver");
        let (sender, s1) = sender.on_first(&mut rng_s, &r1).expect("S on R1");
        let (receiver, r2) = receiver.on_first(&s1).expect("R on S1");
        let (sender, s2) = sender.on_noise(&mut rng_s, &r2, &never()).expect("S on R2");
        let (receiver, r3) = receiver
            .on_trees(&mut rng_r, &s2, &never())
            .expect("R on S2");
        let (delta, b) = (sender.vole.delta, sender.vole.b.clone());
        let (a, c) = (receiver.vole.a.clone(), receiver.vole.c.clone());
        let params = sender.params;
        let (sender, s3) = sender.on_mask(&mut rng_s, &r3, &never()).expect("S on R3");
        let order = sender.order.clone();
        let (ours, r4) = receiver.on_tags(&s3, &never()).expect("R on S3");
        let theirs = sender.on_positions(&r4).expect("S on R4");
        let text = |items: &[Vec<u8>]| -> Vec<String> {
            items
                .iter()
                .map(|i| String::from_utf8(i.clone()).expect("ASCII"))
                .collect()
        };
        serde_json::json!({
            "description": "blindmatch VOLE-PSI in mutual mode (protocol-spec/08-vole-psi.md 8.7), seed labels vole/psi-receiver (session id, then the receiver) and vole/psi-sender",
            "receiver_seed_label": "vole/psi-receiver",
            "sender_seed_label": "vole/psi-sender",
            "mode": "mutual",
            "receiver_items": text(&receiver_items),
            "sender_items": text(&sender_items),
            "session_id": hex(&session),
            "okvs_sparse": params.sparse,
            "okvs_dense": params.dense,
            "okvs_bins": params.bins,
            "okvs_seed": hex(&okvs_seed(&session)),
            "tag_len": tag_len(nr, ns, 1),
            "r1": hex(&r1),
            "s1": hex(&s1),
            "r2": hex(&r2),
            "s2": hex(&s2),
            "delta": hex(&delta.to_le_bytes()),
            "vole_b": blocks(&b),
            "vole_a": blocks(&a),
            "vole_c": blocks(&c),
            "r3": hex(&r3),
            "sender_order": order,
            "s3": hex(&s3),
            "r4": hex(&r4),
            "receiver_result": ours,
            "sender_result": theirs,
        })
    }

    #[test]
    fn the_committed_vector_is_what_the_library_produces() {
        crate::vole::vectors::check_committed(VECTOR_PATH, &generate_vector());
    }

    /// The session rebuilt from spec 8.7 and the sections it uses (`spec_model`: plain
    /// curve25519-dalek, `aes`, SHA-256 and SHA3, `Gf128`'s multiplication): the OKVS sizes,
    /// the VOLE's messages and outputs from the two streams, `P` by 8.6's encoder, and then,
    /// from the listed values, that `R3 + A` decodes to `h(y)` for every receiver item, the
    /// sender's tags in its shuffled order, the bitmap `R4` and both results.
    #[test]
    fn the_committed_vector_follows_from_the_spec() {
        use crate::vole::spec_model::{self as spec, Stream};
        let v = crate::vole::vectors::read(VECTOR_PATH);
        let unhex = crate::vole::vectors::unhex;
        let elements = |x: &[u8]| -> Vec<u128> {
            x.chunks_exact(16)
                .map(|b| u128::from_le_bytes(b.try_into().expect("16 bytes")))
                .collect()
        };
        let listed = |x: &serde_json::Value| -> Vec<u128> {
            x.as_array()
                .expect("array")
                .iter()
                .flat_map(|b| elements(&unhex(b)))
                .collect()
        };
        let indices = |x: &serde_json::Value| -> Vec<usize> {
            x.as_array()
                .expect("array")
                .iter()
                .map(|i| i.as_u64().expect("index") as usize)
                .collect()
        };
        let strings = |x: &serde_json::Value| -> Vec<Vec<u8>> {
            x.as_array()
                .expect("array")
                .iter()
                .map(|i| i.as_str().expect("string").as_bytes().to_vec())
                .collect()
        };
        let receiver_items = strings(&v["receiver_items"]);
        let sender_items = strings(&v["sender_items"]);
        assert_eq!(
            (receiver_items.clone(), sender_items.clone()),
            vector_items()
        );
        let (nr, ns) = (receiver_items.len(), sender_items.len());

        let mut receiver = Stream::new(b"vole/psi-receiver");
        let mut sender = Stream::new(b"vole/psi-sender");
        let session: [u8; 32] = receiver.bytes(32).try_into().expect("32");
        assert_eq!(unhex(&v["session_id"]), session);

        // Step 1: the OKVS sizes of 8.6 for n_R keys, then a VOLE of B·(m' + g) outputs.
        let (m, g) = spec::okvs_table(nr, 40.0);
        let bins = nr.div_ceil(1 << 16);
        let listed_sizes = ["okvs_sparse", "okvs_dense", "okvs_bins"].map(|f| v[f].as_u64());
        assert_eq!(
            listed_sizes,
            [Some(m as u64), Some(g as u64), Some(bins as u64)]
        );
        let len = bins * (m + g);
        let vole = spec::silent_vole(&session, len, &mut sender, &mut receiver);
        let r1 = unhex(&v["r1"]);
        let mut sizes = (m as u64).to_be_bytes().to_vec();
        sizes.push(g as u8);
        sizes.extend_from_slice(&(bins as u32).to_be_bytes());
        assert_eq!(r1[..13], sizes, "R1's sizes");
        crate::vole::vectors::assert_same_bytes(&r1[13..], &vole.r1, "R1's VOLE message");
        crate::vole::vectors::assert_same_bytes(&unhex(&v["s1"]), &vole.s1, "S1");
        crate::vole::vectors::assert_same_bytes(&unhex(&v["r2"]), &vole.r2, "R2");
        crate::vole::vectors::assert_same_bytes(&unhex(&v["s2"]), &vole.s2, "S2");
        let delta = u128::from_le_bytes(unhex(&v["delta"]).try_into().expect("16 bytes"));
        let (b, a, c) = (
            listed(&v["vole_b"]),
            listed(&v["vole_a"]),
            listed(&v["vole_c"]),
        );
        assert_eq!((delta, &b, &a, &c), (vole.delta, &vole.b, &vole.a, &vole.c));
        for i in 0..len {
            assert_eq!(c[i], b[i] ^ spec::mul(a[i], delta), "C = B + A·Δ at {i}");
        }

        // Step 2: P encodes (key(y), h(y)) with its free columns drawn after the VOLE's draws;
        // R3 = P + A, and R3 + A decodes to h(y) for every receiver item.
        let seed = spec::okvs_seed(&session);
        assert_eq!(unhex(&v["okvs_seed"]), seed);
        let (keys, values): (Vec<_>, Vec<_>) = receiver_items
            .iter()
            .map(|y| spec::item_hash(&session, y))
            .unzip();
        let (p, _) =
            spec::okvs_encode(&seed, (m, g, bins), &keys, &values, &mut receiver).expect("encodes");
        let r3 = elements(&unhex(&v["r3"]));
        assert_eq!(r3.len(), len);
        let masked: Vec<u128> = p.iter().zip(&a).map(|(p, a)| p ^ a).collect();
        assert_eq!(r3, masked, "R3 = P + A");
        let unmasked: Vec<u128> = r3.iter().zip(&a).map(|(x, a)| x ^ a).collect();
        for (i, (key, h)) in keys.iter().zip(&values).enumerate() {
            let row = spec::okvs_row(&seed, m, bins, key);
            assert_eq!(
                spec::okvs_decode(&unmasked, m, g, &row),
                *h,
                "receiver item {i}"
            );
        }

        // Step 3: K = B + R3·Δ; the tags of decode(K, key(x)) + Δ·h(x), in the order of the
        // sender's shuffle, drawn after its VOLE's draws.
        let l = spec::tag_len(nr, ns);
        assert_eq!(v["tag_len"].as_u64(), Some(l as u64));
        let k_vec: Vec<u128> = b
            .iter()
            .zip(&r3)
            .map(|(b, x)| b ^ spec::mul(*x, delta))
            .collect();
        let sender_tags: Vec<[u8; 16]> = sender_items
            .iter()
            .map(|x| {
                let (key, h) = spec::item_hash(&session, x);
                let row = spec::okvs_row(&seed, m, bins, &key);
                let z = spec::okvs_decode(&k_vec, m, g, &row) ^ spec::mul(delta, h);
                spec::tag(&session, z)
            })
            .collect();
        let order = sender.shuffle(ns);
        assert_eq!(indices(&v["sender_order"]), order);
        let s3: Vec<u8> = order
            .iter()
            .flat_map(|&i| sender_tags[i][..l].to_vec())
            .collect();
        crate::vole::vectors::assert_same_bytes(&unhex(&v["s3"]), &s3, "S3");

        // Step 4: the receiver's tags of decode(C, key(y)); R4 marks the tags of S3 among them.
        let receiver_tags: Vec<Vec<u8>> = keys
            .iter()
            .map(|key| {
                let row = spec::okvs_row(&seed, m, bins, key);
                spec::tag(&session, spec::okvs_decode(&c, m, g, &row))[..l].to_vec()
            })
            .collect();
        let mut r4 = vec![0u8; ns.div_ceil(8)];
        let mut receiver_result = Vec::new();
        for (j, t) in s3.chunks_exact(l).enumerate() {
            if let Some(i) = receiver_tags.iter().position(|r| r == t) {
                r4[j / 8] |= 1 << (j % 8);
                receiver_result.push(i);
            }
        }
        receiver_result.sort_unstable();
        assert_eq!(unhex(&v["r4"]), r4, "R4");
        let mut sender_result: Vec<usize> = (0..ns)
            .filter(|&j| (r4[j / 8] >> (j % 8)) & 1 == 1)
            .map(|j| order[j])
            .collect();
        sender_result.sort_unstable();

        // The results are the plaintext intersection: vessel-07 .. vessel-11.
        let plain_r: Vec<usize> = (0..nr)
            .filter(|&i| sender_items.contains(&receiver_items[i]))
            .collect();
        let plain_s: Vec<usize> = (0..ns)
            .filter(|&i| receiver_items.contains(&sender_items[i]))
            .collect();
        assert_eq!((plain_r.len(), plain_s.len()), (5, 5));
        assert_eq!(receiver_result, plain_r);
        assert_eq!(sender_result, plain_s);
        assert_eq!(indices(&v["receiver_result"]), receiver_result);
        assert_eq!(indices(&v["sender_result"]), sender_result);
    }
}
