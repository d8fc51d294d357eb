//! Policy parsing, validation errors with locations, and the canonical digest.

use blindmatch::error::{ConfigError, ConfigReason};
use blindmatch::policy::Policy;
use blindmatch::Error;
use sha3::{Digest, Sha3_256};

const EXAMPLE: &str = include_str!("../examples/policy.toml");
const DEFAULT: &str = include_str!("../examples/policy-default.toml");

/// The detail of a policy configuration error (it names `file:line:column` and the offending
/// key or value).
fn config_message(r: blindmatch::Result<Policy>) -> String {
    match r {
        Err(Error::Config(ConfigError {
            reason: ConfigReason::Policy,
            detail,
            ..
        })) => detail,
        other => panic!("expected a policy configuration error, got {other:?}"),
    }
}

#[test]
fn example_policy_parses() {
    let p = Policy::parse(EXAMPLE, "policy.toml").expect("example parses");
    assert_eq!(p.padding_bound(), Some(5000));
    assert!(p.cardinality_before_reveal());
    assert_eq!(p.max_sessions_per_peer_per_day(), 4);
    assert!(p.modes().contains("mutual"));
    assert!(!p.modes().contains("labeled"));
    assert_eq!(p.padded_count(17), 5000);
}

#[test]
fn default_policy_matches_its_file() {
    let p = Policy::parse(DEFAULT, "policy-default.toml").expect("default file parses");
    assert_eq!(p, Policy::default_policy());
    assert_eq!(p.digest(), Policy::default_policy().digest());
}

#[test]
fn digest_ignores_comments_formatting_key_order_and_list_order() {
    let reordered = r#"
output_retention_days = 90
cardinality_window_days = 7
cardinality_before_reveal = true
max_domain_share_percent = 10
element_window_days = 30
max_elements_per_peer = 80000
max_sessions_per_peer_per_day = 4
revealable_columns = [ ]
padding_bound = 5000   # same bound, no underscore
max_set_size = 5000
min_set_size = 10
identifier_kinds = [ "container", "imo_ship" ]
modes = ["mutual", "intersection", "cardinality"]
name = 'Customs Agency A / Customs Agency B: sanctioned-vessel screening 2026'
version = 2
"#;
    let a = Policy::parse(EXAMPLE, "a.toml").expect("a");
    let b = Policy::parse(reordered, "b.toml").expect("b");
    assert_eq!(a.digest(), b.digest());
}

#[test]
fn every_value_changes_the_digest() {
    let base = Policy::parse(EXAMPLE, "a.toml").expect("base").digest();
    let edits = [
        (
            "max_sessions_per_peer_per_day = 4",
            "max_sessions_per_peer_per_day = 5",
        ),
        ("padding_bound = 5_000", "padding_bound = 4_999"),
        ("padding_bound = 5_000", ""),
        (
            "cardinality_before_reveal = true",
            "cardinality_before_reveal = false",
        ),
        ("output_retention_days = 90", "output_retention_days = 91"),
        ("min_set_size = 10", "min_set_size = 11"),
        ("max_set_size = 5_000", "max_set_size = 5_001"),
        ("revealable_columns = []", "revealable_columns = [\"flag\"]"),
        (
            "identifier_kinds = [\"imo_ship\", \"container\"]",
            "identifier_kinds = [\"imo_ship\"]",
        ),
        (
            "max_elements_per_peer = 80_000",
            "max_elements_per_peer = 79_999",
        ),
        ("element_window_days = 30", "element_window_days = 31"),
        (
            "max_domain_share_percent = 10",
            "max_domain_share_percent = 11",
        ),
        ("cardinality_window_days = 7", "cardinality_window_days = 8"),
        (
            "output_retention_days = 90",
            "output_retention_days = 90\nallow_key_reuse = true",
        ),
        (
            "output_retention_days = 90",
            "output_retention_days = 90\nindex_key_lifetime_days = 10",
        ),
        (
            "output_retention_days = 90",
            "output_retention_days = 90\nmax_evaluations_per_receiver_per_key = 90000",
        ),
        (
            "modes = [\"cardinality\", \"intersection\", \"mutual\"]",
            "modes = [\"cardinality\", \"intersection\"]",
        ),
        ("screening 2026", "screening 2027"),
    ];
    for (from, to) in edits {
        assert!(EXAMPLE.contains(from), "example lacks {from}");
        let edited = EXAMPLE.replace(from, to);
        let d = Policy::parse(&edited, "e.toml")
            .unwrap_or_else(|e| panic!("{from} -> {to}: {e}"))
            .digest();
        assert_ne!(d, base, "changing `{from}` to `{to}` kept the digest");
    }
}

