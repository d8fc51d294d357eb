//! The Markdown rendering. Every string that comes from the log (agency and certificate
//! names, reasons, rules, file names, fingerprints) goes through [`markdown_text`] or
//! [`markdown_code`]: a peer chooses its certificate's name, and nothing it writes there may
//! become markup.

use std::fmt::Write;

use super::escape::{markdown_code as code, markdown_text as text};
use super::{Disclosure, Records, RefusalKind, Status};

pub use super::escape::{markdown_code, markdown_text};

/// Renders the report as Markdown.
pub fn render(d: &Disclosure) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Disclosure report\n");
    let _ = writeln!(
        o,
        "Audit log {}, generated {} by blindmatch {}.\n",
        text(&d.log_name),
        text(&d.generated),
        env!("CARGO_PKG_VERSION")
    );
    let mark = if d.verified { "✔" } else { "✘" };
    let _ = writeln!(
        o,
        "**Log verification:** {mark} {}\n",
        text(&d.verification)
    );
    if let Some(note) = d.left_out_text() {
        let _ = writeln!(o, "**Entries left out:** {}\n", text(&note));
    }
    for s in &d.signers {
        let _ = writeln!(o, "Signed by {}.\n", code(s));
    }
    let _ = writeln!(
        o,
        "| Sessions | Completed | Matched items we learned | Shared items counted (count only) | \
         Refused by policy or budget | Handshakes refused | Certificates refused |\n\
         |---|---|---|---|---|---|---|\n| {} | {} | {} | {} | {} | {} | {} |\n",
        d.sessions.len(),
        d.sessions
            .iter()
            .filter(|s| matches!(s.status, Status::Completed(_)))
            .count(),
        d.total_own_matches(),
        d.total_own_counts(),
        d.refusals_of(RefusalKind::Policy),
        d.refusals_of(RefusalKind::Handshake),
        d.refusals_of(RefusalKind::Certificate),
    );
    let _ = writeln!(o, "## Sessions\n");
    if d.sessions.is_empty() {
        let _ = writeln!(o, "No session in the selected range.\n");
    }
    for s in &d.sessions {
        let i = &s.info;
        let state = match &s.status {
            Status::Completed(_) => "completed".to_owned(),
            Status::Aborted(a) => format!("aborted: {}", text(&a.reason)),
            Status::Unfinished => "unfinished".to_owned(),
        };
        let _ = writeln!(
            o,
            "### {} ↔ {} ({state})\n",
            text(&i.own_agency),
            text(&i.peer_agency)
        );
        let _ = writeln!(o, "| | |\n|---|---|");
        let rows = [
            ("Session id", code(&i.session_id)),
            ("Started", text(&s.started)),
            ("Finished", s.finished.as_deref().map_or("—".into(), text)),
            ("Protocol", text(&s.protocol_text())),
            ("Mode", text(&i.mode)),
            ("Our role", text(&i.role)),
            ("Policy", text(&s.policy())),
            ("Revealed label columns", text(&s.columns_text())),
            ("Output retention", text(&s.retention_text())),
            ("Buckets and shards", text(&s.split_text())),
            ("Attempts", text(&s.attempts_text())),
            ("Peer certificate", code(&i.peer_fingerprint)),
            ("Transcript hash", code(&i.transcript_hash)),
            ("Set sizes", text(&s.set_sizes(d.include_local))),
            ("We learned", text(&s.own_learned())),
            ("The peer learned", text(&s.peer_learned())),
            (
                "Peer receipt",
                s.peer_receipt
                    .map_or("none logged".into(), |r| format!("{r:?}").to_lowercase()),
            ),
        ];
        for (k, v) in rows {
            let _ = writeln!(o, "| {k} | {v} |");
        }
        if let Status::Completed(out) = &s.status {
            let digest = match (&out.output_commitment, &out.output_sha3_256) {
                (Some(c), _) => Some(("keyed commitment", c)),
                (None, Some(d)) => Some(("SHA3-256", d)),
                (None, None) => None,
            };
            if let (Some(f), Some((what, dg))) = (&out.output_file, digest) {
                let _ = writeln!(o, "| Output file | {} ({what} {}) |", text(f), code(dg));
            }
        }
        o.push('\n');
        match &s.records {
            Records::NotIncluded => {}
            Records::Verified { lines, total_rows } => {
                // A fence longer than any run of backticks in the records.
                let longest = lines
                    .iter()
                    .flat_map(|l| l.split(|c| c != '`'))
                    .map(str::len)
                    .max()
                    .unwrap_or(0);
                let fence = "`".repeat(longest.max(2) + 1);
                let _ = writeln!(
                    o,
                    "Our matched records ({total_rows} rows, file digest verified):\n\n{fence}\n{}\n{fence}\n",
                    lines.join("\n")
                );
            }
            Records::Unavailable(why) => {
                let _ = writeln!(o, "Matched records not shown: {}\n", text(why));
            }
        }
    }
    if !d.refusals.is_empty() {
        let _ = writeln!(
            o,
            "## Refused sessions, handshakes and certificates\n\n\
             | Time | Refused | Peer | Mode | Rule | Detail |\n|---|---|---|---|---|---|"
        );
        for r in &d.refusals {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} |",
                text(&r.time),
                r.kind.as_str(),
                code(&r.peer_fingerprint),
                text(&r.mode),
                text(&r.rule),
                text(&r.detail)
            );
        }
    }
    o
}
