//! The HTML report renders in a real browser (Debian's headless Chromium) and shows the
//! expected numbers.

mod report_support;

use blindmatch::audit;
use blindmatch::report::{html, Disclosure, Filter};
use std::path::Path;
use std::process::Command;

fn chromium(profile: &Path, args: &[&str]) -> std::process::Output {
    Command::new("/usr/bin/chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("run /usr/bin/chromium")
}

#[test]
#[ignore = "needs Debian's chromium: .ci/run installs it and runs ignored tests"]
fn the_report_renders_in_headless_chromium_with_the_expected_numbers() {
    let dir = tempfile::tempdir().expect("tmp");
    let log = report_support::build(dir.path());
    let verified = audit::verify(&log, &[report_support::key().verifying_key()]).expect("verify");
    let mut d = Disclosure::build("audit.jsonl", &verified, &Filter::All);
    d.attach_outputs(10, None);
    let page = dir.path().join("report.html");
    std::fs::write(&page, html::render(&d)).expect("write");
    let url = format!("file://{}", page.display());

    let profile = tempfile::tempdir().expect("profile");
    let out = chromium(profile.path(), &["--dump-dom", &url]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dom = String::from_utf8_lossy(&out.stdout);
    // The DOM as the browser built it: the numbers are there, the chart is an SVG element.
    assert!(dom.contains("id=\"total-sessions\">3<"), "{dom}");
    assert!(dom.contains("id=\"completed-sessions\">2<"));
    assert!(dom.contains("id=\"total-matches\">3<"));
    assert!(dom.contains("id=\"total-counts\">7<"));
    assert!(dom.contains("id=\"refusals\">1<"));
    assert!(dom.contains("Log verification: OK: 8 entries"));
    assert!(dom.contains("<svg"));
    assert_eq!(dom.matches("<rect ").count(), 3);

    let shot = dir.path().join("report.png");
    let out = chromium(
        profile.path(),
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1100,1600",
            &url,
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).expect("screenshot written");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
    assert!(
        png.len() > 20_000,
        "a blank page compresses to almost nothing"
    );
    if let Ok(keep) = std::env::var("BLINDMATCH_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, keep).expect("copy screenshot");
    }
}

/// A log with many sessions (a crowded chart) and refusals whose rule names and
/// fingerprints are long.
fn crowded_log(dir: &Path) -> std::path::PathBuf {
    use blindmatch::audit::{AuditLog, Learned, Outcome};
    let path = dir.join("crowded.jsonl");
    let log = AuditLog::open(&path, report_support::key()).expect("open");
    for n in 0..40u8 {
        let mode = if n % 3 == 0 { "cardinality" } else { "mutual" };
        let s = report_support::info(n + 10, mode);
        log.session_started(&s).expect("log");
        let learned = if n % 3 == 0 {
            Learned::Cardinality(u64::from(n) * 3)
        } else {
            Learned::Matches(u64::from(n) * 1000)
        };
        log.session_ended(
            &s,
            &Outcome {
                own_learned: learned,
                peer_learned: learned,
                output_file: None,
                output_sha3_256: None,
                output_commitment: None,
            },
        )
        .expect("log");
    }
    for rule in [
        blindmatch::error::PolicyRule::MaxEvaluationsPerReceiverPerKey,
        blindmatch::error::PolicyRule::MaxSessionsPerPeerPerDay,
        blindmatch::error::PolicyRule::CardinalityBeforeReveal,
    ] {
        log.session_refused(
            &"be".repeat(32),
            "mutual",
            &blindmatch::Error::refused(
                rule,
                "receiver cert:bebebebebebebebebebebebebebebebebebebebebebebebebebebebebebebebe \
                 asks for 65536 evaluations; with the 1048576 it already had under index key \
                 0123456789abcdef0123456789abcdef that exceeds the policy's 1000000",
            ),
        )
        .expect("log");
    }
    path
}

/// Measures the rendered page in the browser: a test-only copy of the report gets a script
/// (the report itself allows none) that writes the boxes it measured into the DOM.
const MEASURE: &str = r#"<script>
const box = e => e.getBoundingClientRect();
const labels = [...document.querySelectorAll('svg.chart text.tick.x, svg.chart text.value')].map(box);
let overlaps = [];
for (let i = 0; i < labels.length; i++)
  for (let j = i + 1; j < labels.length; j++) {
    const a = labels[i], b = labels[j];
    const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
    const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
    if (w > 0.5 && h > 0.5) overlaps.push([i, j]);
  }
const cell = sel => [...document.querySelectorAll(sel)].map(e => box(e).height);
const fp = document.querySelector('.refusals code.fp');
const line = parseFloat(getComputedStyle(fp).lineHeight) || 12 * 1.4;
const out = {labels: labels.length, overlaps, line,
  fingerprints: cell('.refusals code.fp'), rules: cell('.refusals code.rule'),
  pageWidth: document.documentElement.scrollWidth};
const pre = document.createElement('pre');
pre.id = 'measure';
pre.textContent = JSON.stringify(out);
document.body.appendChild(pre);
</script>"#;

#[test]
#[ignore = "needs Debian's chromium: .ci/run installs it and runs ignored tests"]
fn chart_labels_do_not_overlap_and_refusal_cells_stay_on_one_line() {
    // A crowded chart (40 sessions: labels under every few bars), and a small one (3
    // sessions: every bar labelled, with its value).
    let dir = tempfile::tempdir().expect("tmp");
    let crowded = crowded_log(dir.path());
    let small = report_support::build(dir.path());
    for (log, refusals) in [(crowded, 3), (small, 1)] {
        measure(dir.path(), &log, refusals);
    }
}

fn measure(dir: &Path, log: &Path, refusals: usize) {
    let verified = audit::verify(log, &[report_support::key().verifying_key()]).expect("verify");
    let d = Disclosure::build("crowded.jsonl", &verified, &Filter::All);
    let page = html::render(&d);
    assert!(page.contains("content=\"default-src 'none'; style-src 'unsafe-inline'\""));
    let page = page
        .replace(
            "default-src 'none'; style-src 'unsafe-inline'",
            "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'",
        )
        .replace("</body>", &format!("{MEASURE}</body>"));
    for width in [1100, 800] {
        let file = dir.join(format!("measure-{width}.html"));
        std::fs::write(&file, &page).expect("write");
        let profile = tempfile::tempdir().expect("profile");
        let out = chromium(
            profile.path(),
            &[
                &format!("--window-size={width},1600"),
                "--virtual-time-budget=5000",
                "--dump-dom",
                &format!("file://{}", file.display()),
            ],
        );
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let dom = String::from_utf8_lossy(&out.stdout);
        let json = dom
            .split("<pre id=\"measure\">")
            .nth(1)
            .and_then(|s| s.split("</pre>").next())
            .unwrap_or_else(|| panic!("no measurement in the DOM at {width}px"))
            .replace("&quot;", "\"");
        let m: serde_json::Value = serde_json::from_str(&json).expect("measurement JSON");
        // Labels were drawn (two per labelled bar, and values), and none overlaps another.
        assert!(m["labels"].as_u64().expect("labels") >= 6, "{m}");
        assert_eq!(m["overlaps"], serde_json::json!([]), "at {width}px: {m}");
        // Each fingerprint and rule cell is one line high, not one character per line.
        let line = m["line"].as_f64().expect("line height");
        for key in ["fingerprints", "rules"] {
            let cells = m[key].as_array().expect("cells");
            assert_eq!(cells.len(), refusals, "{m}");
            for h in cells {
                let h = h.as_f64().expect("height");
                assert!(
                    h < 1.6 * line,
                    "a {key} cell {h}px high at {width}px (line {line}px)"
                );
            }
        }
    }
}
