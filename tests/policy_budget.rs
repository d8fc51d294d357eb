//! Query budgets: counted durably per peer per 24 hours, refusals name the rule, and the
//! refusal can be logged.

use blindmatch::audit::{self, AuditLog, Event};
use blindmatch::budget::{BudgetStore, PERIOD_SECONDS};
use blindmatch::error::{ConfigError, ConfigReason, PolicyRule};
use blindmatch::policy::Policy;
use blindmatch::Error;

const EXAMPLE: &str = include_str!("../examples/policy.toml");
const T0: i64 = 1_790_000_000;

/// The rule of a policy refusal.
fn refusal_rule(e: &Error) -> Option<PolicyRule> {
    match e {
        Error::PolicyRefused(r) => Some(r.rule),
        _ => None,
    }
}

#[test]
fn the_budget_is_enforced_survives_reopening_and_renews_after_a_day() {
    let policy = Policy::parse(EXAMPLE, "p").expect("policy"); // 4 per day
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("budget.json");
    {
        let mut store = BudgetStore::open(&path).expect("open");
        for i in 0..3 {
            store
                .admit(&policy, "peer-a", T0 + i)
                .expect("within budget");
        }
    }
    // Durable: a new process sees the three sessions.
    let mut store = BudgetStore::open(&path).expect("reopen");
    assert_eq!(store.sessions_in_window("peer-a", T0 + 10), 3);
    store.admit(&policy, "peer-a", T0 + 10).expect("fourth");
    match store.admit(&policy, "peer-a", T0 + 11) {
        Err(e) => assert_eq!(
            refusal_rule(&e),
            Some(PolicyRule::MaxSessionsPerPeerPerDay),
            "{e:?}"
        ),
        other => panic!("fifth session must be refused, got {other:?}"),
    }
    // A refusal records nothing; other peers have their own budget.
    assert_eq!(store.sessions_in_window("peer-a", T0 + 11), 4);
    store.admit(&policy, "peer-b", T0 + 11).expect("other peer");
    // After 24 hours the first sessions fall out of the window.
    store
        .admit(&policy, "peer-a", T0 + PERIOD_SECONDS + 1)
        .expect("renewed");
}

#[test]
fn cardinality_runs_are_remembered() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("budget.json");
    let mut store = BudgetStore::open(&path).expect("open");
    assert!(!store.cardinality_run_done("peer-a"));
    store.record_cardinality_run("peer-a", T0).expect("record");
    let store = BudgetStore::open(&path).expect("reopen");
    assert!(store.cardinality_run_done("peer-a"));
    assert!(!store.cardinality_run_done("peer-b"));
}

#[test]
fn a_corrupt_state_file_is_a_config_error_with_location() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("budget.json");
    std::fs::write(&path, "{\"version\":1,\n\"peers\": 3}").expect("write");
    match BudgetStore::open(&path) {
        Err(Error::Config(ConfigError {
            reason: ConfigReason::Budget,
            detail: m,
        })) => assert!(m.contains("budget.json:2:"), "{m}"),
        other => panic!("expected a config error, got {other:?}"),
    }
}

#[test]
fn a_budget_refusal_is_logged() {
    let text = EXAMPLE.replace(
        "max_sessions_per_peer_per_day = 4",
        "max_sessions_per_peer_per_day = 1",
    );
    let policy = Policy::parse(&text, "p").expect("policy");
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = BudgetStore::open(&dir.path().join("budget.json")).expect("open");
    let key = ed25519_dalek::SigningKey::from_bytes(&[3; 32]);
    let log_path = dir.path().join("audit.jsonl");
    let log = AuditLog::open(&log_path, key.clone()).expect("log");
    store.admit(&policy, "peer-a", T0).expect("first");
    let err = store
        .admit(&policy, "peer-a", T0 + 1)
        .expect_err("second refused");
    assert_eq!(
        refusal_rule(&err),
        Some(PolicyRule::MaxSessionsPerPeerPerDay)
    );
    log.session_refused("peer-a", "mutual", &err)
        .expect("logged");
    let report = audit::verify(&log_path, &[key.verifying_key()]).expect("verify");
    assert!(report.is_ok());
    match &report.entries[0].event {
        Event::SessionRefused {
            rule,
            peer_fingerprint,
            ..
        } => {
            assert_eq!(rule, "max_sessions_per_peer_per_day");
            assert_eq!(peer_fingerprint, "peer-a");
        }
        other => panic!("expected a refusal entry, got {other:?}"),
    }
}

#[test]
fn admit_session_checks_policy_then_budget_and_logs_refusals() {
    use blindmatch::budget::admit_session;
    use blindmatch::policy::SessionRequest;
    let policy = Policy::parse(EXAMPLE, "p").expect("policy"); // 4/day, count first
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = BudgetStore::open(&dir.path().join("budget.json")).expect("open");
    let key = ed25519_dalek::SigningKey::from_bytes(&[4; 32]);
    let log_path = dir.path().join("audit.jsonl");
    let log = AuditLog::open(&log_path, key.clone()).expect("log");
    let req = |mode: &str| SessionRequest {
        mode: mode.into(),
        own_count: 100,
        peer_count: Some(5000),
        kinds: vec!["imo".into()],
        peer_fingerprint: "peer-a".into(),
        revealed_columns: vec![],
        prior_cardinality_run: false,
    };
    // A revealing run before any count-only run: refused and logged, budget untouched.
    let e =
        admit_session(&policy, &mut store, Some(&log), &req("mutual"), T0).expect_err("refused");
    assert_eq!(refusal_rule(&e), Some(PolicyRule::CardinalityBeforeReveal));
    assert_eq!(store.sessions_in_window("peer-a", T0), 0);
    // Count first, then the revealing run is allowed.
    admit_session(&policy, &mut store, Some(&log), &req("cardinality"), T0).expect("count");
    store
        .record_cardinality_run("peer-a", T0 + 1)
        .expect("record");
    for t in 2..5 {
        admit_session(&policy, &mut store, Some(&log), &req("mutual"), T0 + t).expect("mutual");
    }
    let e =
        admit_session(&policy, &mut store, Some(&log), &req("mutual"), T0 + 9).expect_err("budget");
    assert_eq!(refusal_rule(&e), Some(PolicyRule::MaxSessionsPerPeerPerDay));
    let report = audit::verify(&log_path, &[key.verifying_key()]).expect("verify");
    assert!(report.is_ok());
    let rules: Vec<&str> = report
        .entries
        .iter()
        .filter_map(|e| match &e.event {
            Event::SessionRefused { rule, .. } => Some(rule.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        rules,
        ["cardinality_before_reveal", "max_sessions_per_peer_per_day"]
    );
}
