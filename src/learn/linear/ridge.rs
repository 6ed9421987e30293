//! Weighted ridge regression with an unpenalised intercept, in closed form.
//!
//! Minimises (scikit-learn's convention)
//!
//! ```text
//! L(b, beta) = sum_i w_i (y_i - b - x_i . beta)^2 + alpha |beta|^2 .
//! ```
//!
//! Centring by the weighted means `m = sum w x / sum w`, `y_bar = sum w y / sum w` removes the
//! intercept: with `Z = sqrt(W) (X - 1 m')` and `z = sqrt(W) (y - y_bar)`,
//!
//! ```text
//! beta = (Z'Z + alpha I)^-1 Z'z            (primal, d <= n: a d x d Cholesky)
//!      = Z' (Z Z' + alpha I)^-1 z          (dual,   d >  n: an n x n Cholesky)
//! b    = y_bar - m . beta .
//! ```
//!
//! When the Cholesky factorisation fails or its pivots show an estimated condition number above
//! 1e10 (`(max L_kk / min L_kk)^2`), the solve falls back to the thin SVD `Z = U S V'`:
//! `beta = V diag(s / (s^2 + alpha)) U'z`, singular values below `s_max max(n, d) eps` dropped
//! (as scikit-learn's `solver="svd"`).
//!
//! # Automatic alpha (generalised / leave-one-out cross-validation)
//! With `alphas` set, alpha is chosen by the exact weighted leave-one-out error from one
//! eigen-decomposition (as scikit-learn's `RidgeCV` with `gcv_mode`): for `G = Z'Z = V L V'`
//! and `P = Z V`, the hat matrix is `H = P diag(1 / (l + alpha)) P' + s s' / sum w` (`s =
//! sqrt(w)`, the last term for the intercept), so
//!
//! ```text
//! LOO(alpha) = sum_i ((z_i - (H z)_i) / (1 - H_ii))^2 / sum w
//! ```
//!
//! costs `O(n d)` per alpha. In the dual case `Z Z' = U L U'` and `P = U`, with weights
//! `l / (l + alpha)`.
//!
//! References: Hoerl & Kennard (1970); Golub, Heath & Wahba (1979) for GCV; Rifkin & Lippert
//! (2007), "Notes on regularized least squares", for the efficient leave-one-out formula.

use faer::linalg::solvers::Solve;
use faer::{Mat, MatRef, Side};
use serde::{Deserialize, Serialize};

use super::{linear_predict_into, linear_predict_row};
use crate::error::{Error, Result};
use crate::learn::{Params, Predict, Regressor, TrainSet, check};
use crate::linalg::dot::{column_means, dot};
use crate::linalg::gram::{Extra, GRAM_SUB_BLOCK, fill_block, gram, shifted_copy};
use crate::params;
use crate::rng::Seed;

/// The alpha grid used by `alpha=auto`: `10^k` for `k = -3, -2.5, ..., 3` (13 values).
pub fn default_alpha_grid() -> Vec<f64> {
    (0..13).map(|k| 10f64.powf(-3.0 + 0.5 * k as f64)).collect()
}

/// Largest estimated condition number at which the Cholesky solution is kept.
const MAX_CHOLESKY_CONDITION: f64 = 1e10;

/// Parameters of [`RidgeParams::fit`] (scikit-learn's names).
///
/// * `alpha` (default `1.0`): the L2 penalty, `>= 0`. `alpha=auto` on the command line selects
///   it by leave-one-out over [`default_alpha_grid`].
/// * `fit_intercept` (default `true`): fit an unpenalised intercept (centre by weighted means).
/// * `alphas` (default none): a grid (comma list) to choose alpha from by efficient
///   leave-one-out cross-validation; when set, `alpha` is ignored.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RidgeParams {
    /// L2 penalty.
    pub alpha: f64,
    /// Whether to fit an intercept.
    pub fit_intercept: bool,
    /// Candidate penalties for leave-one-out selection.
    pub alphas: Option<Vec<f64>>,
}

impl Default for RidgeParams {
    fn default() -> Self {
        RidgeParams { alpha: 1.0, fit_intercept: true, alphas: None }
    }
}

