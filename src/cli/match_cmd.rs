//! `blindmatch match`: connect to a peer's `serve` and match as the initiator.

use std::path::PathBuf;

use super::input;
use super::session_args::{SessionArgs, Summary};
use crate::error::{Error, Result};
use crate::protocol::Role;
use crate::transport::session::{self, DhBody};
use crate::transport::{client, tls};

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
    let input = input::load(&args.input, quiet || args.session.json)?;
    let items = input::items(&input);
    let (identity, auth, config) = args.session.resolve(quiet, &input, items.len())?;
    let client_config = tls::client_config(&identity, &auth)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the runtime", e))?;
    let report = runtime.block_on(async {
        let conn = client::connect(&args.connect, client_config, &config.timeouts).await?;
        tokio::select! {
            r = session::run_session(conn, Role::Initiator, &config, DhBody::new(items), |out, _| {
                // Written only once both sides finished and the receipts were exchanged.
                match out.matches() {
                    Some(m) => input::write_matches(&args.output, &input, m).map(|()| Some(args.output.clone())),
                    None => Ok(None),
                }
            }) => r,
            _ = tokio::signal::ctrl_c() => Err(Error::Cancelled("interrupted (Ctrl-C)".into())),
        }
    })?;
    if !quiet || args.session.json {
        Summary::new(&report, report.output_file.as_deref()).print(args.session.json);
    }
    Ok(())
}
