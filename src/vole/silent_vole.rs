//! Silent VOLE over GF(2^128): `k` pseudorandom correlations `c_i = b_i + a_i·Δ`, the receiver
//! holding `a` and `c`, the sender `Δ` and `b` (`protocol-spec/08-vole-psi.md` section 8.5).
//!
//! The construction of Boyle, Couteau, Gilboa, Ishai, Kohl and Scholl ("Efficient Two-Round OT
//! Extension and Silent Non-Interactive Secure Computation", ACM CCS 2019), semi-honest, with
//! the dual-LPN compression of the Expand-Convolute code ([`super::ex_conv`]), the regular
//! noise of weight 128 that libOTe configures for it, and libOTe's structure
//! (`SilentVoleSender`/`SilentVoleReceiver`):
//!
//! 1. the receiver picks a sparse noise vector `e` of `n ≥ 2k` entries, one nonzero `β_i` at a
//!    random position `α_i` in each of 128 equal parts;
//! 2. a noisy VOLE ([`super::noisy_vole`]) gives it `a'_i` and the sender `b'_i = a'_i + β_i·Δ`;
//! 3. a punctured PRF per part ([`super::pprf`]) gives the sender every `v_j` and the receiver
//!    every `v_j` but those at the `α_i`; the sender sends `γ_i = Σ_{j in part i} v_j + b'_i`,
//!    from which the receiver gets `w_{α_i} = v_{α_i} + β_i·Δ`, so `w = v + e·Δ` everywhere;
//! 4. both compress with the code: `a = E(e)`, `c = E(w)`, `b = E(v)`, and since `E` is linear,
//!    `c = b + a·Δ`.
//!
//! The base OTs ([`super::base_ot`]) run as one batch of 256, the receiver sending: 128 for the
//! noisy VOLE, 128 for the OT extension ([`super::iknp`], Ishai–Kilian–Nissim–Petrank) that
//! makes the punctured PRFs' `128·d` OTs, so that only 256 OTs cost public-key operations.
//!
//! ```text
//! sender                                                  receiver
//! start:   S1 = base-OT points                     ──►    start:    R1 = base-OT setup
//!                                                  ◄──
//!                                                  ◄──    on S1:    R2 = noisy-VOLE message || OT-extension U
//! on R1, R2: S2 = PPRF message || γ_0 .. γ_127     ──►    on S2:    (a, c)
//! → (Δ, b)
//! ```

use rand_core::CryptoRng;

use subtle::{ConditionallySelectable, ConstantTimeEq};
use zeroize::{Zeroize, Zeroizing};

use super::base_ot::{OtReceiver, OtSender, ReceiverPoints, SenderSetup};
use super::ex_conv::{dual_encode, dual_encode_all};
use super::gf128::Gf128;
use super::iknp;
use super::noisy_vole;
use super::pprf::{self, PprfShape};
use super::timing;
use super::wrong_length;
use crate::dst;
use crate::error::{Error, Result};
use crate::group::{WireElement, ELEMENT_LEN};
use crate::protocol::{draw, Interrupt};

/// Weight of the regular noise: the number of parts and of punctured PRF trees (libOTe's
/// choice for `ExConv7x24` at 128-bit security: `max(40, -128 / log2(1 - 2 · 0.25))`).
pub(crate) const NOISE_WEIGHT: usize = 128;

/// The sizes of a silent VOLE of `k` outputs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct VoleShape {
    /// Outputs `k`.
    pub(crate) outputs: usize,
    /// Entries per noise part: `max(4, 2 · ceil(ceil(2k / 128) / 2))`.
    pub(crate) part: usize,
    /// The punctured PRFs: 128 trees over a part each.
    pub(crate) trees: PprfShape,
}

impl VoleShape {
    /// The shape for `k` outputs.
    ///
    /// # Errors
    /// [`Error::Internal`] for `k = 0` or `k > 2^32`.
    pub(crate) fn new(k: usize) -> Result<Self> {
        if k == 0 || k > 1 << 32 {
            return Err(Error::Internal(format!("a silent VOLE of {k} outputs")));
        }
        let part = (2 * k).div_ceil(NOISE_WEIGHT).div_ceil(2).max(2) * 2;
        Ok(VoleShape {
            outputs: k,
            part,
            trees: PprfShape::for_domain(NOISE_WEIGHT, part)?,
        })
    }

