//! Random-forest hyper-parameters, with scikit-learn's names and defaults, their parsing from
//! `name=value` text and their validation.
//!
//! Per-node feature count `m` from `max_features` for `d` features (scikit-learn's rules):
//! `sqrt -> max(1, floor(sqrt d))`, `log2 -> max(1, floor(log2 d))`, a fraction `f -> max(1,
//! floor(f d))`, an integer `k -> min(k, d)`, `all -> d`. Bootstrap draw count from
//! `max_samples` for `n` rows: none -> `n`, a fraction `f -> max(1, round(f n))`, an integer
//! `k -> k` (at most `n`).

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::params::{self, Params};

/// How many features are drawn as split candidates at each node.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum MaxFeatures {
    /// Every feature (`all`, or `1.0`).
    All,
    /// `max(1, floor(sqrt(d)))` (`sqrt`).
    Sqrt,
    /// `max(1, floor(log2(d)))` (`log2`).
    Log2,
    /// `max(1, floor(f * d))` for `f` in (0, 1] (written with a decimal point, e.g. `0.3`).
    Fraction(f64),
    /// A fixed count, capped at `d` (an integer, e.g. `7`).
    Count(usize),
}

impl MaxFeatures {
    /// The number of candidate features per node for `d` features (at least 1, at most `d`).
    pub fn resolve(self, d: usize) -> usize {
        let m = match self {
            MaxFeatures::All => d,
            MaxFeatures::Sqrt => (d as f64).sqrt().floor() as usize,
            MaxFeatures::Log2 => (d as f64).log2().floor() as usize,
            MaxFeatures::Fraction(f) => (f * d as f64).floor() as usize,
            MaxFeatures::Count(k) => k,
        };
        m.clamp(1, d.max(1))
    }

    fn parse(owner: &str, value: &str) -> Result<Self> {
        let v = value.trim().to_ascii_lowercase();
        match v.as_str() {
            "sqrt" | "auto" => Ok(MaxFeatures::Sqrt),
            "log2" => Ok(MaxFeatures::Log2),
            "all" | "none" | "null" => Ok(MaxFeatures::All),
            _ if v.contains('.') || v.contains('e') => {
                Ok(MaxFeatures::Fraction(params::parse_f64(owner, "max_features", value)?))
            }
            _ => Ok(MaxFeatures::Count(params::parse_usize(owner, "max_features", value)?)),
        }
    }
}

/// How a node's best split is searched (`split`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SplitSearch {
    /// Every boundary between distinct values of the node's rows (`exact`, the default; as
    /// scikit-learn).
    #[default]
    Exact,
    /// Boundaries between `u8` bins of quantiles of the fit's rows (`binned`, at most
    /// `max_bins` per feature) from per-node histograms; nodes of fewer than
    /// `BINNED_MIN_ROWS` (256) rows use the exact search. See `bins.rs`.
    Binned,
}

impl SplitSearch {
    fn parse(owner: &str, value: &str) -> Result<Self> {
        match value.trim().to_ascii_lowercase().as_str() {
            "exact" => Ok(SplitSearch::Exact),
            "binned" | "hist" => Ok(SplitSearch::Binned),
            _ => Err(Error::param(owner, "split", format!("unknown split search `{value}`; known: exact, binned"))),
        }
    }
}

/// How many rows each tree's bootstrap sample draws.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum MaxSamples {
    /// `n` draws (`none`, the default).
    All,
    /// `max(1, round(f * n))` draws for `f` in (0, 1] (written with a decimal point).
    Fraction(f64),
    /// A fixed number of draws, at most `n` (an integer).
    Count(usize),
}

impl MaxSamples {
    /// The number of bootstrap draws for `n` rows.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] when a count exceeds `n`.
    pub fn resolve(self, owner: &str, n: usize) -> Result<usize> {
        match self {
            MaxSamples::All => Ok(n),
            MaxSamples::Fraction(f) => Ok(((f * n as f64).round() as usize).max(1)),
            MaxSamples::Count(k) if k <= n => Ok(k),
            MaxSamples::Count(k) => {
                Err(Error::param(owner, "max_samples", format!("{k} draws asked but the data has {n} rows")))
            }
        }
    }

