//! The inline SVG bar chart of results per session over time: matched items, or the count of
//! a count-only session (drawn apart). Axis labels never overlap: a date and time label is
//! drawn under every `step`-th bar only, `step` chosen so labels are at least
//! [`LABEL_SPACING`] apart, and a value over every bar only when the widest value fits a slot
//! (otherwise over the labelled bars only).

use std::fmt::Write;

use super::escape::escape;
use super::{SessionReport, Status};

/// The least distance between the centres of two x-axis labels, in SVG units: a
/// `YYYY-MM-DD` label in the 11 px tick font is about 62 units wide.
pub(crate) const LABEL_SPACING: f64 = 80.0;

/// The width of one digit of a value label (11 px, bold), in SVG units, with some margin.
const DIGIT_WIDTH: f64 = 7.5;

/// Whether every bar's value fits over it without touching its neighbours' values.
fn values_fit(max: u64, slot: f64) -> bool {
    let digits = max.max(1).ilog10() as f64 + 1.0;
    slot >= digits * DIGIT_WIDTH + 6.0
}

fn value(s: &SessionReport) -> u64 {
    s.own_matches() + s.own_count()
}

/// An SVG bar chart: one bar per session in time order, its height the number of matched
/// items we learned (or, drawn apart, the count of a count-only session); aborted sessions
/// are drawn as a red tick.
pub(crate) fn svg(sessions: &[SessionReport]) -> String {
    let mut ordered: Vec<&SessionReport> = sessions.iter().collect();
    ordered.sort_by(|a, b| a.started.cmp(&b.started));
    let (w, h, left, bottom, top) = (720.0f64, 260.0f64, 56.0, 48.0, 20.0);
    // Room on the right for half of the last x-axis label.
    let plot_w = w - left - 40.0;
    let plot_h = h - bottom - top;
    let max = ordered
        .iter()
        .map(|s| value(s))
        .max()
        .unwrap_or(0)
        .max(1)
        .div_ceil(4)
        * 4; // four gridlines at whole numbers
    let mut out = String::new();
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" \
         height=\"{h}\" role=\"img\" aria-labelledby=\"chart-title\" class=\"chart\">\
         <title id=\"chart-title\">Results per session over time</title>"
    );
    // Axes and gridlines.
    for i in 0..=4u32 {
        let y = top + plot_h - plot_h * f64::from(i) / 4.0;
        let v = max / 4 * u64::from(i);
        let _ = write!(
            out,
            "<line x1=\"{left}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" class=\"grid\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"end\">{v}</text>",
            left + plot_w,
            left - 6.0,
            y + 4.0
        );
    }
    if ordered.is_empty() {
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" class=\"tick\">no sessions</text>",
            left + plot_w / 2.0,
            top + plot_h / 2.0
        );
    }
    let n = ordered.len().max(1) as f64;
    let slot = plot_w / n;
    let bar = (slot * 0.6).min(48.0);
    let step = (LABEL_SPACING / slot).ceil().max(1.0) as usize;
    let every_value = values_fit(max, slot);
    for (i, s) in ordered.iter().enumerate() {
        let m = value(s);
        let what = if s.own_count() > 0 {
            "shared (count only)"
        } else {
            "matches"
        };
        let x = left + slot * i as f64 + (slot - bar) / 2.0;
        let bh = plot_h * m as f64 / max as f64;
        let class = match s.status {
            Status::Completed(_) if s.own_count() > 0 => "bar count",
            Status::Completed(_) => "bar",
            Status::Aborted(_) => "bar aborted",
            Status::Unfinished => "bar unfinished",
        };
        let label = format!(
            "{} · session {} · {m} {what}",
            s.started,
            &s.info.session_id.get(..8).unwrap_or(&s.info.session_id),
        );
        let _ = write!(
            out,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" class=\"{class}\">\
             <title>{}</title></rect>",
            top + plot_h - bh.max(2.0),
            bh.max(2.0),
            escape(&label)
        );
        if every_value || i % step == 0 {
            let _ = write!(
                out,
                "<text x=\"{:.1}\" y=\"{:.1}\" class=\"value\" text-anchor=\"middle\">{m}</text>",
                x + bar / 2.0,
                top + plot_h - bh.max(2.0) - 4.0
            );
        }
        if i % step != 0 {
            continue;
        }
        let day = s.started.get(..10).unwrap_or(&s.started);
        let time = s.started.get(11..16).unwrap_or("");
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"tick x\" text-anchor=\"middle\">{}</text>\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"tick x\" text-anchor=\"middle\">{}</text>",
            x + bar / 2.0,
            top + plot_h + 18.0,
            escape(day),
            x + bar / 2.0,
            top + plot_h + 32.0,
            escape(time)
        );
    }
    let _ = write!(
        out,
        "<line x1=\"{left}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" class=\"axis\"/></svg>",
        top + plot_h,
        left + plot_w,
        top + plot_h
    );
    out
}
