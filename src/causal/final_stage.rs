//! The final stage of the meta-learners: which regression turns pseudo-outcomes into
//! `Delta_hat(x)`.
//!
//! With ~100 gold rows a deep final stage overfits the pseudo-outcomes (whose gold-row
//! corrections are ~1/e times their residuals); off-the-shelf DR-learners with the paper's
//! forests rank no better than random. So by default ([`FinalStage::Auto`]) the final learner is
//! chosen by K-fold cross-validated loss among a small, strongly regularised set:
//!
//! * `constant`: the global shift (the weighted mean pseudo-outcome);
//! * `ridge` with `alpha` in {10, 100, 1000};
//! * a shallow forest (`rf`: 20 trees, 30% of the features per split, `max_depth = 3`, leaves
//!   of at least 50 rows and 10% of the weight) and a small boosting model (`hgb`: 4-leaf
//!   trees, 100 iterations, learning rate 0.05, leaves of at least 200 rows, L2 10)
//!   ([`auto_candidates`]). Both are kept small because the selection refits every candidate K
//!   times per router: on the study's shape (4,500 rows x 50) the candidate set costs ~0.2 s
//!   per meta-router with ridge nuisances.
//!
//! The loss is the learner's own: for the R-learner `sum_i w_i (t_i - e_i)^2 (pseudo_i -
//! tau(x_i))^2 / sum_i w_i (t_i - e_i)^2` (the R-loss), for the DR-learner `sum_i w_i (phi_i -
//! tau(x_i))^2 / sum_i w_i` (the DR-loss): in both cases the weighted squared error of the
//! final regression itself, evaluated out of fold. Under [`Selection::Argmin`] the lowest mean
//! loss wins (ties: the first, i.e. the simpler, candidate); the winner is refitted on all rows
//! with `seed.child(FINAL)`. The default, [`Selection::Calibrate`], takes the same winner and
//! shrinks it towards the constant by its out-of-fold calibration slope (below): over the
//! scenario suite at 50 paired rounds it is the one rule that keeps `meta_dr` within noise of
//! the best baseline everywhere (STATISTICS.md). [`FinalStage::Fixed`] skips the selection.
//!
//! # The one-standard-error rule ([`Selection::OneSe`])
//! Six CV losses from ~100 gold rows are noisy, and the argmin over them often picks a
//! candidate that is better than the constant by less than its own noise. The 1-SE rule orders
//! the candidates by complexity ([`COMPLEXITY_ORDER`]: constant, ridge 1000, 100, 10, rf, hgb)
//! and picks the simplest whose loss exceeds the best loss by at most one paired standard
//! error. With per-row losses `l_ci = w_i (y_i - p_ci)^2` (`p_ci` out of fold) and `W = sum w`,
//! the loss difference to the best candidate `b` is `D_c = sum_i d_i / W`, `d_i = l_ci - l_bi`,
//! with standard error
//! ```text
//! se(D_c) = sqrt( n / (n - 1) sum_i (d_i - mean d)^2 ) / W ,
//! ```
//! the rows' own scatter (every candidate sees the same rows, so the difference is paired and
//! its SE much smaller than either loss's). When the constant is picked although another
//! candidate had the lowest loss, or is the argmin, `Delta_hat` is a global shift: the
//! `mean_shift` router's bias model, which the router reports as a fall-back.
//!
//! # A paired test against the constant ([`Selection::Test`])
//! The argmin, kept only when it beats the constant (candidate 0) by more than [`TEST_Z`]
//! paired standard errors: with `D = sum_i (l_0i - l_bi) / W` and `se(D)` as above, the argmin
//! `b` is used when `D > z se(D)` (a one-sided test at level 5% for `z = 1.645`), otherwise the
//! constant. Unlike the 1-SE rule it never trades the argmin for a simpler non-constant
//! candidate: the only question asked is whether `Delta_hat` is better than a global shift.
//!
//! # Non-negative stacking ([`Selection::Stack`])
//! Instead of one candidate, a non-negative combination of all of them,
//! `Delta_hat(x) = sum_c beta_c f_c(x)`, with the weights minimising the learner's own weighted
//! loss of the candidates' out-of-fold predictions `p_ci` (the R-loss weights for the
//! R-learner, the DR weights for the DR-learner):
//! ```text
//! beta = argmin_{beta >= 0} sum_i w_i (y_i - sum_c beta_c p_ci)^2
//!      = argmin_{beta >= 0} 1/2 beta' G beta - b' beta,   G = P' W P / W,  b = P' W y / W,
//! ```
//! solved by Lawson-Hanson's active-set method on the `k x k` normal equations ([`nnls`]; `k`
//! = 6). The KKT conditions characterise the solution: `beta >= 0`, the gradient
//! `g = G beta - b >= 0`, and `beta_c g_c = 0`. The passive-set systems carry a ridge of
//! `1e-12 max_c G_cc` on the diagonal, so they stay solvable when candidates are collinear (the
//! three ridges' predictions nearly are). No sum-to-one constraint and no free intercept: the
//! constant candidate plays the intercept, so a stack can shrink to the mean shift. Each
//! candidate with `beta_c > 0` is refitted on all rows with `seed.child(FINAL)` (the refit the
//! argmin would make) and the prediction is the weighted sum ([`crate::learn::stack`]). When
//! only the constant keeps a positive weight (or, degenerate, none does) the final stage is
//! the constant itself, refitted with weight 1 (`beta_0` is then `sum w y p_0 / sum w p_0^2`,
//! 1 up to the scatter of the fold means): the fall-back, reported as for the other rules.
//!
//! # Calibration-slope shrinkage ([`Selection::Calibrate`], the default)
//! The best linear predictor of Chernozhukov, Demirer, Duflo & Fernandez-Val (*Generic machine
//! learning inference on heterogeneous treatment effects*, 2018/2023) applied to the argmin
//! `b`: regress the pseudo-outcomes on `(1, p_i - pbar)` by the CV loss's own weighted least
//! squares, `p_i = p_bi` the argmin's out-of-fold prediction and `pbar = sum_i w_i p_i / W`:
//! ```text
//! a     = sum_i w_i y_i / W                                   (the weighted mean: the regressor is centred)
//! kappa = sum_i w_i (p_i - pbar)(y_i - a) / sum_i w_i (p_i - pbar)^2
//! ```
//! `kappa` estimates `Cov(Delta, p) / Var(p)`: 1 when the candidate's heterogeneity is real and
//! calibrated, 0 when it is noise (and below 1 when it is real but overfitted). The served
//! stage shrinks the refitted argmin `f_b` (refitted on all rows as for [`Selection::Argmin`])
//! continuously towards the constant:
//! ```text
//! Delta_hat(x) = a + k (f_b(x) - fbar),   k = clamp(kappa, 0, 1),   fbar = sum_i w_i f_b(x_i) / W,
//! ```
//! stored as a two-member [`crate::learn::stack::StackModel`]: `k f_b + (a - k fbar)`. It is
//! centred on the served function's own weighted mean over the training rows, not on `pbar`: a
//! ridge refit's weighted mean is `a` (its intercept is unpenalised), so `k = 1` serves the
//! argmin's refit itself (it is served as such, bit for bit, when `kappa >= 1`), and `k < 1`
//! only shrinks. Centring on `pbar` instead
//! shifts every round by `a - pbar`, the scatter of the fold means, which the 10-round screen
//! found to move the AUC as much as the shrinkage (STATISTICS.md). When the
//! argmin is the constant, its out-of-fold predictions have (next to) no spread
//! (`sum w (p - pbar)^2 <= 1e-12 sum w p^2`) or `k = 0`, the stage is the constant itself (the
//! fall-back, reported as for the other rules). The label records both slopes, e.g.
//! `calibrate(kappa=0.412,0.412*ridge(alpha=100))` (raw, then served); [`FinalChoice`] has no
//! field of its own for it, so router files keep their format.