    fn parse(owner: &str, value: &str) -> Result<Self> {
        let v = value.trim().to_ascii_lowercase();
        match v.as_str() {
            "none" | "null" | "all" => Ok(MaxSamples::All),
            _ if v.contains('.') || v.contains('e') => {
                Ok(MaxSamples::Fraction(params::parse_f64(owner, "max_samples", value)?))
            }
            _ => Ok(MaxSamples::Count(params::parse_usize(owner, "max_samples", value)?)),
        }
    }
}

/// The default `max_bins`.
const DEFAULT_MAX_BINS: usize = 255;

fn default_max_bins() -> usize {
    DEFAULT_MAX_BINS
}

/// The parameters both forests share, in the form the fitting code reads; converted from and to
/// [`RandomForestRegressorParams`] and [`RandomForestClassifierParams`] (the same fields), so
/// parsing and validation are written once.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct ForestParams {
    /// Number of trees. Default 100.
    pub n_estimators: usize,
    /// Maximum depth; `None` grows until the leaf rules stop. Default `None`.
    pub max_depth: Option<usize>,
    /// Minimum distinct in-bag rows to split a node. Default 2.
    pub min_samples_split: usize,
    /// Minimum distinct in-bag rows in each child. Default 1.
    pub min_samples_leaf: usize,
    /// Minimum fraction of the tree's in-bag weight in each child. Default 0.
    pub min_weight_fraction_leaf: f64,
    /// Minimum weighted impurity decrease to split. Default 0.
    pub min_impurity_decrease: f64,
    /// Candidate features per node. Default `All` (regressor) / `Sqrt` (classifier).
    pub max_features: MaxFeatures,
    /// Bootstrap sampling of rows per tree. Default true.
    pub bootstrap: bool,
    /// Bootstrap draws per tree. Default `All` (n draws).
    pub max_samples: MaxSamples,
    /// Compute out-of-bag predictions and score. Default false.
    pub oob_score: bool,
    /// Split search. Default `Exact`.
    pub split: SplitSearch,
    /// Bins per feature of the binned search (2..=255). Default 255.
    pub max_bins: usize,
}

