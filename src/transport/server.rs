//! The responder's accept loop, built to hold under hostile load (the mini-redis model, with
//! sshd's `LoginGraceTime` and `MaxStartups` in mind):
//!
//! * An unauthenticated connection never takes a session slot. At most
//!   [`ServerLimits::max_handshakes`] connections may be in the TLS handshake at once; when
//!   one more arrives the oldest pending handshake is dropped, so a flood of idle or slow
//!   connections cannot keep a legitimate peer out, and each is dropped anyway after
//!   [`Timeouts::tls_handshake`] (10 s by default), however slowly it trickles.
//! * Only an authenticated connection waits for one of [`ServerLimits::max_sessions`] session
//!   slots (at most [`Timeouts::idle`]), then runs the handler.
//! * The accept loop races the shutdown; running sessions see the same [`Shutdown`] and end
//!   themselves; the loop returns once every handler finished.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::task::{AbortHandle, JoinSet};
use tokio_rustls::TlsAcceptor;

use super::connection::{exporter, Connected};
use super::shutdown::Shutdown;
use super::timeouts::{deadline, Timeouts};
use super::tls::{peer_certificate, tls_error};
use crate::error::{Deadline, Error, Result, TlsReason};

/// A server-side TLS stream.
pub type ServerStream = tokio_rustls::server::TlsStream<TcpStream>;

/// Limits of the accept loop.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ServerLimits {
    /// Sessions running at once.
    pub max_sessions: usize,
    /// Connections in the TLS handshake at once; one more drops the oldest.
    pub max_handshakes: usize,
    /// Stop after this many connections reached the handler (`None`: until shutdown).
    pub max_connections: Option<usize>,
    /// Deadlines.
    pub timeouts: Timeouts,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_sessions: 4,
            max_handshakes: 64,
            max_connections: None,
            timeouts: Timeouts::default(),
        }
    }
}

impl ServerLimits {
    /// The same, running at most `n` sessions at once.
    pub fn with_max_sessions(mut self, n: usize) -> Self {
        self.max_sessions = n;
        self
    }

    /// The same, stopping after `n` connections reached the handler (`serve --once` is 1).
    pub fn with_max_connections(mut self, n: usize) -> Self {
        self.max_connections = Some(n);
        self
    }

    /// The same, with these deadlines.
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }
}

/// What the accept loop counted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct ServeStats {
    /// TCP connections accepted.
    pub accepted: u64,
    /// Pending handshakes dropped to make room for newer ones.
    pub evicted: u64,
    /// Connections that reached the handler (authenticated, or failed TLS).
    pub delivered: u64,
}

/// A connection handed to the handler: authenticated and holding a session slot (released
/// when dropped), or the reason TLS failed.
pub(crate) type Incoming = Result<(Connected<ServerStream>, SessionSlot)>;

/// One of the server's session slots, held for as long as the session runs.
#[derive(Debug)]
pub(crate) struct SessionSlot(#[allow(dead_code)] OwnedSemaphorePermit);

#[derive(Default)]
struct Pending {
    next: u64,
    tasks: VecDeque<(u64, AbortHandle)>,
}

/// Accepts connections until `shutdown` fires (or `max_connections` reached the handler),
/// runs `handler` for each authenticated connection in a session slot (or with the reason TLS
/// failed), and waits for every handler before returning.
///
/// # Errors
/// [`Error::Io`] if accepting fails.
pub(crate) async fn serve<H, Fut>(
    listener: TcpListener,
    config: Arc<rustls::ServerConfig>,
    limits: ServerLimits,
    mut shutdown: Shutdown,
    handler: H,
) -> Result<ServeStats>
where
    H: Fn(Incoming) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let acceptor = TlsAcceptor::from(config);
    let slots = Arc::new(Semaphore::new(limits.max_sessions.max(1)));
    let pending = Arc::new(Mutex::new(Pending::default()));
    let handler = Arc::new(handler);
    let delivered = Arc::new(AtomicU64::new(0));
    let enough = Arc::new(Notify::new());
    let max = limits.max_connections.map(|m| m as u64);
    let mut running = JoinSet::new();
    let mut stats = ServeStats::default();
    let result = loop {
        if max.is_some_and(|m| delivered.load(Ordering::SeqCst) >= m) {
            break Ok(());
        }
        let (tcp, peer_addr) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => break Err(Error::io("accepting a connection", e)),
            },
            _ = shutdown.wait() => break Ok(()),
            () = enough.notified() => continue,
        };
        stats.accepted += 1;
        let _ = tcp.set_nodelay(true);
        let id = {
            let mut p = pending.lock().unwrap_or_else(|e| e.into_inner());
            if p.tasks.len() >= limits.max_handshakes.max(1) {
                if let Some((_, oldest)) = p.tasks.pop_front() {
                    oldest.abort();
                    stats.evicted += 1;
                }
            }
            p.next += 1;
            p.next
        };
        let acceptor = acceptor.clone();
        let handler = handler.clone();
        let slots = slots.clone();
        let t = limits.timeouts;
        let pending2 = pending.clone();
        let delivered = delivered.clone();
        let enough = enough.clone();
        let mut session_shutdown = shutdown.clone();
        // The task removes itself from `pending` once authenticated; hold the lock until its
        // handle is in, or a fast handshake could remove nothing and then be aborted as
        // pending when the loop ends (killing an authenticated session).
        let mut p = pending.lock().unwrap_or_else(|e| e.into_inner());
        let handle = running.spawn(async move {
            let conn = accept_one(acceptor, tcp, &peer_addr.to_string(), &t).await;
            pending2
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .tasks
                .retain(|(i, _)| *i != id);
            let incoming = match conn {
                Ok(conn) => {
                    let slot = tokio::select! {
                        s = deadline(t.idle, Deadline::SessionSlot, async {
                            slots.acquire_owned().await.map_err(|_| {
                                Error::internal("the session slots were closed")
                            })
                        }) => s,
                        r = session_shutdown.wait() => Err(Error::Cancelled(r)),
                    };
                    slot.map(|s| (conn, SessionSlot(s)))
                }
                Err(e) => Err(e),
            };
            let n = delivered.fetch_add(1, Ordering::SeqCst) + 1;
            if max.is_some_and(|m| n >= m) {
                enough.notify_one();
            }
            handler(incoming).await;
        });
        p.tasks.push_back((id, handle));
        drop(p);
        // Reap finished tasks so the set does not grow.
        while running.try_join_next().is_some() {}
    };
    // Pending handshakes are dropped; authenticated sessions finish (they watch the
    // shutdown themselves).
    for (_, h) in pending
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .tasks
        .drain(..)
    {
        h.abort();
    }
    while running.join_next().await.is_some() {}
    stats.delivered = delivered.load(Ordering::SeqCst);
    result.map(|()| stats)
}

/// TLS on one accepted connection, under the TLS deadline.
async fn accept_one(
    acceptor: TlsAcceptor,
    tcp: TcpStream,
    from: &str,
    t: &Timeouts,
) -> Result<Connected<ServerStream>> {
    let stream = deadline(t.tls_handshake, Deadline::TlsHandshake, async {
        acceptor
            .accept(tcp)
            .await
            .map_err(|e| tls_error(&format!("TLS with {from}"), e))
    })
    .await?;
    let conn = stream.get_ref().1;
    let cert = peer_certificate(conn).ok_or_else(|| {
        Error::tls(
            TlsReason::NoPeerCertificate,
            format!("{from} presented no certificate"),
        )
    })?;
    let exporter = exporter(conn)?;
    Ok(Connected::authenticated(stream, exporter, cert))
}
