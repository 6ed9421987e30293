//! `Delta_hat(x)` by the cross-fitted R- or DR-learner (the default protocol).
//!
//! For each repeat `r` (fold assignment [`crate::causal::folds::stratified`] with repeat `r`,
//! model seeds derived from `seed` for `r = 0` and `seed.indexed(REPEAT, r)` otherwise):
//! * R: `m` out of fold, `e` known or out of fold;
//! * DR: `(mu0, mu1)` out of fold ([`crate::causal::nuisance::outcomes_by_arm`]), `e` likewise.
//!
//! With `nuisance_fit = Oob`, and under the default `Auto` for the R-learner whenever the
//! nuisance learner is bagged ([`nuisance_rule`]), each out-of-fold nuisance is
//! replaced by its out-of-bag counterpart ([`crate::causal::oob`]: one forest per nuisance and
//! repeat); the folds are still drawn, for the final stage and for rows that no tree left out.
//!
//! Repeats are aggregated per row (mean or median), the propensity clipped after aggregation,
//! and the final stage ([`crate::causal::final_stage`]) fitted on the R-learner's weighted
//! pseudo-outcomes or the DR-learner's AIPW pseudo-outcomes, with its cross-validation on the
//! repeat-0 folds.
//!
//! Options (each off by default, see [`DeltaConfig`]): `outcome_covariate` appends the
//! aggregated out-of-fold `m_hat` (R) or `mu0_hat` (DR) to the final stage's features and
//! refits that nuisance on all rows (R) or the preference rows (DR) with
//! `seed.indexed(NUISANCE_OUTCOME, u64::MAX)` (no fold uses that index) for new rows;
//! `dr_gold_ridge` replaces the shift `b` of `mu1 = mu0 + b` by a ridge fit `g(x)` of the
//! gold residuals `o - mu0_hat` on the other folds' gold rows (alpha by leave-one-out over
//! the ridge's default grid), so `mu1 - mu0` carries heterogeneity instead of only the
//! `t (o - mu1) / e` correction; `selection` picks the final stage's selection rule.

use std::sync::Arc;

use crate::causal::crossfit::{aggregate, out_of_fold, per_fold};
use crate::causal::delta::{DeltaConfig, DeltaFit, Method, OutcomeCovariate, PooledRows, with_column};
use crate::causal::drlearner::dr_pseudo;
use crate::causal::final_stage::fit_final_with;
use crate::causal::folds::{Folds, stratified};
use crate::causal::learner::fit_rows;
use crate::causal::nuisance::{self, Overlap, Propensity};
use crate::causal::oob::{self, NuisanceFit};
use crate::causal::rlearner::r_stage;
use crate::error::Result;
use crate::learn::linear::RidgeParams;
use crate::learn::linear::ridge::default_alpha_grid;
use crate::learn::{Predict, Regressor, RegressorModel, TrainSet};
use crate::linalg::select::select_rows;
use crate::rng::{Seed, stream};

/// The out-of-fold nuisances of one repeat: the propensity `e(x)` and the method's outcome
/// nuisances (`m(x)` for the R-learner, [`ArmOutcomes`] for the DR-learner).
struct Repeat<O> {
    /// `e(x) = P(t = 1 | x)`, raw (clipped after aggregation).
    e: Vec<f64>,
    /// `m(x) = E[o | x]` (R) or `(mu0, mu1)` (DR).
    outcome: O,
}

/// The DR-learner's outcome nuisances of one repeat.
struct ArmOutcomes {
    /// `mu0(x) = E[o | x, t = 0]`.
    mu0: Vec<f64>,
    /// `mu1(x) = E[o | x, t = 1]`.
    mu1: Vec<f64>,
}

/// Every repeat's nuisances and the repeat-0 folds (the final stage's cross-validation folds).
struct Repeats<O> {
    runs: Vec<Repeat<O>>,
    folds0: Folds,
}

