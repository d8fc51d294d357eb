//! The keyed commitment of a session's output (`protocol-spec/06-policy-and-audit.md`
//! section 6): the log records `HMAC-SHA3-256(key, lp8(OUTPUT_COMMITMENT) ||
//! SHA3-256(output bytes))` (RFC 2104 HMAC over FIPS 202 SHA3-256), not the plain digest.
//!
//! A plain digest of a small output (three matched rows of a public watchlist) can be found by
//! hashing candidate outputs; the commitment cannot be recomputed without the agency's
//! commitment key, a random 32-byte key kept beside the identity
//! (`IDENTITY/output-commitment.key`, hex). The agency's compliance officer holds it to check an
//! output against the log (`blindmatch report`, [`CommitmentKey::commit_file`]); it signs
//! nothing, so handing it to an auditor grants no power to write the log.

use std::path::Path;

use hmac::{Hmac, KeyInit, Mac};
use rand_core::CryptoRng;
use sha3::Sha3_256;
use zeroize::Zeroizing;

use crate::dst;
use crate::error::{ConfigReason, Error, Result};

/// Default file name of the commitment key inside an identity directory.
pub const COMMITMENT_KEY_FILE: &str = "output-commitment.key";

/// An agency's output commitment key.
#[derive(Clone)]
pub struct CommitmentKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for CommitmentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CommitmentKey(..)")
    }
}

impl CommitmentKey {
    /// A fresh random key.
    pub fn random<R: CryptoRng + ?Sized>(rng: &mut R) -> Self {
        let mut k = Zeroizing::new([0u8; 32]);
        rng.fill_bytes(&mut k[..]);
        CommitmentKey(k)
    }

    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        CommitmentKey(Zeroizing::new(bytes))
    }

    /// Reads the key file (64 hex characters).
    ///
    /// # Errors
    /// [`Error::FileMode`] if the group or others may read or write it (`chmod 600` it);
    /// [`Error::Io`] if it cannot be read; [`Error::Config`] with [`ConfigReason::Identity`]
    /// if it does not hold a key.
    pub fn load(path: &Path) -> Result<Self> {
        let text = Zeroizing::new(crate::file_mode::read_secret(path, |e| {
            Error::io(format!("reading {}", path.display()), e)
        })?);
        let mut k = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(text.trim_ascii(), &mut k[..]).map_err(|_| {
            Error::config(
                ConfigReason::Identity,
                format!(
                    "{} does not hold an output commitment key (64 hex characters)",
                    path.display()
                ),
            )
        })?;
        Ok(CommitmentKey(k))
    }

    /// The key at `path`, created (random, written with mode 0600 where the platform has
    /// modes) if the file does not exist yet: identities made before commitments existed get
    /// one the first time an agency opens them.
    ///
    /// # Errors
    /// As [`CommitmentKey::load`]; [`Error::Io`] if a new key cannot be written.
    pub fn load_or_create(path: &Path) -> Result<Self> {
        if path.exists() {
            return CommitmentKey::load(path);
        }
        let key = CommitmentKey::random(&mut rand_core::UnwrapErr(rand::rngs::SysRng));
        match key.save(path) {
            Ok(()) => Ok(key),
            // Another process of the agency created it first: use that one.
            Err(_) if path.exists() => CommitmentKey::load(path),
            Err(e) => Err(e),
        }
    }

    /// Writes the key as hex to a new file at `path`, refusing to overwrite one. The file
    /// appears whole or not at all (written to a temporary file of mode 0600 in the same
    /// directory, fsynced, then linked into place), so a concurrent reader never sees part of
    /// it.
    ///
    /// # Errors
    /// [`Error::Io`] if the file exists or cannot be written.
    pub fn save(&self, path: &Path) -> Result<()> {
        use std::io::Write;
        let io = |e| Error::io(format!("writing {}", path.display()), e);
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
        let hex = Zeroizing::new(hex::encode(&self.0[..]));
        tmp.write_all(hex.as_bytes()).map_err(io)?;
        tmp.write_all(b"\n").map_err(io)?;
        tmp.as_file().sync_all().map_err(io)?;
        tmp.persist_noclobber(path).map_err(|e| io(e.error))?;
        Ok(())
    }

    /// The commitment (hex) to an output whose SHA3-256 is `sha3_256`.
    pub fn commit(&self, sha3_256: &[u8; 32]) -> String {
        // HMAC takes keys of any length: a 32-byte key cannot fail.
        let mut mac = <Hmac<Sha3_256> as KeyInit>::new_from_slice(&self.0[..])
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(&[dst::OUTPUT_COMMITMENT.len() as u8]);
        mac.update(dst::OUTPUT_COMMITMENT);
        mac.update(sha3_256);
        hex::encode(mac.finalize().into_bytes())
    }

    /// [`CommitmentKey::commit`] of `sha3_256` given as 64 hex characters.
    ///
    /// # Errors
    /// [`Error::Internal`] if it is not 64 hex characters.
    pub fn commit_hex(&self, sha3_256: &str) -> Result<String> {
        let mut d = [0u8; 32];
        hex::decode_to_slice(sha3_256, &mut d)
            .map_err(|_| Error::internal(format!("`{sha3_256}` is not a SHA3-256 digest")))?;
        Ok(self.commit(&d))
    }

    /// The commitment to the bytes of the file at `path`.
    ///
    /// # Errors
    /// [`Error::Io`] if it cannot be read.
    pub fn commit_file(&self, path: &Path) -> Result<String> {
        self.commit_hex(&super::file_digest(path)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commitment_depends_on_the_key_and_the_output() {
        let (a, b) = (
            CommitmentKey::from_bytes([1; 32]),
            CommitmentKey::from_bytes([2; 32]),
        );
        assert_ne!(a.commit(&[0; 32]), b.commit(&[0; 32]));
        assert_ne!(a.commit(&[0; 32]), a.commit(&[1; 32]));
        assert_eq!(a.commit(&[0; 32]).len(), 64);
    }

    #[test]
    fn a_key_file_round_trips_and_is_never_overwritten() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join(COMMITMENT_KEY_FILE);
        let k = CommitmentKey::load_or_create(&path).expect("created");
        let again = CommitmentKey::load_or_create(&path).expect("loaded");
        assert_eq!(k.commit(&[3; 32]), again.commit(&[3; 32]));
        assert!(k.save(&path).is_err());
    }
}
