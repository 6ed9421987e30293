//! The bridge between the run-time learner spec and the generic learner traits, plus row
//! selection helpers used by every stage of the causal core.
//!
//! The causal core is generic over [`Regressor`] / [`Classifier`], so a user-defined learner can
//! be plugged in (see `examples/custom_learner.rs`); the spec enums implement the same traits
//! here, so the command line and saved routers go through the same code paths.

use faer::{Mat, MatRef};

use crate::error::Result;
use crate::learn::{Classifier, ClassifierModel, ClassifierSpec, Regressor, RegressorModel, RegressorSpec, TrainSet};
use crate::rng::Seed;

impl Regressor for RegressorSpec {
    type Model = RegressorModel;
    fn fit(&self, data: TrainSet<'_>, seed: Seed) -> Result<RegressorModel> {
        RegressorSpec::fit(self, data, seed)
    }
}

impl Classifier for ClassifierSpec {
    type Model = ClassifierModel;
    fn fit(&self, data: TrainSet<'_>, seed: Seed) -> Result<ClassifierModel> {
        ClassifierSpec::fit(self, data, seed)
    }
}

/// The rows `idx` of `x`, in that order, as a new column-major matrix.
pub fn select_rows(x: MatRef<'_, f64>, idx: &[usize]) -> Mat<f64> {
    Mat::from_fn(idx.len(), x.ncols(), |i, j| x[(idx[i], j)])
}

/// The elements `idx` of `v`, in that order.
pub fn gather(v: &[f64], idx: &[usize]) -> Vec<f64> {
    idx.iter().map(|&i| v[i]).collect()
}

/// The elements `idx` of optional weights.
pub fn gather_opt(v: Option<&[f64]>, idx: &[usize]) -> Option<Vec<f64>> {
    v.map(|w| gather(w, idx))
}

/// Fits `learner` on the rows `idx` of `(x, y, w)`.
///
/// # Errors
/// As the learner's `fit`.
pub fn fit_rows<R: Regressor>(
    learner: &R,
    x: MatRef<'_, f64>,
    y: &[f64],
    w: Option<&[f64]>,
    idx: &[usize],
    seed: Seed,
) -> Result<R::Model> {
    let xs = select_rows(x, idx);
    let ys = gather(y, idx);
    let ws = gather_opt(w, idx);
    learner.fit(TrainSet { x: xs.as_ref(), y: &ys, weights: ws.as_deref() }, seed)
}
