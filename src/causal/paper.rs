//! `Delta_hat(x)` as the authors' reference script computes it (`--protocol paper`; facts in
//! METHOD.md, "The authors' reference script").
//!
//! * No cross-fitting: nuisances are fitted and predicted on the same rows.
//! * The propensity is the nuisance *regressor* fitted on `t` (the script uses a forest
//!   regressor).
//! * R: `e` clipped to `[0.1, 0.9]`; rows with `|t - e| > 0.05` kept; pseudo-outcome
//!   `(o - m) / (t - e)`, weights `(t - e)^2`.
//! * DR: an S-learner outcome model on `[x, t]` gives `mu1 = f(x, 1)`, `mu0 = f(x, 0)`,
//!   `mu_t = f(x, t)`; `e` clipped to `[0.05, 0.95]`; rows with `e (1 - e) > 0.05` kept;
//!   pseudo-outcome `(t - e) / (e (1 - e)) (o - mu_t) + mu1 - mu0`; final stage unweighted.
//! * Final stage: a forest of 200 trees, `max_depth = 30`, `min_samples_split = 5`,
//!   `min_samples_leaf = 2`, `max_features = sqrt` ([`paper_final_stage`]); the configured
//!   final stage does not apply.
//! * `Delta_hat` clipped to `[-1.2, 1.2]` before lifting; no scale constant (the caller forces
//!   `align = none`).

use faer::Mat;

use crate::causal::delta::{DeltaFit, Method, PooledRows};
use crate::causal::final_stage::FinalChoice;
use crate::causal::nuisance::overlap;
use crate::error::{Error, Result};
use crate::learn::forest::{MaxFeatures, RandomForestRegressorParams};
use crate::learn::{Predict, Regressor, RegressorSpec, TrainSet};
use crate::rng::{Seed, stream};

/// The clip on `Delta_hat` in the reference script.
pub const DELTA_CLIP: [f64; 2] = [-1.2, 1.2];

/// The label of [`paper_final_stage`] in the diagnostics.
pub const PAPER_FINAL_STAGE_LABEL: &str =
    "rf(n_estimators=200,max_depth=30,min_samples_split=5,min_samples_leaf=2,max_features=sqrt)";

/// The reference script's final-stage learner with its label ([`PAPER_FINAL_STAGE_LABEL`]).
pub fn paper_final_stage() -> (String, RegressorSpec) {
    let rf = RegressorSpec::RandomForest(RandomForestRegressorParams {
        n_estimators: 200,
        max_depth: Some(30),
        min_samples_split: 5,
        min_samples_leaf: 2,
        max_features: MaxFeatures::Sqrt,
        ..Default::default()
    });
    (PAPER_FINAL_STAGE_LABEL.to_string(), rf)
}

/// The reference script's DR pseudo-outcome `(t - e) / (e (1 - e)) (o - mu_t) + mu1 - mu0`
/// (algebraically the AIPW form of [`crate::causal::drlearner`] with `mu_t` the S-learner's
/// prediction at the observed `t`).
pub fn paper_dr_pseudo(o: f64, t: f64, e: f64, mu_t: f64, mu1: f64, mu0: f64) -> f64 {
    (t - e) / (e * (1.0 - e)) * (o - mu_t) + mu1 - mu0
}

