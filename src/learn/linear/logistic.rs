//! Weighted L2-penalised logistic regression (binary), by Newton's method (IRLS) with a
//! backtracking line search.
//!
//! Minimises (scikit-learn's convention, intercept unpenalised)
//!
//! ```text
//! f(beta, b) = 0.5 |beta|^2 / C + sum_i w_i [ log(1 + e^{eta_i}) - y_i eta_i ],   eta_i = b + x_i . beta
//! ```
//!
//! with gradient `X~'(w (p - y)) + [beta / C, 0]` and Hessian `X~' diag(w p (1 - p)) X~ +
//! diag(1/C, ..., 1/C, 0)`, where `X~ = [X, 1]` and `p = sigmoid(eta)`. Each iteration solves
//! `H delta = -g` by Cholesky (adding a growing multiple of the identity when the factorisation
//! fails, e.g. on separable data with a huge `C`), then halves the step until the Armijo
//! condition `f(theta + t delta) <= f(theta) + 1e-4 t g'delta` holds. `log(1 + e^eta)` is
//! evaluated stably (see [`crate::linalg::stats::log1pexp`]).
//!
//! Convergence: `max_j |g_j| / s_j <= tol * sum_i w_i`, i.e. the gradient of the *mean*
//! objective below `tol`, each coefficient's component measured in units of its feature's
//! weighted root mean square `s_j = sqrt(sum_i w_i x_ij^2 / sum_i w_i)` (`s = 1` for the
//! intercept and for an all-zero column). The scaling makes the rule invariant to rescaling a
//! feature (`x_j -> a x_j` with `C -> C / a^2` is the same problem, and `g_j / s_j` is unchanged);
//! without it, features scaled by 1e-8 made the raw gradient look converged before any step.
//! Newton converges quadratically near the optimum, so a handful of iterations reach
//! `tol = 1e-8`. The fit never returns non-finite coefficients: every accepted step lowers
//! a finite objective. When `max_iter` is reached first, the model is returned with
//! [`LogisticFitInfo::converged`] false (see [`LogisticModel::ensure_converged`]).
//!
//! # Passes over the data
//! Every point the fit visits costs one pass over the rows (`Newton::sweep`), in fixed chunks
//! (those of [`crate::linalg::gram::gram`]) and, within a chunk, sub-blocks of
//! [`crate::linalg::gram::GRAM_SUB_BLOCK`] rows whose features stay in cache while they give, in turn, the
//! direction's image `X~ delta` (faer's matrix-vector product), the loss, residuals and IRLS
//! weights from one exponential per row, the sub-block's `X' r` and, when wanted, its share of
//! the Gram matrix (the kernel of [`crate::linalg::gram::gram`], so the same bits as that
//! function). Chunks are reduced in order, so the fit is bit-identical for any thread count.
//! A full step (`t = 1`, Newton's usual case) thus needs no other pass; a shortened one
//! evaluates the loss at each trial `t` and, once accepted, sweeps again for its gradient
//! and Hessian.
//!
//! # Fewer Gram matrices
//! The Gram matrix (`n (d + 1)^2 / 2` multiply-adds) is the costly part of a pass, and the
//! convergence test needs only the exact gradient, so two of them are saved without moving the
//! optimum the test accepts:
//!
//! * **The first step's Hessian from a sample.** At the starting point (`beta = 0`) the IRLS
//!   weights are `w_i p0 (1 - p0)`, and that step only has to bring the iterate near the
//!   optimum: its Gram matrix is built from the first `GRAM_SUB_BLOCK` rows of every chunk
//!   (every 8th block of rows on a large set), scaled by the IRLS weights' total over the
//!   sample's, when the sample has at least `SAMPLE_ROWS_PER_PARAM` (100) rows per parameter
//!   (a relative error of a few percent; a systematic sample spread over the whole set).
//! * **Hessian reuse in the quadratic regime** (`HessianPlan`). After a full Newton step
//!   with a fresh Hessian that shrank the gradient norm by `rho = g_k / g_{k-1}`, the next one
//!   is predicted to shrink it by `rho^2` (quadratic convergence, `g_{k+1} ~ g_k^3 / g_{k-1}^2`),
//!   and a step with the same Hessian from the point after (a chord step) by about as much.
//!   When the prediction puts the gradient below `tol` at the next point, or after one more
//!   such step, the next sweep skips its Gram matrix and the step from there reuses the current
//!   Hessian; it keeps being reused while the steps with it shrink the gradient norm by at
//!   least `REUSE_MAX_RATIO` (a factor 4), else a fresh one is built. A wrong prediction costs a step,
//!   never the result: every step is a descent direction with the Armijo test, and the fit
//!   stops only on the exact gradient.
//!
//! On `cls_100k_50` (80,000 x 50) the gradient norms run 1.4e-1, 1.3e-2, 3.4e-4, 2.7e-7 and
//! 3.5e-10: four steps and a bit over two full Gram matrices, where plain Newton built four.
//!
//! References: Nocedal & Wright, *Numerical Optimization* (2006), ch. 3 (line search) and 6;
//! Hastie, Tibshirani & Friedman, *The Elements of Statistical Learning*, 4.4.1 (IRLS).

