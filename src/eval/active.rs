//! Active gold selection: which rows get gold labels, batch by batch, with known inclusion
//! probabilities so that the estimators stay unbiased (issue 14, section 3).
//!
//! # The design
//! `N` candidate rows, a gold budget split into batches `b_1, ..., b_K` (`sum b_k = G`):
//! * batch 1 is a simple random sample of `b_1` rows (in the study: the first `b_1` rows of the
//!   round's random permutation, the same rows random selection starts with), so every row has
//!   probability `p_i^(1) = b_1 / N`;
//! * after batch `k`, the rule's model is fitted on the gold rows so far (and the preference
//!   rows), a score `s_i >= 0` is computed for every row, and batch `k + 1` is drawn from the
//!   `R` rows that are not gold yet with inclusion probabilities
//!   ```text
//!   base_i = (1 - lambda) s_i / sum_j s_j + lambda / R          (sum over the R eligible rows: 1)
//!   p_i    = min(1, kappa b base_i),  kappa >= 1 such that sum_i p_i = b
//!   ```
//!   (probabilities capped at 1, the excess spread over the others in proportion to `base`), so
//!   every eligible row keeps `p_i >= lambda b / R` (the *floor*, `lambda` in `(0, 1]`;
//!   `lambda = 1` is random selection);
//! * the batch is a randomised systematic sample (Madow 1949): the eligible rows in a random
//!   order, `u ~ U[0, 1)`, and row `i` taken when an integer `m` has
//!   `C_{i-1} <= u + m < C_i` for the cumulative sums `C` of `p` in that order. Exactly `b` rows
//!   are drawn and row `i` is drawn with probability exactly `p_i` ([`systematic_sample`]).
//!
//! # The known propensity
//! The learners need `e_i = P(row i is gold | x_i)`. With the realised batch probabilities,
//! ```text
//! e_i = 1 - (1 - b_1 / N) prod_{k >= 2} (1 - p_i^(k))
//! ```
//! for *every* row, the rows already gold included (their `p_i^(k)` is what the rule's scores
//! give them, with the batch's `kappa`, capped at 1 and below 1 - 1e-9). This is the balance
//! heuristic of multiple importance sampling (Veach 1997; the deterministic mixture weights of
//! adaptive importance sampling): `E[t_i / e_i] = 1` holds exactly when a row's probabilities do
//! not depend on whether that row itself was drawn earlier, and here they depend on it only
//! through its one share in the rule's fit (one row of `b_1`): a documented approximation whose
//! bias the tests bound (`tests/active.rs`: the DR mean bias under active selection matches the
//! truth within its standard error over seeds). [`crate::router::train_router_known`] takes `e`:
//! the meta-routers' AIPW and R-learner stages use it, the alignment weights gold rows by `1/e`.
//!
//! # The rules ([`GoldRule`])
//! * `neyman` (the default): the Neyman allocation for the DR pseudo-outcome. Its gold
//!   correction `t (o - mu1) / e` has variance `sum_i E[(o - mu1)^2 | x_i] / e_i`, minimised
//!   under `sum e_i = G` by `e(x)` proportional to the root mean square of the gold residual;
//!   with the shift form `mu1 = mu0 + b` that residual is `noise + (Delta(x) - b)`, so
//!   `s_i = sqrt(sigma_hat^2 + (Delta_hat(x_i) - mean Delta_hat)^2)` with `Delta_hat` from the
//!   default meta-router (`meta_dr`) fitted on the gold rows so far and `sigma_hat^2`
//!   ([`gold_noise_variance`]) the gold labels' variance less `psi_hat`'s. It needs
//!   `Delta_hat`, which router files do not store: studies only.
//! * `bias`: the systematic part alone, `s_i = |Delta_hat(x_i) - mean Delta_hat|` (the
//!   floor standing in for the noise).
//! * `uncertainty`: `s_i = sd over the trees of psi_hat(x_i)` for rows whose `psi_hat` lies in
//!   the usage band (its rank quantile among the candidate rows in `[0.2, 0.8]`, where the
//!   efficiency-gain AUC decides), 0 outside it; for a psi model that is not a forest, 1 in the
//!   band. It needs only `psi_hat`: what `meta-router suggest` uses with a saved router.

