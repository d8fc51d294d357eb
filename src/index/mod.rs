//! Unbalanced mode: a sender's evaluated set, precomputed once and stored in a directory,
//! with its OPRF key encrypted at rest, a key epoch and stored padding
//! (`protocol-spec/07-oprf-psi.md` section 7.8).
//!
//! ```text
//! DIR/index.json   {"format": "blindmatch-oprf-index-v3", "suite", "items", "labeled",
//!                   "epoch": {"id", "created", "not_after"},
//!                   "kdf": {"algorithm": "argon2id", "version": 19, "m_kib", "t", "p", "salt"},
//!                   "pad_to", "padding", ["label_columns"], ["kinds"]}
//! DIR/key.wrapped  the OPRF key, wrapped (see `wrap`, under the KEK of `kdf`)
//! DIR/tags.bin     per item, ascending by tag (see `entries`)
//! DIR/padding.bin  the stored padding values (see `padding`)
//! DIR/seal.bin     HMAC tags over every byte of the four files above (see `seal`)
//! ```
//!
//! The directory is created with mode 0700 and every file 0600; opening refuses a
//! `key.wrapped` or `tags.bin` the group or others may read or write (`crate::file_mode`),
//! then checks the seal before anything read from the other files is used (`tags.bin` is
//! parsed as it streams through its tag, never held whole as bytes).
//!
//! Every session served from one index uses the same key, so a receiver accumulates, for the
//! key's epoch, every item it ever queried and its current status and payload (section 7.9);
//! the epoch bounds how long ([`KeyEpoch`]). The stored padding makes every session send the
//! same padding tags, so two sessions' tag sets reveal the padded size only. `tags.bin` holds
//! the label keys and the payloads in plaintext (authenticated by the seal, not encrypted):
//! protect the directory like the sender's input file.

mod entries;
mod epoch;
mod kdf;
mod meta;
mod padding;
mod seal;
mod wrap;

use std::fs;
use std::path::{Path, PathBuf};

use rand_core::CryptoRng;

pub use epoch::{unix_now, KeyEpoch, DAY, DEFAULT_LIFETIME_DAYS, MAX_LIFETIME_DAYS};
pub use kdf::{KdfParams, MIN_PASSPHRASE_LEN};
pub use meta::{FORMAT_V1, FORMAT_V2};
pub use wrap::FORMAT;

use crate::error::{ConfigReason, Error, IndexError, IndexFile, IndexProblem, InputReason, Result};
use crate::oprf::{OprfKey, Suite};
use crate::protocol::oprf_psi::PreparedSender;
use crate::protocol::{ItemSet, MAX_SET_SIZE};
use meta::{EpochJson, KdfJson, Meta};
use seal::SealKey;

/// How to build a new index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexOptions {
    /// Days the key may serve (`--lifetime-days`, default [`DEFAULT_LIFETIME_DAYS`]).
    pub lifetime_days: u64,
    /// The padded size the index stores padding for (`--pad-to`); `None`: no padding stored,
    /// so only unpadded sessions can be served.
    pub pad_to: Option<usize>,
    /// The Argon2id parameters of the key-encryption key.
    pub kdf: KdfParams,
    /// The creation time (Unix seconds); `None`: the system clock.
    pub now: Option<u64>,
}

impl Default for IndexOptions {
    fn default() -> Self {
        IndexOptions {
            lifetime_days: DEFAULT_LIFETIME_DAYS,
            pad_to: None,
            kdf: KdfParams::default(),
            now: None,
        }
    }
}

/// A precomputed sender set in a directory.
#[derive(Debug)]
pub struct Index {
    dir: PathBuf,
    epoch: KeyEpoch,
    kdf: KdfParams,
    salt: [u8; 16],
    wrapped: Vec<u8>,
    seal_key: SealKey,
    pad_to: usize,
    set: PreparedSender,
    label_columns: Vec<String>,
    kinds: Vec<String>,
}

/// Refuses a padded size above the engine's largest set.
fn check_pad_to(pad_to: usize) -> Result<()> {
    if pad_to > MAX_SET_SIZE {
        return Err(Error::Config(
            crate::error::ConfigError::new(
                ConfigReason::Parameter,
                format!(
                    "the index's padded size {pad_to} exceeds the engine's largest set of \
                     {MAX_SET_SIZE}"
                ),
            )
            .about(crate::error::Setting::PadTo),
        ));
    }
    Ok(())
}

fn too_many(pad_to: usize, items: usize) -> Error {
    Error::Input(
        crate::error::InputError::new(
            InputReason::SetSize,
            format!(
                "the index would hold {items} distinct items, more than its padded size \
                 {pad_to}: pad it to {items} or more"
            ),
        )
        .about(crate::error::Setting::PadTo),
    )
}

