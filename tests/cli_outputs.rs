//! Output files of every subcommand: checked before any work (directory, writability, not the
//! input, not existing unless `--force`), and refused with `input.output_path` (exit 3).

#[allow(clippy::unwrap_used)]
mod net_common;

use std::path::Path;
use std::process::{Command, Output};

use net_common::{identity, match_nowhere, output_code as code, path_str as s, BIN};

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().expect("run")
}

fn items(dir: &Path) -> std::path::PathBuf {
    let input = dir.join("items.txt");
    std::fs::write(&input, "alpha\nbeta\ngamma\n").expect("write");
    input
}

#[test]
fn check_rejects_onto_its_input_is_refused_and_the_input_survives() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("dups.csv");
    let text = "imo\n9074729\n9074728\n";
    std::fs::write(&input, text).expect("write");
    for extra in [&[][..], &["--force"][..]] {
        let mut args = vec![
            "check",
            "--json",
            "-i",
            s(&input),
            "-k",
            "imo:imo_ship",
            "--rejects",
            s(&input),
        ];
        args.extend_from_slice(extra);
        let out = run(&args);
        assert_eq!(out.status.code(), Some(3), "{extra:?}");
        assert_eq!(code(&out).as_deref(), Some("input.output_path"));
        assert_eq!(std::fs::read_to_string(&input).expect("read"), text);
    }
}

#[test]
fn an_existing_output_is_refused_unless_force() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("in.csv");
    std::fs::write(&input, "imo\n9074729\n9074728\n").expect("write");
    let rejects = dir.path().join("rejects.csv");
    std::fs::write(&rejects, "keep me\n").expect("write");
    let check = |force: bool| {
        let mut a = vec![
            "check",
            "--json",
            "-i",
            s(&input),
            "-k",
            "imo:imo_ship",
            "--rejects",
            s(&rejects),
        ];
        if force {
            a.push("--force");
        }
        run(&a)
    };
    let out = check(false);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(code(&out).as_deref(), Some("input.output_path"));
    assert_eq!(
        std::fs::read_to_string(&rejects).expect("read"),
        "keep me\n"
    );
    let out = check(true);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::read_to_string(&rejects)
        .expect("read")
        .starts_with("line,column,value,reason"));

    // generate: an existing file in --out.
    let gen = dir.path().join("gen");
    std::fs::create_dir(&gen).expect("mkdir");
    std::fs::write(gen.join("truth.csv"), "mine\n").expect("write");
    let generate = |force: bool| {
        let mut a = vec![
            "generate",
            "--kind",
            "imo",
            "--count",
            "20",
            "--overlap",
            "3",
            "--out",
        ];
        a.push(s(&gen));
        if force {
            a.push("--force");
        }
        run(&a)
    };
    assert_eq!(generate(false).status.code(), Some(3));
    assert_eq!(
        std::fs::read_to_string(gen.join("truth.csv")).expect("read"),
        "mine\n"
    );
    assert!(!gen.join("a.csv").exists(), "nothing was generated");
    assert!(generate(true).status.success());
    assert!(gen.join("a.csv").exists());

    // report: an existing --out, and --out onto the log.
    let log = dir.path().join("audit.jsonl");
    std::fs::write(&log, "").expect("write");
    let report = dir.path().join("report.html");
    std::fs::write(&report, "old").expect("write");
    let out = run(&["report", "--log", s(&log), "--out", s(&report)]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(std::fs::read_to_string(&report).expect("read"), "old");
    let out = run(&["report", "--log", s(&log), "--out", s(&log), "--force"]);
    assert_eq!(out.status.code(), Some(3), "the log itself");
}

