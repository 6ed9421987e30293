//! What the `Delta` estimators take and give: their configuration ([`DeltaConfig`]), the
//! meta-learner ([`Method`]), the pooled rows ([`PooledRows`]) and the fitted `Delta_hat`
//! ([`DeltaFit`]).
//!
//! Pooled rows carry a treatment `t` (1 gold, 0 preference) and an outcome `o` (`c r` on gold
//! rows, `y` on preference rows); `Delta(x) = E[o(1) - o(0) | x]` is estimated by
//! `meta::estimate_delta` (cross-fitted, the default; configured by [`DeltaConfig`]) or
//! `paper::estimate_delta` (the authors' reference script). Both take these types; neither
//! knows who calls it.

use std::fmt;
use std::sync::Arc;

use faer::{Mat, MatRef};
use serde::{Deserialize, Serialize};

use crate::causal::crossfit::Aggregate;
use crate::causal::final_stage::{FinalChoice, FinalStage, Selection};
use crate::causal::nuisance::{DrOutcome, Overlap, Propensity, check_clip};
use crate::causal::oob::{self, NuisanceFit};
use crate::error::{Error, Result};
use crate::learn::forest::{MaxFeatures, RandomForestRegressorParams};
use crate::learn::{Predict, RegressorModel, RegressorSpec};

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
    /// The outcome covariate of the final stage ([`DeltaConfig::outcome_covariate`]): `model`
    /// takes `[x, covariate(x)]` then.
    pub covariate: Option<OutcomeCovariate>,
}

/// The cross-fitted outcome prediction used as an extra final-stage covariate (the last
/// column of the final stage's design): `m_hat` for the R-learner, `mu0_hat` for the
/// DR-learner.
#[derive(Clone)]
pub struct OutcomeCovariate {
    /// The out-of-fold predictions on the training rows (what the final stage was fitted on,
    /// and what lifting the training rows uses).
    pub oof: Vec<f64>,
    /// The nuisance refitted on all training rows (R: every row; DR: the preference rows),
    /// for new rows.
    pub model: Arc<dyn Predict + Send + Sync>,
}

impl fmt::Debug for OutcomeCovariate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutcomeCovariate")
            .field("rows", &self.oof.len())
            .field("n_features", &self.model.n_features())
            .finish()
    }
}

/// `x` with `c` appended as its last column.
pub fn with_column(x: MatRef<'_, f64>, c: &[f64]) -> Mat<f64> {
    let d = x.ncols();
    Mat::from_fn(x.nrows(), d + 1, |i, j| if j < d { x[(i, j)] } else { c[i] })
}

impl DeltaFit {
    /// `Delta_hat` on the rows the estimator was trained on (unclipped), in their order: with
    /// an outcome covariate, its out-of-fold values.
    ///
    /// # Errors
    /// [`Error::Shape`] when `x` is not the training matrix.
    pub fn predict_train(&self, x: MatRef<'_, f64>) -> Result<Vec<f64>> {
        match &self.covariate {
            None => self.model.predict(x),
            Some(c) => {
                if c.oof.len() != x.nrows() {
                    return Err(Error::shape("Delta_hat training rows", c.oof.len(), x.nrows()));
                }
                self.model.predict(with_column(x, &c.oof).as_ref())
            }
        }
    }

    /// `Delta_hat` on new rows (unclipped): with an outcome covariate, the full-data nuisance
    /// supplies it.
    ///
    /// # Errors
    /// [`Error::Shape`] for the wrong number of columns.
    pub fn predict(&self, x: MatRef<'_, f64>) -> Result<Vec<f64>> {
        predict_with_covariate(&self.model, self.covariate.as_ref().map(|c| &*c.model), x)
    }
}

/// `model([x, outcome(x)])`, or `model(x)` without an outcome model.
///
/// # Errors
/// [`Error::Shape`] for the wrong number of columns.
pub fn predict_with_covariate(
    model: &RegressorModel,
    outcome: Option<&(dyn Predict + Send + Sync)>,
    x: MatRef<'_, f64>,
) -> Result<Vec<f64>> {
    match outcome {
        None => model.predict(x),
        Some(m) => {
            let c = m.predict(x)?;
            model.predict(with_column(x, &c).as_ref())
        }
    }
}

