//! File modes of the files that hold secrets (README, "Files and permissions"), one place for
//! every module that creates or loads them.
//!
//! - Created: directories that hold secrets (an identity, an index) `0700`, files `0600`
//!   (`identity.key`, `output-commitment.key`, the files of an index, `audit.jsonl` and its
//!   head and lock, the budget state). The mode is given at creation (by these helpers, or
//!   by `tempfile`, whose files are 0600 and keep it when renamed into place), so the umask
//!   can only narrow it.
//! - Loaded: a secret-bearing file (`identity.key`, `output-commitment.key`, an index's
//!   `key.wrapped` and `tags.bin`, its passphrase file) that the group or other users may read
//!   or write is refused with [`Error::FileMode`], as `sshd` refuses an unprotected private
//!   key; so is an identity directory the group or others may write (they could replace the
//!   key or certificate in it). A directory only readable by others is accepted: it shows
//!   file names, and each secret file guards its own contents. An index directory's mode is
//!   not checked: a file swapped in it fails the index seal.
//!
//! On targets without Unix modes every check passes and files get the platform's default
//! access control.

use std::fs::{File, OpenOptions};
use std::path::Path;

use crate::error::{Error, Result};
#[cfg(unix)]
use crate::error::{Exposure, FileModeError};

/// The mode of a created secret-bearing file.
#[cfg(unix)]
pub(crate) const PRIVATE_FILE: u32 = 0o600;

/// The mode of a created directory that holds secret-bearing files.
#[cfg(unix)]
pub(crate) const PRIVATE_DIR: u32 = 0o700;

/// Creates `dir` and its missing parents with mode `0700` (an existing directory is left as
/// it is).
///
/// # Errors
/// [`Error::Io`] if it cannot be created.
pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(PRIVATE_DIR);
    }
    b.create(dir)
        .map_err(|e| Error::io(format!("creating {}", dir.display()), e))
}

/// Replaces `path` with `bytes` whole: a temporary file beside it (mode `0600`, which the
/// renamed file keeps) is written, synced and renamed into place, and the directory synced,
/// so a crash leaves the old file or the new one. Errors name `context`.
///
/// # Errors
/// [`Error::Io`] with `context` if a step fails.
pub(crate) fn replace_private(path: &Path, bytes: &[u8], context: &str) -> Result<()> {
    use std::io::Write;
    let io = |e| Error::io(context.to_owned(), e);
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    tmp.write_all(bytes).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    sync_dir(dir, context)
}

/// Syncs directory `dir` (its entries: a file created, renamed or removed in it), where the
/// platform can; a directory that cannot be opened is left as it is.
///
/// # Errors
/// [`Error::Io`] with `context` if the sync fails.
pub(crate) fn sync_dir(dir: &Path, context: &str) -> Result<()> {
    if let Ok(d) = File::open(dir) {
        d.sync_all().map_err(|e| Error::io(context.to_owned(), e))?;
    }
    Ok(())
}

/// Options that create a file with mode `0600` (for appending to, say).
pub(crate) fn private_options() -> OpenOptions {
    #[cfg_attr(not(unix), allow(unused_mut))]
    let mut o = OpenOptions::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(PRIVATE_FILE);
    }
    o
}

#[cfg(unix)]
fn refuse(path: &Path, meta: &std::fs::Metadata) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = meta.permissions().mode() & 0o7777;
    let directory = meta.is_dir();
    let exposure = if !directory && mode & 0o044 != 0 {
        Exposure::Readable
    } else if mode & 0o022 != 0 {
        Exposure::Writable
    } else {
        return Ok(());
    };
    Err(Error::FileMode(FileModeError {
        path: path.to_path_buf(),
        mode,
        exposure,
        directory,
    }))
}

#[cfg(not(unix))]
fn refuse(_path: &Path, _meta: &std::fs::Metadata) -> Result<()> {
    Ok(())
}

