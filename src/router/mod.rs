//! Routers: training ([`train`], on top of the causal core's `Delta_hat`) and serving (this
//! module).
//!
//! * [`kind`]: the router kinds, meta-routers and baselines ([`RouterKind`]).
//! * [`config`]: how routers are trained ([`RouterConfig`], [`Protocol`], the default learners).
//! * [`train`]: the training data ([`RouterData`]) and [`train_router`] / [`train_router_with`].
//! * [`fitted`]: a trained router ([`TrainedRouter`]) and its [`Diagnostics`].
//! * [`multi`]: routing among `K` models ([`multi::MultiRouter`]), its training and budget calibration.
//!
//! The serving router ([`Router`], here) is a trained `psi_hat` with its feature names and a
//! decision threshold, saved and loaded as one file, scoring one query without allocating.
//!
//! # Decision rule
//! Route a query to the primary (costly) model when `psi_hat(x) > w`. The threshold `w` is
//! * given directly ([`Threshold::direct`]);
//! * derived from costs: with a utility `psi(x) - lambda (C_primary - C_alternative)` the rule is
//!   `psi_hat(x) > lambda (C_primary - C_alternative)` ([`Threshold::from_costs`]; per-query
//!   costs through [`Router::decide_with_costs`]);
//! * calibrated to a target primary usage `rho` on a query set: `w` is the `(1 - rho)` empirical
//!   quantile of `psi_hat` there, precisely the largest score that is *not* routed when the
//!   `round(rho m)` highest-scored queries are ([`Router::calibrate_usage`]); ties at the
//!   boundary can make the realised usage differ from the target, and both are reported.
//!
//! # Features
//! A router may carry a PCA fitted on its training rows only ([`Router::pca`]): queries come in
//! as raw features (e.g. embeddings), are projected onto the stored components, and `psi_hat`
//! is evaluated on the scores. [`Router::score_into`] does this for one query into a caller's
//! scratch buffer of [`Router::scratch_len`] values, without allocating.
//!
//! # Scale
//! The psi model is trained on the preference-label scale: gold labels were multiplied by the
//! alignment constant `c` ([`Router::scale`]), so the model predicts `c psi(x)`. The serving
//! router reports `psi_hat(x) = model(x) / c`, on the **gold scale**, and compares it with
//! thresholds on the gold scale. Costs then mean the same under every alignment: the rule
//! `psi_hat > lambda (C_primary - C_alternative)` weighs a gold-scale gain against a cost, so the
//! same `lambda` routes the same way whether `c` came from `none`, `std`, `amplitude` or
//! `wasserstein` (with `none`, `c = 1` and the division is exact). Usage calibration is a
//! quantile, and dividing by `c > 0` keeps the order of the scores.
//!
//! Router files of kind [`Kind::RouterPreferenceScale`], written before this convention, stored
//! a threshold meant for preference-scale scores; [`Router::from_bytes`] divides a direct or
//! usage-calibrated threshold by `c` on load, so such a file routes as it did, and keeps a
//! cost threshold `lambda (C_primary - C_alternative)` as it was (now compared on the gold
//! scale, as its cost rule intends).

pub mod config;
pub mod fitted;
pub mod kind;
pub mod multi;
pub mod sources;
pub mod train;

pub use config::{Protocol, RouterConfig, default_learner, router_learner};
pub use fitted::{Diagnostics, FittedRouter, TrainedRouter};
pub use kind::RouterKind;
pub use train::{RouterData, train_router, train_router_known, train_router_with, validate_data};

use std::path::Path;

use faer::{Mat, MatMut, MatRef};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::learn::pca::PcaModel;
use crate::learn::{Predict, RegressorModel};
use crate::persist::{self, Kind};

/// Where a threshold came from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ThresholdRule {
    /// Given directly.
    Direct,
    /// `lambda * (cost_primary - cost_alternative)`.
    Costs {
        /// Utility weight of cost.
        lambda: f64,
        /// Cost of a primary call.
        cost_primary: f64,
        /// Cost of an alternative call.
        cost_alternative: f64,
    },
    /// Calibrated to a target usage rate on a query set.
    Usage(UsageReport),
}

/// A target usage calibration: target against realised.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct UsageReport {
    /// The target share of queries routed to the primary model.
    pub target: f64,
    /// The share actually routed on the calibration set with the chosen threshold.
    pub realised: f64,
    /// Queries in the calibration set.
    pub n_queries: usize,
    /// The threshold found.
    pub threshold: f64,
}

