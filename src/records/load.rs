//! Turning rows into items.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::Arc;

use crate::error::{
    excerpt, ConfigError, ConfigReason, Error, InputError, InputReason, Result, Setting,
};
use crate::identifiers::{encode_item, extract, item_values, Canonical};
use crate::packed::{DistinctBytes, PackedBytes};
use crate::protocol::ItemSet;

use super::origins::{Origins, OriginsBuilder};
use super::read::{Entry, ReadOptions, TableReader};
use super::rows::{Row, Rows};
use super::source::Again;
use super::{InputSpec, KeySpec, KeySummary, Summary};

/// Where an item came from: a row and a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    /// The row's index among the file's readable rows (as [`Records::for_each_row`] counts).
    pub row: usize,
    /// Index into [`Records::keys`].
    pub key: usize,
}

/// A value that was not used, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Reject {
    /// Line number in the file (1-based; the CSV header is line 1).
    pub line: u64,
    /// Column name (empty for an unreadable row).
    pub column: String,
    /// The value as found (for an unreadable row, what could be read of it).
    pub value: String,
    /// What is wrong with it.
    pub reason: String,
    /// What kind of problem it is: [`InputReason::Value`] (or [`InputReason::Placeholder`],
    /// [`InputReason::TooLarge`]) for a value of the wrong form, [`InputReason::Encoding`] for
    /// a key cell that is not valid text, [`InputReason::Csv`] for an unreadable row.
    pub kind: InputReason,
}

/// A loaded file: the items to match, where each item came from, and what was rejected. The
/// rows themselves are not kept: the matched rows are written from a second reading of the
/// input ([`Records::for_each_row`]), which checks it did not change.
///
/// Everything is packed (items back to back, their ends and origins as 32-bit numbers): a
/// distinct item costs its length plus 8 bytes (its end offset and its first (row, key) as
/// `row · keys + key`, 8 bytes in a file of more than about 2^32 / keys rows), and a file with
/// repeats 4 bytes more a further (row, key) pair and 4 an item, whatever its other columns
/// hold: about 310 MiB for 2^24 distinct container numbers. While loading, the lookup table
/// adds about 5 bytes an item and a repeat 12 bytes until it is sorted in.
#[derive(Debug, Clone)]
pub struct Records {
    path: String,
    header: Vec<String>,
    /// How many readable rows the file has.
    row_count: usize,
    options: ReadOptions,
    /// Where to read the rows again, and the SHA-256 of the bytes read the first time.
    again: Again,
    digest: [u8; 32],
    keys: Vec<KeySpec>,
    items: Arc<PackedBytes>,
    /// Every item's (row, key) pairs.
    origins: Origins,
    rejects: Vec<Reject>,
    summary: Summary,
}

impl Records {
    /// The file's name as given.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Column names, as in the file.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// How many readable rows the file has (the rows [`Records::for_each_row`] gives).
    pub fn row_count(&self) -> usize {
        self.row_count
    }

    /// Reads the input again and gives every readable row, in file order, with its index
    /// (`0..row_count()`, as [`Origin::row`] counts). Standard input is read from the copy made
    /// the first time. Holds one row at a time.
    ///
    /// # Errors
    /// [`Error::Io`] if the input cannot be read again; [`Error::Input`] with
    /// [`InputReason::Changed`] if it is not what was read the first time (checked once it has
    /// all been read: a caller writing a file from the rows discards it then); any error `f`
    /// returns, at once.
    pub fn for_each_row(&self, mut f: impl FnMut(usize, Row<'_>) -> Result<()>) -> Result<()> {
        let mut reader = TableReader::reopen(&self.again, &self.path, &self.options)?;
        let mut index = 0;
        while let Some(entry) = reader.next_entry()? {
            if let Entry::Row(row) = entry {
                if index >= self.row_count {
                    break;
                }
                f(index, row)?;
                index += 1;
            }
        }
        let (_, digest) = reader.again();
        if index != self.row_count || digest != self.digest {
            return Err(Error::input(
                InputReason::Changed,
                format!(
                    "{}: the input changed since it was read for the session (its bytes are \
                     not those read then), so its matched rows cannot be written; keep the \
                     file unchanged until the run ends",
                    self.path
                ),
            ));
        }
        Ok(())
    }

    /// Every readable row, read again into memory (as [`Records::for_each_row`]; for small
    /// inputs and tests: this holds the whole file).
    ///
    /// # Errors
    /// As [`Records::for_each_row`].
    pub fn read_rows(&self) -> Result<Rows> {
        let mut rows = Rows::new(self.header.len());
        self.for_each_row(|_, row| {
            rows.push_copy(row);
            Ok(())
        })?;
        Ok(rows)
    }

    /// The keys in effect.
    pub fn keys(&self) -> &[KeySpec] {
        &self.keys
    }

    /// The distinct items, in order of first appearance: the byte strings to hash (give them
    /// to `protocol::ItemSet::new`).
    pub fn items(&self) -> &PackedBytes {
        &self.items
    }

    /// The canonical text of item `i` (composite parts joined by ` + `), read back from the
    /// item's encoding.
    pub fn item_text(&self, i: usize) -> Option<Cow<'_, str>> {
        match item_values(self.items.get(i)?)?.as_slice() {
            [one] => Some(Cow::Borrowed(one)),
            parts => Some(Cow::Owned(parts.join(" + "))),
        }
    }

