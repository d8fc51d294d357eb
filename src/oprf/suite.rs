//! The two OPRF suites (RFC 9497 section 4) and the hash functions each one names.
//!
//! Both suites run RFC 9497's OPRF mode (`mode = 0x00`) on ristretto255 with one code path;
//! they differ only in the hash functions:
//!
//! | function | `ristretto255-SHA512` (RFC 9497 4.1) | `ristretto255-SHAKE256-blindmatch-v1` |
//! |---|---|---|
//! | `HashToGroup` | `hash_to_ristretto255`, `expand_message_xmd(SHA-512)` | `hash_to_ristretto255`, `expand_message_xof(SHAKE256)` |
//! | `HashToScalar` | `expand_message_xmd(SHA-512)`, 64 bytes, mod `l` | `expand_message_xof(SHAKE256)`, 64 bytes, mod `l` |
//! | `Hash` (Finalize) | SHA-512 | SHA3-512 |
//!
//! The context string is `"OPRFV1-" || I2OSP(0x00, 1) || "-" || identifier` in both
//! (`protocol-spec/07-oprf-psi.md` section 2).

use curve25519_dalek::ristretto::RistrettoPoint;
use curve25519_dalek::scalar::Scalar;
use sha2::{Digest, Sha512};
use sha3::Sha3_512;

use crate::dst;
use crate::group::expand::{expand_message_xmd_sha512, expand_message_xof, Xof};
use crate::group::hash_to_group::{hash_to_ristretto255_xmd, hash_to_ristretto255_xof};

/// RFC 9497 mode identifier of the OPRF (non-verifiable) mode.
pub const MODE_OPRF: u8 = 0x00;

/// Length of an OPRF output (`Nh`), the same in both suites.
pub const OUTPUT_LEN: usize = 64;

/// An OPRF output: `Hash(len(input) || input || len(N) || N || "Finalize")`.
pub type OprfOutput = [u8; OUTPUT_LEN];

/// An OPRF suite: the RFC's `ristretto255-SHA512`, or blindmatch's SHA3 suite.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[non_exhaustive]
pub enum Suite {
    /// RFC 9497 section 4.1, exactly as the RFC defines it.
    #[serde(rename = "ristretto255-SHA512")]
    Ristretto255Sha512,
    /// blindmatch's suite: the RFC 9497 structure with SHAKE256 / SHA3-512 hashing
    /// (identifier `ristretto255-SHAKE256-blindmatch-v1`). The default of blindmatch.
    #[default]
    #[serde(rename = "ristretto255-SHAKE256-blindmatch-v1")]
    Ristretto255Shake256,
}

impl Suite {
    /// Both suites, for tests and for the spec.
    pub const ALL: [Suite; 2] = [Suite::Ristretto255Sha512, Suite::Ristretto255Shake256];

