//! The Markdown rendering.

use std::fmt::Write;

use super::{Disclosure, Records, Status};

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

/// Renders the report as Markdown.
pub fn render(d: &Disclosure) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "# Disclosure report\n");
    let _ = writeln!(
        o,
        "Audit log `{}`, generated {} by blindmatch {}.\n",
        d.log_name,
        d.generated,
        env!("CARGO_PKG_VERSION")
    );
    let mark = if d.verified { "✔" } else { "✘" };
    let _ = writeln!(o, "**Log verification:** {mark} {}\n", d.verification);
    for s in &d.signers {
        let _ = writeln!(o, "Signed by `{s}`.\n");
    }
    let _ = writeln!(
        o,
        "| Sessions | Completed | Matches we learned | Refused |\n|---|---|---|---|\n| {} | {} | {} | {} |\n",
        d.sessions.len(),
        d.sessions
            .iter()
            .filter(|s| matches!(s.status, Status::Completed(_)))
            .count(),
        d.total_own_matches(),
        d.refusals.len()
    );
    let _ = writeln!(o, "## Sessions\n");
    if d.sessions.is_empty() {
        let _ = writeln!(o, "No session in the selected range.\n");
    }
    for s in &d.sessions {
        let i = &s.info;
        let state = match &s.status {
            Status::Completed(_) => "completed".to_owned(),
            Status::Aborted(r) => format!("aborted: {r}"),
            Status::Unfinished => "unfinished".to_owned(),
        };
        let _ = writeln!(o, "### {} ↔ {} ({state})\n", i.own_agency, i.peer_agency);
        let _ = writeln!(o, "| | |\n|---|---|");
        let rows = [
            ("Session id", format!("`{}`", i.session_id)),
            ("Started", s.started.clone()),
            ("Finished", s.finished.clone().unwrap_or_else(|| "—".into())),
            ("Mode", i.mode.clone()),
            ("Our role", i.role.clone()),
            ("Policy digest", format!("`{}`", i.policy_digest)),
            ("Peer certificate", format!("`{}`", i.peer_fingerprint)),
            ("Transcript hash", format!("`{}`", i.transcript_hash)),
            ("Set sizes", s.set_sizes(d.include_local)),
            ("We learned", s.own_learned()),
            ("The peer learned", s.peer_learned()),
            (
                "Peer receipt",
                s.peer_receipt
                    .map_or("none logged".into(), |r| format!("{r:?}").to_lowercase()),
            ),
        ];
        for (k, v) in rows {
            let _ = writeln!(o, "| {k} | {} |", cell(&v));
        }
        if let Status::Completed(out) = &s.status {
            if let (Some(f), Some(dg)) = (&out.output_file, &out.output_sha3_256) {
                let _ = writeln!(o, "| Output file | `{}` (SHA3-256 `{dg}`) |", cell(f));
            }
        }
        o.push('\n');
        match &s.records {
            Records::NotIncluded => {}
            Records::Verified { lines, total_rows } => {
                let _ = writeln!(
                    o,
                    "Our matched records ({total_rows} rows, file digest verified):\n\n```\n{}\n```\n",
                    lines.join("\n")
                );
            }
            Records::Unavailable(why) => {
                let _ = writeln!(o, "Matched records not shown: {why}\n");
            }
        }
    }
    if !d.refusals.is_empty() {
        let _ = writeln!(
            o,
            "## Refused sessions\n\n| Time | Peer | Mode | Rule | Detail |\n|---|---|---|---|---|"
        );
        for r in &d.refusals {
            let _ = writeln!(
                o,
                "| {} | `{}` | {} | `{}` | {} |",
                r.time,
                cell(&r.peer_fingerprint),
                cell(&r.mode),
                cell(&r.rule),
                cell(&r.detail)
            );
        }
    }
    o
}
