//! `blindmatch serve`: wait for peers and match as the responder, until Ctrl-C.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::input;
use super::session_args::{SessionArgs, Summary};
use crate::error::{Error, Result};
use crate::protocol::Role;
use crate::records::Records;
use crate::transport::server::{serve, ServeOptions};
use crate::transport::session::{self, DhBody, SessionConfig};
use crate::transport::tls;

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
    /// Where to write our matched rows (mutual mode). With several sessions, the session id
    /// is inserted before the extension.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Serve one connection, then exit with its outcome.
    #[arg(long)]
    pub once: bool,
    /// Sessions running at once.
    #[arg(long, default_value_t = 4)]
    pub max_sessions: usize,
}

fn output_path(base: &Path, session_id: &[u8; 32], once: bool) -> PathBuf {
    if once {
        return base.to_path_buf();
    }
    let sid = hex::encode(&session_id[..8]);
    let stem = base
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = match base.extension() {
        Some(ext) => format!("{stem}.{sid}.{}", ext.to_string_lossy()),
        None => format!("{stem}.{sid}"),
    };
    base.with_file_name(name)
}

/// Runs the subcommand.
///
/// # Errors
/// Configuration errors; with `--once`, the session's error.
pub fn run(args: Args, quiet: bool) -> Result<()> {
    let input = Arc::new(input::load(&args.input, quiet || args.session.json)?);
    let own_unique = input::items(&input).len();
    let (identity, auth, config) = args.session.resolve(quiet, &input, own_unique)?;
    let server_config = tls::server_config(&identity, &auth)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("starting the runtime", e))?;
    let last: Arc<Mutex<Option<Result<()>>>> = Arc::new(Mutex::new(None));
    let config = Arc::new(config);
    let json = args.session.json;
    let once = args.once;
    let output = args.output.clone();
    let last2 = last.clone();
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&args.listen)
            .await
            .map_err(|e| Error::io(format!("listening on {}", args.listen), e))?;
        let local = listener
            .local_addr()
            .map_err(|e| Error::io("reading the listening address", e))?;
        eprintln!("blindmatch: listening on {local}");
        let options = ServeOptions {
            max_concurrent: args.max_sessions,
            max_connections: once.then_some(1),
            timeouts: config.timeouts,
        };
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
            eprintln!("blindmatch: shutting down after the running sessions end");
        };
        serve(listener, server_config, options, shutdown, move |conn| {
            let input = input.clone();
            let config = config.clone();
            let output = output.clone();
            let last = last2.clone();
            async move {
                let r = handle(conn, &config, &input, output.as_deref(), once, json, quiet).await;
                if let Err(e) = &r {
                    eprintln!("blindmatch: session failed: {e}");
                }
                if let Ok(mut slot) = last.lock() {
                    *slot = Some(r);
                }
            }
        })
        .await
    })?;
    if once {
        let outcome = last.lock().ok().and_then(|mut s| s.take());
        return match outcome {
            Some(Err(e)) => Err(e),
            Some(Ok(())) => Ok(()),
            None => Err(Error::Cancelled("no session was served".into())),
        };
    }
    Ok(())
}

async fn handle(
    conn: Result<crate::transport::client::Connected<crate::transport::server::ServerStream>>,
    config: &SessionConfig,
    input: &Records,
    output: Option<&Path>,
    once: bool,
    json: bool,
    quiet: bool,
) -> Result<()> {
    let body = DhBody::new(input::items(input));
    let report = session::run_session(conn?, Role::Responder, config, body, |out, sid| {
        // Written only once both sides finished and the receipts were exchanged.
        match (output, out.matches()) {
            (Some(base), Some(matches)) => {
                let path = output_path(base, sid, once);
                input::write_matches(&path, input, matches)?;
                Ok(Some(path))
            }
            _ => Ok(None),
        }
    })
    .await?;
    if !quiet || json {
        Summary::new(&report, report.output_file.as_deref()).print(json);
    }
    Ok(())
}
