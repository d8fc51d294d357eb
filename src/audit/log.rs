//! [`AuditLog`]: appending signed, chained entries, fsynced, with an atomically replaced head.
//!
//! Several processes of one agency may append to one log (a `serve` and a `match` on one
//! identity): each append takes the exclusive lock `LOG.lock` for its own read-modify-write
//! only, reads the entries other processes appended since (checking each one's sequence number,
//! chain link and signature under our key), and then appends after them.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use ed25519_dalek::ed25519::signature::Signer;
use ed25519_dalek::SigningKey;

use super::chain::{chain_hash, entry_message, head_message, head_path};
use super::checkpoint::Checkpoint;
use super::entry::{Entry, Event, Line, Outcome, SessionInfo};
use super::receipt::SessionReceipt;
use super::verify::verify;
use crate::error::{AuditError, AuditProblem, Error, Result};

/// An open audit log, safe to share between concurrent sessions (`Arc<AuditLog>`): appends are
/// serialized by an internal lock.
pub struct AuditLog {
    path: PathBuf,
    key: SigningKey,
    state: Mutex<State>,
}

struct State {
    file: File,
    /// The log's length in bytes after the last entry we know of.
    len: u64,
    next_seq: u64,
    last_hash: [u8; 32],
}

/// How long an append waits for another process's append to finish.
pub const APPEND_LOCK_WAIT: Duration = Duration::from_secs(30);

impl std::fmt::Debug for AuditLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditLog")
            .field("path", &self.path)
            .finish()
    }
}

fn audit(context: &str, e: std::io::Error) -> Error {
    Error::io(context.to_owned(), e)
}

impl AuditLog {
    /// Opens (or creates) the log at `path`, signing new entries with `key`. An existing log is
    /// verified first under `key`: appending to a damaged log is refused.
    ///
    /// # Errors
    /// [`Error::Audit`] if the existing log fails verification under `key`: its
    /// [`AuditError::problem`] is the first problem [`verify`] finds
    /// ([`AuditProblem::Torn`], [`AuditProblem::Edited`], [`AuditProblem::Sequence`],
    /// [`AuditProblem::Chain`], [`AuditProblem::UnknownSigner`],
    /// [`AuditProblem::BadSignature`], [`AuditProblem::HeadMissing`],
    /// [`AuditProblem::HeadInvalid`], [`AuditProblem::Truncated`] or
    /// [`AuditProblem::HeadMismatch`]), with the log's path and advice; [`Error::Io`] if it
    /// cannot be read or created.
    pub fn open(path: &Path, key: SigningKey) -> Result<AuditLog> {
        let lock = crate::lock::open_lock(path)?;
        crate::lock::lock_exclusive(&lock, path, APPEND_LOCK_WAIT)?;
        let (next_seq, last_hash) = if path.exists() {
            let report = verify(path, &[key.verifying_key()])?;
            if let Some(problem) = report.problem() {
                return Err(Error::Audit(AuditError::new(problem).at(path).advising(
                    "refusing to append to a damaged log (run `blindmatch audit verify`, keep \
                     the file as evidence, start a new log)",
                )));
            }
            (report.entries.len() as u64, report.last_hash)
        } else {
            (0, [0u8; 32])
        };
        let file = crate::file_mode::private_options()
            .create(true)
            .append(true)
            .read(true)
            .open(path)
            .map_err(|e| audit(&format!("opening audit log {}", path.display()), e))?;
        let len = file
            .metadata()
            .map_err(|e| audit(&format!("reading audit log {}", path.display()), e))?
            .len();
        let log = AuditLog {
            path: path.to_owned(),
            key,
            state: Mutex::new(State {
                file,
                len,
                next_seq,
                last_hash,
            }),
        };
        if next_seq == 0 {
            log.write_head(0, &[0u8; 32])?;
        }
        Ok(log)
    }

    /// The log's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Logs that a session passed the policy and budget checks.
    ///
    /// # Errors
    /// As [`AuditLog::append`]: [`Error::Io`] if the append or fsync fails.
    pub fn session_started(&self, session: &SessionInfo) -> Result<Entry> {
        self.append(Event::SessionStarted {
            session: session.clone(),
            handshake: None,
            terms: None,
        })
    }

