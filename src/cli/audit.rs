//! `blindmatch audit verify LOG [--key PUBKEY_OR_IDENTITY_DIR]...`: checks every hash and
//! signature of an audit log and names the first bad entry.

use std::path::PathBuf;

use crate::audit;
use crate::error::{Error, Result};

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
/// [`Error::Audit`] naming the first bad entry if verification fails; [`Error::Config`] for a
/// bad `--key`; [`Error::Io`] if the log cannot be read.
pub fn run(args: Args, quiet: bool) -> Result<()> {
    let Action::Verify { log, key } = args.action;
    let keys = key
        .iter()
        .map(|k| audit::parse_public_key(k))
        .collect::<Result<Vec<_>>>()?;
    let report = audit::verify(&log, &keys)?;
    match report.first_bad() {
        None => {
            if !quiet {
                println!("{}: {}", log.display(), report.summary());
                for s in &report.signers {
                    println!("  signer: {s}");
                }
            }
            Ok(())
        }
        Some((index, why)) => Err(Error::LegacyAudit(format!(
            "{}: entry {index} (line {}) is bad: {why}; entries before it are intact",
            log.display(),
            index + 1
        ))),
    }
}