use faer::linalg::matmul::matmul;
use faer::linalg::solvers::Solve;
use faer::{Accum, Mat, MatMut, MatRef, Par, Side};
use serde::{Deserialize, Serialize};

use super::{linear_predict_into, linear_predict_row};
use crate::error::{Error, Result};
use crate::learn::{Classifier, Params, PredictProba, TrainSet, check};
use crate::linalg::dot::column_sq_sums;
use crate::linalg::gram::{Extra, GRAM_SUB_BLOCK, GramAcc, gram, gram_chunk_rows, reduce_partials};
use crate::linalg::stats::sigmoid;
use crate::params;
use crate::rng::Seed;

/// Parameters of the logistic regression (scikit-learn's names).
///
/// * `C` (default `1.0`): inverse penalty strength, `> 0`.
/// * `max_iter` (default `100`): Newton iterations, `>= 1`.
/// * `tol` (default `1e-8`): stop when the gradient of the mean objective, in units of each
///   feature's root mean square, has max-norm `<= tol`.
/// * `fit_intercept` (default `true`): fit an unpenalised intercept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogisticParams {
    /// Inverse L2 penalty.
    #[serde(rename = "C")]
    pub c: f64,
    /// Iteration limit.
    pub max_iter: usize,
    /// Gradient tolerance.
    pub tol: f64,
    /// Whether to fit an intercept.
    pub fit_intercept: bool,
}

impl Default for LogisticParams {
    fn default() -> Self {
        LogisticParams { c: 1.0, max_iter: 100, tol: 1e-8, fit_intercept: true }
    }
}

/// How the fit went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogisticFitInfo {
    /// Newton iterations run.
    pub n_iter: usize,
    /// Final max-norm of the gradient of the mean objective, per feature RMS (see the module doc).
    pub grad_norm: f64,
    /// Whether `grad_norm <= tol` was reached.
    pub converged: bool,
    /// Final objective value (penalty plus weighted log loss).
    pub objective: f64,
}

/// A fitted logistic regression.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LogisticModel {
    /// Coefficients, one per feature.
    pub coef: Vec<f64>,
    /// The intercept (0 when `fit_intercept` is false).
    pub intercept: f64,
    /// Convergence diagnostics.
    pub info: LogisticFitInfo,
}

impl LogisticModel {
    /// `Ok` when the fit reached its tolerance.
    ///
    /// # Errors
    /// [`Error::NotConverged`] with the iterations run and the final gradient norm.
    pub fn ensure_converged(&self) -> Result<()> {
        if self.info.converged {
            Ok(())
        } else {
            Err(Error::NotConverged {
                what: "logistic regression (Newton)".into(),
                iterations: self.info.n_iter,
                residual: self.info.grad_norm,
            })
        }
    }
}

impl Params for LogisticParams {
    fn learner_name(&self) -> &'static str {
        "logistic"
    }

    fn set_param(&mut self, name: &str, value: &str) -> Result<()> {
        match name {
            "C" | "c" => self.c = params::parse_f64("logistic", name, value)?,
            "max_iter" => self.max_iter = params::parse_usize("logistic", name, value)?,
            "tol" => self.tol = params::parse_f64("logistic", name, value)?,
            "fit_intercept" => self.fit_intercept = params::parse_bool("logistic", name, value)?,
            _ => return Err(params::unknown("logistic", name, &["C", "max_iter", "tol", "fit_intercept"])),
        }
        Ok(())
    }

    fn validate(&self) -> Result<()> {
        params::positive("logistic", "C", self.c)?;
        params::at_least("logistic", "max_iter", self.max_iter, 1)?;
        params::positive("logistic", "tol", self.tol)
    }
}

/// The per-row quantities at one point `eta` (the current iterate or a line-search trial).
struct Point {
    /// `eta_i = b + x_i . beta`.
    eta: Vec<f64>,
    /// `w_i (p_i - y_i)`, `p_i = sigmoid(eta_i)`.
    resid: Vec<f64>,
    /// The IRLS weights `w_i p_i (1 - p_i)`.
    hess_w: Vec<f64>,
    /// The weighted log loss `sum_i w_i [log(1 + e^eta_i) - y_i eta_i]`.
    loss: f64,
    /// `sum_i w_i (p_i - y_i)`, the intercept's gradient.
    resid_sum: f64,
    /// `X' resid` (one entry per feature), when the pass computed it.
    xt_resid: Vec<f64>,
    /// The Hessian at this point, when the pass computed it.
    hessian: Option<Mat<f64>>,
    /// Whether that Hessian comes from a sample of the rows.
    sampled: bool,
}

