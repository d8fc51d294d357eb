//! Writing matched rows and rejects, atomically: the file appears complete or not at all.

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

/// Writes a CSV file atomically: rows go to a temporary file in the same directory, which is
/// renamed over `path` only once complete, so an aborted run leaves no partial file.
pub(crate) fn write_csv_atomically(
    path: &Path,
    header: &[String],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Result<()> {
    let ctx = |what: &str| format!("{what} {}", path.display());
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let tmp = tempfile::Builder::new()
        .prefix(".blindmatch-")
        .suffix(".partial")
        .tempfile_in(dir)
        .map_err(|e| Error::io(ctx("creating a temporary file next to"), e))?;
    {
        let mut w = csv::Writer::from_writer(std::io::BufWriter::new(tmp.as_file()));
        let csv_err = |e: csv::Error| Error::io(ctx("writing"), std::io::Error::other(e));
        w.write_record(header).map_err(csv_err)?;
        for r in rows {
            w.write_record(&r).map_err(csv_err)?;
        }
        let mut inner = w
            .into_inner()
            .map_err(|e| Error::io(ctx("writing"), std::io::Error::other(e.to_string())))?;
        inner.flush().map_err(|e| Error::io(ctx("writing"), e))?;
    }
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::io(ctx("syncing"), e))?;
    tmp.persist(path)
        .map_err(|e| Error::io(ctx("renaming the temporary file to"), e.error))?;
    Ok(())
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
    let indices = matched_items
        .iter()
        .map(|item| {
            records.index_of(item).ok_or_else(|| {
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
    // (row, key index, item index) of every match, in file order: flat, so that half a
    // 2^22-row file matching costs 24 bytes a match here and rows are written as they go.
    let mut hits: Vec<(usize, usize, usize)> = Vec::new();
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
        hits.extend(records.origins(i).iter().map(|o| (o.row, o.key, i)));
    }
    hits.sort_unstable();
    hits.dedup();
    let by_row = || hits.chunk_by(|a, b| a.0 == b.0);

    let mut rows_per_key = vec![0usize; records.keys().len()];
    let mut matched_rows = 0;
    for row_hits in by_row() {
        matched_rows += 1;
        let mut keys: Vec<usize> = row_hits.iter().map(|h| h.1).collect();
        keys.dedup();
        for k in keys {
            rows_per_key[k] += 1;
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

    let out_rows = by_row().map(|row_hits| {
        // In (key, item) order, as sorted.
        let items: Vec<usize> = row_hits.iter().map(|h| h.2).collect();
        let mut values: Vec<std::borrow::Cow<'_, str>> =
            items.iter().filter_map(|&i| records.item_text(i)).collect();
        values.dedup();
        let mut keys: Vec<usize> = row_hits.iter().map(|h| h.1).collect();
        keys.dedup();
        let mut fields: Vec<String> = records
            .rows()
            .get(row_hits[0].0)
            .map(|r| r.fields().map(str::to_string).collect())
            .unwrap_or_default();
        fields.push(values.join("; "));
        fields.push(
            keys.iter()
                .map(|&k| records.keys()[k].label())
                .collect::<Vec<_>>()
                .join("; "),
        );
        if !extra_header.is_empty() {
            let values = items.iter().find_map(|i| extra.get(i));
            for c in 0..extra_header.len() {
                fields.push(values.and_then(|v| v.get(c)).cloned().unwrap_or_default());
            }
        }
        fields
    });
    write_csv_atomically(path, &header, out_rows)?;
    Ok(summary)
}

/// Writes the readable rows that did not match (none of their items is among `matched`, the
/// indices of matched items in [`Records::items`]) with the input's columns, in file order,
/// atomically; returns how many. Unreadable rows are in the rejects, not here.
///
/// # Errors
/// [`Error::Io`] if the file cannot be written.
pub fn write_unmatched(path: &Path, records: &Records, matched: &[usize]) -> Result<usize> {
    let mut hit = vec![false; records.rows().len()];
    for &i in matched {
        for o in records.origins(i) {
            if let Some(h) = hit.get_mut(o.row) {
                *h = true;
            }
        }
    }
    let count = hit.iter().filter(|h| !**h).count();
    let rows = records
        .rows()
        .iter()
        .zip(&hit)
        .filter(|(_, h)| !**h)
        .map(|(r, _)| r.fields().map(str::to_string).collect::<Vec<_>>());
    write_csv_atomically(path, records.header(), rows)?;
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
