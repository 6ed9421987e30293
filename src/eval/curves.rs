//! Efficiency-gain curves: how much gold-standard quality a router buys over random routing
//! at each primary-model usage rate.
//!
//! Test set of `m` queries with gold gains `g_i` and router scores `s_i` (`psi_hat`). For a usage
//! rate `rho` the router sends its `k = round(rho m)` top-scored queries to the primary model:
//! ```text
//! EG(rho) = ( sum of g over the k top-scored queries  -  rho * sum_i g_i ) / m
//! ```
//! evaluated on the grid `rho = 0.00, 0.01, ..., 1.00` ([`GRID`] points). `EG(0) = EG(1) = 0`;
//! a random ranking has `E EG(rho) = 0` (up to the rounding of `rho m`), and sorting by the true
//! gain gives the *oracle* curve, the largest possible. The summary **AUC** is the mean of EG over
//! `rho = 0.20, 0.21, ..., 0.80` (61 points); the **peak** is the largest EG on that window and
//! where it occurs (the paper's Figure 1(a) shows that window).
//!
//! **Ties** in the scores are split evenly: when the cut `k` falls inside a group of tied scores,
//! the group contributes its average gain per row times the number of its rows above the cut.
//! This is the expectation over every tie-breaking order, so the curve does not depend on the
//! order of the test rows, and a constant score gives `EG = 0` exactly up to rounding.
//!
//! **Paper protocol** ([`CurveScratch::paper_gain_into`]), as in the authors' reference script: the
//! cumulative gold gain in score order is followed only while `psi_hat > 0` (a router stops
//! sending queries to the primary model where it predicts no gain; beyond that share of the
//! test rows the cumulative gain stays flat), and the baseline is the cumulative gain of one
//! random permutation instead of `rho * sum g`; both are linearly interpolated at `rho m`:
//! `EG_paper(rho) = (T(rho m) - R(rho m)) / m`. Ties there follow the row order (a stable sort).
//! The paper plots `EG * m / (0.03523782 * 500)`.
//!
//! **Linearity** ([`CurveScratch::auc_weights_into`]): for fixed scores the curve is linear in the
//! gains. With `a_i(k)` the (tie-averaged) share of row `i` among the `k` top-scored rows,
//! `EG(rho) = (1/m) sum_i g_i (a_i(round(rho m)) - rho)`, so `AUC = (1/m) sum_i g_i w_i` with
//! `w_i = mean over the AUC window of (a_i(round(rho m)) - rho)`, a weight in `[-0.5, 0.5]` that
//! depends on row `i`'s rank only. The held-out evaluation (`eval::ppi`) is built on it.

use crate::check;
use crate::error::{Error, Result};

/// Number of usage rates on the grid `0.00, 0.01, ..., 1.00`.
pub const GRID: usize = 101;
/// First grid index of the AUC window (rho = 0.20).
pub const AUC_FROM: usize = 20;
/// Last grid index of the AUC window (rho = 0.80), inclusive.
pub const AUC_TO: usize = 80;
/// The paper's normaliser of the plotted gain, for `m = 500` test rows: `0.03523782 * 500`.
pub const PAPER_NORMALISER: f64 = 0.03523782 * 500.0;

/// The usage rate of grid point `i`.
#[inline]
pub fn rho(i: usize) -> f64 {
    i as f64 / 100.0
}

/// `round(i m / 100)` in exact integer arithmetic (halves round up).
#[inline]
fn cut(i: usize, m: usize) -> usize {
    (2 * i * m + 100) / 200
}

/// Reusable buffers, so a study evaluates many routers without allocating per curve.
#[derive(Clone, Debug, Default)]
pub struct CurveScratch {
    order: Vec<usize>,
    top: Vec<f64>,
    base: Vec<f64>,
}

fn check_inputs(g: &[f64], s: &[f64], out: &[f64]) -> Result<()> {
    if g.is_empty() {
        return Err(Error::empty("efficiency gain: no test rows"));
    }
    if s.len() != g.len() {
        return Err(Error::shape("efficiency gain: scores vs gold gains", g.len(), s.len()));
    }
    if out.len() != GRID {
        return Err(Error::shape("efficiency gain: output curve", GRID, out.len()));
    }
    check::finite_slice("gold gains", g)?;
    check::finite_slice("router scores", s)
}

impl CurveScratch {
    /// Sorts row indices by score, descending; ties by row index (stable).
    fn sort_desc(&mut self, s: &[f64]) {
        self.order.clear();
        self.order.extend(0..s.len());
        self.order.sort_by(|&a, &b| s[b].total_cmp(&s[a]).then(a.cmp(&b)));
    }

