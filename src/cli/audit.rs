//! `blindmatch audit verify LOG [--key PUBKEY_OR_IDENTITY_DIR]...`: checks every hash and
//! signature of an audit log and names the first bad entry.

use std::path::PathBuf;

use crate::audit;
use crate::error::{AuditError, Error, Result};

/// Work with audit logs.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do with a log.
    #[command(subcommand)]
    pub action: Action,
}

/// `audit` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Check every hash and signature; exit non-zero naming the first bad entry.
    Verify {
        /// The audit log (JSON Lines; its signed head `LOG.head` is read too).
        log: PathBuf,
        /// The agency's public key: 64 hex characters or an identity directory (repeatable).
        /// Without it the log is only checked for self-consistency.
        #[arg(long)]
        key: Vec<String>,
    },
}

/// Runs `blindmatch audit ...`.
///
/// # Errors
/// [`Error::Audit`] with the first [`AuditProblem`](crate::error::AuditProblem) (a bad entry
/// names its index) and the log's path if verification fails; [`Error::Config`] with
/// [`ConfigReason::Identity`](crate::error::ConfigReason::Identity) for a bad `--key`;
/// [`Error::Io`] if the log cannot be read.
pub fn run(args: Args, quiet: bool) -> Result<()> {
    let Action::Verify { log, key } = args.action;
    let keys = key
        .iter()
        .map(|k| audit::parse_public_key(k))
        .collect::<Result<Vec<_>>>()?;
    let report = audit::verify(&log, &keys)?;
    match report.problem() {
        None => {
            if !quiet {
                outln!("{}: {}", log.display(), report.summary());
                for s in &report.signers {
                    outln!("  signer: {s}");
                }
            }
            Ok(())
        }
        Some(problem) => {
            let advice = match problem.index() {
                Some(index) => format!(
                    "entry {index} is line {} of the file; entries before it are intact",
                    index + 1
                ),
                None => format!(
                    "the {} entries in the file verify on their own",
                    report.entries.len()
                ),
            };
            Err(Error::Audit(
                AuditError::new(problem).at(&log).advising(advice),
            ))
        }
    }
}