    /// Entries of the noise vector, `n = 128 · part ≥ 2k`.
    pub(crate) fn noise_len(&self) -> usize {
        NOISE_WEIGHT * self.part
    }

    /// `S1`: the base OTs' `ReceiverPoints`.
    fn first_sender_len(&self) -> usize {
        BASE_OTS * 2 * ELEMENT_LEN
    }

    /// `R1`: the base OTs' `SenderSetup`.
    fn first_receiver_len(&self) -> usize {
        ELEMENT_LEN
    }

    /// `R2`: the noisy-VOLE message, then the OT extension's.
    fn second_receiver_len(&self) -> usize {
        noisy_vole::OT_COUNT * NOISE_WEIGHT * 16 + iknp::message_len(self.trees.ot_count())
    }
}

/// The session id of OT batch `batch`: `SHA3-256(I2OSP(len(tag), 4) || tag || session_id ||
/// I2OSP(batch, 1))` with tag [`dst::VOLE_OT_BATCH`].
fn batch_session(session: &[u8; 32], batch: u8) -> [u8; 32] {
    super::sha3_tagged(dst::VOLE_OT_BATCH, &[session, &[batch]])
}

fn setup_of(bytes: &[u8]) -> SenderSetup {
    let mut e = [0u8; ELEMENT_LEN];
    e.copy_from_slice(&bytes[..ELEMENT_LEN]);
    SenderSetup(WireElement(e))
}

/// The sender's result: `Δ` and `b`.
pub(crate) struct SenderVole {
    /// The secret `Δ`.
    pub(crate) delta: Gf128,
    /// `b`, `k` values.
    pub(crate) b: Vec<Gf128>,
}

/// The receiver's result: `a` and `c = b + a·Δ`.
pub(crate) struct ReceiverVole {
    /// `a`, `k` values.
    pub(crate) a: Vec<Gf128>,
    /// `c`, `k` values.
    pub(crate) c: Vec<Gf128>,
}

impl Drop for SenderVole {
    fn drop(&mut self) {
        self.delta.0.zeroize();
        self.b.iter_mut().for_each(|v| v.0.zeroize());
    }
}

impl Drop for ReceiverVole {
    fn drop(&mut self) {
        self.a.iter_mut().for_each(|v| v.0.zeroize());
        self.c.iter_mut().for_each(|v| v.0.zeroize());
    }
}

/// Base OTs of a silent VOLE: 128 for the noisy VOLE, then 128 for the OT extension.
const BASE_OTS: usize = noisy_vole::OT_COUNT + iknp::BASE_COUNT;

/// The sender before the receiver's first message.
pub(crate) struct VoleSender {
    shape: VoleShape,
    session: [u8; 32],
    delta: Zeroizing<Gf128>,
    extension_choices: Zeroizing<Vec<bool>>,
    base_ot: OtReceiver,
}

/// The sender waiting for the noisy-VOLE message.
pub(crate) struct VoleSenderAwaitingNoise {
    shape: VoleShape,
    session: [u8; 32],
    delta: Zeroizing<Gf128>,
    extension_choices: Zeroizing<Vec<bool>>,
    base_keys: Vec<super::base_ot::OtKey>,
}

impl VoleSender {
    /// Draws `Δ` (16 bytes, again while zero), then the OT extension's `s` (16 bytes), then the
    /// base OTs' receiver draws with the bits of `Δ` and then those of `s` as choices; returns
    /// the state and `S1`.
    ///
    /// # Errors
    /// [`Error::Internal`] for an impossible shape or a base-OT point that is the identity.
    pub(crate) fn start<R: CryptoRng + ?Sized>(
        rng: &mut R,
        session: &[u8; 32],
        k: usize,
    ) -> Result<(Self, Vec<u8>)> {
        let shape = VoleShape::new(k)?;
        let delta = loop {
            let d = Gf128::from_le_bytes(draw::array(rng));
            if d != Gf128::ZERO {
                break d;
            }
        };
        let mut s_bytes = Zeroizing::new(draw::array::<16, R>(rng));
        let s_block = Zeroizing::new(u128::from_le_bytes(*s_bytes));
        s_bytes.zeroize();
        let extension_choices: Zeroizing<Vec<bool>> = Zeroizing::new(
            (0..iknp::BASE_COUNT)
                .map(|i| (*s_block >> i) & 1 == 1)
                .collect(),
        );
        let mut choices = Zeroizing::new(noisy_vole::delta_choices(delta));
        choices.extend_from_slice(&extension_choices);
        let (base_ot, points) = timing::phase("base OT", || {
            OtReceiver::start(rng, &batch_session(session, 1), &choices)
        })?;
        let first = points.to_bytes();
        Ok((
            VoleSender {
                shape,
                session: *session,
                delta: Zeroizing::new(delta),
                extension_choices,
                base_ot,
            },
            first,
        ))
    }

