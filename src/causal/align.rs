//! Scale alignment (the paper's Remark 1): one constant `c > 0` that puts gold labels `r` on the
//! scale of preference labels `y`, so that pooled outcomes `o = c r` (gold) and `o = y`
//! (preference) are comparable.
//!
//! # Methods
//! * **Amplitude**: `c = max_i |y_i| / max_j |r_j|` (rows of positive weight).
//! * **Std**: `c = sd_w(y) / sd_w(r)`, weighted population standard deviations (the paper's main
//!   experiment).
//! * **Wasserstein**: the `c` minimising the 2-Wasserstein distance between the weighted
//!   empirical distributions of `c r` and `y`.
//!
//! # The 2-Wasserstein optimum in closed form
//! In one dimension `W2^2(P, Q) = int_0^1 (Q_P(u) - Q_Q(u))^2 du` with `Q` the quantile
//! functions. For `c > 0` the quantile function of `c r` is `c Q_r` (scaling by a positive
//! constant preserves order), so
//! ```text
//! W2^2(c) = c^2 B - 2 c A + C,   A = int Q_r Q_y du,   B = int Q_r^2 du,   C = int Q_y^2 du,
//! ```
//! a convex parabola in `c` with minimum at `c* = A / B` (`B > 0` unless every gold label is 0).
//! Both empirical quantile functions are step functions: with the gold labels sorted,
//! `r_(1) <= ... <= r_(n)`, normalised weights `p_k` and cumulative weights `F_k = p_1 + ... + p_k`,
//! `Q_r(u) = r_(k)` on `(F_{k-1}, F_k]`; likewise `Q_y` with its own breakpoints `G_l`. On every
//! interval between consecutive points of the merged set `{F_k} u {G_l}` both functions are
//! constant, so `A = sum over merged intervals of (length * r * y)` is computed exactly by a
//! two-pointer sweep, and `B = sum_k p_k r_(k)^2`. Unequal sample sizes, unequal weights and ties
//! need no special case (a tie is two steps at the same height; a zero weight an empty step).
//!
//! `A` can be `<= 0` (for instance gold labels mostly negative where preference labels are
//! positive); then the minimiser over `c > 0` is the boundary `c -> 0`, which would erase the
//! gold labels. We clamp to `c = MIN_SCALE_FRACTION * sd(y) / sd(r)` and report the clamp in
//! [`Alignment::clamped`].
//!
//! Constant gold labels (or constant preference labels) leave the scale undefined: an error.
//!
//! Reference: Villani, *Optimal Transport* (2009), Remark 2.19 (the 1-D quantile coupling).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::linalg::stats;

/// The floor applied when the W2 optimum is not positive, as a fraction of the std ratio.
pub const MIN_SCALE_FRACTION: f64 = 1e-3;

/// How gold labels are put on the preference scale.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Align {
    /// No alignment: `c = 1`.
    None,
    /// `max |y| / max |r|`.
    Amplitude,
    /// `sd(y) / sd(r)` (the default, as the paper's main experiment).
    #[default]
    Std,
    /// The 2-Wasserstein optimum `int Q_r Q_y / int Q_r^2`.
    Wasserstein,
}

impl Align {
    /// Every method, in command-line order.
    pub const ALL: [Align; 4] = [Align::None, Align::Amplitude, Align::Std, Align::Wasserstein];

    /// The command-line name.
    pub fn name(self) -> &'static str {
        match self {
            Align::None => "none",
            Align::Amplitude => "amplitude",
            Align::Std => "std",
            Align::Wasserstein => "wasserstein",
        }
    }

    /// Parses a command-line name.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] listing the names.
    pub fn from_name(s: &str) -> Result<Self> {
        Align::ALL.into_iter().find(|a| a.name() == s).ok_or_else(|| {
            Error::param(
                "router",
                "align",
                format!("unknown alignment `{s}`; known: none, amplitude, std, wasserstein"),
            )
        })
    }
}

/// The fitted scale constant.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Alignment {
    /// The method used.
    pub method: Align,
    /// The constant applied to gold labels (`> 0`).
    pub c: f64,
    /// The method's raw value before any clamp.
    pub raw: f64,
    /// True when the raw value was not positive and `c` was clamped to the floor.
    pub clamped: bool,
}

/// One weighted sample: values and optional non-negative weights.
#[derive(Clone, Copy, Debug)]
pub struct Sample<'a> {
    /// The values.
    pub values: &'a [f64],
    /// Optional weights (all one when `None`).
    pub weights: Option<&'a [f64]>,
}

impl<'a> Sample<'a> {
    /// An unweighted sample.
    pub fn new(values: &'a [f64]) -> Self {
        Sample { values, weights: None }
    }

    fn weight(&self, i: usize) -> f64 {
        self.weights.map_or(1.0, |w| w[i])
    }

    fn check(&self, what: &str) -> Result<()> {
        if self.values.is_empty() {
            return Err(Error::empty(format!("no {what} labels to align")));
        }
        crate::check::finite_slice(&format!("{what} labels"), self.values)?;
        if let Some(w) = self.weights {
            crate::check::weights(w, self.values.len())?;
        }
        Ok(())
    }
}

