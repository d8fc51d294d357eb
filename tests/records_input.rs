//! Reading inputs without losing or misreading anything: unclosed quotes, huge values and
//! headers, invalid and legacy encodings, files without a header, other delimiters, gzip.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use blindmatch::error::{InputError, InputReason};
use blindmatch::protocol::{memory::run_dh_psi, Mode};
use blindmatch::records::{self, Delimiter, Encoding, InputSpec, KeySpec};
use blindmatch::Error;

fn file(dir: &Path, name: &str, body: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).expect("write");
    p
}

fn spec(path: &Path, keys: &[&str]) -> InputSpec {
    let keys: Vec<KeySpec> = keys.iter().map(|k| k.parse().expect("key")).collect();
    InputSpec::new(path, keys)
}

fn input_error(r: blindmatch::Result<records::Records>) -> InputError {
    match r {
        Err(Error::Input(e)) => e,
        other => panic!(
            "expected an input error, got {:?}",
            other.map(|r| r.summary().clone())
        ),
    }
}

#[test]
fn an_unterminated_quote_fails_naming_the_line_where_it_opened() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = file(
        dir.path(),
        "ships.csv",
        b"imo,name\n9074729,BRAVO\n9321483,\"ACME\n9187629,C\n9176187,D\n9074729,E\n",
    );
    let e = input_error(records::load(&spec(&p, &["imo:imo_ship"])));
    assert_eq!(e.reason, InputReason::UnterminatedQuote);
    assert_eq!(e.line, Some(3));
    assert_eq!(
        Error::Input(e).code(),
        "input.unterminated_quote",
        "the code names the reason"
    );

    // The same after a 10 MB quoted value: at once, and the message stays short.
    let mut body = b"imo,name\n9074729,BRAVO\n9321483,\"".to_vec();
    body.extend(std::iter::repeat_n(b'A', 10 << 20));
    body.extend_from_slice(b"\n9187629,C\n");
    let p = file(dir.path(), "big.csv", &body);
    let e = input_error(records::load(&spec(&p, &["imo:imo_ship"])));
    assert_eq!(
        (e.reason, e.line),
        (InputReason::UnterminatedQuote, Some(3))
    );
    assert!(e.detail.len() < 400, "{} bytes of message", e.detail.len());
}

#[test]
fn a_10_mb_value_is_rejected_and_shown_as_a_short_prefix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut body = b"id,imo\nA,9074729\nB,\"".to_vec();
    body.extend(std::iter::repeat_n(b'9', 10 << 20));
    body.extend_from_slice(b"\"\nC,9321483\n");
    let p = file(dir.path(), "big.csv", &body);
    let r = records::load(&spec(&p, &["imo:imo_ship"])).expect("loads");
    assert_eq!(r.summary().keys[0].accepted, 2);
    assert_eq!(r.rejects().len(), 1);
    let reject = &r.rejects()[0];
    assert_eq!((reject.line, reject.kind), (3, InputReason::TooLarge));
    assert_eq!(
        reject.value.len(),
        10 << 20,
        "the rejects file keeps the value"
    );
    assert!(
        reject.reason.len() < 300,
        "{} bytes of reason",
        reject.reason.len()
    );

    let mut strict = spec(&p, &["imo:imo_ship"]);
    strict.strict = true;
    let e = input_error(records::load(&strict));
    assert_eq!((e.reason, e.line), (InputReason::TooLarge, Some(3)));
    assert!(e.detail.len() < 600, "{} bytes of message", e.detail.len());
}

#[test]
fn a_100000_column_header_reads_in_linear_time() {
    let dir = tempfile::tempdir().expect("tempdir");
    let n = 100_000;
    let header: Vec<String> = (0..n).map(|i| format!("c{i}")).collect();
    let row: Vec<String> = (0..n)
        .map(|i| {
            if i == n - 1 {
                "9074729".into()
            } else {
                String::new()
            }
        })
        .collect();
    let body = format!("{}\n{}\n", header.join(","), row.join(","));
    let p = file(dir.path(), "wide.csv", body.as_bytes());
    let start = Instant::now();
    let r = records::load(&spec(&p, &[&format!("c{}:imo_ship", n - 1)])).expect("loads");
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(r.summary().keys[0].accepted, 1);
    // A key naming no column lists a few columns, not 100,000.
    match records::load(&spec(&p, &["nope:imo_ship"])) {
        Err(Error::Config(c)) => assert!(c.detail.len() < 1000, "{} bytes", c.detail.len()),
        other => panic!("{:?}", other.map(|r| r.summary().clone())),
    }
    // A duplicated name is found as fast.
    let body = format!("{},c5\n", header.join(","));
    let p = file(dir.path(), "dup.csv", body.as_bytes());
    let start = Instant::now();
    let e = input_error(records::load(&spec(&p, &["c1:imo_ship"])));
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(e.reason, InputReason::Header);
}

