//! The network transport: frames over mutual TLS 1.3, the session handshake, deadlines, and
//! the drivers that run a protocol session over a connection.
//!
//! * [`framing`]: length-prefixed frames with a maximum size.
//! * [`verifier`]: who the peer may be (pinned fingerprint or CA).
//! * [`tls`]: rustls configurations, TLS 1.3 only, mutual authentication.
//! * [`handshake`]: hellos, transcript, TLS exporter, session id.
//! * [`timeouts`]: connect, handshake, read and session deadlines.
//! * [`session`]: the session envelope (handshake, gate, audit entries, receipts) around a
//!   [`session::ProtocolBody`]; [`dh_body`] is DH-PSI's, [`oprf_body`] OPRF-PSI's.
//! * [`negotiate`]: which protocol (`dh`, `oprf`, `auto`) a session runs.
//! * [`dispatch`]: the body that runs whichever protocol the handshake picked.
//! * [`admission`]: both sides' verdict after the handshake, before any element.
//! * [`compliance`]: policy, budget, audit log and receipt key as a session uses them.
//! * [`receipts`]: the signed receipt exchange at the end of a session.

pub mod admission;
pub mod client;
pub mod compliance;
pub mod dh_body;
pub mod dispatch;
pub mod driver;
pub mod framing;
pub mod handshake;
pub mod negotiate;
pub mod oprf_body;
pub mod progress;
pub mod receipts;
pub mod server;
pub mod session;
pub mod timeouts;
pub mod tls;
pub mod verifier;
