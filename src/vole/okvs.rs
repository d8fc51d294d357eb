//! The oblivious key-value store of RR22 (`protocol-spec/08-vole-psi.md` section 8.6): a
//! vector `P` over GF(2^128) such that `decode(P, k_i) = v_i` for every key-value pair encoded,
//! while `decode` of any other key gives a value that, once `P` is masked, is meaningless.
//!
//! This is the 3-hash garbled cuckoo table with dense columns of Raghuraman and Rindal ("Blazing
//! Fast PSI from Improved OKVS and Subfield VOLE", ACM CCS 2022, ePrint 2022/320, section 3),
//! with its sizes for weight 3 and 40-bit statistical security as volepsi's `PaxosParam`
//! computes them: a key's row has three distinct sparse positions in `m'` columns and a dense
//! part `d, d^2, ..., d^g` over `g` columns. Encoding peels the rows whose column has no other
//! row (the 2-core of the hypergraph stays), solves the at most `g` rows left (the *gap*) with
//! the dense columns, whose Vandermonde-like matrix is invertible, and back-substitutes the
//! peeled rows in reverse order. More than `g` gap rows happens with probability below `2^-40`
//! by RR22's sizes, which are fitted to experiments (volepsi `PaxosParam::init`), not proved;
//! encoding then fails (and the session aborts) rather than leak.
//!
//! Not constant time: encoding and decoding index memory by the rows, which are hashes of the
//! items. The protocol's secrets that must not leak through timing (the VOLE's noise and `Δ`)
//! are handled in constant time in [`super::silent_vole`]; item-dependent memory access here
//! is the usual OKVS behaviour and visible only locally.
//!
//! The sizes (RR22 section 3; volepsi `PaxosParam::init`, weight 3):
//! ```text
//! logλvsE = 0.555·log2(n) + 0.093·log2(3)^3 − 1.01·log2(3)^2 + 2.925·log2(3) − 0.133
//! e       = (40 + 9.2 + 2^logλvsE · 1.223) / 2^logλvsE
//! m'      = floor(n · e),   g = max(1, floor(40 / log2(e · n)))
//! ```
//! Not yet done: the clustering of RR22 (splitting the keys into bins of a few thousand, each its
//! own table, for cache locality and parallel encoding).

use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};
use aes::Aes128;

use super::gf128::{Gf128, MulTable};
use crate::error::{Error, Result};

/// Sparse positions per row.
pub(crate) const WEIGHT: usize = 3;

/// The sizes of one table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct OkvsParams {
    /// Keys `n`.
    pub(crate) items: usize,
    /// Sparse columns `m'`.
    pub(crate) sparse: usize,
    /// Dense columns `g`.
    pub(crate) dense: usize,
}

impl OkvsParams {
    /// The sizes for `n ≥ 1` keys.
    ///
    /// # Errors
    /// [`Error::Internal`] for no keys or more than 2^32.
    pub(crate) fn new(n: usize) -> Result<Self> {
        if n == 0 || n > 1 << 32 {
            return Err(Error::Internal(format!("an OKVS of {n} keys")));
        }
        let log_n = (n as f64).log2();
        let log_w = (WEIGHT as f64).log2();
        let log_lambda_vs_e =
            0.555 * log_n + 0.093 * log_w.powi(3) - 1.01 * log_w.powi(2) + 2.925 * log_w - 0.133;
        let lambda_vs_e = 2f64.powf(log_lambda_vs_e);
        let b = -9.2 - lambda_vs_e * 1.223;
        let e = (40.0 - b) / lambda_vs_e;
        let sparse = ((n as f64) * e).floor() as usize;
        let dense = ((40.0 / (e * n as f64).log2()).floor() as usize).max(1);
        Ok(OkvsParams {
            items: n,
            sparse: sparse.max(WEIGHT + 1),
            dense,
        })
    }

    /// Length of an encoding: `m' + g`.
    pub(crate) fn len(&self) -> usize {
        self.sparse + self.dense
    }
}

/// One key's row: three distinct sparse columns and the dense value `d ≠ 0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Row {
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
/// are the little-endian halves of `r_0` and `u_2` the low half of `r_1`; the columns are
/// `c_0 = floor(u_0 · m' / 2^64)`, then `i_1 = floor(u_1 · (m' − 1) / 2^64)` and
/// `c_1 = i_1 + [i_1 ≥ c_0]`, then `i_2 = floor(u_2 · (m' − 2) / 2^64)` counted past the two
/// columns taken (`c_2 = i_2 + [i_2 ≥ lo]`, then `+ [c_2 ≥ hi]`, `lo < hi` the two); `d` is
/// `r_2` (1 if `r_2` is zero).
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
                    let c0 = scale(a as u64, m);
                    let i1 = scale((a >> 64) as u64, m - 1);
                    let c1 = i1 + usize::from(i1 >= c0);
                    let (lo, hi) = (c0.min(c1), c0.max(c1));
                    let mut c2 = scale(b as u64, m - 2);
                    c2 += usize::from(c2 >= lo);
                    c2 += usize::from(c2 >= hi);
                    Row {
                        cols: [c0, c1, c2],
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

/// A table `P` ready for decoding: its dense columns as multiplication tables, indexed by the
/// rows' dense values (which the memory accesses of decoding reveal anyway, through the
/// columns; see the module's note on timing).
struct Decoder<'a> {
    p: &'a [Gf128],
    sparse: usize,
    dense: Vec<MulTable>,
}

