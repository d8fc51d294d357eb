//! Spec 8 rebuilt from its text, for the committed vectors' "follows from the spec" tests.
//!
//! Every function here is written from `protocol-spec/08-vole-psi.md` (and the draws of
//! `01-suite.md` 1.6) with the `aes`, `sha2`, `sha3` and `curve25519-dalek` crates, RFC 9380's
//! `expand_message_xof` and integer arithmetic only; it never calls the library's protocol
//! code. Field products use [`Gf128`]'s multiplication (8.1, itself checked against a
//! schoolbook reference in `gf128`), inverses are powers of it. Slow and plain on purpose:
//! vectors are small, and a reader should be able to hold each function against its section.

use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};
use aes::Aes128;
use curve25519_dalek::constants::RISTRETTO_BASEPOINT_POINT as G;
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use sha3::digest::{ExtendableOutput, Update, XofReader};

use super::gf128::Gf128;

/// 16 bytes.
pub(super) type Block = [u8; 16];

// ---------------------------------------------------------------------------------------------
// 1.6: the vector stream and its draws.

/// `stream(label) = SHAKE256(lp8(TEST_VECTOR_SEED) || label)`, read in order (1.6.2).
pub(super) struct Stream(sha3::Shake256Reader);

impl Stream {
    pub(super) fn new(label: &[u8]) -> Self {
        let tag = b"blindmatch-v1-test-vector-seed";
        let mut x = sha3::Shake256::default();
        x.update(&[tag.len() as u8]);
        x.update(tag);
        x.update(label);
        Stream(x.finalize_xof())
    }

    /// `bytes(n)`.
    pub(super) fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut out = vec![0u8; n];
        self.0.read(&mut out);
        out
    }

    /// `bytes(16)`.
    pub(super) fn block(&mut self) -> Block {
        self.bytes(16).try_into().expect("16 bytes")
    }

    /// `bytes(16)` as a field element (little-endian), drawn again while zero.
    pub(super) fn nonzero_element(&mut self) -> u128 {
        loop {
            let x = u128::from_le_bytes(self.block());
            if x != 0 {
                return x;
            }
        }
    }

    /// `scalar()`: 64 bytes reduced mod `l`, again while zero.
    pub(super) fn scalar(&mut self) -> Scalar {
        loop {
            let wide: [u8; 64] = self.bytes(64).try_into().expect("64 bytes");
            let s = Scalar::from_bytes_mod_order_wide(&wide);
            if s != Scalar::ZERO {
                return s;
            }
        }
    }

    /// `index_below(n)`: 8 bytes `x`, again while `x ≥ 2^64 − (2^64 mod n)`; `x mod n`.
    pub(super) fn index_below(&mut self, n: u64) -> u64 {
        let limit = (1u128 << 64) - (1u128 << 64) % u128::from(n);
        loop {
            let x = u64::from_le_bytes(self.bytes(8).try_into().expect("8 bytes"));
            if u128::from(x) < limit {
                return x % n;
            }
        }
    }

    /// `shuffle` of the list `0, 1, ..., len − 1`: for `i = len − 1` down to 1,
    /// `j = index_below(i + 1)`, exchange positions `i` and `j`.
    pub(super) fn shuffle(&mut self, len: usize) -> Vec<usize> {
        let mut list: Vec<usize> = (0..len).collect();
        for i in (1..len).rev() {
            let j = self.index_below(i as u64 + 1) as usize;
            list.swap(i, j);
        }
        list
    }
}

// ---------------------------------------------------------------------------------------------
// Primitives (8.1).

/// `AES-128_key(I2OSP_LE(x, 16))`, read as a little-endian integer.
pub(super) fn aes(key: &Block, x: u128) -> u128 {
    let mut b = Array::from(x.to_le_bytes());
    Aes128::new(&Array::from(*key)).encrypt_block(&mut b);
    u128::from_le_bytes(b.into())
}

