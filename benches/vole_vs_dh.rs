//! VOLE-PSI against DH-PSI, whole in-memory sessions (both parties in one process, all
//! cores), in the same run: the sizes where `auto` should switch (`AUTO_VOLE_MIN`) and the
//! speed-up at large sets. Prints the CPU, the dalek backend, each time and each ratio.
//!
//! `cargo bench --bench vole_vs_dh` (sizes 2^8 to 2^16, intersection mode);
//! `BLINDMATCH_BENCH_LOG2=20 cargo bench --bench vole_vs_dh` adds one size (DH-PSI at 2^20
//! takes about a minute).

use std::time::{Duration, Instant};

use blindmatch::protocol::memory::{run_dh_psi, run_vole_psi};
use blindmatch::protocol::{ItemSet, Mode};

/// Two sets of `n` items sharing half of them.
fn sets(n: usize) -> (ItemSet, ItemSet) {
    let a = (0..n).map(|i| format!("item-{i}"));
    let b = (n / 2..n + n / 2).map(|i| format!("item-{i}"));
    (ItemSet::new(a), ItemSet::new(b))
}

/// The median wall time of `runs` sessions.
fn median(runs: usize, mut session: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..runs)
        .map(|_| {
            let start = Instant::now();
            session();
            start.elapsed()
        })
        .collect();
    times.sort();
    times[runs / 2]
}

#[path = "support/machine.rs"]
mod machine;
use machine::cpu_model;

fn main() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "cpu: {}  backend: {}  cores: {cores}",
        cpu_model(),
        blindmatch::group::backend()
    );
    println!("mode: intersection, half of each set shared; median wall time");
    println!(
        "{:>6} {:>12} {:>12} {:>10}",
        "n", "DH-PSI", "VOLE-PSI", "DH / VOLE"
    );
    let mut sizes: Vec<u32> = vec![8, 10, 11, 12, 13, 14, 16];
    if let Some(extra) = std::env::var("BLINDMATCH_BENCH_LOG2")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        sizes.push(extra);
    }
    for log2 in sizes {
        let n = 1usize << log2;
        let runs = if log2 >= 18 { 1 } else { 5 };
        let (a, b) = sets(n);
        let check = |o: &blindmatch::protocol::dh::DhOutput| {
            assert_eq!(o.match_count(), Some(n / 2), "the intersection")
        };
        let dh = median(runs, || {
            let (i, _) = run_dh_psi(Mode::Intersection, a.clone(), b.clone(), None).expect("dh");
            check(&i);
        });
        let vole = median(runs, || {
            let (i, _) =
                run_vole_psi(Mode::Intersection, a.clone(), b.clone(), None).expect("vole");
            check(&i);
        });
        println!(
            "{:>6} {:>10.3} s {:>10.3} s {:>10.2}",
            format!("2^{log2}"),
            dh.as_secs_f64(),
            vole.as_secs_f64(),
            dh.as_secs_f64() / vole.as_secs_f64()
        );
    }
}