    /// The (row, key) pairs item `i` came from, in file order.
    pub fn origins(&self, i: usize) -> impl ExactSizeIterator<Item = Origin> + '_ {
        self.origins.of(i).map(|(row, key)| Origin {
            row: row as usize,
            key: key as usize,
        })
    }

    /// The distinct items as a protocol item set, shared rather than copied (item `i` is
    /// input position `i`).
    pub fn item_set(&self) -> ItemSet {
        ItemSet::from_distinct(Arc::clone(&self.items))
    }

    /// The index of an item in [`Records::items`], if it is one of them. The lookup table is
    /// not kept after loading, so this compares with every item: for one item or a few
    /// (many at once: [`Records::indices_of`]).
    pub fn index_of(&self, item: &[u8]) -> Option<usize> {
        self.items.iter().position(|x| x == item)
    }

    /// The index in [`Records::items`] of each of `wanted` (`None` for one that is not an
    /// item), in one pass over the items.
    pub fn indices_of<T: AsRef<[u8]>>(&self, wanted: &[T]) -> Vec<Option<usize>> {
        let mut at: HashMap<&[u8], Option<usize>> =
            wanted.iter().map(|w| (w.as_ref(), None)).collect();
        for (i, item) in self.items.iter().enumerate() {
            if let Some(slot) = at.get_mut(item) {
                slot.get_or_insert(i);
            }
        }
        wanted.iter().map(|w| at[w.as_ref()]).collect()
    }

    /// The values that were not used, in file order.
    pub fn rejects(&self) -> &[Reject] {
        &self.rejects
    }

    /// Counts of accepted, rejected and duplicate values per key.
    pub fn summary(&self) -> &Summary {
        &self.summary
    }
}