/// `I2OSP(len(tag), 4) || tag || parts...` hashed with SHA3-256.
pub(super) fn sha3_tagged(tag: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    use sha3::Digest;
    let mut h = sha3::Sha3_256::new();
    Digest::update(&mut h, (tag.len() as u32).to_be_bytes());
    Digest::update(&mut h, tag);
    for p in parts {
        Digest::update(&mut h, p);
    }
    h.finalize().into()
}

/// The first 16 bytes of `bytes`.
pub(super) fn first16(bytes: &[u8]) -> Block {
    bytes[..16].try_into().expect("16 bytes")
}

/// The product in GF(2^128).
pub(super) fn mul(a: u128, b: u128) -> u128 {
    (Gf128(a) * Gf128(b)).0
}

/// `a^(2^128 − 2)`, the inverse of `a ≠ 0`: the product of `a^(2^i)` for `i = 1 .. 127`.
pub(super) fn inverse(a: u128) -> u128 {
    let (mut square, mut out) = (a, 1u128);
    for _ in 1..128 {
        square = mul(square, square);
        out = mul(out, square);
    }
    out
}

/// Bit `i` of the little-endian integer `x`.
fn bit(x: u128, i: usize) -> bool {
    (x >> i) & 1 == 1
}

// ---------------------------------------------------------------------------------------------
// 8.2: base OT.

/// One batch of base OTs as both parties see it.
pub(super) struct BaseOts {
    pub(super) sender_setup: [u8; 32],
    /// `enc(r_{i,0}) || enc(r_{i,1})` for every `i`.
    pub(super) receiver_points: Vec<u8>,
    pub(super) sender_keys: Vec<[Block; 2]>,
    pub(super) receiver_keys: Vec<Block>,
}

/// `n = choices.len()` OTs of 8.2 under `session`: the sender's secret is `s` (already drawn),
/// the receiver draws `a_i` then `u_i` for each OT in order from `receiver`.
pub(super) fn base_ots(
    session: &[u8; 32],
    s: Scalar,
    receiver: &mut Stream,
    choices: &[bool],
) -> BaseOts {
    let h = |i: usize, p: &RistrettoPoint| {
        let mut uniform = [0u8; 64];
        crate::group::expand::expand_message_xof(
            crate::group::expand::Xof::Shake256,
            &[session, &(i as u64).to_be_bytes(), p.compress().as_bytes()],
            b"blindmatch-v1-vole-base-ot-point",
            &mut uniform,
        );
        RistrettoPoint::from_uniform_bytes(&uniform)
    };
    let kdf = |i: usize, j: u8, p: &RistrettoPoint| {
        first16(&sha3_tagged(
            b"blindmatch-v1-vole-base-ot-key",
            &[
                session,
                &(i as u64).to_be_bytes(),
                &[j],
                p.compress().as_bytes(),
            ],
        ))
    };
    let big_s = G * s;
    let mut out = BaseOts {
        sender_setup: big_s.compress().to_bytes(),
        receiver_points: Vec::new(),
        sender_keys: Vec::new(),
        receiver_keys: Vec::new(),
    };
    for (i, &b) in choices.iter().enumerate() {
        let a = receiver.scalar();
        let u: [u8; 64] = receiver.bytes(64).try_into().expect("64 bytes");
        let r = RistrettoPoint::from_uniform_bytes(&u);
        let t = G * a - h(i, &r);
        let pair = if b { [r, t] } else { [t, r] };
        // What the sender decodes from the wire.
        let wire = pair.map(|p| {
            CompressedRistretto(p.compress().to_bytes())
                .decompress()
                .expect("a valid point")
        });
        out.receiver_points
            .extend(wire.iter().flat_map(|p| p.compress().to_bytes()));
        let m = [wire[0] + h(i, &wire[1]), wire[1] + h(i, &wire[0])];
        out.sender_keys
            .push([kdf(i, 0, &(m[0] * s)), kdf(i, 1, &(m[1] * s))]);
        out.receiver_keys.push(kdf(i, u8::from(b), &(big_s * a)));
    }
    out
}

// ---------------------------------------------------------------------------------------------
// 8.3: punctured PRF.