/// A decision threshold `w` and its origin.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    /// Route to the primary model when `psi_hat > w`.
    pub w: f64,
    /// How `w` was set.
    pub rule: ThresholdRule,
}

impl Threshold {
    /// A threshold given directly.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] for NaN.
    pub fn direct(w: f64) -> Result<Self> {
        if w.is_nan() {
            return Err(Error::param("router", "threshold", "is NaN"));
        }
        Ok(Threshold { w, rule: ThresholdRule::Direct })
    }

    /// `w = lambda (C_primary - C_alternative)`.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] for non-finite or negative costs or `lambda`.
    pub fn from_costs(lambda: f64, cost_primary: f64, cost_alternative: f64) -> Result<Self> {
        for (name, v) in [("lambda", lambda), ("cost_primary", cost_primary), ("cost_alternative", cost_alternative)] {
            crate::params::non_negative("router", name, v)?;
        }
        Ok(Threshold {
            w: lambda * (cost_primary - cost_alternative),
            rule: ThresholdRule::Costs { lambda, cost_primary, cost_alternative },
        })
    }
}

/// Which model serves a query.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Decision {
    /// The primary (costly, better on average) model.
    Primary,
    /// The alternative (cheap) model.
    Alternative,
}

impl Decision {
    /// `primary` or `alternative`.
    pub fn name(self) -> &'static str {
        match self {
            Decision::Primary => "primary",
            Decision::Alternative => "alternative",
        }
    }
}

/// A router ready to serve.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(try_from = "RouterFile")]
pub struct Router {
    /// Feature names, in the order a query row must follow.
    pub feature_names: Vec<String>,
    /// PCA applied to query features before `psi` (fitted on the training rows only).
    pub pca: Option<PcaModel>,
    /// Which router produced `psi`.
    pub kind: RouterKind,
    /// The trained model, on the preference scale: it predicts `c psi(x)` (see the module docs).
    pub psi: RegressorModel,
    /// The scale constant `c` applied to gold labels in training.
    pub scale: f64,
    /// The decision threshold, on the gold scale of [`Router::score`].
    pub threshold: Threshold,
    /// Training diagnostics (alignment, final stage, overlap).
    pub diagnostics: Diagnostics,
}

impl Router {
    /// A serving router from a trained one, with threshold 0 (route when a gain is expected).
    /// With `pca`, `trained` was fitted on the PCA scores of the features named.
    ///
    /// # Errors
    /// [`Error::Shape`] when the feature names, the PCA and the psi model disagree in size.
    pub fn new(trained: TrainedRouter, feature_names: Vec<String>, pca: Option<PcaModel>) -> Result<Self> {
        check_sizes(&feature_names, pca.as_ref(), &trained.psi)?;
        Ok(Router {
            feature_names,
            pca,
            kind: trained.kind,
            psi: trained.psi,
            scale: trained.scale,
            threshold: Threshold { w: 0.0, rule: ThresholdRule::Direct },
            diagnostics: trained.diagnostics,
        })
    }

    /// The scratch length [`Router::score_into`] needs (the PCA components, or 0).
    pub fn scratch_len(&self) -> usize {
        self.pca.as_ref().map_or(0, PcaModel::n_components)
    }

    /// `psi_hat` on the gold scale for one query (features in [`Router::feature_names`]
    /// order), using `scratch` (at least [`Router::scratch_len`] values) for the PCA scores;
    /// allocation-free.
    ///
    /// # Errors
    /// [`Error::Shape`] for a row of the wrong length or a short scratch buffer;
    /// [`Error::NonFinite`] for a NaN feature.
    #[inline]
    pub fn score_into(&self, row: &[f64], scratch: &mut [f64]) -> Result<f64> {
        if row.len() != self.feature_names.len() {
            return Err(Error::shape("query features", self.feature_names.len(), row.len()));
        }
        crate::check::finite_slice("query features", row)?;
        let on_pref_scale = match &self.pca {
            None => self.psi.predict_row(row)?,
            Some(p) => {
                let k = p.n_components();
                if scratch.len() < k {
                    return Err(Error::shape("scoring scratch buffer", k, scratch.len()));
                }
                let z = &mut scratch[..k];
                p.transform_into(
                    MatRef::from_row_major_slice(row, 1, row.len()),
                    MatMut::from_row_major_slice_mut(z, 1, k),
                )?;
                self.psi.predict_row(z)?
            }
        };
        Ok(on_pref_scale / self.scale)
    }

