//! DH-PSI (`protocol-spec/03-dh-psi.md`): each party raises the hashes of its items to a
//! fresh secret key; each raises the other's blinded elements to its own key; doubly-blinded
//! elements `a * b * H(x)` are equal exactly for shared items.
//!
//! A session, as the initiator sees it:
//! 1. [`InitiatorBlinding`]: send `Blinded` chunks of `a * H(session_id || x)`, shuffled;
//! 2. [`InitiatorAwaitingReblinded`]: receive them back as `b * a * H(x)` (`Reblinded`);
//! 3. [`InitiatorAwaitingPeerSet`]: receive the responder's `Blinded` set, raise it to `a`
//!    (and, in mutual mode, return it), compare, produce [`DhOutput`].
//!
//! The responder mirrors it ([`ResponderAwaitingPeerSet`], [`ResponderBlinding`],
//! [`ResponderAwaitingReblinded`]). [`DhSession`] wraps both roles behind
//! [`crate::protocol::SansIo`].

mod element_set;
mod initiator;
mod message;
mod output;
mod own_set;
mod params;
mod responder;
mod session;
mod tally;

pub use crate::protocol::Match;
pub use initiator::{
    InitiatorAfterChunk, InitiatorAfterPeerSet, InitiatorAfterReblinded, InitiatorAwaitingPeerSet,
    InitiatorAwaitingReblinded, InitiatorBlinding,
};
pub use message::DhMessage;
pub use output::{DhOutput, Learned};
pub use params::{DhParams, DEFAULT_CHUNK_SIZE, MAX_CHUNK_SIZE, MAX_SET_SIZE};
pub use responder::{
    ResponderAfterChunk, ResponderAfterPeerSet, ResponderAfterReblinded, ResponderAwaitingPeerSet,
    ResponderAwaitingReblinded, ResponderBlinding,
};
pub use session::DhSession;
