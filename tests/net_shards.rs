//! Shards of one logical session with plain processes on one machine
//! (`protocol-spec/09-buckets.md` section 9.11): three `serve --shard I/3` processes of one
//! agency and three `match --shard I/3` processes of the other, run at the same time with a
//! log each (as three pods of each agency would), give together exactly the matched rows of
//! one unsharded session, and every log ties its shard to the same logical session.
#![allow(clippy::unwrap_used)]

mod net_common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use blindmatch::report::{Disclosure, Filter};
use net_common::*;

const SHARDS: usize = 3;
const NAME: &str = "customs-2026-12-02";

/// Rows `value,row` (the row number makes every row distinct): A has 2,000 of its own and
/// B 1,500, 600 shared, and A has 50 of the shared values twice.
fn inputs(dir: &Path) -> (PathBuf, PathBuf) {
    shared_inputs(dir, (2000, 1500, 600, 50))
}

/// The rows of a matches file, whole.
fn rows(path: &Path) -> Vec<String> {
    if !path.exists() {
        return Vec::new();
    }
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records()
        .map(|rec| rec.unwrap().iter().collect::<Vec<_>>().join(","))
        .collect()
}

fn json(out: &str) -> serde_json::Value {
    serde_json::from_str(out.lines().last().unwrap_or("")).unwrap_or_else(|e| panic!("{e}: {out}"))
}

struct Run {
    a_rows: Vec<String>,
    b_rows: Vec<String>,
    summaries: Vec<(serde_json::Value, serde_json::Value)>,
}

/// One session, or `SHARDS` at once when `sharded`, in `mode` over `protocol`.
#[allow(clippy::too_many_arguments)]
fn run(
    root: &Path,
    ids: &(PathBuf, String, PathBuf, String),
    inputs: &(PathBuf, PathBuf),
    tag: &str,
    mode: &str,
    protocol: &str,
    sharded: bool,
) -> Run {
    let (a_dir, a_fp, b_dir, b_fp) = ids;
    let count = if sharded { SHARDS } else { 1 };
    let mut pairs = Vec::new();
    for i in 0..count {
        let file = |side: &str, what: &str| {
            root.join(format!("{tag}-{side}-{i}.{what}"))
                .to_str()
                .unwrap()
                .to_owned()
        };
        let shard = format!("{i}/{SHARDS}");
        let mut common: Vec<String> = ["--mode", mode, "--protocol", protocol, "--json"]
            .map(String::from)
            .to_vec();
        common.extend(["--key".into(), "container:raw".into()]);
        if sharded {
            common.extend([
                "--shard".into(),
                shard,
                "--logical-session".into(),
                NAME.into(),
            ]);
        }
        let side_args = |side: &str| {
            let mut v = common.clone();
            v.extend([
                "--audit-log".into(),
                file(side, "audit.jsonl"),
                "--budget-state".into(),
                file(side, "budget.json"),
            ]);
            v
        };
        let mut b_args = side_args("b");
        b_args.extend(["--output".into(), file("b", "csv")]);
        let b_refs: Vec<&str> = b_args.iter().map(String::as_str).collect();
        let server = Server::start(b_dir, a_fp, &inputs.1, &b_refs);
        let a_args = side_args("a");
        let (a_dir, b_fp, a_in, a_out) = (
            a_dir.clone(),
            b_fp.clone(),
            inputs.0.clone(),
            PathBuf::from(file("a", "csv")),
        );
        let addr = server.addr.clone();
        let client = std::thread::spawn(move || {
            let refs: Vec<&str> = a_args.iter().map(String::as_str).collect();
            run_match(&a_dir, &b_fp, &addr, &a_in, &a_out, &refs)
        });
        pairs.push((server, client, file("a", "csv"), file("b", "csv")));
    }
    let mut out = Run {
        a_rows: Vec::new(),
        b_rows: Vec::new(),
        summaries: Vec::new(),
    };
    for (server, client, a_out, b_out) in pairs {
        let a = client.join().unwrap();
        let (ok, s_out, s_err) = server.finish();
        assert!(
            a.status.success(),
            "{tag}: {}",
            String::from_utf8_lossy(&a.stderr)
        );
        assert!(ok, "{tag}: {s_err}");
        out.a_rows.extend(rows(Path::new(&a_out)));
        out.b_rows.extend(rows(Path::new(&b_out)));
        out.summaries
            .push((json(&String::from_utf8_lossy(&a.stdout)), json(&s_out)));
    }
    out
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// The `terms.shard` of the `session_started` entry of a shard's log.
fn logged_shard(log: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(log).unwrap();
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|v| v["entry"]["event"]["kind"] == "session_started")
        .map(|v| v["entry"]["event"]["terms"]["shard"].clone())
        .unwrap_or_else(|| panic!("no session_started in {}", log.display()))
}

