//! `blindmatch match`: connect to a peer's `serve` and match as the initiator.

use std::path::PathBuf;

use super::input;
use super::session_args::{SessionArgs, Summary};
use crate::error::{Error, Result};
use crate::protocol::Role;
use crate::transport::{client, session, tls};

/// Connect to a peer and match.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Session options.
    #[command(flatten)]
    pub session: SessionArgs,
    /// The peer's address, host:port.
    #[arg(long)]
    pub connect: String,
    /// Input file: CSV with a header, or plain text with one item per line.
    #[arg(long)]
    pub input: PathBuf,
    /// The column holding the identifiers.
    #[arg(long)]
    pub column: Option<String>,
    /// Where to write our matched rows (CSV); written only if the session succeeds.
    #[arg(long)]
    pub output: PathBuf,
}

/// Runs the subcommand.
///
/// # Errors
/// Any input, configuration, TLS, handshake or protocol error; no output file is written.
pub fn run(args: Args, quiet: bool) -> Result<()> {
    let (identity, auth, config) = args.session.resolve(quiet)?;
    let input = input::load(&args.input, args.column.as_deref())?;
    let client_config = tls::client_config(&identity, &auth)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the runtime", e))?;
    let report = runtime.block_on(async {
        let conn = client::connect(&args.connect, client_config, &config.timeouts).await?;
        tokio::select! {
            r = session::run_dh(conn, Role::Initiator, &config, input.items()) => r,
            _ = tokio::signal::ctrl_c() => Err(Error::Cancelled("interrupted (Ctrl-C)".into())),
        }
    })?;
    let matches = report.output.matches().unwrap_or(&[]);
    let wrote = report.output.matches().is_some();
    if wrote {
        input::write_matches(&args.output, &input, matches)?;
    }
    if !quiet || args.session.json {
        Summary::new(&report, wrote.then_some(args.output.as_path())).print(args.session.json);
    }
    Ok(())
}
