//! The 2^20 x 2^20 in-memory mutual DH-PSI session against its floor, measured in one run.
//!
//! The floor is what the session cannot avoid: the bare curve25519-dalek per-element costs of
//! the operations mutual DH-PSI must do (2n hash-to-group, 4n multiplications, 2n
//! decompressions, 4n batched compressions), measured here on one core and divided by the
//! number of cores. The ratio session / floor is what blindmatch adds on top (shuffling,
//! matching, message encoding, scheduling). Also reports peak memory (VmHWM).
//!
//! Also: the floor before and after the session (load drifts on shared machines), the same
//! operations as a plain rayon loop over bare dalek calls, the floor measured on every core at
//! once (a core is slower when the others work too: clock boost, shared resources), and the
//! session's CPU time against the one-core floor (not skewed by other processes' load).
//!
//! `cargo bench --bench floor` (BLINDMATCH_BENCH_LOG2=16 for a quick run).

use std::time::{Duration, Instant};

use blindmatch::group::expand::{expand_message_xof, Xof};
use blindmatch::protocol::memory::run_dh_psi;
use blindmatch::protocol::{ItemSet, Mode};
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// The tags this file uses, as `protocol-spec/01-suite.md` spells them (the library's own
/// constants are private to it).
mod dst {
    /// The DH-PSI hash-to-group DST (section 1.1).
    pub const DH_PSI_HASH_TO_GROUP: &[u8] =
        b"blindmatch-v1-DHPSI-ristretto255_XOF:SHAKE256_R255MAP_RO_";
}

/// Elements per floor measurement (on one core).
const FLOOR_SAMPLE: usize = 1 << 13;

/// Times `f` per floor element; `ready` is called right before the clock starts (a barrier
/// when every core measures at once, so the timed loops overlap).
fn per_element<T>(ready: &dyn Fn(), f: impl FnOnce() -> T) -> f64 {
    ready();
    let start = Instant::now();
    std::hint::black_box(f());
    start.elapsed().as_secs_f64() / FLOOR_SAMPLE as f64
}

struct Floor {
    hash: f64,
    mul: f64,
    decompress: f64,
    batch_compress: f64,
}

/// The floor's per-element costs on the calling thread.
fn measure_floor(ready: &dyn Fn()) -> Floor {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let k = Scalar::random(&mut rng);
    let items: Vec<Vec<u8>> = (0..FLOOR_SAMPLE)
        .map(|i| format!("item-{i}").into_bytes())
        .collect();
    let hash = per_element(ready, || {
        items
            .iter()
            .map(|item| {
                let mut u = [0u8; 64];
                expand_message_xof(
                    Xof::Shake256,
                    &[&[0u8; 32], item],
                    dst::DH_PSI_HASH_TO_GROUP,
                    &mut u,
                );
                RistrettoPoint::from_uniform_bytes(&u)
            })
            .collect::<Vec<_>>()
    });
    let points: Vec<RistrettoPoint> = items
        .iter()
        .map(|i| RistrettoPoint::from_uniform_bytes(&[i.len() as u8; 64]) * k)
        .collect();
    let mul = per_element(ready, || points.iter().map(|p| k * p).collect::<Vec<_>>());
    let encoded: Vec<CompressedRistretto> = points.iter().map(|p| p.compress()).collect();
    let decompress = per_element(ready, || {
        encoded.iter().map(|c| c.decompress()).collect::<Vec<_>>()
    });
    let batch_compress = per_element(ready, || {
        points
            .chunks(1024)
            .flat_map(RistrettoPoint::double_and_compress_batch)
            .collect::<Vec<_>>()
    });
    Floor {
        hash,
        mul,
        decompress,
        batch_compress,
    }
}

/// The floor measured on every core at once, each core running the same loops on its own data
/// in step: the per-element costs when all cores are busy, averaged over the cores. Dividing
/// the one-core floor by the cores assumes a core runs as fast when the others work too; on
/// this VM it does not (clock boost and shared resources), and this measures by how much.
fn measure_floor_on_all_cores(cores: usize) -> Floor {
    let barrier = std::sync::Barrier::new(cores);
    let floors: Vec<Floor> = std::thread::scope(|scope| {
        let threads: Vec<_> = (0..cores)
            .map(|_| {
                scope.spawn(|| {
                    measure_floor(&|| {
                        barrier.wait();
                    })
                })
            })
            .collect();
        threads
            .into_iter()
            .map(|t| t.join().expect("a floor thread"))
            .collect()
    });
    let mean = |f: fn(&Floor) -> f64| floors.iter().map(f).sum::<f64>() / floors.len() as f64;
    Floor {
        hash: mean(|f| f.hash),
        mul: mean(|f| f.mul),
        decompress: mean(|f| f.decompress),
        batch_compress: mean(|f| f.batch_compress),
    }
}

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// CPU seconds (user + system) this process has used so far, from `/proc/self/stat` (clock
/// ticks of 1/100 s). Other processes' load does not count here, so the CPU-time ratio holds
/// on a busy machine where the wall-time ratio drifts.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) / 100.0)
}

impl Floor {
    /// One core's seconds for the operations a mutual session on `n` items per side must do.
    fn one_core_seconds(&self, n: f64) -> f64 {
        2.0 * n * self.hash
            + 4.0 * n * self.mul
            + 2.0 * n * self.decompress
            + 4.0 * n * self.batch_compress
    }

