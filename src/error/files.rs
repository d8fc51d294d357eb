//! Typed reasons of the errors about local files: an index directory whose seal does not
//! verify (`protocol-spec/07-oprf-psi.md` section 7.8.5), and a secret-bearing file or
//! directory other users may read or write (README, "Files and permissions").

use std::fmt;
use std::path::PathBuf;

/// One file of an index directory (`protocol-spec/07-oprf-psi.md` section 7.8.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IndexFile {
    /// `index.json`: the format, epoch, Argon2id parameters and counts.
    Meta,
    /// `key.wrapped`: the OPRF key, wrapped.
    WrappedKey,
    /// `tags.bin`: the tags, label keys and payloads.
    Tags,
    /// `padding.bin`: the stored padding values.
    Padding,
    /// `seal.bin`: the seal over all the others.
    Seal,
}

impl IndexFile {
    /// Every file of an index, in the order the seal covers them (section 7.8.5), the seal
    /// last.
    pub const ALL: [IndexFile; 5] = [
        IndexFile::Meta,
        IndexFile::WrappedKey,
        IndexFile::Tags,
        IndexFile::Padding,
        IndexFile::Seal,
    ];

    /// The file's name in the directory.
    pub fn name(self) -> &'static str {
        match self {
            IndexFile::Meta => "index.json",
            IndexFile::WrappedKey => "key.wrapped",
            IndexFile::Tags => "tags.bin",
            IndexFile::Padding => "padding.bin",
            IndexFile::Seal => "seal.bin",
        }
    }
}

impl fmt::Display for IndexFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What is wrong with an index directory.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum IndexProblem {
    /// `file` is not the file that was sealed with the others: a byte was changed, it was
    /// truncated or extended, deleted, or taken from another index or from another save of
    /// this one. For [`IndexFile::Seal`]: the seal itself is missing, of the wrong length, or
    /// does not verify.
    Tampered {
        /// The file that fails its seal.
        file: IndexFile,
    },
}

impl IndexProblem {
    /// The problem in one `snake_case` word.
    pub fn code(&self) -> &'static str {
        match self {
            IndexProblem::Tampered { .. } => "tampered",
        }
    }
}

/// An [`crate::Error::Index`]: what is wrong with which index directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexError {
    /// What is wrong.
    pub problem: IndexProblem,
    /// The index directory.
    pub dir: PathBuf,
}

impl fmt::Display for IndexError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.problem {
            IndexProblem::Tampered { file } => write!(
                f,
                "{}/{file} fails the index seal: it was altered, truncated, deleted or taken \
                 from another index (or the index was saved only in part); nothing was served. \
                 Restore the directory from a backup or rebuild the index from its input in a \
                 new directory",
                self.dir.display()
            ),
        }
    }
}

/// Who besides the owner may reach a secret-bearing file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Exposure {
    /// The group or other users may read the file.
    Readable,
    /// The group or other users may write the file or directory (replace what it holds).
    Writable,
}

impl Exposure {
    /// The exposure in one `snake_case` word.
    pub fn as_str(self) -> &'static str {
        match self {
            Exposure::Readable => "readable",
            Exposure::Writable => "writable",
        }
    }
}

/// An [`crate::Error::FileMode`]: a secret-bearing file, or the directory holding one, whose
/// mode lets other users read or write it, refused as `sshd` refuses an unprotected key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileModeError {
    /// The file or directory.
    pub path: PathBuf,
    /// Its permission bits (`mode & 0o7777`).
    pub mode: u32,
    /// What the mode allows that it must not.
    pub exposure: Exposure,
    /// True for a directory (the fix is `chmod 700`, not `chmod 600`).
    pub directory: bool,
}

impl FileModeError {
    /// The command that fixes it.
    pub fn fix(&self) -> String {
        let mode = if self.directory { "700" } else { "600" };
        format!("chmod {mode} {}", self.path.display())
    }
}

