//! A session's checkpoint: the directory in which a bucketed session records what it has
//! done, so that after a crash or a broken connection a later attempt resumes it
//! (`--checkpoint DIR`, `--resume`; `protocol-spec/09-buckets.md` section 9.12).
//!
//! ```text
//! DIR/session.json   the logical session: role, ids, digests of the terms and of our items,
//!                    the peer's certificate, the buckets, every attempt so far
//! DIR/buckets.bin    one record per finished bucket: what it gave us (records.rs)
//! ```
//! How it is used:
//! 1. [`Checkpoint::open`] before the session: a first attempt needs a directory without an
//!    unfinished session in it; with `resume`, what the directory holds (for the same role
//!    and the same items) becomes the [`ResumePoint`] our hello offers.
//! 2. [`Checkpoint::bind_peer`] once the peer is authenticated: a resumption is with the same
//!    peer.
//! 3. During the session [`Checkpoint::record`] carries out the envelope's
//!    [`crate::session::Effect::Checkpoint`]: at the body's start it rewrites `session.json`
//!    and keeps only the buckets this attempt took over; then it appends each finished
//!    bucket and syncs it to disk before the session goes on.
//! 4. [`Checkpoint::finish`] once the session completed and its output is written: both files
//!    are removed (they hold our matches, which the output now holds).
//!
//! The files hold what we learned (our matches) and the ids and digests above, nothing the
//! protocol keeps secret: no key, no blinded element, no OPRF value. They are created `0600`
//! in a `0700` directory.

mod records;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::dst;
use crate::error::{CheckpointProblem, Error, Result};
use crate::file_mode;
use crate::identity::Fingerprint;
use crate::protocol::bucket::BucketLearned;
use crate::protocol::{ItemSet, Role};
use crate::session::{CheckpointEntry, ResumePoint};
use crate::tagged_hash::sha3_tagged_with;

/// The format of `session.json`.
pub const FORMAT: u32 = 1;

const SESSION_FILE: &str = "session.json";
const BUCKETS_FILE: &str = "buckets.bin";

/// One attempt at the logical session, as `session.json` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attempt {
    /// Its session id (hex).
    pub session_id: String,
    /// Its transcript hash (hex).
    pub transcript: String,
    /// The buckets it took from the checkpoint (`0..buckets_done`) instead of running them.
    pub buckets_done: u32,
}

/// `session.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionFile {
    /// [`FORMAT`].
    pub format: u32,
    /// `initiator` or `responder`.
    pub role: String,
    /// The logical session's id (hex): its first attempt's session id.
    pub logical_session: String,
    /// [`crate::session::terms_digest`] of the agreed terms (hex).
    pub terms_digest: String,
    /// [`items_digest`] of our items (hex).
    pub items_digest: String,
    /// The peer's certificate fingerprint (hex).
    pub peer_fingerprint: String,
    /// The session's buckets.
    pub buckets: u32,
    /// Every attempt, first to last.
    pub attempts: Vec<Attempt>,
}

/// SHA3-256 of our distinct items in order (`I2OSP(n, 8)`, then `I2OSP(len, 8) || item` for
/// each, after the tag `CHECKPOINT_ITEMS` of `protocol-spec/01-suite.md` 1.4): the
/// checkpoint's item numbers are positions in this order. Computed once per set (its clones
/// share it).
pub fn items_digest(items: &ItemSet) -> [u8; 32] {
    items.digest_once(|packed| {
        sha3_tagged_with(dst::CHECKPOINT_ITEMS, |update| {
            update(&(packed.len() as u64).to_be_bytes());
            for x in packed.iter() {
                update(&(x.len() as u64).to_be_bytes());
                update(x);
            }
        })
    })
}

/// Where a session keeps its checkpoint, and whether it resumes what is there
/// ([`crate::agency::RunOptions::with_checkpoint`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckpointOptions {
    /// The directory.
    pub dir: PathBuf,
    /// Resume the session it holds (if the peer resumes it too); otherwise it must hold
    /// none that is unfinished.
    pub resume: bool,
}

/// What an unfinished checkpoint directory holds, for a message to its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    /// The buckets done, from 0 on.
    pub buckets_done: u32,
    /// The session's buckets.
    pub buckets: u32,
}

struct Open {
    /// `session.json` as last written (`None` until the body of a first attempt starts).
    session: Option<SessionFile>,
    /// `buckets.bin`, open for appending once the body started.
    buckets: Option<std::fs::File>,
    peer: Option<Fingerprint>,
}

/// A session's checkpoint directory, open for one session.
pub struct Checkpoint {
    /// `DIR/.lock`, locked for as long as this value lives.
    _lock: std::fs::File,
    dir: PathBuf,
    role: Role,
    items_digest: [u8; 32],
    resume: Option<ResumePoint>,
    open: Mutex<Open>,
}

impl std::fmt::Debug for Checkpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checkpoint")
            .field("dir", &self.dir)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