use faer::MatRef;
use serde::{Deserialize, Serialize};

use crate::causal::crossfit::per_fold;
use crate::causal::folds::Folds;
use crate::causal::learner::fit_rows;
use crate::error::Result;
use crate::learn::constant::{ConstantModel, ConstantParams};
use crate::learn::forest::{MaxFeatures, RandomForestRegressorParams};
use crate::learn::gbm::HgbParams;
use crate::learn::linear::RidgeParams;
use crate::learn::stack::{StackModel, StackParams};
use crate::learn::{Predict, RegressorModel, RegressorSpec, TrainSet};
use crate::linalg::select::select_rows;
use crate::par;
use crate::rng::{Seed, stream};

/// How the final-stage learner is chosen.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub enum FinalStage {
    /// Selected by cross-validated R-/DR-loss among regularised candidates (the default).
    #[default]
    Auto,
    /// This learner, always.
    Fixed(RegressorSpec),
}

/// How [`FinalStage::Auto`] picks among its candidates (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Selection {
    /// The lowest mean CV loss (ties: the earlier candidate).
    Argmin,
    /// The simplest candidate within one paired standard error of the lowest loss.
    OneSe,
    /// Non-negative least-squares stacking of every candidate's out-of-fold predictions.
    Stack,
    /// The lowest loss if it beats the constant by more than [`TEST_Z`] paired standard
    /// errors, else the constant.
    Test,
    /// The lowest loss shrunk towards the constant by its calibration slope, clamped to
    /// `[0, 1]` (see the module docs). The default.
    #[default]
    Calibrate,
}

/// The one-sided critical value of [`Selection::Test`]: 1.645, a 5% level.
pub const TEST_Z: f64 = 1.645;

/// The Auto candidates ([`auto_candidates`]) by complexity, simplest first: constant,
/// ridge(alpha=1000), ridge(alpha=100), ridge(alpha=10), rf, hgb.
pub const COMPLEXITY_ORDER: [usize; 6] = [0, 3, 2, 1, 4, 5];

/// One candidate's cross-validated loss.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CandidateLoss {
    /// The candidate, e.g. `ridge(alpha=100)`.
    pub name: String,
    /// Its mean out-of-fold loss.
    pub cv_loss: f64,
}

/// Which final stage was used and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FinalChoice {
    /// The learner used, e.g. `constant` or `ridge(alpha=100)`.
    pub chosen: String,
    /// Every candidate's loss (empty for a fixed final stage).
    pub candidates: Vec<CandidateLoss>,
}

/// The label's prefix of a [`Selection::Calibrate`] stage, `calibrate(kappa=RAW,K*NAME)`.
const CALIBRATE_LABEL: &str = "calibrate(kappa=";

/// The label of a [`Selection::Calibrate`] stage: the raw slope, the served one, the candidate.
fn calibrate_label(raw: f64, k: f64, candidate: &str) -> String {
    format!("{CALIBRATE_LABEL}{raw:.3},{k:.3}*{candidate})")
}

impl FinalChoice {
    /// `(raw kappa, served k)` of a [`Selection::Calibrate`] stage, read back from its label
    /// (`calibrate(kappa=RAW,K*NAME)`, 3 decimals); `None` for any other stage.
    pub fn calibration(&self) -> Option<(f64, f64)> {
        let rest = self.chosen.strip_prefix(CALIBRATE_LABEL)?;
        let (raw, rest) = rest.split_once(',')?;
        let (k, _) = rest.split_once('*')?;
        Some((raw.parse::<f64>().ok()?, k.parse::<f64>().ok()?))
    }

    /// [`Self::calibration`] of a stage that was shrunk (`0 < k < 1`); `None` for any other
    /// stage, and for a calibrated stage served unshrunk (`k = 1`).
    pub fn shrinkage(&self) -> Option<(f64, f64)> {
        self.calibration().filter(|&(_, k)| k < 1.0)
    }
}

/// One Auto candidate: the label shown in the diagnostics and the learner it names.
#[derive(Clone, Debug)]
pub struct Candidate {
    /// `name(param=value,...)` in the spec's parameter syntax, e.g. `ridge(alpha=100)`.
    pub label: &'static str,
    /// The learner.
    pub spec: RegressorSpec,
}

/// A ridge candidate with penalty `alpha`.
fn ridge(label: &'static str, alpha: f64) -> Candidate {
    Candidate { label, spec: RegressorSpec::Ridge(RidgeParams { alpha, ..Default::default() }) }
}

