//! Kill either process of a bucketed session at several points, run both again with
//! `--resume`, and compare with an uninterrupted session (`protocol-spec/09-buckets.md`
//! section 9.12): the matched rows are the same, the resumed attempt takes the buckets both
//! sides had finished from their checkpoints, the checkpoints are removed once it completes,
//! and the compliance report of each agency shows one session with its two attempts.
#![allow(clippy::unwrap_used)]

mod net_common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use blindmatch::checkpoint::Checkpoint;
use blindmatch::report::{Disclosure, Filter, Status};
use net_common::*;

/// Rows `value,row`: A has 20,000 of its own and B 15,000, 3,000 shared (A has 100 of them
/// twice). With `--max-bucket 1024`, 23 buckets.
fn inputs(dir: &Path) -> (PathBuf, PathBuf) {
    shared_inputs(dir, (20_000, 15_000, 3000, 100))
}

const BUCKETS: u32 = 23;

struct World {
    root: tempfile::TempDir,
    a: (PathBuf, String),
    b: (PathBuf, String),
    inputs: (PathBuf, PathBuf),
}

impl World {
    fn new() -> World {
        let root = tempfile::tempdir().unwrap();
        let a = identity(root.path(), "agency-a");
        let b = identity(root.path(), "agency-b");
        let inputs = inputs(root.path());
        World { root, a, b, inputs }
    }

    fn path(&self, tag: &str, side: &str, what: &str) -> PathBuf {
        self.root.path().join(format!("{tag}-{side}.{what}"))
    }

    /// The options of one side of attempt `tag`'s logical session `run`.
    fn args(&self, run: &str, side: &str, mode: &str, protocol: &str, resume: bool) -> Vec<String> {
        let p = |what: &str| self.path(run, side, what).to_str().unwrap().to_owned();
        let mut v: Vec<String> = [
            "--json",
            "--mode",
            mode,
            "--protocol",
            protocol,
            "--key",
            "container:raw",
            "--max-bucket",
            "1024",
        ]
        .map(String::from)
        .to_vec();
        v.extend(["--audit-log".into(), p("audit.jsonl")]);
        v.extend(["--budget-state".into(), p("budget.json")]);
        v.extend(["--checkpoint".into(), p("checkpoint")]);
        if resume {
            v.push("--resume".into());
        }
        v
    }

    fn serve(&self, args: &[String], out: &Path) -> Server {
        let mut args = args.to_vec();
        args.extend(["--output".into(), out.to_str().unwrap().into()]);
        let refs: Vec<&str> = args.iter().map(String::as_str).collect();
        Server::start(&self.b.0, &self.a.1, &self.inputs.1, &refs)
    }

    fn spawn_match(&self, addr: &str, args: &[String], out: &Path) -> Child {
        Command::new(BIN)
            .args(["--quiet", "match", "--connect", addr, "--identity"])
            .arg(&self.a.0)
            .args(["--peer", &self.b.1, "--input"])
            .arg(&self.inputs.0)
            .arg("--output")
            .arg(out)
            .args(["--policy", open_policy()])
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }
}

/// The sorted rows of a matches file.
fn rows(path: &Path) -> Vec<String> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let mut v: Vec<String> = r
        .records()
        .map(|rec| rec.unwrap().iter().collect::<Vec<_>>().join(","))
        .collect();
    v.sort();
    v
}

