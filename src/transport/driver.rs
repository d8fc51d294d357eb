//! Runs any sans-I/O [`Machine`] over a framed connection (`protocol-spec/04` section 4.5).
//!
//! Three activities overlap:
//! * a reader task reads frames eagerly, under the read deadlines, into a queue bounded in
//!   bytes per session and (through a [`QueueBudget`] shared by a server's sessions) across
//!   sessions: a full queue stops the reader, and TCP's flow control stops the peer;
//! * a writer task writes frames from a queue of [`WRITE_QUEUE`] frames, each under the write
//!   deadline, flushing when the queue is empty;
//! * the machine's steps (handling frames, producing messages: batched group operations on a
//!   chunk) and its effects (log appends, budget locks, signing) run on a blocking thread,
//!   never on an async worker. A step produces frames only while the writer has room (the
//!   first frame that finds it full is held until there is), performs the effects queued
//!   before that frame whatever the writer's state, and the machine keeps taking frames
//!   while its own answers wait, so two honest sides never block each other on full
//!   buffers, and a peer that sends without reading is stopped by its own full queue.
//!
//! The driver adds no frame of its own: every `Abort` comes from the machine. A cancellation
//! (the [`Shutdown`] firing) is passed to the machine, which aborts in its own way; a long step
//! in progress sees the machine's interrupt flag and stops within a batch.
//!
//! The driver watches the connection while a step runs, too: when the reader sees the peer
//! leave (its `Abort`, the end of the stream, a failed read; [`ReaderFlags`]), the driver
//! raises the machine's interrupt with [`CancelReason::PeerLeft`]. A long step stops at its
//! next check and the machine then reads why the peer left, ending with the peer's error (no
//! local cancellation, no `Abort` of its own), without first finishing work that no one
//! will read.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

use super::framing::{read_header, read_payload, write_frame_unflushed, Frame, FrameKind};
use super::machine::{Action, Input, Machine, Perform, Stage};
use super::shutdown::Shutdown;
use super::timeouts::{deadline, Timeouts};
use crate::error::{CancelReason, Deadline, Error, Result};
use reader_flags::ReaderFlags;

mod reader_flags;
#[cfg(test)]
mod tests;

/// Frames buffered between the machine and the writer task.
pub const WRITE_QUEUE: usize = 4;

/// Bytes of received frames a session may hold unprocessed.
pub const SESSION_QUEUE_BYTES: usize = 16 << 20;

/// Frames handed to the machine in one step at most.
const BATCH: usize = 16;

/// Bytes of received frames all sessions sharing it may hold unprocessed: a server gives
/// one to all its sessions.
#[derive(Debug, Clone)]
pub struct QueueBudget(Arc<Semaphore>);

impl QueueBudget {
    /// A budget of `bytes`.
    pub fn new(bytes: usize) -> Self {
        QueueBudget(Arc::new(Semaphore::new(bytes.min(Semaphore::MAX_PERMITS))))
    }
}

/// Byte counts of a driven session (frames, headers included; TLS overhead excluded).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct DriveStats {
    /// Bytes of frames written.
    pub bytes_sent: u64,
    /// Bytes of frames read.
    pub bytes_received: u64,
}

/// A received frame and the queue room it holds until the machine took it.
struct Queued {
    input: Input,
    _room: Option<(OwnedSemaphorePermit, Option<OwnedSemaphorePermit>)>,
}

fn permits(len: usize) -> u32 {
    u32::try_from(len.max(1)).unwrap_or(u32::MAX)
}

/// How long one step may produce before the driver looks at what arrived: a peer's `Abort`
/// or a shutdown is seen within about this much work.
const STEP_BUDGET: Duration = Duration::from_millis(50);

/// How long a cancelled session waits for its `Abort` to be written.
const CANCEL_FLUSH: Duration = Duration::from_millis(500);

/// How long a closed session keeps reading (and dropping) what the peer still sends, so that
/// closing with unread bytes does not reset the connection before our `Abort` arrives.
const LINGER: Duration = Duration::from_millis(500);

