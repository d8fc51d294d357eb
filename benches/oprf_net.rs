//! OPRF-PSI over loopback mutual TLS 1.3, unbalanced: a receiver of 2^10 items against a sender
//! serving a precomputed index of 2^20 items (`BLINDMATCH_BENCH_LOG2_SENDER`, for example 24).
//!
//! Measures, in one process (both agencies share the machine's cores):
//! * the precomputation: `Index::create` (evaluate, sort, wrap the key, write the files) and
//!   `Index::open` (read and unwrap), once;
//! * the online phase, `BLINDMATCH_BENCH_RUNS` times (default 5): TCP connect, TLS 1.3 with
//!   mutual authentication, the session handshake, the sender parameters, the receiver's
//!   blinded elements evaluated online, and the index's tags streamed to the receiver;
//! * the bytes each way (frames, excluding TLS overhead), and the bytes per sender item of the
//!   tag encoding.
//!
//! `cargo bench --bench oprf_net` (`BLINDMATCH_BENCH_LOG2_SENDER=24 cargo bench --bench oprf_net`)

use std::sync::Arc;
use std::time::{Duration, Instant};

use blindmatch::identity::Identity;
use blindmatch::index::Index;
use blindmatch::oprf::Suite;
use blindmatch::protocol::{ItemSet, Mode, Role};
use blindmatch::transport::dispatch::{run_psi, Outcome, ProtocolSetup, Report, SenderSource};
use blindmatch::transport::negotiate::ProtocolChoice;
use blindmatch::transport::oprf_body::OprfOutcome;
use blindmatch::transport::server::{serve, ServeOptions};
use blindmatch::transport::session::SessionConfig;
use blindmatch::transport::timeouts::Timeouts;
use blindmatch::transport::verifier::PeerAuth;
use blindmatch::transport::{client, tls};
use blindmatch::Error;

