//! Rejected input values in `match` and `serve`: one summary instead of a line per value,
//! every one in `--rejects FILE`, "every value was rejected" as its own error, and the options
//! the messages name are options of the command.

#[allow(clippy::unwrap_used)]
mod net_common;

use std::path::Path;
use std::process::{Command, Output};

use blindmatch::cli::Cli;
use clap::Parser;
use net_common::{identity, output_code as code, path_str as s, BIN};

/// `n` invalid IMO numbers (wrong check digit) and `valid` valid ones.
fn imos(dir: &Path, n: usize, valid: &[&str]) -> std::path::PathBuf {
    let mut text = String::from("imo\n");
    for i in 0..n {
        // 9000000 + i with a wrong last digit: the check digit of 900000x is never x+1 for all.
        let base = format!("{:06}", 900_000 + i);
        let digits: Vec<u32> = base.chars().map(|c| c.to_digit(10).unwrap_or(0)).collect();
        let sum: u32 = digits.iter().zip((2..=7).rev()).map(|(d, w)| d * w).sum();
        let wrong = (sum % 10 + 1) % 10;
        text.push_str(&format!("{base}{wrong}\n"));
    }
    for v in valid {
        text.push_str(v);
        text.push('\n');
    }
    let path = dir.join("ships.csv");
    std::fs::write(&path, text).expect("write");
    path
}

fn match_nowhere(id: &Path, input: &Path, extra: &[&str], quiet_json: bool) -> Output {
    let fp = "ab".repeat(32);
    let mut cmd = Command::new(BIN);
    cmd.arg("match");
    if quiet_json {
        cmd.arg("--json");
    }
    cmd.args(["--connect", "127.0.0.1:9", "--identity"])
        .arg(id)
        .args(["--peer", &fp, "--policy", net_common::open_policy()])
        .args(["--input", s(input), "--key", "imo:imo_ship"])
        .args(extra)
        .output()
        .expect("run")
}

#[test]
fn match_summarises_rejects_and_writes_them_all() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (id, _) = identity(dir.path(), "agency-a");
    let input = imos(dir.path(), 60, &["9074729", "9187629"]);
    let out_csv = dir.path().join("out.csv");
    let out = match_nowhere(&id, &input, &["--output", s(&out_csv)], false);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Far fewer lines than rejects: a summary, not one line each.
    assert!(stderr.lines().count() < 15, "{stderr}");
    let rejects = dir.path().join("rejects.csv");
    let out = match_nowhere(
        &id,
        &input,
        &["--output", s(&out_csv), "--rejects", s(&rejects)],
        false,
    );
    assert!(String::from_utf8_lossy(&out.stderr).lines().count() < 15);
    let mut r = csv::Reader::from_path(&rejects).expect("rejects");
    assert_eq!(
        r.headers().expect("header").iter().collect::<Vec<_>>(),
        ["line", "column", "value", "reason"]
    );
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.expect("row")).collect();
    // Every rejected value, as `check` counts them.
    let spec =
        blindmatch::records::InputSpec::new(&input, vec!["imo:imo_ship".parse().expect("key")]);
    let loaded = blindmatch::records::load(&spec).expect("load");
    assert_eq!(rows.len(), loaded.rejects().len());
    assert_eq!(rows.len(), 60);
    assert_eq!(&rows[0][0], "2");
}

#[test]
fn every_value_rejected_is_said_so_not_a_set_size_refusal() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (id, fp) = identity(dir.path(), "agency-a");
    let input = imos(dir.path(), 8, &[]);
    let out_csv = dir.path().join("out.csv");
    let out = match_nowhere(&id, &input, &["--output", s(&out_csv)], true);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(code(&out).as_deref(), Some("input.empty"));
    // serve too, and its --rejects is written before it refuses.
    let rejects = dir.path().join("serve-rejects.csv");
    let out = Command::new(BIN)
        .args([
            "serve",
            "--once",
            "--json",
            "--listen",
            "127.0.0.1:0",
            "--identity",
        ])
        .arg(&id)
        .args(["--peer", &fp, "--policy", net_common::open_policy()])
        .args(["--input", s(&input), "--key", "imo:imo_ship"])
        .args(["--rejects", s(&rejects)])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(code(&out).as_deref(), Some("input.empty"));
    let n = csv::Reader::from_path(&rejects)
        .expect("rejects")
        .records()
        .count();
    assert_eq!(n, 8);
}

#[test]
fn every_command_reading_input_takes_rejects_which_the_strict_hint_names() {
    let fp = "ab".repeat(32);
    let runs: [&[&str]; 4] = [
        &["check"],
        &["index", "--out", "idx", "--passphrase-file", "pass"],
        &[
            "match",
            "--identity",
            "a",
            "--peer",
            &fp,
            "--connect",
            "h:1",
            "--output",
            "o.csv",
        ],
        &[
            "serve",
            "--identity",
            "b",
            "--peer",
            &fp,
            "--listen",
            "127.0.0.1:0",
        ],
    ];
    for head in runs {
        let argv: Vec<&str> = ["blindmatch"]
            .iter()
            .chain(head)
            .chain(&["-i", "x.csv", "-k", "imo:imo_ship", "--rejects", "r.csv"])
            .copied()
            .collect();
        assert!(
            Cli::try_parse_from(&argv).is_ok(),
            "{}: no --rejects",
            head[0]
        );
    }
    // The --strict failure is about the `strict` setting, and the command line's hint for
    // it names the flag that writes the rejects.
    let dir = tempfile::tempdir().expect("tempdir");
    let input = imos(dir.path(), 1, &[]);
    let mut spec =
        blindmatch::records::InputSpec::new(&input, vec!["imo:imo_ship".parse().expect("key")]);
    spec.strict = true;
    match blindmatch::records::load(&spec) {
        Err(blindmatch::Error::Input(e)) => {
            assert_eq!(e.reason, blindmatch::error::InputReason::Value);
            assert_eq!(e.setting, Some(blindmatch::error::Setting::Strict));
        }
        other => panic!("{other:?}"),
    }
    let err = blindmatch::records::load(&spec).expect_err("strict");
    assert!(blindmatch::cli::hint::hint(&err).is_some());
}

/// The library's strict failure names the `strict` setting; the command line adds the flag
/// (its hint for that setting) on stderr and in the `--json` error object.
#[test]
fn the_strict_failure_carries_the_command_lines_hint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (id, _) = identity(dir.path(), "agency-a");
    let input = imos(dir.path(), 2, &["9074729"]);
    let out_csv = dir.path().join("out.csv");
    let out = match_nowhere(&id, &input, &["--strict", "--output", s(&out_csv)], true);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(code(&out).as_deref(), Some("input.value"));
    let mut spec =
        blindmatch::records::InputSpec::new(&input, vec!["imo:imo_ship".parse().expect("key")]);
    spec.strict = true;
    let err = blindmatch::records::load(&spec).expect_err("strict");
    let want = blindmatch::cli::hint::hint(&err).expect("a hint for `strict`");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let obj: serde_json::Value = stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .find(|v: &serde_json::Value| v.get("error").is_some())
        .expect("an error object");
    assert_eq!(obj["error"]["hint"].as_str(), Some(want));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr
            .lines()
            .any(|l| l == format!("blindmatch: hint: {want}")),
        "{stderr}"
    );
}