impl<O> Repeats<O> {
    /// One quantity aggregated per row over the repeats.
    fn aggregate(&self, cfg: &DeltaConfig, f: impl Fn(&Repeat<O>) -> &Vec<f64>) -> Result<Vec<f64>> {
        let v: Vec<Vec<f64>> = self.runs.iter().map(|r| f(r).clone()).collect();
        aggregate(&v, cfg.aggregate)
    }

    /// The aggregated propensity, clipped, and its overlap before the clip.
    fn propensity(&self, cfg: &DeltaConfig) -> Result<(Vec<f64>, Overlap)> {
        let e_raw = self.aggregate(cfg, |r| &r.e)?;
        let overlap = match &cfg.propensity {
            Propensity::Known => nuisance::overlap(&e_raw, 0.0),
            Propensity::Estimated { clip, .. } => nuisance::overlap(&e_raw, *clip),
        };
        Ok((nuisance::clip_propensity(&cfg.propensity, e_raw).clipped, overlap))
    }
}

/// Cross-fits the propensity and `outcome(folds, base_seed)` for every repeat.
fn cross_fit<O>(
    rows: &PooledRows<'_>,
    cfg: &DeltaConfig,
    fit: NuisanceFit,
    seed: Seed,
    outcome: impl Fn(&Folds, Seed) -> Result<O>,
) -> Result<Repeats<O>> {
    let PooledRows { x, t, w, .. } = *rows;
    // Each repeat keeps its propensity and outcome predictions (up to two rows of f64 per row).
    let per_repeat = crate::budget::sum(&[size_of::<Repeat<O>>() as u64, crate::budget::product(&[x.nrows(), 2, 8])]);
    let need = crate::budget::product(&[cfg.repeats]).saturating_mul(per_repeat);
    crate::budget::check(format_args!("repeats {}", cfg.repeats), "the cross-fitted nuisances", need)?;
    let mut runs = Vec::with_capacity(cfg.repeats);
    let mut folds0 = None;
    for r in 0..cfg.repeats {
        let folds = stratified(t, cfg.n_folds, seed, r)?;
        let base = if r == 0 { seed } else { seed.indexed(stream::REPEAT, r as u64) };
        let e = match fit {
            NuisanceFit::Oob => oob::propensity(&cfg.propensity, x, t, w, &folds, base)?,
            _ => nuisance::propensity(&cfg.propensity, x, t, w, &folds, base)?,
        };
        runs.push(Repeat { e, outcome: outcome(&folds, base)? });
        if r == 0 {
            folds0 = Some(folds);
        }
    }
    let folds0 = match folds0 {
        Some(f) => f,
        None => stratified(t, cfg.n_folds, seed, 0)?,
    };
    Ok(Repeats { runs, folds0 })
}

/// `mu0 + g(x)`: `g` a ridge fit (alpha by leave-one-out) of the gold residuals `o - mu0`,
/// in each fold on the other folds' gold rows (see the module docs).
fn gold_ridge_mu1(
    x: faer::MatRef<'_, f64>,
    o: &[f64],
    t: &[f64],
    w: Option<&[f64]>,
    mu0: &[f64],
    folds: &Folds,
) -> Result<Vec<f64>> {
    let resid: Vec<f64> = o.iter().zip(mu0).map(|(o, m)| o - m).collect();
    let spec = RidgeParams { alphas: Some(default_alpha_grid()), ..Default::default() };
    let mut cols = per_fold(folds, 1, |_, train, test| {
        let gold: Vec<usize> = train.iter().copied().filter(|&i| t[i] == 1.0).collect();
        let g = fit_rows(&spec, x, &resid, w, &gold, Seed(0))?;
        let pred = g.predict(select_rows(x, test).as_ref())?;
        Ok(vec![test.iter().zip(pred).map(|(&i, gi)| mu0[i] + gi).collect()])
    })?;
    Ok(cols.swap_remove(0))
}

