//! The index examples end to end through the command line: an intact labeled index
//! serves the right payload (`R01138`); a flipped payload byte, a flipped label key byte, a
//! `tags.bin` copied from another index, or a passphrase file other users may read make
//! `serve --index` refuse before it listens, with a typed error code, and no session runs.
#![allow(clippy::unwrap_used)]

#[path = "net_common/mod.rs"]
mod net_common;

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use net_common::{identity, output_code, run_match, Server, BIN};

const PASS: &str = "c2VjcmV0LXRlc3QtcGFzc3BocmFzZS0zMi1ieXRlcy1sb25n\n";

fn chmod(path: &Path, mode: u32) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }
    #[cfg(not(unix))]
    let _ = (path, mode);
}

/// `blindmatch index` of `csv` (in `d`) into `d/out`, labeled by its `record` column.
fn build_index(d: &Path, csv: &str, out: &str) {
    let built = Command::new(BIN)
        .current_dir(d)
        .args(["--quiet", "index", "--input", csv, "--column", "id"])
        .args(["--label-columns", "record", "--out", out])
        .args(["--passphrase-file", "pass"])
        .output()
        .unwrap();
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
}

fn policy(d: &Path) -> String {
    let text = net_common::OPEN_POLICY_TEXT
        .replace(
            "modes = [\"intersection\", \"mutual\", \"cardinality\"]",
            "modes = [\"intersection\", \"mutual\", \"cardinality\", \"labeled\"]\n\
             payload_len = 64",
        )
        .replace(
            "revealable_columns = []",
            "revealable_columns = [\"record\"]",
        )
        + "allow_key_reuse = true\n";
    let path = d.join("p.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

struct Setup {
    root: tempfile::TempDir,
    a: (std::path::PathBuf, String),
    b: (std::path::PathBuf, String),
    policy: String,
}

fn setup() -> Setup {
    let root = tempfile::tempdir().unwrap();
    let d = root.path();
    std::fs::write(d.join("pass"), PASS).unwrap();
    chmod(&d.join("pass"), 0o600);
    std::fs::write(
        d.join("s.csv"),
        "id,record\nIMO9074729,R01138\nIMO9321483,R02000\nIMO9811000,R03000\n",
    )
    .unwrap();
    std::fs::write(
        d.join("other.csv"),
        "id,record\nIMO9074729,R01138\nIMO9321483,R02000\nIMO9811000,R03000\n",
    )
    .unwrap();
    std::fs::write(d.join("r.csv"), "id\nIMO9074729\nIMO1234567\n").unwrap();
    build_index(d, "s.csv", "idx");
    build_index(d, "other.csv", "other");
    let policy = policy(d);
    let a = identity(d, "agency-a");
    let b = identity(d, "agency-b");
    Setup { root, a, b, policy }
}

impl Setup {
    fn d(&self) -> &Path {
        self.root.path()
    }

    fn serve(&self) -> Command {
        let mut c = Command::new(BIN);
        c.args(["--quiet", "serve", "--once", "--listen", "127.0.0.1:0"])
            .arg("--identity")
            .arg(&self.b.0)
            .args([
                "--peer", &self.a.1, "--json", "--mode", "labeled", "--index",
            ])
            .arg(self.d().join("idx"))
            .arg("--passphrase-file")
            .arg(self.d().join("pass"))
            .args(["--policy", &self.policy]);
        c
    }

    /// A labeled session from the index; the receiver's output.
    fn session(&self) -> String {
        let server = Server::from_command(self.serve());
        let out = self.d().join("out.csv");
        let _ = std::fs::remove_file(&out);
        let m = run_match(
            &self.a.0,
            &self.b.1,
            &server.addr,
            &self.d().join("r.csv"),
            &out,
            &[
                "--column",
                "id",
                "--mode",
                "labeled",
                "--policy",
                &self.policy,
            ],
        );
        let (ok, _, err) = server.finish();
        assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
        assert!(ok, "{err}");
        std::fs::read_to_string(out).unwrap()
    }

    /// `serve` refused before listening: its exit code and error code. A `serve` that
    /// starts listening instead (it accepted the index) is killed and the test fails.
    fn refused(&self) -> (Option<i32>, Option<String>) {
        let mut child = self
            .serve()
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let start = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if start.elapsed() > Duration::from_secs(60) {
                let _ = child.kill();
                panic!("serve accepted the index and is waiting for a session");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let out: Output = child.wait_with_output().unwrap();
        (out.status.code(), output_code(&out))
    }
}

/// The offset in `tags.bin` of the entry whose payload holds `payload` (7.8.1 layout: T (16)
/// || label key (32) || len (2) || payload), found by walking the entries.
fn entry_of(tags: &[u8], payload: &[u8]) -> usize {
    let mut at = 0;
    while at < tags.len() {
        let len = u16::from_be_bytes([tags[at + 48], tags[at + 49]]) as usize;
        if tags[at + 50..at + 50 + len]
            .windows(payload.len())
            .any(|w| w == payload)
        {
            return at;
        }
        at += 50 + len;
    }
    panic!("no entry holds the payload")
}

#[test]
fn a_tampered_index_is_refused_by_serve_before_any_session() {
    let s = setup();
    let intact = s.session();
    assert!(intact.contains("R01138"), "{intact}");
    let tags_path = s.d().join("idx/tags.bin");
    let original = std::fs::read(&tags_path).unwrap();
    let at = entry_of(&original, b"R01138");
    let payload_at = at
        + 50
        + original[at + 50..]
            .windows(6)
            .position(|w| w == b"R01138")
            .unwrap();
    let tampered = (Some(4), Some("index.tampered".to_string()));

    // R01138 -> R01038: before the seal the receiver got R01038, exit 0 on both sides.
    let mut bytes = original.clone();
    bytes[payload_at + 3] ^= 0x01;
    assert_eq!(&bytes[payload_at..payload_at + 6], b"R01038");
    std::fs::write(&tags_path, &bytes).unwrap();
    assert_eq!(s.refused(), tampered, "flipped payload byte");

    // A flipped byte of the same entry's label key: before, the match was silently dropped.
    let mut bytes = original.clone();
    bytes[at + 16 + 5] ^= 0x40;
    std::fs::write(&tags_path, &bytes).unwrap();
    assert_eq!(s.refused(), tampered, "flipped label key byte");

    // tags.bin of another index of the same rows: before, 0 matches and no error.
    std::fs::copy(s.d().join("other/tags.bin"), &tags_path).unwrap();
    assert_eq!(s.refused(), tampered, "tags.bin of another index");

    // Put back: it serves R01138 again.
    std::fs::write(&tags_path, &original).unwrap();
    assert!(s.session().contains("R01138"));
}

#[cfg(unix)]
#[test]
fn serve_and_index_refuse_a_passphrase_file_or_index_file_others_may_read() {
    let s = setup();
    let pass = s.d().join("pass");
    chmod(&pass, 0o644);
    assert_eq!(
        s.refused(),
        (Some(4), Some("file_mode.readable".to_string())),
        "serve"
    );
    let index = Command::new(BIN)
        .current_dir(s.d())
        .args(["--quiet", "index", "--input", "s.csv", "--column", "id"])
        .args([
            "--label-columns",
            "record",
            "--out",
            "idx2",
            "--passphrase-file",
            "pass",
        ])
        .output()
        .unwrap();
    // `index` has no `--json`: exit code 4 (configuration), and nothing was built.
    assert_eq!(index.status.code(), Some(4));
    assert!(!s.d().join("idx2").exists());
    chmod(&pass, 0o600);
    chmod(&s.d().join("idx/tags.bin"), 0o640);
    assert_eq!(
        s.refused(),
        (Some(4), Some("file_mode.readable".to_string())),
        "tags.bin"
    );
}