    /// `top[k]` = gold gain of the k top-scored rows, ties split evenly.
    fn tie_averaged_top(&mut self, g: &[f64], s: &[f64]) {
        let m = g.len();
        self.top.clear();
        self.top.resize(m + 1, 0.0);
        let mut start = 0;
        let mut before = 0.0;
        while start < m {
            let key = s[self.order[start]];
            let mut end = start + 1;
            while end < m && s[self.order[end]] == key {
                end += 1;
            }
            let group: f64 = self.order[start..end].iter().map(|&r| g[r]).sum();
            let size = (end - start) as f64;
            for k in start + 1..=end {
                self.top[k] = before + group * ((k - start) as f64 / size);
            }
            before += group;
            start = end;
        }
    }

    /// Writes `EG(rho)` on the [`GRID`] into `out` (see the module docs).
    ///
    /// # Errors
    /// Empty input, unequal lengths, an `out` not of length [`GRID`], non-finite values.
    pub fn efficiency_gain_into(&mut self, g: &[f64], s: &[f64], out: &mut [f64]) -> Result<()> {
        check_inputs(g, s, out)?;
        let m = g.len();
        self.sort_desc(s);
        self.tie_averaged_top(g, s);
        let total = self.top[m];
        for (i, o) in out.iter_mut().enumerate() {
            *o = (self.top[cut(i, m)] - rho(i) * total) / m as f64;
        }
        out[0] = 0.0;
        out[GRID - 1] = 0.0;
        Ok(())
    }

    /// Writes the per-row AUC weights `w_i` of the scores `s` into `out` (see the module docs:
    /// `auc(efficiency_gain(g, s)) = (1/m) sum_i g_i w_i` for every `g`).
    ///
    /// # Errors
    /// Empty scores, an `out` of another length, non-finite scores.
    pub fn auc_weights_into(&mut self, s: &[f64], out: &mut [f64]) -> Result<()> {
        if s.is_empty() {
            return Err(Error::empty("AUC weights: no rows"));
        }
        if out.len() != s.len() {
            return Err(Error::shape("AUC weights: output", s.len(), out.len()));
        }
        check::finite_slice("router scores", s)?;
        let m = s.len();
        self.sort_desc(s);
        let points = (AUC_TO - AUC_FROM + 1) as f64;
        let mean_rho = (AUC_FROM..=AUC_TO).map(rho).sum::<f64>() / points;
        let mut start = 0;
        while start < m {
            let key = s[self.order[start]];
            let mut end = start + 1;
            while end < m && s[self.order[end]] == key {
                end += 1;
            }
            let size = (end - start) as f64;
            let share: f64 =
                (AUC_FROM..=AUC_TO).map(|i| (cut(i, m).clamp(start, end) - start) as f64 / size).sum::<f64>() / points;
            for &r in &self.order[start..end] {
                out[r] = share - mean_rho;
            }
            start = end;
        }
        Ok(())
    }

    /// Writes the paper protocol's gain on the [`GRID`] into `out`: the router's cumulative
    /// gold gain, followed while `s > 0` then flat, minus that of the random order
    /// `random_order` (a permutation of the rows), both interpolated at `rho m`, over `m`.
    ///
    /// # Errors
    /// As [`CurveScratch::efficiency_gain_into`], plus a `random_order` that is not a permutation.
    pub fn paper_gain_into(&mut self, g: &[f64], s: &[f64], random_order: &[usize], out: &mut [f64]) -> Result<()> {
        check_inputs(g, s, out)?;
        let m = g.len();
        if random_order.len() != m {
            return Err(Error::shape("paper efficiency gain: random order", m, random_order.len()));
        }
        if random_order.iter().any(|&r| r >= m) {
            return Err(Error::data("paper efficiency gain: the random order is not a permutation of the test rows"));
        }
        self.sort_desc(s);
        let n_pos = s.iter().filter(|&&v| v > 0.0).count();
        // top[k]: cumulative gain of the first k rows in score order; flat past n_pos.
        self.top.clear();
        self.top.push(0.0);
        let mut acc = 0.0;
        for k in 0..m {
            if k < n_pos {
                acc += g[self.order[k]];
            }
            self.top.push(acc);
        }
        self.base.clear();
        self.base.push(0.0);
        let mut rand_acc = 0.0;
        for &r in random_order {
            rand_acc += g[r];
            self.base.push(rand_acc);
        }
        for (i, o) in out.iter_mut().enumerate() {
            let pos = rho(i) * m as f64;
            *o = (interp(&self.top, pos) - interp(&self.base, pos)) / m as f64;
        }
        Ok(())
    }
}

