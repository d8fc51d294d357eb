//! OPRF-PSI over loopback mutual TLS with the real binary: the receiver (`match`) learns the
//! plaintext intersection, labeled mode gives exactly the matched rows' payload columns,
//! `--protocol auto` picks by the set sizes, explicit protocol mismatches are refused on both
//! sides, a precomputed index is served only where the policy allows key reuse (and in labeled
//! mode gives the same payload columns), and a sender announcing fewer tags than it sends is
//! rejected.

#[allow(clippy::unwrap_used)]
mod net_common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use net_common::*;

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("not a JSON summary ({e}): {s}"))
}

/// Column `col` of each row of a CSV output.
fn column(path: &Path, col: &str) -> Vec<String> {
    let mut r = csv::Reader::from_path(path).expect("output CSV");
    let i = r
        .headers()
        .expect("header")
        .iter()
        .position(|h| h == col)
        .unwrap_or_else(|| panic!("no column {col} in {}", path.display()));
    r.records()
        .map(|rec| rec.expect("row")[i].to_string())
        .collect()
}

fn ints(from: usize, n: usize, step: usize) -> Vec<String> {
    (0..n)
        .map(|i| format!("item-{}", from + i * step))
        .collect()
}

fn intersection(a: &[String], b: &[String]) -> BTreeSet<String> {
    let sb: BTreeSet<&String> = b.iter().collect();
    a.iter().filter(|x| sb.contains(x)).cloned().collect()
}

/// A policy: the network tests' open one, with the labeled mode (payloads padded to 256
/// bytes), and `revealable_columns` and `extra` lines changed.
fn policy(dir: &Path, name: &str, revealable: &str, extra: &str) -> String {
    let text = net_common::OPEN_POLICY_TEXT
        .replace(
            "modes = [\"intersection\", \"mutual\", \"cardinality\"]",
            "modes = [\"intersection\", \"mutual\", \"cardinality\", \"labeled\"]\n\
             payload_len = 256",
        )
        .replace(
            "revealable_columns = []",
            &format!("revealable_columns = [{revealable}]"),
        )
        + extra;
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write policy");
    path.to_str().expect("utf-8 path").to_string()
}

struct Run {
    ok_match: bool,
    ok_serve: bool,
    match_out: String,
    match_err: String,
    serve_out: String,
    serve_err: String,
}

fn session(
    root: &Path,
    (a_in, b_in): (&Path, &Path),
    out: &Path,
    serve_args: &[&str],
    match_args: &[&str],
) -> Run {
    let (a_dir, a_fp) = identity(root, "agency-a");
    let (b_dir, b_fp) = identity(root, "agency-b");
    let server = Server::start(&b_dir, &a_fp, b_in, serve_args);
    let m = run_match(&a_dir, &b_fp, &server.addr, a_in, out, match_args);
    let (ok_serve, serve_out, serve_err) = server.finish();
    Run {
        ok_match: m.status.success(),
        ok_serve,
        match_out: String::from_utf8_lossy(&m.stdout).to_string(),
        match_err: String::from_utf8_lossy(&m.stderr).to_string(),
        serve_out,
        serve_err,
    }
}

#[test]
fn oprf_receiver_output_equals_the_plaintext_intersection() {
    let root = tempfile::tempdir().expect("tempdir");
    let a = ints(0, 300, 3);
    let mut b = ints(0, 500, 5);
    b.push(b[3].clone());
    let expected = intersection(&a, &b);
    assert!(expected.len() > 10);
    let (a_in, b_in) = (root.path().join("a.txt"), root.path().join("b.txt"));
    write_items(&a_in, &a);
    write_items(&b_in, &b);
    let out = root.path().join("out.csv");
    let opts = ["--protocol", "oprf", "--json", "--chunk-size", "64"];
    let r = session(root.path(), (&a_in, &b_in), &out, &opts, &opts);
    assert!(r.ok_match && r.ok_serve, "{}\n{}", r.match_err, r.serve_err);
    let got: BTreeSet<String> = column(&out, "matched_values").into_iter().collect();
    assert_eq!(got, expected);
    let (ja, jb) = (json(&r.match_out), json(&r.serve_out));
    assert_eq!(ja["protocol"], "oprf");
    assert_eq!(jb["protocol"], "oprf");
    assert_eq!(ja["session_id"], jb["session_id"]);
    assert_eq!(ja["matches"], expected.len());
    assert_eq!(ja["peer_sent"], 500, "the receiver learns n_s");
    assert_eq!(jb["peer_sent"], 300, "the sender learns n_r");
    assert!(jb["matches"].is_null(), "the sender learns no matches");
}

