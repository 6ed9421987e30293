//! Random forests (Breiman 2001): [`RandomForestRegressor`] (squared error, CLI name `rf`) and
//! [`RandomForestClassifier`] (Gini, CLI name `rfc`).
//!
//! Each tree is grown on a bootstrap sample (row weight = bootstrap count x sample weight) with
//! an exact best split over sorted feature values at every node, choosing among `m` randomly
//! drawn features; the forest predicts the mean of its trees,
//! `f(x) = (1/K) sum_k T_k(x)`; for the classifier `P(y = 1 | x)` is the mean over trees of
//! the leaf's weighted class-1 frequency (scikit-learn's `predict_proba`). Parameters carry
//! scikit-learn's names and defaults (see [`ForestParams`]).
//!
//! * [`params`]: parameters, parsing, validation.
//! * [`ranks`]: features presorted once per forest into dense ranks shared by all trees.
//! * [`build`]: growing one tree (split search, partition, stopping rules).
//! * [`sort`]: radix sort of a node's rank keys.
//! * [`tree`]: the flat fitted tree and its walk.
//! * [`fit`]: bootstrap, parallel growth, prediction, out-of-bag estimates, importances.
//!
//! Determinism: tree `k` draws only from `seed.indexed(stream::TREE, k)`, so a fitted forest is
//! bit-identical for any rayon thread count.

pub mod build;
pub mod fit;
pub mod params;
pub mod ranks;
pub mod sort;
pub mod tree;

use std::ops::{Deref, DerefMut};

use faer::MatRef;
use serde::{Deserialize, Serialize};

pub use fit::Forest;
pub use params::{ForestParams, MaxFeatures, MaxSamples};
pub use tree::Tree;

use crate::error::Result;
use crate::learn::{Classifier, Params, Predict, PredictProba, Regressor, TrainSet, check};
use crate::rng::Seed;
use fit::Task;

/// Random-forest regressor (squared error). Defaults as scikit-learn's
/// `RandomForestRegressor`: 100 trees, no depth limit, `max_features = all` (1.0), bootstrap on;
/// see [`ForestParams`] for every parameter and default. Dereferences to [`ForestParams`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RandomForestRegressor(pub ForestParams);

/// Random-forest classifier (Gini) for 0/1 targets. Defaults as scikit-learn's
/// `RandomForestClassifier`: 100 trees, no depth limit, `max_features = sqrt`, bootstrap on;
/// see [`ForestParams`]. Dereferences to [`ForestParams`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RandomForestClassifier(pub ForestParams);

impl Default for RandomForestRegressor {
    fn default() -> Self {
        RandomForestRegressor(ForestParams::with_max_features(MaxFeatures::All))
    }
}

impl Default for RandomForestClassifier {
    fn default() -> Self {
        RandomForestClassifier(ForestParams::with_max_features(MaxFeatures::Sqrt))
    }
}

macro_rules! forest_params {
    ($ty:ty, $name:literal) => {
        impl Deref for $ty {
            type Target = ForestParams;
            fn deref(&self) -> &ForestParams {
                &self.0
            }
        }

        impl DerefMut for $ty {
            fn deref_mut(&mut self) -> &mut ForestParams {
                &mut self.0
            }
        }

        impl Params for $ty {
            fn learner_name(&self) -> &'static str {
                $name
            }
            fn set_param(&mut self, name: &str, value: &str) -> Result<()> {
                self.0.set($name, name, value)
            }
            fn validate(&self) -> Result<()> {
                self.0.validate($name)
            }
        }
    };
}

forest_params!(RandomForestRegressor, "rf");
forest_params!(RandomForestClassifier, "rfc");

/// A fitted random-forest regressor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RandomForestRegressorModel {
    /// The trees and fitted statistics.
    pub forest: Forest,
}

/// A fitted random-forest classifier; its trees' leaf values are class-1 frequencies.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RandomForestClassifierModel {
    /// The trees and fitted statistics.
    pub forest: Forest,
}

impl Regressor for RandomForestRegressor {
    type Model = RandomForestRegressorModel;
    fn fit(&self, data: TrainSet<'_>, seed: Seed) -> Result<RandomForestRegressorModel> {
        self.validate()?;
        check::train_set(&data)?;
        Ok(RandomForestRegressorModel { forest: fit::fit(&self.0, "rf", data, seed, Task::Regression)? })
    }
}

impl Classifier for RandomForestClassifier {
    type Model = RandomForestClassifierModel;
    fn fit(&self, data: TrainSet<'_>, seed: Seed) -> Result<RandomForestClassifierModel> {
        self.validate()?;
        check::train_set(&data)?;
        check::binary_target(&data)?;
        Ok(RandomForestClassifierModel { forest: fit::fit(&self.0, "rfc", data, seed, Task::Classification)? })
    }
}

impl Predict for RandomForestRegressorModel {
    fn n_features(&self) -> usize {
        self.forest.n_features()
    }
    fn predict_into(&self, x: MatRef<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.forest.predict_into(x, out)
    }
    fn predict_row(&self, row: &[f64]) -> Result<f64> {
        self.forest.predict_row(row)
    }
}

impl PredictProba for RandomForestClassifierModel {
    fn n_features(&self) -> usize {
        self.forest.n_features()
    }
    fn predict_proba_into(&self, x: MatRef<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.forest.predict_into(x, out)
    }
}

impl RandomForestClassifierModel {
    /// `P(y = 1 | row)` for one row; does not allocate.
    ///
    /// # Errors
    /// As [`Forest::predict_row`].
    pub fn predict_proba_row(&self, row: &[f64]) -> Result<f64> {
        self.forest.predict_row(row)
    }
}

#[cfg(test)]
mod tests;
