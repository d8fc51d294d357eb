//! The oblivious key-value store of RR22 (`protocol-spec/08-vole-psi.md` section 8.6): a
//! vector `P` over GF(2^128) such that `decode(P, k_i) = v_i` for every key-value pair encoded,
//! while `decode` of any other key gives a value that, once `P` is masked, is meaningless.
//!
//! This is the 3-hash garbled cuckoo table with dense columns of Raghuraman and Rindal ("Blazing
//! Fast PSI from Improved OKVS and Subfield VOLE", ACM CCS 2022, ePrint 2022/320, section 3),
//! with its sizes for weight 3 as volepsi's `PaxosParam` computes them: a key's row has three
//! distinct sparse positions in `m'` columns and a dense part `d, d^2, ..., d^g` over `g`
//! columns. Encoding peels the rows whose column has no other row (the 2-core of the hypergraph
//! stays), solves the at most `g` rows left (the *gap*) with the dense columns, whose
//! Vandermonde-like matrix is invertible, and back-substitutes the peeled rows in reverse
//! order. More than `g` gap rows happens with probability below `2^-λ` by RR22's sizes, which
//! are fitted to experiments (volepsi `PaxosParam::init`), not proved; encoding then fails (and
//! the session aborts) rather than leak.
//!
//! The keys are clustered into `B` bins, each its own table of the same sizes (RR22 section 3's
//! clustering, as volepsi's `Baxos` does it): a key's bin is drawn from its row's hash, each bin
//! is sized for the most keys any bin gets except with probability `2^-40` (a Chernoff bound)
//! at statistical security `40 + log2(B)` per bin, and the bins are encoded in parallel, each
//! in a few hundred KiB to a few MiB, so encoding no longer walks one table of the whole input.
//!
//! Not constant time: encoding and decoding index memory by the rows, which are hashes of the
//! items. The protocol's secrets that must not leak through timing (the VOLE's noise and `Δ`)
//! are handled in constant time in [`super::silent_vole`]; item-dependent memory access here
//! is the usual OKVS behaviour and visible only locally.
//!
//! The sizes of a table of `n` keys at statistical security `λ` (RR22 section 3; volepsi
//! `PaxosParam::init`, weight 3):
//! ```text
//! logλvsE = 0.555·log2(n) + 0.093·log2(3)^3 − 1.01·log2(3)^2 + 2.925·log2(3) − 0.133
//! e       = (λ + 9.2 + 2^logλvsE · 1.223) / 2^logλvsE
//! m'      = floor(n · e),   g = max(1, floor(λ / log2(e · n)))
//! ```

use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};
use aes::Aes128;

use super::gf128::{Gf128, MulTable};
use crate::error::{Error, Result};
use crate::protocol::Interrupt;

/// Sparse positions per row.
pub(crate) const WEIGHT: usize = 3;

/// Statistical security of an encoding: it fails with probability below `2^-40`.
pub(crate) const STATISTICAL_SECURITY: f64 = 40.0;

/// Keys per bin the encoder aims at (volepsi's `Baxos` bins are `2^14`; `2^16` keeps the
/// dense part at `g ≤ 2` columns per bin, so that decoding needs no general multiplication).
pub(crate) const BIN_TARGET: usize = 1 << 16;

/// The sizes of a clustered table: `bins` tables of `sparse + dense` columns each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OkvsParams {
    /// Keys `n`.
    pub(crate) items: usize,
    /// Sparse columns `m'` of each bin.
    pub(crate) sparse: usize,
    /// Dense columns `g` of each bin.
    pub(crate) dense: usize,
    /// Bins `B`.
    pub(crate) bins: usize,
}

/// `(m', g)` of one table of `n ≥ 1` keys at statistical security `lambda` (RR22 section 3,
/// volepsi `PaxosParam::init` for weight 3), in binary64.
fn table_sizes(n: usize, lambda: f64) -> (usize, usize) {
    let log_n = (n as f64).log2();
    let log_w = (WEIGHT as f64).log2();
    let log_lambda_vs_e =
        0.555 * log_n + 0.093 * log_w.powi(3) - 1.01 * log_w.powi(2) + 2.925 * log_w - 0.133;
    let lambda_vs_e = 2f64.powf(log_lambda_vs_e);
    let b = -9.2 - lambda_vs_e * 1.223;
    let e = (lambda - b) / lambda_vs_e;
    let sparse = ((n as f64) * e).floor() as usize;
    let dense = ((lambda / (e * n as f64).log2()).floor() as usize).max(1);
    (sparse.max(WEIGHT + 1), dense)
}

