//! Progress bars on stderr (indicatif), one per direction of the element stream. Hidden with
//! `--quiet` or when stderr is not a terminal. The library never prints otherwise.

use std::io::IsTerminal;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bars of one session: bytes sent and bytes received, each with its expected total.
#[derive(Debug, Clone)]
pub struct Progress {
    /// Bytes of protocol messages sent.
    pub sent: ProgressBar,
    /// Bytes of protocol messages received.
    pub received: ProgressBar,
}

impl Progress {
    /// Bars that draw nothing.
    pub fn hidden() -> Self {
        Progress {
            sent: ProgressBar::hidden(),
            received: ProgressBar::hidden(),
        }
    }

    /// Bars on stderr, unless `quiet` or stderr is not a terminal.
    pub fn new(quiet: bool, label: &str, sent_total: u64, received_total: u64) -> Self {
        if quiet || !std::io::stderr().is_terminal() {
            return Progress::hidden();
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(
            "{prefix:>24} [{bar:30}] {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
        let sent = multi.add(ProgressBar::new(sent_total).with_style(style.clone()));
        sent.set_prefix(format!("{label}: elements sent"));
        let received = multi.add(ProgressBar::new(received_total).with_style(style));
        received.set_prefix(format!("{label}: elements received"));
        Progress { sent, received }
    }

    /// Clears the bars.
    pub fn finish(&self) {
        self.sent.finish_and_clear();
        self.received.finish_and_clear();
    }
}
