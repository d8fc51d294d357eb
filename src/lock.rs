//! Advisory file locks (`flock`, through [`std::fs::File::try_lock`]) next to the files they
//! guard: `PATH.lock`, held only for one short read-modify-write (one audit append, one budget
//! admission), so several processes share a log or a budget state. The operating system drops
//! a lock when its process dies, so a crash never leaves a stale one.

use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::error::{ConfigReason, Error, Result};

/// The lock file next to `path`: `PATH.lock`.
pub(crate) fn lock_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Opens (creating it if needed) the lock file of `path`.
pub(crate) fn open_lock(path: &Path) -> Result<File> {
    let lock = lock_path(path);
    crate::file_mode::private_options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock)
        .map_err(|e| Error::io(format!("opening lock file {}", lock.display()), e))
}

/// Takes the exclusive lock on `file`, polling until `wait` has passed. Call it from a thread
/// that may block.
///
/// # Errors
/// [`Error::Config`] ([`ConfigReason::Busy`]) naming `what` once `wait` has passed.
pub(crate) fn lock_exclusive(file: &File, what: &Path, wait: Duration) -> Result<()> {
    let start = Instant::now();
    let mut said = false;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(TryLockError::WouldBlock) if start.elapsed() < wait => {
                if !said {
                    // Say so at once, not after the wait.
                    tracing::warn!(
                        "waiting for {}: another blindmatch process is using it (at most {} s)",
                        what.display(),
                        wait.as_secs()
                    );
                    said = true;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(TryLockError::WouldBlock) => {
                return Err(Error::config(
                    ConfigReason::Busy,
                    format!(
                        "{} is in use by another blindmatch process (waited {} s)",
                        what.display(),
                        wait.as_secs_f64()
                    ),
                ))
            }
            Err(TryLockError::Error(e)) => {
                return Err(Error::io(format!("locking {}", what.display()), e))
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_waits_then_fails() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("audit.jsonl");
        let a = open_lock(&log).unwrap();
        lock_exclusive(&a, &log, Duration::ZERO).unwrap();
        let b = open_lock(&log).unwrap();
        let err = lock_exclusive(&b, &log, Duration::from_millis(100)).unwrap_err();
        assert!(
            matches!(&err, Error::Config(c) if c.reason == ConfigReason::Busy),
            "{err}"
        );
        drop(a);
        lock_exclusive(&b, &log, Duration::ZERO).unwrap();
    }
}