/// The Auto candidates, simplest first.
///
/// Leaf rules are also set on *weight* (`min_weight_fraction_leaf = 0.1`) because in the R-loss
/// preference rows weigh ~`e^2` and a leaf of many preference rows may hold a single gold row;
/// in the DR-loss a leaf of 10% of the rows holds ~10% of the gold rows, whose pseudo-outcomes
/// carry the signal.
pub fn auto_candidates() -> Vec<Candidate> {
    vec![
        Candidate { label: "constant", spec: RegressorSpec::Constant(ConstantParams {}) },
        ridge("ridge(alpha=10)", 10.0),
        ridge("ridge(alpha=100)", 100.0),
        ridge("ridge(alpha=1000)", 1000.0),
        Candidate {
            label: "rf(n_estimators=20,max_depth=3,min_samples_leaf=50,min_weight_fraction_leaf=0.1,max_features=0.3)",
            spec: RegressorSpec::RandomForest(RandomForestRegressorParams {
                n_estimators: 20,
                max_depth: Some(3),
                min_samples_leaf: 50,
                min_weight_fraction_leaf: 0.1,
                max_features: MaxFeatures::Fraction(0.3),
                ..Default::default()
            }),
        },
        Candidate {
            label: "hgb(max_iter=100,learning_rate=0.05,max_leaf_nodes=4,min_samples_leaf=200,l2_regularization=10)",
            spec: RegressorSpec::Hgb(HgbParams {
                max_iter: 100,
                learning_rate: 0.05,
                max_leaf_nodes: 4,
                min_samples_leaf: 200,
                l2_regularization: 10.0,
                ..Default::default()
            }),
        },
    ]
}

/// Weighted mean squared error.
fn weighted_mse(y: &[f64], p: &[f64], w: &[f64]) -> f64 {
    let (mut s, mut sw) = (0.0, 0.0);
    for i in 0..y.len() {
        s += w[i] * (y[i] - p[i]) * (y[i] - p[i]);
        sw += w[i];
    }
    s / sw
}

/// Weighted per-row squared errors `w_i (y_i - p_i)^2`.
fn row_losses(y: &[f64], p: &[f64], w: &[f64]) -> Vec<f64> {
    (0..y.len()).map(|i| w[i] * (y[i] - p[i]) * (y[i] - p[i])).collect()
}

/// The paired difference `sum_i (a_i - b_i) / wsum` and its standard error (module docs).
pub fn paired_loss_diff(a: &[f64], b: &[f64], wsum: f64) -> (f64, f64) {
    let n = a.len();
    if n < 2 {
        return (0.0, 0.0);
    }
    let dbar = (0..n).map(|i| a[i] - b[i]).sum::<f64>() / n as f64;
    let ss = (0..n).map(|i| (a[i] - b[i] - dbar) * (a[i] - b[i] - dbar)).sum::<f64>();
    (dbar * n as f64 / wsum, (ss * n as f64 / (n - 1) as f64).sqrt() / wsum)
}

/// The 1-SE pick among candidates with out-of-fold per-row losses `rows[c]` and mean losses
/// `losses[c]` (indices into [`auto_candidates`]; order by [`COMPLEXITY_ORDER`]).
pub fn one_se_pick(rows: &[Vec<f64>], losses: &[f64], wsum: f64) -> usize {
    let best = argmin(losses);
    for &c in COMPLEXITY_ORDER.iter().filter(|&&c| c < losses.len()) {
        let (d, se) = paired_loss_diff(&rows[c], &rows[best], wsum);
        if d <= se {
            return c;
        }
    }
    best
}

/// The index of the lowest loss (ties: the first).
fn argmin(losses: &[f64]) -> usize {
    let mut best = 0;
    for (c, l) in losses.iter().enumerate() {
        if *l < losses[best] {
            best = c;
        }
    }
    best
}

/// The [`Selection::Test`] pick: the argmin of `losses` when it beats candidate 0 (the
/// constant) by more than `z` paired standard errors of the per-row losses `rows`, else 0.
pub fn test_pick(rows: &[Vec<f64>], losses: &[f64], wsum: f64, z: f64) -> usize {
    let best = argmin(losses);
    if best == 0 {
        return 0;
    }
    let (d, se) = paired_loss_diff(&rows[0], &rows[best], wsum);
    if d > z * se { best } else { 0 }
}

/// Non-negative least squares in normal-equation form: `argmin_{x >= 0} 1/2 x' G x - b' x` for
/// a symmetric positive semi-definite `k x k` matrix `g` (row-major) by Lawson-Hanson's
/// active-set method (module docs). Small `k` only (dense `O(k^3)` solves per step).
pub fn nnls(g: &[f64], b: &[f64]) -> Vec<f64> {
    let k = b.len();
    let scale = (0..k).map(|c| g[c * k + c]).fold(0.0f64, f64::max);
    let ridge = 1e-12 * scale;
    let tol = 1e-13 * (scale + b.iter().fold(0.0f64, |m, v| m.max(v.abs())));
    let mut x = vec![0.0; k];
    let mut passive = vec![false; k];
    let mut s = vec![0.0; k];
    for _ in 0..3 * k.max(1) {
        // the negative gradient b - G x; the most violated KKT condition enters the passive set
        let mut enter = None;
        let mut best = tol;
        for j in (0..k).filter(|&j| !passive[j]) {
            let wj = b[j] - (0..k).map(|c| g[j * k + c] * x[c]).sum::<f64>();
            if wj > best {
                best = wj;
                enter = Some(j);
            }
        }
        let Some(j) = enter else { break };
        passive[j] = true;
        for _ in 0..3 * k {
            solve_passive(g, b, &passive, ridge, &mut s);
            if (0..k).filter(|&c| passive[c]).all(|c| s[c] > 0.0) {
                x.copy_from_slice(&s);
                break;
            }
            // step from x towards s until the first passive weight reaches 0, which leaves
            let mut alpha = 1.0f64;
            for c in (0..k).filter(|&c| passive[c] && s[c] <= 0.0) {
                alpha = alpha.min(x[c] / (x[c] - s[c]));
            }
            for c in 0..k {
                x[c] += alpha * (s[c] - x[c]);
                if passive[c] && x[c] <= 0.0 {
                    passive[c] = false;
                    x[c] = 0.0;
                }
            }
            if !passive.iter().any(|&p| p) {
                break;
            }
        }
    }
    x
}

