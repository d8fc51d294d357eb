//! Query budgets: counted durably per peer per 24 hours, refusals name the rule, and the
//! refusal can be logged.

use blindmatch::audit::{self, AuditLog, Event};
use blindmatch::budget::{BudgetStore, Charge, DAY_SECONDS, PERIOD_SECONDS};
use blindmatch::error::{ConfigError, ConfigReason, PolicyRule};
use blindmatch::policy::Policy;
use blindmatch::Error;

const EXAMPLE: &str = include_str!("../examples/policy.toml");
const T0: i64 = 1_790_000_000;

/// A session with `peer` that charges nothing to the element budget.
fn session(peer: &str) -> Charge {
    Charge::new(vec![peer.to_owned()], vec!["imo_ship".into()], 0)
}

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
                .admit(&policy, &session("peer-a"), T0 + i)
                .expect("within budget");
        }
    }
    // Durable: a new process sees the three sessions.
    let mut store = BudgetStore::open(&path).expect("reopen");
    assert_eq!(store.sessions_in_window("peer-a", T0 + 10), 3);
    store
        .admit(&policy, &session("peer-a"), T0 + 10)
        .expect("fourth");
    match store.admit(&policy, &session("peer-a"), T0 + 11) {
        Err(e) => assert_eq!(
            refusal_rule(&e),
            Some(PolicyRule::MaxSessionsPerPeerPerDay),
            "{e:?}"
        ),
        other => panic!("fifth session must be refused, got {other:?}"),
    }
    // A refusal records nothing; other peers have their own budget.
    assert_eq!(store.sessions_in_window("peer-a", T0 + 11), 4);
    store
        .admit(&policy, &session("peer-b"), T0 + 11)
        .expect("other peer");
    // After 24 hours the first sessions fall out of the window.
    store
        .admit(&policy, &session("peer-a"), T0 + PERIOD_SECONDS + 1)
        .expect("renewed");
}

#[test]
fn cardinality_runs_are_remembered_per_policy_and_expire_after_their_window() {
    let policy = Policy::parse(EXAMPLE, "p").expect("policy"); // window 7 days
    let other = Policy::parse(
        &EXAMPLE.replace("output_retention_days = 90", "output_retention_days = 91"),
        "q",
    )
    .expect("other policy");
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("budget.json");
    let a = vec!["cert:aa".to_owned(), "agency:A".to_owned()];
    let mut store = BudgetStore::open(&path).expect("open");
    assert!(!store.recent_cardinality_run(&policy, &a, T0));
    store
        .record_cardinality_run(&policy, &a, T0)
        .expect("record");
    let store = BudgetStore::open(&path).expect("reopen");
    assert!(store.recent_cardinality_run(&policy, &a, T0 + 1));
    // The same agency under a new certificate: its agency name carries the run.
    let renewed = vec!["cert:bb".to_owned(), "agency:A".to_owned()];
    assert!(store.recent_cardinality_run(&policy, &renewed, T0 + 1));
    assert!(!store.recent_cardinality_run(&policy, &["cert:cc".to_owned()], T0 + 1));
    // Another policy, or a run older than the window, does not count.
    assert!(!store.recent_cardinality_run(&other, &a, T0 + 1));
    assert!(!store.recent_cardinality_run(&policy, &a, T0 + 7 * DAY_SECONDS + 1));
}

#[test]
fn count_only_runs_older_than_the_longest_window_are_pruned_from_the_state_file() {
    let policy = Policy::parse(EXAMPLE, "p").expect("policy");
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("budget.json");
    let a = vec!["cert:aa".to_owned()];
    let runs = |path: &std::path::Path| -> usize {
        let state: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).expect("state")).expect("json");
        state["peers"]["cert:aa"]["cardinality_runs"]
            .as_object()
            .map_or(0, |m| m.len())
    };
    let mut store = BudgetStore::open(&path).expect("open");
    store
        .record_cardinality_run(&policy, &a, T0)
        .expect("record");
    store
        .admit(&policy, &session("cert:aa"), T0 + 1)
        .expect("admit");
    assert_eq!(runs(&path), 1, "a recent run is kept");
    let later = T0 + (blindmatch::budget::MAX_WINDOW_DAYS as i64 + 1) * DAY_SECONDS;
    store
        .admit(&policy, &session("cert:aa"), later)
        .expect("admit");
    assert_eq!(runs(&path), 0, "a run older than any window is pruned");
}

