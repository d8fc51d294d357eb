//! Helpers for the network tests: identities, a `serve` process on 127.0.0.1:0, `match` runs.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;

pub mod raw;

pub const BIN: &str = env!("CARGO_BIN_EXE_blindmatch");

/// The policy the network tests run under unless they pass `--policy` themselves.
pub const OPEN_POLICY_TEXT: &str = include_str!("open-policy.toml");

/// The path of [`OPEN_POLICY_TEXT`].
pub fn open_policy() -> &'static str {
    concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/net_common/open-policy.toml"
    )
}

/// `--policy OPEN` unless `extra` names a policy.
fn policy_args(extra: &[&str]) -> Vec<&'static str> {
    if extra.contains(&"--policy") {
        Vec::new()
    } else {
        vec!["--policy", open_policy()]
    }
}

/// The `code` of the JSON error object a `--json` run printed on stdout, if any.
pub fn error_code(stdout: &str) -> Option<String> {
    stdout.lines().find_map(|l| {
        let v: serde_json::Value = serde_json::from_str(l).ok()?;
        Some(v["error"]["code"].as_str()?.to_string())
    })
}

/// The `code` of the JSON error object in a finished run's stdout, if any.
pub fn output_code(out: &Output) -> Option<String> {
    error_code(&String::from_utf8_lossy(&out.stdout))
}

/// A test path as `&str` (test paths are UTF-8).
pub fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8")
}

/// `match --json` to 127.0.0.1:9, where nothing listens, under the open test policy: what a
/// run says before it connects.
pub fn match_nowhere(id: &Path, input: &Path, extra: &[&str]) -> Output {
    let fp = "ab".repeat(32);
    Command::new(BIN)
        .args(["match", "--json", "--connect", "127.0.0.1:9", "--identity"])
        .arg(id)
        .args(["--peer", &fp, "--policy", open_policy()])
        .args(["--input", path_str(input)])
        .args(extra)
        .output()
        .expect("run")
}

/// The kind of the last event of an audit log.
pub fn last_event(log: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(log).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    last["entry"]["event"].clone()
}

/// Creates an identity with the binary and returns (dir, fingerprint).
pub fn identity(root: &Path, name: &str) -> (PathBuf, String) {
    let dir = root.join(name);
    let out = Command::new(BIN)
        .args(["--quiet", "identity", "new", "--name", name, "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let fp = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_eq!(fp.len(), 64, "{fp}");
    (dir, fp)
}

/// Two agencies' inputs of rows `container,row` (the row number makes every row distinct):
/// `own_a` and `own_b` values of each side's own, `shared` values in both, and the first
/// `twice` shared values a second time in A's.
pub fn shared_inputs(
    dir: &Path,
    (own_a, own_b, shared, twice): (usize, usize, usize, usize),
) -> (PathBuf, PathBuf) {
    let shared: Vec<String> = (0..shared).map(|i| format!("MSCU{i:07}")).collect();
    let mut a: Vec<String> = (0..own_a).map(|i| format!("A{i:06}")).collect();
    let mut b: Vec<String> = (0..own_b).map(|i| format!("B{i:06}")).collect();
    a.extend(shared.iter().cloned());
    a.extend(shared.iter().take(twice).cloned());
    b.extend(shared.iter().cloned());
    let write = |name: &str, values: &[String]| {
        let path = dir.join(name);
        let mut text = String::from("container,row\n");
        for (i, v) in values.iter().enumerate() {
            text.push_str(&format!("{v},{i}\n"));
        }
        std::fs::write(&path, text).unwrap();
        path
    };
    (write("a.csv", &a), write("b.csv", &b))
}

pub fn write_items(path: &Path, items: &[String]) {
    std::fs::write(path, items.join("\n") + "\n").unwrap();
}

/// A running `serve` (killed when dropped, so a failing test leaves no process behind).
pub struct Server {
    pub child: Child,
    pub addr: String,
    stderr_rest: mpsc::Receiver<String>,
}

impl Server {
    /// Starts `blindmatch serve --once --listen 127.0.0.1:0 ...extra`.
    pub fn start(identity: &Path, peer: &str, input: &Path, extra: &[&str]) -> Server {
        Server::start_with(identity, peer, input, extra, true)
    }

    /// As [`Server::start`]; without `once`, it serves until interrupted.
    pub fn start_with(
        identity: &Path,
        peer: &str,
        input: &Path,
        extra: &[&str],
        once: bool,
    ) -> Server {
        let once_arg: &[&str] = if once { &["--once"] } else { &[] };
        let mut cmd = Command::new(BIN);
        cmd.args(["--quiet", "serve"])
            .args(once_arg)
            .args(["--listen", "127.0.0.1:0", "--identity"])
            .arg(identity)
            .args(["--peer", peer, "--input"])
            .arg(input)
            .args(policy_args(extra))
            .args(extra);
        Server::from_command(cmd)
    }

    /// Starts a `serve` command built by the caller (it must listen on 127.0.0.1:0).
    pub fn from_command(mut cmd: Command) -> Server {
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (addr_tx, addr_rx) = mpsc::channel();
        let (rest_tx, rest_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(stderr);
            let mut rest = String::new();
            let mut line = String::new();
            while r.read_line(&mut line).unwrap_or(0) > 0 {
                if let Some(a) = line.trim().strip_prefix("blindmatch: listening on ") {
                    let _ = addr_tx.send(a.to_string());
                } else {
                    rest.push_str(&line);
                }
                line.clear();
            }
            let _ = rest_tx.send(rest);
        });
        let addr = addr_rx.recv().expect("serve did not start");
        Server {
            child,
            addr,
            stderr_rest: rest_rx,
        }
    }

    /// Waits for the process: (success, stdout, stderr).
    pub fn finish(mut self) -> (bool, String, String) {
        let status = self.child.wait().unwrap();
        let mut out = String::new();
        self.child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
        let err = self.stderr_rest.recv().unwrap_or_default();
        (status.success(), out, err)
    }
}

/// Runs `blindmatch match ...` to completion.
pub fn run_match(
    identity: &Path,
    peer: &str,
    addr: &str,
    input: &Path,
    output: &Path,
    extra: &[&str],
) -> Output {
    Command::new(BIN)
        .args(["--quiet", "match", "--connect", addr, "--identity"])
        .arg(identity)
        .args(["--peer", peer, "--input"])
        .arg(input)
        .arg("--output")
        .arg(output)
        .args(policy_args(extra))
        .args(extra)
        .output()
        .unwrap()
}

impl Drop for Server {
    fn drop(&mut self) {
        // Already exited after `finish`; otherwise the test failed before stopping it.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
