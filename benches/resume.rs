//! What resuming costs (issue 16, `protocol-spec/09-buckets.md` section 9.12): one bucketed
//! session run whole, then the same session killed (`match`, SIGKILL) once its checkpoint
//! holds half the buckets and run again with `--resume`, in one run on one machine. Both
//! processes keep a checkpoint in all three runs, so the times compare like with like.
//!
//! Printed: the uninterrupted session's time, the resumed attempt's, the buckets it took from
//! the checkpoints (`d`) and ran (`B - d`), and the ratio of the resumed time to the whole
//! session's beside `(B - d) / B` and `(B - d + 1) / B` (the target: at most the unfinished
//! buckets plus one). Times are the sessions' own `elapsed_ms` (handshake to end) from `match
//! --json`; the process wall times (reading the input, assigning every item to its bucket
//! again, writing the output) are shown beside them.
//!
//! `cargo bench --bench resume` (`BLINDMATCH_BENCH_LOG2`, default 20, items a side, half
//! shared; `BLINDMATCH_BENCH_PROTOCOL`, default `vole`; buckets of `2^(LOG2 - 4)`, so 16 or 17).

#[path = "support/machine.rs"]
mod machine;
#[path = "support/process.rs"]
mod process;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use blindmatch::checkpoint::Checkpoint;
use blindmatch::generate::{generate, write_dataset, GenKind, GenSpec};
use process::{identity, BIN};

struct Setup {
    root: PathBuf,
    a_fp: String,
    b_fp: String,
    a_in: PathBuf,
    b_in: PathBuf,
    policy: PathBuf,
    protocol: String,
    bucket: u32,
}

impl Setup {
    fn side(&self, run: &str, side: &str, resume: bool) -> Vec<String> {
        let p = |what: &str| {
            self.root
                .join(format!("{run}-{side}.{what}"))
                .to_str()
                .expect("utf-8")
                .to_owned()
        };
        // match writes its progress as JSON lines on stderr (`--json` without `--quiet`).
        let mut v = vec![if side == "a" {
            "--log-level"
        } else {
            "--quiet"
        }
        .to_owned()];
        if side == "a" {
            v.push("warn".into());
        }
        v.extend([
            if side == "a" { "match" } else { "serve" }.into(),
            "--json".into(),
            "--mode".into(),
            "intersection".into(),
            "--protocol".into(),
            self.protocol.clone(),
            "--key".into(),
            GenKind::Container.key().into(),
            "--max-bucket".into(),
            self.bucket.to_string(),
            "--policy".into(),
            self.policy.to_str().expect("utf-8").into(),
            "--identity".into(),
            self.root
                .join(format!("agency-{side}"))
                .to_str()
                .expect("utf-8")
                .into(),
            "--audit-log".into(),
            p("audit.jsonl"),
            "--budget-state".into(),
            p("budget.json"),
            "--checkpoint".into(),
            // One checkpoint per side for the interrupted session and its resumption.
            p("checkpoint").replace("/resumed-", "/killed-"),
            "--output".into(),
            p("csv"),
            "--input".into(),
            if side == "a" { &self.a_in } else { &self.b_in }
                .to_str()
                .expect("utf-8")
                .into(),
            "--peer".into(),
            if side == "a" { &self.b_fp } else { &self.a_fp }.clone(),
        ]);
        if resume {
            v.push("--resume".into());
        }
        v
    }

