//! Length-prefixed frames (`protocol-spec/04-transport-and-handshake.md` section 4.2).
//!
//! A frame is `length: u32 big-endian || kind: u8 || payload`, where `length` counts the kind
//! byte and the payload. The reader takes the five header bytes, checks `length` against the
//! maximum of the frame's kind ([`FrameKind::max_len`]) before anything is allocated, then
//! reads the payload straight into a buffer of exactly its size. A clean end of stream (between
//! frames) and an end of stream inside a frame are told apart. The writer sends the header and
//! the payload as they are, without copying the payload into a new buffer.

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

use crate::error::{Error, PeerMisbehaved, Result};

/// The largest frame of any kind (kind byte + payload): room for a message of 65536
/// elements.
pub const MAX_FRAME_LEN: usize = 65536 * 32 + 1024;

/// Bytes of the frame header: the length and the kind.
pub const HEADER_LEN: usize = 5;

/// What a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
#[non_exhaustive]
pub enum FrameKind {
    /// A handshake hello (section 4.3.1).
    Hello = 1,
    /// The handshake confirmation: the transcript hash (section 4.3.3).
    Confirm = 2,
    /// A protocol message (the encoding of a `SansIo` message).
    Protocol = 3,
    /// This side finished the protocol successfully (section 4.4).
    Done = 4,
    /// This side gives up. Carries no reason: the peer is told only that the session failed.
    Abort = 5,
    /// This side's signed session receipt, after both `Done` (section 4.4.1).
    Receipt = 6,
    /// This side admitted the session after the handshake (section 4.3.4; empty).
    Admitted = 7,
    /// This side refused the session after the handshake; the payload is the name of the
    /// policy rule that refused it (section 4.3.4).
    Refused = 8,
}

impl FrameKind {
    /// The kind with this byte, if any.
    pub fn from_byte(b: u8) -> Option<Self> {
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

    /// The kind's name, for errors.
    pub fn name(self) -> &'static str {
        match self {
            FrameKind::Hello => "Hello",
            FrameKind::Confirm => "Confirm",
            FrameKind::Protocol => "Protocol",
            FrameKind::Done => "Done",
            FrameKind::Abort => "Abort",
            FrameKind::Receipt => "Receipt",
            FrameKind::Admitted => "Admitted",
            FrameKind::Refused => "Refused",
        }
    }

    /// The largest `length` (kind byte + payload) a frame of this kind may announce
    /// (section 4.2): 2 KiB for a hello, 33 for `Confirm`, 65 for `Refused`, 392 for a receipt,
    /// 1 for the empty kinds, [`MAX_FRAME_LEN`] for a protocol message.
    pub fn max_len(self) -> usize {
        match self {
            FrameKind::Hello => 2048,
            FrameKind::Confirm => 1 + 32,
            FrameKind::Protocol => MAX_FRAME_LEN,
            FrameKind::Done | FrameKind::Abort | FrameKind::Admitted => 1,
            FrameKind::Receipt => 1 + crate::audit::RECEIPT_LEN,
            FrameKind::Refused => 1 + 64,
        }
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

    /// A frame of `kind` with no payload (`Done`, `Abort`, `Admitted`).
    pub fn empty(kind: FrameKind) -> Self {
        Frame {
            kind,
            payload: Vec::new(),
        }
    }

    /// Bytes of the frame on the wire, header included.
    pub fn wire_len(&self) -> usize {
        HEADER_LEN + self.payload.len()
    }

    /// The five header bytes.
    ///
    /// # Errors
    /// [`Error::Internal`] if the payload is larger than the kind allows (our own frames are
    /// built within the limits).
    pub fn header(&self) -> Result<[u8; HEADER_LEN]> {
        let len = self.payload.len() + 1;
        if len > self.kind.max_len() {
            return Err(Error::internal(format!(
                "a {} frame of {len} bytes exceeds its maximum of {}",
                self.kind.name(),
                self.kind.max_len()
            )));
        }
        let mut h = [0u8; HEADER_LEN];
        h[..4].copy_from_slice(&(len as u32).to_be_bytes());
        h[4] = self.kind as u8;
        Ok(h)
    }

    /// The frame's bytes on the wire (tests and tools; the writer does not copy).
    ///
    /// # Errors
    /// As [`Frame::header`].
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let mut out = Vec::with_capacity(self.wire_len());
        out.extend_from_slice(&self.header()?);
        out.extend_from_slice(&self.payload);
        Ok(out)
    }
}

