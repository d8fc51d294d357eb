//! Writing matched rows and rejects, atomically: the file appears complete or not at all. The
//! matched and unmatched rows come from a second reading of the input, one row at a time.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use crate::error::{Error, InputReason, Result};

use super::{Records, Reject};

/// What [`write_matches`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MatchSummary {
    /// Distinct matched items.
    pub matched_items: usize,
    /// Rows written (rows with at least one matched item).
    pub matched_rows: usize,
    /// For each key (label), the number of rows that matched on it.
    pub rows_per_key: Vec<(String, usize)>,
}

/// A CSV file written atomically: rows go to a temporary file in the same directory, which is
/// renamed over `path` only by [`AtomicCsv::finish`], so a run that fails or stops leaves no
/// partial file (dropping it removes the temporary file).
pub(crate) struct AtomicCsv {
    path: std::path::PathBuf,
    tmp: tempfile::NamedTempFile,
    writer: csv::Writer<std::io::BufWriter<std::fs::File>>,
}

impl AtomicCsv {
    /// Starts the file with its `header`.
    ///
    /// # Errors
    /// [`Error::Io`] if the temporary file cannot be created or written.
    pub(crate) fn create(path: &Path, header: &[String]) -> Result<Self> {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let tmp = tempfile::Builder::new()
            .prefix(".blindmatch-")
            .suffix(".partial")
            .tempfile_in(dir)
            .map_err(|e| {
                Error::io(
                    format!("creating a temporary file next to {}", path.display()),
                    e,
                )
            })?;
        let file = tmp
            .as_file()
            .try_clone()
            .map_err(|e| Error::io(format!("writing {}", path.display()), e))?;
        let mut csv = AtomicCsv {
            path: path.to_path_buf(),
            tmp,
            writer: csv::Writer::from_writer(std::io::BufWriter::new(file)),
        };
        csv.write(header)?;
        Ok(csv)
    }

    /// Appends one record.
    ///
    /// # Errors
    /// [`Error::Io`] if it cannot be written.
    pub(crate) fn write<I, T>(&mut self, record: I) -> Result<()>
    where
        I: IntoIterator<Item = T>,
        T: AsRef<[u8]>,
    {
        self.writer
            .write_record(record)
            .map_err(|e| self.failed(std::io::Error::other(e)))
    }

    fn failed(&self, e: std::io::Error) -> Error {
        Error::io(format!("writing {}", self.path.display()), e)
    }

    /// Flushes, syncs and renames the file into place.
    ///
    /// # Errors
    /// [`Error::Io`] if any of it fails (the temporary file is removed).
    pub(crate) fn finish(self) -> Result<()> {
        let AtomicCsv { path, tmp, writer } = self;
        let ctx = |what: &str| format!("{what} {}", path.display());
        let mut inner = writer
            .into_inner()
            .map_err(|e| Error::io(ctx("writing"), std::io::Error::other(e.to_string())))?;
        inner.flush().map_err(|e| Error::io(ctx("writing"), e))?;
        tmp.as_file()
            .sync_all()
            .map_err(|e| Error::io(ctx("syncing"), e))?;
        tmp.persist(&path)
            .map_err(|e| Error::io(ctx("renaming the temporary file to"), e.error))?;
        Ok(())
    }
}

