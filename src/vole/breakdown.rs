//! The in-memory VOLE PSI of `n × n` items, half of them shared, timed phase by phase for the
//! benchmark (`benches/vole.rs`, through [`crate::vole_breakdown`]).

use std::time::{Duration, Instant};

use super::psi::{PsiReceiver, PsiSender};
use super::timing;
use crate::error::{Error, Result};
use crate::protocol::Interrupt;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// The time of the phases that [`super::psi::PsiReceiverAwaitingTags::on_tags`] reports
/// itself, so that the rest of it is the comparison.
fn inner(phases: &[(&'static str, Duration)]) -> Duration {
    phases
        .iter()
        .filter(|(name, _)| *name == "OKVS decode + tags")
        .map(|(_, d)| *d)
        .sum()
}

/// Runs a `mutual` PSI of `n` receiver items against `n` sender items (`n / 2` shared), both
/// parties on this thread and rayon's pool, and returns the time of every phase (summed over
/// both parties) followed by `("total", wall time of the whole exchange)`.
///
/// # Errors
/// [`Error::Internal`] for `n = 0`, a failed step, or a result that is not the intersection.
pub(crate) fn run(n: usize) -> Result<Vec<(&'static str, Duration)>> {
    if n == 0 {
        return Err(Error::Internal("a breakdown of no items".into()));
    }
    let item = |i: usize| format!("item-{i}").into_bytes();
    let receiver_items: Vec<Vec<u8>> = (0..n).map(item).collect();
    let sender_items: Vec<Vec<u8>> = (n / 2..n + n / 2).map(item).collect();
    let session = [0x5au8; 32];
    // A fast CSPRNG, as a session would use for the many draws of the OKVS and the shuffle
    // (seeded here, so runs are repeatable).
    let mut rng_s = ChaCha20Rng::seed_from_u64(1);
    let mut rng_r = ChaCha20Rng::seed_from_u64(2);
    let stop = Interrupt::new();
    let start = Instant::now();
    let (result, mut phases) = timing::record(|| -> Result<_> {
        let sender = PsiSender::new(&session, sender_items, n, 1);
        let (receiver, r1) = PsiReceiver::start(&mut rng_r, &session, receiver_items, n, 1)?;
        let (sender, s1) = sender.on_first(&mut rng_s, &r1)?;
        let (receiver, r2) = receiver.on_first(&s1)?;
        let (sender, s2) = sender.on_noise(&mut rng_s, &r2, &stop)?;
        let (receiver, r3) = receiver.on_trees(&mut rng_r, &s2, &stop)?;
        let (sender, s3) = sender.on_mask(&mut rng_s, &r3, &stop)?;
        let before: Duration = inner(&timing::snapshot());
        let started = Instant::now();
        let (ours, r4) = receiver.on_tags(&s3, &stop)?;
        let on_tags = started.elapsed();
        let inside = inner(&timing::snapshot()) - before;
        timing::add("comparison", on_tags.saturating_sub(inside));
        let theirs = sender.on_positions(&r4)?;
        Ok((ours, theirs))
    });
    let (ours, theirs) = result?;
    let total = start.elapsed();
    phases.push(("total", total));
    if ours.len() != n / 2 || theirs.len() != n / 2 {
        return Err(Error::Internal(format!(
            "the breakdown found {} and {} shared items, not {}",
            ours.len(),
            theirs.len(),
            n / 2
        )));
    }
    Ok(phases)
}
