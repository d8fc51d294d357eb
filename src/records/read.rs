//! Reading an input into a header and rows, with line numbers; rows that cannot be read are
//! kept as [`Unreadable`] so the caller decides whether they are rejects or errors.

use std::collections::HashSet;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{excerpt, Error, InputError, InputReason, Result, Setting};

use super::csv_syntax::{Parser, Record, UnterminatedQuote};
use super::encoding::Encoding;
use super::rows::{Row, Rows};
use super::source::{self, Again};
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

/// Reads `path` (`-` for standard input; gzip is decompressed) as `options` say, whole: every
/// row in memory (for small inputs and tests; [`TableReader`] streams).
///
/// # Errors
/// As [`TableReader::open`] and [`TableReader::next_entry`].
pub fn read_table(path: &Path, options: &ReadOptions) -> Result<Table> {
    let mut reader = TableReader::open(path, options, None)?;
    let mut table = Table {
        header: reader.header().to_vec(),
        rows: Rows::new(reader.header().len()),
        unreadable: Vec::new(),
    };
    while let Some(entry) = reader.next_entry()? {
        match entry {
            Entry::Row(row) => table.rows.push_copy(row),
            Entry::Unreadable(u) => table.unreadable.push(u),
        }
    }
    table.rows.shrink_to_fit();
    Ok(table)
}

/// One entry of an input, in file order: a readable row, or a row that cannot be read.
#[derive(Debug)]
pub enum Entry<'a> {
    /// A row with as many fields as the header.
    Row(Row<'a>),
    /// A row that cannot be read.
    Unreadable(Unreadable),
}

/// An input read as it streams: its header, then one [`Entry`] at a time, holding one window
/// of the input (1 MiB, or the longest record if longer) and one row. The SHA-256 of the
/// (decompressed) bytes read is kept, so a second reading can tell the input did not change.
pub struct TableReader {
    name: String,
    options: ReadOptions,
    window: Window,
    header: Vec<String>,
    record: Record,
    /// The current row (one row at most).
    row: Rows,
    /// Without a header row, the first record is already in `record` and still to be given.
    pending_first_row: bool,
}

impl TableReader {
    /// Opens `path` (`-`: standard input, copied into `temp_dir` so it can be read again) and
    /// reads its header.
    ///
    /// # Errors
    /// [`Error::Io`] if the input cannot be read; [`Error::Input`] with
    /// [`InputReason::Header`] if a CSV header is missing or has an empty or duplicated column
    /// name, with [`InputReason::Encoding`] if the header is not valid in the encoding, with
    /// [`InputReason::UnterminatedQuote`] for a quote in it that is never closed.
    pub fn open(path: &Path, options: &ReadOptions, temp_dir: Option<&Path>) -> Result<Self> {
        let (bytes, again) = source::open(path, temp_dir)?;
        Self::over(bytes, source::display_name(path), options, again)
    }

    /// Reads the input again from where [`TableReader::again`] says.
    pub(crate) fn reopen(again: &Again, name: &str, options: &ReadOptions) -> Result<Self> {
        let bytes = source::reopen(again, name)?;
        Self::over(bytes, name.to_string(), options, again.clone())
    }

    fn over(
        bytes: Box<dyn Read + Send>,
        name: String,
        options: &ReadOptions,
        again: Again,
    ) -> Result<Self> {
        let mut reader = TableReader {
            window: Window::new(bytes, again),
            name,
            options: *options,
            header: Vec::new(),
            record: Record::default(),
            row: Rows::new(0),
            pending_first_row: false,
        };
        reader.window.fill_start().map_err(|e| reader.io(e))?;
        match options.format {
            InputFormat::Lines => reader.header = vec!["value".into()],
            InputFormat::Csv | InputFormat::Auto => {
                if !reader.next_record()? {
                    return Err(no_header(&reader.name, options));
                }
                if options.header {
                    reader.header = header(&reader.name, &reader.record, options.encoding)?;
                } else {
                    reader.header = (1..=reader.record.len()).map(|i| i.to_string()).collect();
                    reader.pending_first_row = true;
                }
            }
        }
        reader.row = Rows::new(reader.header.len());
        Ok(reader)
    }

    /// Column names (`1`, `2`, ... without a header row; `value` for plain text).
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// Where to read the input again, and the SHA-256 of what has been read so far (of all
    /// of it, once [`TableReader::next_entry`] gave `None`).
    pub(crate) fn again(&self) -> (&Again, [u8; 32]) {
        (
            &self.window.again,
            self.window.digest.clone().finalize().into(),
        )
    }

