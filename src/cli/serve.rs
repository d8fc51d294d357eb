//! `blindmatch serve`: wait for peers and match as the responder (DH-PSI, or OPRF-PSI as the
//! sender, from `--input` or a precomputed `--index`), until Ctrl-C.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::input;
use super::session_args::{self, SessionArgs, Summary};
use crate::error::{Error, Result};
use crate::index::Index;
use crate::policy::Policy;
use crate::protocol::{ItemSet, Role};
use crate::records::Records;
use crate::transport::dispatch::{run_psi, Outcome, ProtocolSetup, SenderSource};
use crate::transport::negotiate::ProtocolChoice;
use crate::transport::server::{serve, ServeOptions};
use crate::transport::session::SessionConfig;
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
    /// Serve OPRF-PSI from a precomputed index (`blindmatch index`) instead of `--input`: the
    /// online phase evaluates only the receiver's elements. Every session uses the index's
    /// key, which the policy must allow (`allow_key_reuse = true`).
    #[arg(long, conflicts_with = "input", requires = "passphrase_file")]
    pub index: Option<PathBuf>,
    /// The passphrase file of `--index`.
    #[arg(long)]
    pub passphrase_file: Option<PathBuf>,
    /// Labeled mode with `--input`: comma-separated columns whose values become each item's
    /// payload (each must be among the policy's `revealable_columns`).
    #[arg(long, value_delimiter = ',')]
    pub label_columns: Vec<String>,
}

/// The responder's OPRF-PSI material: an opened index, or payloads of the input's items.
/// Returns the identifier kinds served (for the policy): the input's, or those the index
/// recorded (`raw` for an index that recorded none).
fn sender_source(
    args: &Args,
    policy: &Policy,
    input: Option<&Records>,
    setup: &mut ProtocolSetup,
) -> Result<Vec<String>> {
    let mut kinds: Vec<String> = input
        .map(|r| {
            session_args::input_kinds(r)
                .into_iter()
                .map(String::from)
                .collect()
        })
        .unwrap_or_default();
    let columns = if let Some(dir) = &args.index {
        policy.check_key_reuse()?;
        if setup.choice == ProtocolChoice::Dh {
            return Err(Error::LegacyConfig(
                "--index serves OPRF-PSI only: use --protocol oprf or auto".into(),
            ));
        }
        setup.choice = ProtocolChoice::Oprf;
        let pass_path = args.passphrase_file.as_deref().unwrap_or(Path::new(""));
        let passphrase = zeroize::Zeroizing::new(
            std::fs::read(pass_path)
                .map_err(|e| Error::io(format!("reading {}", pass_path.display()), e))?,
        );
        let index = Index::open(dir, &passphrase)?;
        if index.prepared().suite() != setup.suite {
            setup.suite = index.prepared().suite();
        }
        let columns = index.label_columns().to_vec();
        kinds = index.kinds().to_vec();
        if kinds.is_empty() {
            kinds.push("raw".into());
        }
        setup.sender = Some(SenderSource::Index {
            set: Arc::new(index.into_prepared()),
            columns: columns.clone(),
        });
        columns
    } else {
        let payloads = match (input, args.label_columns.is_empty()) {
            (Some(recs), false) => {
                Some(Arc::new(input::label_payloads(recs, &args.label_columns)?))
            }
            _ => None,
        };
        setup.sender = Some(SenderSource::Fresh {
            payloads,
            columns: args.label_columns.clone(),
        });
        args.label_columns.clone()
    };
    if setup.labeled {
        if columns.is_empty() {
            return Err(Error::LegacyConfig(
                "--mode labeled needs --label-columns, or a labeled index".into(),
            ));
        }
        if let Some(c) = columns
            .iter()
            .find(|c| !policy.revealable_columns().contains(*c))
        {
            return Err(Error::LegacyPolicyRefused {
                rule: "revealable_columns".into(),
                detail: format!(
                    "payload column `{c}` is not among the policy's revealable columns"
                ),
            });
        }
    }
    Ok(kinds)
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
    let input = match args.index {
        Some(_) => None,
        None => Some(Arc::new(input::load(
            &args.input,
            quiet || args.session.json,
        )?)),
    };
    let (policy, mut setup) = args.session.protocol_setup()?;
    let kinds = sender_source(&args, &policy, input.as_deref(), &mut setup)?;
    let own_unique = match (&setup.sender, &input) {
        (Some(SenderSource::Index { set, .. }), _) => set.len(),
        (_, Some(recs)) => input::items(recs).len(),
        _ => 0,
    };
    let kind_refs: Vec<&str> = kinds.iter().map(String::as_str).collect();
    let (identity, auth, config) = args.session.resolve(quiet, &kind_refs, own_unique)?;
    let setup = Arc::new(setup);
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
            let setup = setup.clone();
            let output = output.clone();
            let last = last2.clone();
            async move {
                let r = handle(
                    conn,
                    &config,
                    setup,
                    input.as_deref(),
                    output.as_deref(),
                    (once, json, quiet),
                )
                .await;
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
            None => Err(Error::LegacyCancelled("no session was served".into())),
        };
    }
    Ok(())
}

async fn handle(
    conn: Result<crate::transport::client::Connected<crate::transport::server::ServerStream>>,
    config: &SessionConfig,
    setup: Arc<ProtocolSetup>,
    input: Option<&Records>,
    output: Option<&Path>,
    (once, json, quiet): (bool, bool, bool),
) -> Result<()> {
    let items = input.map_or_else(|| ItemSet::new(Vec::<Vec<u8>>::new()), input::items);
    let finish = |outcome: &Outcome, session_id: &[u8; 32]| -> Result<Option<PathBuf>> {
        if let (Some(base), Some(input), Outcome::Dh(o)) = (output, input, outcome) {
            if let Some(matches) = o.matches() {
                let path = output_path(base, session_id, once);
                input::write_matches(&path, input, matches)?;
                return Ok(Some(path));
            }
        }
        Ok(None)
    };
    let report = run_psi(conn?, Role::Responder, config, setup, items, finish).await?;
    if !quiet || json {
        Summary::new(&report, report.output_file.as_deref()).print(json);
    }
    Ok(())
}
