//! `blindmatch serve`: wait for peers and match as the responder (DH-PSI, or OPRF-PSI as the
//! sender, from `--input` or a precomputed `--index`), until Ctrl-C or SIGTERM.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::input;
use super::output::CsvSink;
use super::session_args::{cancel_on_signal, key_kinds, SessionArgs, Summary};
use super::session_output::OutputArgs;
use crate::error::{CancelReason, Error, Result};
use crate::index::Index;
use crate::protocol::{ItemSet, Role};
use crate::records::Records;
use crate::session::SenderSource;
use crate::transport::server::ServerLimits;
use crate::transport::shutdown;

/// Serve matching sessions to pinned peers.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Session options.
    #[command(flatten)]
    pub session: SessionArgs,
    /// Address to listen on, host:port (port 0 picks a free port, printed on stderr).
    #[arg(long)]
    pub listen: String,
    /// Input options.
    #[command(flatten)]
    pub input: input::InputArgs,
    /// Output options (`--output` is written in mutual mode only, where the responder learns
    /// its matches; elsewhere it is ignored, with a note). With several sessions, each
    /// session's id is inserted before the extension.
    #[command(flatten)]
    pub outputs: OutputArgs,
    /// Serve one connection, then exit with its outcome.
    #[arg(long)]
    pub once: bool,
    /// Sessions running at once; further authenticated peers wait for a slot.
    #[arg(long, default_value_t = 4)]
    pub max_sessions: usize,
    /// Connections in the TLS handshake at once; one more drops the oldest pending one.
    #[arg(long, default_value_t = 64)]
    pub max_handshakes: usize,
    /// Seconds a connection may take to complete the TLS handshake before it is dropped.
    #[arg(long, default_value_t = 10)]
    pub tls_timeout: u64,
    /// Serve OPRF-PSI from a precomputed index (`blindmatch index`) instead of `--input`: the
    /// online phase evaluates only the receiver's elements. Every session uses the index's
    /// key, which the policy must allow (`allow_key_reuse = true`).
    #[arg(long, conflicts_with = "input", requires = "passphrase_file")]
    pub index: Option<PathBuf>,
    /// The passphrase file of `--index` (mode 0600: a file others may read is refused).
    #[arg(long)]
    pub passphrase_file: Option<PathBuf>,
    /// Labeled mode with `--input`: comma-separated columns whose values become each item's
    /// payload (each must be among the policy's `revealable_columns`).
    #[arg(long, value_delimiter = ',')]
    pub label_columns: Vec<String>,
}

/// What every session of this `serve` brings.
struct Served {
    items: ItemSet,
    records: Option<Arc<Records>>,
    sender: SenderSource,
    key_kinds: Vec<String>,
}

fn served(args: &Args, quiet: bool) -> Result<Served> {
    if let Some(dir) = &args.index {
        let pass_path = args.passphrase_file.as_deref().unwrap_or(Path::new(""));
        let passphrase = zeroize::Zeroizing::new(crate::file_mode::read_secret(pass_path, |e| {
            Error::io(format!("reading {}", pass_path.display()), e)
        })?);
        let index = Index::open(dir, &passphrase)?;
        // Refused before listening; each session checks again (spec 7.8.2).
        index.key_epoch().check_at(crate::index::unix_now())?;
        let epoch = index.key_epoch();
        let columns = index.label_columns().to_vec();
        let mut kinds = index.kinds().to_vec();
        if kinds.is_empty() {
            kinds.push("raw".into());
        }
        return Ok(Served {
            items: ItemSet::default(),
            records: None,
            sender: SenderSource::Index {
                set: Arc::new(index.into_prepared()),
                columns,
                epoch,
            },
            key_kinds: kinds,
        });
    }
    let records = Arc::new(input::load(&args.input, quiet || args.session.json)?);
    super::rejects::require_items(&records)?;
    let payloads = if args.label_columns.is_empty() {
        None
    } else {
        Some(Arc::new(input::label_payloads(
            &records,
            &args.label_columns,
        )?))
    };
    Ok(Served {
        items: input::items(&records),
        key_kinds: key_kinds(&records),
        sender: SenderSource::Fresh {
            payloads,
            columns: args.label_columns.clone(),
        },
        records: Some(records),
    })
}

/// Runs the subcommand.
///
/// # Errors
/// Configuration errors; with `--once`, the session's error.
pub fn run(args: Args, quiet: bool) -> Result<()> {
    let output = args.outputs.checked(
        &args.input,
        Role::Responder,
        args.session.mode,
        false,
        !args.once,
        quiet || args.session.json,
    )?;
    let unmatched = args.outputs.unmatched_with(&output);
    let shard = args.session.shard(unmatched.is_some())?;
    if args.session.checkpoint.is_some() && !args.once {
        return Err(Error::config(
            crate::error::ConfigReason::Conflict,
            "--checkpoint keeps one session: serve it with --once",
        ));
    }
    let served = Arc::new(served(&args, quiet)?);
    let agency = args.session.open_agency()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the runtime", e))?;
    let last: Arc<Mutex<Option<Result<()>>>> = Arc::new(Mutex::new(None));
    let json = args.session.json;
    let session_args = args.session.clone();
    // For the note after a failed `--once` session (the closures own `session_args`).
    let note_args = args.session.clone();
    let once = args.once;
    let force = args.outputs.force;
    let mut timeouts = args.session.timeouts();
    timeouts.tls_handshake = std::time::Duration::from_secs(args.tls_timeout);
    let limits = ServerLimits {
        max_sessions: args.max_sessions,
        max_handshakes: args.max_handshakes,
        max_connections: once.then_some(1),
        timeouts,
    };
    let last2 = last.clone();
    let served_records = served.records.clone();
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .map_err(|e| Error::io(format!("listening on {}", args.listen), e))?;
        let local = listener
            .local_addr()
            .map_err(|e| Error::io("reading the listening address", e))?;
        let (trigger, stop) = shutdown::channel();
        cancel_on_signal(
            trigger,
            "no new sessions; running sessions end with an abort",
        );
        eprintln!("blindmatch: listening on {local}");
        let spec_stop = stop.clone();
        let spec = move || {
            let mut s = session_args.spec(served.items.clone(), served.key_kinds.clone());
            s = s.with_sender(served.sender.clone());
            s.shard = shard;
            let mut o = session_args.run_options(quiet, spec_stop.clone());
            o.timeouts = timeouts;
            if let (Some(path), Some(records)) = (&output, &served.records) {
                o.sink = Arc::new(CsvSink {
                    path: path.clone(),
                    records: records.clone(),
                    per_session: !once,
                    unmatched: unmatched.clone(),
                    force,
                });
            }
            (s, o)
        };
        let input = served_records;
        let done = move |r: Result<crate::session::SessionReport>| {
            let r = match r {
                Ok(report) => {
                    if !quiet || json {
                        Summary::new(&report)
                            .with_input(input.as_deref())
                            .print(json);
                    }
                    Ok(())
                }
                Err(e) => {
                    eprintln!("blindmatch: session failed: {e}");
                    Err(e)
                }
            };
            if let Ok(mut slot) = last2.lock() {
                *slot = Some(r);
            }
        };
        agency.serve(listener, limits, stop, spec, done).await
    })?;
    if once {
        let outcome = last.lock().ok().and_then(|mut s| s.take());
        if matches!(&outcome, Some(Err(e)) if !matches!(e, Error::Checkpoint(_))) {
            note_args.checkpoint_note();
        }
        return match outcome {
            Some(r) => r,
            None => Err(Error::Cancelled(CancelReason::NoSession)),
        };
    }
    Ok(())
}
