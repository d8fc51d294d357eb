//! Reading a file into a header and rows, with line numbers; rows that cannot be read are
//! kept as [`Unreadable`] so the caller decides whether they are rejects or errors.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use crate::error::{Error, InputReason, Result};

use super::rows::Rows;
use super::InputFormat;

/// A row that could not be read (wrong number of fields, invalid UTF-8, broken quoting).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unreadable {
    /// Line number where the row starts.
    pub line: u64,
    /// What was read of it, lossily decoded.
    pub text: String,
    /// Why it cannot be used.
    pub reason: String,
    /// What kind of problem it is: [`InputReason::Csv`] (field count, quoting) or
    /// [`InputReason::Encoding`] (not UTF-8).
    pub kind: InputReason,
}

/// A file's header, readable rows and unreadable rows, in file order.
#[derive(Debug, Clone, Default)]
pub struct Table {
    /// Column names.
    pub header: Vec<String>,
    /// Readable rows.
    pub rows: Rows,
    /// Unreadable rows.
    pub unreadable: Vec<Unreadable>,
}

/// Reads `path` as `format` (which must not be [`InputFormat::Auto`]; resolve it first).
///
/// # Errors
/// [`Error::Io`] if the file cannot be opened or read; [`Error::Input`] with
/// [`InputReason::Header`] if a CSV file has no header or an empty or duplicated column name,
/// with [`InputReason::Encoding`] if its header is not UTF-8.
pub fn read_table(path: &Path, format: InputFormat) -> Result<Table> {
    let file = File::open(path).map_err(|e| Error::io(format!("opening {}", path.display()), e))?;
    match format {
        InputFormat::Lines => read_lines(path, BufReader::new(file)),
        InputFormat::Csv | InputFormat::Auto => {
            let tsv = path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut BufReader::new(file), &mut bytes)
                .map_err(|e| Error::io(format!("reading {}", path.display()), e))?;
            read_csv(path, &bytes, if tsv { b'\t' } else { b',' })
        }
    }
}

fn read_lines(path: &Path, reader: impl BufRead) -> Result<Table> {
    let mut table = Table {
        header: vec!["value".into()],
        rows: Rows::new(1),
        unreadable: Vec::new(),
    };
    for (i, line) in reader.split(b'\n').enumerate() {
        let line_no = i as u64 + 1;
        let bytes =
            line.map_err(|e| Error::io(format!("reading {} line {line_no}", path.display()), e))?;
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(&bytes);
        let bytes = if line_no == 1 {
            bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
        } else {
            bytes
        };
        match std::str::from_utf8(bytes) {
            Ok(s) if s.trim().is_empty() => {}
            Ok(s) => table.rows.push(line_no, [s]),
            Err(e) => table.unreadable.push(Unreadable {
                line: line_no,
                text: String::from_utf8_lossy(bytes).into_owned(),
                reason: format!("not valid UTF-8 ({e})"),
                kind: InputReason::Encoding,
            }),
        }
    }
    table.rows.shrink_to_fit();
    Ok(table)
}

/// Line numbers from byte offsets: csv's own line counter lags behind on CRLF files, so lines
/// are counted here from the bytes.
struct LineCounter<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: u64,
}

impl LineCounter<'_> {
    /// The 1-based line of the record the reader is about to read from byte `offset`
    /// (offsets must not decrease).
    fn line_at(&mut self, offset: u64) -> u64 {
        let mut offset = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        // After a CRLF terminator csv stops between `\r` and `\n`, and it skips blank lines:
        // the record starts at the next byte that ends no line.
        while offset < self.bytes.len() && matches!(self.bytes[offset], b'\r' | b'\n') {
            offset += 1;
        }
        if offset > self.offset {
            self.line += self.bytes[self.offset..offset]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            self.offset = offset;
        }
        self.line
    }
}

fn read_csv(path: &Path, bytes: &[u8], delimiter: u8) -> Result<Table> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(true)
        .flexible(true)
        .from_reader(bytes);
    let mut lines = LineCounter {
        bytes,
        offset: 0,
        line: 1,
    };
    let header = reader
        .headers()
        .map_err(|e| {
            let reason = match e.kind() {
                csv::ErrorKind::Utf8 { .. } => InputReason::Encoding,
                _ => InputReason::Header,
            };
            Error::input(
                reason,
                format!("{}:1: cannot read the header: {e}", path.display()),
            )
        })?
        .iter()
        .map(|h| h.trim().to_string())
        .collect::<Vec<_>>();
    if header.is_empty() || header.iter().all(String::is_empty) {
        return Err(Error::input(
            InputReason::Header,
            format!(
                "{}:1: the file has no header row; a CSV input starts with column names",
                path.display()
            ),
        ));
    }
    for (i, h) in header.iter().enumerate() {
        if h.is_empty() {
            return Err(Error::input(
                InputReason::Header,
                format!("{}:1: column {} has no name", path.display(), i + 1),
            ));
        }
        if header[..i].contains(h) {
            return Err(Error::input(
                InputReason::Header,
                format!("{}:1: column `{h}` appears twice", path.display()),
            ));
        }
    }
    let mut table = Table {
        rows: Rows::new(header.len()),
        header,
        unreadable: Vec::new(),
    };
    let mut record = csv::ByteRecord::new();
    loop {
        // The reader's position before a record is where the record starts.
        let line = lines.line_at(reader.position().byte());
        match reader.read_byte_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let text = || {
                    record
                        .iter()
                        .map(|f| String::from_utf8_lossy(f).into_owned())
                        .collect::<Vec<_>>()
                        .join(",")
                };
                if record.len() != table.header.len() {
                    table.unreadable.push(Unreadable {
                        line,
                        text: text(),
                        reason: format!(
                            "{} fields, but the header has {} columns",
                            record.len(),
                            table.header.len()
                        ),
                        kind: InputReason::Csv,
                    });
                    continue;
                }
                let fields: std::result::Result<Vec<&str>, _> =
                    record.iter().map(std::str::from_utf8).collect();
                match fields {
                    Ok(fields) => table.rows.push(line, fields),
                    Err(e) => table.unreadable.push(Unreadable {
                        line,
                        text: text(),
                        reason: format!("not valid UTF-8 ({e})"),
                        kind: InputReason::Encoding,
                    }),
                }
            }
            Err(e) => {
                if let csv::ErrorKind::Io(_) = e.kind() {
                    // The file was read into memory first: reading from bytes does not fail.
                    return Err(Error::internal(format!("{}:{line}: {e}", path.display())));
                }
                table.unreadable.push(Unreadable {
                    line,
                    text: String::new(),
                    reason: e.to_string(),
                    kind: InputReason::Csv,
                });
            }
        }
    }
    table.rows.shrink_to_fit();
    Ok(table)
}
