//! The protocols, sans I/O: state machines that take messages and return messages.
//!
//! * [`dh`]: DH-PSI in three modes ([`Mode`]).
//! * [`memory`]: both parties in one process, for tests and benchmarks.
//! * `bucket`: one session as many sub-sessions of DH-PSI or VOLE-PSI, a few at a time
//!   (`protocol-spec/09-buckets.md`; not yet in the session envelope).
//! * [`SansIo`]: the interface a transport drives.
//!
//! Session keys and DH-PSI's padding and shuffles are drawn by the crate's specified draws
//! (`protocol-spec/01-suite.md` section 1.6), which read the RNG's byte stream in a defined
//! way, so the test vectors, driven by `vector_rng::VectorRng`, can be rebuilt from their
//! seeds.

#[doc(hidden)]
pub mod bucket;
pub mod dh;
pub(crate) mod draw;
mod interrupt;
mod items;
mod matches;
pub mod memory;
mod mode;
pub mod oprf_psi;
mod sans_io;
#[doc(hidden)]
pub mod vector_rng;
pub(crate) mod vole_psi;

pub use interrupt::Interrupt;
pub use items::ItemSet;
pub use matches::{Match, MatchIter, MatchRef, Matches};
pub use mode::{Mode, Role};
pub use sans_io::{SansIo, WireMessage};

/// The trait of the random number generators the protocol steps take (rand_core's).
pub use rand_core::CryptoRng;

/// The largest set one party may send in any protocol: 2^27 = 134,217,728 elements (more than
/// the 10^8 records a national shipment register holds). A hello announcing more is refused at
/// admission (rule `max_set_size`), and `policy check` refuses a policy whose `max_set_size` or
/// `padding_bound` is above it. A session's memory grows with the elements actually received,
/// never with the announced count.
pub const MAX_SET_SIZE: usize = 1 << 27;
