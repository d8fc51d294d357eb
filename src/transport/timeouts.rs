//! Deadlines (`protocol-spec/04-transport-and-handshake.md` section 4.6): connecting, the TLS
//! handshake, the session handshake, every read and write, and the whole session.
//!
//! A read has two deadlines: [`Timeouts::idle`] for the first byte of the next frame (the peer
//! may be computing) and [`Timeouts::frame`] for the rest of a frame once its header arrived,
//! so a peer trickling one byte a second cannot hold a session open. A write that makes no
//! progress within [`Timeouts::write`] (a peer that does not read) ends the session too.

use std::future::Future;
use std::time::Duration;

use tokio::io::AsyncRead;

use super::framing::{read_header, read_payload, Frame};
use crate::error::{Deadline, Error, Result};

/// All deadlines of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Timeouts {
    /// TCP connect.
    pub connect: Duration,
    /// The TLS handshake (an unauthenticated connection is dropped after it).
    pub tls_handshake: Duration,
    /// The session handshake and admission, from the end of TLS to both verdicts.
    pub handshake: Duration,
    /// Waiting for the next frame to start.
    pub idle: Duration,
    /// Receiving the rest of a frame whose header arrived.
    pub frame: Duration,
    /// Writing one frame to the peer.
    pub write: Duration,
    /// The whole session.
    pub session: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            tls_handshake: Duration::from_secs(10),
            handshake: Duration::from_secs(30),
            idle: Duration::from_secs(300),
            frame: Duration::from_secs(30),
            write: Duration::from_secs(60),
            session: Duration::from_secs(6 * 3600),
        }
    }
}

impl Timeouts {
    /// The idle and frame deadlines set to `secs` seconds (the `--read-timeout` option).
    pub fn with_read_secs(mut self, secs: u64) -> Self {
        let d = Duration::from_secs(secs);
        self.idle = d;
        self.frame = d;
        self
    }
}

/// Runs `fut` under a deadline.
///
/// # Errors
/// [`Error::Timeout`] naming `which` on expiry, or `fut`'s error.
pub(crate) async fn deadline<T>(
    limit: Duration,
    which: Deadline,
    fut: impl Future<Output = Result<T>>,
) -> Result<T> {
    match tokio::time::timeout(limit, fut).await {
        Ok(r) => r,
        Err(_) => Err(Error::timeout(which, limit)),
    }
}

/// Reads one frame under the idle and frame deadlines. `Ok(None)` on a clean end of stream.
///
/// # Errors
/// [`Error::Timeout`] ([`Deadline::Idle`] or [`Deadline::Frame`]) when the peer is silent or
/// too slow, else as [`super::framing::read_frame`].
pub async fn read_frame_timed<R: AsyncRead + Unpin>(
    r: &mut R,
    idle: Duration,
    frame: Duration,
) -> Result<Option<Frame>> {
    match deadline(idle, Deadline::Idle, read_header(r)).await? {
        None => Ok(None),
        Some(h) => deadline(frame, Deadline::Frame, read_payload(r, h))
            .await
            .map(Some),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    #[test]
    fn trickling_peer_is_dropped() {
        rt().block_on(async {
            let (mut a, mut b) = tokio::io::duplex(64);
            let writer = tokio::spawn(async move {
                // A header for 10 bytes, then one byte every 300 ms: 4 s for the frame.
                for byte in [0u8, 0, 0, 10, 3, 1, 2, 3, 4, 5, 6, 7, 8, 9] {
                    if a.write_all(&[byte]).await.is_err() {
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(300)).await;
                }
            });
            let err = read_frame_timed(&mut b, Duration::from_secs(60), Duration::from_secs(1))
                .await
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::Timeout {
                        deadline: Deadline::Frame,
                        ..
                    }
                ),
                "{err}"
            );
            drop(b);
            writer.await.unwrap();
        });
    }

    #[test]
    fn silent_peer_times_out() {
        rt().block_on(async {
            let (_a, mut b) = tokio::io::duplex(64);
            let err = read_frame_timed(&mut b, Duration::from_millis(200), Duration::from_secs(1))
                .await
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    Error::Timeout {
                        deadline: Deadline::Idle,
                        ..
                    }
                ),
                "{err}"
            );
        });
    }
}
