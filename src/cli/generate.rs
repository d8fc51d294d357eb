//! `blindmatch generate`: write two realistic files sharing exactly K records, and the truth.

use std::path::PathBuf;

use crate::error::Result;
use crate::generate::{self, GenKind, GenSpec};

/// Generate two realistic input files sharing exactly `--overlap` records, plus the ground
/// truth (`truth.csv`) and a mapping file, deterministically from `--seed`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to generate: container, imo, person or company.
    #[arg(long)]
    pub kind: GenKind,
    /// Records in each file.
    #[arg(long)]
    pub count: usize,
    /// Records the two files share.
    #[arg(long)]
    pub overlap: usize,
    /// Seed; the same arguments always give the same files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Directory to write `a.csv`, `b.csv`, `truth.csv` and `mapping.toml` into.
    #[arg(long)]
    pub out: PathBuf,
}

/// Runs `blindmatch generate`.
///
/// # Errors
/// As [`generate::generate`] ([`crate::Error::Input`] with
/// [`InputReason::Argument`](crate::error::InputReason::Argument) or
/// [`InputReason::TooLarge`](crate::error::InputReason::TooLarge)) and
/// [`generate::write_dataset`] ([`crate::Error::Io`]).
pub fn run(args: Args, quiet: bool) -> Result<()> {
    let spec = GenSpec {
        kind: args.kind,
        count: args.count,
        overlap: args.overlap,
        seed: args.seed,
    };
    let data = generate::generate(&spec)?;
    let files = generate::write_dataset(&data, &args.out)?;
    if !quiet {
        outln!(
            "wrote {} and {} ({} records each, {} shared, key {}), truth in {}, mapping in {}",
            files.a.display(),
            files.b.display(),
            spec.count,
            spec.overlap,
            spec.kind.key(),
            files.truth.display(),
            files.mapping.display()
        );
    }
    Ok(())
}
