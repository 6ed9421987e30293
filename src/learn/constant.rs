//! Constant learners: the weighted mean (regression) and the weighted class prior
//! (classification).
//!
//! They are real learners, not placeholders: the constant regressor is the "global shift"
//! candidate of the causal final stage (a constant CATE is the mean-shift baseline), and the
//! prior classifier is the propensity model when gold rows are a simple random sample
//! (e(x) = gold share exactly).
//!
//! Fit: `c = sum_i w_i y_i / sum_i w_i`, accumulated in f64 in row order.

use faer::MatRef;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::learn::{Classifier, Params, Predict, PredictProba, Regressor, TrainSet, check};
use crate::params;
use crate::rng::Seed;

/// Parameters of the constant regressor (it has none; the struct keeps the learner contract).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ConstantParams {}

/// A fitted constant: the weighted mean of the training targets.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConstantModel {
    /// The predicted value.
    pub value: f64,
    /// Feature columns seen at fit time.
    pub n_features: usize,
}

impl Params for ConstantParams {
    fn learner_name(&self) -> &'static str {
        "constant"
    }
    fn set_param(&mut self, name: &str, _value: &str) -> Result<()> {
        Err(params::unknown("constant", name, &[]))
    }
    fn validate(&self) -> Result<()> {
        Ok(())
    }
}

impl Regressor for ConstantParams {
    type Model = ConstantModel;
    fn fit(&self, data: TrainSet<'_>, _seed: Seed) -> Result<ConstantModel> {
        check::train_set(&data)?;
        Ok(ConstantModel { value: crate::linalg::stats::mean(data.y, data.weights), n_features: data.n_features() })
    }
}

impl Predict for ConstantModel {
    fn n_features(&self) -> usize {
        self.n_features
    }
    fn predict_into(&self, x: MatRef<'_, f64>, out: &mut [f64]) -> Result<()> {
        check::predict_shape(x, self.n_features, out)?;
        out.fill(self.value);
        Ok(())
    }
}

/// Parameters of the prior classifier (none).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct PriorParams {}

/// A fitted class prior: P(y = 1) = weighted share of class 1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PriorModel {
    /// The predicted probability of class 1.
    pub p1: f64,
    /// Feature columns seen at fit time.
    pub n_features: usize,
}

impl Params for PriorParams {
    fn learner_name(&self) -> &'static str {
        "prior"
    }
    fn set_param(&mut self, name: &str, _value: &str) -> Result<()> {
        Err(params::unknown("prior", name, &[]))
    }
    fn validate(&self) -> Result<()> {
        Ok(())
    }
}

impl Classifier for PriorParams {
    type Model = PriorModel;
    fn fit(&self, data: TrainSet<'_>, _seed: Seed) -> Result<PriorModel> {
        check::train_set(&data)?;
        check::binary_target(&data)?;
        Ok(PriorModel { p1: crate::linalg::stats::mean(data.y, data.weights), n_features: data.n_features() })
    }
}

impl PredictProba for PriorModel {
    fn n_features(&self) -> usize {
        self.n_features
    }
    fn predict_proba_into(&self, x: MatRef<'_, f64>, out: &mut [f64]) -> Result<()> {
        check::predict_shape(x, self.n_features, out)?;
        out.fill(self.p1);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    #[test]
    fn weighted_mean_and_prior() {
        let x = Mat::from_fn(4, 1, |i, _| i as f64);
        let y = [1.0, 2.0, 3.0, 10.0];
        let w = [1.0, 1.0, 2.0, 0.0];
        let m = ConstantParams {}.fit(TrainSet::weighted(x.as_ref(), &y, &w), Seed(0)).unwrap();
        assert_eq!(m.value, (1.0 + 2.0 + 6.0) / 4.0);
        assert_eq!(m.predict_row(&[5.0]).unwrap(), m.value);
        let t = [0.0, 1.0, 1.0, 0.0];
        let p = PriorParams {}.fit(TrainSet::weighted(x.as_ref(), &t, &w), Seed(0)).unwrap();
        assert_eq!(p.p1, 0.75);
        assert!(m.predict(Mat::<f64>::zeros(2, 2).as_ref()).is_err());
    }
}
