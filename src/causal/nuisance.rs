//! Nuisance functions of the R- and DR-learners, all cross-fitted (see [`crate::causal::crossfit`]).
//!
//! Pooled rows `(x, t, o)`: `t = 1` for gold rows (`o = c r`), `t = 0` for preference rows
//! (`o = y`).
//!
//! * **Outcome** (R-learner): `m(x) = E[o | x]`, the nuisance learner fitted on all rows.
//! * **Outcomes by arm** (DR-learner): `mu0(x) = E[o | x, t = 0]` is fitted on preference rows
//!   (thousands of them). `mu1(x) = E[o | x, t = 1]` has only the ~100 gold rows, so a free
//!   T-learner fit is noisy; by default ([`DrOutcome::Shift`]) it is
//!   `mu1(x) = mu0(x) + b`, with `b` the weighted mean of `o - mu0(x)` over the fold's gold
//!   training rows: the most strongly regularised correction (a constant). The AIPW
//!   pseudo-outcome stays unbiased for any `mu1` when `e` is right, and the gold rows' residuals
//!   `o - mu1` carry the heterogeneity into it. [`DrOutcome::Separate`] fits `mu1` on gold rows
//!   with the nuisance learner (the plain T-learner).
//! * **Propensity** `e(x) = P(t = 1 | x)`: [`Propensity::Known`] is the (weighted) gold share,
//!   exact when gold rows are a simple random sample; [`Propensity::Estimated`] fits a
//!   classifier out of fold and clips to `[eps, 1 - eps]`, keeping raw and clipped values apart
//!   and reporting overlap ([`Overlap`]).

use faer::MatRef;
use serde::{Deserialize, Serialize};

use crate::causal::crossfit::per_fold;
use crate::causal::folds::Folds;
use crate::causal::learner::fit_rows;
use crate::error::{Error, Result};
use crate::learn::linear::LogisticParams;
use crate::learn::{Classifier, ClassifierSpec, Predict, PredictProba, Regressor, TrainSet};
use crate::linalg::select::{gather, gather_opt, select_rows};
use crate::rng::{Seed, stream};

/// The default propensity clip `eps`.
pub const DEFAULT_CLIP: f64 = 0.01;

/// Share of rows at the clip above which overlap is reported as poor.
pub const POOR_OVERLAP_SHARE: f64 = 0.05;

/// How the propensity `e(x) = P(gold | x)` is obtained.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub enum Propensity {
    /// The gold share of the training rows (weighted when weights are given): exact when gold
    /// rows were drawn at random (the default; the study's design).
    #[default]
    Known,
    /// A classifier of `t` on `x`, cross-fitted, clipped to `[clip, 1 - clip]`.
    Estimated {
        /// The classifier.
        classifier: ClassifierSpec,
        /// The clip `eps` in `(0, 0.5)` (default [`DEFAULT_CLIP`]).
        clip: f64,
    },
}

impl Propensity {
    /// An estimated propensity with the given classifier and the default clip.
    pub fn estimated(classifier: ClassifierSpec) -> Self {
        Propensity::Estimated { classifier, clip: DEFAULT_CLIP }
    }
}

/// The default propensity classifier for [`Propensity::Estimated`]: `logistic` with its
/// defaults.
pub fn default_propensity_classifier() -> ClassifierSpec {
    ClassifierSpec::Logistic(LogisticParams::default())
}

/// How `mu1` is formed in the DR-learner.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DrOutcome {
    /// `mu1 = mu0 + b`, `b` the mean gold residual (default; see the module docs).
    #[default]
    Shift,
    /// `mu1` fitted on gold rows alone (T-learner).
    Separate,
}

/// Overlap diagnostics of the propensity.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Overlap {
    /// Smallest raw propensity.
    pub min: f64,
    /// Largest raw propensity.
    pub max: f64,
    /// The clip `eps` applied (0 for a known propensity).
    pub clip: f64,
    /// Share of rows whose raw propensity lay outside `[eps, 1 - eps]`.
    pub share_clipped: f64,
    /// A human-readable warning when overlap is poor.
    pub warning: Option<String>,
}

