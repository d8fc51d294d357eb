//! A distributed punctured PRF: `t` GGM trees, each known in full to the sender and to the
//! receiver everywhere but at one leaf the receiver chose (`protocol-spec/08-vole-psi.md`
//! section 8.3).
//!
//! This is the puncturable PRF of Goldreich, Goldwasser and Micali ("How to Construct Random
//! Functions", JACM 1986; the puncturing of Boneh–Waters, Boyle–Goldwasser–Ivan and
//! Kiayias et al., 2013) distributed with one 1-out-of-2 OT per level, as silent OT and VOLE
//! use it (Boyle, Couteau, Gilboa, Ishai, Kohl, Scholl, "Efficient Two-Round OT Extension and
//! Silent Non-Interactive Secure Computation", ACM CCS 2019, ePrint 2019/1159): the sender
//! sends, for every level, the XOR of all left children and the XOR of all right children,
//! each under one key of that level's OT; the receiver, whose choice is the complement of its
//! path's bit, learns the sum on the side off its path and rebuilds that sibling, and so every
//! node but those on its path.
//!
//! ```text
//! G(x)        = (AES_{K0}(x) ⊕ x, AES_{K1}(x) ⊕ x)          fixed-key AES, K0 || K1 = SHA3-256(tag)
//! node(0, 0)  = the tree's random seed (sender only)
//! node(l, 2p + b) = G_b(node(l − 1, p))                     levels l = 1 .. d, 2^d leaves
//! S_l^b       = XOR over p of node(l, 2p + b)
//! message     = per tree, per level: S_l^0 ⊕ k_{l,0} || S_l^1 ⊕ k_{l,1}   (k: that level's OT keys)
//! ```
//!
//! Every leaf and every sum costs the same whichever leaf is punctured: the receiver's
//! reconstruction touches every node of every level with constant-time selects, so neither its
//! timing nor its memory accesses depend on the punctured index.

use std::sync::OnceLock;

use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};
use aes::Aes128;
use rand_core::CryptoRng;
use rayon::prelude::*;

use subtle::{ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroize;

use super::base_ot::OtKey;
use super::gf128::Gf128;
use crate::dst;
use crate::error::{Error, PeerMisbehaved, Result};
use crate::protocol::{draw, Interrupt};

/// Length of one PRF value.
pub(crate) const BLOCK_LEN: usize = 16;

/// The shape of a batch of trees: how many, how deep, and how many leaves of each are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PprfShape {
    /// Number of trees `t`.
    pub(crate) trees: usize,
    /// Depth `d`: each tree has `2^d` leaves.
    pub(crate) depth: u32,
    /// Leaves kept of each tree, `1 ..= 2^d`: the punctured index must be below it.
    pub(crate) domain: usize,
}

impl PprfShape {
    /// The shape with the fewest levels whose trees hold `domain` leaves.
    ///
    /// # Errors
    /// [`Error::Internal`] for no trees or an empty or too large domain.
    pub(crate) fn for_domain(trees: usize, domain: usize) -> Result<Self> {
        if trees == 0 || domain == 0 || domain > 1 << 30 {
            return Err(Error::Internal(format!(
                "a punctured-PRF batch of {trees} trees of {domain} leaves"
            )));
        }
        let depth = domain.next_power_of_two().trailing_zeros().max(1);
        Ok(PprfShape {
            trees,
            depth,
            domain,
        })
    }

    /// The OTs the batch needs: one per level of each tree.
    pub(crate) fn ot_count(&self) -> usize {
        self.trees * self.depth as usize
    }

    /// Bytes of the sender's message: two blocks per level of each tree.
    pub(crate) fn message_len(&self) -> usize {
        self.ot_count() * 2 * BLOCK_LEN
    }
}