/// How the coefficients were solved for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RidgeSolver {
    /// Cholesky of the `d x d` Gram matrix plus `alpha I`.
    Cholesky,
    /// Cholesky of the `n x n` kernel matrix plus `alpha I` (more features than rows).
    Dual,
    /// Thin SVD of the centred, weighted data (the fallback).
    Svd,
}

/// A fitted ridge regression.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RidgeModel {
    /// Coefficients, one per feature.
    pub coef: Vec<f64>,
    /// The intercept (0 when `fit_intercept` is false).
    pub intercept: f64,
    /// The penalty used (the selected one when `alphas` was given).
    pub alpha: f64,
    /// The solver that produced the coefficients.
    pub solver: RidgeSolver,
    /// `(alpha, leave-one-out weighted mean squared error)` for each candidate, when selected.
    pub cv_scores: Option<Vec<(f64, f64)>>,
}

impl Params for RidgeParams {
    fn learner_name(&self) -> &'static str {
        "ridge"
    }

    fn set_param(&mut self, name: &str, value: &str) -> Result<()> {
        match name {
            "alpha" if value.trim().eq_ignore_ascii_case("auto") => self.alphas = Some(default_alpha_grid()),
            "alpha" => self.alpha = params::parse_f64("ridge", name, value)?,
            "fit_intercept" => self.fit_intercept = params::parse_bool("ridge", name, value)?,
            "alphas" => {
                let grid = value
                    .split([',', ';', ' '])
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| params::parse_f64("ridge", name, s))
                    .collect::<Result<Vec<f64>>>()?;
                self.alphas = Some(grid);
            }
            _ => return Err(params::unknown("ridge", name, &["alpha", "fit_intercept", "alphas"])),
        }
        Ok(())
    }

    fn validate(&self) -> Result<()> {
        params::non_negative("ridge", "alpha", self.alpha)?;
        if let Some(grid) = &self.alphas {
            if grid.is_empty() {
                return Err(Error::param("ridge", "alphas", "the grid is empty"));
            }
            for &a in grid {
                params::non_negative("ridge", "alphas", a)?;
            }
        }
        Ok(())
    }
}

/// The centring of one fit.
struct Centring {
    means: Vec<f64>,
    y_mean: f64,
    sum_w: f64,
}

impl Centring {
    fn new(data: &TrainSet<'_>, fit_intercept: bool) -> Self {
        let sum_w = data.weights.map_or(data.n_samples() as f64, |w| w.iter().sum());
        if fit_intercept {
            let means = column_means(data.x, data.weights);
            let y_mean = crate::linalg::stats::mean(data.y, data.weights);
            Centring { means, y_mean, sum_w }
        } else {
            Centring { means: vec![0.0; data.n_features()], y_mean: 0.0, sum_w }
        }
    }

    /// `z = sqrt(w) (y - y_bar)`.
    fn scaled_target(&self, data: &TrainSet<'_>) -> Vec<f64> {
        (0..data.n_samples()).map(|i| data.weight(i).sqrt() * (data.y[i] - self.y_mean)).collect()
    }

    /// `Z = sqrt(W) (X - 1 m')`, `n x d` (the Gram kernel's blocks, so any layout of `X`).
    fn scaled_features(&self, data: &TrainSet<'_>) -> Mat<f64> {
        shifted_copy(data.x, &self.means, data.weights)
    }
}

impl Regressor for RidgeParams {
    type Model = RidgeModel;