use faer::MatRef;
use rand::RngExt;

use crate::error::{Error, Result};
use crate::learn::{Predict, RegressorModel};
use crate::rng::{Rng, Seed, permutation, stream};
use crate::router::{RouterConfig, RouterData, RouterKind, TrainedRouter, train_router, train_router_known};

/// The default floor `lambda`: the share of each batch's probability spread uniformly.
pub const DEFAULT_FLOOR: f64 = 0.3;

/// The usage band of the `uncertainty` rule (rank quantiles of `psi_hat`).
pub const USAGE_BAND: [f64; 2] = [0.2, 0.8];

/// Probabilities are kept below 1 by this much in the propensity (so `1 - e > 0`).
const E_MAX: f64 = 1.0 - 1e-9;

/// The score that chooses the next batch (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum GoldRule {
    /// `sqrt(sigma_hat^2 + (Delta_hat - mean)^2)`: the Neyman allocation of the DR-learner.
    #[default]
    Neyman,
    /// `|Delta_hat - mean|` of the default meta-router: the systematic part alone.
    Bias,
    /// The trees' disagreement on `psi_hat` inside the usage band.
    Uncertainty,
}

impl GoldRule {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            GoldRule::Neyman => "neyman",
            GoldRule::Bias => "bias",
            GoldRule::Uncertainty => "uncertainty",
        }
    }
}

/// Active selection's settings.
#[derive(Clone, Debug, PartialEq)]
pub struct ActiveConfig {
    /// Batch sizes, summing to the gold count; the first is a simple random sample.
    pub batches: Vec<usize>,
    /// The rule scoring the next batch.
    pub rule: GoldRule,
    /// The uniform share `lambda` in `(0, 1]`.
    pub floor: f64,
}

impl ActiveConfig {
    /// Checks the batches against the gold count and the floor's domain.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] naming `--gold-batches` (a zero batch, fewer than two batches, a
    /// sum other than `n_gold`) or `--gold-floor`.
    pub fn validate(&self, n_gold: usize) -> Result<()> {
        check_batches(&self.batches, n_gold)?;
        if self.batches.len() < 2 {
            return Err(Error::param(
                "study",
                "--gold-batches",
                "active selection needs at least two batches (a random first batch, then chosen ones)",
            ));
        }
        if !(self.floor > 0.0 && self.floor <= 1.0) {
            return Err(Error::param("study", "--gold-floor", format!("must lie in (0, 1], got {}", self.floor)));
        }
        Ok(())
    }
}

/// Checks that batches are positive and sum to `n_gold`.
///
/// # Errors
/// [`Error::InvalidParam`] naming `--gold-batches` and the fault.
pub fn check_batches(batches: &[usize], n_gold: usize) -> Result<()> {
    if batches.is_empty() {
        return Err(Error::param("study", "--gold-batches", "no batch given"));
    }
    if let Some(k) = batches.iter().position(|&b| b == 0) {
        return Err(Error::param("study", "--gold-batches", format!("batch {} is 0; every batch needs a row", k + 1)));
    }
    let sum = batches.iter().fold(0usize, |a, &b| a.saturating_add(b));
    if sum != n_gold {
        let list: Vec<String> = batches.iter().map(ToString::to_string).collect();
        return Err(Error::param(
            "study",
            "--gold-batches",
            format!("{} sums to {sum}, but the gold count (--gold) is {n_gold}", list.join(",")),
        ));
    }
    Ok(())
}

/// How a study chooses its gold rows.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum GoldSelection {
    /// A simple random sample (the first `n_gold` training rows of the round's permutation).
    #[default]
    Random,
    /// Batches chosen by a rule (see the module docs).
    Active(ActiveConfig),
}

/// Inclusion probabilities of one batch (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct Inclusion {
    /// `p_i` per eligible row, summing to the batch size, each in `[floor b / R, 1]`.
    pub p: Vec<f64>,
    /// `kappa b`: `p_i = min(1, kappa_b * base_i)`.
    pub factor: f64,
    /// `sum_j s_j` over the eligible rows (0: uniform).
    pub score_sum: f64,
}

