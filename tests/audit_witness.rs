//! Mutual witnessing end to end over 127.0.0.1 with two real processes: each receipt carries
//! the signer's log checkpoint, each side logs the peer's, and `audit witness` detects a
//! rollback or a fork of either log through the checkpoints the other holds
//! (`protocol-spec/06-policy-and-audit.md` sections 5.2 and 6.2).
#![allow(clippy::unwrap_used)] // the shared net_common helpers unwrap

#[allow(clippy::unwrap_used)]
mod net_common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use blindmatch::audit::{self, checkpoint, witness, Event};
use blindmatch::error::AuditProblem;
use net_common::*;

struct Two {
    root: tempfile::TempDir,
    a_dir: PathBuf,
    a_fp: String,
    b_dir: PathBuf,
    b_fp: String,
    a_in: PathBuf,
    b_in: PathBuf,
    sessions: usize,
}

fn two() -> Two {
    let root = tempfile::tempdir().expect("tmp");
    let (a_dir, a_fp) = identity(root.path(), "agency-a");
    let (b_dir, b_fp) = identity(root.path(), "agency-b");
    let items = |step: usize| -> Vec<String> {
        (0..40)
            .map(|i| format!("IMO{:07}", 9_100_000 + i * step))
            .collect()
    };
    let a_in = root.path().join("a.txt");
    let b_in = root.path().join("b.txt");
    write_items(&a_in, &items(3));
    write_items(&b_in, &items(5));
    Two {
        root,
        a_dir,
        a_fp,
        b_dir,
        b_fp,
        a_in,
        b_in,
        sessions: 0,
    }
}

impl Two {
    fn a_log(&self) -> PathBuf {
        self.a_dir.join("audit.jsonl")
    }

    fn b_log(&self) -> PathBuf {
        self.b_dir.join("audit.jsonl")
    }

    /// One mutual session: B serves, A matches. Both must succeed.
    fn session(&mut self) {
        self.sessions += 1;
        let n = self.sessions;
        let a_out = self.root.path().join(format!("a-{n}.csv"));
        let b_out = self.root.path().join(format!("b-{n}.csv"));
        let mode = ["--mode", "mutual"];
        let mut b_args = vec!["--output", path_str(&b_out)];
        b_args.extend_from_slice(&mode);
        let server = Server::start(&self.b_dir, &self.a_fp, &self.b_in, &b_args);
        let out = run_match(
            &self.a_dir,
            &self.b_fp,
            &server.addr,
            &self.a_in,
            &a_out,
            &mode,
        );
        let (b_ok, _, b_err) = server.finish();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(b_ok, "{b_err}");
    }
}

fn audit_cmd(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(["audit", "--json"])
        .args(args)
        .output()
        .expect("run audit")
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr)
}

/// Copies a log and its head aside (the "older pair" a rollback restores).
fn save(log: &Path, to: &Path) {
    std::fs::copy(log, to).unwrap();
    let mut head = to.as_os_str().to_owned();
    head.push(".head");
    std::fs::copy(head_of(log), head).unwrap();
}

fn restore(from: &Path, log: &Path) {
    std::fs::copy(from, log).unwrap();
    std::fs::copy(head_of(from), head_of(log)).unwrap();
}

fn head_of(log: &Path) -> PathBuf {
    let mut head = log.as_os_str().to_owned();
    head.push(".head");
    PathBuf::from(head)
}

fn key_of(dir: &Path) -> ed25519_dalek::VerifyingKey {
    audit::parse_public_key(path_str(dir)).unwrap()
}

/// The typed result of witnessing `log` (key `log_key`) against the checkpoints `holder`
/// holds of it.
/// `audit witness A --peer-log B`: each log against the other's checkpoints.
fn witness_both(t: &Two) -> Output {
    audit_cmd(&[
        "witness",
        path_str(&t.a_log()),
        "--peer-log",
        path_str(&t.b_log()),
    ])
}

/// The witness found the log cut back from the 7 entries a checkpoint counts to 3.
fn assert_rolled_back_from_7_to_3(w: &witness::Witnessed) {
    assert!(
        w.problems.contains(&AuditProblem::RolledBack {
            checkpoint_size: 7,
            log_size: 3
        }),
        "{:?}",
        w.problems
    );
}

fn witnessed(log: &Path, log_key: &Path, holder: &Path, holder_key: &Path) -> witness::Witnessed {
    let r = audit::verify(log, &[key_of(log_key)]).unwrap();
    assert!(r.is_ok(), "{}", r.summary());
    let h = audit::verify(holder, &[key_of(holder_key)]).unwrap();
    assert!(h.is_ok(), "{}", h.summary());
    let held = witness::checkpoints_of(&h, &key_of(log_key));
    audit::witness(&r, &key_of(log_key), &held)
}

