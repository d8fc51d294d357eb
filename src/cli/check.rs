//! `blindmatch check`: validate and canonicalise a file as a run would, and print what would
//! be matched and what would be rejected, without talking to anyone.

use std::path::PathBuf;

use super::input::InputArgs;
use crate::error::Result;
use crate::records;

/// Validate a file's identifiers and print a per-key summary of accepted, rejected and duplicate
/// values.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input options (the same for check, index, match and serve).
    #[command(flatten)]
    pub input: InputArgs,
    /// Write every rejected value here as CSV (line, column, value, reason).
    #[arg(long)]
    pub rejects: Option<PathBuf>,
}

/// Runs `blindmatch check`.
///
/// # Errors
/// As [`InputArgs::spec`] and [`records::load`]: [`crate::Error::Config`] with
/// [`ConfigReason::Keys`](crate::error::ConfigReason::Keys) for a bad mapping or key;
/// [`crate::Error::Input`] with [`InputReason::Header`](crate::error::InputReason::Header) for
/// a bad header and, with `--strict`, the reason of the first unreadable row or invalid value;
/// [`crate::Error::Io`] if a file cannot be read, or the rejects cannot be written.
pub fn run(args: Args, quiet: bool) -> Result<()> {
    let spec = args.input.spec()?;
    let recs = records::load(&spec)?;
    if let Some(path) = &args.rejects {
        records::write_rejects(path, recs.rejects())?;
    }
    if !quiet {
        out!("{}: {}", recs.path(), recs.summary());
        if recs.keys().len() > 1 {
            outln!("per kind:");
            for k in recs.summary().by_kind(recs.keys()) {
                outln!(
                    "  {}: {} accepted, {} rejected, {} duplicates, {} empty",
                    k.key,
                    k.accepted,
                    k.rejected,
                    k.duplicates,
                    k.empty
                );
            }
        }
        let n = recs.rejects().len();
        if n > 0 && args.rejects.is_none() {
            outln!("{n} values rejected; add --rejects FILE to see each with its line and reason");
        }
    }
    Ok(())
}