fn unreadable(dir: &Path, file: &'static str, detail: impl Into<String>) -> Error {
    Error::checkpoint(
        CheckpointProblem::Unreadable {
            file,
            detail: detail.into(),
        },
        dir,
    )
}

/// Reads `dir/name` (refused if others may read or write it: it holds our matches), or
/// `None` when there is no such file.
fn read_private(dir: &Path, name: &str) -> Result<Option<Vec<u8>>> {
    let path = dir.join(name);
    let mut missing = false;
    let r = file_mode::read_secret(&path, |e| {
        missing = e.kind() == std::io::ErrorKind::NotFound;
        Error::io(format!("reading {}", path.display()), e)
    });
    match r {
        Ok(b) => Ok(Some(b)),
        Err(_) if missing => Ok(None),
        Err(e) => Err(e),
    }
}

fn read_session(dir: &Path) -> Result<Option<SessionFile>> {
    let Some(bytes) = read_private(dir, SESSION_FILE)? else {
        return Ok(None);
    };
    let s: SessionFile =
        serde_json::from_slice(&bytes).map_err(|e| unreadable(dir, SESSION_FILE, e.to_string()))?;
    if s.format != FORMAT {
        return Err(unreadable(
            dir,
            SESSION_FILE,
            format!("format {}, this blindmatch reads {FORMAT}", s.format),
        ));
    }
    Ok(Some(s))
}

fn read_buckets(dir: &Path) -> Result<BTreeMap<u32, BucketLearned>> {
    Ok(read_private(dir, BUCKETS_FILE)?
        .map(|b| records::decode(&b))
        .unwrap_or_default())
}

fn hex32(dir: &Path, what: &str, s: &str) -> Result<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out)
        .map_err(|_| unreadable(dir, SESSION_FILE, format!("{what} is not 64 hex digits")))?;
    Ok(out)
}

/// Writes `bytes` to `dir/name` whole ([`file_mode::replace_private`]).
fn replace(dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let path = dir.join(name);
    file_mode::replace_private(&path, bytes, &format!("writing {}", path.display()))
}

impl Checkpoint {
    /// What `dir` holds: `None` when it holds no unfinished session.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] with [`CheckpointProblem::Unreadable`]; [`Error::Io`].
    pub fn status(dir: &Path) -> Result<Option<Status>> {
        let Some(s) = read_session(dir)? else {
            return Ok(None);
        };
        Ok(Some(Status {
            buckets_done: records::prefix(&read_buckets(dir)?).len() as u32,
            buckets: s.buckets,
        }))
    }