#[test]
fn an_invalid_byte_outside_the_keys_keeps_the_row() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A Latin-1 `Müller` in the name column, an invalid byte in one key cell.
    let p = file(
        dir.path(),
        "ships.csv",
        b"imo,owner\n9321483,M\xFCller\n90747\xFC9,Schmidt\n9187629,Meier\n",
    );
    let r = records::load(&spec(&p, &["imo:imo_ship"])).expect("loads");
    let s = &r.summary().keys[0];
    assert_eq!((s.accepted, s.rejected), (2, 1));
    assert_eq!(r.summary().unreadable_rows, 0);
    let rows = r.read_rows().expect("read again");
    assert_eq!((r.row_count(), rows.len()), (3, 3), "no row dropped");
    let row = rows.get(0).expect("row");
    assert_eq!(row.field(1), Some("M\u{FFFD}ller"));
    assert!(row.is_unreadable(1) && !row.is_unreadable(0));
    let reject = &r.rejects()[0];
    assert_eq!(
        (reject.line, reject.column.as_str(), reject.kind),
        (3, "imo", InputReason::Encoding)
    );

    // Read as Latin-1, nothing is unreadable.
    let mut latin = spec(&p, &["imo:imo_ship"]);
    latin.encoding = Encoding::Latin1;
    let r = records::load(&latin).expect("loads");
    let rows = r.read_rows().expect("read again");
    assert_eq!(rows.get(0).and_then(|row| row.field(1)), Some("Müller"));
    assert_eq!(
        r.rejects()[0].kind,
        InputReason::Value,
        "now a bad IMO number"
    );
}

/// The same people, one file exported in Latin-1 (or Windows-1252), the other in UTF-8.
const PEOPLE: &[(&str, &str)] = &[
    ("Müller, Jürgen", "1961-04-02"),
    ("Søren Kierkegård", "11.03.1957"),
    ("José Álvarez", "1970-12-31"),
    ("François Lefèvre", "1980-01-15"),
    ("Anna Smith", "1990-07-07"),
];

#[test]
fn a_latin1_export_matches_a_utf8_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut utf8 = String::from("name,dob\n");
    for (n, d) in PEOPLE {
        utf8.push_str(&format!("\"{n}\",{d}\n"));
    }
    utf8.push_str("Zoë Other,1950-01-01\n");
    let mut latin1 = b"name;dob\r\n".to_vec();
    for (n, d) in PEOPLE.iter().rev() {
        // Every character of these names is in Latin-1: one byte each.
        latin1.extend(
            n.chars()
                .map(|c| u8::try_from(u32::from(c)).expect("latin-1")),
        );
        latin1.extend_from_slice(format!(";{d}\r\n").as_bytes());
    }
    let a = file(dir.path(), "a.csv", utf8.as_bytes());
    let b = file(dir.path(), "b.csv", &latin1);
    let key = "name:person_name+dob:date_of_birth";
    let ours = records::load(&spec(&a, &[key])).expect("utf-8 file");
    let mut theirs = spec(&b, &[key]);
    theirs.delimiter = Some(delimiter(";"));
    for encoding in [Encoding::Latin1, Encoding::Windows1252] {
        theirs.encoding = encoding;
        let theirs = records::load(&theirs).expect("latin-1 file");
        assert!(theirs.rejects().is_empty(), "{:?}", theirs.rejects());
        let (mine, _) = run_dh_psi(Mode::Intersection, ours.item_set(), theirs.item_set(), None)
            .expect("session");
        let matched = mine.matches().expect("matches").len();
        assert_eq!(matched, PEOPLE.len(), "{encoding}");
    }
    // Read as UTF-8, the names with non-ASCII letters are rejected, not misread.
    theirs.encoding = Encoding::Utf8;
    let wrong = records::load(&theirs).expect("loads");
    assert_eq!(wrong.summary().keys[0].rejected, 4);
    assert!(wrong
        .rejects()
        .iter()
        .all(|r| r.kind == InputReason::Encoding && r.column == "name"));
}

fn delimiter(s: &str) -> Delimiter {
    s.parse().expect("delimiter")
}

#[test]
fn no_header_columns_by_number_delimiter_and_gzip() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The original SDN export has no header, and `-0-` in many columns.
    let body = b"4243,EBANO,vessel,CUBA,-0- ,-0- ,Cargo,2595,1865,Panama,-0- ,Vessel Registration Identification IMO 7406784.\n\
                 4244,OTHER,vessel,CUBA,-0- ,-0- ,Cargo,2595,1865,Panama,-0- ,Vessel Registration Identification IMO 9187629.\n";
    let p = file(dir.path(), "sdn.csv", body);
    let e = records::load(&spec(&p, &["12:imo_ship:extract"]));
    assert!(matches!(
        e,
        Err(Error::Input(InputError {
            reason: InputReason::Header,
            ..
        }))
    ));
    let mut s = spec(&p, &["12:imo_ship:extract"]);
    s.header = false;
    let r = records::load(&s).expect("loads");
    assert_eq!(r.header().len(), 12);
    let rows = r.read_rows().expect("read again");
    assert_eq!(rows.get(0).map(|row| row.line()), Some(1));
    assert_eq!(r.summary().unique_items, 2);

    // The same, `|`-separated and gzip-compressed.
    let piped: Vec<u8> = body
        .iter()
        .map(|&b| if b == b',' { b'|' } else { b })
        .collect();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, &piped).expect("compress");
    let p = file(dir.path(), "sdn.csv.gz", &gz.finish().expect("gzip"));
    let mut s = spec(&p, &["12:imo_ship:extract"]);
    s.header = false;
    s.delimiter = Some(delimiter("|"));
    let r2 = records::load(&s).expect("loads");
    assert_eq!(r2.items(), r.items());
}