/// The two fixed AES keys of the length-doubling PRG: `K0 || K1 = SHA3-256(I2OSP(len(tag), 4)
/// || tag)` with tag [`dst::VOLE_GGM_PRG`].
fn prg() -> &'static [Aes128; 2] {
    static PRG: OnceLock<[Aes128; 2]> = OnceLock::new();
    PRG.get_or_init(|| {
        let keys = super::sha3_tagged(dst::VOLE_GGM_PRG, &[]);
        let mut k0 = [0u8; 16];
        let mut k1 = [0u8; 16];
        k0.copy_from_slice(&keys[..16]);
        k1.copy_from_slice(&keys[16..]);
        [Aes128::new(&Array::from(k0)), Aes128::new(&Array::from(k1))]
    })
}

/// Parents expanded per batch of AES blocks.
const EXPAND_BATCH: usize = 64;

/// One level down: `children[2p + b] = AES_{K_b}(parents[p]) ⊕ parents[p]` (blocks read and
/// written as little-endian 128-bit integers), in batches of blocks on the stack.
fn expand(parents: &[u128], children: &mut [u128]) {
    let keys = prg();
    let mut left = [Array::<u8, aes::cipher::consts::U16>::default(); EXPAND_BATCH];
    let mut right = left;
    for (ps, cs) in parents
        .chunks(EXPAND_BATCH)
        .zip(children.chunks_mut(2 * EXPAND_BATCH))
    {
        let count = ps.len();
        for (i, p) in ps.iter().enumerate() {
            left[i] = Array::from(p.to_le_bytes());
            right[i] = left[i];
        }
        keys[0].encrypt_blocks(&mut left[..count]);
        keys[1].encrypt_blocks(&mut right[..count]);
        for (i, (p, pair)) in ps.iter().zip(cs.chunks_exact_mut(2)).enumerate() {
            pair[0] = u128::from_le_bytes(left[i].into()) ^ p;
            pair[1] = u128::from_le_bytes(right[i].into()) ^ p;
        }
    }
    for b in left.iter_mut().chain(right.iter_mut()) {
        b.as_mut_slice().zeroize();
    }
}

/// The sums of the left and the right children of one level.
fn side_sums(level: &[u128]) -> [u128; 2] {
    let mut sums = [0u128; 2];
    for pair in level.chunks_exact(2) {
        sums[0] ^= pair[0];
        sums[1] ^= pair[1];
    }
    sums
}

fn key_block(key: &OtKey) -> u128 {
    u128::from_le_bytes(key.0)
}

/// The OT choice bits of the receiver of `points` (one punctured leaf per tree): for tree `i`,
/// level `l`, the complement of bit `d − l` of `points[i]` (its path, most significant bit
/// first), in the order tree 0 levels 1..d, tree 1 levels 1..d, ...
pub(crate) fn receiver_choices(shape: &PprfShape, points: &[usize]) -> Vec<bool> {
    points
        .iter()
        .flat_map(|&alpha| (1..=shape.depth).map(move |l| (alpha >> (shape.depth - l)) & 1 == 0))
        .collect()
}

/// The sender's side: draws a 16-byte seed per tree ([`draw::byte_strings`]), expands every
/// tree, and returns every kept leaf (`trees × domain`, tree by tree) and the message. `keys`
/// are the OTs' key pairs in the order of [`receiver_choices`].
///
/// # Errors
/// [`Error::Internal`] if `keys` does not hold one pair per level of each tree;
/// [`Error::Cancelled`] once `stop` is raised (checked before each tree).
pub(crate) fn send<R: CryptoRng + ?Sized>(
    rng: &mut R,
    shape: &PprfShape,
    keys: &[[OtKey; 2]],
    stop: &Interrupt,
) -> Result<(Vec<u128>, Vec<u8>)> {
    if keys.len() != shape.ot_count() {
        return Err(Error::Internal(format!(
            "{} OTs for a punctured PRF that needs {}",
            keys.len(),
            shape.ot_count()
        )));
    }
    let mut seeds = draw::byte_strings::<BLOCK_LEN, R>(rng, shape.trees);
    let depth = shape.depth as usize;
    let per_tree: Result<Vec<(Vec<u128>, Vec<u8>)>> = seeds
        .par_iter()
        .zip(keys.par_chunks(depth))
        .map(|(seed, keys)| {
            stop.check()?;
            let mut level = vec![u128::from_le_bytes(*seed)];
            let mut message = Vec::with_capacity(depth * 2 * BLOCK_LEN);
            for key in keys {
                let mut next = vec![0u128; 2 * level.len()];
                expand(&level, &mut next);
                level.zeroize();
                let sums = side_sums(&next);
                message.extend_from_slice(&(sums[0] ^ key_block(&key[0])).to_le_bytes());
                message.extend_from_slice(&(sums[1] ^ key_block(&key[1])).to_le_bytes());
                level = next;
            }
            level.truncate(shape.domain);
            Ok((level, message))
        })
        .collect::<Result<_>>();
    for s in &mut seeds {
        s.zeroize();
    }
    let per_tree = per_tree?;
    let mut leaves = Vec::with_capacity(shape.trees * shape.domain);
    let mut message = Vec::with_capacity(shape.message_len());
    for (l, m) in per_tree {
        leaves.extend_from_slice(&l);
        message.extend_from_slice(&m);
    }
    Ok((leaves, message))
}

