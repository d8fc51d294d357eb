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

/// Sends [`FILL`] frames to a peer that reads nothing, then asks for one effect, and takes
/// input only once the effect was performed: the frames fill the pipe, the writer and its
/// queue, so the effect comes after the frame that took the writer's last place.
struct EffectBehindFullWriter {
    interrupt: Interrupt,
    sent: usize,
    asked: bool,
    performed: bool,
    heard: Arc<std::sync::atomic::AtomicBool>,
}

/// One frame in the writer's hands (the pipe takes only a part of it) and
/// [`super::WRITE_QUEUE`] in its queue.
const FILL: usize = super::WRITE_QUEUE + 1;

impl Machine for EffectBehindFullWriter {
    type Effect = ();
    type Completion = ();
    type Output = Seen;

    fn handle(&mut self, input: Input) {
        if matches!(input, Input::Frame(ref f) if f.kind == FrameKind::Protocol) {
            self.heard.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }

    fn complete(&mut self, (): ()) {
        self.performed = true;
    }

    fn cancel(&mut self, reason: CancelReason) {
        self.interrupt.raise(reason);
    }

    fn poll(&mut self) -> Option<Action<()>> {
        if self.sent < FILL {
            self.sent += 1;
            return Some(Action::Send(Frame::new(FrameKind::Protocol, vec![0; 1000])));
        }
        if !self.asked {
            self.asked = true;
            return Some(Action::Perform(()));
        }
        None
    }

    fn wants_input(&self) -> bool {
        self.performed && !self.is_finished()
    }

    fn stage(&self) -> Stage {
        Stage::Session
    }

    fn interrupt(&self) -> Interrupt {
        self.interrupt.clone()
    }

    fn is_finished(&self) -> bool {
        self.heard.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn into_output(self) -> Result<Seen> {
        Ok(Seen {
            stopped_by: None,
            stopped_at: Instant::now(),
            then: Then::Closed,
        })
    }
}

/// The peer sends one frame and reads nothing until we have read it (as a peer whose own
/// answers wait for ours may): an effect that comes after the frame that filled our writer
/// runs, and we go on reading (`protocol-spec/09-buckets.md` 9.7). (An effect behind a frame
/// that found the writer full waits with it: a machine queues an effect before the frame it
/// must not wait behind, as the envelope records a finished bucket before sending the
/// bucket's last message.)
#[test]
fn an_effect_behind_a_full_writer_runs_and_input_goes_on() {
    runtime().block_on(async {
        let (ours, mut theirs) = tokio::io::duplex(64);
        let heard = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let machine = EffectBehindFullWriter {
            interrupt: Interrupt::default(),
            sent: 0,
            asked: false,
            performed: false,
            heard: heard.clone(),
        };
        let driven = tokio::spawn(async move {
            drive(
                ours,
                machine,
                Arc::new(NoEffects),
                Timeouts::default(),
                Shutdown::never(),
                None,
            )
            .await
            .0
        });
        write_frame(&mut theirs, &Frame::new(FrameKind::Protocol, vec![0x01]))
            .await
            .unwrap();
        let start = Instant::now();
        while !heard.load(std::sync::atomic::Ordering::SeqCst) && start.elapsed() < PROMPT {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let was_heard = heard.load(std::sync::atomic::Ordering::SeqCst);
        // Now read everything, so the driver can finish either way.
        let reader = tokio::spawn(async move {
            let mut frames = 0usize;
            while let Ok(Some(h)) = crate::transport::framing::read_header(&mut theirs).await {
                crate::transport::framing::read_payload(&mut theirs, h)
                    .await
                    .unwrap();
                frames += 1;
            }
            frames
        });
        if !was_heard {
            heard.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        let r = ended(driven).await;
        assert!(r.is_ok(), "{r:?}");
        assert_eq!(reader.await.unwrap(), FILL);
        assert!(
            was_heard,
            "the frame was not read within {PROMPT:?} while the effect waited"
        );
    });
}