#[test]
fn the_element_budget_is_cumulative_per_kind_and_rolls_with_its_window() {
    let policy = Policy::parse(EXAMPLE, "p").expect("policy"); // 80,000 per 30 days, 4/day
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = BudgetStore::open(&dir.path().join("budget.json")).expect("open");
    let charge = |n| Charge::new(vec!["cert:aa".into()], vec!["imo_ship".into()], n);
    // 16 sessions of 5,000 on 16 days: 80,000, exactly the budget.
    for day in 0..16 {
        store
            .admit(&policy, &charge(5_000), T0 + day * DAY_SECONDS)
            .expect("within the element budget");
    }
    let t = T0 + 16 * DAY_SECONDS;
    assert_eq!(
        store.elements_in_window(&policy, "cert:aa", "imo_ship", t),
        80_000
    );
    let e = store
        .admit(&policy, &charge(5_000), t)
        .expect_err("cumulative refusal");
    assert_eq!(refusal_rule(&e), Some(PolicyRule::MaxElementsPerPeer));
    // Nothing recorded by the refusal; another kind has its own budget.
    assert_eq!(store.sessions_in_window("cert:aa", t), 0);
    let container = Charge::new(vec!["cert:aa".into()], vec!["container".into()], 5_000);
    store.admit(&policy, &container, t).expect("other kind");
    // Once the first sessions leave the 30-day window, room comes back.
    store
        .admit(&policy, &charge(5_000), T0 + 30 * DAY_SECONDS + 1)
        .expect("window rolled");
}

#[test]
fn budgets_follow_the_agency_across_certificates() {
    let policy = Policy::parse(EXAMPLE, "p").expect("policy");
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = BudgetStore::open(&dir.path().join("budget.json")).expect("open");
    let under = |fp: &str| {
        Charge::new(
            Charge::payers_of(fp, Some("Agency  B")),
            vec!["imo_ship".into()],
            40_000,
        )
    };
    store.admit(&policy, &under("aa"), T0).expect("first cert");
    store
        .admit(&policy, &under("bb"), T0 + 1)
        .expect("second cert");
    // A third certificate of the same agency does not bring a fresh budget.
    let e = store
        .admit(&policy, &under("cc"), T0 + 2)
        .expect_err("same agency");
    assert_eq!(refusal_rule(&e), Some(PolicyRule::MaxElementsPerPeer));
    assert_eq!(
        store.elements_in_window(&policy, "agency:agency b", "imo_ship", T0 + 2),
        80_000
    );
    // The refusal recorded nothing for the third certificate.
    assert_eq!(store.sessions_in_window("cert:cc", T0 + 2), 0);
    assert_eq!(
        store.elements_in_window(&policy, "cert:cc", "imo_ship", T0 + 2),
        0
    );
    // A pinned certificate's self-chosen name pays nothing under that name.
    assert_eq!(Charge::payers_of("dd", None), ["cert:dd"]);
}

#[test]
fn evaluations_under_one_index_key_are_capped() {
    let text = EXAMPLE.replace(
        "output_retention_days = 90",
        "output_retention_days = 90\nallow_key_reuse = true\nmax_evaluations_per_receiver_per_key = 12000",
    );
    let policy = Policy::parse(&text, "p").expect("policy");
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = BudgetStore::open(&dir.path().join("budget.json")).expect("open");
    let charge = |epoch: &str| {
        Charge::new(vec!["cert:aa".into()], vec!["imo_ship".into()], 5_000).under_key(epoch.into())
    };
    store.admit(&policy, &charge("e1"), T0).expect("first");
    store.admit(&policy, &charge("e1"), T0 + 1).expect("second");
    let e = store
        .admit(&policy, &charge("e1"), T0 + 2)
        .expect_err("cap");
    assert_eq!(
        refusal_rule(&e),
        Some(PolicyRule::MaxEvaluationsPerReceiverPerKey)
    );
    assert_eq!(store.evaluations("cert:aa", "e1"), 10_000);
    // A fresh key (a rebuilt index) starts a new count.
    store
        .admit(&policy, &charge("e2"), T0 + 3)
        .expect("new epoch");
}