/// Reads `spec.path` (`-`: standard input) and turns each row's keys into items.
///
/// # Errors
/// [`Error::Io`] if the input cannot be read; [`Error::Config`] with [`ConfigReason::Keys`] if
/// no key is given or a key names a column the file does not have; [`Error::Input`] with
/// [`InputReason::UnterminatedQuote`] for a quote that is never closed (at the line where it
/// opened), with [`InputReason::Header`] (or [`InputReason::Encoding`]) for a missing or
/// malformed header, with [`InputReason::TooLarge`] for more than 2^32 - 1 rows or items, and,
/// with `spec.strict`, for the first unreadable row ([`InputReason::Csv`]), key cell that is
/// not valid text ([`InputReason::Encoding`]) or invalid value ([`InputReason::Value`],
/// [`InputReason::Placeholder`], or [`InputReason::TooLarge`] for an over-long value), naming
/// the file, line ([`InputError::line`]), column, value and reason.
///
/// # Examples
///
/// ```
/// use blindmatch::records::{self, InputSpec};
///
/// # fn main() -> blindmatch::Result<()> {
/// # let dir = tempfile::tempdir().map_err(|e| blindmatch::Error::io("tempdir", e))?;
/// let path = dir.path().join("vessels.csv");
/// std::fs::write(&path, "name,imo\nAurora,IMO 9187629\nBorealis,9187628\n")
///     .map_err(|e| blindmatch::Error::io("writing vessels.csv", e))?;
/// let recs = records::load(&InputSpec::new(&path, vec!["imo:imo_ship".parse()?]))?;
/// assert_eq!(recs.items().len(), 1); // IMO9187629, normalised
/// assert_eq!(recs.rejects()[0].line, 3); // 9187628 fails the check digit: listed, not dropped
/// # Ok(()) }
/// ```
pub fn load(spec: &InputSpec) -> Result<Records> {
    let keys = spec.effective_keys()?;
    let path = spec.display_name();
    let options = spec.read_options();
    let mut reader = TableReader::open(&spec.path, &options, spec.temp_dir.as_deref())?;
    let header = reader.header().to_vec();
    // Resolve column names once.
    let mut columns: Vec<Vec<usize>> = Vec::with_capacity(keys.len());
    for k in &keys {
        let mut idx = Vec::new();
        for p in k.parts() {
            let i = header
                .iter()
                .position(|h| *h == p.column)
                .ok_or_else(|| missing_column(&path, spec, k, &p.column, &header))?;
            idx.push(i);
        }
        columns.push(idx);
    }

    let mut summary = Summary {
        keys: keys
            .iter()
            .map(|k| KeySummary {
                key: k.label(),
                ..KeySummary::default()
            })
            .collect(),
        ..Summary::default()
    };
    let mut items = DistinctBytes::new();
    let mut rejects = Vec::new();
    let strict = spec.strict;
    let fail = |why: InputReason, line: u64, column: &str, value: &str, reason: &str| {
        let at = if column.is_empty() {
            String::new()
        } else {
            format!(" column `{column}`:")
        };
        // Parse errors already quote the value.
        let value = excerpt(value).to_string();
        let shown = if reason.contains(&value) {
            String::new()
        } else {
            format!(" `{value}`:")
        };
        Error::Input(
            InputError::new(
                why,
                format!(
                    "{path}:{line}:{at}{shown} {reason} (fix the value, or load with `strict` \
                     off to skip invalid values and list them as rejects)"
                ),
            )
            .at_line(line)
            .about(Setting::Strict),
        )
    };
    let mut origins = OriginsBuilder::new(u32::try_from(keys.len()).unwrap_or(u32::MAX));
    let narrow = |n: usize, what: &str| {
        u32::try_from(n).map_err(|_| {
            Error::input(
                InputReason::TooLarge,
                format!("{path}: more than 2^32 - 1 {what}; split the file"),
            )
        })
    };
    let mut row_index = 0usize;
    while let Some(entry) = reader.next_entry()? {
        summary.rows += 1;
        let row = match entry {
            Entry::Row(row) => row,
            Entry::Unreadable(u) => {
                summary.unreadable_rows += 1;
                if strict {
                    return Err(fail(u.kind, u.line, "", &u.text, &u.reason));
                }
                rejects.push(Reject {
                    line: u.line,
                    column: String::new(),
                    value: u.text,
                    reason: u.reason,
                    kind: u.kind,
                });
                continue;
            }
        };
        let row_number = narrow(row_index, "rows")?;
        row_index += 1;
        for (key_index, cols) in columns.iter().enumerate() {
            let values = key_values(&keys[key_index], cols, row);
            let stats = &mut summary.keys[key_index];
            let found = match values {
                KeyValues::Empty => {
                    stats.empty += 1;
                    continue;
                }
                KeyValues::Invalid(bad) => (Vec::new(), bad),
                KeyValues::Valid(found, bad) => (found, bad),
            };
            for (column, value, (why, reason)) in found.1 {
                if strict {
                    return Err(fail(why, row.line(), &column, &value, &reason));
                }
                stats.rejected += 1;
                rejects.push(Reject {
                    line: row.line(),
                    column,
                    value,
                    reason,
                    kind: why,
                });
            }
            for parts in found.0 {
                let item = encode_item(&parts);
                stats.accepted += 1;
                // Item numbers and the count of (row, key) pairs stay 32-bit.
                narrow(items.len(), "distinct items")?;
                narrow(origins.recorded() + 1, "(row, key) pairs")?;
                let key = narrow(key_index, "keys")?;
                match items.insert(&item) {
                    (_, true) => origins.first(row_number, key),
                    (i, false) => {
                        stats.duplicates += 1;
                        origins.repeat(i as u32, row_number, key);
                    }
                }
            }
        }
    }
    let (again, digest) = reader.again();
    let again = again.clone();
    summary.unique_items = items.len();
    // The lookup table goes before the origins are grouped (at 2^24 items it is 160 MiB).
    let mut items = items.into_strings();
    Arc::make_mut(&mut items).shrink_to_fit();
    let origins = origins.finish();
    Ok(Records {
        path,
        header,
        row_count: row_index,
        options,
        again,
        digest,
        keys,
        items,
        origins,
        rejects,
        summary,
    })
}

