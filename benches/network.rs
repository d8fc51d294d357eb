//! The networked session (two `blindmatch` processes over loopback mutual TLS) beside the
//! in-memory session of the same sets, measured in one run: DH-PSI in mutual mode by default,
//! or the protocol and mode the environment names.
//!
//! The in-memory session runs before and after the networked one (the machine is shared and
//! its load drifts); the ratio is taken against their mean. Above 2^20 a side, where the
//! networked session is bucketed (`protocol-spec/09-buckets.md`, buckets of 2^20), the
//! in-memory session is the bucketed one with the same number of buckets. The networked time is the
//! session's own `elapsed_ms` from the `--json` summary of `match` (handshake to end, the same
//! span as the in-memory session), and the wall time of the whole `match` process (reading and
//! parsing the input, writing the output) is shown beside it. Peak RSS of each process is read
//! from `/proc/PID/status` (`VmHWM`) while it runs.
//!
//! The two agencies' files come from blindmatch's generator (`blindmatch generate --kind
//! container`): container numbers written differently in the two files, half of them shared,
//! matched on `--key container_number:container`, so the networked run includes the real
//! parsing and normalisation (outside the session time) and the in-memory run hashes the same
//! canonical items.
//!
//! Above the generator's limits (`blindmatch generate` makes at most 10^7 records a side, and
//! at most 2·10^7 distinct container numbers in all; 2^24 a side with half shared needs
//! 3·2^23) the bench writes the files itself ([`write_enumerated`]): distinct valid container
//! numbers, in a shuffled order, written as the generator does in `a.csv` and with spaces or in
//! lower case in `b.csv`, half of them shared.
//!
//! `cargo bench --bench network` (`BLINDMATCH_BENCH_LOG2=16` for a quick run, 22 for the
//! memory bound of issue 3; `BLINDMATCH_BENCH_NETWORK_ONLY=1` skips the in-memory sessions;
//! `BLINDMATCH_BENCH_PROTOCOL=vole` and `BLINDMATCH_BENCH_MODE=intersection` for VOLE-PSI's
//! targets of issue 15; `BLINDMATCH_BENCH_MAX_BUCKET=18` gives both processes
//! `--max-bucket 2^18`, network only, for the memory of smaller buckets, issue 16;
//! `BLINDMATCH_BENCH_N=100000000` sets the exact count a side instead of a power of two, for
//! issue 16's 10^8 x 10^8, network only).
//!
//! With `BLINDMATCH_BENCH_NETWORK_ONLY` the bench does not load the files itself (at 10^8 a
//! side that would hold several GiB beside the two processes): the enumerated files share
//! half their numbers by construction, and `match`'s summary must report exactly that many
//! matches.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use blindmatch::generate::{check_spec, generate, write_dataset, GenKind, GenSpec};
use blindmatch::protocol::bucket::{bucket_count, DEFAULT_BUCKET_LOG2};
use blindmatch::protocol::memory::{run_bucketed, run_dh_psi, run_vole_psi, BucketedProtocol};
use blindmatch::protocol::{ItemSet, Mode};
use blindmatch::records::{load, InputSpec};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[path = "support/process.rs"]
mod process;

use process::{identity, vm_hwm_mib, wait_with_peak, BIN};

/// The canonical items of a generated file, as `serve` and `match` load them.
fn items(path: &Path) -> Vec<Vec<u8>> {
    let key = GenKind::Container.key_spec().expect("built-in key");
    let records = load(&InputSpec::new(path, vec![key])).expect("load the generated file");
    assert!(
        records.rejects().is_empty(),
        "generated values must all be valid"
    );
    records.items().iter().map(<[u8]>::to_vec).collect()
}

/// `BLINDMATCH_BENCH_MAX_BUCKET`: the log2 of both processes' `--max-bucket`, if set.
fn max_bucket() -> Option<u32> {
    let log2 = std::env::var("BLINDMATCH_BENCH_MAX_BUCKET").ok()?;
    let log2: u32 = log2
        .parse()
        .expect("BLINDMATCH_BENCH_MAX_BUCKET: a number from 10 to 20");
    assert!(
        (10..=20).contains(&log2),
        "BLINDMATCH_BENCH_MAX_BUCKET: 10 to 20"
    );
    Some(log2)
}

/// The protocol (`dh` or `vole`) and mode the run measures.
fn protocol_and_mode() -> (String, Mode) {
    let protocol = std::env::var("BLINDMATCH_BENCH_PROTOCOL").unwrap_or_else(|_| "dh".into());
    assert!(protocol == "dh" || protocol == "vole", "dh or vole");
    let mode = match std::env::var("BLINDMATCH_BENCH_MODE").as_deref() {
        Ok("intersection") => Mode::Intersection,
        Ok("mutual") | Err(_) => Mode::Mutual,
        Ok(other) => panic!("mode {other}: intersection or mutual"),
    };
    (protocol, mode)
}

