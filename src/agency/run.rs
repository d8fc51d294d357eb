//! Running sessions: over a connection the agency makes ([`Agency::connect`]), one it accepted
//! ([`Agency::serve`]), or any authenticated connection ([`Agency::run`]).
//!
//! Each session runs in a task of its own. The future the caller awaits only watches it: if
//! the caller drops that future (a timeout, a `select!` that took another branch), the session
//! is cancelled, not lost — it sends `Abort` and logs `session_aborted` like any other failure.

use std::sync::Arc;
use std::time::Instant;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;

use crate::audit::Event;
use crate::checkpoint::{Checkpoint, CheckpointOptions};
use crate::error::{CancelReason, Error, Result, TlsReason};
use crate::protocol::Role;
use crate::session::{
    BodyOutput, Channel, Envelope, NoProgress, OutputRecord, PeerIdentity, Progress, SessionReport,
    Traffic,
};
use crate::transport::client;
use crate::transport::connection::Connected;
use crate::transport::driver::{drive, QueueBudget};
use crate::transport::server::{serve, Incoming, ServeStats, ServerLimits};
use crate::transport::shutdown::{self, Shutdown, ShutdownTrigger};
use crate::transport::timeouts::Timeouts;
use crate::transport::tls;

use super::performer::{now, AgencyPerformer, OutputSink};
use super::{Agency, SessionSpec};

/// A sink that writes nothing (the result is in the returned report).
#[derive(Debug, Clone, Copy)]
pub struct NoOutput;

impl OutputSink for NoOutput {
    fn write(&self, _: &BodyOutput, _: &[u8; 32]) -> Result<Option<OutputRecord>> {
        Ok(None)
    }
}

/// The sink of [`RunOptions::default`]: nothing is written.
pub const NO_OUTPUT: NoOutput = NoOutput;

/// How a session runs, besides what it does.
#[derive(Clone)]
#[non_exhaustive]
pub struct RunOptions {
    /// Deadlines.
    pub timeouts: Timeouts,
    /// Cancels the session when it fires (Ctrl-C, a server shutting down).
    pub shutdown: Shutdown,
    /// Bounds received bytes across the sessions sharing it (a server's).
    pub queue_budget: Option<QueueBudget>,
    /// Receives the session's progress.
    pub progress: Arc<dyn Progress>,
    /// Where the result goes.
    pub sink: Arc<dyn OutputSink>,
    /// Keep a checkpoint of a bucketed session, and resume from it
    /// (`protocol-spec/09-buckets.md` section 9.12); `None`: keep none.
    pub checkpoint: Option<CheckpointOptions>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            timeouts: Timeouts::default(),
            shutdown: Shutdown::never(),
            queue_budget: None,
            progress: Arc::new(NoProgress),
            sink: Arc::new(NoOutput),
            checkpoint: None,
        }
    }
}

impl RunOptions {
    /// The same, with these deadlines.
    pub fn with_timeouts(mut self, timeouts: Timeouts) -> Self {
        self.timeouts = timeouts;
        self
    }

    /// The same, cancelled when `shutdown` fires.
    pub fn with_shutdown(mut self, shutdown: Shutdown) -> Self {
        self.shutdown = shutdown;
        self
    }

    /// The same, reporting progress to `progress`.
    pub fn with_progress(mut self, progress: Arc<dyn Progress>) -> Self {
        self.progress = progress;
        self
    }

    /// The same, writing the result to `sink`.
    pub fn with_sink(mut self, sink: Arc<dyn OutputSink>) -> Self {
        self.sink = sink;
        self
    }

    /// The same, keeping a checkpoint in `dir` (see [`crate::checkpoint`]): every bucket
    /// that finishes is recorded there, and after a crash or a broken connection a session
    /// run again with `resume` continues with the buckets that did not finish on both sides.
    /// Without `resume`, `dir` must hold no unfinished session. A checkpoint keeps one
    /// session: give each session its own directory (a server, one per connection it runs at
    /// a time; the command line's `serve` takes `--checkpoint` only with `--once`).
    pub fn with_checkpoint(mut self, dir: impl Into<std::path::PathBuf>, resume: bool) -> Self {
        self.checkpoint = Some(CheckpointOptions {
            dir: dir.into(),
            resume,
        });
        self
    }
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("timeouts", &self.timeouts)
            .finish_non_exhaustive()
    }
}

/// Cancels the session's task when the awaiting future is dropped.
struct CancelOnDrop(Option<ShutdownTrigger>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        if let Some(t) = self.0.take() {
            t.trigger(CancelReason::Dropped);
        }
    }
}