    /// The next row, or `None` at the end of the input.
    ///
    /// # Errors
    /// [`Error::Io`] if the input cannot be read; [`Error::Input`] with
    /// [`InputReason::UnterminatedQuote`] naming the line where a quote opens and is never
    /// closed.
    pub fn next_entry(&mut self) -> Result<Option<Entry<'_>>> {
        self.row.clear();
        if self.options.format == InputFormat::Lines {
            return self.next_line();
        }
        if self.pending_first_row {
            self.pending_first_row = false;
        } else if !self.next_record()? {
            return Ok(None);
        }
        let (record, options) = (&self.record, &self.options);
        if record.len() != self.header.len() {
            let text = record
                .fields()
                .map(|f| options.encoding.decode(f).0.into_owned())
                .collect::<Vec<_>>()
                .join(&char::from(options.delimiter).to_string());
            return Ok(Some(Entry::Unreadable(Unreadable {
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
                    self.header.len()
                ),
                kind: InputReason::Csv,
            })));
        }
        let decoded: Vec<_> = record
            .fields()
            .map(|f| options.encoding.decode(f))
            .collect();
        self.row
            .push(record.line, decoded.iter().map(|(text, _)| text.as_ref()));
        for (c, _) in decoded.iter().enumerate().filter(|(_, (_, bad))| *bad) {
            self.row.mark_unreadable(c);
        }
        Ok(self.row.get(0).map(Entry::Row))
    }

    /// The next non-blank line of a plain-text input.
    fn next_line(&mut self) -> Result<Option<Entry<'_>>> {
        loop {
            let name = &self.name;
            let next = self.window.next_line();
            let Some((line, bytes)) = next.map_err(|e| Error::io(format!("reading {name}"), e))?
            else {
                return Ok(None);
            };
            let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
            let (text, bad) = self.options.encoding.decode(bytes);
            if text.trim().is_empty() {
                continue;
            }
            self.row.push(line, [text.as_ref()]);
            if bad {
                self.row.mark_unreadable(0);
            }
            return Ok(self.row.get(0).map(Entry::Row));
        }
    }

    /// The next CSV record into `self.record`; `false` at the end of the input.
    fn next_record(&mut self) -> Result<bool> {
        let delimiter = self.options.delimiter;
        match self.window.next_record(delimiter, &mut self.record) {
            Ok(Ok(more)) => Ok(more),
            Ok(Err(q)) => Err(Error::Input(
                InputError::new(
                    InputReason::UnterminatedQuote,
                    format!(
                        "{}:{}: a quoted field opens here and is never closed, so the rest \
                         of the file would be one value; close the quote (a quote inside a \
                         quoted field is written twice: \"\")",
                        self.name, q.line
                    ),
                )
                .at_line(q.line),
            )),
            Err(e) => Err(self.io(e)),
        }
    }

    fn io(&self, e: std::io::Error) -> Error {
        Error::io(format!("reading {}", self.name), e)
    }
}

/// The window of the input being parsed: bytes read and not yet consumed, refilled a chunk at
/// a time. A record is taken only when it ends before the window does (or the input ends), so
/// a record is never cut at a chunk's edge.
struct Window {
    bytes: Box<dyn Read + Send>,
    again: Again,
    buf: Vec<u8>,
    /// The first byte not yet consumed.
    start: usize,
    /// The line of `buf[start]`.
    line: u64,
    eof: bool,
    digest: Sha256,
    chunk: usize,
}

/// How much is read at a time.
const CHUNK: usize = 1 << 20;

impl Window {
    fn new(bytes: Box<dyn Read + Send>, again: Again) -> Self {
        Window {
            bytes,
            again,
            buf: Vec::new(),
            start: 0,
            line: 1,
            eof: false,
            digest: Sha256::new(),
            chunk: CHUNK,
        }
    }

    /// Reads the first bytes and skips a UTF-8 byte-order mark.
    fn fill_start(&mut self) -> std::io::Result<()> {
        while self.buf.len() < 3 && !self.eof {
            self.refill()?;
        }
        if self.buf.starts_with(b"\xEF\xBB\xBF") {
            self.start = 3;
        }
        Ok(())
    }

