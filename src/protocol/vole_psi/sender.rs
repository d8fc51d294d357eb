//! The sender's steps (the responder): it answers `S1` and `S2`, sends its tags (`S3`), and
//! in mutual mode learns its matched items from the receiver's `R4`.

use crate::error::Result;
use crate::protocol::Mode;
use crate::vole::psi::{
    self, PsiSender, PsiSenderAwaitingMask, PsiSenderAwaitingPositions, PsiSenderVole,
};

use super::context::{unexpected, Context, Step};
use super::message::{Kind, VoleMessage};
use super::stream::{chunks, Inbound};

/// The sender between messages: the message it awaits.
pub(crate) enum SenderAwaits {
    ReceiverSetup(PsiSender),
    Noise(PsiSenderVole),
    Mask(PsiSenderAwaitingMask, Inbound),
    Matched(PsiSenderAwaitingPositions, Inbound),
}

/// Pads our items and waits for `R1`; done at once if a count is zero.
///
/// # Errors
/// [`crate::Error::Input`] when we have more distinct items than we announced.
pub(crate) fn start(cx: &mut Context) -> Result<Step<SenderAwaits>> {
    let padded = cx.padded()?;
    if cx.is_empty() {
        let learned = (cx.params.mode == Mode::Mutual).then(Vec::new);
        return Ok(Step::Done(cx.output(learned)));
    }
    let sender = PsiSender::new(
        &cx.params.session_id,
        padded,
        cx.params.initiator_count,
        cx.sessions,
    );
    Ok(Step::Running(SenderAwaits::ReceiverSetup(sender)))
}

/// One message from the receiver.
///
/// # Errors
/// [`crate::error::PeerMisbehaved`] for a message of the wrong kind, count or length.
pub(crate) fn step(
    state: SenderAwaits,
    msg: VoleMessage,
    cx: &mut Context,
) -> Result<Step<SenderAwaits>> {
    let chunk = cx.params.chunk_size;
    let n_s = cx.params.responder_count;
    Ok(Step::Running(match state {
        SenderAwaits::ReceiverSetup(s) if msg.kind == Kind::ReceiverSetup => {
            let (s, reply) = s.on_first(&mut cx.rng, &msg.bytes)?;
            cx.outbox
                .push_back(VoleMessage::setup(Kind::SenderSetup, reply));
            SenderAwaits::Noise(s)
        }
        SenderAwaits::ReceiverSetup(_) => return Err(unexpected(Kind::ReceiverSetup, msg.kind)),
        SenderAwaits::Noise(s) if msg.kind == Kind::Noise => {
            let entries = s.mask_entries();
            let (s, trees) = s.on_noise(&mut cx.rng, &msg.bytes, &cx.stop)?;
            cx.outbox.push_back(VoleMessage::setup(Kind::Trees, trees));
            let mask = Inbound::new(Kind::Mask, "the receiver's mask", 16, entries, chunk);
            SenderAwaits::Mask(s, mask)
        }
        SenderAwaits::Noise(_) => return Err(unexpected(Kind::Noise, msg.kind)),
        SenderAwaits::Mask(s, mut mask) => {
            if !mask.accept(msg)? {
                SenderAwaits::Mask(s, mask)
            } else {
                let tag_len = s.tag_len();
                let (s, tags) = s.on_mask(&mut cx.rng, &mask.into_bytes(), &cx.stop)?;
                cx.outbox.extend(chunks(Kind::Tags, &tags, tag_len, chunk));
                if cx.params.mode != Mode::Mutual {
                    return Ok(Step::Done(cx.output(None)));
                }
                let what = "the receiver's matched positions";
                let bitmap = Inbound::new(Kind::Matched, what, 1, psi::bitmap_len(n_s), chunk);
                SenderAwaits::Matched(s, bitmap)
            }
        }
        SenderAwaits::Matched(s, mut bitmap) => {
            if !bitmap.accept(msg)? {
                SenderAwaits::Matched(s, bitmap)
            } else {
                let matched = s.on_positions(&bitmap.into_bytes())?;
                return Ok(Step::Done(cx.output(Some(matched))));
            }
        }
    }))
}