impl Inclusion {
    /// The probability a row with score `s` would have had in this batch (rows already gold).
    pub fn would_be(&self, s: f64, floor: f64, n_eligible: usize) -> f64 {
        (self.factor * base(s, self.score_sum, floor, n_eligible)).min(1.0)
    }
}

fn base(s: f64, sum: f64, floor: f64, r: usize) -> f64 {
    let uniform = 1.0 / r as f64;
    if sum > 0.0 { (1.0 - floor) * s / sum + floor * uniform } else { uniform }
}

/// The inclusion probabilities of a batch of `b` rows among the eligible rows with scores `s`
/// (see the module docs): `min(1, kappa b base_i)`, summing to `b`.
///
/// # Errors
/// [`Error::InvalidParam`] when `b` exceeds the rows (`--budget`), a floor outside `(0, 1]`;
/// [`Error::NonFinite`] / [`Error::InvalidData`] for a NaN or negative score.
pub fn inclusion_probabilities(s: &[f64], b: usize, floor: f64) -> Result<Inclusion> {
    let r = s.len();
    if b > r {
        return Err(Error::param(
            "active selection",
            "--budget",
            format!("a batch of {b} rows is larger than the {r} candidate rows"),
        ));
    }
    if !(floor > 0.0 && floor <= 1.0) {
        return Err(Error::param("active selection", "floor", format!("must lie in (0, 1], got {floor}")));
    }
    crate::check::finite_slice("selection scores", s)?;
    if let Some(i) = s.iter().position(|&v| v < 0.0) {
        return Err(Error::data(format!("selection score at row {i} is {}; scores must be >= 0", s[i])));
    }
    let sum: f64 = s.iter().sum();
    let base: Vec<f64> = s.iter().map(|&v| base(v, sum, floor, r)).collect();
    // Cap at 1: the largest bases first; kappa b = (b - capped) / (sum of the uncapped bases).
    let mut order: Vec<usize> = (0..r).collect();
    order.sort_by(|&i, &j| base[j].total_cmp(&base[i]).then(i.cmp(&j)));
    let mut rest: f64 = base.iter().sum();
    let mut capped = 0usize;
    let mut factor = if rest > 0.0 { b as f64 / rest } else { 0.0 };
    while capped < b && capped < r && factor * base[order[capped]] >= 1.0 {
        rest -= base[order[capped]];
        capped += 1;
        factor = if rest > 0.0 { (b - capped) as f64 / rest } else { 0.0 };
    }
    let mut p = vec![0.0; r];
    for (k, &i) in order.iter().enumerate() {
        p[i] = if k < capped { 1.0 } else { (factor * base[i]).min(1.0) };
    }
    if b == r {
        p.iter_mut().for_each(|v| *v = 1.0);
    }
    Ok(Inclusion { p, factor: if capped >= b { f64::INFINITY } else { factor }, score_sum: sum })
}

/// A randomised systematic sample with inclusion probabilities `p` (summing to an integer `b`,
/// each in `[0, 1]`): the rows in a random order, one uniform start `u`, row `i` taken when
/// `[C_{i-1}, C_i)` holds some `u + m`, `m = 0..b`. Returns exactly `b` row indices, ascending.
pub fn systematic_sample(p: &[f64], rng: &mut Rng) -> Vec<usize> {
    let total: f64 = p.iter().sum();
    let b = total.round() as usize;
    if b == 0 {
        return Vec::new();
    }
    let order = permutation(p.len(), rng);
    let u: f64 = rng.random::<f64>();
    // cumulative sums rescaled so the last is exactly b (float error)
    let scale = b as f64 / total;
    let mut out = Vec::with_capacity(b);
    let (mut c, mut m) = (0.0, 0usize);
    for &i in &order {
        let next = c + p[i] * scale;
        while m < b && u + (m as f64) < next {
            if out.last() != Some(&i) {
                out.push(i);
            }
            m += 1;
        }
        c = next;
    }
    // float slack at the very end: the last targets belong to the last rows with p > 0
    let mut k = order.len();
    while out.len() < b && k > 0 {
        k -= 1;
        let i = order[k];
        if p[i] > 0.0 && !out.contains(&i) {
            out.push(i);
        }
    }
    out.sort_unstable();
    out
}

