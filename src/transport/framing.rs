//! Length-prefixed frames (`protocol-spec/04-transport-and-handshake.md` section 1).
//!
//! A frame is `length: u32 big-endian || kind: u8 || payload`, where `length` counts the kind
//! byte and the payload. The length is checked against a maximum before anything is allocated,
//! so a peer can never make us allocate more than [`MAX_FRAME_LEN`]. A clean end of stream
//! (between frames) and an end of stream inside a frame are told apart.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::error::{Error, Result};

/// The largest frame accepted (kind byte + payload): room for a message of 65536 elements.
pub const MAX_FRAME_LEN: usize = 65536 * 32 + 1024;

/// What a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum FrameKind {
    /// A handshake hello (section 2.1).
    Hello = 1,
    /// The handshake confirmation: the transcript hash (section 2.3).
    Confirm = 2,
    /// A protocol message (the encoding of a `SansIo` message).
    Protocol = 3,
    /// This side finished the protocol successfully (section 3).
    Done = 4,
    /// This side gives up. Carries no reason: the peer is told only that the session failed.
    Abort = 5,
    /// This side's signed session receipt, after both `Done` (section 4.4.1; the receipt's
    /// 188 bytes are `protocol-spec/06-policy-and-audit.md` section 5).
    Receipt = 6,
    /// This side admitted the session after the handshake (section 4.3.4; empty).
    Admitted = 7,
    /// This side refused the session after the handshake; the payload is the name of the
    /// policy rule that refused it (section 4.3.4).
    Refused = 8,
}

impl FrameKind {
    fn from_byte(b: u8) -> Option<Self> {
        Some(match b {
            1 => FrameKind::Hello,
            2 => FrameKind::Confirm,
            3 => FrameKind::Protocol,
            4 => FrameKind::Done,
            5 => FrameKind::Abort,
            6 => FrameKind::Receipt,
            7 => FrameKind::Admitted,
            8 => FrameKind::Refused,
            _ => return None,
        })
    }
}

/// One frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// What it carries.
    pub kind: FrameKind,
    /// The payload.
    pub payload: Vec<u8>,
}

impl Frame {
    /// A frame of `kind` carrying `payload`.
    pub fn new(kind: FrameKind, payload: Vec<u8>) -> Self {
        Frame { kind, payload }
    }

    /// The frame's bytes on the wire.
    ///
    /// # Errors
    /// [`Error::Input`] if the payload is larger than [`MAX_FRAME_LEN`] allows.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let len = self.payload.len() + 1;
        if len > MAX_FRAME_LEN {
            return Err(Error::LegacyInput(format!(
                "a {:?} frame of {len} bytes exceeds the maximum of {MAX_FRAME_LEN} (use a smaller chunk size)",
                self.kind
            )));
        }
        let mut out = Vec::with_capacity(4 + len);
        out.extend_from_slice(&(len as u32).to_be_bytes());
        out.push(self.kind as u8);
        out.extend_from_slice(&self.payload);
        Ok(out)
    }
}

/// Writes one frame and flushes.
///
/// # Errors
/// [`Error::Input`] for an oversized frame, [`Error::Io`] if the write fails.
pub async fn write_frame<W: AsyncWrite + Unpin>(w: &mut W, frame: &Frame) -> Result<()> {
    let bytes = frame.to_bytes()?;
    w.write_all(&bytes)
        .await
        .map_err(|e| Error::io("sending to the peer", e))?;
    w.flush()
        .await
        .map_err(|e| Error::io("sending to the peer", e))
}

/// Reads the 4-byte length prefix. `Ok(None)` on a clean end of stream before any byte.
///
/// # Errors
/// [`Error::PeerMisbehaved`] if the stream ends inside the prefix or the length is 0 or above
/// `max`; [`Error::Io`] if the read fails.
pub async fn read_header<R: AsyncRead + Unpin>(r: &mut R, max: usize) -> Result<Option<usize>> {
    let mut header = [0u8; 4];
    let mut got = 0;
    while got < header.len() {
        let n = r
            .read(&mut header[got..])
            .await
            .map_err(|e| Error::io("receiving from the peer", e))?;
        if n == 0 {
            if got == 0 {
                return Ok(None);
            }
            return Err(Error::LegacyPeerMisbehaved(
                "the connection closed in the middle of a frame header".into(),
            ));
        }
        got += n;
    }
    let len = u32::from_be_bytes(header) as usize;
    if len == 0 || len > max {
        return Err(Error::LegacyPeerMisbehaved(format!(
            "the peer announced a frame of {len} bytes (allowed: 1 to {max})"
        )));
    }
    Ok(Some(len))
}

