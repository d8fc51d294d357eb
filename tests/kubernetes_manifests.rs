//! The Kubernetes example of sharded sessions (`examples/kubernetes/`, README "Shards on
//! several machines"): the two agencies' Indexed Jobs must agree, or their pods would be
//! refused at the handshake (another shard count, name or mode) or never meet. The arguments
//! are also parsed by blindmatch's own command line, as a pod would run them.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::process::Command;

const SERVE: &str = include_str!("../examples/kubernetes/agency-b-serve.yaml");
const MATCH: &str = include_str!("../examples/kubernetes/agency-a-match.yaml");
const BIN: &str = env!("CARGO_BIN_EXE_blindmatch");

/// A manifest's container `args` (the list items under `args:`), its `env` values, and the
/// Job's `completions` and `parallelism`, read line by line (the files are plain YAML lists).
struct Job {
    args: Vec<String>,
    env: BTreeMap<String, String>,
    completions: u32,
    parallelism: u32,
}

fn job(text: &str) -> Job {
    let mut args = Vec::new();
    let mut env = BTreeMap::new();
    let mut in_args = false;
    let mut name = None;
    let field = |line: &str, key: &str| -> Option<u32> {
        line.trim().strip_prefix(key)?.trim().parse().ok()
    };
    let (mut completions, mut parallelism) = (0, 0);
    for line in text.lines() {
        let t = line.trim();
        if t == "args:" {
            in_args = true;
            continue;
        }
        if in_args && t.starts_with('#') {
            continue;
        }
        if in_args {
            match t.strip_prefix("- ") {
                Some(a) => {
                    args.push(a.trim_matches('"').to_owned());
                    continue;
                }
                None => in_args = false,
            }
        }
        if let Some(n) = t.strip_prefix("- name: ") {
            name = Some(n.split_whitespace().next().unwrap().to_owned());
        } else if let (Some(v), Some(n)) = (t.strip_prefix("value: "), &name) {
            env.insert(n.clone(), v.trim_matches('"').to_owned());
        }
        completions = field(line, "completions:").unwrap_or(completions);
        parallelism = field(line, "parallelism:").unwrap_or(parallelism);
    }
    Job {
        args,
        env,
        completions,
        parallelism,
    }
}

/// The value of `--flag=value` among `args`.
fn flag<'a>(args: &'a [String], name: &str) -> &'a str {
    let prefix = format!("--{name}=");
    args.iter()
        .find_map(|a| a.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("no --{name} in {args:?}"))
}

/// The identifier kinds of the `--key column:kind` flags.
fn kinds(args: &[String]) -> Vec<String> {
    args.iter()
        .filter_map(|a| a.strip_prefix("--key="))
        .map(|k| k.split(':').nth(1).unwrap().to_owned())
        .collect()
}

/// `args` as pod `index` runs them: Kubernetes substitutes `$(VAR)` from the environment.
fn expanded(job: &Job, index: u32) -> Vec<String> {
    let mut vars = job.env.clone();
    vars.insert("JOB_COMPLETION_INDEX".into(), index.to_string());
    job.args
        .iter()
        .map(|a| {
            vars.iter()
                .fold(a.clone(), |a, (k, v)| a.replace(&format!("$({k})"), v))
        })
        .collect()
}

#[test]
fn the_two_jobs_agree() {
    let (b, a) = (job(SERVE), job(MATCH));
    assert_eq!(b.args.get(1).map(String::as_str), Some("serve"));
    assert_eq!(a.args.get(1).map(String::as_str), Some("match"));
    for j in [&a, &b] {
        let n = j.completions;
        assert!(n > 1);
        assert_eq!(j.parallelism, n, "every shard runs at once");
        assert_eq!(
            flag(&j.args, "shard"),
            format!("$(JOB_COMPLETION_INDEX)/{n}")
        );
    }
    assert_eq!(a.completions, b.completions);
    assert_eq!(a.env["LOGICAL_SESSION"], b.env["LOGICAL_SESSION"]);
    assert_eq!(flag(&a.args, "mode"), flag(&b.args, "mode"));
    assert_eq!(kinds(&a.args), kinds(&b.args));
    // Pod I of A connects to pod I of B through B's headless Service.
    assert!(SERVE.contains("clusterIP: None"));
    assert!(SERVE.contains("subdomain: blindmatch-b"));
    let port = flag(&b.args, "listen")
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    assert_eq!(
        flag(&a.args, "connect"),
        format!("blindmatch-b-$(JOB_COMPLETION_INDEX).blindmatch-b:{port}")
    );
    // Each pod keeps its own log, budget, output and checkpoint, named by its index, and a
    // pod run again resumes its shard.
    for j in [&a, &b] {
        for f in ["audit-log", "budget-state", "output", "checkpoint"] {
            assert!(flag(&j.args, f).contains("$(JOB_COMPLETION_INDEX)"), "{f}");
        }
        assert!(j.args.iter().any(|a| a == "--resume"));
    }
}

/// Every pod's arguments are accepted by blindmatch's parser: asked for `--help` after them,
/// the subcommand prints its help (exit 0) only when every flag before it parsed.
#[test]
fn every_pods_arguments_parse() {
    for j in [job(SERVE), job(MATCH)] {
        for index in [0, j.completions - 1] {
            let mut args = expanded(&j, index);
            args.push("--help".into());
            let out = Command::new(BIN).args(&args).output().unwrap();
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        let mut bad = expanded(&j, j.completions);
        bad.push("--help".into());
        let out = Command::new(BIN).args(&bad).output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "shard {0}/{0} is refused",
            j.completions
        );
    }
}
