//! A small VOLE over GF(2^128) from 128 OTs: for values `β_0 .. β_{t-1}` held by one party
//! and a secret `Δ` held by the other, shares `a_n` and `b_n` with `b_n = a_n + β_n·Δ`
//! (`protocol-spec/08-vole-psi.md` section 8.4).
//!
//! This is Gilboa's multiplication from oblivious transfer ("Two Party RSA Key Generation",
//! CRYPTO 1999), with the 128 OTs' keys stretched by a PRG so that one set of
//! OTs serves every `β_n`, as libOTe's `NoisyVole` does for silent VOLE's noise: the holder of
//! `Δ` is the OT receiver with the bits of `Δ` as its choices, and for each bit `j` and each
//! `n` the other party sends `r ⊕ q ⊕ β_n·x^j` where `r` and `q` are the PRG streams of that
//! OT's two keys, so the Δ holder gets `r` or `r + β_n·x^j` according to `Δ_j` and the sums
//! over `j` differ by `β_n·Δ`.
//!
//! ```text
//! PRG(k)[n]  = AES-128_k( I2OSP_LE(n, 16) )                      (counter mode, FIPS 197)
//! message    = for j = 0 .. 127, for n = 0 .. t-1:  PRG(k_{j,0})[n] ⊕ PRG(k_{j,1})[n] ⊕ β_n·x^j
//! a_n        = Σ_j PRG(k_{j,0})[n]
//! b_n        = Σ_j ( PRG(k_{j,Δ_j})[n] ⊕ Δ_j·message_{j,n} )        = a_n + β_n·Δ
//! ```

use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};
use aes::Aes128;
use subtle::{Choice, ConditionallySelectable};

use super::base_ot::OtKey;
use super::gf128::Gf128;
use crate::error::{Error, PeerMisbehaved, Result};

/// OTs a noisy VOLE needs: one per bit of `Δ`.
pub(crate) const OT_COUNT: usize = 128;

/// The OT choices of the Δ holder: bit `j` of `Δ` (the coefficient of `x^j`), `j = 0 .. 127`.
pub(crate) fn delta_choices(delta: Gf128) -> Vec<bool> {
    (0..OT_COUNT).map(|j| (delta.0 >> j) & 1 == 1).collect()
}

/// `t` blocks of the counter-mode stream of `key`.
fn stream(key: &OtKey, t: usize) -> Vec<Gf128> {
    let cipher = Aes128::new(&Array::from(key.0));
    let mut blocks: Vec<Array<u8, aes::cipher::consts::U16>> = (0..t as u128)
        .map(|n| Array::from(n.to_le_bytes()))
        .collect();
    cipher.encrypt_blocks(&mut blocks);
    blocks
        .iter()
        .map(|b| Gf128::from_le_bytes((*b).into()))
        .collect()
}

/// The β holder's side: its shares `a` and the message, from the OTs' key pairs (OT `j` for
/// bit `j` of `Δ`).
///
/// # Errors
/// [`Error::Internal`] unless there are exactly [`OT_COUNT`] key pairs.
pub(crate) fn send(keys: &[[OtKey; 2]], betas: &[Gf128]) -> Result<(Vec<Gf128>, Vec<u8>)> {
    if keys.len() != OT_COUNT {
        return Err(Error::Internal(format!(
            "a noisy VOLE from {} OTs instead of {OT_COUNT}",
            keys.len()
        )));
    }
    let t = betas.len();
    let mut shares = vec![Gf128::ZERO; t];
    let mut message = Vec::with_capacity(OT_COUNT * t * 16);
    let mut scaled: Vec<Gf128> = betas.to_vec(); // β_n · x^j, starting at j = 0
    for pair in keys {
        let r = zeroize::Zeroizing::new(stream(&pair[0], t));
        let q = zeroize::Zeroizing::new(stream(&pair[1], t));
        for n in 0..t {
            shares[n] += r[n];
            message.extend_from_slice(&(r[n] + q[n] + scaled[n]).to_le_bytes());
            scaled[n] = scaled[n].mul_x();
        }
    }
    Ok((shares, message))
}

