//! Output paths, checked before any work is done (before reading a large input, opening the
//! audit log or connecting): the directory exists and is writable, the path is not one of the
//! inputs (compared canonically), no two outputs are the same file, and the file does not
//! exist yet unless `--force` is given. A session whose output could not be written would
//! have told the peer its result and spent our budget for nothing.

use std::path::{Path, PathBuf};

use crate::error::{Error, InputReason, Result};
use crate::records::STDIN;

/// One output a command will write: the option that names it and its path.
#[derive(Debug, Clone, Copy)]
pub struct Output<'a> {
    /// The option, as the user typed it (`--output`).
    pub option: &'static str,
    /// The path.
    pub path: &'a Path,
    /// The file written is derived from the path (`serve` without `--once` inserts each
    /// session's id), so an existing file at the path itself is never replaced.
    pub derived: bool,
}

impl<'a> Output<'a> {
    /// The output `path` of `option`.
    pub fn new(option: &'static str, path: &'a Path) -> Self {
        Output {
            option,
            path,
            derived: false,
        }
    }
}

fn refuse(out: &Output<'_>, why: impl std::fmt::Display) -> Error {
    Error::input(
        InputReason::OutputPath,
        format!("{} {}: {why}", out.option, out.path.display()),
    )
}

fn directory(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// The canonical form of a path that may not exist yet: its directory canonicalised, then
/// its file name.
fn canonical(path: &Path) -> Option<PathBuf> {
    if let Ok(p) = path.canonicalize() {
        return Some(p);
    }
    let dir = directory(path).canonicalize().ok()?;
    Some(dir.join(path.file_name()?))
}

/// Checks every output of a command against each other and against its `inputs`.
///
/// # Errors
/// [`Error::Input`] with [`InputReason::OutputPath`], naming the option, the path and what to
/// do, for the first output whose directory is missing or not writable, that is a directory,
/// that is one of the inputs or another output, or that exists while `force` is false.
pub fn check(outputs: &[Output<'_>], inputs: &[&Path], force: bool) -> Result<()> {
    let inputs: Vec<(PathBuf, &Path)> = inputs
        .iter()
        .filter(|p| p.as_os_str() != STDIN)
        .filter_map(|p| Some((p.canonicalize().ok()?, *p)))
        .collect();
    let mut seen: Vec<(PathBuf, &Output<'_>)> = Vec::new();
    for out in outputs {
        let dir = directory(out.path);
        if !dir.is_dir() {
            return Err(refuse(
                out,
                format!(
                    "the directory {} does not exist; create it first or choose another path \
                     (nothing was done)",
                    dir.display()
                ),
            ));
        }
        if out.path.is_dir() {
            return Err(refuse(out, "is a directory; give a file name"));
        }
        if let Err(e) = tempfile::Builder::new()
            .prefix(".blindmatch-check-")
            .tempfile_in(dir)
        {
            return Err(refuse(
                out,
                format!(
                    "cannot write in {} ({e}); choose a writable directory",
                    dir.display()
                ),
            ));
        }
        let Some(target) = canonical(out.path) else {
            return Err(refuse(out, "cannot resolve the path; give a file name"));
        };
        if let Some((_, input)) = inputs.iter().find(|(c, _)| *c == target) {
            return Err(refuse(
                out,
                format!(
                    "is the input {}: writing it would destroy the input; choose another path",
                    input.display()
                ),
            ));
        }
        if let Some((_, other)) = seen.iter().find(|(c, _)| *c == target) {
            return Err(refuse(
                out,
                format!(
                    "is also the path of {}; give each output its own file",
                    other.option
                ),
            ));
        }
        if !force && !out.derived && out.path.exists() {
            return Err(refuse(
                out,
                "already exists; add --force to replace it, or choose another path",
            ));
        }
        seen.push((target, out));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(r: Result<()>) -> Option<InputReason> {
        match r {
            Err(Error::Input(e)) => Some(e.reason),
            _ => None,
        }
    }

    #[test]
    fn refuses_missing_directories_inputs_duplicates_and_existing_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let input = dir.path().join("in.csv");
        std::fs::write(&input, "x\n").expect("write");
        let fresh = dir.path().join("out.csv");
        assert!(check(&[Output::new("--output", &fresh)], &[&input], false).is_ok());
        let missing = dir.path().join("nope").join("out.csv");
        let bad = |outs: &[Output<'_>], force| reason(check(outs, &[&input], force));
        assert_eq!(
            bad(&[Output::new("--output", &missing)], true),
            Some(InputReason::OutputPath)
        );
        // The input itself, even with --force, and by another spelling.
        let other_spelling = dir.path().join(".").join("in.csv");
        assert_eq!(
            bad(&[Output::new("--output", &other_spelling)], true),
            Some(InputReason::OutputPath)
        );
        assert_eq!(
            bad(
                &[
                    Output::new("--output", &fresh),
                    Output::new("--rejects", &fresh)
                ],
                true
            ),
            Some(InputReason::OutputPath)
        );
        std::fs::write(&fresh, "old\n").expect("write");
        assert_eq!(
            bad(&[Output::new("--output", &fresh)], false),
            Some(InputReason::OutputPath)
        );
        assert!(check(&[Output::new("--output", &fresh)], &[&input], true).is_ok());
        assert_eq!(
            bad(&[Output::new("--output", dir.path())], true),
            Some(InputReason::OutputPath)
        );
    }
}