#[test]
fn auto_picks_oprf_above_eight_times_and_dh_otherwise() {
    let root = tempfile::tempdir().expect("tempdir");
    let small = ints(0, 20, 7);
    for (n_big, want) in [(161, "oprf"), (160, "dh"), (100, "dh")] {
        let big = ints(0, n_big, 1);
        let expected = intersection(&small, &big);
        // Both directions: the rule depends on the two sizes only.
        for (a, b) in [(&small, &big), (&big, &small)] {
            let dir = tempfile::tempdir_in(root.path()).expect("tempdir");
            let (a_in, b_in) = (dir.path().join("a.txt"), dir.path().join("b.txt"));
            write_items(&a_in, a);
            write_items(&b_in, b);
            let out = dir.path().join("out.csv");
            let r = session(dir.path(), (&a_in, &b_in), &out, &["--json"], &["--json"]);
            assert!(r.ok_match && r.ok_serve, "{}\n{}", r.match_err, r.serve_err);
            let (ja, jb) = (json(&r.match_out), json(&r.serve_out));
            assert_eq!(ja["protocol"], want, "{} vs {}", a.len(), b.len());
            assert_eq!(jb["protocol"], want, "{} vs {}", a.len(), b.len());
            let got: BTreeSet<String> = column(&out, "matched_values").into_iter().collect();
            assert_eq!(got, expected);
        }
    }
}

/// A sender file `s.csv` (`imo,vessel,voyage,owner`, `n` rows) and a receiver file `r.csv`
/// (`imo`, every `step`-th IMO up to `m` of them) in `d`: the receiver's IMOs and, per sender
/// IMO, its (vessel, voyage).
fn labeled_files(
    d: &Path,
    n: usize,
    m: usize,
    step: usize,
) -> (Vec<String>, BTreeMap<String, (String, String)>) {
    let mut sender = String::from("imo,vessel,voyage,owner\n");
    let mut truth = BTreeMap::new();
    for i in 0..n {
        let (imo, vessel, voyage) = (format!("IMO{i:04}"), format!("SHIP {i}"), format!("{i}W"));
        sender.push_str(&format!("{imo},{vessel},{voyage},secret-{i}\n"));
        truth.insert(imo, (vessel, voyage));
    }
    std::fs::write(d.join("s.csv"), sender).expect("write");
    let receiver: Vec<String> = (0..m).map(|i| format!("IMO{:04}", i * step)).collect();
    std::fs::write(d.join("r.csv"), format!("imo\n{}\n", receiver.join("\n"))).expect("write");
    (receiver, truth)
}

/// The labeled output `out` holds exactly the receiver's matched rows, in order, each with the
/// sender's vessel and voyage for it, and nothing of the sender's other columns.
fn assert_labeled_output(
    out: &Path,
    receiver: &[String],
    truth: &BTreeMap<String, (String, String)>,
) {
    let imos = column(out, "imo");
    let expected: Vec<String> = receiver
        .iter()
        .filter(|x| truth.contains_key(*x))
        .cloned()
        .collect();
    assert!(!expected.is_empty());
    assert_eq!(imos, expected);
    for ((imo, vessel), voyage) in imos
        .iter()
        .zip(column(out, "peer_vessel"))
        .zip(column(out, "peer_voyage"))
    {
        assert_eq!((vessel, voyage), truth[imo].clone(), "{imo}");
    }
    let text = std::fs::read_to_string(out).expect("output");
    assert!(
        !text.contains("owner") && !text.contains("secret"),
        "{text}"
    );
}

