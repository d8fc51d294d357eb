//! Progress as JSON lines on stderr (`serve` and `match` with `--json`), for a scheduler or a
//! log collector to follow while stdout keeps the one JSON summary. One object per line, each
//! with a `progress` key naming the event:
//!
//! ```text
//! {"progress":"start","role":"initiator","phases":[{"what":..,"direction":"sent","total":n},..]}
//! {"progress":"phase","what":..,"direction":"received","done":n,"total":n}
//! {"progress":"resumed","done":d,"total":B}
//! {"progress":"bucket","finished":k,"total":B,"elapsed_ms":t,"eta_ms":t}
//! {"progress":"finish","elapsed_ms":t}
//! ```
//!
//! A `phase` line is written when a phase completes and at most once a second before that; a
//! `bucket` line each time a bucket of a bucketed session finishes, with an estimate of the
//! time left (the mean time per finished bucket times the buckets left); in a resumed session
//! a `resumed` line first says how many buckets came from the checkpoint, and the estimate
//! counts only the buckets this attempt ran.

use std::io::Write;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::protocol::Role;
use crate::session::{Direction, Phase, Progress};

/// How often a phase's line may be written before the phase completes.
const EVERY: Duration = Duration::from_secs(1);

struct PhaseState {
    direction: Direction,
    message: &'static str,
    what: &'static str,
    done: u64,
    total: u64,
    written: Option<Instant>,
}

#[derive(Default)]
struct State {
    started: Option<Instant>,
    phases: Vec<PhaseState>,
    /// Buckets a resumed session took from its checkpoint (they took no time here).
    resumed: u32,
}

/// Writes JSON progress lines to `out` (stderr for the command line).
pub struct JsonProgress<W: Write + Send> {
    out: Mutex<W>,
    state: Mutex<State>,
}

#[derive(Serialize)]
struct PhaseLine<'a> {
    what: &'a str,
    direction: &'static str,
    total: u64,
}

#[derive(Serialize)]
#[serde(tag = "progress", rename_all = "snake_case")]
enum Line<'a> {
    Start {
        role: String,
        phases: Vec<PhaseLine<'a>>,
    },
    Phase {
        what: &'a str,
        direction: &'static str,
        done: u64,
        total: u64,
    },
    Bucket {
        finished: u32,
        total: u32,
        elapsed_ms: u128,
        eta_ms: u128,
    },
    Resumed {
        done: u32,
        total: u32,
    },
    Finish {
        elapsed_ms: u128,
    },
}

fn direction(d: Direction) -> &'static str {
    match d {
        Direction::Sent => "sent",
        Direction::Received => "received",
    }
}

impl JsonProgress<std::io::Stderr> {
    /// Lines on stderr.
    pub fn stderr() -> Self {
        JsonProgress::new(std::io::stderr())
    }
}

impl<W: Write + Send> JsonProgress<W> {
    /// Lines on `out`.
    pub fn new(out: W) -> Self {
        JsonProgress {
            out: Mutex::new(out),
            state: Mutex::new(State::default()),
        }
    }

    /// What was written, for tests.
    #[cfg(test)]
    fn into_inner(self) -> W {
        self.out.into_inner().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes one line; progress is best effort, so a failed write is ignored.
    fn write(&self, line: &Line<'_>) {
        if let (Ok(text), Ok(mut out)) = (serde_json::to_string(line), self.out.lock()) {
            let _ = writeln!(out, "{text}");
            let _ = out.flush();
        }
    }

    fn elapsed(&self) -> Duration {
        self.state
            .lock()
            .ok()
            .and_then(|s| s.started)
            .map_or(Duration::ZERO, |t| t.elapsed())
    }
}

impl<W: Write + Send> Progress for JsonProgress<W> {
    fn start(&self, role: Role, phases: &[Phase]) {
        if let Ok(mut s) = self.state.lock() {
            s.started = Some(Instant::now());
            s.phases = phases
                .iter()
                .map(|p| PhaseState {
                    direction: p.direction,
                    message: p.message,
                    what: p.what,
                    done: 0,
                    total: p.total,
                    written: None,
                })
                .collect();
        }
        self.write(&Line::Start {
            role: role.to_string(),
            phases: phases
                .iter()
                .map(|p| PhaseLine {
                    what: p.what,
                    direction: direction(p.direction),
                    total: p.total,
                })
                .collect(),
        });
    }

