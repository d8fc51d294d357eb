//! The `check` and `generate` subcommands, run as a user would.

use std::process::Command;

fn blindmatch(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_blindmatch"))
        .args(args)
        .output()
        .expect("run");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn generate_then_check_reports_every_record_valid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = dir.path().to_str().expect("utf8 path");
    let (ok, stdout, stderr) = blindmatch(&[
        "generate",
        "--kind",
        "container",
        "--count",
        "40",
        "--overlap",
        "7",
        "--seed",
        "5",
        "--out",
        out,
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("7 shared"), "{stdout}");
    let truth = std::fs::read_to_string(dir.path().join("truth.csv")).expect("truth");
    assert_eq!(truth.lines().count(), 8);
    let a = dir.path().join("a.csv");
    let mapping = dir.path().join("mapping.toml");
    let (ok, stdout, stderr) = blindmatch(&[
        "check",
        "--input",
        a.to_str().expect("utf8"),
        "--mapping",
        mapping.to_str().expect("utf8"),
        "--strict",
    ]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.contains("40 rows (0 unreadable), 40 unique items"),
        "{stdout}"
    );
    // Same seed, same bytes.
    let first = std::fs::read(&a).expect("a");
    let again = tempfile::tempdir().expect("tempdir");
    let (ok, _, _) = blindmatch(&[
        "generate",
        "--kind",
        "container",
        "--count",
        "40",
        "--overlap",
        "7",
        "--seed",
        "5",
        "--out",
        again.path().to_str().expect("utf8"),
    ]);
    assert!(ok);
    assert_eq!(std::fs::read(again.path().join("a.csv")).expect("a"), first);
}

#[test]
fn check_writes_rejects_and_strict_fails_with_the_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.csv");
    std::fs::write(&input, "imo\nIMO 9187629\n9187628\n").expect("write");
    let rejects = dir.path().join("rejects.csv");
    let (ok, stdout, stderr) = blindmatch(&[
        "check",
        "-i",
        input.to_str().expect("utf8"),
        "-k",
        "imo:imo_ship",
        "--rejects",
        rejects.to_str().expect("utf8"),
    ]);
    assert!(ok, "{stderr}");
    assert!(stdout.contains("imo:imo_ship"), "{stdout}");
    let r = std::fs::read_to_string(&rejects).expect("rejects");
    assert!(r.contains("3,imo,9187628,"), "{r}");
    let (ok, _, stderr) = blindmatch(&[
        "check",
        "-i",
        input.to_str().expect("utf8"),
        "-k",
        "imo:imo_ship",
        "--strict",
    ]);
    assert!(!ok);
    assert!(stderr.contains("in.csv:3:"), "{stderr}");
    let (ok, _, stderr) = blindmatch(&[
        "check",
        "-i",
        input.to_str().expect("utf8"),
        "-k",
        "imo:ship",
    ]);
    assert!(!ok);
    assert!(
        stderr.contains("imo_ship"),
        "the error lists the kinds: {stderr}"
    );
}

#[test]
fn generate_refuses_a_too_small_value_space_at_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let start = std::time::Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_blindmatch"))
        .args([
            "generate",
            "--kind",
            "imo",
            "--count",
            "262144",
            "--overlap",
            "0",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .expect("run");
    assert!(
        start.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(out.status.code(), Some(3), "an input error");
    assert!(!dir.path().join("a.csv").exists());
    let spec = blindmatch::generate::GenSpec {
        kind: blindmatch::generate::GenKind::Imo,
        count: 262_144,
        overlap: 0,
        seed: 1,
    };
    assert!(matches!(
        blindmatch::generate::check_spec(&spec),
        Err(blindmatch::Error::Input(e)) if e.reason == blindmatch::error::InputReason::TooLarge
    ));
    // Within the limit it works.
    assert!(
        blindmatch::generate::check_spec(&blindmatch::generate::GenSpec {
            count: 75_000,
            ..spec
        })
        .is_ok()
    );
}

#[test]
fn streamed_files_are_the_in_memory_dataset() {
    use blindmatch::generate::{generate, write_dataset, write_generated, GenKind, GenSpec};
    let spec = GenSpec {
        kind: GenKind::Person,
        count: 3000,
        overlap: 700,
        seed: 9,
    };
    let (one, two) = (
        tempfile::tempdir().expect("dir"),
        tempfile::tempdir().expect("dir"),
    );
    write_generated(&spec, one.path()).expect("streamed");
    write_dataset(&generate(&spec).expect("generate"), two.path()).expect("in memory");
    for f in ["a.csv", "b.csv", "truth.csv", "mapping.toml"] {
        let read = |d: &std::path::Path| std::fs::read(d.join(f)).expect(f);
        assert!(read(one.path()) == read(two.path()), "{f} differs");
    }
}

#[test]
fn check_json_prints_the_counts_and_the_error_object() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.csv");
    std::fs::write(&input, "imo,ref\n9187629,a\n9187628,b\n9187629,c\n,d\n").expect("write");
    let path = input.to_str().expect("utf8");
    let (ok, stdout, stderr) = blindmatch(&["check", "--json", "-i", path, "-k", "imo:imo_ship"]);
    assert!(ok, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    let spec =
        blindmatch::records::InputSpec::new(&input, vec!["imo:imo_ship".parse().expect("key")]);
    let recs = blindmatch::records::load(&spec).expect("load");
    let s = recs.summary();
    assert_eq!(v["rows"], s.rows);
    assert_eq!(v["unique_items"], s.unique_items);
    assert_eq!(v["rejected"], recs.rejects().len());
    assert_eq!(v["keys"][0]["accepted"], s.keys[0].accepted);
    assert_eq!(v["keys"][0]["duplicates"], s.keys[0].duplicates);
    assert_eq!(v["keys"][0]["empty"], s.keys[0].empty);
    assert_eq!(v["rejected_by_reason"]["value"], recs.rejects().len());
    // On failure: the error object, as match and serve print it.
    let (ok, stdout, _) = blindmatch(&["check", "--json", "-i", path, "-k", "nope:imo_ship"]);
    assert!(!ok);
    let v: serde_json::Value = serde_json::from_str(stdout.trim()).expect("error object");
    assert_eq!(v["error"]["code"], "config.keys");
}