    fn fit(&self, data: TrainSet<'_>, _seed: Seed) -> Result<RidgeModel> {
        self.validate()?;
        // A non-finite feature makes its Gram diagonal non-finite (the dual form, d > n, checks up
        // front); the full check then names it. This saves one pass over the data.
        super::check_all_but_features(&data)?;
        let (n, d) = (data.n_samples(), data.n_features());
        if d > n {
            check::train_set(&data)?;
        }
        let c = Centring::new(&data, self.fit_intercept);
        let (coef, alpha, solver, cv_scores) = if d <= n {
            let g = gram(data.x, &c.means, data.weights, &[Extra::Column(data.y, c.y_mean)]);
            if (0..d).any(|j| !g[(j, j)].is_finite()) {
                check::train_set(&data)?;
                check::feature_scale("ridge", data.x, Some(&c.means), data.weights)?;
            }
            let gxx = g.as_ref().submatrix(0, 0, d, d);
            let gxy: Vec<f64> = (0..d).map(|j| g[(j, d)]).collect();
            let (alpha, cv) = match &self.alphas {
                Some(grid) => {
                    let spectral = Spectral::new(gxx, &gxy, false)?;
                    let (a, scores) = spectral.select(grid, &data, &c, self.fit_intercept)?;
                    (a, Some(scores))
                }
                None => (self.alpha, None),
            };
            match cholesky_solve(gxx, alpha, &gxy) {
                Some(beta) => (beta, alpha, RidgeSolver::Cholesky, cv),
                None => (svd_solve(&data, &c, alpha)?, alpha, RidgeSolver::Svd, cv),
            }
        } else {
            let z = c.scaled_features(&data);
            let zy = c.scaled_target(&data);
            let k = z.as_ref() * z.as_ref().transpose();
            if (0..n).any(|i| !k[(i, i)].is_finite()) {
                check::feature_scale("ridge", data.x, Some(&c.means), data.weights)?;
            }
            let (alpha, cv) = match &self.alphas {
                Some(grid) => {
                    let spectral = Spectral::new(k.as_ref(), &zy, true)?;
                    let (a, scores) = spectral.select(grid, &data, &c, self.fit_intercept)?;
                    (a, Some(scores))
                }
                None => (self.alpha, None),
            };
            match cholesky_solve(k.as_ref(), alpha, &zy) {
                Some(a) => {
                    let beta: Vec<f64> = (0..d).map(|j| (0..n).fold(0.0, |acc, i| acc + z[(i, j)] * a[i])).collect();
                    (beta, alpha, RidgeSolver::Dual, cv)
                }
                None => (svd_solve(&data, &c, alpha)?, alpha, RidgeSolver::Svd, cv),
            }
        };
        if let Some(j) = coef.iter().position(|v| !v.is_finite()) {
            check::feature_scale("ridge", data.x, Some(&c.means), data.weights)?;
            return Err(Error::Singular { what: format!("ridge solve (coefficient {j} is not finite)") });
        }
        let intercept = if self.fit_intercept {
            c.y_mean - c.means.iter().zip(&coef).map(|(m, b)| m * b).sum::<f64>()
        } else {
            0.0
        };
        Ok(RidgeModel { coef, intercept, alpha, solver, cv_scores })
    }
}

/// Solves `(A + alpha I) x = b` by Cholesky; `None` when the factorisation fails or its pivots
/// show an estimated condition number above [`MAX_CHOLESKY_CONDITION`].
fn cholesky_solve(a: MatRef<'_, f64>, alpha: f64, b: &[f64]) -> Option<Vec<f64>> {
    let m = a.nrows();
    let mut s = a.to_owned();
    for k in 0..m {
        s[(k, k)] += alpha;
    }
    let llt = s.llt(Side::Lower).ok()?;
    let l = llt.L();
    let (mut lo, mut hi) = (f64::INFINITY, 0.0f64);
    for k in 0..m {
        lo = lo.min(l[(k, k)].abs());
        hi = hi.max(l[(k, k)].abs());
    }
    if lo.is_nan() || lo <= 0.0 || (hi / lo).powi(2) > MAX_CHOLESKY_CONDITION {
        return None;
    }
    let rhs = Mat::from_fn(m, 1, |i, _| b[i]);
    let x = llt.solve(rhs);
    Some((0..m).map(|i| x[(i, 0)]).collect())
}

/// `beta = V diag(s / (s^2 + alpha)) U' z` from the thin SVD of the centred, weighted data.
fn svd_solve(data: &TrainSet<'_>, c: &Centring, alpha: f64) -> Result<Vec<f64>> {
    let z = c.scaled_features(data);
    let zy = c.scaled_target(data);
    let svd = z.thin_svd().map_err(|_| Error::Singular { what: "ridge SVD fallback (no convergence)".into() })?;
    let (u, s, v) = (svd.U(), svd.S().column_vector(), svd.V());
    let r = s.nrows();
    let s_max = if r > 0 { s[0] } else { 0.0 };
    let cutoff = s_max * (data.n_samples().max(data.n_features()) as f64) * f64::EPSILON;
    let mut beta = vec![0.0; data.n_features()];
    for k in 0..r {
        let sk = s[k];
        if sk <= cutoff {
            continue;
        }
        let uz: f64 = (0..zy.len()).fold(0.0, |acc, i| acc + u[(i, k)] * zy[i]);
        let f = sk / (sk * sk + alpha) * uz;
        for (j, b) in beta.iter_mut().enumerate() {
            *b += v[(j, k)] * f;
        }
    }
    Ok(beta)
}

