//! blindmatch beside OpenMined PSI on the same machine, in the same run.
//!
//! Both run the whole protocol in one process on ISO 6346 container numbers with half of the
//! client's set in the server's set:
//!
//! - **balanced** (`BLINDMATCH_BENCH_LOG2=16`, default): DH-PSI and VOLE-PSI in `intersection`
//!   mode (the client, our initiator, learns which of its items are shared; OpenMined PSI's
//!   protocol) against OpenMined PSI with the `RAW` data structure (exact, like ours);
//!   `BLINDMATCH_BENCH_DH=0` leaves DH-PSI out;
//! - **unbalanced** (`BLINDMATCH_BENCH_LOG2_CLIENT=10 BLINDMATCH_BENCH_LOG2=20`): also
//!   OPRF-PSI with the sender's set prepared beforehand (our precomputed index), against
//!   OpenMined PSI with its Golomb-compressed set (`GCS`), whose server re-encodes its whole set
//!   for every query.
//!
//! Reported per run: wall seconds, CPU seconds (user + system, both parties) and bytes each way.
//! OpenMined PSI is single-threaded; blindmatch uses every core. The machine is shared, so
//! compare the ratios printed at the end, not absolute times across runs.
//!
//! OpenMined PSI comes from `../shared/peers/openmined-psi/` (`setup.sh` makes the venv):
//! `BLINDMATCH_OPENMINED_PYTHON` (default `/tmp/openmined-psi-venv/bin/python`) and
//! `BLINDMATCH_OPENMINED_BENCH` (default `../shared/peers/openmined-psi/bench.py`). Without
//! them only blindmatch's side runs, and the bench says so.
//!
//! `cargo bench --bench versus_openmined`

use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

use blindmatch::oprf::{OprfKey, Suite};
use blindmatch::protocol::dh::DhParams;
use blindmatch::protocol::memory::{run_dh_psi_with, run_vole_psi_with};
use blindmatch::protocol::oprf_psi::{run_in_memory_with, OprfPsiParams, PreparedSender};
use blindmatch::protocol::{ItemSet, Mode};
use rand::rngs::SysRng;
use rand_core::UnwrapErr;

fn env_log2(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// CPU seconds (user + system) of this process so far, from `/proc/self/stat`.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("read /proc/self/stat");
    let rest = stat.rsplit_once(')').expect("stat format").1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 =
        fields[11].parse::<f64>().expect("utime") + fields[12].parse::<f64>().expect("stime");
    ticks / 100.0
}

/// One measured run.
struct Run {
    what: String,
    wall: f64,
    cpu: f64,
    c2s: usize,
    s2c: usize,
    found: usize,
}

impl Run {
    fn print(&self) {
        println!(
            "{:<58} {:>9.2} {:>9.2} {:>13} {:>13} {:>8}",
            self.what, self.wall, self.cpu, self.c2s, self.s2c, self.found
        );
    }
}

fn measure(what: String, f: impl FnOnce() -> (usize, usize, usize)) -> Run {
    let (c0, t0) = (cpu_seconds(), Instant::now());
    let (c2s, s2c, found) = f();
    Run {
        what,
        wall: t0.elapsed().as_secs_f64(),
        cpu: cpu_seconds() - c0,
        c2s,
        s2c,
        found,
    }
}

/// `count` distinct ISO 6346 container numbers (`ABCU1234565`): owner code, `U`, serial and
/// check digit, drawn without repetition from a seeded walk over the number space.
fn container_numbers(count: usize) -> Vec<String> {
    let value = |c: u8| -> u64 {
        if c.is_ascii_digit() {
            u64::from(c - b'0')
        } else {
            // A=10, skipping multiples of 11.
            let mut v = 10;
            for _ in b'A'..c {
                v += 1;
                if v % 11 == 0 {
                    v += 1;
                }
            }
            v
        }
    };
    let space: u64 = 26 * 26 * 26 * 1_000_000;
    // An odd multiplier is a bijection on the space's odd part; with gcd(step, space) = 1
    // the walk k -> k * step mod space never repeats.
    let step: u64 = 7_919_333;
    (0..count as u64)
        .map(|i| {
            let k = (i * step + 12_345) % space;
            let (owner, serial) = (k / 1_000_000, k % 1_000_000);
            let letters = [
                b'A' + (owner / 676) as u8,
                b'A' + (owner / 26 % 26) as u8,
                b'A' + (owner % 26) as u8,
                b'U',
            ];
            let s10 = format!("{}{serial:06}", String::from_utf8_lossy(&letters));
            let sum: u64 = s10.bytes().enumerate().map(|(i, c)| value(c) << i).sum();
            format!("{s10}{}", sum % 11 % 10)
        })
        .collect()
}

/// Client and server sets: the client's first half is in the server's set.
fn sets(n_client: usize, n_server: usize) -> (ItemSet, ItemSet) {
    let shared = n_client / 2;
    let pool = container_numbers(n_server + n_client - shared);
    let server: Vec<&String> = pool[..n_server].iter().collect();
    let client: Vec<&String> = pool[..shared].iter().chain(&pool[n_server..]).collect();
    (ItemSet::new(client), ItemSet::new(server))
}

