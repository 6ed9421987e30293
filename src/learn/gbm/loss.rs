//! Boosting losses: per-row loss, gradient and hessian in the raw score `F`, and the initial
//! constant score.
//!
//! | loss | `l(y, F)` | `g = dl/dF` | `h = d2l/dF2` | `F_0` |
//! | --- | --- | --- | --- | --- |
//! | squared error | `(y - F)^2 / 2` | `F - y` | `1` | weighted mean of `y` |
//! | logistic (y in {0, 1}) | `log(1 + e^F) - y F` | `p - y`, `p = sigmoid(F)` | `p (1 - p)` | `log(p0 / (1 - p0))`, `p0` the weighted share of 1 |
//!
//! A sample weight `w` multiplies `l`, `g` and `h`. The logistic hessian is floored at `1e-16`
//! so that a leaf of confidently classified rows keeps a positive denominator.
//! Friedman (2001) "Greedy function approximation"; Chen & Guestrin (2016) section 2.2.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::par::ROW_BLOCK;

use crate::linalg::stats::{log1pexp, sigmoid};

/// Smallest logistic hessian.
const MIN_HESSIAN: f64 = 1e-16;

/// A boosting loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Loss {
    /// Squared error (regression).
    Squared,
    /// Binary cross-entropy on the log-odds (classification, targets 0/1).
    Logistic,
}

impl Loss {
    /// The unweighted loss of one row.
    #[inline]
    pub fn loss(self, y: f64, f: f64) -> f64 {
        match self {
            Loss::Squared => 0.5 * (y - f) * (y - f),
            Loss::Logistic => log1pexp(f) - y * f,
        }
    }

    /// The unweighted gradient and hessian of one row.
    #[inline]
    pub fn grad_hess(self, y: f64, f: f64) -> [f64; 2] {
        match self {
            Loss::Squared => [f - y, 1.0],
            Loss::Logistic => {
                let p = sigmoid(f);
                [p - y, (p * (1.0 - p)).max(MIN_HESSIAN)]
            }
        }
    }

    /// The hessian when it does not depend on the row (squared error), else `None`.
    pub fn constant_hessian(self) -> Option<f64> {
        match self {
            Loss::Squared => Some(1.0),
            Loss::Logistic => None,
        }
    }

    /// The best constant score over `rows` (weights all one when `None`).
    pub fn init(self, y: &[f64], w: Option<&[f64]>, rows: &[u32]) -> f64 {
        let (mut s, mut sw) = (0.0, 0.0);
        for &i in rows {
            let wi = w.map_or(1.0, |w| w[i as usize]);
            s += wi * y[i as usize];
            sw += wi;
        }
        let m = if sw > 0.0 { s / sw } else { 0.0 };
        match self {
            Loss::Squared => m,
            Loss::Logistic => {
                let p = m.clamp(1e-15, 1.0 - 1e-15);
                (p / (1.0 - p)).ln()
            }
        }
    }

    /// The weighted mean loss over `rows` at raw scores `f`: partial sums over fixed blocks of
    /// [`ROW_BLOCK`] rows in parallel, merged in block order (the same bits for any thread count).
    pub fn mean_loss(self, y: &[f64], f: &[f64], w: Option<&[f64]>, rows: &[u32]) -> f64 {
        let parts: Vec<(f64, f64)> = rows
            .par_chunks(ROW_BLOCK)
            .map(|block| {
                let (mut s, mut sw) = (0.0, 0.0);
                for &i in block {
                    let i = i as usize;
                    let wi = w.map_or(1.0, |w| w[i]);
                    s += wi * self.loss(y[i], f[i]);
                    sw += wi;
                }
                (s, sw)
            })
            .collect();
        let (s, sw) = parts.iter().fold((0.0, 0.0), |a, p| (a.0 + p.0, a.1 + p.1));
        if sw > 0.0 { s / sw } else { 0.0 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradients_and_hessians_match_finite_differences() {
        let eps = 1e-5;
        for loss in [Loss::Squared, Loss::Logistic] {
            for &y in &[0.0, 1.0, 0.3] {
                for &f in &[-3.0, -0.4, 0.0, 0.7, 2.5] {
                    let [g, h] = loss.grad_hess(y, f);
                    let fd_g = (loss.loss(y, f + eps) - loss.loss(y, f - eps)) / (2.0 * eps);
                    let fd_h = (loss.grad_hess(y, f + eps)[0] - loss.grad_hess(y, f - eps)[0]) / (2.0 * eps);
                    let fd_h2 = (loss.loss(y, f + eps) - 2.0 * loss.loss(y, f) + loss.loss(y, f - eps)) / (eps * eps);
                    assert!((g - fd_g).abs() < 1e-8, "{loss:?} y={y} f={f}: g {g} vs {fd_g}");
                    assert!((h - fd_h).abs() < 1e-8, "{loss:?} y={y} f={f}: h {h} vs {fd_h}");
                    assert!((h - fd_h2).abs() < 1e-4, "{loss:?} y={y} f={f}: h {h} vs {fd_h2}");
                }
            }
        }
    }

    #[test]
    fn init_minimises_the_loss() {
        let y = [0.0, 1.0, 1.0, 1.0];
        let w = [3.0, 1.0, 1.0, 1.0];
        let rows = [0, 1, 2, 3];
        assert_eq!(Loss::Squared.init(&y, Some(&w), &rows), 0.5);
        // equal weighted classes: log-odds 0
        assert_eq!(Loss::Logistic.init(&y, Some(&w), &rows), 0.0);
        let f0 = Loss::Logistic.init(&y, None, &rows);
        assert!((f0 - 3f64.ln()).abs() < 1e-15);
        let at = |f: f64| Loss::Logistic.mean_loss(&y, &[f; 4], None, &rows);
        assert!(at(f0) < at(f0 + 1e-3) && at(f0) < at(f0 - 1e-3));
    }
}
