//! Semi-honest OT extension: `m` random 1-out-of-2 OTs from 128 base OTs in the other direction
//! (`protocol-spec/08-vole-psi.md` section 8.5.3).
//!
//! Ishai, Kilian, Nissim and Petrank, "Extending Oblivious Transfers Efficiently" (CRYPTO 2003),
//! section 3, semi-honest, for random OTs, with the hash of the extended keys the tweakable
//! circular-correlation-robust hash from fixed-key AES of Guo, Katz, Wang and Yu ("Efficient and
//! Secure Multiparty Computation from Fixed-Key Block Ciphers", IEEE S&P 2020, ePrint
//! 2019/074), `H(j, x) = π(π(x) ⊕ j) ⊕ π(x)`, which they give for exactly this use:
//!
//! ```text
//! base OTs:     the extension's receiver is the base sender (k_{i,0}, k_{i,1}), i < 128;
//!               the extension's sender the base receiver with choices s_i, getting k_{i,s_i}
//! receiver:     choices r (m bits);  t_i = G(k_{i,0}),  u_i = t_i ⊕ G(k_{i,1}) ⊕ r   ──► u_0 .. u_127
//! sender:       q_i = G(k_{i,s_i}) ⊕ s_i·u_i  (= t_i ⊕ s_i·r)
//! transposed:   q_j = t_j ⊕ r_j·s  (128 bits each, j < m)
//! keys:         sender  H(j, q_j), H(j, q_j ⊕ s);  receiver  H(j, t_j) (= key r_j)
//! ```
//!
//! `G(k)` is the counter-mode stream of spec 8.4 (`AES-128_k(I2OSP_LE(n, 16))`, `n = 0, 1, ...`)
//! cut to `m` bits. The receiver learns one key per OT (the other needs `s`, which the base OTs
//! hide and `H` keeps hidden); the sender sees each `u_i` masked by a stream of a key it does not
//! have (`k_{i,1}` when `s_i = 0`; `k_{i,0}`'s stream `t_i` when `s_i = 1`), so it learns nothing
//! of `r`.

use aes::cipher::{Array, BlockCipherEncrypt, KeyInit};
use aes::Aes128;
use zeroize::Zeroize;

use super::base_ot::OtKey;
use crate::dst;
use crate::error::{Error, PeerMisbehaved, Result};

/// Base OTs the extension needs: one per bit of `s`.
pub(crate) const BASE_COUNT: usize = 128;

/// Bytes of the receiver's message for `m` OTs: 128 rows of `m` bits (`m` a multiple of 8).
pub(crate) fn message_len(m: usize) -> usize {
    BASE_COUNT * m.div_ceil(8)
}

/// `G(k)` cut to `bytes` bytes: the counter-mode stream `AES-128_k(I2OSP_LE(n, 16))`.
fn stream(key: &OtKey, bytes: usize) -> Vec<u8> {
    let cipher = Aes128::new(&Array::from(key.0));
    let mut blocks: Vec<Array<u8, aes::cipher::consts::U16>> = (0..bytes.div_ceil(16) as u128)
        .map(|n| Array::from(n.to_le_bytes()))
        .collect();
    cipher.encrypt_blocks(&mut blocks);
    let mut out: Vec<u8> = blocks.iter().flat_map(|b| b.iter().copied()).collect();
    out.truncate(bytes);
    blocks.iter_mut().for_each(|b| b.as_mut_slice().zeroize());
    out
}

/// The 128 rows (bit `j` of row `i` is bit `j mod 8` of byte `j / 8`) as `m` columns: bit `i`
/// of column `j` is bit `j` of row `i`.
fn transpose(rows: &[Vec<u8>], m: usize) -> Vec<u128> {
    let mut cols = vec![0u128; m];
    for (i, row) in rows.iter().enumerate() {
        for (j, col) in cols.iter_mut().enumerate() {
            *col |= u128::from((row[j / 8] >> (j % 8)) & 1) << i;
        }
    }
    cols
}

