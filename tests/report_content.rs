//! Disclosure report content, in HTML and Markdown, and the `report` / `audit verify` CLI.

mod report_support;

use blindmatch::audit;
use blindmatch::error::AuditProblem;
use blindmatch::report::{html, markdown, Disclosure, Filter, Records};
use std::process::Command;

fn disclosure(dir: &std::path::Path, filter: &Filter) -> Disclosure {
    let path = report_support::build(dir);
    let verified = audit::verify(&path, &[report_support::key().verifying_key()]).expect("verify");
    let mut d = Disclosure::build("audit.jsonl", &verified, filter);
    d.attach_outputs(10, None);
    d
}

#[test]
fn html_shows_sessions_counts_and_verification() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = disclosure(dir.path(), &Filter::All);
    assert_eq!(d.sessions.len(), 3);
    // Revealed matches and count-only results are counted apart.
    assert_eq!(d.total_own_matches(), 3);
    assert_eq!(d.total_own_counts(), 7);
    let page = html::render(&d);
    assert!(page.contains("id=\"total-sessions\">3<"), "sessions card");
    assert!(page.contains("id=\"total-matches\">3<"), "matches card");
    assert!(page.contains("id=\"total-counts\">7<"), "count-only card");
    assert!(page.contains("id=\"refusals\">1<"));
    assert!(page.contains("Log verification: OK: 8 entries"));
    assert!(page.contains("the count only: 7"));
    assert!(page.contains("3 matched items"));
    assert!(page.contains("aborted: peer disconnected mid-stream"));
    assert!(page.contains("max_sessions_per_peer_per_day"));
    assert!(page.contains(&"71ccb0a4".repeat(8)), "policy digest");
    // Matched records appear only for our side, from the digest-checked output file.
    assert!(page.contains("IMO9354521,MV EXAMPLE TWO"));
    assert!(page.contains("3 rows, file digest verified"));
    // Escaping: the agency name with angle brackets is text, not markup.
    assert!(page.contains("Customs Agency &lt;B&gt;"));
    assert!(!page.contains("Customs Agency <B>"));
    assert!(page.contains("<svg"), "inline chart");
    assert_eq!(page.matches("<rect ").count(), 3, "one bar per session");
}

#[test]
fn html_is_self_contained() {
    let dir = tempfile::tempdir().expect("tmp");
    let page = html::render(&disclosure(dir.path(), &Filter::All));
    for forbidden in [
        "<script", "<link", "src=", "@import", "url(", "http://", "https://",
    ] {
        let allowed_svg_ns = forbidden == "http://" && page.matches("http://").count() == 1;
        assert!(
            !page.contains(forbidden) || allowed_svg_ns,
            "found {forbidden} in a page that must load nothing"
        );
    }
    assert!(page.contains("xmlns=\"http://www.w3.org/2000/svg\""));
}

#[test]
fn a_changed_output_file_is_not_shown() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = report_support::build(dir.path());
    std::fs::write(
        dir.path().join("matches.csv"),
        "imo,name\nIMO1111111,FORGED\n",
    )
    .expect("edit");
    let verified = audit::verify(&path, &[]).expect("verify");
    let mut d = Disclosure::build("audit.jsonl", &verified, &Filter::All);
    d.attach_outputs(10, None);
    assert!(matches!(d.sessions[1].records, Records::Unavailable(ref w) if w.contains("changed")));
    assert!(!html::render(&d).contains("FORGED"));
}

#[test]
fn a_tampered_log_is_reported_as_such() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = report_support::build(dir.path());
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, text.replace("{\"matches\":3}", "{\"matches\":0}")).expect("edit");
    let verified = audit::verify(&path, &[]).expect("verify");
    let d = Disclosure::build("audit.jsonl", &verified, &Filter::All);
    assert!(!d.verified);
    assert_eq!(d.problem, Some(AuditProblem::BadSignature { index: 3 }));
    let page = html::render(&d);
    assert!(page.contains("class=\"status bad\""));
    assert!(page.contains("data-problem=\"bad_signature\""));
    assert!(page.contains("FAILED at entry 3"), "{}", d.verification);
}

#[test]
fn filters_select_sessions() {
    let dir = tempfile::tempdir().expect("tmp");
    let d = disclosure(dir.path(), &Filter::Session("0202".into()));
    assert_eq!(d.sessions.len(), 1);
    assert_eq!(d.sessions[0].own_matches(), 3);
    let dir = tempfile::tempdir().expect("tmp");
    assert_eq!(
        disclosure(dir.path(), &Filter::Since("9999-01-01".into()))
            .sessions
            .len(),
        0
    );
    let dir = tempfile::tempdir().expect("tmp");
    assert_eq!(
        disclosure(dir.path(), &Filter::Since("2000-01-01".into()))
            .sessions
            .len(),
        3
    );
}

