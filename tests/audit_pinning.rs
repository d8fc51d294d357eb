//! `audit verify` and `report` always verify against a known key: the identity's own when the
//! log sits in its identity directory, `--key` otherwise, or the result says UNPINNED; a log
//! with a second signer is refused; a failed verification exits non-zero from both
//! (`protocol-spec/06-policy-and-audit.md` section 6.1).
#![allow(clippy::unwrap_used)] // the shared net_common helpers unwrap

#[allow(clippy::unwrap_used)]
mod net_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use blindmatch::audit::{self, AuditLog, Entry, Event};
use blindmatch::error::AuditProblem;
use ed25519_dalek::ed25519::signature::Signer;
use ed25519_dalek::SigningKey;
use net_common::*;
use sha3::{Digest, Sha3_256};

fn refusal(n: u8) -> Event {
    Event::SessionRefused {
        peer_fingerprint: format!("{n:02x}").repeat(32),
        mode: "mutual".into(),
        rule: "max_sessions_per_peer_per_day".into(),
        detail: format!("refusal {n}"),
    }
}

/// The identity's signing key, read from its key file (the library keeps it inside
/// `Identity`).
fn signing_key(dir: &Path) -> ed25519_dalek::SigningKey {
    use ed25519_dalek::pkcs8::DecodePrivateKey;
    let pem = std::fs::read_to_string(dir.join(blindmatch::identity::KEY_FILE)).unwrap();
    ed25519_dalek::SigningKey::from_pkcs8_pem(&pem).unwrap()
}

/// A log of `n` entries in the identity directory `dir`, signed by its key.
fn agency_log(dir: &Path, n: u8) -> PathBuf {
    let path = dir.join("audit.jsonl");
    let log = AuditLog::open(&path, signing_key(dir)).unwrap();
    for i in 0..n {
        log.append(refusal(i)).unwrap();
    }
    path
}

fn chain_hash(line: &[u8]) -> [u8; 32] {
    let tag = b"blindmatch-v1-audit-chain"; // AUDIT_CHAIN, protocol-spec/01-suite.md 1.4
    let mut h = Sha3_256::new();
    h.update([tag.len() as u8]);
    h.update(tag);
    h.update(line);
    h.finalize().into()
}

fn tagged(msg: &[u8]) -> Vec<u8> {
    let tag = b"blindmatch-v1-audit-signature"; // AUDIT_SIGNATURE, 01-suite.md 1.4
    let mut m = vec![tag.len() as u8];
    m.extend_from_slice(tag);
    m.extend_from_slice(msg);
    m
}

/// Replaces the log's entries from `from` on with `count` entries signed by `forger`, chained
/// and sequenced as the spec says, and writes a head signed by the forger: everything checks
/// out except whose key it is.
fn forge_tail(path: &Path, from: usize, count: u8, forger: &SigningKey) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines: Vec<String> = text.lines().take(from).map(str::to_owned).collect();
    let mut prev = lines.last().map_or([0u8; 32], |l| chain_hash(l.as_bytes()));
    for i in 0..count {
        let entry = Entry {
            seq: lines.len() as u64,
            time: "2026-12-01T00:00:00Z".into(),
            prev: hex::encode(prev),
            signer: hex::encode(forger.verifying_key().as_bytes()),
            event: refusal(100 + i),
        };
        let json = serde_json::to_string(&entry).unwrap();
        let sig = forger.sign(&tagged(json.as_bytes()));
        let line = format!(
            "{{\"entry\":{json},\"sig\":\"{}\"}}",
            hex::encode(sig.to_bytes())
        );
        prev = chain_hash(line.as_bytes());
        lines.push(line);
    }
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
    let mut msg = tagged(b"head");
    msg.extend_from_slice(&(lines.len() as u64).to_be_bytes());
    msg.extend_from_slice(&prev);
    let head = serde_json::json!({
        "entries": lines.len(),
        "last_hash": hex::encode(prev),
        "signer": hex::encode(forger.verifying_key().as_bytes()),
        "sig": hex::encode(forger.sign(&msg).to_bytes()),
    });
    let mut head_path = path.as_os_str().to_owned();
    head_path.push(".head");
    std::fs::write(PathBuf::from(head_path), head.to_string()).unwrap();
}