/// The receiver's side: every kept leaf of every tree, with the punctured leaf of tree `i`
/// (`points[i]`) set to zero. `keys` are the chosen keys of the OTs whose choices were
/// [`receiver_choices`]`(shape, points)`.
///
/// # Errors
/// [`PeerMisbehaved::WrongCount`] if the message is not [`PprfShape::message_len`] bytes;
/// [`Error::Internal`] for a point outside the domain or a wrong number of keys;
/// [`Error::Cancelled`] once `stop` is raised (checked before each tree).
pub(crate) fn receive(
    shape: &PprfShape,
    points: &[usize],
    keys: &[OtKey],
    message: &[u8],
    stop: &Interrupt,
) -> Result<Vec<u128>> {
    if message.len() != shape.message_len() {
        return Err(PeerMisbehaved::WrongCount {
            what: "the punctured-PRF message (bytes)",
            got: message.len() as u64,
            expected: shape.message_len() as u64,
        }
        .into());
    }
    if points.len() != shape.trees
        || keys.len() != shape.ot_count()
        || points.iter().any(|&p| p >= shape.domain)
    {
        return Err(Error::Internal(
            "punctured-PRF points or keys do not fit its shape".into(),
        ));
    }
    let depth = shape.depth as usize;
    let trees: Vec<Vec<u128>> = points
        .par_iter()
        .zip(keys.par_chunks(depth))
        .zip(message.par_chunks(depth * 2 * BLOCK_LEN))
        .map(|((&alpha, keys), message)| {
            stop.check()?;
            Ok(rebuild(shape, alpha as u64, keys, message))
        })
        .collect::<Result<_>>()?;
    Ok(trees.into_iter().flatten().collect())
}

/// One tree rebuilt from the level sums, in constant time in `alpha`.
fn rebuild(shape: &PprfShape, alpha: u64, keys: &[OtKey], message: &[u8]) -> Vec<u128> {
    let depth = shape.depth;
    // Level 0 is the seed, which the receiver never knows: its only node is on the path.
    let mut level = vec![0u128];
    for l in 1..=depth {
        let path_parent = alpha >> (depth - l + 1);
        let bit = ((alpha >> (depth - l)) & 1) as u8;
        let mut next = vec![0u128; 2 * level.len()];
        expand(&level, &mut next);
        let at = ((l - 1) as usize) * 2 * BLOCK_LEN;
        let mut sent = [0u128; 2];
        for (b, s) in sent.iter_mut().enumerate() {
            let mut block = [0u8; BLOCK_LEN];
            block.copy_from_slice(&message[at + b * BLOCK_LEN..at + (b + 1) * BLOCK_LEN]);
            *s = u128::from_le_bytes(block);
        }
        // The chosen key opens the sum of the side off the path, `1 - bit`.
        let off = 1 - bit;
        let opened = u128_select(sent[0], sent[1], off) ^ key_block(&keys[(l - 1) as usize]);
        // XOR of the off-path side over every parent except the path's (whose expansion is
        // garbage): the sibling is what completes the sum.
        let mut known = 0u128;
        for (p, pair) in next.chunks_exact(2).enumerate() {
            let on_path = (p as u64).ct_eq(&path_parent);
            let off_child = u128_select(pair[0], pair[1], off);
            known ^= u128_select(off_child, 0, on_path.unwrap_u8());
        }
        let sibling = opened ^ known;
        for (p, pair) in next.chunks_exact_mut(2).enumerate() {
            let on_path = (p as u64).ct_eq(&path_parent);
            for (b, child) in pair.iter_mut().enumerate() {
                let is_off = (b as u8).ct_eq(&off);
                // The path's off child becomes the sibling, its on child (the path) zero.
                let repl = u128_select(0, sibling, is_off.unwrap_u8());
                *child = u128_select(*child, repl, on_path.unwrap_u8());
            }
        }
        level.zeroize();
        level = next;
    }
    level.truncate(shape.domain);
    level
}