/// Linear interpolation of `v[0..=m]` at real position `pos` in `[0, m]`.
#[inline]
fn interp(v: &[f64], pos: f64) -> f64 {
    let last = v.len() - 1;
    let pos = pos.clamp(0.0, last as f64);
    let lo = pos.floor() as usize;
    if lo >= last {
        return v[last];
    }
    let f = pos - lo as f64;
    v[lo] + f * (v[lo + 1] - v[lo])
}

/// `EG(rho)` on the grid as a new vector (see [`CurveScratch::efficiency_gain_into`]).
///
/// # Errors
/// Empty input, unequal lengths, non-finite values.
pub fn efficiency_gain(g: &[f64], s: &[f64]) -> Result<Vec<f64>> {
    let mut out = vec![0.0; GRID];
    CurveScratch::default().efficiency_gain_into(g, s, &mut out)?;
    Ok(out)
}

/// The summary AUC: the mean of a grid curve over rho = 0.20..0.80.
pub fn auc(curve: &[f64]) -> f64 {
    let w = &curve[AUC_FROM..=AUC_TO];
    w.iter().sum::<f64>() / w.len() as f64
}

/// The largest value of a grid curve on rho = 0.20..0.80 and its usage rate (first on ties).
pub fn peak(curve: &[f64]) -> (f64, f64) {
    let mut best = (f64::NEG_INFINITY, rho(AUC_FROM));
    for (i, &v) in curve.iter().enumerate().take(AUC_TO + 1).skip(AUC_FROM) {
        if v > best.0 {
            best = (v, rho(i));
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::{Seed, permutation};
    use rand::RngExt;

    fn gains(n: usize, seed: u64) -> Vec<f64> {
        let mut r = Seed(seed).rng();
        (0..n).map(|_| r.random::<f64>() * 2.0 - 0.9).collect()
    }

    #[test]
    fn hand_computed_small_case() {
        // m = 4, g = [1, -1, 2, 0], scores rank rows 2, 0, 3, 1. Total 2.
        let g = [1.0, -1.0, 2.0, 0.0];
        let s = [0.5, -3.0, 0.9, 0.1];
        let c = efficiency_gain(&g, &s).unwrap();
        // rho = 0.25: k = 1, top = 2, EG = (2 - 0.25 * 2) / 4 = 0.375
        assert!((c[25] - 0.375).abs() < 1e-15);
        // rho = 0.50: k = 2, top = 3, EG = (3 - 1) / 4 = 0.5
        assert!((c[50] - 0.5).abs() < 1e-15);
        // rho = 0.74: k = round(2.96) = 3, top = 3, EG = (3 - 1.48) / 4 = 0.38
        assert!((c[74] - 0.38).abs() < 1e-15);
        // rho = 0.12: k = round(0.48) = 0: EG = -0.24 / 4
        assert!((c[12] + 0.06).abs() < 1e-15);
        // rho = 0.13: k = round(0.52) = 1: EG = (2 - 0.26) / 4
        assert!((c[13] - 0.435).abs() < 1e-15);
        assert_eq!((c[0], c[100]), (0.0, 0.0));
    }

    #[test]
    fn ties_are_split_evenly_and_constant_scores_give_zero() {
        let g = [1.0, 3.0, -2.0, 2.0];
        // Rows 1 and 3 tie at the top: k = 1 takes half of (3 + 2).
        let s = [0.0, 1.0, -1.0, 1.0];
        let c = efficiency_gain(&g, &s).unwrap();
        assert!((c[25] - (2.5 - 0.25 * 4.0) / 4.0).abs() < 1e-15);
        // Reordering the rows does not change the curve.
        let c2 = efficiency_gain(&[2.0, -2.0, 3.0, 1.0], &[1.0, -1.0, 1.0, 0.0]).unwrap();
        assert_eq!(c, c2);
        let g = gains(200, 1);
        let flat = efficiency_gain(&g, &vec![0.3; 200]).unwrap();
        assert!(flat.iter().all(|v| v.abs() < 1e-12), "{flat:?}");
    }

    #[test]
    fn perfect_ranking_is_the_oracle_and_dominates() {
        let g = gains(500, 2);
        let oracle = efficiency_gain(&g, &g).unwrap();
        // A monotone transform of the truth ranks identically.
        let s: Vec<f64> = g.iter().map(|v| 3.0 * v.powi(3) + 1.0).collect();
        assert_eq!(efficiency_gain(&g, &s).unwrap(), oracle);
        let noisy = gains(500, 3);
        let other = efficiency_gain(&g, &noisy).unwrap();
        assert!(oracle.iter().zip(&other).all(|(o, v)| o + 1e-15 >= *v));
        assert!(auc(&oracle) > 0.1);
        let (p, at) = peak(&oracle);
        assert!(p >= auc(&oracle) && (0.2..=0.8).contains(&at));
    }

    #[test]
    fn random_scores_average_to_zero() {
        let g = gains(500, 4);
        let mut scratch = CurveScratch::default();
        let mut curve = vec![0.0; GRID];
        let mut mean = vec![0.0; GRID];
        let rounds = 400;
        for r in 0..rounds {
            let mut rng = Seed(5).indexed(1, r).rng();
            let s: Vec<f64> = (0..500).map(|_| rng.random::<f64>()).collect();
            scratch.efficiency_gain_into(&g, &s, &mut curve).unwrap();
            mean.iter_mut().zip(&curve).for_each(|(a, b)| *a += b / rounds as f64);
        }
        let oracle = auc(&efficiency_gain(&g, &g).unwrap());
        // Each point's sd is about 0.6/sqrt(500 * 400) ~ 0.0015; the oracle's AUC is ~0.13.
        assert!(mean.iter().all(|v| v.abs() < 0.006), "{mean:?}");
        assert!(auc(&mean).abs() < 0.02 * oracle);
    }

    #[test]
    fn paper_protocol_cuts_at_nonpositive_scores() {
        let g = [1.0, -1.0, 2.0, 0.5];
        let s = [0.5, -3.0, 0.9, -0.1]; // two positive scores: rows 2, 0
        let identity = [0, 1, 2, 3];
        let mut out = vec![0.0; GRID];
        CurveScratch::default().paper_gain_into(&g, &s, &identity, &mut out).unwrap();
        // Router cumulative: 0, 2, 3, 3 (flat), 3. Random (row order): 0, 1, 0, 2, 2.5.
        assert!((out[25] - (2.0 - 1.0) / 4.0).abs() < 1e-15);
        assert!((out[50] - (3.0 - 0.0) / 4.0).abs() < 1e-15);
        assert!((out[75] - (3.0 - 2.0) / 4.0).abs() < 1e-15);
        // rho = 0.375 is not on the grid; rho = 0.38: position 1.52 -> 2 + 0.52 vs 1 - 0.52
        assert!((out[38] - ((2.0 + 0.52) - (1.0 - 0.52)) / 4.0).abs() < 1e-12);
        assert!((out[100] - (3.0 - 2.5) / 4.0).abs() < 1e-15);
        // The random permutation against itself gives zero everywhere.
        let g = gains(100, 6);
        let perm = permutation(100, &mut Seed(9).rng());
        let mut rank = vec![0.0; 100];
        for (k, &r) in perm.iter().enumerate() {
            rank[r] = (100 - k) as f64;
        }
        CurveScratch::default().paper_gain_into(&g, &rank, &perm, &mut out).unwrap();
        assert!(out.iter().all(|v| v.abs() < 1e-12));
    }

    #[test]
    fn auc_is_the_weighted_mean_of_the_gains() {
        // m = 4 without ties: k = 1 on rho 0.20..0.37 (18 points), 2 on 0.38..0.62 (25), 3 on
        // 0.63..0.80 (18), so w = (61, 43, 18, 0) / 61 - 0.5 by rank.
        let mut scratch = CurveScratch::default();
        let mut w = vec![0.0; 4];
        scratch.auc_weights_into(&[1.0, 4.0, 2.0, 3.0], &mut w).unwrap();
        let want = [0.0, 61.0, 18.0, 43.0].map(|v: f64| v / 61.0 - 0.5);
        assert!(w.iter().zip(&want).all(|(a, b)| (a - b).abs() < 1e-15), "{w:?}");
        for (m, seed) in [(7, 10), (200, 11), (501, 12)] {
            let g = gains(m, seed);
            // ties: scores rounded to a few levels
            let s: Vec<f64> = gains(m, seed + 100).iter().map(|v| (v * 4.0).round()).collect();
            let mut w = vec![0.0; m];
            scratch.auc_weights_into(&s, &mut w).unwrap();
            let direct = auc(&efficiency_gain(&g, &s).unwrap());
            let linear = g.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>() / m as f64;
            assert!((direct - linear).abs() < 1e-14, "{m}: {direct} vs {linear}");
        }
        assert!(scratch.auc_weights_into(&[], &mut []).is_err());
        assert!(scratch.auc_weights_into(&[1.0], &mut [0.0, 0.0]).is_err());
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(efficiency_gain(&[], &[]).is_err());
        assert!(efficiency_gain(&[1.0], &[1.0, 2.0]).is_err());
        assert!(efficiency_gain(&[1.0, 2.0], &[f64::NAN, 2.0]).unwrap_err().to_string().contains("scores"));
        let mut out = vec![0.0; GRID];
        assert!(CurveScratch::default().paper_gain_into(&[1.0, 2.0], &[1.0, 2.0], &[0, 5], &mut out).is_err());
    }
}
