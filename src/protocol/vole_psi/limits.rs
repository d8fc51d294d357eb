//! What a VOLE-PSI peer may make us read (`protocol-spec/08-vole-psi.md` section 8.8.3): a
//! bound on the bytes of its frames, from the agreed counts, checked as they arrive.

use crate::protocol::Role;
use crate::transport::framing::MAX_FRAME_LEN;
use crate::vole::okvs::OkvsParams;
use crate::vole::psi;

/// Bytes a frame and its message header may add to a chunk's entries (a generous bound).
const PER_FRAME: u64 = 16;

/// Entries of the receiver's mask for `n_r` items (`m' + g` of spec 8.6, as we would compute
/// them); 0 for no items.
pub(crate) fn mask_entries(n_r: usize) -> usize {
    OkvsParams::new(n_r).map_or(0, |p| p.len())
}

/// The largest number of bytes of protocol frames the peer may send us in a session where the
/// receiver has `n_r` items and the sender `n_s`, one of `sessions` runs whose tags share the
/// false-match bound ([`psi::tag_len`]): its two setup messages (one frame each, at
/// most [`MAX_FRAME_LEN`]) and its chunked streams at their largest (for the receiver's mask,
/// the largest OKVS a sender accepts: `m' ≤ 4·n_r + 64`, `g ≤ 64`).
pub(crate) fn max_received(
    role: Role,
    n_r: usize,
    n_s: usize,
    sessions: usize,
    chunk_size: usize,
) -> u64 {
    let tag_len = psi::tag_len(n_r, n_s, sessions) as u64;
    let stream = |entries: u64, entry_len: u64| {
        entries * entry_len + PER_FRAME * entries.div_ceil(chunk_size.max(1) as u64).max(1)
    };
    let setup = 2 * (MAX_FRAME_LEN as u64 + PER_FRAME);
    let (n_r, n_s) = (n_r as u64, n_s as u64);
    match role {
        Role::Initiator => setup + stream(n_s, tag_len),
        Role::Responder => setup + stream(4 * n_r + 128, 16) + stream(n_s.div_ceil(8), 1),
    }
}
