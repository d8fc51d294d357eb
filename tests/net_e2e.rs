//! End to end over 127.0.0.1 with two real processes (`serve` and `match`).
#![allow(clippy::unwrap_used)]

mod net_common;

use std::collections::BTreeSet;

use net_common::*;

fn sets() -> (Vec<String>, Vec<String>, BTreeSet<String>) {
    let a: Vec<String> = (0..300)
        .map(|i| format!("IMO{:07}", 9_000_000 + i * 3))
        .collect();
    let mut b: Vec<String> = (0..500)
        .map(|i| format!("IMO{:07}", 9_000_000 + i * 5))
        .collect();
    b.push(b[0].clone()); // a duplicate
    let sa: BTreeSet<String> = a.iter().cloned().collect();
    let sb: BTreeSet<String> = b.iter().cloned().collect();
    let both = sa.intersection(&sb).cloned().collect();
    (a, b, both)
}

/// The first column (the original value) of the matched rows written.
fn lines(path: &std::path::Path) -> BTreeSet<String> {
    let mut r = csv::Reader::from_path(path).unwrap();
    r.records().map(|rec| rec.unwrap()[0].to_string()).collect()
}

fn json(s: &str) -> serde_json::Value {
    serde_json::from_str(s.lines().last().unwrap_or("")).unwrap_or_else(|e| panic!("{e}: {s}"))
}

#[test]
fn every_mode_end_to_end() {
    let root = tempfile::tempdir().unwrap();
    let (a_dir, a_fp) = identity(root.path(), "agency-a");
    let (b_dir, b_fp) = identity(root.path(), "agency-b");
    let (a, b, expected) = sets();
    assert!(expected.len() > 10);
    let a_in = root.path().join("a.txt");
    let b_in = root.path().join("b.txt");
    write_items(&a_in, &a);
    write_items(&b_in, &b);
    // `auto` picks DH-PSI for these sizes; VOLE-PSI is asked for by name.
    for (mode, protocol, ran) in [
        ("intersection", "auto", "dh"),
        ("mutual", "auto", "dh"),
        ("cardinality", "auto", "dh"),
        ("intersection", "vole", "vole"),
        ("mutual", "vole", "vole"),
    ] {
        let a_out = root.path().join(format!("a-{mode}-{protocol}.csv"));
        let b_out = root.path().join(format!("b-{mode}-{protocol}.csv"));
        let b_out_s = b_out.to_str().unwrap();
        let server = Server::start(
            &b_dir,
            &a_fp,
            &b_in,
            &[
                "--mode",
                mode,
                "--protocol",
                protocol,
                "--json",
                "--output",
                b_out_s,
                "--chunk-size",
                "64",
            ],
        );
        let out = run_match(
            &a_dir,
            &b_fp,
            &server.addr,
            &a_in,
            &a_out,
            &[
                "--mode",
                mode,
                "--protocol",
                protocol,
                "--json",
                "--chunk-size",
                "64",
            ],
        );
        let (ok, s_out, s_err) = server.finish();
        assert!(
            out.status.success(),
            "{mode}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(ok, "{mode}: {s_err}");
        let ja = json(&String::from_utf8_lossy(&out.stdout));
        let jb = json(&s_out);
        assert_eq!(ja["session_id"], jb["session_id"]);
        assert_eq!(
            (&ja["protocol"], &jb["protocol"]),
            (&ran.into(), &ran.into())
        );
        assert_eq!(ja["peer_fingerprint"], b_fp.as_str());
        assert_eq!(jb["peer_fingerprint"], a_fp.as_str());
        assert_eq!(ja["peer_sent"], 500);
        assert_eq!(jb["peer_sent"], 300);
        assert_eq!(jb["own_unique"], 500); // 501 rows, one duplicate
        assert_eq!(jb["duplicates"], 1, "the duplicate row is counted");
        assert_eq!(ja["duplicates"], 0);
        match mode {
            "intersection" => {
                assert_eq!(lines(&a_out), expected);
                assert_eq!(ja["matches"], expected.len());
                assert!(jb["matches"].is_null() && jb["cardinality"].is_null());
                assert!(!b_out.exists());
            }
            "mutual" => {
                assert_eq!(lines(&a_out), expected);
                assert_eq!(lines(&b_out), expected);
            }
            _ => {
                assert_eq!(ja["cardinality"], expected.len());
                assert!(ja["matches"].is_null());
                assert!(!a_out.exists() && !b_out.exists());
            }
        }
    }
}

#[test]
fn wrong_or_unpinned_certificate_refused_on_both_sides() {
    let root = tempfile::tempdir().unwrap();
    let (a_dir, a_fp) = identity(root.path(), "agency-a");
    let (b_dir, b_fp) = identity(root.path(), "agency-b");
    let (_c_dir, c_fp) = identity(root.path(), "agency-c");
    let input = root.path().join("items.txt");
    write_items(&input, &["x".to_string(), "y".to_string()]);
    let out_file = root.path().join("out.csv");

    // The server pins C, A connects.
    let server = Server::start(&b_dir, &c_fp, &input, &["--json"]);
    let out = run_match(&a_dir, &b_fp, &server.addr, &input, &out_file, &[]);
    let (ok, s_out, s_err) = server.finish();
    assert!(!out.status.success());
    assert!(!ok);
    assert_eq!(
        error_code(&s_out).as_deref(),
        Some("tls.peer_refused"),
        "{s_err}"
    );
    assert!(
        s_err.contains(&a_fp),
        "server must name the fingerprint seen: {s_err}"
    );
    assert!(!String::from_utf8_lossy(&out.stderr).is_empty());
    assert!(!out_file.exists());

    // The client pins C, B serves.
    let server = Server::start(&b_dir, &a_fp, &input, &[]);
    let out = run_match(&a_dir, &c_fp, &server.addr, &input, &out_file, &["--json"]);
    let (ok, _, _) = server.finish();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success());
    assert!(!ok);
    assert_eq!(
        error_code(&String::from_utf8_lossy(&out.stdout)).as_deref(),
        Some("tls.peer_refused"),
        "{err}"
    );
    assert!(
        err.contains(&b_fp),
        "client must name the fingerprint seen: {err}"
    );
    assert!(!out_file.exists());
}

