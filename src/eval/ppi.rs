//! The prediction-powered estimate of a router's efficiency-gain curve and AUC (Angelopoulos,
//! Bates, Fannjiang, Jordan and Zrnic 2023, *Prediction-powered inference*; the power tuning of
//! Angelopoulos, Duchi and Zrnic 2023, *PPI++*).
//!
//! # Setting
//! `N` held-out queries with router scores `s_i` and a judge's (preference) label `f_i` on every
//! row, already put on the gold scale; a random subset `G` of `n` rows also has its gold label
//! `g_i`. The target is the population EG AUC of the router (the study's definition,
//! [`crate::eval::curves`]). For fixed scores the AUC is linear in the gains,
//! `AUC = (1/m) sum_i g_i w_i`, with `w_i` the weight of row `i`'s rank
//! ([`CurveScratch::auc_weights_into`]); in the population, `theta = E[g w(F(s))]` with `F` the
//! distribution function of the scores. The AUC is therefore a *mean* once the ranks are fixed,
//! and ranks need no labels: they are taken over all `N` rows.
//!
//! # The estimator
//! With `w_i` from the ranks of all `N` scores and a recalibrated judge `m_i = kappa + lambda f_i`,
//! ```text
//! theta_PP = (1/N) sum_{i <= N} m_i w_i  +  (1/n) sum_{i in G} (g_i - m_i) w_i
//!          = (1/N) sum_{i <= N} z_i w_i,        z_i = m_i + (N/n) 1{i in G} (g_i - m_i)
//! ```
//! the judge's estimate on every row, corrected by the gold-minus-judge estimate on the gold
//! rows. By linearity it is the EG AUC of the *pseudo-labels* `z` over all `N` rows, so the
//! curve and its AUC come from [`CurveScratch::efficiency_gain_into`] unchanged
//! (`EG_PP(rho)` is the curve of `z`).
//!
//! **Unbiased** for fixed ranks and any fixed `(kappa, lambda)`: `G` is a random subset, so
//! `E[(1/n) sum_G (g - m) w] = (1/N) sum_i (E[g_i] - m_i) w_i`; a judge on the wrong scale or
//! with a bias only costs variance. (A PB label `y` is put on the gold scale by the router's
//! stored alignment, `f = (y + mean Delta_hat) / c`, before it gets here; with the default
//! tuning, `kappa` and `lambda` absorb what that leaves.)
//!
//! **Variance** (first order; `G` of fixed size `n` drawn from the `N` rows; the quantiles of `F`
//! estimated from all `N` scores):
//! ```text
//! Var theta_PP ~ Var(g w - b) / N + (1/n - 1/N) Var(D),   D = g w - kappa w - lambda f w
//! b(s) = mean over the AUC window of mu(q_rho) (1{s > q_rho} - rho),  mu(q) = E[g | s = q]
//! ```
//! where `b` is the contribution of estimating the quantiles `q_rho = F^-1(1 - rho)`. The gold-only
//! estimate (ranks among the `n` gold rows only) has `Var(g w - b) / n`, so the prediction-powered
//! one is narrower whenever `Var(D) < Var(g w - b)`, which an informative judge gives.
//!
//! **Tuning** ([`PpiTuning::Tuned`], the default): `(kappa, lambda)` minimise the estimated
//! `Var(D)`: the least-squares regression, with an intercept, of `g_i w_i` on `(w_i, f_i w_i)` over
//! the gold rows (PPI++'s power tuning `lambda = Cov(g w, f w) / Var(f w)`, which is the optimum
//! here because the `N` rows include the gold rows, extended by the control `kappa w`, whose
//! mean over all rows is known: it corrects the chance imbalance of ranks in the gold sample).
//! Without an informative judge `lambda ~ 0`. Fewer than three gold rows, or a degenerate design,
//! fall back to `kappa` alone, then `lambda` alone, then `kappa = lambda = 0`.
//! [`PpiTuning::Fixed`] `{ kappa: 0, lambda: 1 }` is the original PPI.
//!
//! **Interval**: the data-dependent `(kappa, lambda)` converge to constants, so the estimator is
//! asymptotically that of fixed ones; the held-out evaluation (the caller, `meta-router evaluate`)
//! bootstraps it (gold and non-gold rows resampled separately, the ranks, the tuning and the
//! estimate recomputed in every resample), which also carries the quantile term `b` that a CLT
//! interval would have to estimate through `mu`.