/// The default nuisance learner: the paper's random forest (100 trees, `max_depth` 20,
/// `max_features` sqrt; scikit-learn's `RandomForestRegressor` defaults otherwise).
pub fn default_nuisance() -> RegressorSpec {
    RegressorSpec::RandomForest(RandomForestRegressorParams {
        n_estimators: 100,
        max_depth: Some(20),
        max_features: MaxFeatures::Sqrt,
        ..Default::default()
    })
}

/// How the cross-fitted `Delta_hat` is estimated.
///
/// Defaults: `nuisance` = [`default_nuisance`], `propensity` = `Known`, `n_folds` = 5,
/// `repeats` = 1, `aggregate` = `Mean`, `final_stage` = `Auto`, `dr_outcome` = `Shift`,
/// `nuisance_fit` = `Auto` (out of bag for the R-learner's default forest nuisance),
/// `outcome_covariate` = false, `selection` = `Calibrate`, `dr_gold_ridge` = false.
///
/// The last three fields are the candidate improvements of issue 11 (STATISTICS.md):
/// `outcome_covariate` and `dr_gold_ridge` stay off; `selection` became `Calibrate` after the
/// 50-round confirmation over the scenario suite. They and `nuisance_fit` carry serde defaults
/// so configurations saved before them still load (`selection` as `Argmin` and `nuisance_fit`
/// as `CrossFit`, the rules they were made with).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct DeltaConfig {
    /// The outcome nuisances `m`, `mu0`, `mu1` (and the paper protocol's propensity regressor).
    pub nuisance: RegressorSpec,
    /// The propensity: known gold share or an estimated, clipped classifier.
    pub propensity: Propensity,
    /// Cross-fitting folds (>= 2).
    pub n_folds: usize,
    /// Cross-fitting repeats (>= 1), aggregated by `aggregate`.
    pub repeats: usize,
    /// How repeats are combined.
    pub aggregate: Aggregate,
    /// The final stage of the meta-learners.
    pub final_stage: FinalStage,
    /// How `mu1` is formed in the DR-learner.
    pub dr_outcome: DrOutcome,
    /// How the nuisances are made out of sample: `K`-fold cross-fitting over `n_folds` folds or
    /// out of bag for a bagged forest nuisance (see [`crate::causal::oob`]; the folds still
    /// serve the final stage's cross-validation); the default `Auto` takes out of bag for the
    /// R-learner with a bagged nuisance learner (the meta-learners' `nuisance_rule`).
    /// Absent from older configuration files, where it reads as `CrossFit`, the rule they were
    /// made with.
    #[serde(default = "legacy_nuisance_fit")]
    pub nuisance_fit: NuisanceFit,
    /// Adds the cross-fitted outcome prediction (`m_hat` for R, `mu0_hat` for DR) as the last
    /// covariate of the final stage, so one coefficient absorbs a misaligned scale
    /// (`(1 - s/c) psi` in the bias); new rows get it from the nuisance refitted on all rows.
    #[serde(default)]
    pub outcome_covariate: bool,
    /// How [`FinalStage::Auto`] picks its candidate (or, for [`Selection::Stack`], combines
    /// them). A configuration saved before the field existed was selected by the argmin, and
    /// loads so.
    #[serde(default = "legacy_selection")]
    pub selection: Selection,
    /// DR-learner only, with `dr_outcome` = `Shift`: `mu1 = mu0 + g(x)` with `g` a ridge
    /// regression (alpha by leave-one-out) of the gold rows' residuals `o - mu0_hat`, fitted in
    /// each fold on the other folds' gold rows, instead of `mu0 + b`.
    #[serde(default)]
    pub dr_gold_ridge: bool,
}

/// The selection rule of configurations saved before `selection` existed: the argmin.
fn legacy_selection() -> Selection {
    Selection::Argmin
}

/// The nuisance rule of configurations saved before `nuisance_fit` existed, or while
/// `crossfit` was its default: cross-fitting.
fn legacy_nuisance_fit() -> NuisanceFit {
    NuisanceFit::CrossFit
}

