//! Compliance end to end over 127.0.0.1 with two real processes (`serve` and `match`): the
//! signed audit logs and the receipts of a session, policy and budget refusals before any
//! element, and padding taken from the policy.
#![allow(clippy::unwrap_used)] // the shared net_common helpers unwrap

#[allow(clippy::unwrap_used)]
mod net_common;

use std::path::{Path, PathBuf};
use std::process::Command;

use blindmatch::audit::SessionReceipt;
use net_common::*;
use serde_json::Value;

/// A policy file: the default policy with `edits` applied (`(from, to)` text replacements).
fn policy(root: &Path, name: &str, edits: &[(&str, &str)]) -> PathBuf {
    let mut text = OPEN_POLICY_TEXT.to_owned();
    for (from, to) in edits {
        assert!(text.contains(from), "{from} not in the open test policy");
        text = text.replace(from, to);
    }
    let path = root.join(name);
    std::fs::write(&path, text).expect("write policy");
    path
}

fn entries(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line"))
        .collect()
}

fn kinds(log: &Path) -> Vec<String> {
    entries(log)
        .iter()
        .map(|e| {
            e["entry"]["event"]["kind"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

fn json(s: &str) -> Value {
    serde_json::from_str(s.lines().last().unwrap_or("")).unwrap_or_else(|e| panic!("{e}: {s}"))
}

fn verify(log: &Path, key_dir: &Path) -> (bool, String) {
    let out = Command::new(BIN)
        .args(["audit", "verify"])
        .arg(log)
        .arg("--key")
        .arg(key_dir)
        .output()
        .expect("run audit verify");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr),
    )
}

struct Two {
    root: tempfile::TempDir,
    a_dir: PathBuf,
    a_fp: String,
    b_dir: PathBuf,
    b_fp: String,
    a_in: PathBuf,
    b_in: PathBuf,
    a_items: Vec<String>,
    b_items: Vec<String>,
}

fn two(a_n: usize, b_n: usize) -> Two {
    let root = tempfile::tempdir().expect("tmp");
    let (a_dir, a_fp) = identity(root.path(), "agency-a");
    let (b_dir, b_fp) = identity(root.path(), "agency-b");
    let a_items: Vec<String> = (0..a_n)
        .map(|i| format!("IMO{:07}", 9_100_000 + i * 3))
        .collect();
    let b_items: Vec<String> = (0..b_n)
        .map(|i| format!("IMO{:07}", 9_100_000 + i * 5))
        .collect();
    let a_in = root.path().join("a.txt");
    let b_in = root.path().join("b.txt");
    write_items(&a_in, &a_items);
    write_items(&b_in, &b_items);
    Two {
        root,
        a_dir,
        a_fp,
        b_dir,
        b_fp,
        a_in,
        b_in,
        a_items,
        b_items,
    }
}

/// Runs one session: serve (B) with `b_extra`, match (A) with `a_extra`. Returns
/// (A ok, A stdout, A stderr, B ok, B stdout, B stderr).
fn run(
    t: &Two,
    a_out: &Path,
    b_out: &Path,
    a_extra: &[&str],
    b_extra: &[&str],
) -> (bool, String, String, bool, String, String) {
    let mut b_args = vec!["--json", "--output", b_out.to_str().expect("utf-8")];
    b_args.extend_from_slice(b_extra);
    let server = Server::start(&t.b_dir, &t.a_fp, &t.b_in, &b_args);
    let mut a_args = vec!["--json"];
    a_args.extend_from_slice(a_extra);
    let out = run_match(&t.a_dir, &t.b_fp, &server.addr, &t.a_in, a_out, &a_args);
    let (b_ok, b_stdout, b_stderr) = server.finish();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
        b_ok,
        b_stdout,
        b_stderr,
    )
}

#[test]
fn a_session_is_logged_and_receipted_on_both_sides_without_any_input_value() {
    let t = two(300, 500);
    let (a_out, b_out) = (t.root.path().join("a.csv"), t.root.path().join("b.csv"));
    let mode = ["--mode", "mutual"];
    let (a_ok, a_stdout, a_err, b_ok, b_stdout, b_err) = run(&t, &a_out, &b_out, &mode, &mode);
    assert!(a_ok, "{a_err}");
    assert!(b_ok, "{b_err}");
    let (ja, jb) = (json(&a_stdout), json(&b_stdout));
    assert_eq!(ja["peer_receipt"], true);
    assert_eq!(jb["peer_receipt"], true);
    let sid = ja["session_id"].as_str().expect("session id").to_string();
    assert_eq!(jb["session_id"], sid.as_str());

    let a_log = t.a_dir.join("audit.jsonl");
    let b_log = t.b_dir.join("audit.jsonl");
    let expected = ["session_started", "peer_receipt", "session_ended"];
    assert_eq!(kinds(&a_log), expected);
    assert_eq!(kinds(&b_log), expected);
    for (log, dir) in [(&a_log, &t.a_dir), (&b_log, &t.b_dir)] {
        let (ok, text) = verify(log, dir);
        assert!(ok && text.contains("OK: 3 entries"), "{text}");
    }
    // Each log is signed by its own agency only: A's key does not verify B's log.
    assert!(!verify(&b_log, &t.a_dir).0);

    // The receipt in A's log is B's, for B's session and transcript, under B's key.
    let a_entries = entries(&a_log);
    let b_entries = entries(&b_log);
    let b_start = &b_entries[0]["entry"]["event"]["session"];
    let b_signer = b_entries[0]["entry"]["signer"].as_str().expect("signer");
    let receipt_hex = a_entries[1]["entry"]["event"]["receipt"]
        .as_str()
        .expect("receipt");
    let receipt = SessionReceipt::decode(&hex::decode(receipt_hex).expect("hex")).expect("decode");
    assert_eq!(hex::encode(receipt.session_id), sid);
    assert_eq!(b_start["session_id"], sid.as_str());
    assert_eq!(
        hex::encode(receipt.transcript_hash),
        b_start["transcript_hash"].as_str().expect("transcript")
    );
    assert_eq!(hex::encode(receipt.signer.as_bytes()), b_signer);
    assert_eq!(
        (receipt.initiator_count, receipt.responder_count),
        (300, 500)
    );
    // And symmetrically B holds A's receipt.
    let a_signer = a_entries[0]["entry"]["signer"].as_str().expect("signer");
    assert_eq!(b_entries[1]["entry"]["event"]["peer_key"], a_signer);
    assert_eq!(b_entries[1]["entry"]["event"]["session_id"], sid.as_str());

    // The end entries: sizes, matches, and the keyed commitment to the output file actually
    // written: it opens with the agency's commitment key, and cannot be recomputed from the
    // file alone (its plain digest is not logged) nor with another agency's key.
    let key = |dir: &Path| {
        blindmatch::audit::CommitmentKey::load(&dir.join(blindmatch::audit::COMMITMENT_KEY_FILE))
            .expect("the agency's commitment key")
    };
    for (e, out, own, peer, dir, other) in [
        (&a_entries[2], &a_out, 300, 500, &t.a_dir, &t.b_dir),
        (&b_entries[2], &b_out, 500, 300, &t.b_dir, &t.a_dir),
    ] {
        let ev = &e["entry"]["event"];
        assert_eq!(ev["session"]["own_sent"], own);
        assert_eq!(ev["session"]["peer_sent"], peer);
        assert_eq!(ev["session"]["local_own_unique"], own);
        assert!(ev["session"].get("own_unique").is_none());
        assert_eq!(ev["outcome"]["own_learned"]["matches"], 60);
        let logged = ev["outcome"]["output_commitment"]
            .as_str()
            .expect("commitment");
        assert_eq!(key(dir).commit_file(out).expect("commit"), logged);
        let plain = blindmatch::audit::file_digest(out).expect("digest");
        assert_ne!(plain, logged);
        assert!(ev["outcome"]["output_sha3_256"].is_null());
        assert_ne!(key(other).commit_file(out).expect("commit"), logged);
    }
    assert_eq!(
        a_entries[0]["entry"]["event"]["session"]["peer_agency"],
        "agency-b"
    );

    // No input value (nor its digits) appears in either log or its head.
    for log in [&a_log, &b_log] {
        let mut text = std::fs::read_to_string(log).expect("log");
        let mut head = log.as_os_str().to_owned();
        head.push(".head");
        text += &std::fs::read_to_string(PathBuf::from(head)).expect("head");
        let non_hex: String = text
            .split('"')
            .filter(|s| !(s.len() >= 32 && s.bytes().all(|b| b.is_ascii_hexdigit())))
            .collect::<Vec<_>>()
            .join("\"");
        for item in t.a_items.iter().chain(t.b_items.iter()) {
            assert!(!text.contains(item.as_str()), "{item} in {}", log.display());
            assert!(!non_hex.contains(&item[3..]), "{item} digits in the log");
        }
    }
}

#[test]
fn a_mode_the_policy_forbids_is_refused_on_both_sides_before_any_element() {
    let t = two(30, 50);
    let p = policy(
        t.root.path(),
        "count-only.toml",
        &[(
            "modes = [\"intersection\", \"mutual\", \"cardinality\"]",
            "modes = [\"cardinality\"]",
        )],
    );
    let (a_out, b_out) = (t.root.path().join("a.csv"), t.root.path().join("b.csv"));
    let args = ["--mode", "mutual", "--policy", p.to_str().expect("utf-8")];
    let (a_ok, a_stdout, a_err, b_ok, b_stdout, b_err) = run(&t, &a_out, &b_out, &args, &args);
    assert!(!a_ok && !b_ok);
    for (out, err) in [(&a_stdout, &a_err), (&b_stdout, &b_err)] {
        assert_eq!(
            error_code(out).as_deref(),
            Some("policy_refused.modes"),
            "{err}"
        );
    }
    assert!(!a_out.exists() && !b_out.exists());
    // Refused, never started: no element was sent or evaluated.
    for dir in [&t.a_dir, &t.b_dir] {
        let log = dir.join("audit.jsonl");
        assert_eq!(kinds(&log), ["session_refused"]);
        assert_eq!(entries(&log)[0]["entry"]["event"]["rule"], "modes");
        assert!(verify(&log, dir).0);
    }
}

#[test]
fn the_daily_budget_is_durable_and_a_spent_budget_refuses_on_both_sides() {
    let t = two(30, 50);
    let p = policy(
        t.root.path(),
        "one-a-day.toml",
        &[(
            "max_sessions_per_peer_per_day = 100_000",
            "max_sessions_per_peer_per_day = 1",
        )],
    );
    let args = ["--policy", p.to_str().expect("utf-8")];
    let (a1, b1) = (t.root.path().join("a1.csv"), t.root.path().join("b1.csv"));
    let (a_ok, _, a_err, b_ok, _, b_err) = run(&t, &a1, &b1, &args, &args);
    assert!(a_ok && b_ok, "{a_err}\n{b_err}");
    // The count survived the processes.
    for dir in [&t.a_dir, &t.b_dir] {
        let state = std::fs::read_to_string(dir.join("budget.json")).expect("budget state");
        assert!(state.contains("sessions"), "{state}");
    }
    let (a2, b2) = (t.root.path().join("a2.csv"), t.root.path().join("b2.csv"));
    let (a_ok, a_stdout, a_err, b_ok, b_stdout, b_err) = run(&t, &a2, &b2, &args, &args);
    assert!(!a_ok && !b_ok);
    for (out, err) in [(&a_stdout, &a_err), (&b_stdout, &b_err)] {
        assert_eq!(
            error_code(out).as_deref(),
            Some("policy_refused.max_sessions_per_peer_per_day"),
            "{err}"
        );
    }
    assert!(!a2.exists() && !b2.exists());
    for dir in [&t.a_dir, &t.b_dir] {
        let log = dir.join("audit.jsonl");
        let k = kinds(&log);
        assert_eq!(
            k,
            [
                "session_started",
                "peer_receipt",
                "session_ended",
                "session_refused"
            ]
        );
        let last = &entries(&log)[3]["entry"]["event"];
        assert_eq!(last["rule"], "max_sessions_per_peer_per_day");
        assert!(verify(&log, dir).0);
    }
}

#[test]
fn padding_comes_from_the_policy_bound() {
    let t = two(300, 500);
    let p = policy(
        t.root.path(),
        "padded.toml",
        &[(
            "max_sessions_per_peer_per_day",
            "padding_bound = 600\nmax_sessions_per_peer_per_day",
        )],
    );
    let (a_out, b_out) = (t.root.path().join("a.csv"), t.root.path().join("b.csv"));
    let args = ["--mode", "mutual", "--policy", p.to_str().expect("utf-8")];
    let (a_ok, a_stdout, a_err, b_ok, b_stdout, b_err) = run(&t, &a_out, &b_out, &args, &args);
    assert!(a_ok && b_ok, "{a_err}\n{b_err}");
    let (ja, jb) = (json(&a_stdout), json(&b_stdout));
    // Each side sent the bound and saw only the bound from the peer.
    for j in [&ja, &jb] {
        assert_eq!(j["own_sent"], 600);
        assert_eq!(j["peer_sent"], 600);
        assert_eq!(j["matches"], 60);
    }
    assert_eq!(ja["own_unique"], 300);
    assert_eq!(jb["own_unique"], 500);

    // --pad-to other than the bound is refused before connecting, naming the rule.
    let out = run_match(
        &t.a_dir,
        &t.b_fp,
        "127.0.0.1:9",
        &t.a_in,
        &t.root.path().join("x.csv"),
        &[
            "--policy",
            p.to_str().expect("utf-8"),
            "--pad-to",
            "700",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(5), "policy refusals exit with 5");
    assert_eq!(
        error_code(&String::from_utf8_lossy(&out.stdout)).as_deref(),
        Some("policy_refused.padding_bound")
    );
}

#[test]
fn a_revealing_run_needs_a_prior_count_only_run_recorded_across_processes() {
    let t = two(30, 50);
    let p = policy(
        t.root.path(),
        "count-first.toml",
        &[(
            "cardinality_before_reveal = false",
            "cardinality_before_reveal = true",
        )],
    );
    let p = p.to_str().expect("utf-8");
    let out = |n: &str| t.root.path().join(n);
    let mutual = ["--mode", "mutual", "--policy", p];
    let (a_ok, a_stdout, a_err, b_ok, b_stdout, b_err) =
        run(&t, &out("a1.csv"), &out("b1.csv"), &mutual, &mutual);
    assert!(!a_ok && !b_ok);
    for (stdout, err) in [(&a_stdout, &a_err), (&b_stdout, &b_err)] {
        assert_eq!(
            error_code(stdout).as_deref(),
            Some("policy_refused.cardinality_before_reveal"),
            "{err}"
        );
    }
    let count = ["--mode", "cardinality", "--policy", p];
    let (a_ok, _, a_err, b_ok, _, b_err) = run(&t, &out("a2.csv"), &out("b2.csv"), &count, &count);
    assert!(a_ok && b_ok, "{a_err}\n{b_err}");
    let (a_ok, _, a_err, b_ok, _, b_err) =
        run(&t, &out("a3.csv"), &out("b3.csv"), &mutual, &mutual);
    assert!(a_ok && b_ok, "{a_err}\n{b_err}");
    assert!(out("a3.csv").exists() && out("b3.csv").exists());
}