impl<'a> Decoder<'a> {
    fn new(params: &OkvsParams, p: &'a [Gf128]) -> Self {
        Decoder {
            p,
            sparse: params.sparse,
            dense: p[params.sparse..params.sparse + params.dense]
                .iter()
                .map(|x| MulTable::new(*x))
                .collect(),
        }
    }

    /// `decode(P, row) = Σ P[cols] + Σ_k d^(k+1) · P[m' + k]`.
    fn row(&self, r: &Row) -> Gf128 {
        let p = self.p;
        let mut v = p[r.cols[0]] + p[r.cols[1]] + p[r.cols[2]];
        let mut x = r.dense;
        for (k, t) in self.dense.iter().enumerate() {
            if k > 0 {
                x = x * r.dense;
            }
            v += t.mul(x);
        }
        v
    }
}

/// `decode(P, row)` for a `P` whose dense columns may be about to change (encoding).
fn decode_row(params: &OkvsParams, p: &[Gf128], r: &Row) -> Gf128 {
    let mut v = p[r.cols[0]] + p[r.cols[1]] + p[r.cols[2]];
    let mut x = r.dense;
    for k in 0..params.dense {
        v += x * p[params.sparse + k];
        x = x * r.dense;
    }
    v
}

/// The value `P` decodes `key` to.
#[cfg(test)]
pub(crate) fn decode(params: &OkvsParams, seed: &[u8; 16], p: &[Gf128], key: &[u8; 16]) -> Gf128 {
    decode_all(params, seed, p, std::slice::from_ref(key))[0]
}

/// The values `P` decodes `keys` to, in parallel.
pub(crate) fn decode_all(
    params: &OkvsParams,
    seed: &[u8; 16],
    p: &[Gf128],
    keys: &[[u8; 16]],
) -> Vec<Gf128> {
    use rayon::prelude::*;
    let decoder = Decoder::new(params, p);
    rows(params, seed, keys)
        .par_iter()
        .map(|r| decoder.row(r))
        .collect()
}

