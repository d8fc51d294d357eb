//! Drives any [`SansIo`] session over a framed connection
//! (`protocol-spec/04-transport-and-handshake.md` section 3).
//!
//! Three activities overlap:
//! * a reader task reads frames eagerly into a queue, so the peer's writes always progress
//!   and neither side can block the other on full TCP buffers (the queue is bounded by the
//!   number of bytes the peer may send in the agreed session, checked on arrival);
//! * a writer task writes frames from a small bounded channel;
//! * the session's CPU work (`poll_outgoing`, `handle`: batched group operations on a chunk)
//!   runs in `spawn_blocking`, pushing each message to the writer as soon as it is ready.
//!
//! When the session is finished each side sends `Done` and waits for the peer's: a side
//! writes its output only once both finished. The reader stops after the peer's `Done`, and
//! [`drive`] hands the connection back so the session envelope can exchange receipts on it
//! ([`super::session`]). On any error the driver sends `Abort` (no reason: the peer learns
//! only that the session failed), closes the connection and returns the error.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use super::framing::{write_frame, Frame, FrameKind};
use super::progress::{Direction, Progress};
use super::timeouts::{read_frame_timed, Timeouts};
use crate::error::{Error, Result};
use crate::protocol::{SansIo, WireMessage};

/// Frames buffered between the session and the writer task.
const WRITE_QUEUE: usize = 4;

/// Limits of one driven session.
#[derive(Debug, Clone, Copy)]
pub struct DriveLimits {
    /// Largest frame accepted from the peer.
    pub max_frame: usize,
    /// Total bytes of protocol payload the peer may send in the whole session.
    pub max_received: u64,
    /// Read deadlines.
    pub timeouts: Timeouts,
}

/// Byte counts of a driven session (frame payloads, excluding TLS overhead).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DriveStats {
    /// Bytes of frames written (headers included).
    pub bytes_sent: u64,
    /// Bytes of frames read (headers included).
    pub bytes_received: u64,
}

enum Incoming {
    Message(Vec<u8>),
    Done,
    Abort,
    Closed,
    Failed(Error),
}

/// Reads frames until the peer's `Done` or a terminal item, then returns the read half.
fn reader_task<R: AsyncRead + Unpin + Send + 'static>(
    mut rd: R,
    limits: DriveLimits,
    tx: mpsc::UnboundedSender<Incoming>,
    counter: Arc<AtomicU64>,
) -> tokio::task::JoinHandle<R> {
    tokio::spawn(async move {
        let mut total: u64 = 0;
        loop {
            let item = match read_frame_timed(&mut rd, limits.max_frame, &limits.timeouts).await {
                Ok(Some(frame)) => {
                    total += 5 + frame.payload.len() as u64;
                    counter.store(total, Ordering::Relaxed);
                    match frame.kind {
                        FrameKind::Protocol => {
                            if total > limits.max_received {
                                Incoming::Failed(Error::LegacyPeerMisbehaved(format!(
                                    "the peer sent more than the {} bytes the agreed set sizes allow",
                                    limits.max_received
                                )))
                            } else {
                                Incoming::Message(frame.payload)
                            }
                        }
                        FrameKind::Done => Incoming::Done,
                        FrameKind::Abort => Incoming::Abort,
                        other => Incoming::Failed(Error::LegacyPeerMisbehaved(format!(
                            "unexpected {other:?} frame after the handshake"
                        ))),
                    }
                }
                Ok(None) => Incoming::Closed,
                Err(e) => Incoming::Failed(e),
            };
            // After `Done` the next frame (a receipt) belongs to the envelope: stop reading.
            let last = !matches!(item, Incoming::Message(_));
            if tx.send(item).is_err() || last {
                return rd;
            }
        }
    })
}

