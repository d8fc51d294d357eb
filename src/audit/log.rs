//! [`AuditLog`]: appending signed, chained entries, fsynced, with an atomically replaced head.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ed25519_dalek::ed25519::signature::Signer;
use ed25519_dalek::SigningKey;

use super::chain::{chain_hash, entry_message, head_message, head_path};
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
    next_seq: u64,
    last_hash: [u8; 32],
}

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
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| audit(&format!("opening audit log {}", path.display()), e))?;
        let log = AuditLog {
            path: path.to_owned(),
            key,
            state: Mutex::new(State {
                file,
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
        self.append(Event::PeerReceipt {
            session_id: hex::encode(receipt.session_id),
            peer_key: hex::encode(receipt.signer.as_bytes()),
            outcome: receipt.outcome,
            receipt: hex::encode(receipt.encode()),
        })
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
        st.next_seq += 1;
        st.last_hash = hash;
        let n = st.next_seq;
        self.write_head(n, &hash)?;
        Ok(entry)
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
