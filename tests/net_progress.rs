//! Progress for a scheduler (`--json` without `--quiet`): a bucketed session over the network
//! writes JSON progress lines on stderr, one per finished bucket with an estimate of the time
//! left, while stdout keeps the one JSON summary.
#![allow(clippy::unwrap_used)]

mod net_common;

use std::process::Command;

use net_common::*;

#[test]
fn a_bucketed_session_reports_each_bucket_as_json_lines() {
    let root = tempfile::tempdir().unwrap();
    let (a_dir, a_fp) = identity(root.path(), "agency-a");
    let (b_dir, b_fp) = identity(root.path(), "agency-b");
    let a: Vec<String> = (0..3000).map(|i| format!("MSCU{i:07}")).collect();
    let b: Vec<String> = (1000..3500).map(|i| format!("MSCU{i:07}")).collect();
    let (a_in, b_in) = (root.path().join("a.txt"), root.path().join("b.txt"));
    write_items(&a_in, &a);
    write_items(&b_in, &b);
    let server = Server::start(&b_dir, &a_fp, &b_in, &["--protocol", "dh"]);
    // Buckets of 2^10: 3,000 items make 3 of them (the smaller side's --max-bucket is agreed).
    let out = Command::new(BIN)
        .args(["match", "--json", "--connect", &server.addr, "--identity"])
        .arg(&a_dir)
        .args([
            "--peer",
            &b_fp,
            "--policy",
            open_policy(),
            "--protocol",
            "dh",
        ])
        .args(["--max-bucket", "1024", "--input", path_str(&a_in)])
        .args(["--output", path_str(&root.path().join("matches.csv"))])
        .output()
        .unwrap();
    // Checked first: a client that failed before connecting leaves the server waiting (it is
    // killed when dropped).
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (ok, _, s_err) = server.finish();
    assert!(ok, "{s_err}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        stdout.lines().count(),
        1,
        "stdout is the summary only: {stdout}"
    );
    let summary: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(summary["buckets"], 3);
    assert_eq!(summary["matches"], 2000);
    // What each side sent: every bucket padded to its side's bound, not the announced count.
    let sent = |n: usize| 3 * blindmatch::protocol::bucket::bucket_bound(n, 3) as u64;
    assert_eq!(
        (summary["own_sent"].as_u64(), summary["peer_sent"].as_u64()),
        (Some(sent(3000)), Some(sent(2500)))
    );
    assert!(sent(3000) > 3000);
    let events: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.get("progress").is_some())
        .collect();
    let kinds: Vec<&str> = events
        .iter()
        .map(|v| v["progress"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"start"));
    assert_eq!(kinds.last(), Some(&"finish"));
    assert!(kinds.contains(&"phase"));
    let buckets: Vec<(u64, u64)> = events
        .iter()
        .filter(|v| v["progress"] == "bucket")
        .map(|v| {
            (
                v["finished"].as_u64().unwrap(),
                v["total"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(buckets, [(1, 3), (2, 3), (3, 3)]);
    let last = events.iter().rfind(|v| v["progress"] == "bucket").unwrap();
    assert_eq!(last["eta_ms"], 0, "nothing left after the last bucket");
}