/// Rows per parallel unit of the leave-one-out pass (one scratch block of the Gram kernel).
const LOO_BLOCK: usize = GRAM_SUB_BLOCK;

/// The basis of the hat matrix: the eigenvectors `V` of `Z'Z` (primal: `P = Z V`, computed
/// block by block so that no `n x d` matrix is stored) or `U` of `Z Z'` (dual: `P = U`).
enum Basis {
    Primal(Mat<f64>),
    Dual(Mat<f64>),
}

/// A spectral decomposition for leave-one-out: `H = P diag(g(alpha)) P'` with the target's
/// coordinates `c` (see the module docs).
struct Spectral {
    basis: Basis,
    /// Eigenvalues (clamped at 0).
    lam: Vec<f64>,
    /// Coordinates of the target on the columns of `P`, before the alpha-dependent weight.
    c: Vec<f64>,
}

impl Spectral {
    /// From the Gram matrix `Z'Z` and `Z'z` (`dual = false`) or the kernel `ZZ'` and `z` (`dual`):
    /// eigen-decompose `m = E L E'` and project `rhs` on the eigenvectors.
    fn new(m: MatRef<'_, f64>, rhs: &[f64], dual: bool) -> Result<Self> {
        let evd = m
            .self_adjoint_eigen(Side::Lower)
            .map_err(|_| Error::Singular { what: "ridge leave-one-out eigen-decomposition".into() })?;
        let e = evd.U().to_owned();
        let lam: Vec<f64> = (0..m.nrows()).map(|k| evd.S()[k].max(0.0)).collect();
        let c: Vec<f64> = (0..lam.len()).map(|k| dot(e.col_as_slice(k), rhs)).collect();
        let basis = if dual { Basis::Dual(e) } else { Basis::Primal(e) };
        Ok(Spectral { basis, lam, c })
    }

    /// The hat-matrix weights `g_k(alpha)` of each eigen-direction (0 for a null direction).
    fn weights(&self, alpha: f64) -> Vec<f64> {
        let dual = matches!(self.basis, Basis::Dual(_));
        self.lam
            .iter()
            .map(|&l| match (l + alpha > 0.0, dual) {
                (false, _) => 0.0,
                (true, true) => l / (l + alpha),
                (true, false) => 1.0 / (l + alpha),
            })
            .collect()
    }

    /// Weighted leave-one-out sums of squares of rows `r0..r0 + rows`, one per alpha.
    fn block_sse(
        &self,
        gs: &[Vec<f64>],
        data: &TrainSet<'_>,
        c: &Centring,
        fit_intercept: bool,
        r0: usize,
        rows: usize,
    ) -> Vec<f64> {
        let p = match &self.basis {
            Basis::Primal(v) => {
                let mut z = Mat::<f64>::zeros(rows, data.n_features());
                fill_block(data.x, &c.means, data.weights, &[], r0, rows, z.as_mut());
                z * v
            }
            Basis::Dual(u) => u.as_ref().subrows(r0, rows).to_owned(),
        };
        let (mut h, mut fit) = (vec![0.0; rows], vec![0.0; rows]);
        gs.iter()
            .map(|g| {
                h.fill(0.0);
                fit.fill(0.0);
                for (k, &gk) in g.iter().enumerate() {
                    if gk == 0.0 {
                        continue;
                    }
                    let cg = self.c[k] * gk;
                    for ((hi, fi), &pk) in h.iter_mut().zip(fit.iter_mut()).zip(p.col_as_slice(k)) {
                        *hi += pk * pk * gk;
                        *fi += pk * cg;
                    }
                }
                let mut sse = 0.0;
                for i in 0..rows {
                    let w = data.weight(r0 + i);
                    let zy = w.sqrt() * (data.y[r0 + i] - c.y_mean);
                    let hi = h[i] + if fit_intercept { w / c.sum_w } else { 0.0 };
                    let e = (zy - fit[i]) / (1.0 - hi);
                    sse += e * e;
                }
                sse
            })
            .collect()
    }