impl Index {
    /// Precomputes `items` under a fresh random key and writes the index to `dir` (created
    /// if missing; an existing index there is refused). Draws, in this order (section 7.8.4):
    /// the key (`scalar()`), the epoch id (`bytes(16)`), the Argon2id salt (`bytes(16)`), the
    /// wrapping nonce (`bytes(12)`), then `pad_to - items` padding values (`bytes(16)` each).
    ///
    /// # Errors
    /// [`Error::Config`] with [`ConfigReason::Index`] if `dir` already holds an index or the
    /// passphrase is too short, [`ConfigReason::Parameter`] for a lifetime out of range or a
    /// `pad_to` above [`MAX_SET_SIZE`];
    /// [`Error::Input`] as [`PreparedSender::new`], or with [`InputReason::SetSize`] if
    /// `pad_to` is below the distinct items; [`Error::Io`] on write failures.
    pub fn create<R: CryptoRng + ?Sized>(
        dir: &Path,
        suite: Suite,
        passphrase: &[u8],
        items: &ItemSet,
        payloads: Option<&[Vec<u8>]>,
        options: &IndexOptions,
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
        check_pad_to(options.pad_to.unwrap_or(0))?;
        let now = options.now.unwrap_or_else(unix_now);
        let key = OprfKey::random(rng);
        let epoch = KeyEpoch::draw(now, options.lifetime_days, rng)?;
        let salt = crate::protocol::draw::array::<16, R>(rng);
        let kek = kdf::kek(&options.kdf, &salt, passphrase)?;
        let wrapped = wrap::wrap(&key, suite, &epoch, &kek, rng)?;
        let seal_key = SealKey::derive(&key, &wrap::aad(suite, &epoch));
        let mut set = PreparedSender::new(suite, key, items, payloads)?;
        let pad_to = options.pad_to.unwrap_or(0);
        if options.pad_to.is_some() && set.len() > pad_to {
            return Err(too_many(pad_to, set.len()));
        }
        set.set_stored_padding(padding::draw_values(rng, pad_to.saturating_sub(set.len())));
        let index = Index {
            dir: dir.to_path_buf(),
            epoch,
            kdf: options.kdf,
            salt,
            wrapped,
            seal_key,
            pad_to,
            set,
            label_columns: Vec::new(),
            kinds: Vec::new(),
        };
        index.save()?;
        Ok(index)
    }

    /// Opens the index in `dir`, unwrapping its key with the passphrase and checking the
    /// seal over every file (section 7.8.5) before anything but `index.json` is used. An
    /// expired index opens (to be inspected); serving it is refused ([`KeyEpoch::check_at`]).
    ///
    /// # Errors
    /// [`Error::Config`] with [`ConfigReason::IndexFormat`] for a directory of another format
    /// (a `blindmatch-oprf-index-v1` or `-v2` index: rebuild it), [`ConfigReason::Index`] for
    /// a wrong or too short passphrase, a damaged `index.json` or an altered `key.wrapped` or
    /// epoch; [`Error::FileMode`] if the group or others may read or write `key.wrapped` or
    /// `tags.bin`; [`Error::Index`] with [`IndexProblem::Tampered`] naming the first file
    /// that fails the seal (altered, truncated, deleted, or taken from another index or
    /// another save); [`Error::Io`] when a file cannot be read.
    pub fn open(dir: &Path, passphrase: &[u8]) -> Result<Index> {
        let tampered = |file: IndexFile| {
            Error::Index(IndexError {
                problem: IndexProblem::Tampered { file },
                dir: dir.to_path_buf(),
            })
        };
        // A sealed file that is missing fails the seal; other read errors are I/O.
        let on_open = |file: IndexFile| {
            let p = dir.join(file.name());
            move |e: std::io::Error| {
                if e.kind() == std::io::ErrorKind::NotFound && file != IndexFile::Meta {
                    tampered(file)
                } else {
                    Error::io(format!("reading {}", p.display()), e)
                }
            }
        };
        let read = |file: IndexFile| fs::read(dir.join(file.name())).map_err(on_open(file));
        let read_secret =
            |file: IndexFile| crate::file_mode::read_secret(&dir.join(file.name()), on_open(file));
        let meta_bytes = read(IndexFile::Meta)?;
        let meta = Meta::parse(dir, &meta_bytes)?;
        let epoch = meta.epoch(dir)?;
        let (kdf_params, salt) = meta.kdf(dir)?;
        let wrapped = read_secret(IndexFile::WrappedKey)?;
        // Opened (and its mode checked) now, read once the seal key exists.
        let tags_path = dir.join(IndexFile::Tags.name());
        let tags_io = |e| Error::io(format!("reading {}", tags_path.display()), e);
        let tags_file = crate::file_mode::open_secret(&tags_path, on_open(IndexFile::Tags))?;
        let tags_len = tags_file.metadata().map_err(tags_io)?.len();
        let kek = kdf::kek(&kdf_params, &salt, passphrase)?;
        let key = wrap::unwrap(&wrapped, meta.suite, &epoch, &kek)?;
        let seal_key = SealKey::derive(&key, &wrap::aad(meta.suite, &epoch));
        let padding_bytes = read(IndexFile::Padding)?;
        let seal_bytes = read(IndexFile::Seal)?;
        // tags.bin, the large file, is parsed as it streams through its tag; nothing parsed
        // is used unless the seal verifies.
        let mut tags_mac = seal_key.file_mac(IndexFile::Tags, tags_len);
        let parsed = {
            let mut r = seal::MacReader {
                inner: std::io::BufReader::new(tags_file),
                mac: &mut tags_mac,
            };
            let parsed =
                entries::read(&mut r, meta.items, meta.labeled, tags_len).map_err(tags_io)?;
            if parsed.is_none() {
                std::io::copy(&mut r, &mut std::io::sink()).map_err(tags_io)?;
            }
            parsed
        };
        let file_tags = [
            Some(seal_key.file_tag(IndexFile::Meta, &meta_bytes)),
            Some(seal_key.file_tag(IndexFile::WrappedKey, &wrapped)),
            tags_mac.finish(),
            Some(seal_key.file_tag(IndexFile::Padding, &padding_bytes)),
        ];
        if let Some(file) = seal_key.check(&seal_bytes, file_tags) {
            return Err(tampered(file));
        }
        // Sealed: what follows only fails for an index written wrong, not one altered after.
        let damaged = |name: &str, what: &dyn std::fmt::Display| {
            Error::config(
                ConfigReason::Index,
                format!("{}/{name}: {what}", dir.display()),
            )
        };
        let (tags, labels) = parsed.ok_or_else(|| damaged("tags.bin", &"damaged"))?;
        let stored = padding::decode(&padding_bytes, meta.padding)
            .ok_or_else(|| damaged("padding.bin", &"damaged"))?;
        let mut set = PreparedSender::from_parts(meta.suite, key, tags, labels)
            .map_err(|e| damaged("tags.bin", &e))?;
        set.set_stored_padding(stored);
        Ok(Index {
            dir: dir.to_path_buf(),
            epoch,
            kdf: kdf_params,
            salt,
            wrapped,
            seal_key,
            pad_to: meta.pad_to,
            set,
            label_columns: meta.label_columns,
            kinds: meta.kinds,
        })
    }