/// Defines a public forest params struct with every field of [`ForestParams`], its default
/// `max_features`, its CLI name, and its [`Params`] implementation.
macro_rules! forest_params {
    ($(#[$doc:meta])* $name:ident, $cli:literal, $max_features:expr) => {
        $(#[$doc])*
        ///
        /// | name | default | meaning |
        /// | --- | --- | --- |
        /// | `n_estimators` | 100 | number of trees (>= 1) |
        /// | `max_depth` | none | maximum depth (root = depth 0; >= 1 when set) |
        /// | `min_samples_split` | 2 | a node with fewer distinct in-bag rows is a leaf (>= 2) |
        /// | `min_samples_leaf` | 1 | each child keeps at least this many distinct in-bag rows (>= 1) |
        /// | `min_weight_fraction_leaf` | 0 | each child keeps at least this fraction of the tree's in-bag weight, in [0, 0.5] |
        /// | `min_impurity_decrease` | 0 | split only if `W_t/W (I_t - W_l/W_t I_l - W_r/W_t I_r) >= value` |
        /// | `max_features` | regressor `all` (1.0), classifier `sqrt` | candidate features per node, see [`MaxFeatures`] |
        /// | `bootstrap` | true | each tree sees a bootstrap sample (else every row once) |
        /// | `max_samples` | none (= n) | bootstrap draws per tree, see [`MaxSamples`] |
        /// | `oob_score` | false | compute out-of-bag predictions and score (needs `bootstrap`) |
        /// | `split` | exact | `exact`: every boundary between distinct values; `binned`: boundaries between quantile bins, see [`SplitSearch`] |
        /// | `max_bins` | 255 | bins per feature for `split=binned` (2..=255) |
        ///
        /// **Rows, weights and the leaf rules.** A tree's row weight is `c_i * w_i`: the bootstrap
        /// count `c_i` (1 without bootstrap) times the sample weight `w_i` (1 when none given). Rows whose
        /// product is 0 are absent from the tree. `min_samples_split` and `min_samples_leaf` count
        /// *distinct rows present in the tree*, whatever their weight (a row drawn three times counts
        /// once; a row with weight 1e-4 counts as one row), as scikit-learn does; a rule on weight is
        /// `min_weight_fraction_leaf`, on the tree's total weight `sum_i c_i w_i`. The criterion and
        /// leaf values use the weights exactly: leaf value `sum c_i w_i y_i / sum c_i w_i`.
        #[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
        pub struct $name {
            /// Number of trees. Default 100.
            pub n_estimators: usize,
            /// Maximum depth; `None` grows until the leaf rules stop. Default `None`.
            pub max_depth: Option<usize>,
            /// Minimum distinct in-bag rows to split a node. Default 2.
            pub min_samples_split: usize,
            /// Minimum distinct in-bag rows in each child. Default 1.
            pub min_samples_leaf: usize,
            /// Minimum fraction of the tree's in-bag weight in each child. Default 0.
            pub min_weight_fraction_leaf: f64,
            /// Minimum weighted impurity decrease to split. Default 0.
            pub min_impurity_decrease: f64,
            /// Candidate features per node. Default `All` (regressor) / `Sqrt` (classifier).
            pub max_features: MaxFeatures,
            /// Bootstrap sampling of rows per tree. Default true.
            pub bootstrap: bool,
            /// Bootstrap draws per tree. Default `All` (n draws).
            pub max_samples: MaxSamples,
            /// Compute out-of-bag predictions and score. Default false.
            pub oob_score: bool,
            /// Split search. Default `Exact`. Not stored in files (a spec read back searches
            /// exactly; fitted trees are stored whole, so predictions are unaffected).
            #[serde(skip)]
            pub split: SplitSearch,
            /// Bins per feature of the binned search (2..=255). Default 255. Not stored in
            /// files, as `split`.
            #[serde(skip, default = "default_max_bins")]
            pub max_bins: usize,
        }

        impl Default for $name {
            fn default() -> Self {
                ForestParams::with_max_features($max_features).into()
            }
        }

        impl From<ForestParams> for $name {
            fn from(p: ForestParams) -> Self {
                $name {
                    n_estimators: p.n_estimators,
                    max_depth: p.max_depth,
                    min_samples_split: p.min_samples_split,
                    min_samples_leaf: p.min_samples_leaf,
                    min_weight_fraction_leaf: p.min_weight_fraction_leaf,
                    min_impurity_decrease: p.min_impurity_decrease,
                    max_features: p.max_features,
                    bootstrap: p.bootstrap,
                    max_samples: p.max_samples,
                    oob_score: p.oob_score,
                    split: p.split,
                    max_bins: p.max_bins,
                }
            }
        }

        impl From<&$name> for ForestParams {
            fn from(p: &$name) -> Self {
                ForestParams {
                    n_estimators: p.n_estimators,
                    max_depth: p.max_depth,
                    min_samples_split: p.min_samples_split,
                    min_samples_leaf: p.min_samples_leaf,
                    min_weight_fraction_leaf: p.min_weight_fraction_leaf,
                    min_impurity_decrease: p.min_impurity_decrease,
                    max_features: p.max_features,
                    bootstrap: p.bootstrap,
                    max_samples: p.max_samples,
                    oob_score: p.oob_score,
                    split: p.split,
                    max_bins: p.max_bins,
                }
            }
        }

        impl Params for $name {
            fn learner_name(&self) -> &'static str {
                $cli
            }
            fn set_param(&mut self, name: &str, value: &str) -> Result<()> {
                let mut p = ForestParams::from(&*self);
                p.set($cli, name, value)?;
                *self = p.into();
                Ok(())
            }
            fn validate(&self) -> Result<()> {
                ForestParams::from(self).validate($cli)
            }
        }
    };
}

forest_params!(
    /// Parameters of the random-forest regressor (squared error, CLI name `rf`). Defaults as
    /// scikit-learn's `RandomForestRegressor`: 100 trees, no depth limit, `max_features = all`
    /// (1.0), bootstrap on.
    RandomForestRegressorParams,
    "rf",
    MaxFeatures::All
);

forest_params!(
    /// Parameters of the random-forest classifier (Gini, 0/1 targets, CLI name `rfc`). Defaults as
    /// scikit-learn's `RandomForestClassifier`: 100 trees, no depth limit, `max_features = sqrt`,
    /// bootstrap on.
    RandomForestClassifierParams,
    "rfc",
    MaxFeatures::Sqrt
);

impl ForestParams {
    /// The defaults with a given `max_features`.
    pub(crate) fn with_max_features(max_features: MaxFeatures) -> Self {
        ForestParams {
            n_estimators: 100,
            max_depth: None,
            min_samples_split: 2,
            min_samples_leaf: 1,
            min_weight_fraction_leaf: 0.0,
            min_impurity_decrease: 0.0,
            max_features,
            bootstrap: true,
            max_samples: MaxSamples::All,
            oob_score: false,
            split: SplitSearch::Exact,
            max_bins: DEFAULT_MAX_BINS,
        }
    }

    /// The parameter names accepted by [`ForestParams::set`].
    pub(crate) const NAMES: &'static [&'static str] = &[
        "n_estimators",
        "max_depth",
        "min_samples_split",
        "min_samples_leaf",
        "min_weight_fraction_leaf",
        "min_impurity_decrease",
        "max_features",
        "bootstrap",
        "max_samples",
        "oob_score",
        "split",
        "max_bins",
    ];

    /// Sets one parameter from text (`n_trees` is accepted as an alias of `n_estimators`).
    ///
    /// # Errors
    /// [`Error::InvalidParam`] for an unknown name or an unparsable value.
    pub(crate) fn set(&mut self, owner: &str, name: &str, value: &str) -> Result<()> {
        match name {
            "n_estimators" | "n_trees" => self.n_estimators = params::parse_usize(owner, name, value)?,
            "max_depth" => self.max_depth = params::parse_opt_usize(owner, name, value)?,
            "min_samples_split" => self.min_samples_split = params::parse_usize(owner, name, value)?,
            "min_samples_leaf" => self.min_samples_leaf = params::parse_usize(owner, name, value)?,
            "min_weight_fraction_leaf" => self.min_weight_fraction_leaf = params::parse_f64(owner, name, value)?,
            "min_impurity_decrease" => self.min_impurity_decrease = params::parse_f64(owner, name, value)?,
            "max_features" => self.max_features = MaxFeatures::parse(owner, value)?,
            "bootstrap" => self.bootstrap = params::parse_bool(owner, name, value)?,
            "max_samples" => self.max_samples = MaxSamples::parse(owner, value)?,
            "oob_score" => self.oob_score = params::parse_bool(owner, name, value)?,
            "split" => self.split = SplitSearch::parse(owner, value)?,
            "max_bins" => self.max_bins = params::parse_usize(owner, name, value)?,
            _ => return Err(params::unknown(owner, name, Self::NAMES)),
        }
        Ok(())
    }

    /// Checks every parameter's domain.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] naming the first parameter out of its domain.
    pub(crate) fn validate(&self, owner: &str) -> Result<()> {
        params::at_least(owner, "n_estimators", self.n_estimators, 1)?;
        if let Some(d) = self.max_depth {
            params::at_least(owner, "max_depth", d, 1)?;
        }
        params::at_least(owner, "min_samples_split", self.min_samples_split, 2)?;
        params::at_least(owner, "min_samples_leaf", self.min_samples_leaf, 1)?;
        let f = self.min_weight_fraction_leaf;
        if !(0.0..=0.5).contains(&f) {
            return Err(Error::param(owner, "min_weight_fraction_leaf", format!("must be in [0, 0.5], got {f}")));
        }
        params::non_negative(owner, "min_impurity_decrease", self.min_impurity_decrease)?;
        match self.max_features {
            MaxFeatures::Fraction(f) if !(f > 0.0 && f <= 1.0) => {
                return Err(Error::param(owner, "max_features", format!("a fraction must be in (0, 1], got {f}")));
            }
            MaxFeatures::Count(0) => return Err(Error::param(owner, "max_features", "a count must be >= 1, got 0")),
            _ => {}
        }
        match self.max_samples {
            MaxSamples::Fraction(f) if !(f > 0.0 && f <= 1.0) => {
                return Err(Error::param(owner, "max_samples", format!("a fraction must be in (0, 1], got {f}")));
            }
            MaxSamples::Count(0) => return Err(Error::param(owner, "max_samples", "a count must be >= 1, got 0")),
            _ => {}
        }
        if !self.bootstrap && self.max_samples != MaxSamples::All {
            return Err(Error::param(owner, "max_samples", "needs bootstrap=true"));
        }
        if !(2..=255).contains(&self.max_bins) {
            return Err(Error::param(owner, "max_bins", format!("must be in 2..=255, got {}", self.max_bins)));
        }
        if !self.bootstrap && self.oob_score {
            return Err(Error::param(owner, "oob_score", "needs bootstrap=true (no row is out of bag otherwise)"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_features_follow_sklearn_rules() {
        assert_eq!(MaxFeatures::Sqrt.resolve(50), 7);
        assert_eq!(MaxFeatures::Log2.resolve(50), 5);
        assert_eq!(MaxFeatures::Fraction(0.3).resolve(10), 3);
        assert_eq!(MaxFeatures::Fraction(0.01).resolve(10), 1);
        assert_eq!(MaxFeatures::Count(99).resolve(10), 10);
        assert_eq!(MaxFeatures::All.resolve(10), 10);
        assert_eq!(MaxFeatures::Sqrt.resolve(1), 1);
        assert_eq!(MaxFeatures::parse("rf", "1.0").unwrap(), MaxFeatures::Fraction(1.0));
        assert_eq!(MaxFeatures::parse("rf", "7").unwrap(), MaxFeatures::Count(7));
        assert!(MaxFeatures::parse("rf", "many").is_err());
        assert_eq!(MaxSamples::Fraction(0.5).resolve("rf", 11).unwrap(), 6);
        assert!(MaxSamples::Count(12).resolve("rf", 11).is_err());
    }

    #[test]
    fn validation_names_the_parameter() {
        let ok = ForestParams::with_max_features(MaxFeatures::Sqrt);
        assert!(ok.validate("rf").is_ok());
        let cases: Vec<(&str, &str)> = vec![
            ("n_estimators", "0"),
            ("max_depth", "0"),
            ("min_samples_leaf", "0"),
            ("min_samples_split", "1"),
            ("min_weight_fraction_leaf", "0.7"),
            ("min_impurity_decrease", "-1"),
            ("max_features", "1.5"),
            ("max_features", "0"),
            ("max_samples", "0.0"),
            ("max_bins", "1"),
            ("max_bins", "256"),
        ];
        for (name, value) in cases {
            let mut p = ok;
            p.set("rf", name, value).unwrap();
            match p.validate("rf") {
                Err(Error::InvalidParam { name: n, .. }) => assert_eq!(n, name),
                other => panic!("{name}={value}: {other:?}"),
            }
        }
        let mut p = ok;
        p.set("rf", "bootstrap", "false").unwrap();
        p.set("rf", "oob_score", "true").unwrap();
        assert!(matches!(p.validate("rf"), Err(Error::InvalidParam { .. })));
        let mut p = ok;
        assert!(p.set("rf", "n_leaves", "3").is_err());
        assert!(p.set("rf", "split", "greedy").is_err());
        p.set("rf", "split", "binned").unwrap();
        assert_eq!(p.split, SplitSearch::Binned);
    }
}