/// The fixed-key hash of the extended keys: `π = AES-128_K` with `K` the first 16 bytes of
/// `SHA3-256(I2OSP(len(tag), 4) || tag || session_id)` (tag [`dst::VOLE_IKNP_HASH`]), and
/// `H(j, x) = π(π(x) ⊕ I2OSP_LE(j, 16)) ⊕ π(x)`, for every `x` at once.
fn hash_all(session: &[u8; 32], xs: &[u128]) -> Vec<OtKey> {
    let digest = super::sha3_tagged(dst::VOLE_IKNP_HASH, &[session]);
    let mut key = [0u8; 16];
    key.copy_from_slice(&digest[..16]);
    let pi = Aes128::new(&Array::from(key));
    let mut first: Vec<Array<u8, aes::cipher::consts::U16>> =
        xs.iter().map(|x| Array::from(x.to_le_bytes())).collect();
    pi.encrypt_blocks(&mut first);
    let mut second: Vec<Array<u8, aes::cipher::consts::U16>> = first
        .iter()
        .enumerate()
        .map(|(j, p)| Array::from((u128::from_le_bytes((*p).into()) ^ j as u128).to_le_bytes()))
        .collect();
    pi.encrypt_blocks(&mut second);
    let out = first
        .iter()
        .zip(&second)
        .map(|(p, s)| {
            OtKey(
                (u128::from_le_bytes((*s).into()) ^ u128::from_le_bytes((*p).into())).to_le_bytes(),
            )
        })
        .collect();
    first
        .iter_mut()
        .chain(second.iter_mut())
        .for_each(|b| b.as_mut_slice().zeroize());
    out
}

/// The extension's receiver: from the base OTs' key pairs (it was their sender) and its
/// `choices` (`m` of them, a multiple of 8), its key of every OT and the message `u`.
///
/// # Errors
/// [`Error::Internal`] unless there are [`BASE_COUNT`] key pairs and `m` is a multiple of 8.
pub(crate) fn receive(
    session: &[u8; 32],
    base: &[[OtKey; 2]],
    choices: &[bool],
) -> Result<(Vec<OtKey>, Vec<u8>)> {
    let m = choices.len();
    if base.len() != BASE_COUNT || !m.is_multiple_of(8) {
        return Err(Error::Internal(format!(
            "an OT extension of {m} OTs from {} base OTs",
            base.len()
        )));
    }
    let bytes = m / 8;
    let mut r = vec![0u8; bytes];
    for (j, &c) in choices.iter().enumerate() {
        r[j / 8] |= u8::from(c) << (j % 8);
    }
    let mut t = Vec::with_capacity(BASE_COUNT);
    let mut message = Vec::with_capacity(message_len(m));
    for pair in base {
        let t_i = stream(&pair[0], bytes);
        let mut g1 = stream(&pair[1], bytes);
        for ((u, a), b) in g1.iter_mut().zip(&t_i).zip(&r) {
            *u ^= a ^ b;
        }
        message.extend_from_slice(&g1);
        t.push(t_i);
    }
    let mut cols = transpose(&t, m);
    let keys = hash_all(session, &cols);
    cols.zeroize();
    t.iter_mut().for_each(|x| x.zeroize());
    r.zeroize();
    Ok((keys, message))
}