/// The outcome covariate: `oof` and `N` refitted on the rows `idx` for new rows.
fn outcome_covariate<N: Regressor>(
    learner: &N,
    data: TrainSet<'_>,
    idx: &[usize],
    oof: Vec<f64>,
    seed: Seed,
) -> Result<OutcomeCovariate>
where
    N::Model: 'static,
{
    let model = fit_rows(learner, data.x, data.y, data.weights, idx, seed.indexed(stream::NUISANCE_OUTCOME, u64::MAX))?;
    Ok(OutcomeCovariate { oof, model: Arc::new(model) })
}

/// Fits the final stage on `x` (with the covariate appended when there is one).
fn final_stage(
    cfg: &DeltaConfig,
    x: faer::MatRef<'_, f64>,
    y: &[f64],
    weights: Option<&[f64]>,
    covariate: Option<&OutcomeCovariate>,
    folds: &Folds,
    seed: Seed,
) -> Result<(RegressorModel, crate::causal::final_stage::FinalChoice)> {
    match covariate {
        None => fit_final_with(&cfg.final_stage, cfg.selection, TrainSet { x, y, weights }, folds, seed),
        Some(c) => {
            let xa = with_column(x, &c.oof);
            fit_final_with(&cfg.final_stage, cfg.selection, TrainSet { x: xa.as_ref(), y, weights }, folds, seed)
        }
    }
}

/// The DR-learner's cross-fitted pseudo-outcomes and what the final stage needs besides.
struct DrPseudo {
    /// `phi_i`, one per row.
    phi: Vec<f64>,
    /// The aggregated out-of-fold `mu0_hat`.
    mu0: Vec<f64>,
    /// Propensity overlap.
    overlap: Overlap,
    /// The repeat-0 folds.
    folds0: Folds,
}

/// The DR-learner's nuisances over every repeat, aggregated, and its AIPW pseudo-outcomes.
fn dr_nuisances<N: Regressor>(
    rows: &PooledRows<'_>,
    known: Option<&[f64]>,
    nuisance_learner: &N,
    cfg: &DeltaConfig,
    seed: Seed,
) -> Result<DrPseudo> {
    let PooledRows { x, t, o, w } = *rows;
    let data = TrainSet { x, y: o, weights: w };
    let fit = nuisance_rule(cfg, Method::Dr, nuisance_learner.bagged());
    let reps = cross_fit(rows, cfg, fit, seed, |folds, base| {
        let (mu0, mu1) = match fit {
            NuisanceFit::Oob => oob::outcomes_by_arm(nuisance_learner, cfg.dr_outcome, data, t, folds, base)?,
            _ => nuisance::outcomes_by_arm(nuisance_learner, cfg.dr_outcome, data, t, folds, base)?,
        };
        let mu1 = if cfg.dr_gold_ridge { gold_ridge_mu1(x, o, t, w, &mu0, folds)? } else { mu1 };
        Ok(ArmOutcomes { mu0, mu1 })
    })?;
    let (e, overlap) = known_or(|| reps.propensity(cfg), known, x.nrows())?;
    let mu0 = reps.aggregate(cfg, |r| &r.outcome.mu0)?;
    let mu1 = reps.aggregate(cfg, |r| &r.outcome.mu1)?;
    let phi = dr_pseudo(o, t, &e, &mu0, &mu1)?;
    Ok(DrPseudo { phi, mu0, overlap, folds0: reps.folds0 })
}

/// The DR-learner's cross-fitted AIPW pseudo-outcomes `phi_i` (one per row, in row order; see
/// [`crate::causal::drlearner`]) and the propensity overlap: exactly what
/// [`estimate_delta`]`(Method::Dr, ..)` regresses on `x` with the same arguments, for callers
/// that need the pseudo-outcomes themselves (the bias audit: their mean is the AIPW estimate of
/// the average bias, their regression on `x` its best linear projection).
///
/// # Errors
/// As [`estimate_delta`] before its final stage.
pub fn dr_pseudo_outcomes<N: Regressor>(
    rows: &PooledRows<'_>,
    nuisance_learner: &N,
    cfg: &DeltaConfig,
    seed: Seed,
) -> Result<(Vec<f64>, Overlap)> {
    let d = dr_nuisances(rows, None, nuisance_learner, cfg, seed)?;
    Ok((d.phi, d.overlap))
}