use crate::check;
use crate::error::{Error, Result};
use crate::eval::curves::{CurveScratch, GRID};

/// How the judge is recalibrated, `m = kappa + lambda f`.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum PpiTuning {
    /// `(kappa, lambda)` estimated on the gold rows to minimise the variance (see the module
    /// docs); the default.
    #[default]
    Tuned,
    /// Given coefficients; `{ kappa: 0.0, lambda: 1.0 }` is the original PPI.
    Fixed {
        /// The intercept.
        kappa: f64,
        /// The judge's coefficient.
        lambda: f64,
    },
}

impl PpiTuning {
    /// Checks fixed coefficients are finite.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] naming `kappa` or `lambda`.
    pub fn validate(&self) -> Result<()> {
        if let PpiTuning::Fixed { kappa, lambda } = *self {
            for (name, v) in [("kappa", kappa), ("lambda", lambda)] {
                if !v.is_finite() {
                    return Err(Error::param("ppi", name, format!("must be finite, got {v}")));
                }
            }
        }
        Ok(())
    }
}

/// The recalibration used, `m = kappa + lambda f`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PpiCoefficients {
    /// The intercept.
    pub kappa: f64,
    /// The judge's coefficient.
    pub lambda: f64,
}

/// Reusable buffers of the estimator (the rank weights, the pseudo-labels, the curve's).
#[derive(Clone, Debug, Default)]
pub struct PpiScratch {
    curves: CurveScratch,
    w: Vec<f64>,
    z: Vec<f64>,
}

/// `(kappa, lambda)` of the centred least squares of `g w` on `(w, f w)` over the gold rows.
fn tune(f: &[f64], g: &[f64], w: &[f64], is_gold: &[bool]) -> PpiCoefficients {
    let rows = || (0..f.len()).filter(|&i| is_gold[i]);
    let n = rows().count();
    let zero = PpiCoefficients { kappa: 0.0, lambda: 0.0 };
    if n < 3 {
        return zero;
    }
    let nf = n as f64;
    let (mut m1, mut m2, mut my) = (0.0, 0.0, 0.0);
    for i in rows() {
        m1 += w[i];
        m2 += f[i] * w[i];
        my += g[i] * w[i];
    }
    let (m1, m2, my) = (m1 / nf, m2 / nf, my / nf);
    let (mut s11, mut s12, mut s22, mut s1y, mut s2y) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for i in rows() {
        let (a, b, y) = (w[i] - m1, f[i] * w[i] - m2, g[i] * w[i] - my);
        s11 += a * a;
        s12 += a * b;
        s22 += b * b;
        s1y += a * y;
        s2y += b * y;
    }
    let det = s11 * s22 - s12 * s12;
    let usable = |v: f64| v.is_finite() && v > 0.0;
    if usable(det) && det > 1e-10 * s11 * s22 {
        let kappa = (s22 * s1y - s12 * s2y) / det;
        let lambda = (s11 * s2y - s12 * s1y) / det;
        if kappa.is_finite() && lambda.is_finite() {
            return PpiCoefficients { kappa, lambda };
        }
    }
    // Collinear (e.g. a constant judge, whose f w is a multiple of w): the rank control alone.
    if usable(s11) {
        return PpiCoefficients { kappa: s1y / s11, lambda: 0.0 };
    }
    if usable(s22) {
        return PpiCoefficients { kappa: 0.0, lambda: s2y / s22 };
    }
    zero
}

