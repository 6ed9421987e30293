//! The efficiency-gain figure, written by hand as SVG text, in the style of the paper's
//! Figure 1(a): EG against the primary-model usage rate on 0.20..0.80, one line per router (the
//! mean over rounds) over a band from the 10th to the 90th percentile, a dotted zero line (random
//! routing), axes with ticks and labels, and a legend.
//!
//! Coordinates: `px = left + (rho - 0.2) / 0.6 * width`, `py = top + (y_max - y) / (y_max - y_min) * height`;
//! ticks at a "nice" step (1, 2 or 5 times a power of ten) giving about six intervals.

use std::fmt::Write as _;

use crate::eval::curves::{self, AUC_FROM, AUC_TO};
use crate::eval::summary::{RouterSummary, Summary};

const W: f64 = 860.0;
const H: f64 = 620.0;
const LEFT: f64 = 90.0;
const RIGHT: f64 = 190.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 70.0;
const X_MIN: f64 = 0.2;
const X_MAX: f64 = 0.8;

/// Colours and dash patterns by router name (the paper's palette where it has one).
fn style(name: &str, k: usize) -> (&'static str, &'static str) {
    match name {
        "meta_r" => ("#E74C3C", ""),
        "meta_dr" => ("#3498DB", ""),
        "gold_only" => ("#9B59B6", "8 4"),
        "pooled" => ("#2ECC71", "8 4"),
        "all_gold" => ("#F39C12", "12 4 3 4"),
        "pref_only" => ("#808080", "3 3"),
        "mean_shift" => ("#16A085", "12 4"),
        "random" => ("#333333", "2 4"),
        _ => {
            const OTHER: [&str; 4] = ["#8E44AD", "#D35400", "#2C3E50", "#C0392B"];
            (OTHER[k % OTHER.len()], "6 2")
        }
    }
}

/// A step of 1, 2 or 5 times a power of ten giving about `target` intervals over `range`.
pub(crate) fn nice_step(range: f64, target: f64) -> f64 {
    let raw = (range / target).max(f64::MIN_POSITIVE);
    let p = 10f64.powf(raw.log10().floor());
    let f = raw / p;
    let m = if f < 1.5 {
        1.0
    } else if f < 3.5 {
        2.0
    } else if f < 7.5 {
        5.0
    } else {
        10.0
    };
    m * p
}

/// The y range of a figure: the smallest interval holding 0 and every finite value of `values`
/// (widened to length 1 when it is empty), padded by 5% on each side.
pub(crate) fn padded_range(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for v in values.into_iter().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if hi - lo < 1e-12 {
        hi = lo + 1.0;
    }
    let pad = 0.05 * (hi - lo);
    (lo - pad, hi + pad)
}

pub(crate) fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// Formats a tick label without float noise.
pub(crate) fn tick_label(v: f64, step: f64) -> String {
    let digits = (-step.log10().floor()).max(0.0) as usize;
    let s = format!("{v:.digits$}");
    if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') { s[1..].to_string() } else { s }
}

/// The figure for a study summary, as SVG text.
pub fn efficiency_gain_svg(summary: &Summary, title: &str) -> String {
    bands_svg(&summary.routers, title, "Efficiency gain (mean, 10-90% band)")
}

/// The same figure for any curves with bands: each entry's `mean` drawn as its line over the
/// band from `p10` to `p90` (whatever they hold; `y_label` says what), named by `name`.
pub fn bands_svg(routers: &[RouterSummary], title: &str, y_label: &str) -> String {
    bands_svg_on(routers, title, "Primary model usage rate", y_label)
}