    fn padding_target(&self) -> usize {
        self.pad_to.saturating_sub(self.set.len())
    }

    /// Adds items (with payloads if the index is labeled); returns how many were new. Each
    /// new item takes the place of the last stored padding value.
    ///
    /// # Errors
    /// As [`PreparedSender::add`]. Call [`Index::save`] to persist.
    pub fn add(&mut self, items: &ItemSet, payloads: Option<&[Vec<u8>]>) -> Result<usize> {
        let n = self.set.add(items, payloads)?;
        let mut stored = self.set.stored_padding().unwrap_or_default().to_vec();
        stored.truncate(self.padding_target());
        self.set.set_stored_padding(stored);
        Ok(n)
    }

    /// Removes items; returns how many were present. Each removed item is replaced by a new
    /// padding value drawn after the stored ones (`bytes(16)`).
    ///
    /// # Errors
    /// As [`PreparedSender::remove`]. Call [`Index::save`] to persist.
    pub fn remove<R: CryptoRng + ?Sized>(&mut self, items: &ItemSet, rng: &mut R) -> Result<usize> {
        let n = self.set.remove(items)?;
        self.resize_padding(rng);
        Ok(n)
    }

    fn resize_padding<R: CryptoRng + ?Sized>(&mut self, rng: &mut R) {
        let mut stored = self.set.stored_padding().unwrap_or_default().to_vec();
        padding::resize(&mut stored, self.padding_target(), rng);
        self.set.set_stored_padding(stored);
    }

    /// Changes the padded size: drops stored values from the end, or draws new ones after
    /// them, so the values sessions already used stay the same.
    ///
    /// # Errors
    /// [`Error::Input`] with [`InputReason::SetSize`] if `pad_to` is below the items held;
    /// [`Error::Config`] with [`ConfigReason::Parameter`] above [`MAX_SET_SIZE`]. Call [`Index::save`] to persist.
    pub fn set_pad_to<R: CryptoRng + ?Sized>(&mut self, pad_to: usize, rng: &mut R) -> Result<()> {
        check_pad_to(pad_to)?;
        if self.set.len() > pad_to {
            return Err(too_many(pad_to, self.set.len()));
        }
        self.pad_to = pad_to;
        self.resize_padding(rng);
        Ok(())
    }