impl Point {
    fn zeros(n: usize) -> Point {
        Point {
            eta: vec![0.0; n],
            resid: vec![0.0; n],
            hess_w: vec![0.0; n],
            loss: 0.0,
            resid_sum: 0.0,
            xt_resid: Vec::new(),
            hessian: None,
            sampled: false,
        }
    }
}

/// One chunk's share of a [`Newton::sweep`].
struct Part {
    loss: f64,
    resid_sum: f64,
    xt_resid: Vec<f64>,
    gram: Option<Mat<f64>>,
    /// The IRLS weights' sum over the chunk and over its rows in the Gram matrix.
    hess_w_sums: (f64, f64),
}

/// What a [`Newton::sweep`] computes besides the loss, the residuals and the IRLS weights.
#[derive(Clone, Copy)]
struct Want {
    /// `X' resid`, for the gradient.
    grad: bool,
    /// The weighted Gram matrix, for the Hessian.
    hessian: bool,
    /// Build it from the first [`GRAM_SUB_BLOCK`] rows of each chunk only, scaled up by the
    /// IRLS weights' total over their sample's (the first step's Hessian; see the module docs).
    sample: bool,
}

/// State of one fit: the data and the shape of its passes.
struct Newton<'a> {
    data: TrainSet<'a>,
    inv_c: f64,
    fit_intercept: bool,
    /// Rows per parallel unit of a sweep: [`gram_chunk_rows`], so that the Gram matrix built
    /// in a sweep has [`gram`]'s bits.
    chunk: usize,
}

