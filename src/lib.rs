//! # blindmatch
//!
//! Privacy-preserving matching of identifier lists between two agencies: each learns the
//! entries they share (or only how many) and nothing else about the other's list.
//!
//! ## Features
//!
//! * `cli` (default): the `blindmatch` command line (the `cli` module: argument parsing,
//!   progress bars, terminal logging, signal handling, shell completions) and with it
//!   `identity-create`. A service embedding the library turns default features off and
//!   compiles none of clap, indicatif or tracing-subscriber:
//!   `blindmatch = { version = "0.1", default-features = false }`.
//! * `identity-create`: `Identity::create` makes a fresh key and a self-signed certificate
//!   (with rcgen). Without it the library still loads identities, from a directory
//!   ([`identity::Identity::load`]) or from PEM bytes a secrets store hands out
//!   ([`identity::Identity::from_pem`]).
//!
//! The crates whose types appear in the API are re-exported ([`ed25519_dalek`],
//! [`curve25519_dalek`], [`rand_core`], [`rustls`], [`tokio_rustls`], [`zeroize`]), so an
//! embedder names them through blindmatch.
//!
//! ## How a session flows
//!
//! 1. **Items.** Each party turns its records into byte strings (normalised identifiers,
//!    `protocol-spec/05-identifiers.md`; [`records::load`] reads a CSV file with its rejects)
//!    and collects them in an [`protocol::ItemSet`], which removes duplicates.
//! 2. **Parameters.** The parties agree a [`protocol::Mode`], a session id and how many
//!    elements each sends ([`protocol::dh::DhParams`]); over the network the handshake does this
//!    (`protocol-spec/04-transport-and-handshake.md`).
//! 3. **Blinding.** Each party hashes its items to ristretto255 ([`group`]) and raises them to
//!    a fresh secret key; each raises the other's elements to its own key. Equal items give
//!    equal doubly-blinded elements (`protocol-spec/03-dh-psi.md`).
//! 4. **Result.** A [`protocol::dh::DhOutput`] names the caller's own shared items, or their
//!    count, depending on the mode.
//!
//! ## In memory
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
//! assert_eq!(matches.get(0).expect("a match").item(), b"IMO9321483");
//! assert_eq!(matches.get(0).expect("a match").input_indices().collect::<Vec<_>>(), [1]);
//! assert_eq!(initiator.duplicates, 1);
//! assert_eq!(responder.learned, Learned::Nothing); // only the initiator's set size
//! assert_eq!(responder.peer_sent, 2);
//! # Ok(())
//! # }
//! ```
//!
//! OPRF-PSI runs the same way with [`protocol::oprf_psi::run_in_memory`].
//!
//! ## Over the network
//!
//! Over the network the protocol runs inside the session envelope ([`session`]): the
//! handshake (typed hellos, whose terms both sides compute alike, and a transcript bound to the
//! TLS connection), the admission verdicts of both sides before any element (the engine's
//! limit, the [`policy`], the [`budget`]), `session_started` in the signed [`audit`] log, the
//! protocol body, `Done`, signed receipts both ways, the output and `session_ended`
//! (`protocol-spec/04-transport-and-handshake.md`).
//!
//! The one entry point is [`agency::Agency`]: opened from an identity, a policy, the peers it
//! accepts and its files (audit log, budget state), it connects ([`agency::Agency::connect`])
//! or serves ([`agency::Agency::serve`]) and performs every check itself, so no caller can
//! skip one: mutual TLS with the peer's pinned certificate, the policy's rules before
//! connecting and at admission, key reuse and revealable columns, padding, the element
//! budget, receipts, the audit entries in order (an abort entry too when the session fails,
//! is cancelled or its future is dropped) and the output commitment. A session that returns
//! [`session::SessionReport`] completed all of it.
//!
//! Agency A's side of a trustworthy session is this (17 lines of code):
//!
//! ```no_run
//! use blindmatch::agency::{Agency, AgencyFiles, RunOptions, SessionSpec};
//! use blindmatch::identity::{Fingerprint, Identity};
//! use blindmatch::policy::Policy;
//! use blindmatch::protocol::ItemSet;
//! use blindmatch::session::SessionMode;
//! use blindmatch::transport::verifier::PeerAuth;
//!
//! async fn screen(peer: Fingerprint) -> blindmatch::Result<()> {
//!     let dir = std::path::Path::new("agency-a"); // identity.key, identity.crt; logs go here
//!     let identity = Identity::load(dir)?;
//!     let policy = Policy::load("policy.toml".as_ref())?; // the peer loads the same file
//!     let agency = Agency::open(identity, policy, PeerAuth::pinned(peer), &AgencyFiles::in_dir(dir))?;
//!     let items = ItemSet::new(["IMO9187629", "IMO9321483"]);
//!     let spec = SessionSpec::new(SessionMode::Mutual, items, vec!["imo_ship".into()]);
//!     let report = agency.connect("registry.example:7443", spec, RunOptions::default()).await?;
//!     println!("{:?}", report.outcome().output()); // what we learned; both logs hold the session
//!     Ok(())
//! }
//! ```
//!
//! Both agencies in one tokio runtime, over a loopback port, with their audit logs verified
//! afterwards (the program `examples/two_agencies.rs` is the same):
//!
//! ```
//! use blindmatch::agency::{Agency, AgencyFiles, RunOptions, SessionSpec};
//! use blindmatch::identity::Identity;
//! use blindmatch::policy::Policy;
//! use blindmatch::protocol::ItemSet;
//! use blindmatch::session::{BodyOutput, SessionMode};
//! use blindmatch::transport::{server::ServerLimits, shutdown::Shutdown, verifier::PeerAuth};
//! use blindmatch::{audit, report, Error};
//!
//! # #[tokio::main]
//! # async fn main() -> blindmatch::Result<()> {
//! # let tmp = tempfile::tempdir().map_err(|e| Error::io("a temporary directory", e))?;
//! # let (a_dir, b_dir) = (tmp.path().join("agency-a"), tmp.path().join("agency-b"));
//! # Identity::create(&a_dir, "Agency A", false)?;
//! # Identity::create(&b_dir, "Agency B", false)?;
//! // Each agency loads its identity and pins the other's certificate; both hold one policy.
//! let (a, b) = (Identity::load(&a_dir)?, Identity::load(&b_dir)?);
//! let (a_key, a_pin, b_pin) = (a.verifying_key(), a.fingerprint(), b.fingerprint());
//! let policy = Policy::default_policy();
//! let agency_a = Agency::open(a, policy.clone(), PeerAuth::pinned(b_pin), &AgencyFiles::in_dir(&a_dir))?;
//! let agency_b = Agency::open(b, policy, PeerAuth::pinned(a_pin), &AgencyFiles::in_dir(&b_dir))?;
//!
//! // B serves one session on a loopback port.
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| Error::io("bind", e))?;
//! let addr = listener.local_addr().map_err(|e| Error::io("local address", e))?.to_string();
//! let register = ItemSet::new(["IMO9321483", "IMO9811000", "IMO9074729"]);
//! let b_spec = SessionSpec::new(SessionMode::Mutual, register, vec!["imo_ship".into()]);
//! let limits = ServerLimits::default().with_max_connections(1);
//! let server = tokio::spawn(async move {
//!     let spec = move || (b_spec.clone(), RunOptions::default());
//!     agency_b.serve(listener, limits, Shutdown::never(), spec, |_| {}).await
//! });
//!
//! // A connects; both learn the two IMO numbers they share (mutual mode).
//! let watchlist = ItemSet::new(["IMO9187629", "IMO9321483", "IMO9074729"]);
//! let spec = SessionSpec::new(SessionMode::Mutual, watchlist, vec!["imo_ship".into()]);
//! let done = agency_a.connect(&addr, spec, RunOptions::default()).await?;
//! // The default policy pads both sets to its bound, so `auto` picks VOLE-PSI (spec 4.3.5).
//! let BodyOutput::Vole(learned) = done.outcome().output() else { panic!("VOLE-PSI runs") };
//! assert_eq!(learned.matches().map(|m| m.len()), Some(2));
//! # server.await.map_err(|e| Error::internal(e.to_string()))??;
//!
//! // A compliance officer checks A's log and builds the disclosure report.
//! let verified = audit::verify(agency_a.audit_log(), &[a_key])?;
//! assert!(verified.is_ok());
//! let disclosure = report::Disclosure::build("audit.jsonl", &verified, &report::Filter::All);
//! assert_eq!(disclosure.total_own_matches(), 2);
//! # Ok(()) }
//! ```
//!
//! An embedder with its own transport runs a session over an authenticated
//! [`transport::connection::Connected`] with [`agency::Agency::run`]; only the library's TLS
//! (or the explicitly named `dangerous_from_parts`) makes one.
//!
//! ## Security
//!
//! Semi-honest parties, DDH in ristretto255, random oracle; what each party learns in each mode
//! is tabulated in `protocol-spec/02-security-model.md` and the README.

pub mod agency;
pub mod audit;
pub mod budget;
pub mod checkpoint;
#[cfg(feature = "cli")]
pub mod cli;
pub(crate) mod dst;
pub mod error;
mod file_mode;
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
mod tagged_hash;
pub mod transport;
mod vole;

pub use error::{ElementError, Error, Result};

/// The in-memory VOLE PSI (`protocol-spec/08-vole-psi.md`, not yet offered by any session) of
/// `n` items against `n`, half shared, timed phase by phase: for `benches/vole.rs` only.
///
/// # Errors
/// As the protocol's steps; [`Error::Internal`] for `n = 0` or a wrong intersection.
#[doc(hidden)]
pub fn vole_breakdown(n: usize) -> Result<Vec<(&'static str, std::time::Duration)>> {
    vole::breakdown::run(n)
}

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