#[test]
fn a_version_1_state_file_is_read_with_its_peers_as_certificates() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("budget.json");
    std::fs::write(
        &path,
        format!("{{\"version\":1,\"peers\":{{\"ab\":{{\"sessions\":[{T0}],\"last_cardinality_run\":{T0}}}}}}}"),
    )
    .expect("write");
    let store = BudgetStore::open(&path).expect("open v1");
    assert_eq!(store.sessions_in_window("cert:ab", T0 + 1), 1);
    let policy = Policy::parse(EXAMPLE, "p").expect("policy");
    assert!(!store.recent_cardinality_run(&policy, &["cert:ab".into()], T0 + 1));
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
            ..
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
    store.admit(&policy, &session("peer-a"), T0).expect("first");
    let err = store
        .admit(&policy, &session("peer-a"), T0 + 1)
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
        kinds: vec!["imo_ship".into()],
        peer_fingerprint: "peer-a".into(),
        revealed_columns: vec![],
        prior_cardinality_run: false,
    };
    // A revealing run before any count-only run: refused and logged, budget untouched.
    let e = admit_session(
        &policy,
        &mut store,
        Some(&log),
        &req("mutual"),
        &session("peer-a"),
        T0,
    )
    .expect_err("refused");
    assert_eq!(refusal_rule(&e), Some(PolicyRule::CardinalityBeforeReveal));
    assert_eq!(store.sessions_in_window("peer-a", T0), 0);
    // Count first, then the revealing run is allowed.
    admit_session(
        &policy,
        &mut store,
        Some(&log),
        &req("cardinality"),
        &session("peer-a"),
        T0,
    )
    .expect("count");
    store
        .record_cardinality_run(&policy, &["peer-a".to_owned()], T0 + 1)
        .expect("record");
    for t in 2..5 {
        admit_session(
            &policy,
            &mut store,
            Some(&log),
            &req("mutual"),
            &session("peer-a"),
            T0 + t,
        )
        .expect("mutual");
    }
    let e = admit_session(
        &policy,
        &mut store,
        Some(&log),
        &req("mutual"),
        &session("peer-a"),
        T0 + 9,
    )
    .expect_err("budget");
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

/// Two processes sharing one state file under policies with different windows: an admission
/// under the shorter window does not drop what the longer window still counts.
#[test]
fn a_shorter_window_does_not_prune_what_a_longer_one_counts() {
    let long = Policy::parse(EXAMPLE, "long").expect("30-day window");
    let short = Policy::parse(
        &EXAMPLE.replace("element_window_days = 30", "element_window_days = 1"),
        "short",
    )
    .expect("1-day window");
    let dir = tempfile::tempdir().expect("tmp");
    let mut store = BudgetStore::open(&dir.path().join("budget.json")).expect("open");
    let charge = |n| Charge::new(vec!["cert:aa".into()], vec!["imo_ship".into()], n);
    store.admit(&long, &charge(5_000), T0).expect("first");
    store
        .admit(&short, &charge(5_000), T0 + 10 * DAY_SECONDS)
        .expect("under the short window");
    let t = T0 + 10 * DAY_SECONDS;
    assert_eq!(
        store.elements_in_window(&long, "cert:aa", "imo_ship", t),
        10_000
    );
    assert_eq!(
        store.elements_in_window(&short, "cert:aa", "imo_ship", t),
        5_000
    );
    // A window above the longest kept is refused by the policy itself.
    let too_long = EXAMPLE.replace("element_window_days = 30", "element_window_days = 367");
    assert!(matches!(
        Policy::parse(&too_long, "p"),
        Err(Error::Config(ConfigError {
            reason: ConfigReason::Policy,
            ..
        }))
    ));
}