fn summary(stdout: &[u8]) -> serde_json::Value {
    let text = String::from_utf8_lossy(stdout);
    serde_json::from_str(text.lines().last().unwrap_or(""))
        .unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Victim {
    Serve,
    Match,
}

/// Waits until `dir`'s checkpoint keeps at least `k` buckets, then kills the victim with
/// SIGKILL (a crash: nothing is flushed, nothing is logged).
fn kill_when(dir: &Path, k: u32, victim: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        assert!(
            victim.try_wait().unwrap().is_none(),
            "the session ended before {k} buckets were checkpointed"
        );
        if let Ok(Some(s)) = Checkpoint::status(dir) {
            assert_eq!(s.buckets, BUCKETS);
            if s.buckets_done >= k {
                victim.kill().unwrap();
                victim.wait().unwrap();
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "no progress in {}",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// One uninterrupted session, its A and B rows.
fn whole(w: &World, mode: &str, protocol: &str) -> (Vec<String>, Vec<String>) {
    let tag = format!("whole-{mode}-{protocol}");
    let (a_out, b_out) = (w.path(&tag, "a", "csv"), w.path(&tag, "b", "csv"));
    let server = w.serve(&w.args(&tag, "b", mode, protocol, false), &b_out);
    let a = w
        .spawn_match(
            &server.addr,
            &w.args(&tag, "a", mode, protocol, false),
            &a_out,
        )
        .wait_with_output()
        .unwrap();
    let (ok, _, err) = server.finish();
    assert!(a.status.success(), "{}", String::from_utf8_lossy(&a.stderr));
    assert!(ok, "{err}");
    let s = summary(&a.stdout);
    assert_eq!(s["buckets"], BUCKETS);
    assert!(s["resumed"].is_null());
    (
        rows(&a_out),
        if mode == "mutual" {
            rows(&b_out)
        } else {
            Vec::new()
        },
    )
}

/// Kills `victim` once its checkpoint keeps `k` buckets, resumes, and compares.
fn interrupted(
    w: &World,
    mode: &str,
    protocol: &str,
    victim: Victim,
    k: u32,
    want: &(Vec<String>, Vec<String>),
) {
    let tag = format!("{mode}-{protocol}-{victim:?}-{k}");
    let (a_out, b_out) = (w.path(&tag, "a", "csv"), w.path(&tag, "b", "csv"));
    let mut server = w.serve(&w.args(&tag, "b", mode, protocol, false), &b_out);
    let mut client = w.spawn_match(
        &server.addr,
        &w.args(&tag, "a", mode, protocol, false),
        &a_out,
    );
    match victim {
        Victim::Serve => kill_when(&w.path(&tag, "b", "checkpoint"), k, &mut server.child),
        Victim::Match => kill_when(&w.path(&tag, "a", "checkpoint"), k, &mut client),
    }
    // The other side sees the connection end, fails, and keeps its checkpoint: unless the
    // victim died before the survivor's body began (possible at k = 0), when it has none.
    let a = client.wait_with_output().unwrap();
    let (ok, _, s_err) = server.finish();
    assert!(!a.status.success() && !ok, "{tag}: both attempts fail");
    assert!(
        !a_out.exists() && !b_out.exists(),
        "{tag}: no output from a failed attempt ({} {})",
        a_out.exists(),
        b_out.exists()
    );
    let kept = |side| {
        Checkpoint::status(&w.path(&tag, side, "checkpoint"))
            .unwrap()
            .map(|s| s.buckets_done)
    };
    let (ka, kb) = (kept("a"), kept("b"));
    let (killed, survivor, survivor_err) = match victim {
        Victim::Match => (ka, kb, s_err),
        Victim::Serve => (kb, ka, String::from_utf8_lossy(&a.stderr).into_owned()),
    };
    let killed = killed.expect("the victim kept its checkpoint");
    assert!(killed >= k, "{tag}: killed after {k}, kept {killed}");
    let done = match survivor {
        Some(n) => {
            assert!(
                survivor_err.contains("--resume"),
                "{tag}: the survivor says how to go on: {survivor_err}"
            );
            // A side opens bucket b only once all but the last [WINDOW] = 2 before it
            // finished, so the survivor is at most two buckets behind.
            assert!(n + 2 >= k, "{tag}: kept {ka:?} and {kb:?}");
            Some(killed.min(n))
        }
        None => {
            assert_eq!(
                k, 0,
                "{tag}: only a kill before any bucket leaves no checkpoint"
            );
            None
        }
    };

    // Both again, with --resume.
    let server = w.serve(&w.args(&tag, "b", mode, protocol, true), &b_out);
    let a = w
        .spawn_match(
            &server.addr,
            &w.args(&tag, "a", mode, protocol, true),
            &a_out,
        )
        .wait_with_output()
        .unwrap();
    let (ok, s_out, s_err) = server.finish();
    assert!(
        a.status.success(),
        "{tag}: {}",
        String::from_utf8_lossy(&a.stderr)
    );
    assert!(ok, "{tag}: {s_err}");
    let (sa, sb) = (summary(&a.stdout), summary(s_out.as_bytes()));
    match done {
        Some(d) => assert_eq!(sa["resumed"]["buckets_done"], d, "{tag}"),
        // The survivor had nothing to resume: the session started over.
        None => assert!(sa["resumed"].is_null(), "{tag}"),
    }
    assert_eq!(sa["resumed"], sb["resumed"], "{tag}");
    assert_eq!(rows(&a_out), want.0, "{tag}: A's rows");
    if mode == "mutual" {
        assert_eq!(rows(&b_out), want.1, "{tag}: B's rows");
    }
    for side in ["a", "b"] {
        let dir = w.path(&tag, side, "checkpoint");
        assert_eq!(Checkpoint::status(&dir).unwrap(), None, "{tag}: removed");
        // One logical session in the report, with both attempts.
        let log = w.path(&tag, side, "audit.jsonl");
        let verified = blindmatch::audit::verify(&log, &[]).unwrap();
        let d = Disclosure::build("audit.jsonl", &verified, &Filter::All);
        let Some(done) = done else {
            // Two sessions: the interrupted one and a new one.
            assert_eq!(d.sessions.len(), 2, "{tag} {side}");
            assert!(d.sessions.iter().all(|s| s.attempts.is_empty()));
            assert!(matches!(d.sessions[1].status, Status::Completed(_)));
            continue;
        };
        assert_eq!(d.sessions.len(), 1, "{tag} {side}");
        let s = &d.sessions[0];
        assert!(matches!(s.status, Status::Completed(_)), "{tag} {side}");
        assert_eq!(s.attempts.len(), 2, "{tag} {side}");
        assert_eq!(s.attempts[1].buckets_done, done);
        assert_eq!(s.attempts[1].outcome, "completed");
        let killed = (side == "a") == (victim == Victim::Match);
        if killed {
            assert_eq!(s.attempts[0].outcome, "unfinished", "{tag} {side}");
        } else {
            assert!(s.attempts[0].outcome.starts_with("aborted"), "{tag} {side}");
        }
        assert!(s.attempts_text().starts_with("2 (interrupted and resumed"));
    }
}

#[test]
fn dh_psi_killed_on_either_side_resumes_to_the_uninterrupted_result() {
    let w = World::new();
    let want = whole(&w, "mutual", "dh");
    assert_eq!(want.0.len(), 3100);
    assert_eq!(want.1.len(), 3000);
    for (victim, k) in [
        (Victim::Serve, 1),
        (Victim::Match, 9),
        (Victim::Serve, 17),
        (Victim::Match, 0),
    ] {
        interrupted(&w, "mutual", "dh", victim, k, &want);
    }
}

#[test]
fn vole_psi_killed_midway_resumes_to_the_uninterrupted_result() {
    let w = World::new();
    let want = whole(&w, "intersection", "vole");
    assert_eq!(want.0.len(), 3100);
    interrupted(&w, "intersection", "vole", Victim::Match, 4, &want);
    interrupted(&w, "intersection", "vole", Victim::Serve, 11, &want);
}

/// A checkpoint directory of an unfinished session is not overwritten by a new session
/// started without --resume; `serve` keeps a checkpoint only with --once.
#[test]
fn an_unfinished_checkpoint_is_not_overwritten() {
    let w = World::new();
    let dir = w.path("x", "a", "checkpoint");
    let items = blindmatch::protocol::ItemSet::new(["x"]);
    let c = Checkpoint::open(&dir, false, blindmatch::protocol::Role::Initiator, &items).unwrap();
    c.bind_peer(w.b.1.parse().unwrap()).unwrap();
    c.record(&blindmatch::session::CheckpointEntry {
        begin: Some(blindmatch::session::CheckpointBegin {
            role: blindmatch::protocol::Role::Initiator,
            logical_session: [1; 32],
            session_id: [1; 32],
            transcript: [2; 32],
            terms_digest: [3; 32],
            buckets: 4,
            buckets_done: 0,
        }),
        finished: Vec::new(),
    })
    .unwrap();
    drop(c);
    let args = w.args("x", "a", "mutual", "dh", false);
    // match_nowhere gives --json itself.
    let out_path = w.path("x", "a", "csv");
    let mut refs: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| *a != "--json")
        .collect();
    refs.extend(["--output", out_path.to_str().unwrap()]);
    let out = match_nowhere(&w.a.0, &w.inputs.0, &refs);
    assert_eq!(output_code(&out).as_deref(), Some("checkpoint.unfinished"));
    // With --resume but another role's checkpoint (this one is the initiator's).
    let mut serve_args = w.args("xb", "b", "mutual", "dh", true);
    let at = serve_args.iter().position(|a| a == "--checkpoint").unwrap();
    serve_args[at + 1] = dir.to_str().unwrap().to_owned();
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--once", "--listen", "127.0.0.1:0", "--identity"])
        .arg(&w.b.0)
        .args(["--peer", &w.a.1, "--policy", open_policy(), "--input"])
        .arg(&w.inputs.1)
        .args(serve_args)
        .args(["--output", w.path("x", "b", "csv").to_str().unwrap()]);
    let out = cmd.output().unwrap();
    assert_eq!(
        output_code(&out).as_deref(),
        Some("checkpoint.role_changed")
    );
    let mut cmd = Command::new(BIN);
    cmd.args(["serve", "--listen", "127.0.0.1:0", "--identity"])
        .arg(&w.b.0)
        .args(["--peer", &w.a.1, "--policy", open_policy(), "--input"])
        .arg(&w.inputs.1)
        .args(w.args("y", "b", "mutual", "dh", false))
        .args(["--output", w.path("y", "b", "csv").to_str().unwrap()]);
    let out = cmd.output().unwrap();
    assert_eq!(output_code(&out).as_deref(), Some("config.conflict"));
}