/// Reads the body of a frame whose checked length is `len`.
///
/// # Errors
/// [`Error::PeerMisbehaved`] if the stream ends inside the frame or the kind is unknown;
/// [`Error::Io`] if the read fails.
pub async fn read_body<R: AsyncRead + Unpin>(r: &mut R, len: usize) -> Result<Frame> {
    // `len` was checked against the maximum by `read_header`.
    let mut buf = vec![0u8; len];
    r.read_exact(&mut buf).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            Error::LegacyPeerMisbehaved(format!(
                "the connection closed in the middle of a frame of {len} bytes"
            ))
        } else {
            Error::io("receiving from the peer", e)
        }
    })?;
    let kind = FrameKind::from_byte(buf[0]).ok_or_else(|| {
        Error::LegacyPeerMisbehaved(format!("the peer sent a frame of unknown kind {}", buf[0]))
    })?;
    buf.remove(0);
    Ok(Frame { kind, payload: buf })
}

/// Reads one frame (no deadline: see [`super::timeouts`] for the timed version).
/// `Ok(None)` on a clean end of stream between frames.
///
/// # Errors
/// As [`read_header`] and [`read_body`].
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R, max: usize) -> Result<Option<Frame>> {
    match read_header(r, max).await? {
        None => Ok(None),
        Some(len) => read_body(r, len).await.map(Some),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
    }

    #[test]
    fn round_trip_and_clean_eof() {
        rt().block_on(async {
            let mut buf = Vec::new();
            let f1 = Frame::new(FrameKind::Hello, b"hello".to_vec());
            let f2 = Frame::new(FrameKind::Abort, vec![]);
            write_frame(&mut buf, &f1).await.unwrap();
            write_frame(&mut buf, &f2).await.unwrap();
            let mut r = &buf[..];
            assert_eq!(read_frame(&mut r, MAX_FRAME_LEN).await.unwrap(), Some(f1));
            assert_eq!(read_frame(&mut r, MAX_FRAME_LEN).await.unwrap(), Some(f2));
            assert_eq!(read_frame(&mut r, MAX_FRAME_LEN).await.unwrap(), None);
        });
    }

    #[test]
    fn eof_mid_frame_is_an_error() {
        rt().block_on(async {
            let mut buf = Vec::new();
            write_frame(&mut buf, &Frame::new(FrameKind::Protocol, vec![7; 100]))
                .await
                .unwrap();
            for cut in [1, 3, 4, 5, 50, buf.len() - 1] {
                let mut r = &buf[..cut];
                let err = read_frame(&mut r, MAX_FRAME_LEN).await.unwrap_err();
                assert!(
                    err.to_string().contains("middle of a frame"),
                    "{cut}: {err}"
                );
            }
        });
    }

    #[test]
    fn oversized_and_empty_frames_refused_before_allocation() {
        rt().block_on(async {
            let mut r = &[0xff, 0xff, 0xff, 0xff, 1][..];
            let err = read_frame(&mut r, MAX_FRAME_LEN).await.unwrap_err();
            assert!(err.to_string().contains("4294967295"), "{err}");
            let mut r = &[0, 0, 0, 0][..];
            assert!(read_frame(&mut r, MAX_FRAME_LEN).await.is_err());
            let mut r = &[0, 0, 0, 2, 99, 0][..];
            let err = read_frame(&mut r, MAX_FRAME_LEN).await.unwrap_err();
            assert!(err.to_string().contains("unknown kind"), "{err}");
            let big = Frame::new(FrameKind::Protocol, vec![0; MAX_FRAME_LEN]);
            assert!(big.to_bytes().is_err());
        });
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            rt().block_on(async {
                let mut r = &bytes[..];
                while let Ok(Some(_)) = read_frame(&mut r, 40).await {}
            });
        }
    }
}
