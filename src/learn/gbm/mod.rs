//! Histogram gradient boosting: [`HgbParams`] (regression, squared error, CLI name `hgb`) and
//! [`HgbcParams`] (binary classification, logistic loss, CLI name `hgbc`), after scikit-learn's
//! `HistGradientBoosting*` and LightGBM.
//!
//! The model is `F(x) = F_0 + sum_t f_t(x)` with regression trees `f_t` grown leaf-wise on
//! Newton steps of the loss; the classifier predicts `P(y = 1 | x) = sigmoid(F(x))`.
//!
//! Pipeline, one file per stage:
//! * `binning.rs`: weighted-quantile cut points from a seeded subsample, `u8` codes, NaN bin;
//! * `histogram.rs`: gradient/hessian/count sums per feature bin, subtraction trick;
//! * `split.rs`: best split per leaf with L2 penalty and child constraints, NaN to the best side;
//! * `grow.rs`: leaf-wise growth over one in-place partitioned index buffer;
//! * `loss.rs`: squared error and logistic loss, initial scores;
//! * `boost.rs`: the boosting loop, row/feature subsampling, early stopping;
//! * `predict.rs`: flat trees with raw thresholds, allocation-free row path, parallel batches.
//!
//! Features may contain NaN (missing values; each split sends them to the side that fit the
//! training data best); infinite features, and non-finite targets or weights, are errors.
//! Sample weights multiply gradients and hessians; `min_samples_leaf` counts rows, not weight.
//!
//! References: Friedman (2001) "Greedy function approximation: a gradient boosting machine";
//! Chen & Guestrin (2016) "XGBoost"; Ke et al. (2017) "LightGBM".

mod binning;
mod boost;
mod grow;
mod histogram;
mod loss;
mod predict;
mod split;

use faer::MatRef;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::learn::{Classifier, Params, Predict, PredictProba, Regressor, TrainSet, check};
use crate::linalg::stats::sigmoid;
use crate::params;
use crate::rng::Seed;
use loss::Loss;
pub use predict::Tree;

/// Parameters of histogram gradient boosting (scikit-learn's names where one exists).
///
/// | parameter | default | meaning |
/// | --- | --- | --- |
/// | `max_iter` | 100 | boosting iterations (trees) |
/// | `learning_rate` | 0.1 | shrinkage of every leaf value, > 0 |
/// | `max_leaf_nodes` | 31 | leaves per tree, >= 2 |
/// | `max_depth` | None | depth limit of a leaf (root 0), >= 1 |
/// | `min_samples_leaf` | 20 | rows per leaf, >= 1 |
/// | `l2_regularization` | 0 | `lambda` in `-G / (H + lambda)`, >= 0 |
/// | `max_bins` | 255 | bins for non-missing values per feature, 2..=255 (NaN has its own) |
/// | `min_sum_hessian` | 1e-3 | hessian sum per leaf, >= 0 |
/// | `min_gain_to_split` | 0 | a split's gain must exceed it, >= 0 |
/// | `subsample` | 1 | share of rows drawn (without replacement, per row) for each tree, in (0, 1] |
/// | `colsample` | 1 | share of features searched by each tree, in (0, 1] |
/// | `early_stopping` | false | hold out a validation split and stop when its loss stalls |
/// | `validation_fraction` | 0.1 | share of rows held out for early stopping, in (0, 1) |
/// | `n_iter_no_change` | 10 | patience of early stopping, >= 1 |
/// | `tol` | 1e-7 | improvement of the validation loss that counts, >= 0 |
///
/// Unlike scikit-learn, `early_stopping` defaults to false (not "auto"), so a fit runs
/// `max_iter` iterations as LightGBM does unless asked otherwise.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HgbParams {
    /// Boosting iterations (default 100).
    pub max_iter: usize,
    /// Shrinkage (default 0.1).
    pub learning_rate: f64,
    /// Leaves per tree (default 31).
    pub max_leaf_nodes: usize,
    /// Depth limit (default None).
    pub max_depth: Option<usize>,
    /// Rows per leaf (default 20).
    pub min_samples_leaf: usize,
    /// L2 penalty on leaf values (default 0).
    pub l2_regularization: f64,
    /// Bins per feature for non-missing values (default 255).
    pub max_bins: usize,
    /// Hessian sum per leaf (default 1e-3).
    pub min_sum_hessian: f64,
    /// Minimum split gain (default 0).
    pub min_gain_to_split: f64,
    /// Row share per tree (default 1).
    pub subsample: f64,
    /// Feature share per tree (default 1).
    pub colsample: f64,
    /// Early stopping on a held-out split (default false).
    pub early_stopping: bool,
    /// Held-out share for early stopping (default 0.1).
    pub validation_fraction: f64,
    /// Patience of early stopping (default 10).
    pub n_iter_no_change: usize,
    /// Tolerance of early stopping (default 1e-7).
    pub tol: f64,
}

