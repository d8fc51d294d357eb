//! The inline SVG bar chart of matches per session over time.

use std::fmt::Write;

use super::escape::escape;
use super::{SessionReport, Status};

/// An SVG bar chart: one bar per session in time order, its height the number of matches we
/// learned; aborted sessions are drawn as a red tick.
pub(crate) fn svg(sessions: &[SessionReport]) -> String {
    let mut ordered: Vec<&SessionReport> = sessions.iter().collect();
    ordered.sort_by(|a, b| a.started.cmp(&b.started));
    let (w, h, left, bottom, top) = (720.0f64, 260.0f64, 56.0, 48.0, 20.0);
    let plot_w = w - left - 16.0;
    let plot_h = h - bottom - top;
    let max = ordered
        .iter()
        .map(|s| s.own_matches())
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
         <title id=\"chart-title\">Matches per session over time</title>"
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
    for (i, s) in ordered.iter().enumerate() {
        let m = s.own_matches();
        let x = left + slot * i as f64 + (slot - bar) / 2.0;
        let bh = plot_h * m as f64 / max as f64;
        let class = match s.status {
            Status::Completed(_) => "bar",
            Status::Aborted(_) => "bar aborted",
            Status::Unfinished => "bar unfinished",
        };
        let label = format!(
            "{} · session {} · {} matches",
            s.started,
            &s.info.session_id.get(..8).unwrap_or(&s.info.session_id),
            m
        );
        let _ = write!(
            out,
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{bar:.1}\" height=\"{:.1}\" class=\"{class}\">\
             <title>{}</title></rect>",
            top + plot_h - bh.max(2.0),
            bh.max(2.0),
            escape(&label)
        );
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"value\" text-anchor=\"middle\">{m}</text>",
            x + bar / 2.0,
            top + plot_h - bh.max(2.0) - 4.0
        );
        let day = s.started.get(..10).unwrap_or(&s.started);
        let time = s.started.get(11..16).unwrap_or("");
        let _ = write!(
            out,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"middle\">{}</text>\
             <text x=\"{:.1}\" y=\"{:.1}\" class=\"tick\" text-anchor=\"middle\">{}</text>",
            x + bar / 2.0,
            top + plot_h + 16.0,
            escape(day),
            x + bar / 2.0,
            top + plot_h + 30.0,
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
