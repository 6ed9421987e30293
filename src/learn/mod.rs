//! Learners: the traits every model implements, the run-time learner spec, and the learners.
//!
//! # Contract
//! * A *params* struct (plain, public fields, `Default`, `validate()`) is separate from the
//!   *fitted model* it produces; `fit(&self, data, seed)` never mutates the params.
//! * `fit` takes a [`TrainSet`] (features as a faer `MatRef`, targets, optional sample weights)
//!   and a [`Seed`]. The same seed and data give a bit-identical model for any rayon thread count.
//! * Sample weights are honoured exactly, never silently dropped: a weight of 2 is the same as
//!   the row appearing twice, a weight of 0 the same as the row being absent (up to the
//!   learner's own randomness, e.g. bootstrap draws).
//! * Prediction writes into a caller's buffer ([`Predict::predict_into`]) without allocating;
//!   convenience methods allocate on top. [`Predict::predict_row`] scores one query from a
//!   slice, for serving paths.
//!
//! This module knows nothing of routers, gold or preference labels: dependencies point from
//! `causal` and `router` to `learn`, never back.

pub mod check;
pub mod constant;
pub mod forest;
pub mod gbm;
pub mod kmeans;
pub mod linear;
pub mod pca;
pub mod spec;
pub mod stack;

use faer::MatRef;

use crate::error::Result;
use crate::rng::Seed;

pub use crate::params::Params;
pub use spec::{ClassifierModel, ClassifierSpec, RegressorModel, RegressorSpec};

/// A read-only training view. Rows are samples.
#[derive(Clone, Copy, Debug)]
pub struct TrainSet<'a> {
    /// Features, `n_samples x n_features`.
    pub x: MatRef<'a, f64>,
    /// Targets, one per row (for classifiers: 0.0 or 1.0).
    pub y: &'a [f64],
    /// Optional non-negative sample weights, one per row; `None` means all ones.
    pub weights: Option<&'a [f64]>,
}

impl<'a> TrainSet<'a> {
    /// A view without weights.
    pub fn new(x: MatRef<'a, f64>, y: &'a [f64]) -> Self {
        TrainSet { x, y, weights: None }
    }

    /// A view with weights.
    pub fn weighted(x: MatRef<'a, f64>, y: &'a [f64], weights: &'a [f64]) -> Self {
        TrainSet { x, y, weights: Some(weights) }
    }

    /// Number of rows.
    pub fn n_samples(&self) -> usize {
        self.x.nrows()
    }

    /// Number of feature columns.
    pub fn n_features(&self) -> usize {
        self.x.ncols()
    }

    /// The weight of row `i` (1 when unweighted).
    #[inline]
    pub fn weight(&self, i: usize) -> f64 {
        match self.weights {
            Some(w) => w[i],
            None => 1.0,
        }
    }
}

/// Prediction of a real value per row.
pub trait Predict {
    /// The number of feature columns the model was fitted on.
    fn n_features(&self) -> usize;

    /// Writes one prediction per row of `x` into `out` without allocating.
    ///
    /// # Errors
    /// [`crate::Error::Shape`] when `x` has the wrong number of columns or `out` the wrong length.
    fn predict_into(&self, x: MatRef<'_, f64>, out: &mut [f64]) -> Result<()>;

    /// Predictions as a new vector.
    fn predict(&self, x: MatRef<'_, f64>) -> Result<Vec<f64>> {
        let mut out = vec![0.0; x.nrows()];
        self.predict_into(x, &mut out)?;
        Ok(out)
    }

    /// The prediction for one query given as a slice of its features; does not allocate.
    fn predict_row(&self, row: &[f64]) -> Result<f64> {
        let x = MatRef::from_row_major_slice(row, 1, row.len());
        let mut out = [0.0];
        self.predict_into(x, &mut out)?;
        Ok(out[0])
    }
}

/// Prediction of the probability of class 1 per row.
pub trait PredictProba {
    /// The number of feature columns the model was fitted on.
    fn n_features(&self) -> usize;

    /// Writes P(y = 1 | x) per row into `out` without allocating.
    ///
    /// # Errors
    /// [`crate::Error::Shape`] when `x` has the wrong number of columns or `out` the wrong length.
    fn predict_proba_into(&self, x: MatRef<'_, f64>, out: &mut [f64]) -> Result<()>;

    /// Probabilities as a new vector.
    fn predict_proba(&self, x: MatRef<'_, f64>) -> Result<Vec<f64>> {
        let mut out = vec![0.0; x.nrows()];
        self.predict_proba_into(x, &mut out)?;
        Ok(out)
    }
}

/// A regression learner: params in, fitted model out.
pub trait Regressor: Sync {
    /// The fitted model.
    type Model: Predict + Send + Sync;
    /// Fits the model.
    ///
    /// # Errors
    /// Invalid parameters, empty or non-finite data, mismatched lengths, invalid weights.
    ///
    /// # Determinism
    /// The same data and seed give a bit-identical model for any rayon thread count.
    fn fit(&self, data: TrainSet<'_>, seed: Seed) -> Result<Self::Model>;

    /// For a bagged learner: the model [`fit`](Regressor::fit) returns and each training
    /// row's out-of-bag prediction (the mean over the members whose bootstrap sample left the
    /// row out; NaN when every member drew it). `Ok(None)` (the default) when the learner is
    /// not bagged; a random forest is bagged when `bootstrap = true`
    /// (see [`forest::OutOfBag`]).
    ///
    /// # Errors
    /// As [`fit`](Regressor::fit).
    fn fit_out_of_bag(&self, data: TrainSet<'_>, seed: Seed) -> Result<Option<(Self::Model, Vec<f64>)>> {
        let _ = (data, seed);
        Ok(None)
    }

    /// Whether [`fit_out_of_bag`](Regressor::fit_out_of_bag) gives out-of-bag predictions
    /// (`false`, the default, for a learner that is not bagged). The meta-learners' default
    /// `nuisance_fit = auto` asks it to choose between out-of-bag and cross-fitted nuisances.
    fn bagged(&self) -> bool {
        false
    }
}

/// A binary classification learner (targets 0.0 / 1.0).
pub trait Classifier: Sync {
    /// The fitted model.
    type Model: PredictProba + Send + Sync;
    /// Fits the model.
    ///
    /// # Errors
    /// As [`Regressor::fit`], plus a target that is not 0/1 or has a single class.
    fn fit(&self, data: TrainSet<'_>, seed: Seed) -> Result<Self::Model>;

    /// As [`Regressor::fit_out_of_bag`]: the model and each training row's out-of-bag
    /// `P(y = 1 | x)` for a bagged classifier, `Ok(None)` (the default) otherwise.
    ///
    /// # Errors
    /// As [`fit`](Classifier::fit).
    fn fit_out_of_bag(&self, data: TrainSet<'_>, seed: Seed) -> Result<Option<(Self::Model, Vec<f64>)>> {
        let _ = (data, seed);
        Ok(None)
    }
}
