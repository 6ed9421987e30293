//! A fixed non-negative combination of regressors:
//! ```text
//! f(x) = sum_j beta_j f_j(x),   beta_j >= 0,
//! ```
//! every member `f_j` fitted on the same rows, weights and seed. The weights are given, not
//! learned here: the causal final stage chooses them by non-negative least squares on the
//! members' out-of-fold predictions (`--final-select stack`) and stores the result as this
//! model, so a stacked `Delta_hat` is an ordinary, serialisable [`RegressorModel`].
//!
//! The default has no members and fails validation: `stack` is built in code, not chosen by
//! name with parameters (it has none to set by name).
//!
//! [`Predict::predict_into`] allocates one scratch vector per call (not per row) for the
//! members' predictions; [`Predict::predict_row`] does not allocate.

use faer::MatRef;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::learn::{Params, Predict, Regressor, RegressorModel, RegressorSpec, TrainSet, check};
use crate::params;
use crate::rng::Seed;

/// The members of a stack and their weights.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct StackParams {
    /// `(beta_j, learner_j)`: non-negative, finite weights; at least one member.
    pub members: Vec<(f64, RegressorSpec)>,
}

/// A fitted stack: `sum_j beta_j f_j(x)`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StackModel {
    /// `(beta_j, fitted f_j)`.
    pub members: Vec<(f64, RegressorModel)>,
    /// Feature columns seen at fit time.
    pub n_features: usize,
}

impl Params for StackParams {
    fn learner_name(&self) -> &'static str {
        "stack"
    }
    fn set_param(&mut self, name: &str, _value: &str) -> Result<()> {
        Err(params::unknown("stack", name, &[]))
    }
    fn validate(&self) -> Result<()> {
        if self.members.is_empty() {
            return Err(Error::param(
                "stack",
                "members",
                "a stack needs at least one member (it is built in code, e.g. by --final-select stack)",
            ));
        }
        for (j, (beta, spec)) in self.members.iter().enumerate() {
            if !(beta.is_finite() && *beta >= 0.0) {
                return Err(Error::param(
                    "stack",
                    "members",
                    format!("weight {j} must be finite and >= 0, got {beta}"),
                ));
            }
            spec.validate()?;
        }
        Ok(())
    }
}

impl Regressor for StackParams {
    type Model = StackModel;
    fn fit(&self, data: TrainSet<'_>, seed: Seed) -> Result<StackModel> {
        self.validate()?;
        check::train_set(&data)?;
        let members =
            self.members.iter().map(|(beta, spec)| Ok((*beta, spec.fit(data, seed)?))).collect::<Result<Vec<_>>>()?;
        Ok(StackModel { members, n_features: data.n_features() })
    }
}

impl Predict for StackModel {
    fn n_features(&self) -> usize {
        self.n_features
    }
    fn predict_into(&self, x: MatRef<'_, f64>, out: &mut [f64]) -> Result<()> {
        check::predict_shape(x, self.n_features, out)?;
        out.fill(0.0);
        let mut buf = vec![0.0; out.len()];
        for (beta, m) in &self.members {
            m.predict_into(x, &mut buf)?;
            out.iter_mut().zip(&buf).for_each(|(o, p)| *o += beta * p);
        }
        Ok(())
    }
    fn predict_row(&self, row: &[f64]) -> Result<f64> {
        if row.len() != self.n_features {
            return Err(Error::shape("stack features", self.n_features, row.len()));
        }
        let mut s = 0.0;
        for (beta, m) in &self.members {
            s += beta * m.predict_row(row)?;
        }
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    #[test]
    fn a_stack_is_the_weighted_sum_of_its_members() {
        let x = Mat::from_fn(20, 2, |i, j| (i * (j + 1)) as f64 / 7.0);
        let y: Vec<f64> = (0..20).map(|i| 1.0 + 0.5 * x[(i, 0)] - x[(i, 1)]).collect();
        let data = TrainSet::new(x.as_ref(), &y);
        let ridge = RegressorSpec::from_name("ridge").unwrap();
        let constant = RegressorSpec::from_name("constant").unwrap();
        let stack = StackParams { members: vec![(0.25, ridge.clone()), (2.0, constant.clone())] };
        let m = stack.fit(data, Seed(3)).unwrap();
        let (pr, pc) = (ridge.fit(data, Seed(3)).unwrap(), constant.fit(data, Seed(3)).unwrap());
        let (pr, pc) = (pr.predict(x.as_ref()).unwrap(), pc.predict(x.as_ref()).unwrap());
        let p = m.predict(x.as_ref()).unwrap();
        for i in 0..20 {
            assert!((p[i] - (0.25 * pr[i] + 2.0 * pc[i])).abs() < 1e-12);
            assert!((m.predict_row(&[x[(i, 0)], x[(i, 1)]]).unwrap() - p[i]).abs() < 1e-12);
        }
        assert!(m.predict_row(&[1.0]).is_err());
        assert!(StackParams::default().fit(data, Seed(3)).unwrap_err().to_string().contains("members"));
        let bad = StackParams { members: vec![(-1.0, constant)] };
        assert!(bad.validate().unwrap_err().to_string().contains("weight 0"));
    }
}
