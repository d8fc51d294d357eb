//! Options of `match` and `serve` that fit their modes: `--output` only where this side learns
//! its matches, `--pad-to` and `--chunk-size` refused before connecting, `--unmatched`, and
//! the keys `identity show` prints for `--peer` and `audit verify --key`.

#[allow(clippy::unwrap_used)]
mod net_common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use blindmatch::error::ConfigReason;
use net_common::{
    identity, match_nowhere, output_code as code, path_str as s, run_match, write_items, Server,
    BIN,
};

#[test]
fn output_is_required_only_where_matches_are_learned() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (id, _) = identity(dir.path(), "agency-a");
    let input = dir.path().join("items.txt");
    write_items(&input, &["a".into(), "b".into(), "c".into()]);
    // Cardinality: no --output needed; it gets as far as the network (6).
    let out = match_nowhere(&id, &input, &["--mode", "cardinality"]);
    assert_eq!(
        out.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Intersection: --output is required, said before connecting.
    let out = match_nowhere(&id, &input, &["--mode", "intersection"]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(code(&out).as_deref(), Some("input.argument"));
}

#[test]
fn pad_to_below_the_set_and_chunk_size_zero_are_refused_before_connecting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (id, _) = identity(dir.path(), "agency-a");
    let input = dir.path().join("items.txt");
    write_items(&input, &["a".into(), "b".into(), "c".into()]);
    let o = dir.path().join("o.csv");
    let out = match_nowhere(&id, &input, &["--output", s(&o), "--pad-to", "2"]);
    assert_eq!(
        out.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(code(&out).as_deref(), Some("input.set_size"));
    let out = match_nowhere(&id, &input, &["--output", s(&o), "--chunk-size", "0"]);
    assert_eq!(out.status.code(), Some(2), "a usage error");
}

#[test]
fn unmatched_rows_and_the_keys_identity_show_prints() {
    let root = tempfile::tempdir().expect("tempdir");
    let (a_dir, a_fp) = identity(root.path(), "agency-a");
    let (b_dir, b_fp) = identity(root.path(), "agency-b");
    let a: Vec<String> = (0..40).map(|i| format!("item-{i}")).collect();
    let b: Vec<String> = (0..40).map(|i| format!("item-{}", i * 3)).collect();
    let (a_in, b_in) = (root.path().join("a.txt"), root.path().join("b.txt"));
    write_items(&a_in, &a);
    write_items(&b_in, &b);
    let (a_out, a_un) = (root.path().join("a.csv"), root.path().join("a-un.csv"));
    let (b_out, b_un) = (root.path().join("b.csv"), root.path().join("b-un.csv"));
    let server = Server::start(
        &b_dir,
        &a_fp,
        &b_in,
        &[
            "--mode",
            "mutual",
            "--output",
            s(&b_out),
            "--unmatched",
            s(&b_un),
        ],
    );
    let out = run_match(
        &a_dir,
        &b_fp,
        &server.addr,
        &a_in,
        &a_out,
        &["--mode", "mutual", "--unmatched", s(&a_un)],
    );
    let (ok, _, err) = server.finish();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(ok, "{err}");
    let column = |p: &Path| -> Vec<String> {
        let mut r = csv::Reader::from_path(p).expect("csv");
        r.records()
            .map(|x| x.expect("row")[0].to_string())
            .collect()
    };
    for (ours, theirs, out, un) in [(&a, &b, &a_out, &a_un), (&b, &a, &b_out, &b_un)] {
        let other: BTreeSet<&String> = theirs.iter().collect();
        let want_matched: Vec<String> =
            ours.iter().filter(|x| other.contains(x)).cloned().collect();
        let want_unmatched: Vec<String> = ours
            .iter()
            .filter(|x| !other.contains(x))
            .cloned()
            .collect();
        assert!(!want_matched.is_empty() && !want_unmatched.is_empty());
        assert_eq!(column(out), want_matched);
        assert_eq!(column(un), want_unmatched);
        // The input's columns only.
        let mut r = csv::Reader::from_path(un).expect("csv");
        assert_eq!(r.headers().expect("header").len(), 1);
    }

    // identity show: the fingerprint to pin and the key that signs the audit log.
    let shown = Command::new(BIN)
        .args(["--quiet", "identity", "show"])
        .arg(&a_dir)
        .output()
        .expect("show");
    assert!(shown.status.success());
    let text = String::from_utf8(shown.stdout).expect("utf-8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2, "{text}");
    assert_eq!(lines[0], a_fp);
    let log = a_dir.join("audit.jsonl");
    let verify = |key: &str| {
        blindmatch::cli::audit::run(
            blindmatch::cli::audit::Args {
                action: blindmatch::cli::audit::Action::Verify {
                    log: log.clone(),
                    key: vec![key.to_string()],
                },
                json: false,
            },
            true,
        )
    };
    verify(lines[1]).expect("the shown signing key verifies the log");
    match verify(&a_fp) {
        Err(blindmatch::Error::Config(e)) => assert_eq!(e.reason, ConfigReason::AuditKey),
        other => panic!("{other:?}"),
    }
}
