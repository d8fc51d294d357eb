//! Reading the items of `--input` and writing the matched rows, for `serve` and `match`.
//!
//! INTERIM until `records` (the identifiers engineer's module) is merged: plain text, one item
//! per line; the output holds the matched values. Swap the two functions for `records::load`
//! and `records::write_matches`.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::protocol::dh::Match;
use crate::protocol::ItemSet;

/// A loaded input.
#[derive(Debug, Clone)]
pub struct Input {
    /// Where it came from.
    pub path: PathBuf,
    /// The lines, in order.
    pub lines: Vec<String>,
}

impl Input {
    /// The items to match.
    pub fn items(&self) -> ItemSet {
        ItemSet::new(self.lines.iter().map(|l| l.as_bytes()))
    }
}

/// Loads `path`.
///
/// # Errors
/// [`Error::Input`] if it cannot be read.
pub fn load(path: &Path, _column: Option<&str>) -> Result<Input> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::Input(format!("cannot read {}: {e}", path.display())))?;
    let lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    Ok(Input {
        path: path.to_path_buf(),
        lines,
    })
}

/// Writes the matched values to `out` atomically (temporary file, then rename).
///
/// # Errors
/// [`Error::Io`] if the file cannot be written.
pub fn write_matches(out: &Path, _input: &Input, matches: &[Match]) -> Result<()> {
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| Error::io(format!("creating a file in {}", dir.display()), e))?;
    let mut text = String::from("matched_value\n");
    for m in matches {
        text.push_str(&String::from_utf8_lossy(&m.item));
        text.push('\n');
    }
    tmp.write_all(text.as_bytes())
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| Error::io(format!("writing {}", out.display()), e))?;
    tmp.persist(out)
        .map_err(|e| Error::io(format!("writing {}", out.display()), e.error))?;
    Ok(())
}