/// The most keys a bin gets, but with probability at most `2^-40`, when `n` keys fall into `B`
/// bins uniformly: the least `L ≥ n / B` with `B · exp(−μ·((1 + δ)·ln(1 + δ) − δ)) ≤ 2^-40`,
/// `μ = n / B` and `L = (1 + δ)·μ` (the multiplicative Chernoff bound and a union bound over
/// the bins); `n` itself for one bin.
fn max_bin_load(n: usize, bins: usize) -> usize {
    if bins <= 1 {
        return n;
    }
    let mu = n as f64 / bins as f64;
    let target = -STATISTICAL_SECURITY * std::f64::consts::LN_2 - (bins as f64).ln();
    let bound = |l: usize| {
        let delta = l as f64 / mu - 1.0;
        -mu * ((1.0 + delta) * (1.0 + delta).ln() - delta)
    };
    let mut l = mu.ceil() as usize;
    while l < n && bound(l) > target {
        l += 1;
    }
    l
}

impl OkvsParams {
    /// The sizes for `n ≥ 1` keys: `B = ceil(n / 2^16)` bins, each a table of
    /// [`table_sizes`]`(L, 40 + log2(B))` for the bound `L` of [`max_bin_load`].
    ///
    /// # Errors
    /// [`Error::Internal`] for no keys or more than 2^32.
    pub(crate) fn new(n: usize) -> Result<Self> {
        if n == 0 || n > 1 << 32 {
            return Err(Error::Internal(format!("an OKVS of {n} keys")));
        }
        let bins = n.div_ceil(BIN_TARGET);
        let load = max_bin_load(n, bins);
        let (sparse, dense) = table_sizes(load, STATISTICAL_SECURITY + (bins as f64).log2());
        Ok(OkvsParams {
            items: n,
            sparse,
            dense,
            bins,
        })
    }

    /// Columns of one bin: `m' + g`.
    pub(crate) fn bin_len(&self) -> usize {
        self.sparse + self.dense
    }

    /// Length of an encoding: `B · (m' + g)`.
    pub(crate) fn len(&self) -> usize {
        self.bins * self.bin_len()
    }
}

/// One key's row: its bin, three distinct sparse columns (indices into the whole encoding) and
/// the dense value `d ≠ 0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Row {
    bin: usize,
    cols: [usize; WEIGHT],
    dense: Gf128,
}

/// The three fixed-key permutations of a table: `R_j = AES-128_seed(I2OSP_LE(j, 16))` for
/// `j = 0, 1, 2`, each used as the key of `AES-128_{R_j}` (spec 8.6).
struct RowCiphers([Aes128; 3]);

impl RowCiphers {
    fn new(seed: &[u8; 16]) -> Self {
        let master = Aes128::new(&Array::from(*seed));
        RowCiphers([0u128, 1, 2].map(|j| {
            let mut k = Array::from(j.to_le_bytes());
            master.encrypt_block(&mut k);
            Aes128::new(&k)
        }))
    }
}

/// Keys whose rows are made in one batch of AES blocks.
const ROW_BATCH: usize = 1024;

/// `floor(u · bound / 2^64)`.
fn scale(u: u64, bound: usize) -> usize {
    ((u128::from(u) * bound as u128) >> 64) as usize
}