impl Newton<'_> {
    fn n_params(&self) -> usize {
        self.data.n_features() + usize::from(self.fit_intercept)
    }

    fn penalty(&self, theta: &[f64]) -> f64 {
        0.5 * self.inv_c * theta[..self.data.n_features()].iter().map(|b| b * b).sum::<f64>()
    }

    fn extras(&self) -> &'static [Extra<'static>] {
        if self.fit_intercept { &[Extra::Ones] } else { &[] }
    }

    /// One pass over the rows at `eta = base + t * step`, in parallel over fixed chunks of
    /// [`Newton::chunk`] rows, each walked in sub-blocks of [`GRAM_SUB_BLOCK`] rows whose
    /// features stay in cache while they serve, in turn:
    ///
    /// 1. with `dir = Some(delta)`, the direction's image `step = X~ delta` (faer's
    ///    matrix-vector product, overwriting `step`; otherwise `step` is read as it stands);
    /// 2. per row, one `e = exp(-|eta_i|)` for both `log(1 + e^eta) = max(eta, 0) + log1p(e)`
    ///    and `p = sigmoid(eta)` (the values of [`crate::linalg::stats::log1pexp`] and
    ///    [`sigmoid`]): the loss, `w (p - y)`, `w p (1 - p)` and the intercept's gradient;
    /// 3. with `want.grad`, the sub-block's `X_b' r_b` (faer's matrix-vector product);
    /// 4. with `want.hessian`, the sub-block's `Z_b' Z_b` ([`GramAcc`], the kernel of [`gram`];
    ///    with `want.sample` only for the chunk's first sub-block).
    ///
    /// So a line-search point, its gradient and its Hessian cost one read of the data. Each
    /// chunk sums its rows and sub-blocks in order; the chunks' sums are added in chunk order,
    /// so nothing depends on the thread count, and the Gram matrix is bit for bit [`gram`]'s
    /// of the same weights.
    fn sweep(&self, base: &[f64], t: f64, dir: Option<&[f64]>, want: Want, step: &mut [f64], out: &mut Point) {
        use rayon::prelude::*;
        let d = &self.data;
        let (nf, chunk) = (d.n_features(), self.chunk);
        let m = self.n_params();
        let extras = self.extras();
        let zeros = vec![0.0; nf];
        let dir = dir.map(|dir| {
            let (coef, icpt) = dir.split_at(nf);
            (MatRef::from_column_major_slice(coef, nf, 1), icpt.first().copied().unwrap_or(0.0))
        });
        let parts: Vec<Part> = out
            .eta
            .par_chunks_mut(chunk)
            .zip(out.resid.par_chunks_mut(chunk))
            .zip(out.hess_w.par_chunks_mut(chunk))
            .zip(step.par_chunks_mut(chunk))
            .enumerate()
            .map(|(c, (((eta, resid), hess_w), step))| {
                let (start, len) = (c * chunk, eta.len());
                let xc = d.x.subrows(start, len);
                // any layout but column-major is copied to it block by block, so that every
                // layout gives the same bits
                let mut copy = (xc.row_stride() != 1).then(|| Mat::<f64>::zeros(GRAM_SUB_BLOCK.min(len), nf));
                let mut gram: Option<GramAcc> = None;
                let mut xt_resid = if want.grad { vec![0.0; nf] } else { Vec::new() };
                let (mut loss, mut resid_sum) = (0.0, 0.0);
                let mut hess_w_sums = (0.0, 0.0);
                let mut r0 = 0;
                while r0 < len {
                    let b = GRAM_SUB_BLOCK.min(len - r0);
                    let xb = match copy.as_mut() {
                        None => xc.subrows(r0, b),
                        Some(buf) => {
                            buf.as_mut().subrows_mut(0, b).copy_from(xc.subrows(r0, b));
                            buf.as_ref().subrows(0, b)
                        }
                    };
                    if let Some((coef, icpt)) = dir {
                        let s = &mut step[r0..r0 + b];
                        s.fill(icpt);
                        matmul(MatMut::from_column_major_slice_mut(s, b, 1), Accum::Add, xb, coef, 1.0, Par::Seq);
                    }
                    for k in r0..r0 + b {
                        let i = start + k;
                        let z = base[i] + t * step[k];
                        let e = (-z.abs()).exp();
                        let softplus = if z > 0.0 { z + e.ln_1p() } else { e.ln_1p() };
                        let p = if z >= 0.0 { 1.0 / (1.0 + e) } else { e / (1.0 + e) };
                        let (w, y) = (d.weight(i), d.y[i]);
                        loss += w * (softplus - y * z);
                        eta[k] = z;
                        resid[k] = w * (p - y);
                        hess_w[k] = w * p * (1.0 - p);
                        resid_sum += resid[k];
                    }
                    if want.grad {
                        let r = MatRef::from_column_major_slice(&resid[r0..r0 + b], b, 1);
                        let g = MatMut::from_column_major_slice_mut(&mut xt_resid, nf, 1);
                        matmul(g, Accum::Add, xb.transpose(), r, 1.0, Par::Seq);
                    }
                    let in_gram = !want.sample || r0 == 0;
                    if want.hessian && in_gram {
                        let g = gram.get_or_insert_with(|| GramAcc::new(xb, m, len));
                        g.add_block(xb, &zeros, Some(&hess_w[r0..r0 + b]), extras, 0, b);
                    }
                    if want.sample {
                        let sum: f64 = hess_w[r0..r0 + b].iter().sum();
                        hess_w_sums.0 += sum;
                        if in_gram {
                            hess_w_sums.1 += sum;
                        }
                    }
                    r0 += b;
                }
                Part { loss, resid_sum, xt_resid, gram: gram.map(|g| g.sum), hess_w_sums }
            })
            .collect();
        out.loss = parts.iter().map(|p| p.loss).sum();
        out.resid_sum = parts.iter().map(|p| p.resid_sum).sum();
        out.xt_resid.clear();
        if want.grad {
            out.xt_resid.resize(nf, 0.0);
            for p in &parts {
                for (a, v) in out.xt_resid.iter_mut().zip(&p.xt_resid) {
                    *a += v;
                }
            }
        }
        out.hessian = None;
        out.sampled = want.hessian && want.sample;
        if want.hessian {
            let (total, in_gram) = parts.iter().fold((0.0, 0.0), |a, p| (a.0 + p.hess_w_sums.0, a.1 + p.hess_w_sums.1));
            let grams: Vec<Mat<f64>> = parts.into_iter().filter_map(|p| p.gram).collect();
            let mut h = reduce_partials(&grams, m);
            if out.sampled && in_gram > 0.0 && total.is_finite() {
                h *= faer::Scale(total / in_gram);
            }
            out.hessian = Some(self.penalised(h));
        }
    }

    /// The Hessian at a point from its IRLS weights, in a pass of its own (the same bits as a
    /// sweep's).
    fn hessian(&self, hess_w: &[f64]) -> Mat<f64> {
        let zeros = vec![0.0; self.data.n_features()];
        self.penalised(gram(self.data.x, &zeros, Some(hess_w), self.extras()))
    }

    /// Adds the penalty's `1/C` to the features' diagonal entries of a weighted Gram matrix.
    fn penalised(&self, mut h: Mat<f64>) -> Mat<f64> {
        for j in 0..self.data.n_features() {
            h[(j, j)] += self.inv_c;
        }
        h
    }

    /// The gradient at a point whose sweep computed `X' resid`.
    fn gradient(&self, at: &Point, theta: &[f64]) -> Vec<f64> {
        let mut g: Vec<f64> = at.xt_resid.iter().zip(theta).map(|(a, b)| a + self.inv_c * b).collect();
        if self.fit_intercept {
            g.push(at.resid_sum);
        }
        g
    }

    /// The direction `-H^-1 g`, damped when the Hessian is numerically singular.
    fn direction(h: &Mat<f64>, g: &[f64]) -> Vec<f64> {
        let m = h.nrows();
        let scale = (0..m).fold(0.0f64, |a, k| a.max(h[(k, k)].abs())).max(f64::MIN_POSITIVE);
        let rhs = Mat::from_fn(m, 1, |i, _| -g[i]);
        let mut damping = 0.0;
        for _ in 0..12 {
            let mut hd = h.clone();
            for k in 0..m {
                hd[(k, k)] += damping;
            }
            if let Ok(llt) = hd.llt(Side::Lower) {
                let x = llt.solve(&rhs);
                let dir: Vec<f64> = (0..m).map(|i| x[(i, 0)]).collect();
                if dir.iter().all(|v| v.is_finite()) {
                    return dir;
                }
            }
            damping = if damping == 0.0 { scale * 1e-12 } else { damping * 100.0 };
        }
        // Steepest descent, scaled by the Hessian's largest diagonal entry.
        g.iter().map(|v| -v / scale).collect()
    }
}