fn writer_task<W: AsyncWrite + Unpin + Send + 'static>(
    mut wr: W,
    mut rx: mpsc::Receiver<Frame>,
) -> tokio::task::JoinHandle<(W, Result<u64>)> {
    tokio::spawn(async move {
        let mut total = 0u64;
        while let Some(frame) = rx.recv().await {
            if let Err(e) = write_frame(&mut wr, &frame).await {
                return (wr, Err(e));
            }
            total += 5 + frame.payload.len() as u64;
        }
        (wr, Ok(total))
    })
}

fn peer_error(item: Incoming, finished: bool) -> Error {
    match item {
        Incoming::Message(_) => Error::LegacyPeerMisbehaved(
            "the peer sent a protocol message after the session was complete".into(),
        ),
        Incoming::Done if !finished => Error::LegacyPeerMisbehaved(
            "the peer declared the session complete before all agreed messages were exchanged"
                .into(),
        ),
        Incoming::Done => Error::LegacyPeerMisbehaved("the peer sent Done twice".into()),
        Incoming::Abort => Error::LegacyPeerMisbehaved(
            "the peer ended the session (it reported a failure; its own log says why)".into(),
        ),
        Incoming::Closed => Error::LegacyPeerMisbehaved(
            "the peer closed the connection before the session was complete".into(),
        ),
        Incoming::Failed(e) => e,
    }
}

/// Sends every message the session has ready, from a blocking thread.
fn drain<S: SansIo>(s: &mut S, tx: &mpsc::Sender<Frame>, progress: &Progress) -> Result<()> {
    while let Some(msg) = s.poll_outgoing()? {
        let bytes = msg.encode();
        let (phase, items) = msg.progress();
        tx.blocking_send(Frame::new(FrameKind::Protocol, bytes))
            .map_err(|_| {
                Error::LegacyPeerMisbehaved("the connection to the peer was lost".into())
            })?;
        progress.advance(Direction::Sent, phase, items);
    }
    Ok(())
}

/// Handles a batch of received messages, then sends what they produced.
fn handle_batch<S: SansIo>(
    s: &mut S,
    batch: Vec<Vec<u8>>,
    tx: &mpsc::Sender<Frame>,
    progress: &Progress,
) -> Result<()> {
    for bytes in batch {
        let msg = S::Message::decode(&bytes)?;
        let (phase, items) = msg.progress();
        s.handle(msg)?;
        progress.advance(Direction::Received, phase, items);
        drain(s, tx, progress)?;
    }
    Ok(())
}

/// Runs `session` to completion over `stream` (after the handshake) and hands the stream back
/// once both sides sent `Done` (nothing after the peer's `Done` has been read). The caller
/// applies the whole-session deadline around this future and closes the stream.
///
/// # Errors
/// The session's error, [`Error::PeerMisbehaved`] if the peer aborted, closed early or sent
/// too much, [`Error::Timeout`] or [`Error::Io`] from the connection. The peer is sent `Abort`
/// and the connection is closed.
pub async fn drive<S, IO>(
    stream: IO,
    session: S,
    limits: DriveLimits,
    progress: Progress,
) -> Result<(S::Output, DriveStats, IO)>
where
    S: SansIo + Send + 'static,
    S::Output: Send + 'static,
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (rd, wr) = tokio::io::split(stream);
    let (in_tx, mut in_rx) = mpsc::unbounded_channel();
    let (out_tx, out_rx) = mpsc::channel::<Frame>(WRITE_QUEUE);
    let counter = Arc::new(AtomicU64::new(0));
    let reader = reader_task(rd, limits, in_tx, counter.clone());
    let writer = writer_task(wr, out_rx);

    let result = run_session(session, &mut in_rx, out_tx.clone(), progress.clone()).await;
    // Done or Abort, then close our direction cleanly.
    let last = match &result {
        Ok(_) => FrameKind::Done,
        Err(_) => FrameKind::Abort,
    };
    let _ = out_tx.send(Frame::new(last, Vec::new())).await;
    drop(out_tx);
    let result = match result {
        Ok((out, true)) => Ok(out),
        Ok((out, false)) => wait_for_done(&mut in_rx, limits.timeouts)
            .await
            .map(|()| out),
        Err(e) => Err(e),
    };
    let (mut wr, written) = match writer.await {
        Ok(x) => x,
        Err(e) => {
            reader.abort();
            return Err(Error::LegacyPeerMisbehaved(format!(
                "writer task failed: {e}"
            )));
        }
    };
    let received = counter.load(Ordering::Relaxed);
    progress.finish();
    let done = match (result, written) {
        (Ok(out), Ok(sent)) => Ok((out, sent)),
        (Err(e), _) | (_, Err(e)) => Err(e),
    };
    let (out, bytes_sent) = match done {
        Ok(x) => x,
        Err(e) => {
            reader.abort();
            // close_notify; the peer may already be gone.
            let _ = tokio::time::timeout(limits.timeouts.frame, wr.shutdown()).await;
            return Err(e);
        }
    };
    // The peer's `Done` arrived, so the reader has stopped and returns the read half.
    let rd = reader
        .await
        .map_err(|e| Error::LegacyPeerMisbehaved(format!("reader task failed: {e}")))?;
    Ok((
        out,
        DriveStats {
            bytes_sent,
            bytes_received: received,
        },
        rd.unsplit(wr),
    ))
}