    /// Logs that a session completed.
    ///
    /// # Errors
    /// As [`AuditLog::append`]: [`Error::Io`] if the append or fsync fails.
    pub fn session_ended(&self, session: &SessionInfo, outcome: &Outcome) -> Result<Entry> {
        self.append(Event::SessionEnded {
            session: session.clone(),
            outcome: outcome.clone(),
            revealed_columns: Vec::new(),
        })
    }

    /// Logs that a session was aborted, with our local reason (and no code: the session
    /// envelope logs its aborts with [`Event::SessionAborted`]'s `code` set).
    ///
    /// # Errors
    /// As [`AuditLog::append`]: [`Error::Io`] if the append or fsync fails.
    pub fn session_aborted(&self, session: &SessionInfo, reason: &str) -> Result<Entry> {
        self.append(Event::SessionAborted {
            session: session.clone(),
            reason: reason.to_owned(),
            code: None,
            stage: None,
            own_learned: None,
            peer_learned: None,
            buckets_finished: None,
        })
    }

    /// Logs a refusal by the policy or the query budget (`error` should be
    /// [`Error::PolicyRefused`], whose rule is logged by its policy key; other errors are
    /// logged with rule `"error"`).
    ///
    /// # Errors
    /// As [`AuditLog::append`]: [`Error::Io`] if the append or fsync fails.
    pub fn session_refused(
        &self,
        peer_fingerprint: &str,
        mode: &str,
        error: &Error,
    ) -> Result<Entry> {
        let (rule, detail) = match error {
            Error::PolicyRefused(r) => (r.rule.as_str().to_owned(), r.detail.clone()),
            other => ("error".to_owned(), other.to_string()),
        };
        self.append(Event::SessionRefused {
            peer_fingerprint: peer_fingerprint.to_owned(),
            mode: mode.to_owned(),
            rule,
            detail,
        })
    }

    /// Logs the peer's receipt. Check it first with [`SessionReceipt::verify`] against the
    /// peer's pinned key.
    ///
    /// # Errors
    /// As [`AuditLog::append`]: [`Error::Io`] if the append or fsync fails.
    pub fn peer_receipt(&self, receipt: &SessionReceipt) -> Result<Entry> {
        self.append(Event::peer_receipt(receipt))
    }

    /// The log's checkpoint for a receipt: its size and head after the last append this
    /// process made or caught up with (every entry it counts is fsynced, and the head file
    /// names it). Signed into our receipt, it is what the peer later checks our log against.
    /// (After an append panicked, the state it left is read: the next append fails anyway.)
    pub fn checkpoint(&self) -> Checkpoint {
        let st = self
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Checkpoint {
            size: st.next_seq,
            head: st.last_hash,
        }
    }

    /// Appends one event: signs it, chains it, writes the line, fsyncs, then replaces the head.
    ///
    /// # Errors
    /// [`Error::Io`] if a write or fsync fails; [`Error::Audit`] with
    /// [`AuditProblem::Encoding`] if the entry cannot be encoded; [`Error::Internal`] if an
    /// earlier append panicked while holding the log's lock.
    pub fn append(&self, event: Event) -> Result<Entry> {
        let mut st = self.state.lock().map_err(|_| {
            Error::internal(format!(
                "the lock of audit log {} is poisoned (an append panicked)",
                self.path.display()
            ))
        })?;
        let lock = crate::lock::open_lock(&self.path)?;
        crate::lock::lock_exclusive(&lock, &self.path, APPEND_LOCK_WAIT)?;
        self.catch_up(&mut st)?;
        let entry = Entry {
            seq: st.next_seq,
            time: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            prev: hex::encode(st.last_hash),
            signer: hex::encode(self.key.verifying_key().as_bytes()),
            event,
        };
        let encoding = |_| Error::Audit(AuditError::new(AuditProblem::Encoding).at(&self.path));
        let entry_json = serde_json::to_vec(&entry).map_err(encoding)?;
        let sig = self.key.sign(&entry_message(&entry_json));
        let line = Line {
            entry: entry.clone(),
            sig: hex::encode(sig.to_bytes()),
        };
        let mut bytes = serde_json::to_vec(&line).map_err(encoding)?;
        let hash = chain_hash(&bytes);
        bytes.push(b'\n');
        let ctx = format!("appending to audit log {}", self.path.display());
        st.file.write_all(&bytes).map_err(|e| audit(&ctx, e))?;
        st.file.sync_data().map_err(|e| audit(&ctx, e))?;
        st.len += bytes.len() as u64;
        st.next_seq += 1;
        st.last_hash = hash;
        let n = st.next_seq;
        self.write_head(n, &hash)?;
        drop(lock);
        Ok(entry)
    }