impl PpiScratch {
    /// Writes the prediction-powered curve `EG_PP(rho)` on the [`GRID`] into `out` and returns
    /// the recalibration used (see the module docs). `s` (scores), `f` (the judge on the gold
    /// scale) and `is_gold` have one entry per row; `g` too, read only where `is_gold`.
    /// The AUC is [`crate::eval::curves::auc`] of `out`.
    ///
    /// # Errors
    /// Unequal lengths, no rows, no gold row, an `out` not of length [`GRID`], non-finite
    /// scores, judge labels or gold labels (on the gold rows), bad fixed coefficients.
    pub fn curve_into(
        &mut self,
        s: &[f64],
        f: &[f64],
        g: &[f64],
        is_gold: &[bool],
        tuning: PpiTuning,
        out: &mut [f64],
    ) -> Result<PpiCoefficients> {
        let n_all = s.len();
        for (what, len) in [("judge labels", f.len()), ("gold labels", g.len()), ("gold indicator", is_gold.len())] {
            if len != n_all {
                return Err(Error::shape(format!("prediction-powered estimate: {what} vs scores"), n_all, len));
            }
        }
        tuning.validate()?;
        check::finite_slice("judge labels", f)?;
        let n_gold = is_gold.iter().filter(|&&b| b).count();
        if n_gold == 0 {
            return Err(Error::data("prediction-powered estimate: no row has a gold label"));
        }
        if let Some(i) = (0..n_all).find(|&i| is_gold[i] && !g[i].is_finite()) {
            return Err(Error::NonFinite { what: "gold labels".into(), row: i, col: 0, value: g[i] });
        }
        self.w.clear();
        self.w.resize(n_all, 0.0);
        self.curves.auc_weights_into(s, &mut self.w)?;
        let coef = match tuning {
            PpiTuning::Tuned => tune(f, g, &self.w, is_gold),
            PpiTuning::Fixed { kappa, lambda } => PpiCoefficients { kappa, lambda },
        };
        let ratio = n_all as f64 / n_gold as f64;
        self.z.clear();
        self.z.extend((0..n_all).map(|i| {
            let m = coef.kappa + coef.lambda * f[i];
            if is_gold[i] { m + ratio * (g[i] - m) } else { m }
        }));
        if out.len() != GRID {
            return Err(Error::shape("prediction-powered estimate: output curve", GRID, out.len()));
        }
        self.curves.efficiency_gain_into(&self.z, s, out)?;
        Ok(coef)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::curves::{auc, efficiency_gain};

    #[test]
    fn hand_computed_example() {
        // N = 4 rows ranked 1..4 by score; rank weights w = (61, 43, 18, 0)/61 - 1/2
        // (see curves' test). Judge f = (1, 0, 2, -1); gold on rows 0 and 2, g = (2, ., 1, .).
        // Classic PPI (kappa 0, lambda 1):
        //   judge part     (1/4) sum f w = (1/4)(1/2 + 0 + 2 (18/61 - 1/2) + 1/2) = 9/61
        //   correction     (1/2)[(2 - 1)(1/2) + (1 - 2)(18/61 - 1/2)]      = 43/122
        //   total          18/122 + 43/122 = 1/2
        // equivalently z = (3, 0, 0, -1) and (1/4)(3/2 + 1/2) = 1/2.
        let s = [4.0, 3.0, 2.0, 1.0];
        let f = [1.0, 0.0, 2.0, -1.0];
        let g = [2.0, f64::NAN, 1.0, f64::NAN];
        let gold = [true, false, true, false];
        let mut out = vec![0.0; GRID];
        let mut scratch = PpiScratch::default();
        let fixed = PpiTuning::Fixed { kappa: 0.0, lambda: 1.0 };
        let c = scratch.curve_into(&s, &f, &g, &gold, fixed, &mut out).unwrap();
        assert_eq!((c.kappa, c.lambda), (0.0, 1.0));
        assert!((auc(&out) - 0.5).abs() < 1e-15, "{}", auc(&out));
        assert_eq!(out, efficiency_gain(&[3.0, 0.0, 0.0, -1.0], &s).unwrap());
        // kappa = 1, lambda = 0: m = 1, z = (1 + 2 (2 - 1), 1, 1 + 2 (1 - 1), 1) = (3, 1, 1, 1):
        // (1/4)(3/2 + (43/61 - 1/2) + (18/61 - 1/2) - 1/2) = (1/4)(61/61) = 1/4
        let c = PpiTuning::Fixed { kappa: 1.0, lambda: 0.0 };
        scratch.curve_into(&s, &f, &g, &gold, c, &mut out).unwrap();
        assert!((auc(&out) - 0.25).abs() < 1e-15, "{}", auc(&out));
    }

    #[test]
    fn a_perfect_judge_is_trusted_and_a_useless_one_is_ignored() {
        let n = 400;
        let s: Vec<f64> = (0..n).map(|i| ((i * 7919) % n) as f64).collect();
        let g: Vec<f64> = (0..n).map(|i| (s[i] / n as f64) + ((i * 31) % 17) as f64 / 17.0 - 0.5).collect();
        let gold: Vec<bool> = (0..n).map(|i| i % 5 == 0).collect();
        let mut out = vec![0.0; GRID];
        let mut scratch = PpiScratch::default();
        // The judge equals the gold label: lambda = 1, kappa = 0, and the estimate is the AUC
        // with the gold label known on every row.
        let c = scratch.curve_into(&s, &g, &g, &gold, PpiTuning::Tuned, &mut out).unwrap();
        assert!((c.lambda - 1.0).abs() < 1e-9 && c.kappa.abs() < 1e-9, "{c:?}");
        assert!((auc(&out) - auc(&efficiency_gain(&g, &s).unwrap())).abs() < 1e-9);
        // A constant judge: nothing to regress on but the rank weights (lambda = 0).
        let c = scratch.curve_into(&s, &vec![0.3; n], &g, &gold, PpiTuning::Tuned, &mut out).unwrap();
        assert_eq!(c.lambda, 0.0);
        // Gold on every row: z = g whatever the judge, so the gold curve itself.
        let all = vec![true; n];
        let noise: Vec<f64> = (0..n).map(|i| ((i * 13) % 11) as f64).collect();
        scratch.curve_into(&s, &noise, &g, &all, PpiTuning::Tuned, &mut out).unwrap();
        let direct = efficiency_gain(&g, &s).unwrap();
        assert!(out.iter().zip(&direct).all(|(a, b)| (a - b).abs() < 1e-12));
    }

    #[test]
    fn bad_inputs_are_errors() {
        let mut out = vec![0.0; GRID];
        let mut p = PpiScratch::default();
        let t = PpiTuning::Tuned;
        assert!(p.curve_into(&[1.0, 2.0], &[1.0], &[1.0, 2.0], &[true, true], t, &mut out).is_err());
        let e = p.curve_into(&[1.0, 2.0], &[1.0, 2.0], &[1.0, 2.0], &[false, false], t, &mut out).unwrap_err();
        assert!(e.to_string().contains("gold"), "{e}");
        let e = p.curve_into(&[1.0, 2.0], &[1.0, f64::NAN], &[1.0, 2.0], &[true, false], t, &mut out).unwrap_err();
        assert!(e.to_string().contains("judge"), "{e}");
        let e = p.curve_into(&[1.0, 2.0], &[1.0, 2.0], &[f64::NAN, 2.0], &[true, false], t, &mut out).unwrap_err();
        assert!(e.to_string().contains("gold labels"), "{e}");
        let bad = PpiTuning::Fixed { kappa: f64::NAN, lambda: 1.0 };
        assert!(p.curve_into(&[1.0, 2.0], &[1.0, 2.0], &[1.0, 2.0], &[true, true], bad, &mut out).is_err());
    }
}
