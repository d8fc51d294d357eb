//! `blindmatch match`: connect to a peer's `serve` and match as the initiator (in OPRF-PSI,
//! the receiver: it learns its matched items and, in labeled mode, their payload columns).

use std::sync::Arc;

use super::input;
use super::output::CsvSink;
use super::session_args::{cancel_on_signal, key_kinds, SessionArgs, Summary};
use super::session_output::OutputArgs;
use crate::error::{Error, Result};
use crate::protocol::Role;
use crate::transport::shutdown;

/// Connect to a peer and match.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Session options.
    #[command(flatten)]
    pub session: SessionArgs,
    /// The peer's address, host:port.
    #[arg(long)]
    pub connect: String,
    /// Input options.
    #[command(flatten)]
    pub input: input::InputArgs,
    /// Output options (`--output` is required where we learn our matches, so in every mode
    /// but cardinality).
    #[command(flatten)]
    pub outputs: OutputArgs,
}

/// Runs the subcommand.
///
/// # Errors
/// Any input, configuration, TLS, handshake or protocol error; no output file is written.
/// Output paths that cannot be used ([`crate::error::InputReason::OutputPath`]) and an input
/// of which every value was rejected ([`crate::error::InputReason::Empty`]) are refused before
/// connecting.
pub fn run(args: Args, quiet: bool) -> Result<()> {
    let quiet_notes = quiet || args.session.json;
    let output = args.outputs.checked(
        &args.input,
        Role::Initiator,
        args.session.mode,
        true,
        false,
        quiet_notes,
    )?;
    let unmatched = args.outputs.unmatched_with(&output);
    let shard = args.session.shard(unmatched.is_some())?;
    let records = Arc::new(input::load(&args.input, quiet_notes)?);
    super::rejects::require_items(&records)?;
    let agency = args.session.open_agency()?;
    let mut spec = args
        .session
        .spec(input::items(&records), key_kinds(&records));
    spec.shard = shard;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the runtime", e))?;
    let report = runtime.block_on(async {
        let (trigger, stop) = shutdown::channel();
        cancel_on_signal(trigger, "the session ends with an abort");
        let mut options = args.session.run_options(quiet, stop);
        if let Some(path) = &output {
            options.sink = Arc::new(CsvSink {
                path: path.clone(),
                records: records.clone(),
                per_session: false,
                unmatched,
                force: args.outputs.force,
            });
        }
        agency.connect(&args.connect, spec, options).await
    });
    if matches!(&report, Err(e) if !matches!(e, Error::Checkpoint(_))) {
        args.session.checkpoint_note();
    }
    let report = report?;
    if !quiet || args.session.json {
        Summary::new(&report)
            .with_input(Some(&records))
            .print(args.session.json);
    }
    Ok(())
}
