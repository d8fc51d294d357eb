//! `blindmatch index` end to end: build a labeled index from a CSV, add and remove items,
//! refuse to overwrite, then serve a session from the directory.

use std::process::Command;
use std::sync::Arc;

use blindmatch::index::Index;
use blindmatch::protocol::oprf_psi::{run_in_memory_with, OprfPsiParams};
use blindmatch::protocol::ItemSet;
use blindmatch::records::{self, InputSpec};
use rand_chacha::ChaCha20Rng;
use rand_core::SeedableRng;

const PASS: &str = "c2VjcmV0LXRlc3QtcGFzc3BocmFzZS0zMi1ieXRlcy1sb25n\n";

/// Writes the passphrase file with mode 0600 (one others may read is refused).
fn write_pass(path: &std::path::Path) {
    std::fs::write(path, PASS).expect("write");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    }
}

fn index(dir: &std::path::Path, args: &[&str]) -> bool {
    index_to(dir, "idx", args)
}

fn index_to(dir: &std::path::Path, out: &str, args: &[&str]) -> bool {
    Command::new(env!("CARGO_BIN_EXE_blindmatch"))
        .current_dir(dir)
        .args(["--quiet", "index", "--key", "imo:imo_ship", "--out", out])
        .args(["--passphrase-file", "pass"])
        .args(args)
        .status()
        .expect("run blindmatch")
        .success()
}

#[test]
fn index_subcommand_builds_updates_and_serves() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    write_pass(&d.join("pass"));
    std::fs::write(
        d.join("s.csv"),
        "imo,vessel,voyage,owner\nIMO9074729,EVER GIVEN,12W,x\nIMO9321483,MSC OSCAR,3E,y\nIMO9321483,MSC OSCAR,4E,z\n",
    )
    .expect("write");
    std::fs::write(
        d.join("add.csv"),
        "imo,vessel,voyage\nIMO9811000,EVER ACE,1W\n",
    )
    .expect("write");
    assert!(index(
        d,
        &["--input", "s.csv", "--label-columns", "vessel,voyage"]
    ));
    assert!(
        !index(d, &["--input", "s.csv", "--label-columns", "vessel,voyage"]),
        "overwrite refused"
    );
    assert!(
        !index(d, &["--input", "add.csv", "--add"]),
        "a labeled index needs payloads"
    );
    assert!(index(
        d,
        &[
            "--input",
            "add.csv",
            "--add",
            "--label-columns",
            "vessel,voyage"
        ]
    ));
    assert!(!index_to(
        d,
        "idx2",
        &["--input", "s.csv", "--label-columns", "nope"]
    ));
    assert!(
        index_to(d, "idx3", &["--input", "s.csv"]),
        "an unlabeled index"
    );

    let set = Index::open(&d.join("idx"), PASS.as_bytes())
        .expect("open")
        .into_prepared();
    assert_eq!(set.len(), 3);
    let mut params = OprfPsiParams::new(set.suite(), [1; 32], 3, 3);
    params.payload_len = Some(64);
    // The receiver's items go through the same identifier encoding.
    std::fs::write(
        d.join("r.csv"),
        "imo\nIMO 9321483\nIMO9811000\nIMO9074728\n",
    )
    .expect("write");
    let spec = InputSpec::new(d.join("r.csv"), vec!["imo:imo_ship".parse().expect("key")]);
    let recs = records::load(&spec).expect("load");
    assert_eq!(recs.items().len(), 2, "IMO9074728 fails its check digit");
    let receiver = ItemSet::new(recs.items());
    let mut rng = ChaCha20Rng::from_seed([2; 32]);
    let ((out, _), _) =
        run_in_memory_with(params, receiver, Arc::new(set), &mut rng, false).expect("run");
    let got: Vec<String> = out
        .matches
        .iter()
        .map(|m| String::from_utf8(m.payload.clone().expect("labeled")).expect("utf8"))
        .collect();
    // The owner column was not selected, so no receiver can read it.
    assert_eq!(
        got,
        vec![
            r#"{"vessel":"MSC OSCAR","voyage":"3E"}"#.to_string(),
            r#"{"vessel":"EVER ACE","voyage":"1W"}"#.to_string(),
        ]
    );
    assert!(index(d, &["--input", "add.csv", "--remove"]));
    assert_eq!(
        Index::open(&d.join("idx"), PASS.as_bytes())
            .expect("open")
            .prepared()
            .len(),
        2
    );
}

