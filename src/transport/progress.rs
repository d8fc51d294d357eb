//! Progress bars on stderr (indicatif), one per phase of a session: each phase is one type of
//! message going one way (for DH-PSI as the initiator: our set blinded and sent, our set coming
//! back re-blinded, the peer's set arriving, and in mutual mode the peer's set re-blinded and
//! returned). A bar counts the items its messages carry against the total the handshake agreed.
//! Hidden with `--quiet` or when stderr is not a terminal. The library never prints otherwise.

use std::io::IsTerminal;
use std::sync::Arc;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Which way a phase's messages go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Messages we send.
    Sent,
    /// Messages we receive (counted once handled).
    Received,
}

/// One phase of a session: the messages of one type going one way.
#[derive(Debug, Clone, Copy)]
pub struct Phase {
    /// Which way.
    pub direction: Direction,
    /// The message type, as [`crate::protocol::WireMessage::progress`] names it.
    pub message: &'static str,
    /// What the phase is, for the bar (`"our set, hashed and blinded"`).
    pub what: &'static str,
    /// Items the phase carries in the whole session.
    pub total: u64,
}

impl Phase {
    /// A phase of `total` items of `message` messages going `direction`.
    pub fn new(
        direction: Direction,
        message: &'static str,
        what: &'static str,
        total: u64,
    ) -> Self {
        Phase {
            direction,
            message,
            what,
            total,
        }
    }
}

/// True when progress should be drawn: not `quiet`, and stderr is a terminal.
pub fn shown(quiet: bool) -> bool {
    !quiet && std::io::stderr().is_terminal()
}

/// The bars of one session.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    bars: Arc<Vec<(Direction, &'static str, ProgressBar)>>,
}

impl Progress {
    /// Bars that draw nothing.
    pub fn hidden() -> Self {
        Progress::default()
    }

    /// One bar per phase on stderr, labelled `label: what`, unless `quiet` or stderr is not a
    /// terminal.
    pub fn new(quiet: bool, label: &str, phases: &[Phase]) -> Self {
        if !shown(quiet) {
            return Progress::hidden();
        }
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
                bar.set_prefix(format!("{label}: {} {arrow}", p.what));
                (p.direction, p.message, bar)
            })
            .collect();
        Progress {
            bars: Arc::new(bars),
        }
    }

    /// Counts `items` carried by a `message` message going `direction`.
    pub fn advance(&self, direction: Direction, message: &str, items: u64) {
        if let Some((_, _, bar)) = self
            .bars
            .iter()
            .find(|(d, m, _)| *d == direction && *m == message)
        {
            bar.inc(items);
        }
    }

    /// Clears the bars.
    pub fn finish(&self) {
        for (_, _, bar) in self.bars.iter() {
            bar.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_go_to_their_phase() {
        // Bars drawn nowhere, but counting.
        let bar = |total| ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
        let progress = Progress {
            bars: Arc::new(vec![
                (Direction::Sent, "Blinded", bar(10)),
                (Direction::Received, "Blinded", bar(20)),
            ]),
        };
        progress.advance(Direction::Sent, "Blinded", 4);
        progress.advance(Direction::Received, "Blinded", 7);
        progress.advance(Direction::Received, "Reblinded", 5);
        let positions: Vec<u64> = progress.bars.iter().map(|(_, _, b)| b.position()).collect();
        assert_eq!(positions, [4, 7]);
    }
}