fn openmined(log2_client: u32, log2_server: u32, ds: &str) -> Option<Run> {
    let python = std::env::var("BLINDMATCH_OPENMINED_PYTHON")
        .unwrap_or_else(|_| "/tmp/openmined-psi-venv/bin/python".into());
    let script = std::env::var("BLINDMATCH_OPENMINED_BENCH")
        .unwrap_or_else(|_| "../shared/peers/openmined-psi/bench.py".into());
    if !std::path::Path::new(&python).exists() || !std::path::Path::new(&script).exists() {
        println!("OpenMined PSI: not run ({python} or {script} missing; see ../shared/peers/openmined-psi/setup.sh)");
        return None;
    }
    let out = std::env::temp_dir().join(format!("om-{}.jsonl", std::process::id()));
    let output = Command::new(&python)
        .arg(&script)
        .args(["--log2-client", &log2_client.to_string()])
        .args(["--log2-server", &log2_server.to_string()])
        .args(["--items", "container", "--ds", ds])
        .arg("--out")
        .arg(&out)
        .output()
        .expect("run the OpenMined PSI harness");
    let _ = std::fs::remove_file(&out);
    assert!(
        output.status.success(),
        "OpenMined PSI harness failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let line = String::from_utf8_lossy(&output.stdout)
        .lines()
        .find(|l| l.starts_with('{'))
        .expect("a JSON line from the harness")
        .to_string();
    let v: serde_json::Value = serde_json::from_str(&line).expect("harness JSON");
    assert_eq!(
        v["correct"],
        serde_json::Value::Bool(true),
        "OpenMined PSI result: {line}"
    );
    let num = |k: &str| v[k].as_f64().expect(k);
    Some(Run {
        what: format!(
            "OpenMined PSI {} (1 thread)",
            v["version"].as_str().unwrap_or("?")
        ) + " "
            + ds,
        wall: num("total_s"),
        cpu: num("total_cpu_s"),
        c2s: num("bytes_request_c2s") as usize,
        s2c: num("bytes_s2c_total") as usize,
        found: num("intersection_size") as usize,
    })
}

fn main() {
    let log2_server = env_log2("BLINDMATCH_BENCH_LOG2", 16);
    let log2_client = env_log2("BLINDMATCH_BENCH_LOG2_CLIENT", log2_server);
    let (n_c, n_s) = (1usize << log2_client, 1usize << log2_server);
    let (client, server) = sets(n_c, n_s);
    let mut rng = UnwrapErr(SysRng);
    println!(
        "client 2^{log2_client}, server 2^{log2_server}, {} shared; backend {}, {} cores",
        n_c / 2,
        blindmatch::group::backend(),
        rayon::current_num_threads()
    );
    println!(
        "{:<58} {:>9} {:>9} {:>13} {:>13} {:>8}",
        "run", "wall s", "CPU s", "bytes c->s", "bytes s->c", "found"
    );

    let mut ours = Vec::new();
    if std::env::var("BLINDMATCH_BENCH_DH").as_deref() != Ok("0") {
        let dh = measure(
            format!(
                "blindmatch DH-PSI intersection ({} cores)",
                rayon::current_num_threads()
            ),
            || {
                let params = DhParams::new(Mode::Intersection, [7; 32], client.len(), server.len());
                let ((init, _), transcript) =
                    run_dh_psi_with(params, client.clone(), server.clone(), &mut rng, true)
                        .expect("session");
                let (c2s, s2c) = transcript.bytes();
                (c2s, s2c, init.match_count().expect("initiator learns"))
            },
        );
        dh.print();
        assert_eq!(dh.found, n_c / 2);
        ours.push(dh);
    }

    if n_s < 8 * n_c {
        // VOLE-PSI's parties run at once when not recorded, as a networked session's do: the
        // bytes come from a recorded run beforehand (in turn, not timed).
        let params = || DhParams::new(Mode::Intersection, [7; 32], client.len(), server.len());
        let (_, transcript) =
            run_vole_psi_with(params(), client.clone(), server.clone(), &mut rng, true)
                .expect("recorded session");
        let (c2s, s2c) = transcript.bytes();
        let vole = measure(
            format!(
                "blindmatch VOLE-PSI intersection ({} cores)",
                rayon::current_num_threads()
            ),
            || {
                let ((init, _), _) =
                    run_vole_psi_with(params(), client.clone(), server.clone(), &mut rng, false)
                        .expect("session");
                (c2s, s2c, init.match_count().expect("initiator learns"))
            },
        );
        vole.print();
        assert_eq!(vole.found, n_c / 2);
        ours.push(vole);
    }

    if n_s >= 8 * n_c {
        let suite = Suite::default();
        let t0 = Instant::now();
        let set = Arc::new(
            PreparedSender::new(suite, OprfKey::random(&mut rng), &server, None).expect("prepare"),
        );
        println!(
            "  (OPRF-PSI sender precomputation, once: {:.2} s wall)",
            t0.elapsed().as_secs_f64()
        );
        let oprf = measure(
            format!(
                "blindmatch OPRF-PSI online, precomputed ({} cores)",
                rayon::current_num_threads()
            ),
            || {
                let params = OprfPsiParams::new(suite, [7; 32], client.len(), set.len());
                let ((r, _), transcript) =
                    run_in_memory_with(params, client.clone(), set.clone(), &mut rng, true)
                        .expect("session");
                let (c2s, s2c) = transcript.bytes();
                (c2s, s2c, r.matches.len())
            },
        );
        oprf.print();
        assert_eq!(oprf.found, n_c / 2);
        ours.push(oprf);
    }

    let ds = if n_s >= 8 * n_c { "GCS" } else { "RAW" };
    if let Some(om) = openmined(log2_client, log2_server, ds) {
        om.print();
        for run in &ours {
            println!(
                "OpenMined / {}: wall {:.2}x, CPU {:.2}x",
                run.what,
                om.wall / run.wall,
                om.cpu / run.cpu
            );
        }
    }
}
