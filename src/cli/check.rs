//! `blindmatch check`: validate and canonicalise a file as a run would, and print what would
//! be matched and what would be rejected, without talking to anyone.

use std::path::PathBuf;

use crate::error::Result;
use crate::records::{self, InputFormat, InputSpec, KeySpec, Mapping};

/// Validate a file's identifiers and print a per-key summary of accepted, rejected and duplicate
/// values.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The file to check: CSV with a header, or plain text with one value per line.
    #[arg(long, short)]
    pub input: PathBuf,
    /// A key: `column:kind`, `col1:kind1+col2:kind2` (composite), or `column:kind:extract`
    /// (identifiers in free text). Repeat for several keys (a record matches on any).
    #[arg(long = "key", short)]
    pub keys: Vec<KeySpec>,
    /// A TOML mapping file (`keys = ["imo:imo_ship", ...]`), used in addition to `--key`.
    #[arg(long)]
    pub mapping: Option<PathBuf>,
    /// Match on this column's values as opaque strings (kind `raw`).
    #[arg(long)]
    pub column: Option<String>,
    /// Input layout: auto (from the extension), csv or lines.
    #[arg(long, default_value = "auto")]
    pub format: InputFormat,
    /// Write every rejected value here as CSV (line, column, value, reason).
    #[arg(long)]
    pub rejects: Option<PathBuf>,
    /// Fail on the first invalid value or unreadable row.
    #[arg(long)]
    pub strict: bool,
}

/// Runs `blindmatch check`.
///
/// # Errors
/// As [`Mapping::load`] and [`records::load`]: [`crate::Error::Config`] with
/// [`ConfigReason::Keys`](crate::error::ConfigReason::Keys) for a bad mapping or key;
/// [`crate::Error::Input`] with [`InputReason::Header`](crate::error::InputReason::Header) for
/// a bad header and, with `--strict`, the reason of the first unreadable row or invalid value;
/// [`crate::Error::Io`] if a file cannot be read, or the rejects cannot be written.
pub fn run(args: Args, quiet: bool) -> Result<()> {
    let mut keys = Vec::new();
    if let Some(m) = &args.mapping {
        keys.extend(Mapping::load(m)?.keys);
    }
    keys.extend(args.keys);
    let spec = InputSpec {
        path: args.input,
        format: args.format,
        column: args.column,
        keys,
        strict: args.strict,
    };
    let recs = records::load(&spec)?;
    if let Some(path) = &args.rejects {
        records::write_rejects(path, recs.rejects())?;
    }
    if !quiet {
        print!("{}: {}", spec.path.display(), recs.summary());
        if recs.keys().len() > 1 {
            println!("per kind:");
            for k in recs.summary().by_kind(recs.keys()) {
                println!(
                    "  {}: {} accepted, {} rejected, {} duplicates, {} empty",
                    k.key, k.accepted, k.rejected, k.duplicates, k.empty
                );
            }
        }
        let n = recs.rejects().len();
        if n > 0 && args.rejects.is_none() {
            println!(
                "{n} values rejected; add --rejects FILE to see each with its line and reason"
            );
        }
    }
    Ok(())
}