#[test]
fn receipts_carry_checkpoints_and_an_honest_pair_witnesses_ok() {
    let mut t = two();
    t.session();
    t.session();
    // Each peer_receipt entry holds the peer's checkpoint: B's log at the time B signed, with
    // B's session_started of that session counted.
    let a = audit::verify(&t.a_log(), &[key_of(&t.a_dir)]).unwrap();
    let held: Vec<_> = a
        .entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::PeerReceipt { checkpoint, .. } => checkpoint.clone(),
            _ => None,
        })
        .collect();
    assert_eq!(held.len(), 2);
    let sizes: Vec<u64> = held.iter().map(|c| c.size).collect();
    // B's log per session: session_started, peer_receipt, session_ended; B signs after its
    // session_started, so it names 1 and then 4 entries.
    assert_eq!(sizes, [1, 4]);
    let w = witnessed(&t.b_log(), &t.b_dir, &t.a_log(), &t.a_dir);
    assert!(w.is_ok(), "{:?}", w.problems);
    assert_eq!((w.checked, w.log_size), (2, 6));

    let out = witness_both(&t);
    assert!(out.status.success(), "{}", text(&out));
    // The exported notes are C2SP signed notes that parse back and verify under B's key.
    let notes = t.root.path().join("b-checkpoints.txt");
    let out = audit_cmd(&[
        "checkpoints",
        path_str(&t.a_log()),
        "--of",
        &t.b_fp,
        "--out",
        path_str(&notes),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let parsed = checkpoint::parse_notes(&std::fs::read_to_string(&notes).unwrap()).unwrap();
    assert_eq!(parsed.len(), 2);
    for c in &parsed {
        assert_eq!(c.signer, key_of(&t.b_dir));
        c.verify().unwrap();
    }
    let out = audit_cmd(&[
        "witness",
        path_str(&t.b_log()),
        "--checkpoints",
        path_str(&notes),
    ]);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn a_rollback_of_either_log_is_detected_through_the_other() {
    let mut t = two();
    t.session();
    let old_a = t.root.path().join("a-old.jsonl");
    save(&t.a_log(), &old_a);
    t.session();
    t.session();

    // A restores its older (log, head) pair: the log verifies on its own...
    restore(&old_a, &t.a_log());
    let out = audit_cmd(&["verify", path_str(&t.a_log())]);
    assert!(out.status.success(), "{}", text(&out));
    // ...but B holds checkpoints of A's longer log.
    let w = witnessed(&t.a_log(), &t.a_dir, &t.b_log(), &t.b_dir);
    assert_rolled_back_from_7_to_3(&w);
    let out = witness_both(&t);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert_eq!(output_code(&out).as_deref(), Some("audit.rolled_back"));
    // The same from B's exported notes, as a third party would check.
    let notes = t.root.path().join("a-checkpoints.txt");
    let out = audit_cmd(&[
        "checkpoints",
        path_str(&t.b_log()),
        "--of",
        path_str(&t.a_dir),
        "--out",
        path_str(&notes),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let out = audit_cmd(&[
        "witness",
        path_str(&t.a_log()),
        "--checkpoints",
        path_str(&notes),
    ]);
    assert_eq!(output_code(&out).as_deref(), Some("audit.rolled_back"));
}

#[test]
fn a_truncated_peer_log_with_its_old_head_is_detected() {
    let mut t = two();
    t.session();
    let old_b = t.root.path().join("b-old.jsonl");
    save(&t.b_log(), &old_b);
    t.session();
    t.session();
    // B cuts its log back to 3 entries and puts back the head it had then.
    let b_text = std::fs::read(t.b_log()).unwrap();
    let kept: usize = b_text
        .split_inclusive(|&c| c == b'\n')
        .take(3)
        .map(<[u8]>::len)
        .sum();
    std::fs::write(t.b_log(), &b_text[..kept]).unwrap();
    std::fs::copy(head_of(&old_b), head_of(&t.b_log())).unwrap();
    let out = audit_cmd(&["verify", path_str(&t.b_log())]);
    assert!(out.status.success(), "alone it verifies: {}", text(&out));
    let w = witnessed(&t.b_log(), &t.b_dir, &t.a_log(), &t.a_dir);
    assert_rolled_back_from_7_to_3(&w);
    // Checked from A's side with both logs at hand: B's rollback is found.
    let out = witness_both(&t);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert_eq!(output_code(&out).as_deref(), Some("audit.rolled_back"));
}

#[test]
fn a_fork_is_detected() {
    let mut t = two();
    t.session();
    let old_a = t.root.path().join("a-old.jsonl");
    save(&t.a_log(), &old_a);
    t.session();
    // A puts back its older pair and goes on: at the size B's checkpoint names, A's log now
    // holds another history.
    let b_before = t.root.path().join("b-before.jsonl");
    save(&t.b_log(), &b_before);
    restore(&old_a, &t.a_log());
    t.session();
    // B's live log holds both A's checkpoint at 4 entries from before and the new one.
    let w = witnessed(&t.a_log(), &t.a_dir, &t.b_log(), &t.b_dir);
    assert!(
        w.problems
            .iter()
            .any(|p| matches!(p, AuditProblem::Forked { size: 4, .. })),
        "{:?}",
        w.problems
    );
    // Through the command, from B's log of before the fork (its key given: it is a copy
    // outside B's identity directory).
    let out = audit_cmd(&[
        "witness",
        path_str(&t.a_log()),
        "--peer-log",
        path_str(&b_before),
        "--peer-key",
        path_str(&t.b_dir),
    ]);
    assert_eq!(out.status.code(), Some(4), "{}", text(&out));
    assert_eq!(output_code(&out).as_deref(), Some("audit.forked"));
}