async fn wait_for_done(rx: &mut mpsc::UnboundedReceiver<Incoming>, t: Timeouts) -> Result<()> {
    match tokio::time::timeout(t.idle, rx.recv()).await {
        Ok(Some(Incoming::Done)) => Ok(()),
        Ok(Some(other)) => Err(peer_error(other, true)),
        Ok(None) => Err(Error::LegacyPeerMisbehaved(
            "the connection closed before the peer confirmed the session".into(),
        )),
        Err(_) => Err(Error::LegacyTimeout(
            "waiting for the peer to confirm the session".into(),
        )),
    }
}

async fn run_session<S>(
    session: S,
    in_rx: &mut mpsc::UnboundedReceiver<Incoming>,
    out_tx: mpsc::Sender<Frame>,
    progress: Progress,
) -> Result<(S::Output, bool)>
where
    S: SansIo + Send + 'static,
    S::Output: Send + 'static,
{
    let mut session = session;
    let mut batch: Vec<Vec<u8>> = Vec::new();
    loop {
        let tx = out_tx.clone();
        let p = progress.clone();
        let b = std::mem::take(&mut batch);
        let (s, r) = tokio::task::spawn_blocking(move || {
            let mut s = session;
            let r = drain(&mut s, &tx, &p).and_then(|()| handle_batch(&mut s, b, &tx, &p));
            (s, r)
        })
        .await
        .map_err(|e| Error::LegacyPeerMisbehaved(format!("session task failed: {e}")))?;
        session = s;
        r?;
        if session.is_finished() {
            break;
        }
        // Wait for at least one message, then take all that are already queued.
        match in_rx.recv().await {
            Some(Incoming::Message(m)) => batch.push(m),
            Some(other) => return Err(peer_error(other, false)),
            None => return Err(peer_error(Incoming::Closed, false)),
        }
        while batch.len() < 64 {
            match in_rx.try_recv() {
                Ok(Incoming::Message(m)) => batch.push(m),
                Ok(other) => {
                    // Handle what we have first; the terminal item ends the session next.
                    let tx = out_tx.clone();
                    let p = progress.clone();
                    let b = std::mem::take(&mut batch);
                    let (s, r) = tokio::task::spawn_blocking(move || {
                        let mut s = session;
                        let r = handle_batch(&mut s, b, &tx, &p);
                        (s, r)
                    })
                    .await
                    .map_err(|e| {
                        Error::LegacyPeerMisbehaved(format!("session task failed: {e}"))
                    })?;
                    session = s;
                    r?;
                    if session.is_finished() && matches!(other, Incoming::Done) {
                        return Ok((session.into_output()?, true));
                    }
                    return Err(peer_error(other, false));
                }
                Err(_) => break,
            }
        }
    }
    Ok((session.into_output()?, false))
}
