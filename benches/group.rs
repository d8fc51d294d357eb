//! The batched engine beside the bare dalek operations it wraps, per element, at batch sizes
//! 1, 1024 and 65536. Each `floor` row runs the plain dalek call one element at a time on one
//! core; each `batched` row is blindmatch's engine on all cores. Their ratio is the speed-up.
//!
//! `cargo bench --bench group`

// criterion_group! generates undocumented functions.
#![allow(missing_docs)]

use std::hint::black_box;

use blindmatch::group::expand::{expand_message_xof, Xof};
use blindmatch::group::{batch, SessionKey, WireElement};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
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

const SIZES: [usize; 3] = [1, 1024, 65_536];

fn items(n: usize) -> Vec<Vec<u8>> {
    (0..n).map(|i| format!("MSCU{i:07}").into_bytes()).collect()
}

fn floor_hash(item: &[u8]) -> RistrettoPoint {
    let mut uniform = [0u8; 64];
    expand_message_xof(
        Xof::Shake256,
        &[b"session-id", item],
        dst::DH_PSI_HASH_TO_GROUP,
        &mut uniform,
    );
    RistrettoPoint::from_uniform_bytes(&uniform)
}

fn bench(c: &mut Criterion) {
    let mut rng = ChaCha20Rng::seed_from_u64(1);
    let key = SessionKey::random(&mut rng);
    let scalar = Scalar::random(&mut rng);
    let all_items = items(*SIZES.last().expect("sizes"));
    let all_points = batch::hash_to_group(dst::DH_PSI_HASH_TO_GROUP, b"session-id", &all_items);
    let all_encoded = batch::encode(&all_points);
    eprintln!("curve25519-dalek backend: {}", blindmatch::group::backend());

    for (name, floor_name) in [
        ("hash_to_group", "expand_xof+from_uniform_bytes"),
        ("blind", "mul+compress"),
        ("reblind", "decompress+mul+compress"),
        ("encode", "compress"),
        ("pipeline", "single-element pipeline, 1 core"),
    ] {
        let mut g = c.benchmark_group(name);
        g.sample_size(10);
        for n in SIZES {
            g.throughput(Throughput::Elements(n as u64));
            let (its, pts, enc) = (&all_items[..n], &all_points[..n], &all_encoded[..n]);
            match name {
                "hash_to_group" => {
                    g.bench_with_input(BenchmarkId::new("batched", n), &n, |b, _| {
                        b.iter(|| {
                            batch::hash_to_group(
                                dst::DH_PSI_HASH_TO_GROUP,
                                b"session-id",
                                black_box(its),
                            )
                        })
                    });
                    g.bench_with_input(BenchmarkId::new(floor_name, n), &n, |b, _| {
                        b.iter(|| {
                            its.iter()
                                .map(|i| floor_hash(black_box(i)))
                                .collect::<Vec<_>>()
                        })
                    });
                }
                "blind" => {
                    g.bench_with_input(BenchmarkId::new("batched", n), &n, |b, _| {
                        b.iter(|| batch::blind(&key, black_box(pts)))
                    });
                    g.bench_with_input(BenchmarkId::new(floor_name, n), &n, |b, _| {
                        b.iter(|| {
                            pts.iter()
                                .map(|p| (scalar * black_box(p)).compress())
                                .collect::<Vec<_>>()
                        })
                    });
                    g.bench_with_input(BenchmarkId::new("mul only", n), &n, |b, _| {
                        b.iter(|| {
                            pts.iter()
                                .map(|p| scalar * black_box(p))
                                .collect::<Vec<_>>()
                        })
                    });
                }
                "reblind" => {
                    g.bench_with_input(BenchmarkId::new("batched", n), &n, |b, _| {
                        b.iter(|| batch::reblind(&key, black_box(enc)).expect("valid"))
                    });
                    g.bench_with_input(BenchmarkId::new(floor_name, n), &n, |b, _| {
                        b.iter(|| {
                            enc.iter()
                                .map(|e| {
                                    let p = CompressedRistretto(e.0).decompress().expect("valid");
                                    (scalar * p).compress()
                                })
                                .collect::<Vec<_>>()
                        })
                    });
                    g.bench_with_input(BenchmarkId::new("decompress only", n), &n, |b, _| {
                        b.iter(|| {
                            enc.iter()
                                .map(|e| CompressedRistretto(e.0).decompress())
                                .collect::<Vec<_>>()
                        })
                    });
                }
                "encode" => {
                    g.bench_with_input(BenchmarkId::new("batched", n), &n, |b, _| {
                        b.iter(|| batch::encode(black_box(pts)))
                    });
                    g.bench_with_input(BenchmarkId::new(floor_name, n), &n, |b, _| {
                        b.iter(|| {
                            pts.iter()
                                .map(|p| WireElement::encode(black_box(p)))
                                .collect::<Vec<_>>()
                        })
                    });
                    g.bench_with_input(
                        BenchmarkId::new("double_and_compress_batch", n),
                        &n,
                        |b, _| {
                            b.iter(|| {
                                pts.chunks(batch::BATCH)
                                    .flat_map(RistrettoPoint::double_and_compress_batch)
                                    .collect::<Vec<_>>()
                            })
                        },
                    );
                }
                _ => {
                    g.bench_with_input(BenchmarkId::new("batched", n), &n, |b, _| {
                        b.iter(|| {
                            batch::hash_and_blind(
                                &key,
                                dst::DH_PSI_HASH_TO_GROUP,
                                b"session-id",
                                black_box(its),
                            )
                        })
                    });
                    g.bench_with_input(BenchmarkId::new(floor_name, n), &n, |b, _| {
                        b.iter(|| {
                            batch::hash_and_blind_single(
                                &key,
                                dst::DH_PSI_HASH_TO_GROUP,
                                b"session-id",
                                black_box(its),
                            )
                        })
                    });
                }
            }
        }
        g.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
