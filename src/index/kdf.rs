//! The key-encryption key of an index, stretched from its passphrase file with Argon2id
//! (RFC 9106; `protocol-spec/07-oprf-psi.md` section 7.8.1):
//!
//! ```text
//! KEK = Argon2id(P = passphrase-file bytes, S = salt (16 random bytes), K = empty,
//!                X = INDEX_KEY_WRAP, T = 32, m = m_kib, t = t, p = p, v = 0x13)
//! ```
//!
//! RFC 9106 section 3.1 defines the inputs (`P`, `S`, `K`, `X`, `T`, `p`, `m`, `t`, `v`,
//! `y = 2` for Argon2id), section 3.2 the computation, section 4 the parameter choice. The
//! default is the RFC's "second recommended option" (section 4): `t = 3`, `p = 4`,
//! `m = 2^16` KiB (64 MiB), a 128-bit salt and a 256-bit tag. The parameters are stored in
//! `index.json`, so an index built with others still opens; altering them yields another
//! KEK, which fails to unwrap the key.

use argon2::{Algorithm, Argon2, AssociatedData, ParamsBuilder, Version};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::dst;
use crate::error::{ConfigReason, Error, Result};

/// Shortest passphrase accepted, in bytes.
pub const MIN_PASSPHRASE_LEN: usize = 32;

/// The Argon2id parameters of an index (RFC 9106 section 3.1), as stored in `index.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory in KiB (`m`).
    pub m_kib: u32,
    /// Passes (`t`).
    pub t: u32,
    /// Lanes (`p`).
    pub p: u32,
}

impl KdfParams {
    /// RFC 9106 section 4, second recommended option: `m = 2^16` KiB, `t = 3`, `p = 4`.
    pub const RFC9106_SECOND: KdfParams = KdfParams {
        m_kib: 1 << 16,
        t: 3,
        p: 4,
    };

    /// The most memory an index may ask for when opened: 4 GiB (a bound on what a damaged
    /// `index.json` can make us allocate).
    pub const MAX_M_KIB: u32 = 1 << 22;
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::RFC9106_SECOND
    }
}

fn refused(detail: String) -> Error {
    Error::config(ConfigReason::Index, detail)
}

/// Derives the KEK of `passphrase` and `salt` under `params`.
///
/// # Errors
/// [`Error::Config`] with [`ConfigReason::Index`] if the passphrase is shorter than
/// [`MIN_PASSPHRASE_LEN`] or the parameters are out of Argon2's range (or above
/// [`KdfParams::MAX_M_KIB`]).
pub fn kek(params: &KdfParams, salt: &[u8; 16], passphrase: &[u8]) -> Result<Zeroizing<[u8; 32]>> {
    if passphrase.len() < MIN_PASSPHRASE_LEN {
        return Err(refused(format!(
            "the passphrase file holds {} bytes; it needs at least {MIN_PASSPHRASE_LEN} \
             random bytes (create one with `(umask 077; head -c 32 /dev/urandom | base64 > \
             FILE)`)",
            passphrase.len()
        )));
    }
    let bad =
        |e: argon2::Error| refused(format!("index.json: Argon2id parameters {params:?}: {e}"));
    if params.m_kib > KdfParams::MAX_M_KIB {
        return Err(refused(format!(
            "index.json asks Argon2id for {} KiB of memory, above the limit of {} KiB",
            params.m_kib,
            KdfParams::MAX_M_KIB
        )));
    }
    let built = ParamsBuilder::new()
        .m_cost(params.m_kib)
        .t_cost(params.t)
        .p_cost(params.p)
        .data(AssociatedData::new(dst::INDEX_KEY_WRAP).map_err(bad)?)
        .output_len(32)
        .build()
        .map_err(bad)?;
    let mut k = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, built)
        .hash_password_into(passphrase, salt, &mut k[..])
        .map_err(bad)?;
    Ok(k)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc9106_argon2id_vector_through_the_same_crate() {
        // RFC 9106 section 5.3 (Argon2id): P = 32 x 0x01, S = 16 x 0x02, K = 8 x 0x03,
        // X = 12 x 0x04, m = 32, t = 3, p = 4, T = 32.
        let params = ParamsBuilder::new()
            .m_cost(32)
            .t_cost(3)
            .p_cost(4)
            .data(AssociatedData::new(&[4u8; 12]).expect("ad"))
            .output_len(32)
            .build()
            .expect("params");
        let mut out = [0u8; 32];
        Argon2::new_with_secret(&[3u8; 8], Algorithm::Argon2id, Version::V0x13, params)
            .expect("secret")
            .hash_password_into(&[1u8; 32], &[2u8; 16], &mut out)
            .expect("hash");
        assert_eq!(
            hex::encode(out),
            "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"
        );
    }

    #[test]
    fn short_passphrases_and_absurd_memory_are_refused() {
        let small = KdfParams {
            m_kib: 64,
            t: 1,
            p: 1,
        };
        assert!(kek(&small, &[0; 16], b"short").is_err());
        let huge = KdfParams {
            m_kib: u32::MAX,
            ..small
        };
        assert!(kek(&huge, &[0; 16], &[7; 32]).is_err());
        let a = kek(&small, &[0; 16], &[7; 32]).expect("kek");
        let b = kek(&small, &[1; 16], &[7; 32]).expect("kek");
        assert_ne!(*a, *b);
    }
}
