//! The seal of an index (`protocol-spec/07-oprf-psi.md` section 7.8.5): every byte of every
//! file of the directory authenticated under a key derived from the index's OPRF key, so a
//! flipped byte, a truncation, a deleted file, a file taken from another index or a mix of two
//! saves of one index is refused when the index is opened, before any session.
//!
//! ```text
//! PRK       = HKDF-Extract(salt = INDEX_SEAL_KEY, IKM = SerializeScalar(skS))
//! seal key  = HKDF-Expand(PRK, info = aad of key.wrapped (57 bytes), L = 32)
//! file tag  = HMAC(seal key, lp8(INDEX_SEAL_FILE) || lp8(name) || I2OSP(len(bytes), 8) || bytes)
//!             for index.json, key.wrapped, tags.bin, padding.bin, in this order
//! seal.bin  = tag(index.json) || tag(key.wrapped) || tag(tags.bin) || tag(padding.bin)
//!             || HMAC(seal key, lp8(INDEX_SEAL) || the four file tags)          (160 bytes)
//! ```
//!
//! HKDF is RFC 5869 (section 2.2 Extract, 2.3 Expand) and HMAC is RFC 2104, both over
//! SHA3-256 (FIPS 202); `lp8(x) = I2OSP(len(x), 1) || x`. The info binds the seal key to the
//! format, suite and key epoch (the index id), so the tags of one index never verify in
//! another. The per-file tags name the file that fails; the last tag binds the four together,
//! so files of two saves of the same index (same key, same epoch) cannot be mixed. Tags are
//! compared in constant time.

use std::io::{Read, Write};

use hmac::{Hmac, KeyInit, Mac};
use sha3::Sha3_256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::dst;
use crate::error::IndexFile;
use crate::oprf::OprfKey;

type HmacSha3 = Hmac<Sha3_256>;

/// The files the seal covers, in order.
pub(crate) const SEALED: [IndexFile; 4] = [
    IndexFile::Meta,
    IndexFile::WrappedKey,
    IndexFile::Tags,
    IndexFile::Padding,
];

/// Length of `seal.bin`: four file tags and the tag over them.
pub(crate) const SEAL_LEN: usize = 32 * (SEALED.len() + 1);

fn hmac(key: &[u8]) -> HmacSha3 {
    // HMAC takes keys of any length: this cannot fail.
    <HmacSha3 as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"))
}

fn lp8(mac: &mut HmacSha3, x: &[u8]) {
    mac.update(&[x.len() as u8]);
    mac.update(x);
}

/// HKDF (RFC 5869) with output length 32, over the HMAC `M` of a hash whose output is 32
/// bytes: `PRK = HMAC(salt, ikm)` (Extract, section 2.2), then `OKM = T(1) = HMAC(PRK, info
/// || 0x01)` (Expand, section 2.3, one block).
fn hkdf_32<M: Mac + KeyInit>(salt: &[u8], ikm: &[u8], info: &[u8]) -> Zeroizing<[u8; 32]> {
    let key = |k: &[u8]| {
        <M as KeyInit>::new_from_slice(k).unwrap_or_else(|_| unreachable!("HMAC takes any key"))
    };
    let mut extract = key(salt);
    extract.update(ikm);
    let prk = Zeroizing::new(extract.finalize().into_bytes().to_vec());
    let mut expand = key(&prk);
    expand.update(info);
    expand.update(&[0x01]);
    let mut okm = Zeroizing::new([0u8; 32]);
    okm.copy_from_slice(&expand.finalize().into_bytes()[..32]);
    okm
}

/// The key that seals one index (derived, never stored).
pub(crate) struct SealKey(Zeroizing<[u8; 32]>);

impl std::fmt::Debug for SealKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealKey(..)")
    }
}

impl SealKey {
    /// HKDF-SHA3-256 of the OPRF key, with the 57-byte AAD of `key.wrapped` as info.
    pub(crate) fn derive(key: &OprfKey, info: &[u8]) -> SealKey {
        SealKey(hkdf_32::<HmacSha3>(
            dst::INDEX_SEAL_KEY,
            &key.to_bytes()[..],
            info,
        ))
    }

    /// The running tag of `file`, of `len` bytes, to feed as it is read or written.
    pub(crate) fn file_mac(&self, file: IndexFile, len: u64) -> FileMac {
        let mut mac = hmac(&self.0[..]);
        lp8(&mut mac, dst::INDEX_SEAL_FILE);
        lp8(&mut mac, file.name().as_bytes());
        mac.update(&len.to_be_bytes());
        FileMac { mac, len, seen: 0 }
    }

    /// The tag of `file` holding `bytes`.
    pub(crate) fn file_tag(&self, file: IndexFile, bytes: &[u8]) -> [u8; 32] {
        let mut m = self.file_mac(file, bytes.len() as u64);
        m.update(bytes);
        m.finish()
            .unwrap_or_else(|| unreachable!("fed exactly its length"))
    }

    fn whole_tag(&self, file_tags: &[u8]) -> [u8; 32] {
        let mut mac = hmac(&self.0[..]);
        lp8(&mut mac, dst::INDEX_SEAL);
        mac.update(file_tags);
        mac.finalize().into_bytes().into()
    }

    /// The bytes of `seal.bin` from the tags of the files of [`SEALED`], in that order.
    pub(crate) fn seal(&self, file_tags: [[u8; 32]; 4]) -> Vec<u8> {
        let mut out = file_tags.concat();
        let whole = self.whole_tag(&out);
        out.extend_from_slice(&whole);
        out
    }

