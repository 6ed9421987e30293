//! `Delta_hat(x)` by the cross-fitted R- or DR-learner (the default protocol).
//!
//! For each repeat `r` (fold assignment [`crate::causal::folds::stratified`] with repeat `r`,
//! model seeds derived from `seed` for `r = 0` and `seed.indexed(REPEAT, r)` otherwise):
//! * R: `m` out of fold, `e` known or out of fold;
//! * DR: `(mu0, mu1)` out of fold ([`crate::causal::nuisance::outcomes_by_arm`]), `e` likewise.
//!
//! Repeats are aggregated per row (mean or median), the propensity clipped after aggregation,
//! and the final stage ([`crate::causal::final_stage`]) fitted on the R-learner's weighted
//! pseudo-outcomes or the DR-learner's AIPW pseudo-outcomes, with its cross-validation on the
//! repeat-0 folds.

use faer::MatRef;

use crate::causal::crossfit::{aggregate, out_of_fold};
use crate::causal::drlearner::dr_pseudo;
use crate::causal::final_stage::{FinalChoice, fit_final};
use crate::causal::folds::stratified;
use crate::causal::nuisance::{self, Overlap, Propensity};
use crate::causal::rlearner::r_stage;
use crate::causal::routers::RouterConfig;
use crate::error::Result;
use crate::learn::{Regressor, RegressorModel, TrainSet};
use crate::rng::{Seed, stream};

/// Which meta-learner.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// The R-learner.
    R,
    /// The DR-learner.
    Dr,
}

/// Pooled rows `(x, t, o)` with optional user weights.
#[derive(Clone, Copy, Debug)]
pub struct PooledRows<'a> {
    /// Features.
    pub x: MatRef<'a, f64>,
    /// 1 gold, 0 preference.
    pub t: &'a [f64],
    /// `c r` on gold rows, `y` on preference rows.
    pub o: &'a [f64],
    /// Optional user weights.
    pub w: Option<&'a [f64]>,
}

/// A fitted `Delta_hat` with its diagnostics.
#[derive(Clone, Debug)]
pub struct DeltaFit {
    /// The final-stage model.
    pub model: RegressorModel,
    /// Which final stage won.
    pub choice: FinalChoice,
    /// Propensity overlap.
    pub overlap: Option<Overlap>,
    /// Rows kept by a propensity mask (paper protocol only).
    pub rows_kept: Option<usize>,
    /// Clip applied to `Delta_hat` before lifting (paper protocol only).
    pub clip: Option<[f64; 2]>,
}

/// The nuisances of one repeat.
struct Repeat {
    a: Vec<f64>,
    b: Vec<f64>,
    e: Vec<f64>,
}

/// Estimates `Delta_hat` with cross-fitted nuisances (see the module docs).
///
/// # Errors
/// Too few gold or preference rows for the folds; learner errors.
pub fn estimate_delta<N: Regressor>(
    method: Method,
    rows: &PooledRows<'_>,
    nuisance_learner: &N,
    cfg: &RouterConfig,
    seed: Seed,
) -> Result<DeltaFit> {
    let PooledRows { x, t, o, w } = *rows;
    let data = TrainSet { x, y: o, weights: w };
    let per_repeat = crate::budget::sum(&[size_of::<Repeat>() as u64, crate::budget::product(&[x.nrows(), 2, 8])]);
    let need = crate::budget::product(&[cfg.repeats]).saturating_mul(per_repeat);
    crate::budget::check(format_args!("repeats {}", cfg.repeats), "the cross-fitted nuisances", need)?;
    let mut runs = Vec::with_capacity(cfg.repeats);
    let mut folds0 = None;
    for r in 0..cfg.repeats {
        let folds = stratified(t, cfg.n_folds, seed, r)?;
        let base = if r == 0 { seed } else { seed.indexed(stream::REPEAT, r as u64) };
        let e = nuisance::propensity(&cfg.propensity, x, t, w, &folds, base)?;
        let (a, b) = match method {
            Method::R => {
                (out_of_fold(nuisance_learner, data, None, &folds, base, stream::NUISANCE_OUTCOME)?, Vec::new())
            }
            Method::Dr => nuisance::outcomes_by_arm(nuisance_learner, cfg.dr_outcome, data, t, &folds, base)?,
        };
        runs.push(Repeat { a, b, e });
        if r == 0 {
            folds0 = Some(folds);
        }
    }
    let folds0 = match folds0 {
        Some(f) => f,
        None => stratified(t, cfg.n_folds, seed, 0)?,
    };
    let collect = |f: fn(&Repeat) -> &Vec<f64>| -> Result<Vec<f64>> {
        let v: Vec<Vec<f64>> = runs.iter().map(|r| f(r).clone()).collect();
        aggregate(&v, cfg.aggregate)
    };
    let e_raw = collect(|r| &r.e)?;
    let overlap = match &cfg.propensity {
        Propensity::Known => nuisance::overlap(&e_raw, 0.0),
        Propensity::Estimated { clip, .. } => nuisance::overlap(&e_raw, *clip),
    };
    let e = nuisance::clip_propensity(&cfg.propensity, e_raw).clipped;
    let (model, choice) = match method {
        Method::R => {
            let m = collect(|r| &r.a)?;
            let stage = r_stage(o, &m, t, &e, w)?;
            fit_final(&cfg.final_stage, TrainSet::weighted(x, &stage.pseudo, &stage.weights), &folds0, seed)?
        }
        Method::Dr => {
            let mu0 = collect(|r| &r.a)?;
            let mu1 = collect(|r| &r.b)?;
            let phi = dr_pseudo(o, t, &e, &mu0, &mu1)?;
            fit_final(&cfg.final_stage, TrainSet { x, y: &phi, weights: w }, &folds0, seed)?
        }
    };
    Ok(DeltaFit { model, choice, overlap: Some(overlap), rows_kept: None, clip: None })
}