const PASSPHRASE: &[u8] = b"benchmark passphrase of at least thirty-two bytes";

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() -> Result<(), Error> {
    // `cargo bench` passes `--bench`; nothing else to parse.
    let log_r = env("BLINDMATCH_BENCH_LOG2_RECEIVER", 10);
    let log_s = env("BLINDMATCH_BENCH_LOG2_SENDER", 20);
    let runs = env("BLINDMATCH_BENCH_RUNS", 5).max(1);
    let (n_r, n_s) = (1usize << log_r, 1usize << log_s);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "oprf_net: receiver 2^{log_r} vs precomputed index 2^{log_s}, loopback mutual TLS 1.3, \
         {cores} cores, backend {}",
        blindmatch::group::backend()
    );
    // Half of the receiver's items are in the sender's set.
    let receiver = ItemSet::new((0..n_r).map(|i| {
        if i % 2 == 0 {
            format!("IMO{:08}", i * 7 % n_s)
        } else {
            format!("absent-{i}")
        }
    }));
    let expected = (0..n_r).filter(|i| i % 2 == 0).count();
    let sender = ItemSet::new((0..n_s).map(|i| format!("IMO{i:08}")));

    let dir = tempfile::tempdir().map_err(|e| Error::io("tempdir", e))?;
    let mut rng = rand_core::UnwrapErr(rand::rngs::SysRng);
    let t = Instant::now();
    let index = Index::create(
        &dir.path().join("idx"),
        Suite::default(),
        PASSPHRASE,
        &sender,
        None,
        &mut rng,
    )?;
    let create = t.elapsed();
    drop(index);
    drop(sender);
    let t = Instant::now();
    let set = Arc::new(Index::open(&dir.path().join("idx"), PASSPHRASE)?.into_prepared());
    let open = t.elapsed();
    println!(
        "precomputation (blindmatch index, 2^{log_s} items): {:.2} s; opening the index: {:.2} s",
        create.as_secs_f64(),
        open.as_secs_f64()
    );

    let a_dir = dir.path().join("receiver");
    let b_dir = dir.path().join("sender");
    Identity::create(&a_dir, "receiver", false)?;
    Identity::create(&b_dir, "sender", false)?;
    let (a, b) = (Identity::load(&a_dir)?, Identity::load(&b_dir)?);
    let client_config = tls::client_config(&a, &PeerAuth::pinned(b.fingerprint))?;
    let server_config = tls::server_config(&b, &PeerAuth::pinned(a.fingerprint))?;
    let config = SessionConfig {
        mode: Mode::Intersection,
        policy_digest: blindmatch::policy::Policy::default_policy().digest(),
        chunk_size: 4096,
        padded_count: None,
        timeouts: Timeouts::default().with_read_secs(60),
        quiet: true,
        gate: None,
        compliance: None,
    };
    let receiver_setup = Arc::new(ProtocolSetup {
        choice: ProtocolChoice::Auto,
        ..ProtocolSetup::default()
    });
    let sender_setup = Arc::new(ProtocolSetup {
        choice: ProtocolChoice::Oprf,
        sender: Some(SenderSource::Index {
            set,
            columns: Vec::new(),
        }),
        ..ProtocolSetup::default()
    });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("runtime", e))?;
    let mut times = Vec::with_capacity(runs);
    let mut last: Option<(Report, Report)> = None;
    for _ in 0..runs {
        let (elapsed, ra, rb) = runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| Error::io("bind", e))?;
            let addr = listener
                .local_addr()
                .map_err(|e| Error::io("addr", e))?
                .to_string();
            let (tx, rx) = tokio::sync::oneshot::channel::<Result<Report, Error>>();
            let tx = std::sync::Mutex::new(Some(tx));
            let (cfg, setup) = (config.clone(), sender_setup.clone());
            let options = ServeOptions {
                max_concurrent: 1,
                max_connections: Some(1),
                timeouts: config.timeouts,
            };
            let server = tokio::spawn(serve(
                listener,
                server_config.clone(),
                options,
                std::future::pending(),
                move |conn| {
                    let (cfg, setup) = (cfg.clone(), setup.clone());
                    let tx = tx.lock().ok().and_then(|mut t| t.take());
                    async move {
                        let r = match conn {
                            Ok(c) => {
                                let empty = ItemSet::new(Vec::<Vec<u8>>::new());
                                run_psi(c, Role::Responder, &cfg, setup, empty, |_, _| Ok(None))
                                    .await
                            }
                            Err(e) => Err(e),
                        };
                        if let Some(tx) = tx {
                            let _ = tx.send(r);
                        }
                    }
                },
            ));
            let start = Instant::now();
            let conn = client::connect(&addr, client_config.clone(), &config.timeouts).await?;
            let ra = run_psi(
                conn,
                Role::Initiator,
                &config,
                receiver_setup.clone(),
                receiver.clone(),
                |_, _| Ok(None),
            )
            .await?;
            let elapsed = start.elapsed();
            let rb = rx.await.map_err(|_| {
                Error::LegacyCancelled("the sender ended without a result".into())
            })??;
            let _ = server.await;
            Ok::<_, Error>((elapsed, ra, rb))
        })?;
        times.push(elapsed);
        last = Some((ra, rb));
    }
    let Some((ra, rb)) = last else {
        return Err(Error::LegacyCancelled("no run".into()));
    };
    let matches = match &ra.output {
        Outcome::Oprf(OprfOutcome::Receiver { output, .. }) => output.matches.len(),
        _ => {
            return Err(Error::LegacyConfig(
                "the session did not run OPRF-PSI".into(),
            ))
        }
    };
    if matches != expected {
        return Err(Error::LegacyConfig(format!(
            "{matches} matches, expected {expected}"
        )));
    }
    times.sort();
    let secs = |d: Duration| d.as_secs_f64();
    println!(
        "online phase (connect + TLS + handshake + session), {runs} runs: median {:.3} s, min {:.3} s, max {:.3} s",
        secs(times[times.len() / 2]),
        secs(times[0]),
        secs(times[times.len() - 1])
    );
    println!(
        "  of which the session after TLS (receiver's clock): {:.3} s (last run)",
        secs(ra.elapsed)
    );
    let to_sender = ra.stats.bytes_sent;
    let to_receiver = ra.stats.bytes_received;
    assert_eq!(to_receiver, rb.stats.bytes_sent);
    // Evaluated frames (frame + message headers), the parameters frame and Done.
    let elements = 32 * n_r as u64 + 10 * n_r.div_ceil(4096) as u64 + 10 + 5;
    let tags = to_receiver.saturating_sub(elements);
    println!("bytes receiver -> sender: {to_sender}; sender -> receiver: {to_receiver}");
    println!(
        "  of which the tag stream (sender -> receiver minus the Evaluated elements): {tags} bytes, \
         {:.2} bytes per sender item",
        tags as f64 / n_s as f64
    );
    println!("matches: {matches} (expected {expected})");
    Ok(())
}