    /// Opens `dir` (created `0700` if missing) as the checkpoint of our session in `role`
    /// over `items`. Without `resume` the directory must hold no unfinished session; with
    /// it, what it holds is resumed if the peer resumes it too (and a directory holding
    /// nothing starts a first attempt).
    ///
    /// # Errors
    /// [`Error::Checkpoint`]: [`CheckpointProblem::Unfinished`] (a first attempt over an
    /// unfinished session), [`CheckpointProblem::Unreadable`],
    /// [`CheckpointProblem::RoleChanged`], [`CheckpointProblem::ItemsChanged`];
    /// [`Error::FileMode`] for a directory others may write; [`Error::Io`].
    pub fn open(dir: &Path, resume: bool, role: Role, items: &ItemSet) -> Result<Checkpoint> {
        file_mode::create_private_dir(dir)?;
        file_mode::check(dir)?;
        let lock = crate::lock::open_lock(&dir.join(""))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(Error::checkpoint(CheckpointProblem::InUse, dir))
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::io(format!("locking {}", dir.display()), e))
            }
        }
        let items_digest = items_digest(items);
        let session = read_session(dir)?;
        let (resume, session, peer) = match (session, resume) {
            (None, _) => (None, None, None),
            (Some(s), false) => {
                return Err(Error::checkpoint(
                    CheckpointProblem::Unfinished {
                        buckets_done: records::prefix(&read_buckets(dir)?).len() as u32,
                        buckets: s.buckets,
                    },
                    dir,
                ))
            }
            (Some(s), true) => {
                if s.role != role.as_str() {
                    return Err(Error::checkpoint(CheckpointProblem::RoleChanged, dir));
                }
                if hex32(dir, "items_digest", &s.items_digest)? != items_digest {
                    return Err(Error::checkpoint(CheckpointProblem::ItemsChanged, dir));
                }
                let done = records::prefix(&read_buckets(dir)?);
                if done.len() > s.buckets as usize {
                    return Err(unreadable(
                        dir,
                        BUCKETS_FILE,
                        format!("more buckets than the session's {}", s.buckets),
                    ));
                }
                let beyond = |l: &BucketLearned| match l {
                    BucketLearned::Matches(m) => m.iter().any(|&i| i as usize >= items.len()),
                    _ => false,
                };
                if done.iter().any(beyond) {
                    return Err(Error::checkpoint(CheckpointProblem::ItemsChanged, dir));
                }
                let peer: Fingerprint = s
                    .peer_fingerprint
                    .parse()
                    .map_err(|_| unreadable(dir, SESSION_FILE, "peer_fingerprint"))?;
                let point = ResumePoint {
                    dir: dir.to_path_buf(),
                    logical_session: hex32(dir, "logical_session", &s.logical_session)?,
                    terms_digest: hex32(dir, "terms_digest", &s.terms_digest)?,
                    done,
                };
                (Some(point), Some(s), Some(peer))
            }
        };
        Ok(Checkpoint {
            _lock: lock,
            dir: dir.to_path_buf(),
            role,
            items_digest,
            resume,
            open: Mutex::new(Open {
                session,
                buckets: None,
                peer,
            }),
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What our hello offers to resume: `None` for a first attempt.
    pub fn resume_point(&self) -> Option<&ResumePoint> {
        self.resume.as_ref()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Open> {
        self.open.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Binds the checkpoint to the authenticated peer: a resumed session must be with the
    /// peer it ran with.
    ///
    /// # Errors
    /// [`Error::Checkpoint`] with [`CheckpointProblem::PeerChanged`].
    pub fn bind_peer(&self, peer: Fingerprint) -> Result<()> {
        let mut open = self.lock();
        match open.peer {
            Some(p) if self.resume.is_some() && !p.ct_eq(&peer) => {
                Err(Error::checkpoint(CheckpointProblem::PeerChanged, &self.dir))
            }
            _ => {
                open.peer = Some(peer);
                Ok(())
            }
        }
    }

    /// Records `entry` durably: at the body's start, `session.json` with this attempt and a
    /// `buckets.bin` holding only the buckets it took over; then each finished bucket,
    /// appended and synced.
    ///
    /// # Errors
    /// [`Error::Io`] if a file cannot be written; [`Error::Internal`] for an entry out of
    /// order.
    pub fn record(&self, entry: &CheckpointEntry) -> Result<()> {
        let mut open = self.lock();
        if let Some(begin) = &entry.begin {
            if begin.role != self.role {
                return Err(Error::internal(
                    "a checkpoint opened for one role began a session of the other",
                ));
            }
            let peer = open
                .peer
                .ok_or_else(|| Error::internal("a checkpoint began before the peer was known"))?;
            let logical = hex::encode(begin.logical_session);
            let mut attempts = match &open.session {
                Some(s) if s.logical_session == logical => s.attempts.clone(),
                _ => Vec::new(),
            };
            attempts.push(Attempt {
                session_id: hex::encode(begin.session_id),
                transcript: hex::encode(begin.transcript),
                buckets_done: begin.buckets_done,
            });
            let session = SessionFile {
                format: FORMAT,
                role: begin.role.as_str().to_owned(),
                logical_session: logical,
                terms_digest: hex::encode(begin.terms_digest),
                items_digest: hex::encode(self.items_digest),
                peer_fingerprint: peer.to_string(),
                buckets: begin.buckets,
                attempts,
            };
            // The buckets this attempt took over, and nothing of another logical session.
            let mut kept = Vec::new();
            if let Some(point) = &self.resume {
                if point.logical_session == begin.logical_session {
                    for (b, learned) in point.done.iter().enumerate() {
                        if b as u32 >= begin.buckets_done {
                            break;
                        }
                        let f = crate::protocol::bucket::FinishedBucket {
                            bucket: b as u32,
                            learned: learned.clone(),
                        };
                        records::encode(&f, &mut kept);
                    }
                }
            }
            replace(&self.dir, BUCKETS_FILE, &kept)?;
            let json = serde_json::to_vec_pretty(&session)
                .map_err(|e| Error::internal(format!("encoding {SESSION_FILE}: {e}")))?;
            replace(&self.dir, SESSION_FILE, &json)?;
            open.session = Some(session);
            let path = self.dir.join(BUCKETS_FILE);
            let file = file_mode::private_options()
                .append(true)
                .open(&path)
                .map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
            open.buckets = Some(file);
        }
        if entry.finished.is_empty() {
            return Ok(());
        }
        let path = self.dir.join(BUCKETS_FILE);
        let file = open
            .buckets
            .as_mut()
            .ok_or_else(|| Error::internal("a bucket was checkpointed before the body began"))?;
        let mut bytes = Vec::new();
        for f in &entry.finished {
            records::encode(f, &mut bytes);
        }
        let io = |e| Error::io(format!("writing {}", path.display()), e);
        file.write_all(&bytes).map_err(io)?;
        file.sync_data().map_err(io)
    }

    /// Removes the checkpoint's files once the session completed (the directory stays).
    ///
    /// # Errors
    /// [`Error::Io`] if a file cannot be removed.
    pub fn finish(&self) -> Result<()> {
        let mut open = self.lock();
        open.buckets = None;
        // The matches first: a crash between the two leaves a session without buckets, which
        // `status` and `open` still see, never buckets without their session.
        for name in [BUCKETS_FILE, SESSION_FILE] {
            let path = self.dir.join(name);
            match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io(format!("removing {}", path.display()), e)),
            }
        }
        file_mode::sync_dir(&self.dir, &format!("syncing {}", self.dir.display()))
    }
}

#[cfg(test)]
mod tests;
