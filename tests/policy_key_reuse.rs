//! The optional `allow_key_reuse` policy key: default false, parsed strictly, part of the
//! canonical encoding (and digest) with its effective value, and the refusal it drives names
//! it.

use blindmatch::error::{ConfigError, ConfigReason, PolicyRule};
use blindmatch::policy::Policy;
use blindmatch::Error;

/// The default policy's file without its `allow_key_reuse` line.
fn default_text() -> String {
    std::fs::read_to_string("examples/policy-default.toml")
        .expect("default policy file")
        .replace("allow_key_reuse = false\n", "")
}

/// The rule of a policy refusal.
fn refusal_rule(e: &Error) -> Option<PolicyRule> {
    match e {
        Error::PolicyRefused(r) => Some(r.rule),
        _ => None,
    }
}

#[test]
fn allow_key_reuse_defaults_to_false_and_refuses_by_name() {
    let p = Policy::parse(&default_text(), "p.toml").expect("parses");
    assert!(!p.allow_key_reuse());
    assert_eq!(p.digest(), Policy::default_policy().digest());
    match p.check_key_reuse() {
        Err(e) => assert_eq!(refusal_rule(&e), Some(PolicyRule::AllowKeyReuse), "{e:?}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn allow_key_reuse_true_changes_the_digest_and_false_does_not() {
    let base = Policy::parse(&default_text(), "p.toml").expect("parses");
    let on =
        Policy::parse(&(default_text() + "allow_key_reuse = true\n"), "p.toml").expect("parses");
    let off =
        Policy::parse(&(default_text() + "allow_key_reuse = false\n"), "p.toml").expect("parses");
    assert!(on.allow_key_reuse() && on.check_key_reuse().is_ok());
    assert_ne!(on.digest(), base.digest());
    assert_eq!(off.digest(), base.digest());
    // The one byte after the key's name flips.
    let mut want = base.canonical_bytes();
    let mut field = vec![b"allow_key_reuse".len() as u8];
    field.extend_from_slice(b"allow_key_reuse");
    let at = want
        .windows(field.len())
        .position(|w| w == field.as_slice())
        .expect("the key is encoded")
        + field.len();
    assert_eq!(want[at], 0);
    want[at] = 1;
    assert_eq!(on.canonical_bytes(), want);
}

#[test]
fn allow_key_reuse_of_the_wrong_type_is_refused_with_its_line() {
    let text = default_text() + "allow_key_reuse = \"yes\"\n";
    let line = text.lines().count();
    let err = Policy::parse(&text, "p.toml").expect_err("a string is not a boolean");
    assert!(
        matches!(
            &err,
            Error::Config(ConfigError { reason: ConfigReason::Policy, detail, .. })
                if detail.contains(&format!("p.toml:{line}:"))
        ),
        "{err:?}"
    );
}