/// `d = max(1, ceil(log2 D))`.
pub(super) fn pprf_depth(domain: usize) -> usize {
    let mut d = 1;
    while (1usize << d) < domain {
        d += 1;
    }
    d
}

/// `G_b(x) = AES-128_{K_b}(x) ⊕ x`, `K_0 || K_1 = SHA3-256(I2OSP(len(tag), 4) || tag)`.
fn ggm(b: usize, x: u128) -> u128 {
    let k = sha3_tagged(b"blindmatch-v1-vole-ggm-prg", &[]);
    aes(&first16(&k[16 * b..]), x) ^ x
}

/// The choices of 8.3: in OT `(i, l)` the complement of bit `d − l` of `α_i`.
pub(super) fn pprf_choices(alphas: &[usize], depth: usize) -> Vec<bool> {
    alphas
        .iter()
        .flat_map(|&a| (1..=depth).map(move |l| (a >> (depth - l)) & 1 == 0))
        .collect()
}

/// The sender: every kept leaf (tree by tree) and the message, from the seeds and the OTs'
/// key pairs (tree by tree, level by level).
pub(super) fn pprf_send(
    seeds: &[Block],
    domain: usize,
    keys: &[[Block; 2]],
) -> (Vec<u128>, Vec<u8>) {
    let depth = pprf_depth(domain);
    let (mut leaves, mut message) = (Vec::new(), Vec::new());
    for (i, seed) in seeds.iter().enumerate() {
        let mut level = vec![u128::from_le_bytes(*seed)];
        for l in 1..=depth {
            level = level.iter().flat_map(|&x| [ggm(0, x), ggm(1, x)]).collect();
            let k = &keys[i * depth + l - 1];
            for (b, key) in k.iter().enumerate() {
                // S_l^b, under the key of OT (i, l) for b.
                let sum = level.iter().skip(b).step_by(2).fold(0, |acc, x| acc ^ x);
                message.extend_from_slice(&(sum ^ u128::from_le_bytes(*key)).to_le_bytes());
            }
        }
        leaves.extend_from_slice(&level[..domain]);
    }
    (leaves, message)
}

/// The receiver: every kept leaf, zero at `α_i`, rebuilt level by level as 8.3 says (every
/// known node expanded; the off-path child of the path's parent from the opened sum).
pub(super) fn pprf_receive(
    alphas: &[usize],
    domain: usize,
    keys: &[Block],
    message: &[u8],
) -> Vec<u128> {
    let depth = pprf_depth(domain);
    let mut leaves = Vec::new();
    for (i, &alpha) in alphas.iter().enumerate() {
        let mut level: Vec<Option<u128>> = vec![None];
        for l in 1..=depth {
            let mut next: Vec<Option<u128>> = level
                .iter()
                .flat_map(|x| [x.map(|x| ggm(0, x)), x.map(|x| ggm(1, x))])
                .collect();
            let c = 1 - ((alpha >> (depth - l)) & 1);
            let q = alpha >> (depth - l + 1);
            let at = 32 * (i * depth + l - 1) + 16 * c;
            let opened = u128::from_le_bytes(first16(&message[at..]))
                ^ u128::from_le_bytes(keys[i * depth + l - 1]);
            let others = (0..next.len() / 2)
                .filter(|&p| p != q)
                .fold(0, |acc, p| acc ^ next[2 * p + c].expect("known"));
            next[2 * q + c] = Some(opened ^ others);
            next[2 * q + 1 - c] = None;
            level = next;
        }
        leaves.extend(level[..domain].iter().map(|x| x.unwrap_or(0)));
    }
    leaves
}

// ---------------------------------------------------------------------------------------------
// 8.4: noisy VOLE.

/// `PRG(k)[n] = AES-128_k(I2OSP_LE(n, 16))`.
fn prg(k: &Block, n: usize) -> u128 {
    aes(k, n as u128)
}

