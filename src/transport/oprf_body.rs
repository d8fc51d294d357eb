//! The OPRF-PSI body of a networked session: what runs after the handshake once both sides
//! picked OPRF-PSI (`protocol-spec/07-oprf-psi.md` section 7.11,
//! `protocol-spec/04-transport-and-handshake.md` section 4.4).
//!
//! The initiator is the OPRF **receiver**, the responder the **sender**. The sender first
//! sends one [`SenderParams`] frame (labeled or not, the payload length, the payload columns),
//! then both sides run the sans-I/O sessions of [`crate::protocol::oprf_psi`] through the same
//! [`drive`] as DH-PSI, with the counts the hellos announced: `n_r` is the initiator's
//! `set_size`, `n_s` the responder's.

use std::collections::BTreeSet;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncWrite};

use super::driver::{drive, DriveLimits, DriveStats};
use super::framing::{write_frame, Frame, FrameKind, MAX_FRAME_LEN};
use super::handshake::Agreed;
use super::negotiate::LABELED_MODE;
use super::progress::{
    Direction::{Received, Sent},
    Phase, Progress,
};
use super::timeouts::{read_frame_timed, Timeouts};
use crate::error::{Error, Result};
use crate::oprf::Suite;
use crate::protocol::oprf_psi::{
    OprfPsiMessage, OprfPsiParams, OprfReceiver, OprfSender, PreparedSender, ReceiverOutput,
    SenderOutput, MAX_PAYLOAD_LEN,
};
use crate::protocol::ItemSet;

/// Type byte of the [`SenderParams`] message.
pub const PARAMS_TYPE: u8 = 0x10;

/// Most payload columns a sender may announce.
pub const MAX_COLUMNS: usize = 64;

/// The sender's first message: what its tags carry.
///
/// ```text
/// SenderParams = 0x10 || labeled (1: 0 or 1) || payload_len (2, BE; 0 when not labeled)
///             || column_count (1) || column_count * (len (1) || UTF-8 name)
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SenderParams {
    /// Labeled mode: every payload is padded to this many bytes (at most 4096).
    pub payload_len: Option<usize>,
    /// The names of the payload's columns (labeled mode), checked by the receiver against
    /// its policy's `revealable_columns`.
    pub columns: Vec<String>,
}

impl SenderParams {
    /// The message's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = vec![PARAMS_TYPE, u8::from(self.payload_len.is_some())];
        let len = self.payload_len.unwrap_or(0).min(u16::MAX as usize) as u16;
        out.extend_from_slice(&len.to_be_bytes());
        let cols: Vec<&[u8]> = self
            .columns
            .iter()
            .take(MAX_COLUMNS)
            .map(|c| &c.as_bytes()[..c.len().min(255)])
            .collect();
        out.push(cols.len() as u8);
        for c in cols {
            out.push(c.len() as u8);
            out.extend_from_slice(c);
        }
        out
    }

    /// Parses the message; never panics.
    ///
    /// # Errors
    /// [`Error::PeerMisbehaved`] when the bytes are not a well-formed `SenderParams`.
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let bad = |what: &str| {
            Error::LegacyPeerMisbehaved(format!("malformed OPRF-PSI sender parameters: {what}"))
        };
        let (head, mut rest) = bytes
            .split_first_chunk::<5>()
            .ok_or_else(|| bad("truncated"))?;
        if head[0] != PARAMS_TYPE {
            return Err(bad("wrong message type"));
        }
        let len = u16::from_be_bytes([head[2], head[3]]) as usize;
        let payload_len = match head[1] {
            0 if len == 0 => None,
            1 if len <= MAX_PAYLOAD_LEN => Some(len),
            1 => return Err(bad("payload length above 4096")),
            _ => return Err(bad("labeled flag")),
        };
        let count = head[4] as usize;
        if count > MAX_COLUMNS || (payload_len.is_none() && count > 0) {
            return Err(bad("column count"));
        }
        let mut columns = Vec::with_capacity(count);
        for _ in 0..count {
            let (n, r) = rest.split_first().ok_or_else(|| bad("truncated column"))?;
            let n = *n as usize;
            if r.len() < n {
                return Err(bad("truncated column"));
            }
            let name = std::str::from_utf8(&r[..n]).map_err(|_| bad("column name"))?;
            columns.push(name.to_string());
            rest = &r[n..];
        }
        if !rest.is_empty() {
            return Err(bad("trailing bytes"));
        }
        Ok(SenderParams {
            payload_len,
            columns,
        })
    }
}