/// Rebuilds the canonical encoding from the byte layout in
/// `protocol-spec/06-policy-and-audit.md` section 2, independently of the library code.
#[test]
fn canonical_encoding_follows_the_spec_byte_for_byte() {
    let text = r#"
version = 2
name = "N"
modes = ["mutual", "cardinality", "labeled"]
identifier_kinds = ["imo_ship"]
min_set_size = 2
max_set_size = 300
padding_bound = 256
revealable_columns = ["b", "a"]
payload_len = 64
max_sessions_per_peer_per_day = 7
max_elements_per_peer = 2000
cardinality_before_reveal = true
output_retention_days = 1
allow_key_reuse = true
"#;
    fn key(v: &mut Vec<u8>, k: &str) {
        v.push(k.len() as u8);
        v.extend_from_slice(k.as_bytes());
    }
    fn s(v: &mut Vec<u8>, x: &str) {
        v.extend_from_slice(&(x.len() as u32).to_be_bytes());
        v.extend_from_slice(x.as_bytes());
    }
    fn int(v: &mut Vec<u8>, k: &str, x: u64) {
        key(v, k);
        v.extend_from_slice(&x.to_be_bytes());
    }
    let mut want = b"blindmatch-policy\x00\x02".to_vec();
    key(&mut want, "name");
    s(&mut want, "N");
    key(&mut want, "modes");
    want.extend_from_slice(&3u32.to_be_bytes());
    s(&mut want, "cardinality");
    s(&mut want, "labeled");
    s(&mut want, "mutual");
    key(&mut want, "identifier_kinds");
    want.extend_from_slice(&1u32.to_be_bytes());
    s(&mut want, "imo_ship");
    int(&mut want, "min_set_size", 2);
    int(&mut want, "max_set_size", 300);
    key(&mut want, "padding_bound");
    want.push(1);
    want.extend_from_slice(&256u64.to_be_bytes());
    key(&mut want, "revealable_columns");
    want.extend_from_slice(&2u32.to_be_bytes());
    s(&mut want, "a");
    s(&mut want, "b");
    key(&mut want, "payload_len");
    want.push(1);
    want.extend_from_slice(&64u64.to_be_bytes());
    int(&mut want, "max_sessions_per_peer_per_day", 7);
    int(&mut want, "max_elements_per_peer", 2000);
    int(&mut want, "element_window_days", 30);
    int(&mut want, "max_domain_share_percent", 10);
    key(&mut want, "cardinality_before_reveal");
    want.push(1);
    int(&mut want, "cardinality_window_days", 7);
    int(&mut want, "output_retention_days", 1);
    key(&mut want, "allow_key_reuse");
    want.push(1);
    int(&mut want, "index_key_lifetime_days", 90);
    // Absent: defaults to max_elements_per_peer.
    int(&mut want, "max_evaluations_per_receiver_per_key", 2000);

    let p = Policy::parse(text, "t.toml").expect("parses");
    assert_eq!(p.canonical_bytes(), want);

    let dst = b"blindmatch-v1-policy-digest";
    let mut h = Sha3_256::new();
    h.update([dst.len() as u8]);
    h.update(dst);
    h.update(&want);
    let digest: [u8; 32] = h.finalize().into();
    assert_eq!(p.digest(), digest);
    assert_eq!(p.digest_hex(), hex::encode(digest));
}

#[test]
fn unknown_key_is_rejected_with_its_line() {
    let text = EXAMPLE.replace("version = 2", "version = 2\nmax_sesions = 3");
    let line = text
        .lines()
        .position(|l| l.starts_with("max_sesions"))
        .expect("line")
        + 1;
    let m = config_message(Policy::parse(&text, "p.toml"));
    assert!(m.contains(&format!("p.toml:{line}:")), "{m}");
    assert!(m.contains("max_sesions"), "{m}");
}

