//! `blindmatch audit checkpoints` and `audit witness`: mutual witnessing of two agencies'
//! logs through the checkpoints their receipts carry (`protocol-spec/06-policy-and-audit.md`
//! section 6.2).

use std::path::Path;

use ed25519_dalek::VerifyingKey;

use super::audit::{pinned_keys, verification_error, verify_pinned, Pin};
use crate::audit::{self, checkpoint, witness as checks, Report, Witnessed};
use crate::error::{AuditError, AuditProblem, ConfigReason, Error, Result};

/// `audit checkpoints LOG --of PEER --out FILE`.
///
/// # Errors
/// As [`super::audit::run`].
pub fn export(
    log: &Path,
    of: &str,
    out: &Path,
    force: bool,
    key: &[String],
    quiet: bool,
) -> Result<()> {
    super::output_path::check(
        &[super::output_path::Output::new("--out", out)],
        &[log],
        force,
    )?;
    let (report, _, _) = verify_pinned(log, key)?;
    if let Some(problem) = report.problem() {
        return Err(verification_error(log, &report, problem));
    }
    let peer = peer_of(&report, of, log)?;
    let held = checks::checkpoints_of(&report, &peer);
    if held.is_empty() {
        return Err(Error::config(
            ConfigReason::AuditKey,
            format!(
                "{} holds no checkpoint of the log of {}: no receipt from it carries one",
                log.display(),
                hex::encode(peer.as_bytes())
            ),
        ));
    }
    let text = held
        .iter()
        .map(audit::SignedCheckpoint::to_note)
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(out, text)
        .map_err(|e| Error::io(format!("writing checkpoints {}", out.display()), e))?;
    if !quiet {
        outln!(
            "{}: {} checkpoints of the log of {} (largest: {} entries)",
            out.display(),
            held.len(),
            hex::encode(peer.as_bytes()),
            held.iter().map(|c| c.checkpoint.size).max().unwrap_or(0)
        );
    }
    Ok(())
}

/// The peer `--of` names: an audit key our log holds receipts from, a certificate
/// fingerprint its sessions name, or an identity directory.
fn peer_of(report: &Report, of: &str, log: &Path) -> Result<VerifyingKey> {
    let known = checks::peers_with_checkpoints(report);
    if let Ok(k) = audit::parse_public_key(of) {
        if known.contains(&k) || !is_hex64(of) {
            return Ok(k);
        }
    }
    if is_hex64(of) {
        let keys = checks::peer_keys_of_fingerprint(report, of);
        if let [k] = keys.as_slice() {
            return Ok(*k);
        }
        if keys.len() > 1 {
            return Err(Error::config(
                ConfigReason::AuditKey,
                format!(
                    "--of {of}: the sessions with this certificate were receipted by {} keys; \
                     give the audit key",
                    keys.len()
                ),
            ));
        }
    }
    Err(Error::config(
        ConfigReason::AuditKey,
        format!(
            "--of {of}: neither the audit key nor the certificate fingerprint of a peer whose \
             receipts {} holds, nor an identity directory",
            log.display()
        ),
    ))
}

