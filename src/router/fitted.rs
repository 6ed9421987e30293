//! A trained router before serving: its psi model, the scale constant, `Delta_hat` (meta-routers
//! and mean shift) and what happened in training ([`Diagnostics`]).
//!
//! Saved router files embed [`Diagnostics`] and a [`crate::router::RouterKind`]: their fields
//! and order are part of the file format.

use std::sync::Arc;

use faer::MatRef;
use serde::{Deserialize, Serialize};

use crate::causal::align::Alignment;
use crate::causal::delta::predict_with_covariate;
use crate::causal::final_stage::FinalChoice;
use crate::causal::nuisance::Overlap;
use crate::error::Result;
use crate::learn::{Predict, RegressorModel};
use crate::router::kind::RouterKind;

/// What happened while training a router.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Diagnostics {
    /// Training rows.
    pub n_rows: usize,
    /// Gold rows among them.
    pub n_gold: usize,
    /// Preference rows among them.
    pub n_pref: usize,
    /// The scale constant and how it was found.
    pub alignment: Alignment,
    /// The meta-learners' final stage: the winner and every candidate's CV loss.
    pub final_stage: Option<FinalChoice>,
    /// Propensity overlap (meta-routers).
    pub overlap: Option<Overlap>,
    /// Mean of `Delta_hat` over preference rows (meta-routers, mean shift).
    pub delta_mean: Option<f64>,
    /// Rows kept by the paper protocol's propensity mask.
    pub rows_kept: Option<usize>,
    /// Warnings worth showing a user (clamped scale, poor overlap, ...).
    pub warnings: Vec<String>,
}

/// A trained router with a psi model of type `M`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FittedRouter<M> {
    /// Which router.
    pub kind: RouterKind,
    /// `psi_hat(x)` on the preference scale (gold labels were multiplied by `scale`).
    pub psi: M,
    /// The constant `c` applied to gold labels (1 without alignment).
    pub scale: f64,
    /// `Delta_hat(x)` on the preference scale (meta-routers; a constant for `mean_shift`).
    pub delta: Option<RegressorModel>,
    /// Clip applied to `Delta_hat` before lifting (the paper protocol's `[-1.2, 1.2]`).
    pub delta_clip: Option<[f64; 2]>,
    /// What happened in training.
    pub diagnostics: Diagnostics,
    /// With an outcome covariate in the final stage (`DeltaConfig::outcome_covariate`): the
    /// full-data outcome nuisance whose prediction `delta` takes as its last column. Not
    /// serialised (a user-defined nuisance need not be); a deserialised router has none.
    #[serde(skip)]
    pub delta_covariate: Option<DeltaCovariate>,
}

/// The outcome nuisance behind an outcome covariate of `Delta_hat` (see
/// [`FittedRouter::delta_covariate`]).
#[derive(Clone)]
pub struct DeltaCovariate(pub Arc<dyn Predict + Send + Sync>);

impl std::fmt::Debug for DeltaCovariate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "DeltaCovariate({} features)", self.0.n_features())
    }
}

/// A trained router whose psi model comes from the run-time learner spec.
pub type TrainedRouter = FittedRouter<RegressorModel>;

impl<M: Predict> FittedRouter<M> {
    /// `psi_hat` for each row of `x`.
    ///
    /// # Errors
    /// [`crate::Error::Shape`] for the wrong number of columns.
    pub fn predict_psi(&self, x: MatRef<'_, f64>) -> Result<Vec<f64>> {
        self.psi.predict(x)
    }

    /// `Delta_hat` for each row of `x` (with the protocol's clip), or `None` for routers
    /// without one.
    ///
    /// # Errors
    /// [`crate::Error::Shape`] for the wrong number of columns.
    pub fn predict_delta(&self, x: MatRef<'_, f64>) -> Result<Option<Vec<f64>>> {
        self.delta.as_ref().map(|d| clipped_delta(d, self.delta_covariate.as_ref(), self.delta_clip, x)).transpose()
    }
}

/// `Delta_hat(x)` of a final-stage model `delta` (with its outcome covariate, when it has one)
/// for each row of `x`, clamped to `clip` when given.
///
/// # Errors
/// [`crate::Error::Shape`] for the wrong number of columns.
pub(crate) fn clipped_delta(
    delta: &RegressorModel,
    covariate: Option<&DeltaCovariate>,
    clip: Option<[f64; 2]>,
    x: MatRef<'_, f64>,
) -> Result<Vec<f64>> {
    let mut v = predict_with_covariate(delta, covariate.map(|c| &*c.0), x)?;
    if let Some([lo, hi]) = clip {
        v.iter_mut().for_each(|z| *z = z.clamp(lo, hi));
    }
    Ok(v)
}
