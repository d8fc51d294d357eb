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

use blindmatch::agency::{Agency, AgencyFiles, RunOptions, SessionSpec};
use blindmatch::identity::Identity;
use blindmatch::index::{Index, IndexOptions};
use blindmatch::oprf::Suite;
use blindmatch::policy::Policy;
use blindmatch::protocol::ItemSet;
use blindmatch::session::{BodyOutput, SenderSource, SessionMode, SessionReport};
use blindmatch::transport::server::ServerLimits;
use blindmatch::transport::shutdown::Shutdown;
use blindmatch::transport::timeouts::Timeouts;
use blindmatch::transport::verifier::PeerAuth;
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
        &IndexOptions::default(),
        &mut rng,
    )?;
    let create = t.elapsed();
    let epoch = index.key_epoch();
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
    let (fa, fb) = (a.fingerprint(), b.fingerprint());
    // Serving an index reuses its key: the policy must allow it.
    let policy = Policy::parse(
        &format!(
            "version = 2\nname = \"oprf_net bench\"\nmodes = [\"intersection\"]\n\
             identifier_kinds = [\"raw\"]\nmin_set_size = 1\nmax_set_size = {}\n\
             revealable_columns = []\nmax_sessions_per_peer_per_day = {}\n\
             max_elements_per_peer = {}\n\
             cardinality_before_reveal = false\noutput_retention_days = 0\n\
             allow_key_reuse = true\n",
            n_s.max(n_r),
            runs + 1,
            (n_s.max(n_r) as u64) * (runs as u64 + 1)
        ),
        "bench policy",
    )?;
    let receiver_agency = Agency::open(
        a,
        policy.clone(),
        PeerAuth::pinned(fb),
        &AgencyFiles::in_dir(&a_dir),
    )?;
    let sender_agency = Agency::open(
        b,
        policy,
        PeerAuth::pinned(fa),
        &AgencyFiles::in_dir(&b_dir),
    )?;
    let options = RunOptions::default().with_timeouts(Timeouts::default().with_read_secs(60));
    let receiver_spec = SessionSpec::new(
        SessionMode::Intersection,
        receiver.clone(),
        vec!["raw".into()],
    );
    let sender_spec = SessionSpec::new(
        SessionMode::Intersection,
        ItemSet::default(),
        vec!["raw".into()],
    )
    .with_sender(SenderSource::Index {
        set,
        columns: Vec::new(),
        epoch,
    });

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::io("runtime", e))?;
    let mut times = Vec::with_capacity(runs);
    let mut last: Option<(SessionReport, SessionReport)> = None;
    for _ in 0..runs {
        let (elapsed, ra, rb) = runtime.block_on(async {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| Error::io("bind", e))?;
            let addr = listener
                .local_addr()
                .map_err(|e| Error::io("addr", e))?
                .to_string();
            let (tx, rx) = tokio::sync::oneshot::channel::<Result<SessionReport, Error>>();
            let tx = std::sync::Mutex::new(Some(tx));
            let limits = ServerLimits::default()
                .with_max_sessions(1)
                .with_max_connections(1)
                .with_timeouts(options.timeouts);
            let (agency, spec, opts) =
                (sender_agency.clone(), sender_spec.clone(), options.clone());
            let server = tokio::spawn(async move {
                agency
                    .serve(
                        listener,
                        limits,
                        Shutdown::never(),
                        move || (spec.clone(), opts.clone()),
                        move |r| {
                            if let Some(tx) = tx.lock().ok().and_then(|mut t| t.take()) {
                                let _ = tx.send(r);
                            }
                        },
                    )
                    .await
            });
            let start = Instant::now();
            let ra = receiver_agency
                .connect(&addr, receiver_spec.clone(), options.clone())
                .await?;
            let elapsed = start.elapsed();
            let rb = rx
                .await
                .map_err(|_| Error::internal("the sender ended without a result"))??;
            let _ = server.await;
            Ok::<_, Error>((elapsed, ra, rb))
        })?;
        times.push(elapsed);
        last = Some((ra, rb));
    }
    let Some((ra, rb)) = last else {
        return Err(Error::internal("no run"));
    };
    let matches = match &ra.outcome().output() {
        BodyOutput::Receiver(o) => o.matches.len(),
        _ => return Err(Error::internal("the session did not run OPRF-PSI")),
    };
    if matches != expected {
        return Err(Error::internal(format!(
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
        secs(ra.elapsed())
    );
    let to_sender = ra.traffic().bytes_sent;
    let to_receiver = ra.traffic().bytes_received;
    assert_eq!(to_receiver, rb.traffic().bytes_sent);
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