    /// The alpha of least leave-one-out error (the first on ties) and every score.
    fn select(
        &self,
        grid: &[f64],
        data: &TrainSet<'_>,
        c: &Centring,
        fit_intercept: bool,
    ) -> Result<(f64, Vec<(f64, f64)>)> {
        let n = data.n_samples();
        let gs: Vec<Vec<f64>> = grid.iter().map(|&a| self.weights(a)).collect();
        let parts = crate::par::map_indexed(n.div_ceil(LOO_BLOCK), |b| {
            let r0 = b * LOO_BLOCK;
            self.block_sse(&gs, data, c, fit_intercept, r0, LOO_BLOCK.min(n - r0))
        });
        let scores: Vec<(f64, f64)> = grid
            .iter()
            .enumerate()
            .map(|(a, &alpha)| (alpha, parts.iter().map(|p| p[a]).sum::<f64>() / c.sum_w))
            .collect();
        let mut best: Option<(f64, f64)> = None;
        for &(a, s) in &scores {
            if s.is_finite() && best.is_none_or(|(_, bs)| s < bs) {
                best = Some((a, s));
            }
        }
        match best {
            Some((a, _)) => Ok((a, scores)),
            None => Err(Error::data(
                "ridge leave-one-out error is undefined for every alpha in the grid \
                 (a row has leverage 1); use a fixed alpha",
            )),
        }
    }
}

impl Predict for RidgeModel {
    fn n_features(&self) -> usize {
        self.coef.len()
    }

    fn predict_into(&self, x: MatRef<'_, f64>, out: &mut [f64]) -> Result<()> {
        check::predict_shape(x, self.coef.len(), out)?;
        linear_predict_into(x, &self.coef, self.intercept, out);
        Ok(())
    }