/// Sorted (value, normalised cumulative weight) steps of the empirical quantile function.
fn quantile_steps(s: &Sample<'_>) -> Vec<(f64, f64)> {
    let mut idx: Vec<usize> = (0..s.values.len()).filter(|&i| s.weight(i) > 0.0).collect();
    idx.sort_by(|&a, &b| s.values[a].total_cmp(&s.values[b]).then(a.cmp(&b)));
    let total: f64 = idx.iter().map(|&i| s.weight(i)).sum();
    let mut cum = 0.0;
    let mut steps: Vec<(f64, f64)> = idx
        .iter()
        .map(|&i| {
            cum += s.weight(i);
            (s.values[i], cum / total)
        })
        .collect();
    if let Some(last) = steps.last_mut() {
        last.1 = 1.0;
    }
    steps
}

/// `(int Q_r Q_y du, int Q_r^2 du)` over the merged breakpoints.
pub fn quantile_products(gold: &Sample<'_>, pref: &Sample<'_>) -> (f64, f64) {
    let qr = quantile_steps(gold);
    let qy = quantile_steps(pref);
    let (mut a, mut b) = (0.0, 0.0);
    let (mut i, mut j, mut u) = (0, 0, 0.0);
    while i < qr.len() && j < qy.len() {
        let next = qr[i].1.min(qy[j].1);
        let len = next - u;
        if len > 0.0 {
            a += len * qr[i].0 * qy[j].0;
            b += len * qr[i].0 * qr[i].0;
        }
        u = next;
        if qr[i].1 <= next {
            i += 1;
        }
        if qy[j].1 <= next {
            j += 1;
        }
    }
    (a, b)
}

/// The squared 2-Wasserstein distance between `c * gold` and `pref` (for checks and diagnostics).
pub fn w2_squared(c: f64, gold: &Sample<'_>, pref: &Sample<'_>) -> f64 {
    let (a, b) = quantile_products(gold, pref);
    let (cc, _) = quantile_products(pref, pref);
    c * c * b - 2.0 * c * a + cc
}

fn max_abs(s: &Sample<'_>) -> f64 {
    (0..s.values.len()).filter(|&i| s.weight(i) > 0.0).map(|i| s.values[i].abs()).fold(0.0, f64::max)
}