fn bm(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn a_forged_tail_in_an_identity_directory_is_refused_without_key() {
    let root = tempfile::tempdir().unwrap();
    let (dir, _) = identity(root.path(), "agency-a");
    let log = agency_log(&dir, 4);
    let ok = bm(&["audit", "verify", path_str(&log)]);
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(stdout(&ok).contains(": OK: 4 entries"), "{}", stdout(&ok));
    forge_tail(&log, 2, 3, &SigningKey::from_bytes(&[0x42; 32]));
    // No --key: the log sits in agency-a's identity directory, so it is pinned to its key.
    let out = bm(&["audit", "--json", "verify", path_str(&log)]);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(output_code(&out).as_deref(), Some("audit.unknown_signer"));
    let id_key = audit::identity_key_of_log(&log).unwrap().unwrap();
    let r = audit::verify(&log, &[id_key]).unwrap();
    assert_eq!(r.problem(), Some(AuditProblem::UnknownSigner { index: 2 }));
}

#[test]
fn another_agencys_whole_log_put_in_place_is_refused() {
    let root = tempfile::tempdir().unwrap();
    let (a_dir, _) = identity(root.path(), "agency-a");
    let (b_dir, _) = identity(root.path(), "agency-b");
    let b_log = agency_log(&b_dir, 3);
    std::fs::copy(&b_log, a_dir.join("audit.jsonl")).unwrap();
    std::fs::copy(
        b_dir.join("audit.jsonl.head"),
        a_dir.join("audit.jsonl.head"),
    )
    .unwrap();
    let out = bm(&[
        "audit",
        "--json",
        "verify",
        path_str(&a_dir.join("audit.jsonl")),
    ]);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(output_code(&out).as_deref(), Some("audit.unknown_signer"));
}

#[test]
fn a_log_with_no_known_key_says_unpinned_never_ok() {
    let root = tempfile::tempdir().unwrap();
    let (dir, _) = identity(root.path(), "agency-a");
    let log = agency_log(&dir, 2);
    let elsewhere = root.path().join("copy.jsonl");
    std::fs::copy(&log, &elsewhere).unwrap();
    std::fs::copy(
        dir.join("audit.jsonl.head"),
        root.path().join("copy.jsonl.head"),
    )
    .unwrap();
    let out = bm(&["audit", "verify", path_str(&elsewhere)]);
    assert!(out.status.success());
    let text = stdout(&out);
    let summary = text.lines().next().unwrap();
    assert!(summary.contains(": UNPINNED: 2 entries"), "{text}");
    assert!(!summary.contains("OK"), "{text}");
    let r = audit::verify(&elsewhere, &[]).unwrap();
    assert!(r.is_ok() && !r.keys_pinned);
    // With --key it is OK again.
    let out = bm(&[
        "audit",
        "verify",
        path_str(&elsewhere),
        "--key",
        path_str(&dir),
    ]);
    assert!(stdout(&out).contains(": OK: 2 entries"), "{}", stdout(&out));
}

#[test]
fn two_signers_are_reported_and_refused_unpinned() {
    let root = tempfile::tempdir().unwrap();
    let (dir, _) = identity(root.path(), "agency-a");
    let log = agency_log(&dir, 3);
    let elsewhere = root.path().join("copy.jsonl");
    std::fs::copy(&log, &elsewhere).unwrap();
    forge_tail(&elsewhere, 2, 2, &SigningKey::from_bytes(&[0x42; 32]));
    let r = audit::verify(&elsewhere, &[]).unwrap();
    assert_eq!(r.problem(), Some(AuditProblem::SignerChanged { index: 2 }));
    assert_eq!(r.signers.len(), 2);
    let out = bm(&["audit", "--json", "verify", path_str(&elsewhere)]);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(output_code(&out).as_deref(), Some("audit.signer_changed"));
    assert_eq!(
        stdout(&out).matches("  signer: ").count(),
        2,
        "{}",
        stdout(&out)
    );
}

#[test]
fn report_exits_non_zero_on_a_failed_log_and_never_says_ok_unpinned() {
    let root = tempfile::tempdir().unwrap();
    let (dir, _) = identity(root.path(), "agency-a");
    let log = agency_log(&dir, 3);
    let report = |log: &Path, out: &str| {
        let out_path = root.path().join(out);
        let run = bm(&[
            "report",
            "--log",
            path_str(log),
            "--format",
            "md",
            "--out",
            path_str(&out_path),
        ]);
        (run, std::fs::read_to_string(&out_path).unwrap_or_default())
    };
    let (ok, md) = report(&log, "ok.md");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(md.contains("✔ OK: 3 entries"), "{md}");

    let elsewhere = root.path().join("copy.jsonl");
    std::fs::copy(&log, &elsewhere).unwrap();
    std::fs::copy(
        dir.join("audit.jsonl.head"),
        root.path().join("copy.jsonl.head"),
    )
    .unwrap();
    let (unpinned, md) = report(&elsewhere, "unpinned.md");
    assert!(unpinned.status.success());
    assert!(md.contains("UNPINNED: 3 entries"), "{md}");
    assert!(!md.contains("✔"), "{md}");

    forge_tail(&log, 1, 2, &SigningKey::from_bytes(&[0x42; 32]));
    let (failed, md) = report(&log, "failed.md");
    assert_eq!(failed.status.code(), Some(4));
    assert!(
        md.contains("✘ FAILED at entry 1"),
        "the report is still written: {md}"
    );
}
