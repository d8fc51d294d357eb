//! Turning rows into items.

use std::borrow::Cow;

use crate::error::{
    excerpt, ConfigError, ConfigReason, Error, InputError, InputReason, Result, Setting,
};
use crate::identifiers::{encode_item, extract, item_values, Canonical};
use crate::packed::{DistinctBytes, PackedBytes};
use crate::protocol::ItemSet;

use super::read::read_table;
use super::rows::{Row, Rows};
use super::{InputSpec, KeySpec, KeySummary, Summary};

/// Where an item came from: a row and a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Origin {
    /// Index into [`Records::rows`].
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

/// A loaded file: its rows, the items to match, where each item came from, and what was
/// rejected.
///
/// Everything is packed (rows in one string, items back to back, origins in one list), so a
/// file of 2^22 records costs about twice its size in memory.
#[derive(Debug, Clone)]
pub struct Records {
    path: String,
    header: Vec<String>,
    rows: Rows,
    keys: Vec<KeySpec>,
    items: DistinctBytes,
    /// Origins of every item, item after item; item `i`'s are
    /// `origins[origin_starts[i]..origin_starts[i + 1]]`.
    origins: Vec<Origin>,
    origin_starts: Vec<usize>,
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

    /// Readable rows, in file order, with every original field.
    pub fn rows(&self) -> &Rows {
        &self.rows
    }

    /// The keys in effect.
    pub fn keys(&self) -> &[KeySpec] {
        &self.keys
    }

    /// The distinct items, in order of first appearance: the byte strings to hash (give them
    /// to `protocol::ItemSet::new`).
    pub fn items(&self) -> &PackedBytes {
        self.items.strings()
    }

    /// The canonical text of item `i` (composite parts joined by ` + `), read back from the
    /// item's encoding.
    pub fn item_text(&self, i: usize) -> Option<Cow<'_, str>> {
        match item_values(self.items.strings().get(i)?)?.as_slice() {
            [one] => Some(Cow::Borrowed(one)),
            parts => Some(Cow::Owned(parts.join(" + "))),
        }
    }

    /// The (row, key) pairs item `i` came from, in file order.
    pub fn origins(&self, i: usize) -> &[Origin] {
        match (self.origin_starts.get(i), self.origin_starts.get(i + 1)) {
            (Some(&start), Some(&end)) => &self.origins[start..end],
            _ => &[],
        }
    }

    /// The distinct items as a protocol item set, shared rather than copied (item `i` is
    /// input position `i`).
    pub fn item_set(&self) -> ItemSet {
        ItemSet::from_distinct(self.items.shared_strings())
    }

    /// The index of an item in [`Records::items`], if it is one of them.
    pub fn index_of(&self, item: &[u8]) -> Option<usize> {
        self.items.index_of(item)
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
    let table = read_table(&spec.path, &spec.read_options())?;
    // Resolve column names once.
    let mut columns: Vec<Vec<usize>> = Vec::with_capacity(keys.len());
    for k in &keys {
        let mut idx = Vec::new();
        for p in k.parts() {
            let i = table
                .header
                .iter()
                .position(|h| *h == p.column)
                .ok_or_else(|| missing_column(&path, spec, k, &p.column, &table.header))?;
            idx.push(i);
        }
        columns.push(idx);
    }

    let mut rec = Records {
        path: path.clone(),
        header: table.header,
        rows: table.rows,
        keys,
        items: DistinctBytes::new(),
        origins: Vec::new(),
        origin_starts: Vec::new(),
        rejects: Vec::new(),
        summary: Summary::default(),
    };
    rec.summary.keys = rec
        .keys
        .iter()
        .map(|k| KeySummary {
            key: k.label(),
            ..KeySummary::default()
        })
        .collect();
    rec.summary.rows = rec.rows.len() + table.unreadable.len();
    rec.summary.unreadable_rows = table.unreadable.len();

    // Merge readable and unreadable rows back into file order so rejects come out sorted.
    let mut unreadable = table.unreadable.into_iter().peekable();
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
    let keys = rec.keys.clone();
    // (item, row, key) in file order, 12 bytes each; grouped by item at the end.
    let mut found_at: Vec<(u32, u32, u32)> = Vec::new();
    let narrow = |n: usize, what: &str| {
        u32::try_from(n).map_err(|_| {
            Error::input(
                InputReason::TooLarge,
                format!("{path}: more than 2^32 - 1 {what}; split the file"),
            )
        })
    };
    for (row_index, row) in rec.rows.iter().enumerate() {
        while let Some(u) = unreadable.next_if(|u| u.line < row.line()) {
            if strict {
                return Err(fail(u.kind, u.line, "", &u.text, &u.reason));
            }
            rec.rejects.push(Reject {
                line: u.line,
                column: String::new(),
                value: u.text,
                reason: u.reason,
                kind: u.kind,
            });
        }
        for (key_index, cols) in columns.iter().enumerate() {
            let values = key_values(&keys[key_index], cols, row);
            let stats = &mut rec.summary.keys[key_index];
            match values {
                KeyValues::Empty => stats.empty += 1,
                KeyValues::Invalid(bad) => {
                    for (column, value, (why, reason)) in bad {
                        if strict {
                            return Err(fail(why, row.line(), &column, &value, &reason));
                        }
                        stats.rejected += 1;
                        rec.rejects.push(Reject {
                            line: row.line(),
                            column,
                            value,
                            reason,
                            kind: why,
                        });
                    }
                }
                KeyValues::Valid(found, bad) => {
                    for (column, value, (why, reason)) in bad {
                        if strict {
                            return Err(fail(why, row.line(), &column, &value, &reason));
                        }
                        stats.rejected += 1;
                        rec.rejects.push(Reject {
                            line: row.line(),
                            column,
                            value,
                            reason,
                            kind: why,
                        });
                    }
                    for parts in found {
                        let item = encode_item(&parts);
                        stats.accepted += 1;
                        let (i, new) = rec.items.insert(&item);
                        if !new {
                            stats.duplicates += 1;
                        }
                        found_at.push((
                            narrow(i, "distinct items")?,
                            narrow(row_index, "rows")?,
                            narrow(key_index, "keys")?,
                        ));
                    }
                }
            }
        }
    }
    for u in unreadable {
        if strict {
            return Err(fail(u.kind, u.line, "", &u.text, &u.reason));
        }
        rec.rejects.push(Reject {
            line: u.line,
            column: String::new(),
            value: u.text,
            reason: u.reason,
            kind: u.kind,
        });
    }
    rec.summary.unique_items = rec.items.len();
    // Group origins by item, in file order within an item ((row, key) ascending is file
    // order), and drop a (row, key) seen twice for one item (an extractor finding one value
    // twice in a cell).
    found_at.sort_unstable();
    found_at.dedup();
    rec.origin_starts = Vec::with_capacity(rec.items.len() + 1);
    rec.origins = Vec::with_capacity(found_at.len());
    for (i, row, key) in found_at {
        while rec.origin_starts.len() <= i as usize {
            rec.origin_starts.push(rec.origins.len());
        }
        rec.origins.push(Origin {
            row: row as usize,
            key: key as usize,
        });
    }
    rec.origin_starts.push(rec.origins.len());
    rec.items.shrink_to_fit();
    Ok(rec)
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
