//! How routers are trained: [`RouterConfig`] (the psi learner, scale alignment, gold weight,
//! protocol and the `Delta` estimator's [`DeltaConfig`]) and the default learners.

use serde::{Deserialize, Serialize};

use crate::causal::align::Align;
use crate::causal::delta::{DeltaConfig, default_nuisance};
use crate::error::{Error, Result};
use crate::learn::RegressorSpec;

/// Which protocol estimates `Delta_hat`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Protocol {
    /// Cross-fitted nuisances, selected final stage, alignment (the default).
    #[default]
    CrossFit,
    /// The authors' reference script: in-sample nuisances, its clips and masks, no alignment.
    Paper,
}

impl Protocol {
    /// Parses `crossfit` or `paper`.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] listing the names.
    pub fn from_name(s: &str) -> Result<Self> {
        match s {
            "crossfit" => Ok(Protocol::CrossFit),
            "paper" => Ok(Protocol::Paper),
            _ => Err(Error::param("router", "protocol", format!("unknown protocol `{s}`; known: crossfit, paper"))),
        }
    }
}

/// The default psi learner: the paper's random forest, the same as the default nuisance
/// learner [`default_nuisance`] (100 trees, `max_depth` 20, `max_features` sqrt;
/// scikit-learn's `RandomForestRegressor` defaults otherwise).
pub fn default_learner() -> RegressorSpec {
    default_nuisance()
}

/// The learner a router uses when named on the command line: `None` and `rf` give
/// [`default_learner`] (the paper's forest; further `--param`s override it), any other name its
/// own defaults.
///
/// # Errors
/// [`Error::InvalidParam`] for an unknown name, listing the known ones.
pub fn router_learner(name: Option<&str>) -> Result<RegressorSpec> {
    match name {
        None => Ok(default_learner()),
        Some(n) if n == default_learner().name() => Ok(default_learner()),
        Some(n) => RegressorSpec::from_name(n),
    }
}

/// How routers are trained.
///
/// Defaults: `learner` = [`default_learner`], `align` = `Std`, `gold_weight` = 1,
/// `protocol` = `CrossFit`, `delta` = [`DeltaConfig::default`] (`nuisance` =
/// [`default_nuisance`], `propensity` = `Known`, `n_folds` = 5, `repeats` = 1, `aggregate` =
/// `Mean`, `final_stage` = `Auto`, `dr_outcome` = `Shift`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RouterConfig {
    /// The psi learner.
    pub learner: RegressorSpec,
    /// Scale alignment of gold labels onto the preference scale.
    pub align: Align,
    /// Extra weight on gold rows in the pooled psi regressions (> 0).
    pub gold_weight: f64,
    /// Cross-fitted (default) or the paper's reference protocol.
    pub protocol: Protocol,
    /// How the meta-routers estimate `Delta_hat` (nuisance learner, propensity, folds, ...).
    pub delta: DeltaConfig,
}

impl Default for RouterConfig {
    fn default() -> Self {
        RouterConfig {
            learner: default_learner(),
            align: Align::Std,
            gold_weight: 1.0,
            protocol: Protocol::CrossFit,
            delta: DeltaConfig::default(),
        }
    }
}

impl RouterConfig {
    /// The default configuration with `learner` for psi and the outcome nuisances.
    pub fn with_learner(learner: RegressorSpec) -> Self {
        RouterConfig {
            delta: DeltaConfig { nuisance: learner.clone(), ..Default::default() },
            learner,
            ..Default::default()
        }
    }

    /// Checks every field's domain (learner parameters included).
    ///
    /// # Errors
    /// [`Error::InvalidParam`] naming the field.
    pub fn validate(&self) -> Result<()> {
        self.learner.validate()?;
        self.delta.validate()?;
        if !(self.gold_weight.is_finite() && self.gold_weight > 0.0) {
            return Err(Error::param("router", "gold_weight", format!("must be > 0, got {}", self.gold_weight)));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_learner_is_the_papers_forest() {
        let mut named = RegressorSpec::from_name("rf").unwrap();
        named.set_params(&["n_estimators=100", "max_depth=20", "max_features=sqrt"]).unwrap();
        assert_eq!(format!("{:?}", default_learner()), format!("{named:?}"));
        RouterConfig::default().validate().unwrap();
    }
}
