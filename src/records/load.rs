//! Turning rows into items.

use std::collections::HashMap;

use crate::error::{Error, Result};
use crate::identifiers::{encode_item, extract, Canonical};

use super::read::{read_table, Row};
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
pub struct Reject {
    /// Line number in the file (1-based; the CSV header is line 1).
    pub line: u64,
    /// Column name (empty for an unreadable row).
    pub column: String,
    /// The value as found (for an unreadable row, what could be read of it).
    pub value: String,
    /// What is wrong with it.
    pub reason: String,
}

/// A loaded file: its rows, the items to match, where each item came from, and what was
/// rejected.
#[derive(Debug, Clone)]
pub struct Records {
    path: String,
    header: Vec<String>,
    rows: Vec<Row>,
    keys: Vec<KeySpec>,
    items: Vec<Vec<u8>>,
    texts: Vec<String>,
    origins: Vec<Vec<Origin>>,
    index: HashMap<Vec<u8>, usize>,
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
    pub fn rows(&self) -> &[super::read::Row] {
        &self.rows
    }

    /// The keys in effect.
    pub fn keys(&self) -> &[KeySpec] {
        &self.keys
    }

    /// The distinct items, in order of first appearance: the byte strings to hash (give them
    /// to `protocol::ItemSet::new`).
    pub fn items(&self) -> &[Vec<u8>] {
        &self.items
    }

    /// The canonical text of item `i` (composite parts joined by ` + `).
    pub fn item_text(&self, i: usize) -> Option<&str> {
        self.texts.get(i).map(String::as_str)
    }

    /// The (row, key) pairs item `i` came from, in file order.
    pub fn origins(&self, i: usize) -> &[Origin] {
        self.origins.get(i).map_or(&[], Vec::as_slice)
    }

    /// The index of an item in [`Records::items`], if it is one of them.
    pub fn index_of(&self, item: &[u8]) -> Option<usize> {
        self.index.get(item).copied()
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

/// Reads `spec.path` and turns each row's keys into items.
///
/// # Errors
/// [`Error::Io`] if the file cannot be read; [`Error::Config`] if no key is given or a key
/// names a column the file does not have; [`Error::Input`] for a missing or malformed header,
/// and, with `spec.strict`, for the first unreadable row or invalid value, naming the file,
/// line, column, value and reason.
pub fn load(spec: &InputSpec) -> Result<Records> {
    let keys = spec.effective_keys()?;
    let path = spec.path.display().to_string();
    let table = read_table(&spec.path, spec.resolved_format())?;
    // Resolve column names once.
    let mut columns: Vec<Vec<usize>> = Vec::with_capacity(keys.len());
    for k in &keys {
        let mut idx = Vec::new();
        for p in k.parts() {
            let i = table
                .header
                .iter()
                .position(|h| *h == p.column)
                .ok_or_else(|| {
                    Error::Config(format!(
                        "{path}: key `{k}` names column `{}`, but the columns are: {}",
                        p.column,
                        table.header.join(", ")
                    ))
                })?;
            idx.push(i);
        }
        columns.push(idx);
    }

    let mut rec = Records {
        path: path.clone(),
        header: table.header,
        rows: Vec::with_capacity(table.rows.len()),
        keys,
        items: Vec::new(),
        texts: Vec::new(),
        origins: Vec::new(),
        index: HashMap::new(),
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
    rec.summary.rows = table.rows.len() + table.unreadable.len();
    rec.summary.unreadable_rows = table.unreadable.len();

    // Merge readable and unreadable rows back into file order so rejects come out sorted.
    let mut unreadable = table.unreadable.into_iter().peekable();
    let strict = spec.strict;
    let fail = |line: u64, column: &str, value: &str, reason: &str| {
        let at = if column.is_empty() {
            String::new()
        } else {
            format!(" column `{column}`:")
        };
        Error::Input(format!(
            "{path}:{line}:{at} `{value}`: {reason} (fix the value, or run without --strict to collect invalid values in a rejects file)"
        ))
    };
    for row in table.rows {
        while let Some(u) = unreadable.next_if(|u| u.line < row.line) {
            if strict {
                return Err(fail(u.line, "", &u.text, &u.reason));
            }
            rec.rejects.push(Reject {
                line: u.line,
                column: String::new(),
                value: u.text,
                reason: u.reason,
            });
        }
        let row_index = rec.rows.len();
        for (key_index, cols) in columns.iter().enumerate() {
            let key = rec.keys[key_index].clone();
            let values = key_values(&key, cols, &row);
            let stats = &mut rec.summary.keys[key_index];
            match values {
                KeyValues::Empty => stats.empty += 1,
                KeyValues::Invalid(bad) => {
                    for (column, value, reason) in bad {
                        if strict {
                            return Err(fail(row.line, &column, &value, &reason));
                        }
                        stats.rejected += 1;
                        rec.rejects.push(Reject {
                            line: row.line,
                            column,
                            value,
                            reason,
                        });
                    }
                }
                KeyValues::Valid(found, bad) => {
                    for (column, value, reason) in bad {
                        if strict {
                            return Err(fail(row.line, &column, &value, &reason));
                        }
                        stats.rejected += 1;
                        rec.rejects.push(Reject {
                            line: row.line,
                            column,
                            value,
                            reason,
                        });
                    }
                    for parts in found {
                        let item = encode_item(&parts);
                        stats.accepted += 1;
                        let origin = Origin {
                            row: row_index,
                            key: key_index,
                        };
                        match rec.index.get(&item) {
                            Some(&i) => {
                                stats.duplicates += 1;
                                if !rec.origins[i].contains(&origin) {
                                    rec.origins[i].push(origin);
                                }
                            }
                            None => {
                                rec.index.insert(item.clone(), rec.items.len());
                                rec.items.push(item);
                                rec.texts.push(
                                    parts
                                        .iter()
                                        .map(Canonical::value)
                                        .collect::<Vec<_>>()
                                        .join(" + "),
                                );
                                rec.origins.push(vec![origin]);
                            }
                        }
                    }
                }
            }
        }
        rec.rows.push(row);
    }
    for u in unreadable {
        if strict {
            return Err(fail(u.line, "", &u.text, &u.reason));
        }
        rec.rejects.push(Reject {
            line: u.line,
            column: String::new(),
            value: u.text,
            reason: u.reason,
        });
    }
    rec.summary.unique_items = rec.items.len();
    Ok(rec)
}

/// Rejected values of one row and key: (column, value, reason).
type Bad = Vec<(String, String, String)>;

enum KeyValues {
    Empty,
    Invalid(Bad),
    /// Valid values (each a list of parts), plus invalid extracted candidates.
    Valid(Vec<Vec<Canonical>>, Bad),
}

fn reason(e: Error) -> String {
    match e {
        Error::Input(m) => m,
        other => other.to_string(),
    }
}

fn key_values(key: &KeySpec, cols: &[usize], row: &Row) -> KeyValues {
    let parts = key.parts();
    if let [part] = parts {
        if part.extract {
            let text = &row.fields[cols[0]];
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
    let cells: Vec<&str> = cols.iter().map(|&c| row.fields[c].trim()).collect();
    if cells.iter().any(|c| c.is_empty()) {
        return KeyValues::Empty;
    }
    let mut values = Vec::with_capacity(parts.len());
    let mut bad = Vec::new();
    for (part, cell) in parts.iter().zip(&cells) {
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
