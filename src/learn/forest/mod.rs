//! Random forests (Breiman 2001): [`RandomForestRegressorParams`] /
//! [`RandomForestRegressorModel`] (squared error, CLI name `rf`) and
//! [`RandomForestClassifierParams`] / [`RandomForestClassifierModel`] (Gini, CLI name `rfc`).
//!
//! Each tree is grown on a bootstrap sample (row weight = bootstrap count x sample weight) with
//! an exact best split over sorted feature values at every node, choosing among `m` randomly
//! drawn features; the forest predicts the mean of its trees,
//! `f(x) = (1/K) sum_k T_k(x)`; for the classifier `P(y = 1 | x)` is the mean over trees of
//! the leaf's weighted class-1 frequency (scikit-learn's `predict_proba`). Parameters carry
//! scikit-learn's names and defaults (see [`RandomForestRegressorParams`]).
//!
//! The split search is exact by default (every boundary between distinct values of the node's
//! rows is a candidate, as in scikit-learn); `split=binned` searches only the boundaries between
//! at most `max_bins` quantile bins per feature in nodes of 256 rows or more (see `bins.rs`,
//! `build.rs`). Presorting the features once into ranks and radix-sorting each node's ranks was
//! chosen by measurement over comparison-sorting values per node (see BENCHMARKS.md).
//!
//! * `params.rs`: parameters, parsing, validation.
//! * `ranks.rs`: features presorted once per forest into dense ranks shared by all trees.
//! * `bins.rs`: ranks grouped into `u8` quantile bins for `split=binned`.
//! * `build.rs`: growing one tree (split search, partition, stopping rules).
//! * `sort.rs`: radix sort of a node's rank keys.
//! * `tree.rs`: the flat fitted tree and its walk.
//! * `fit.rs`: bootstrap, parallel growth, prediction, out-of-bag estimates, importances.
//! * `oob.rs`: per-row out-of-bag predictions of a fitted forest, in-bag masks replayed from
//!   the tree seeds ([`InBag`], [`OutOfBag`], `fit_out_of_bag`).
//!
//! Determinism: tree `k` draws only from `seed.indexed(stream::TREE, k)`, so a fitted forest is
//! bit-identical for any rayon thread count.

mod bins;
mod build;
mod fit;
mod oob;
mod params;
mod ranks;
mod sort;
mod tree;

use faer::MatRef;
use serde::{Deserialize, Serialize};

pub use fit::Forest;
pub use oob::{InBag, OutOfBag};
pub use params::{MaxFeatures, MaxSamples, RandomForestClassifierParams, RandomForestRegressorParams, SplitSearch};
pub use tree::Tree;

use crate::error::Result;
use crate::learn::{Classifier, Params, Predict, PredictProba, Regressor, TrainSet, check};
use crate::rng::Seed;
use fit::Task;
use params::ForestParams;

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

impl Regressor for RandomForestRegressorParams {
    type Model = RandomForestRegressorModel;
    fn fit(&self, data: TrainSet<'_>, seed: Seed) -> Result<RandomForestRegressorModel> {
        self.validate()?;
        check::train_set(&data)?;
        Ok(RandomForestRegressorModel {
            forest: fit::fit(&ForestParams::from(self), "rf", data, seed, Task::Regression)?,
        })
    }
    fn fit_out_of_bag(&self, data: TrainSet<'_>, seed: Seed) -> Result<Option<(Self::Model, Vec<f64>)>> {
        if !self.bootstrap {
            return Ok(None);
        }
        let (model, oob) = RandomForestRegressorParams::fit_with_oob(self, data, seed)?;
        Ok(Some((model, oob.prediction)))
    }
    fn bagged(&self) -> bool {
        self.bootstrap
    }
}

impl Classifier for RandomForestClassifierParams {
    type Model = RandomForestClassifierModel;
    fn fit(&self, data: TrainSet<'_>, seed: Seed) -> Result<RandomForestClassifierModel> {
        self.validate()?;
        check::train_set(&data)?;
        check::binary_target(&data)?;
        Ok(RandomForestClassifierModel {
            forest: fit::fit(&ForestParams::from(self), "rfc", data, seed, Task::Classification)?,
        })
    }
    fn fit_out_of_bag(&self, data: TrainSet<'_>, seed: Seed) -> Result<Option<(Self::Model, Vec<f64>)>> {
        if !self.bootstrap {
            return Ok(None);
        }
        let (model, oob) = RandomForestClassifierParams::fit_with_oob(self, data, seed)?;
        Ok(Some((model, oob.prediction)))
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
