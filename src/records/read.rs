//! Reading an input into a header and rows, with line numbers; rows that cannot be read are
//! kept as [`Unreadable`] so the caller decides whether they are rejects or errors.

use std::collections::HashSet;
use std::path::Path;

use crate::error::{excerpt, Error, InputError, InputReason, Result, Setting};

use super::csv_syntax::{Parser, Record};
use super::encoding::Encoding;
use super::rows::Rows;
use super::source;
use super::InputFormat;

/// A row that could not be read (a number of fields other than the header's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// Line number where the row starts.
    pub line: u64,
    /// What was read of it, its fields joined by the delimiter.
    pub text: String,
    /// Why it cannot be used.
    pub reason: String,
    /// What kind of problem it is ([`InputReason::Csv`]).
    pub kind: InputReason,
}

/// A file's header, readable rows and unreadable rows, in file order.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Column names (`1`, `2`, ... without a header row).
    pub header: Vec<String>,
    /// Readable rows.
    pub rows: Rows,
    /// Unreadable rows.
    pub unreadable: Vec<Unreadable>,
}

/// How to read an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadOptions {
    /// The layout ([`InputFormat::Auto`] is read as CSV; resolve it first).
    pub format: InputFormat,
    /// The CSV field delimiter.
    pub delimiter: u8,
    /// The first CSV record names the columns; without one the columns are `1`, `2`, ...
    pub header: bool,
    /// The text encoding.
    pub encoding: Encoding,
}

/// Reads `path` (`-` for standard input; gzip is decompressed) as `options` say.
///
/// # Errors
/// [`Error::Io`] if the input cannot be read; [`Error::Input`] with
/// [`InputReason::UnterminatedQuote`] naming the line where a quote opens and is never closed,
/// with [`InputReason::Header`] if a CSV header is missing or has an empty or duplicated column
/// name, with [`InputReason::Encoding`] if the header is not valid in the encoding.
pub fn read_table(path: &Path, options: &ReadOptions) -> Result<Table> {
    let bytes = source::read_all(path)?;
    let name = source::display_name(path);
    match options.format {
        InputFormat::Lines => Ok(read_lines(&bytes, options.encoding)),
        InputFormat::Csv | InputFormat::Auto => read_csv(&name, &bytes, options),
    }
}

fn read_lines(bytes: &[u8], encoding: Encoding) -> Table {
    let mut table = Table {
        header: vec!["value".into()],
        rows: Rows::new(1),
        unreadable: Vec::new(),
    };
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    for (i, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let (text, bad) = encoding.decode(line);
        if text.trim().is_empty() {
            continue;
        }
        table.rows.push(i as u64 + 1, [text.as_ref()]);
        if bad {
            table.rows.mark_unreadable(0);
        }
    }
    table.rows.shrink_to_fit();
    table
}

fn read_csv(name: &str, bytes: &[u8], options: &ReadOptions) -> Result<Table> {
    let mut parser = Parser::new(bytes, options.delimiter);
    let mut record = Record::default();
    let mut next = |record: &mut Record| {
        parser.next_record(record).map_err(|q| {
            Error::Input(
                InputError::new(
                    InputReason::UnterminatedQuote,
                    format!(
                        "{name}:{}: a quoted field opens here and is never closed, so the rest \
                         of the file would be one value; close the quote (a quote inside a \
                         quoted field is written twice: \"\")",
                        q.line
                    ),
                )
                .at_line(q.line),
            )
        })
    };
    let mut table = Table::default();
    let first = next(&mut record)?;
    if !first {
        return Err(no_header(name, options));
    }
    let mut pending_first_row = false;
    if options.header {
        table.header = header(name, &record, options.encoding)?;
    } else {
        table.header = (1..=record.len()).map(|i| i.to_string()).collect();
        pending_first_row = true;
    }
    table.rows = Rows::new(table.header.len());
    loop {
        if pending_first_row {
            pending_first_row = false;
        } else if !next(&mut record)? {
            break;
        }
        if record.len() != table.header.len() {
            let text = record
                .fields()
                .map(|f| options.encoding.decode(f).0.into_owned())
                .collect::<Vec<_>>()
                .join(&char::from(options.delimiter).to_string());
            table.unreadable.push(Unreadable {
                line: record.line,
                text,
                reason: format!(
                    "{} fields, but the {} has {} columns",
                    record.len(),
                    if options.header {
                        "header"
                    } else {
                        "first row"
                    },
                    table.header.len()
                ),
                kind: InputReason::Csv,
            });
            continue;
        }
        let decoded: Vec<_> = record
            .fields()
            .map(|f| options.encoding.decode(f))
            .collect();
        table
            .rows
            .push(record.line, decoded.iter().map(|(text, _)| text.as_ref()));
        for (c, _) in decoded.iter().enumerate().filter(|(_, (_, bad))| *bad) {
            table.rows.mark_unreadable(c);
        }
    }
    table.rows.shrink_to_fit();
    Ok(table)
}

/// An input error at `line` of the file that `setting` would change (the front end names
/// the setting its own way).
fn at_about(setting: Setting, reason: InputReason, line: u64, detail: String) -> Error {
    Error::Input(InputError::new(reason, detail).at_line(line).about(setting))
}

/// An input error at `line` of the file.
fn at(reason: InputReason, line: u64, detail: String) -> Error {
    Error::Input(InputError::new(reason, detail).at_line(line))
}

fn no_header(name: &str, options: &ReadOptions) -> Error {
    let what = if options.header {
        "the file has no header row; a CSV input starts with column names (or read it with \
         `header` off)"
    } else {
        "the file is empty"
    };
    if options.header {
        at_about(
            Setting::Header,
            InputReason::Header,
            1,
            format!("{name}:1: {what}"),
        )
    } else {
        at(InputReason::Header, 1, format!("{name}:1: {what}"))
    }
}

/// The column names of the header record: trimmed, non-empty, distinct (checked in linear
/// time: a header may have 100,000 columns).
fn header(name: &str, record: &Record, encoding: Encoding) -> Result<Vec<String>> {
    let line = record.line;
    let mut names = Vec::with_capacity(record.len());
    for (i, f) in record.fields().enumerate() {
        let (text, invalid) = encoding.decode(f);
        if invalid {
            return Err(at_about(
                Setting::Encoding,
                InputReason::Encoding,
                line,
                format!(
                    "{name}:{line}: the name of column {} is not valid UTF-8 (`{}`); set \
                     the input's `encoding` (latin1, windows-1252)",
                    i + 1,
                    excerpt(&text)
                ),
            ));
        }
        names.push(text.trim().to_string());
    }
    if names.iter().all(String::is_empty) {
        return Err(at_about(
            Setting::Header,
            InputReason::Header,
            line,
            format!(
                "{name}:{line}: the file has no header row; a CSV input starts with column \
                 names (or read it with `header` off)"
            ),
        ));
    }
    let mut seen = HashSet::with_capacity(names.len());
    for (i, h) in names.iter().enumerate() {
        if h.is_empty() {
            return Err(at(
                InputReason::Header,
                line,
                format!("{name}:{line}: column {} has no name", i + 1),
            ));
        }
        if !seen.insert(h.as_str()) {
            return Err(at_about(
                Setting::Header,
                InputReason::Header,
                line,
                format!(
                    "{name}:{line}: column `{}` appears twice (a file without a header row \
                     is read with `header` off)",
                    excerpt(h)
                ),
            ));
        }
    }
    Ok(names)
}