/// The Hessian a Newton step uses and what the last steps say about the next one's progress
/// (see the module docs, "Hessian reuse").
#[derive(Default)]
struct HessianPlan {
    /// The Hessian in use.
    h: Option<Mat<f64>>,
    /// Whether it was computed at the current point.
    fresh: bool,
    /// Whether it comes from a sample of the rows.
    sampled: bool,
    /// The gradient norm where the previous step started.
    g_prev: Option<f64>,
    /// How the previous step was taken.
    prev: Prev,
    /// `g_k / g_{k-1}` when the previous step was a full Newton step with a fresh Hessian.
    newton_ratio: Option<f64>,
    /// The last observed reduction of the gradient norm by a full step with the Hessian in
    /// use: the estimate of what a further step with it achieves.
    chord_ratio: Option<f64>,
}

/// The kind of the previous step, for [`HessianPlan`].
#[derive(Clone, Copy, Default)]
enum Prev {
    /// None yet.
    #[default]
    None,
    /// Accepted at `t = 1` with a Hessian computed where it started.
    FreshFull,
    /// Accepted at `t = 1` with a Hessian from an earlier point.
    ReusedFull,
    /// Shortened by the line search.
    Damped,
}

/// The first Hessian is built from a sample of the rows only when the sample has at least this
/// many rows per parameter (so its relative error is a few percent).
const SAMPLE_ROWS_PER_PARAM: usize = 100;

/// The predictions of [`HessianPlan`] count as convergence only this far below `tol`, so that a
/// fit does not stop just under it where a fresh Hessian would have gone far below.
const PREDICTION_MARGIN: f64 = 0.1;

/// A reused Hessian is kept while the steps taken with it shrink the gradient norm at least this
/// much; otherwise the next step computes a fresh one.
const REUSE_MAX_RATIO: f64 = 0.25;

impl Classifier for LogisticParams {
    type Model = LogisticModel;