/// The sender's material for one session.
#[derive(Debug, Clone)]
pub struct SenderSet {
    /// The evaluated set (fresh for this session, or a precomputed index).
    pub set: Arc<PreparedSender>,
    /// The names of the payload columns (labeled mode).
    pub columns: Vec<String>,
}

/// Which side of OPRF-PSI this party plays, with its input.
#[derive(Debug)]
pub enum OprfParty {
    /// The initiator: its items.
    Receiver(ItemSet),
    /// The responder: its evaluated set.
    Sender(SenderSet),
}

/// Local settings of the OPRF-PSI body.
#[derive(Debug, Clone)]
pub struct BodyOptions {
    /// The OPRF suite (the one both hellos named).
    pub suite: Suite,
    /// The columns the local policy lets a labeled session reveal.
    pub revealable_columns: BTreeSet<String>,
    /// Deadlines.
    pub timeouts: Timeouts,
    /// No progress bars.
    pub quiet: bool,
}

/// What an OPRF-PSI session gave this side.
#[derive(Debug, Clone)]
pub enum OprfOutcome {
    /// The receiver's matches (and payloads), with the payload column names the sender
    /// announced.
    Receiver {
        /// The result.
        output: ReceiverOutput,
        /// Payload columns (labeled mode).
        columns: Vec<String>,
    },
    /// The sender learned the receiver's (padded) set size.
    Sender(SenderOutput),
}

fn count(n: u64) -> Result<usize> {
    usize::try_from(n).map_err(|_| {
        Error::LegacyPeerMisbehaved("the peer announced an impossible set size".into())
    })
}

/// The session parameters of section 7.3 from the agreed hellos (initiator = receiver).
fn params(agreed: &Agreed, suite: Suite, payload_len: Option<usize>) -> Result<OprfPsiParams> {
    let (init, resp) = match agreed.ours.side {
        super::handshake::Side::Initiator => (&agreed.ours, &agreed.theirs),
        super::handshake::Side::Responder => (&agreed.theirs, &agreed.ours),
    };
    let mut p = OprfPsiParams::new(
        suite,
        agreed.session_id,
        count(init.set_size)?,
        count(resp.set_size)?,
    );
    p.chunk_size = agreed.ours.chunk_size as usize;
    p.payload_len = payload_len;
    p.validate()?;
    let worst = 1 + 9 + p.chunk_size * (14 + p.ciphertext_len()) + 1024;
    if worst > MAX_FRAME_LEN {
        return Err(Error::LegacyConfig(format!(
            "labeled payloads of {} bytes do not fit frames of {} entries: use --chunk-size {} or less",
            payload_len.unwrap_or(0),
            p.chunk_size,
            (MAX_FRAME_LEN - 1034) / (14 + p.ciphertext_len())
        )));
    }
    Ok(p)
}

/// Bytes the peer may send in the whole body (section 7.11): a bound on the reader's queue.
fn max_received(p: &OprfPsiParams, receiver: bool) -> u64 {
    let (n_r, n_s) = (p.receiver_count as u64, p.sender_count as u64);
    let elements = 32 * n_r + 10 * p.chunk_count(p.receiver_count) as u64 + 1024;
    if !receiver {
        return elements;
    }
    let bit_len = u64::from(usize::BITS - p.sender_count.max(1).leading_zeros());
    let code_bits = n_s * (u64::from(p.rice_bits()) + 1) + (1u64 << bit_len);
    let tag_frames = p.chunk_count(p.sender_count) as u64;
    elements + code_bits / 8 + 16 * tag_frames + n_s * p.ciphertext_len() as u64
}

