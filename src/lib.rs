//! # blindmatch
//!
//! Privacy-preserving matching of identifier lists between two agencies: each learns the
//! entries they share (or only how many) and nothing else about the other's list.
//!
//! ## How a session flows
//!
//! 1. **Items.** Each party turns its records into byte strings (normalised identifiers,
//!    `protocol-spec/05-identifiers.md`) and collects them in an [`protocol::ItemSet`], which
//!    removes duplicates.
//! 2. **Parameters.** The parties agree a [`protocol::Mode`], a session id and how many
//!    elements each sends ([`protocol::dh::DhParams`]); over the network the handshake does this
//!    (`protocol-spec/04-transport-and-handshake.md`).
//! 3. **Blinding.** Each party hashes its items to ristretto255 ([`group`]) and raises them to
//!    a fresh secret key; each raises the other's elements to its own key. Equal items give
//!    equal doubly-blinded elements (`protocol-spec/03-dh-psi.md`).
//! 4. **Result.** A [`protocol::dh::DhOutput`] names the caller's own shared items, or their
//!    count, depending on the mode.
//!
//! Over the network the protocol runs inside the session envelope ([`session`]): the
//! handshake (typed hellos, whose terms both sides compute alike, and a transcript bound to the
//! TLS connection), the admission verdicts of both sides before any element (the engine's
//! limit, the [`policy`], the [`budget`]), `session_started` in the signed [`audit`] log, the
//! protocol body, `Done`, signed receipts both ways, the output and `session_ended`
//! (`protocol-spec/04-transport-and-handshake.md`). The envelope is sans I/O: it returns
//! frames to send and effects to perform. [`agency::Agency`] performs them (policy, budget, log,
//! signatures, output) and [`transport`] moves the frames over mutual TLS:
//!
//! ```no_run
//! # async fn session(identity: blindmatch::identity::Identity,
//! #                  peer: blindmatch::identity::Fingerprint) -> blindmatch::Result<()> {
//! use blindmatch::agency::{Agency, AgencyFiles, RunOptions, SessionSpec};
//! use blindmatch::policy::Policy;
//! use blindmatch::protocol::ItemSet;
//! use blindmatch::session::SessionMode;
//! use blindmatch::transport::verifier::PeerAuth;
//!
//! // The identity's directory holds the audit log and the budget state.
//! let agency = Agency::open(
//!     identity,
//!     Policy::default_policy(),
//!     PeerAuth::pinned(peer),
//!     &AgencyFiles::in_dir("agency-a".as_ref()),
//! )?;
//! let items = ItemSet::new(["IMO9187629", "IMO9321483"]);
//! let spec = SessionSpec::new(SessionMode::Mutual, items, vec!["imo_ship".into()]);
//! let report = agency
//!     .connect("registry.example:7443", spec, RunOptions::default())
//!     .await?;
//! println!("session {:02x?}: {:?}", &report.outcome.session_id[..4], report.outcome.output);
//! # Ok(()) }
//! ```
//!
//! The protocol code does no I/O: [`protocol::dh::DhSession`] takes and returns messages
//! ([`protocol::SansIo`]). The in-memory driver runs both parties in one process:
//!
//! ```
//! use blindmatch::protocol::dh::Learned;
//! use blindmatch::protocol::memory::run_dh_psi;
//! use blindmatch::protocol::{ItemSet, Mode};
//!
//! # fn main() -> blindmatch::Result<()> {
//! let ours = ItemSet::new(["IMO9187629", "IMO9321483", "IMO9187629"]);
//! let theirs = ItemSet::new(["IMO9321483", "IMO9999999"]);
//! let (initiator, responder) = run_dh_psi(Mode::Intersection, ours, theirs, None)?;
//!
//! let matches = initiator.matches().expect("the initiator learns matches");
//! assert_eq!(matches.len(), 1);
//! assert_eq!(matches[0].item, b"IMO9321483");
//! assert_eq!(matches[0].input_indices, vec![1]);
//! assert_eq!(initiator.duplicates, 1);
//! assert_eq!(responder.learned, Learned::Nothing); // only the initiator's set size
//! assert_eq!(responder.peer_sent, 2);
//! # Ok(())
//! # }
//! ```
//!
//! ## Security
//!
//! Semi-honest parties, DDH in ristretto255, random oracle; what each party learns in each mode
//! is tabulated in `protocol-spec/02-security-model.md` and the README.

pub mod agency;
pub mod audit;
pub mod budget;
#[cfg(feature = "cli")]
pub mod cli;
pub(crate) mod dst;
pub mod error;
#[cfg(feature = "cli")]
pub mod generate;
pub mod group;
pub mod identifiers;
pub mod identity;
pub mod index;
mod lock;
pub mod oprf;
pub(crate) mod packed;
pub mod policy;
pub mod protocol;
pub mod records;
pub mod report;
pub mod session;
pub mod transport;

pub use error::{ElementError, Error, Result};

// The crates whose types appear in blindmatch's API, re-exported so that an embedder names
// them through blindmatch, at the versions blindmatch was built with, without depending on
// them itself: `blindmatch::ed25519_dalek::VerifyingKey` for audit keys and receipt signers,
// `blindmatch::curve25519_dalek::ristretto::RistrettoPoint` in [`group`],
// `blindmatch::rand_core::CryptoRng` for the randomness the protocol steps take,
// `blindmatch::rustls::pki_types::CertificateDer` for certificates, `blindmatch::tokio_rustls`
// for the TLS streams of [`transport`], `blindmatch::zeroize::Zeroizing` for secrets handed out.
pub use curve25519_dalek;
pub use ed25519_dalek;
pub use rand_core;
pub use rustls;
pub use tokio_rustls;
pub use zeroize;