    /// Checks `seal` against the tags computed from the files of [`SEALED`], in that order
    /// (`None`: the file did not hold the length its tag was started with); the first file
    /// that fails, if any: [`IndexFile::Seal`] when the seal itself is malformed or its last
    /// tag does not verify, else the first file whose bytes are not the sealed ones.
    pub(crate) fn check(&self, seal: &[u8], file_tags: [Option<[u8; 32]>; 4]) -> Option<IndexFile> {
        if seal.len() != SEAL_LEN {
            return Some(IndexFile::Seal);
        }
        let (stored, whole) = seal.split_at(32 * SEALED.len());
        if !bool::from(self.whole_tag(stored).ct_eq(whole)) {
            return Some(IndexFile::Seal);
        }
        SEALED
            .iter()
            .zip(file_tags)
            .zip(stored.chunks_exact(32))
            .find(|((_, tag), want)| !tag.is_some_and(|t| bool::from(t.ct_eq(want))))
            .map(|((file, _), _)| *file)
    }
}

/// The tag of one file, fed as its bytes are read or written.
pub(crate) struct FileMac {
    mac: HmacSha3,
    len: u64,
    seen: u64,
}

impl FileMac {
    /// Feeds the next bytes of the file.
    pub(crate) fn update(&mut self, bytes: &[u8]) {
        self.seen += bytes.len() as u64;
        self.mac.update(bytes);
    }

    /// The tag; `None` if the bytes fed are not the length the tag was started with.
    pub(crate) fn finish(self) -> Option<[u8; 32]> {
        (self.seen == self.len).then(|| self.mac.finalize().into_bytes().into())
    }
}

/// A reader that feeds every byte it reads to a [`FileMac`].
pub(crate) struct MacReader<'a, R> {
    pub(crate) inner: R,
    pub(crate) mac: &'a mut FileMac,
}

impl<R: Read> Read for MacReader<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.mac.update(&buf[..n]);
        Ok(n)
    }
}

/// A writer that feeds every byte it writes to a [`FileMac`].
pub(crate) struct MacWriter<'a, W> {
    pub(crate) inner: W,
    pub(crate) mac: &'a mut FileMac,
}

impl<W: Write> Write for MacWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.mac.update(&buf[..n]);
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::vector_rng::VectorRng;

    fn key(label: &[u8]) -> OprfKey {
        OprfKey::random(&mut VectorRng::new(label))
    }

    #[test]
    fn hkdf_matches_rfc5869_test_case_1_over_sha256() {
        // The same code over SHA-256: RFC 5869 appendix A.1 (the first 32 bytes of its OKM).
        let salt: Vec<u8> = (0x00..=0x0c).collect();
        let info: Vec<u8> = (0xf0..=0xf9).collect();
        let okm = hkdf_32::<Hmac<sha2::Sha256>>(&salt, &[0x0b; 22], &info);
        assert_eq!(
            hex::encode(&okm[..]),
            "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
        );
    }

    #[test]
    fn every_file_is_named_when_it_changes_and_other_keys_refuse() {
        let k = SealKey::derive(&key(b"seal/a"), &[1; 57]);
        let files: [&[u8]; 4] = [b"{}", &[7; 60], &[1, 2, 3], &[]];
        let tags = |k: &SealKey, files: [&[u8]; 4]| {
            let mut out = [None; 4];
            for (i, f) in SEALED.iter().enumerate() {
                out[i] = Some(k.file_tag(*f, files[i]));
            }
            out
        };
        let seal = k.seal(tags(&k, files).map(Option::unwrap));
        assert_eq!(seal.len(), SEAL_LEN);
        assert_eq!(k.check(&seal, tags(&k, files)), None);
        for (i, file) in SEALED.iter().enumerate() {
            let mut changed = files;
            let longer = [files[i], b"x"].concat();
            changed[i] = &longer;
            assert_eq!(k.check(&seal, tags(&k, changed)), Some(*file));
            let mut short = tags(&k, files);
            short[i] = None;
            assert_eq!(k.check(&seal, short), Some(*file));
        }
        let mut bad = seal.clone();
        bad[SEAL_LEN - 1] ^= 1;
        assert_eq!(k.check(&bad, tags(&k, files)), Some(IndexFile::Seal));
        assert_eq!(
            k.check(&seal[..SEAL_LEN - 1], tags(&k, files)),
            Some(IndexFile::Seal)
        );
        // Another key, or the same key under another epoch: the whole seal fails.
        let other = SealKey::derive(&key(b"seal/b"), &[1; 57]);
        assert_eq!(
            other.check(&seal, tags(&other, files)),
            Some(IndexFile::Seal)
        );
        let epoch = SealKey::derive(&key(b"seal/a"), &[2; 57]);
        assert_eq!(
            epoch.check(&seal, tags(&epoch, files)),
            Some(IndexFile::Seal)
        );
    }

    #[test]
    fn a_tag_fed_in_pieces_through_a_reader_is_the_tag_of_the_bytes() {
        let k = SealKey::derive(&key(b"seal/c"), &[3; 57]);
        let bytes: Vec<u8> = (0..1000u32).map(|i| (i * 7) as u8).collect();
        let mut mac = k.file_mac(IndexFile::Tags, bytes.len() as u64);
        let mut r = MacReader {
            inner: &bytes[..],
            mac: &mut mac,
        };
        std::io::copy(&mut r, &mut std::io::sink()).expect("copy");
        assert_eq!(mac.finish(), Some(k.file_tag(IndexFile::Tags, &bytes)));
        let mut mac = k.file_mac(IndexFile::Tags, bytes.len() as u64 + 1);
        mac.update(&bytes);
        assert_eq!(mac.finish(), None);
    }
}