#[test]
fn labeled_mode_yields_exactly_the_matched_rows_payload_columns() {
    let root = tempfile::tempdir().expect("tempdir");
    let d = root.path();
    let (receiver, truth) = labeled_files(d, 200, 30, 13);
    let p = policy(d, "p.toml", "\"vessel\", \"voyage\"", "");
    let out = d.join("out.csv");
    let serve = [
        "--mode",
        "labeled",
        "--column",
        "imo",
        "--label-columns",
        "vessel,voyage",
        "--policy",
        &p,
        "--json",
    ];
    let matcher = [
        "--mode", "labeled", "--column", "imo", "--policy", &p, "--json",
    ];
    let r = session(
        d,
        (&d.join("r.csv"), &d.join("s.csv")),
        &out,
        &serve,
        &matcher,
    );
    assert!(r.ok_match && r.ok_serve, "{}\n{}", r.match_err, r.serve_err);
    let ja = json(&r.match_out);
    assert_eq!(ja["protocol"], "oprf");
    assert_eq!(ja["mode"], "labeled");
    assert_eq!(ja["label_failures"], 0);
    assert_labeled_output(&out, &receiver, &truth);

    // A payload column outside the policy's revealable columns is refused before serving.
    let (b_dir, _) = identity(d, "agency-c");
    let refused = Command::new(BIN)
        .args(["--quiet", "serve", "--once", "--listen", "127.0.0.1:0"])
        .arg("--identity")
        .arg(&b_dir)
        .args(["--peer", &"00".repeat(32), "--input"])
        .arg(d.join("s.csv"))
        .args(["--column", "imo", "--mode", "labeled"])
        .args(["--label-columns", "vessel,owner", "--policy", &p, "--json"])
        .output()
        .expect("run serve");
    assert_eq!(refused.status.code(), Some(5), "a policy refusal");
    assert_eq!(
        error_code(&String::from_utf8_lossy(&refused.stdout)).as_deref(),
        Some("policy_refused.revealable_columns")
    );
    // The message names the column, so the operator knows which to drop.
    assert!(String::from_utf8_lossy(&refused.stderr).contains("`owner`"));
}

#[test]
fn explicit_protocol_mismatch_refused_on_both_sides() {
    for (s, m) in [("dh", "oprf"), ("oprf", "dh")] {
        let root = tempfile::tempdir().expect("tempdir");
        let (a_in, b_in) = (root.path().join("a.txt"), root.path().join("b.txt"));
        write_items(&a_in, &ints(0, 10, 1));
        write_items(&b_in, &ints(0, 10, 2));
        let out = root.path().join("out.csv");
        let r = session(
            root.path(),
            (&a_in, &b_in),
            &out,
            &["--protocol", s, "--json"],
            &["--protocol", m, "--json"],
        );
        assert!(!r.ok_match && !r.ok_serve);
        for (stdout, err) in [(&r.match_out, &r.match_err), (&r.serve_out, &r.serve_err)] {
            assert_eq!(
                error_code(stdout).as_deref(),
                Some("incompatible.protocol"),
                "{err}"
            );
        }
        assert!(!out.exists());
    }
}

/// Runs `blindmatch index` in `d` with `args`, into `d/idx` under the passphrase `d/pass`
/// (written here), and checks it succeeded.
fn build_index(d: &Path, args: &[&str]) {
    write_pass(&d.join("pass"));
    let built = Command::new(BIN)
        .current_dir(d)
        .args(["--quiet", "index"])
        .args(args)
        .args(["--out", "idx", "--passphrase-file", "pass"])
        .output()
        .expect("run index");
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
}

const PASS: &str = "c2VjcmV0LXRlc3QtcGFzc3BocmFzZS0zMi1ieXRlcy1sb25n\n";

/// Writes the passphrase file with mode 0600 (one others may read is refused).
fn write_pass(path: &std::path::Path) {
    std::fs::write(path, PASS).expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
}

