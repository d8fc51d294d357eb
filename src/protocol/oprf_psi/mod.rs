//! OPRF-PSI (`protocol-spec/07-oprf-psi.md`): the receiver learns which of its items are in
//! the sender's set (and, in labeled mode, the sender's payload for each); the sender learns
//! the receiver's (padded) set size.
//!
//! 0. The sender announces its parameters (`Params`: labeled or not, the payload length and
//!    columns); the receiver checks them against its policy before sending anything.
//! 1. The receiver sends its items blinded (RFC 9497 `Blind`), shuffled among padding entries
//!    that cost the same, in `Blinded` chunks.
//! 2. The sender answers each with `Evaluated` (RFC 9497 `BlindEvaluate`).
//! 3. The sender sends its own set as `Tags`: for each item, the top `tag_bits` bits of
//!    `SHAKE256(OPRF_PSI_TAG || F(k, item))`, sorted and Rice coded, with an AEAD ciphertext
//!    of the item's padded payload in labeled mode.
//! 4. The receiver finalizes (`Finalize`), derives its tags and looks them up.
//!
//! The sender's evaluated set is a [`PreparedSender`]: computed once, it serves every session
//! that uses the same key (unbalanced mode, [`crate::index`]).
//!
//! Over the network the session envelope ([`crate::session`]) runs these roles after the
//! handshake (`--protocol oprf`, or `auto`): the initiator (`blindmatch match`) is the
//! receiver, the responder (`blindmatch serve`, from `--input` with a fresh key or from a
//! precomputed `--index`) the sender (spec section 7.11). In memory and over the network
//! the parties exchange exactly the same messages.
//!
//! ```
//! use blindmatch::oprf::Suite;
//! use blindmatch::protocol::oprf_psi::run_in_memory;
//! use blindmatch::protocol::ItemSet;
//! let receiver = ItemSet::new(["MSCU1234565", "TGHU0000001"]);
//! let sender = ItemSet::new(["MSCU1234565", "CSQU3054383", "IMO9074729"]);
//! let payloads = vec![b"voyage 12W".to_vec(), b"voyage 3E".to_vec(), b"vessel".to_vec()];
//! let (r, s) = run_in_memory(Suite::default(), receiver, sender, Some(&payloads), None)?;
//! assert_eq!(r.matches.len(), 1);
//! assert_eq!(r.matches[0].payload.as_deref(), Some(&b"voyage 12W"[..]));
//! assert_eq!(s.peer_sent, 2);
//! # Ok::<(), blindmatch::Error>(())
//! ```

mod label;
mod message;
mod output;
mod params;
pub(crate) mod prepared;
pub mod receiver;
pub mod sender;
pub mod tags;

use std::sync::Arc;

use rand::rngs::SysRng;
use rand_core::{CryptoRng, Rng, UnwrapErr};

pub use label::{label_key, open as open_label, seal as seal_label};
pub use message::{OprfPsiMessage, SenderParams, TagChunk, MAX_COLUMNS, MAX_COLUMN_LEN};
pub use output::{OprfMatch, ReceiverOutput, SenderOutput};
pub use params::{
    OprfPsiParams, DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, MAX_PAYLOAD_LEN, MAX_SET_SIZE,
    STATISTICAL_SECURITY,
};
pub use prepared::PreparedSender;
pub use receiver::{OprfReceiver, ReceiverSetup};
pub use sender::OprfSender;

use crate::error::Result;
use crate::oprf::{OprfKey, Suite};
use crate::protocol::memory::{exchange, Transcript};
use crate::protocol::{ItemSet, SansIo};

/// Runs a whole OPRF-PSI session in one process with OS randomness and a fresh sender key.
/// `payloads` (one per sender input item) turns on labeled mode with the payload length set
/// to the longest payload. `padding` gives `(receiver_count, sender_count)`; `None` sends
/// exactly the distinct items.
///
/// # Errors
/// [`crate::Error::Input`] when a padding bound is below a side's distinct items or the
/// payloads do not match the sender's items.
pub fn run_in_memory(
    suite: Suite,
    receiver: ItemSet,
    sender: ItemSet,
    payloads: Option<&[Vec<u8>]>,
    padding: Option<(usize, usize)>,
) -> Result<(ReceiverOutput, SenderOutput)> {
    let mut rng = UnwrapErr(SysRng);
    let key = OprfKey::random(&mut rng);
    let set = Arc::new(PreparedSender::new(suite, key, &sender, payloads)?);
    let mut session_id = [0u8; 32];
    rng.fill_bytes(&mut session_id);
    let (n_r, n_s) = padding.unwrap_or((receiver.len(), set.len()));
    let mut params = OprfPsiParams::new(suite, session_id, n_r, n_s);
    params.payload_len = payloads.map(|_| set.max_payload_len());
    let (out, _) = run_in_memory_with(params, receiver, set, &mut rng, false)?;
    Ok(out)
}

/// Runs the online phase of a session against a prepared sender set with the given
/// parameters and randomness (the receiver draws first), optionally recording the
/// transcript (the parties then run in turn, otherwise at once: see
/// [`crate::protocol::memory`]). `params.payload_len` set makes the session labeled (no
/// column names are announced, and the receiver accepts any). The vector generator and the
/// benchmarks use this.
///
/// # Errors
/// As [`OprfReceiver::new`] and [`OprfSender::new`], and any protocol error.
pub fn run_in_memory_with<R: CryptoRng + ?Sized>(
    params: OprfPsiParams,
    receiver: ItemSet,
    set: Arc<PreparedSender>,
    rng: &mut R,
    record: bool,
) -> Result<((ReceiverOutput, SenderOutput), Transcript)> {
    let setup = ReceiverSetup {
        labeled: params.payload_len.is_some(),
        allowed_columns: None,
        payload_len: None,
    };
    let mut r = OprfReceiver::new(params.clone(), setup, receiver, rng)?;
    let mut s = OprfSender::new(params, set, Vec::new(), rng)?;
    let transcript = exchange(&mut r, &mut s, record)?;
    Ok(((r.into_output()?, s.into_output()?), transcript))
}