    /// Takes the receiver's first message `R1`.
    ///
    /// # Errors
    /// [`PeerMisbehaved::WrongCount`] for a wrong length; the base OTs' errors for invalid
    /// points.
    pub(crate) fn on_first(self, message: &[u8]) -> Result<VoleSenderAwaitingNoise> {
        let expected = self.shape.first_receiver_len();
        if message.len() != expected {
            return Err(wrong_length(
                "the VOLE receiver's first message (bytes)",
                message.len(),
                expected,
            ));
        }
        let setup = setup_of(message);
        let VoleSender {
            shape,
            session,
            delta,
            extension_choices,
            base_ot,
        } = self;
        timing::phase("base OT", || {
            Ok(VoleSenderAwaitingNoise {
                shape,
                session,
                delta,
                extension_choices,
                base_keys: base_ot.finish(&setup)?,
            })
        })
    }
}

impl VoleSenderAwaitingNoise {
    /// Takes the noisy-VOLE message `R2`, draws the punctured PRFs' seeds, and returns the
    /// result and `S2`.
    ///
    /// # Errors
    /// [`PeerMisbehaved::WrongCount`] for a message of the wrong length;
    /// [`crate::Error::Cancelled`] once `stop` is raised (checked between and inside the
    /// punctured PRFs and the code).
    pub(crate) fn finish<R: CryptoRng + ?Sized>(
        self,
        rng: &mut R,
        message: &[u8],
        stop: &Interrupt,
    ) -> Result<(SenderVole, Vec<u8>)> {
        let shape = self.shape;
        if message.len() != shape.second_receiver_len() {
            return Err(wrong_length(
                "the VOLE receiver's noise message (bytes)",
                message.len(),
                shape.second_receiver_len(),
            ));
        }
        let (noisy, extension) = message.split_at(noisy_vole::OT_COUNT * NOISE_WEIGHT * 16);
        let (noise_keys, extension_keys) = self.base_keys.split_at(noisy_vole::OT_COUNT);
        let noise = timing::phase("noisy VOLE", || {
            noisy_vole::receive(*self.delta, noise_keys, NOISE_WEIGHT, noisy)
        })?;
        let tree_keys = timing::phase("OT extension", || {
            iknp::send(
                &self.session,
                extension_keys,
                &self.extension_choices,
                shape.trees.ot_count(),
                extension,
            )
        })?;
        let (leaves, tree_message) =
            timing::phase("PPRF", || pprf::send(rng, &shape.trees, &tree_keys, stop))?;
        let mut v: Vec<Gf128> = leaves.into_iter().map(Gf128).collect();
        let mut out = tree_message;
        for (part, b) in v.chunks_exact(shape.part).zip(&noise) {
            let mut gamma = *b;
            for x in part {
                gamma += *x;
            }
            out.extend_from_slice(&gamma.to_le_bytes());
        }
        let b = timing::phase("ExConv code", || dual_encode(&v, shape.outputs, stop));
        v.iter_mut().for_each(|x| x.0.zeroize());
        let b = b?;
        Ok((
            SenderVole {
                delta: *self.delta,
                b,
            },
            out,
        ))
    }
}

/// The receiver before the sender's first message.
pub(crate) struct VoleReceiver {
    shape: VoleShape,
    session: [u8; 32],
    points: Zeroizing<Vec<usize>>,
    betas: Zeroizing<Vec<Gf128>>,
    base_ot: OtSender,
}

