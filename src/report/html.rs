//! The self-contained HTML rendering: inline CSS and SVG, no scripts, no external resources.

use std::fmt::Write;

pub use super::escape::escape;
use super::{chart, Disclosure, Records, RefusalKind, SessionReport, Status};

const CSS: &str = "
:root{--ink:#1f2933;--muted:#616e7c;--line:#d9e2ec;--accent:#1f5f8b;--ok:#1e7b45;--bad:#b42318}
*{box-sizing:border-box}body{margin:0;font:15px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--ink);background:#f5f7fa}
main{max-width:980px;margin:0 auto;padding:32px 24px 48px}
header{border-bottom:3px solid var(--accent);margin-bottom:24px;padding-bottom:12px}
h1{font-size:26px;margin:0 0 4px}h2{font-size:19px;margin:32px 0 12px}h3{font-size:16px;margin:0 0 8px}
.meta{color:var(--muted);font-size:13px}
.status{padding:12px 16px;border-radius:6px;font-weight:600;margin:16px 0}
.status.ok{background:#e3f5ea;color:var(--ok);border:1px solid #a6d9b8}
.status.bad{background:#fdecea;color:var(--bad);border:1px solid #f3b5ae}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:12px}
.card{background:#fff;border:1px solid var(--line);border-radius:6px;padding:12px 16px}
.card .n{font-size:26px;font-weight:700;color:var(--accent)}.card .l{color:var(--muted);font-size:13px}
.session{background:#fff;border:1px solid var(--line);border-radius:6px;padding:16px;margin:12px 0}
table{border-collapse:collapse;width:100%;font-size:14px}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{color:var(--muted);font-weight:600}.session th{width:34%}
code{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,monospace;overflow-wrap:anywhere}
.refusals td,.refusals th{white-space:nowrap}.refusals td.detail{white-space:normal;overflow-wrap:anywhere;width:100%}
.refusals code{overflow-wrap:normal}.session td{overflow-wrap:anywhere}
.note{padding:10px 16px;border-radius:6px;background:#fff4e5;color:#7a4a00;border:1px solid #f5c98b;margin:12px 0}
.pill{display:inline-block;padding:1px 8px;border-radius:10px;font-size:12px;font-weight:600}
.pill.completed{background:#e3f5ea;color:var(--ok)}.pill.aborted{background:#fdecea;color:var(--bad)}.pill.unfinished{background:#fff4e5;color:#9a5b00}
.chart{max-width:100%;height:auto;background:#fff;border:1px solid var(--line);border-radius:6px}
.chart .grid{stroke:#eef2f6}.chart .axis{stroke:#9aa5b1}.chart .tick{fill:#616e7c;font-size:11px}
.chart .value{fill:#1f2933;font-size:11px;font-weight:600}
.chart .bar{fill:#1f5f8b}.chart .bar.aborted{fill:#b42318}.chart .bar.unfinished{fill:#d98c00}.chart .bar.count{fill:#7fa7c9}
pre{background:#f5f7fa;border:1px solid var(--line);padding:8px;overflow:auto;font-size:12px}
footer{margin-top:40px;color:var(--muted);font-size:12px}
@media print{body{background:#fff}.session,.card{break-inside:avoid}}
";

/// Renders the report as one self-contained HTML page.
pub fn render(d: &Disclosure) -> String {
    let mut o = String::new();
    let _ = write!(
        o,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\
         <title>blindmatch disclosure report</title><style>{CSS}</style></head><body><main>"
    );
    let _ = write!(
        o,
        "<header><h1>Disclosure report</h1><div class=\"meta\">Audit log <code>{}</code> · \
         generated {} by blindmatch {}</div></header>",
        escape(&d.log_name),
        escape(&d.generated),
        env!("CARGO_PKG_VERSION")
    );
    let (class, icon) = if d.verified {
        ("ok", "✔")
    } else {
        ("bad", "✘")
    };
    // The problem's code (`torn`, `bad_signature`, ...) for tools that read the page.
    let problem = d
        .problem
        .as_ref()
        .map(|p| format!(" data-problem=\"{}\"", p.code()))
        .unwrap_or_default();
    let _ = write!(
        o,
        "<div class=\"status {class}\" id=\"verification\"{problem}>{icon} Log verification: \
         {}</div>",
        escape(&d.verification)
    );
    if let Some(text) = d.left_out_text() {
        let _ = write!(
            o,
            "<p class=\"note\" id=\"left-out\" data-left-out=\"{}\">{}</p>",
            d.entries_left_out,
            escape(&text)
        );
    }
    if !d.keys_pinned {
        o.push_str(
            "<p class=\"meta\">The signer key was not pinned: the log is internally consistent, \
             but it was not verified against the agency's audit key, so whose key signed it was not \
             checked.</p>",
        );
    }
    for s in &d.signers {
        let _ = write!(
            o,
            "<p class=\"meta\">Signed by <code>{}</code></p>",
            escape(s)
        );
    }

    let completed = d
        .sessions
        .iter()
        .filter(|s| matches!(s.status, Status::Completed(_)))
        .count();
    let _ = write!(
        o,
        "<div class=\"cards\">\
         <div class=\"card\"><div class=\"n\" id=\"total-sessions\">{}</div><div class=\"l\">sessions</div></div>\
         <div class=\"card\"><div class=\"n\" id=\"completed-sessions\">{completed}</div><div class=\"l\">completed</div></div>\
         <div class=\"card\"><div class=\"n\" id=\"total-matches\">{}</div><div class=\"l\">matched items we learned</div></div>\
         <div class=\"card\"><div class=\"n\" id=\"total-counts\">{}</div><div class=\"l\">shared items counted (count only, no item revealed)</div></div>\
         <div class=\"card\"><div class=\"n\" id=\"refusals\">{}</div><div class=\"l\">refused by policy or budget</div></div>\
         <div class=\"card\"><div class=\"n\" id=\"handshake-refusals\">{}</div><div class=\"l\">handshakes refused</div></div>\
         <div class=\"card\"><div class=\"n\" id=\"certificate-refusals\">{}</div><div class=\"l\">certificates refused</div></div></div>",
        d.sessions.len(),
        d.total_own_matches(),
        d.total_own_counts(),
        d.refusals_of(RefusalKind::Policy),
        d.refusals_of(RefusalKind::Handshake),
        d.refusals_of(RefusalKind::Certificate),
    );
    o.push_str("<h2>Results per session over time</h2>");
    o.push_str(&chart::svg(&d.sessions));

    o.push_str("<h2>Sessions</h2>");
    if d.sessions.is_empty() {
        o.push_str("<p>No session in the selected range.</p>");
    }
    for s in &d.sessions {
        session(&mut o, s, d.include_local);
    }
    if !d.refusals.is_empty() {
        o.push_str(
            "<h2>Refused sessions, handshakes and certificates</h2><table class=\"refusals\">\
             <tr><th>Time</th><th>Refused</th><th>Peer</th><th>Mode</th><th>Rule</th>\
             <th>Detail</th></tr>",
        );
        for r in &d.refusals {
            let _ = write!(
                o,
                "<tr><td>{}</td><td>{}</td><td><code class=\"fp\" title=\"{}\">{}</code></td>\
                 <td>{}</td><td><code class=\"rule\">{}</code></td><td class=\"detail\">{}</td></tr>",
                escape(&r.time),
                r.kind.as_str(),
                escape(&r.peer_fingerprint),
                escape(&short_fingerprint(&r.peer_fingerprint)),
                escape(&r.mode),
                escape(&r.rule),
                escape(&r.detail)
            );
        }
        o.push_str("</table>");
    }
    o.push_str(
        "<footer>The audit log never contains raw identifiers: only counts, digests and \
         certificate fingerprints. Matched records are shown only from output files whose \
         SHA3-256 still equals the digest in the signed log.</footer></main></body></html>\n",
    );
    o
}

/// A fingerprint shortened to its first 16 hex digits (the full one goes in a `title`).
pub(crate) fn short_fingerprint(fp: &str) -> String {
    match fp.get(..16) {
        Some(head) if fp.len() > 20 => format!("{head}…"),
        _ => fp.to_owned(),
    }
}

fn session(o: &mut String, s: &SessionReport, include_local: bool) {
    let i = &s.info;
    let (pill, state) = match &s.status {
        Status::Completed(_) => ("completed", "completed".to_owned()),
        Status::Aborted(a) => ("aborted", format!("aborted: {}", a.reason)),
        Status::Unfinished => ("unfinished", "unfinished".to_owned()),
    };
    let _ = write!(
        o,
        "<section class=\"session\" id=\"session-{}\"><h3>{} ↔ {} \
         <span class=\"pill {pill}\">{pill}</span></h3><table>",
        escape(&i.session_id),
        escape(&i.own_agency),
        escape(&i.peer_agency)
    );
    let receipt = match s.peer_receipt {
        Some(r) => format!("received and verified ({r:?})").to_lowercase(),
        None => "none logged".to_owned(),
    };
    let rows: Vec<(&str, String, bool)> = vec![
        ("Session id", i.session_id.clone(), true),
        ("Started", s.started.clone(), false),
        (
            "Finished",
            s.finished.clone().unwrap_or_else(|| "—".to_owned()),
            false,
        ),
        ("Outcome", state, false),
        ("Protocol", s.protocol_text(), false),
        ("Mode", i.mode.clone(), false),
        ("Our role", i.role.clone(), false),
        ("Policy", s.policy(), false),
        ("Revealed label columns", s.columns_text(), false),
        ("Output retention", s.retention_text(), false),
        ("Buckets and shards", s.split_text(), false),
        ("Attempts", s.attempts_text(), false),
        ("Peer certificate", i.peer_fingerprint.clone(), true),
        ("Transcript hash", i.transcript_hash.clone(), true),
        ("Set sizes", s.set_sizes(include_local), false),
        ("We learned", s.own_learned(), false),
        ("The peer learned", s.peer_learned(), false),
        ("Peer receipt", receipt, false),
    ];
    for (k, v, code) in rows {
        if code {
            let _ = write!(
                o,
                "<tr><th>{k}</th><td><code>{}</code></td></tr>",
                escape(&v)
            );
        } else {
            let _ = write!(o, "<tr><th>{k}</th><td>{}</td></tr>", escape(&v));
        }
    }
    if let Status::Completed(out) = &s.status {
        let digest = match (&out.output_commitment, &out.output_sha3_256) {
            (Some(c), _) => Some(("keyed commitment", c)),
            (None, Some(d)) => Some(("SHA3-256", d)),
            (None, None) => None,
        };
        if let (Some(f), Some((what, dg))) = (&out.output_file, digest) {
            let _ = write!(
                o,
                "<tr><th>Output file</th><td><code>{}</code><br>{what} <code>{}</code></td></tr>",
                escape(f),
                escape(dg)
            );
        }
    }
    o.push_str("</table>");
    match &s.records {
        Records::NotIncluded => {}
        Records::Verified { lines, total_rows } => {
            let _ = write!(
                o,
                "<p>Our matched records ({total_rows} rows, file digest verified):</p><pre>{}</pre>",
                escape(&lines.join("\n"))
            );
        }
        Records::Unavailable(why) => {
            let _ = write!(
                o,
                "<p class=\"meta\">Matched records not shown: {}</p>",
                escape(why)
            );
        }
    }
    o.push_str("</section>");
}