    fn fit(&self, data: TrainSet<'_>, _seed: Seed) -> Result<LogisticModel> {
        self.validate()?;
        super::check_train_set(&data)?;
        check::binary_target(&data)?;
        let n = data.n_samples();
        let nf = data.n_features();
        let hessian = crate::budget::product(&[nf.saturating_add(1), nf.saturating_add(1), 8]);
        crate::budget::check(format_args!("{nf} features"), "the logistic Hessian, (d + 1)^2 entries", hessian)?;
        let sum_w: f64 = data.weights.map_or(n as f64, |w| w.iter().sum());
        let m = nf + usize::from(self.fit_intercept);
        let nt = Newton { data, inv_c: 1.0 / self.c, fit_intercept: self.fit_intercept, chunk: gram_chunk_rows(n, m) };
        let mut theta = vec![0.0; m];
        let (mut cur, mut trial) = (Point::zeros(n), Point::zeros(n));
        let mut step = vec![0.0; n];
        if self.fit_intercept {
            let p1 = crate::linalg::stats::mean(data.y, data.weights);
            theta[nf] = (p1 / (1.0 - p1)).ln();
            trial.eta.fill(theta[nf]);
        }
        let scale = gradient_scales(&data, self.fit_intercept)?;
        let grad_norm = |g: &[f64]| g.iter().zip(&scale).fold(0.0f64, |a, (v, s)| a.max(v.abs() / s)) / sum_w;
        // the first Hessian from a sample of the rows when there are enough (see the module docs)
        let n_chunks = n.div_ceil(nt.chunk);
        let sample = n_chunks >= 2 && n_chunks * GRAM_SUB_BLOCK.min(nt.chunk) >= SAMPLE_ROWS_PER_PARAM * m;
        nt.sweep(&trial.eta, 0.0, None, Want { grad: true, hessian: true, sample }, &mut step, &mut cur);
        let mut f = cur.loss + nt.penalty(&theta);
        let mut info = LogisticFitInfo { n_iter: 0, grad_norm: f64::INFINITY, converged: false, objective: f };
        let mut plan = HessianPlan::default();
        let mut stalled = false;
        loop {
            let g = nt.gradient(&cur, &theta);
            info.grad_norm = grad_norm(&g);
            info.objective = f;
            if info.grad_norm <= self.tol {
                info.converged = true;
                break;
            }
            if stalled || info.n_iter >= self.max_iter {
                // no representable progress left, or no iterations: report where we stand
                break;
            }
            info.n_iter += 1;
            let want_next = plan.choose(&nt, &mut cur, info.grad_norm, self.tol);
            let last = info.n_iter >= self.max_iter;
            let want = Want { grad: true, hessian: want_next && !last, sample: false };
            let Some(h) = plan.h.as_ref() else { break };
            let dir = Newton::direction(h, &g);
            let slope: f64 = g.iter().zip(&dir).map(|(a, b)| a * b).sum();
            let mut t = 1.0;
            let mut accepted = None;
            for attempt in 0..60 {
                let trial_theta: Vec<f64> = theta.iter().zip(&dir).map(|(a, b)| a + t * b).collect();
                // the full step computes the next gradient (and Hessian) on the way; a
                // shortened one evaluates the loss only, until one is accepted
                if attempt == 0 {
                    nt.sweep(&cur.eta, t, Some(&dir), want, &mut step, &mut trial);
                } else {
                    nt.sweep(
                        &cur.eta,
                        t,
                        None,
                        Want { grad: false, hessian: false, sample: false },
                        &mut step,
                        &mut trial,
                    );
                }
                let ft = trial.loss + nt.penalty(&trial_theta);
                if ft.is_finite() && ft <= f + 1e-4 * t * slope.min(0.0) {
                    accepted = Some((trial_theta, ft));
                    break;
                }
                t *= 0.5;
            }
            let Some((trial_theta, ft)) = accepted else { break };
            if t < 1.0 {
                // a damped step: outside Newton's quadratic regime, so a fresh Hessian
                nt.sweep(&cur.eta, t, None, Want { grad: true, hessian: !last, sample: false }, &mut step, &mut trial);
            }
            plan.stepped(info.grad_norm, t == 1.0);
            std::mem::swap(&mut cur, &mut trial);
            theta = trial_theta;
            stalled = f - ft <= f64::EPSILON * f.abs();
            f = ft;
        }
        if let Some(j) = theta.iter().position(|v| !v.is_finite()) {
            return Err(Error::NotConverged {
                what: format!("logistic regression (coefficient {j} is not finite)"),
                iterations: info.n_iter,
                residual: info.grad_norm,
            });
        }
        let intercept = if self.fit_intercept { theta[nf] } else { 0.0 };
        theta.truncate(nf);
        Ok(LogisticModel { coef: theta, intercept, info })
    }
}

impl HessianPlan {
    /// Picks the Hessian for the step from the current point (gradient norm `g`): the one its
    /// sweep computed, else the one in use while the steps taken with it shrink the gradient
    /// fast, else a fresh one from a pass of its own. Returns whether the next point's sweep
    /// should compute its Hessian: not when the model predicts convergence there, or after one
    /// more step with the Hessian chosen here.
    fn choose(&mut self, nt: &Newton<'_>, cur: &mut Point, g: f64, tol: f64) -> bool {
        let ratio = self.g_prev.map(|p| g / p);
        (self.newton_ratio, self.chord_ratio) = match self.prev {
            Prev::FreshFull => (ratio, ratio),
            Prev::ReusedFull => (None, ratio),
            Prev::None | Prev::Damped => (None, None),
        };
        self.sampled = cur.sampled && cur.hessian.is_some();
        self.fresh = match cur.hessian.take() {
            Some(h) => {
                self.h = Some(h);
                true
            }
            None if self.h.is_some() && self.chord_ratio.is_some_and(|r| r <= REUSE_MAX_RATIO) => false,
            None => {
                self.h = Some(nt.hessian(&cur.hess_w));
                self.newton_ratio = None;
                true
            }
        };
        // the predicted reduction of this step, and of a further step with the same Hessian
        let s = if self.fresh { self.newton_ratio.map_or(1.0, |r| r * r) } else { self.chord_ratio.unwrap_or(1.0) };
        let (next, target) = (g * s, PREDICTION_MARGIN * tol);
        !(next <= target || next * s <= target)
    }