/// The extension's sender: from its base keys (it was their receiver, with the bits of `s` as
/// choices) and the receiver's message, both keys of every one of `m` OTs.
///
/// # Errors
/// [`PeerMisbehaved::WrongCount`] for a message of the wrong length; [`Error::Internal`] unless
/// there are [`BASE_COUNT`] keys and choices.
pub(crate) fn send(
    session: &[u8; 32],
    base: &[OtKey],
    s: &[bool],
    m: usize,
    message: &[u8],
) -> Result<Vec<[OtKey; 2]>> {
    if base.len() != BASE_COUNT || s.len() != BASE_COUNT || !m.is_multiple_of(8) {
        return Err(Error::Internal(
            "an OT extension's base keys do not fit it".into(),
        ));
    }
    if message.len() != message_len(m) {
        return Err(PeerMisbehaved::WrongCount {
            what: "the OT extension message (bytes)",
            got: message.len() as u64,
            expected: message_len(m) as u64,
        }
        .into());
    }
    let bytes = m / 8;
    let mut q = Vec::with_capacity(BASE_COUNT);
    for ((key, &s_i), u) in base.iter().zip(s).zip(message.chunks_exact(bytes)) {
        let mut q_i = stream(key, bytes);
        let mask = u8::from(s_i).wrapping_neg();
        for (x, u) in q_i.iter_mut().zip(u) {
            *x ^= u & mask;
        }
        q.push(q_i);
    }
    let mut cols = transpose(&q, m);
    let s_block = s
        .iter()
        .enumerate()
        .fold(0u128, |acc, (i, &b)| acc | (u128::from(b) << i));
    let mut flipped: Vec<u128> = cols.iter().map(|c| c ^ s_block).collect();
    let k0 = hash_all(session, &cols);
    let k1 = hash_all(session, &flipped);
    cols.zeroize();
    flipped.zeroize();
    q.iter_mut().for_each(|x| x.zeroize());
    Ok(k0.into_iter().zip(k1).map(|(a, b)| [a, b]).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::vector_rng::VectorRng;
    use crate::vole::base_ot::{OtReceiver, OtSender};

    /// Base OTs from the extension's sender (choices `s`) to its receiver, then the extension.
    fn run(m: usize, choices: &[bool]) -> (Vec<[OtKey; 2]>, Vec<OtKey>) {
        let session = [4u8; 32];
        let mut rng = VectorRng::new(b"iknp test");
        let s: Vec<bool> = (0..BASE_COUNT).map(|i| (i * 7 + 3) % 5 < 2).collect();
        let (base_sender, setup) = OtSender::start(&mut rng, &session, BASE_COUNT);
        let (base_receiver, points) = OtReceiver::start(&mut rng, &session, &s).expect("start");
        let pairs = base_sender.finish(&points).expect("pairs");
        let chosen = base_receiver.finish(&setup).expect("chosen");
        let (keys, message) = receive(&session, &pairs, choices).expect("receive");
        assert_eq!(message.len(), message_len(m));
        let both = send(&session, &chosen, &s, m, &message).expect("send");
        (both, keys)
    }

    #[test]
    fn the_receiver_gets_the_key_of_its_choice_and_not_the_other() {
        let m = 1920;
        let choices: Vec<bool> = (0..m).map(|j| (j * 13 + 1) % 3 == 0).collect();
        let (both, keys) = run(m, &choices);
        for j in 0..m {
            let c = usize::from(choices[j]);
            assert_eq!(both[j][c].0, keys[j].0, "OT {j}");
            assert_ne!(both[j][1 - c].0, keys[j].0, "OT {j}");
            assert_ne!(both[j][0].0, both[j][1].0);
        }
        // Keys differ across OTs.
        assert_ne!(both[0][0].0, both[1][0].0);
    }

    #[test]
    fn wrong_lengths_are_refused() {
        let session = [4u8; 32];
        let base = vec![OtKey([0; 16]); BASE_COUNT];
        let s = vec![false; BASE_COUNT];
        assert!(matches!(
            send(&session, &base, &s, 16, &[0u8; 17]),
            Err(Error::PeerMisbehaved(PeerMisbehaved::WrongCount { .. }))
        ));
        assert!(matches!(
            receive(&session, &[], &[false; 8]),
            Err(Error::Internal(_))
        ));
    }

    const VECTOR_PATH: &str = "protocol-spec/vectors/vole-iknp.json";
    /// Extended OTs of the vector: more than 128, so that `G` takes two AES blocks.
    const VECTOR_M: usize = 136;

    /// The vector's inputs from the stream of `vole/iknp` (spec 8.5.3.1): `session_id =
    /// bytes(32)`, the 128 base key pairs `k_{i,0}, k_{i,1}` (`bytes(16)` each), `s =
    /// bytes(16)` (bit `i` little-endian is `s_i`), then `bytes(M / 8)` whose bit `j` is `r_j`.
    fn vector_input() -> ([u8; 32], Vec<[OtKey; 2]>, Vec<bool>, Vec<bool>) {
        use crate::protocol::draw;
        let mut rng = VectorRng::new(b"vole/iknp");
        let session: [u8; 32] = draw::array(&mut rng);
        let pairs: Vec<[OtKey; 2]> = (0..BASE_COUNT)
            .map(|_| [OtKey(draw::array(&mut rng)), OtKey(draw::array(&mut rng))])
            .collect();
        let s = u128::from_le_bytes(draw::array(&mut rng));
        let s: Vec<bool> = (0..BASE_COUNT).map(|i| (s >> i) & 1 == 1).collect();
        let mut r = vec![0u8; VECTOR_M / 8];
        draw::bytes(&mut rng, &mut r);
        let r: Vec<bool> = (0..VECTOR_M)
            .map(|j| (r[j / 8] >> (j % 8)) & 1 == 1)
            .collect();
        (session, pairs, s, r)
    }

    fn generate_vector() -> serde_json::Value {
        use crate::vole::vectors::hex;
        let (session, pairs, s, r) = vector_input();
        let chosen: Vec<OtKey> = pairs
            .iter()
            .zip(&s)
            .map(|(p, &s_i)| p[usize::from(s_i)].clone())
            .collect();
        let (keys, u) = receive(&session, &pairs, &r).expect("receives");
        let both = send(&session, &chosen, &s, VECTOR_M, &u).expect("sends");
        serde_json::json!({
            "description": "blindmatch IKNP OT extension (protocol-spec/08-vole-psi.md 8.5.3), seed label vole/iknp",
            "seed_label": "vole/iknp",
            "m": VECTOR_M,
            "session_id": hex(&session),
            "base_keys": pairs.iter().map(|k| serde_json::json!([hex(&k[0].0), hex(&k[1].0)])).collect::<Vec<_>>(),
            "s": s,
            "choices": r,
            "u": hex(&u),
            "sender_keys": both.iter().map(|k| serde_json::json!([hex(&k[0].0), hex(&k[1].0)])).collect::<Vec<_>>(),
            "receiver_keys": keys.iter().map(|k| hex(&k.0)).collect::<Vec<_>>(),
        })
    }

    #[test]
    fn the_committed_vector_is_what_the_library_produces() {
        crate::vole::vectors::check_committed(VECTOR_PATH, &generate_vector());
    }

    /// `U` and every key rebuilt from spec 8.5.3 (`spec_model`: the `aes` crate and SHA3),
    /// from the inputs drawn as 8.5.3.1 says.
    #[test]
    fn the_committed_vector_follows_from_the_spec() {
        use crate::vole::spec_model::{self as spec, Stream};
        let v = crate::vole::vectors::read(VECTOR_PATH);
        let unhex = crate::vole::vectors::unhex;
        let bools = |x: &serde_json::Value| -> Vec<bool> {
            x.as_array()
                .expect("array")
                .iter()
                .map(|b| b.as_bool().expect("bool"))
                .collect()
        };

        let mut stream = Stream::new(b"vole/iknp");
        let session: [u8; 32] = stream.bytes(32).try_into().expect("32");
        let pairs: Vec<[[u8; 16]; 2]> =
            (0..128).map(|_| [stream.block(), stream.block()]).collect();
        let s_int = u128::from_le_bytes(stream.block());
        let s: Vec<bool> = (0..128).map(|i| (s_int >> i) & 1 == 1).collect();
        let r_bytes = stream.bytes(VECTOR_M / 8);
        let r: Vec<bool> = (0..VECTOR_M)
            .map(|j| (r_bytes[j / 8] >> (j % 8)) & 1 == 1)
            .collect();
        assert_eq!(v["m"].as_u64(), Some(VECTOR_M as u64));
        assert_eq!(unhex(&v["session_id"]), session);
        for (i, p) in pairs.iter().enumerate() {
            assert_eq!(unhex(&v["base_keys"][i][0]), p[0], "base OT {i}, key 0");
            assert_eq!(unhex(&v["base_keys"][i][1]), p[1], "base OT {i}, key 1");
        }
        assert_eq!(bools(&v["s"]), s);
        assert_eq!(bools(&v["choices"]), r);

        let (keys, u) = spec::iknp_receive(&session, &pairs, &r);
        assert_eq!(u.len(), 128 * VECTOR_M / 8);
        assert_eq!(unhex(&v["u"]), u);
        let chosen: Vec<[u8; 16]> = pairs
            .iter()
            .zip(&s)
            .map(|(p, &s_i)| p[usize::from(s_i)])
            .collect();
        let both = spec::iknp_send(&session, &chosen, &s, &u);
        assert_eq!(both.len(), VECTOR_M);
        for j in 0..VECTOR_M {
            assert_eq!(unhex(&v["sender_keys"][j][0]), both[j][0], "OT {j}, k'_0");
            assert_eq!(unhex(&v["sender_keys"][j][1]), both[j][1], "OT {j}, k'_1");
            assert_eq!(
                unhex(&v["receiver_keys"][j]),
                keys[j],
                "OT {j}, the receiver's key"
            );
            // The receiver's key is the sender's key of its choice, and only that one.
            assert_eq!(keys[j], both[j][usize::from(r[j])], "OT {j}");
            assert_ne!(keys[j], both[j][1 - usize::from(r[j])], "OT {j}");
        }
    }
}