#[allow(clippy::too_many_arguments)]
async fn reader_task<R: AsyncRead + Unpin + Send + 'static>(
    mut rd: R,
    t: Timeouts,
    session_room: Arc<Semaphore>,
    shared_room: Option<QueueBudget>,
    tx: mpsc::UnboundedSender<Queued>,
    counter: Arc<std::sync::atomic::AtomicU64>,
    flags: ReaderFlags,
) {
    let mut discarding = false;
    loop {
        if discarding {
            // The driver is gone: read and drop until the peer closes (the driver stops us).
            match read_header(&mut rd).await {
                Ok(Some(h)) => {
                    if read_payload(&mut rd, h).await.is_err() {
                        return;
                    }
                    continue;
                }
                _ => return,
            }
        }
        // During the handshake the handshake deadline (applied by the driver) bounds the wait.
        // The idle deadline bounds every wait; the driver bounds the whole handshake.
        let idle = t.idle;
        let header = match deadline(idle, Deadline::Idle, read_header(&mut rd)).await {
            Ok(Some(h)) => h,
            Ok(None) => {
                flags.raise_left();
                let _ = tx.send(Queued {
                    input: Input::Closed,
                    _room: None,
                });
                return;
            }
            Err(e) => {
                flags.raise_aborted();
                let _ = tx.send(Queued {
                    input: Input::Failed(e),
                    _room: None,
                });
                return;
            }
        };
        // Room for the frame before its bytes are read (and allocated).
        let n = permits(header.payload_len);
        let Ok(own) = session_room.clone().acquire_many_owned(n).await else {
            return;
        };
        let shared = match &shared_room {
            Some(b) => match b.0.clone().acquire_many_owned(n).await {
                Ok(p) => Some(p),
                Err(_) => return,
            },
            None => None,
        };
        let item = match deadline(t.frame, Deadline::Frame, read_payload(&mut rd, header)).await {
            Ok(frame) => {
                if frame.kind == FrameKind::Abort {
                    flags.raise_aborted();
                }
                counter.fetch_add(
                    frame.wire_len() as u64,
                    std::sync::atomic::Ordering::Relaxed,
                );
                Queued {
                    input: Input::Frame(frame),
                    _room: Some((own, shared)),
                }
            }
            Err(e) => {
                flags.raise_aborted();
                Queued {
                    input: Input::Failed(e),
                    _room: None,
                }
            }
        };
        let last = matches!(item.input, Input::Failed(_));
        if last {
            let _ = tx.send(item);
            return;
        }
        if tx.send(item).is_err() {
            discarding = true;
        }
    }
}

/// What the writer task is told.
enum Outgoing {
    Frame(Frame),
    Close,
}

/// Where the writer leaves the error it stopped on, for the machine.
type WriteFailure = Arc<std::sync::Mutex<Option<Error>>>;

async fn writer_task<W: AsyncWrite + Unpin + Send + 'static>(
    mut wr: W,
    mut rx: mpsc::Receiver<Outgoing>,
    t: Timeouts,
    failure: WriteFailure,
) -> u64 {
    let mut sent = 0u64;
    let result = async {
        while let Some(item) = rx.recv().await {
            match item {
                Outgoing::Frame(f) => {
                    deadline(t.write, Deadline::Write, write_frame_unflushed(&mut wr, &f)).await?;
                    sent += f.wire_len() as u64;
                    if rx.is_empty() {
                        deadline(t.write, Deadline::Write, async {
                            wr.flush()
                                .await
                                .map_err(|e| Error::io("sending to the peer", e))
                        })
                        .await?;
                    }
                }
                Outgoing::Close => break,
            }
        }
        // close_notify; the peer may already be gone.
        let _ = tokio::time::timeout(t.frame, wr.shutdown()).await;
        Ok::<(), Error>(())
    }
    .await;
    if let Err(e) = result {
        *failure.lock().unwrap_or_else(|p| p.into_inner()) = Some(e);
    }
    sent
}

