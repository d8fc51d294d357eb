//! Unbalanced mode: a sender's evaluated set, precomputed once and stored in a directory,
//! with its OPRF key encrypted at rest (`protocol-spec/07-oprf-psi.md` section 8).
//!
//! ```text
//! DIR/index.json   {"format", "suite", "items", "labeled", "salt", ["label_columns"], ["kinds"]}
//! DIR/key.wrapped  the OPRF key, wrapped (see `wrap`)
//! DIR/tags.bin     per item, ascending by tag: tag (16 bytes, big-endian)
//!                  [labeled: label key (32) || payload length (2, BE) || payload]
//! ```
//!
//! Every session served from one index uses the same key, so a receiver that queries twice
//! sees which of its items changed status in between: only where the policy allows it.
//! `tags.bin` holds the label keys and the payloads in plaintext: protect the directory
//! like the sender's input file.

mod wrap;

use std::fs;
use std::path::{Path, PathBuf};

use rand_core::CryptoRng;
use serde::{Deserialize, Serialize};

pub use wrap::{FORMAT, MIN_PASSPHRASE_LEN};

use crate::error::{ConfigReason, Error, Result};
use crate::oprf::{OprfKey, Suite};
use crate::protocol::oprf_psi::prepared::LabelParts;
use crate::protocol::oprf_psi::PreparedSender;
use crate::protocol::ItemSet;

#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    format: String,
    suite: Suite,
    items: usize,
    labeled: bool,
    salt: String,
    /// Names of the payload columns (labeled index); announced to receivers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    label_columns: Vec<String>,
    /// The identifier kinds of the indexed keys (for the policy's `identifier_kinds`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    kinds: Vec<String>,
}

/// A precomputed sender set in a directory.
#[derive(Debug)]
pub struct Index {
    dir: PathBuf,
    salt: [u8; 16],
    wrapped: Vec<u8>,
    set: PreparedSender,
    label_columns: Vec<String>,
    kinds: Vec<String>,
}

impl Index {
    /// Precomputes `items` under a fresh random key and writes the index to `dir` (created
    /// if missing; an existing index there is refused).
    ///
    /// # Errors
    /// [`Error::Config`] with [`ConfigReason::Index`] if `dir` already holds an index or the
    /// passphrase is too short; [`Error::Input`] as [`PreparedSender::new`]; [`Error::Io`] on
    /// write failures.
    pub fn create<R: CryptoRng + ?Sized>(
        dir: &Path,
        suite: Suite,
        passphrase: &[u8],
        items: &ItemSet,
        payloads: Option<&[Vec<u8>]>,
        rng: &mut R,
    ) -> Result<Index> {
        if dir.join("index.json").exists() {
            return Err(Error::config(
                ConfigReason::Index,
                format!(
                    "{} already holds an index; use --add/--remove to change it, or another --out",
                    dir.display()
                ),
            ));
        }
        let key = OprfKey::random(rng);
        let mut salt = [0u8; 16];
        rng.fill_bytes(&mut salt);
        let wrapped = wrap::wrap(&key, suite, &salt, passphrase, rng)?;
        let set = PreparedSender::new(suite, key, items, payloads)?;
        let index = Index {
            dir: dir.to_path_buf(),
            salt,
            wrapped,
            set,
            label_columns: Vec::new(),
            kinds: Vec::new(),
        };
        index.save()?;
        Ok(index)
    }

    /// Opens the index in `dir`, unwrapping its key with the passphrase.
    ///
    /// # Errors
    /// [`Error::Config`] with [`ConfigReason::Index`] for a wrong or too short passphrase or a
    /// damaged or foreign directory; [`Error::Io`] when a file cannot be read.
    pub fn open(dir: &Path, passphrase: &[u8]) -> Result<Index> {
        let read = |name: &str| {
            let p = dir.join(name);
            fs::read(&p).map_err(|e| Error::io(format!("reading {}", p.display()), e))
        };
        let meta: Meta = serde_json::from_slice(&read("index.json")?).map_err(|e| {
            Error::config(
                ConfigReason::Index,
                format!("{}/index.json: {e}", dir.display()),
            )
        })?;
        if meta.format != FORMAT {
            return Err(Error::config(
                ConfigReason::Index,
                format!(
                    "{}/index.json has format `{}`; this blindmatch reads `{FORMAT}`",
                    dir.display(),
                    meta.format
                ),
            ));
        }
        let salt: [u8; 16] = hex::decode(&meta.salt)
            .ok()
            .and_then(|s| s.try_into().ok())
            .ok_or_else(|| {
                Error::config(
                    ConfigReason::Index,
                    format!("{}/index.json: bad salt", dir.display()),
                )
            })?;
        let wrapped = read("key.wrapped")?;
        let key = wrap::unwrap(&wrapped, meta.suite, &salt, passphrase)?;
        let (tags, labels) = parse_entries(&read("tags.bin")?, meta.items, meta.labeled)
            .ok_or_else(|| {
                Error::config(
                    ConfigReason::Index,
                    format!("{}/tags.bin is damaged", dir.display()),
                )
            })?;
        let set = PreparedSender::from_parts(meta.suite, key, tags, labels).map_err(|e| {
            Error::config(
                ConfigReason::Index,
                format!("{}/tags.bin: {e}", dir.display()),
            )
        })?;
        Ok(Index {
            dir: dir.to_path_buf(),
            salt,
            wrapped,
            set,
            label_columns: meta.label_columns,
            kinds: meta.kinds,
        })
    }

