//! The responder's accept loop (the mini-redis model): accept raced against shutdown, a
//! semaphore capping concurrent sessions, TLS under a deadline, and handlers that finish
//! before [`serve`] returns.

use std::future::Future;
use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;

use super::client::Connected;
use super::handshake::exporter;
use super::timeouts::{deadline, Timeouts};
use super::tls::{peer_certificate, tls_error};
use crate::error::{Error, Result};

/// A server-side TLS stream.
pub type ServerStream = tokio_rustls::server::TlsStream<TcpStream>;

/// Settings of the accept loop.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Sessions running at once; further connections wait for a free slot.
    pub max_concurrent: usize,
    /// Stop accepting after this many connections (`None`: until shutdown).
    pub max_connections: Option<usize>,
    /// Deadlines.
    pub timeouts: Timeouts,
}

/// Accepts connections until `shutdown` completes (or `max_connections` were accepted), runs
/// `handler` for each with the authenticated connection or the reason TLS failed, and waits
/// for every running handler before returning.
///
/// # Errors
/// [`Error::Io`] if accepting fails.
pub async fn serve<H, Fut>(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    options: ServeOptions,
    shutdown: impl Future<Output = ()>,
    handler: H,
) -> Result<()>
where
    H: Fn(Result<Connected<ServerStream>>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let acceptor = TlsAcceptor::from(config);
    let limit = Arc::new(Semaphore::new(options.max_concurrent.max(1)));
    let handler = Arc::new(handler);
    let mut running = JoinSet::new();
    let mut accepted = 0usize;
    tokio::pin!(shutdown);
    let result = loop {
        if options.max_connections.is_some_and(|m| accepted >= m) {
            break Ok(());
        }
        let permit = tokio::select! {
            p = limit.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break Ok(()),
            },
            () = &mut shutdown => break Ok(()),
        };
        let (tcp, peer_addr) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => break Err(Error::io("accepting a connection", e)),
            },
            () = &mut shutdown => break Ok(()),
        };
        accepted += 1;
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let handler = handler.clone();
        let t = options.timeouts;
        running.spawn(async move {
            let conn = accept_one(acceptor, tcp, &peer_addr.to_string(), &t).await;
            handler(conn).await;
            drop(permit);
        });
        // Reap finished handlers so the set does not grow.
        while running.try_join_next().is_some() {}
    };
    while running.join_next().await.is_some() {}
    result
}

async fn accept_one(
    acceptor: TlsAcceptor,
    tcp: TcpStream,
    from: &str,
    t: &Timeouts,
) -> Result<Connected<ServerStream>> {
    let stream = deadline(
        t.handshake,
        &format!("the TLS handshake with {from}"),
        async {
            acceptor
                .accept(tcp)
                .await
                .map_err(|e| tls_error(&format!("TLS with {from}"), e))
        },
    )
    .await?;
    let conn = stream.get_ref().1;
    let (peer, peer_cert) = peer_certificate(conn)
        .ok_or_else(|| Error::LegacyTls(format!("{from} presented no certificate")))?;
    Ok(Connected {
        exporter: exporter(conn)?,
        peer_fingerprint: peer,
        peer_cert,
        stream,
    })
}