    /// The padded size padding is stored for (`None`: no `--pad-to`).
    pub fn pad_to(&self) -> Option<usize> {
        (self.pad_to > 0).then_some(self.pad_to)
    }

    /// The key's epoch: its id, creation and expiry.
    pub fn key_epoch(&self) -> KeyEpoch {
        self.epoch
    }

    /// The Argon2id parameters of the passphrase.
    pub fn kdf_params(&self) -> KdfParams {
        self.kdf
    }

    /// Writes the index to its directory (created with mode 0700 if missing) and seals it
    /// (section 7.8.5): every file is first written whole to a temporary file of mode 0600
    /// and synced, then all are renamed into place, `seal.bin` last. A save interrupted
    /// between two renames leaves files of two saves, which the seal refuses at the next
    /// open: nothing mixed is ever served.
    ///
    /// # Errors
    /// [`Error::Io`] when the directory or a file cannot be written; [`Error::Internal`] if
    /// `index.json` cannot be encoded.
    pub fn save(&self) -> Result<()> {
        crate::file_mode::create_private_dir(&self.dir)?;
        let stored = self.set.stored_padding().unwrap_or_default();
        let meta = Meta {
            format: FORMAT.into(),
            suite: self.set.suite(),
            items: self.set.len(),
            labeled: self.set.is_labeled(),
            epoch: EpochJson::new(&self.epoch),
            kdf: KdfJson::new(&self.kdf, &self.salt),
            pad_to: self.pad_to,
            padding: stored.len(),
            label_columns: self.label_columns.clone(),
            kinds: self.kinds.clone(),
        };
        let json = serde_json::to_vec_pretty(&meta)
            .map_err(|e| Error::internal(format!("serialising index.json: {e}")))?;
        let padding = padding::encode(stored);
        let (tags_tmp, tags_tag) = self.stage_tags()?;
        let k = &self.seal_key;
        let seal = k.seal([
            k.file_tag(IndexFile::Meta, &json),
            k.file_tag(IndexFile::WrappedKey, &self.wrapped),
            tags_tag,
            k.file_tag(IndexFile::Padding, &padding),
        ]);
        let staged = [
            (
                IndexFile::WrappedKey,
                self.stage(IndexFile::WrappedKey, &self.wrapped)?,
            ),
            (IndexFile::Tags, tags_tmp),
            (
                IndexFile::Padding,
                self.stage(IndexFile::Padding, &padding)?,
            ),
            (IndexFile::Meta, self.stage(IndexFile::Meta, &json)?),
            (IndexFile::Seal, self.stage(IndexFile::Seal, &seal)?),
        ];
        for (file, tmp) in staged {
            let path = self.dir.join(file.name());
            tmp.persist(&path)
                .map_err(|e| Error::io(format!("writing {}", path.display()), e.error))?;
        }
        if let Ok(d) = fs::File::open(&self.dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }

    /// A new temporary file of mode 0600 in the index directory, to become `file`.
    fn temporary(&self, file: IndexFile) -> Result<tempfile::NamedTempFile> {
        let path = self.dir.join(file.name());
        tempfile::Builder::new()
            .prefix(&format!(".{}.", file.name()))
            .tempfile_in(&self.dir)
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))
    }

    /// `bytes` in a synced temporary file to become `file`.
    fn stage(&self, file: IndexFile, bytes: &[u8]) -> Result<tempfile::NamedTempFile> {
        use std::io::Write;
        let path = self.dir.join(file.name());
        let mut tmp = self.temporary(file)?;
        tmp.write_all(bytes)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        Ok(tmp)
    }

    /// `tags.bin` streamed into a synced temporary file through its seal tag (never held
    /// whole in memory), and the tag.
    fn stage_tags(&self) -> Result<(tempfile::NamedTempFile, [u8; 32])> {
        use std::io::Write;
        let path = self.dir.join(IndexFile::Tags.name());
        let io = |e| Error::io(format!("writing {}", path.display()), e);
        let tmp = self.temporary(IndexFile::Tags)?;
        let mut mac = self
            .seal_key
            .file_mac(IndexFile::Tags, entries::encoded_len(&self.set));
        let mut w = seal::MacWriter {
            inner: std::io::BufWriter::new(tmp.as_file()),
            mac: &mut mac,
        };
        entries::write(&self.set, &mut w)
            .and_then(|()| w.flush())
            .map_err(io)?;
        drop(w);
        tmp.as_file().sync_all().map_err(io)?;
        let tag = mac
            .finish()
            .ok_or_else(|| Error::internal("tags.bin was not the length computed for it"))?;
        Ok((tmp, tag))
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

    /// The precomputed set with its stored padding, to serve sessions from (wrap it in an
    /// `Arc`).
    pub fn into_prepared(self) -> PreparedSender {
        self.set
    }

    /// The precomputed set.
    pub fn prepared(&self) -> &PreparedSender {
        &self.set
    }
}
