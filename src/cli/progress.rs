//! Progress on the terminal: a bar per phase of a session (indicatif), drawn on stderr when
//! it is a terminal and `--quiet` is not given. The library only reports progress
//! ([`crate::session::Progress`]); this is where it is drawn.

use std::io::IsTerminal;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::protocol::Role;
use crate::session::{Direction, Phase, Progress};

/// True when progress should be drawn: not `quiet`, and stderr is a terminal.
pub fn shown(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// Bars on stderr, one per phase of the session, and one for the buckets of a bucketed
/// session (with its estimate of the time left).
#[derive(Default)]
pub struct TerminalProgress {
    bars: Mutex<Vec<(Direction, &'static str, ProgressBar)>>,
    multi: Mutex<Option<MultiProgress>>,
    buckets: Mutex<Option<ProgressBar>>,
}

impl TerminalProgress {
    /// Bars, if `shown(quiet)`; otherwise nothing is drawn.
    pub fn new() -> Self {
        TerminalProgress::default()
    }
}

impl Progress for TerminalProgress {
    fn start(&self, role: Role, phases: &[Phase]) {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{prefix:>44} [{bar:30}] {human_pos}/{human_len} items, {elapsed} (eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        let bars = phases
            .iter()
            .map(|p| {
                let bar = multi.add(ProgressBar::new(p.total).with_style(style.clone()));
                let arrow = match p.direction {
                    Direction::Sent => "->",
                    Direction::Received => "<-",
                };
                bar.set_prefix(format!("{role}: {} {arrow}", p.what));
                (p.direction, p.message, bar)
            })
            .collect();
        if let Ok(mut b) = self.bars.lock() {
            *b = bars;
        }
        if let Ok(mut m) = self.multi.lock() {
            *m = Some(multi);
        }
    }

    fn buckets_resumed(&self, done: u32, total: u32) {
        self.bucket_finished(done, total);
        if let Ok(slot) = self.buckets.lock() {
            if let Some(bar) = slot.as_ref() {
                // The estimate counts only the buckets this attempt runs.
                bar.reset_eta();
            }
        }
    }

    fn bucket_finished(&self, finished: u32, total: u32) {
        let Ok(mut slot) = self.buckets.lock() else {
            return;
        };
        let bar = slot.get_or_insert_with(|| {
            let bar = ProgressBar::new(u64::from(total));
            if let Ok(style) = ProgressStyle::with_template(
                "{prefix:>44} [{bar:30}] {pos}/{len} buckets, {elapsed} (eta {eta})",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_prefix("buckets finished");
            match self.multi.lock().ok().and_then(|m| m.clone()) {
                Some(multi) => multi.add(bar),
                None => bar,
            }
        });
        bar.set_position(u64::from(finished));
    }

    fn advance(&self, direction: Direction, message: &'static str, items: u64) {
        if let Ok(b) = self.bars.lock() {
            if let Some((_, _, bar)) = b.iter().find(|(d, m, _)| *d == direction && *m == message) {
                bar.inc(items);
            }
        }
    }

    fn finish(&self) {
        if let Ok(b) = self.bars.lock() {
            for (_, _, bar) in b.iter() {
                bar.finish_and_clear();
            }
        }
        if let Some(bar) = self.buckets.lock().ok().and_then(|mut b| b.take()) {
            bar.finish_and_clear();
        }
    }
}

/// The progress of a session: unless `quiet`, JSON lines on stderr with `json`
/// ([`super::progress_json`]), else bars when stderr is a terminal; otherwise nothing.
pub fn for_session(quiet: bool, json: bool) -> std::sync::Arc<dyn Progress> {
    if quiet {
        std::sync::Arc::new(crate::session::NoProgress)
    } else if json {
        std::sync::Arc::new(super::progress_json::JsonProgress::stderr())
    } else if shown(quiet) {
        std::sync::Arc::new(TerminalProgress::new())
    } else {
        std::sync::Arc::new(crate::session::NoProgress)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_go_to_their_phase() {
        let bar = |total| ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        let progress = TerminalProgress {
            bars: Mutex::new(vec![
                (Direction::Sent, "Blinded", bar(10)),
                (Direction::Received, "Blinded", bar(20)),
            ]),
            ..TerminalProgress::default()
        };
        progress.advance(Direction::Sent, "Blinded", 4);
        progress.advance(Direction::Received, "Blinded", 7);
        progress.advance(Direction::Received, "Reblinded", 5);
        let positions: Vec<u64> = progress
            .bars
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|(_, _, b)| b.position())
            .collect();
        assert_eq!(positions, [4, 7]);
    }
}