impl Default for HgbParams {
    fn default() -> Self {
        HgbParams {
            max_iter: 100,
            learning_rate: 0.1,
            max_leaf_nodes: 31,
            max_depth: None,
            min_samples_leaf: 20,
            l2_regularization: 0.0,
            max_bins: 255,
            min_sum_hessian: 1e-3,
            min_gain_to_split: 0.0,
            subsample: 1.0,
            colsample: 1.0,
            early_stopping: false,
            validation_fraction: 0.1,
            n_iter_no_change: 10,
            tol: 1e-7,
        }
    }
}

const NAMES: &[&str] = &[
    "max_iter",
    "learning_rate",
    "max_leaf_nodes",
    "max_depth",
    "min_samples_leaf",
    "l2_regularization",
    "max_bins",
    "min_sum_hessian",
    "min_gain_to_split",
    "subsample",
    "colsample",
    "early_stopping",
    "validation_fraction",
    "n_iter_no_change",
    "tol",
];

fn share(owner: &str, name: &str, v: f64, closed_above: bool) -> Result<()> {
    let ok = v > 0.0 && if closed_above { v <= 1.0 } else { v < 1.0 };
    if ok {
        Ok(())
    } else {
        let hi = if closed_above { "1]" } else { "1)" };
        Err(Error::param(owner, name, format!("must be in (0, {hi}, got {v}")))
    }
}

impl HgbParams {
    fn set(&mut self, owner: &str, name: &str, v: &str) -> Result<()> {
        use params::{parse_bool, parse_f64, parse_opt_usize, parse_usize};
        match name {
            "max_iter" => self.max_iter = parse_usize(owner, name, v)?,
            "learning_rate" => self.learning_rate = parse_f64(owner, name, v)?,
            "max_leaf_nodes" => self.max_leaf_nodes = parse_usize(owner, name, v)?,
            "max_depth" => self.max_depth = parse_opt_usize(owner, name, v)?,
            "min_samples_leaf" => self.min_samples_leaf = parse_usize(owner, name, v)?,
            "l2_regularization" => self.l2_regularization = parse_f64(owner, name, v)?,
            "max_bins" => self.max_bins = parse_usize(owner, name, v)?,
            "min_sum_hessian" => self.min_sum_hessian = parse_f64(owner, name, v)?,
            "min_gain_to_split" => self.min_gain_to_split = parse_f64(owner, name, v)?,
            "subsample" => self.subsample = parse_f64(owner, name, v)?,
            "colsample" => self.colsample = parse_f64(owner, name, v)?,
            "early_stopping" => self.early_stopping = parse_bool(owner, name, v)?,
            "validation_fraction" => self.validation_fraction = parse_f64(owner, name, v)?,
            "n_iter_no_change" => self.n_iter_no_change = parse_usize(owner, name, v)?,
            "tol" => self.tol = parse_f64(owner, name, v)?,
            _ => return Err(params::unknown(owner, name, NAMES)),
        }
        Ok(())
    }