/// Writes a CSV file atomically ([`AtomicCsv`]) from its header and rows.
pub(crate) fn write_csv_atomically(
    path: &Path,
    header: &[String],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<()> {
    let mut csv = AtomicCsv::create(path, header)?;
    for r in rows {
        csv.write(&r)?;
    }
    csv.finish()
}

/// Writes the rows that matched: every original column, then `matched_values` (the canonical
/// matched value(s), `; `-separated) and `matched_keys` (the key(s) they matched on,
/// `; `-separated). Rows are in file order; a row appears once even if it matched on several
/// keys or items. If the input already has a column of either name, the new one is prefixed
/// `blindmatch_`.
///
/// # Errors
/// [`Error::Input`] with [`InputReason::Argument`] if an item is not one of `records`' items;
/// [`Error::Io`] if the file cannot be written (no partial file is left behind).
pub fn write_matches(
    path: &Path,
    records: &Records,
    matched_items: &[Vec<u8>],
) -> Result<MatchSummary> {
    let indices = records
        .indices_of(matched_items)
        .into_iter()
        .map(|i| {
            i.ok_or_else(|| {
                Error::input(
                    InputReason::Argument,
                    format!(
                        "a matched item is not one of the items of {}; was it loaded from another file?",
                        records.path()
                    ),
                )
            })
        })
        .collect::<Result<Vec<_>>>()?;
    write_matches_by_index(path, records, &indices)
}

/// As [`write_matches`], with items given by their index in [`Records::items`] (for example
/// the input indices of `protocol::Match`).
///
/// # Errors
/// [`Error::Input`] with [`InputReason::Argument`] if an index is out of range; [`Error::Io`]
/// if the file cannot be written.
pub fn write_matches_by_index(
    path: &Path,
    records: &Records,
    matched: &[usize],
) -> Result<MatchSummary> {
    write_matches_with_columns(path, records, matched, &[], &BTreeMap::new())
}

/// As [`write_matches_by_index`], with extra columns (`extra_header`) after the matched
/// columns: a row gets the values `extra` holds for the first of its matched items that has
/// some (labeled OPRF-PSI: the sender's payload columns), empty fields otherwise.
///
/// # Errors
/// As [`write_matches_by_index`].
pub fn write_matches_with_columns(
    path: &Path,
    records: &Records,
    matched: &[usize],
    extra_header: &[String],
    extra: &BTreeMap<usize, Vec<String>>,
) -> Result<MatchSummary> {
    let mut distinct: Vec<usize> = matched.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    // (row, key index, item index) of every match, in file order: 12 bytes a match, so that
    // half a 2^24-row file matching costs 100 MB here; the rows themselves are read again
    // one at a time.
    let mut hits: Vec<(u32, u32, u32)> = Vec::new();
    for &i in &distinct {
        if i >= records.items().len() {
            return Err(Error::input(
                InputReason::Argument,
                format!(
                    "matched item index {i} is out of range ({} items in {})",
                    records.items().len(),
                    records.path()
                ),
            ));
        }
        // Below 2^32: the records refuse more items, rows or keys.
        hits.extend(
            records
                .origins(i)
                .map(|o| (o.row as u32, o.key as u32, i as u32)),
        );
    }
    hits.sort_unstable();
    hits.dedup();
    let by_row = || hits.chunk_by(|a, b| a.0 == b.0);

    let mut rows_per_key = vec![0usize; records.keys().len()];
    let mut matched_rows = 0;
    for row_hits in by_row() {
        matched_rows += 1;
        let mut keys: Vec<u32> = row_hits.iter().map(|h| h.1).collect();
        keys.dedup();
        for k in keys {
            rows_per_key[k as usize] += 1;
        }
    }
    let summary = MatchSummary {
        matched_items: distinct.len(),
        matched_rows,
        rows_per_key: records
            .keys()
            .iter()
            .map(|k| k.label())
            .zip(rows_per_key)
            .collect(),
    };

    let name = |base: &str| {
        if records.header().iter().any(|h| h == base) {
            format!("blindmatch_{base}")
        } else {
            base.to_string()
        }
    };
    let mut header = records.header().to_vec();
    header.push(name("matched_values"));
    header.push(name("matched_keys"));
    header.extend(extra_header.iter().map(|h| name(h)));

    let mut csv = AtomicCsv::create(path, &header)?;
    let mut pending = by_row().peekable();
    let mut fields: Vec<String> = Vec::new();
    records.for_each_row(|index, row| {
        let Some(row_hits) = pending.next_if(|h| h[0].0 as usize == index) else {
            return Ok(());
        };
        // In (key, item) order, as sorted.
        let items: Vec<usize> = row_hits.iter().map(|h| h.2 as usize).collect();
        let mut values: Vec<std::borrow::Cow<'_, str>> =
            items.iter().filter_map(|&i| records.item_text(i)).collect();
        values.dedup();
        let mut keys: Vec<u32> = row_hits.iter().map(|h| h.1).collect();
        keys.dedup();
        fields.clear();
        fields.extend(row.fields().map(str::to_string));
        fields.push(values.join("; "));
        fields.push(
            keys.iter()
                .map(|&k| records.keys()[k as usize].label())
                .collect::<Vec<_>>()
                .join("; "),
        );
        if !extra_header.is_empty() {
            let values = items.iter().find_map(|i| extra.get(i));
            for c in 0..extra_header.len() {
                fields.push(values.and_then(|v| v.get(c)).cloned().unwrap_or_default());
            }
        }
        csv.write(&fields)
    })?;
    csv.finish()?;
    Ok(summary)
}

/// Writes the readable rows that did not match (none of their items is among `matched`, the
/// indices of matched items in [`Records::items`]) with the input's columns, in file order,
/// atomically; returns how many. Unreadable rows are in the rejects, not here.
///
/// # Errors
/// [`Error::Io`] if the file cannot be written; as [`Records::for_each_row`].
pub fn write_unmatched(path: &Path, records: &Records, matched: &[usize]) -> Result<usize> {
    let mut hit = vec![false; records.row_count()];
    for &i in matched {
        for o in records.origins(i) {
            if let Some(h) = hit.get_mut(o.row) {
                *h = true;
            }
        }
    }
    let count = hit.iter().filter(|h| !**h).count();
    let mut csv = AtomicCsv::create(path, records.header())?;
    records.for_each_row(|index, row| {
        if hit.get(index) == Some(&false) {
            csv.write(row.fields())?;
        }
        Ok(())
    })?;
    csv.finish()?;
    Ok(count)
}

/// Writes the rejects as CSV (`line,column,value,reason`), atomically.
///
/// # Errors
/// [`Error::Io`] if the file cannot be written.
pub fn write_rejects(path: &Path, rejects: &[Reject]) -> Result<()> {
    let header = ["line", "column", "value", "reason"].map(String::from);
    write_csv_atomically(
        path,
        &header,
        rejects.iter().map(|r| {
            vec![
                r.line.to_string(),
                r.column.clone(),
                r.value.clone(),
                r.reason.clone(),
            ]
        }),
    )
}