impl fmt::Display for FileModeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let who = match self.exposure {
            Exposure::Readable => "read",
            Exposure::Writable => "write",
        };
        let what = if self.directory {
            "directory holds secret-bearing files"
        } else {
            "file holds a secret"
        };
        write!(
            f,
            "{} has mode {:04o}: other users can {who} it, and this {what}; refusing to use \
             it (run `{}`)",
            self.path.display(),
            self.mode,
            self.fix()
        )
    }
}

/// What is wrong with a session's checkpoint directory (`--checkpoint`,
/// `protocol-spec/09-buckets.md` section 9.12).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckpointProblem {
    /// A first attempt was asked for, but the directory holds the checkpoint of a session
    /// that did not finish: resume it, or remove the directory to start over.
    Unfinished {
        /// The buckets it finished, from 0.
        buckets_done: u32,
        /// Its buckets.
        buckets: u32,
    },
    /// A file of the checkpoint cannot be read as one (not written by blindmatch, another
    /// format version, or altered); a last bucket record cut short by a crash is not this:
    /// it is dropped, and its bucket runs again.
    Unreadable {
        /// The file, within the directory.
        file: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// Our items are not those the checkpoint was taken over (the input, its keys, or the
    /// shard changed): its item numbers would name other items.
    ItemsChanged,
    /// The checkpointed session ran with another peer (another certificate).
    PeerChanged,
    /// The checkpointed session ran as the other role.
    RoleChanged,
    /// Another session (another process, or another session of this one) holds the
    /// directory: a checkpoint keeps one session.
    InUse,
    /// Both sides resume the same logical session, but the agreed terms (protocol, mode,
    /// counts, policy, key kinds, bucket size, shard) are not those it ran under.
    TermsChanged,
}

impl CheckpointProblem {
    /// The problem in one `snake_case` word.
    pub fn code(&self) -> &'static str {
        match self {
            CheckpointProblem::Unfinished { .. } => "unfinished",
            CheckpointProblem::Unreadable { .. } => "unreadable",
            CheckpointProblem::ItemsChanged => "items_changed",
            CheckpointProblem::PeerChanged => "peer_changed",
            CheckpointProblem::RoleChanged => "role_changed",
            CheckpointProblem::InUse => "in_use",
            CheckpointProblem::TermsChanged => "terms_changed",
        }
    }
}

/// An [`crate::Error::Checkpoint`]: what is wrong with which checkpoint directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointError {
    /// What is wrong.
    pub problem: CheckpointProblem,
    /// The checkpoint directory.
    pub dir: PathBuf,
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dir = self.dir.display();
        let over = "remove the directory (or name another) to start the session over";
        match &self.problem {
            CheckpointProblem::Unfinished {
                buckets_done,
                buckets,
            } => write!(
                f,
                "{dir} holds the checkpoint of a session that did not finish ({buckets_done} of \
                 {buckets} buckets done): pass --resume to continue it, or {over}"
            ),
            CheckpointProblem::Unreadable { file, detail } => {
                write!(f, "{dir}/{file} is not a checkpoint: {detail}; {over}")
            }
            CheckpointProblem::ItemsChanged => write!(
                f,
                "{dir} was taken over other items (the input, its keys or the shard changed \
                 since): resume with the same input, or {over}"
            ),
            CheckpointProblem::PeerChanged => write!(
                f,
                "{dir} is the checkpoint of a session with another peer: resume it with that \
                 peer, or {over}"
            ),
            CheckpointProblem::RoleChanged => write!(
                f,
                "{dir} is the checkpoint of a session in the other role (match or serve): \
                 resume it in that role, or {over}"
            ),
            CheckpointProblem::InUse => write!(
                f,
                "{dir} is in use by another session (a checkpoint keeps one session): give each \
                 session its own directory"
            ),
            CheckpointProblem::TermsChanged => write!(
                f,
                "both sides resume the session of {dir}, but the terms agreed now (protocol, \
                 mode, counts, policy, keys, bucket size or shard) differ from those it ran \
                 under; nothing was sent. Resume with the same settings on both sides, or {over}"
            ),
        }
    }
}
