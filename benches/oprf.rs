//! OPRF-PSI, unbalanced: a receiver of 2^10 items against a sender of 2^16 (default) or
//! `2^BLINDMATCH_BENCH_LOG2_SENDER` items (set it to 20 or 24 for the sizes), with the
//! sender's precomputation measured apart from the online phase, plus the bytes each way.
//!
//! `cargo bench --bench oprf` (or `BLINDMATCH_BENCH_LOG2_SENDER=20 cargo bench --bench oprf`)

// criterion_group! generates undocumented functions.
#![allow(missing_docs)]

use std::sync::Arc;
use std::time::Instant;

use blindmatch::oprf::{OprfKey, Suite};
use blindmatch::protocol::oprf_psi::{run_in_memory_with, OprfPsiParams, PreparedSender};
use blindmatch::protocol::ItemSet;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::rngs::SysRng;
use rand_core::UnwrapErr;

fn log2_sender() -> u32 {
    std::env::var("BLINDMATCH_BENCH_LOG2_SENDER")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(16)
}

fn bench(c: &mut Criterion) {
    let (log_r, log_s) = (10u32, log2_sender());
    let (n_r, n_s) = (1usize << log_r, 1usize << log_s);
    let receiver = ItemSet::new((0..n_r).map(|i| format!("item-{}", i * 7)));
    let sender = ItemSet::new((0..n_s).map(|i| format!("item-{i}")));
    let suite = Suite::default();
    let mut rng = UnwrapErr(SysRng);

    // Precomputation, once (sender only; in unbalanced mode it is done once per index).
    let mut pre = c.benchmark_group("oprf_precompute");
    pre.sample_size(10);
    pre.throughput(Throughput::Elements(n_s as u64));
    pre.bench_function(
        BenchmarkId::new(suite.to_string(), format!("2^{log_s}")),
        |b| {
            b.iter(|| {
                PreparedSender::new(
                    suite,
                    OprfKey::random(&mut UnwrapErr(SysRng)),
                    &sender,
                    None,
                )
            })
        },
    );
    pre.finish();

    let t = Instant::now();
    let set = Arc::new(
        PreparedSender::new(suite, OprfKey::random(&mut rng), &sender, None).expect("set"),
    );
    eprintln!("precomputation of 2^{log_s}: {:?}", t.elapsed());
    let params = OprfPsiParams::new(suite, [7; 32], n_r, n_s);
    let ((out, _), transcript) = run_in_memory_with(
        params.clone(),
        receiver.clone(),
        set.clone(),
        &mut rng,
        true,
    )
    .expect("run");
    let (to_sender, to_receiver) = transcript.bytes();
    let tag_bytes: usize = transcript
        .messages
        .iter()
        .filter(|(_, m)| m.first() == Some(&0x13))
        .map(|(_, m)| m.len())
        .sum();
    eprintln!(
        "2^{log_r} vs 2^{log_s}: {} matches; bytes receiver->sender {to_sender}, sender->receiver \
         {to_receiver}, of which Tags {tag_bytes} ({:.2} per sender item)",
        out.matches.len(),
        tag_bytes as f64 / n_s as f64
    );

    // Online phase: both roles, all messages encoded and decoded, no precomputation.
    let mut online = c.benchmark_group("oprf_online");
    online.sample_size(10);
    online.throughput(Throughput::Elements(n_r as u64));
    online.bench_function(
        BenchmarkId::new(format!("2^{log_r}"), format!("2^{log_s}")),
        |b| {
            b.iter(|| {
                run_in_memory_with(
                    params.clone(),
                    receiver.clone(),
                    set.clone(),
                    &mut UnwrapErr(SysRng),
                    false,
                )
                .expect("run")
            })
        },
    );
    online.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
