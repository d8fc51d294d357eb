//! Loading records: keys, composite keys, several keys per record, rejects with line numbers,
//! strict mode, plain-text input, and writing matches atomically.

use std::path::{Path, PathBuf};

use blindmatch::error::{ConfigError, ConfigReason, InputError, InputReason, Setting};
use blindmatch::identifiers::IdentifierKind;
use blindmatch::records::{self, InputFormat, InputSpec, Records};
use blindmatch::Error;

fn file(dir: &Path, name: &str, body: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, body).expect("write");
    p
}

fn spec(path: &Path, keys: &[&str]) -> InputSpec {
    InputSpec::new(path, keys.iter().map(|k| k.parse().expect("key")).collect())
}

fn item(kind: IdentifierKind, v: &str) -> Vec<u8> {
    kind.parse(v).expect("valid").to_item()
}

const SHIPMENTS: &[u8] = b"id,container,imo,note\r\n\
1,msc u 123456-6,IMO 9187629,first\r\n\
2,MSCU1234567,9187629,bad check digit\r\n\
3,,9074729,no container\r\n\
4,MSCU 123456 6,,duplicate container\r\n\
5,CSQU3054383,9074728,bad imo\r\n\
6,too,many,fields,here\r\n\
7,CSQU3054383,9074729,\"quoted, note\"\r\n";

#[test]
fn rejects_carry_line_column_value_and_reason_and_summary_counts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = file(dir.path(), "shipments.csv", SHIPMENTS);
    let r = records::load(&spec(&p, &["container:container", "imo:imo_ship"])).expect("load");
    assert_eq!(r.header(), ["id", "container", "imo", "note"]);
    let rows = r.read_rows().expect("read again");
    assert_eq!(rows.len(), 6);
    assert_eq!(
        rows.get(5).and_then(|row| row.field(3)),
        Some("quoted, note")
    );
    let rejects: Vec<(u64, &str, &str)> = r
        .rejects()
        .iter()
        .map(|x| (x.line, x.column.as_str(), x.value.as_str()))
        .collect();
    assert_eq!(
        rejects,
        [
            (3, "container", "MSCU1234567"),
            (6, "imo", "9074728"),
            (7, "", "6,too,many,fields,here")
        ]
    );
    assert!(
        r.rejects()[0]
            .reason
            .contains("check digit is 7, expected 6"),
        "{}",
        r.rejects()[0].reason
    );
    assert!(r.rejects()[2].reason.contains("5 fields"));
    let s = r.summary();
    assert_eq!((s.rows, s.unreadable_rows, s.unique_items), (7, 1, 4));
    let c = &s.keys[0];
    assert_eq!(
        (c.accepted, c.rejected, c.duplicates, c.empty),
        (4, 1, 2, 1)
    );
    let i = &s.keys[1];
    assert_eq!(
        (i.accepted, i.rejected, i.duplicates, i.empty),
        (4, 1, 2, 1)
    );
    assert_eq!(s.rejected(), 3);
    let by_kind = s.by_kind(r.keys());
    assert_eq!(
        by_kind
            .iter()
            .map(|k| (k.key.as_str(), k.accepted))
            .collect::<Vec<_>>(),
        [("container", 4), ("imo_ship", 4)]
    );
    // Item 0 (MSCU1234566) came from rows 0 and 2 (lines 2 and 5) on key 0.
    let msc = r
        .index_of(&item(IdentifierKind::Container, "MSCU1234566"))
        .expect("item");
    let lines: Vec<u64> = r
        .origins(msc)
        .map(|o| rows.get(o.row).expect("row").line())
        .collect();
    assert_eq!(lines, [2, 5]);
    assert_eq!(r.item_text(msc).as_deref(), Some("MSCU1234566"));

    // The rejects file is what the caller needs to fix the input.
    let out = dir.path().join("rejects.csv");
    records::write_rejects(&out, r.rejects()).expect("write");
    let text = std::fs::read_to_string(&out).expect("read");
    assert!(
        text.starts_with("line,column,value,reason\n3,container,MSCU1234567,"),
        "{text}"
    );
}