/// The receiver waiting for the punctured PRFs.
pub(crate) struct VoleReceiverAwaitingTrees {
    shape: VoleShape,
    points: Vec<usize>,
    betas: Vec<Gf128>,
    tree_keys: Vec<super::base_ot::OtKey>,
    noise_shares: Vec<Gf128>,
}

impl VoleReceiver {
    /// Draws the noise positions (`index_below(part)` for each of the 128 parts), the noise
    /// values (16 bytes each, again while zero), then the base OTs' sender secret; returns the
    /// state and `R1`.
    ///
    /// # Errors
    /// [`Error::Internal`] for an impossible shape or a base-OT point that is the identity.
    pub(crate) fn start<R: CryptoRng + ?Sized>(
        rng: &mut R,
        session: &[u8; 32],
        k: usize,
    ) -> Result<(Self, Vec<u8>)> {
        let shape = VoleShape::new(k)?;
        let points: Vec<usize> = (0..NOISE_WEIGHT)
            .map(|_| draw::index_below(rng, shape.part as u64) as usize)
            .collect();
        let betas: Vec<Gf128> = (0..NOISE_WEIGHT)
            .map(|_| loop {
                let b = Gf128::from_le_bytes(draw::array(rng));
                if b != Gf128::ZERO {
                    break b;
                }
            })
            .collect();
        let (base_ot, setup) = timing::phase("base OT", || {
            OtSender::start(rng, &batch_session(session, 1), BASE_OTS)
        });
        let first = setup.0.as_bytes().to_vec();
        Ok((
            VoleReceiver {
                shape,
                session: *session,
                points: Zeroizing::new(points),
                betas: Zeroizing::new(betas),
                base_ot,
            },
            first,
        ))
    }

    /// Takes the sender's first message `S1`; returns the state and the noisy-VOLE message `R2`.
    ///
    /// # Errors
    /// [`PeerMisbehaved::WrongCount`] for a wrong length; the base OTs' errors for invalid
    /// points.
    pub(crate) fn on_first(self, message: &[u8]) -> Result<(VoleReceiverAwaitingTrees, Vec<u8>)> {
        let expected = self.shape.first_sender_len();
        if message.len() != expected {
            return Err(wrong_length(
                "the VOLE sender's first message (bytes)",
                message.len(),
                expected,
            ));
        }
        let points = ReceiverPoints::from_bytes(message, BASE_OTS)?;
        let VoleReceiver {
            shape,
            session,
            points: noise_points,
            betas,
            base_ot,
        } = self;
        let pairs = timing::phase("base OT", || base_ot.finish(&points))?;
        let (noise_pairs, extension_pairs) = pairs.split_at(noisy_vole::OT_COUNT);
        let (noise_shares, mut noisy_message) =
            timing::phase("noisy VOLE", || noisy_vole::send(noise_pairs, &betas))?;
        let choices = Zeroizing::new(pprf::receiver_choices(&shape.trees, &noise_points));
        let (tree_keys, extension_message) = timing::phase("OT extension", || {
            iknp::receive(&session, extension_pairs, &choices)
        })?;
        noisy_message.extend_from_slice(&extension_message);
        Ok((
            VoleReceiverAwaitingTrees {
                shape,
                points: noise_points.to_vec(),
                betas: betas.to_vec(),
                tree_keys,
                noise_shares,
            },
            noisy_message,
        ))
    }
}

