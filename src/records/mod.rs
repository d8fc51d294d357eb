//! Records: reading the caller's file, turning its rows into the items that are hashed, and
//! mapping matched items back to rows.
//!
//! Data flows one way: a file ([`InputSpec`]) is streamed a row at a time ([`read`]); each
//! row's key columns ([`KeySpec`]) are parsed as identifiers ([`crate::identifiers`]) and
//! encoded as items; [`load`] returns the unique items (as a protocol item set:
//! [`Records::item_set`]), for each item the (row, key) pairs it came from, the rejected values
//! and a [`Summary`], but not the rows: memory holds the items, not the file. After a run,
//! [`write_matches`] reads the input a second time ([`Records::for_each_row`]: the file again,
//! or the copy of standard input made while it was read) and writes the matched rows with all
//! their original columns, the matched value(s) and the key(s) they matched on; an input whose
//! bytes changed in between is refused ([`crate::error::InputReason::Changed`]).
//!
//! Nothing is dropped silently: a value that does not parse, a key cell that is not valid
//! text in the file's [`Encoding`] and a row that cannot be read become a [`Reject`] (line,
//! column, value, reason), or, with `strict`, fail the load; a quote that is never closed
//! fails it always, naming the line where it opened. Other cells that are not valid text are
//! kept, read with U+FFFD in place of the bytes that could not be read.
//!
//! ```
//! use blindmatch::protocol::{memory::run_dh_psi, Mode};
//! use blindmatch::records::{self, InputSpec};
//!
//! # fn main() -> blindmatch::Result<()> {
//! let dir = tempfile::tempdir().map_err(|e| blindmatch::Error::io("tempdir", e))?;
//! let ours = dir.path().join("ours.csv");
//! let theirs = dir.path().join("theirs.txt");
//! std::fs::write(&ours, "ref,container\nA1,MSCU 123456-6\nA2,CSQU3054383\nA3,MSCU1234567\n")
//!     .map_err(|e| blindmatch::Error::io("writing", e))?;
//! std::fs::write(&theirs, "mscu1234566\nHLXU1234560\n").map_err(|e| blindmatch::Error::io("writing", e))?;
//!
//! let a = records::load(&InputSpec::new(&ours, vec!["container:container".parse()?]))?;
//! let b = records::load(&InputSpec::new(&theirs, vec!["value:container".parse()?]))?;
//! assert_eq!(a.rejects()[0].line, 4); // MSCU1234567: wrong check digit, not dropped silently
//!
//! let (mine, _) = run_dh_psi(
//!     Mode::Intersection,
//!     a.item_set(),
//!     b.item_set(),
//!     None,
//! )?;
//! let matched: Vec<Vec<u8>> = mine.matches().map(|m| m.iter().map(|m| m.item().to_vec()).collect()).unwrap_or_default();
//! let out = dir.path().join("matches.csv");
//! let summary = records::write_matches(&out, &a, &matched)?;
//! assert_eq!(summary.matched_rows, 1);
//! let written = std::fs::read_to_string(&out).map_err(|e| blindmatch::Error::io("reading", e))?;
//! assert_eq!(written, "ref,container,matched_values,matched_keys\nA1,MSCU 123456-6,MSCU1234566,container:container\n");
//! # Ok(())
//! # }
//! ```

mod csv_syntax;
mod delimiter;
mod encoding;
mod load;
mod origins;
mod output;
pub mod payload;
pub mod read;
mod rows;
mod source;
mod spec;
mod summary;

pub use delimiter::Delimiter;
pub use encoding::Encoding;
pub use load::{load, Origin, Records, Reject};
#[cfg(feature = "cli")]
pub(crate) use output::write_csv_atomically;
pub use output::{
    write_matches, write_matches_by_index, write_matches_with_columns, write_rejects,
    write_unmatched, MatchSummary,
};
pub use rows::{Row, Rows};
pub use source::STDIN;
pub use spec::{InputFormat, InputSpec, KeyPart, KeySpec, Mapping};
pub use summary::{KeySummary, Summary};