/// Estimates `Delta_hat` with cross-fitted nuisances (see the module docs).
///
/// # Errors
/// Too few gold or preference rows for the folds; learner errors.
pub fn estimate_delta<N: Regressor>(
    method: Method,
    rows: &PooledRows<'_>,
    nuisance_learner: &N,
    cfg: &DeltaConfig,
    seed: Seed,
) -> Result<DeltaFit>
where
    N::Model: 'static,
{
    estimate_delta_known(method, rows, None, nuisance_learner, cfg, seed)
}

/// The nuisance rule [`estimate_delta`] uses for `method` with a nuisance learner that is
/// (`bagged`, [`Regressor::bagged`]) or is not bagged: an explicit `CrossFit` or `Oob` as
/// given; the default `Auto` out of bag for the R-learner with a bagged learner and
/// cross-fitted otherwise. Out of bag matched or beat cross-fitting for `meta_r` over the
/// simulator's ten scenarios at 40 paired rounds, and cost `meta_dr` about 2.6 paired SEs on
/// `distorted_scale` and `gold_10pct` (STATISTICS.md, "Out-of-bag nuisances for `meta_r`").
pub fn nuisance_rule(cfg: &DeltaConfig, method: Method, bagged: bool) -> NuisanceFit {
    cfg.nuisance_fit.resolve(method == Method::R && bagged)
}

/// Checks a per-row known propensity: one value per row (`what` names the rows in the shape
/// error), each in `(0, 1)`.
///
/// # Errors
/// [`crate::error::Error::Shape`] for the wrong length; [`crate::error::Error::InvalidData`] naming
/// the first row outside `(0, 1)`.
pub fn check_known_propensity(e: &[f64], n: usize, what: &str) -> Result<()> {
    if e.len() != n {
        return Err(crate::error::Error::shape(what, n, e.len()));
    }
    if let Some(i) = e.iter().position(|&v| !(v > 0.0 && v < 1.0)) {
        return Err(crate::error::Error::data(format!(
            "known propensity at row {i} is {}; it must lie in (0, 1)",
            e[i]
        )));
    }
    Ok(())
}

/// The propensity the learners use: the cross-fitted one (`fitted`, only computed when
/// needed), or the per-row known propensity `known` (a design's `P(gold | x_i)`, e.g. from
/// active gold selection) when given, which then replaces `cfg.propensity` whatever it says.
/// Overlap is reported with clip 0.
fn known_or(
    fitted: impl FnOnce() -> Result<(Vec<f64>, Overlap)>,
    known: Option<&[f64]>,
    n: usize,
) -> Result<(Vec<f64>, Overlap)> {
    let Some(e) = known else { return fitted() };
    check_known_propensity(e, n, "known propensity vs pooled rows")?;
    Ok((e.to_vec(), nuisance::overlap(e, 0.0)))
}

