//! `index.json` (`protocol-spec/07-oprf-psi.md` section 7.8.1): what the index is, its key
//! epoch, the Argon2id parameters of its passphrase, and its stored padding. The format is
//! read first, so that a directory of another format is refused by name before anything
//! else is parsed.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::epoch::KeyEpoch;
use super::kdf::KdfParams;
use super::wrap::FORMAT;
use crate::error::{ConfigReason, Error, Result};
use crate::oprf::Suite;

/// The format of the first index directories (key wrapped without stretching, no epoch).
pub const FORMAT_V1: &str = "blindmatch-oprf-index-v1";

/// The format of the index directories whose key only was authenticated (no seal over the
/// other files, section 7.8.5).
pub const FORMAT_V2: &str = "blindmatch-oprf-index-v2";

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct EpochJson {
    /// 16 bytes, hex.
    pub(crate) id: String,
    pub(crate) created: u64,
    pub(crate) not_after: u64,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct KdfJson {
    /// Always `argon2id`.
    pub(crate) algorithm: String,
    /// Argon2 version, always 19 (`0x13`).
    pub(crate) version: u32,
    pub(crate) m_kib: u32,
    pub(crate) t: u32,
    pub(crate) p: u32,
    /// 16 bytes, hex.
    pub(crate) salt: String,
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Meta {
    pub(crate) format: String,
    pub(crate) suite: Suite,
    pub(crate) items: usize,
    pub(crate) labeled: bool,
    pub(crate) epoch: EpochJson,
    pub(crate) kdf: KdfJson,
    /// The padded size (`--pad-to`), 0 for none.
    pub(crate) pad_to: usize,
    /// Values in `padding.bin`: `max(pad_to - items, 0)`.
    pub(crate) padding: usize,
    /// Names of the payload columns (labeled index); announced to receivers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) label_columns: Vec<String>,
    /// The identifier kinds of the indexed keys (for the policy's `identifier_kinds`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub(crate) kinds: Vec<String>,
}

#[derive(Deserialize)]
struct FormatOnly {
    #[serde(default)]
    format: String,
}

fn damaged(dir: &Path, what: impl std::fmt::Display) -> Error {
    Error::config(
        ConfigReason::Index,
        format!("{}/index.json: {what}", dir.display()),
    )
}

fn hex16(dir: &Path, field: &str, s: &str) -> Result<[u8; 16]> {
    hex::decode(s)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| damaged(dir, format!("`{field}` is not 16 bytes of hex")))
}

impl Meta {
    /// Parses `index.json` of the index in `dir`.
    ///
    /// # Errors
    /// [`Error::Config`] with [`ConfigReason::IndexFormat`] for another format (a v1 or v2 index),
    /// [`ConfigReason::Index`] for a damaged file.
    pub(crate) fn parse(dir: &Path, bytes: &[u8]) -> Result<Meta> {
        let format = serde_json::from_slice::<FormatOnly>(bytes)
            .map_err(|e| damaged(dir, e))?
            .format;
        if format == FORMAT_V1 {
            return Err(Error::config(
                ConfigReason::IndexFormat,
                format!(
                    "{} is an index of format `{FORMAT_V1}` (its key is wrapped without \
                     password stretching and has no epoch); this blindmatch serves only \
                     `{FORMAT}`: rebuild it from its input with a fresh key, in a new \
                     directory",
                    dir.display()
                ),
            ));
        }
        if format == FORMAT_V2 {
            return Err(Error::config(
                ConfigReason::IndexFormat,
                format!(
                    "{} is an index of format `{FORMAT_V2}`: only its key is authenticated, so \
                     a changed payload, label key or tag in its tags.bin cannot be detected, \
                     and sealing it now would vouch for bytes nobody checked; this blindmatch \
                     serves only sealed `{FORMAT}` indexes: rebuild it from its input with a \
                     fresh key, in a new directory",
                    dir.display()
                ),
            ));
        }
        if format != FORMAT {
            return Err(Error::config(
                ConfigReason::IndexFormat,
                format!(
                    "{}/index.json has format `{format}`; this blindmatch reads `{FORMAT}`: \
                     rebuild the index with `blindmatch index`",
                    dir.display()
                ),
            ));
        }
        let meta: Meta = serde_json::from_slice(bytes).map_err(|e| damaged(dir, e))?;
        if meta.kdf.algorithm != "argon2id" || meta.kdf.version != 0x13 {
            return Err(damaged(
                dir,
                "the key-encryption key must be Argon2id version 19",
            ));
        }
        if meta.padding != meta.pad_to.saturating_sub(meta.items) {
            return Err(damaged(dir, "the padding count does not match pad_to"));
        }
        Ok(meta)
    }

    /// The key epoch.
    pub(crate) fn epoch(&self, dir: &Path) -> Result<KeyEpoch> {
        Ok(KeyEpoch {
            id: hex16(dir, "epoch.id", &self.epoch.id)?,
            created: self.epoch.created,
            not_after: self.epoch.not_after,
        })
    }

    /// The Argon2id parameters and salt.
    pub(crate) fn kdf(&self, dir: &Path) -> Result<(KdfParams, [u8; 16])> {
        let k = &self.kdf;
        Ok((
            KdfParams {
                m_kib: k.m_kib,
                t: k.t,
                p: k.p,
            },
            hex16(dir, "kdf.salt", &k.salt)?,
        ))
    }
}

impl EpochJson {
    pub(crate) fn new(e: &KeyEpoch) -> Self {
        EpochJson {
            id: e.id_hex(),
            created: e.created,
            not_after: e.not_after,
        }
    }
}

impl KdfJson {
    pub(crate) fn new(p: &KdfParams, salt: &[u8; 16]) -> Self {
        KdfJson {
            algorithm: "argon2id".into(),
            version: 0x13,
            m_kib: p.m_kib,
            t: p.t,
            p: p.p,
            salt: hex::encode(salt),
        }
    }
}
