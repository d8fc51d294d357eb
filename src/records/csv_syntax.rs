//! CSV syntax (RFC 4180, read leniently): splitting bytes into records of fields, with the
//! line each record starts on. Bytes only: decoding the text is [`super::encoding`]'s job.
//!
//! - Records end at `\n`, `\r\n` or a lone `\r`; each of these ends a line. Empty lines are
//!   skipped.
//! - A field that starts with `"` is quoted: it runs to the next `"` not doubled (`""` is one
//!   `"`), across line ends. Bytes after the closing quote and before the next delimiter are
//!   kept, as written (`"ab"c` reads `abc`), as is a `"` inside an unquoted field.
//! - A quote that is never closed is an error naming the line where it opened
//!   ([`UnterminatedQuote`]): everything after it would otherwise become one value.
//! - A UTF-8 byte-order mark at the start of the input is skipped.

/// A quoted field that is still open at the end of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnterminatedQuote {
    /// The line where the quote opened.
    pub line: u64,
    /// The line where its record starts.
    pub record_line: u64,
}

/// One record: its fields (quotes removed), back to back, and the line it starts on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Record {
    /// The line where the record starts (1-based).
    pub line: u64,
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Record {
    /// Number of fields.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Field `i`.
    pub fn field(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.bytes[start..self.ends[i]]
    }

    /// The fields in order.
    pub fn fields(&self) -> impl ExactSizeIterator<Item = &[u8]> + '_ {
        (0..self.len()).map(|i| self.field(i))
    }

    fn clear(&mut self) {
        self.bytes.clear();
        self.ends.clear();
    }
}

/// Reads records from bytes.
#[derive(Debug, Clone)]
pub struct Parser<'a> {
    bytes: &'a [u8],
    pos: usize,
    /// The line of `bytes[pos]`.
    line: u64,
    delimiter: u8,
}

impl<'a> Parser<'a> {
    /// A parser of `bytes` with fields separated by `delimiter` (which must not be `"`, `\r`
    /// or `\n`; the caller checks).
    #[cfg(test)]
    pub fn new(bytes: &'a [u8], delimiter: u8) -> Self {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        Parser {
            bytes,
            pos: 0,
            line: 1,
            delimiter,
        }
    }

    /// A parser of `bytes` that continue an input at `line`: no byte-order mark is looked for
    /// (the input's first window had it removed).
    pub fn resume(bytes: &'a [u8], line: u64, delimiter: u8) -> Self {
        Parser {
            bytes,
            pos: 0,
            line,
            delimiter,
        }
    }

    /// How many bytes of the input have been read.
    pub fn pos(&self) -> usize {
        self.pos
    }

    /// The line of the next byte to read.
    pub fn line(&self) -> u64 {
        self.line
    }

    /// Reads the next record into `record`; `Ok(false)` at the end of the input.
    ///
    /// # Errors
    /// [`UnterminatedQuote`] if a quoted field is not closed before the end of the input.
    pub fn next_record(&mut self, record: &mut Record) -> Result<bool, UnterminatedQuote> {
        record.clear();
        // Skip empty lines.
        while self.pos < self.bytes.len() && matches!(self.bytes[self.pos], b'\r' | b'\n') {
            self.line_end();
        }
        if self.pos >= self.bytes.len() {
            return Ok(false);
        }
        record.line = self.line;
        loop {
            self.field(record)?;
            record.ends.push(record.bytes.len());
            match self.bytes.get(self.pos) {
                Some(&b) if b == self.delimiter => self.pos += 1,
                Some(b'\r' | b'\n') => {
                    self.line_end();
                    return Ok(true);
                }
                // End of input.
                _ => return Ok(true),
            }
        }
    }

    /// Consumes one line end (`\n`, `\r\n` or `\r`) at `pos`.
    fn line_end(&mut self) {
        if self.bytes[self.pos] == b'\r' && self.bytes.get(self.pos + 1) == Some(&b'\n') {
            self.pos += 1;
        }
        self.pos += 1;
        self.line += 1;
    }

    /// Reads one field up to (not including) the delimiter or line end that ends it.
    fn field(&mut self, record: &mut Record) -> Result<(), UnterminatedQuote> {
        if self.bytes.get(self.pos) == Some(&b'"') {
            let opened = self.line;
            self.pos += 1;
            loop {
                let rest = &self.bytes[self.pos..];
                let Some(i) = rest.iter().position(|&b| matches!(b, b'"' | b'\r' | b'\n')) else {
                    return Err(UnterminatedQuote {
                        line: opened,
                        record_line: record.line,
                    });
                };
                record.bytes.extend_from_slice(&rest[..i]);
                self.pos += i;
                match self.bytes[self.pos] {
                    b'"' if self.bytes.get(self.pos + 1) == Some(&b'"') => {
                        record.bytes.push(b'"');
                        self.pos += 2;
                    }
                    b'"' => {
                        self.pos += 1;
                        break;
                    }
                    _ => {
                        // A line end inside the quotes is part of the value.
                        let start = self.pos;
                        self.line_end();
                        record.bytes.extend_from_slice(&self.bytes[start..self.pos]);
                    }
                }
            }
        }
        let rest = &self.bytes[self.pos..];
        let delimiter = self.delimiter;
        let i = rest
            .iter()
            .position(|&b| b == delimiter || b == b'\r' || b == b'\n')
            .unwrap_or(rest.len());
        record.bytes.extend_from_slice(&rest[..i]);
        self.pos += i;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(input: &[u8], delimiter: u8) -> Result<Vec<(u64, Vec<String>)>, UnterminatedQuote> {
        let mut p = Parser::new(input, delimiter);
        let mut r = Record::default();
        let mut out = Vec::new();
        while p.next_record(&mut r)? {
            out.push((
                r.line,
                r.fields()
                    .map(|f| String::from_utf8_lossy(f).into_owned())
                    .collect(),
            ));
        }
        Ok(out)
    }

    #[test]
    fn quoting_line_ends_and_lines() {
        let got = records(
            b"\xEF\xBB\xBFa,b\r\n\"x,\"\"y\"\"\",2\r\n\r\n\"multi\nline\",3\rlast,\"q\"z\n",
            b',',
        );
        assert_eq!(
            got,
            Ok(vec![
                (1, vec!["a".into(), "b".into()]),
                (2, vec!["x,\"y\"".into(), "2".into()]),
                (4, vec!["multi\nline".into(), "3".into()]),
                (6, vec!["last".into(), "qz".into()]),
            ])
        );
        assert_eq!(
            records(b"a;b\n1;\n", b';'),
            Ok(vec![
                (1, vec!["a".into(), "b".into()]),
                (2, vec!["1".into(), "".into()])
            ])
        );
    }

    #[test]
    fn an_unclosed_quote_names_the_line_it_opened_on() {
        let input = b"imo,name\n9321483,\"ACME\n9074729,B\n9187629,C\n9176187,D\n";
        assert_eq!(
            records(input, b','),
            Err(UnterminatedQuote {
                line: 2,
                record_line: 2
            })
        );
        assert_eq!(
            records(b"a,b\n1,\"x\ny\"\"\n", b','),
            Err(UnterminatedQuote {
                line: 2,
                record_line: 2
            })
        );
    }
}