#[test]
fn policy_and_mode_mismatch_refused_on_both_sides() {
    let root = tempfile::tempdir().unwrap();
    let (a_dir, a_fp) = identity(root.path(), "agency-a");
    let (b_dir, b_fp) = identity(root.path(), "agency-b");
    let input = root.path().join("items.txt");
    write_items(&input, &["x".to_string(), "y".to_string()]);
    let p1 = root.path().join("p1.toml");
    let p2 = root.path().join("p2.toml");
    // Two valid policies that differ only in their name: the digests differ.
    let default = std::fs::read_to_string("examples/policy-default.toml").unwrap();
    assert!(default.contains("name = \"blindmatch default policy\""));
    std::fs::write(&p1, default.replace("default policy", "policy one")).unwrap();
    std::fs::write(&p2, default.replace("default policy", "policy two")).unwrap();
    let out_file = root.path().join("out.csv");
    let cases: [(&[&str], &[&str], &str); 2] = [
        (
            &["--policy", p1.to_str().unwrap()],
            &["--policy", p2.to_str().unwrap()],
            "incompatible.policy_digest",
        ),
        (
            &["--mode", "mutual"],
            &["--mode", "cardinality"],
            "incompatible.mode",
        ),
    ];
    for (server_args, client_args, what) in cases {
        let server = Server::start(&b_dir, &a_fp, &input, &[server_args, &["--json"]].concat());
        let out = run_match(
            &a_dir,
            &b_fp,
            &server.addr,
            &input,
            &out_file,
            &[client_args, &["--json"]].concat(),
        );
        let (ok, s_out, s_err) = server.finish();
        let c_err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!out.status.success() && !ok);
        assert_eq!(out.status.code(), Some(7), "incompatible peers exit with 7");
        let c_code = error_code(&String::from_utf8_lossy(&out.stdout));
        assert_eq!(c_code.as_deref(), Some(what), "client: {c_err}");
        assert_eq!(error_code(&s_out).as_deref(), Some(what), "server: {s_err}");
        assert!(!out_file.exists());
    }
}

