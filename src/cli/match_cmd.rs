//! `blindmatch match`: connect to a peer's `serve` and match as the initiator (in OPRF-PSI,
//! the receiver: it learns its matched items and, in labeled mode, their payload columns).

use std::path::PathBuf;
use std::sync::Arc;

use super::input;
use super::output::CsvSink;
use super::session_args::{cancel_on_signal, key_kinds, SessionArgs, Summary};
use crate::error::{Error, Result};
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
    /// Where to write our matched rows (CSV); written only if the session succeeds.
    #[arg(long)]
    pub output: PathBuf,
}

/// Runs the subcommand.
///
/// # Errors
/// Any input, configuration, TLS, handshake or protocol error; no output file is written.
pub fn run(args: Args, quiet: bool) -> Result<()> {
    let records = Arc::new(input::load(&args.input, quiet || args.session.json)?);
    let agency = args.session.open_agency()?;
    let spec = args
        .session
        .spec(input::items(&records), key_kinds(&records));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the runtime", e))?;
    let report = runtime.block_on(async {
        let (trigger, stop) = shutdown::channel();
        cancel_on_signal(trigger, "the session ends with an abort");
        let mut options = args.session.run_options(quiet, stop);
        options.sink = Arc::new(CsvSink {
            path: args.output.clone(),
            records: records.clone(),
            per_session: false,
        });
        agency.connect(&args.connect, spec, options).await
    })?;
    if !quiet || args.session.json {
        Summary::new(&report)
            .with_input(Some(&records))
            .print(args.session.json);
    }
    Ok(())
}
