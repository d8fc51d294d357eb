//! [`ReaderFlags`]: what the network driver's reader task tells the rest of the driver about
//! the peer while frames wait in the queue: flags a blocking step reads, and a wake-up the
//! driver waits on while a step runs (so that a peer's `Abort` stops a long step at its next
//! check instead of waiting for it to end).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use tokio::sync::Notify;

#[derive(Default)]
struct Shared {
    aborted: AtomicBool,
    left: AtomicBool,
    wake: Notify,
}

/// Shared by the reader (which raises) and the driver and its steps (which read and wait).
/// Each flag is raised once and stays raised.
#[derive(Clone, Default)]
pub(super) struct ReaderFlags(Arc<Shared>);

impl ReaderFlags {
    /// An `Abort` arrived, or the connection failed: the session can no longer complete, and
    /// the peer's protocol frames queued before need no work. The peer has left, too.
    pub(super) fn raise_aborted(&self) {
        self.0.aborted.store(true, Ordering::SeqCst);
        self.raise_left();
    }

    /// The peer left: its `Abort` arrived, or the connection ended or failed. Wakes
    /// [`ReaderFlags::left`]. (A clean end of the stream alone raises only this: it also
    /// ends a completed session, whose queued frames still count.)
    pub(super) fn raise_left(&self) {
        self.0.left.store(true, Ordering::SeqCst);
        self.0.wake.notify_waiters();
    }

    /// Whether [`ReaderFlags::raise_aborted`] was called.
    pub(super) fn aborted(&self) -> bool {
        self.0.aborted.load(Ordering::SeqCst)
    }

    /// Returns once the peer has left (at once if it already has).
    pub(super) async fn left(&self) {
        loop {
            // Registered before the flag is read, so a raise in between still wakes us.
            let woken = self.0.wake.notified();
            if self.0.left.load(Ordering::SeqCst) {
                return;
            }
            woken.await;
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    #[test]
    fn an_abort_raises_both_flags_and_wakes_a_waiter() {
        runtime().block_on(async {
            let flags = ReaderFlags::default();
            let reader = flags.clone();
            let waiter = tokio::spawn(async move { flags.left().await });
            tokio::task::yield_now().await;
            assert!(!reader.aborted());
            reader.raise_aborted();
            tokio::time::timeout(Duration::from_secs(5), waiter)
                .await
                .unwrap()
                .unwrap();
            assert!(reader.aborted());
        });
    }

    #[test]
    fn a_waiter_after_the_peer_left_returns_at_once_and_a_close_is_no_abort() {
        runtime().block_on(async {
            let flags = ReaderFlags::default();
            flags.raise_left();
            tokio::time::timeout(Duration::from_secs(5), flags.left())
                .await
                .unwrap();
            assert!(!flags.aborted());
        });
    }

    #[test]
    fn a_waiter_is_not_woken_while_the_peer_stays() {
        runtime().block_on(async {
            let flags = ReaderFlags::default();
            let waited = tokio::time::timeout(Duration::from_millis(50), flags.left()).await;
            assert!(waited.is_err());
        });
    }
}
