//! Per-component timing of the in-memory VOLE PSI, for the benchmark's breakdown
//! ([`crate::vole_breakdown`]): a thread-local recorder that the steps of the protocol report
//! their phases to. Off unless [`record`] is running on the calling thread, and then it only
//! adds up wall-clock time; it never changes what the protocol computes.

use std::cell::RefCell;
use std::time::{Duration, Instant};

thread_local! {
    static PHASES: RefCell<Option<Vec<(&'static str, Duration)>>> = const { RefCell::new(None) };
}

/// Runs `f`, adding its wall-clock time to `phase` if a [`record`] is running on this thread.
pub(crate) fn phase<T>(name: &'static str, f: impl FnOnce() -> T) -> T {
    let on = PHASES.with(|p| p.borrow().is_some());
    if !on {
        return f();
    }
    let start = Instant::now();
    let out = f();
    add(name, start.elapsed());
    out
}

/// Adds `took` to `phase` if a [`record`] is running on this thread.
pub(crate) fn add(name: &'static str, took: Duration) {
    PHASES.with(|p| {
        if let Some(v) = p.borrow_mut().as_mut() {
            match v.iter_mut().find(|(n, _)| *n == name) {
                Some((_, d)) => *d += took,
                None => v.push((name, took)),
            }
        }
    });
}

/// Runs `f` with the recorder on; returns its output and the phases in the order first seen.
pub(crate) fn record<T>(f: impl FnOnce() -> T) -> (T, Vec<(&'static str, Duration)>) {
    PHASES.with(|p| *p.borrow_mut() = Some(Vec::new()));
    let out = f();
    let phases = PHASES.with(|p| p.borrow_mut().take()).unwrap_or_default();
    (out, phases)
}

/// The phases recorded so far on this thread (empty if no [`record`] is running).
pub(crate) fn snapshot() -> Vec<(&'static str, Duration)> {
    PHASES.with(|p| p.borrow().clone().unwrap_or_default())
}