/// The state a blocking step takes and gives back.
struct Stepper<M, P> {
    machine: M,
    performer: Arc<P>,
    tx: mpsc::Sender<Outgoing>,
    failure: WriteFailure,
    /// The writer stopped: frames are dropped from now on.
    writer_gone: bool,
    /// Why the writer stopped, for the machine once the frames already received are in.
    write_error: Option<Error>,
    flags: ReaderFlags,
    closed: bool,
    /// A frame (or the close) the machine produced while the writer was full: it goes first
    /// once there is room.
    held: Option<Outgoing>,
}

impl<M, P> Stepper<M, P>
where
    M: Machine,
    P: Perform<M::Effect, M::Completion>,
{
    /// The writer stopped before we closed: the machine will learn why, after the frames the
    /// peer sent before it went away (its `Abort`, most often).
    fn writer_stopped(&mut self) {
        self.writer_gone = true;
        let e = self
            .failure
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
            .unwrap_or_else(|| {
                Error::io(
                    "sending to the peer",
                    std::io::Error::from(std::io::ErrorKind::BrokenPipe),
                )
            });
        self.write_error = Some(e);
    }

    /// Runs the machine's actions until a frame (or the close) finds the writer full (it is
    /// held until there is room) or the machine has none left. Returns true when it stopped
    /// because the writer was full, or to let the driver look at what arrived.
    ///
    /// Only what goes to the writer waits for it: an effect is performed even when the
    /// writer has no room, so a machine does not stop taking input because a local effect (a
    /// checkpoint written at the end of a bucket) waits for room to send while the peer, for
    /// its part, waits for us to read (`protocol-spec/09-buckets.md` 9.7). The machine is
    /// therefore polled once more after the frame that filled the writer: its next frame,
    /// if it makes one then, is the one held (one frame a session beyond the queue). An
    /// effect queued behind the held frame waits with it, so a machine queues an effect
    /// before the frame it must not wait behind (the envelope records a finished bucket
    /// before sending the bucket's last message).
    fn drain(&mut self) -> bool {
        let until = Instant::now() + STEP_BUDGET;
        loop {
            if Instant::now() >= until {
                // Back to the driver, which looks at what arrived in the meantime.
                return true;
            }
            if !self.writer_gone && !self.closed && self.tx.is_closed() {
                self.writer_stopped();
            }
            if let Some(out) = self.held.take() {
                if !self.hand_over(out) {
                    return true;
                }
                continue;
            }
            let Some(action) = self.machine.poll() else {
                return false;
            };
            match action {
                Action::Send(f) => {
                    if self.writer_gone || self.closed {
                        continue;
                    }
                    if !self.hand_over(Outgoing::Frame(f)) {
                        return true;
                    }
                }
                Action::Perform(e) => {
                    let c = self.performer.perform(e);
                    self.machine.complete(c);
                }
                Action::Close => {
                    if !self.closed {
                        self.closed = true;
                        if !self.writer_gone && !self.hand_over(Outgoing::Close) {
                            return true;
                        }
                    }
                }
            }
        }
    }

    /// Hands `out` to the writer, or holds it when the writer is full (returning false). What
    /// is held for a writer that stopped meanwhile is dropped.
    fn hand_over(&mut self, out: Outgoing) -> bool {
        if self.writer_gone {
            return true;
        }
        if self.tx.capacity() == 0 {
            self.held = Some(out);
            return false;
        }
        if self.tx.try_send(out).is_err() {
            self.writer_stopped();
        }
        true
    }

    /// The machine finished and its last frame (and close) is with the writer.
    fn is_finished(&self) -> bool {
        self.held.is_none() && self.machine.is_finished()
    }

    fn feed(&mut self, frames: &mut std::collections::VecDeque<Queued>) -> bool {
        let mut blocked = self.drain();
        while self.machine.wants_input() {
            if self
                .machine
                .interrupt()
                .reason()
                .is_some_and(CancelReason::is_local)
            {
                // Back to the driver: the session is being cancelled. (When the peer left,
                // the machine goes on taking input: the peer's Abort is in it.)
                break;
            }
            if self.write_error.is_some() || self.flags.aborted() {
                // The peer gave up or went away: its queued protocol frames need no work;
                // what else it sent (its Abort, the end of the stream) still goes in.
                drop_protocol_frames(frames);
            }
            let Some(q) = frames.pop_front() else { break };
            self.machine.handle(q.input);
            blocked = self.drain();
        }
        blocked
    }
}

