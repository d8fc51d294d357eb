//! Property tests of the input reader: random quoting, delimiters, encodings and line ends.
//! Every field written is read back exactly, on the line it starts on; a quote left open is
//! reported on the line where it opened; arbitrary bytes never make the reader panic.

use std::path::Path;

use blindmatch::error::{InputError, InputReason};
use blindmatch::records::read::{read_table, ReadOptions};
use blindmatch::records::{Encoding, InputFormat};
use blindmatch::Error;
use proptest::prelude::*;

const DELIMITERS: &[u8] = b",;|\t";
const ENDINGS: &[&str] = &["\n", "\r\n", "\r"];

/// Field text: letters, the characters CSV gives a meaning to, and letters outside ASCII
/// that Latin-1 and Windows-1252 can write.
fn field() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![
            'a', 'Z', '7', ' ', ',', ';', '|', '\t', '"', '\r', '\n', 'é', 'ü', 'ß', 'Ø', '-',
        ]),
        0..8,
    )
    .prop_map(|c| c.into_iter().collect())
}

#[derive(Debug, Clone)]
struct Case {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
    /// Per field: quote it even when it needs no quotes.
    quote: Vec<bool>,
    /// Per record (header first): which line end follows it.
    endings: Vec<usize>,
    final_ending: bool,
    delimiter: u8,
    encoding: Encoding,
    bom: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (1usize..5, 0usize..12)
        .prop_flat_map(|(width, n)| {
            (
                prop::collection::vec(prop::collection::vec(field(), width), n),
                prop::collection::vec(any::<bool>(), width * (n + 1)),
                prop::collection::vec(0usize..ENDINGS.len(), n + 1),
                any::<bool>(),
                prop::sample::select(DELIMITERS.to_vec()),
                prop::sample::select(vec![
                    Encoding::Utf8,
                    Encoding::Latin1,
                    Encoding::Windows1252,
                ]),
                any::<bool>(),
                Just(width),
            )
        })
        .prop_map(
            |(rows, quote, endings, final_ending, delimiter, encoding, bom, width)| Case {
                header: (0..width).map(|i| format!("col{i}")).collect(),
                rows,
                quote,
                endings,
                final_ending,
                delimiter,
                encoding,
                bom: bom && encoding == Encoding::Utf8,
            },
        )
}

fn encode(text: &str, encoding: Encoding) -> Vec<u8> {
    match encoding {
        Encoding::Utf8 => text.as_bytes().to_vec(),
        // Every character of `field()` is in Latin-1, where Windows-1252 agrees with it.
        _ => text
            .chars()
            .map(|c| u8::try_from(u32::from(c)).expect("a Latin-1 character"))
            .collect(),
    }
}

/// The file's bytes and the line each data row starts on.
fn write(case: &Case) -> (Vec<u8>, Vec<u64>) {
    let mut out = Vec::new();
    if case.bom {
        out.extend_from_slice(b"\xEF\xBB\xBF");
    }
    let mut line = 1u64;
    let mut starts = Vec::new();
    let records = std::iter::once(&case.header).chain(&case.rows);
    let n = case.rows.len() + 1;
    for (r, record) in records.enumerate() {
        if r > 0 {
            starts.push(line);
        }
        for (c, f) in record.iter().enumerate() {
            if c > 0 {
                out.push(case.delimiter);
            }
            let needs = f.is_empty() && record.len() == 1
                || f.starts_with('"')
                || f.bytes()
                    .any(|b| b == case.delimiter || b == b'\r' || b == b'\n');
            if needs || case.quote[r * record.len() + c] {
                out.push(b'"');
                out.extend(encode(&f.replace('"', "\"\""), case.encoding));
                out.push(b'"');
            } else {
                out.extend(encode(f, case.encoding));
            }
            // Line ends inside the field count as lines.
            let mut chars = f.chars().peekable();
            while let Some(ch) = chars.next() {
                if ch == '\n' || (ch == '\r' && chars.peek() != Some(&'\n')) {
                    line += 1;
                }
            }
        }
        if r + 1 < n || case.final_ending {
            out.extend_from_slice(ENDINGS[case.endings[r]].as_bytes());
            line += 1;
        }
    }
    (out, starts)
}