/// Writes one frame (header, then the payload in place) without flushing.
///
/// # Errors
/// [`Error::Internal`] for an oversized frame, [`Error::Io`] if the write fails.
pub(crate) async fn write_frame_unflushed<W: AsyncWrite + Unpin>(
    w: &mut W,
    frame: &Frame,
) -> Result<()> {
    let header = frame.header()?;
    w.write_all(&header)
        .await
        .map_err(|e| Error::io("sending to the peer", e))?;
    w.write_all(&frame.payload)
        .await
        .map_err(|e| Error::io("sending to the peer", e))
}

/// Writes one frame and flushes.
///
/// # Errors
/// [`Error::Internal`] for an oversized frame, [`Error::Io`] if the write fails.
pub async fn write_frame<W: AsyncWrite + Unpin>(w: &mut W, frame: &Frame) -> Result<()> {
    write_frame_unflushed(w, frame).await?;
    w.flush()
        .await
        .map_err(|e| Error::io("sending to the peer", e))
}

/// A checked frame header: the kind and the payload length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    /// The frame's kind.
    pub kind: FrameKind,
    /// Bytes of payload that follow.
    pub payload_len: usize,
}

/// Reads and checks the five header bytes. `Ok(None)` on a clean end of stream before any
/// byte.
///
/// # Errors
/// [`PeerMisbehaved::TruncatedFrame`] if the stream ends inside the header,
/// [`PeerMisbehaved::UnknownFrameKind`] for an unknown kind,
/// [`PeerMisbehaved::FrameTooLarge`] for a length of 0 or above the kind's maximum;
/// [`Error::Io`] if the read fails.
pub(crate) async fn read_header<R: AsyncRead + Unpin>(r: &mut R) -> Result<Option<Header>> {
    let mut header = [0u8; HEADER_LEN];
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
            return Err(PeerMisbehaved::TruncatedFrame.into());
        }
        got += n;
    }
    let len = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) as usize;
    if len == 0 {
        return Err(PeerMisbehaved::FrameTooLarge { len: 0, max: 0 }.into());
    }
    let kind =
        FrameKind::from_byte(header[4]).ok_or(PeerMisbehaved::UnknownFrameKind(header[4]))?;
    if len > kind.max_len() {
        return Err(PeerMisbehaved::FrameTooLarge {
            len: len as u64,
            max: kind.max_len() as u64,
        }
        .into());
    }
    Ok(Some(Header {
        kind,
        payload_len: len - 1,
    }))
}

/// Reads the payload of a frame whose checked header is `header`, into a buffer of exactly
/// its size.
///
/// # Errors
/// [`PeerMisbehaved::TruncatedFrame`] if the stream ends inside the frame; [`Error::Io`] if
/// the read fails.
pub(crate) async fn read_payload<R: AsyncRead + Unpin>(r: &mut R, header: Header) -> Result<Frame> {
    let mut payload = vec![0u8; header.payload_len];
    r.read_exact(&mut payload).await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            PeerMisbehaved::TruncatedFrame.into()
        } else {
            Error::io("receiving from the peer", e)
        }
    })?;
    Ok(Frame {
        kind: header.kind,
        payload,
    })
}

