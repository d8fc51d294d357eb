//! The session envelope, sans I/O: everything a session does around its protocol body,
//! as a state machine that takes frames and completions and returns actions
//! (`protocol-spec/04-transport-and-handshake.md` sections 4.3 to 4.7 and
//! `protocol-spec/06-policy-and-audit.md` section 7).
//!
//! ## How a session flows
//!
//! 1. **Hellos.** Each side describes what it wants in a typed [`Hello`] (role, protocol,
//!    mode, suite, chunk size, policy digest, announced set size, both certificates'
//!    fingerprints, clock, key kinds, nonce). The responder speaks first; the initiator always
//!    answers. [`agree`] turns the two hellos into [`Terms`] or the typed list of what differs
//!    ([`crate::error::Incompatible`]); both sides compute the same.
//! 2. **Confirmation.** Both send the transcript hash of the two hellos and the TLS exporter
//!    ([`transcript`]); the session id derives from it.
//! 3. **Admission.** Each side asks its agency to admit the session ([`Effect::Admit`]: the
//!    policy's rules and the per-peer budget) and sends `Admitted` or `Refused` naming the
//!    rule. No element moves unless both admitted; a refusal is logged on both sides.
//! 4. **Start.** `session_started` is logged ([`Effect::Log`]) before any element.
//! 5. **Body.** The protocol the terms name runs ([`BodyInput`] in, [`BodyOutput`] out):
//!    DH-PSI in three modes, OPRF-PSI whose sender first announces its parameters, or
//!    VOLE-PSI; a large DH-PSI or VOLE-PSI session runs in buckets. A side that keeps a
//!    checkpoint records each finished bucket ([`Effect::Checkpoint`]), and a later attempt
//!    resumes from the buckets both sides kept ([`ResumePoint`], [`Resumption`]). Each side
//!    sends `Done` when its part is complete.
//! 6. **Receipts.** Each side signs a receipt ([`Effect::SignReceipt`]), sends it, checks the
//!    peer's against its certificate's key, and logs it.
//! 7. **Output.** The connection closes; the output is written ([`Effect::WriteOutput`]) and
//!    `session_ended` logged with what each side learned and the output's digest.
//!
//! Any error after the hellos ends the session through one place: `Abort` is sent exactly
//! once (never in answer to the peer's `Abort`), and `session_aborted` is logged if
//! `session_started` was. The peer learns only that the session failed.
//!
//! The envelope ([`Envelope`]) implements [`crate::transport::machine::Machine`]: the network
//! driver inside [`crate::agency::Agency::run`] runs it over mutual TLS, and [`memory::run_pair`]
//! runs two of them in one process over the very same frames.

mod agreement;
mod body;
mod choice;
mod effect;
mod envelope;
mod hello;
pub mod memory;
mod outcome;
mod peer;
mod progress;
mod receipt;
mod resume;
mod shard;
pub mod transcript;
mod verdict;

pub use agreement::{agree, terms_digest, Terms, MAX_CLOCK_SKEW};
pub use body::{BodyInput, BodyOutput, SenderSource};
pub use choice::{auto_protocol, Protocol, ProtocolChoice, SessionMode, AUTO_RATIO, AUTO_VOLE_MIN};
pub use effect::{AdmissionRequest, Completion, Effect, OutputRecord};
pub use envelope::{Channel, Envelope, SessionConfig, MAX_BACKLOG, RESUMED_TERMS};
pub use hello::{canonical_key_kinds, role_code, Hello, HELLO_VERSION, MAX_KEYS, MAX_KEY_LEN};
pub use outcome::{learned, SessionOutcome, SessionReport, Traffic};
pub use peer::PeerIdentity;
pub use progress::{Direction, NoProgress, Phase, Progress};
pub use resume::{CheckpointBegin, CheckpointEntry, ResumePoint, Resumption};
pub use shard::{Shard, MAX_SHARDS};