#[test]
fn match_output_problems_are_refused_before_connecting() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (id, _) = identity(dir.path(), "agency-a");
    let input = items(dir.path());
    let missing = dir.path().join("no-such-dir").join("out.csv");
    let fresh = dir.path().join("o.csv");
    let existing = dir.path().join("old.csv");
    std::fs::write(&existing, "old\n").expect("write");
    let cases: [(&str, Vec<&str>); 5] = [
        (
            "missing directory",
            vec!["--mode", "mutual", "--output", s(&missing)],
        ),
        ("the input", vec!["--output", s(&input), "--force"]),
        ("existing", vec!["--output", s(&existing)]),
        (
            "rejects onto output",
            vec![
                "--output",
                s(&existing),
                "--rejects",
                s(&existing),
                "--force",
            ],
        ),
        (
            "unmatched missing directory",
            vec!["--output", s(&fresh), "--unmatched", s(&missing)],
        ),
    ];
    for (what, extra) in cases {
        let out = match_nowhere(&id, &input, &extra);
        // 3 (input), not 6 (the network): nothing was attempted.
        assert_eq!(out.status.code(), Some(3), "{what}");
        assert_eq!(code(&out).as_deref(), Some("input.output_path"), "{what}");
    }
    assert_eq!(std::fs::read_to_string(&existing).expect("read"), "old\n");
    assert_eq!(
        std::fs::read_to_string(&input).expect("read"),
        "alpha\nbeta\ngamma\n"
    );
    // Not even the audit log was opened.
    assert!(!id.join("audit.jsonl").exists());
    // A usable path gets as far as the network.
    let out = match_nowhere(&id, &input, &["--output", s(&dir.path().join("new.csv"))]);
    assert_eq!(
        out.status.code(),
        Some(6),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn serve_output_in_a_missing_directory_is_refused_before_listening() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (id, _) = identity(dir.path(), "agency-b");
    let input = items(dir.path());
    let missing = dir.path().join("no-such-dir").join("out.csv");
    let fp = "ab".repeat(32);
    let mut child = Command::new(BIN)
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
        .args([
            "--input",
            s(&input),
            "--mode",
            "mutual",
            "--output",
            s(&missing),
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // A serve that listens instead of refusing would wait for a peer forever.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while child.try_wait().expect("wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve did not refuse the output path before listening");
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("output");
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(code(&out).as_deref(), Some("input.output_path"));
    assert!(!String::from_utf8_lossy(&out.stderr).contains("listening on"));
}

#[test]
fn a_file_that_appears_during_the_session_is_not_replaced_without_force() {
    use blindmatch::agency::OutputSink;
    use blindmatch::cli::output::CsvSink;
    use blindmatch::protocol::dh::{DhOutput, Learned};
    use blindmatch::protocol::{Matches, Mode, Role};
    use blindmatch::session::BodyOutput;
    let dir = tempfile::tempdir().expect("tempdir");
    let input = items(dir.path());
    let spec = blindmatch::records::InputSpec::new(&input, vec!["value:raw".parse().expect("key")]);
    let records = std::sync::Arc::new(blindmatch::records::load(&spec).expect("load"));
    let output = BodyOutput::Dh(DhOutput {
        role: Role::Initiator,
        mode: Mode::Intersection,
        own_unique: 3,
        own_sent: 3,
        peer_sent: 3,
        duplicates: 0,
        learned: Learned::Matches(Matches::new(&records.item_set(), vec![0])),
    });
    let out = dir.path().join("out.csv");
    let unmatched = dir.path().join("un.csv");
    std::fs::write(&unmatched, "someone else's\n").expect("write");
    let sink = |force| CsvSink {
        path: out.clone(),
        records: records.clone(),
        per_session: false,
        unmatched: Some(unmatched.clone()),
        force,
    };
    match sink(false).write(&output, &[0; 32]) {
        Err(blindmatch::Error::Input(e)) => {
            assert_eq!(e.reason, blindmatch::error::InputReason::OutputPath)
        }
        other => panic!("{other:?}"),
    }
    assert!(!out.exists(), "nothing written");
    assert_eq!(
        std::fs::read_to_string(&unmatched).expect("read"),
        "someone else's\n"
    );
    sink(true).write(&output, &[0; 32]).expect("with --force");
    let rows = |p: &Path| csv::Reader::from_path(p).expect("csv").records().count();
    assert_eq!((rows(&out), rows(&unmatched)), (1, 2));
}