fn read(
    dir: &Path,
    bytes: &[u8],
    options: &ReadOptions,
) -> blindmatch::Result<blindmatch::records::read::Table> {
    let path = dir.join("in.csv");
    std::fs::write(&path, bytes).expect("write");
    read_table(&path, options)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_field_is_read_back_on_its_line(case in case()) {
        let dir = tempfile::tempdir().expect("tempdir");
        let (bytes, starts) = write(&case);
        let options = ReadOptions {
            format: InputFormat::Csv,
            delimiter: case.delimiter,
            header: true,
            encoding: case.encoding,
        };
        let table = read(dir.path(), &bytes, &options).expect("a well-formed file reads");
        prop_assert_eq!(&table.header, &case.header);
        prop_assert!(table.unreadable.is_empty(), "{:?}", table.unreadable);
        let rows: Vec<Vec<String>> = table
            .rows
            .iter()
            .map(|r| r.fields().map(str::to_string).collect())
            .collect();
        prop_assert_eq!(&rows, &case.rows);
        let lines: Vec<u64> = table.rows.iter().map(|r| r.line()).collect();
        prop_assert_eq!(lines, starts);
        prop_assert!(table.rows.iter().all(|r| (0..case.header.len()).all(|c| !r.is_unreadable(c))));
    }

    #[test]
    fn an_open_quote_is_reported_on_its_line(
        rows in prop::collection::vec(prop::collection::vec("[a-z0-9 ]{0,5}", 3), 1..15),
        at in any::<prop::sample::Index>(),
        column in 0usize..3,
        crlf in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let end = if crlf { "\r\n" } else { "\n" };
        let r = at.index(rows.len());
        let mut text = format!("a,b,c{end}");
        for (i, row) in rows.iter().enumerate() {
            let mut row = row.clone();
            if i == r {
                row[column] = format!("\"{}", row[column]);
            }
            text.push_str(&row.join(","));
            text.push_str(end);
        }
        let options = ReadOptions {
            format: InputFormat::Csv,
            delimiter: b',',
            header: true,
            encoding: Encoding::Utf8,
        };
        match read(dir.path(), text.as_bytes(), &options) {
            Err(Error::Input(InputError { reason: InputReason::UnterminatedQuote, line, .. })) => {
                prop_assert_eq!(line, Some(r as u64 + 2));
            }
            other => prop_assert!(false, "expected an unterminated quote, got {:?}", other.map(|t| t.rows)),
        }
    }

    #[test]
    fn arbitrary_bytes_are_read_or_reported_never_a_panic(
        bytes in prop::collection::vec(
            prop::sample::select(b"ab,;\"\r\n\t \xFC\xC3\xA9".to_vec()), 0..200),
        delimiter in prop::sample::select(DELIMITERS.to_vec()),
        header in any::<bool>(),
    ) {
        let dir = tempfile::tempdir().expect("tempdir");
        let lines = 1 + bytes.iter().filter(|&&b| b == b'\n').count() as u64
            + bytes.windows(2).filter(|w| w[0] == b'\r' && w[1] != b'\n').count() as u64
            + u64::from(bytes.last() == Some(&b'\r'));
        let options = ReadOptions { format: InputFormat::Csv, delimiter, header, encoding: Encoding::Utf8 };
        match read(dir.path(), &bytes, &options) {
            Ok(table) => {
                // Rows and unreadable rows, on increasing lines within the file.
                let mut at: Vec<u64> = table.rows.iter().map(|r| r.line()).collect();
                at.extend(table.unreadable.iter().map(|u| u.line));
                at.sort_unstable();
                prop_assert!(at.windows(2).all(|w| w[0] < w[1]), "{:?}", at);
                prop_assert!(at.iter().all(|&l| l >= 1 && l <= lines), "{:?} of {}", at, lines);
                // Each field of a readable row is as many characters as its bytes allow.
                for r in table.rows.iter() {
                    prop_assert_eq!(r.fields().count(), table.header.len());
                }
            }
            Err(Error::Input(e)) => {
                prop_assert!(matches!(e.reason, InputReason::UnterminatedQuote | InputReason::Header | InputReason::Encoding), "{:?}", e);
                if let Some(l) = e.line {
                    prop_assert!(l >= 1 && l <= lines);
                }
            }
            Err(other) => prop_assert!(false, "{:?}", other),
        }
    }
}