fn in_memory(a: &[Vec<u8>], b: &[Vec<u8>]) -> f64 {
    let (protocol, mode) = protocol_and_mode();
    let (a, b) = (ItemSet::new(a), ItemSet::new(b));
    // The networked session is bucketed when the default bucket size gives more than one
    // bucket (above 2^20 a side): so is the in-memory one then, with the same count.
    let bucketed = bucket_count(a.len(), b.len(), DEFAULT_BUCKET_LOG2) > 1;
    let start = Instant::now();
    let (init, _) = match (bucketed, protocol == "vole") {
        (true, true) => run_bucketed(BucketedProtocol::Vole, mode, a, b, None),
        (true, false) => run_bucketed(BucketedProtocol::Dh, mode, a, b, None),
        (false, true) => run_vole_psi(mode, a, b, None),
        (false, false) => run_dh_psi(mode, a, b, None),
    }
    .expect("in-memory session");
    let t = start.elapsed().as_secs_f64();
    assert!(init.match_count().is_some());
    t
}

/// ISO 6346 value of a letter: 10 for `A`, counting up and skipping the multiples of 11.
fn letter_value(c: u8) -> u32 {
    let mut v = 10;
    for _ in b'A'..c {
        v += 1;
        if v % 11 == 0 {
            v += 1;
        }
    }
    v
}

/// `count` distinct valid container numbers (`<owner>U<serial><check>`, check values 0 to 9
/// only, serial 000000 never), owner codes `AAA`, `AAB`, ... with every serial each; eleven
/// ASCII bytes each (1.65 GB for the 1.5·10^8 of a 10^8 run, where `String`s would take 6 GB).
fn container_numbers(count: usize) -> Vec<[u8; 11]> {
    let mut out = Vec::with_capacity(count);
    'owners: for (a, b, c) in (b'A'..=b'Z')
        .flat_map(|a| (b'A'..=b'Z').flat_map(move |b| (b'A'..=b'Z').map(move |c| (a, b, c))))
    {
        let owner: u32 = [a, b, c, b'U']
            .iter()
            .enumerate()
            .map(|(i, &l)| letter_value(l) << i)
            .sum();
        for serial in 1..1_000_000u32 {
            let mut sum = owner;
            let mut rest = serial;
            for i in (4..10).rev() {
                sum += (rest % 10) << i;
                rest /= 10;
            }
            let check = sum % 11;
            if check == 10 {
                continue;
            }
            let mut number = [a, b, c, b'U', 0, 0, 0, 0, 0, 0, b'0' + check as u8];
            let mut rest = serial;
            for digit in number[4..10].iter_mut().rev() {
                *digit = b'0' + (rest % 10) as u8;
                rest /= 10;
            }
            out.push(number);
            if out.len() == count {
                break 'owners;
            }
        }
    }
    assert_eq!(out.len(), count, "enough owner codes");
    out
}

/// Writes `a.csv` and `b.csv` of `n` container numbers each, `n / 2` of them shared, for sizes
/// the generator refuses: numbers `0..n` of [`container_numbers`] in `a.csv` and `n/2..3n/2`
/// in `b.csv`, each file in its own shuffled order; `b.csv` writes them with spaces
/// (`MSCU 123456 5`) or in lower case, alternately, so `match` and `serve` normalise them.
fn write_enumerated(root: &Path, n: usize) -> (PathBuf, PathBuf) {
    let all = container_numbers(n + n / 2);
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut write = |name: &str, range: std::ops::Range<usize>, styled: bool| {
        let mut order: Vec<usize> = range.collect();
        for i in (1..order.len()).rev() {
            order.swap(i, rng.random_range(0..=i));
        }
        let path = root.join(name);
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
        writeln!(f, "container_number").expect("write");
        for (k, &i) in order.iter().enumerate() {
            let v = std::str::from_utf8(&all[i]).expect("ASCII");
            if !styled {
                writeln!(f, "{v}")
            } else if k % 2 == 0 {
                writeln!(f, "{} {} {}", &v[..4], &v[4..10], &v[10..])
            } else {
                writeln!(f, "{}", v.to_lowercase())
            }
            .expect("write");
        }
        f.flush().expect("flush");
        path
    };
    let a = write("a.csv", 0..n, false);
    let b = write("b.csv", n / 2..n + n / 2, true);
    (a, b)
}