#[test]
fn serve_handles_several_sessions_then_shuts_down_on_ctrl_c() {
    let root = tempfile::tempdir().unwrap();
    let (a_dir, a_fp) = identity(root.path(), "agency-a");
    let (b_dir, b_fp) = identity(root.path(), "agency-b");
    let (a, b, expected) = sets();
    let a_in = root.path().join("a.txt");
    let b_in = root.path().join("b.txt");
    write_items(&a_in, &a);
    write_items(&b_in, &b);
    let b_out = root.path().join("b.csv");
    let server = Server::start_with(
        &b_dir,
        &a_fp,
        &b_in,
        &["--mode", "mutual", "--output", b_out.to_str().unwrap()],
        false,
    );
    let addr = server.addr.clone();
    // Two concurrent sessions.
    let runs: Vec<_> = (0..2)
        .map(|i| {
            let (a_dir, b_fp, addr, a_in) =
                (a_dir.clone(), b_fp.clone(), addr.clone(), a_in.clone());
            let out = root.path().join(format!("a{i}.csv"));
            // One audit log per process (a log has one writer at a time); the budget state
            // is shared, under its lock.
            let log = root.path().join(format!("a{i}.jsonl"));
            std::thread::spawn(move || {
                let extra = ["--mode", "mutual", "--audit-log", log.to_str().unwrap()];
                let r = run_match(&a_dir, &b_fp, &addr, &a_in, &out, &extra);
                (r, out)
            })
        })
        .collect();
    for h in runs {
        let (r, out) = h.join().unwrap();
        assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stderr));
        assert_eq!(lines(&out), expected);
    }
    let pid = server.child.id().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(kill.success());
    let (ok, _, err) = server.finish();
    assert!(ok, "{err}");
    assert!(
        err.contains("interrupted"),
        "serve says why it stops: {err}"
    );
    // One output per session, named after the session id (serve finishes its sessions,
    // whose outputs are written after the receipt exchange, before it exits).
    let per_session = std::fs::read_dir(root.path())
        .unwrap()
        .filter(|e| {
            let name = e
                .as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .to_string();
            name.starts_with("b.") && name.ends_with(".csv")
        })
        .count();
    assert_eq!(per_session, 2);
}

#[test]
fn demo_finds_the_sdn_vessels_in_the_register() {
    let out = std::process::Command::new(BIN)
        .arg("demo")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    // 27 measured independently (data/README.md); both sides learn it in mutual mode.
    assert!(
        text.contains("Agency A learned that 27 of its 862 items"),
        "{text}"
    );
    assert!(
        text.contains("Agency B learned that 27 of its 12376 items"),
        "{text}"
    );
    assert!(text.contains("IMO 9328900"), "{text}"); // TOUSKA, on both lists
                                                     // Both agencies' signed logs verify: start, peer receipt, end.
    assert!(
        text.contains("audit logs verify (3 entries for A, 3 for B")
            && text.contains("receipts were exchanged"),
        "{text}"
    );
}

/// Issue 13 item 20: `serve --log-level info` logs one line per connection for the operator
/// (journald): the peer's fingerprint, the outcome (`completed`, or the error's stable code)
/// and the duration.
#[test]
fn serve_logs_one_line_per_connection_with_peer_outcome_and_duration() {
    let root = tempfile::tempdir().unwrap();
    let (a_dir, a_fp) = identity(root.path(), "agency-a");
    let (b_dir, b_fp) = identity(root.path(), "agency-b");
    let (c_dir, _) = identity(root.path(), "agency-c");
    let (a, b, _) = sets();
    let (a_in, b_in) = (root.path().join("a.txt"), root.path().join("b.txt"));
    write_items(&a_in, &a);
    write_items(&b_in, &b);
    let server = Server::start_with(&b_dir, &a_fp, &b_in, &["--log-level", "info"], false);
    let out = run_match(
        &a_dir,
        &b_fp,
        &server.addr,
        &a_in,
        &root.path().join("a.csv"),
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // An agency B does not pin: refused in TLS, logged as unauthenticated.
    let refused = run_match(
        &c_dir,
        &b_fp,
        &server.addr,
        &a_in,
        &root.path().join("c.csv"),
        &[],
    );
    assert!(!refused.status.success());
    // The server logs the refused connection when its TLS handshake fails, which may be just
    // after the client gave up: give it a moment before interrupting it.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let pid = server.child.id().to_string();
    let kill = std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap();
    assert!(kill.success());
    let (_, _, stderr) = server.finish();
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("duration_ms="))
        .collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(
        lines[0].contains(&format!("peer=\"{a_fp}\""))
            || lines[0].contains(&format!("peer={a_fp}")),
        "{stderr}"
    );
    assert!(
        lines[0].contains("outcome=\"completed\"") || lines[0].contains("outcome=completed"),
        "{stderr}"
    );
    assert!(
        lines[1].contains("(unauthenticated)") && lines[1].contains("outcome=tls."),
        "{stderr}"
    );
}