#[test]
fn markdown_has_the_same_facts() {
    let dir = tempfile::tempdir().expect("tmp");
    let md = markdown::render(&disclosure(dir.path(), &Filter::All));
    assert!(md.starts_with("# Disclosure report"));
    assert!(md.contains("| 3 | 2 | 3 | 7 | 1 | 0 | 0 |"), "{md}");
    assert!(md.contains("the count only: 7"));
    assert!(md.contains("✔ OK: 8 entries"));
    assert!(md.contains("IMO9187629,MV EXAMPLE ONE"));
    assert!(md.contains("| Peer receipt | completed |"));
}

#[test]
fn the_cli_writes_reports_and_verifies_logs() {
    let bin = env!("CARGO_BIN_EXE_blindmatch");
    let dir = tempfile::tempdir().expect("tmp");
    let log = report_support::build(dir.path());
    let key = hex::encode(report_support::key().verifying_key().as_bytes());
    let out = dir.path().join("r.md");
    let status = Command::new(bin)
        .args(["report", "--log"])
        .arg(&log)
        .args(["--format", "md", "--key", &key, "--out"])
        .arg(&out)
        .status()
        .expect("run");
    assert!(status.success());
    assert!(std::fs::read_to_string(&out)
        .expect("report")
        .contains("| 3 | 2 | 3 | 7 | 1 | 0 | 0 |"));

    let ok = Command::new(bin)
        .args(["audit", "verify"])
        .arg(&log)
        .args(["--key", &key])
        .output()
        .expect("run");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let lines: Vec<String> = std::fs::read_to_string(&log)
        .expect("read")
        .lines()
        .map(str::to_owned)
        .collect();
    let mut swapped = lines.clone();
    swapped.swap(4, 5);
    std::fs::write(&log, swapped.join("\n") + "\n").expect("write");
    let bad = Command::new(bin)
        .args(["audit", "verify"])
        .arg(&log)
        .args(["--key", &key])
        .output()
        .expect("run");
    assert!(!bad.status.success());
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(err.contains("entry 4"), "{err}");
}

#[test]
fn policy_check_cli_prints_the_digest() {
    let bin = env!("CARGO_BIN_EXE_blindmatch");
    let out = Command::new(bin)
        .args(["--quiet", "policy", "check", "examples/policy.toml"])
        .output()
        .expect("run");
    assert!(out.status.success());
    let p = blindmatch::policy::Policy::load("examples/policy.toml".as_ref()).expect("load");
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), p.digest_hex());
    let dir = tempfile::tempdir().expect("tmp");
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "version = 2\nnmae = \"x\"\n").expect("write");
    let out = Command::new(bin)
        .args(["policy", "check"])
        .arg(&bad)
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.toml:2:"));
}

/// A log with a peer whose certificate name, fingerprint and refusal detail are hostile.
fn hostile_log(dir: &std::path::Path) -> std::path::PathBuf {
    use blindmatch::audit::{AuditLog, Learned, Outcome};
    let path = dir.join("hostile.jsonl");
    let log = AuditLog::open(&path, report_support::key()).expect("open");
    let mut s = report_support::info(9, "mutual");
    s.peer_agency = HOSTILE.into();
    log.session_started(&s).expect("log");
    log.session_ended(
        &s,
        &Outcome {
            own_learned: Learned::Matches(1),
            peer_learned: Learned::Matches(1),
            output_file: None,
            output_sha3_256: None,
            output_commitment: None,
        },
    )
    .expect("log");
    log.session_refused(
        HOSTILE,
        HOSTILE,
        &blindmatch::Error::refused(blindmatch::error::PolicyRule::Modes, HOSTILE),
    )
    .expect("log");
    path
}

const HOSTILE: &str =
    "Evil | *Agency* <script>alert(1)</script>\n# heading `code` [x](y) ![i](j) _u_ ~~s~~";

