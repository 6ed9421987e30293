//! The routers: the meta-routers (`meta_r`, `meta_dr`) and every baseline, through one code
//! path ([`train_router`], generic form [`train_router_with`]).
//!
//! All routers regress a quality-gain score `psi_hat(x)` on the preference scale:
//!
//! | router | training rows and targets of the psi regression |
//! | --- | --- |
//! | `gold_only` | gold rows, `c r` |
//! | `pref_only` | preference rows, `y` |
//! | `pooled` | gold rows `c r` and preference rows `y` |
//! | `mean_shift` | gold rows `c r` and preference rows `y + (mean_w(c r) - mean_w(y))` |
//! | `meta_r`, `meta_dr` | gold rows `c r` and preference rows `y + Delta_hat(x)`, `Delta_hat` by the cross-fitted R- or DR-learner |
//! | `all_gold` | every row with its gold label `c g` (studies only: needs gold labels everywhere) |
//!
//! The scale `c` comes from [`crate::causal::align`] on the training rows' gold and preference
//! labels (for `all_gold`, every row's gold label against the preference labels). Gold rows in
//! the pooled regressions get the extra weight `gold_weight`. [`Protocol::Paper`] reproduces
//! the authors' reference script instead (see [`crate::causal::paper`]).

use faer::MatRef;
use serde::{Deserialize, Serialize};

use crate::causal::align::{self, Align, Alignment, Sample};
use crate::causal::crossfit::Aggregate;
use crate::causal::final_stage::{FinalChoice, FinalStage};
use crate::causal::learner::fit_rows;
use crate::causal::meta::{self, Method, PooledRows};
use crate::causal::nuisance::{DrOutcome, Overlap, Propensity, check_clip};
use crate::causal::paper;
use crate::check;
use crate::error::{Error, Result};
use crate::learn::constant::ConstantModel;
use crate::learn::{Predict, Regressor, RegressorModel, RegressorSpec};
use crate::linalg::select::{gather, gather_opt};
use crate::linalg::stats;
use crate::rng::{Seed, stream};

/// A router: which labels and which debiasing train `psi_hat`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RouterKind {
    /// Gold rows only.
    GoldOnly,
    /// Preference rows only.
    PrefOnly,
    /// Gold and preference rows, unchanged (gold scaled by `c`).
    Pooled,
    /// Preference labels shifted by the global mean difference, then pooled.
    MeanShift,
    /// The meta-router with the R-learner's `Delta_hat`.
    MetaR,
    /// The meta-router with the DR-learner's `Delta_hat`.
    MetaDr,
    /// Gold labels on every training row (an upper reference; studies only).
    AllGold,
}

impl RouterKind {
    /// Every router, in reporting order.
    pub const ALL: [RouterKind; 7] = [
        RouterKind::GoldOnly,
        RouterKind::PrefOnly,
        RouterKind::Pooled,
        RouterKind::MeanShift,
        RouterKind::MetaR,
        RouterKind::MetaDr,
        RouterKind::AllGold,
    ];

    /// The name used in every output.
    pub fn name(self) -> &'static str {
        match self {
            RouterKind::GoldOnly => "gold_only",
            RouterKind::PrefOnly => "pref_only",
            RouterKind::Pooled => "pooled",
            RouterKind::MeanShift => "mean_shift",
            RouterKind::MetaR => "meta_r",
            RouterKind::MetaDr => "meta_dr",
            RouterKind::AllGold => "all_gold",
        }
    }

    /// Parses a router name.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] listing the names.
    pub fn from_name(s: &str) -> Result<Self> {
        RouterKind::ALL.into_iter().find(|k| k.name() == s).ok_or_else(|| {
            let names: Vec<&str> = RouterKind::ALL.iter().map(|k| k.name()).collect();
            Error::param(
                "router",
                "router",
                format!("unknown router `{s}`; known: {} (and `random`, an evaluation baseline)", names.join(", ")),
            )
        })
    }

    /// True for the meta-routers.
    pub fn is_meta(self) -> bool {
        matches!(self, RouterKind::MetaR | RouterKind::MetaDr)
    }
}