/// The `uncertainty` rule's scores on the rows of `x` for a psi model (see the module docs).
///
/// # Errors
/// The model's prediction errors.
pub fn uncertainty_scores(psi: &RegressorModel, x: MatRef<'_, f64>) -> Result<Vec<f64>> {
    let n = x.nrows();
    let psi_hat = psi.predict(x)?;
    let spread: Vec<f64> = match psi {
        RegressorModel::RandomForest(m) if !m.forest.trees().is_empty() => {
            let k = m.forest.trees().len() as f64;
            (0..n)
                .map(|i| {
                    let (mut s, mut s2) = (0.0f64, 0.0f64);
                    for t in m.forest.trees() {
                        let v = t.predict_at(x, i);
                        s += v;
                        s2 += v * v;
                    }
                    let mean = s / k;
                    (s2 / k - mean * mean).max(0.0).sqrt()
                })
                .collect()
        }
        _ => vec![1.0; n],
    };
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&i, &j| psi_hat[i].total_cmp(&psi_hat[j]).then(i.cmp(&j)));
    let mut s = vec![0.0; n];
    let denom = (n.max(2) - 1) as f64;
    for (rank, &i) in order.iter().enumerate() {
        let q = rank as f64 / denom;
        if (USAGE_BAND[0]..=USAGE_BAND[1]).contains(&q) {
            s[i] = spread[i];
        }
    }
    Ok(s)
}

/// The `bias` rule's scores: `|Delta_hat(x_i) - mean Delta_hat|` over the rows of `x`.
///
/// # Errors
/// A router without `Delta_hat`; prediction errors.
pub fn bias_scores(router: &TrainedRouter, x: MatRef<'_, f64>) -> Result<Vec<f64>> {
    let d = router
        .predict_delta(x)?
        .ok_or_else(|| Error::data(format!("the bias rule needs Delta_hat; router {} has none", router.kind.name())))?;
    let mean = d.iter().sum::<f64>() / d.len().max(1) as f64;
    Ok(d.iter().map(|v| (v - mean).abs()).collect())
}

/// The `neyman` rule's noise variance: the variance of the gold labels on the router's scale
/// (`c r`, gold rows) less the variance of `psi_hat` over all rows (the signal part), kept at
/// least a quarter of the former.
///
/// # Errors
/// Prediction errors.
pub fn gold_noise_variance(router: &TrainedRouter, x: MatRef<'_, f64>, is_gold: &[f64], label: &[f64]) -> Result<f64> {
    let var = |v: &[f64]| {
        let m = v.iter().sum::<f64>() / v.len().max(1) as f64;
        v.iter().map(|z| (z - m) * (z - m)).sum::<f64>() / v.len().max(1) as f64
    };
    let g: Vec<f64> = (0..label.len()).filter(|&i| is_gold[i] == 1.0).map(|i| router.scale * label[i]).collect();
    let total = var(&g);
    let signal = var(&router.predict_psi(x)?);
    Ok((total - signal).max(0.25 * total))
}

/// The gold rows chosen for one study round and their known propensity.
#[derive(Clone, Debug, PartialEq)]
pub struct Selected {
    /// 1.0 for a gold row, 0.0 otherwise, per candidate row.
    pub is_gold: Vec<f64>,
    /// `e_i = P(gold | x_i)` under the design (see the module docs).
    pub e: Vec<f64>,
}

