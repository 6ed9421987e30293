//! The bridge between the run-time learner spec and the generic learner traits, plus
//! [`fit_rows`], the fit on a subset of rows that every stage of the causal core uses.
//!
//! The causal core is generic over [`Regressor`] / [`Classifier`], so a user-defined learner can
//! be plugged in (see `examples/custom_learner.rs`); the spec enums implement the same traits
//! here, so the command line and saved routers go through the same code paths (out-of-bag
//! fits included: a spec's `fit_out_of_bag` is its forest's, `None` for the other learners).

use faer::MatRef;

use crate::error::Result;
use crate::learn::{Classifier, ClassifierModel, ClassifierSpec, Regressor, RegressorModel, RegressorSpec, TrainSet};
use crate::linalg::select::{gather, gather_opt, select_rows};
use crate::rng::Seed;

impl Regressor for RegressorSpec {
    type Model = RegressorModel;
    fn fit(&self, data: TrainSet<'_>, seed: Seed) -> Result<RegressorModel> {
        RegressorSpec::fit(self, data, seed)
    }
    fn fit_out_of_bag(&self, data: TrainSet<'_>, seed: Seed) -> Result<Option<(RegressorModel, Vec<f64>)>> {
        Ok(match self {
            RegressorSpec::RandomForest(p) => {
                p.fit_out_of_bag(data, seed)?.map(|(m, v)| (RegressorModel::RandomForest(m), v))
            }
            _ => None,
        })
    }
    fn bagged(&self) -> bool {
        match self {
            RegressorSpec::RandomForest(p) => p.bagged(),
            _ => false,
        }
    }
}

impl Classifier for ClassifierSpec {
    type Model = ClassifierModel;
    fn fit(&self, data: TrainSet<'_>, seed: Seed) -> Result<ClassifierModel> {
        ClassifierSpec::fit(self, data, seed)
    }
    fn fit_out_of_bag(&self, data: TrainSet<'_>, seed: Seed) -> Result<Option<(ClassifierModel, Vec<f64>)>> {
        Ok(match self {
            ClassifierSpec::RandomForest(p) => {
                p.fit_out_of_bag(data, seed)?.map(|(m, v)| (ClassifierModel::RandomForest(m), v))
            }
            _ => None,
        })
    }
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