#[test]
fn strict_fails_on_the_first_invalid_value_naming_where() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = file(dir.path(), "shipments.csv", SHIPMENTS);
    let mut s = spec(&p, &["container:container"]);
    s.strict = true;
    match records::load(&s) {
        Err(Error::Input(InputError {
            reason: InputReason::Value,
            detail: m,
            line,
            setting,
            ..
        })) => {
            assert_eq!(setting, Some(Setting::Strict));
            assert_eq!(line, Some(3));
            assert!(m.contains("shipments.csv:3:"), "{m}");
            assert!(
                m.contains("`container`") && m.contains("MSCU1234567"),
                "{m}"
            );
        }
        other => panic!("expected an input error, got {other:?}"),
    }
    // Unreadable rows too.
    let mut s = spec(&p, &["id"]);
    s.strict = true;
    assert!(matches!(
        records::load(&s),
        Err(Error::Input(InputError {
            reason: InputReason::Csv,
            line: Some(7),
            ..
        }))
    ));
}

#[test]
fn composite_and_several_keys_and_write_matches() {
    let dir = tempfile::tempdir().expect("tempdir");
    let body = "name,dob,passport,matched_values\n\
Müller; Hans,11 Mar 1957,C01X00T47,a\n\
Hans Muller,1957-03-12,X1,b\n\
\"MULLER, Hans\",,C01X00T47,c\n\
Anna Schmidt,02.01.1980,,d\n";
    let p = file(dir.path(), "people.csv", body.as_bytes());
    let r = records::load(&spec(
        &p,
        &["name:person_name+dob:date_of_birth", "passport:passport"],
    ))
    .expect("load");
    assert_eq!(r.summary().keys[0].empty, 1);
    assert_eq!(r.summary().keys[1].empty, 1);
    let hans = IdentifierKind::PersonName
        .parse("hans muller")
        .expect("name");
    let dob = IdentifierKind::DateOfBirth
        .parse("1957-03-11")
        .expect("dob");
    let composite = blindmatch::identifiers::encode_item(&[hans.clone(), dob]);
    assert!(r.index_of(&composite).is_some());
    // A name alone or a date alone is not the composite item.
    assert!(r.index_of(&hans.to_item()).is_none());
    let pass = item(IdentifierKind::Passport, "C01X00T47");
    let out = dir.path().join("matches.csv");
    let m = records::write_matches(&out, &r, &[composite.clone(), pass.clone()]).expect("write");
    assert_eq!((m.matched_items, m.matched_rows), (2, 2));
    assert_eq!(
        m.rows_per_key,
        [
            ("name:person_name+dob:date_of_birth".to_string(), 1),
            ("passport:passport".to_string(), 2)
        ]
    );
    let text = std::fs::read_to_string(&out).expect("read");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "name,dob,passport,matched_values,blindmatch_matched_values,matched_keys"
    );
    assert_eq!(
        lines[1],
        "Müller; Hans,11 Mar 1957,C01X00T47,a,HANS MULLER + 1957-03-11; C01X00T47,name:person_name+dob:date_of_birth; passport:passport"
    );
    assert_eq!(
        lines[2],
        "\"MULLER, Hans\",,C01X00T47,c,C01X00T47,passport:passport"
    );
    assert_eq!(lines.len(), 3);
}

#[test]
fn write_matches_is_atomic_and_refuses_foreign_items() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = file(
        dir.path(),
        "list.txt",
        b"\xEF\xBB\xBFalpha\r\n\r\nbeta\n  gamma  \nalpha\n",
    );
    let r: Records = records::load(&InputSpec::new(&p, vec![])).expect("load");
    assert_eq!(r.items().len(), 3);
    assert_eq!(r.summary().keys[0].duplicates, 1);
    assert_eq!(
        r.read_rows()
            .expect("read again")
            .iter()
            .map(|x| x.line())
            .collect::<Vec<_>>(),
        [1, 3, 4, 5]
    );
    let out = dir.path().join("out.csv");
    std::fs::write(&out, "previous complete result\n").expect("write");
    let foreign = item(IdentifierKind::Raw, "delta");
    assert!(matches!(
        records::write_matches(&out, &r, &[foreign]),
        Err(Error::Input(InputError {
            reason: InputReason::Argument,
            ..
        }))
    ));
    assert_eq!(
        std::fs::read_to_string(&out).expect("read"),
        "previous complete result\n"
    );
    assert!(matches!(
        records::write_matches_by_index(&out, &r, &[7]),
        Err(Error::Input(InputError {
            reason: InputReason::Argument,
            ..
        }))
    ));
    let gamma = item(IdentifierKind::Raw, "gamma");
    records::write_matches(&out, &r, &[gamma]).expect("write");
    assert_eq!(
        std::fs::read_to_string(&out).expect("read"),
        "value,matched_values,matched_keys\n  gamma  ,gamma,value:raw\n"
    );
    // No temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .expect("dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
}