/// Chooses the gold rows among `N` candidate rows (see the module docs). Rows `0..b_1` are
/// the random first batch (the caller's rows are in random order); `gold[i]` is read only for
/// rows already chosen, `pref[i]` for the others.
///
/// # Errors
/// Invalid settings; the rule model's training errors.
pub fn select_gold(
    x: MatRef<'_, f64>,
    gold: &[f64],
    pref: &[f64],
    active: &ActiveConfig,
    router: &RouterConfig,
    seed: Seed,
) -> Result<Selected> {
    let n = x.nrows();
    let total: usize = active.batches.iter().sum();
    active.validate(total)?;
    if total >= n {
        return Err(Error::param(
            "study",
            "--gold-batches",
            format!("{total} gold rows leave no preference row among the {n} training rows"),
        ));
    }
    let b1 = active.batches[0];
    let mut is_gold: Vec<f64> = (0..n).map(|i| if i < b1 { 1.0 } else { 0.0 }).collect();
    // prod of (1 - p_i^(k)) over the batches so far
    let mut miss: Vec<f64> = vec![1.0 - b1 as f64 / n as f64; n];
    let mut designed = false;
    for (k, &b) in active.batches.iter().enumerate().skip(1) {
        let batch_seed = seed.indexed(stream::ACTIVE, k as u64);
        let label: Vec<f64> = (0..n).map(|i| if is_gold[i] == 1.0 { gold[i] } else { pref[i] }).collect();
        let data = RouterData { x, is_gold: &is_gold, label: &label, gold_everywhere: None, weights: None };
        let kind = RouterKind::MetaDr;
        let fit = if designed {
            let e: Vec<f64> = miss.iter().map(|m| (1.0 - m).min(E_MAX)).collect();
            train_router_known(kind, &data, &e, router, batch_seed.child(stream::ROUTER))?
        } else {
            train_router(kind, &data, router, batch_seed.child(stream::ROUTER))?
        };
        let s = match active.rule {
            GoldRule::Bias => bias_scores(&fit, x)?,
            GoldRule::Neyman => {
                let sigma2 = gold_noise_variance(&fit, x, &is_gold, &label)?;
                bias_scores(&fit, x)?.iter().map(|g| (sigma2 + g * g).sqrt()).collect()
            }
            GoldRule::Uncertainty => uncertainty_scores(&fit.psi, x)?,
        };
        let eligible: Vec<usize> = (0..n).filter(|&i| is_gold[i] == 0.0).collect();
        let se: Vec<f64> = eligible.iter().map(|&i| s[i]).collect();
        let inc = inclusion_probabilities(&se, b, active.floor)?;
        let mut p_all = vec![0.0; n];
        for (j, &i) in eligible.iter().enumerate() {
            p_all[i] = inc.p[j];
        }
        for i in 0..n {
            if is_gold[i] == 1.0 {
                p_all[i] = inc.would_be(s[i], active.floor, eligible.len());
            }
        }
        let drawn = systematic_sample(&inc.p, &mut batch_seed.rng());
        for j in drawn {
            is_gold[eligible[j]] = 1.0;
        }
        for i in 0..n {
            miss[i] *= 1.0 - p_all[i].min(E_MAX);
        }
        designed = true;
    }
    let e = miss.iter().map(|m| (1.0 - m).clamp(f64::MIN_POSITIVE, E_MAX)).collect();
    Ok(Selected { is_gold, e })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probabilities_sum_to_the_batch_keep_the_floor_and_cap_at_one() {
        let s = [0.0, 1.0, 2.0, 100.0, 0.5, 0.0, 3.0, 1.0];
        let inc = inclusion_probabilities(&s, 3, 0.3).unwrap();
        let sum: f64 = inc.p.iter().sum();
        assert!((sum - 3.0).abs() < 1e-12, "{sum}");
        assert_eq!(inc.p[3], 1.0);
        assert!(inc.p.iter().all(|&p| (0.3 * 3.0 / 8.0 - 1e-12..=1.0).contains(&p)));
        // uniform scores and floor 1 give b / R
        let u = inclusion_probabilities(&[1.0; 10], 4, 1.0).unwrap();
        assert!(u.p.iter().all(|&p| (p - 0.4).abs() < 1e-12));
        assert!(inclusion_probabilities(&[1.0; 3], 4, 0.3).unwrap_err().to_string().contains("--budget"));
    }

    #[test]
    fn systematic_sampling_draws_exactly_b_distinct_rows() {
        let inc = inclusion_probabilities(&[0.1, 5.0, 0.2, 0.3, 9.0, 0.0, 1.0], 3, 0.2).unwrap();
        for k in 0..200 {
            let d = systematic_sample(&inc.p, &mut Seed(k).rng());
            assert_eq!(d.len(), 3);
            assert!(d.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
