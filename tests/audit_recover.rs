//! `audit recover`: a torn last line that the head does not count (a crash mid-append, never
//! acknowledged) is cut, a copy kept and a signed recovery entry appended, after which
//! sessions run again; any other damage is refused and the file left untouched
//! (`protocol-spec/06-policy-and-audit.md` section 6.3).
#![allow(clippy::unwrap_used)] // the shared net_common helpers unwrap

#[allow(clippy::unwrap_used)]
mod net_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use blindmatch::audit::{self, Event};
use blindmatch::error::{AuditError, AuditProblem, Error};
use blindmatch::identity::Identity;
use net_common::*;

struct Two {
    root: tempfile::TempDir,
    a_dir: PathBuf,
    a_fp: String,
    b_dir: PathBuf,
    b_fp: String,
    input: PathBuf,
    n: usize,
}

impl Two {
    fn new() -> Two {
        let root = tempfile::tempdir().unwrap();
        let (a_dir, a_fp) = identity(root.path(), "agency-a");
        let (b_dir, b_fp) = identity(root.path(), "agency-b");
        let input = root.path().join("in.txt");
        let items: Vec<String> = (0..20)
            .map(|i| format!("IMO{:07}", 9_100_000 + i))
            .collect();
        write_items(&input, &items);
        Two {
            root,
            a_dir,
            a_fp,
            b_dir,
            b_fp,
            input,
            n: 0,
        }
    }

    /// One mutual session, B serving and A matching: (A's run, B's success).
    fn session(&mut self) -> (Output, bool) {
        self.n += 1;
        let a_out = self.root.path().join(format!("a-{}.csv", self.n));
        let b_out = self.root.path().join(format!("b-{}.csv", self.n));
        let server = Server::start(
            &self.b_dir,
            &self.a_fp,
            &self.input,
            &["--mode", "mutual", "--output", path_str(&b_out)],
        );
        let out = run_match(
            &self.a_dir,
            &self.b_fp,
            &server.addr,
            &self.input,
            &a_out,
            &["--json", "--mode", "mutual"],
        );
        let (b_ok, _, _) = server.finish();
        (out, b_ok)
    }

    fn a_log(&self) -> PathBuf {
        self.a_dir.join("audit.jsonl")
    }
}

fn recover(log: &Path) -> Output {
    Command::new(BIN)
        .args(["audit", "--json", "recover", path_str(log)])
        .output()
        .unwrap()
}

fn copies(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("audit.jsonl.torn-"))
        .collect()
}

#[test]
fn a_torn_tail_is_recovered_and_sessions_run_again() {
    let mut t = Two::new();
    let (out, b_ok) = t.session();
    assert!(out.status.success() && b_ok);
    // A crash mid-append: half a line, no newline, and the head not replaced.
    let log = t.a_log();
    let before = std::fs::read(&log).unwrap();
    let last = before[..before.len() - 1]
        .iter()
        .rposition(|&b| b == b'\n')
        .unwrap()
        + 1;
    let torn = &before[last..last + (before.len() - last) / 2];
    let mut damaged = before.clone();
    damaged.extend_from_slice(torn);
    std::fs::write(&log, &damaged).unwrap();
    // Every session is refused until someone recovers (before it connects anywhere).
    let nowhere = t.root.path().join("refused.csv");
    let out = match_nowhere(
        &t.a_dir,
        &t.input,
        &["--mode", "mutual", "--output", path_str(&nowhere)],
    );
    assert_eq!(
        out.status.code(),
        Some(4),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(output_code(&out).as_deref(), Some("audit.torn"));

    let out = recover(&log);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let kept = copies(&t.a_dir);
    assert_eq!(kept.len(), 1);
    assert_eq!(std::fs::read(t.a_dir.join(&kept[0])).unwrap(), damaged);

    let (out, b_ok) = t.session();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(b_ok);
    let key = Identity::load(&t.a_dir).unwrap().verifying_key();
    let r = audit::verify(&log, &[key]).unwrap();
    assert!(r.is_ok(), "{}", r.summary());
    let recoveries: Vec<_> = r
        .entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::LogRecovered {
                removed_bytes,
                copy,
                copy_sha3_256,
            } => Some((e.seq, *removed_bytes, copy.clone(), copy_sha3_256.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(recoveries.len(), 1);
    let (seq, removed, copy, digest) = &recoveries[0];
    assert_eq!(*seq, 3, "right after the 3 entries of the first session");
    assert_eq!(*removed, torn.len() as u64);
    assert_eq!(copy, &kept[0]);
    assert_eq!(*digest, audit::file_digest(&t.a_dir.join(copy)).unwrap());
    // `audit verify` lists the recovery.
    let out = Command::new(BIN)
        .args(["audit", "verify", path_str(&log)])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("entry 3: recovered at "));
    // Nothing more to recover.
    assert!(recover(&log).status.success());
    assert_eq!(copies(&t.a_dir).len(), 1);
}

#[test]
fn other_damage_is_not_recovered_and_the_file_is_left_untouched() {
    let mut t = Two::new();
    let (out, b_ok) = t.session();
    assert!(out.status.success() && b_ok);
    let log = t.a_log();
    let good = std::fs::read(&log).unwrap();
    let key = {
        use ed25519_dalek::pkcs8::DecodePrivateKey;
        let pem = std::fs::read_to_string(t.a_dir.join(blindmatch::identity::KEY_FILE)).unwrap();
        ed25519_dalek::SigningKey::from_pkcs8_pem(&pem).unwrap()
    };

    // A bad middle entry (one byte changed in line 2), with a torn line after it as well.
    let text = String::from_utf8(good.clone()).unwrap();
    let second = text.find('\n').unwrap() + 1;
    let mut edited = good.clone();
    let at = second + text[second..].find("\"seq\":1").unwrap() + 6;
    edited[at] = b'7';
    edited.extend_from_slice(b"{\"entry\":{\"seq\":3");
    std::fs::write(&log, &edited).unwrap();
    let out = recover(&log);
    assert_eq!(out.status.code(), Some(4));
    assert_eq!(output_code(&out).as_deref(), Some("audit.not_recoverable"));
    assert!(matches!(
        audit::recover(&log, key.clone()),
        Err(Error::Audit(AuditError {
            problem: AuditProblem::NotRecoverable {
                problem: "sequence",
                entries: 1
            },
            ..
        }))
    ));
    assert_eq!(std::fs::read(&log).unwrap(), edited, "untouched");
    assert!(copies(&t.a_dir).is_empty());

    // A torn line the head counts (the last complete entry cut short): acknowledged, so it
    // is not ours to remove.
    let cut = &good[..good.len() - 10];
    std::fs::write(&log, cut).unwrap();
    assert!(matches!(
        audit::recover(&log, key),
        Err(Error::Audit(AuditError {
            problem: AuditProblem::NotRecoverable {
                problem: "truncated",
                ..
            },
            ..
        }))
    ));
    assert_eq!(std::fs::read(&log).unwrap(), cut, "untouched");
    assert!(copies(&t.a_dir).is_empty());
}