#[test]
fn configuration_errors_say_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let p = file(dir.path(), "s.csv", SHIPMENTS);
    assert!(
        matches!(records::load(&spec(&p, &["cont:container"])), Err(Error::Config(ConfigError { reason: ConfigReason::Keys, setting: Some(Setting::Keys), detail: m, .. })) if m.contains("id, container, imo, note"))
    );
    assert!(matches!(
        records::load(&spec(&p, &[])),
        Err(Error::Config(ConfigError {
            reason: ConfigReason::Keys,
            setting: Some(Setting::Keys),
            ..
        }))
    ));
    let mut s = spec(&p, &[]);
    s.column = Some("id".into());
    assert_eq!(records::load(&s).map(|r| r.items().len()).ok(), Some(6));
    s.format = InputFormat::Lines;
    assert_eq!(
        records::load(&s).err().map(|e| matches!(
            e,
            Error::Config(ConfigError {
                reason: ConfigReason::Keys,
                ..
            })
        )),
        Some(true)
    );
    let bad_utf8 = file(dir.path(), "b.csv", b"a,b\n1,\xff\n2,ok\n");
    let r = records::load(&spec(&bad_utf8, &["b"])).expect("load");
    assert_eq!(r.rejects().len(), 1);
    assert_eq!(r.rejects()[0].line, 2);
    assert!(r.rejects()[0].reason.contains("UTF-8"));
    let no_header = file(dir.path(), "e.csv", b"");
    assert!(matches!(
        records::load(&spec(&no_header, &["a"])),
        Err(Error::Input(InputError {
            reason: InputReason::Header,
            ..
        }))
    ));
}

#[test]
fn format_follows_the_extension() {
    let dir = tempfile::tempdir().expect("tempdir");
    let csv_body = b"imo,name\n9187629,A\n";
    let plain = file(dir.path(), "vessels", csv_body);
    // Without a .csv extension the file is one value per line: a CSV key fails loudly.
    assert!(
        matches!(records::load(&spec(&plain, &["imo:imo_ship"])), Err(Error::Config(ConfigError { reason: ConfigReason::Keys, detail: m, .. })) if m.contains("value"))
    );
    let r = records::load(&InputSpec::new(&plain, vec![])).expect("lines");
    assert_eq!(r.items().len(), 2);
    let mut s = spec(&plain, &["imo:imo_ship"]);
    s.format = InputFormat::Csv;
    assert_eq!(records::load(&s).map(|r| r.items().len()).ok(), Some(1));
    let tsv = file(dir.path(), "v.tsv", b"imo\tname\n9187629\tA\n");
    assert_eq!(
        records::load(&spec(&tsv, &["imo:imo_ship"]))
            .map(|r| r.items().len())
            .ok(),
        Some(1)
    );
}

/// Each error a setting of the input would change says which setting (typed), so a front end
/// names its own control for it; errors no setting would change carry none.
#[test]
fn errors_name_the_setting_that_would_change_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let setting = |r: blindmatch::Result<Records>| r.expect_err("refused").setting();

    // A header row of empty names: the file has none.
    let p = file(dir.path(), "noheader.csv", b",\nIMO9187629,x\n");
    assert_eq!(
        setting(records::load(&spec(&p, &["1:imo_ship"]))),
        Some(Setting::Header)
    );
    // A column name twice: a file without a header row read as if it had one.
    let p = file(dir.path(), "twice.csv", b"IMO9187629,IMO9187629\n");
    assert_eq!(
        setting(records::load(&spec(&p, &["IMO9187629:imo_ship"]))),
        Some(Setting::Header)
    );
    // A column name that is not UTF-8: the encoding.
    let p = file(dir.path(), "latin1.csv", b"imo,n\xe9\nIMO9187629,x\n");
    assert_eq!(
        setting(records::load(&spec(&p, &["imo:imo_ship"]))),
        Some(Setting::Encoding)
    );
    // Read as lines, a key naming a CSV column: the format.
    let p = file(dir.path(), "list.txt", b"imo,name\nIMO9187629,x\n");
    let mut s = spec(&p, &["imo:imo_ship"]);
    s.format = InputFormat::Lines;
    assert_eq!(setting(records::load(&s)), Some(Setting::Format));
    // An invalid value under `strict`.
    let p = file(dir.path(), "bad.csv", b"imo\nIMO9187628\n");
    let mut s = spec(&p, &["imo:imo_ship"]);
    s.strict = true;
    assert_eq!(setting(records::load(&s)), Some(Setting::Strict));
    // A delimiter that cannot be one.
    let err = "ab"
        .parse::<records::Delimiter>()
        .expect_err("two characters");
    assert_eq!(err.setting(), Some(Setting::Delimiter));
    // A file that does not exist: no setting changes that.
    assert_eq!(
        setting(records::load(&spec(
            &dir.path().join("none.csv"),
            &["imo:imo_ship"]
        ))),
        None
    );
}

