//! `blindmatch check`: validate and canonicalise a file as a run would, and print what would
//! be matched and what would be rejected, without talking to anyone.

use super::input::InputArgs;
use super::output_path::{self, Output};
use crate::error::Result;
use crate::records::{self, KeySummary, Records};

/// Validate a file's identifiers and print a per-key summary of accepted, rejected and duplicate
/// values.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Input options (the same for check, index, match and serve).
    #[command(flatten)]
    pub input: InputArgs,
    /// Replace an existing `--rejects` file.
    #[arg(long)]
    pub force: bool,
    /// Print a machine-readable JSON summary (or error object) on stdout.
    #[arg(long)]
    pub json: bool,
}

/// Runs `blindmatch check`.
///
/// # Errors
/// As [`InputArgs::spec`] and [`records::load`]: [`crate::Error::Config`] with
/// [`ConfigReason::Keys`](crate::error::ConfigReason::Keys) for a bad mapping or key;
/// [`crate::Error::Input`] with [`InputReason::Header`](crate::error::InputReason::Header) for
/// a bad header and, with `--strict`, the reason of the first unreadable row or invalid value;
/// [`crate::Error::Input`] with [`InputReason::OutputPath`](crate::error::InputReason::OutputPath)
/// for a `--rejects` path that cannot be used (checked before reading);
/// [`crate::Error::Io`] if a file cannot be read, or the rejects cannot be written.
pub fn run(args: Args, quiet: bool) -> Result<()> {
    let spec = args.input.spec()?;
    if let Some(path) = &args.input.rejects {
        output_path::check(&[Output::new("--rejects", path)], &[&spec.path], args.force)?;
    }
    let recs = records::load(&spec)?;
    if let Some(path) = &args.input.rejects {
        records::write_rejects(path, recs.rejects())?;
    }
    if args.json {
        outln!("{}", json_summary(&recs, &args));
        return Ok(());
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
        if n > 0 && args.input.rejects.is_none() {
            outln!("{n} values rejected; add --rejects FILE to see each with its line and reason");
        }
    }
    Ok(())
}

fn key_json(k: &KeySummary) -> serde_json::Value {
    serde_json::json!({
        "key": k.key,
        "accepted": k.accepted,
        "rejected": k.rejected,
        "duplicates": k.duplicates,
        "empty": k.empty,
    })
}

/// The `--json` summary: the counts `check` prints, on one line.
fn json_summary(recs: &Records, args: &Args) -> serde_json::Value {
    let s = recs.summary();
    let mut by_reason = std::collections::BTreeMap::<&str, usize>::new();
    for r in recs.rejects() {
        *by_reason.entry(r.kind.as_str()).or_default() += 1;
    }
    serde_json::json!({
        "input": recs.path(),
        "rows": s.rows,
        "unreadable_rows": s.unreadable_rows,
        "unique_items": s.unique_items,
        "rejected": recs.rejects().len(),
        "rejected_by_reason": by_reason,
        "keys": s.keys.iter().map(key_json).collect::<Vec<_>>(),
        "by_kind": s.by_kind(recs.keys()).iter().map(key_json).collect::<Vec<_>>(),
        "rejects_file": args.input.rejects.as_ref().map(|p| p.display().to_string()),
    })
}