    fn check(&self, owner: &str) -> Result<()> {
        params::at_least(owner, "max_iter", self.max_iter, 1)?;
        params::positive(owner, "learning_rate", self.learning_rate)?;
        params::at_least(owner, "max_leaf_nodes", self.max_leaf_nodes, 2)?;
        if let Some(d) = self.max_depth {
            params::at_least(owner, "max_depth", d, 1)?;
        }
        params::at_least(owner, "min_samples_leaf", self.min_samples_leaf, 1)?;
        params::non_negative(owner, "l2_regularization", self.l2_regularization)?;
        if !(2..=255).contains(&self.max_bins) {
            return Err(Error::param(owner, "max_bins", format!("must be in 2..=255, got {}", self.max_bins)));
        }
        params::non_negative(owner, "min_sum_hessian", self.min_sum_hessian)?;
        params::non_negative(owner, "min_gain_to_split", self.min_gain_to_split)?;
        share(owner, "subsample", self.subsample, true)?;
        share(owner, "colsample", self.colsample, true)?;
        share(owner, "validation_fraction", self.validation_fraction, false)?;
        params::at_least(owner, "n_iter_no_change", self.n_iter_no_change, 1)?;
        params::non_negative(owner, "tol", self.tol)
    }
}

/// Parameters of the histogram gradient boosting classifier: the same as [`HgbParams`]
/// (defaults included), with the logistic loss.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HgbcParams(pub HgbParams);

/// A fitted additive ensemble of trees on the raw-score scale.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "EnsembleData")]
pub struct Ensemble {
    /// The initial constant score `F_0`.
    pub init: f64,
    /// The trees, in boosting order.
    pub trees: Vec<Tree>,
    /// Feature columns seen at fit time.
    pub n_features: usize,
    /// Iterations kept (`trees.len()`).
    pub n_iter: usize,
    /// Weighted mean training loss before the first tree and after each iteration.
    pub train_loss: Vec<f64>,
    /// The same on the validation split (empty without early stopping).
    pub validation_loss: Vec<f64>,
}

/// The serde form of [`Ensemble`]: decoded first, then checked by [`Ensemble::try_from`], so a
/// crafted or corrupt model file is refused at load time instead of panicking at prediction.
#[derive(Deserialize)]
struct EnsembleData {
    init: f64,
    trees: Vec<Tree>,
    n_features: usize,
    n_iter: usize,
    train_loss: Vec<f64>,
    validation_loss: Vec<f64>,
}

impl TryFrom<EnsembleData> for Ensemble {
    type Error = String;

    /// Every tree well formed over `n_features` columns (see [`Tree::check`]), a finite initial
    /// score, and `n_iter == trees.len()`.
    fn try_from(e: EnsembleData) -> std::result::Result<Self, String> {
        if !e.init.is_finite() {
            return Err(format!("initial score {} is not finite", e.init));
        }
        if e.n_iter != e.trees.len() {
            return Err(format!("{} iterations recorded for {} trees", e.n_iter, e.trees.len()));
        }
        for (k, t) in e.trees.iter().enumerate() {
            t.check(e.n_features).map_err(|m| format!("tree {k}: {m}"))?;
        }
        Ok(Ensemble {
            init: e.init,
            trees: e.trees,
            n_features: e.n_features,
            n_iter: e.n_iter,
            train_loss: e.train_loss,
            validation_loss: e.validation_loss,
        })
    }
}

impl Ensemble {
    /// Raw scores of every row of `x` into `out`.
    ///
    /// # Errors
    /// [`Error::Shape`] for a wrong number of columns or a wrong output length.
    pub fn raw_into(&self, x: MatRef<'_, f64>, out: &mut [f64]) -> Result<()> {
        check::predict_shape(x, self.n_features, out)?;
        predict::raw_into(self.init, &self.trees, x, out);
        Ok(())
    }