/// The Δ holder's side: its shares `b` (`b_n = a_n + β_n·Δ`), from the chosen keys of the OTs
/// whose choices were [`delta_choices`]`(delta)`, and the message for `t` values.
///
/// # Errors
/// [`PeerMisbehaved::WrongCount`] if the message is not `128 · t · 16` bytes; [`Error::Internal`]
/// unless there are exactly [`OT_COUNT`] keys.
pub(crate) fn receive(
    delta: Gf128,
    keys: &[OtKey],
    t: usize,
    message: &[u8],
) -> Result<Vec<Gf128>> {
    if keys.len() != OT_COUNT {
        return Err(Error::Internal(format!(
            "a noisy VOLE from {} OTs instead of {OT_COUNT}",
            keys.len()
        )));
    }
    if message.len() != OT_COUNT * t * 16 {
        return Err(PeerMisbehaved::WrongCount {
            what: "the noisy VOLE message (bytes)",
            got: message.len() as u64,
            expected: (OT_COUNT * t * 16) as u64,
        }
        .into());
    }
    let mut shares = vec![Gf128::ZERO; t];
    for (j, (key, row)) in keys
        .iter()
        .zip(message.chunks_exact(t.max(1) * 16))
        .enumerate()
    {
        let bit = Choice::from(((delta.0 >> j) & 1) as u8);
        let pad = zeroize::Zeroizing::new(stream(key, t));
        for n in 0..t {
            let mut c = [0u8; 16];
            c.copy_from_slice(&row[n * 16..(n + 1) * 16]);
            let sent = Gf128::from_le_bytes(c);
            shares[n] += pad[n] + Gf128::conditional_select(&Gf128::ZERO, &sent, bit);
        }
    }
    Ok(shares)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::vector_rng::VectorRng;
    use crate::vole::base_ot::{OtReceiver, OtSender};
    use crate::vole::vectors;

    fn run(delta: Gf128, betas: &[Gf128]) -> (Vec<Gf128>, Vec<Gf128>) {
        let mut rng = VectorRng::new(b"noisy vole test");
        let session = [4u8; 32];
        let (ot_s, setup) = OtSender::start(&mut rng, &session, OT_COUNT);
        let (ot_r, points) =
            OtReceiver::start(&mut rng, &session, &delta_choices(delta)).expect("starts");
        let pairs = ot_s.finish(&points).expect("sender OTs");
        let chosen = ot_r.finish(&setup).expect("receiver OTs");
        let (a, message) = send(&pairs, betas).expect("sends");
        let b = receive(delta, &chosen, betas.len(), &message).expect("receives");
        (a, b)
    }

    #[test]
    fn the_shares_differ_by_beta_times_delta() {
        let delta = Gf128(0x0123_4567_89ab_cdef_fedc_ba98_7654_3210);
        let betas: Vec<Gf128> = (1..=9u128)
            .map(|i| Gf128(i.wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)))
            .collect();
        let (a, b) = run(delta, &betas);
        assert_eq!(a.len(), betas.len());
        for n in 0..betas.len() {
            assert_eq!(b[n], a[n] + betas[n] * delta, "value {n}");
            assert_ne!(a[n], Gf128::ZERO);
        }
    }

    #[test]
    fn extreme_deltas_and_betas_work() {
        for delta in [Gf128::ONE, Gf128(u128::MAX), Gf128(1 << 127)] {
            let betas = [Gf128::ONE, Gf128(u128::MAX), Gf128::ZERO];
            let (a, b) = run(delta, &betas);
            for n in 0..betas.len() {
                assert_eq!(b[n], a[n] + betas[n] * delta);
            }
        }
    }

    #[test]
    fn a_message_of_the_wrong_length_is_refused() {
        let keys: Vec<OtKey> = (0..OT_COUNT).map(|_| OtKey([1; 16])).collect();
        let err = receive(Gf128::ONE, &keys, 2, &[0u8; 100]).expect_err("refused");
        assert!(matches!(
            err,
            Error::PeerMisbehaved(PeerMisbehaved::WrongCount {
                got: 100,
                expected: 4096,
                ..
            })
        ));
    }

    const VECTOR_PATH: &str = "protocol-spec/vectors/vole-noisy.json";

    /// The vector's inputs, drawn from the vector stream of `vole/noisy` in this order: the
    /// 128 key pairs `k_{j,0}, k_{j,1}` (`bytes(16)` each), `Δ = bytes(16)`, then `t = 2`
    /// values `β_n = bytes(16)`.
    fn vector_input() -> (Vec<[OtKey; 2]>, Gf128, Vec<Gf128>) {
        let mut rng = VectorRng::new(b"vole/noisy");
        let mut block = || crate::protocol::draw::array::<16, _>(&mut rng);
        let keys: Vec<[OtKey; 2]> = (0..OT_COUNT)
            .map(|_| [OtKey(block()), OtKey(block())])
            .collect();
        let delta = Gf128::from_le_bytes(block());
        let betas = (0..2).map(|_| Gf128::from_le_bytes(block())).collect();
        (keys, delta, betas)
    }

    #[test]
    fn the_committed_vector_is_what_the_library_produces() {
        let (keys, delta, betas) = vector_input();
        let (a, message) = send(&keys, &betas).expect("sends");
        let chosen: Vec<OtKey> = keys
            .iter()
            .zip(delta_choices(delta))
            .map(|(pair, bit)| pair[usize::from(bit)].clone())
            .collect();
        let b = receive(delta, &chosen, betas.len(), &message).expect("receives");
        let blocks = |v: &[Gf128]| {
            v.iter()
                .map(|x| vectors::hex(&x.to_le_bytes()))
                .collect::<Vec<_>>()
        };
        let produced = serde_json::json!({
            "description": "blindmatch noisy VOLE (protocol-spec/08-vole-psi.md 8.4): keys, delta and betas from the vector stream of vole/noisy",
            "seed_label": "vole/noisy",
            "keys": keys.iter().map(|p| [vectors::hex(&p[0].0), vectors::hex(&p[1].0)]).collect::<Vec<_>>(),
            "delta": vectors::hex(&delta.to_le_bytes()),
            "betas": blocks(&betas),
            "message": vectors::hex(&message),
            "a": blocks(&a),
            "b": blocks(&b),
        });
        vectors::check_committed(VECTOR_PATH, &produced);
    }

    /// The vector rebuilt from spec 8.4 with the `aes` crate and integer arithmetic: `x^j` as
    /// a shift with the reduction `x^128 = x^7 + x^2 + x + 1`, the product by `Δ` as the sum
    /// of `β·x^j` over the set bits `j` of `Δ`.
    #[test]
    fn the_committed_vector_follows_from_the_spec() {
        let v = vectors::read(VECTOR_PATH);
        let bytes = |x: &serde_json::Value| hex::decode(x.as_str().expect("hex")).expect("hex");
        let block =
            |x: &serde_json::Value| u128::from_le_bytes(bytes(x).try_into().expect("16 bytes"));
        let prg = |key: &serde_json::Value, n: u128| {
            let key: [u8; 16] = bytes(key).try_into().expect("16 bytes");
            let mut b = Array::from(n.to_le_bytes());
            Aes128::new(&Array::from(key)).encrypt_block(&mut b);
            u128::from_le_bytes(b.into())
        };
        let times_x = |a: u128| (a << 1) ^ if a >> 127 == 1 { 0x87 } else { 0 };
        let keys = v["keys"].as_array().expect("keys");
        let delta = block(&v["delta"]);
        let message = bytes(&v["message"]);
        let t = 2;
        assert_eq!(message.len(), 128 * t * 16);
        for n in 0..t {
            let beta = block(&v["betas"][n]);
            let (mut a, mut b, mut scaled, mut product) = (0u128, 0u128, beta, 0u128);
            for (j, pair) in keys.iter().enumerate() {
                let (r, q) = (prg(&pair[0], n as u128), prg(&pair[1], n as u128));
                let at = 16 * (j * t + n);
                let sent = u128::from_le_bytes(message[at..at + 16].try_into().expect("16"));
                assert_eq!(sent, r ^ q ^ scaled, "message block ({j}, {n})");
                a ^= r;
                let bit = (delta >> j) & 1 == 1;
                b ^= if bit {
                    prg(&pair[1], n as u128) ^ sent
                } else {
                    r
                };
                if bit {
                    product ^= scaled;
                }
                scaled = times_x(scaled);
            }
            assert_eq!(block(&v["a"][n]), a, "a_{n}");
            assert_eq!(block(&v["b"][n]), b, "b_{n}");
            assert_eq!(a ^ product, b, "b_{n} = a_{n} + beta_{n} * delta");
        }
    }
}