#[test]
fn semantic_errors_name_the_line_of_the_offending_value() {
    let cases = [
        (
            "modes = [\"cardinality\", \"intersection\", \"mutual\"]",
            "modes = [\"cardinality\", \"telepathy\"]",
            "telepathy",
        ),
        ("min_set_size = 10", "min_set_size = 0", "at least 1"),
        ("max_set_size = 5_000", "max_set_size = 5", "smaller than"),
        ("max_set_size = 5_000", "max_set_size = 134_217_729", "2^27"),
        (
            "padding_bound = 5_000",
            "padding_bound = 2_000_000",
            "padding_bound",
        ),
        (
            "identifier_kinds = [\"imo_ship\", \"container\"]",
            "identifier_kinds = [\"imo_ship\", \"imo_ship\"]",
            "twice",
        ),
        (
            "identifier_kinds = [\"imo_ship\", \"container\"]",
            "identifier_kinds = [\"fooo\"]",
            "unknown identifier kind",
        ),
        (
            "identifier_kinds = [\"imo_ship\", \"container\"]",
            "identifier_kinds = [\"imo\"]",
            "`imo_ship` or `imo_company`",
        ),
        ("version = 2", "version = 1", "version 1"),
        (
            "max_elements_per_peer = 80_000",
            "max_elements_per_peer = 4_999",
            "below `max_set_size`",
        ),
        (
            "max_domain_share_percent = 10",
            "max_domain_share_percent = 101",
            "percentage",
        ),
        (
            "modes = [\"cardinality\", \"intersection\", \"mutual\"]",
            "modes = [\"cardinality\", \"labeled\"]",
            "payload_len",
        ),
        (
            "max_sessions_per_peer_per_day = 4",
            "max_sessions_per_peer_per_day = 0",
            "at least 1",
        ),
        (
            "max_sessions_per_peer_per_day = 4",
            "max_sessions_per_peer_per_day = \"4\"",
            "expected u64",
        ),
        (
            "modes = [\"cardinality\", \"intersection\", \"mutual\"]",
            "modes = [\"intersection\"]",
            "cardinality_before_reveal",
        ),
    ];
    for (from, to, needle) in cases {
        let text = EXAMPLE.replace(from, to);
        let first = to.split(' ').next().expect("key");
        let line = text
            .lines()
            .position(|l| l.starts_with(first))
            .expect("line")
            + 1;
        let m = config_message(Policy::parse(&text, "p.toml"));
        assert!(m.contains(&format!("p.toml:{line}:")), "{to}: {m}");
        assert!(m.contains(needle), "{to}: {m}");
    }
}

#[test]
fn missing_key_and_bad_syntax_are_rejected() {
    let text = EXAMPLE.replace("output_retention_days = 90", "");
    let m = config_message(Policy::parse(&text, "p.toml"));
    assert!(m.contains("output_retention_days"), "{m}");
    let m = config_message(Policy::parse("version = = 1", "p.toml"));
    assert!(m.starts_with("p.toml:1:"), "{m}");
}

#[test]
fn load_reads_a_file_and_reports_a_missing_one() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("policy.toml");
    std::fs::write(&path, EXAMPLE).expect("write");
    let p = Policy::load(&path).expect("load");
    assert_eq!(p, Policy::parse(EXAMPLE, "x").expect("parse"));
    match Policy::load(&dir.path().join("nope.toml")) {
        Err(Error::Io { context, .. }) => assert!(context.contains("nope.toml")),
        other => panic!("expected an I/O error, got {other:?}"),
    }
}

mod props {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn parse_never_panics(text in "\\PC{0,300}") {
            let _ = Policy::parse(&text, "fuzz.toml");
        }

