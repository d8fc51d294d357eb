//! `blindmatch audit verify|checkpoints|witness|recover`: checks an audit log's hashes and
//! signatures against a known key, exports and checks the checkpoints two agencies hold of
//! each other's logs, and recovers a torn last line.

use std::path::{Path, PathBuf};

use ed25519_dalek::VerifyingKey;

use crate::audit;
use crate::error::{AuditError, AuditProblem, ConfigReason, Error, Result};

/// Work with audit logs.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to do with a log.
    #[command(subcommand)]
    pub action: Action,
    /// On failure, also print a JSON error object on stdout (`{"error":{"code":...}}`, the
    /// code naming the problem, such as `audit.rolled_back`).
    #[arg(long, global = true)]
    pub json: bool,
}

/// `audit` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Check every hash and signature against the agency's key; exit non-zero naming the
    /// first bad entry. Without `--key`, a log in an identity directory is checked against
    /// that identity's key; any other log is reported UNPINNED, never OK.
    Verify {
        /// The audit log (JSON Lines; its signed head `LOG.head` is read too).
        log: PathBuf,
        /// The agency's public key: 64 hex characters or an identity directory (repeatable).
        #[arg(long)]
        key: Vec<String>,
    },
    /// Export the checkpoints our log holds of a peer's log (from the receipts it sent), as
    /// C2SP signed notes, for the peer, an auditor or `audit witness --checkpoints`.
    Checkpoints {
        /// Our audit log.
        log: PathBuf,
        /// The peer: its audit signing key (64 hex), its identity directory, or its
        /// certificate fingerprint (64 hex, as the log's sessions name it).
        #[arg(long)]
        of: String,
        /// Where to write the notes (refused if it exists, unless `--force`).
        #[arg(long)]
        out: PathBuf,
        /// Replace an existing `--out` file.
        #[arg(long)]
        force: bool,
        /// Our log's key, if the log is not in our identity directory (repeatable).
        #[arg(long)]
        key: Vec<String>,
    },
    /// Check a log against checkpoints of it that someone else holds: a rollback (the log
    /// shorter than a checkpoint) or a fork (another head at a checkpoint's size) exits
    /// non-zero.
    Witness {
        /// The log to check.
        log: PathBuf,
        /// A file of checkpoint notes of LOG (from `audit checkpoints` on the peer's log).
        #[arg(
            long,
            required_unless_present = "peer_log",
            conflicts_with = "peer_log"
        )]
        checkpoints: Option<PathBuf>,
        /// The peer's log: LOG is checked against the checkpoints PEER_LOG holds of it, and
        /// PEER_LOG against those LOG holds of it.
        #[arg(long)]
        peer_log: Option<PathBuf>,
        /// LOG's key, if LOG is not in its identity directory (repeatable).
        #[arg(long)]
        key: Vec<String>,
        /// PEER_LOG's key, if PEER_LOG is not in its identity directory (default: the peer
        /// key of the receipts LOG holds, which each session checked against the peer's
        /// pinned certificate).
        #[arg(long)]
        peer_key: Vec<String>,
    },
    /// After a crash mid-append: keep a copy of the log, remove its torn last line (one the
    /// head does not count, so no one saw it) and append a signed recovery entry. Any other
    /// damage is refused and the log left untouched.
    Recover {
        /// The audit log.
        log: PathBuf,
        /// The identity directory whose key signs the log (default: the log's directory).
        #[arg(long)]
        identity: Option<PathBuf>,
    },
}

/// Runs `blindmatch audit ...`.
///
/// # Errors
/// [`Error::Audit`] with the first [`AuditProblem`] (a bad entry names its index, a rollback
/// [`AuditProblem::RolledBack`], a fork [`AuditProblem::Forked`]) and the log's path if a check
/// fails; [`Error::Config`] with [`ConfigReason::Identity`] for a bad `--key`,
/// [`ConfigReason::AuditKey`] for a key that is not the audit signing key (a certificate
/// fingerprint) or a key that cannot be found; [`Error::Input`] for a malformed checkpoints
/// file; [`Error::Io`] if a file cannot be read or written.
pub fn run(args: Args, quiet: bool) -> Result<()> {
    match args.action {
        Action::Verify { log, key } => verify(&log, &key, quiet),
        Action::Checkpoints {
            log,
            of,
            out,
            force,
            key,
        } => super::audit_witness::export(&log, &of, &out, force, &key, quiet),
        Action::Witness {
            log,
            checkpoints,
            peer_log,
            key,
            peer_key,
        } => super::audit_witness::witness(
            &log,
            checkpoints.as_deref(),
            peer_log.as_deref(),
            &key,
            &peer_key,
            quiet,
        ),
        Action::Recover { log, identity } => recover(&log, identity.as_deref(), quiet),
    }
}

