//! `blindmatch generate`: write two realistic files sharing exactly K records, and the truth.

use std::path::PathBuf;

use super::output_path::{self, Output};
use crate::error::Result;
use crate::generate::{self, GenKind, GenSpec};

/// Generate two realistic input files sharing exactly `--overlap` records, plus the ground
/// truth (`truth.csv`) and a mapping file, deterministically from `--seed`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to generate: container, imo, person or company.
    #[arg(long)]
    pub kind: GenKind,
    /// Records in each file, at most 10,000,000. The distinct records of both files
    /// (2 × count − overlap) may be at most half the kind's value space: imo 150,000, company
    /// 6,020, container and person 20,000,000 (checked before anything is generated).
    #[arg(long)]
    pub count: usize,
    /// Records the two files share.
    #[arg(long)]
    pub overlap: usize,
    /// Seed; the same arguments always give the same files.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Directory to write `a.csv`, `b.csv`, `truth.csv` and `mapping.toml` into (created if
    /// missing; existing files are refused unless `--force`).
    #[arg(long)]
    pub out: PathBuf,
    /// Replace existing files in `--out`.
    #[arg(long)]
    pub force: bool,
}

/// Runs `blindmatch generate`.
///
/// # Errors
/// As [`generate::write_generated`] ([`crate::Error::Input`] with
/// [`InputReason::Argument`](crate::error::InputReason::Argument) or
/// [`InputReason::TooLarge`](crate::error::InputReason::TooLarge) at once, before anything is
/// generated; [`crate::Error::Io`]); [`crate::Error::Input`] with
/// [`InputReason::OutputPath`](crate::error::InputReason::OutputPath) for a file of `--out`
/// that exists (without `--force`).
pub fn run(args: Args, quiet: bool) -> Result<()> {
    if args.out.is_dir() {
        let files: Vec<PathBuf> = generate::FILE_NAMES
            .iter()
            .map(|f| args.out.join(f))
            .collect();
        let outputs: Vec<Output<'_>> = files.iter().map(|f| Output::new("--out", f)).collect();
        output_path::check(&outputs, &[], args.force)?;
    }
    let spec = GenSpec {
        kind: args.kind,
        count: args.count,
        overlap: args.overlap,
        seed: args.seed,
    };
    let files = generate::write_generated(&spec, &args.out)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limits_in_help_are_the_generators() {
        // `--count`'s help states these numbers.
        assert_eq!(GenKind::Imo.max_distinct(), 150_000);
        assert_eq!(GenKind::Company.max_distinct(), 6_020);
        assert_eq!(GenKind::Container.max_distinct(), 20_000_000);
        assert_eq!(GenKind::Person.max_distinct(), 20_000_000);
    }
}