    /// The raw score of one row, without allocating.
    ///
    /// # Errors
    /// [`Error::Shape`] for a wrong row length.
    pub fn raw_row(&self, row: &[f64]) -> Result<f64> {
        if row.len() != self.n_features {
            return Err(Error::shape("feature columns at prediction vs training", self.n_features, row.len()));
        }
        Ok(predict::raw_row(self.init, &self.trees, row))
    }
}

/// Checks training data: shapes, no infinite feature (NaN allowed), finite targets, valid
/// weights, and row indices that fit the `u32` index buffer.
fn check_data(data: &TrainSet<'_>) -> Result<()> {
    check::train_set_with_missing(data)?;
    let n = data.x.nrows();
    if n > u32::MAX as usize {
        return Err(Error::data(format!("{n} rows exceed the {} rows gradient boosting supports", u32::MAX)));
    }
    Ok(())
}

/// A fitted histogram gradient boosting regressor.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HgbModel {
    /// The parameters it was fitted with.
    pub params: Box<HgbParams>,
    /// The trees.
    pub ensemble: Ensemble,
}

/// A fitted histogram gradient boosting classifier; `P(y = 1) = sigmoid(raw score)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HgbcModel {
    /// The parameters it was fitted with.
    pub params: Box<HgbParams>,
    /// The trees (raw scores are log-odds).
    pub ensemble: Ensemble,
}

impl Params for HgbParams {
    fn learner_name(&self) -> &'static str {
        "hgb"
    }
    fn set_param(&mut self, name: &str, value: &str) -> Result<()> {
        self.set("hgb", name, value)
    }
    fn validate(&self) -> Result<()> {
        self.check("hgb")
    }
    fn accepts_missing(&self) -> bool {
        true
    }
}

impl Params for HgbcParams {
    fn learner_name(&self) -> &'static str {
        "hgbc"
    }
    fn set_param(&mut self, name: &str, value: &str) -> Result<()> {
        self.0.set("hgbc", name, value)
    }
    fn validate(&self) -> Result<()> {
        self.0.check("hgbc")
    }
    fn accepts_missing(&self) -> bool {
        true
    }
}

impl Regressor for HgbParams {
    type Model = HgbModel;
    fn fit(&self, data: TrainSet<'_>, seed: Seed) -> Result<HgbModel> {
        self.validate()?;
        check_data(&data)?;
        let ensemble = boost::fit(self, Loss::Squared, data, seed)?;
        Ok(HgbModel { params: Box::new(self.clone()), ensemble })
    }
}

impl Classifier for HgbcParams {
    type Model = HgbcModel;
    fn fit(&self, data: TrainSet<'_>, seed: Seed) -> Result<HgbcModel> {
        self.validate()?;
        check_data(&data)?;
        check::binary_target(&data)?;
        let ensemble = boost::fit(&self.0, Loss::Logistic, data, seed)?;
        Ok(HgbcModel { params: Box::new(self.0.clone()), ensemble })
    }
}

impl Predict for HgbModel {
    fn n_features(&self) -> usize {
        self.ensemble.n_features
    }
    fn predict_into(&self, x: MatRef<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.ensemble.raw_into(x, out)
    }
    fn predict_row(&self, row: &[f64]) -> Result<f64> {
        self.ensemble.raw_row(row)
    }
}

impl HgbcModel {
    /// The probability of class 1 for one row, without allocating.
    ///
    /// # Errors
    /// [`Error::Shape`] for a wrong row length.
    pub fn predict_proba_row(&self, row: &[f64]) -> Result<f64> {
        self.ensemble.raw_row(row).map(sigmoid)
    }
}

impl PredictProba for HgbcModel {
    fn n_features(&self) -> usize {
        self.ensemble.n_features
    }
    fn predict_proba_into(&self, x: MatRef<'_, f64>, out: &mut [f64]) -> Result<()> {
        self.ensemble.raw_into(x, out)?;
        for o in out.iter_mut() {
            *o = sigmoid(*o);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