/// Encodes `values[i]` under `keys[i]` (distinct keys): `P` of [`OkvsParams::len`] entries.
/// Every column no row determines is drawn uniformly (16 bytes each, sparse columns in
/// ascending order, then the dense columns the gap does not use). Privacy does not rest on
/// these draws: in the PSI the VOLE's `A` masks `P` entirely.
///
/// # Errors
/// [`Error::Internal`] if the counts disagree, or if the rows cannot be solved: more gap rows
/// than dense columns (below `2^-40` by the fitted sizes), or two keys with the same row
/// (repeated keys, which callers never pass, or a hash collision).
pub(crate) fn encode<R: rand_core::CryptoRng + ?Sized>(
    params: &OkvsParams,
    seed: &[u8; 16],
    keys: &[[u8; 16]],
    values: &[Gf128],
    rng: &mut R,
) -> Result<Vec<Gf128>> {
    if keys.len() != params.items || values.len() != params.items {
        return Err(Error::Internal(
            "OKVS keys, values and size disagree".into(),
        ));
    }
    let rows = rows(params, seed, keys);
    let n = rows.len();
    let m = params.sparse;

    // Column → rows (compressed), and the degree of every column.
    let mut degree = vec![0u32; m];
    for r in &rows {
        for &c in &r.cols {
            degree[c] += 1;
        }
    }
    let mut start = vec![0usize; m + 1];
    for c in 0..m {
        start[c + 1] = start[c] + degree[c] as usize;
    }
    let mut fill = start.clone();
    let mut col_rows = vec![0u32; n * WEIGHT];
    for (i, r) in rows.iter().enumerate() {
        for &c in &r.cols {
            col_rows[fill[c]] = i as u32;
            fill[c] += 1;
        }
    }

    // Peeling: a column with one remaining row pivots that row.
    let mut removed = vec![false; n];
    let mut order: Vec<(u32, usize)> = Vec::with_capacity(n); // (row, pivot column)
    let mut queue: Vec<usize> = (0..m).filter(|&c| degree[c] == 1).collect();
    while let Some(c) = queue.pop() {
        if degree[c] != 1 {
            continue;
        }
        let Some(&r) = col_rows[start[c]..start[c + 1]]
            .iter()
            .find(|&&r| !removed[r as usize])
        else {
            continue;
        };
        removed[r as usize] = true;
        order.push((r, c));
        for &c2 in &rows[r as usize].cols {
            degree[c2] -= 1;
            if degree[c2] == 1 {
                queue.push(c2);
            }
        }
    }

    // The gap: rows left in the 2-core. Their sparse columns are never pivots (each keeps a
    // gap row), so once the free columns are drawn the gap rows constrain only the dense
    // columns.
    let gap: Vec<usize> = (0..n).filter(|&i| !removed[i]).collect();
    if gap.len() > params.dense {
        return Err(Error::Internal(format!(
            "the OKVS has {} rows in its 2-core and {} dense columns (probability below 2^-40)",
            gap.len(),
            params.dense
        )));
    }
    let mut pivot = vec![false; m];
    for &(_, c) in &order {
        pivot[c] = true;
    }
    let mut p = vec![Gf128::ZERO; params.len()];
    for (c, is_pivot) in pivot.iter().enumerate() {
        if !is_pivot {
            p[c] = Gf128::from_le_bytes(crate::protocol::draw::array(rng));
        }
    }
    for k in gap.len()..params.dense {
        p[m + k] = Gf128::from_le_bytes(crate::protocol::draw::array(rng));
    }
    if !gap.is_empty() {
        let g = gap.len();
        // Solve M·D = v over the first g dense columns, M[i][k] = d_i^(k+1).
        let mut mtx: Vec<Vec<Gf128>> = gap.iter().map(|&i| powers(rows[i].dense, g)).collect();
        let mut rhs: Vec<Gf128> = gap
            .iter()
            .map(|&i| values[i] + decode_row(params, &p, &rows[i]))
            .collect();
        let solution = solve(&mut mtx, &mut rhs).ok_or_else(|| {
            Error::Internal(
                "the OKVS gap rows are dependent (repeated keys, or probability below 2^-40)"
                    .into(),
            )
        })?;
        p[m..m + g].copy_from_slice(&solution);
    }

    // Back-substitution, last peeled first: each pivot makes its row decode to its value.
    // The dense columns are final here, so their part of every peeled row is computed first,
    // in parallel, with multiplication tables.
    let dense_part: Vec<Gf128> = {
        use rayon::prelude::*;
        let tables: Vec<MulTable> = p[m..].iter().map(|x| MulTable::new(*x)).collect();
        order
            .par_iter()
            .map(|&(r, _)| {
                let row = &rows[r as usize];
                let mut v = values[r as usize];
                let mut x = row.dense;
                for (k, t) in tables.iter().enumerate() {
                    if k > 0 {
                        x = x * row.dense;
                    }
                    v += t.mul(x);
                }
                v
            })
            .collect()
    };
    for (&(r, c), extra) in order.iter().zip(&dense_part).rev() {
        let cols = rows[r as usize].cols;
        let current = p[cols[0]] + p[cols[1]] + p[cols[2]];
        p[c] += current + *extra;
    }
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
        let p = encode(&params, &seed, &k, &v, &mut rng()).expect("encodes");
        assert_eq!(p.len(), params.len());
        for i in 0..n {
            assert_eq!(decode(&params, &seed, &p, &k[i]), v[i], "key {i} of {n}");
        }
        // Other keys decode to something else.
        let others = keys(64, 2);
        let hits = others
            .iter()
            .filter(|o| v.contains(&decode(&params, &seed, &p, o)))
            .count();
        assert_eq!(hits, 0);
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
        assert_eq!(p.dense, 1);
        let e = p.sparse as f64 / f64::from(1 << 20);
        assert!((1.22..1.24).contains(&e), "expansion {e}");
        let small = OkvsParams::new(100).expect("params");
        assert!(small.dense >= 4 && small.sparse >= 150, "{small:?}");
        assert!(matches!(OkvsParams::new(0), Err(Error::Internal(_))));
    }

    #[test]
    fn the_gap_is_solved_with_the_dense_columns() {
        // Few keys in a table forced small: their rows form a 2-core the dense part must solve.
        let mut params = OkvsParams::new(4).expect("params");
        params.sparse = 4;
        params.dense = 4;
        let seed = [3u8; 16];
        let (k, v) = (keys(4, 9), values(4));
        let p = encode(&params, &seed, &k, &v, &mut rng()).expect("encodes");
        for i in 0..4 {
            assert_eq!(decode(&params, &seed, &p, &k[i]), v[i]);
        }
        // With no dense column the same keys cannot be encoded.
        params.dense = 0;
        params.items = 4;
        assert!(matches!(
            encode(&params, &seed, &k, &v, &mut rng()),
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
}