#[test]
fn markdown_escapes_every_peer_supplied_string() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = hostile_log(dir.path());
    let verified = audit::verify(&path, &[report_support::key().verifying_key()]).expect("verify");
    let md = markdown::render(&Disclosure::build("hostile.jsonl", &verified, &Filter::All));
    assert!(!md.contains("<script"), "{md}");
    assert!(md.contains("&lt;script&gt;"));
    for raw in ["[x](y)", "`code`", "*Agency*", "_u_", "~~s~~", "![i]"] {
        assert!(!md.contains(raw), "{raw} left as markup in:\n{md}");
    }
    // No line of the hostile text starts a block of its own.
    assert!(!md.lines().any(|l| l.starts_with("# heading")), "{md}");
    // Every table row keeps its column count: escaped pipes do not split cells.
    let unescaped_pipes = |l: &str| {
        let b = l.as_bytes();
        (0..b.len())
            .filter(|&i| b[i] == b'|' && (i == 0 || b[i - 1] != b'\\'))
            .count()
    };
    let peer_row = md
        .lines()
        .find(|l| l.starts_with("### "))
        .expect("session heading");
    assert!(peer_row.contains("Evil \\| \\*Agency\\*"), "{peer_row}");
    let refusal = md
        .lines()
        .rfind(|l| l.starts_with("| ") && l.contains("Evil"))
        .expect("refusal row");
    assert_eq!(unescaped_pipes(refusal), 7, "six cells: {refusal}");
    // The HTML page escapes the same strings.
    let page = html::render(&Disclosure::build("hostile.jsonl", &verified, &Filter::All));
    assert!(!page.contains("<script>alert"));
}

#[test]
fn a_tampered_log_says_how_many_entries_were_left_out_and_why() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = report_support::build(dir.path());
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(&path, text.replace("{\"matches\":3}", "{\"matches\":0}")).expect("edit");
    let verified = audit::verify(&path, &[]).expect("verify");
    let d = Disclosure::build("audit.jsonl", &verified, &Filter::All);
    assert_eq!((d.entries_used, d.entries_left_out), (3, 5));
    let note = d.left_out_text().expect("a note");
    assert!(
        note.starts_with("5 of the log's 8 entries were left out"),
        "{note}"
    );
    let page = html::render(&d);
    assert!(page.contains("id=\"left-out\" data-left-out=\"5\""));
    assert!(markdown::render(&d).contains("**Entries left out:** 5 of the log"));
    // A log that verifies leaves nothing out and says nothing.
    let dir = tempfile::tempdir().expect("tmp");
    let d = disclosure(dir.path(), &Filter::All);
    assert_eq!(d.entries_left_out, 0);
    assert!(d.left_out_text().is_none());
    assert!(!html::render(&d).contains("id=\"left-out\""));
}

#[test]
fn a_session_filter_that_matches_nothing_is_an_error() {
    let bin = env!("CARGO_BIN_EXE_blindmatch");
    let dir = tempfile::tempdir().expect("tmp");
    let log = report_support::build(dir.path());
    let key = hex::encode(report_support::key().verifying_key().as_bytes());
    let out = dir.path().join("r.html");
    let run = Command::new(bin)
        .args(["report", "--log"])
        .arg(&log)
        .args(["--key", &key, "--session", "ff", "--out"])
        .arg(&out)
        .output()
        .expect("run");
    assert!(!run.status.success());
    // `report` has no `--json`: the exit code is the input error's, the message names it.
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(3), "input error: {stderr}");
    assert!(stderr.contains("--session ff"), "{stderr}");
    assert!(!out.exists(), "no empty report written");
    // A prefix that names a session still works.
    let ok = Command::new(bin)
        .args(["report", "--log"])
        .arg(&log)
        .args(["--key", &key, "--session", "0202", "--out"])
        .arg(&out)
        .status()
        .expect("run");
    assert!(ok.success());
}

/// A `session_aborted` written before the stage was recorded, after the peer's receipt: the
/// receipt shows the peer completed, so the report does not say it learned nothing.
#[test]
fn an_old_abort_entry_after_the_peers_receipt_reports_what_the_peer_learned() {
    use blindmatch::audit::AuditLog;
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("old.jsonl");
    let log = AuditLog::open(&path, report_support::key()).expect("open");
    let peer = ed25519_dalek::SigningKey::from_bytes(&[12; 32]);
    let s = report_support::info(4, "mutual");
    log.session_started(&s).expect("log");
    log.peer_receipt(&report_support::receipt(4, &peer))
        .expect("log");
    log.session_aborted(&s, "writing matches.csv: no space left on device")
        .expect("log");
    let verified = audit::verify(&path, &[report_support::key().verifying_key()]).expect("verify");
    let d = Disclosure::build("old.jsonl", &verified, &Filter::All);
    let r = &d.sessions[0];
    assert_eq!(
        r.peer_learned(),
        "which of its items are shared (how many is not disclosed to us); our set size as \
         sent (5000) (its signed receipt says it completed)"
    );
    assert!(
        r.own_learned().contains("how many was not logged"),
        "{}",
        r.own_learned()
    );
    assert!(r.own_learned().contains("not recorded"));
    assert_eq!(d.total_own_matches(), 0);
}