    /// Adds items (with payloads if the index is labeled); returns how many were new.
    ///
    /// # Errors
    /// As [`PreparedSender::add`]. Call [`Index::save`] to persist.
    pub fn add(&mut self, items: &ItemSet, payloads: Option<&[Vec<u8>]>) -> Result<usize> {
        self.set.add(items, payloads)
    }

    /// Removes items; returns how many were present.
    ///
    /// # Errors
    /// As [`PreparedSender::remove`]. Call [`Index::save`] to persist.
    pub fn remove(&mut self, items: &ItemSet) -> Result<usize> {
        self.set.remove(items)
    }

    /// Writes the index to its directory (each file written whole, then renamed).
    ///
    /// # Errors
    /// [`Error::Io`] when the directory or a file cannot be written; [`Error::Internal`] if
    /// `index.json` cannot be encoded.
    pub fn save(&self) -> Result<()> {
        fs::create_dir_all(&self.dir)
            .map_err(|e| Error::io(format!("creating {}", self.dir.display()), e))?;
        let meta = Meta {
            format: FORMAT.into(),
            suite: self.set.suite(),
            items: self.set.len(),
            labeled: self.set.is_labeled(),
            salt: hex::encode(self.salt),
            label_columns: self.label_columns.clone(),
            kinds: self.kinds.clone(),
        };
        let json = serde_json::to_vec_pretty(&meta)
            .map_err(|e| Error::internal(format!("serialising index.json: {e}")))?;
        self.write("key.wrapped", &self.wrapped)?;
        self.write("tags.bin", &encode_entries(&self.set))?;
        self.write("index.json", &json)
    }

    fn write(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let path = self.dir.join(name);
        let tmp = self.dir.join(format!(".{name}.tmp"));
        fs::write(&tmp, bytes)
            .and_then(|()| fs::rename(&tmp, &path))
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))
    }

    /// Records the names of the payload columns (labeled index). Call [`Index::save`] to
    /// persist.
    pub fn set_label_columns(&mut self, columns: Vec<String>) {
        self.label_columns = columns;
    }

    /// The names of the payload columns (empty for an unlabeled index).
    pub fn label_columns(&self) -> &[String] {
        &self.label_columns
    }

    /// Records the identifier kinds of the indexed keys (for the policy when serving). Call
    /// [`Index::save`] to persist.
    pub fn set_kinds(&mut self, kinds: Vec<String>) {
        self.kinds = kinds;
    }

    /// The identifier kinds recorded with [`Index::set_kinds`] (empty if none).
    pub fn kinds(&self) -> &[String] {
        &self.kinds
    }

    /// The precomputed set, to serve sessions from (wrap it in an `Arc`).
    pub fn into_prepared(self) -> PreparedSender {
        self.set
    }

    /// The precomputed set.
    pub fn prepared(&self) -> &PreparedSender {
        &self.set
    }
}

fn encode_entries(set: &PreparedSender) -> Vec<u8> {
    let mut out = Vec::with_capacity(set.len() * 16);
    for (i, t) in set.tags().iter().enumerate() {
        out.extend_from_slice(&t.to_be_bytes());
        if let Some(l) = set.labels() {
            out.extend_from_slice(&l.keys[i]);
            out.extend_from_slice(&(l.payloads[i].len() as u16).to_be_bytes());
            out.extend_from_slice(&l.payloads[i]);
        }
    }
    out
}

type Parsed = (Vec<u128>, Option<LabelParts>);

fn parse_entries(bytes: &[u8], items: usize, labeled: bool) -> Option<Parsed> {
    let mut tags = Vec::with_capacity(items.min(bytes.len() / 16));
    let mut keys = Vec::new();
    let mut payloads = Vec::new();
    let mut rest = bytes;
    for _ in 0..items {
        let (t, r) = rest.split_first_chunk::<16>()?;
        tags.push(u128::from_be_bytes(*t));
        rest = r;
        if labeled {
            let (k, r) = r.split_first_chunk::<32>()?;
            let (len, r) = r.split_first_chunk::<2>()?;
            let len = u16::from_be_bytes(*len) as usize;
            if r.len() < len {
                return None;
            }
            keys.push(*k);
            payloads.push(r[..len].to_vec());
            rest = &r[len..];
        }
    }
    if !rest.is_empty() {
        return None;
    }
    Some((tags, labeled.then_some((keys, payloads))))
}