async fn abort<S: AsyncWrite + Unpin>(stream: &mut S) {
    let _ = write_frame(stream, &Frame::new(FrameKind::Abort, Vec::new())).await;
}

/// Runs the OPRF-PSI body over `stream` after the handshake `agreed` and hands the stream back
/// once both sides sent `Done` (the envelope, [`super::session::run_session`], applies the
/// whole-session deadline and exchanges receipts on it).
///
/// # Errors
/// [`Error::PolicyRefused`] (rule `revealable_columns`) when the sender announces a payload
/// column the local policy does not allow; [`Error::Config`] for parameters out of range or
/// labeled mode without payloads; [`Error::PeerMisbehaved`] for a peer that breaks 7.5 or
/// 7.11 (wrong counts, more tags than announced, a message out of order); transport errors.
/// The peer is sent `Abort`.
pub async fn run<S>(
    mut stream: S,
    agreed: &Agreed,
    party: OprfParty,
    opts: &BodyOptions,
) -> Result<(OprfOutcome, DriveStats, S)>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let labeled = agreed.ours.mode == LABELED_MODE;
    let t = opts.timeouts;
    let mut rng = rand_core::UnwrapErr(rand::rngs::SysRng);
    match party {
        OprfParty::Sender(sender) => {
            let prepared = prepare_sender(agreed, opts, &sender, labeled, &mut rng);
            let (p, msg, session) = match prepared {
                Ok(x) => x,
                Err(e) => {
                    abort(&mut stream).await;
                    return Err(e);
                }
            };
            let bytes = msg.encode();
            let first = 5 + bytes.len() as u64;
            write_frame(&mut stream, &Frame::new(FrameKind::Protocol, bytes)).await?;
            let limits = DriveLimits {
                max_frame: MAX_FRAME_LEN,
                max_received: max_received(&p, false),
                timeouts: t,
            };
            let (r, s) = (p.receiver_count as u64, p.sender_count as u64);
            let progress = Progress::new(
                opts.quiet,
                "sender",
                &[
                    Phase::new(
                        Received,
                        OprfPsiMessage::BLINDED,
                        "the receiver's blinded items",
                        r,
                    ),
                    Phase::new(
                        Sent,
                        OprfPsiMessage::EVALUATED,
                        "the receiver's items, evaluated",
                        r,
                    ),
                    Phase::new(Sent, OprfPsiMessage::TAGS, "our set, as tags", s),
                ],
            );
            let (out, mut stats, stream) = drive(stream, session, limits, progress).await?;
            stats.bytes_sent += first;
            Ok((OprfOutcome::Sender(out), stats, stream))
        }
        OprfParty::Receiver(items) => {
            let first = read_params(&mut stream, &t).await;
            let prepared = first.and_then(|(msg, n)| {
                if msg.payload_len.is_some() != labeled {
                    return Err(Error::LegacyPeerMisbehaved(
                        "the sender's parameters contradict the agreed mode".into(),
                    ));
                }
                if let Some(c) = msg
                    .columns
                    .iter()
                    .find(|c| !opts.revealable_columns.contains(*c))
                {
                    return Err(Error::LegacyPolicyRefused {
                        rule: "revealable_columns".into(),
                        detail: format!(
                            "the sender's payloads carry column `{c}`, which the policy does \
                             not allow to be revealed"
                        ),
                    });
                }
                let p = params(agreed, opts.suite, msg.payload_len)?;
                let session = OprfReceiver::new(p.clone(), items, &mut rng)?;
                Ok((p, msg, session, n))
            });
            let (p, msg, session, n) = match prepared {
                Ok(x) => x,
                Err(e) => {
                    abort(&mut stream).await;
                    return Err(e);
                }
            };
            let limits = DriveLimits {
                max_frame: MAX_FRAME_LEN,
                max_received: max_received(&p, true),
                timeouts: t,
            };
            let (r, s) = (p.receiver_count as u64, p.sender_count as u64);
            let progress = Progress::new(
                opts.quiet,
                "receiver",
                &[
                    Phase::new(Sent, OprfPsiMessage::BLINDED, "our items, blinded", r),
                    Phase::new(
                        Received,
                        OprfPsiMessage::EVALUATED,
                        "our items, evaluated by the sender",
                        r,
                    ),
                    Phase::new(
                        Received,
                        OprfPsiMessage::TAGS,
                        "the sender's set, as tags",
                        s,
                    ),
                ],
            );
            let (output, mut stats, stream) = drive(stream, session, limits, progress).await?;
            stats.bytes_received += n;
            Ok((
                OprfOutcome::Receiver {
                    output,
                    columns: msg.columns,
                },
                stats,
                stream,
            ))
        }
    }
}