/// The matched rows come from a second reading of the input, which must be the bytes read the
/// first time: a file changed in between (same length, or shorter) is refused with
/// `InputReason::Changed` and no output is written; a gzip file is decompressed again.
#[test]
fn matched_rows_are_read_again_and_a_changed_input_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let text = b"imo,name\n9074729,Aurora\n9187629,Borealis\n9176187,Cygnus\n";
    let p = file(dir.path(), "ships.csv", text);
    let r = records::load(&spec(&p, &["imo:imo_ship"])).expect("load");
    assert_eq!((r.row_count(), r.items().len()), (3, 3));
    let out = dir.path().join("out.csv");
    let changed = |r: Result<records::MatchSummary, Error>| {
        matches!(
            r,
            Err(Error::Input(InputError {
                reason: InputReason::Changed,
                ..
            }))
        )
    };
    for edit in [
        &b"imo,name\n9074729,Aurora\n9187629,Borealiz\n9176187,Cygnus\n"[..],
        &b"imo,name\n9074729,Aurora\n"[..],
        &b"imo,name\n9074729,Aurora\n9187629,Borealis\n9176187,Cygnus\n9321483,Dorado\n"[..],
    ] {
        std::fs::write(&p, edit).expect("edit");
        assert!(
            changed(records::write_matches_by_index(&out, &r, &[1])),
            "{edit:?}"
        );
        assert!(!out.exists(), "nothing written from a changed input");
        assert!(std::fs::read_dir(dir.path()).expect("dir").all(|e| {
            !e.expect("entry")
                .file_name()
                .to_string_lossy()
                .ends_with(".partial")
        }));
    }
    std::fs::write(&p, text).expect("restore");
    records::write_matches_by_index(&out, &r, &[1]).expect("write");
    assert_eq!(
        std::fs::read_to_string(&out).expect("read"),
        "imo,name,matched_values,matched_keys\n9187629,Borealis,9187629,imo:imo_ship\n"
    );

    let gz = dir.path().join("ships.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, text).expect("compress");
    std::fs::write(&gz, enc.finish().expect("finish")).expect("write");
    let r = records::load(&spec(&gz, &["imo:imo_ship"])).expect("load gzip");
    let out_gz = dir.path().join("out-gz.csv");
    records::write_matches_by_index(&out_gz, &r, &[1]).expect("write");
    assert_eq!(
        std::fs::read(&out_gz).expect("read"),
        std::fs::read(&out).expect("read")
    );
}

/// A record longer than the reader's window (1 MiB) is read whole, and the rows after it keep
/// their lines.
#[test]
fn a_record_longer_than_the_window_is_read_whole() {
    let dir = tempfile::tempdir().expect("tempdir");
    let note: String = "line of a long note, \"quoted\"\n".repeat(100_000);
    let quoted = note.replace('"', "\"\"");
    let text = format!("imo,note\n9074729,\"{quoted}\"\n9187629,short\n9176187,\"x\"\n");
    let p = file(dir.path(), "long.csv", text.as_bytes());
    let r = records::load(&spec(&p, &["imo:imo_ship"])).expect("load");
    assert!(note.len() > 2 << 20);
    assert_eq!((r.row_count(), r.items().len()), (3, 3));
    let rows = r.read_rows().expect("read again");
    assert_eq!(
        rows.get(0).and_then(|row| row.field(1)),
        Some(note.as_str())
    );
    let after = 2 + note.matches('\n').count() as u64;
    assert_eq!(
        rows.iter().map(|row| row.line()).collect::<Vec<_>>(),
        [2, after + 1, after + 2]
    );
}
