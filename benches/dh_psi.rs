//! Whole in-memory DH-PSI sessions (both parties in one process, all cores) at 2^10 and 2^16
//! items per side, for each mode. The 2^20 session, with its floor, is `benches/floor.rs`.
//!
//! `cargo bench --bench dh_psi`

// criterion_group! generates undocumented functions.
#![allow(missing_docs)]

use blindmatch::protocol::memory::run_dh_psi;
use blindmatch::protocol::{ItemSet, Mode};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

/// Two sets of `n` items sharing half of them.
pub fn sets(n: usize) -> (ItemSet, ItemSet) {
    let a = (0..n).map(|i| format!("item-{i}"));
    let b = (n / 2..n + n / 2).map(|i| format!("item-{i}"));
    (ItemSet::new(a), ItemSet::new(b))
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("dh_psi_session");
    g.sample_size(10);
    for log2 in [10, 16] {
        let n = 1usize << log2;
        let (a, b) = sets(n);
        g.throughput(Throughput::Elements(2 * n as u64));
        for mode in Mode::ALL {
            g.bench_with_input(
                BenchmarkId::new(mode.as_str(), format!("2^{log2}")),
                &n,
                |bench, _| {
                    bench.iter(|| run_dh_psi(mode, a.clone(), b.clone(), None).expect("session"))
                },
            );
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