impl Default for DeltaConfig {
    fn default() -> Self {
        DeltaConfig {
            nuisance: default_nuisance(),
            propensity: Propensity::Known,
            n_folds: 5,
            repeats: 1,
            aggregate: Aggregate::Mean,
            final_stage: FinalStage::Auto,
            dr_outcome: DrOutcome::Shift,
            nuisance_fit: NuisanceFit::Auto,
            outcome_covariate: false,
            selection: Selection::Calibrate,
            dr_gold_ridge: false,
        }
    }
}

impl DeltaConfig {
    /// Checks every field's domain (learner parameters included).
    ///
    /// # Errors
    /// [`Error::InvalidParam`] naming the field; for `nuisance_fit = Oob`, naming the nuisance
    /// learner when it is not a random forest with bootstrap ([`oob::check_learner`]).
    pub fn validate(&self) -> Result<()> {
        self.nuisance.validate()?;
        if self.nuisance_fit == NuisanceFit::Oob {
            oob::check_learner(&self.nuisance)?;
        }
        if self.n_folds < 2 {
            return Err(Error::param("router", "n_folds", format!("must be >= 2, got {}", self.n_folds)));
        }
        if self.repeats < 1 {
            return Err(Error::param("router", "repeats", "must be >= 1, got 0"));
        }
        if let Propensity::Estimated { classifier, clip } = &self.propensity {
            classifier.validate()?;
            check_clip(*clip)?;
        }
        if let FinalStage::Fixed(s) = &self.final_stage {
            s.validate()?;
        }
        if self.dr_gold_ridge && self.dr_outcome != DrOutcome::Shift {
            return Err(Error::param(
                "router",
                "dr_gold_ridge",
                "needs dr_outcome = shift (it replaces the shift's constant)",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_nuisance_is_the_papers_forest() {
        let mut named = RegressorSpec::from_name("rf").unwrap();
        named.set_params(&["n_estimators=100", "max_depth=20", "max_features=sqrt"]).unwrap();
        assert_eq!(format!("{:?}", default_nuisance()), format!("{named:?}"));
        DeltaConfig::default().validate().unwrap();
    }

    #[test]
    fn oob_needs_a_bagged_forest_and_old_configs_read_as_crossfit() {
        let oob = DeltaConfig { nuisance_fit: NuisanceFit::Oob, ..Default::default() };
        oob.validate().unwrap();
        let ridge = DeltaConfig { nuisance: RegressorSpec::from_name("ridge").unwrap(), ..oob.clone() };
        let e = ridge.validate().unwrap_err().to_string();
        assert!(e.contains("nuisance_fit") && e.contains("ridge"), "{e}");
        let mut no_boot = oob.nuisance.clone();
        no_boot.set_params(&["bootstrap=false"]).unwrap();
        let e = DeltaConfig { nuisance: no_boot, ..oob.clone() }.validate().unwrap_err().to_string();
        assert!(e.contains("nuisance_fit") && e.contains("bootstrap=false"), "{e}");
        // a configuration written before the field existed
        let mut v = serde_json::to_value(DeltaConfig::default()).unwrap();
        v.as_object_mut().unwrap().remove("nuisance_fit");
        let back: DeltaConfig = serde_json::from_value(v).unwrap();
        assert_eq!(back.nuisance_fit, NuisanceFit::CrossFit);
        let v = serde_json::to_value(&oob).unwrap();
        assert_eq!(serde_json::from_value::<DeltaConfig>(v).unwrap().nuisance_fit, NuisanceFit::Oob);
    }

    #[test]
    fn calibrate_is_the_default_and_old_configs_read_as_argmin() {
        assert_eq!(DeltaConfig::default().selection, Selection::Calibrate);
        let mut v = serde_json::to_value(DeltaConfig::default()).unwrap();
        v.as_object_mut().unwrap().remove("selection");
        assert_eq!(serde_json::from_value::<DeltaConfig>(v).unwrap().selection, Selection::Argmin);
        let v = serde_json::to_value(DeltaConfig::default()).unwrap();
        assert_eq!(serde_json::from_value::<DeltaConfig>(v).unwrap().selection, Selection::Calibrate);
    }
}