/// Issue 13 item 21: `serve --config FILE` takes its options from a TOML file; the command
/// line's options win over the file's.
#[test]
fn serve_takes_its_options_from_a_config_file() {
    let root = tempfile::tempdir().unwrap();
    let (a_dir, a_fp) = identity(root.path(), "agency-a");
    let (b_dir, b_fp) = identity(root.path(), "agency-b");
    let (a, b, expected) = sets();
    let (a_in, b_in) = (root.path().join("a.txt"), root.path().join("b.txt"));
    write_items(&a_in, &a);
    write_items(&b_in, &b);
    let b_out = root.path().join("b.csv");
    let config = root.path().join("serve.toml");
    std::fs::write(
        &config,
        format!(
            "once = true\nlisten = \"127.0.0.1:0\"\nidentity = {:?}\npeer = [{a_fp:?}]\n\
             input = {:?}\npolicy = {:?}\nmode = \"intersection\"\njson = true\n\
             output = {:?}\n",
            b_dir.to_str().unwrap(),
            b_in.to_str().unwrap(),
            net_common::open_policy(),
            b_out.to_str().unwrap(),
        ),
    )
    .unwrap();
    let mut cmd = std::process::Command::new(BIN);
    // --mode on the command line wins over the file's.
    cmd.args(["--quiet", "serve", "--mode", "mutual", "--config"])
        .arg(&config);
    let server = Server::from_command(cmd);
    let a_out = root.path().join("a.csv");
    let out = run_match(
        &a_dir,
        &b_fp,
        &server.addr,
        &a_in,
        &a_out,
        &["--mode", "mutual"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (ok, _, err) = server.finish();
    assert!(ok, "{err}");
    // Mutual mode ran (the command line's), so the responder wrote its matches too.
    assert_eq!(lines(&a_out), expected);
    assert_eq!(lines(&b_out), expected);
}

/// `match --input -`: standard input is copied into `--temp-dir` as it is read, the matched
/// rows are written from that copy, and the copy is gone when the process ends.
#[test]
fn standard_input_is_read_again_from_its_copy() {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let root = tempfile::tempdir().unwrap();
    let (a_dir, a_fp) = identity(root.path(), "agency-a");
    let (b_dir, b_fp) = identity(root.path(), "agency-b");
    let (a, b, expected) = sets();
    let b_in = root.path().join("b.txt");
    write_items(&b_in, &b);
    let temp = root.path().join("scratch");
    std::fs::create_dir(&temp).unwrap();
    let a_out = root.path().join("a.csv");
    let server = Server::start(&b_dir, &a_fp, &b_in, &["--mode", "intersection"]);
    let mut child = Command::new(BIN)
        .args(["--quiet", "match", "--connect", &server.addr, "--identity"])
        .arg(&a_dir)
        .args(["--peer", &b_fp, "--input", "-", "--mode", "intersection"])
        .args([
            "--policy",
            open_policy(),
            "--temp-dir",
            path_str(&temp),
            "--output",
        ])
        .arg(&a_out)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    for item in &a {
        writeln!(stdin, "{item}").unwrap();
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (ok, _, s_err) = server.finish();
    assert!(ok, "{s_err}");
    assert_eq!(lines(&a_out), expected);
    assert_eq!(
        std::fs::read_dir(&temp).unwrap().count(),
        0,
        "the copy is removed"
    );
}