/// Reads one frame (no deadline: [`super::timeouts::read_frame_timed`] adds them).
/// `Ok(None)` on a clean end of stream between frames.
///
/// # Errors
/// [`PeerMisbehaved::TruncatedFrame`] if the stream ends inside the frame,
/// [`PeerMisbehaved::UnknownFrameKind`] for an unknown kind,
/// [`PeerMisbehaved::FrameTooLarge`] for a length of 0 or above the kind's maximum;
/// [`Error::Io`] if the read fails.
pub async fn read_frame<R: AsyncRead + Unpin>(r: &mut R) -> Result<Option<Frame>> {
    match read_header(r).await? {
        None => Ok(None),
        Some(h) => read_payload(r, h).await.map(Some),
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

    fn peer(e: Error) -> PeerMisbehaved {
        match e {
            Error::PeerMisbehaved(p) => p,
            other => panic!("not a peer error: {other}"),
        }
    }

    #[test]
    fn round_trip_and_clean_eof() {
        rt().block_on(async {
            let mut buf = Vec::new();
            let f1 = Frame::new(FrameKind::Hello, b"hello".to_vec());
            let f2 = Frame::empty(FrameKind::Abort);
            write_frame(&mut buf, &f1).await.unwrap();
            write_frame(&mut buf, &f2).await.unwrap();
            assert_eq!(buf.len(), f1.wire_len() + f2.wire_len());
            let mut r = &buf[..];
            assert_eq!(read_frame(&mut r).await.unwrap(), Some(f1));
            assert_eq!(read_frame(&mut r).await.unwrap(), Some(f2));
            assert_eq!(read_frame(&mut r).await.unwrap(), None);
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
                let err = read_frame(&mut r).await.unwrap_err();
                assert_eq!(peer(err), PeerMisbehaved::TruncatedFrame, "cut at {cut}");
            }
        });
    }

    #[test]
    fn oversized_empty_and_unknown_frames_refused_before_allocation() {
        rt().block_on(async {
            let mut r = &[0xff, 0xff, 0xff, 0xff, 3][..];
            assert!(matches!(
                peer(read_frame(&mut r).await.unwrap_err()),
                PeerMisbehaved::FrameTooLarge {
                    len: 4294967295,
                    ..
                }
            ));
            // A hello may be at most 2 KiB, a Done exactly its kind byte.
            let mut r = &[0, 0, 8, 1, 1][..];
            assert!(matches!(
                peer(read_frame(&mut r).await.unwrap_err()),
                PeerMisbehaved::FrameTooLarge {
                    len: 2049,
                    max: 2048
                }
            ));
            let mut r = &[0, 0, 0, 2, 4, 0][..];
            assert!(matches!(
                peer(read_frame(&mut r).await.unwrap_err()),
                PeerMisbehaved::FrameTooLarge { len: 2, max: 1 }
            ));
            let mut r = &[0, 0, 0, 0, 3][..];
            assert!(matches!(
                peer(read_frame(&mut r).await.unwrap_err()),
                PeerMisbehaved::FrameTooLarge { len: 0, .. }
            ));
            let mut r = &[0, 0, 0, 2, 99, 0][..];
            assert_eq!(
                peer(read_frame(&mut r).await.unwrap_err()),
                PeerMisbehaved::UnknownFrameKind(99)
            );
            let big = Frame::new(FrameKind::Protocol, vec![0; MAX_FRAME_LEN]);
            assert!(matches!(big.to_bytes(), Err(Error::Internal(_))));
        });
    }

    proptest! {
        #[test]
        fn never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            rt().block_on(async {
                let mut r = &bytes[..];
                while let Ok(Some(_)) = read_frame(&mut r).await {}
            });
        }

        #[test]
        fn frames_round_trip(kind in 1u8..=8, len in 0usize..200) {
            let kind = FrameKind::from_byte(kind).unwrap();
            let len = len.min(kind.max_len() - 1);
            let f = Frame::new(kind, vec![0xa5; len]);
            let bytes = f.to_bytes().unwrap();
            let back = rt().block_on(async { read_frame(&mut &bytes[..]).await });
            prop_assert_eq!(back.unwrap(), Some(f));
        }
    }
}
