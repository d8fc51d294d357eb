//! The receiver's steps (the initiator): it sends `R1`, `R2`, `R3` and in mutual mode `R4`,
//! and learns which of its items the sender has.

use crate::error::Result;
use crate::protocol::Mode;
use crate::vole::psi::{PsiReceiver, PsiReceiverAwaitingTags, PsiReceiverVole};

use super::context::{unexpected, Context, Step};
use super::message::{Kind, VoleMessage};
use super::stream::{chunks, Inbound};

/// The receiver between messages: the message it awaits.
pub(crate) enum ReceiverAwaits {
    SenderSetup(PsiReceiver),
    Trees(PsiReceiverVole),
    Tags(PsiReceiverAwaitingTags, Inbound),
}

/// Pads our items, starts the VOLE and queues `R1`; done at once if a count is zero.
///
/// # Errors
/// [`crate::Error::Input`] when we have more distinct items than we announced.
pub(crate) fn start(cx: &mut Context) -> Result<Step<ReceiverAwaits>> {
    let padded = cx.padded()?;
    if cx.is_empty() {
        return Ok(Step::Done(cx.output(Some(Vec::new()))));
    }
    let (receiver, first) = PsiReceiver::start(
        &mut cx.rng,
        &cx.params.session_id,
        padded,
        cx.params.responder_count,
        cx.sessions,
    )?;
    cx.outbox
        .push_back(VoleMessage::setup(Kind::ReceiverSetup, first));
    Ok(Step::Running(ReceiverAwaits::SenderSetup(receiver)))
}

/// One message from the sender.
///
/// # Errors
/// [`crate::error::PeerMisbehaved`] for a message of the wrong kind, count or length.
pub(crate) fn step(
    state: ReceiverAwaits,
    msg: VoleMessage,
    cx: &mut Context,
) -> Result<Step<ReceiverAwaits>> {
    let chunk = cx.params.chunk_size;
    Ok(Step::Running(match state {
        ReceiverAwaits::SenderSetup(r) if msg.kind == Kind::SenderSetup => {
            let (r, noise) = r.on_first(&msg.bytes)?;
            cx.outbox.push_back(VoleMessage::setup(Kind::Noise, noise));
            ReceiverAwaits::Trees(r)
        }
        ReceiverAwaits::SenderSetup(_) => return Err(unexpected(Kind::SenderSetup, msg.kind)),
        ReceiverAwaits::Trees(r) if msg.kind == Kind::Trees => {
            let (r, mask) = r.on_trees(&mut cx.rng, &msg.bytes, &cx.stop)?;
            cx.outbox.extend(chunks(Kind::Mask, &mask, 16, chunk));
            let n_s = cx.params.responder_count;
            let tags = Inbound::new(Kind::Tags, "the sender's tags", r.tag_len(), n_s, chunk);
            ReceiverAwaits::Tags(r, tags)
        }
        ReceiverAwaits::Trees(_) => return Err(unexpected(Kind::Trees, msg.kind)),
        ReceiverAwaits::Tags(r, mut tags) => {
            if !tags.accept(msg)? {
                ReceiverAwaits::Tags(r, tags)
            } else {
                let (matched, bitmap) = r.on_tags(&tags.into_bytes(), &cx.stop)?;
                if cx.params.mode == Mode::Mutual {
                    cx.outbox.extend(chunks(Kind::Matched, &bitmap, 1, chunk));
                }
                return Ok(Step::Done(cx.output(Some(matched))));
            }
        }
    }))
}