impl Agency {
    /// [`Agency::prepare`] on a thread that may block (a refusal is appended to the log).
    async fn prepared(
        &self,
        role: Role,
        mut spec: SessionSpec,
    ) -> Result<(SessionSpec, crate::session::SessionConfig)> {
        let agency = self.clone();
        tokio::task::spawn_blocking(move || {
            let config = agency.prepare(role, &mut spec)?;
            Ok((spec, config))
        })
        .await
        .map_err(|e| Error::internal(format!("preparing the session failed: {e}")))?
    }

    /// Opens the checkpoint `options` ask for over our (prepared) items, on a thread that may
    /// block (the items' digest reads them all).
    async fn checkpoint(
        &self,
        options: &RunOptions,
        role: Role,
        spec: &SessionSpec,
    ) -> Result<Option<Arc<Checkpoint>>> {
        let Some(o) = options.checkpoint.clone() else {
            return Ok(None);
        };
        let items = spec.input.items.clone();
        tokio::task::spawn_blocking(move || Checkpoint::open(&o.dir, o.resume, role, &items))
            .await
            .map_err(|e| Error::internal(format!("opening the checkpoint failed: {e}")))?
            .map(|c| Some(Arc::new(c)))
    }

    /// Logs `certificate_refused` when `err` is our TLS verifier refusing the peer's
    /// certificate (or the peer presenting none), on a thread that may block; returns `err`.
    /// A failure to log is reported through `tracing`: the refusal stands either way.
    async fn certificate_refused(&self, role: Role, err: Error) -> Error {
        let Error::Tls(t) = &err else {
            return err;
        };
        if !matches!(
            t.reason,
            TlsReason::PeerRefused | TlsReason::NoPeerCertificate
        ) {
            return err;
        }
        let event = Event::CertificateRefused {
            peer_fingerprint: t.refused_fingerprint.clone(),
            role: role.as_str().to_owned(),
            code: err.code(),
            detail: t.detail.clone(),
        };
        let agency = self.clone();
        let logged = tokio::task::spawn_blocking(move || agency.inner.log.append(event)).await;
        if let Ok(Err(e)) | Err(e) = logged.map_err(|e| Error::internal(e.to_string())) {
            tracing::warn!(target: "blindmatch::serve", "logging a certificate refusal failed: {e}");
        }
        err
    }

    /// Connects to `addr` as the initiator and runs a session: mutual TLS with the pinned (or
    /// CA-chained) peer, then as [`Agency::run`]. The crate documentation runs one against
    /// [`Agency::serve`] on a loopback port.
    ///
    /// # Errors
    /// As [`Agency::prepare`] before connecting; then as [`Agency::run`].
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo(agency: blindmatch::agency::Agency) -> blindmatch::Result<()> {
    /// use blindmatch::agency::{RunOptions, SessionSpec};
    /// use blindmatch::protocol::ItemSet;
    /// use blindmatch::session::SessionMode;
    /// use blindmatch::transport::timeouts::Timeouts;
    ///
    /// let items = ItemSet::new(["IMO9187629", "IMO9321483"]);
    /// let spec = SessionSpec::new(SessionMode::Cardinality, items, vec!["imo_ship".into()]);
    /// let options = RunOptions::default().with_timeouts(Timeouts::default().with_read_secs(30));
    /// let report = agency.connect("registry.example:7443", spec, options).await?;
    /// println!("{:?} in {:?}", report.outcome().output(), report.elapsed());
    /// # Ok(()) }
    /// ```
    pub async fn connect(
        &self,
        addr: &str,
        spec: SessionSpec,
        options: RunOptions,
    ) -> Result<SessionReport> {
        // Refuse what needs no peer before connecting.
        let (spec, config) = self.prepared(Role::Initiator, spec).await?;
        let checkpoint = self.checkpoint(&options, Role::Initiator, &spec).await?;
        let tls_config = tls::client_config(self.identity(), self.peers())?;
        let mut stop = options.shutdown.clone();
        let conn = tokio::select! {
            c = client::connect(addr, tls_config, &options.timeouts) => match c {
                Ok(c) => c,
                Err(e) => return Err(self.certificate_refused(Role::Initiator, e).await),
            },
            r = stop.wait() => return Err(Error::Cancelled(r)),
        };
        self.run_prepared(conn, spec, config, options, checkpoint)
            .await
    }

    /// Runs a session as `role` over an authenticated connection, for an embedder that makes
    /// its own connections ([`crate::transport::client::connect`] with
    /// [`crate::transport::tls::client_config`]); [`Agency::connect`] and [`Agency::serve`]
    /// call it.
    ///
    /// # Errors
    /// As [`Agency::prepare`]; [`Error::Incompatible`] when the hellos differ;
    /// [`Error::PolicyRefused`] naming the rule (ours or the peer's); a peer, transport,
    /// deadline, receipt or output error; [`Error::Cancelled`]. Every error after both
    /// admitted the session is logged as `session_aborted`.
    ///
    /// # Examples
    ///
    /// ```no_run
    /// # async fn demo(agency: blindmatch::agency::Agency,
    /// #               spec: blindmatch::agency::SessionSpec) -> blindmatch::Result<()> {
    /// use blindmatch::agency::RunOptions;
    /// use blindmatch::protocol::Role;
    /// use blindmatch::transport::{client, timeouts::Timeouts, tls};
    ///
    /// let config = tls::client_config(agency.identity(), agency.peers())?;
    /// let conn = client::connect("registry.example:7443", config, &Timeouts::default()).await?;
    /// let report = agency.run(conn, Role::Initiator, spec, RunOptions::default()).await?;
    /// # let _ = report; Ok(()) }
    /// ```
    pub async fn run<S>(
        &self,
        conn: Connected<S>,
        role: Role,
        spec: SessionSpec,
        options: RunOptions,
    ) -> Result<SessionReport>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let (spec, config) = self.prepared(role, spec).await?;
        let checkpoint = self.checkpoint(&options, role, &spec).await?;
        self.run_prepared(conn, spec, config, options, checkpoint)
            .await
    }

