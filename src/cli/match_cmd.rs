//! `blindmatch match`: connect to a peer's `serve` and match as the initiator (in OPRF-PSI,
//! the receiver: it learns its matched items and, in labeled mode, their payload columns).

use std::path::PathBuf;
use std::sync::Arc;

use super::input;
use super::session_args::{self, SessionArgs, Summary};
use crate::error::{Error, Result};
use crate::protocol::Role;
use crate::transport::dispatch::{run_psi, Outcome};
use crate::transport::oprf_body::OprfOutcome;
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
    let kinds = session_args::input_kinds(&input);
    let (identity, auth, config) = args.session.resolve(quiet, &kinds, items.len())?;
    let (_policy, setup) = args.session.protocol_setup()?;
    let client_config = tls::client_config(&identity, &auth)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the runtime", e))?;
    let setup = Arc::new(setup);
    // Written inside the session, after the receipts and before the end entry of the log.
    let finish = |outcome: &Outcome, _: &[u8; 32]| -> Result<Option<PathBuf>> {
        match outcome {
            Outcome::Dh(o) => match o.matches() {
                Some(matches) => input::write_matches(&args.output, &input, matches)?,
                None => return Ok(None),
            },
            Outcome::Oprf(OprfOutcome::Receiver { output, columns }) => {
                input::write_oprf_matches(&args.output, &input, &output.matches, columns)?
            }
            Outcome::Oprf(OprfOutcome::Sender(_)) => return Ok(None),
        }
        Ok(Some(args.output.clone()))
    };
    let report = runtime.block_on(async {
        let conn = client::connect(&args.connect, client_config, &config.timeouts).await?;
        let items = input::items(&input);
        tokio::select! {
            r = run_psi(conn, Role::Initiator, &config, setup, items, finish) => r,
            _ = tokio::signal::ctrl_c() => Err(Error::LegacyCancelled("interrupted (Ctrl-C)".into())),
        }
    })?;
    if !quiet || args.session.json {
        Summary::new(&report, report.output_file.as_deref()).print(args.session.json);
    }
    Ok(())
}