/// The sender's parameters, first message and session, before anything is sent.
fn prepare_sender<R: rand_core::CryptoRng + ?Sized>(
    agreed: &Agreed,
    opts: &BodyOptions,
    sender: &SenderSet,
    labeled: bool,
    rng: &mut R,
) -> Result<(OprfPsiParams, SenderParams, OprfSender)> {
    if labeled && !sender.set.is_labeled() {
        return Err(Error::LegacyConfig(
            "labeled mode needs payloads: serve with --label-columns, or from a labeled index"
                .into(),
        ));
    }
    let payload_len = labeled.then(|| sender.set.max_payload_len());
    let p = params(agreed, opts.suite, payload_len)?;
    let msg = SenderParams {
        payload_len,
        columns: if labeled {
            sender.columns.clone()
        } else {
            Vec::new()
        },
    };
    let session = OprfSender::new(p.clone(), sender.set.clone(), rng)?;
    Ok((p, msg, session))
}

/// Reads the sender's first frame; returns it and its size on the wire.
async fn read_params<S: AsyncRead + Unpin>(
    stream: &mut S,
    t: &Timeouts,
) -> Result<(SenderParams, u64)> {
    let max = 5 + MAX_COLUMNS * 256 + 16;
    match read_frame_timed(stream, max, t).await? {
        Some(f) if f.kind == FrameKind::Protocol => {
            let n = 5 + f.payload.len() as u64;
            Ok((SenderParams::decode(&f.payload)?, n))
        }
        Some(f) if f.kind == FrameKind::Abort => Err(Error::LegacyPeerMisbehaved(
            "the peer ended the session (it reported a failure; its own log says why)".into(),
        )),
        Some(f) => Err(Error::LegacyPeerMisbehaved(format!(
            "expected the OPRF-PSI sender parameters, got a {:?} frame",
            f.kind
        ))),
        None => Err(Error::LegacyPeerMisbehaved(
            "the peer closed the connection before the session was complete".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn params_round_trip() {
        for m in [
            SenderParams {
                payload_len: None,
                columns: vec![],
            },
            SenderParams {
                payload_len: Some(4096),
                columns: vec!["vessel".into(), "voyage".into()],
            },
        ] {
            assert_eq!(SenderParams::decode(&m.encode()).ok(), Some(m.clone()));
            let enc = m.encode();
            for cut in 0..enc.len() {
                assert!(SenderParams::decode(&enc[..cut]).is_err());
            }
        }
        assert!(SenderParams::decode(&[PARAMS_TYPE, 1, 0x10, 0x01, 0]).is_err());
        assert!(SenderParams::decode(&[PARAMS_TYPE, 0, 0, 0, 1, 1, b'a']).is_err());
    }

    proptest! {
        #[test]
        fn decode_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            if let Ok(m) = SenderParams::decode(&bytes) {
                prop_assert_eq!(m.encode(), bytes);
            }
        }
    }
}
