//! The 2^20 x 2^20 in-memory mutual DH-PSI session against its floor, measured in one run.
//!
//! The floor is what the session cannot avoid: the bare curve25519-dalek per-element costs of
//! the operations mutual DH-PSI must do (2n hash-to-group, 4n multiplications, 2n
//! decompressions, 4n batched compressions), measured here on one core and divided by the
//! number of cores. The ratio session / floor is what blindmatch adds on top (shuffling,
//! matching, message encoding, scheduling). Also reports peak memory (VmHWM).
//!
//! `cargo bench --bench floor` (BLINDMATCH_BENCH_LOG2=16 for a quick run).

use std::time::{Duration, Instant};

use blindmatch::dst;
use blindmatch::group::expand::{expand_message_xof, Xof};
use blindmatch::protocol::memory::run_dh_psi;
use blindmatch::protocol::{ItemSet, Mode};
use curve25519_dalek::ristretto::{CompressedRistretto, RistrettoPoint};
use curve25519_dalek::scalar::Scalar;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// Elements per floor measurement (on one core).
const FLOOR_SAMPLE: usize = 1 << 13;

fn per_element<T>(f: impl FnOnce() -> T) -> f64 {
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

fn measure_floor() -> Floor {
    let mut rng = ChaCha20Rng::seed_from_u64(7);
    let k = Scalar::random(&mut rng);
    let items: Vec<Vec<u8>> = (0..FLOOR_SAMPLE)
        .map(|i| format!("item-{i}").into_bytes())
        .collect();
    let hash = per_element(|| {
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
    let mul = per_element(|| points.iter().map(|p| k * p).collect::<Vec<_>>());
    let encoded: Vec<CompressedRistretto> = points.iter().map(|p| p.compress()).collect();
    let decompress = per_element(|| encoded.iter().map(|c| c.decompress()).collect::<Vec<_>>());
    let batch_compress = per_element(|| {
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

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let log2: u32 = std::env::var("BLINDMATCH_BENCH_LOG2")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let n = 1usize << log2;
    let cores = rayon::current_num_threads();
    let a = ItemSet::new((0..n).map(|i| format!("item-{i}")));
    let b = ItemSet::new((n / 2..n + n / 2).map(|i| format!("item-{i}")));
    let rss_before = peak_rss_mib().unwrap_or(0.0);

    let start = Instant::now();
    let (init, resp) = run_dh_psi(Mode::Mutual, a, b, None).expect("session");
    let session = start.elapsed();
    let peak = peak_rss_mib().unwrap_or(0.0);
    assert_eq!(init.match_count(), Some(n / 2));
    assert_eq!(resp.match_count(), Some(n / 2));

    let f = measure_floor();
    let nf = n as f64;
    let floor_s = (2.0 * nf * f.hash
        + 4.0 * nf * f.mul
        + 2.0 * nf * f.decompress
        + 4.0 * nf * f.batch_compress)
        / cores as f64;
    let floor = Duration::from_secs_f64(floor_s);
    println!(
        "backend: {}  cores: {cores}  n: 2^{log2} per side",
        blindmatch::group::backend()
    );
    println!(
        "floor per element (1 core): hash {:.2} us, mul {:.2} us, decompress {:.2} us, batched compress {:.2} us",
        f.hash * 1e6,
        f.mul * 1e6,
        f.decompress * 1e6,
        f.batch_compress * 1e6
    );
    println!("mutual session: {:.2} s", session.as_secs_f64());
    println!("floor:          {:.2} s", floor.as_secs_f64());
    println!(
        "ratio session / floor: {:.3}",
        session.as_secs_f64() / floor.as_secs_f64()
    );
    println!("peak RSS: {peak:.0} MiB (inputs built: {rss_before:.0} MiB)");
}