fn main() {
    let (n, size) = set_size();
    let (protocol, mode) = protocol_and_mode();
    let mode_name = mode.as_str();
    let dir = tempfile::tempdir().expect("temp dir");
    let root = dir.path();
    let spec = GenSpec {
        kind: GenKind::Container,
        count: n,
        overlap: n / 2,
        seed: 1,
    };
    let network_only = std::env::var_os("BLINDMATCH_BENCH_NETWORK_ONLY").is_some();
    let generated = check_spec(&spec).is_ok();
    let (a_in, b_in) = if generated {
        let files = write_dataset(&generate(&spec).expect("generate"), root).expect("write files");
        (files.a, files.b)
    } else {
        println!("{size} a side is beyond the generator: writing enumerated container numbers");
        write_enumerated(root, n)
    };
    // The in-memory sessions need the items; generated files are checked here too. Enumerated
    // files share `n / 2` numbers by construction, which `match`'s summary checks below.
    let (a, b) = if network_only && !generated {
        (Vec::new(), Vec::new())
    } else {
        let (a, b) = (items(&a_in), items(&b_in));
        assert_eq!((a.len(), b.len()), (n, n));
        let shared = {
            let theirs: std::collections::HashSet<&[u8]> = b.iter().map(Vec::as_slice).collect();
            a.iter().filter(|x| theirs.contains(x.as_slice())).count()
        };
        assert_eq!(shared, n / 2, "half of the items shared");
        (a, b)
    };
    let input_bytes = file_len(&a_in) + file_len(&b_in);
    let a_fp = identity(root, "agency-a");
    let b_fp = identity(root, "agency-b");
    // The default policy caps sets at 16,384: this benchmark's policy allows its size, with
    // container numbers (not an enumerable kind) and no padding.
    let policy = root.join("bench-policy.toml");
    std::fs::write(
        &policy,
        format!(
            "version = 2\nname = \"network bench\"\nmodes = [\"{mode_name}\"]\n\
             identifier_kinds = [\"container\"]\nmin_set_size = 1\nmax_set_size = {n}\n\
             revealable_columns = []\nmax_sessions_per_peer_per_day = 10\n\
             max_elements_per_peer = {n}\ncardinality_before_reveal = false\n\
             output_retention_days = 0\n"
        ),
    )
    .expect("write the bench policy");
    println!(
        "n: {size} per side, {protocol} in {mode_name} mode; backend {}, {} cores",
        blindmatch::group::backend(),
        rayon::current_num_threads()
    );

    let max_bucket = max_bucket();
    assert!(
        network_only || max_bucket.is_none(),
        "BLINDMATCH_BENCH_MAX_BUCKET needs BLINDMATCH_BENCH_NETWORK_ONLY (the in-memory \
         sessions use the default bucket size)"
    );
    let bucket_args: Vec<String> = max_bucket
        .map(|log2| vec!["--max-bucket".into(), (1u32 << log2).to_string()])
        .unwrap_or_default();
    if let Some(log2) = max_bucket {
        println!("both processes: --max-bucket 2^{log2}");
    }
    // Without the in-memory sessions the items are not needed again: free them before the
    // two processes start (2^24 a side is about 1.5 GiB here).
    let (a, b) = if network_only {
        (Vec::new(), Vec::new())
    } else {
        (a, b)
    };
    let mem_before = if network_only {
        f64::NAN
    } else {
        in_memory(&a, &b)
    };

    let mut server = Command::new(BIN)
        .args([
            "--quiet",
            "serve",
            "--once",
            "--listen",
            "127.0.0.1:0",
            "--mode",
            mode_name,
            "--protocol",
            &protocol,
        ])
        .args(["--json", "--identity"])
        .arg(root.join("agency-b"))
        .args(["--peer", &a_fp, "--input"])
        .arg(&b_in)
        .arg("--policy")
        .arg(&policy)
        .args(["--key", GenKind::Container.key()])
        .args(&bucket_args)
        .arg("--output")
        .arg(root.join("b-matches.csv"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start serve");
    // The address is the first stderr line; the rest is read after the session.
    let mut server_err = server.stderr.take().expect("serve stderr");
    let addr = {
        use std::io::Read;
        let mut line = Vec::new();
        let mut byte = [0u8; 1];
        while server_err.read(&mut byte).expect("read serve stderr") == 1 && byte[0] != b'\n' {
            line.push(byte[0]);
        }
        let line = String::from_utf8_lossy(&line).to_string();
        line.strip_prefix("blindmatch: listening on ")
            .unwrap_or_else(|| panic!("serve did not start: {line}"))
            .to_string()
    };
    server.stderr = None;
    // The rest of serve's stderr and its stdout (its `--json` summary, or error), read as it
    // runs so that neither pipe fills, and shown if the session fails.
    let drain = |mut r: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            let _ = r.read_to_string(&mut s);
            s
        })
    };
    let server_err = drain(Box::new(server_err));
    let server_out = drain(Box::new(server.stdout.take().expect("serve stdout")));
    let server_watch = std::thread::spawn(move || {
        let pid = server.id();
        let mut peak: f64 = 0.0;
        loop {
            if let Some(p) = vm_hwm_mib(pid) {
                peak = peak.max(p);
            }
            if server.try_wait().expect("wait serve").is_some() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        peak
    });
    let start = Instant::now();
    let client = Command::new(BIN)
        .args([
            "--quiet",
            "match",
            "--mode",
            mode_name,
            "--protocol",
            &protocol,
            "--json",
            "--connect",
            &addr,
        ])
        .arg("--identity")
        .arg(root.join("agency-a"))
        .args(["--peer", &b_fp, "--input"])
        .arg(&a_in)
        .arg("--policy")
        .arg(&policy)
        .args(["--key", GenKind::Container.key()])
        .args(&bucket_args)
        .arg("--output")
        .arg(root.join("a-matches.csv"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start match");
    let (out, err, ok, client_peak) = wait_with_peak(client);
    let process_wall = start.elapsed().as_secs_f64();
    let server_peak = server_watch.join().expect("serve watcher");
    let server_out = server_out.join().expect("serve stdout reader");
    let server_err = server_err.join().expect("serve stderr reader");
    if !ok {
        // Keep the files, the identities and both audit logs (`agency-*/audit.jsonl`), which
        // say why a side failed.
        let kept = dir.keep();
        panic!(
            "match failed: {err}\nmatch stdout: {out}\nserve stdout: {server_out}\nserve \
             stderr: {server_err}\nfiles and audit logs kept in {}",
            kept.display()
        );
    }
    let summary: serde_json::Value = serde_json::from_str(out.trim()).expect("match --json");
    assert_eq!(
        summary["matches"].as_u64(),
        Some((n / 2) as u64),
        "{summary}"
    );
    let session = summary["elapsed_ms"].as_f64().expect("elapsed_ms") / 1000.0;
    let sent = summary["bytes_sent"].as_f64().expect("bytes_sent");
    let received = summary["bytes_received"].as_f64().expect("bytes_received");

    let mem_after = if network_only {
        f64::NAN
    } else {
        in_memory(&a, &b)
    };
    let mem = (mem_before + mem_after) / 2.0;
    println!("in-memory session:  {mem:.2} s (before {mem_before:.2} s, after {mem_after:.2} s)");
    println!("networked session:  {session:.2} s (handshake to end, from match --json)");
    println!("match process wall: {process_wall:.2} s (with reading, validating and normalising {size} records, writing the output)");
    println!("ratio networked / in-memory: {:.3}", session / mem);
    println!(
        "bytes on the wire: {:.0} sent + {:.0} received by match = {:.1} bytes per item (both sides' items)",
        sent,
        received,
        (sent + received) / (2 * n) as f64
    );
    println!("peak RSS: match {client_peak:.0} MiB, serve {server_peak:.0} MiB");
    // Everything the run left on disk beside the two inputs: both outputs, both audit logs and
    // identities (neither process has a temporary directory of its own).
    let written = dir_bytes(root) - input_bytes;
    println!(
        "disk: inputs {:.0} MB, written by the two processes {:.0} MB",
        input_bytes as f64 / 1e6,
        written as f64 / 1e6
    );
}

/// The set size a side: `BLINDMATCH_BENCH_N` exactly, else `2^BLINDMATCH_BENCH_LOG2` (2^20 by
/// default); and how to print it.
fn set_size() -> (usize, String) {
    if let Ok(n) = std::env::var("BLINDMATCH_BENCH_N") {
        let n: usize = n.parse().expect("BLINDMATCH_BENCH_N: a count");
        assert!(
            n >= 2 && n.is_multiple_of(2),
            "BLINDMATCH_BENCH_N: an even count"
        );
        return (n, n.to_string());
    }
    let log2: u32 = std::env::var("BLINDMATCH_BENCH_LOG2")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    (1usize << log2, format!("2^{log2}"))
}

fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).expect("file size").len()
}

/// The bytes of every file under `dir`.
fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .expect("read dir")
        .map(|entry| {
            let entry = entry.expect("dir entry");
            let kind = entry.file_type().expect("file type");
            if kind.is_dir() {
                dir_bytes(&entry.path())
            } else {
                entry.metadata().expect("metadata").len()
            }
        })
        .sum()
}