/// [`bands_svg`] with its own x-axis label (the axis still runs over `0.20..0.80` of the grid:
/// e.g. the position in the cost range for the K-model study's quality-cost curves).
pub fn bands_svg_on(routers: &[RouterSummary], title: &str, x_label: &str, y_label: &str) -> String {
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    let window = AUC_FROM..=AUC_TO;
    let (lo, hi) =
        padded_range(routers.iter().flat_map(|r| window.clone().flat_map(move |i| [r.p10[i], r.p90[i], r.mean[i]])));
    let px = |rho: f64| LEFT + (rho - X_MIN) / (X_MAX - X_MIN) * pw;
    let py = |y: f64| TOP + (hi - y) / (hi - lo) * ph;

    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="Helvetica, Arial, sans-serif">"#
    );
    let _ = writeln!(s, r#"<rect x="0" y="0" width="{W}" height="{H}" fill="white"/>"#);
    let _ = writeln!(s, r##"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="#FAFAFA" stroke="#444"/>"##);
    let _ = writeln!(s, r#"<text x="{}" y="30" font-size="13" text-anchor="middle">{}</text>"#, W / 2.0, escape(title));

    // Grid and ticks.
    let _ = writeln!(s, r#"<g id="x-axis" font-size="14" text-anchor="middle">"#);
    for k in 0..=6 {
        let rho = X_MIN + 0.1 * k as f64;
        let x = px(rho);
        let _ = writeln!(
            s,
            r##"<line x1="{x:.2}" y1="{TOP}" x2="{x:.2}" y2="{:.2}" stroke="#000" stroke-opacity="0.08"/><line x1="{x:.2}" y1="{:.2}" x2="{x:.2}" y2="{:.2}" stroke="#444"/><text x="{x:.2}" y="{:.2}">{rho:.1}</text>"##,
            TOP + ph,
            TOP + ph,
            TOP + ph + 6.0,
            TOP + ph + 24.0
        );
    }
    let _ = writeln!(s, "</g>");
    let step = nice_step(hi - lo, 6.0);
    let _ = writeln!(s, r#"<g id="y-axis" font-size="14" text-anchor="end">"#);
    let mut t = (lo / step).ceil() * step;
    while t <= hi + 1e-12 {
        let y = py(t);
        let _ = writeln!(
            s,
            r##"<line x1="{LEFT}" y1="{y:.2}" x2="{:.2}" y2="{y:.2}" stroke="#000" stroke-opacity="0.08"/><line x1="{:.2}" y1="{y:.2}" x2="{LEFT}" y2="{y:.2}" stroke="#444"/><text x="{:.2}" y="{:.2}">{}</text>"##,
            LEFT + pw,
            LEFT - 6.0,
            LEFT - 9.0,
            y + 5.0,
            tick_label(t, step)
        );
        t += step;
    }
    let _ = writeln!(s, "</g>");
    let _ = writeln!(
        s,
        r##"<line id="zero" x1="{LEFT}" y1="{0:.2}" x2="{1:.2}" y2="{0:.2}" stroke="#888" stroke-dasharray="2 3"/>"##,
        py(0.0),
        LEFT + pw
    );
    let _ = writeln!(
        s,
        r#"<text x="{:.2}" y="{:.2}" font-size="16" text-anchor="middle">{}</text>"#,
        LEFT + pw / 2.0,
        H - 20.0,
        escape(x_label)
    );
    let _ = writeln!(
        s,
        r#"<text x="24" y="{0:.2}" font-size="16" text-anchor="middle" transform="rotate(-90 24 {0:.2})">{1}</text>"#,
        TOP + ph / 2.0,
        escape(y_label)
    );

    // Bands, then lines on top.
    for (k, r) in routers.iter().enumerate() {
        let (color, _) = style(&r.name, k);
        let mut d = String::new();
        for i in window.clone() {
            let _ =
                write!(d, "{}{:.2},{:.2} ", if i == AUC_FROM { "M" } else { "L" }, px(curves::rho(i)), py(r.p90[i]));
        }
        for i in window.clone().rev() {
            let _ = write!(d, "L{:.2},{:.2} ", px(curves::rho(i)), py(r.p10[i]));
        }
        let _ = writeln!(
            s,
            r#"<path class="band" data-router="{}" d="{}Z" fill="{color}" fill-opacity="0.08" stroke="none"/>"#,
            escape(&r.name),
            d.trim_end()
        );
    }
    for (k, r) in routers.iter().enumerate() {
        let (color, dash) = style(&r.name, k);
        let mut d = String::new();
        for i in window.clone() {
            let _ =
                write!(d, "{}{:.2},{:.2} ", if i == AUC_FROM { "M" } else { "L" }, px(curves::rho(i)), py(r.mean[i]));
        }
        let dash = if dash.is_empty() { String::new() } else { format!(r#" stroke-dasharray="{dash}""#) };
        let _ = writeln!(
            s,
            r#"<path class="line" data-router="{}" d="{}" fill="none" stroke="{color}" stroke-width="3"{dash}/>"#,
            escape(&r.name),
            d.trim_end()
        );
    }

    // Legend.
    let lx = LEFT + pw + 20.0;
    let _ = writeln!(s, r#"<g id="legend" font-size="14">"#);
    for (k, r) in routers.iter().enumerate() {
        let (color, dash) = style(&r.name, k);
        let y = TOP + 14.0 + 26.0 * k as f64;
        let dash = if dash.is_empty() { String::new() } else { format!(r#" stroke-dasharray="{dash}""#) };
        let _ = writeln!(
            s,
            r#"<line x1="{lx:.2}" y1="{y:.2}" x2="{:.2}" y2="{y:.2}" stroke="{color}" stroke-width="3"{dash}/><text x="{:.2}" y="{:.2}">{}</text>"#,
            lx + 36.0,
            lx + 44.0,
            y + 5.0,
            escape(&r.name)
        );
    }
    let _ = writeln!(s, "</g>");
    s.push_str("</svg>\n");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::curves::GRID;
    use crate::eval::summary::{Round, RouterRound, StudyOutcome};

    #[test]
    fn figure_has_a_band_and_a_line_per_router_and_balanced_tags() {
        let curve = |a: f64| -> Vec<f64> { (0..GRID).map(|i| a * curves::rho(i) * (1.0 - curves::rho(i))).collect() };
        let rounds = (0..3)
            .map(|r| Round {
                routers: vec![
                    RouterRound { curve: curve(0.1 * (r + 1) as f64), delta_rmse: None },
                    RouterRound { curve: curve(-0.05), delta_rmse: None },
                ],
                oracle: curve(1.0),
            })
            .collect();
        let out = StudyOutcome { routers: vec!["meta_dr".into(), "a<b".into()], rounds };
        let svg = efficiency_gain_svg(&out.summary().unwrap(), "t & t");
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches(r#"class="line""#).count(), 2);
        assert_eq!(svg.matches(r#"class="band""#).count(), 2);
        assert!(svg.contains("a&lt;b") && svg.contains("t &amp; t") && !svg.contains("NaN"));
        // Every opened element is closed.
        assert_eq!(svg.matches("<g").count(), svg.matches("</g>").count());
        assert_eq!(svg.matches("<text").count(), svg.matches("</text>").count());
        // The mean line of meta_dr peaks at rho = 0.5, drawn at the plot's horizontal middle.
        assert!(svg.contains(&format!("L{:.2},", LEFT + (W - LEFT - RIGHT) / 2.0)));
    }

    #[test]
    fn ticks_are_nice() {
        assert_eq!(nice_step(0.6, 6.0), 0.1);
        assert_eq!(nice_step(0.013, 6.0), 0.002);
        assert_eq!(tick_label(-0.0000001, 0.01), "0.00");
        assert_eq!(tick_label(0.30000000000000004, 0.1), "0.3");
    }
}