#[test]
fn serving_a_precomputed_index_needs_key_reuse_in_the_policy() {
    let root = tempfile::tempdir().expect("tempdir");
    let d = root.path();
    let big = ints(0, 2000, 1);
    let small = ints(5, 40, 97);
    let expected = intersection(&small, &big);
    let (a_in, b_in) = (d.join("a.txt"), d.join("b.txt"));
    write_items(&a_in, &small);
    write_items(&b_in, &big);
    build_index(d, &["--input", "b.txt"]);
    let (a_dir, a_fp) = identity(d, "agency-a");
    let (b_dir, b_fp) = identity(d, "agency-b");
    let idx = d.join("idx");
    let pass = d.join("pass");
    let serve_index = |policy: Option<&str>| {
        let mut c = Command::new(BIN);
        c.args(["--quiet", "serve", "--once", "--listen", "127.0.0.1:0"])
            .arg("--identity")
            .arg(&b_dir)
            .args(["--peer", &a_fp, "--json", "--index"])
            .arg(&idx)
            .arg("--passphrase-file")
            .arg(&pass);
        c.args(["--policy", policy.unwrap_or(net_common::open_policy())]);
        c
    };

    // A policy that does not allow one key across sessions: refused, and named.
    let refused = serve_index(None).output().expect("run serve");
    assert!(!refused.status.success());
    assert_eq!(
        error_code(&String::from_utf8_lossy(&refused.stdout)).as_deref(),
        Some("policy_refused.allow_key_reuse")
    );

    // Allowed: the index is served; `match` with the default `auto` follows.
    let p = policy(d, "reuse.toml", "", "allow_key_reuse = true\n");
    let server = Server::from_command(serve_index(Some(&p)));
    let out = d.join("out.csv");
    let m = run_match(
        &a_dir,
        &b_fp,
        &server.addr,
        &a_in,
        &out,
        &["--policy", &p, "--json"],
    );
    let (ok, s_out, s_err) = server.finish();
    assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
    assert!(ok, "{s_err}");
    let got: BTreeSet<String> = column(&out, "matched_values").into_iter().collect();
    assert_eq!(got, expected);
    assert_eq!(
        json(&String::from_utf8_lossy(&m.stdout))["protocol"],
        "oprf"
    );
    assert_eq!(json(&s_out)["own_sent"], 2000);

    // A peer insisting on DH-PSI cannot use the index.
    let server = Server::from_command(serve_index(Some(&p)));
    let m = run_match(
        &a_dir,
        &b_fp,
        &server.addr,
        &a_in,
        &d.join("out-dh.csv"),
        &["--policy", &p, "--protocol", "dh"],
    );
    let (ok, s_out, s_err) = server.finish();
    assert!(!m.status.success() && !ok);
    assert_eq!(
        error_code(&s_out).as_deref(),
        Some("incompatible.protocol"),
        "{s_err}"
    );
}

/// The unbalanced labeled path of the README: `index --label-columns`, `serve --index --mode
/// labeled`, `match --mode labeled`: the receiver gets exactly its matches' payload columns.
#[test]
fn labeled_mode_over_a_precomputed_index() {
    let root = tempfile::tempdir().expect("tempdir");
    let d = root.path();
    let (receiver, truth) = labeled_files(d, 300, 25, 17);
    build_index(
        d,
        &[
            "--input",
            "s.csv",
            "--column",
            "imo",
            "--label-columns",
            "vessel,voyage",
        ],
    );
    let p = policy(
        d,
        "p.toml",
        "\"vessel\", \"voyage\"",
        "allow_key_reuse = true\n",
    );
    let (a_dir, a_fp) = identity(d, "agency-a");
    let (b_dir, b_fp) = identity(d, "agency-b");
    let mut serve = Command::new(BIN);
    serve
        .args(["--quiet", "serve", "--once", "--listen", "127.0.0.1:0"])
        .arg("--identity")
        .arg(&b_dir)
        .args(["--peer", &a_fp, "--json", "--mode", "labeled", "--index"])
        .arg(d.join("idx"))
        .arg("--passphrase-file")
        .arg(d.join("pass"))
        .args(["--policy", &p]);
    let server = Server::from_command(serve);
    let out = d.join("out.csv");
    let m = run_match(
        &a_dir,
        &b_fp,
        &server.addr,
        &d.join("r.csv"),
        &out,
        &[
            "--column", "imo", "--mode", "labeled", "--policy", &p, "--json",
        ],
    );
    let (ok, _, s_err) = server.finish();
    assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
    assert!(ok, "{s_err}");
    let summary = json(&String::from_utf8_lossy(&m.stdout));
    assert_eq!(summary["protocol"], "oprf");
    assert_eq!(summary["mode"], "labeled");
    assert_eq!(summary["label_failures"], 0);
    assert_labeled_output(&out, &receiver, &truth);
}
