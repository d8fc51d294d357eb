//! The driver against a stand-in machine whose one step is long (as a VOLE-PSI step is): the
//! peer's `Abort`, or the end of the connection, stops the step while it runs, and the
//! machine then reads why; a local shutdown still cancels.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::DuplexStream;

use super::drive;
use crate::error::{CancelReason, Error, Result};
use crate::protocol::Interrupt;
use crate::transport::framing::{write_frame, Frame, FrameKind};
use crate::transport::machine::{Action, Input, Machine, Perform, Stage};
use crate::transport::shutdown::{self, Shutdown};
use crate::transport::timeouts::Timeouts;

/// How long the step works when nothing stops it.
const LONG: Duration = Duration::from_secs(8);

/// What ended the machine after its step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Then {
    Abort,
    Closed,
    Failed,
}

/// What the machine saw.
#[derive(Debug)]
struct Seen {
    /// The interrupt's reason when the step stopped, if it was raised.
    stopped_by: Option<CancelReason>,
    /// When the step stopped.
    stopped_at: Instant,
    then: Then,
}

/// Handles its first protocol frame by working, checking its interrupt as a long step does,
/// until the interrupt is raised or [`LONG`] passed; the next `Abort`, end of stream or
/// failure ends it.
#[derive(Default)]
struct LongStep {
    interrupt: Interrupt,
    stopped: Option<(Option<CancelReason>, Instant)>,
    result: Option<Result<Seen>>,
}

impl LongStep {
    fn end(&mut self, then: Then) {
        let (stopped_by, stopped_at) = self.stopped.unwrap_or((None, Instant::now()));
        self.result = Some(Ok(Seen {
            stopped_by,
            stopped_at,
            then,
        }));
    }
}

impl Machine for LongStep {
    type Effect = ();
    type Completion = ();
    type Output = Seen;

    fn handle(&mut self, input: Input) {
        match input {
            Input::Frame(f) if f.kind == FrameKind::Protocol => {
                if self.stopped.is_none() {
                    let start = Instant::now();
                    while self.interrupt.check().is_ok() && start.elapsed() < LONG {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    self.stopped = Some((self.interrupt.reason(), Instant::now()));
                }
            }
            Input::Frame(f) if f.kind == FrameKind::Abort => self.end(Then::Abort),
            Input::Frame(_) => {}
            Input::Closed => self.end(Then::Closed),
            Input::Failed(_) => self.end(Then::Failed),
        }
    }

    fn complete(&mut self, (): ()) {}

    fn cancel(&mut self, reason: CancelReason) {
        self.interrupt.raise(reason);
        self.result = Some(Err(Error::Cancelled(reason)));
    }

    fn poll(&mut self) -> Option<Action<()>> {
        None
    }

    fn wants_input(&self) -> bool {
        self.result.is_none()
    }

    fn stage(&self) -> Stage {
        Stage::Session
    }

    fn interrupt(&self) -> Interrupt {
        self.interrupt.clone()
    }

    fn is_finished(&self) -> bool {
        self.result.is_some()
    }

    fn into_output(self) -> Result<Seen> {
        self.result
            .unwrap_or_else(|| Err(Error::internal("the machine did not end")))
    }
}

struct NoEffects;

impl Perform<(), ()> for NoEffects {
    fn perform(&self, (): ()) {}
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Drives a [`LongStep`] over one end of a pipe and starts its step from the other end.
async fn started(shutdown: Shutdown) -> (tokio::task::JoinHandle<Result<Seen>>, DuplexStream) {
    let (ours, mut theirs) = tokio::io::duplex(1 << 16);
    let driven = tokio::spawn(async move {
        let t = Timeouts::default();
        let (r, _) = drive(
            ours,
            LongStep::default(),
            Arc::new(NoEffects),
            t,
            shutdown,
            None,
        )
        .await;
        r
    });
    write_frame(&mut theirs, &Frame::new(FrameKind::Protocol, vec![0x01]))
        .await
        .unwrap();
    // Into the step.
    tokio::time::sleep(Duration::from_millis(200)).await;
    (driven, theirs)
}

async fn ended(driven: tokio::task::JoinHandle<Result<Seen>>) -> Result<Seen> {
    tokio::time::timeout(LONG + Duration::from_secs(5), driven)
        .await
        .unwrap()
        .unwrap()
}

/// Well before [`LONG`], with room for a loaded machine.
const PROMPT: Duration = Duration::from_secs(2);

#[test]
fn a_peer_abort_stops_the_running_step_and_the_machine_then_reads_the_abort() {
    runtime().block_on(async {
        let (driven, mut theirs) = started(Shutdown::never()).await;
        let aborted = Instant::now();
        write_frame(&mut theirs, &Frame::empty(FrameKind::Abort))
            .await
            .unwrap();
        let seen = ended(driven).await.unwrap();
        assert_eq!(seen.stopped_by, Some(CancelReason::PeerLeft));
        assert!(
            seen.stopped_at.duration_since(aborted) < PROMPT,
            "the step stopped {:?} after the Abort",
            seen.stopped_at.duration_since(aborted)
        );
        assert_eq!(seen.then, Then::Abort);
    });
}

#[test]
fn the_end_of_the_connection_stops_the_running_step_too() {
    runtime().block_on(async {
        let (driven, theirs) = started(Shutdown::never()).await;
        let closed = Instant::now();
        drop(theirs);
        let seen = ended(driven).await.unwrap();
        assert_eq!(seen.stopped_by, Some(CancelReason::PeerLeft));
        assert!(seen.stopped_at.duration_since(closed) < PROMPT);
        assert_eq!(seen.then, Then::Closed);
    });
}

#[test]
fn a_local_shutdown_during_the_step_still_cancels() {
    runtime().block_on(async {
        let (trigger, shutdown) = shutdown::channel();
        let (driven, _theirs) = started(shutdown).await;
        trigger.trigger(CancelReason::Interrupted);
        let r = ended(driven).await;
        assert!(
            matches!(r, Err(Error::Cancelled(CancelReason::Interrupted))),
            "{r:?}"
        );
    });
}