#[test]
fn three_shard_pairs_give_the_single_session_result() {
    let root = tempfile::tempdir().unwrap();
    let (a_dir, a_fp) = identity(root.path(), "agency-a");
    let (b_dir, b_fp) = identity(root.path(), "agency-b");
    let ids = (a_dir, a_fp, b_dir, b_fp);
    let inputs = inputs(root.path());
    for (mode, protocol) in [
        ("mutual", "dh"),
        ("mutual", "vole"),
        ("intersection", "auto"),
    ] {
        let tag = format!("{mode}-{protocol}");
        let whole = run(
            root.path(),
            &ids,
            &inputs,
            &format!("{tag}-whole"),
            mode,
            protocol,
            false,
        );
        let shards = run(
            root.path(),
            &ids,
            &inputs,
            &format!("{tag}-shard"),
            mode,
            protocol,
            true,
        );
        // 650 rows of A (50 values twice) and 600 of B match.
        assert_eq!(whole.a_rows.len(), 650, "{tag}");
        assert_eq!(sorted(shards.a_rows.clone()), sorted(whole.a_rows), "{tag}");
        assert_eq!(sorted(shards.b_rows), sorted(whole.b_rows), "{tag}");
        let per_shard: Vec<u64> = shards
            .summaries
            .iter()
            .map(|(a, _)| a["matches"].as_u64().unwrap())
            .collect();
        assert!(per_shard.iter().all(|&m| m > 100), "{tag}: {per_shard:?}");
        let (wa, _) = &whole.summaries[0];
        let mut ids = BTreeSet::new();
        for (i, (a, b)) in shards.summaries.iter().enumerate() {
            assert_eq!(a["shard"], format!("{i}/{SHARDS}"), "{tag}");
            assert_eq!(a["session_id"], b["session_id"]);
            assert!(ids.insert(a["session_id"].as_str().unwrap().to_owned()));
            // Every shard of a side announces the same bound, a function of the total only.
            assert_eq!(a["own_sent"], shards.summaries[0].0["own_sent"], "{tag}");
            assert!(a["own_sent"].as_u64() < wa["own_sent"].as_u64(), "{tag}");
        }
        assert!(wa["shard"].is_null());
        // Each log ties its shard to the logical session: the same key in all six.
        let key = logged_shard(&root.path().join(format!("{tag}-shard-a-0.audit.jsonl")));
        for side in ["a", "b"] {
            for i in 0..SHARDS {
                let log = root
                    .path()
                    .join(format!("{tag}-shard-{side}-{i}.audit.jsonl"));
                let shard = logged_shard(&log);
                assert_eq!(
                    (shard["index"].as_u64(), shard["count"].as_u64()),
                    (Some(i as u64), Some(SHARDS as u64))
                );
                assert_eq!(shard["logical_session"], key["logical_session"]);
            }
        }
        let whole_log = root.path().join(format!("{tag}-whole-a-0.audit.jsonl"));
        assert!(logged_shard(&whole_log).is_null());
        // The compliance report names the shard and the logical session it belongs to.
        let log = root.path().join(format!("{tag}-shard-b-2.audit.jsonl"));
        let verified = blindmatch::audit::verify(&log, &[]).unwrap();
        let d = Disclosure::build("audit.jsonl", &verified, &Filter::All);
        assert_eq!(d.sessions.len(), 1);
        assert_eq!(
            d.sessions[0].split_text(),
            format!(
                "shard 2/{SHARDS} of logical session {}; one bucket",
                key["logical_session"].as_str().unwrap()
            )
        );
        let whole = blindmatch::audit::verify(&whole_log, &[]).unwrap();
        let d = Disclosure::build("audit.jsonl", &whole, &Filter::All);
        assert_eq!(d.sessions[0].split_text(), "not sharded; one bucket");
    }
}

/// Shard 0 of one agency connecting to shard 1 of the other (a scheduler's mix-up) is
/// refused at the handshake on both sides, before any element, with the `incompatible.shard`
/// code.
#[test]
fn mismatched_shards_are_refused_on_both_sides() {
    let root = tempfile::tempdir().unwrap();
    let (a_dir, a_fp) = identity(root.path(), "agency-a");
    let (b_dir, b_fp) = identity(root.path(), "agency-b");
    let (a_in, b_in) = inputs(root.path());
    let args = |shard: &'static str| {
        vec![
            "--json",
            "--key",
            "container:raw",
            "--shard",
            shard,
            "--logical-session",
            NAME,
        ]
    };
    let server = Server::start(&b_dir, &a_fp, &b_in, &args("0/3"));
    let a_out = root.path().join("a-matches.csv");
    let a = run_match(&a_dir, &b_fp, &server.addr, &a_in, &a_out, &args("1/3"));
    let (ok, s_out, s_err) = server.finish();
    assert!(!a.status.success() && !ok, "{s_err}");
    assert_eq!(output_code(&a).as_deref(), Some("incompatible.shard"));
    assert_eq!(error_code(&s_out).as_deref(), Some("incompatible.shard"));
    assert!(!a_out.exists());
}

/// `--unmatched` cannot be right for one shard (a row may match through another key in
/// another shard), and a shard needs the logical session's name: both are refused before
/// anything is read.
#[test]
fn unmatched_rows_and_a_nameless_shard_are_refused() {
    let root = tempfile::tempdir().unwrap();
    let (a_dir, _) = identity(root.path(), "agency-a");
    let (a_in, _) = inputs(root.path());
    let unmatched = root.path().join("u.csv");
    let out = match_nowhere(
        &a_dir,
        &a_in,
        &[
            "--key",
            "container:raw",
            "--output",
            path_str(&root.path().join("o.csv")),
            "--unmatched",
            path_str(&unmatched),
            "--shard",
            "0/2",
            "--logical-session",
            NAME,
        ],
    );
    assert!(!out.status.success());
    assert_eq!(output_code(&out).as_deref(), Some("config.conflict"));
    // Usage errors (clap's exit status 2): no name, a shard outside 0 to N - 1.
    let nameless = match_nowhere(&a_dir, &a_in, &["--key", "container:raw", "--shard", "0/2"]);
    assert_eq!(nameless.status.code(), Some(2));
    let bad = match_nowhere(
        &a_dir,
        &a_in,
        &[
            "--key",
            "container:raw",
            "--shard",
            "2/2",
            "--logical-session",
            NAME,
        ],
    );
    assert_eq!(bad.status.code(), Some(2));
}