impl VoleReceiverAwaitingTrees {
    /// Takes `S2` and returns `a` and `c`.
    ///
    /// # Errors
    /// [`PeerMisbehaved::WrongCount`] for a message of the wrong length;
    /// [`crate::Error::Cancelled`] once `stop` is raised (as the sender's
    /// [`VoleSenderAwaitingNoise::finish`]).
    pub(crate) fn finish(self, message: &[u8], stop: &Interrupt) -> Result<ReceiverVole> {
        let shape = self.shape;
        let tree_len = shape.trees.message_len();
        let expected = tree_len + 16 * NOISE_WEIGHT;
        if message.len() != expected {
            return Err(wrong_length(
                "the VOLE sender's last message (bytes)",
                message.len(),
                expected,
            ));
        }
        let leaves = timing::phase("PPRF", || {
            pprf::receive(
                &shape.trees,
                &self.points,
                &self.tree_keys,
                &message[..tree_len],
                stop,
            )
        })?;
        let mut w: Vec<Gf128> = leaves.into_iter().map(Gf128).collect();
        let mut e = vec![Gf128::ZERO; shape.noise_len()];
        for (i, (part, noise)) in w
            .chunks_exact_mut(shape.part)
            .zip(e.chunks_exact_mut(shape.part))
            .enumerate()
        {
            let mut gamma = [0u8; 16];
            gamma.copy_from_slice(&message[tree_len + 16 * i..tree_len + 16 * (i + 1)]);
            // w_α = γ + Σ_{j≠α} v_j + a'  (the punctured leaf is zero in the sum).
            let mut fix = Gf128::from_le_bytes(gamma) + self.noise_shares[i];
            for x in part.iter() {
                fix += *x;
            }
            let alpha = self.points[i] as u64;
            for (j, (x, n)) in part.iter_mut().zip(noise.iter_mut()).enumerate() {
                let here = (j as u64).ct_eq(&alpha);
                *x = Gf128::conditional_select(x, &fix, here);
                *n = Gf128::conditional_select(n, &self.betas[i], here);
            }
        }
        let both = timing::phase("ExConv code", || {
            dual_encode_all(&[&e, &w], shape.outputs, stop)
        });
        e.iter_mut().chain(w.iter_mut()).for_each(|x| x.0.zeroize());
        let mut both = both?;
        let c = both.pop().unwrap_or_default();
        let a = both.pop().unwrap_or_default();
        Ok(ReceiverVole { a, c })
    }
}