/// Propensities: raw and clipped kept apart.
#[derive(Clone, Debug)]
pub struct PropensityFit {
    /// Raw out-of-fold propensities.
    pub raw: Vec<f64>,
    /// Clipped propensities (what the learners use).
    pub clipped: Vec<f64>,
}

/// Overlap of raw propensities against a clip.
pub fn overlap(raw: &[f64], clip: f64) -> Overlap {
    let min = raw.iter().copied().fold(f64::INFINITY, f64::min);
    let max = raw.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let n_clipped = raw.iter().filter(|&&e| e < clip || e > 1.0 - clip).count();
    let share_clipped = n_clipped as f64 / raw.len().max(1) as f64;
    let warning = (share_clipped > POOR_OVERLAP_SHARE).then(|| {
        format!(
            "poor overlap: {:.1}% of rows have an estimated propensity outside [{clip}, {}] \
             (range {min:.4} to {max:.4}); estimates of Delta there rest on extrapolation",
            100.0 * share_clipped,
            1.0 - clip
        )
    });
    Overlap { min, max, clip, share_clipped, warning }
}

/// Cross-fitted propensities for one fold assignment.
///
/// # Errors
/// A clip outside `(0, 0.5)`; the classifier's errors.
pub fn propensity(
    how: &Propensity,
    x: MatRef<'_, f64>,
    t: &[f64],
    w: Option<&[f64]>,
    folds: &Folds,
    seed: Seed,
) -> Result<Vec<f64>> {
    match how {
        Propensity::Known => {
            let share = crate::linalg::stats::mean(t, w);
            Ok(vec![share; t.len()])
        }
        Propensity::Estimated { classifier, clip } => {
            check_clip(*clip)?;
            let mut cols = per_fold(folds, 1, |k, train, test| {
                let xs = select_rows(x, train);
                let ts = gather(t, train);
                let ws = gather_opt(w, train);
                let model = Classifier::fit(
                    classifier,
                    TrainSet { x: xs.as_ref(), y: &ts, weights: ws.as_deref() },
                    seed.indexed(stream::NUISANCE_PROPENSITY, k as u64),
                )?;
                Ok(vec![model.predict_proba(select_rows(x, test).as_ref())?])
            })?;
            Ok(cols.swap_remove(0))
        }
    }
}

/// Checks a propensity clip.
///
/// # Errors
/// [`Error::InvalidParam`] unless `0 < clip < 0.5`.
pub fn check_clip(clip: f64) -> Result<()> {
    if clip > 0.0 && clip < 0.5 {
        Ok(())
    } else {
        Err(Error::param("propensity", "clip", format!("must lie in (0, 0.5), got {clip}")))
    }
}

/// Clips raw propensities to `[clip, 1 - clip]` (no-op for a known propensity).
pub fn clip_propensity(how: &Propensity, raw: Vec<f64>) -> PropensityFit {
    let clipped = match how {
        Propensity::Known => raw.clone(),
        Propensity::Estimated { clip, .. } => raw.iter().map(|e| e.clamp(*clip, 1.0 - *clip)).collect(),
    };
    PropensityFit { raw, clipped }
}