/// Refuses a secret-bearing file the group or others may read or write, or a directory they
/// may write.
///
/// # Errors
/// [`Error::FileMode`] naming the path, its mode and the fix; [`Error::Io`] if its metadata
/// cannot be read.
pub(crate) fn check(path: &Path) -> Result<()> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Error::io(format!("reading the mode of {}", path.display()), e))?;
    refuse(path, &meta)
}

/// Opens a secret-bearing file for reading and checks the mode of the file opened (not of a
/// path that could be swapped between the check and the open).
///
/// # Errors
/// `on_open` of the error if it cannot be opened; as [`check`] otherwise.
pub(crate) fn open_secret(
    path: &Path,
    on_open: impl FnOnce(std::io::Error) -> Error,
) -> Result<File> {
    let file = File::open(path).map_err(on_open)?;
    let meta = file
        .metadata()
        .map_err(|e| Error::io(format!("reading the mode of {}", path.display()), e))?;
    refuse(path, &meta)?;
    Ok(file)
}

/// Reads the whole of a secret-bearing file after [`open_secret`]'s check. Wrap the result in
/// `Zeroizing` when it is a key.
///
/// # Errors
/// As [`open_secret`]; [`Error::Io`] if reading fails.
pub(crate) fn read_secret(
    path: &Path,
    on_open: impl FnOnce(std::io::Error) -> Error,
) -> Result<Vec<u8>> {
    use std::io::Read;
    let mut file = open_secret(path, on_open)?;
    let mut out = Vec::new();
    file.read_to_end(&mut out)
        .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
    Ok(out)
}

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn chmod(p: &Path, mode: u32) {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    fn exposure(r: Result<()>) -> Option<(Exposure, u32, bool)> {
        match r {
            Ok(()) => None,
            Err(Error::FileMode(m)) => Some((m.exposure, m.mode, m.directory)),
            Err(e) => panic!("{e:?}"),
        }
    }

    #[test]
    fn files_open_to_others_are_refused_and_named_with_their_mode() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("secret");
        std::fs::write(&f, b"k").unwrap();
        for (mode, want) in [
            (0o600, None),
            (0o400, None),
            (0o700, None),
            (0o640, Some(Exposure::Readable)),
            (0o604, Some(Exposure::Readable)),
            (0o666, Some(Exposure::Readable)),
            (0o620, Some(Exposure::Writable)),
            (0o602, Some(Exposure::Writable)),
        ] {
            chmod(&f, mode);
            assert_eq!(
                exposure(check(&f)),
                want.map(|w| (w, mode, false)),
                "{mode:o}"
            );
            let read = read_secret(&f, |e| Error::io("open", e));
            assert_eq!(read.is_ok(), want.is_none(), "{mode:o}");
        }
        chmod(&f, 0o644);
        match read_secret(&f, |e| Error::io("open", e)) {
            Err(Error::FileMode(m)) => {
                assert_eq!(m.fix(), format!("chmod 600 {}", f.display()));
                assert_eq!(m.path, f);
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn directories_are_refused_only_when_others_may_write_them() {
        let d = tempfile::tempdir().unwrap();
        let sub = d.path().join("id");
        std::fs::create_dir(&sub).unwrap();
        for (mode, want) in [
            (0o700, None),
            (0o755, None),
            (0o770, Some(Exposure::Writable)),
            (0o777, Some(Exposure::Writable)),
        ] {
            chmod(&sub, mode);
            assert_eq!(exposure(check(&sub)), want.map(|w| (w, mode, true)));
        }
    }

    #[test]
    fn created_directories_and_files_are_private_whatever_the_parent() {
        let d = tempfile::tempdir().unwrap();
        let deep = d.path().join("a/b");
        create_private_dir(&deep).unwrap();
        for p in [d.path().join("a"), deep.clone()] {
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode & !PRIVATE_DIR, 0, "{}: {mode:o}", p.display());
        }
        let f = deep.join("log");
        private_options()
            .create(true)
            .append(true)
            .open(&f)
            .unwrap();
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode & !PRIVATE_FILE, 0, "{mode:o}");
    }
}
