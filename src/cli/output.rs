//! Where `serve` and `match` write what a session learned: the matched rows of our input, as
//! CSV ([`CsvSink`]), after both receipts. The agency logs the file's path and a keyed
//! commitment to its bytes.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::input;
use crate::agency::OutputSink;
use crate::audit;
use crate::error::{Error, InputReason, Result};
use crate::records::Records;
use crate::session::{BodyOutput, OutputRecord};

/// Writes our matched rows to a CSV file.
pub struct CsvSink {
    /// The output file (with `per_session`, the session id goes before the extension).
    pub path: PathBuf,
    /// Our input, whose matched rows are written.
    pub records: Arc<Records>,
    /// One file per session (a `serve` that runs several).
    pub per_session: bool,
    /// Where to write our rows that did not match (`--unmatched`), if anywhere.
    pub unmatched: Option<PathBuf>,
    /// Replace existing files (`--force`); otherwise a file that appeared since the paths
    /// were checked (or a per-session name already taken) is refused, not replaced.
    pub force: bool,
}

/// `base` with the first 8 bytes of the session id, hex, before the extension.
pub fn per_session_path(base: &Path, session_id: &[u8; 32]) -> PathBuf {
    let sid = hex::encode(&session_id[..8]);
    let stem = base
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match base.extension() {
        Some(ext) => format!("{stem}.{sid}.{}", ext.to_string_lossy()),
        None => format!("{stem}.{sid}"),
    };
    base.with_file_name(name)
}

impl OutputSink for CsvSink {
    fn write(&self, output: &BodyOutput, session_id: &[u8; 32]) -> Result<Option<OutputRecord>> {
        let at = |p: &Path| {
            if self.per_session {
                per_session_path(p, session_id)
            } else {
                p.to_path_buf()
            }
        };
        let path = at(&self.path);
        let unmatched = self.unmatched.as_deref().map(at);
        if !self.force {
            for (option, p) in std::iter::once(("--output", &path))
                .chain(unmatched.iter().map(|u| ("--unmatched", u)))
            {
                if p.exists() {
                    return Err(Error::input(
                        InputReason::OutputPath,
                        format!(
                            "{option} {}: appeared during the session and is not replaced; \
                             add --force to replace it",
                            p.display()
                        ),
                    ));
                }
            }
        }
        let matched: Vec<usize> = match output {
            BodyOutput::Dh(o) | BodyOutput::Vole(o) => match o.matches() {
                Some(m) => input::write_matches(&path, &self.records, m)?,
                None => return Ok(None),
            },
            BodyOutput::Receiver(o) => {
                input::write_oprf_matches(&path, &self.records, &o.matches, &o.columns)?;
                o.matches
                    .iter()
                    .flat_map(|m| m.input_indices.iter().copied())
                    .collect()
            }
            _ => return Ok(None),
        };
        if let Some(u) = &unmatched {
            crate::records::write_unmatched(u, &self.records, &matched)?;
        }
        Ok(Some(OutputRecord {
            location: path.display().to_string(),
            sha3_256: audit::file_digest(&path)?,
            commitment: None,
        }))
    }
}