/// Training data of a router: one label per row, its source given by `is_gold`.
#[derive(Clone, Copy, Debug)]
pub struct RouterData<'a> {
    /// Query features, `n x d`.
    pub x: MatRef<'a, f64>,
    /// 1.0 for a gold row, 0.0 for a preference row.
    pub is_gold: &'a [f64],
    /// The gold label on gold rows, the preference label on preference rows.
    pub label: &'a [f64],
    /// Gold labels on every row (only `all_gold` needs them; studies).
    pub gold_everywhere: Option<&'a [f64]>,
    /// Optional non-negative sample weights.
    pub weights: Option<&'a [f64]>,
}

/// Which protocol estimates `Delta_hat`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Protocol {
    /// Cross-fitted nuisances, selected final stage, alignment (the default).
    #[default]
    CrossFit,
    /// The authors' reference script: in-sample nuisances, its clips and masks, no alignment.
    Paper,
}

impl Protocol {
    /// Parses `crossfit` or `paper`.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] listing the names.
    pub fn from_name(s: &str) -> Result<Self> {
        match s {
            "crossfit" => Ok(Protocol::CrossFit),
            "paper" => Ok(Protocol::Paper),
            _ => Err(Error::param("router", "protocol", format!("unknown protocol `{s}`; known: crossfit, paper"))),
        }
    }
}

/// The default learner: the paper's random forest for nuisances and routers (100 trees,
/// `max_depth` 20, `max_features` sqrt; scikit-learn's `RandomForestRegressor` defaults
/// otherwise).
pub fn default_learner() -> RegressorSpec {
    let mut spec = RegressorSpec::from_name("rf").unwrap_or(RegressorSpec::Constant(Default::default()));
    // The three settings are valid for the forest by construction; a failure would leave the
    // forest's own defaults, which are valid too.
    let _ = spec.set_params(&["n_estimators=100", "max_depth=20", "max_features=sqrt"]);
    spec
}

/// The learner a router uses when named on the command line: `None` and `rf` give
/// [`default_learner`] (the paper's forest; further `--param`s override it), any other name its
/// own defaults.
///
/// # Errors
/// [`Error::InvalidParam`] for an unknown name, listing the known ones.
pub fn router_learner(name: Option<&str>) -> Result<RegressorSpec> {
    match name {
        None => Ok(default_learner()),
        Some(n) if n == default_learner().name() => Ok(default_learner()),
        Some(n) => RegressorSpec::from_name(n),
    }
}

/// The default propensity classifier for [`Propensity::Estimated`]: `logistic` when compiled
/// in, else the class prior.
pub fn default_propensity_classifier() -> crate::learn::ClassifierSpec {
    crate::learn::ClassifierSpec::from_name("logistic")
        .unwrap_or(crate::learn::ClassifierSpec::Prior(crate::learn::constant::PriorParams {}))
}

/// How routers are trained.
///
/// Defaults: `learner` and `nuisance` = [`default_learner`], `propensity` = `Known`,
/// `align` = `Std`, `n_folds` = 5, `repeats` = 1, `aggregate` = `Mean`, `final_stage` = `Auto`,
/// `protocol` = `CrossFit`, `gold_weight` = 1, `dr_outcome` = `Shift`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RouterConfig {
    /// The psi learner.
    pub learner: RegressorSpec,
    /// The outcome nuisances `m`, `mu0`, `mu1` (and the paper protocol's propensity regressor).
    pub nuisance: RegressorSpec,
    /// The propensity: known gold share or an estimated, clipped classifier.
    pub propensity: Propensity,
    /// Scale alignment of gold labels onto the preference scale.
    pub align: Align,
    /// Cross-fitting folds (>= 2).
    pub n_folds: usize,
    /// Cross-fitting repeats (>= 1), aggregated by `aggregate`.
    pub repeats: usize,
    /// How repeats are combined.
    pub aggregate: Aggregate,
    /// The final stage of the meta-learners.
    pub final_stage: FinalStage,
    /// Cross-fitted (default) or the paper's reference protocol.
    pub protocol: Protocol,
    /// Extra weight on gold rows in the pooled psi regressions (> 0).
    pub gold_weight: f64,
    /// How `mu1` is formed in the DR-learner.
    pub dr_outcome: DrOutcome,
}