        #[test]
        fn list_order_never_changes_the_digest(perm in Just(vec!["cardinality", "intersection", "mutual"]).prop_shuffle()) {
            let list = perm.iter().map(|m| format!("\"{m}\"")).collect::<Vec<_>>().join(", ");
            let text = EXAMPLE.replace(
                "modes = [\"cardinality\", \"intersection\", \"mutual\"]",
                &format!("modes = [{list}]"),
            );
            let a = Policy::parse(EXAMPLE, "a").expect("a").digest();
            let b = Policy::parse(&text, "b").expect("b").digest();
            prop_assert_eq!(a, b);
        }
    }
}

/// The text between the first line starting with `open` after `heading` and the next "```".
fn block_after<'a>(spec: &'a str, heading: &str, open: &str) -> &'a str {
    let at = spec.find(heading).expect("heading");
    let rest = &spec[at..];
    let start = rest.find(open).expect("opening fence") + open.len();
    let rest = &rest[start..];
    let rest = rest.strip_prefix('\n').expect("fence ends its line");
    &rest[..rest.find("```").expect("closing fence")]
}

/// `protocol-spec/06-policy-and-audit.md` 1.1 shows the built-in default policy: its TOML is
/// the file and the code's policy, and its canonical bytes and digest are what section 2 gives
/// (rebuilt here by hand, independently of the library).
#[test]
fn the_spec_shows_the_default_policy_its_encoding_and_digest() {
    let spec = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/protocol-spec/06-policy-and-audit.md"
    ))
    .expect("spec");
    let heading = "### 1.1 The built-in default policy";
    let toml = block_after(&spec, heading, "```toml");
    assert_eq!(
        toml, DEFAULT,
        "06 1.1 differs from examples/policy-default.toml"
    );
    let p = Policy::parse(toml, "06-policy-and-audit.md").expect("the spec's TOML parses");
    assert_eq!(p, Policy::default_policy());

    let canonical_hex: String = block_after(&spec, heading, "```text")
        .split_whitespace()
        .collect();
    let digest_hex = block_after(&spec, "its **digest** is", "```text").trim();

    // Section 2 by hand for the default policy.
    fn key(v: &mut Vec<u8>, k: &str) {
        v.push(k.len() as u8);
        v.extend_from_slice(k.as_bytes());
    }
    fn set(v: &mut Vec<u8>, xs: &[&str]) {
        v.extend_from_slice(&(xs.len() as u32).to_be_bytes());
        for x in xs {
            v.extend_from_slice(&(x.len() as u32).to_be_bytes());
            v.extend_from_slice(x.as_bytes());
        }
    }
    fn int(v: &mut Vec<u8>, k: &str, x: u64) {
        key(v, k);
        v.extend_from_slice(&x.to_be_bytes());
    }
    let mut want = b"blindmatch-policy\x00\x02".to_vec();
    key(&mut want, "name");
    want.extend_from_slice(&25u32.to_be_bytes());
    want.extend_from_slice(b"blindmatch default policy");
    key(&mut want, "modes");
    set(&mut want, &["cardinality", "intersection", "mutual"]);
    key(&mut want, "identifier_kinds");
    set(&mut want, &["container", "imo_company", "imo_ship", "raw"]);
    int(&mut want, "min_set_size", 1);
    int(&mut want, "max_set_size", 1 << 14);
    key(&mut want, "padding_bound");
    want.push(1);
    want.extend_from_slice(&(1u64 << 14).to_be_bytes());
    key(&mut want, "revealable_columns");
    set(&mut want, &[]);
    key(&mut want, "payload_len");
    want.push(0);
    int(&mut want, "max_sessions_per_peer_per_day", 10);
    int(&mut want, "max_elements_per_peer", 1 << 16);
    int(&mut want, "element_window_days", 30);
    int(&mut want, "max_domain_share_percent", 10);
    key(&mut want, "cardinality_before_reveal");
    want.push(0);
    int(&mut want, "cardinality_window_days", 7);
    int(&mut want, "output_retention_days", 30);
    key(&mut want, "allow_key_reuse");
    want.push(0);
    int(&mut want, "index_key_lifetime_days", 90);
    int(&mut want, "max_evaluations_per_receiver_per_key", 1 << 16);
    let mut h = Sha3_256::new();
    h.update(b"\x1bblindmatch-v1-policy-digest");
    h.update(&want);
    let digest: [u8; 32] = h.finalize().into();

    assert_eq!(canonical_hex, hex::encode(&want), "06 1.1 canonical bytes");
    assert_eq!(digest_hex, hex::encode(digest), "06 1.1 digest");
    assert_eq!(p.canonical_bytes(), want);
    assert_eq!(Policy::default_policy().digest_hex(), digest_hex);
}