/// Two processes sharing one state file under policies A and B (4 sessions a day each, count
/// first): A's sessions do not spend B's daily budget, A's count-only run does not satisfy
/// B's `cardinality_before_reveal`, and each policy's own count still refuses at its limit.
#[test]
fn a_session_under_one_policy_spends_neither_the_budget_nor_the_count_first_rule_of_another() {
    use blindmatch::budget::admit_session;
    use blindmatch::policy::SessionRequest;
    let a = Policy::parse(EXAMPLE, "a").expect("policy A");
    let b = Policy::parse(
        &EXAMPLE.replace("output_retention_days = 90", "output_retention_days = 91"),
        "b",
    )
    .expect("policy B");
    assert_ne!(a.digest(), b.digest());
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("budget.json");
    let req = |mode: &str| SessionRequest {
        mode: mode.into(),
        own_count: 100,
        peer_count: Some(5000),
        kinds: vec!["imo_ship".into()],
        peer_fingerprint: "peer-a".into(),
        revealed_columns: vec![],
        prior_cardinality_run: false,
    };
    let payers = ["peer-a".to_owned()];
    // Under A: one count-only run, then revealing runs up to A's daily limit of 4.
    let mut store = BudgetStore::open(&path).expect("open");
    admit_session(
        &a,
        &mut store,
        None,
        &req("cardinality"),
        &session("peer-a"),
        T0,
    )
    .expect("A count");
    store
        .record_cardinality_run(&a, &payers, T0 + 1)
        .expect("record");
    for t in 2..5 {
        admit_session(
            &a,
            &mut store,
            None,
            &req("mutual"),
            &session("peer-a"),
            T0 + t,
        )
        .expect("A mutual");
    }
    let e = admit_session(
        &a,
        &mut store,
        None,
        &req("mutual"),
        &session("peer-a"),
        T0 + 5,
    )
    .expect_err("A's budget is spent");
    assert_eq!(refusal_rule(&e), Some(PolicyRule::MaxSessionsPerPeerPerDay));

    // Under B, from a fresh open of the same file: A's count-only run does not count ...
    let mut store = BudgetStore::open(&path).expect("reopen");
    assert_eq!(store.sessions_in_window("peer-a", T0 + 6), 4);
    assert_eq!(store.sessions_in_window_under(&a, "peer-a", T0 + 6), 4);
    assert_eq!(store.sessions_in_window_under(&b, "peer-a", T0 + 6), 0);
    assert!(!store.recent_cardinality_run(&b, &payers, T0 + 6));
    let e = admit_session(
        &b,
        &mut store,
        None,
        &req("mutual"),
        &session("peer-a"),
        T0 + 6,
    )
    .expect_err("B wants its own count first");
    assert_eq!(refusal_rule(&e), Some(PolicyRule::CardinalityBeforeReveal));
    // ... and A's four sessions leave B's budget whole: four admissions, the fifth refused.
    admit_session(
        &b,
        &mut store,
        None,
        &req("cardinality"),
        &session("peer-a"),
        T0 + 7,
    )
    .expect("B count");
    store
        .record_cardinality_run(&b, &payers, T0 + 8)
        .expect("record");
    for t in 9..12 {
        admit_session(
            &b,
            &mut store,
            None,
            &req("mutual"),
            &session("peer-a"),
            T0 + t,
        )
        .expect("B mutual");
    }
    let e = admit_session(
        &b,
        &mut store,
        None,
        &req("mutual"),
        &session("peer-a"),
        T0 + 12,
    )
    .expect_err("B's budget is spent");
    assert_eq!(refusal_rule(&e), Some(PolicyRule::MaxSessionsPerPeerPerDay));
    assert_eq!(store.sessions_in_window("peer-a", T0 + 12), 8);
}

/// A version 2 file's sessions named no policy: they count against every policy until they
/// leave the 24-hour window.
#[test]
fn a_version_2_state_files_sessions_count_against_every_policy() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("budget.json");
    std::fs::write(
        &path,
        format!(
            "{{\"version\":2,\"peers\":{{\"cert:ab\":{{\"sessions\":[{T0},{T0},{T0},{T0}]}}}}}}"
        ),
    )
    .expect("write");
    let policy = Policy::parse(EXAMPLE, "p").expect("policy");
    let mut store = BudgetStore::open(&path).expect("open v2");
    assert_eq!(
        store.sessions_in_window_under(&policy, "cert:ab", T0 + 1),
        4
    );
    let e = store
        .admit(&policy, &session("cert:ab"), T0 + 1)
        .expect_err("spent");
    assert_eq!(refusal_rule(&e), Some(PolicyRule::MaxSessionsPerPeerPerDay));
    store
        .admit(&policy, &session("cert:ab"), T0 + PERIOD_SECONDS + 1)
        .expect("renewed after a day");
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.contains("\"version\": 3"), "{text}");
}