/// The rows of `keys` (spec 8.6): `r_j = AES-128_{R_j}(key)` for `j = 0, 1, 2`; `u_0`, `u_1`
/// are the low and high halves of `r_0`, `u_2`, `u_3` those of `r_1` (little-endian); the bin
/// is `b = floor(u_3 · B / 2^64)`; within it the columns are `c_0 = floor(u_0 · m' / 2^64)`,
/// then `i_1 = floor(u_1 · (m' − 1) / 2^64)` and `c_1 = i_1 + [i_1 ≥ c_0]`, then
/// `i_2 = floor(u_2 · (m' − 2) / 2^64)` counted past the two columns taken
/// (`c_2 = i_2 + [i_2 ≥ lo]`, then `+ [c_2 ≥ hi]`, `lo < hi` the two), each at `b · (m' + g)`
/// in the encoding; `d` is `r_2` (1 if `r_2` is zero).
///
/// This is fixed-key AES used as a public random permutation per `R_j`, as Guo, Katz, Wang and
/// Yu analyse it ("Efficient and Secure Multiparty Computation from Fixed-Key Block Ciphers",
/// IEEE S&P 2020) and as volepsi's `Paxos` derives its rows: the keys are already uniformly
/// random (hashes of the items, spec 8.7), so the rows of distinct keys are independent and
/// uniform, which is all the sizes of RR22 assume.
fn rows(params: &OkvsParams, seed: &[u8; 16], keys: &[[u8; 16]]) -> Vec<Row> {
    use rayon::prelude::*;
    let ciphers = RowCiphers::new(seed);
    let m = params.sparse;
    let width = params.bin_len();
    keys.par_chunks(ROW_BATCH)
        .flat_map_iter(|chunk| {
            let blocks: Vec<Array<u8, aes::cipher::consts::U16>> =
                chunk.iter().map(|k| Array::from(*k)).collect();
            let mut out = [blocks.clone(), blocks.clone(), blocks];
            for (c, b) in ciphers.0.iter().zip(out.iter_mut()) {
                c.encrypt_blocks(b);
            }
            let [r0, r1, r2] = out;
            (0..chunk.len())
                .map(|i| {
                    let a = u128::from_le_bytes(r0[i].into());
                    let b = u128::from_le_bytes(r1[i].into());
                    let d = u128::from_le_bytes(r2[i].into());
                    let bin = scale((b >> 64) as u64, params.bins);
                    let c0 = scale(a as u64, m);
                    let i1 = scale((a >> 64) as u64, m - 1);
                    let c1 = i1 + usize::from(i1 >= c0);
                    let (lo, hi) = (c0.min(c1), c0.max(c1));
                    let mut c2 = scale(b as u64, m - 2);
                    c2 += usize::from(c2 >= lo);
                    c2 += usize::from(c2 >= hi);
                    let base = bin * width;
                    Row {
                        bin,
                        cols: [base + c0, base + c1, base + c2],
                        dense: Gf128(if d == 0 { 1 } else { d }),
                    }
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `d, d^2, ..., d^g`.
fn powers(d: Gf128, g: usize) -> Vec<Gf128> {
    let mut out = Vec::with_capacity(g);
    let mut x = d;
    for _ in 0..g {
        out.push(x);
        x = x * d;
    }
    out
}

/// Multiplication tables of the dense columns of every bin (`tables[b · g + j]` for column
/// `m' + j` of bin `b`), indexed by the rows' dense values, which the memory accesses of
/// decoding reveal anyway through the columns (see the module's note on timing).
struct DenseTables {
    dense: usize,
    tables: Vec<MulTable>,
}

impl DenseTables {
    fn new(params: &OkvsParams, p: &[Gf128]) -> Self {
        use rayon::prelude::*;
        let tables = (0..params.bins * params.dense)
            .into_par_iter()
            .map(|t| {
                let (b, j) = (t / params.dense, t % params.dense);
                MulTable::new(p[b * params.bin_len() + params.sparse + j])
            })
            .collect();
        DenseTables {
            dense: params.dense,
            tables,
        }
    }

    /// `Σ_j d^(j+1) · P[bin's m' + j]`: `d` and `d^2` (a squaring, linear and cheap) by table,
    /// higher powers by the constant-time multiplication.
    fn dense_part(&self, r: &Row) -> Gf128 {
        if self.dense == 0 {
            return Gf128::ZERO;
        }
        let tables = &self.tables[r.bin * self.dense..(r.bin + 1) * self.dense];
        let mut v = tables[0].mul(r.dense);
        if self.dense > 1 {
            let mut x = r.dense.square();
            v += tables[1].mul(x);
            for t in &tables[2..] {
                x = x * r.dense;
                v += t.mul(x);
            }
        }
        v
    }
}

/// `decode(P, row)` with the dense part from [`DenseTables`].
fn decode_row(p: &[Gf128], tables: &DenseTables, r: &Row) -> Gf128 {
    p[r.cols[0]] + p[r.cols[1]] + p[r.cols[2]] + tables.dense_part(r)
}

/// The value `P` decodes `key` to.
#[cfg(test)]
pub(crate) fn decode(params: &OkvsParams, seed: &[u8; 16], p: &[Gf128], key: &[u8; 16]) -> Gf128 {
    decode_all(
        params,
        seed,
        p,
        std::slice::from_ref(key),
        &Interrupt::new(),
    )
    .expect("never interrupted")[0]
}

/// The values `P` decodes `keys` to, in parallel.
///
/// # Errors
/// [`Error::Cancelled`] once `stop` is raised (checked before each bin).
pub(crate) fn decode_all(
    params: &OkvsParams,
    seed: &[u8; 16],
    p: &[Gf128],
    keys: &[[u8; 16]],
    stop: &Interrupt,
) -> Result<Vec<Gf128>> {
    use rayon::prelude::*;
    let tables = DenseTables::new(params, p);
    let rows = rows(params, seed, keys);
    if params.bins == 1 {
        return Ok(rows.par_iter().map(|r| decode_row(p, &tables, r)).collect());
    }
    // Bin by bin, so that each bin's columns and tables stay in the caches while its keys are
    // decoded; then back in the keys' order.
    let (starts, members) = by_bin(params.bins, &rows);
    let per_bin: Vec<Vec<Gf128>> = (0..params.bins)
        .into_par_iter()
        .map(|b| {
            stop.check()?;
            Ok(members[starts[b]..starts[b + 1]]
                .iter()
                .map(|&i| decode_row(p, &tables, &rows[i as usize]))
                .collect())
        })
        .collect::<Result<_>>()?;
    let mut out = vec![Gf128::ZERO; rows.len()];
    for (&i, v) in members.iter().zip(per_bin.iter().flatten()) {
        out[i as usize] = *v;
    }
    Ok(out)
}

/// The rows of each bin, ascending (a counting sort): bin `b`'s are
/// `members[starts[b] .. starts[b + 1]]`.
fn by_bin(bins: usize, rows: &[Row]) -> (Vec<usize>, Vec<u32>) {
    let mut starts = vec![0usize; bins + 1];
    for r in rows {
        starts[r.bin + 1] += 1;
    }
    for b in 0..bins {
        starts[b + 1] += starts[b];
    }
    let mut members = vec![0u32; rows.len()];
    let mut fill = starts.clone();
    for (i, r) in rows.iter().enumerate() {
        members[fill[r.bin]] = i as u32;
        fill[r.bin] += 1;
    }
    (starts, members)
}

/// One bin after peeling: the rows (indices into the keys) in the order they were peeled with
/// their pivots (columns within the bin), and the rows left in the 2-core.
struct Peeled {
    order: Vec<(u32, usize)>,
    gap: Vec<u32>,
}

/// Peels one bin (spec 8.6 step 1) of `m` sparse columns whose rows are `members` (indices into
/// `rows`, ascending), with columns `base ..`.
fn peel(rows: &[Row], members: &[u32], base: usize, m: usize) -> Peeled {
    let local = |c: usize| c - base;
    // Column → rows (compressed), and the degree of every column.
    let mut degree = vec![0u32; m];
    for &i in members {
        for &c in &rows[i as usize].cols {
            degree[local(c)] += 1;
        }
    }
    let mut start = vec![0usize; m + 1];
    for c in 0..m {
        start[c + 1] = start[c] + degree[c] as usize;
    }
    let mut fill = start.clone();
    let mut col_rows = vec![0u32; members.len() * WEIGHT];
    for (k, &i) in members.iter().enumerate() {
        for &c in &rows[i as usize].cols {
            col_rows[fill[local(c)]] = k as u32;
            fill[local(c)] += 1;
        }
    }
    // Peeling: a column with one remaining row pivots that row.
    let mut removed = vec![false; members.len()];
    let mut order: Vec<(u32, usize)> = Vec::with_capacity(members.len());
    let mut queue: Vec<usize> = (0..m).filter(|&c| degree[c] == 1).collect();
    while let Some(c) = queue.pop() {
        if degree[c] != 1 {
            continue;
        }
        let Some(&k) = col_rows[start[c]..start[c + 1]]
            .iter()
            .find(|&&k| !removed[k as usize])
        else {
            continue;
        };
        removed[k as usize] = true;
        let i = members[k as usize];
        order.push((i, c));
        for &c2 in &rows[i as usize].cols {
            let c2 = local(c2);
            degree[c2] -= 1;
            if degree[c2] == 1 {
                queue.push(c2);
            }
        }
    }
    let gap = members
        .iter()
        .zip(&removed)
        .filter(|(_, r)| !**r)
        .map(|(&i, _)| i)
        .collect();
    Peeled { order, gap }
}

/// Encodes `values[i]` under `keys[i]` (distinct keys): `P` of [`OkvsParams::len`] entries.
/// The bins are peeled in parallel; then every column no row determines is drawn uniformly (16
/// bytes each; bin by bin, in each the sparse columns in ascending order, then the dense
/// columns the gap does not use); then each bin's gap is solved and its rows back-substituted,
/// in parallel. Privacy does not rest on these draws: in the PSI the VOLE's `A` masks `P`
/// entirely.
///
/// # Errors
/// [`Error::Internal`] if the counts disagree, or if a bin cannot be solved: more gap rows than
/// dense columns (below `2^-40` by the fitted sizes), or two keys with the same row (repeated
/// keys, which callers never pass, or a hash collision); [`Error::Cancelled`] once `stop` is
/// raised (checked before each bin's peeling and solving).
pub(crate) fn encode<R: rand_core::CryptoRng + ?Sized>(
    params: &OkvsParams,
    seed: &[u8; 16],
    keys: &[[u8; 16]],
    values: &[Gf128],
    rng: &mut R,
    stop: &Interrupt,
) -> Result<Vec<Gf128>> {
    use rayon::prelude::*;
    if keys.len() != params.items || values.len() != params.items {
        return Err(Error::Internal(
            "OKVS keys, values and size disagree".into(),
        ));
    }
    let rows = rows(params, seed, keys);
    let (m, g, width) = (params.sparse, params.dense, params.bin_len());

    // The keys of each bin, ascending.
    let (counts, members) = by_bin(params.bins, &rows);
    let peeled: Vec<Peeled> = (0..params.bins)
        .into_par_iter()
        .map(|b| {
            stop.check()?;
            Ok(peel(
                &rows,
                &members[counts[b]..counts[b + 1]],
                b * width,
                m,
            ))
        })
        .collect::<Result<_>>()?;
    for (b, bin) in peeled.iter().enumerate() {
        if bin.gap.len() > g {
            return Err(Error::Internal(format!(
                "OKVS bin {b} has {} rows in its 2-core and {g} dense columns (probability \
                 below 2^-40)",
                bin.gap.len()
            )));
        }
    }

    // The free columns, bin by bin.
    let mut p = vec![Gf128::ZERO; params.len()];
    let mut pivot = vec![false; m];
    for (b, bin) in peeled.iter().enumerate() {
        pivot.iter_mut().for_each(|x| *x = false);
        for &(_, c) in &bin.order {
            pivot[c] = true;
        }
        let cols = &mut p[b * width..(b + 1) * width];
        for (c, is_pivot) in pivot.iter().enumerate() {
            if !is_pivot {
                cols[c] = Gf128::from_le_bytes(crate::protocol::draw::array(rng));
            }
        }
        for k in bin.gap.len()..g {
            cols[m + k] = Gf128::from_le_bytes(crate::protocol::draw::array(rng));
        }
    }

    // Each bin: the gap from the dense columns, then back-substitution, last peeled first.
    p.par_chunks_mut(width)
        .zip(peeled.par_iter())
        .enumerate()
        .try_for_each(|(b, (cols, bin))| -> Result<()> {
            stop.check()?;
            let base = b * width;
            let sparse_sum = |cols: &[Gf128], r: &Row| {
                cols[r.cols[0] - base] + cols[r.cols[1] - base] + cols[r.cols[2] - base]
            };
            if !bin.gap.is_empty() {
                let gl = bin.gap.len();
                // Solve M·D = v over the first |gap| dense columns, M[i][k] = d_i^(k+1); the
                // unused dense columns are already drawn.
                let mut mtx: Vec<Vec<Gf128>> = bin
                    .gap
                    .iter()
                    .map(|&i| powers(rows[i as usize].dense, gl))
                    .collect();
                let mut rhs: Vec<Gf128> = bin
                    .gap
                    .iter()
                    .map(|&i| {
                        let r = &rows[i as usize];
                        let pw = powers(r.dense, g);
                        let mut v = values[i as usize] + sparse_sum(cols, r);
                        for k in gl..g {
                            v += pw[k] * cols[m + k];
                        }
                        v
                    })
                    .collect();
                let solution = solve(&mut mtx, &mut rhs).ok_or_else(|| {
                    Error::Internal(
                        "the OKVS gap rows are dependent (repeated keys, or probability below \
                         2^-40)"
                            .into(),
                    )
                })?;
                cols[m..m + gl].copy_from_slice(&solution);
            }
            let tables: Vec<MulTable> = cols[m..].iter().map(|x| MulTable::new(*x)).collect();
            let dense = DenseTables { dense: g, tables };
            for &(i, c) in bin.order.iter().rev() {
                let r = &rows[i as usize];
                let local = Row { bin: 0, ..*r };
                let current = sparse_sum(cols, r) + dense.dense_part(&local);
                cols[c] += current + values[i as usize];
            }
            Ok(())
        })?;
    Ok(p)
}

/// Gaussian elimination over GF(2^128) of a square system; `None` if it is singular.
fn solve(mtx: &mut [Vec<Gf128>], rhs: &mut [Gf128]) -> Option<Vec<Gf128>> {
    let g = rhs.len();
    for col in 0..g {
        let pivot = (col..g).find(|&r| mtx[r][col] != Gf128::ZERO)?;
        mtx.swap(col, pivot);
        rhs.swap(col, pivot);
        let inv = mtx[col][col].invert();
        for x in mtx[col].iter_mut() {
            *x = *x * inv;
        }
        rhs[col] = rhs[col] * inv;
        for r in 0..g {
            if r != col && mtx[r][col] != Gf128::ZERO {
                let f = mtx[r][col];
                let pivot_row = mtx[col].clone();
                for (x, p) in mtx[r].iter_mut().zip(&pivot_row) {
                    *x += f * *p;
                }
                let t = f * rhs[col];
                rhs[r] += t;
            }
        }
    }
    Some(rhs.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng() -> crate::protocol::vector_rng::VectorRng {
        crate::protocol::vector_rng::VectorRng::new(b"okvs test")
    }

    fn keys(n: usize, salt: u8) -> Vec<[u8; 16]> {
        (0..n as u64)
            .map(|i| {
                let mut k = [salt; 16];
                k[..8].copy_from_slice(&i.to_le_bytes());
                k
            })
            .collect()
    }

    fn values(n: usize) -> Vec<Gf128> {
        (0..n as u128)
            .map(|i| Gf128((i + 7).wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)))
            .collect()
    }

    fn round_trip(n: usize) {
        let params = OkvsParams::new(n).expect("params");
        let seed = [n as u8; 16];
        let (k, v) = (keys(n, 1), values(n));
        let p = encode(&params, &seed, &k, &v, &mut rng(), &Interrupt::new()).expect("encodes");
        assert_eq!(p.len(), params.len());
        let all = decode_all(&params, &seed, &p, &k, &Interrupt::new()).expect("decodes");
        for i in 0..n {
            assert_eq!(all[i], v[i], "key {i} of {n}");
        }
        assert_eq!(decode(&params, &seed, &p, &k[n - 1]), v[n - 1]);
        // Other keys decode to something else.
        let others =
            decode_all(&params, &seed, &p, &keys(64, 2), &Interrupt::new()).expect("decodes");
        let ours: std::collections::HashSet<Gf128> = v.iter().copied().collect();
        assert!(others.iter().all(|o| !ours.contains(o)));
    }

    #[test]
    fn every_key_decodes_to_its_value() {
        for n in [1, 2, 3, 5, 10, 100, 1000, 4097] {
            round_trip(n);
        }
    }

    #[test]
    fn a_large_table_round_trips() {
        round_trip(1 << 16);
    }

    #[test]
    fn sizes_follow_the_formula() {
        let p = OkvsParams::new(1 << 20).expect("params");
        assert_eq!((p.bins, p.dense), (16, 2), "{p:?}");
        let load = max_bin_load(1 << 20, 16);
        assert!((66_000..69_000).contains(&load), "load {load}");
        let e = (p.bins * p.sparse) as f64 / f64::from(1 << 20);
        assert!((1.25..1.40).contains(&e), "expansion {e} ({p:?})");
        // One bin up to 2^16 keys: the table of RR22 at 40 bits.
        let one = OkvsParams::new(1 << 16).expect("params");
        assert_eq!((one.bins, one.dense), (1, 2));
        assert_eq!((one.sparse, one.dense), table_sizes(1 << 16, 40.0));
        let small = OkvsParams::new(100).expect("params");
        assert!(small.dense >= 4 && small.sparse >= 150, "{small:?}");
        assert_eq!(small.bins, 1);
        assert_eq!(OkvsParams::new((1 << 16) + 1).expect("params").bins, 2);
        assert!(matches!(OkvsParams::new(0), Err(Error::Internal(_))));
        // The load bound: at least the mean, all the keys for one bin, and growing with n.
        assert_eq!(max_bin_load(1000, 1), 1000);
        assert!(max_bin_load(1 << 20, 64) > (1 << 14));
        assert!(max_bin_load(1 << 21, 16) > max_bin_load(1 << 20, 16));
    }

    #[test]
    fn keys_spread_over_the_bins_within_the_bound() {
        let params = OkvsParams::new(600_000).expect("params");
        assert_eq!(params.bins, 10);
        let mut load = vec![0usize; params.bins];
        for r in rows(&params, &[7; 16], &keys(600_000, 3)) {
            load[r.bin] += 1;
            let base = r.bin * params.bin_len();
            assert!(r
                .cols
                .iter()
                .all(|&c| (base..base + params.sparse).contains(&c)));
        }
        let bound = max_bin_load(600_000, 10);
        assert!(
            load.iter().all(|&l| l > 55_000 && l <= bound),
            "{load:?}, bound {bound}"
        );
    }

    #[test]
    fn a_clustered_table_round_trips() {
        // Four bins.
        let n = 200_003;
        assert_eq!(OkvsParams::new(n).expect("params").bins, 4);
        round_trip(n);
    }

    #[test]
    fn the_gap_is_solved_with_the_dense_columns() {
        // Few keys in a table forced small: their rows form a 2-core the dense part must solve.
        let mut params = OkvsParams::new(4).expect("params");
        params.sparse = 4;
        params.dense = 4;
        let seed = [3u8; 16];
        let (k, v) = (keys(4, 9), values(4));
        let p = encode(&params, &seed, &k, &v, &mut rng(), &Interrupt::new()).expect("encodes");
        for i in 0..4 {
            assert_eq!(decode(&params, &seed, &p, &k[i]), v[i]);
        }
        // With no dense column the same keys cannot be encoded.
        params.dense = 0;
        params.items = 4;
        assert!(matches!(
            encode(&params, &seed, &k, &v, &mut rng(), &Interrupt::new()),
            Err(Error::Internal(_))
        ));
    }

    #[test]
    fn rows_have_distinct_columns() {
        let params = OkvsParams::new(10).expect("params");
        for r in rows(&params, &[0; 16], &keys(5000, 4)) {
            assert!(r.cols[0] != r.cols[1] && r.cols[1] != r.cols[2] && r.cols[0] != r.cols[2]);
            assert!(r.cols.iter().all(|&c| c < params.sparse));
        }
        // The smallest table: every row takes three of the four columns, each of them.
        let mut tiny = params;
        tiny.sparse = 4;
        let mut seen = [0usize; 4];
        for r in rows(&tiny, &[1; 16], &keys(4000, 5)) {
            for c in r.cols {
                seen[c] += 1;
            }
        }
        assert!(seen.iter().all(|&n| n > 2700), "{seen:?}");
    }

    /// Rows rebuilt from spec 8.6 with the `aes` crate alone.
    #[test]
    fn rows_follow_the_spec() {
        use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};
        let params = OkvsParams::new(777).expect("params");
        let seed = [0x42u8; 16];
        let ks = keys(3000, 6);
        let got = rows(&params, &seed, &ks);
        let master = aes::Aes128::new(&Array::from(seed));
        let r: Vec<aes::Aes128> = (0u128..3)
            .map(|j| {
                let mut b = Array::from(j.to_le_bytes());
                master.encrypt_block(&mut b);
                aes::Aes128::new(&b)
            })
            .collect();
        let m = params.sparse as u128;
        for (k, row) in ks.iter().zip(&got) {
            let enc = |j: usize| {
                let mut b = Array::from(*k);
                r[j].encrypt_block(&mut b);
                u128::from_le_bytes(b.into())
            };
            let (r0, r1, r2) = (enc(0), enc(1), enc(2));
            let u = [r0 as u64, (r0 >> 64) as u64, r1 as u64];
            let draw = |u: u64, bound: u128| ((u128::from(u) * bound) >> 64) as usize;
            let c0 = draw(u[0], m);
            let i1 = draw(u[1], m - 1);
            let c1 = if i1 >= c0 { i1 + 1 } else { i1 };
            // i_2 counted past the two columns taken: the i_2-th free column.
            let i2 = draw(u[2], m - 2);
            let c2 = (0..params.sparse)
                .filter(|c| *c != c0 && *c != c1)
                .nth(i2)
                .expect("a free column");
            assert_eq!(row.cols, [c0, c1, c2]);
            assert_eq!(row.dense, Gf128(if r2 == 0 { 1 } else { r2 }));
        }
    }

    #[test]
    fn a_raised_interrupt_stops_encoding_and_decoding() {
        let stop = Interrupt::new();
        stop.raise(crate::error::CancelReason::Dropped);
        // Two bins, so that decoding goes bin by bin.
        let n = (1 << 16) + 1;
        let params = OkvsParams::new(n).expect("params");
        assert!(params.bins > 1);
        let (k, v) = (keys(n, 3), values(n));
        let cancelled = |r: Result<Vec<Gf128>>| {
            matches!(
                r,
                Err(Error::Cancelled(crate::error::CancelReason::Dropped))
            )
        };
        assert!(cancelled(encode(
            &params,
            &[1; 16],
            &k,
            &v,
            &mut rng(),
            &stop
        )));
        let p = vec![Gf128::ZERO; params.len()];
        assert!(cancelled(decode_all(&params, &[1; 16], &p, &k, &stop)));
    }

    const VECTOR_PATH: &str = "protocol-spec/vectors/vole-okvs.json";

    /// The vector's two tables (spec 8.6.1): seed label, keys, and the sizes `(m', g, B)`,
    /// `None` for those of [`OkvsParams::new`].
    /// `(m', g, B)` given by the vector, rather than computed.
    type Sizes = Option<(usize, usize, usize)>;

    const VECTOR_CASES: [(&str, usize, Sizes); 2] = [
        ("vole/okvs", 40, None),
        ("vole/okvs-gap", 10, Some((12, 6, 1))),
    ];

    fn generate_case(label: &str, n: usize, sizes: Sizes) -> serde_json::Value {
        use crate::protocol::draw;
        use crate::vole::vectors::hex;
        let params = match sizes {
            None => OkvsParams::new(n).expect("params"),
            Some((sparse, dense, bins)) => OkvsParams {
                items: n,
                sparse,
                dense,
                bins,
            },
        };
        let mut rng = crate::protocol::vector_rng::VectorRng::new(label.as_bytes());
        let seed: [u8; 16] = draw::array(&mut rng);
        let keys = draw::byte_strings::<16, _>(&mut rng, n);
        let values: Vec<Gf128> = (0..n)
            .map(|_| Gf128::from_le_bytes(draw::array(&mut rng)))
            .collect();
        let rows = rows(&params, &seed, &keys);
        let (starts, members) = by_bin(params.bins, &rows);
        let peelings: Vec<serde_json::Value> = (0..params.bins)
            .map(|b| {
                let peeled = peel(
                    &rows,
                    &members[starts[b]..starts[b + 1]],
                    b * params.bin_len(),
                    params.sparse,
                );
                serde_json::json!({ "order": peeled.order, "gap": peeled.gap })
            })
            .collect();
        let p =
            encode(&params, &seed, &keys, &values, &mut rng, &Interrupt::new()).expect("encodes");
        let width = params.bin_len();
        serde_json::json!({
            "seed_label": label,
            "n": n,
            "sparse": params.sparse,
            "dense": params.dense,
            "bins": params.bins,
            "seed": hex(&seed),
            "keys": keys.iter().map(|k| hex(k)).collect::<Vec<_>>(),
            "values": values.iter().map(|v| hex(&v.to_le_bytes())).collect::<Vec<_>>(),
            "rows": rows.iter().map(|r| serde_json::json!({
                "bin": r.bin,
                "columns": r.cols.map(|c| c - r.bin * width),
                "d": hex(&r.dense.to_le_bytes()),
            })).collect::<Vec<_>>(),
            "peeling": peelings,
            "p": p.iter().map(|x| hex(&x.to_le_bytes())).collect::<Vec<_>>(),
        })
    }

    #[test]
    fn the_committed_vector_is_what_the_library_produces() {
        let produced = serde_json::json!({
            "description": "blindmatch OKVS (protocol-spec/08-vole-psi.md 8.6): two tables, each from the vector stream of its seed label; the second smaller than 8.6's sizes so that four rows stay in the 2-core",
            "cases": VECTOR_CASES
                .iter()
                .map(|&(label, n, sizes)| generate_case(label, n, sizes))
                .collect::<Vec<_>>(),
        });
        crate::vole::vectors::check_committed(VECTOR_PATH, &produced);
    }

    /// Rebuilt from spec 8.6 (`spec_model`: the `aes` crate, and `Gf128`'s multiplication for
    /// the field): the sizes, every row, the peeling, and `P` by re-running the encoder from
    /// the stream; and `decode(P, k_i) = v_i` for every key.
    #[test]
    fn the_committed_vector_follows_from_the_spec() {
        use crate::vole::spec_model::{self as spec, Stream};
        let v = crate::vole::vectors::read(VECTOR_PATH);
        let unhex = |x: &serde_json::Value| -> [u8; 16] {
            hex::decode(x.as_str().expect("hex"))
                .expect("hex")
                .try_into()
                .expect("16 bytes")
        };
        let int = |x: &serde_json::Value| x.as_u64().expect("integer") as usize;
        let cases = v["cases"].as_array().expect("cases");
        assert_eq!(cases.len(), VECTOR_CASES.len());
        let mut gaps = Vec::new();
        for (case, &(label, n, sizes)) in cases.iter().zip(&VECTOR_CASES) {
            assert_eq!(case["seed_label"].as_str(), Some(label));
            assert_eq!(int(&case["n"]), n);
            let (m, g, bins) = sizes.unwrap_or_else(|| {
                // One bin below 2^16 keys, its table T(n, 40).
                let (m, g) = spec::okvs_table(n, 40.0);
                (m, g, n.div_ceil(1 << 16))
            });
            assert_eq!(
                (
                    int(&case["sparse"]),
                    int(&case["dense"]),
                    int(&case["bins"])
                ),
                (m, g, bins),
                "{label}: sizes"
            );

            let mut stream = Stream::new(label.as_bytes());
            let seed = stream.block();
            let keys: Vec<[u8; 16]> = (0..n).map(|_| stream.block()).collect();
            let values: Vec<u128> = (0..n)
                .map(|_| u128::from_le_bytes(stream.block()))
                .collect();
            assert_eq!(unhex(&case["seed"]), seed);
            for i in 0..n {
                assert_eq!(unhex(&case["keys"][i]), keys[i], "{label}: key {i}");
                assert_eq!(
                    u128::from_le_bytes(unhex(&case["values"][i])),
                    values[i],
                    "{label}: value {i}"
                );
                let row = spec::okvs_row(&seed, m, bins, &keys[i]);
                let listed = &case["rows"][i];
                assert_eq!(int(&listed["bin"]), row.bin, "{label}: row {i}");
                let cols: Vec<usize> = listed["columns"]
                    .as_array()
                    .expect("columns")
                    .iter()
                    .map(int)
                    .collect();
                assert_eq!(cols, row.cols, "{label}: row {i}");
                assert_eq!(
                    u128::from_le_bytes(unhex(&listed["d"])),
                    row.d,
                    "{label}: row {i}"
                );
            }

            let (p, peelings) = spec::okvs_encode(&seed, (m, g, bins), &keys, &values, &mut stream)
                .expect("encodes");
            let listed_p: Vec<u128> = case["p"]
                .as_array()
                .expect("p")
                .iter()
                .map(|x| u128::from_le_bytes(unhex(x)))
                .collect();
            assert_eq!(listed_p.len(), bins * (m + g));
            assert_eq!(listed_p, p, "{label}: P");
            for (b, peeling) in peelings.iter().enumerate() {
                let listed = &case["peeling"][b];
                let order: Vec<(usize, usize)> = listed["order"]
                    .as_array()
                    .expect("order")
                    .iter()
                    .map(|x| (int(&x[0]), int(&x[1])))
                    .collect();
                assert_eq!(order, peeling.order, "{label}: bin {b}, peeling");
                let gap: Vec<usize> = listed["gap"]
                    .as_array()
                    .expect("gap")
                    .iter()
                    .map(int)
                    .collect();
                assert_eq!(gap, peeling.gap, "{label}: bin {b}, gap");
                gaps.push(gap.len());
            }
            for i in 0..n {
                let row = spec::okvs_row(&seed, m, bins, &keys[i]);
                assert_eq!(
                    spec::okvs_decode(&listed_p, m, g, &row),
                    values[i],
                    "{label}: decode key {i}"
                );
            }
        }
        // The first table peels entirely; the second leaves four rows for the dense columns.
        assert_eq!(gaps, [0, 4]);
    }
}