    /// `psi_hat` on the gold scale for one query (allocates a scratch buffer only when the
    /// router has a PCA).
    ///
    /// # Errors
    /// As [`Router::score_into`].
    pub fn score(&self, row: &[f64]) -> Result<f64> {
        let mut scratch = vec![0.0; self.scratch_len()];
        self.score_into(row, &mut scratch)
    }

    /// `psi_hat` on the gold scale for every row of `x` into `out`.
    ///
    /// # Errors
    /// [`Error::Shape`] for wrong column count or buffer length.
    pub fn score_batch(&self, x: MatRef<'_, f64>, out: &mut [f64]) -> Result<()> {
        if x.ncols() != self.feature_names.len() {
            return Err(Error::shape("query feature columns", self.feature_names.len(), x.ncols()));
        }
        match &self.pca {
            None => self.psi.predict_into(x, out)?,
            Some(p) => {
                let mut z = Mat::zeros(x.nrows(), p.n_components());
                p.transform_into(x, z.as_mut())?;
                self.psi.predict_into(z.as_ref(), out)?
            }
        }
        for v in out.iter_mut() {
            *v /= self.scale;
        }
        Ok(())
    }

    /// The decision for a score under the stored threshold.
    pub fn decide_score(&self, psi_hat: f64) -> Decision {
        if psi_hat > self.threshold.w { Decision::Primary } else { Decision::Alternative }
    }

    /// The decision for one query under the stored threshold.
    ///
    /// # Errors
    /// As [`Router::score`].
    pub fn decide(&self, row: &[f64]) -> Result<Decision> {
        Ok(self.decide_score(self.score(row)?))
    }

    /// The decision for one query with its own costs: primary when
    /// `psi_hat > lambda (cost_primary - cost_alternative)`, `psi_hat` on the gold scale.
    ///
    /// # Errors
    /// As [`Router::score`]; non-finite costs.
    pub fn decide_with_costs(
        &self,
        row: &[f64],
        lambda: f64,
        cost_primary: f64,
        cost_alternative: f64,
    ) -> Result<Decision> {
        let w = Threshold::from_costs(lambda, cost_primary, cost_alternative)?.w;
        Ok(if self.score(row)? > w { Decision::Primary } else { Decision::Alternative })
    }

    /// Sets the threshold.
    pub fn set_threshold(&mut self, t: Threshold) {
        self.threshold = t;
    }

    /// Calibrates `w` so that a share `rho` of the queries `x` goes to the primary model
    /// (see the module docs), stores it, and reports target against realised usage.
    ///
    /// # Errors
    /// `rho` outside `[0, 1]`; no queries; shape errors.
    pub fn calibrate_usage(&mut self, x: MatRef<'_, f64>, rho: f64) -> Result<UsageReport> {
        let mut scores = vec![0.0; x.nrows()];
        self.score_batch(x, &mut scores)?;
        let report = usage_threshold(&scores, rho)?;
        self.threshold = Threshold { w: report.threshold, rule: ThresholdRule::Usage(report.clone()) };
        Ok(report)
    }

    /// Saves the router (versioned, checksummed file).
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        persist::save(path, Kind::Router, self)
    }

    /// Loads a router saved by [`Router::save`] (or an older preference-scale router file, see
    /// [`Router::from_bytes`]).
    ///
    /// # Errors
    /// [`Error::Io`]; [`Error::ModelFile`] naming the file for a foreign, corrupt or
    /// other-version file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let bytes = persist::read_file(path)?;
        Router::from_bytes(&bytes).map_err(|e| match e {
            Error::ModelFile { path: None, msg } => Error::ModelFile { path: Some(path.to_path_buf()), msg },
            e => e,
        })
    }

    /// The router file's bytes ([`Router::save`] writes them).
    ///
    /// # Errors
    /// [`Error::ModelFile`] if serialisation fails.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        persist::to_bytes(Kind::Router, self)
    }

    /// A router from a file's bytes. A file of the older kind
    /// [`Kind::RouterPreferenceScale`] is converted to the gold scale (module docs): its direct
    /// or usage-calibrated threshold is divided by `c`, a cost threshold kept.
    ///
    /// # Errors
    /// [`Error::ModelFile`] for a foreign, corrupt, wrong-kind or other-version file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        if persist::peek_kind(bytes) != Some(Kind::RouterPreferenceScale) {
            return persist::from_bytes(bytes, Kind::Router);
        }
        let mut r: Router = persist::from_bytes(bytes, Kind::RouterPreferenceScale)?;
        let c = r.scale;
        match &mut r.threshold.rule {
            ThresholdRule::Direct => r.threshold.w /= c,
            ThresholdRule::Usage(u) => {
                u.threshold /= c;
                r.threshold.w /= c;
            }
            ThresholdRule::Costs { .. } => {}
        }
        Ok(r)
    }
}