    async fn run_prepared<S>(
        &self,
        conn: Connected<S>,
        spec: SessionSpec,
        mut config: crate::session::SessionConfig,
        options: RunOptions,
        checkpoint: Option<Arc<Checkpoint>>,
    ) -> Result<SessionReport>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
    {
        let start = Instant::now();
        let channel = Channel {
            exporter: *conn.exporter(),
            peer: PeerIdentity::from_cert(conn.peer_certificate())?,
        };
        if let Some(c) = &checkpoint {
            c.bind_peer(channel.peer.fingerprint)?;
            config.checkpoint = true;
            config.resume = c.resume_point().cloned();
        }
        let key_epoch = spec.input.key_epoch();
        let envelope = Envelope::new(
            config,
            spec.input,
            channel,
            now(),
            Envelope::os_seed(),
            options.progress.clone(),
        )?;
        let performer = Arc::new(AgencyPerformer {
            agency: self.clone(),
            sink: options.sink.clone(),
            key_epoch,
            checkpoint: checkpoint.clone(),
        });
        let (trigger, session_shutdown) = shutdown::channel();
        let mut outer = options.shutdown.clone();
        let forward = trigger.clone();
        let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            tokio::select! {
                r = outer.wait() => forward.trigger(r),
                _ = done_rx => {}
            }
        });
        let t = options.timeouts;
        let budget = options.queue_budget.clone();
        let task = tokio::spawn(async move {
            let r = drive(
                conn.into_stream(),
                envelope,
                performer,
                t,
                session_shutdown,
                budget,
            )
            .await;
            let _ = done_tx.send(());
            r
        });
        let mut guard = CancelOnDrop(Some(trigger));
        let joined = task.await;
        guard.0 = None;
        let (outcome, stats) =
            joined.map_err(|e| Error::internal(format!("the session task failed: {e}")))?;
        let outcome = outcome?;
        if let Some(c) = checkpoint {
            // The output holds what the checkpoint held: it has served.
            if let Err(e) = tokio::task::spawn_blocking(move || c.finish())
                .await
                .unwrap_or_else(|e| Err(Error::internal(e.to_string())))
            {
                tracing::warn!(target: "blindmatch::checkpoint", "removing the checkpoint of a completed session failed: {e}");
            }
        }
        Ok(SessionReport {
            outcome,
            traffic: Traffic {
                bytes_sent: stats.bytes_sent,
                bytes_received: stats.bytes_received,
            },
            elapsed: start.elapsed(),
        })
    }

    /// Serves sessions as the responder on `listener` until `shutdown` fires (or
    /// `limits.max_connections` connections were served): each authenticated connection runs
    /// the session `spec` gives, and `done` receives its result. Returns once every running
    /// session ended (a shutdown cancels them: each sends `Abort` and logs its abort).
    ///
    /// # Errors
    /// As [`Agency::prepare`] before listening (our own size, padding, key reuse, columns);
    /// [`Error::Io`] if accepting fails.
    ///
    /// # Examples
    ///
    /// A register served until the process's own shutdown signal fires (the crate
    /// documentation runs one session of it on a loopback port):
    ///
    /// ```no_run
    /// # async fn demo(agency: blindmatch::agency::Agency,
    /// #               register: blindmatch::protocol::ItemSet) -> blindmatch::Result<()> {
    /// use blindmatch::agency::{RunOptions, SessionSpec};
    /// use blindmatch::error::CancelReason;
    /// use blindmatch::session::SessionMode;
    /// use blindmatch::transport::{server::ServerLimits, shutdown};
    ///
    /// let listener = tokio::net::TcpListener::bind("0.0.0.0:7443")
    ///     .await
    ///     .map_err(|e| blindmatch::Error::io("binding 0.0.0.0:7443", e))?;
    /// let (trigger, stop) = shutdown::channel();
    /// // Elsewhere, on the service's own signal: trigger.trigger(CancelReason::Shutdown);
    /// # let _ = (&trigger, CancelReason::Shutdown);
    /// let spec = SessionSpec::new(SessionMode::Mutual, register, vec!["imo_ship".into()]);
    /// let stats = agency
    ///     .serve(listener, ServerLimits::default(), stop, move || (spec.clone(), RunOptions::default()),
    ///         |report| match report {
    ///             Ok(r) => println!("served {:02x?}", &r.outcome().session_id()[..4]),
    ///             Err(e) => eprintln!("a session failed: {e}"), // its abort is in the log
    ///         })
    ///     .await?;
    /// println!("{stats:?}");
    /// # Ok(()) }
    /// ```
    pub async fn serve<F, D>(
        &self,
        listener: TcpListener,
        limits: ServerLimits,
        shutdown: Shutdown,
        spec: F,
        done: D,
    ) -> Result<ServeStats>
    where
        F: Fn() -> (SessionSpec, RunOptions) + Send + Sync + 'static,
        D: Fn(Result<SessionReport>) + Send + Sync + 'static,
    {
        // Refuse what needs no peer before listening.
        let (first, options) = spec();
        let (first, _) = self.prepared(Role::Responder, first).await?;
        self.checkpoint(&options, Role::Responder, &first).await?;
        let config = tls::server_config(self.identity(), self.peers())?;
        let agency = self.clone();
        let spec = Arc::new(spec);
        let done = Arc::new(done);
        let budget = QueueBudget::new(
            limits.max_sessions.max(1) * crate::transport::driver::SESSION_QUEUE_BYTES,
        );
        let session_shutdown = shutdown.clone();
        serve(
            listener,
            config,
            limits,
            shutdown,
            move |incoming: Incoming| {
                let agency = agency.clone();
                let spec = spec.clone();
                let done = done.clone();
                let budget = budget.clone();
                let shutdown = session_shutdown.clone();
                async move {
                    let start = Instant::now();
                    let (peer, r) = match incoming {
                        Ok((conn, _slot)) => {
                            let peer = conn.peer_fingerprint().to_string();
                            let (s, mut o) = spec();
                            o.shutdown = shutdown;
                            o.queue_budget = Some(budget);
                            let r = agency.run(conn, Role::Responder, s, o).await;
                            drop(_slot);
                            (peer, r)
                        }
                        Err(e) => (
                            "(unauthenticated)".to_owned(),
                            Err(agency.certificate_refused(Role::Responder, e).await),
                        ),
                    };
                    log_connection(&peer, &r, start.elapsed());
                    done(r);
                }
            },
        )
        .await
    }
}

/// One line per connection for the operator's log (journald, a file): the peer's certificate
/// fingerprint, how the session ended (`completed` or the error's stable code) and how long it
/// took. Through `tracing`, so the embedding service decides where it goes.
fn log_connection(peer: &str, r: &Result<SessionReport>, elapsed: std::time::Duration) {
    let ms = elapsed.as_millis() as u64;
    match r {
        Ok(report) => tracing::info!(
            target: "blindmatch::serve",
            peer,
            outcome = "completed",
            session = %hex::encode(&report.outcome.session_id[..8]),
            duration_ms = ms,
            "session completed"
        ),
        Err(e) => tracing::warn!(
            target: "blindmatch::serve",
            peer,
            outcome = %e.code(),
            duration_ms = ms,
            "session ended: {e}"
        ),
    }
}