#[test]
fn index_pad_to_and_lifetime_days_are_stored_and_checked() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    write_pass(&d.join("pass"));
    std::fs::write(d.join("s.csv"), "imo\nIMO9074729\nIMO9321483\nIMO9811000\n").expect("write");
    std::fs::write(d.join("add.csv"), "imo\nIMO9100009\n").expect("write");
    assert!(
        !index_to(d, "small", &["--input", "s.csv", "--pad-to", "2"]),
        "--pad-to below the items"
    );
    assert!(
        !index_to(d, "zero", &["--input", "s.csv", "--lifetime-days", "0"]),
        "a lifetime of 0 days"
    );
    assert!(index(
        d,
        &["--input", "s.csv", "--pad-to", "4", "--lifetime-days", "7"]
    ));
    let meta = |d: &std::path::Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(d.join("idx/index.json")).expect("read"))
            .expect("json")
    };
    let m = meta(d);
    assert_eq!(m["format"], "blindmatch-oprf-index-v3");
    assert_eq!(
        (m["pad_to"].as_u64(), m["padding"].as_u64()),
        (Some(4), Some(1))
    );
    let (created, not_after) = (
        m["epoch"]["created"].as_u64().expect("created"),
        m["epoch"]["not_after"].as_u64().expect("not_after"),
    );
    assert_eq!(not_after - created, 7 * 86_400);
    assert_eq!(
        std::fs::metadata(d.join("idx/padding.bin"))
            .expect("padding")
            .len(),
        16
    );
    // The fourth item takes the last padding value; a fifth would outgrow --pad-to.
    assert!(index(d, &["--input", "add.csv", "--add"]));
    assert_eq!(meta(d)["padding"].as_u64(), Some(0));
    std::fs::write(d.join("add2.csv"), "imo\nIMO9000003\n").expect("write");
    assert!(
        !index(d, &["--input", "add2.csv", "--add"]),
        "past --pad-to"
    );
    assert_eq!(meta(d)["items"].as_u64(), Some(4), "nothing written");
    assert!(index(d, &["--input", "add2.csv", "--add", "--pad-to", "8"]));
    let m = meta(d);
    assert_eq!(
        (m["items"].as_u64(), m["padding"].as_u64()),
        (Some(5), Some(3))
    );
    assert_eq!(
        m["epoch"]["not_after"].as_u64(),
        Some(not_after),
        "updates keep the epoch"
    );
}

#[test]
fn serve_refuses_an_expired_index_before_listening() {
    use blindmatch::index::{IndexOptions, KdfParams, DAY};
    let tmp = tempfile::tempdir().expect("tempdir");
    let d = tmp.path();
    write_pass(&d.join("pass"));
    let options = IndexOptions {
        lifetime_days: 30,
        now: Some(blindmatch::index::unix_now() - 31 * DAY),
        kdf: KdfParams {
            m_kib: 64,
            t: 1,
            p: 1,
        },
        ..IndexOptions::default()
    };
    Index::create(
        &d.join("old"),
        Default::default(),
        PASS.as_bytes(),
        &ItemSet::new(["a", "b"]),
        None,
        &options,
        &mut ChaCha20Rng::from_seed([1; 32]),
    )
    .expect("create");
    let out = Command::new(env!("CARGO_BIN_EXE_blindmatch"))
        .current_dir(d)
        .args([
            "serve",
            "--json",
            "--identity",
            "nobody",
            "--peer",
            &"ab".repeat(32),
        ])
        .args([
            "--listen",
            "127.0.0.1:0",
            "--index",
            "old",
            "--passphrase-file",
            "pass",
        ])
        .output()
        .expect("run blindmatch");
    assert!(!out.status.success());
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(text.contains("config.index_expired"), "{text}");
    assert!(!text.contains("listening"), "{text}");
}
