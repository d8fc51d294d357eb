//! The in-memory VOLE PSI (`protocol-spec/08-vole-psi.md`, both parties in one process on all
//! cores, `mutual` mode, half the items shared), phase by phase, at 2^16 and 2^20 items per
//! side; and, for comparison in the same run, the in-memory DH-PSI session at the same size.
//!
//! `cargo bench --bench vole` (BLINDMATCH_BENCH_LOG2=16 for the small size only;
//! BLINDMATCH_BENCH_DH=0 to skip the DH-PSI comparison).

use std::time::{Duration, Instant};

use blindmatch::protocol::memory::run_dh_psi;
use blindmatch::protocol::{ItemSet, Mode};

#[path = "support/machine.rs"]
mod machine;
use machine::cpu_model;

/// CPU seconds (user + system) this process has used so far, from `/proc/self/stat` (clock
/// ticks of 1/100 s): on a shared machine, less skewed by other processes than wall time.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = after.split_whitespace().collect();
    let user: f64 = fields.get(11)?.parse().ok()?;
    let system: f64 = fields.get(12)?.parse().ok()?;
    Some((user + system) / 100.0)
}

fn print(log2: u32, phases: &[(&'static str, Duration)]) {
    println!("VOLE PSI, 2^{log2} x 2^{log2} (mutual, half shared):");
    for (name, d) in phases {
        println!("  {name:<40} {:>9.3} s", d.as_secs_f64());
    }
}

fn main() {
    let sizes: Vec<u32> = match std::env::var("BLINDMATCH_BENCH_LOG2") {
        Ok(v) => v.split(',').filter_map(|x| x.trim().parse().ok()).collect(),
        Err(_) => vec![16, 20],
    };
    let dh = std::env::var("BLINDMATCH_BENCH_DH").map_or(true, |v| v != "0");
    println!("CPU: {}", cpu_model());
    println!(
        "curve25519-dalek backend: {}  cores (rayon): {}",
        blindmatch::group::backend(),
        rayon::current_num_threads()
    );
    for &log2 in &sizes {
        let n = 1usize << log2;
        // A warm-up at the small size keeps one-time costs (the thread pool, page faults of the
        // first allocations) out of the first measurement.
        if log2 == sizes[0] {
            blindmatch::vole_breakdown(1 << 10).expect("warm-up");
        }
        let cpu_start = cpu_seconds();
        let phases = blindmatch::vole_breakdown(n).expect("VOLE PSI");
        let cpu = cpu_start.zip(cpu_seconds()).map(|(s, e)| e - s);
        print(log2, &phases);
        if let Some(cpu) = cpu {
            println!(
                "  {:<40} {cpu:>9.3} s",
                "CPU time, both parties (user + system)"
            );
        }
        let vole_total = phases
            .iter()
            .find(|(name, _)| *name == "total")
            .map_or(Duration::ZERO, |(_, d)| *d);
        if dh {
            let cpu_start = cpu_seconds();
            let a = ItemSet::new((0..n).map(|i| format!("item-{i}")));
            let b = ItemSet::new((n / 2..n + n / 2).map(|i| format!("item-{i}")));
            let start = Instant::now();
            let (init, _) = run_dh_psi(Mode::Mutual, a, b, None).expect("DH-PSI session");
            let dh_time = start.elapsed();
            let dh_cpu = cpu_start.zip(cpu_seconds()).map(|(s, e)| e - s);
            assert_eq!(init.match_count(), Some(n / 2));
            println!(
                "DH-PSI mutual session, same size: {:.3} s wall ({} CPU); DH-PSI / VOLE PSI: {:.1}x (wall)",
                dh_time.as_secs_f64(),
                dh_cpu.map_or("?".into(), |c| format!("{c:.2} s")),
                dh_time.as_secs_f64() / vole_total.as_secs_f64()
            );
        }
    }
}
