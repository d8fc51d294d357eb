//! [`verify`]: checks every line's form, sequence number, chain hash and signature, and the
//! head file; names the first problem as an [`AuditProblem`] (a bad entry by its index).

use std::path::Path;

use ed25519_dalek::{Signature, VerifyingKey};

use super::chain::{chain_hash, entry_message, head_message, head_path};
use super::entry::{Entry, Line};
use crate::error::{AuditProblem, Error, Result};

/// What the head file says about the log's length.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeadStatus {
    /// The head is validly signed and matches the log's last entry.
    Matches,
    /// The head file is missing: truncation cannot be ruled out.
    Missing,
    /// The head is present but wrong: [`AuditProblem::HeadInvalid`],
    /// [`AuditProblem::Truncated`] or [`AuditProblem::HeadMismatch`].
    Mismatch(AuditProblem),
}

/// The result of verifying a log.
#[derive(Debug, Clone)]
pub struct Report {
    /// The entries up to (not including) the first bad one.
    pub entries: Vec<Entry>,
    /// Number of lines in the file (including bad ones and a torn last line).
    pub lines: usize,
    /// The first bad entry's problem, which names its index (0-based line number).
    pub bad: Option<AuditProblem>,
    /// The head file check.
    pub head: HeadStatus,
    /// Hash of the last good line (zeros if none).
    pub last_hash: [u8; 32],
    /// The distinct signer keys seen (hex), in order of first appearance.
    pub signers: Vec<String>,
    /// Whether signers were checked against given keys (`false`: only self-consistency).
    pub keys_pinned: bool,
    /// `hashes[i]` is the chain hash after the first `i` good entries (`hashes[0]` is zeros):
    /// what a checkpoint of size `i` must name ([`super::witness()`]).
    pub hashes: Vec<[u8; 32]>,
}

impl Report {
    /// True if every entry and the head check out.
    pub fn is_ok(&self) -> bool {
        self.problem().is_none()
    }

    /// The first problem: a bad entry ([`Report::bad`]), else the head's
    /// ([`AuditProblem::HeadMissing`], or what [`HeadStatus::Mismatch`] holds).
    pub fn problem(&self) -> Option<AuditProblem> {
        if let Some(b) = &self.bad {
            return Some(b.clone());
        }
        match &self.head {
            HeadStatus::Matches => None,
            HeadStatus::Missing => Some(AuditProblem::HeadMissing),
            HeadStatus::Mismatch(p) => Some(p.clone()),
        }
    }

    /// The first problem as an index and words: a bad entry's index, or for a head problem the
    /// number of entries; the words are the problem's description without the index. Prefer
    /// [`Report::problem`], which is typed.
    pub fn first_bad(&self) -> Option<(usize, String)> {
        let problem = self.problem()?;
        let index = problem.index().unwrap_or(self.entries.len());
        Some((index, describe(&problem)))
    }

    /// A one-line human summary: `OK: ...` when every entry verified under a pinned key,
    /// `UNPINNED: ...` when the log is only self-consistent (one signer, whose key was not
    /// checked against a known one), or `FAILED at entry N: ...` for a bad entry and
    /// `FAILED: ...` for a head problem.
    pub fn summary(&self) -> String {
        match self.problem() {
            None if self.keys_pinned => format!(
                "OK: {} entries, hash chain and signatures valid under the pinned key",
                self.entries.len(),
            ),
            None => format!(
                "UNPINNED: {} entries, hash chain and signatures consistent, but the signer \
                 key {} was not checked against a known key (verify against the agency's audit \
                 key, or keep the log in its identity directory)",
                self.entries.len(),
                self.signers.first().map_or("(none)", String::as_str),
            ),
            Some(p) => match p.index() {
                Some(i) => format!("FAILED at entry {i}: {}", describe(&p)),
                None => format!("FAILED: {p} ({} entries verified)", self.entries.len()),
            },
        }
    }
}

/// The problem's description without its `entry N: ` prefix.
fn describe(problem: &AuditProblem) -> String {
    let text = problem.to_string();
    match problem.index() {
        Some(i) => text
            .strip_prefix(&format!("entry {i}: "))
            .map_or_else(|| text.clone(), str::to_owned),
        None => text,
    }
}

/// Verifies the log at `path`. With `keys` empty, signatures are checked against the key each
/// entry names (self-consistency only: the report is UNPINNED, and a second signer is
/// [`AuditProblem::SignerChanged`]); otherwise every entry must be signed by one of `keys`.
///
/// # Errors
/// [`Error::Io`] if the log cannot be read. A damaged log is not an error: the [`Report`] names
/// the first problem ([`Report::problem`]).
pub fn verify(path: &Path, keys: &[VerifyingKey]) -> Result<Report> {
    let bytes = std::fs::read(path)
        .map_err(|e| Error::io(format!("reading audit log {}", path.display()), e))?;
    let head = std::fs::read(head_path(path)).ok();
    Ok(verify_bytes(&bytes, head.as_deref(), keys))
}

