//! The run-time learner spec: choose a learner by name, set its parameters by name, fit it,
//! and save the fitted model — without generics or trait objects, so that command-line plans,
//! the causal core and saved router files stay serde-derivable (enum dispatch).
//!
//! Adding a learner is one line in `regressors!` or `classifiers!`: its CLI name, its params
//! type and its fitted model type.

use faer::MatRef;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::learn::constant::{ConstantModel, ConstantParams, PriorModel, PriorParams};
use crate::learn::forest::{
    RandomForestClassifierModel, RandomForestClassifierParams, RandomForestRegressorModel, RandomForestRegressorParams,
};
use crate::learn::gbm::{HgbModel, HgbParams, HgbcModel, HgbcParams};
use crate::learn::linear::{LogisticModel, LogisticParams, RidgeModel, RidgeParams};
use crate::learn::stack::{StackModel, StackParams};
use crate::learn::{Classifier, Params, Predict, PredictProba, Regressor, TrainSet};
use crate::rng::Seed;

macro_rules! regressors {
    ($($variant:ident($params:ty => $model:ty) = $name:literal),+ ;
     model_only: $($hvariant:ident($hparams:ty => $hmodel:ty) = $hname:literal),* $(,)?) => {
        /// A regression learner chosen at run time, with its parameters.
        #[derive(Clone, Debug, Serialize, Deserialize)]
        pub enum RegressorSpec {
            $(#[allow(missing_docs)] $variant($params),)+
            $(#[allow(missing_docs)] $hvariant($hparams),)*
        }

        /// A fitted regression model of any kind.
        #[derive(Clone, Debug, Serialize, Deserialize)]
        pub enum RegressorModel {
            $(#[allow(missing_docs)] $variant($model),)+
            $(#[allow(missing_docs)] $hvariant($hmodel),)*
        }

        impl RegressorSpec {
            /// The names accepted by [`RegressorSpec::from_name`].
            pub const NAMES: &'static [&'static str] = &[$($name),+];

            /// The learner with default parameters.
            ///
            /// # Errors
            /// [`Error::InvalidParam`] listing the known names.
            pub fn from_name(name: &str) -> Result<Self> {
                match name {
                    $($name => Ok(RegressorSpec::$variant(<$params>::default())),)+
                    _ => Err(Error::param("learner", "learner", format!(
                        "unknown regressor `{name}`; known: {}", Self::NAMES.join(", ")))),
                }
            }

            /// The learner's name.
            pub fn name(&self) -> &'static str {
                match self { $(RegressorSpec::$variant(_) => $name,)+ $(RegressorSpec::$hvariant(_) => $hname,)* }
            }

            fn params_mut(&mut self) -> &mut dyn Params {
                match self { $(RegressorSpec::$variant(p) => p,)+ $(RegressorSpec::$hvariant(p) => p,)* }
            }

            fn params(&self) -> &dyn Params {
                match self { $(RegressorSpec::$variant(p) => p,)+ $(RegressorSpec::$hvariant(p) => p,)* }
            }

            /// Fits the chosen learner.
            ///
            /// # Errors
            /// As the learner's `fit`.
            pub fn fit(&self, data: TrainSet<'_>, seed: Seed) -> Result<RegressorModel> {
                match self {
                    $(RegressorSpec::$variant(p) => Ok(RegressorModel::$variant(p.fit(data, seed)?)),)+
                    $(RegressorSpec::$hvariant(p) => Ok(RegressorModel::$hvariant(p.fit(data, seed)?)),)*
                }
            }
        }

        impl Predict for RegressorModel {
            fn n_features(&self) -> usize {
                match self { $(RegressorModel::$variant(m) => m.n_features(),)+ $(RegressorModel::$hvariant(m) => m.n_features(),)* }
            }
            fn predict_into(&self, x: MatRef<'_, f64>, out: &mut [f64]) -> Result<()> {
                match self {
                    $(RegressorModel::$variant(m) => m.predict_into(x, out),)+
                    $(RegressorModel::$hvariant(m) => m.predict_into(x, out),)*
                }
            }
            fn predict_row(&self, row: &[f64]) -> Result<f64> {
                match self {
                    $(RegressorModel::$variant(m) => m.predict_row(row),)+
                    $(RegressorModel::$hvariant(m) => m.predict_row(row),)*
                }
            }
        }
    };
}

macro_rules! classifiers {
    ($($variant:ident($params:ty => $model:ty) = $name:literal),+ $(,)?) => {
        /// A binary classification learner chosen at run time, with its parameters.
        #[derive(Clone, Debug, Serialize, Deserialize)]
        pub enum ClassifierSpec { $(#[allow(missing_docs)] $variant($params)),+ }

        /// A fitted binary classifier of any kind.
        #[derive(Clone, Debug, Serialize, Deserialize)]
        pub enum ClassifierModel { $(#[allow(missing_docs)] $variant($model)),+ }

        impl ClassifierSpec {
            /// The names accepted by [`ClassifierSpec::from_name`].
            pub const NAMES: &'static [&'static str] = &[$($name),+];

            /// The learner with default parameters.
            ///
            /// # Errors
            /// [`Error::InvalidParam`] listing the known names.
            pub fn from_name(name: &str) -> Result<Self> {
                match name {
                    $($name => Ok(ClassifierSpec::$variant(<$params>::default())),)+
                    _ => Err(Error::param("learner", "learner", format!(
                        "unknown classifier `{name}`; known: {}", Self::NAMES.join(", ")))),
                }
            }

            /// The learner's name.
            pub fn name(&self) -> &'static str {
                match self { $(ClassifierSpec::$variant(_) => $name,)+ }
            }

            fn params_mut(&mut self) -> &mut dyn Params {
                match self { $(ClassifierSpec::$variant(p) => p,)+ }
            }

            fn params(&self) -> &dyn Params {
                match self { $(ClassifierSpec::$variant(p) => p,)+ }
            }

            /// Fits the chosen learner.
            ///
            /// # Errors
            /// As the learner's `fit`.
            pub fn fit(&self, data: TrainSet<'_>, seed: Seed) -> Result<ClassifierModel> {
                match self { $(ClassifierSpec::$variant(p) => Ok(ClassifierModel::$variant(p.fit(data, seed)?)),)+ }
            }
        }

        impl PredictProba for ClassifierModel {
            fn n_features(&self) -> usize {
                match self { $(ClassifierModel::$variant(m) => m.n_features(),)+ }
            }
            fn predict_proba_into(&self, x: MatRef<'_, f64>, out: &mut [f64]) -> Result<()> {
                match self { $(ClassifierModel::$variant(m) => m.predict_proba_into(x, out),)+ }
            }
        }
    };
}

regressors! {
    Constant(ConstantParams => ConstantModel) = "constant",
    Ridge(RidgeParams => RidgeModel) = "ridge",
    Hgb(HgbParams => HgbModel) = "hgb",
    RandomForest(RandomForestRegressorParams => RandomForestRegressorModel) = "rf";
    // Built by the final stage's stacking, never named on the command line: a stack needs its
    // members, so it has no default to fit from a name.
    model_only: Stack(StackParams => StackModel) = "stack",
}

classifiers! {
    Prior(PriorParams => PriorModel) = "prior",
    Logistic(LogisticParams => LogisticModel) = "logistic",
    Hgbc(HgbcParams => HgbcModel) = "hgbc",
    RandomForest(RandomForestClassifierParams => RandomForestClassifierModel) = "rfc",
}

macro_rules! common_spec_methods {
    ($spec:ty) => {
        impl $spec {
            /// Sets one parameter by name (scikit-learn's names where one exists).
            ///
            /// # Errors
            /// [`Error::InvalidParam`] for an unknown name or a bad value.
            pub fn set_param(&mut self, name: &str, value: &str) -> Result<()> {
                self.params_mut().set_param(name, value)
            }

            /// Sets `k=v` pairs in order.
            ///
            /// # Errors
            /// [`Error::InvalidParam`] for a pair without `=`, an unknown name or a bad value.
            pub fn set_params<S: AsRef<str>>(&mut self, pairs: &[S]) -> Result<()> {
                for pair in pairs {
                    let pair = pair.as_ref();
                    let (k, v) =
                        pair.split_once('=').ok_or_else(|| Error::param(self.name(), pair, "expected `name=value`"))?;
                    self.set_param(k.trim(), v)?;
                }
                Ok(())
            }

            /// Validates the parameters.
            ///
            /// # Errors
            /// [`Error::InvalidParam`] naming the first parameter out of its domain.
            pub fn validate(&self) -> Result<()> {
                self.params().validate()
            }

            /// Whether the learner accepts NaN features as missing values (see
            /// [`Params::accepts_missing`]).
            pub fn accepts_missing(&self) -> bool {
                self.params().accepts_missing()
            }
        }
    };
}

common_spec_methods!(RegressorSpec);
common_spec_methods!(ClassifierSpec);

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    #[test]
    fn spec_round_trip() {
        let spec = RegressorSpec::from_name("constant").unwrap();
        assert_eq!(spec.name(), "constant");
        assert!(RegressorSpec::from_name("nope").unwrap_err().to_string().contains("constant"));
        let x = Mat::from_fn(3, 1, |i, _| i as f64);
        let m = spec.fit(TrainSet::new(x.as_ref(), &[1.0, 2.0, 3.0]), Seed(1)).unwrap();
        assert_eq!(m.predict(x.as_ref()).unwrap(), vec![2.0; 3]);
        let c = ClassifierSpec::from_name("prior").unwrap();
        let mut s2 = c.clone();
        assert!(s2.set_params(&["foo=1"]).is_err());
    }
}
