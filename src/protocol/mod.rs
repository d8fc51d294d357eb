//! The protocols, sans I/O: state machines that take messages and return messages.
//!
//! * [`dh`]: DH-PSI in three modes ([`Mode`]).
//! * [`memory`]: both parties in one process, for tests and benchmarks.
//! * [`SansIo`]: the interface a transport drives.

pub mod dh;
mod items;
pub mod memory;
mod mode;
pub mod oprf_psi;
mod sans_io;

pub use items::ItemSet;
pub use mode::{Mode, Role};
pub use sans_io::{SansIo, WireMessage};