    /// Drops the consumed bytes and reads at least one more chunk (as much again as the
    /// window holds, when a record is longer than a chunk), or marks the end of the input.
    fn refill(&mut self) -> std::io::Result<()> {
        self.buf.drain(..self.start);
        self.start = 0;
        let want = self.chunk.max(self.buf.len());
        let have = self.buf.len();
        self.buf.resize(have + want, 0);
        let mut got = 0;
        while got < want {
            match self.bytes.read(&mut self.buf[have + got..]) {
                Ok(0) => {
                    self.eof = true;
                    break;
                }
                Ok(n) => got += n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    self.buf.truncate(have + got);
                    return Err(e);
                }
            }
        }
        self.buf.truncate(have + got);
        self.digest.update(&self.buf[have..]);
        Ok(())
    }

    /// The next CSV record: the outer error is the input's, the inner a quote never closed.
    fn next_record(
        &mut self,
        delimiter: u8,
        record: &mut Record,
    ) -> std::io::Result<Result<bool, UnterminatedQuote>> {
        loop {
            let window = &self.buf[self.start..];
            let mut parser = Parser::resume(window, self.line, delimiter);
            let got = parser.next_record(record);
            if self.eof || (got == Ok(true) && parser.pos() < window.len()) {
                self.start += parser.pos();
                self.line = parser.line();
                return Ok(got);
            }
            self.refill()?;
        }
    }

    /// The next line of a plain-text input (`\n`-terminated, the terminator removed), with its
    /// number; `None` at the end of the input.
    fn next_line(&mut self) -> std::io::Result<Option<(u64, &[u8])>> {
        loop {
            let window = &self.buf[self.start..];
            if let Some(i) = window.iter().position(|&b| b == b'\n') {
                let at = self.start;
                self.start += i + 1;
                self.line += 1;
                return Ok(Some((self.line - 1, &self.buf[at..at + i])));
            }
            if self.eof {
                if window.is_empty() {
                    return Ok(None);
                }
                let at = self.start;
                self.start = self.buf.len();
                self.line += 1;
                return Ok(Some((self.line - 1, &self.buf[at..])));
            }
            self.refill()?;
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Records as (line, fields), ending with the quote never closed if there is one.
    type Parsed = Vec<Result<(u64, Vec<Vec<u8>>), UnterminatedQuote>>;

    /// Every record `next` gives.
    fn collect(mut next: impl FnMut(&mut Record) -> Result<bool, UnterminatedQuote>) -> Parsed {
        let mut record = Record::default();
        let mut out = Vec::new();
        loop {
            match next(&mut record) {
                Ok(true) => out.push(Ok((
                    record.line,
                    record.fields().map(<[u8]>::to_vec).collect(),
                ))),
                Ok(false) => return out,
                Err(q) => {
                    out.push(Err(q));
                    return out;
                }
            }
        }
    }

    /// The records of `bytes` read by the parser over the whole input at once.
    fn whole(bytes: &[u8]) -> Parsed {
        let mut parser = Parser::new(bytes, b',');
        collect(|record| parser.next_record(record))
    }

    /// The same, read through a [`Window`] refilled `chunk` bytes at a time.
    fn windowed(bytes: &[u8], chunk: usize) -> Parsed {
        let source = Box::new(std::io::Cursor::new(bytes.to_vec()));
        let mut window = Window::new(source, Again::File(std::path::PathBuf::new()));
        window.chunk = chunk;
        window.fill_start().expect("in memory");
        collect(|record| window.next_record(b',', record).expect("in memory"))
    }

    /// The case the property below once found: a byte-order mark read one byte at a time
    /// (the mark itself cut across chunks).
    #[test]
    fn a_byte_order_mark_cut_across_chunks_is_still_removed() {
        let bytes = b"\xEF\xBB\xBFaa";
        assert_eq!(windowed(bytes, 1), whole(bytes));
        assert_eq!(windowed(bytes, 2), whole(bytes));
    }

    proptest! {
        /// A record is never cut where a chunk ends: reading a chunk at a time gives the
        /// records (and lines, and errors) of reading the whole input, and the digest is the
        /// whole input's.
        #[test]
        fn chunks_do_not_change_the_records(
            body in proptest::collection::vec(
                prop::sample::select(vec![b'a', b'b', b',', b'"', b'\r', b'\n']), 0..80),
            bom in any::<bool>(),
            chunk in 1usize..9,
        ) {
            let mut bytes = if bom { b"\xEF\xBB\xBF".to_vec() } else { Vec::new() };
            bytes.extend_from_slice(&body);
            prop_assert_eq!(windowed(&bytes, chunk), whole(&bytes));
            let source = Box::new(std::io::Cursor::new(bytes.clone()));
            let mut window = Window::new(source, Again::File(std::path::PathBuf::new()));
            window.chunk = chunk;
            window.fill_start().expect("in memory");
            let mut lines = Vec::new();
            while let Some((n, line)) = window.next_line().expect("in memory") {
                lines.push((n, line.to_vec()));
            }
            let text = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
            let mut expected: Vec<(u64, Vec<u8>)> = text
                .split(|&b| b == b'\n')
                .enumerate()
                .map(|(i, l)| (i as u64 + 1, l.to_vec()))
                .collect();
            if expected.last().is_some_and(|(_, l)| l.is_empty()) {
                expected.pop();
            }
            prop_assert_eq!(lines, expected);
            let digest: [u8; 32] = window.digest.finalize().into();
            let full: [u8; 32] = Sha256::digest(&bytes).into();
            prop_assert_eq!(digest, full);
        }
    }
}
