//! The command line's input options, the same for every subcommand that reads a file, and
//! its behaviour when standard output goes away.

use std::io::Write;
use std::process::{Command, Stdio};

use blindmatch::cli::{Cli, Command as Sub};
use blindmatch::records::{self, Delimiter, Encoding, InputFormat};
use clap::Parser;

const BIN: &str = env!("CARGO_BIN_EXE_blindmatch");

/// The input options every reading subcommand takes, short forms included.
const INPUT: &[&str] = &[
    "-i",
    "ships.csv",
    "-k",
    "imo:imo_ship",
    "--mapping",
    "mapping.toml",
    "--column",
    "ref",
    "--format",
    "csv",
    "--encoding",
    "latin1",
    "--delimiter",
    ";",
    "--no-header",
    "--strict",
];

#[test]
fn check_index_match_and_serve_share_one_set_of_input_options() {
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
            .chain(INPUT)
            .copied()
            .collect();
        let cli = Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{}: {e}", head[0]));
        let input = match &cli.command {
            Sub::Check(a) => &a.input,
            Sub::Index(a) => &a.input,
            Sub::Match(a) => &a.input,
            Sub::Serve(a) => &a.input,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            input.input.as_deref(),
            Some("ships.csv".as_ref()),
            "{}",
            head[0]
        );
        assert_eq!(input.keys.len(), 1);
        assert_eq!(input.format, InputFormat::Csv);
        assert_eq!(input.encoding, Encoding::Latin1);
        assert_eq!(input.delimiter, ";".parse::<Delimiter>().ok());
        assert!(input.no_header && input.strict);
        assert_eq!(input.column.as_deref(), Some("ref"));
    }
}

#[test]
fn the_mapping_generate_writes_is_read_by_match() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(BIN)
        .args([
            "--quiet",
            "generate",
            "--kind",
            "person",
            "--count",
            "30",
            "--overlap",
            "5",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .expect("generate");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let a = dir.path().join("a.csv");
    let mapping = dir.path().join("mapping.toml");
    let fp = "ab".repeat(32);
    let cli = Cli::try_parse_from([
        "blindmatch",
        "match",
        "--identity",
        "a",
        "--peer",
        &fp,
        "--connect",
        "h:1",
        "--output",
        "o.csv",
        "--input",
        a.to_str().expect("utf-8"),
        "--mapping",
        mapping.to_str().expect("utf-8"),
    ])
    .expect("match takes --mapping");
    let Sub::Match(args) = cli.command else {
        panic!("not match")
    };
    let spec = args.input.spec().expect("spec");
    let recs = records::load(&spec).expect("loads");
    assert_eq!(recs.keys().len(), 1);
    assert_eq!(recs.summary().keys[0].accepted, 30);
    assert!(recs.rejects().is_empty());
}

#[test]
fn check_reads_standard_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let rejects = dir.path().join("rejects.csv");
    let mut child = Command::new(BIN)
        .args([
            "check",
            "--input",
            "-",
            "--format",
            "csv",
            "--key",
            "imo:imo_ship",
            "--rejects",
        ])
        .arg(&rejects)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"imo,name\n9074729,A\n9074728,B\n")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut r = csv::Reader::from_path(&rejects).expect("rejects");
    let rows: Vec<csv::StringRecord> = r.records().map(|x| x.expect("row")).collect();
    assert_eq!(rows.len(), 1);
    assert_eq!(
        (&rows[0][0], &rows[0][1], &rows[0][2]),
        ("3", "imo", "9074728")
    );
}

#[test]
fn a_closed_standard_output_is_not_a_panic() {
    for args in [&["policy", "default"][..], &["--help"][..]] {
        let mut child = Command::new(BIN)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn");
        // The reader goes away before the command writes (`blindmatch policy default | true`).
        drop(child.stdout.take());
        let out = child.wait_with_output().expect("wait");
        assert_ne!(out.status.code(), Some(101), "{args:?} panicked");
        assert!(out.status.success(), "{args:?}: {:?}", out.status);
        assert!(
            out.stderr.is_empty(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn a_10_mb_value_is_not_echoed_on_stderr() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("ships.csv");
    let mut body = b"imo\n9074729\n".to_vec();
    body.extend(std::iter::repeat_n(b'9', 10 << 20));
    body.extend_from_slice(b"\n9321483\n");
    std::fs::write(&input, body).expect("write");
    let fp = "ab".repeat(32);
    // `match` reports the rejected values when it loads its input, before it needs an identity.
    let out = Command::new(BIN)
        .args(["match", "--identity"])
        .arg(dir.path().join("no-identity"))
        .args([
            "--peer",
            &fp,
            "--connect",
            "127.0.0.1:9",
            "--key",
            "imo:imo_ship",
            "--output",
        ])
        .arg(dir.path().join("out.csv"))
        .arg("--input")
        .arg(&input)
        .output()
        .expect("run");
    assert_eq!(
        out.status.code(),
        Some(4),
        "no identity: a configuration error"
    );
    // One line for the rejected value and one for the error.
    assert!(
        !out.stderr.is_empty() && out.stderr.len() < 2000,
        "{} bytes on stderr",
        out.stderr.len()
    );
}