    fn predict_row(&self, row: &[f64]) -> Result<f64> {
        linear_predict_row(row, &self.coef, self.intercept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Seed;
    use rand::RngExt;

    fn data(n: usize, d: usize, seed: u64) -> (Mat<f64>, Vec<f64>) {
        let mut rng = Seed(seed).rng();
        let x = Mat::from_fn(n, d, |_, _| rng.random::<f64>() * 2.0 - 1.0);
        let y = (0..n).map(|i| (0..d).map(|j| x[(i, j)] * (j as f64 - 1.5)).sum::<f64>() + 0.3).collect();
        (x, y)
    }

    /// The normal equations of the weighted ridge objective hold at the solution:
    /// `Z'(z - Z beta) = alpha beta` and the weighted residuals sum to zero.
    fn assert_stationary(x: MatRef<'_, f64>, y: &[f64], w: &[f64], m: &RidgeModel) {
        let pred = m.predict(x).unwrap();
        let r: Vec<f64> = (0..y.len()).map(|i| w[i] * (y[i] - pred[i])).collect();
        assert!(r.iter().sum::<f64>().abs() < 1e-8 * y.len() as f64);
        for j in 0..x.ncols() {
            let g: f64 = (0..y.len()).map(|i| x[(i, j)] * r[i]).sum();
            assert!((g - m.alpha * m.coef[j]).abs() < 1e-8 * (1.0 + g.abs()), "column {j}: {g} vs {}", m.coef[j]);
        }
    }

    #[test]
    fn primal_dual_and_svd_agree_and_are_stationary() {
        let (x, y) = data(40, 6, 1);
        let w: Vec<f64> = (0..40).map(|i| 0.5 + (i % 4) as f64).collect();
        let p = RidgeParams { alpha: 0.7, ..Default::default() };
        let m = p.fit(TrainSet::weighted(x.as_ref(), &y, &w), Seed(0)).unwrap();
        assert_eq!(m.solver, RidgeSolver::Cholesky);
        assert_stationary(x.as_ref(), &y, &w, &m);
        let c = Centring::new(&TrainSet::weighted(x.as_ref(), &y, &w), true);
        let beta = svd_solve(&TrainSet::weighted(x.as_ref(), &y, &w), &c, 0.7).unwrap();
        for (b, c) in beta.iter().zip(&m.coef) {
            assert!((b - c).abs() < 1e-10);
        }
        // more features than rows: the dual form
        let (x, y) = data(8, 20, 2);
        let w = vec![1.0; 8];
        let m = p.fit(TrainSet::new(x.as_ref(), &y), Seed(0)).unwrap();
        assert_eq!(m.solver, RidgeSolver::Dual);
        assert_stationary(x.as_ref(), &y, &w, &m);
    }

    #[test]
    fn collinear_columns_fall_back_to_svd() {
        let (x0, y) = data(50, 3, 3);
        let x = Mat::from_fn(50, 4, |i, j| if j < 3 { x0[(i, j)] } else { x0[(i, 0)] + x0[(i, 1)] });
        let m = RidgeParams { alpha: 0.0, ..Default::default() }.fit(TrainSet::new(x.as_ref(), &y), Seed(0)).unwrap();
        assert_eq!(m.solver, RidgeSolver::Svd);
        // minimum-norm least squares: fits exactly (y is linear in x) with finite coefficients
        let pred = m.predict(x.as_ref()).unwrap();
        for i in 0..50 {
            assert!((pred[i] - y[i]).abs() < 1e-9);
        }
    }

    #[test]
    fn loo_matches_brute_force_refits() {
        // primal (one and several blocks), dual, and without intercept
        for (n, d, fit_intercept) in [(30, 4, true), (700, 3, true), (10, 15, true), (30, 4, false)] {
            let (x, mut y) = data(n, d, 4);
            let mut rng = Seed(9).rng();
            for v in &mut y {
                *v += rng.random::<f64>() - 0.5;
            }
            let w: Vec<f64> = (0..n).map(|i| 1.0 + (i % 3) as f64).collect();
            let grid = [0.01, 1.0, 30.0];
            let p = RidgeParams { alphas: Some(grid.to_vec()), fit_intercept, ..Default::default() };
            let m = p.fit(TrainSet::weighted(x.as_ref(), &y, &w), Seed(0)).unwrap();
            let scores = m.cv_scores.clone().unwrap();
            for (k, &a) in grid.iter().enumerate() {
                let mut sse = 0.0;
                for out in 0..n {
                    let keep: Vec<usize> = (0..n).filter(|&i| i != out).collect();
                    let xs = Mat::from_fn(n - 1, d, |i, j| x[(keep[i], j)]);
                    let ys: Vec<f64> = keep.iter().map(|&i| y[i]).collect();
                    let ws: Vec<f64> = keep.iter().map(|&i| w[i]).collect();
                    let mk = RidgeParams { alpha: a, fit_intercept, ..Default::default() }
                        .fit(TrainSet::weighted(xs.as_ref(), &ys, &ws), Seed(0))
                        .unwrap();
                    let row: Vec<f64> = (0..d).map(|j| x[(out, j)]).collect();
                    let e = y[out] - mk.predict_row(&row).unwrap();
                    sse += w[out] * e * e;
                }
                let brute = sse / w.iter().sum::<f64>();
                assert!((scores[k].1 - brute).abs() < 1e-9 * brute, "{n}x{d} alpha {a}: {} vs {brute}", scores[k].1);
            }
            let best = scores.iter().cloned().fold((0.0, f64::INFINITY), |b, s| if s.1 < b.1 { s } else { b });
            assert_eq!(m.alpha, best.0);
        }
    }

    #[test]
    fn params_by_name_and_bad_values() {
        let mut p = RidgeParams::default();
        p.set_param("alpha", "2.5").unwrap();
        p.set_param("fit_intercept", "false").unwrap();
        assert_eq!((p.alpha, p.fit_intercept), (2.5, false));
        p.set_param("alphas", "0.1,1,10").unwrap();
        assert_eq!(p.alphas, Some(vec![0.1, 1.0, 10.0]));
        p.set_param("alpha", "auto").unwrap();
        assert_eq!(p.alphas.as_ref().map(|g| g.len()), Some(13));
        assert!(matches!(p.set_param("lambda", "1"), Err(Error::InvalidParam { .. })));
        assert!(matches!(p.set_param("alpha", "x"), Err(Error::InvalidParam { .. })));
        let bad = RidgeParams { alpha: -1.0, ..Default::default() };
        let (x, y) = data(5, 2, 0);
        assert!(matches!(bad.fit(TrainSet::new(x.as_ref(), &y), Seed(0)), Err(Error::InvalidParam { .. })));
        let bad = RidgeParams { alphas: Some(vec![]), ..Default::default() };
        assert!(matches!(bad.validate(), Err(Error::InvalidParam { .. })));
    }
}