/// [`verify`] on the log's bytes and the head file's bytes (if any).
pub fn verify_bytes(bytes: &[u8], head: Option<&[u8]>, keys: &[VerifyingKey]) -> Report {
    let mut report = Report {
        entries: Vec::new(),
        lines: 0,
        bad: None,
        head: HeadStatus::Missing,
        last_hash: [0u8; 32],
        signers: Vec::new(),
        keys_pinned: !keys.is_empty(),
        hashes: vec![[0u8; 32]],
    };
    let mut rest = bytes;
    let mut index = 0usize;
    while !rest.is_empty() {
        report.lines += 1;
        let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
            report.bad = Some(AuditProblem::Torn { index });
            break;
        };
        let line = &rest[..nl];
        rest = &rest[nl + 1..];
        match check_line(line, index, &report.last_hash, keys) {
            Ok(entry) => {
                if !report.signers.contains(&entry.signer) {
                    report.signers.push(entry.signer.clone());
                    // An agency's log has one signer: unpinned, a second one is a tail
                    // re-signed by someone else (pinned, it was refused as unknown).
                    if report.signers.len() > 1 {
                        report.bad = Some(AuditProblem::SignerChanged { index });
                        break;
                    }
                }
                report.last_hash = chain_hash(line);
                report.hashes.push(report.last_hash);
                report.entries.push(entry);
            }
            Err(problem) => {
                report.bad = Some(problem);
                // The lines after the bad one count too (`Report::lines`), torn last one included.
                report.lines += rest
                    .split(|&b| b == b'\n')
                    .filter(|l| !l.is_empty())
                    .count();
                break;
            }
        }
        index += 1;
    }
    if report.bad.is_none() {
        report.head = match head {
            None => HeadStatus::Missing,
            Some(h) => check_head(h, &report, &report.hashes, keys),
        };
    }
    report
}

fn check_line(
    line: &[u8],
    index: usize,
    prev: &[u8; 32],
    keys: &[VerifyingKey],
) -> std::result::Result<Entry, AuditProblem> {
    let edited = AuditProblem::Edited { index };
    let parsed: Line = serde_json::from_slice(line).map_err(|_| edited.clone())?;
    // Not in canonical form: the line was edited.
    let canonical = serde_json::to_vec(&parsed).map_err(|_| edited.clone())?;
    if canonical != line {
        return Err(edited);
    }
    let entry = parsed.entry;
    if entry.seq != index as u64 {
        return Err(AuditProblem::Sequence { index });
    }
    if entry.prev != hex::encode(prev) {
        return Err(AuditProblem::Chain { index });
    }
    let signer = decode_key(&entry.signer);
    if !keys.is_empty() && !signer.is_some_and(|s| keys.contains(&s)) {
        return Err(AuditProblem::UnknownSigner { index });
    }
    // Without given keys, an invalid signer key or a malformed signature cannot verify.
    let bad_signature = AuditProblem::BadSignature { index };
    let signer = signer.ok_or(bad_signature.clone())?;
    let sig = decode_sig(&parsed.sig).ok_or(bad_signature.clone())?;
    let json = serde_json::to_vec(&entry).map_err(|_| edited)?;
    signer
        .verify_strict(&entry_message(&json), &sig)
        .map_err(|_| bad_signature)?;
    Ok(entry)
}

/// `hashes[i]` is the chain hash after `i` entries. A head may lag the log (a crash between
/// the fsynced append and the head replacement) but must agree with it where it points.
fn check_head(
    bytes: &[u8],
    report: &Report,
    hashes: &[[u8; 32]],
    keys: &[VerifyingKey],
) -> HeadStatus {
    #[derive(serde::Deserialize)]
    struct Head {
        entries: u64,
        last_hash: String,
        signer: String,
        sig: String,
    }
    let Ok(h) = serde_json::from_slice::<Head>(bytes) else {
        return HeadStatus::Mismatch(AuditProblem::HeadInvalid);
    };
    let Some(signer) = decode_key(&h.signer) else {
        return HeadStatus::Mismatch(AuditProblem::HeadInvalid);
    };
    let allowed = if keys.is_empty() {
        report.signers.is_empty() || report.signers.contains(&h.signer)
    } else {
        keys.contains(&signer)
    };
    let mut last = [0u8; 32];
    let sig_ok = allowed
        && hex::decode_to_slice(&h.last_hash, &mut last).is_ok()
        && decode_sig(&h.sig).is_some_and(|s| {
            signer
                .verify_strict(&head_message(h.entries, &last), &s)
                .is_ok()
        });
    if !sig_ok {
        return HeadStatus::Mismatch(AuditProblem::HeadInvalid);
    }
    let n = report.entries.len() as u64;
    if h.entries > n {
        return HeadStatus::Mismatch(AuditProblem::Truncated {
            head: h.entries,
            log: n,
        });
    }
    if usize::try_from(h.entries)
        .ok()
        .and_then(|i| hashes.get(i))
        .is_none_or(|at| *at != last)
    {
        // The head records its entries ending in another hash: entries were replaced.
        return HeadStatus::Mismatch(AuditProblem::HeadMismatch);
    }
    HeadStatus::Matches
}

fn decode_key(s: &str) -> Option<VerifyingKey> {
    let mut b = [0u8; 32];
    hex::decode_to_slice(s, &mut b).ok()?;
    VerifyingKey::from_bytes(&b).ok()
}

fn decode_sig(s: &str) -> Option<Signature> {
    let mut b = [0u8; 64];
    hex::decode_to_slice(s, &mut b).ok()?;
    Some(Signature::from_bytes(&b))
}
