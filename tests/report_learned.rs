//! The report's table of what each party learns ([`blindmatch::report::learned::TABLE`])
//! agrees with the security model's (`protocol-spec/02-security-model.md` section 2.2), row by
//! row, and covers every protocol and mode a session can run.

use blindmatch::report::learned::{row, Reveals, TABLE};

const SPEC: &str = include_str!("../protocol-spec/02-security-model.md");

/// The spec's words for a party's result, as a [`Reveals`].
fn classify(cell: &str) -> Reveals {
    if cell.contains("which of its own items are shared") && cell.contains("payloads") {
        Reveals::ItemsAndPayloads
    } else if cell.contains("which of its own items are shared") {
        Reveals::Items
    } else if cell.contains("how many items are shared") {
        Reveals::Count
    } else {
        Reveals::Nothing
    }
}

/// `(protocol, mode, initiator cell, responder cell)` for each row of section 2.2.
fn spec_rows() -> Vec<(String, String, String, String)> {
    let section = SPEC
        .split("## 2.2 ")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .expect("section 2.2");
    section
        .lines()
        .filter(|l| {
            ["| DH-PSI `", "| OPRF-PSI `", "| VOLE-PSI `"]
                .iter()
                .any(|p| l.starts_with(p))
        })
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            assert_eq!(cells.len(), 3, "{l}");
            let protocol = match cells[0].split(' ').next() {
                Some("DH-PSI") => "dh",
                Some("OPRF-PSI") => "oprf",
                _ => "vole",
            };
            let mode = cells[0].split('`').nth(1).expect("a mode in backticks");
            (
                protocol.to_owned(),
                mode.to_owned(),
                cells[1].to_owned(),
                cells[2].to_owned(),
            )
        })
        .collect()
}

#[test]
fn every_row_of_the_code_table_says_what_the_security_model_says() {
    let rows = spec_rows();
    assert_eq!(rows.len(), TABLE.len(), "one code row per spec row");
    for (protocol, mode, initiator, responder) in &rows {
        let r = row(Some(protocol), mode)
            .unwrap_or_else(|| panic!("no code row for {protocol} {mode}"));
        assert_eq!(
            r.initiator,
            classify(initiator),
            "{protocol} {mode} initiator"
        );
        assert_eq!(
            r.responder,
            classify(responder),
            "{protocol} {mode} responder"
        );
        // Both parties learn the other's set size: the spec says so in every cell.
        assert!(initiator.contains("set size") && responder.contains("set size"));
    }
}

#[test]
fn every_mode_of_each_protocol_has_a_row_and_old_entries_fall_back_by_mode() {
    // protocol-spec/04 section 4.3.5 rule 5.
    for (protocol, modes) in [
        ("dh", &["intersection", "mutual", "cardinality"][..]),
        ("oprf", &["intersection", "labeled"][..]),
        ("vole", &["intersection", "mutual"][..]),
    ] {
        for mode in modes {
            assert!(row(Some(protocol), mode).is_some(), "{protocol} {mode}");
        }
    }
    // Entries written before the protocol was logged: both intersection rows agree, so the
    // mode alone decides.
    let (dh, oprf) = (
        row(Some("dh"), "intersection").expect("dh"),
        row(Some("oprf"), "intersection").expect("oprf"),
    );
    let vole = row(Some("vole"), "intersection").expect("vole");
    assert_eq!(
        (dh.initiator, dh.responder),
        (oprf.initiator, oprf.responder)
    );
    assert_eq!(
        (dh.initiator, dh.responder),
        (vole.initiator, vole.responder)
    );
    let (dh, vole) = (row(Some("dh"), "mutual"), row(Some("vole"), "mutual"));
    assert_eq!(
        dh.map(|r| (r.initiator, r.responder)),
        vole.map(|r| (r.initiator, r.responder))
    );
    assert_eq!(row(None, "labeled").map(|r| r.protocol), Some("oprf"));
    assert_eq!(row(None, "cardinality").map(|r| r.protocol), Some("dh"));
    assert!(row(Some("oprf"), "mutual").is_none());
    assert!(row(Some("vole"), "cardinality").is_none());
    assert!(row(Some("vole"), "labeled").is_none());
}