/// A policy that lets a peer list more than `max_domain_share_percent` of an enumerable kind
/// within a window, or under one index key, is refused with a typed reason.
#[test]
fn a_policy_exposing_too_much_of_an_enumerable_domain_is_refused() {
    fn reason(text: &str) -> Option<ConfigReason> {
        match Policy::parse(text, "p.toml") {
            Err(Error::Config(ConfigError { reason, .. })) => Some(reason),
            Ok(_) => None,
            Err(other) => panic!("unexpected {other:?}"),
        }
    }
    // 100,000 IMO ship numbers in 30 days is 11 % of 900,000.
    let over = EXAMPLE.replace(
        "max_elements_per_peer = 80_000",
        "max_elements_per_peer = 100_000",
    );
    assert_eq!(reason(&over), Some(ConfigReason::DomainExposure));
    // The same budget is fine for container numbers alone (not enumerable).
    let containers = over.replace(
        "identifier_kinds = [\"imo_ship\", \"container\"]",
        "identifier_kinds = [\"container\"]",
    );
    assert_eq!(reason(&containers), None);
    // ... or when the share allowed is raised explicitly.
    let raised = over.replace(
        "max_domain_share_percent = 10",
        "max_domain_share_percent = 12",
    );
    assert_eq!(reason(&raised), None);
    // The session budget bounds the cover too: 5,000 x 1 x 10 days = 50,000 (5.6 %).
    let few = over
        .replace(
            "max_sessions_per_peer_per_day = 4",
            "max_sessions_per_peer_per_day = 1",
        )
        .replace("element_window_days = 30", "element_window_days = 10");
    assert_eq!(reason(&few), None);
    // Under key reuse, a receiver's evaluations over the key's life count: 80,000 per
    // 30 days over a 90-day key, which serves through both ends and so touches 4 windows, is
    // 320,000 (35.6 %) with a cap that high.
    let reuse = EXAMPLE.replace(
        "output_retention_days = 90",
        "output_retention_days = 90\nallow_key_reuse = true\n\
         max_evaluations_per_receiver_per_key = 300_000",
    );
    assert_eq!(reason(&reuse), Some(ConfigReason::DomainExposure));
    let capped = reuse.replace(
        "max_evaluations_per_receiver_per_key = 300_000",
        "max_evaluations_per_receiver_per_key = 90_000",
    );
    assert_eq!(reason(&capped), None);
    let p = Policy::parse(&capped, "p").expect("capped");
    let imo = p
        .exposure()
        .into_iter()
        .find(|e| e.kind.name() == "imo_ship")
        .expect("imo_ship is enumerable");
    assert_eq!((imo.per_window, imo.per_key), (80_000, Some(90_000)));
    // Exactly at the limit passes; one element over is refused (no rounding).
    let at = EXAMPLE.replace(
        "max_elements_per_peer = 80_000",
        "max_elements_per_peer = 90_000",
    );
    assert_eq!(reason(&at), None);
    let over_by_one = EXAMPLE.replace(
        "max_elements_per_peer = 80_000",
        "max_elements_per_peer = 90_001",
    );
    assert_eq!(reason(&over_by_one), Some(ConfigReason::DomainExposure));
    // Without a cap, the 4 windows of a 90-day key are counted.
    let uncapped = Policy::parse(
        &EXAMPLE
            .replace(
                "output_retention_days = 90",
                "output_retention_days = 90\nallow_key_reuse = true\n\
                 max_evaluations_per_receiver_per_key = 1_000_000",
            )
            .replace(
                "max_domain_share_percent = 10",
                "max_domain_share_percent = 100",
            ),
        "u",
    )
    .expect("share 100 accepts it");
    let imo = uncapped
        .exposure()
        .into_iter()
        .find(|e| e.kind.name() == "imo_ship")
        .expect("imo_ship");
    assert_eq!(imo.per_key, Some(320_000));
}