/// The β holder, from the 128 OTs' key pairs: its shares `a_n` and the message.
pub(super) fn noisy_send(keys: &[[Block; 2]], betas: &[u128]) -> (Vec<u128>, Vec<u8>) {
    let mut a = vec![0u128; betas.len()];
    let mut message = Vec::new();
    for (j, k) in keys.iter().enumerate() {
        for (n, beta) in betas.iter().enumerate() {
            let block = prg(&k[0], n) ^ prg(&k[1], n) ^ mul(*beta, 1 << j);
            message.extend_from_slice(&block.to_le_bytes());
            a[n] ^= prg(&k[0], n);
        }
    }
    (a, message)
}

/// The Δ holder, from its keys `k_{j,Δ_j}` and the message: its shares `b_n`.
pub(super) fn noisy_receive(delta: u128, keys: &[Block], t: usize, message: &[u8]) -> Vec<u128> {
    (0..t)
        .map(|n| {
            (0..128).fold(0, |acc, j| {
                let c = u128::from_le_bytes(first16(&message[16 * (j * t + n)..]));
                acc ^ prg(&keys[j], n) ^ if bit(delta, j) { c } else { 0 }
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 8.5.1: the Expand-Convolute code.

/// `E(e)` of 8.5.1 for `k` outputs.
pub(super) fn ex_conv(e: &[u128], k: usize) -> Vec<u128> {
    let m = e.len() - k;
    let key = first16(&sha3_tagged(
        b"blindmatch-v1-vole-exconv-code",
        &[&(k as u64).to_be_bytes()],
    ));
    // The stream of domain d: the bytes of AES(I2OSP_LE(d * 2^64 + n, 16)), n = 0, 1, ...
    let stream = |d: u64, len: usize| -> Vec<u8> {
        (0..len.div_ceil(16) as u128)
            .flat_map(|n| aes(&key, (u128::from(d) << 64) | n).to_le_bytes())
            .collect()
    };
    let mut x: Vec<u128> = e[k..].to_vec();
    for d in 0..2u64 {
        let bytes = stream(d, 3 * m);
        for i in 0..m {
            let xi = x[i];
            for r in 0..24 {
                if (bytes[3 * i + r / 8] >> (r % 8)) & 1 == 1 {
                    x[(i + 1 + r) % m] ^= xi;
                }
            }
            let j = (i + 25) % m;
            x[j] = mul(x[j] ^ xi, 4_234_123_421);
        }
    }
    let below = |bytes: &[u8], at: usize, bound: usize| {
        let u = u64::from_le_bytes(bytes[8 * at..8 * at + 8].try_into().expect("8"));
        ((u128::from(u) * bound as u128) >> 64) as usize
    };
    let step = m / 4;
    let (reg, uni) = (stream(2, 8 * 4 * k), stream(3, 8 * 3 * k));
    (0..k)
        .map(|r| {
            let mut y = e[r];
            for j in 0..4 {
                y ^= x[below(&reg, 4 * r + j, step) + j * step];
            }
            for j in 0..3 {
                y ^= x[below(&uni, 3 * r + j, m)];
            }
            y
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 8.5.3: OT extension.

/// `G(k)`: the first `bytes` bytes of `AES-128_k(I2OSP_LE(0, 16)) || AES-128_k(I2OSP_LE(1, 16)) || ...`.
fn iknp_g(k: &Block, bytes: usize) -> Vec<u8> {
    let mut out: Vec<u8> = (0..bytes.div_ceil(16) as u128)
        .flat_map(|n| aes(k, n).to_le_bytes())
        .collect();
    out.truncate(bytes);
    out
}

/// Column `j` of 128 rows: the integer whose bit `i` is bit `j` of row `i`.
fn column(rows: &[Vec<u8>], j: usize) -> u128 {
    rows.iter().enumerate().fold(0, |acc, (i, row)| {
        acc | (u128::from((row[j / 8] >> (j % 8)) & 1) << i)
    })
}

/// `H(j, x) = π(π(x) ⊕ I2OSP_LE(j, 16)) ⊕ π(x)`, `π = AES-128_{K_ext}`.
fn iknp_hash(session: &[u8; 32], j: usize, x: u128) -> Block {
    let k_ext = first16(&sha3_tagged(b"blindmatch-v1-vole-iknp-hash", &[session]));
    let p = aes(&k_ext, x);
    (aes(&k_ext, p ^ j as u128) ^ p).to_le_bytes()
}

/// The extension receiver, from the base OTs' key pairs and its choices `r`: its keys
/// `k'_{j,r_j}` and `U`.
pub(super) fn iknp_receive(
    session: &[u8; 32],
    base: &[[Block; 2]],
    r: &[bool],
) -> (Vec<Block>, Vec<u8>) {
    let bytes = r.len() / 8;
    let mut r_bytes = vec![0u8; bytes];
    for (j, &c) in r.iter().enumerate() {
        r_bytes[j / 8] |= u8::from(c) << (j % 8);
    }
    let mut t = Vec::new();
    let mut u = Vec::new();
    for k in base {
        let t_i = iknp_g(&k[0], bytes);
        let g1 = iknp_g(&k[1], bytes);
        u.extend((0..bytes).map(|x| t_i[x] ^ g1[x] ^ r_bytes[x]));
        t.push(t_i);
    }
    let keys = (0..r.len())
        .map(|j| iknp_hash(session, j, column(&t, j)))
        .collect();
    (keys, u)
}

/// The extension sender, from its base keys `k_{i,s_i}`, `s` and `U`: both keys of every OT.
pub(super) fn iknp_send(
    session: &[u8; 32],
    base: &[Block],
    s: &[bool],
    u: &[u8],
) -> Vec<[Block; 2]> {
    let bytes = u.len() / 128;
    let q: Vec<Vec<u8>> = base
        .iter()
        .zip(s)
        .enumerate()
        .map(|(i, (k, &s_i))| {
            let g = iknp_g(k, bytes);
            (0..bytes)
                .map(|x| g[x] ^ if s_i { u[i * bytes + x] } else { 0 })
                .collect()
        })
        .collect();
    let s_int = s
        .iter()
        .enumerate()
        .fold(0u128, |acc, (i, &b)| acc | (u128::from(b) << i));
    (0..8 * bytes)
        .map(|j| {
            let q_j = column(&q, j);
            [
                iknp_hash(session, j, q_j),
                iknp_hash(session, j, q_j ^ s_int),
            ]
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// 8.5.2: the silent VOLE exchange.

/// Everything a silent VOLE exchange of 8.5.2 sends and yields, with the values in between.
pub(super) struct SilentVole {
    pub(super) part: usize,
    pub(super) depth: usize,
    pub(super) r1: Vec<u8>,
    pub(super) s1: Vec<u8>,
    pub(super) r2: Vec<u8>,
    pub(super) s2: Vec<u8>,
    pub(super) alphas: Vec<usize>,
    pub(super) betas: Vec<u128>,
    /// The noisy VOLE's shares: `a'` (receiver), `b'` (sender).
    pub(super) noisy_a: Vec<u128>,
    pub(super) noisy_b: Vec<u128>,
    /// The sender's leaves `v` and the receiver's corrected leaves `w`.
    pub(super) v: Vec<u128>,
    pub(super) w: Vec<u128>,
    pub(super) e: Vec<u128>,
    pub(super) delta: u128,
    pub(super) b: Vec<u128>,
    pub(super) a: Vec<u128>,
    pub(super) c: Vec<u128>,
}

/// A silent VOLE of `k` outputs under `session`, each party drawing from its stream in the
/// order of 8.5.2.
pub(super) fn silent_vole(
    session: &[u8; 32],
    k: usize,
    sender: &mut Stream,
    receiver: &mut Stream,
) -> SilentVole {
    let part = (2 * (2 * k).div_ceil(128).div_ceil(2)).max(4);
    let n = 128 * part;
    let depth = pprf_depth(part);

    // Draws of the VOLE sender, then of the VOLE receiver.
    let delta = sender.nonzero_element();
    let x = u128::from_le_bytes(sender.block());
    let alphas: Vec<usize> = (0..128)
        .map(|_| receiver.index_below(part as u64) as usize)
        .collect();
    let betas: Vec<u128> = (0..128).map(|_| receiver.nonzero_element()).collect();
    let s = receiver.scalar();

    // The base OTs: the receiver is their sender, the VOLE sender their receiver with the
    // bits of Δ and then of x as choices.
    let batch = sha3_tagged(b"blindmatch-v1-vole-ot-batch", &[session, &[1]]);
    let choices: Vec<bool> = (0..128)
        .map(|j| bit(delta, j))
        .chain((0..128).map(|i| bit(x, i)))
        .collect();
    let ots = base_ots(&batch, s, sender, &choices);

    // R2: the noisy VOLE for β from OTs 0..127, then U from OTs 128..255.
    let (noisy_a, mut r2) = noisy_send(&ots.sender_keys[..128], &betas);
    let noisy_b = noisy_receive(delta, &ots.receiver_keys[..128], 128, &r2);
    let r = pprf_choices(&alphas, depth);
    let (receiver_ext, u) = iknp_receive(session, &ots.sender_keys[128..], &r);
    r2.extend_from_slice(&u);
    let sender_ext = iknp_send(session, &ots.receiver_keys[128..], &choices[128..], &u);

    // S2: the punctured PRFs under the extended keys, then γ.
    let seeds: Vec<Block> = (0..128).map(|_| sender.block()).collect();
    let (v, mut s2) = pprf_send(&seeds, part, &sender_ext);
    let tree_len = s2.len();
    for i in 0..128 {
        let gamma = v[i * part..(i + 1) * part]
            .iter()
            .fold(noisy_b[i], |acc, x| acc ^ x);
        s2.extend_from_slice(&gamma.to_le_bytes());
    }

    // The receiver's leaves, corrected at the punctured points; the noise.
    let mut w = pprf_receive(&alphas, part, &receiver_ext, &s2[..tree_len]);
    let mut e = vec![0u128; n];
    for i in 0..128 {
        let j = i * part + alphas[i];
        let gamma = u128::from_le_bytes(first16(&s2[tree_len + 16 * i..]));
        let others = (i * part..(i + 1) * part)
            .filter(|&x| x != j)
            .fold(0, |acc, x| acc ^ w[x]);
        w[j] = gamma ^ others ^ noisy_a[i];
        e[j] = betas[i];
    }
    SilentVole {
        part,
        depth,
        r1: ots.sender_setup.to_vec(),
        s1: ots.receiver_points,
        r2,
        s2,
        b: ex_conv(&v, k),
        a: ex_conv(&e, k),
        c: ex_conv(&w, k),
        alphas,
        betas,
        noisy_a,
        noisy_b,
        v,
        w,
        e,
        delta,
    }
}

// ---------------------------------------------------------------------------------------------
// 8.6: OKVS.

/// `T(N, λ) = (m', g)` in binary64.
pub(super) fn okvs_table(n: usize, lambda: f64) -> (usize, usize) {
    let l3 = 3f64.log2();
    let l = 0.555 * (n as f64).log2() + 0.093 * l3.powi(3) - 1.01 * l3.powi(2) + 2.925 * l3 - 0.133;
    let e = (lambda + 9.2 + 2f64.powf(l) * 1.223) / 2f64.powf(l);
    let m = ((n as f64 * e).floor() as usize).max(4);
    let g = ((lambda / (e * n as f64).log2()).floor() as usize).max(1);
    (m, g)
}

/// One key's row: its bin, its columns within the bin and `d`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct OkvsRow {
    pub(super) bin: usize,
    pub(super) cols: [usize; 3],
    pub(super) d: u128,
}

/// The row of `key` in a table of `bins` bins of `m` sparse columns.
pub(super) fn okvs_row(seed: &Block, m: usize, bins: usize, key: &Block) -> OkvsRow {
    let r_key = |j: u128| aes(seed, j).to_le_bytes();
    let r = [0, 1, 2].map(|j| {
        let mut b = Array::from(*key);
        Aes128::new(&Array::from(r_key(j))).encrypt_block(&mut b);
        u128::from_le_bytes(b.into())
    });
    let u = [
        r[0] as u64,
        (r[0] >> 64) as u64,
        r[1] as u64,
        (r[1] >> 64) as u64,
    ];
    let draw = |u: u64, bound: usize| ((u128::from(u) * bound as u128) >> 64) as usize;
    let c0 = draw(u[0], m);
    let i1 = draw(u[1], m - 1);
    let c1 = i1 + usize::from(i1 >= c0);
    let i2 = draw(u[2], m - 2);
    let (lo, hi) = (c0.min(c1), c0.max(c1));
    let mut c2 = i2 + usize::from(i2 >= lo);
    c2 += usize::from(c2 >= hi);
    OkvsRow {
        bin: draw(u[3], bins),
        cols: [c0, c1, c2],
        d: if r[2] == 0 { 1 } else { r[2] },
    }
}

/// `decode(P, k)` for the row of `k`.
pub(super) fn okvs_decode(p: &[u128], m: usize, g: usize, row: &OkvsRow) -> u128 {
    let base = row.bin * (m + g);
    let mut v = p[base + row.cols[0]] ^ p[base + row.cols[1]] ^ p[base + row.cols[2]];
    let mut power = 1u128;
    for j in 1..=g {
        power = mul(power, row.d);
        v ^= mul(power, p[base + m + j - 1]);
    }
    v
}

/// One bin's peeling: the rows (indices of keys) with their pivots in the order peeled, and
/// the gap.
pub(super) struct Peeling {
    pub(super) order: Vec<(usize, usize)>,
    pub(super) gap: Vec<usize>,
}

/// Step 1 of 8.6 for the rows `members` (ascending) of one bin of `m` sparse columns.
pub(super) fn okvs_peel(rows: &[OkvsRow], members: &[usize], m: usize) -> Peeling {
    let mut remaining: Vec<bool> = vec![true; rows.len()];
    let count = |c: usize, remaining: &[bool]| {
        members
            .iter()
            .filter(|&&i| remaining[i] && rows[i].cols.contains(&c))
            .count()
    };
    let mut stack: Vec<usize> = (0..m).filter(|&c| count(c, &remaining) == 1).collect();
    let mut order = Vec::new();
    while let Some(c) = stack.pop() {
        if count(c, &remaining) != 1 {
            continue;
        }
        let i = *members
            .iter()
            .find(|&&i| remaining[i] && rows[i].cols.contains(&c))
            .expect("one row");
        order.push((i, c));
        remaining[i] = false;
        for c2 in rows[i].cols {
            // Its count fell by one with this row: pushed if it is now one.
            if count(c2, &remaining) == 1 {
                stack.push(c2);
            }
        }
    }
    let gap = members.iter().copied().filter(|&i| remaining[i]).collect();
    Peeling { order, gap }
}

/// Encoding of 8.6, steps 1 to 4, its free columns drawn from `stream`: `P` and each bin's
/// peeling, or `None` on a failure.
pub(super) fn okvs_encode(
    seed: &Block,
    (m, g, bins): (usize, usize, usize),
    keys: &[Block],
    values: &[u128],
    stream: &mut Stream,
) -> Option<(Vec<u128>, Vec<Peeling>)> {
    let rows: Vec<OkvsRow> = keys.iter().map(|k| okvs_row(seed, m, bins, k)).collect();
    let w = m + g;
    let peelings: Vec<Peeling> = (0..bins)
        .map(|b| {
            let members: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].bin == b).collect();
            okvs_peel(&rows, &members, m)
        })
        .collect();
    if peelings.iter().any(|p| p.gap.len() > g) {
        return None;
    }
    let mut p = vec![0u128; bins * w];
    for (b, peeling) in peelings.iter().enumerate() {
        for c in 0..m {
            if !peeling.order.iter().any(|&(_, pivot)| pivot == c) {
                p[b * w + c] = u128::from_le_bytes(stream.block());
            }
        }
        for j in peeling.gap.len()..g {
            p[b * w + m + j] = u128::from_le_bytes(stream.block());
        }
    }
    for (b, peeling) in peelings.iter().enumerate() {
        // Step 3: Σ_{j ≤ |gap|} d_r^j · P[m' + j − 1] = v_r + decode(P, k_r), the first |gap|
        // dense columns still zero; Gauss–Jordan elimination.
        let n = peeling.gap.len();
        let mut mtx: Vec<Vec<u128>> = peeling
            .gap
            .iter()
            .map(|&i| {
                let mut row = Vec::new();
                let mut power = 1u128;
                for _ in 0..n {
                    power = mul(power, rows[i].d);
                    row.push(power);
                }
                row.push(values[i] ^ okvs_decode(&p, m, g, &rows[i]));
                row
            })
            .collect();
        for col in 0..n {
            let pivot = (col..n).find(|&r| mtx[r][col] != 0)?;
            mtx.swap(col, pivot);
            let inv = inverse(mtx[col][col]);
            mtx[col] = mtx[col].iter().map(|x| mul(*x, inv)).collect();
            for r in 0..n {
                if r != col {
                    let f = mtx[r][col];
                    let pivot_row = mtx[col].clone();
                    for (x, y) in mtx[r].iter_mut().zip(pivot_row) {
                        *x ^= mul(f, y);
                    }
                }
            }
        }
        for (j, row) in mtx.iter().enumerate() {
            p[b * w + m + j] = row[n];
        }
        // Step 4: back-substitution, last peeled first.
        for &(i, c) in peeling.order.iter().rev() {
            let fix = okvs_decode(&p, m, g, &rows[i]) ^ values[i];
            p[b * w + c] ^= fix;
        }
    }
    Some((p, peelings))
}

// ---------------------------------------------------------------------------------------------
// 8.7: the PSI's hashes.

/// `(key(item), h(item))`.
pub(super) fn item_hash(session: &[u8; 32], item: &[u8]) -> (Block, u128) {
    use sha2::Digest;
    let tag = b"blindmatch-v1-vole-psi-item-sha256";
    let mut h = sha2::Sha256::new();
    Digest::update(&mut h, (tag.len() as u32).to_be_bytes());
    Digest::update(&mut h, tag);
    Digest::update(&mut h, session);
    Digest::update(&mut h, (item.len() as u64).to_be_bytes());
    Digest::update(&mut h, item);
    let d = h.finalize();
    (first16(&d), u128::from_le_bytes(first16(&d[16..])))
}

/// The session's OKVS seed: the first 16 bytes of SHAKE256 of the tagged session id.
pub(super) fn okvs_seed(session: &[u8; 32]) -> Block {
    let tag = b"blindmatch-v1-vole-psi-okvs-seed";
    let mut x = sha3::Shake256::default();
    x.update(&(tag.len() as u32).to_be_bytes());
    x.update(tag);
    x.update(session);
    let mut seed = [0u8; 16];
    x.finalize_xof().read(&mut seed);
    seed
}

/// `ℓ = ceil((40 + b) / 8)`, `b` the bit length of `n_R·n_S − 1`.
pub(super) fn tag_len(n_r: usize, n_s: usize) -> usize {
    let x = (n_r * n_s - 1) as u128;
    let b = 128 - x.leading_zeros() as usize;
    (40 + b).div_ceil(8)
}

/// `H(z)` of 8.7 (all 16 bytes; a tag is its first `ℓ`).
pub(super) fn tag(session: &[u8; 32], z: u128) -> Block {
    let k_tag = first16(&sha3_tagged(b"blindmatch-v1-vole-psi-tag-key", &[session]));
    let (z0, z1) = (z as u64, (z >> 64) as u64);
    let sigma = u128::from(z1) + (u128::from(z0 ^ z1) << 64);
    (aes(&k_tag, sigma) ^ sigma).to_le_bytes()
}