impl Default for RouterConfig {
    fn default() -> Self {
        RouterConfig {
            learner: default_learner(),
            nuisance: default_learner(),
            propensity: Propensity::Known,
            align: Align::Std,
            n_folds: 5,
            repeats: 1,
            aggregate: Aggregate::Mean,
            final_stage: FinalStage::Auto,
            protocol: Protocol::CrossFit,
            gold_weight: 1.0,
            dr_outcome: DrOutcome::Shift,
        }
    }
}

impl RouterConfig {
    /// The default configuration with `learner` for psi and the outcome nuisances.
    pub fn with_learner(learner: RegressorSpec) -> Self {
        RouterConfig { nuisance: learner.clone(), learner, ..Default::default() }
    }

    /// Checks every field's domain (learner parameters included).
    ///
    /// # Errors
    /// [`Error::InvalidParam`] naming the field.
    pub fn validate(&self) -> Result<()> {
        self.learner.validate()?;
        self.nuisance.validate()?;
        if self.n_folds < 2 {
            return Err(Error::param("router", "n_folds", format!("must be >= 2, got {}", self.n_folds)));
        }
        if self.repeats < 1 {
            return Err(Error::param("router", "repeats", "must be >= 1, got 0"));
        }
        if !(self.gold_weight.is_finite() && self.gold_weight > 0.0) {
            return Err(Error::param("router", "gold_weight", format!("must be > 0, got {}", self.gold_weight)));
        }
        if let Propensity::Estimated { classifier, clip } = &self.propensity {
            classifier.validate()?;
            check_clip(*clip)?;
        }
        if let FinalStage::Fixed(s) = &self.final_stage {
            s.validate()?;
        }
        Ok(())
    }
}

/// What happened while training a router.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Diagnostics {
    /// Training rows.
    pub n_rows: usize,
    /// Gold rows among them.
    pub n_gold: usize,
    /// Preference rows among them.
    pub n_pref: usize,
    /// The scale constant and how it was found.
    pub alignment: Alignment,
    /// The meta-learners' final stage: the winner and every candidate's CV loss.
    pub final_stage: Option<FinalChoice>,
    /// Propensity overlap (meta-routers).
    pub overlap: Option<Overlap>,
    /// Mean of `Delta_hat` over preference rows (meta-routers, mean shift).
    pub delta_mean: Option<f64>,
    /// Rows kept by the paper protocol's propensity mask.
    pub rows_kept: Option<usize>,
    /// Warnings worth showing a user (clamped scale, poor overlap, ...).
    pub warnings: Vec<String>,
}

/// A trained router with a psi model of type `M`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FittedRouter<M> {
    /// Which router.
    pub kind: RouterKind,
    /// `psi_hat(x)` on the preference scale (gold labels were multiplied by `scale`).
    pub psi: M,
    /// The constant `c` applied to gold labels (1 without alignment).
    pub scale: f64,
    /// `Delta_hat(x)` on the preference scale (meta-routers; a constant for `mean_shift`).
    pub delta: Option<RegressorModel>,
    /// Clip applied to `Delta_hat` before lifting (the paper protocol's `[-1.2, 1.2]`).
    pub delta_clip: Option<[f64; 2]>,
    /// What happened in training.
    pub diagnostics: Diagnostics,
}

/// A trained router whose psi model comes from the run-time learner spec.
pub type TrainedRouter = FittedRouter<RegressorModel>;

impl<M: Predict> FittedRouter<M> {
    /// `psi_hat` for each row of `x`.
    ///
    /// # Errors
    /// [`Error::Shape`] for the wrong number of columns.
    pub fn predict_psi(&self, x: MatRef<'_, f64>) -> Result<Vec<f64>> {
        self.psi.predict(x)
    }

    /// `Delta_hat` for each row of `x` (with the protocol's clip), or `None` for routers
    /// without one.
    ///
    /// # Errors
    /// [`Error::Shape`] for the wrong number of columns.
    pub fn predict_delta(&self, x: MatRef<'_, f64>) -> Result<Option<Vec<f64>>> {
        let Some(d) = &self.delta else { return Ok(None) };
        let mut v = d.predict(x)?;
        if let Some([lo, hi]) = self.delta_clip {
            v.iter_mut().for_each(|z| *z = z.clamp(lo, hi));
        }
        Ok(Some(v))
    }
}

