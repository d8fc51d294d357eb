//! [`recover`]: removes a torn last line that no one can have seen, and says so in the log
//! (`protocol-spec/06-policy-and-audit.md` section 6.3).
//!
//! A torn line is what a crash in the middle of an append leaves: bytes after the last
//! newline. The append had not finished, so the head file (replaced only after the line is
//! fsynced) does not count it, our in-memory checkpoint had not moved past it, and so no
//! receipt, peer or report can have acknowledged it. Only that case is recovered: anything
//! else (a bad entry before the last line, a torn line the head counts, a missing or bad
//! head) is refused and the file left as it is, since it is evidence.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

use ed25519_dalek::SigningKey;

use super::chain::head_path;
use super::entry::{Entry, Event};
use super::log::{AuditLog, APPEND_LOCK_WAIT};
use super::verify::verify_bytes;
use crate::error::{AuditError, AuditProblem, Error, Result};

/// What [`recover`] did.
#[derive(Debug, Clone)]
pub struct Recovered {
    /// Bytes removed from the end of the log (the torn line).
    pub removed_bytes: u64,
    /// The copy of the log as it was.
    pub copy: PathBuf,
    /// SHA3-256 of the copy (hex).
    pub copy_sha3_256: String,
    /// The `log_recovered` entry appended.
    pub entry: Entry,
}

/// Recovers the log at `path`, signed by `key`: if its only problem is a torn last line the
/// head does not count, keeps a copy (`LOG.torn-<UTC time>`), truncates the torn bytes,
/// and appends a signed [`Event::LogRecovered`] naming the copy, its digest and the bytes
/// removed. Returns `None` when the log verifies and there is nothing to recover.
///
/// # Errors
/// [`Error::Audit`] with [`AuditProblem::NotRecoverable`] (naming the log's own problem) for
/// any other damage, with the file untouched; [`Error::Io`] if the log cannot be read, copied
/// or truncated; as [`AuditLog::open`] and [`AuditLog::append`] for the recovery entry.
pub fn recover(path: &Path, key: SigningKey) -> Result<Option<Recovered>> {
    let pinned = [key.verifying_key()];
    let lock = crate::lock::open_lock(path)?;
    crate::lock::lock_exclusive(&lock, path, APPEND_LOCK_WAIT)?;
    let io = |what: &str, e| Error::io(format!("{what} {}", path.display()), e);
    let bytes = std::fs::read(path).map_err(|e| io("reading audit log", e))?;
    let head = std::fs::read(head_path(path)).ok();
    let report = verify_bytes(&bytes, head.as_deref(), &pinned);
    let refuse = |problem: &AuditProblem, entries: usize| {
        Error::Audit(
            AuditError::new(AuditProblem::NotRecoverable {
                problem: problem.code(),
                entries,
            })
            .at(path)
            .advising(format!(
                "the log is left as it is ({problem}); keep it as evidence and start a new log"
            )),
        )
    };
    let torn_at = match &report.problem() {
        None => return Ok(None),
        Some(AuditProblem::Torn { index }) if *index == report.entries.len() => {
            bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)
        }
        Some(other) => return Err(refuse(other, report.entries.len())),
    };
    // The head must agree with the log without the torn bytes: it does not count them.
    let kept = &bytes[..torn_at];
    let without = verify_bytes(kept, head.as_deref(), &pinned);
    if let Some(problem) = without.problem() {
        return Err(refuse(&problem, without.entries.len()));
    }
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
    let mut name = path.file_name().unwrap_or_default().to_owned();
    name.push(format!(".torn-{stamp}"));
    let copy = path.with_file_name(&name);
    {
        use std::io::Write;
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        // The copy holds what the log holds: readable by the agency only.
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options
            .open(&copy)
            .map_err(|e| Error::io(format!("creating the copy {}", copy.display()), e))?;
        f.write_all(&bytes)
            .and_then(|()| f.sync_all())
            .map_err(|e| Error::io(format!("writing the copy {}", copy.display()), e))?;
    }
    let copy_sha3_256 = super::file_digest(&copy)?;
    let f = OpenOptions::new()
        .write(true)
        .open(path)
        .map_err(|e| io("opening audit log", e))?;
    f.set_len(torn_at as u64)
        .and_then(|()| f.sync_all())
        .map_err(|e| io("truncating audit log", e))?;
    drop(f);
    drop(lock);
    let removed_bytes = (bytes.len() - torn_at) as u64;
    let log = AuditLog::open(path, key)?;
    let entry = log.append(Event::LogRecovered {
        removed_bytes,
        copy: name.to_string_lossy().into_owned(),
        copy_sha3_256: copy_sha3_256.clone(),
    })?;
    Ok(Some(Recovered {
        removed_bytes,
        copy,
        copy_sha3_256,
        entry,
    }))
}