    /// The suite identifier (RFC 9497 section 4).
    pub fn identifier(self) -> &'static [u8] {
        match self {
            Suite::Ristretto255Sha512 => dst::OPRF_RFC9497_SUITE_ID,
            Suite::Ristretto255Shake256 => dst::OPRF_SHA3_SUITE_ID,
        }
    }

    /// One byte naming the suite on the wire and in an index (`0x01` = SHA-512, `0x02` = SHA3).
    pub fn code(self) -> u8 {
        match self {
            Suite::Ristretto255Sha512 => 0x01,
            Suite::Ristretto255Shake256 => 0x02,
        }
    }

    /// The suite of a [`Suite::code`], if any.
    pub fn from_code(code: u8) -> Option<Suite> {
        Suite::ALL.into_iter().find(|s| s.code() == code)
    }

    /// `contextString = "OPRFV1-" || I2OSP(mode, 1) || "-" || identifier` (RFC 9497 3.1).
    pub fn context_string(self) -> Vec<u8> {
        let mut c = b"OPRFV1-".to_vec();
        c.push(MODE_OPRF);
        c.push(b'-');
        c.extend_from_slice(self.identifier());
        c
    }

    /// `"HashToGroup-" || contextString`.
    pub fn hash_to_group_dst(self) -> Vec<u8> {
        [b"HashToGroup-".as_slice(), &self.context_string()].concat()
    }

    /// `"HashToScalar-" || contextString`.
    pub fn hash_to_scalar_dst(self) -> Vec<u8> {
        [b"HashToScalar-".as_slice(), &self.context_string()].concat()
    }

    /// `"DeriveKeyPair" || contextString` (no dash, as in RFC 9497 3.2.1).
    pub fn derive_key_pair_dst(self) -> Vec<u8> {
        [b"DeriveKeyPair".as_slice(), &self.context_string()].concat()
    }

    /// `HashToGroup(msg)` under a precomputed [`Suite::hash_to_group_dst`].
    pub fn hash_to_group(self, msg: &[&[u8]], dst: &[u8]) -> RistrettoPoint {
        match self {
            Suite::Ristretto255Sha512 => hash_to_ristretto255_xmd(msg, dst),
            Suite::Ristretto255Shake256 => hash_to_ristretto255_xof(msg, dst),
        }
    }

    /// `HashToScalar(msg, DST)`: 64 expanded bytes read little-endian, reduced mod `l`.
    pub fn hash_to_scalar(self, msg: &[&[u8]], dst: &[u8]) -> Scalar {
        let mut wide = [0u8; 64];
        match self {
            Suite::Ristretto255Sha512 => expand_message_xmd_sha512(msg, dst, &mut wide),
            Suite::Ristretto255Shake256 => expand_message_xof(Xof::Shake256, msg, dst, &mut wide),
        }
        Scalar::from_bytes_mod_order_wide(&wide)
    }

    /// The suite's `Hash` over concatenated parts (SHA-512 or SHA3-512).
    pub fn hash(self, parts: &[&[u8]]) -> OprfOutput {
        match self {
            Suite::Ristretto255Sha512 => {
                let mut h = Sha512::new();
                parts.iter().for_each(|p| h.update(p));
                h.finalize().into()
            }
            Suite::Ristretto255Shake256 => {
                let mut h = Sha3_512::new();
                parts.iter().for_each(|p| h.update(p));
                h.finalize().into()
            }
        }
    }

    /// `Finalize`'s hash (RFC 9497 3.3.1):
    /// `Hash(I2OSP(len(input), 2) || input || I2OSP(32, 2) || unblindedElement || "Finalize")`.
    /// The caller has checked `input.len() <= 65535`.
    pub(crate) fn finalize_hash(self, input: &[u8], unblinded: &[u8; 32]) -> OprfOutput {
        let input_len = (input.len() as u16).to_be_bytes();
        let elem_len = 32u16.to_be_bytes();
        self.hash(&[&input_len, input, &elem_len, unblinded, b"Finalize"])
    }
}

impl std::fmt::Display for Suite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The identifiers are ASCII.
        f.write_str(&String::from_utf8_lossy(self.identifier()))
    }
}

impl std::str::FromStr for Suite {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<Self> {
        Suite::ALL
            .into_iter()
            .find(|suite| suite.identifier() == s.as_bytes())
            .ok_or_else(|| {
                crate::Error::input(
                    crate::error::InputReason::Argument,
                    format!(
                        "unknown OPRF suite `{s}`: use `ristretto255-SHA512` or \
                         `ristretto255-SHAKE256-blindmatch-v1`"
                    ),
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn context_strings_follow_rfc9497() {
        assert_eq!(
            Suite::Ristretto255Sha512.context_string(),
            b"OPRFV1-\x00-ristretto255-SHA512".to_vec()
        );
        assert_ne!(
            Suite::Ristretto255Sha512.hash_to_group_dst(),
            Suite::Ristretto255Shake256.hash_to_group_dst()
        );
        for s in Suite::ALL {
            assert_eq!(Suite::from_code(s.code()), Some(s));
            assert_eq!(s.to_string().parse::<Suite>().ok(), Some(s));
        }
    }
}