/// Checks router data; returns the gold and preference row indices.
///
/// # Errors
/// Mismatched lengths, `is_gold` not 0/1, NaN labels or features, bad weights, no gold rows,
/// no preference rows.
pub fn validate_data(data: &RouterData<'_>) -> Result<(Vec<usize>, Vec<usize>)> {
    let n = data.x.nrows();
    if n == 0 {
        return Err(Error::empty("router training data has no rows"));
    }
    if data.x.ncols() == 0 {
        return Err(Error::empty("router training data has no feature columns"));
    }
    if data.is_gold.len() != n {
        return Err(Error::shape("is_gold vs feature rows", n, data.is_gold.len()));
    }
    if data.label.len() != n {
        return Err(Error::shape("labels vs feature rows", n, data.label.len()));
    }
    if let Some(g) = data.gold_everywhere {
        if g.len() != n {
            return Err(Error::shape("gold_everywhere vs feature rows", n, g.len()));
        }
        check::finite_slice("gold labels (gold_everywhere)", g)?;
    }
    if let Some(w) = data.weights {
        check::weights(w, n)?;
    }
    if let Some(i) = data.is_gold.iter().position(|&g| g != 0.0 && g != 1.0) {
        return Err(Error::data(format!(
            "is_gold at row {i} is {}; expected 1 (gold) or 0 (preference)",
            data.is_gold[i]
        )));
    }
    check::finite_slice("labels", data.label)?;
    check::finite_matrix("features", data.x)?;
    let gold: Vec<usize> = (0..n).filter(|&i| data.is_gold[i] == 1.0).collect();
    let pref: Vec<usize> = (0..n).filter(|&i| data.is_gold[i] == 0.0).collect();
    if gold.is_empty() {
        return Err(Error::data("no gold rows: a router needs at least one gold-labelled row"));
    }
    if pref.is_empty() {
        return Err(Error::data("no preference rows: a router needs at least one preference-labelled row"));
    }
    Ok((gold, pref))
}

/// Trains router `kind` with the learners of `cfg` (`cfg.learner` for psi, `cfg.nuisance` for
/// the outcome nuisances).
///
/// # Errors
/// Invalid configuration or data (see [`validate_data`]), alignment errors (constant labels),
/// too few gold rows for the folds, `all_gold` without `gold_everywhere`, learner errors.
pub fn train_router(kind: RouterKind, data: &RouterData<'_>, cfg: &RouterConfig, seed: Seed) -> Result<TrainedRouter> {
    train_router_with(kind, data, &cfg.learner, &cfg.nuisance, cfg, seed)
}