/// Where the keys a log is checked against came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pin {
    /// `--key`.
    Given,
    /// The identity directory the log sits in.
    IdentityDirectory(PathBuf),
    /// No key is known: the log can only be checked for self-consistency (UNPINNED).
    None,
}

/// The keys to verify `log` against: `--key` values, else the identity key of the directory
/// the log sits in, else none ([`Pin::None`]).
///
/// # Errors
/// As [`audit::parse_public_key`] and [`audit::identity_key_of_log`].
pub fn pinned_keys(log: &Path, key: &[String]) -> Result<(Vec<VerifyingKey>, Pin)> {
    if !key.is_empty() {
        let keys = key
            .iter()
            .map(|k| audit::parse_public_key(k).map_err(|e| not_a_signing_key(k, e)))
            .collect::<Result<Vec<_>>>()?;
        return Ok((keys, Pin::Given));
    }
    match audit::identity_key_of_log(log)? {
        Some(k) => {
            let dir = log
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            Ok((vec![k], Pin::IdentityDirectory(dir.to_owned())))
        }
        None => Ok((Vec::new(), Pin::None)),
    }
}

/// The error for a failed verification, with where to look.
pub fn verification_error(log: &Path, report: &audit::Report, problem: AuditProblem) -> Error {
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
    Error::Audit(AuditError::new(problem).at(log).advising(advice))
}

/// Verifies `log` against its pinned key, naming a `--key` that signs nothing.
///
/// # Errors
/// As [`run`].
pub fn verify_pinned(
    log: &Path,
    key: &[String],
) -> Result<(audit::Report, Vec<VerifyingKey>, Pin)> {
    let (keys, pin) = pinned_keys(log, key)?;
    let report = audit::verify(log, &keys)?;
    if let (Some(AuditProblem::UnknownSigner { .. }), Pin::Given) = (report.problem(), &pin) {
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
    Ok((report, keys, pin))
}

fn verify(log: &Path, key: &[String], quiet: bool) -> Result<()> {
    let (report, _, pin) = verify_pinned(log, key)?;
    if let Some(problem) = report.problem() {
        if !quiet {
            for s in &report.signers {
                outln!("  signer: {s}");
            }
        }
        return Err(verification_error(log, &report, problem));
    }
    if !quiet {
        outln!("{}: {}", log.display(), report.summary());
        if let Pin::IdentityDirectory(dir) = &pin {
            outln!("  pinned to the identity in {}", dir.display());
        }
        for s in &report.signers {
            outln!("  signer: {s}");
        }
        for e in &report.entries {
            if let audit::Event::LogRecovered {
                removed_bytes,
                copy,
                ..
            } = &e.event
            {
                outln!(
                    "  entry {}: recovered at {}: {removed_bytes} torn bytes removed, the \
                     original kept as {copy}",
                    e.seq,
                    e.time
                );
            }
        }
    }
    Ok(())
}

fn recover(log: &Path, identity: Option<&Path>, quiet: bool) -> Result<()> {
    let dir = identity.map(Path::to_owned).unwrap_or_else(|| {
        log.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_owned()
    });
    let id = crate::identity::Identity::load(&dir)?;
    match audit::recover(log, id.signing_key().clone())? {
        None => {
            if !quiet {
                outln!("{}: nothing to recover (the log verifies)", log.display());
            }
        }
        Some(r) => {
            if !quiet {
                outln!(
                    "{}: removed a torn last line of {} bytes; the original is kept as {} \
                     (SHA3-256 {}); recovery logged as entry {}",
                    log.display(),
                    r.removed_bytes,
                    r.copy.display(),
                    r.copy_sha3_256,
                    r.entry.seq
                );
            }
        }
    }
    Ok(())
}

/// The refusal of a `--key` that is not an audit signing key.
pub(crate) fn audit_key_error(key: &str, what: &str) -> Error {
    Error::config(
        ConfigReason::AuditKey,
        format!(
            "--key {key} {what}: give the audit signing key that `blindmatch identity show DIR` \
             prints (not the certificate fingerprint), or the identity directory"
        ),
    )
}

/// A 64-hex `--key` that is no Ed25519 key is most likely a certificate fingerprint.
pub(crate) fn not_a_signing_key(key: &str, e: Error) -> Error {
    let hex64 = key.len() == 64 && key.bytes().all(|b| b.is_ascii_hexdigit());
    if hex64 {
        audit_key_error(key, "is not an Ed25519 public key")
    } else {
        e
    }
}
