//! Helpers for tests that run two `Agency`s in one process over loopback TLS: B serves one
//! connection, A connects.
#![allow(dead_code)]

use blindmatch::agency::{Agency, RunOptions, SessionSpec};
use blindmatch::error::Error;
use blindmatch::protocol::ItemSet;
use blindmatch::session::{ProtocolChoice, SessionMode, SessionReport};
use blindmatch::transport::server::ServerLimits;
use blindmatch::transport::shutdown::Shutdown;
use blindmatch::transport::timeouts::Timeouts;

/// A's result and B's.
pub type Results = (
    blindmatch::Result<SessionReport>,
    blindmatch::Result<SessionReport>,
);

/// Options with a 10-second read deadline.
pub fn options() -> RunOptions {
    RunOptions::default().with_timeouts(Timeouts::default().with_read_secs(10))
}

/// Runs one session: B serves one connection with `b_spec` and `b_options`, A connects with
/// `a_spec` and `a_options`.
pub fn run_pair(
    a: &Agency,
    b: &Agency,
    (a_spec, a_options): (SessionSpec, RunOptions),
    (b_spec, b_options): (SessionSpec, RunOptions),
) -> Results {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let tx = std::sync::Mutex::new(Some(tx));
        let limits = ServerLimits::default().with_max_connections(1);
        let b = b.clone();
        let server = tokio::spawn(async move {
            b.serve(
                listener,
                limits,
                Shutdown::never(),
                move || (b_spec.clone(), b_options.clone()),
                move |r| {
                    if let Some(tx) = tx.lock().unwrap().take() {
                        let _ = tx.send(r);
                    }
                },
            )
            .await
        });
        let ra = a.connect(&addr, a_spec, a_options).await;
        // A refusal before listening ends `serve` with no session.
        let served = server.await.unwrap();
        let rb = match rx.await {
            Ok(r) => r,
            Err(_) => Err(served.err().unwrap_or_else(|| Error::internal("no result"))),
        };
        (ra, rb)
    })
}

/// `n` items `{prefix}{i}` and `shared` items `shared{i}`.
pub fn items(prefix: &str, n: usize, shared: usize) -> ItemSet {
    ItemSet::new(
        (0..n)
            .map(|i| format!("{prefix}{i}"))
            .chain((0..shared).map(|i| format!("shared{i}"))),
    )
}

/// A spec of raw items in `mode` under `protocol`, 16 entries per message.
pub fn spec(mode: SessionMode, protocol: ProtocolChoice, set: ItemSet) -> SessionSpec {
    let mut s = SessionSpec::new(mode, set, vec!["raw".into()]);
    s.protocol = protocol;
    s.chunk_size = 16;
    s
}