/// Estimates `Delta_hat` with the reference script's choices (see the module docs).
///
/// # Errors
/// No row survives the propensity mask; learner errors.
pub fn estimate_delta<N: Regressor>(
    method: Method,
    rows: &PooledRows<'_>,
    nuisance: &N,
    seed: Seed,
) -> Result<DeltaFit> {
    let PooledRows { x, t, o, w } = *rows;
    let n = x.nrows();
    let e_model = nuisance.fit(TrainSet { x, y: t, weights: w }, seed.indexed(stream::NUISANCE_PROPENSITY, 0))?;
    let e_raw = e_model.predict(x)?;
    let (lo, hi) = match method {
        Method::R => (0.1, 0.9),
        Method::Dr => (0.05, 0.95),
    };
    let e: Vec<f64> = e_raw.iter().map(|v| v.clamp(lo, hi)).collect();
    let (pseudo, fit_w, keep): (Vec<f64>, Vec<f64>, Vec<usize>) = match method {
        Method::R => {
            let m_model = nuisance.fit(TrainSet { x, y: o, weights: w }, seed.indexed(stream::NUISANCE_OUTCOME, 0))?;
            let m = m_model.predict(x)?;
            let keep: Vec<usize> = (0..n).filter(|&i| (t[i] - e[i]).abs() > 0.05).collect();
            let pseudo = keep.iter().map(|&i| (o[i] - m[i]) / (t[i] - e[i])).collect();
            let fw = keep.iter().map(|&i| (t[i] - e[i]).powi(2) * w.map_or(1.0, |w| w[i])).collect();
            (pseudo, fw, keep)
        }
        Method::Dr => {
            let d = x.ncols();
            let xt = Mat::from_fn(n, d + 1, |i, j| if j < d { x[(i, j)] } else { t[i] });
            let s_model = nuisance
                .fit(TrainSet { x: xt.as_ref(), y: o, weights: w }, seed.indexed(stream::NUISANCE_OUTCOME, 0))?;
            let mu_t = s_model.predict(xt.as_ref())?;
            let x1 = Mat::from_fn(n, d + 1, |i, j| if j < d { x[(i, j)] } else { 1.0 });
            let x0 = Mat::from_fn(n, d + 1, |i, j| if j < d { x[(i, j)] } else { 0.0 });
            let mu1 = s_model.predict(x1.as_ref())?;
            let mu0 = s_model.predict(x0.as_ref())?;
            let keep: Vec<usize> = (0..n).filter(|&i| e[i] * (1.0 - e[i]) > 0.05).collect();
            let pseudo = keep.iter().map(|&i| paper_dr_pseudo(o[i], t[i], e[i], mu_t[i], mu1[i], mu0[i])).collect();
            let fw = keep.iter().map(|&i| w.map_or(1.0, |w| w[i])).collect();
            (pseudo, fw, keep)
        }
    };
    if keep.is_empty() {
        return Err(Error::data(
            "paper protocol: no row passes the propensity mask (every estimated propensity sits at the clip)",
        ));
    }
    let xs = crate::linalg::select::select_rows(x, &keep);
    let (label, spec) = paper_final_stage();
    let model = spec.fit(TrainSet::weighted(xs.as_ref(), &pseudo, &fit_w), seed.child(stream::FINAL))?;
    Ok(DeltaFit {
        model,
        choice: FinalChoice { chosen: label, candidates: Vec::new() },
        overlap: Some(overlap(&e_raw, lo)),
        rows_kept: Some(keep.len()),
        clip: Some(DELTA_CLIP),
        covariate: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paper_pseudo_outcome_by_hand_and_equal_to_aipw() {
        // gold: (0.8 / 0.16) * (2 - 1.5) + 1.5 - 1 = 3
        assert!((paper_dr_pseudo(2.0, 1.0, 0.2, 1.5, 1.5, 1.0) - 3.0).abs() < 1e-15);
        // with mu_t = mu_{t}, the same value as the AIPW form, for both arms
        for (o, t) in [(2.0, 1.0), (0.3, 0.0)] {
            let (e, mu1, mu0) = (0.2, 1.5, 1.0);
            let mu_t = if t == 1.0 { mu1 } else { mu0 };
            let aipw = crate::causal::drlearner::dr_pseudo(&[o], &[t], &[e], &[mu0], &[mu1]).unwrap()[0];
            assert!((paper_dr_pseudo(o, t, e, mu_t, mu1, mu0) - aipw).abs() < 1e-12);
        }
    }

    #[test]
    fn the_typed_final_stage_is_its_label() {
        let (label, spec) = paper_final_stage();
        let params = label.strip_prefix("rf(").and_then(|p| p.strip_suffix(')')).unwrap();
        let mut named = RegressorSpec::from_name("rf").unwrap();
        named.set_params(&params.split(',').collect::<Vec<_>>()).unwrap();
        assert_eq!(format!("{spec:?}"), format!("{named:?}"));
        spec.validate().unwrap();
    }
}
