//! File modes (README, "Files and permissions"): an identity directory is created 0700 and
//! its key 0600 even under `umask 000`, and so are an index directory and its files; a
//! session under `umask 000` leaves the audit log, its head, the budget state and the
//! output-commitment key 0600; an `identity.key` others may
//! read (`chmod 666`) is refused by `serve`, `match` and the library, and so is a commitment
//! key others may read and an identity directory others may write.
#![cfg(unix)]
#![allow(clippy::unwrap_used)]

#[path = "net_common/mod.rs"]
mod net_common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use blindmatch::audit::CommitmentKey;
use blindmatch::error::{Exposure, FileModeError};
use blindmatch::identity::Identity;
use blindmatch::Error;
use net_common::{identity, match_nowhere, output_code, write_items, Server, BIN};

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o7777
}

fn chmod(p: &Path, m: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
}

/// `blindmatch ARGS...` run by `sh` after `umask 000`.
fn umask_000(args: &[&str]) -> Command {
    let mut c = Command::new("sh");
    c.args(["-c", "umask 000; exec \"$0\" \"$@\"", BIN])
        .args(args);
    c
}

#[test]
fn identity_new_makes_a_0700_directory_and_a_0600_key_under_umask_000() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("nested/agency");
    let out = umask_000(&["--quiet", "identity", "new", "--name", "A", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&tmp.path().join("nested")), 0o700);
    assert_eq!(mode(&dir.join("identity.key")), 0o600);
    // The certificate is public.
    assert_eq!(mode(&dir.join("identity.crt")), 0o644);
    Identity::load(&dir).expect("it loads");
}

#[test]
fn a_world_readable_identity_key_is_refused_by_serve_match_and_the_library() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (dir, _) = identity(d, "agency-a");
    let input = d.join("a.txt");
    write_items(&input, &["x1".to_string(), "x2".to_string()]);
    let key = dir.join("identity.key");
    chmod(&key, 0o666);
    let out_path = d.join("out.csv");
    let out = out_path.to_str().unwrap();

    match Identity::load(&dir) {
        Err(Error::FileMode(FileModeError {
            path,
            mode: 0o666,
            exposure: Exposure::Readable,
            directory: false,
            ..
        })) => assert_eq!(path, key),
        other => panic!("{other:?}"),
    }
    let fp = "ab".repeat(32);
    let serve = Command::new(BIN)
        .args([
            "--quiet",
            "serve",
            "--once",
            "--json",
            "--listen",
            "127.0.0.1:0",
        ])
        .arg("--identity")
        .arg(&dir)
        .args([
            "--peer",
            &fp,
            "--policy",
            net_common::open_policy(),
            "--input",
        ])
        .arg(&input)
        .output()
        .unwrap();
    assert_eq!(
        (serve.status.code(), output_code(&serve).as_deref()),
        (Some(4), Some("file_mode.readable"))
    );
    let m = match_nowhere(&dir, &input, &["--output", out]);
    assert_eq!(
        (m.status.code(), output_code(&m).as_deref()),
        (Some(4), Some("file_mode.readable"))
    );
    // Writable by the group only: refused too.
    chmod(&key, 0o620);
    assert!(matches!(
        Identity::load(&dir),
        Err(Error::FileMode(FileModeError {
            exposure: Exposure::Writable,
            ..
        }))
    ));
    chmod(&key, 0o600);
    Identity::load(&dir).expect("0600: it loads");

    // A directory others may write (they could replace the key) is refused; one they may
    // only read is not.
    chmod(&dir, 0o777);
    match Identity::load(&dir) {
        Err(Error::FileMode(e)) => {
            assert_eq!(
                (e.mode, e.exposure, e.directory),
                (0o777, Exposure::Writable, true)
            );
            assert_eq!(e.fix(), format!("chmod 700 {}", dir.display()));
        }
        other => panic!("{other:?}"),
    }
    let m = match_nowhere(&dir, &input, &["--output", out]);
    assert_eq!(output_code(&m).as_deref(), Some("file_mode.writable"));
    chmod(&dir, 0o755);
    Identity::load(&dir).expect("0755: it loads");
    assert!(!out_path.exists());
}

#[test]
fn a_session_under_umask_000_leaves_its_log_head_budget_and_commitment_key_0600() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let (a_dir, a_fp) = identity(d, "agency-a");
    let (b_dir, b_fp) = identity(d, "agency-b");
    let items: Vec<String> = (0..20).map(|i| format!("item-{i}")).collect();
    let (a_in, b_in) = (d.join("a.txt"), d.join("b.txt"));
    write_items(&a_in, &items[..12]);
    write_items(&b_in, &items[6..]);
    let mut serve = umask_000(&["--quiet", "serve", "--once", "--listen", "127.0.0.1:0"]);
    serve
        .arg("--identity")
        .arg(&b_dir)
        .args([
            "--peer",
            &a_fp,
            "--policy",
            net_common::open_policy(),
            "--input",
        ])
        .arg(&b_in);
    let server = Server::from_command(serve);
    let out = d.join("out.csv");
    let m = umask_000(&["--quiet", "match", "--connect", &server.addr, "--identity"])
        .arg(&a_dir)
        .args([
            "--peer",
            &b_fp,
            "--policy",
            net_common::open_policy(),
            "--input",
        ])
        .arg(&a_in)
        .arg("--output")
        .arg(&out)
        .output()
        .unwrap();
    let (ok, _, err) = server.finish();
    assert!(m.status.success(), "{}", String::from_utf8_lossy(&m.stderr));
    assert!(ok, "{err}");
    for dir in [&a_dir, &b_dir] {
        for name in [
            "audit.jsonl",
            "audit.jsonl.head",
            "audit.jsonl.lock",
            "budget.json",
            "output-commitment.key",
        ] {
            let p = dir.join(name);
            assert!(p.exists(), "{} missing", p.display());
            assert_eq!(mode(&p), 0o600, "{}", p.display());
        }
    }

    // The commitment key is a secret: others may not read it.
    let key = a_dir.join("output-commitment.key");
    chmod(&key, 0o644);
    match CommitmentKey::load(&key) {
        Err(Error::FileMode(e)) => assert_eq!((e.path, e.mode), (key.clone(), 0o644)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn index_makes_a_0700_directory_of_0600_files_under_umask_000() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path();
    let pass = d.join("pass");
    std::fs::write(&pass, "c2VjcmV0LXRlc3QtcGFzc3BocmFzZS0zMi1ieXRlcy1sb25n\n").unwrap();
    chmod(&pass, 0o600);
    write_items(&d.join("s.txt"), &["x1".to_string(), "x2".to_string()]);
    let out = umask_000(&["--quiet", "index", "--input", "s.txt", "--out", "new/idx"])
        .args(["--passphrase-file", "pass"])
        .current_dir(d)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let idx = d.join("new/idx");
    assert_eq!(mode(&d.join("new")), 0o700);
    assert_eq!(mode(&idx), 0o700);
    let mut names = Vec::new();
    for e in std::fs::read_dir(&idx).unwrap() {
        let e = e.unwrap();
        assert_eq!(mode(&e.path()), 0o600, "{}", e.path().display());
        names.push(e.file_name().into_string().unwrap());
    }
    names.sort();
    assert_eq!(
        names,
        [
            "index.json",
            "key.wrapped",
            "padding.bin",
            "seal.bin",
            "tags.bin"
        ]
    );
}
