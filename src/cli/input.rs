//! Reading the items of `--input` and writing the matched rows, for `serve` and `match`:
//! thin wrappers around [`crate::records`].

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::protocol::dh::Match;
use crate::protocol::ItemSet;
use crate::records::{self, InputSpec, KeySpec, Records};

/// Input options shared by `serve` and `match`.
#[derive(Debug, Clone, clap::Args)]
pub struct InputArgs {
    /// Input file: CSV with a header, or plain text (`.txt`) with one item per line.
    #[arg(long)]
    pub input: PathBuf,
    /// A column holding opaque identifiers (matched byte for byte after trimming).
    #[arg(long)]
    pub column: Option<String>,
    /// A key to match on, `column:kind` (for example `imo:imo_ship`); repeat to match on any.
    #[arg(long = "key")]
    pub keys: Vec<KeySpec>,
    /// Fail on the first unreadable row or invalid value instead of reporting it.
    #[arg(long)]
    pub strict: bool,
}

/// Loads the input; reports rejected rows on stderr unless `quiet` (nothing is dropped
/// silently).
///
/// # Errors
/// As [`records::load`].
pub fn load(args: &InputArgs, quiet: bool) -> Result<Records> {
    let spec = InputSpec {
        column: args.column.clone(),
        strict: args.strict,
        ..InputSpec::new(&args.input, args.keys.clone())
    };
    let recs = records::load(&spec)?;
    if !quiet {
        for r in recs.rejects() {
            eprintln!(
                "blindmatch: {}:{}: column `{}`: value `{}` skipped: {}",
                recs.path(),
                r.line,
                r.column,
                r.value,
                r.reason
            );
        }
    }
    Ok(recs)
}

/// The items to match.
pub fn items(recs: &Records) -> ItemSet {
    ItemSet::new(recs.items())
}

/// Writes our matched rows (all original columns plus the matched value) to `out`,
/// atomically.
///
/// # Errors
/// As [`records::write_matches_by_index`].
pub fn write_matches(out: &Path, recs: &Records, matches: &[Match]) -> Result<()> {
    let indices: Vec<usize> = matches
        .iter()
        .flat_map(|m| m.input_indices.iter().copied())
        .collect();
    records::write_matches_by_index(out, recs, &indices)?;
    Ok(())
}
