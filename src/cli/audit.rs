//! `blindmatch audit verify LOG [--key PUBKEY_OR_IDENTITY_DIR]...`: checks every hash and
//! signature of an audit log and names the first bad entry.

use std::path::PathBuf;

use crate::audit;
use crate::error::{AuditError, AuditProblem, ConfigReason, Error, Result};

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
/// [`Error::Audit`] with the first [`AuditProblem`] (a bad entry
/// names its index) and the log's path if verification fails; [`Error::Config`] with
/// [`ConfigReason::Identity`] for a bad `--key`, [`ConfigReason::AuditKey`] for a key that is not the audit signing key (a certificate fingerprint);
/// [`Error::Io`] if the log cannot be read.
pub fn run(args: Args, quiet: bool) -> Result<()> {
    let Action::Verify { log, key } = args.action;
    let keys = key
        .iter()
        .map(|k| audit::parse_public_key(k).map_err(|e| not_a_signing_key(k, e)))
        .collect::<Result<Vec<_>>>()?;
    let report = audit::verify(&log, &keys)?;
    if let Some(AuditProblem::UnknownSigner { .. }) = report.problem() {
        let hex_keys: Vec<String> = keys.iter().map(|k| hex::encode(k.to_bytes())).collect();
        if let Some(k) = key
            .iter()
            .zip(&hex_keys)
            .find(|(_, h)| !report.signers.contains(h))
            .map(|(k, _)| k)
        {
            return Err(audit_key_error(k, "signs no entry of this log"));
        }
    }
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

/// The refusal of a `--key` that is not an audit signing key.
fn audit_key_error(key: &str, what: &str) -> Error {
    Error::config(
        ConfigReason::AuditKey,
        format!(
            "--key {key} {what}: give the audit signing key that `blindmatch identity show DIR` \
             prints (not the certificate fingerprint), or the identity directory"
        ),
    )
}

/// A 64-hex `--key` that is no Ed25519 key is most likely a certificate fingerprint.
fn not_a_signing_key(key: &str, e: Error) -> Error {
    let hex64 = key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit());
    if hex64 {
        audit_key_error(key, "is not an Ed25519 public key")
    } else {
        e
    }
}