    /// Reads the entries another process appended since our last append (we hold the log's
    /// lock) and moves our chain head after them, checking that each one follows the chain
    /// and is signed by our key.
    fn catch_up(&self, st: &mut State) -> Result<()> {
        let ctx = format!("reading audit log {}", self.path.display());
        let len = st.file.metadata().map_err(|e| audit(&ctx, e))?.len();
        if len == st.len {
            return Ok(());
        }
        let damaged = |problem: AuditProblem| {
            Error::Audit(AuditError::new(problem).at(&self.path).advising(
                "another writer left the log in a state we cannot append to (run `blindmatch \
                 audit verify`)",
            ))
        };
        if len < st.len {
            // Shorter than what we wrote: count what is left, for the message.
            let lines = std::fs::read(&self.path)
                .map(|b| b.iter().filter(|&&c| c == b'\n').count() as u64)
                .unwrap_or(0);
            return Err(damaged(AuditProblem::Truncated {
                head: st.next_seq,
                log: lines,
            }));
        }
        let mut tail = Vec::with_capacity((len - st.len) as usize);
        st.file
            .seek(SeekFrom::Start(st.len))
            .and_then(|_| (&st.file).take(len - st.len).read_to_end(&mut tail))
            .map_err(|e| audit(&ctx, e))?;
        let Some(complete) = tail.iter().rposition(|&b| b == b'\n') else {
            return Err(damaged(AuditProblem::Torn {
                index: st.next_seq as usize,
            }));
        };
        let key = self.key.verifying_key();
        for line in tail[..complete].split(|&b| b == b'\n') {
            let index = st.next_seq as usize;
            let parsed: Line = serde_json::from_slice(line)
                .map_err(|_| damaged(AuditProblem::Edited { index }))?;
            if parsed.entry.seq != st.next_seq {
                return Err(damaged(AuditProblem::Sequence { index }));
            }
            if parsed.entry.prev != hex::encode(st.last_hash) {
                return Err(damaged(AuditProblem::Chain { index }));
            }
            let entry_json = serde_json::to_vec(&parsed.entry)
                .map_err(|_| damaged(AuditProblem::Edited { index }))?;
            let sig = hex::decode(&parsed.sig)
                .ok()
                .and_then(|b| ed25519_dalek::Signature::from_slice(&b).ok())
                .ok_or_else(|| damaged(AuditProblem::BadSignature { index }))?;
            key.verify_strict(&entry_message(&entry_json), &sig)
                .map_err(|_| damaged(AuditProblem::BadSignature { index }))?;
            st.last_hash = chain_hash(line);
            st.next_seq += 1;
        }
        if complete + 1 != tail.len() {
            return Err(damaged(AuditProblem::Torn {
                index: st.next_seq as usize,
            }));
        }
        st.len = len;
        st.file.seek(SeekFrom::End(0)).map_err(|e| audit(&ctx, e))?;
        Ok(())
    }

    fn write_head(&self, entries: u64, last: &[u8; 32]) -> Result<()> {
        let sig = self.key.sign(&head_message(entries, last));
        let head = serde_json::json!({
            "entries": entries,
            "last_hash": hex::encode(last),
            "signer": hex::encode(self.key.verifying_key().as_bytes()),
            "sig": hex::encode(sig.to_bytes()),
        });
        let path = head_path(&self.path);
        let ctx = format!("writing audit head {}", path.display());
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| audit(&ctx, e))?;
        tmp.write_all(head.to_string().as_bytes())
            .map_err(|e| audit(&ctx, e))?;
        tmp.as_file().sync_all().map_err(|e| audit(&ctx, e))?;
        tmp.persist(&path).map_err(|e| audit(&ctx, e.error))?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}
