//! The network transport: frames over mutual TLS 1.3, the session handshake, deadlines, and
//! the drivers that run a protocol session over a connection.
//!
//! * [`framing`]: length-prefixed frames with a maximum size.
//! * [`verifier`]: who the peer may be (pinned fingerprint or CA).
//! * [`tls`]: rustls configurations, TLS 1.3 only, mutual authentication.
//! * [`handshake`]: hellos, transcript, TLS exporter, session id.
//! * [`timeouts`]: connect, handshake, read and session deadlines.
//! * [`negotiate`]: which protocol (`dh`, `oprf`, `auto`) a session runs.
//! * [`oprf_body`]: the OPRF-PSI body of a session, after the handshake.
//! * [`dispatch`]: one session, either protocol, from the hello to the result.

pub mod client;
pub mod dispatch;
pub mod driver;
pub mod framing;
pub mod handshake;
pub mod negotiate;
pub mod oprf_body;
pub mod progress;
pub mod server;
pub mod session;
pub mod timeouts;
pub mod tls;
pub mod verifier;