fn is_protocol(q: &Queued) -> bool {
    matches!(&q.input, Input::Frame(f) if f.kind == FrameKind::Protocol)
}

fn drop_protocol_frames(frames: &mut std::collections::VecDeque<Queued>) {
    frames.retain(|q| !is_protocol(q));
}

/// Runs `machine` over `stream` until it finishes; its effects are performed by `performer`
/// on a blocking thread. `shutdown` cancels the machine; `budget` bounds received bytes across
/// sessions. Returns the machine's result and the bytes each way.
pub async fn drive<M, P, IO>(
    stream: IO,
    machine: M,
    performer: Arc<P>,
    t: Timeouts,
    mut shutdown: Shutdown,
    budget: Option<QueueBudget>,
) -> (Result<M::Output>, DriveStats)
where
    M: Machine,
    P: Perform<M::Effect, M::Completion>,
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let start = Instant::now();
    let (rd, wr): (ReadHalf<IO>, WriteHalf<IO>) = tokio::io::split(stream);
    let (in_tx, mut in_rx) = mpsc::unbounded_channel();
    let (out_tx, out_rx) = mpsc::channel(WRITE_QUEUE);
    let counter = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let flags = ReaderFlags::default();
    let reader = tokio::spawn(reader_task(
        rd,
        t,
        Arc::new(Semaphore::new(SESSION_QUEUE_BYTES)),
        budget,
        in_tx,
        counter.clone(),
        flags.clone(),
    ));
    let failure = WriteFailure::default();
    let writer = tokio::spawn(writer_task(wr, out_rx, t, failure.clone()));
    let interrupt = machine.interrupt();
    let mut stepper = Some(Stepper {
        machine,
        performer,
        tx: out_tx.clone(),
        failure,
        writer_gone: false,
        write_error: None,
        flags: flags.clone(),
        closed: false,
        held: None,
    });
    let mut frames = std::collections::VecDeque::new();
    let mut cancel: Option<CancelReason> = None;
    // The shutdown is passed to the machine once.
    let mut cancelled = false;
    // The peer left (its Abort arrived, or the connection ended): the running step was told.
    let mut peer_left = false;
    let mut timed_out: Option<Error> = None;
    let mut blocked;
    loop {
        let mut s = match stepper.take() {
            Some(s) => s,
            None => break,
        };
        let batch_frames = std::mem::take(&mut frames);
        let reason = cancel.take();
        let expired = timed_out.take();
        let step = tokio::task::spawn_blocking(move || {
            let mut frames = batch_frames;
            if let Some(r) = reason {
                s.machine.cancel(r);
            }
            let mut blocked = s.feed(&mut frames);
            let failure = expired.or_else(|| {
                if frames.is_empty() || !s.machine.wants_input() {
                    s.write_error.take()
                } else {
                    None
                }
            });
            if let Some(e) = failure {
                s.machine.handle(Input::Failed(e));
                blocked = s.drain();
            }
            (s, frames, blocked)
        });
        tokio::pin!(step);
        // While the step runs, a shutdown, or the peer leaving, raises the machine's interrupt
        // flag: a long step stops at its next check.
        let (s, rest, b) = loop {
            tokio::select! {
                r = &mut step => match r {
                    Ok(x) => break x,
                    Err(e) => {
                        reader.abort();
                        writer.abort();
                        return (Err(Error::internal(format!("a session step failed: {e}"))), DriveStats::default());
                    }
                },
                r = shutdown.wait(), if !cancelled => {
                    interrupt.raise(r);
                    cancelled = true;
                    cancel = Some(r);
                }
                () = flags.left(), if !peer_left => {
                    // The step's work is for nothing now. Stopped, the machine takes the
                    // input that says why (the peer's Abort, the end of the stream, the
                    // failure) and ends with the peer's error, sending no Abort of its own.
                    interrupt.raise(CancelReason::PeerLeft);
                    peer_left = true;
                }
            }
        };
        frames = rest;
        blocked = b;
        if s.is_finished() {
            stepper = Some(s);
            break;
        }
        // A cancellation that arrived during the step is handled by the next step.
        if cancel.is_some() {
            stepper = Some(s);
            continue;
        }
        if s.write_error.is_some() {
            // The peer went away. Before our failed write, find out whether it said why: its
            // protocol frames are dropped unread (freeing their room, so the reader goes on),
            // until its Abort, the end of the stream, or a short wait.
            let until = tokio::time::Instant::now() + Duration::from_millis(250);
            drop_protocol_frames(&mut frames);
            while let Ok(Some(q)) = tokio::time::timeout_at(until, in_rx.recv()).await {
                if is_protocol(&q) {
                    continue;
                }
                let end = !matches!(q.input, Input::Frame(_))
                    || matches!(&q.input, Input::Frame(f) if f.kind == FrameKind::Abort);
                frames.push_back(q);
                if end {
                    break;
                }
            }
            stepper = Some(s);
            continue;
        }
        let wants = s.machine.wants_input();
        let handshake_left = (s.machine.stage() == Stage::Handshake)
            .then(|| t.handshake.saturating_sub(start.elapsed()));
        let session_left = t.session.saturating_sub(start.elapsed());
        stepper = Some(s);
        if wants && !frames.is_empty() {
            continue;
        }
        let limit = handshake_left.map_or(session_left, |h| h.min(session_left));
        let which = if handshake_left.is_some_and(|h| h <= session_left) {
            Deadline::Handshake
        } else {
            Deadline::Session
        };
        tokio::select! {
            q = in_rx.recv(), if wants => {
                match q {
                    Some(q) => {
                        frames.push_back(q);
                        while frames.len() < BATCH {
                            match in_rx.try_recv() {
                                Ok(q) => frames.push_back(q),
                                Err(_) => break,
                            }
                        }
                        if flags.aborted() {
                            // Skip to the Abort: drain what is queued, keeping only the rest.
                            while let Ok(q) = in_rx.try_recv() {
                                frames.push_back(q);
                            }
                            drop_protocol_frames(&mut frames);
                        }
                    }
                    None => frames.push_back(Queued { input: Input::Closed, _room: None }),
                }
            }
            p = out_tx.reserve(), if blocked => {
                // Room in the writer: the next step produces more.
                drop(p);
            }
            r = shutdown.wait(), if !cancelled => {
                cancelled = true;
                cancel = Some(r);
            }
            () = tokio::time::sleep(limit) => {
                timed_out = Some(Error::timeout(which, if which == Deadline::Handshake { t.handshake } else { t.session }));
            }
        }
    }
    drop(out_tx);
    let Some(s) = stepper else {
        return (
            Err(Error::internal("the session machine was lost")),
            DriveStats::default(),
        );
    };
    drop(s.tx);
    // Let the writer flush and close (bounded by its own deadlines; a cancelled session, which
    // must end promptly, gives its Abort a short while only).
    let flush = if cancelled {
        CANCEL_FLUSH
    } else {
        t.write + Duration::from_secs(1)
    };
    let mut writer = writer;
    let sent = match tokio::time::timeout(flush, &mut writer).await {
        Ok(Ok(sent)) => sent,
        _ => {
            writer.abort();
            0
        }
    };
    // Keep reading, and dropping, what the peer still sends until it closes (briefly): closing
    // with unread bytes would reset the connection and could destroy our Abort in flight.
    drop(frames);
    drop(in_rx);
    let mut reader = reader;
    if tokio::time::timeout(LINGER, &mut reader).await.is_err() {
        reader.abort();
    }
    let stats = DriveStats {
        bytes_sent: sent,
        bytes_received: counter.load(std::sync::atomic::Ordering::Relaxed),
    };
    (s.machine.into_output(), stats)
}