    /// Records the step just taken from a point of gradient norm `g` (`full`: accepted at
    /// `t = 1`).
    fn stepped(&mut self, g: f64, full: bool) {
        self.g_prev = Some(g);
        self.prev = match (full && !self.sampled, self.fresh) {
            (false, _) => Prev::Damped,
            (true, true) => Prev::FreshFull,
            (true, false) => Prev::ReusedFull,
        };
    }
}

/// Per-parameter units of the convergence test: each feature's weighted root mean square (1 for
/// an all-zero column), then 1 for the intercept when there is one.
///
/// # Errors
/// [`Error::FeatureScale`] for a column whose weighted sum of squares overflows.
fn gradient_scales(data: &TrainSet<'_>, fit_intercept: bool) -> Result<Vec<f64>> {
    let n = data.n_samples();
    let sum_w: f64 = data.weights.map_or(n as f64, |w| w.iter().sum());
    let mut scale = Vec::with_capacity(data.n_features() + 1);
    for ss in column_sq_sums(data.x, data.weights) {
        if !ss.is_finite() {
            // the Hessian's diagonal would overflow too: name the column rather than fail later
            check::feature_scale("logistic", data.x, None, data.weights)?;
        }
        let rms = (ss / sum_w).sqrt();
        scale.push(if rms > 0.0 && rms.is_finite() { rms } else { 1.0 });
    }
    if fit_intercept {
        scale.push(1.0);
    }
    Ok(scale)
}

impl PredictProba for LogisticModel {
    fn n_features(&self) -> usize {
        self.coef.len()
    }

    fn predict_proba_into(&self, x: MatRef<'_, f64>, out: &mut [f64]) -> Result<()> {
        check::predict_shape(x, self.coef.len(), out)?;
        linear_predict_into(x, &self.coef, self.intercept, out);
        crate::par::for_each_row_block(out, |_, block| block.iter_mut().for_each(|o| *o = sigmoid(*o)));
        Ok(())
    }
}