/// Solves `(G_PP + ridge I) s_P = b_P` on the passive set `P` by Gaussian elimination with
/// partial pivoting; `s` is 0 outside `P`.
fn solve_passive(g: &[f64], b: &[f64], passive: &[bool], ridge: f64, s: &mut [f64]) {
    let k = b.len();
    let idx: Vec<usize> = (0..k).filter(|&c| passive[c]).collect();
    let m = idx.len();
    let mut a: Vec<f64> = Vec::with_capacity(m * (m + 1));
    for &r in &idx {
        a.extend(idx.iter().map(|&c| g[r * k + c] + if r == c { ridge } else { 0.0 }));
        a.push(b[r]);
    }
    let w = m + 1;
    for col in 0..m {
        let piv = (col..m).max_by(|&p, &q| a[p * w + col].abs().total_cmp(&a[q * w + col].abs())).unwrap_or(col);
        if piv != col {
            for j in 0..w {
                a.swap(col * w + j, piv * w + j);
            }
        }
        let d = a[col * w + col];
        if d == 0.0 {
            continue;
        }
        for r in col + 1..m {
            let f = a[r * w + col] / d;
            for j in col..w {
                a[r * w + j] -= f * a[col * w + j];
            }
        }
    }
    let mut sol = vec![0.0; m];
    for r in (0..m).rev() {
        let d = a[r * w + r];
        let rest = (r + 1..m).map(|j| a[r * w + j] * sol[j]).sum::<f64>();
        sol[r] = if d == 0.0 { 0.0 } else { (a[r * w + m] - rest) / d };
    }
    s.fill(0.0);
    for (i, &c) in idx.iter().enumerate() {
        s[c] = sol[i];
    }
}

/// The stacking weights of out-of-fold predictions `oofs[c]` for targets `y` and weights `w`
/// (module docs).
pub fn stack_weights(oofs: &[Vec<f64>], y: &[f64], w: &[f64]) -> Vec<f64> {
    let k = oofs.len();
    let wsum: f64 = w.iter().sum();
    let mut g = vec![0.0; k * k];
    let mut b = vec![0.0; k];
    for c in 0..k {
        b[c] = (0..y.len()).map(|i| w[i] * oofs[c][i] * y[i]).sum::<f64>() / wsum;
        for d in 0..=c {
            let v = (0..y.len()).map(|i| w[i] * oofs[c][i] * oofs[d][i]).sum::<f64>() / wsum;
            g[c * k + d] = v;
            g[d * k + c] = v;
        }
    }
    nnls(&g, &b)
}

/// The calibration of out-of-fold predictions `p` against targets `y` with weights `w`
/// (module docs): `(a, kappa, pbar)`, with `kappa = None` when `p` has no spread.
pub fn calibration_slope(p: &[f64], y: &[f64], w: &[f64]) -> (f64, Option<f64>, f64) {
    let n = y.len();
    let wsum: f64 = w.iter().sum();
    let pbar = (0..n).map(|i| w[i] * p[i]).sum::<f64>() / wsum;
    let a = (0..n).map(|i| w[i] * y[i]).sum::<f64>() / wsum;
    let sxx = (0..n).map(|i| w[i] * (p[i] - pbar) * (p[i] - pbar)).sum::<f64>();
    let spp = (0..n).map(|i| w[i] * p[i] * p[i]).sum::<f64>();
    if !(sxx > 1e-12 * spp && sxx > 0.0) {
        return (a, None, pbar);
    }
    let sxy = (0..n).map(|i| w[i] * (p[i] - pbar) * (y[i] - a)).sum::<f64>();
    (a, Some(sxy / sxx), pbar)
}

/// The final-stage learner and its label for stacking weights `beta` over `cands` (module
/// docs): the constant alone when no other candidate has a positive weight.
fn stack_spec(cands: &[Candidate], beta: &[f64]) -> (RegressorSpec, String) {
    let kept: Vec<usize> = (0..cands.len()).filter(|&c| beta[c] > 0.0).collect();
    if kept.iter().all(|&c| c == 0) {
        return (cands[0].spec.clone(), cands[0].label.to_string());
    }
    let members = kept.iter().map(|&c| (beta[c], cands[c].spec.clone())).collect();
    let terms: Vec<String> = kept.iter().map(|&c| format!("{:.3}*{}", beta[c], cands[c].label)).collect();
    (RegressorSpec::Stack(StackParams { members }), format!("stack({})", terms.join("+")))
}

/// Fits the final stage on `(x, pseudo, weights)`, selecting the learner by the lowest CV loss
/// when `Auto` ([`fit_final_with`] with [`Selection::Argmin`]).
///
/// # Errors
/// [`crate::Error::Shape`] for mismatched inputs; the learners' errors.
pub fn fit_final(
    stage: &FinalStage,
    data: TrainSet<'_>,
    folds: &Folds,
    seed: Seed,
) -> Result<(RegressorModel, FinalChoice)> {
    fit_final_with(stage, Selection::Argmin, data, folds, seed)
}