fn is_hex64(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The key that signs a verified log: its pinned key that signed entry 0 (or the first
/// pinned key of an empty log).
fn log_key(report: &Report, keys: &[VerifyingKey]) -> Option<VerifyingKey> {
    keys.iter()
        .find(|k| {
            report
                .signers
                .first()
                .is_some_and(|s| *s == hex::encode(k.as_bytes()))
        })
        .or(keys.first())
        .copied()
}

fn require_pinned(log: &Path, keys: &[VerifyingKey], pin: &Pin, option: &str) -> Result<()> {
    if *pin == Pin::None || keys.is_empty() {
        return Err(Error::config(
            ConfigReason::AuditKey,
            format!(
                "{}: whose log this is is not known (it is not in an identity directory): give \
                 {option}, since a checkpoint proves nothing against an unpinned log",
                log.display()
            ),
        ));
    }
    Ok(())
}

/// `audit witness LOG --checkpoints FILE` or `audit witness LOG --peer-log PEER_LOG`.
///
/// # Errors
/// As [`super::audit::run`].
pub fn witness(
    log: &Path,
    notes: Option<&Path>,
    peer_log: Option<&Path>,
    key: &[String],
    peer_key: &[String],
    quiet: bool,
) -> Result<()> {
    let (report, keys, pin) = verify_pinned(log, key)?;
    require_pinned(log, &keys, &pin, "--key")?;
    if let Some(problem) = report.problem() {
        return Err(verification_error(log, &report, problem));
    }
    let ours = log_key(&report, &keys).ok_or_else(|| Error::internal("no pinned key"))?;
    let mut results: Vec<(&Path, Witnessed, String)> = Vec::new();
    match (notes, peer_log) {
        (Some(file), _) => {
            let text = std::fs::read_to_string(file)
                .map_err(|e| Error::io(format!("reading checkpoints {}", file.display()), e))?;
            let held = checkpoint::parse_notes(&text).map_err(|e| in_file(e, file))?;
            let w = audit::witness(&report, &ours, &held);
            results.push((log, w, file.display().to_string()));
        }
        (None, Some(peer)) => {
            let (peer_keys, peer_pin) = if peer_key.is_empty() {
                match pinned_keys(peer, &[])? {
                    (k, Pin::IdentityDirectory(d)) => (k, Pin::IdentityDirectory(d)),
                    _ => (receipted_signer(&report, peer)?, Pin::Given),
                }
            } else {
                pinned_keys(peer, peer_key)?
            };
            require_pinned(peer, &peer_keys, &peer_pin, "--peer-key")?;
            let peer_report = audit::verify(peer, &peer_keys)?;
            if let Some(problem) = peer_report.problem() {
                return Err(verification_error(peer, &peer_report, problem));
            }
            let theirs =
                log_key(&peer_report, &peer_keys).ok_or_else(|| Error::internal("no peer key"))?;
            let of_ours = checks::checkpoints_of(&peer_report, &ours);
            let of_theirs = checks::checkpoints_of(&report, &theirs);
            results.push((
                log,
                audit::witness(&report, &ours, &of_ours),
                peer.display().to_string(),
            ));
            results.push((
                peer,
                audit::witness(&peer_report, &theirs, &of_theirs),
                log.display().to_string(),
            ));
        }
        (None, None) => {
            return Err(Error::config(
                ConfigReason::AuditKey,
                "give --checkpoints FILE or --peer-log PEER_LOG",
            ))
        }
    }
    let mut first = None;
    for (path, w, source) in &results {
        if !quiet {
            let verdict = match (w.is_ok(), w.checked) {
                (true, 0) => "NOTHING CHECKED",
                (true, _) => "OK",
                (false, _) => "FAILED",
            };
            outln!(
                "{verdict}: {} ({} entries) against {} checkpoint(s) of it from {source} \
                 (largest: {} entries)",
                path.display(),
                w.log_size,
                w.checked,
                w.largest
            );
            for p in &w.problems {
                outln!("  {p}");
            }
        }
        if first.is_none() {
            if let Some(p) = worst(&w.problems) {
                first = Some((*path, p.clone(), source.clone()));
            }
        }
    }
    match first {
        None => Ok(()),
        Some((path, problem, source)) => Err(Error::Audit(
            AuditError::new(problem).at(path).advising(format!(
                "the checkpoints from {source} were signed by this log's key when it was \
                 longer or different: keep both logs as evidence"
            )),
        )),
    }
}

/// The finding to exit with: a bad signature first, else the rollback or fork at the largest
/// size (the most the log lost).
fn worst(problems: &[AuditProblem]) -> Option<&AuditProblem> {
    problems.iter().max_by_key(|p| match p {
        AuditProblem::CheckpointSignature { .. } => u64::MAX,
        AuditProblem::RolledBack {
            checkpoint_size, ..
        } => *checkpoint_size,
        AuditProblem::Forked { size, .. } => *size,
        _ => 0,
    })
}

/// The peer key of `log`'s receipts that signed `peer` (read unpinned only to learn which
/// of the keys our log received it is; the peer log is then verified under that key).
fn receipted_signer(log: &Report, peer: &Path) -> Result<Vec<VerifyingKey>> {
    let unpinned = audit::verify(peer, &[])?;
    let known = checks::peers_with_checkpoints(log);
    let signer = unpinned.signers.first().cloned().unwrap_or_default();
    known
        .into_iter()
        .find(|k| hex::encode(k.as_bytes()) == signer)
        .map(|k| vec![k])
        .ok_or_else(|| {
            Error::config(
                ConfigReason::AuditKey,
                format!(
                    "{} is signed by {signer}, from which the other log holds no receipt with a \
                     checkpoint: give --peer-key",
                    peer.display()
                ),
            )
        })
}

fn in_file(e: Error, file: &Path) -> Error {
    match e {
        Error::Input(mut i) => {
            i.detail = format!("{}: {}", file.display(), i.detail);
            Error::Input(i)
        }
        other => other,
    }
}
