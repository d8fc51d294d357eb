//! Shutting down: a [`ShutdownTrigger`] raised once (Ctrl-C, SIGTERM, a caller's decision)
//! and any number of [`Shutdown`] listeners (the accept loop, every running session), as in
//! mini-redis' `shutdown.rs`.

use tokio::sync::watch;

use crate::error::CancelReason;

/// Raises the shutdown, once, with its reason.
#[derive(Debug, Clone)]
pub struct ShutdownTrigger(watch::Sender<Option<CancelReason>>);

/// Learns of the shutdown.
#[derive(Debug, Clone)]
pub struct Shutdown(watch::Receiver<Option<CancelReason>>);

/// A new trigger and its listener.
pub fn channel() -> (ShutdownTrigger, Shutdown) {
    let (tx, rx) = watch::channel(None);
    (ShutdownTrigger(tx), Shutdown(rx))
}

impl ShutdownTrigger {
    /// Raises the shutdown (the first reason is kept).
    pub fn trigger(&self, reason: CancelReason) {
        self.0.send_if_modified(|r| {
            if r.is_none() {
                *r = Some(reason);
                true
            } else {
                false
            }
        });
    }

    /// A listener.
    pub fn subscribe(&self) -> Shutdown {
        Shutdown(self.0.subscribe())
    }
}

impl Shutdown {
    /// A listener that never fires.
    pub fn never() -> Shutdown {
        let (tx, rx) = watch::channel(None);
        // Keep the sender alive for the program's life: `wait` then never returns.
        std::mem::forget(tx);
        Shutdown(rx)
    }

    /// The reason, once raised.
    pub fn reason(&self) -> Option<CancelReason> {
        *self.0.borrow()
    }

    /// Waits until the shutdown is raised; returns its reason. Never returns if every trigger
    /// is dropped without raising it.
    pub async fn wait(&mut self) -> CancelReason {
        loop {
            if let Some(r) = *self.0.borrow_and_update() {
                return r;
            }
            if self.0.changed().await.is_err() {
                std::future::pending::<()>().await;
            }
        }
    }
}

/// Waits for Ctrl-C or (on Unix) SIGTERM: the command line's (a library never installs signal
/// handlers; an embedder triggers a [`Shutdown`] from its own).
#[cfg(feature = "cli")]
pub(crate) async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_listener_learns_the_first_reason() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        rt.block_on(async {
            let (t, mut a) = channel();
            let mut b = t.subscribe();
            assert_eq!(a.reason(), None);
            t.trigger(CancelReason::Interrupted);
            t.trigger(CancelReason::Shutdown);
            assert_eq!(a.wait().await, CancelReason::Interrupted);
            assert_eq!(b.wait().await, CancelReason::Interrupted);
        });
    }
}
