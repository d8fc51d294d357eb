//! Does an OPRF-PSI receiver's padding show in its timing? (issue 18, finding 3.)
//!
//! Two receivers announce the same padded count: one holds that many real items, the other a
//! single real item and padding for the rest. Both send the same number of `Blinded` chunks;
//! this benchmark times every chunk of both (interleaved, so the machine's drifting load hits
//! both alike) over many rounds and compares the two samples: their means, their ratio and
//! Welch's t statistic. Before the uniform receiver (padding prepared up front, real items
//! hashed per chunk), a chunk of real items took 183 ms and a padding chunk 0.05 ms; with it,
//! both run the same code on 32-byte strings and the ratio is close to 1.
//!
//! `cargo bench --bench receiver_timing` (`BLINDMATCH_BENCH_ROUNDS`, default 8, of 16 chunks
//! of 1,024 entries each per receiver).

use std::time::Instant;

use blindmatch::oprf::Suite;
use blindmatch::protocol::oprf_psi::{
    OprfPsiMessage, OprfPsiParams, OprfReceiver, ReceiverSetup, SenderParams,
};
use blindmatch::protocol::{ItemSet, SansIo};
use rand::rngs::SysRng;
use rand_core::UnwrapErr;

const CHUNK: usize = 1024;
const CHUNKS: usize = 16;

fn receiver(real: usize) -> OprfReceiver {
    let n = CHUNK * CHUNKS;
    let items = ItemSet::new((0..real).map(|i| format!("MSCU{:07}", 1_000_000 + i)));
    let mut params = OprfPsiParams::new(Suite::default(), [9; 32], n, n);
    params.chunk_size = CHUNK;
    let setup = ReceiverSetup {
        labeled: false,
        allowed_columns: None,
        payload_len: None,
    };
    let mut r = OprfReceiver::new(params, setup, items, &mut UnwrapErr(SysRng)).expect("receiver");
    r.handle(OprfPsiMessage::Params(SenderParams {
        payload_len: None,
        columns: Vec::new(),
    }))
    .expect("params");
    r
}

fn stats(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0);
    (mean, var)
}

fn main() {
    let rounds: usize = std::env::var("BLINDMATCH_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    println!(
        "backend {}; {rounds} rounds of {CHUNKS} chunks of {CHUNK} entries per receiver",
        blindmatch::group::backend()
    );
    let (mut real, mut padding) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let (mut all_real, mut all_padding) = (receiver(CHUNK * CHUNKS), receiver(1));
        for _ in 0..CHUNKS {
            for (r, out) in [(&mut all_real, &mut real), (&mut all_padding, &mut padding)] {
                let t = Instant::now();
                let msg = r.poll_outgoing().expect("a chunk").expect("one more chunk");
                out.push(t.elapsed().as_secs_f64() * 1e3);
                assert!(matches!(msg, OprfPsiMessage::Blinded(ref e) if e.len() == CHUNK));
            }
        }
    }
    let ((mr, vr), (mp, vp)) = (stats(&real), stats(&padding));
    let t = (mr - mp) / (vr / real.len() as f64 + vp / padding.len() as f64).sqrt();
    println!(
        "real-item chunks:  mean {mr:.2} ms, sd {:.2} ms (n = {})",
        vr.sqrt(),
        real.len()
    );
    println!(
        "padding chunks:    mean {mp:.2} ms, sd {:.2} ms (n = {})",
        vp.sqrt(),
        padding.len()
    );
    println!("ratio padding/real {:.3}; Welch t = {t:.2}", mp / mr);
    println!(
        "{}",
        if t.abs() < 3.0 {
            "indistinguishable within noise (|t| < 3)"
        } else {
            "DISTINGUISHABLE (|t| >= 3): the padding shows in the timing"
        }
    );
}