impl Drop for VoleReceiverAwaitingTrees {
    fn drop(&mut self) {
        self.points.zeroize();
        self.betas.iter_mut().for_each(|b| b.0.zeroize());
        self.noise_shares.iter_mut().for_each(|b| b.0.zeroize());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::PeerMisbehaved;
    use crate::protocol::vector_rng::VectorRng;

    /// The whole exchange in memory, in the order of the module's diagram.
    pub(crate) fn run(k: usize, label: &[u8]) -> (SenderVole, ReceiverVole) {
        let session = [9u8; 32];
        let mut rng_s = VectorRng::new(&[label, b"/sender"].concat());
        let mut rng_r = VectorRng::new(&[label, b"/receiver"].concat());
        let (sender, s1) = VoleSender::start(&mut rng_s, &session, k).expect("sender starts");
        let (receiver, r1) = VoleReceiver::start(&mut rng_r, &session, k).expect("receiver starts");
        let (receiver, r2) = receiver.on_first(&s1).expect("receiver takes S1");
        let sender = sender.on_first(&r1).expect("sender takes R1");
        let (sent, s2) = sender
            .finish(&mut rng_s, &r2, &Interrupt::new())
            .expect("sender finishes");
        let got = receiver
            .finish(&s2, &Interrupt::new())
            .expect("receiver finishes");
        (sent, got)
    }

    fn check(k: usize) {
        let (s, r) = run(k, b"silent vole test");
        assert_eq!((s.b.len(), r.a.len(), r.c.len()), (k, k, k));
        for i in 0..k {
            assert_eq!(r.c[i], s.b[i] + r.a[i] * s.delta, "output {i} of {k}");
        }
        // a is pseudorandom, not sparse: almost every entry is nonzero.
        let zeros = r.a.iter().filter(|x| **x == Gf128::ZERO).count();
        assert!(zeros <= k / 100, "{zeros} of {k} entries of a are zero");
    }

    #[test]
    fn the_correlation_holds_at_every_output() {
        check(1000);
    }

    #[test]
    fn tiny_and_uneven_sizes_work() {
        for k in [1, 2, 63, 129, 4099] {
            check(k);
        }
    }

    #[test]
    fn shapes_follow_the_spec() {
        let s = VoleShape::new(1 << 20).expect("shape");
        assert_eq!((s.part, s.noise_len(), s.trees.depth), (16384, 1 << 21, 14));
        let s = VoleShape::new(1000).expect("shape");
        assert_eq!(s.part, 16);
        assert!(s.noise_len() >= 2000);
        let s = VoleShape::new(1).expect("shape");
        assert_eq!(s.part, 4);
        assert!(matches!(VoleShape::new(0), Err(Error::Internal(_))));
    }

    #[test]
    fn messages_of_the_wrong_length_are_refused() {
        let session = [1u8; 32];
        let mut rng = VectorRng::new(b"lengths");
        let (sender, s1) = VoleSender::start(&mut rng, &session, 100).expect("starts");
        let (receiver, r1) = VoleReceiver::start(&mut rng, &session, 100).expect("starts");
        assert!(matches!(
            sender.on_first(&r1[1..]),
            Err(Error::PeerMisbehaved(PeerMisbehaved::WrongCount { .. }))
        ));
        let (receiver, _) = receiver.on_first(&s1).expect("takes S1");
        assert!(matches!(
            receiver.finish(&[0u8; 17], &Interrupt::new()),
            Err(Error::PeerMisbehaved(PeerMisbehaved::WrongCount {
                got: 17,
                ..
            }))
        ));
    }

    const VECTOR_PATH: &str = "protocol-spec/vectors/vole-silent.json";
    const VECTOR_K: usize = 20;

    fn blocks(v: &[Gf128]) -> Vec<serde_json::Value> {
        v.iter()
            .map(|x| crate::vole::vectors::hex(&x.to_le_bytes()))
            .collect()
    }

    /// The exchange of spec 8.5.2.1: the session id and then the receiver's draws from the
    /// stream of `vole/silent-receiver`, the sender's from that of `vole/silent-sender`.
    fn generate_vector() -> serde_json::Value {
        use crate::vole::vectors::hex;
        let mut rng_s = VectorRng::new(b"vole/silent-sender");
        let mut rng_r = VectorRng::new(b"vole/silent-receiver");
        let session: [u8; 32] = draw::array(&mut rng_r);
        let (sender, s1) = VoleSender::start(&mut rng_s, &session, VECTOR_K).expect("starts");
        let (receiver, r1) = VoleReceiver::start(&mut rng_r, &session, VECTOR_K).expect("starts");
        let (receiver, r2) = receiver.on_first(&s1).expect("receiver takes S1");
        let sender = sender.on_first(&r1).expect("sender takes R1");
        let (sent, s2) = sender
            .finish(&mut rng_s, &r2, &Interrupt::new())
            .expect("sender finishes");
        let (alphas, betas, noisy_a) = (
            receiver.points.clone(),
            receiver.betas.clone(),
            receiver.noise_shares.clone(),
        );
        let got = receiver
            .finish(&s2, &Interrupt::new())
            .expect("receiver finishes");
        let shape = VoleShape::new(VECTOR_K).expect("shape");
        serde_json::json!({
            "description": "blindmatch silent VOLE (protocol-spec/08-vole-psi.md 8.5.2), seed labels vole/silent-receiver (session id, then the receiver) and vole/silent-sender",
            "receiver_seed_label": "vole/silent-receiver",
            "sender_seed_label": "vole/silent-sender",
            "k": VECTOR_K,
            "part": shape.part,
            "noise_len": shape.noise_len(),
            "depth": shape.trees.depth,
            "session_id": hex(&session),
            "alpha": alphas,
            "beta": blocks(&betas),
            "noisy_a": blocks(&noisy_a),
            "r1": hex(&r1),
            "s1": hex(&s1),
            "r2": hex(&r2),
            "s2": hex(&s2),
            "delta": hex(&sent.delta.to_le_bytes()),
            "b": blocks(&sent.b),
            "a": blocks(&got.a),
            "c": blocks(&got.c),
        })
    }

    #[test]
    fn the_committed_vector_is_what_the_library_produces() {
        crate::vole::vectors::check_committed(VECTOR_PATH, &generate_vector());
    }

    /// The whole exchange rebuilt from spec 8.5.2 and the sections it uses (`spec_model`: plain
    /// curve25519-dalek, `aes` and SHA3) from the two streams, every message and output
    /// compared; and the relations of 8.5.2 checked on the listed and rebuilt values.
    #[test]
    fn the_committed_vector_follows_from_the_spec() {
        use crate::vole::spec_model::{self as spec, Stream};
        let v = crate::vole::vectors::read(VECTOR_PATH);
        let unhex = crate::vole::vectors::unhex;
        let elements = |x: &serde_json::Value| -> Vec<u128> {
            x.as_array()
                .expect("array")
                .iter()
                .map(|b| u128::from_le_bytes(unhex(b).try_into().expect("16 bytes")))
                .collect()
        };

        let mut receiver = Stream::new(b"vole/silent-receiver");
        let mut sender = Stream::new(b"vole/silent-sender");
        let session: [u8; 32] = receiver.bytes(32).try_into().expect("32");
        assert_eq!(unhex(&v["session_id"]), session);
        let run = spec::silent_vole(&session, VECTOR_K, &mut sender, &mut receiver);

        // Shape and message lengths, from 8.5.2's formulas.
        let k = VECTOR_K;
        let part = (2 * (2 * k).div_ceil(128).div_ceil(2)).max(4);
        let d = spec::pprf_depth(part);
        assert_eq!((run.part, run.depth), (part, d));
        assert_eq!(v["part"].as_u64(), Some(part as u64));
        assert_eq!(v["noise_len"].as_u64(), Some(128 * part as u64));
        assert_eq!(v["depth"].as_u64(), Some(d as u64));
        let (r1, s1, r2, s2) = (
            unhex(&v["r1"]),
            unhex(&v["s1"]),
            unhex(&v["r2"]),
            unhex(&v["s2"]),
        );
        assert_eq!(r1.len(), 32);
        assert_eq!(s1.len(), 256 * 64);
        assert_eq!(r2.len(), 2048 * 128 + 128 * 16 * d);
        assert_eq!(s2.len(), 32 * 128 * d + 16 * 128);

        // Every message and output, byte for byte.
        crate::vole::vectors::assert_same_bytes(&r1, &run.r1, "R1");
        crate::vole::vectors::assert_same_bytes(&s1, &run.s1, "S1");
        crate::vole::vectors::assert_same_bytes(&r2, &run.r2, "R2");
        crate::vole::vectors::assert_same_bytes(&s2, &run.s2, "S2");
        let alphas: Vec<usize> = v["alpha"]
            .as_array()
            .expect("alpha")
            .iter()
            .map(|a| a.as_u64().expect("index") as usize)
            .collect();
        assert_eq!(alphas, run.alphas);
        assert!(alphas.iter().all(|&a| a < part));
        assert_eq!(elements(&v["beta"]), run.betas);
        assert_eq!(elements(&v["noisy_a"]), run.noisy_a);
        let delta = u128::from_le_bytes(unhex(&v["delta"]).try_into().expect("16 bytes"));
        assert_eq!(delta, run.delta);
        let (b, a, c) = (elements(&v["b"]), elements(&v["a"]), elements(&v["c"]));
        assert_eq!(b, run.b, "b");
        assert_eq!(a, run.a, "a");
        assert_eq!(c, run.c, "c");

        // The relations: the noisy VOLE's b' = a' + β·Δ; γ_i = Σ_part v + b'_i as sent in S2;
        // w = v + e·Δ with e zero but β_i at i·part + α_i; and c = b + a·Δ at every output.
        for i in 0..128 {
            assert_eq!(
                run.noisy_b[i],
                run.noisy_a[i] ^ spec::mul(run.betas[i], delta),
                "b'_{i}"
            );
            let sum = run.v[i * part..(i + 1) * part]
                .iter()
                .fold(run.noisy_b[i], |acc, x| acc ^ x);
            let at = 32 * 128 * d + 16 * i;
            assert_eq!(s2[at..at + 16], sum.to_le_bytes(), "γ_{i}");
        }
        for j in 0..128 * part {
            let noise = if j % part == alphas[j / part] {
                run.betas[j / part]
            } else {
                0
            };
            assert_eq!(run.e[j], noise, "e_{j}");
            assert_eq!(run.w[j], run.v[j] ^ spec::mul(noise, delta), "w_{j}");
        }
        assert_eq!((b.len(), a.len(), c.len()), (k, k, k));
        for i in 0..k {
            assert_eq!(
                c[i],
                b[i] ^ spec::mul(a[i], delta),
                "c_{i} = b_{i} + a_{i}·Δ"
            );
        }
    }
}
