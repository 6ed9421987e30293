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
//! final regression itself, evaluated out of fold. By default ([`Selection::Argmin`]) the
//! lowest mean loss wins (ties: the first, i.e. the simpler, candidate); the winner is refitted
//! on all rows with `seed.child(FINAL)`. [`FinalStage::Fixed`] skips the selection.
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

use faer::MatRef;
use serde::{Deserialize, Serialize};

use crate::causal::crossfit::per_fold;
use crate::causal::folds::Folds;
use crate::causal::learner::fit_rows;
use crate::error::Result;
use crate::learn::constant::ConstantParams;
use crate::learn::forest::{MaxFeatures, RandomForestRegressorParams};
use crate::learn::gbm::HgbParams;
use crate::learn::linear::RidgeParams;
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
    #[default]
    Argmin,
    /// The simplest candidate within one paired standard error of the lowest loss.
    OneSe,
}

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
    let mut best = 0;
    for (c, l) in losses.iter().enumerate() {
        if *l < losses[best] {
            best = c;
        }
    }
    for &c in COMPLEXITY_ORDER.iter().filter(|&&c| c < losses.len()) {
        let (d, se) = paired_loss_diff(&rows[c], &rows[best], wsum);
        if d <= se {
            return c;
        }
    }
    best
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
    let (spec, choice) = match stage {
        FinalStage::Fixed(spec) => (spec.clone(), FinalChoice { chosen: spec.name().to_string(), candidates: vec![] }),
        FinalStage::Auto => {
            let mut cands = auto_candidates();
            let oofs =
                par::try_map_indexed(cands.len(), |c| cv_predictions(&cands[c].spec, data.x, data.y, &w, folds, seed))?;
            let losses: Vec<f64> = oofs.iter().map(|p| weighted_mse(data.y, p, &w)).collect();
            let best = match selection {
                Selection::Argmin => {
                    let mut best = 0;
                    for (c, l) in losses.iter().enumerate() {
                        if *l < losses[best] {
                            best = c;
                        }
                    }
                    best
                }
                Selection::OneSe => {
                    let rows: Vec<Vec<f64>> = oofs.iter().map(|p| row_losses(data.y, p, &w)).collect();
                    one_se_pick(&rows, &losses, w.iter().sum::<f64>())
                }
            };
            let candidates = cands
                .iter()
                .zip(&losses)
                .map(|(c, &cv_loss)| CandidateLoss { name: c.label.to_string(), cv_loss })
                .collect();
            let winner = cands.swap_remove(best);
            (winner.spec, FinalChoice { chosen: winner.label.to_string(), candidates })
        }
    };
    let model = spec.fit(TrainSet { x: data.x, y: data.y, weights: Some(&w) }, seed.child(stream::FINAL))?;
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
}
