//! blindmatch: privacy-preserving matching of identifier lists between two agencies.
//!
//! (Crate docs are completed with the protocol layer.)

pub mod audit;
pub mod budget;
pub mod cli;
pub mod dst;
pub mod error;
pub mod group;
pub mod policy;
pub mod report;

pub use error::{ElementError, Error, Result};