/// Computes the scale constant putting `gold` labels on the scale of `pref` labels.
///
/// # Errors
/// [`Error::Empty`] for an empty sample, [`Error::NonFinite`] for NaN labels, weight errors,
/// and [`Error::InvalidData`] when the gold (or preference) labels are constant.
pub fn align(method: Align, gold: &Sample<'_>, pref: &Sample<'_>) -> Result<Alignment> {
    gold.check("gold")?;
    pref.check("preference")?;
    if method == Align::None {
        return Ok(Alignment { method, c: 1.0, raw: 1.0, clamped: false });
    }
    let sd_r = stats::std_dev(gold.values, gold.weights);
    let sd_y = stats::std_dev(pref.values, pref.weights);
    if sd_r <= 0.0 || !sd_r.is_finite() {
        return Err(Error::data("gold labels are constant: the scale constant c is undefined (use --align none)"));
    }
    if sd_y <= 0.0 || !sd_y.is_finite() {
        return Err(Error::data(
            "preference labels are constant: the scale constant c is undefined (use --align none)",
        ));
    }
    let ratio = sd_y / sd_r;
    let raw = match method {
        Align::None => 1.0,
        Align::Amplitude => max_abs(pref) / max_abs(gold),
        Align::Std => ratio,
        Align::Wasserstein => {
            let (a, b) = quantile_products(gold, pref);
            a / b
        }
    };
    if raw > 0.0 && raw.is_finite() {
        Ok(Alignment { method, c: raw, raw, clamped: false })
    } else {
        Ok(Alignment { method, c: MIN_SCALE_FRACTION * ratio, raw, clamped: true })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rand::RngExt;

    fn draw(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = crate::Seed(seed).rng();
        (0..n).map(|_| rng.random::<f64>() * 2.0 - 0.3).collect()
    }

    #[test]
    fn w2_optimum_beats_a_brute_force_grid() {
        let r = draw(37, 1);
        let y: Vec<f64> = draw(53, 2).iter().map(|v| 3.0 * v * v + 0.1).collect();
        let wr: Vec<f64> = (0..37).map(|i| 1.0 + (i % 3) as f64).collect();
        let wy: Vec<f64> = (0..53).map(|i| 0.5 + (i % 4) as f64).collect();
        let g = Sample { values: &r, weights: Some(&wr) };
        let p = Sample { values: &y, weights: Some(&wy) };
        let a = align(Align::Wasserstein, &g, &p).unwrap();
        assert!(!a.clamped);
        let best = w2_squared(a.c, &g, &p);
        // brute force: W2 from explicit quantiles on a fine grid of u (midpoint rule)
        let qr = quantile_steps(&g);
        let qy = quantile_steps(&p);
        let q = |steps: &[(f64, f64)], u: f64| steps.iter().find(|s| u <= s.1).unwrap().0;
        let m = 200_000;
        let grid_w2 = |c: f64| {
            (0..m)
                .map(|k| {
                    let u = (k as f64 + 0.5) / m as f64;
                    let d = c * q(&qr, u) - q(&qy, u);
                    d * d
                })
                .sum::<f64>()
                / m as f64
        };
        assert!((grid_w2(a.c) - best).abs() < 1e-4, "{} vs {}", grid_w2(a.c), best);
        for k in 1..400 {
            let c = k as f64 * 0.02;
            assert!(w2_squared(c, &g, &p) >= best - 1e-12, "c = {c} beats c* = {}", a.c);
        }
    }

    #[test]
    fn recovers_a_known_scale() {
        let r = draw(500, 3);
        let y: Vec<f64> = r.iter().map(|v| 2.0 * v).collect();
        for m in [Align::Amplitude, Align::Std, Align::Wasserstein] {
            let a = align(m, &Sample::new(&r), &Sample::new(&y)).unwrap();
            assert!((a.c - 2.0).abs() < 1e-12, "{m:?}: {}", a.c);
        }
        // in distribution, different draws of different sizes
        let r2 = draw(20_000, 4);
        let y2: Vec<f64> = draw(30_000, 5).iter().map(|v| 2.0 * v).collect();
        let a = align(Align::Wasserstein, &Sample::new(&r2), &Sample::new(&y2)).unwrap();
        assert!((a.c - 2.0).abs() < 0.03, "{}", a.c);
        let s = align(Align::Std, &Sample::new(&r2), &Sample::new(&y2)).unwrap();
        assert!((s.c - 2.0).abs() < 0.05, "{}", s.c);
    }

    #[test]
    fn weights_equal_repetition_and_ties() {
        let r = [1.0, 1.0, 2.0, -1.0];
        let w = [2.0, 0.0, 1.0, 1.0];
        let rep = [1.0, 1.0, 2.0, -1.0];
        let y = [0.5, 3.0, 3.0, 1.0, -2.0];
        let a = align(Align::Wasserstein, &Sample { values: &r, weights: Some(&w) }, &Sample::new(&y)).unwrap();
        let b = align(Align::Wasserstein, &Sample::new(&rep), &Sample::new(&y)).unwrap();
        assert!((a.c - b.c).abs() < 1e-14);
    }

    #[test]
    fn errors_and_clamp() {
        let y = [1.0, 2.0, 3.0];
        assert!(matches!(
            align(Align::Std, &Sample::new(&[2.0, 2.0]), &Sample::new(&y)),
            Err(Error::InvalidData { .. })
        ));
        assert!(align(Align::Wasserstein, &Sample::new(&[]), &Sample::new(&y)).is_err());
        assert!(align(Align::Std, &Sample::new(&[1.0, f64::NAN]), &Sample::new(&y)).is_err());
        // gold all negative, preference all positive: A < 0, clamped to the floor
        let a = align(Align::Wasserstein, &Sample::new(&[-1.0, -2.0]), &Sample::new(&y)).unwrap();
        assert!(a.clamped && a.raw < 0.0 && a.c > 0.0);
        assert_eq!(align(Align::None, &Sample::new(&[1.0, 3.0]), &Sample::new(&y)).unwrap().c, 1.0);
        assert_eq!(Align::from_name("wasserstein").unwrap(), Align::Wasserstein);
        assert!(Align::from_name("w3").unwrap_err().to_string().contains("amplitude"));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn invariant_to_order_and_equivariant_to_scaling(
            r in prop::collection::vec(-5.0f64..5.0, 3..40),
            y in prop::collection::vec(-5.0f64..5.0, 3..40),
            k in 0.1f64..10.0,
            rot in 0usize..40,
        ) {
            let sr = stats::std_dev(&r, None);
            let sy = stats::std_dev(&y, None);
            prop_assume!(sr > 1e-6 && sy > 1e-6);
            for m in [Align::Amplitude, Align::Std, Align::Wasserstein] {
                let a = align(m, &Sample::new(&r), &Sample::new(&y)).unwrap();
                let mut r2 = r.clone();
                r2.rotate_left(rot % r.len());
                r2.reverse();
                let mut y2 = y.clone();
                y2.rotate_left(rot % y.len());
                let b = align(m, &Sample::new(&r2), &Sample::new(&y2)).unwrap();
                prop_assert!((a.c - b.c).abs() <= 1e-12 * a.c.abs().max(1.0), "{:?} order", m);
                let yk: Vec<f64> = y.iter().map(|v| k * v).collect();
                let s = align(m, &Sample::new(&r), &Sample::new(&yk)).unwrap();
                if !a.clamped {
                    prop_assert!((s.c - k * a.c).abs() <= 1e-9 * (k * a.c).abs(), "{:?} scale", m);
                }
            }
        }
    }
}
