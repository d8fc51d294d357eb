//! Running `blindmatch` processes in a benchmark: identities, and a process's peak RSS.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Child, Command};

/// The binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_blindmatch");

/// The peak resident set of process `pid` so far (`VmHWM`), in MiB.
pub fn vm_hwm_mib(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<f64>().ok()? / 1024.0)
}

/// Waits for `child`, polling its peak RSS; returns (stdout, stderr, success, peak MiB).
pub fn wait_with_peak(mut child: Child) -> (String, String, bool, f64) {
    use std::io::Read;
    let pid = child.id();
    let mut out = String::new();
    let mut err = String::new();
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut e = String::new();
        let _ = stderr.read_to_string(&mut e);
        e
    });
    let out_reader = std::thread::spawn(move || {
        let mut o = String::new();
        let _ = stdout.read_to_string(&mut o);
        o
    });
    let mut peak: f64 = 0.0;
    let status = loop {
        if let Some(p) = vm_hwm_mib(pid) {
            peak = peak.max(p);
        }
        match child.try_wait().expect("wait") {
            Some(status) => break status,
            None => std::thread::sleep(std::time::Duration::from_millis(50)),
        }
    };
    out.push_str(&out_reader.join().expect("stdout reader"));
    err.push_str(&reader.join().expect("stderr reader"));
    (out, err, status.success(), peak)
}

/// Creates identity `name` under `root` and returns its fingerprint.
pub fn identity(root: &Path, name: &str) -> String {
    let out = Command::new(BIN)
        .args(["--quiet", "identity", "new", "--name", name, "--out"])
        .arg(root.join(name))
        .output()
        .expect("run blindmatch identity new");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