/// Fits the final stage on `(x, pseudo, weights)`, selecting the learner by `selection` when
/// `Auto`.
///
/// # Errors
/// [`crate::Error::Shape`] for mismatched inputs; the learners' errors.
pub fn fit_final_with(
    stage: &FinalStage,
    selection: Selection,
    data: TrainSet<'_>,
    folds: &Folds,
    seed: Seed,
) -> Result<(RegressorModel, FinalChoice)> {
    let n = data.n_samples();
    let w: Vec<f64> = (0..n).map(|i| data.weight(i)).collect();
    // Calibrate: the served stage is `a + k (f - fbar)` for these `(k, a)`
    let mut shrink: Option<(f64, f64)> = None;
    let (spec, choice) = match stage {
        FinalStage::Fixed(spec) => (spec.clone(), FinalChoice { chosen: spec.name().to_string(), candidates: vec![] }),
        FinalStage::Auto => {
            let cands = auto_candidates();
            let oofs =
                par::try_map_indexed(cands.len(), |c| cv_predictions(&cands[c].spec, data.x, data.y, &w, folds, seed))?;
            let losses: Vec<f64> = oofs.iter().map(|p| weighted_mse(data.y, p, &w)).collect();
            let rows = || -> Vec<Vec<f64>> { oofs.iter().map(|p| row_losses(data.y, p, &w)).collect() };
            let wsum = w.iter().sum::<f64>();
            let pick = |c: usize| (cands[c].spec.clone(), cands[c].label.to_string());
            let (spec, chosen) = match selection {
                Selection::Argmin => pick(argmin(&losses)),
                Selection::Calibrate => {
                    let b = argmin(&losses);
                    let (a, slope, _) = calibration_slope(&oofs[b], data.y, &w);
                    let kappa = if b == 0 { None } else { slope };
                    match kappa.map(|k| k.clamp(0.0, 1.0)) {
                        Some(k) if k > 0.0 => {
                            // k = 1 serves the argmin's refit itself, bit for bit
                            if k < 1.0 {
                                shrink = Some((k, a));
                            }
                            let raw = kappa.unwrap_or(k);
                            (cands[b].spec.clone(), calibrate_label(raw, k, cands[b].label))
                        }
                        _ => pick(0),
                    }
                }
                Selection::OneSe => pick(one_se_pick(&rows(), &losses, wsum)),
                Selection::Test => pick(test_pick(&rows(), &losses, wsum, TEST_Z)),
                Selection::Stack => stack_spec(&cands, &stack_weights(&oofs, data.y, &w)),
            };
            let candidates = cands
                .iter()
                .zip(&losses)
                .map(|(c, &cv_loss)| CandidateLoss { name: c.label.to_string(), cv_loss })
                .collect();
            (spec, FinalChoice { chosen, candidates })
        }
    };
    let model = spec.fit(TrainSet { x: data.x, y: data.y, weights: Some(&w) }, seed.child(stream::FINAL))?;
    let model = match shrink {
        None => model,
        Some((k, a)) => {
            let n_features = data.n_features();
            let fit = model.predict(data.x)?;
            let fbar = (0..n).map(|i| w[i] * fit[i]).sum::<f64>() / w.iter().sum::<f64>();
            let offset = a - k * fbar;
            let constant = RegressorModel::Constant(ConstantModel { value: offset, n_features });
            RegressorModel::Stack(StackModel { members: vec![(k, model), (1.0, constant)], n_features })
        }
    };
    Ok((model, choice))
}