    fn print(&self, when: &str) {
        println!(
            "floor per element, 1 core, {when}: hash {:.2} us, mul {:.2} us, decompress {:.2} us, batched compress {:.2} us",
            self.hash * 1e6,
            self.mul * 1e6,
            self.decompress * 1e6,
            self.batch_compress * 1e6
        );
    }
}

/// The same work as the floor done as a plain rayon loop over bare dalek calls on all cores
/// (no shuffling, no messages, no matching), in chunks of 1024 so compression is batched as in
/// the floor: wall seconds per item index, i.e. for the two hashes, four multiplications, two
/// decompressions and four batched compressions that one item of each side costs.
fn plain_rayon_per_element() -> f64 {
    use rayon::prelude::*;
    let n = 4 * FLOOR_SAMPLE;
    let k = Scalar::from(0x1234_5678_9abc_def1u64);
    let items: Vec<Vec<u8>> = (0..n).map(|i| format!("item-{i}").into_bytes()).collect();
    let start = Instant::now();
    let out: Vec<u8> = items
        .par_chunks(1024)
        .map(|chunk| {
            let mut acc = 0u8;
            for side in 0..2u8 {
                let hashed: Vec<RistrettoPoint> = chunk
                    .iter()
                    .map(|item| {
                        let mut u = [0u8; 64];
                        expand_message_xof(
                            Xof::Shake256,
                            &[&[side; 32], item],
                            dst::DH_PSI_HASH_TO_GROUP,
                            &mut u,
                        );
                        RistrettoPoint::from_uniform_bytes(&u)
                    })
                    .collect();
                let once: Vec<RistrettoPoint> = hashed.iter().map(|p| k * p).collect();
                let sent = RistrettoPoint::double_and_compress_batch(&once);
                let received: Vec<RistrettoPoint> = sent
                    .iter()
                    .map(|c| k * c.decompress().expect("a valid encoding"))
                    .collect();
                let twice = RistrettoPoint::double_and_compress_batch(&received);
                acc ^= twice[0].as_bytes()[0];
            }
            acc
        })
        .collect();
    std::hint::black_box(out);
    start.elapsed().as_secs_f64() / n as f64
}

fn main() {
    let log2: u32 = std::env::var("BLINDMATCH_BENCH_LOG2")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let n = 1usize << log2;
    let nf = n as f64;
    let cores = rayon::current_num_threads();
    let a = ItemSet::new((0..n).map(|i| format!("item-{i}")));
    let b = ItemSet::new((n / 2..n + n / 2).map(|i| format!("item-{i}")));
    let rss_before = peak_rss_mib().unwrap_or(0.0);

    // The floor is measured right before and right after the session, and the plain rayon loop
    // after that: on a shared machine the load can change between phases, so both floors are
    // shown and the ratio is taken against their mean.
    let before = measure_floor(&|| ());
    let cpu_start = cpu_seconds();
    let start = Instant::now();
    let (init, resp) = run_dh_psi(Mode::Mutual, a, b, None).expect("session");
    let session = start.elapsed();
    let session_cpu = cpu_start.zip(cpu_seconds()).map(|(s, e)| e - s);
    let peak = peak_rss_mib().unwrap_or(0.0);
    assert_eq!(init.match_count(), Some(n / 2));
    assert_eq!(resp.match_count(), Some(n / 2));
    let after = measure_floor(&|| ());
    let rayon_loop = plain_rayon_per_element() * nf;
    let all_cores = measure_floor_on_all_cores(cores);

    let floor_one_core = (before.one_core_seconds(nf) + after.one_core_seconds(nf)) / 2.0;
    let floor = Duration::from_secs_f64(floor_one_core / cores as f64);
    println!(
        "backend: {}  cores: {cores}  n: 2^{log2} per side",
        blindmatch::group::backend()
    );
    before.print("before the session");
    after.print("after the session");
    all_cores.print(&format!("{cores} cores at once (mean per core)"));
    println!("mutual session:      {:.2} s wall", session.as_secs_f64());
    println!(
        "floor / {cores} cores:     {:.2} s (before {:.2} s, after {:.2} s)",
        floor.as_secs_f64(),
        before.one_core_seconds(nf) / cores as f64,
        after.one_core_seconds(nf) / cores as f64
    );
    let floor_all_cores = all_cores.one_core_seconds(nf) / cores as f64;
    println!("plain rayon loop:    {rayon_loop:.2} s wall (same operations, bare dalek calls, all cores)");
    println!(
        "floor, all cores busy: {floor_all_cores:.2} s (the per-element costs with every core at work, / {cores})"
    );
    println!(
        "ratio session / floor (wall):            {:.3}",
        session.as_secs_f64() / floor.as_secs_f64()
    );
    println!(
        "ratio plain rayon loop / floor (wall):   {:.3}",
        rayon_loop / floor.as_secs_f64()
    );
    println!(
        "ratio session / plain rayon loop (wall): {:.3}",
        session.as_secs_f64() / rayon_loop
    );
    println!(
        "ratio all-cores floor / one-core floor:  {:.3} (how much slower a core runs when all work)",
        floor_all_cores / floor.as_secs_f64()
    );
    println!(
        "ratio session / all-cores floor (wall):  {:.3}",
        session.as_secs_f64() / floor_all_cores
    );
    if let Some(cpu) = session_cpu {
        println!(
            "ratio session CPU time / floor one-core time: {:.3} ({cpu:.1} CPU-s vs {floor_one_core:.1} s)",
            cpu / floor_one_core
        );
    }
    println!("peak RSS: {peak:.0} MiB (inputs built: {rss_before:.0} MiB)");
}