/// `a` if `choice` is 0, `b` if it is 1, without branching on it ([`Gf128`]'s select).
fn u128_select(a: u128, b: u128, choice: u8) -> u128 {
    Gf128::conditional_select(&Gf128(a), &Gf128(b), subtle::Choice::from(choice)).0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::vector_rng::VectorRng;
    use crate::vole::base_ot::{OtReceiver, OtSender};
    use crate::vole::vectors;
    use sha3::{Digest, Sha3_256};

    /// A full run: base OTs with the PPRF's choices, then the PPRF.
    fn run(shape: &PprfShape, points: &[usize], label: &[u8]) -> (Vec<u128>, Vec<u128>) {
        let mut rng = VectorRng::new(label);
        let session = [2u8; 32];
        let choices = receiver_choices(shape, points);
        let (ot_s, setup) = OtSender::start(&mut rng, &session, choices.len());
        let (ot_r, ot_points) = OtReceiver::start(&mut rng, &session, &choices).expect("starts");
        let pairs = ot_s.finish(&ot_points).expect("sender OTs");
        let chosen = ot_r.finish(&setup).expect("receiver OTs");
        let (full, message) = send(&mut rng, shape, &pairs, &Interrupt::new()).expect("sends");
        let punctured =
            receive(shape, points, &chosen, &message, &Interrupt::new()).expect("receives");
        (full, punctured)
    }

    fn check(shape: &PprfShape, points: &[usize]) {
        let (full, punctured) = run(shape, points, b"pprf test");
        assert_eq!(full.len(), shape.trees * shape.domain);
        assert_eq!(punctured.len(), full.len());
        for (t, &alpha) in points.iter().enumerate() {
            for j in 0..shape.domain {
                let i = t * shape.domain + j;
                if j == alpha {
                    assert_eq!(punctured[i], 0, "tree {t}: the punctured leaf is zero");
                    assert_ne!(full[i], 0, "tree {t}: the sender's leaf {j} is a PRF value");
                } else {
                    assert_eq!(punctured[i], full[i], "tree {t}, leaf {j}");
                }
            }
        }
    }

    #[test]
    fn the_receiver_knows_every_leaf_but_the_punctured_one() {
        let shape = PprfShape::for_domain(4, 16).expect("shape");
        assert_eq!(shape.depth, 4);
        check(&shape, &[0, 15, 7, 8]);
    }

    #[test]
    fn domains_that_are_not_powers_of_two_keep_their_leaves() {
        let shape = PprfShape::for_domain(3, 5).expect("shape");
        assert_eq!(shape.depth, 3);
        check(&shape, &[4, 0, 2]);
        let one = PprfShape::for_domain(2, 2).expect("shape");
        assert_eq!(one.depth, 1);
        check(&one, &[1, 0]);
        let big = PprfShape::for_domain(2, 1000).expect("shape");
        check(&big, &[999, 513]);
    }

    #[test]
    fn leaves_differ_across_trees_and_positions() {
        let shape = PprfShape::for_domain(2, 64).expect("shape");
        let (full, _) = run(&shape, &[3, 60], b"distinct");
        let mut sorted = full.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), full.len());
    }

    #[test]
    fn a_message_of_the_wrong_length_is_refused() {
        let shape = PprfShape::for_domain(2, 8).expect("shape");
        let keys: Vec<OtKey> = (0..shape.ot_count()).map(|_| OtKey([0; 16])).collect();
        let err = receive(
            &shape,
            &[1, 2],
            &keys,
            &vec![0u8; shape.message_len() - 1],
            &Interrupt::new(),
        )
        .expect_err("refused");
        assert!(matches!(
            err,
            Error::PeerMisbehaved(PeerMisbehaved::WrongCount {
                got: 191,
                expected: 192,
                ..
            })
        ));
        assert!(matches!(
            receive(
                &shape,
                &[8, 2],
                &keys,
                &vec![0u8; shape.message_len()],
                &Interrupt::new()
            ),
            Err(Error::Internal(_))
        ));
    }

    #[test]
    fn choices_are_the_complement_of_the_path_most_significant_bit_first() {
        let shape = PprfShape::for_domain(2, 8).expect("shape");
        // 6 = 0b110 -> path bits 1,1,0 -> choices 0,0,1; 1 = 0b001 -> choices 1,1,0.
        assert_eq!(
            receiver_choices(&shape, &[6, 1]),
            vec![false, false, true, true, true, false]
        );
    }

    const VECTOR_PATH: &str = "protocol-spec/vectors/vole-pprf.json";
    const VECTOR_POINTS: [usize; 2] = [3, 0];

    fn generate_vector() -> serde_json::Value {
        use serde_json::json;
        let shape = PprfShape::for_domain(2, 5).expect("shape");
        let mut rng = VectorRng::new(b"vole/pprf");
        let session: [u8; 32] = draw::array(&mut rng);
        let choices = receiver_choices(&shape, &VECTOR_POINTS);
        let (ot_s, setup) = OtSender::start(&mut rng, &session, choices.len());
        let (ot_r, ot_points) = OtReceiver::start(&mut rng, &session, &choices).expect("starts");
        let pairs = ot_s.finish(&ot_points).expect("sender OTs");
        let chosen = ot_r.finish(&setup).expect("receiver OTs");
        let (full, message) = send(&mut rng, &shape, &pairs, &Interrupt::new()).expect("sends");
        let punctured = receive(&shape, &VECTOR_POINTS, &chosen, &message, &Interrupt::new())
            .expect("receives");
        let blocks = |v: &[u128]| {
            v.iter()
                .map(|b| vectors::hex(&b.to_le_bytes()))
                .collect::<Vec<_>>()
        };
        json!({
            "description": "blindmatch punctured PRF (protocol-spec/08-vole-psi.md 8.3), seed label vole/pprf",
            "seed_label": "vole/pprf",
            "trees": shape.trees,
            "domain": shape.domain,
            "depth": shape.depth,
            "points": VECTOR_POINTS,
            "session_id": vectors::hex(&session),
            "choices": choices,
            "ot_sender_keys": pairs.iter().map(|k| json!([vectors::hex(&k[0].0), vectors::hex(&k[1].0)])).collect::<Vec<_>>(),
            "ot_receiver_keys": chosen.iter().map(|k| vectors::hex(&k.0)).collect::<Vec<_>>(),
            "message": vectors::hex(&message),
            "sender_leaves": blocks(&full),
            "receiver_leaves": blocks(&punctured),
        })
    }

    #[test]
    fn the_committed_vector_is_what_the_library_produces() {
        let produced = generate_vector();
        vectors::check_committed(VECTOR_PATH, &produced);
    }

    /// The message and every leaf rebuilt from spec 8.3 with the `aes` crate and SHA3, from the
    /// vector's OT keys and the seeds read from the stream after the OTs' draws.
    #[test]
    fn the_committed_vector_follows_from_the_spec() {
        use curve25519_dalek::scalar::Scalar;
        use sha3::digest::{ExtendableOutput, Update, XofReader};

        let v = vectors::read(VECTOR_PATH);
        let unhex = crate::vole::vectors::unhex;
        let block = |x: &serde_json::Value| -> [u8; 16] { unhex(x).try_into().expect("16 bytes") };

        // The stream (1.6.2), skipping the session id and the base OTs' draws (8.2.1).
        let tag = b"blindmatch-v1-test-vector-seed";
        let mut xof = sha3::Shake256::default();
        xof.update(&[tag.len() as u8]);
        xof.update(tag);
        xof.update(b"vole/pprf");
        let mut stream = xof.finalize_xof();
        let mut skip = |n: usize, scalar: bool| loop {
            let mut out = vec![0u8; n];
            stream.read(&mut out);
            let wide: Option<[u8; 64]> = out.clone().try_into().ok();
            match wide {
                Some(w) if scalar && Scalar::from_bytes_mod_order_wide(&w) == Scalar::ZERO => {}
                _ => return out,
            }
        };
        skip(32, false);
        skip(64, true); // the sender's s
        for _ in 0..6 {
            skip(64, true); // a_i
            skip(64, false); // u_i
        }
        let seeds = [skip(16, false), skip(16, false)];

        let mut h = Sha3_256::new();
        Digest::update(
            &mut h,
            (b"blindmatch-v1-vole-ggm-prg".len() as u32).to_be_bytes(),
        );
        Digest::update(&mut h, b"blindmatch-v1-vole-ggm-prg");
        let k = h.finalize();
        let aes = [
            Aes128::new(&Array::from(<[u8; 16]>::try_from(&k[..16]).expect("16"))),
            Aes128::new(&Array::from(<[u8; 16]>::try_from(&k[16..]).expect("16"))),
        ];
        let g = |b: usize, x: [u8; 16]| -> [u8; 16] {
            let mut blk = Array::from(x);
            aes[b].encrypt_block(&mut blk);
            let mut out: [u8; 16] = blk.into();
            for (o, i) in out.iter_mut().zip(x) {
                *o ^= i;
            }
            out
        };
        let xor = |a: [u8; 16], b: [u8; 16]| -> [u8; 16] {
            let mut o = a;
            for (x, y) in o.iter_mut().zip(b) {
                *x ^= y;
            }
            o
        };

        let (domain, depth) = (5usize, 3usize);
        let mut message = Vec::new();
        let mut leaves = Vec::new();
        for (t, seed) in seeds.iter().enumerate() {
            let mut level = vec![<[u8; 16]>::try_from(seed.as_slice()).expect("16")];
            for l in 1..=depth {
                let next: Vec<[u8; 16]> = level.iter().flat_map(|&x| [g(0, x), g(1, x)]).collect();
                let mut sums = [[0u8; 16]; 2];
                for (j, node) in next.iter().enumerate() {
                    sums[j % 2] = xor(sums[j % 2], *node);
                }
                let keys = &v["ot_sender_keys"][t * depth + l - 1];
                message.extend_from_slice(&xor(sums[0], block(&keys[0])));
                message.extend_from_slice(&xor(sums[1], block(&keys[1])));
                level = next;
            }
            leaves.extend_from_slice(&level[..domain]);
        }
        assert_eq!(unhex(&v["message"]), message);
        for (i, leaf) in leaves.iter().enumerate() {
            assert_eq!(&block(&v["sender_leaves"][i]), leaf, "sender leaf {i}");
            let (t, j) = (i / domain, i % domain);
            let expected = if j == VECTOR_POINTS[t] {
                [0u8; 16]
            } else {
                *leaf
            };
            assert_eq!(
                block(&v["receiver_leaves"][i]),
                expected,
                "receiver leaf {i}"
            );
        }
        // The choices are the complements of the paths, and the receiver's keys the chosen ones.
        for (n, c) in v["choices"].as_array().expect("choices").iter().enumerate() {
            let (t, l) = (n / depth, n % depth + 1);
            let bit = (VECTOR_POINTS[t] >> (depth - l)) & 1;
            assert_eq!(c.as_bool(), Some(bit == 0), "choice {n}");
            let pair = &v["ot_sender_keys"][n];
            assert_eq!(
                v["ot_receiver_keys"][n],
                pair[usize::from(bit == 0)],
                "OT {n}"
            );
        }
    }
}