/// [`estimate_delta`] with an optional per-row known propensity `e_i = P(t_i = 1 | x_i)` under
/// the design that chose the gold rows (see `known_or`); `None` is [`estimate_delta`].
///
/// # Errors
/// As [`estimate_delta`]; a known propensity of the wrong length or outside `(0, 1)`.
pub fn estimate_delta_known<N: Regressor>(
    method: Method,
    rows: &PooledRows<'_>,
    known: Option<&[f64]>,
    nuisance_learner: &N,
    cfg: &DeltaConfig,
    seed: Seed,
) -> Result<DeltaFit>
where
    N::Model: 'static,
{
    let PooledRows { x, t, o, w } = *rows;
    let data = TrainSet { x, y: o, weights: w };
    let (model, choice, overlap, covariate) = match method {
        Method::R => {
            let fit = nuisance_rule(cfg, Method::R, nuisance_learner.bagged());
            let reps = cross_fit(rows, cfg, fit, seed, |folds, base| match fit {
                NuisanceFit::Oob => {
                    oob::out_of_bag(nuisance_learner, data, None, folds, base, (stream::NUISANCE_OUTCOME, 0))
                }
                _ => out_of_fold(nuisance_learner, data, None, folds, base, stream::NUISANCE_OUTCOME),
            })?;
            let (e, overlap) = known_or(|| reps.propensity(cfg), known, x.nrows())?;
            let m = reps.aggregate(cfg, |r| &r.outcome)?;
            let stage = r_stage(o, &m, t, &e, w)?;
            let covariate = if cfg.outcome_covariate {
                let all: Vec<usize> = (0..x.nrows()).collect();
                Some(outcome_covariate(nuisance_learner, data, &all, m, seed)?)
            } else {
                None
            };
            let (model, choice) =
                final_stage(cfg, x, &stage.pseudo, Some(&stage.weights), covariate.as_ref(), &reps.folds0, seed)?;
            (model, choice, overlap, covariate)
        }
        Method::Dr => {
            let DrPseudo { phi, mu0, overlap, folds0 } = dr_nuisances(rows, known, nuisance_learner, cfg, seed)?;
            let covariate = if cfg.outcome_covariate {
                let pref: Vec<usize> = (0..x.nrows()).filter(|&i| t[i] != 1.0).collect();
                Some(outcome_covariate(nuisance_learner, data, &pref, mu0, seed)?)
            } else {
                None
            };
            let (model, choice) = final_stage(cfg, x, &phi, w, covariate.as_ref(), &folds0, seed)?;
            (model, choice, overlap, covariate)
        }
    };
    Ok(DeltaFit { model, choice, overlap: Some(overlap), rows_kept: None, clip: None, covariate })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::causal::final_stage::FinalStage;
    use crate::learn::RegressorSpec;
    use faer::Mat;
    use rand::RngExt;
    use rand_distr::StandardNormal;

    /// Pooled rows whose bias is linear in a non-linear psi: `psi = sin(2 x_0) + cos(2 x_1)`,
    /// `delta = 0.5 psi + 0.2`, gold `o = psi + 0.3 N`, preference `o = psi - delta + 0.3 N`,
    /// a 20% gold share at random. Returns `(x, t, o, delta)`.
    fn linear_in_psi(n: usize, seed: u64) -> (Mat<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
        let mut rng = Seed(seed).rng();
        let x = Mat::from_fn(n, 2, |_, _| rng.sample::<f64, _>(StandardNormal));
        let psi: Vec<f64> = (0..n).map(|i| (2.0 * x[(i, 0)]).sin() + (2.0 * x[(i, 1)]).cos()).collect();
        let delta: Vec<f64> = psi.iter().map(|p| 0.5 * p + 0.2).collect();
        let t: Vec<f64> = (0..n).map(|_| if rng.random::<f64>() < 0.2 { 1.0 } else { 0.0 }).collect();
        let o: Vec<f64> = (0..n)
            .map(|i| {
                let noise = 0.3 * rng.sample::<f64, _>(StandardNormal);
                if t[i] == 1.0 { psi[i] + noise } else { psi[i] - delta[i] + noise }
            })
            .collect();
        (x, t, o, delta)
    }

    fn rmse(a: &[f64], b: &[f64]) -> f64 {
        (a.iter().zip(b).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() / a.len() as f64).sqrt()
    }

    #[test]
    fn the_outcome_covariate_recovers_a_bias_linear_in_a_nonlinear_psi() {
        // the ridge final stage cannot represent delta from x (sin, cos), but delta is linear in
        // m(x) (R) and in mu0(x) = psi - delta (DR): with the covariate one coefficient fits it
        let (x, t, o, _) = linear_in_psi(3000, 1);
        let (xt, _, _, delta_test) = linear_in_psi(1000, 2);
        let rows = PooledRows { x: x.as_ref(), t: &t, o: &o, w: None };
        let mut forest = RegressorSpec::from_name("rf").unwrap();
        forest.set_params(&["n_estimators=50", "min_samples_leaf=5"]).unwrap();
        let ridge = FinalStage::Fixed(RegressorSpec::from_name("ridge").unwrap());
        for method in [Method::R, Method::Dr] {
            let plain = DeltaConfig { final_stage: ridge.clone(), ..Default::default() };
            let with_cov = DeltaConfig { outcome_covariate: true, ..plain.clone() };
            let a = estimate_delta(method, &rows, &forest, &plain, Seed(3)).unwrap();
            let b = estimate_delta(method, &rows, &forest, &with_cov, Seed(3)).unwrap();
            assert!(a.covariate.is_none() && b.covariate.is_some());
            let (ra, rb) = (
                rmse(&a.predict(xt.as_ref()).unwrap(), &delta_test),
                rmse(&b.predict(xt.as_ref()).unwrap(), &delta_test),
            );
            assert!(rb < 0.5 * ra && rb < 0.2, "{method:?}: RMSE with covariate {rb}, without {ra}");
            // on the training rows the out-of-fold covariate is used, and gives a fit as good
            let (_, _, _, delta_train) = linear_in_psi(3000, 1);
            assert!(rmse(&b.predict_train(x.as_ref()).unwrap(), &delta_train) < 0.2);
        }
    }
}

