//! The network transport: it moves bytes and nothing else. No policy, audit, budget or
//! terminal code lives here.
//!
//! * [`framing`]: length-prefixed frames with a maximum size per kind, read and written
//!   without copying payloads.
//! * [`verifier`]: who the peer may be (pinned fingerprint or CA).
//! * [`tls`]: rustls configurations, TLS 1.3 only, mutual authentication.
//! * [`connection`]: an authenticated connection ([`connection::Connected`]) and its TLS
//!   exporter value.
//! * [`client`]: connecting; [`server`]: the accept loop that holds under hostile load.
//! * [`timeouts`]: connect, TLS, handshake, read, write and session deadlines.
//! * [`machine`]: the interface of a sans-I/O machine; the crate's driver runs one over a
//!   connection (inside [`crate::agency::Agency::run`]).
//! * [`shutdown`]: Ctrl-C, SIGTERM and shutdown signals.

pub mod client;
pub mod connection;
pub(crate) mod driver;
pub mod framing;
pub mod machine;
pub mod server;
pub mod shutdown;
pub mod timeouts;
pub mod tls;
pub mod verifier;

pub use driver::QueueBudget;