/// The sizes a router's parts must agree on: one feature name per input column, and the PCA
/// (when present) between the features and the psi model.
fn check_sizes(feature_names: &[String], pca: Option<&PcaModel>, psi: &RegressorModel) -> Result<()> {
    let psi_in = psi.n_features();
    match pca {
        Some(p) => {
            if feature_names.len() != p.n_features() {
                return Err(Error::shape("feature names vs PCA features", p.n_features(), feature_names.len()));
            }
            if p.n_components() != psi_in {
                return Err(Error::shape("PCA components vs psi model features", psi_in, p.n_components()));
            }
        }
        None => {
            if feature_names.len() != psi_in {
                return Err(Error::shape("feature names vs model features", psi_in, feature_names.len()));
            }
        }
    }
    Ok(())
}

/// The serialized fields of a [`Router`], checked on load so that a crafted file is refused
/// when read rather than failing each query.
#[derive(Deserialize)]
struct RouterFile {
    feature_names: Vec<String>,
    pca: Option<PcaModel>,
    kind: RouterKind,
    psi: RegressorModel,
    scale: f64,
    threshold: Threshold,
    diagnostics: Diagnostics,
}

impl TryFrom<RouterFile> for Router {
    type Error = String;
    fn try_from(f: RouterFile) -> std::result::Result<Self, String> {
        check_sizes(&f.feature_names, f.pca.as_ref(), &f.psi).map_err(|e| e.to_string())?;
        if !(f.scale.is_finite() && f.scale > 0.0) || f.threshold.w.is_nan() {
            return Err(format!("router scale {} or threshold {} out of range", f.scale, f.threshold.w));
        }
        Ok(Router {
            feature_names: f.feature_names,
            pca: f.pca,
            kind: f.kind,
            psi: f.psi,
            scale: f.scale,
            threshold: f.threshold,
            diagnostics: f.diagnostics,
        })
    }
}

/// The threshold routing `round(rho m)` of the scores to the primary model (see the module docs).
///
/// # Errors
/// [`Error::InvalidParam`] for `rho` outside `[0, 1]`; [`Error::Empty`] for no scores;
/// [`Error::NonFinite`] for a NaN score.
pub fn usage_threshold(scores: &[f64], rho: f64) -> Result<UsageReport> {
    if !(0.0..=1.0).contains(&rho) {
        return Err(Error::param("router", "usage", format!("must lie in [0, 1], got {rho}")));
    }
    if scores.is_empty() {
        return Err(Error::empty("no queries to calibrate the usage rate on"));
    }
    crate::check::finite_slice("scores", scores)?;
    let m = scores.len();
    let mut s = scores.to_vec();
    s.sort_by(f64::total_cmp);
    let k = (rho * m as f64).round() as usize;
    let w = if k >= m { f64::NEG_INFINITY } else { s[m - k - 1] };
    let realised = scores.iter().filter(|&&v| v > w).count() as f64 / m as f64;
    Ok(UsageReport { target: rho, realised, n_queries: m, threshold: w })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_quantile_routes_the_top_share() {
        let s: Vec<f64> = (0..100).map(|i| ((i * 37) % 100) as f64).collect();
        let r = usage_threshold(&s, 0.3).unwrap();
        assert_eq!(r.realised, 0.3);
        assert_eq!(r.threshold, 69.0);
        assert_eq!(usage_threshold(&s, 0.0).unwrap().realised, 0.0);
        assert_eq!(usage_threshold(&s, 1.0).unwrap().realised, 1.0);
        // ties at the boundary: realised differs from target and is reported
        let t = [1.0, 2.0, 2.0, 2.0, 3.0];
        let r = usage_threshold(&t, 0.4).unwrap();
        assert_eq!((r.threshold, r.realised), (2.0, 0.2));
        assert!(usage_threshold(&s, 1.5).unwrap_err().to_string().contains("[0, 1]"));
        assert!(usage_threshold(&s, -0.1).is_err());
        assert!(usage_threshold(&[], 0.5).is_err());
    }

    #[test]
    fn cost_threshold() {
        let t = Threshold::from_costs(0.5, 3.0, 1.0).unwrap();
        assert_eq!(t.w, 1.0);
        assert!(Threshold::from_costs(-1.0, 3.0, 1.0).is_err());
        assert!(Threshold::direct(f64::NAN).is_err());
    }
}