/// Trains router `kind` with any psi learner and any nuisance learner implementing
/// [`Regressor`] (user-defined learners included); `cfg.learner` and `cfg.nuisance` are
/// ignored, every other field of `cfg` applies. The final stage still comes from the spec
/// (`cfg.final_stage`), so `Delta_hat` stays serialisable.
///
/// # Errors
/// As [`train_router`].
pub fn train_router_with<L: Regressor, N: Regressor>(
    kind: RouterKind,
    data: &RouterData<'_>,
    learner: &L,
    nuisance: &N,
    cfg: &RouterConfig,
    seed: Seed,
) -> Result<FittedRouter<L::Model>> {
    cfg.validate()?;
    let (gold, pref) = validate_data(data)?;
    let n = data.x.nrows();
    let w = data.weights;
    let align_method = if cfg.protocol == Protocol::Paper { Align::None } else { cfg.align };
    let pref_labels = gather(data.label, &pref);
    let pref_w = gather_opt(w, &pref);
    let pref_sample = Sample { values: &pref_labels, weights: pref_w.as_deref() };

    let gold_all = if kind == RouterKind::AllGold {
        Some(data.gold_everywhere.ok_or_else(|| {
            Error::data("all_gold needs gold labels on every training row (gold_everywhere); only studies have them")
        })?)
    } else {
        None
    };
    let alignment = match gold_all {
        Some(g) => align::align(align_method, &Sample { values: g, weights: w }, &pref_sample)?,
        None => {
            let gl = gather(data.label, &gold);
            let gw = gather_opt(w, &gold);
            align::align(align_method, &Sample { values: &gl, weights: gw.as_deref() }, &pref_sample)?
        }
    };
    let c = alignment.c;
    let mut diagnostics = Diagnostics {
        n_rows: n,
        n_gold: gold.len(),
        n_pref: pref.len(),
        alignment,
        final_stage: None,
        overlap: None,
        delta_mean: None,
        rows_kept: None,
        warnings: Vec::new(),
    };
    if alignment.clamped {
        diagnostics.warnings.push(format!(
            "the {} scale estimate was {} (not positive); clamped to c = {}",
            alignment.method.name(),
            alignment.raw,
            c
        ));
    }

    // pooled outcome o and treatment t
    let o: Vec<f64> = (0..n).map(|i| if data.is_gold[i] == 1.0 { c * data.label[i] } else { data.label[i] }).collect();
    let t = data.is_gold;
    let psi_w: Vec<f64> =
        (0..n).map(|i| w.map_or(1.0, |w| w[i]) * if t[i] == 1.0 { cfg.gold_weight } else { 1.0 }).collect();
    let psi_seed = seed.child(stream::ROUTER);
    let all: Vec<usize> = (0..n).collect();

    let (psi, delta, delta_clip) = match kind {
        RouterKind::GoldOnly => (fit_rows(learner, data.x, &o, w, &gold, psi_seed)?, None, None),
        RouterKind::PrefOnly => (fit_rows(learner, data.x, &o, w, &pref, psi_seed)?, None, None),
        RouterKind::Pooled => (fit_rows(learner, data.x, &o, Some(&psi_w), &all, psi_seed)?, None, None),
        RouterKind::AllGold => {
            let g: Vec<f64> = gold_all.unwrap_or(data.label).iter().map(|v| c * v).collect();
            (fit_rows(learner, data.x, &g, w, &all, psi_seed)?, None, None)
        }
        RouterKind::MeanShift => {
            let shift = stats::mean(&gather(&o, &gold), gather_opt(w, &gold).as_deref())
                - stats::mean(&pref_labels, pref_w.as_deref());
            let lifted: Vec<f64> = (0..n).map(|i| if t[i] == 1.0 { o[i] } else { o[i] + shift }).collect();
            diagnostics.delta_mean = Some(shift);
            let model = fit_rows(learner, data.x, &lifted, Some(&psi_w), &all, psi_seed)?;
            let delta = RegressorModel::Constant(ConstantModel { value: shift, n_features: data.x.ncols() });
            (model, Some(delta), None)
        }
        RouterKind::MetaR | RouterKind::MetaDr => {
            let method = if kind == RouterKind::MetaR { Method::R } else { Method::Dr };
            let rows = PooledRows { x: data.x, t, o: &o, w };
            let fit = match cfg.protocol {
                Protocol::CrossFit => meta::estimate_delta(method, &rows, nuisance, cfg, seed)?,
                Protocol::Paper => paper::estimate_delta(method, &rows, nuisance, cfg, seed)?,
            };
            let mut d = fit.model.predict(data.x)?;
            if let Some([lo, hi]) = fit.clip {
                d.iter_mut().for_each(|z| *z = z.clamp(lo, hi));
            }
            let lifted: Vec<f64> = (0..n).map(|i| if t[i] == 1.0 { o[i] } else { o[i] + d[i] }).collect();
            diagnostics.delta_mean = Some(stats::mean(&gather(&d, &pref), pref_w.as_deref()));
            diagnostics.final_stage = Some(fit.choice);
            if let Some(ov) = &fit.overlap {
                diagnostics.warnings.extend(ov.warning.iter().cloned());
            }
            diagnostics.overlap = fit.overlap;
            diagnostics.rows_kept = fit.rows_kept;
            let model = fit_rows(learner, data.x, &lifted, Some(&psi_w), &all, psi_seed)?;
            (model, Some(fit.model), fit.clip)
        }
    };
    Ok(FittedRouter { kind, psi, scale: c, delta, delta_clip, diagnostics })
}
