//! blindmatch: privacy-preserving matching of identifier lists between two agencies.
//!
//! (Crate docs are completed with the protocol layer.)

pub mod cli;
pub mod dst;
pub mod error;
pub mod group;
pub mod oprf;
pub mod protocol;

pub use error::{ElementError, Error, Result};