/// The error of a key naming a column the file does not have; lists at most the first 20
/// columns (a header may have 100,000).
fn missing_column(
    path: &str,
    spec: &InputSpec,
    key: &KeySpec,
    column: &str,
    header: &[String],
) -> Error {
    const SHOWN: usize = 20;
    let mut columns = header
        .iter()
        .take(SHOWN)
        .map(|h| excerpt(h).to_string())
        .collect::<Vec<_>>()
        .join(", ");
    if header.len() > SHOWN {
        columns.push_str(&format!(", ... ({} columns)", header.len()));
    }
    let (hint, setting) = if !spec.header {
        (
            " (without a header row, columns are named by number from 1)",
            Setting::Header,
        )
    } else if spec.resolved_format() == super::InputFormat::Lines {
        (
            " (the input is read as plain text, one value per line; set its `format` to CSV \
             for CSV)",
            Setting::Format,
        )
    } else {
        ("", Setting::Keys)
    };
    Error::Config(
        ConfigError::new(
            ConfigReason::Keys,
            format!(
                "{path}: key `{key}` names column `{}`, but the columns are: {columns}{hint}",
                excerpt(column)
            ),
        )
        .about(setting),
    )
}

/// The rejection of a key cell whose bytes are not valid in the file's encoding.
fn unreadable_cell(column: &str, text: &str) -> (String, String, (InputReason, String)) {
    (
        column.to_string(),
        text.to_string(),
        (
            InputReason::Encoding,
            format!(
                "not valid UTF-8 (read as `{}`); set the input's `encoding` (latin1, \
                 windows-1252)",
                excerpt(text)
            ),
        ),
    )
}

/// Rejected values of one row and key: (column, value, (kind of problem, reason)).
type Bad = Vec<(String, String, (InputReason, String))>;

enum KeyValues {
    Empty,
    Invalid(Bad),
    /// Valid values (each a list of parts), plus invalid extracted candidates.
    Valid(Vec<Vec<Canonical>>, Bad),
}

/// Why a value was rejected: its kind of problem, and the problem in words.
fn reason(e: Error) -> (InputReason, String) {
    match e {
        Error::Input(e) => (e.reason, e.detail),
        other => (InputReason::Value, other.to_string()),
    }
}

fn key_values(key: &KeySpec, cols: &[usize], row: Row<'_>) -> KeyValues {
    let parts = key.parts();
    if let [part] = parts {
        if part.extract {
            let text = row.field(cols[0]).unwrap_or_default();
            if row.is_unreadable(cols[0]) {
                return KeyValues::Invalid(vec![unreadable_cell(&part.column, text)]);
            }
            let candidates = extract::extract(part.kind, text).unwrap_or_default();
            if candidates.is_empty() {
                return KeyValues::Empty;
            }
            let mut good = Vec::new();
            let mut bad = Vec::new();
            for c in candidates {
                match part.kind.parse(&c) {
                    Ok(v) => good.push(vec![v]),
                    Err(e) => bad.push((part.column.clone(), c, reason(e))),
                }
            }
            return KeyValues::Valid(good, bad);
        }
    }
    let cells: Vec<&str> = cols
        .iter()
        .map(|&c| row.field(c).unwrap_or_default().trim())
        .collect();
    if cells.iter().any(|c| c.is_empty()) {
        return KeyValues::Empty;
    }
    let mut values = Vec::with_capacity(parts.len());
    let mut bad = Vec::new();
    for ((part, cell), &col) in parts.iter().zip(&cells).zip(cols) {
        if row.is_unreadable(col) {
            bad.push(unreadable_cell(&part.column, cell));
            continue;
        }
        match part.kind.parse(cell) {
            Ok(v) => values.push(v),
            Err(e) => bad.push((part.column.clone(), (*cell).to_string(), reason(e))),
        }
    }
    if bad.is_empty() {
        KeyValues::Valid(vec![values], Vec::new())
    } else {
        KeyValues::Invalid(bad)
    }
}
