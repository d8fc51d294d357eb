//! `Policy::check_session` refuses each kind of violation and names the rule.

use blindmatch::error::PolicyRule;
use blindmatch::policy::{Policy, SessionRequest};
use blindmatch::Error;

const EXAMPLE: &str = include_str!("../examples/policy.toml");

fn policy() -> Policy {
    Policy::parse(EXAMPLE, "policy.toml").expect("example parses")
}

fn ok_request() -> SessionRequest {
    SessionRequest {
        mode: "intersection".into(),
        own_count: 100,
        peer_count: Some(5000),
        kinds: vec!["imo_ship".into()],
        peer_fingerprint: "aa".repeat(32),
        revealed_columns: vec![],
        prior_cardinality_run: true,
    }
}

fn refused_rule(p: &Policy, r: &SessionRequest) -> PolicyRule {
    match p.check_session(r) {
        Err(Error::PolicyRefused(r)) => {
            assert!(!r.detail.is_empty());
            r.rule
        }
        other => panic!("expected a policy refusal, got {other:?}"),
    }
}

#[test]
fn a_conforming_session_is_allowed() {
    policy().check_session(&ok_request()).expect("allowed");
    let before_handshake = SessionRequest {
        peer_count: None,
        ..ok_request()
    };
    policy().check_session(&before_handshake).expect("allowed");
}

#[test]
fn each_rule_refuses_and_names_itself() {
    let p = policy();
    let cases: Vec<(PolicyRule, SessionRequest)> = vec![
        (
            PolicyRule::Modes,
            SessionRequest {
                mode: "labeled".into(),
                ..ok_request()
            },
        ),
        (
            PolicyRule::IdentifierKinds,
            SessionRequest {
                kinds: vec!["raw".into()],
                ..ok_request()
            },
        ),
        (
            PolicyRule::IdentifierKinds,
            SessionRequest {
                kinds: vec![],
                ..ok_request()
            },
        ),
        (
            PolicyRule::MinSetSize,
            SessionRequest {
                own_count: 9,
                ..ok_request()
            },
        ),
        (
            // Above both max_set_size and the padding bound (both 5,000): the size rule first.
            PolicyRule::MaxSetSize,
            SessionRequest {
                own_count: 5001,
                ..ok_request()
            },
        ),
        (
            PolicyRule::PaddingBound,
            SessionRequest {
                peer_count: Some(4999),
                ..ok_request()
            },
        ),
        (
            PolicyRule::RevealableColumns,
            SessionRequest {
                revealed_columns: vec!["owner".into()],
                ..ok_request()
            },
        ),
        (
            PolicyRule::CardinalityBeforeReveal,
            SessionRequest {
                prior_cardinality_run: false,
                ..ok_request()
            },
        ),
    ];
    for (rule, req) in cases {
        assert_eq!(refused_rule(&p, &req), rule, "{req:?}");
    }
}

#[test]
fn cardinality_runs_need_no_prior_run() {
    let req = SessionRequest {
        mode: "cardinality".into(),
        prior_cardinality_run: false,
        ..ok_request()
    };
    policy()
        .check_session(&req)
        .expect("a count-only run is always allowed first");
}

#[test]
fn without_padding_the_peer_size_is_bounded() {
    let text = EXAMPLE.replace("padding_bound = 5_000", "");
    let p = Policy::parse(&text, "p").expect("parses");
    assert_eq!(p.padded_count(123), 123);
    let big = SessionRequest {
        own_count: 5_001,
        peer_count: Some(50),
        ..ok_request()
    };
    assert_eq!(refused_rule(&p, &big), PolicyRule::MaxSetSize);
    let small_peer = SessionRequest {
        peer_count: Some(3),
        ..ok_request()
    };
    assert_eq!(refused_rule(&p, &small_peer), PolicyRule::MinSetSize);
    let fine = SessionRequest {
        peer_count: Some(70),
        ..ok_request()
    };
    p.check_session(&fine).expect("allowed");
}