    /// Starts `serve --once` for `run`; returns it and its address.
    fn serve(&self, run: &str, resume: bool) -> (Child, String) {
        let mut child = Command::new(BIN)
            .args(self.side(run, "b", resume))
            .args(["--once", "--listen", "127.0.0.1:0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start serve");
        let mut err = child.stderr.take().expect("stderr");
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        use std::io::Read;
        while err.read(&mut byte).expect("read serve stderr") == 1 && byte[0] != b'\n' {
            line.push(byte[0]);
        }
        std::thread::spawn(move || std::io::copy(&mut err, &mut std::io::sink()));
        let line = String::from_utf8_lossy(&line).to_string();
        let addr = line
            .strip_prefix("blindmatch: listening on ")
            .unwrap_or_else(|| panic!("serve did not start: {line}"))
            .to_owned();
        (child, addr)
    }

    fn spawn_match(&self, run: &str, addr: &str, resume: bool) -> Child {
        Command::new(BIN)
            .args(self.side(run, "a", resume))
            .args(["--connect", addr])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start match")
    }

    /// Runs `run` to its end: (session seconds, match process seconds, match summary, the
    /// body's seconds from its start to its last bucket).
    fn complete(&self, run: &str, resume: bool) -> (f64, f64, serde_json::Value, f64) {
        let (mut server, addr) = self.serve(run, resume);
        let start = Instant::now();
        let out = self
            .spawn_match(run, &addr, resume)
            .wait_with_output()
            .expect("match");
        let wall = start.elapsed().as_secs_f64();
        assert!(
            server.wait().expect("serve").success(),
            "{run}: serve failed"
        );
        assert!(
            out.status.success(),
            "{run}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let summary: serde_json::Value =
            serde_json::from_slice(out.stdout.trim_ascii()).expect("match --json");
        let session = summary["elapsed_ms"].as_f64().expect("elapsed_ms") / 1000.0;
        let last_bucket = String::from_utf8_lossy(&out.stderr)
            .lines()
            .rev()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter(|v| v["progress"] == "bucket")
            .filter_map(|v| v["elapsed_ms"].as_f64())
            .next()
            .unwrap_or(f64::NAN)
            / 1000.0;
        (session, wall, summary, last_bucket)
    }
}

fn main() {
    let log2: u32 = std::env::var("BLINDMATCH_BENCH_LOG2")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    assert!((14..=24).contains(&log2), "BLINDMATCH_BENCH_LOG2: 14 to 24");
    let protocol = std::env::var("BLINDMATCH_BENCH_PROTOCOL").unwrap_or_else(|_| "vole".into());
    let n = 1usize << log2;
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path().to_path_buf();
    let spec = GenSpec {
        kind: GenKind::Container,
        count: n,
        overlap: n / 2,
        seed: 1,
    };
    let files = write_dataset(&generate(&spec).expect("generate"), &root).expect("write");
    let policy = root.join("bench-policy.toml");
    std::fs::write(
        &policy,
        format!(
            "version = 2\nname = \"resume bench\"\nmodes = [\"intersection\"]\n\
             identifier_kinds = [\"container\"]\nmin_set_size = 1\nmax_set_size = {n}\n\
             revealable_columns = []\nmax_sessions_per_peer_per_day = 10\n\
             max_elements_per_peer = {}\ncardinality_before_reveal = false\n\
             output_retention_days = 0\n",
            4 * n
        ),
    )
    .expect("write the bench policy");
    let s = Setup {
        a_fp: identity(&root, "agency-a"),
        b_fp: identity(&root, "agency-b"),
        root,
        a_in: files.a,
        b_in: files.b,
        policy,
        protocol,
        bucket: 1 << (log2 - 4),
    };
    println!(
        "n: 2^{log2} per side, {} intersection, --max-bucket 2^{}; CPU {}; backend {}, {} cores",
        s.protocol,
        log2 - 4,
        machine::cpu_model(),
        blindmatch::group::backend(),
        rayon::current_num_threads()
    );

    let (whole, whole_wall, summary, whole_body) = s.complete("whole", false);
    let buckets = summary["buckets"].as_u64().expect("buckets") as u32;
    assert_eq!(summary["matches"].as_u64(), Some((n / 2) as u64));

    // Killed once match's checkpoint holds half the buckets.
    let (mut server, addr) = s.serve("killed", false);
    let mut client = s.spawn_match("killed", &addr, false);
    let ckpt = s.root.join("killed-a.checkpoint");
    let kill_at = buckets / 2;
    loop {
        assert!(
            client.try_wait().expect("wait").is_none(),
            "the session ended before {kill_at} buckets"
        );
        if let Ok(Some(st)) = Checkpoint::status(&ckpt) {
            if st.buckets_done >= kill_at {
                client.kill().expect("kill");
                client.wait().expect("reap");
                break;
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = server.wait();
    let kept = |side: &str| {
        Checkpoint::status(Path::new(&s.root.join(format!("killed-{side}.checkpoint"))))
            .expect("readable")
            .map_or(0, |st| st.buckets_done)
    };
    println!(
        "killed match once its checkpoint held {kill_at} of {buckets} buckets: match kept {}, serve {}",
        kept("a"),
        kept("b")
    );

    let (resumed, resumed_wall, summary, resumed_body) = s.complete("resumed", true);
    assert_eq!(summary["matches"].as_u64(), Some((n / 2) as u64));
    let done = summary["resumed"]["buckets_done"]
        .as_u64()
        .expect("resumed") as u32;
    let b = f64::from(buckets);
    let ran = f64::from(buckets - done);
    println!("uninterrupted session: {whole:.2} s (match process {whole_wall:.2} s)");
    println!(
        "resumed attempt:       {resumed:.2} s (match process {resumed_wall:.2} s); took {done} buckets from the checkpoints, ran {}",
        buckets - done
    );
    println!(
        "ratio resumed / uninterrupted: {:.3} (session), {:.3} (process); (B - d) / B = {:.3}, (B - d + 1) / B = {:.3}",
        resumed / whole,
        resumed_wall / whole_wall,
        ran / b,
        (ran + 1.0) / b
    );
    println!(
        "the buckets alone (body start to last bucket, match's progress): {whole_body:.2} s and {resumed_body:.2} s, ratio {:.3}; the rest of each session (handshake, assigning every item to its bucket, receipts, output): {:.2} s and {:.2} s",
        resumed_body / whole_body,
        whole - whole_body,
        resumed - resumed_body
    );
}
