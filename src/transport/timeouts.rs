//! Deadlines: connecting, the handshake, every read and the whole session.
//!
//! A read has two deadlines: [`Timeouts::idle`] for the first byte of the next frame (the peer
//! may be computing) and [`Timeouts::frame`] for the rest of a frame once its header arrived.
//! A peer trickling one byte a second therefore cannot hold a session open: a frame that does
//! not complete within `frame` ends the session.

use std::future::Future;
use std::time::Duration;

use tokio::io::AsyncRead;

use super::framing::{read_body, read_header, Frame};
use crate::error::{Error, Result};

/// All deadlines of a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connect.
    pub connect: Duration,
    /// TLS handshake plus the session handshake.
    pub handshake: Duration,
    /// Waiting for the next frame to start.
    pub idle: Duration,
    /// Receiving the rest of a frame whose header arrived.
    pub frame: Duration,
    /// The whole session, handshake included.
    pub session: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            handshake: Duration::from_secs(20),
            idle: Duration::from_secs(300),
            frame: Duration::from_secs(30),
            session: Duration::from_secs(6 * 3600),
        }
    }
}

impl Timeouts {
    /// All read deadlines set to `secs` seconds (for tests and the `--timeout` flag); the
    /// session deadline is left alone.
    pub fn with_read_secs(mut self, secs: u64) -> Self {
        let d = Duration::from_secs(secs);
        self.idle = d;
        self.frame = d;
        self.handshake = self.handshake.max(d);
        self
    }
}

/// Runs `fut` under a deadline; on expiry the error says what was being waited for.
///
/// # Errors
/// [`Error::Timeout`] on expiry, or `fut`'s error.
pub async fn deadline<T>(
    d: Duration,
    what: &str,
    fut: impl Future<Output = Result<T>>,
) -> Result<T> {
    match tokio::time::timeout(d, fut).await {
        Ok(r) => r,
        Err(_) => Err(Error::LegacyTimeout(format!(
            "{what} (limit {} s)",
            d.as_secs_f64()
        ))),
    }
}

/// Reads one frame under the idle and frame deadlines. `Ok(None)` on a clean end of stream.
///
/// # Errors
/// [`Error::Timeout`] when the peer is silent or too slow, else as
/// [`super::framing::read_frame`].
pub async fn read_frame_timed<R: AsyncRead + Unpin>(
    r: &mut R,
    max: usize,
    t: &Timeouts,
) -> Result<Option<Frame>> {
    let header = deadline(t.idle, "the peer sent nothing", read_header(r, max)).await?;
    match header {
        None => Ok(None),
        Some(len) => deadline(
            t.frame,
            &format!("the peer is too slow sending a frame of {len} bytes"),
            read_body(r, len),
        )
        .await
        .map(Some),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::transport::framing::MAX_FRAME_LEN;
    use tokio::io::AsyncWriteExt;

    #[test]
    fn trickling_peer_is_dropped() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
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
            let t = Timeouts {
                frame: Duration::from_secs(1),
                ..Timeouts::default()
            };
            let err = read_frame_timed(&mut b, MAX_FRAME_LEN, &t)
                .await
                .unwrap_err();
            assert!(matches!(err, Error::LegacyTimeout(_)), "{err}");
            drop(b);
            writer.await.unwrap();
        });
    }

    #[test]
    fn silent_peer_times_out() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        rt.block_on(async {
            let (_a, mut b) = tokio::io::duplex(64);
            let t = Timeouts {
                idle: Duration::from_millis(200),
                ..Timeouts::default()
            };
            let err = read_frame_timed(&mut b, MAX_FRAME_LEN, &t)
                .await
                .unwrap_err();
            assert!(err.to_string().contains("sent nothing"), "{err}");
        });
    }
}