    fn advance(&self, d: Direction, message: &'static str, items: u64) {
        let due = self.state.lock().ok().and_then(|mut s| {
            let p = s
                .phases
                .iter_mut()
                .find(|p| p.direction == d && p.message == message)?;
            p.done = (p.done + items).min(p.total);
            let complete = p.done == p.total;
            let quiet = p.written.is_some_and(|t| t.elapsed() < EVERY);
            if quiet && !complete {
                return None;
            }
            p.written = Some(Instant::now());
            Some((p.what, p.done, p.total))
        });
        if let Some((what, done, total)) = due {
            self.write(&Line::Phase {
                what,
                direction: direction(d),
                done,
                total,
            });
        }
    }

    fn buckets_resumed(&self, done: u32, total: u32) {
        if let Ok(mut s) = self.state.lock() {
            s.resumed = done;
        }
        self.write(&Line::Resumed { done, total });
    }

    fn bucket_finished(&self, finished: u32, total: u32) {
        let elapsed = self.elapsed();
        let resumed = self.state.lock().map_or(0, |s| s.resumed);
        let left = u128::from(total.saturating_sub(finished));
        let run = finished.saturating_sub(resumed).max(1);
        let eta_ms = elapsed.as_millis() * left / u128::from(run);
        self.write(&Line::Bucket {
            finished,
            total,
            elapsed_ms: elapsed.as_millis(),
            eta_ms,
        });
    }

    fn finish(&self) {
        self.write(&Line::Finish {
            elapsed_ms: self.elapsed().as_millis(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(p: JsonProgress<Vec<u8>>) -> Vec<serde_json::Value> {
        String::from_utf8(p.into_inner())
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or(serde_json::Value::Null))
            .collect()
    }

    #[test]
    fn every_event_is_one_json_line() {
        let p = JsonProgress::new(Vec::new());
        let phases = [
            Phase::new(Direction::Sent, "Blinded", "our set", 10),
            Phase::new(Direction::Received, "Blinded", "their set", 20),
        ];
        p.start(Role::Initiator, &phases);
        p.advance(Direction::Sent, "Blinded", 4);
        // Within a second of the last line: nothing until the phase completes.
        p.advance(Direction::Sent, "Blinded", 4);
        p.advance(Direction::Sent, "Blinded", 2);
        p.advance(Direction::Received, "Other", 5);
        p.bucket_finished(1, 4);
        p.finish();
        let got = lines(p);
        let kinds: Vec<&str> = got
            .iter()
            .map(|v| v["progress"].as_str().unwrap_or("?"))
            .collect();
        assert_eq!(kinds, ["start", "phase", "phase", "bucket", "finish"]);
        assert_eq!(got[0]["role"], "initiator");
        assert_eq!(got[0]["phases"][1]["total"], 20);
        assert_eq!(
            (got[1]["done"].as_u64(), got[2]["done"].as_u64()),
            (Some(4), Some(10))
        );
        assert_eq!(got[2]["direction"], "sent");
        assert_eq!(
            (got[3]["finished"].as_u64(), got[3]["total"].as_u64()),
            (Some(1), Some(4))
        );
        // Three buckets left, each estimated at the time the first took.
        let (elapsed, eta) = (got[3]["elapsed_ms"].as_u64(), got[3]["eta_ms"].as_u64());
        assert_eq!(eta, elapsed.map(|e| 3 * e));
    }

    #[test]
    fn a_resumed_session_estimates_from_the_buckets_it_ran() {
        let p = JsonProgress::new(Vec::new());
        p.start(Role::Responder, &[]);
        p.buckets_resumed(6, 10);
        std::thread::sleep(Duration::from_millis(20));
        p.bucket_finished(7, 10);
        let got = lines(p);
        assert_eq!(got[1]["progress"], "resumed");
        assert_eq!(
            (got[1]["done"].as_u64(), got[1]["total"].as_u64()),
            (Some(6), Some(10))
        );
        // One bucket ran in this attempt, three are left: three times its time (not 3/7).
        let (elapsed, eta) = (got[2]["elapsed_ms"].as_u64(), got[2]["eta_ms"].as_u64());
        assert!(elapsed >= Some(20));
        assert_eq!(eta, elapsed.map(|e| 3 * e));
    }
}
