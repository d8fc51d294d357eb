//! `blindmatch report --log LOG [--session ID | --since DATE] --out FILE [--format html|md]`:
//! renders a disclosure report for a compliance officer.

use std::path::PathBuf;

use crate::audit;
use crate::error::{Error, InputReason, Result};
use crate::report::{self, Disclosure, Filter};

/// The report's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One self-contained HTML page.
    Html,
    /// Markdown.
    Md,
}

/// Render a disclosure report from an audit log.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The audit log.
    #[arg(long)]
    pub log: PathBuf,
    /// Only this session (hex id or a unique prefix).
    #[arg(long, conflicts_with = "since")]
    pub session: Option<String>,
    /// Only sessions started on or after this date (`YYYY-MM-DD` or RFC 3339, UTC).
    #[arg(long)]
    pub since: Option<String>,
    /// Where to write the report (refused if it exists, unless `--force`).
    #[arg(long)]
    pub out: PathBuf,
    /// Replace an existing `--out` file.
    #[arg(long)]
    pub force: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "html")]
    pub format: Format,
    /// The agency's public key (64 hex characters or an identity directory), repeatable.
    #[arg(long)]
    pub key: Vec<String>,
    /// Show up to this many lines of each session's matched records (0: none). Each output
    /// is checked against the log's commitment with the commitment key of a `--key` identity
    /// directory (`output-commitment.key`), or of `--commitment-key`.
    #[arg(long, default_value_t = 50)]
    pub records: usize,
    /// The agency's output commitment key file (default: `output-commitment.key` in a `--key`
    /// identity directory).
    #[arg(long)]
    pub commitment_key: Option<PathBuf>,
    /// Also show our true set sizes, which padding hides from the peer (local: do not share
    /// such a report with it).
    #[arg(long)]
    pub include_local: bool,
}

/// Runs `blindmatch report`.
///
/// # Errors
/// [`Error::Input`] with [`InputReason::Argument`] for a malformed `--since`, with
/// [`InputReason::OutputPath`] for an `--out` that cannot be used (checked first), with
/// [`InputReason::NoSuchSession`] for a `--session` that names no session; [`Error::Config`]
/// with [`ConfigReason::Identity`](crate::error::ConfigReason::Identity) for a bad `--key`;
/// [`Error::Io`] if the log cannot be read or the report cannot be written; [`Error::Audit`]
/// with the log's first problem when it fails verification (against `--key`, or the key of
/// the identity directory it sits in): the report is still written, saying so prominently.
/// Without a known key the report says UNPINNED, never OK.
pub fn run(args: Args, quiet: bool) -> Result<()> {
    super::output_path::check(
        &[super::output_path::Output::new("--out", &args.out)],
        &[&args.log],
        args.force,
    )?;
    let filter = match (&args.session, &args.since) {
        (Some(id), _) => Filter::Session(id.clone()),
        (None, Some(date)) => {
            let ok = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").is_ok()
                || chrono::DateTime::parse_from_rfc3339(date).is_ok();
            if !ok {
                return Err(Error::input(
                    InputReason::Argument,
                    format!(
                        "--since {date}: not a date; use YYYY-MM-DD or RFC 3339 (2026-11-28T04:00:00Z)"
                    ),
                ));
            }
            Filter::Since(date.clone())
        }
        (None, None) => Filter::All,
    };
    // Pinned to `--key`, or to the identity the log's directory holds; else UNPINNED.
    let (verified, _, pin) = super::audit::verify_pinned(&args.log, &args.key)?;
    let mut d = Disclosure::build(&args.log.display().to_string(), &verified, &filter);
    if let (Filter::Session(id), true) = (&filter, d.sessions.is_empty()) {
        let left_out = match d.entries_left_out {
            0 => String::new(),
            n => format!(" ({n} entries after the first bad one were not read)"),
        };
        return Err(Error::input(
            InputReason::NoSuchSession,
            format!(
                "--session {id}: no session of {} has an id starting with it{left_out}; \
                 `blindmatch report` without --session lists them all",
                args.log.display()
            ),
        ));
    }
    d.include_local = args.include_local;
    if args.records > 0 {
        let identity_dir = match &pin {
            super::audit::Pin::IdentityDirectory(d) => Some(d.clone()),
            _ => None,
        };
        let key_file = args.commitment_key.clone().or_else(|| {
            args.key
                .iter()
                .map(PathBuf::from)
                .chain(identity_dir)
                .map(|k| k.join(audit::COMMITMENT_KEY_FILE))
                .find(|p| p.is_file())
        });
        let key = key_file
            .map(|p| audit::CommitmentKey::load(&p))
            .transpose()?;
        d.attach_outputs(args.records + 1, key.as_ref());
    }
    let text = match args.format {
        Format::Html => report::html::render(&d),
        Format::Md => report::markdown::render(&d),
    };
    std::fs::write(&args.out, text)
        .map_err(|e| Error::io(format!("writing report {}", args.out.display()), e))?;
    if !quiet {
        outln!(
            "{}: {} sessions, {} matched items we learned, {} shared items counted (count \
             only); log: {}",
            args.out.display(),
            d.sessions.len(),
            d.total_own_matches(),
            d.total_own_counts(),
            d.verification
        );
        if let Some(note) = d.left_out_text() {
            outln!("{note}");
        }
    }
    // The report is written, and says FAILED; the exit says so too.
    match verified.problem() {
        Some(problem) => Err(super::audit::verification_error(
            &args.log, &verified, problem,
        )),
        None => Ok(()),
    }
}