/// Cross-fitted `(mu0, mu1)` for one fold assignment (see the module docs for the forms).
///
/// # Errors
/// The learner's errors.
pub fn outcomes_by_arm<N: Regressor>(
    learner: &N,
    form: DrOutcome,
    data: TrainSet<'_>,
    t: &[f64],
    folds: &Folds,
    seed: Seed,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let TrainSet { x, y: o, weights: w } = data;
    let mut cols = per_fold(folds, 2, |k, train, test| {
        let pref: Vec<usize> = train.iter().copied().filter(|&i| t[i] != 1.0).collect();
        let gold: Vec<usize> = train.iter().copied().filter(|&i| t[i] == 1.0).collect();
        let m0 = fit_rows(learner, x, o, w, &pref, seed.indexed(stream::NUISANCE_OUTCOME, k as u64))?;
        let xt = select_rows(x, test);
        let mu0 = m0.predict(xt.as_ref())?;
        let mu1 = match form {
            DrOutcome::Shift => {
                let g0 = m0.predict(select_rows(x, &gold).as_ref())?;
                let resid: Vec<f64> = gold.iter().zip(&g0).map(|(&i, p)| o[i] - p).collect();
                let b = crate::linalg::stats::mean(&resid, gather_opt(w, &gold).as_deref());
                mu0.iter().map(|m| m + b).collect()
            }
            DrOutcome::Separate => {
                let m1 =
                    fit_rows(learner, x, o, w, &gold, seed.indexed(stream::NUISANCE_OUTCOME, (folds.k + k) as u64))?;
                m1.predict(xt.as_ref())?
            }
        };
        Ok(vec![mu0, mu1])
    })?;
    let mu1 = cols.pop().unwrap_or_default();
    let mu0 = cols.pop().unwrap_or_default();
    Ok((mu0, mu1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::causal::folds::stratified;
    use crate::learn::RegressorSpec;
    use faer::Mat;

    #[test]
    fn known_propensity_is_the_share_and_overlap_reports() {
        let t = [1.0, 0.0, 0.0, 0.0];
        let x = Mat::<f64>::zeros(4, 1);
        let f = Folds { fold_of: vec![0, 1, 0, 1], k: 2 };
        let e = propensity(&Propensity::Known, x.as_ref(), &t, None, &f, Seed(0)).unwrap();
        assert_eq!(e, vec![0.25; 4]);
        let ov = overlap(&[0.001, 0.2, 0.3, 0.999], 0.01);
        assert_eq!(ov.share_clipped, 0.5);
        assert!(ov.warning.unwrap().contains("50.0%"));
        let pf = clip_propensity(&Propensity::estimated(ClassifierSpec::from_name("prior").unwrap()), vec![0.001, 0.5]);
        assert_eq!(pf.clipped, vec![0.01, 0.5]);
        assert_eq!(pf.raw, vec![0.001, 0.5]);
        assert!(check_clip(0.5).is_err());
    }

    #[test]
    fn the_default_classifier_is_logistic_with_its_defaults() {
        let named = ClassifierSpec::from_name("logistic").unwrap();
        assert_eq!(format!("{:?}", default_propensity_classifier()), format!("{named:?}"));
    }

    #[test]
    fn shift_form_is_mu0_plus_the_mean_gold_residual() {
        let n = 40;
        let x = Mat::from_fn(n, 1, |i, _| i as f64);
        let t: Vec<f64> = (0..n).map(|i| if i % 4 == 0 { 1.0 } else { 0.0 }).collect();
        let o: Vec<f64> = (0..n).map(|i| if t[i] == 1.0 { 5.0 + i as f64 * 0.1 } else { 1.0 }).collect();
        let folds = stratified(&t, 2, Seed(2), 0).unwrap();
        let spec = RegressorSpec::from_name("constant").unwrap();
        let (mu0, mu1) =
            outcomes_by_arm(&spec, DrOutcome::Shift, TrainSet::new(x.as_ref(), &o), &t, &folds, Seed(1)).unwrap();
        for k in 0..2 {
            let gold: Vec<usize> = folds.train_rows(k).into_iter().filter(|&i| t[i] == 1.0).collect();
            let b = gold.iter().map(|&i| o[i] - 1.0).sum::<f64>() / gold.len() as f64;
            for i in folds.test_rows(k) {
                assert_eq!(mu0[i], 1.0);
                assert!((mu1[i] - 1.0 - b).abs() < 1e-12);
            }
        }
    }
}