fn cv_predictions(
    spec: &RegressorSpec,
    x: MatRef<'_, f64>,
    y: &[f64],
    w: &[f64],
    folds: &Folds,
    seed: Seed,
) -> Result<Vec<f64>> {
    let mut cols = per_fold(folds, 1, |k, train, test| {
        let model = fit_rows(spec, x, y, Some(w), train, seed.indexed(stream::VALIDATION, k as u64))?;
        Ok(vec![model.predict(select_rows(x, test).as_ref())?])
    })?;
    Ok(cols.swap_remove(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    #[test]
    fn every_typed_candidate_is_its_label() {
        // the label is the spec's own syntax: name(param=value,...), so label and learner cannot drift apart
        for c in auto_candidates() {
            let (name, params) = match c.label.split_once('(') {
                Some((n, rest)) => (n, rest.strip_suffix(')').unwrap().split(',').collect::<Vec<_>>()),
                None => (c.label, Vec::new()),
            };
            let mut named = RegressorSpec::from_name(name).unwrap();
            named.set_params(&params).unwrap();
            assert_eq!(format!("{:?}", c.spec), format!("{named:?}"), "{}", c.label);
            c.spec.validate().unwrap();
        }
    }

    #[test]
    fn auto_always_offers_the_constant_and_reports_losses() {
        let c = auto_candidates();
        assert_eq!(c[0].label, "constant");
        let n = 30;
        let x = Mat::from_fn(n, 1, |i, _| i as f64);
        let y: Vec<f64> = (0..n).map(|i| (i % 3) as f64).collect();
        let t: Vec<f64> = (0..n).map(|i| if i % 5 == 0 { 1.0 } else { 0.0 }).collect();
        let folds = crate::causal::folds::stratified(&t, 3, Seed(1), 0).unwrap();
        let (m, choice) = fit_final(&FinalStage::Auto, TrainSet::new(x.as_ref(), &y), &folds, Seed(2)).unwrap();
        assert_eq!(choice.candidates.len(), c.len());
        let best = choice.candidates.iter().map(|c| c.cv_loss).fold(f64::INFINITY, f64::min);
        assert_eq!(choice.candidates.iter().find(|c| c.name == choice.chosen).unwrap().cv_loss, best);
        assert!(m.predict_row(&[3.0]).unwrap().is_finite());
        let (_, fixed) = fit_final(
            &FinalStage::Fixed(RegressorSpec::from_name("constant").unwrap()),
            TrainSet::new(x.as_ref(), &y),
            &folds,
            Seed(2),
        )
        .unwrap();
        assert!(fixed.candidates.is_empty());
    }

    /// `n` rows of `d` standard-normal features and `y = signal * x_0 + N(0, 1)` noise, with a
    /// 10% "gold" stratum for the folds.
    fn noisy_rows(n: usize, d: usize, signal: f64, seed: u64) -> (Mat<f64>, Vec<f64>, Folds) {
        use rand::RngExt;
        use rand_distr::StandardNormal;
        let mut rng = Seed(seed).rng();
        let x = Mat::from_fn(n, d, |_, _| rng.sample::<f64, _>(StandardNormal));
        let y: Vec<f64> = (0..n).map(|i| signal * x[(i, 0)] + rng.sample::<f64, _>(StandardNormal)).collect();
        let t: Vec<f64> = (0..n).map(|i| if i % 10 == 0 { 1.0 } else { 0.0 }).collect();
        let folds = crate::causal::folds::stratified(&t, 5, Seed(seed + 1), 0).unwrap();
        (x, y, folds)
    }

    #[test]
    fn paired_loss_difference_and_its_se_by_hand() {
        // d = (1, 3, 2) - (0, 1, 1) = (1, 2, 1): mean 4/3, sum 4; sd^2 = ((1/3)^2 2 + (2/3)^2)/2 = 1/3
        let (d, se) = paired_loss_diff(&[1.0, 3.0, 2.0], &[0.0, 1.0, 1.0], 2.0);
        assert!((d - 2.0).abs() < 1e-15, "{d}");
        // se = sqrt(n/(n-1) sum (d_i - dbar)^2) / W = sqrt(3/2 * 2/3) / 2 = 0.5
        assert!((se - 0.5).abs() < 1e-15, "{se}");
        // picks: the argmin (index 1) is within noise of the constant (index 0): the constant
        let rows = vec![vec![1.0, 2.0, 1.5], vec![0.5, 2.5, 1.4]];
        let losses = [4.5 / 3.0, 4.4 / 3.0];
        assert_eq!(one_se_pick(&rows, &losses, 3.0), 0);
        // a consistent improvement on every row is not noise: the better candidate
        let rows = vec![vec![1.0, 2.0, 1.5], vec![0.5, 1.4, 1.0]];
        assert_eq!(one_se_pick(&rows, &[1.5, 0.9667], 3.0), 1);
    }

    #[test]
    fn one_se_rule_falls_back_to_the_constant_on_pure_noise() {
        // y is noise: every candidate's CV loss equals the constant's within noise. The 1-SE rule
        // keeps the constant on (nearly) every seed; the plain argmin is tempted away more often.
        let (mut one_se_constant, mut argmin_constant) = (0, 0);
        for seed in 0..8 {
            let (x, y, folds) = noisy_rows(400, 10, 0.0, 100 + seed);
            let data = TrainSet::new(x.as_ref(), &y);
            let (m, c) = fit_final_with(&FinalStage::Auto, Selection::OneSe, data, &folds, Seed(seed)).unwrap();
            if c.chosen == "constant" {
                one_se_constant += 1;
                let mean = y.iter().sum::<f64>() / y.len() as f64;
                assert!((m.predict_row(&[0.0; 10]).unwrap() - mean).abs() < 1e-12);
            }
            let (_, a) = fit_final_with(&FinalStage::Auto, Selection::Argmin, data, &folds, Seed(seed)).unwrap();
            argmin_constant += usize::from(a.chosen == "constant");
        }
        assert!(one_se_constant >= 7, "1-SE kept the constant on {one_se_constant} of 8 pure-noise sets");
        assert!(one_se_constant > argmin_constant, "1-SE {one_se_constant}, argmin {argmin_constant} of 8");
    }

    #[test]
    fn one_se_rule_keeps_a_real_signal() {
        // y = x_0 + noise: ridge beats the constant by far more than its SE
        let (x, y, folds) = noisy_rows(400, 10, 1.0, 7);
        let (_, c) =
            fit_final_with(&FinalStage::Auto, Selection::OneSe, TrainSet::new(x.as_ref(), &y), &folds, Seed(1))
                .unwrap();
        assert!(c.chosen.starts_with("ridge"), "{c:?}");
    }

    /// The objective `1/2 x' G x - b' x`.
    fn objective(g: &[f64], b: &[f64], x: &[f64]) -> f64 {
        let k = b.len();
        let quad: f64 = (0..k).map(|r| (0..k).map(|c| x[r] * g[r * k + c] * x[c]).sum::<f64>()).sum();
        0.5 * quad - (0..k).map(|c| b[c] * x[c]).sum::<f64>()
    }

    /// The exact NNLS optimum by enumeration: on every support set, the unconstrained optimum
    /// (least squares by the same elimination, without ridge); the best feasible one.
    fn brute_force(g: &[f64], b: &[f64]) -> Vec<f64> {
        let k = b.len();
        let mut best = vec![0.0; k];
        let mut s = vec![0.0; k];
        for mask in 1u32..(1 << k) {
            let set: Vec<bool> = (0..k).map(|c| mask >> c & 1 == 1).collect();
            solve_passive(g, b, &set, 0.0, &mut s);
            if s.iter().all(|v| *v >= 0.0 && v.is_finite()) && objective(g, b, &s) < objective(g, b, &best) {
                best.copy_from_slice(&s);
            }
        }
        best
    }

    /// `G = A'A / n` and `b = A'y / n` of an `n x k` design.
    fn normal_equations(a: &[f64], y: &[f64], k: usize) -> (Vec<f64>, Vec<f64>) {
        let n = y.len();
        let mut g = vec![0.0; k * k];
        let mut b = vec![0.0; k];
        for i in 0..n {
            for r in 0..k {
                b[r] += a[i * k + r] * y[i] / n as f64;
                for c in 0..k {
                    g[r * k + c] += a[i * k + r] * a[i * k + c] / n as f64;
                }
            }
        }
        (g, b)
    }

    proptest::proptest! {
        #[test]
        fn nnls_meets_kkt_and_matches_brute_force(
            k in 1usize..6,
            a in proptest::collection::vec(-2.0f64..2.0, 12 * 5),
            y in proptest::collection::vec(-2.0f64..2.0, 12),
        ) {
            let a: Vec<f64> = a[..12 * k].to_vec();
            let (g, b) = normal_equations(&a, &y, k);
            let x = nnls(&g, &b);
            let scale = 1.0 + g.iter().chain(&b).fold(0.0f64, |m, v| m.max(v.abs()));
            for c in 0..k {
                // KKT: x >= 0, gradient >= 0, complementary slackness
                let grad = (0..k).map(|d| g[c * k + d] * x[d]).sum::<f64>() - b[c];
                proptest::prop_assert!(x[c] >= 0.0);
                proptest::prop_assert!(grad >= -1e-8 * scale, "grad {c} = {grad}");
                proptest::prop_assert!((x[c] * grad).abs() <= 1e-8 * scale * (1.0 + x[c]), "x {x:?} grad {grad}");
            }
            let exact = brute_force(&g, &b);
            let (fx, fe) = (objective(&g, &b, &x), objective(&g, &b, &exact));
            proptest::prop_assert!(fx <= fe + 1e-9 * scale, "nnls {fx} vs brute force {fe}");
        }
    }

    #[test]
    fn nnls_closed_forms() {
        // diagonal G: x_c = max(b_c / G_cc, 0) (up to the 1e-12 relative ridge)
        let x = nnls(&[2.0, 0.0, 0.0, 0.0, 4.0, 0.0, 0.0, 0.0, 1.0], &[1.0, -3.0, 0.5]);
        assert!((x[0] - 0.5).abs() < 1e-10 && x[1] == 0.0 && (x[2] - 0.5).abs() < 1e-10, "{x:?}");
        // y = 2 a_0 exactly, a_1 = a_0 duplicated (collinear): the total weight is 2, none negative
        let a: Vec<f64> = (0..10).flat_map(|i| [i as f64, i as f64]).collect();
        let y: Vec<f64> = (0..10).map(|i| 2.0 * i as f64).collect();
        let (g, b) = normal_equations(&a, &y, 2);
        let x = nnls(&g, &b);
        assert!(x.iter().all(|v| *v >= 0.0) && (x[0] + x[1] - 2.0).abs() < 1e-6, "{x:?}");
        // nothing correlates positively: all zero
        assert_eq!(nnls(&[1.0, 0.5, 0.5, 1.0], &[-1.0, -0.2]), vec![0.0, 0.0]);
    }

    #[test]
    fn stacking_puts_the_weight_on_the_candidate_equal_to_the_truth() {
        use rand::RngExt;
        use rand_distr::StandardNormal;
        let n = 2000;
        let mut rng = Seed(5).rng();
        let truth: Vec<f64> = (0..n).map(|_| rng.sample::<f64, _>(StandardNormal)).collect();
        let y: Vec<f64> = truth.iter().map(|t| 0.3 + t + rng.sample::<f64, _>(StandardNormal)).collect();
        let w: Vec<f64> = (0..n).map(|i| if i % 10 == 0 { 9.0 } else { 1.0 }).collect();
        let mean = y.iter().sum::<f64>() / n as f64;
        let noise = |rng: &mut crate::rng::Rng| -> Vec<f64> {
            (0..n).map(|_| mean + 0.5 * rng.sample::<f64, _>(StandardNormal)).collect()
        };
        // candidates: the constant, two noise predictors, the truth shifted by the mean
        let oofs = vec![vec![mean; n], noise(&mut rng), truth.iter().map(|t| t + 0.3).collect(), noise(&mut rng)];
        let beta = stack_weights(&oofs, &y, &w);
        assert!((beta[2] - 1.0).abs() < 0.05, "{beta:?}");
        assert!(beta[0] + beta[1] + beta[3] < 0.1, "{beta:?}");
    }

    #[test]
    fn stack_and_test_fall_back_to_the_constant_on_pure_noise() {
        // y is noise (sd 1). The test keeps the constant on (nearly) every seed. The stack need
        // not zero every other weight (in-sample NNLS keeps whatever correlates by chance), but
        // it shrinks them: its Delta_hat stays within a fifth of the noise of the mean, and its
        // in-sample stacked loss is at most the constant's (the constant alone is feasible).
        let (mut test_constant, mut stack_constant) = (0, 0);
        for seed in 0..8 {
            let (x, y, folds) = noisy_rows(400, 10, 0.0, 100 + seed);
            let data = TrainSet::new(x.as_ref(), &y);
            let mean = y.iter().sum::<f64>() / y.len() as f64;
            let (m, c) = fit_final_with(&FinalStage::Auto, Selection::Test, data, &folds, Seed(seed)).unwrap();
            if c.chosen == "constant" {
                test_constant += 1;
                assert!((m.predict_row(&[0.0; 10]).unwrap() - mean).abs() < 1e-12);
            }
            let (m, c) = fit_final_with(&FinalStage::Auto, Selection::Stack, data, &folds, Seed(seed)).unwrap();
            stack_constant += usize::from(c.chosen == "constant");
            let p = m.predict(x.as_ref()).unwrap();
            let sd = (p.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / p.len() as f64).sqrt();
            assert!(sd < 0.2, "seed {seed}: {} deviates from the mean by sd {sd}", c.chosen);
            let w = vec![1.0; y.len()];
            let cands = auto_candidates();
            let oofs: Vec<Vec<f64>> = cands
                .iter()
                .map(|k| cv_predictions(&k.spec, x.as_ref(), &y, &w, &folds, Seed(seed)).unwrap())
                .collect();
            let beta = stack_weights(&oofs, &y, &w);
            let stacked: Vec<f64> =
                (0..y.len()).map(|i| (0..cands.len()).map(|k| beta[k] * oofs[k][i]).sum()).collect();
            assert!(weighted_mse(&y, &stacked, &w) <= weighted_mse(&y, &oofs[0], &w) + 1e-12, "seed {seed}");
        }
        assert!(test_constant >= 7, "the test kept the constant on {test_constant} of 8 pure-noise sets");
        assert!(stack_constant >= 3, "the stack kept the constant alone on {stack_constant} of 8 pure-noise sets");
    }

    #[test]
    fn stack_and_test_keep_a_real_signal() {
        // y = x_0 + noise: the test keeps the argmin, the stack weighs the ridges (the stacked
        // model is the weighted sum of the refitted candidates)
        let (x, y, folds) = noisy_rows(400, 10, 1.0, 7);
        let data = TrainSet::new(x.as_ref(), &y);
        let (_, c) = fit_final_with(&FinalStage::Auto, Selection::Test, data, &folds, Seed(1)).unwrap();
        let (_, a) = fit_final_with(&FinalStage::Auto, Selection::Argmin, data, &folds, Seed(1)).unwrap();
        assert_eq!(c.chosen, a.chosen);
        assert!(c.chosen.starts_with("ridge"), "{c:?}");
        let (m, s) = fit_final_with(&FinalStage::Auto, Selection::Stack, data, &folds, Seed(1)).unwrap();
        assert!(s.chosen.starts_with("stack(") && s.chosen.contains("ridge"), "{s:?}");
        let RegressorModel::Stack(stack) = &m else { panic!("{m:?}") };
        let mut sum = vec![0.0; 400];
        for (beta, member) in &stack.members {
            assert!(*beta > 0.0);
            member.predict(x.as_ref()).unwrap().iter().zip(&mut sum).for_each(|(p, s)| *s += beta * p);
        }
        let p = m.predict(x.as_ref()).unwrap();
        assert!(p.iter().zip(&sum).all(|(a, b)| (a - b).abs() < 1e-12));
        let corr = crate::linalg::stats::correlation(&p, &(0..400).map(|i| x[(i, 0)]).collect::<Vec<_>>());
        assert!(corr > 0.95, "{corr}");
    }

    /// The raw slope recorded in a `calibrate(kappa=K,...)` label.
    fn kappa_of(c: &FinalChoice) -> Option<f64> {
        c.calibration().map(|(raw, _)| raw)
    }

    #[test]
    fn calibration_slope_by_hand() {
        // p = (0, 1, 2), w = (1, 1, 2): pbar = 5/4; y = 3 + 2 (p - 1) + (0, 0, 0) has slope 2
        let (p, w) = ([0.0, 1.0, 2.0], [1.0, 1.0, 2.0]);
        let y: Vec<f64> = p.iter().map(|v| 3.0 + 2.0 * (v - 1.0)).collect();
        let (a, kappa, pbar) = calibration_slope(&p, &y, &w);
        assert!((pbar - 1.25).abs() < 1e-15 && (a - 3.5).abs() < 1e-15, "{a} {pbar}");
        assert!((kappa.unwrap() - 2.0).abs() < 1e-14, "{kappa:?}");
        // no spread in p: no slope
        assert_eq!(calibration_slope(&[0.7; 3], &y, &w).1, None);
    }

    #[test]
    fn calibrate_shrinks_noise_to_the_mean() {
        // y is noise (sd 1). The served Delta_hat stays within a small band of the weighted
        // mean on every seed and never spreads more than the argmin's. kappa is not 0 when the
        // argmin is not the constant: it is measured on the out-of-fold predictions that made
        // that candidate the argmin, so it is biased upwards by the selection (0.42, 0.71, 0.71
        // on the three seeds of eight where a ridge or the rf won; the constant on the others)
        let mut kappas = Vec::new();
        for seed in 0..8 {
            let (x, y, folds) = noisy_rows(400, 10, 0.0, 100 + seed);
            let data = TrainSet::new(x.as_ref(), &y);
            let mean = y.iter().sum::<f64>() / y.len() as f64;
            let (m, c) = fit_final_with(&FinalStage::Auto, Selection::Calibrate, data, &folds, Seed(seed)).unwrap();
            let (a, _) = fit_final_with(&FinalStage::Auto, Selection::Argmin, data, &folds, Seed(seed)).unwrap();
            let p = m.predict(x.as_ref()).unwrap();
            let dev = p.iter().map(|v| (v - mean).abs()).fold(0.0f64, f64::max);
            let sd = |q: &[f64]| (q.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / q.len() as f64).sqrt();
            assert!(sd(&p) < 0.15 && dev < 0.5, "seed {seed}: {} deviates from the mean by sd {}", c.chosen, sd(&p));
            assert!(sd(&p) <= sd(&a.predict(x.as_ref()).unwrap()) + 1e-12, "seed {seed}: {c:?}");
            if c.chosen == "constant" {
                assert!((p[0] - mean).abs() < 1e-12);
            }
            kappas.push(kappa_of(&c).unwrap_or(0.0).clamp(0.0, 1.0));
        }
        let mean_kappa = kappas.iter().sum::<f64>() / kappas.len() as f64;
        assert!(mean_kappa < 0.3, "{kappas:?}");
    }

    #[test]
    fn calibrate_keeps_a_calibrated_signal() {
        // y = x_0 + noise: the argmin (a ridge) is calibrated, kappa ~ 1, and the served stage
        // is the argmin's refit to within a small fraction of its spread; the model is
        // a + k (f - fbar) exactly, and with k = 1 the ridge refit itself (its mean is a)
        let (x, y, folds) = noisy_rows(400, 10, 1.0, 7);
        let data = TrainSet::new(x.as_ref(), &y);
        let (m, c) = fit_final_with(&FinalStage::Auto, Selection::Calibrate, data, &folds, Seed(1)).unwrap();
        let (am, a) = fit_final_with(&FinalStage::Auto, Selection::Argmin, data, &folds, Seed(1)).unwrap();
        let kappa = kappa_of(&c).unwrap();
        assert!((kappa - 1.0).abs() < 0.15, "{c:?}");
        assert!(c.chosen.starts_with("calibrate(") && c.chosen.ends_with(&format!("*{})", a.chosen)), "{c:?}");
        assert_eq!(c.candidates, a.candidates);
        let (p, q) = (m.predict(x.as_ref()).unwrap(), am.predict(x.as_ref()).unwrap());
        let spread = (q.iter().map(|v| v * v).sum::<f64>() / 400.0).sqrt();
        let rmse = ((0..400).map(|i| (p[i] - q[i]) * (p[i] - q[i])).sum::<f64>() / 400.0).sqrt();
        assert!(rmse < 0.15 * spread, "rmse {rmse} vs spread {spread}");
        let k = kappa.clamp(0.0, 1.0);
        match &m {
            RegressorModel::Stack(stack) => assert!(k < 1.0 && stack.members[0].0 == k, "{kappa}"),
            _ => assert!(k == 1.0 && p == q, "kappa {kappa}: the argmin itself"),
        }
        let w = vec![1.0; 400];
        let oof = cv_predictions(
            &auto_candidates()[argmin(&a.candidates.iter().map(|c| c.cv_loss).collect::<Vec<_>>())].spec,
            x.as_ref(),
            &y,
            &w,
            &folds,
            Seed(1),
        )
        .unwrap();
        let (ybar, slope, _) = calibration_slope(&oof, &y, &w);
        let slope = slope.unwrap();
        assert!((slope - kappa).abs() <= 5e-4, "{slope} vs the label's {kappa}");
        let qbar = q.iter().sum::<f64>() / 400.0;
        assert!((qbar - ybar).abs() < 1e-10, "{qbar} {ybar}");
        for i in 0..400 {
            assert!((p[i] - (ybar + k * (q[i] - qbar))).abs() < 1e-12);
            assert!((p[i] - q[i]).abs() <= (1.0 - k) * (q[i] - qbar).abs() + 1e-10);
        }
    }

    #[test]
    fn calibrate_is_thread_count_invariant() {
        let (x, y, folds) = noisy_rows(300, 6, 0.5, 11);
        let data = TrainSet::new(x.as_ref(), &y);
        let run = |threads: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
            pool.install(|| {
                let (m, c) = fit_final_with(&FinalStage::Auto, Selection::Calibrate, data, &folds, Seed(3)).unwrap();
                (m.predict(x.as_ref()).unwrap(), c.chosen)
            })
        };
        let one = run(1);
        assert_eq!(one, run(2));
        assert_eq!(one, run(8));
    }
}