impl LogisticModel {
    /// P(y = 1) for one query given as a slice; does not allocate.
    ///
    /// # Errors
    /// [`Error::Shape`] when the slice has the wrong length.
    pub fn predict_proba_row(&self, row: &[f64]) -> Result<f64> {
        Ok(sigmoid(linear_predict_row(row, &self.coef, self.intercept)?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    fn data(n: usize, seed: u64) -> (Mat<f64>, Vec<f64>) {
        let mut rng = Seed(seed).rng();
        let x = Mat::from_fn(n, 3, |_, _| rng.random::<f64>() * 2.0 - 1.0);
        let y = (0..n)
            .map(|i| {
                let p = sigmoid(0.5 + 2.0 * x[(i, 0)] - x[(i, 1)]);
                f64::from(rng.random::<f64>() < p)
            })
            .collect();
        (x, y)
    }

    #[test]
    fn gradient_vanishes_at_the_optimum() {
        let (x, y) = data(300, 1);
        let p = LogisticParams { c: 0.5, ..Default::default() };
        let m = p.fit(TrainSet::new(x.as_ref(), &y), Seed(0)).unwrap();
        assert!(m.info.converged && m.info.n_iter < 15, "{:?}", m.info);
        m.ensure_converged().unwrap();
        let pr = m.predict_proba(x.as_ref()).unwrap();
        let r: Vec<f64> = (0..300).map(|i| pr[i] - y[i]).collect();
        assert!(r.iter().sum::<f64>().abs() < 1e-8 * 300.0);
        for j in 0..3 {
            let g: f64 = (0..300).map(|i| x[(i, j)] * r[i]).sum::<f64>() + m.coef[j] / 0.5;
            assert!(g.abs() < 1e-8 * 300.0, "{g}");
        }
        let row = [x[(7, 0)], x[(7, 1)], x[(7, 2)]];
        assert!((m.predict_proba_row(&row).unwrap() - pr[7]).abs() < 1e-15);
    }

    /// The fit lands on the optimum of a tightly converged reference: plain Newton written out
    /// here with naive sums and a dense solve, iterated to machine precision, on a fixed
    /// weighted data set (with and without intercept).
    #[test]
    fn matches_a_tightly_converged_reference() {
        // 2,000 rows: one chunk, plain Newton; 20,000: five chunks, so the first Hessian comes
        // from a sample of the rows and later steps may reuse one (see the module docs)
        for (n, seed) in [(2000, 7), (20_000, 9)] {
            let (x, y) = data(n, seed);
            let w: Vec<f64> = (0..n).map(|i| 0.5 + (i % 3) as f64).collect();
            // the default tolerance, 1e-8 on the scaled gradient of the mean objective, puts the
            // coefficients within about 1e-7 of the optimum here (the Hessian's smallest eigenvalue
            // of the mean objective is about 0.1)
            for (c, fit_intercept, tol, close) in [(1.0, true, 1e-8, 1e-6), (0.2, false, 1e-8, 1e-6)] {
                let m = LogisticParams { c, fit_intercept, tol, ..Default::default() }
                    .fit(TrainSet::weighted(x.as_ref(), &y, &w), Seed(0))
                    .unwrap();
                assert!(m.info.converged && m.info.n_iter <= 8, "{n} rows: {:?}", m.info);
                let k = 3 + usize::from(fit_intercept);
                let feat = |i: usize, j: usize| if j < 3 { x[(i, j)] } else { 1.0 };
                let mut theta = vec![0.0; k];
                for _ in 0..40 {
                    let mut g = vec![0.0; k];
                    let mut h = Mat::<f64>::zeros(k, k);
                    for i in 0..n {
                        let eta: f64 = (0..k).map(|j| theta[j] * feat(i, j)).sum();
                        let p = 1.0 / (1.0 + (-eta).exp());
                        for a in 0..k {
                            g[a] += w[i] * (p - y[i]) * feat(i, a);
                            for b in 0..k {
                                h[(a, b)] += w[i] * p * (1.0 - p) * feat(i, a) * feat(i, b);
                            }
                        }
                    }
                    for j in 0..3 {
                        g[j] += theta[j] / c;
                        h[(j, j)] += 1.0 / c;
                    }
                    let rhs = Mat::from_fn(k, 1, |i, _| g[i]);
                    let delta = h.llt(Side::Lower).unwrap().solve(rhs);
                    for j in 0..k {
                        theta[j] -= delta[(j, 0)];
                    }
                }
                for (j, (&got, &want)) in m.coef.iter().zip(&theta).enumerate() {
                    assert!((got - want).abs() < close * (1.0 + want.abs()), "tol {tol}, {j}: {got} vs {want}");
                }
                let b = if fit_intercept { theta[3] } else { 0.0 };
                assert!((m.intercept - b).abs() < close * (1.0 + b.abs()), "tol {tol}: {} vs {b}", m.intercept);
            }
        }
    }

    #[test]
    fn separable_data_stays_finite() {
        let x = Mat::from_fn(40, 2, |i, j| if j == 0 { i as f64 - 19.5 } else { (i % 3) as f64 });
        let y: Vec<f64> = (0..40).map(|i| f64::from(i >= 20)).collect();
        let mut last_norm = 0.0;
        for c in [1.0, 1e4, 1e12] {
            let m = LogisticParams { c, ..Default::default() }.fit(TrainSet::new(x.as_ref(), &y), Seed(0)).unwrap();
            // the penalty bounds the optimum; the norm grows with C, like log(C), not without limit
            let norm = m.coef.iter().map(|v| v * v).sum::<f64>().sqrt();
            assert!(m.info.converged && norm.is_finite() && m.intercept.is_finite(), "C={c}: {:?}", m.info);
            assert!(norm > last_norm && norm < 100.0, "C={c}: |beta| = {norm}");
            last_norm = norm;
            let p = m.predict_proba(x.as_ref()).unwrap();
            assert!(p[..20].iter().all(|&v| v < 0.5) && p[20..].iter().all(|&v| v > 0.5), "C={c}");
        }
        // too few iterations for a nearly unpenalised separable problem: diagnosed, finite
        let m = LogisticParams { c: 1e12, max_iter: 3, ..Default::default() }
            .fit(TrainSet::new(x.as_ref(), &y), Seed(0))
            .unwrap();
        assert!(!m.info.converged && m.info.n_iter == 3 && m.coef.iter().all(|v| v.is_finite()));
        assert!(matches!(m.ensure_converged(), Err(Error::NotConverged { iterations: 3, .. })));
    }

    #[test]
    fn bad_params_and_targets() {
        let (x, y) = data(20, 2);
        let t = TrainSet::new(x.as_ref(), &y);
        for (k, v) in [("C", "0"), ("tol", "-1"), ("max_iter", "0")] {
            let mut p = LogisticParams::default();
            p.set_param(k, v).unwrap();
            assert!(matches!(p.fit(t, Seed(0)), Err(Error::InvalidParam { .. })), "{k}={v}");
        }
        assert!(matches!(LogisticParams::default().set_param("penalty", "l1"), Err(Error::InvalidParam { .. })));
        let one = vec![1.0; 20];
        let r = LogisticParams::default().fit(TrainSet::new(x.as_ref(), &one), Seed(0));
        assert!(matches!(r, Err(Error::InvalidData { .. })));
    }
}
