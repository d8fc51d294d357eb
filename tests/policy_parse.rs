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
cardinality_before_reveal = true
max_sessions_per_peer_per_day = 4
revealable_columns = [ ]
padding_bound = 5000   # same bound, no underscore
max_set_size = 1000000
min_set_size = 10
identifier_kinds = [ "container", "imo" ]
modes = ["mutual", "intersection", "cardinality"]
name = 'Customs Agency A / Customs Agency B: sanctioned-vessel screening 2026'
version = 1
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
        ("padding_bound = 5_000", "padding_bound = 5_001"),
        ("padding_bound = 5_000", ""),
        (
            "cardinality_before_reveal = true",
            "cardinality_before_reveal = false",
        ),
        ("output_retention_days = 90", "output_retention_days = 91"),
        ("min_set_size = 10", "min_set_size = 11"),
        ("max_set_size = 1_000_000", "max_set_size = 1_000_001"),
        ("revealable_columns = []", "revealable_columns = [\"flag\"]"),
        (
            "identifier_kinds = [\"imo\", \"container\"]",
            "identifier_kinds = [\"imo\"]",
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
version = 1
name = "N"
modes = ["mutual", "cardinality"]
identifier_kinds = ["imo"]
min_set_size = 2
max_set_size = 300
padding_bound = 256
revealable_columns = ["b", "a"]
max_sessions_per_peer_per_day = 7
cardinality_before_reveal = true
output_retention_days = 1
"#;
    fn key(v: &mut Vec<u8>, k: &str) {
        v.push(k.len() as u8);
        v.extend_from_slice(k.as_bytes());
    }
    fn s(v: &mut Vec<u8>, x: &str) {
        v.extend_from_slice(&(x.len() as u32).to_be_bytes());
        v.extend_from_slice(x.as_bytes());
    }
    let mut want = b"blindmatch-policy\x00\x01".to_vec();
    key(&mut want, "name");
    s(&mut want, "N");
    key(&mut want, "modes");
    want.extend_from_slice(&2u32.to_be_bytes());
    s(&mut want, "cardinality");
    s(&mut want, "mutual");
    key(&mut want, "identifier_kinds");
    want.extend_from_slice(&1u32.to_be_bytes());
    s(&mut want, "imo");
    key(&mut want, "min_set_size");
    want.extend_from_slice(&2u64.to_be_bytes());
    key(&mut want, "max_set_size");
    want.extend_from_slice(&300u64.to_be_bytes());
    key(&mut want, "padding_bound");
    want.push(1);
    want.extend_from_slice(&256u64.to_be_bytes());
    key(&mut want, "revealable_columns");
    want.extend_from_slice(&2u32.to_be_bytes());
    s(&mut want, "a");
    s(&mut want, "b");
    key(&mut want, "max_sessions_per_peer_per_day");
    want.extend_from_slice(&7u64.to_be_bytes());
    key(&mut want, "cardinality_before_reveal");
    want.push(1);
    key(&mut want, "output_retention_days");
    want.extend_from_slice(&1u64.to_be_bytes());

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
    let text = EXAMPLE.replace("version = 1", "version = 1\nmax_sesions = 3");
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
        (
            "max_set_size = 1_000_000",
            "max_set_size = 5",
            "smaller than",
        ),
        (
            "max_set_size = 1_000_000",
            "max_set_size = 134_217_729",
            "2^27",
        ),
        (
            "padding_bound = 5_000",
            "padding_bound = 2_000_000",
            "padding_bound",
        ),
        (
            "identifier_kinds = [\"imo\", \"container\"]",
            "identifier_kinds = [\"imo\", \"imo\"]",
            "twice",
        ),
        (
            "identifier_kinds = [\"imo\", \"container\"]",
            "identifier_kinds = [\"IMO\"]",
            "lowercase",
        ),
        ("version = 1", "version = 2", "version 2"),
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
    let mut want = b"blindmatch-policy\x00\x01".to_vec();
    key(&mut want, "name");
    want.extend_from_slice(&25u32.to_be_bytes());
    want.extend_from_slice(b"blindmatch default policy");
    key(&mut want, "modes");
    set(&mut want, &["cardinality", "intersection", "mutual"]);
    key(&mut want, "identifier_kinds");
    set(&mut want, &["container", "imo", "raw"]);
    key(&mut want, "min_set_size");
    want.extend_from_slice(&1u64.to_be_bytes());
    key(&mut want, "max_set_size");
    want.extend_from_slice(&(1u64 << 24).to_be_bytes());
    key(&mut want, "padding_bound");
    want.push(0);
    key(&mut want, "revealable_columns");
    set(&mut want, &[]);
    key(&mut want, "max_sessions_per_peer_per_day");
    want.extend_from_slice(&10u64.to_be_bytes());
    key(&mut want, "cardinality_before_reveal");
    want.push(0);
    key(&mut want, "output_retention_days");
    want.extend_from_slice(&30u64.to_be_bytes());
    let mut h = Sha3_256::new();
    h.update(b"\x1bblindmatch-v1-policy-digest");
    h.update(&want);
    let digest: [u8; 32] = h.finalize().into();

    assert_eq!(canonical_hex, hex::encode(&want), "06 1.1 canonical bytes");
    assert_eq!(digest_hex, hex::encode(digest), "06 1.1 digest");
    assert_eq!(p.canonical_bytes(), want);
    assert_eq!(Policy::default_policy().digest_hex(), digest_hex);
}
