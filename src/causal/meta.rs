//! `Delta_hat(x)` by the cross-fitted R- or DR-learner (the default protocol).
//!
//! For each repeat `r` (fold assignment [`crate::causal::folds::stratified`] with repeat `r`,
//! model seeds derived from `seed` for `r = 0` and `seed.indexed(REPEAT, r)` otherwise):
//! * R: `m` out of fold, `e` known or out of fold;
//! * DR: `(mu0, mu1)` out of fold ([`crate::causal::nuisance::outcomes_by_arm`]), `e` likewise.
//!
//! With `nuisance_fit = Oob` each out-of-fold nuisance is replaced by its out-of-bag
//! counterpart ([`crate::causal::oob`]: one forest per nuisance and repeat); the folds are still
//! drawn, for the final stage and for rows that no tree left out.
//!
//! Repeats are aggregated per row (mean or median), the propensity clipped after aggregation,
//! and the final stage ([`crate::causal::final_stage`]) fitted on the R-learner's weighted
//! pseudo-outcomes or the DR-learner's AIPW pseudo-outcomes, with its cross-validation on the
//! repeat-0 folds.

use crate::causal::crossfit::{aggregate, out_of_fold};
use crate::causal::delta::{DeltaConfig, DeltaFit, Method, PooledRows};
use crate::causal::drlearner::dr_pseudo;
use crate::causal::final_stage::fit_final;
use crate::causal::folds::{Folds, stratified};
use crate::causal::nuisance::{self, Overlap, Propensity};
use crate::causal::oob::{self, NuisanceFit};
use crate::causal::rlearner::r_stage;
use crate::error::Result;
use crate::learn::{Regressor, TrainSet};
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
        let e = match cfg.nuisance_fit {
            NuisanceFit::CrossFit => nuisance::propensity(&cfg.propensity, x, t, w, &folds, base)?,
            NuisanceFit::Oob => oob::propensity(&cfg.propensity, x, t, w, &folds, base)?,
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
) -> Result<DeltaFit> {
    let PooledRows { x, t, o, w } = *rows;
    let data = TrainSet { x, y: o, weights: w };
    let (model, choice, overlap) = match method {
        Method::R => {
            let reps = cross_fit(rows, cfg, seed, |folds, base| match cfg.nuisance_fit {
                NuisanceFit::CrossFit => {
                    out_of_fold(nuisance_learner, data, None, folds, base, stream::NUISANCE_OUTCOME)
                }
                NuisanceFit::Oob => {
                    oob::out_of_bag(nuisance_learner, data, None, folds, base, (stream::NUISANCE_OUTCOME, 0))
                }
            })?;
            let (e, overlap) = reps.propensity(cfg)?;
            let m = reps.aggregate(cfg, |r| &r.outcome)?;
            let stage = r_stage(o, &m, t, &e, w)?;
            let train = TrainSet::weighted(x, &stage.pseudo, &stage.weights);
            let (model, choice) = fit_final(&cfg.final_stage, train, &reps.folds0, seed)?;
            (model, choice, overlap)
        }
        Method::Dr => {
            let reps = cross_fit(rows, cfg, seed, |folds, base| {
                let (mu0, mu1) = match cfg.nuisance_fit {
                    NuisanceFit::CrossFit => {
                        nuisance::outcomes_by_arm(nuisance_learner, cfg.dr_outcome, data, t, folds, base)?
                    }
                    NuisanceFit::Oob => oob::outcomes_by_arm(nuisance_learner, cfg.dr_outcome, data, t, folds, base)?,
                };
                Ok(ArmOutcomes { mu0, mu1 })
            })?;
            let (e, overlap) = reps.propensity(cfg)?;
            let mu0 = reps.aggregate(cfg, |r| &r.outcome.mu0)?;
            let mu1 = reps.aggregate(cfg, |r| &r.outcome.mu1)?;
            let phi = dr_pseudo(o, t, &e, &mu0, &mu1)?;
            let (model, choice) = fit_final(&cfg.final_stage, TrainSet { x, y: &phi, weights: w }, &reps.folds0, seed)?;
            (model, choice, overlap)
        }
    };
    Ok(DeltaFit { model, choice, overlap: Some(overlap), rows_kept: None, clip: None })
}

#[cfg(test)]
mod tests {
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
}
