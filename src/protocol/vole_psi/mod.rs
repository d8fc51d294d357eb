//! VOLE-PSI as a session protocol, sans I/O: the RR22 PSI of [`crate::vole::psi`] for either
//! role behind one [`SansIo`] interface, its seven messages framed and chunked
//! (`protocol-spec/08-vole-psi.md` section 8.8).
//!
//! The initiator is the PSI's receiver, the responder its sender. The exchange is strictly
//! in turn, so neither side queues a message that arrived early:
//!
//! ```text
//! receiver (initiator)                               sender (responder)
//!   ReceiverSetup  R1: OKVS sizes, VOLE base OTs  ->
//!                                                 <-  SenderSetup  S1: VOLE base OTs
//!   Noise          R2: noisy VOLE                 ->
//!                                                 <-  Trees        S2: punctured PRFs
//!   Mask * k       R3: A' = P + A, in chunks      ->
//!                                                 <-  Tags * k     S3: the sender's tags
//!   Matched * k    R4 (mutual): bitmap, in chunks ->
//! ```
//!
//! Both sides pad their items with 32-byte random dummies up to the count they announced, so
//! the peer learns only the padded count. A session with an announced count of zero on either
//! side exchanges no message: the intersection is empty and both sides know it.

mod context;
mod limits;
mod message;
mod receiver;
mod sender;
mod session;
mod stream;

pub(crate) use limits::{mask_entries, max_received};
pub(crate) use message::Kind;
pub(crate) use session::VolePsiSession;

#[cfg(test)]
mod tests;
