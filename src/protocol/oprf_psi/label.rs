//! Labeled mode: payloads encrypted under keys derived from the OPRF output
//! (`protocol-spec/07-oprf-psi.md` section 6).
//!
//! * key   = first 32 bytes of `SHAKE256(OPRF_PSI_LABEL_KEY || output)`;
//! * nonce = first 12 bytes of `SHAKE256(OPRF_PSI_LABEL_NONCE || session_id)`;
//! * plaintext = `I2OSP(len(payload), 2) || payload || zeros` to `2 + payload_len` bytes;
//! * ciphertext = ChaCha20-Poly1305(key, nonce, plaintext, aad = session_id).
//!
//! One key per distinct item and one nonce per session: a (key, nonce) pair is never reused
//! as long as session ids are unique, even when a precomputed index reuses its OPRF key.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use sha3::digest::{ExtendableOutput, Update, XofReader};
use sha3::Shake256;
use zeroize::Zeroizing;

use crate::dst;
use crate::error::{Error, Result};
use crate::oprf::OprfOutput;

/// The AEAD key of an item's payload, derived from its OPRF output.
pub fn label_key(output: &OprfOutput) -> Zeroizing<[u8; 32]> {
    let mut h = Shake256::default();
    h.update(dst::OPRF_PSI_LABEL_KEY);
    h.update(output);
    let mut k = Zeroizing::new([0u8; 32]);
    h.finalize_xof().read(&mut k[..]);
    k
}

/// The session's AEAD nonce.
pub fn session_nonce(session_id: &[u8; 32]) -> [u8; 12] {
    let mut h = Shake256::default();
    h.update(dst::OPRF_PSI_LABEL_NONCE);
    h.update(session_id);
    let mut n = [0u8; 12];
    h.finalize_xof().read(&mut n);
    n
}

/// Encrypts a payload padded to `payload_len` bytes.
///
/// # Errors
/// [`Error::Input`] if the payload is longer than `payload_len`.
pub fn seal(
    key: &[u8; 32],
    session_id: &[u8; 32],
    payload: &[u8],
    payload_len: usize,
) -> Result<Vec<u8>> {
    if payload.len() > payload_len {
        return Err(Error::input(
            crate::error::InputReason::Payload,
            format!(
                "a payload of {} bytes exceeds the session's payload length of {payload_len}",
                payload.len()
            ),
        ));
    }
    let mut plain = Zeroizing::new(vec![0u8; 2 + payload_len]);
    plain[..2].copy_from_slice(&(payload.len() as u16).to_be_bytes());
    plain[2..2 + payload.len()].copy_from_slice(payload);
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
    cipher
        .encrypt(
            Nonce::from_slice(&session_nonce(session_id)),
            Payload {
                msg: &plain,
                aad: session_id,
            },
        )
        .map_err(|_| Error::internal("payload encryption failed"))
}

/// Decrypts and unpads a payload; `None` when the key is wrong or the ciphertext was
/// altered (fails closed: nothing of the plaintext is returned).
pub fn open(key: &[u8; 32], session_id: &[u8; 32], ciphertext: &[u8]) -> Option<Vec<u8>> {
    let cipher = ChaCha20Poly1305::new(Key::from_slice(key));
    let plain = Zeroizing::new(
        cipher
            .decrypt(
                Nonce::from_slice(&session_nonce(session_id)),
                Payload {
                    msg: ciphertext,
                    aad: session_id,
                },
            )
            .ok()?,
    );
    let len = u16::from_be_bytes([*plain.first()?, *plain.get(1)?]) as usize;
    let body = plain.get(2..)?;
    if len > body.len() || body[len..].iter().any(|&b| b != 0) {
        return None;
    }
    Some(body[..len].to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_and_fail_closed() {
        let key = label_key(&[1u8; 64]);
        let sid = [7u8; 32];
        let ct = seal(&key, &sid, b"vessel=EVER GIVEN", 32).expect("fits");
        assert_eq!(ct.len(), 2 + 32 + 16);
        assert_eq!(
            open(&key, &sid, &ct).as_deref(),
            Some(&b"vessel=EVER GIVEN"[..])
        );
        let other = label_key(&[2u8; 64]);
        assert_eq!(open(&other, &sid, &ct), None);
        assert_eq!(open(&key, &[8u8; 32], &ct), None);
        let mut tampered = ct.clone();
        tampered[5] ^= 1;
        assert_eq!(open(&key, &sid, &tampered), None);
        assert!(seal(&key, &sid, &[0u8; 33], 32).is_err());
    }

    #[test]
    fn bad_padding_or_length_is_refused_even_when_authentic() {
        let key = label_key(&[3u8; 64]);
        let sid = [1u8; 32];
        let cipher = ChaCha20Poly1305::new(Key::from_slice(&key[..]));
        let nonce = session_nonce(&sid);
        for plain in [&[0u8, 1, b'a', b'b'][..], &[0, 3, b'a'][..], &[0][..]] {
            let ct = cipher
                .encrypt(
                    Nonce::from_slice(&nonce),
                    Payload {
                        msg: plain,
                        aad: &sid,
                    },
                )
                .expect("encrypt");
            assert_eq!(open(&key, &sid, &ct), None, "{plain:?}");
        }
    }
}