#[cfg(test)]
mod oob_tests {
    use super::*;
    use crate::learn::forest::RandomForestRegressorParams;
    use crate::learn::{ClassifierSpec, Predict, RegressorSpec};
    use faer::Mat;
    use rand::RngExt;

    #[test]
    fn estimates_with_oob_nuisances_are_bit_identical_for_any_thread_count() {
        let n = 600;
        let mut rng = Seed(3).rng();
        let x = Mat::from_fn(n, 3, |_, _| rng.random::<f64>());
        let t: Vec<f64> = (0..n).map(|i| f64::from(i % 6 == 0)).collect();
        let o: Vec<f64> = (0..n).map(|i| x[(i, 0)] + t[i] * 0.5 * x[(i, 1)] + 0.1 * rng.random::<f64>()).collect();
        let rows = PooledRows { x: x.as_ref(), t: &t, o: &o, w: None };
        let nuisance =
            RegressorSpec::RandomForest(RandomForestRegressorParams { n_estimators: 20, ..Default::default() });
        let cfg = DeltaConfig {
            nuisance: nuisance.clone(),
            nuisance_fit: NuisanceFit::Oob,
            propensity: Propensity::estimated(ClassifierSpec::from_name("rfc").unwrap()),
            repeats: 2,
            ..Default::default()
        };
        let run = |k: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(k).build().unwrap();
            pool.install(|| {
                let mut bits = Vec::new();
                for method in [Method::R, Method::Dr] {
                    let fit = estimate_delta(method, &rows, &nuisance, &cfg, Seed(11)).unwrap();
                    bits.extend(fit.model.predict(x.as_ref()).unwrap().iter().map(|v| v.to_bits()));
                }
                bits
            })
        };
        let one = run(1);
        assert_eq!(one, run(2));
        assert_eq!(one, run(8));
        // and it is not the cross-fitted estimate
        let cf = DeltaConfig { nuisance_fit: NuisanceFit::CrossFit, ..cfg.clone() };
        let fit = estimate_delta(Method::R, &rows, &nuisance, &cf, Seed(11)).unwrap();
        let bits: Vec<u64> = fit.model.predict(x.as_ref()).unwrap().iter().map(|v| v.to_bits()).collect();
        assert_ne!(bits, one[..n]);
    }

    #[test]
    fn auto_is_out_of_bag_for_the_r_learners_bagged_forest_and_cross_fitted_otherwise() {
        let n = 300;
        let mut rng = Seed(5).rng();
        let x = Mat::from_fn(n, 3, |_, _| rng.random::<f64>());
        let t: Vec<f64> = (0..n).map(|i| f64::from(i % 5 == 0)).collect();
        let o: Vec<f64> = (0..n).map(|i| x[(i, 0)] + t[i] * 0.4 * x[(i, 2)] + 0.1 * rng.random::<f64>()).collect();
        let rows = PooledRows { x: x.as_ref(), t: &t, o: &o, w: None };
        let bits = |method: Method, nuisance: &RegressorSpec, fit: NuisanceFit| {
            let cfg = DeltaConfig { nuisance: nuisance.clone(), nuisance_fit: fit, ..Default::default() };
            let d = estimate_delta(method, &rows, nuisance, &cfg, Seed(2)).unwrap();
            d.model.predict(x.as_ref()).unwrap().iter().map(|v| v.to_bits()).collect::<Vec<u64>>()
        };
        let forest =
            RegressorSpec::RandomForest(RandomForestRegressorParams { n_estimators: 15, ..Default::default() });
        let r = bits(Method::R, &forest, NuisanceFit::Auto);
        assert_eq!(r, bits(Method::R, &forest, NuisanceFit::Oob));
        assert_ne!(r, bits(Method::R, &forest, NuisanceFit::CrossFit));
        let dr = bits(Method::Dr, &forest, NuisanceFit::Auto);
        assert_eq!(dr, bits(Method::Dr, &forest, NuisanceFit::CrossFit));
        assert_ne!(dr, bits(Method::Dr, &forest, NuisanceFit::Oob));
        let mut unbagged = forest.clone();
        unbagged.set_params(&["bootstrap=false", "max_features=0.5"]).unwrap();
        let ridge = RegressorSpec::from_name("ridge").unwrap();
        for method in [Method::R, Method::Dr] {
            assert_eq!(bits(method, &unbagged, NuisanceFit::Auto), bits(method, &unbagged, NuisanceFit::CrossFit));
            assert_eq!(bits(method, &ridge, NuisanceFit::Auto), bits(method, &ridge, NuisanceFit::CrossFit));
        }
    }

    #[test]
    fn auto_is_the_default_and_takes_out_of_bag_only_for_a_bagged_nuisance() {
        let cfg = DeltaConfig::default();
        assert_eq!(cfg.nuisance_fit, NuisanceFit::Auto);
        assert!(cfg.nuisance.bagged());
        assert_eq!(nuisance_rule(&cfg, Method::R, cfg.nuisance.bagged()), NuisanceFit::Oob);
        assert_eq!(nuisance_rule(&cfg, Method::Dr, cfg.nuisance.bagged()), NuisanceFit::CrossFit);
        let ridge = RegressorSpec::from_name("ridge").unwrap();
        assert!(!ridge.bagged());
        let mut no_boot = cfg.nuisance.clone();
        no_boot.set_params(&["bootstrap=false"]).unwrap();
        assert!(!no_boot.bagged());
        assert_eq!(nuisance_rule(&cfg, Method::R, false), NuisanceFit::CrossFit);
        // the explicit rules are never rewritten
        for method in [Method::R, Method::Dr] {
            for bagged in [false, true] {
                for fit in [NuisanceFit::CrossFit, NuisanceFit::Oob] {
                    let c = DeltaConfig { nuisance_fit: fit, ..cfg.clone() };
                    assert_eq!(nuisance_rule(&c, method, bagged), fit);
                }
            }
        }
        // `auto` with a learner that is not bagged is valid (it cross-fits), unlike `oob`
        DeltaConfig { nuisance: ridge, ..cfg.clone() }.validate().unwrap();
        DeltaConfig { nuisance: no_boot, ..cfg.clone() }.validate().unwrap();
        let v = serde_json::to_value(&cfg).unwrap();
        assert_eq!(serde_json::from_value::<DeltaConfig>(v).unwrap().nuisance_fit, NuisanceFit::Auto);
    }
}
