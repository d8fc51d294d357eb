//! Records: reading the caller's file, turning its rows into the items that are hashed, and
//! mapping matched items back to rows.
//!
//! Data flows one way: a file ([`InputSpec`]) is read into rows ([`read`]); each row's key
//! columns ([`KeySpec`]) are parsed as identifiers ([`crate::identifiers`]) and encoded as items;
//! [`load`] returns the rows, the unique items (for `protocol::ItemSet::new`), for each item the
//! (row, key) pairs it came from, the rejected values and a [`Summary`]. After a run,
//! [`write_matches`] writes the matched rows with all their original columns, the matched
//! value(s) and the key(s) they matched on.
//!
//! Nothing is dropped silently: a value that does not parse and a row that cannot be read
//! become a [`Reject`] (line, column, value, reason), or, with `strict`, fail the load.

mod load;
mod output;
pub mod read;
mod spec;
mod summary;

pub use load::{load, Origin, Records, Reject};
pub(crate) use output::write_csv_atomically;
pub use output::{write_matches, write_matches_by_index, write_rejects, MatchSummary};
pub use spec::{InputFormat, InputSpec, KeyPart, KeySpec, Mapping};
pub use summary::{KeySummary, Summary};
