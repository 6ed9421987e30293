//! Routing among `K` models (issue #13): one trained gain `psi_k` per model against a reference
//! model, the decision `argmax_k psi_hat_k - lambda cost_k`, budget calibration of `lambda`, and
//! training from wide data.
//!
//! # The model
//! Models `k = 0..K-1` with names, costs (a constant per model, [`ModelCosts::PerModel`], or a
//! cost per query and model given at routing time, [`ModelCosts::PerQuery`]) and a reference
//! model `ref` (the cheapest under constant costs, ties the first; or one the user names). The
//! router estimates `psi_k(x) = E[g_k - g_ref | x]` for every `k != ref`, each by an ordinary
//! two-source router of [`crate::router::train`] on the rows labelled for model `k`, and reports
//! it on the gold scale (`model_k(x) / c_k`, as [`crate::router::Router::score_into`]), so that
//! gains of different models, each with its own alignment constant `c_k`, compare with each other
//! and with costs; `psi_hat_ref = 0`. A query goes to
//! ```text
//! k*(x) = argmax_k  psi_hat_k(x) - lambda cost_k(x)      (ties: the cheaper model, then the first)
//! ```
//! exactly as [`crate::eval::quality_cost`]'s `choose_into` (this layer cannot call it; a test
//! checks that both agree).
//!
//! # Training rows (wide data)
//! [`MultiData`] holds, per query row, a gold quality per model and, per judge `s`, a
//! preference quality per model (`NaN` where a label is missing). Any common baseline may be
//! subtracted beforehand (e.g. gains against model 0): only differences enter. For model `k` the
//! training rows ([`gain_rows`]) are, query by query in row order, one row per label source that
//! has both model `k`'s and the reference's label:
//! ```text
//! (row i, source 0, gold_ik - gold_i,ref)           gold rows
//! (row i, source s, pref_s,ik - pref_s,i,ref)       s = 1..S, one row per judge label
//! ```
//! the multi-source trainer's layout (a query labelled by several judges is one row per label).
//! [`fit_gain`] fits one model's gain from such rows with the multi-source trainer
//! ([`crate::router::sources`]: each judge's bias against gold estimated on its own); with one
//! judge that is [`crate::router::train_router`] with `is_gold = (source == 0)`, so two models and
//! one judge train exactly today's router. Every model is trained with the same seed (common random
//! numbers across models, as across routers in a study).
//!
//! # Budget calibration
//! Instead of `lambda`, a target ([`BudgetTarget`]): the mean cost per query, or the share of
//! queries sent to a given model *or a dearer one* (for the dearest model, its own share; for two
//! models, today's usage rate). Both are non-increasing in `lambda`: if `a` is chosen at
//! `lambda_1 < lambda_2` and `b` at `lambda_2`, adding the two optimality conditions gives
//! `(lambda_2 - lambda_1)(c_a - c_b) >= 0`, so each query's chosen cost can only fall as `lambda`
//! grows (ties go to the cheaper model, which keeps this true). [`calibrate_lambda`] therefore
//! bisects over `lambda >= 0`:
//! * if the target is met at `lambda = 0` (pure quality), `lambda = 0`: spending more cannot buy
//!   an estimated gain; the realised figure may lie below the target;
//! * else `lambda_hi` doubles from 1 until the target is met (beyond every query's largest hull
//!   breakpoint each query takes its cheapest model, so this ends); if even that misses the
//!   target (a target below the cheapest attainable spend), that `lambda` is kept and the
//!   realised figure lies above the target;
//! * else bisection keeps `metric(lo) > target >= metric(hi)` until `lo` and `hi` are adjacent
//!   floats (at most 200 steps), and returns `hi`: the smallest `lambda` that meets the target.
//!
//! The metric is a step function of `lambda`. At a breakpoint the tie goes to the cheaper model,
//! so the metric takes its lower value there and the returned `lambda` meets the target. A
//! plateau (several queries sharing a breakpoint, or one query jumping by a large cost) can
//! leave the realised figure well below the target: a deterministic router cannot route part of
//! a tie group (the quality-cost curve, an expectation, can). [`BudgetReport`] gives target and
//! realised side by side.
//!
//! # Persistence
//! A [`MultiRouter`] is saved as its own artefact kind ([`Kind::MultiRouter`]), checked on load
//! like [`crate::router::Router`].

use std::path::Path;

use faer::{Mat, MatMut, MatRef};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::learn::pca::PcaModel;
use crate::learn::{Predict, RegressorModel};
use crate::linalg::select::select_rows;
use crate::persist::{self, Kind};
use crate::rng::Seed;
use crate::router::config::RouterConfig;
use crate::router::fitted::{Diagnostics, TrainedRouter};
use crate::router::kind::RouterKind;
use crate::router::sources::{SourceData, train_router_sources};

/// The models' costs as a router stores them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ModelCosts {
    /// One cost per model, the same for every query.
    PerModel(Vec<f64>),
    /// A cost per query and model, given with each query at routing time.
    PerQuery,
}

/// Costs for a batch of queries: one per model, or one per query and model (`m x K`).
#[derive(Clone, Copy, Debug)]
pub enum CostTable<'a> {
    /// One cost per model (length `K`).
    PerModel(&'a [f64]),
    /// A cost per query and model (`m x K`).
    PerQuery(MatRef<'a, f64>),
}

impl CostTable<'_> {
    #[inline]
    fn get(&self, i: usize, k: usize) -> f64 {
        match self {
            CostTable::PerModel(c) => c[k],
            CostTable::PerQuery(c) => c[(i, k)],
        }
    }

    /// Checks shape (`m` queries, `k` models) and values (finite, `>= 0`).
    fn check(&self, m: usize, k: usize) -> Result<()> {
        match self {
            CostTable::PerModel(c) => {
                if c.len() != k {
                    return Err(Error::shape("costs per model", k, c.len()));
                }
                for (j, &v) in c.iter().enumerate() {
                    check_cost(v, j, None)?;
                }
            }
            CostTable::PerQuery(c) => {
                if c.nrows() != m || c.ncols() != k {
                    return Err(Error::shape("costs (queries x models)", m * k, c.nrows() * c.ncols()));
                }
                for j in 0..k {
                    for i in 0..m {
                        check_cost(c[(i, j)], j, Some(i))?;
                    }
                }
            }
        }
        Ok(())
    }
}

fn check_cost(v: f64, model: usize, query: Option<usize>) -> Result<()> {
    if v.is_finite() && v >= 0.0 {
        return Ok(());
    }
    let at = query.map_or(String::new(), |i| format!(", query {i}"));
    Err(Error::param("router", "cost", format!("must be finite and >= 0, got {v} for model {model}{at}")))
}

/// The decision for one query: `argmax_k scores[k] - lambda cost(k)`, ties to the cheaper model,
/// then the first (the semantics of [`crate::eval::quality_cost`]'s `choose_into`).
#[inline]
fn argmax_utility(scores: &[f64], lambda: f64, cost: impl Fn(usize) -> f64) -> usize {
    let (mut best, mut best_u) = (0, scores[0] - lambda * cost(0));
    for (j, &s) in scores.iter().enumerate().skip(1) {
        let u = s - lambda * cost(j);
        if u > best_u || (u == best_u && cost(j) < cost(best)) {
            (best, best_u) = (j, u);
        }
    }
    best
}

/// Which models, their costs and the reference.
#[derive(Clone, Debug, PartialEq)]
pub struct MultiSpec {
    /// Model names (distinct, at least two).
    pub models: Vec<String>,
    /// Their costs.
    pub costs: ModelCosts,
    /// The reference model's name; `None`: the cheapest under constant costs (ties: the first).
    /// Required with per-query costs.
    pub reference: Option<String>,
}

impl MultiSpec {
    /// Checks the spec and returns the reference model's index.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] for fewer than two models, an empty or repeated name, costs
    /// missing for a model (naming it) or in excess, a negative or non-finite cost, an unknown
    /// reference, or per-query costs without a named reference.
    pub fn validate(&self) -> Result<usize> {
        let k = self.models.len();
        if k < 2 {
            return Err(Error::param("router", "models", format!("routing needs at least 2 models, got {k}")));
        }
        for (j, name) in self.models.iter().enumerate() {
            if name.is_empty() {
                return Err(Error::param("router", "models", format!("model {j} has an empty name")));
            }
            if self.models[..j].contains(name) {
                return Err(Error::param("router", "models", format!("model name `{name}` appears twice")));
            }
        }
        if let ModelCosts::PerModel(c) = &self.costs {
            if c.len() < k {
                return Err(Error::param(
                    "router",
                    "costs",
                    format!("no cost for model `{}` ({} costs for {k} models)", self.models[c.len()], c.len()),
                ));
            }
            if c.len() > k {
                return Err(Error::param("router", "costs", format!("{} costs for {k} models", c.len())));
            }
            for (j, &v) in c.iter().enumerate() {
                if !(v.is_finite() && v >= 0.0) {
                    return Err(Error::param(
                        "router",
                        "costs",
                        format!("the cost of model `{}` must be finite and >= 0, got {v}", self.models[j]),
                    ));
                }
            }
        }
        match (&self.reference, &self.costs) {
            (Some(r), _) => self.models.iter().position(|m| m == r).ok_or_else(|| {
                Error::param(
                    "router",
                    "reference",
                    format!("unknown reference model `{r}`; models: {}", self.models.join(", ")),
                )
            }),
            (None, ModelCosts::PerModel(c)) => Ok((0..k).fold(0, |best, j| if c[j] < c[best] { j } else { best })),
            (None, ModelCosts::PerQuery) => Err(Error::param(
                "router",
                "reference",
                "with per-query costs the cheapest model is not defined: name the reference model",
            )),
        }
    }
}

/// Training data in wide form (see the module docs): `n` query rows, `K` models, `S` judges.
#[derive(Clone, Copy, Debug)]
pub struct MultiData<'a> {
    /// Query features, `n x d`.
    pub x: MatRef<'a, f64>,
    /// Gold quality of each model's answer (or its gain against a common baseline), `n x K`;
    /// `NaN` where not labelled.
    pub gold: MatRef<'a, f64>,
    /// Per judge, the preference quality of each model's answer, `n x K`; `NaN` where not
    /// labelled.
    pub judges: &'a [MatRef<'a, f64>],
    /// Gold qualities on every row, `n x K` (only `all_gold` needs them; studies).
    pub gold_everywhere: Option<MatRef<'a, f64>>,
}

impl MultiData<'_> {
    /// Checks shapes against `k` models: every matrix `n x K`, at least one judge, labels `NaN`
    /// or finite, features finite.
    ///
    /// # Errors
    /// [`Error::Shape`], [`Error::Empty`], [`Error::NonFinite`] (an infinite label).
    pub fn validate(&self, k: usize) -> Result<()> {
        let n = self.x.nrows();
        if n == 0 || self.x.ncols() == 0 {
            return Err(Error::empty("many-model training data: no rows or no feature columns"));
        }
        crate::check::finite_matrix("features", self.x)?;
        if self.judges.is_empty() {
            return Err(Error::empty("many-model training data: no judge (preference source)"));
        }
        let named = std::iter::once(("gold labels".to_string(), self.gold))
            .chain(self.judges.iter().enumerate().map(|(s, m)| (format!("labels of judge {}", s + 1), *m)))
            .chain(self.gold_everywhere.map(|g| ("gold_everywhere".to_string(), g)));
        for (what, m) in named {
            if m.nrows() != n || m.ncols() != k {
                return Err(Error::shape(format!("{what} (rows x models)"), n * k, m.nrows() * m.ncols()));
            }
            for j in 0..k {
                for i in 0..n {
                    let v = m[(i, j)];
                    if v.is_infinite() {
                        return Err(Error::NonFinite { what: what.clone(), row: i, col: j, value: v });
                    }
                }
            }
        }
        Ok(())
    }
}

/// One model's training rows (see the module docs): the multi-source layout.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GainRows {
    /// The query row of each label.
    pub rows: Vec<usize>,
    /// Its source: 0 gold, `s` = 1..=S judge `s`.
    pub source: Vec<usize>,
    /// The gain label `label_k - label_ref`.
    pub label: Vec<f64>,
    /// The gold gain on each label's row (from `gold_everywhere`), when given.
    pub gold_everywhere: Option<Vec<f64>>,
}

/// Model `k`'s training rows against `reference` (module docs); `data` must be valid.
pub fn gain_rows(data: &MultiData<'_>, k: usize, reference: usize) -> GainRows {
    let mut out = GainRows { gold_everywhere: data.gold_everywhere.map(|_| Vec::new()), ..Default::default() };
    let mut push = |i: usize, s: usize, a: f64, b: f64| {
        if !a.is_nan() && !b.is_nan() {
            out.rows.push(i);
            out.source.push(s);
            out.label.push(a - b);
            if let (Some(g), Some(ge)) = (data.gold_everywhere, out.gold_everywhere.as_mut()) {
                ge.push(g[(i, k)] - g[(i, reference)]);
            }
        }
    };
    for i in 0..data.x.nrows() {
        push(i, 0, data.gold[(i, k)], data.gold[(i, reference)]);
        for (s, j) in data.judges.iter().enumerate() {
            push(i, s + 1, j[(i, k)], j[(i, reference)]);
        }
    }
    out
}

/// Fits one model's gain from its rows (every per-model training call goes through here):
/// [`train_router_sources`] on the rows' features, gold rows as source 0 and judge `s` as
/// source `s` (one row per label). With one judge that is [`crate::router::train::train_router`]
/// with `is_gold = (source == 0)`, bit for bit.
///
/// # Errors
/// The trainer's errors (e.g. a judge without labels for this model, named).
pub fn fit_gain(
    kind: RouterKind,
    x: MatRef<'_, f64>,
    rows: &GainRows,
    n_sources: usize,
    cfg: &RouterConfig,
    seed: Seed,
) -> Result<TrainedRouter> {
    let xr = select_rows(x, &rows.rows);
    let data = SourceData {
        x: xr.as_ref(),
        source: &rows.source,
        label: &rows.label,
        n_sources,
        gold_everywhere: rows.gold_everywhere.as_deref(),
        weights: None,
        source_weights: None,
    };
    Ok(train_router_sources(kind, &data, cfg, seed)?.router)
}

/// Every model's trained gain (`None` at the reference), before serving.
#[derive(Clone, Debug)]
pub struct MultiTrained {
    /// Model names.
    pub models: Vec<String>,
    /// The reference model's index.
    pub reference: usize,
    /// The costs.
    pub costs: ModelCosts,
    /// Which router trained the gains.
    pub kind: RouterKind,
    /// Per model, its trained gain against the reference (`None` at the reference).
    pub gains: Vec<Option<TrainedRouter>>,
}

impl MultiTrained {
    /// `psi_hat` on the gold scale for every row of `x` (`m x K`, zero in the reference's column).
    ///
    /// # Errors
    /// A model's shape errors.
    pub fn predict(&self, x: MatRef<'_, f64>) -> Result<Mat<f64>> {
        let mut out = Mat::<f64>::zeros(x.nrows(), self.models.len());
        for (k, g) in self.gains.iter().enumerate() {
            if let Some(g) = g {
                let p = g.predict_psi(x)?;
                for (i, v) in p.into_iter().enumerate() {
                    out[(i, k)] = v / g.scale;
                }
            }
        }
        Ok(out)
    }
}

/// Trains router `kind` for every model of `spec` on wide data (see the module docs).
///
/// # Errors
/// An invalid spec ([`MultiSpec::validate`]) or data ([`MultiData::validate`]); a model without
/// any gold label or without any preference label (named; a label counts where the reference is
/// labelled too); the trainer's errors (a judge without labels for a model), prefixed with the
/// model's name where they are data errors.
pub fn train_multi(
    kind: RouterKind,
    data: &MultiData<'_>,
    spec: &MultiSpec,
    cfg: &RouterConfig,
    seed: Seed,
) -> Result<MultiTrained> {
    let reference = spec.validate()?;
    let k = spec.models.len();
    data.validate(k)?;
    let rows: Vec<Option<GainRows>> = (0..k).map(|j| (j != reference).then(|| gain_rows(data, j, reference))).collect();
    for (j, r) in rows.iter().enumerate() {
        let Some(r) = r else { continue };
        let name = &spec.models[j];
        let refn = &spec.models[reference];
        if !r.source.contains(&0) {
            return Err(Error::data(format!(
                "model `{name}` has no gold labels (on rows where the reference `{refn}` has one too)"
            )));
        }
        if !r.source.iter().any(|&s| s > 0) {
            return Err(Error::data(format!(
                "model `{name}` has no preference labels (on rows where the reference `{refn}` has one too)"
            )));
        }
    }
    let mut gains = Vec::with_capacity(k);
    for (j, r) in rows.iter().enumerate() {
        gains.push(match r {
            None => None,
            Some(r) => Some(fit_gain(kind, data.x, r, data.judges.len(), cfg, seed).map_err(|e| match e {
                Error::InvalidData { what } => Error::data(format!("model `{}`: {what}", spec.models[j])),
                e => e,
            })?),
        });
    }
    Ok(MultiTrained { models: spec.models.clone(), reference, costs: spec.costs.clone(), kind, gains })
}

/// A budget target for [`calibrate_lambda`].
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum BudgetTarget {
    /// The mean cost per query.
    MeanCost(f64),
    /// The share of queries sent to `model` or a model at least as dear (on that query).
    Share {
        /// The model's index.
        model: usize,
        /// The target share in `[0, 1]`.
        share: f64,
    },
}

/// A budget calibration: target against realised on the calibration queries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BudgetReport {
    /// The target.
    pub target: BudgetTarget,
    /// The target's figure realised with the calibrated `lambda`.
    pub realised: f64,
    /// The calibrated cost weight.
    pub lambda: f64,
    /// Queries in the calibration set.
    pub n_queries: usize,
    /// Mean cost per query realised.
    pub mean_cost: f64,
    /// Share of the queries sent to each model.
    pub shares: Vec<f64>,
}

/// The target's figure at `lambda` and the chosen models into `chosen`.
fn budget_metric(
    psi: MatRef<'_, f64>,
    costs: &CostTable<'_>,
    target: &BudgetTarget,
    lambda: f64,
    chosen: &mut [usize],
) -> f64 {
    let (m, k) = (psi.nrows(), psi.ncols());
    let mut row = vec![0.0; k];
    let mut total = 0.0;
    for (i, c) in chosen.iter_mut().enumerate() {
        for (j, r) in row.iter_mut().enumerate() {
            *r = psi[(i, j)];
        }
        *c = argmax_utility(&row, lambda, |j| costs.get(i, j));
        total += match target {
            BudgetTarget::MeanCost(_) => costs.get(i, *c),
            BudgetTarget::Share { model, .. } => f64::from(u8::from(costs.get(i, *c) >= costs.get(i, *model))),
        };
    }
    total / m as f64
}

/// Calibrates `lambda` on the scores `psi_hat` (`m x K`, gold scale) of a query set so that
/// `target` is met (see the module docs for the bisection, ties and plateaus).
///
/// # Errors
/// No queries, fewer than two models, mismatched shapes, non-finite scores, bad costs, a
/// negative or non-finite target, a share outside `[0, 1]` or an unknown model; a bracket that
/// cannot be found (scores or cost gaps beyond f64 range).
pub fn calibrate_lambda(psi_hat: MatRef<'_, f64>, costs: CostTable<'_>, target: BudgetTarget) -> Result<BudgetReport> {
    let (m, k) = (psi_hat.nrows(), psi_hat.ncols());
    if m == 0 {
        return Err(Error::empty("no queries to calibrate the budget on"));
    }
    if k < 2 {
        return Err(Error::param("router", "models", format!("needs at least 2 models, got {k}")));
    }
    crate::check::finite_matrix("scores", psi_hat)?;
    costs.check(m, k)?;
    let t = match target {
        BudgetTarget::MeanCost(c) => {
            if !(c.is_finite() && c >= 0.0) {
                return Err(Error::param(
                    "router",
                    "budget",
                    format!("the target mean cost must be finite and >= 0, got {c}"),
                ));
            }
            c
        }
        BudgetTarget::Share { model, share } => {
            if model >= k {
                return Err(Error::param("router", "budget", format!("model {model} out of range for {k} models")));
            }
            if !(0.0..=1.0).contains(&share) {
                return Err(Error::param(
                    "router",
                    "budget",
                    format!("the target share must lie in [0, 1], got {share}"),
                ));
            }
            share
        }
    };
    let mut chosen = vec![0; m];
    let metric = |l: f64, chosen: &mut [usize]| budget_metric(psi_hat, &costs, &target, l, chosen);
    let lambda = if metric(0.0, &mut chosen) <= t {
        0.0
    } else {
        let mut hi = 1.0f64;
        loop {
            if metric(hi, &mut chosen) <= t {
                let mut lo = 0.0f64;
                for _ in 0..200 {
                    let mid = lo + (hi - lo) / 2.0;
                    if mid <= lo || mid >= hi {
                        break;
                    }
                    if metric(mid, &mut chosen) <= t {
                        hi = mid;
                    } else {
                        lo = mid;
                    }
                }
                break;
            }
            // every query on one of its cheapest models: the target lies below the cheapest
            // attainable figure; keep this lambda (realised above target, reported)
            if is_floor(psi_hat, &costs, hi) {
                break;
            }
            hi *= 2.0;
            if !hi.is_finite() {
                return Err(Error::param(
                    "router",
                    "budget",
                    format!("cannot bracket the target {t}: scores or cost gaps beyond the f64 range"),
                ));
            }
        }
        hi
    };
    let realised = metric(lambda, &mut chosen);
    let mut shares = vec![0.0; k];
    let mut mean_cost = 0.0;
    for (i, &c) in chosen.iter().enumerate() {
        shares[c] += 1.0 / m as f64;
        mean_cost += costs.get(i, c) / m as f64;
    }
    Ok(BudgetReport { target, realised, lambda, n_queries: m, mean_cost, shares })
}

/// True when at `lambda` every query takes one of its cheapest models (the metric cannot fall
/// further).
fn is_floor(psi: MatRef<'_, f64>, costs: &CostTable<'_>, lambda: f64) -> bool {
    let k = psi.ncols();
    let mut row = vec![0.0; k];
    (0..psi.nrows()).all(|i| {
        for (j, r) in row.iter_mut().enumerate() {
            *r = psi[(i, j)];
        }
        let c = argmax_utility(&row, lambda, |j| costs.get(i, j));
        (0..k).all(|j| costs.get(i, c) <= costs.get(i, j))
    })
}

/// One model's served gain: its psi model (preference scale) and alignment constant.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Gain {
    /// `c_k psi_k(x)`, the trained model on the preference scale.
    pub psi: RegressorModel,
    /// The alignment constant `c_k > 0`.
    pub scale: f64,
    /// Training diagnostics.
    pub diagnostics: Diagnostics,
}

/// How the stored `lambda` was set.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum LambdaRule {
    /// Given directly.
    Direct,
    /// Calibrated to a budget on a query set.
    Budget(BudgetReport),
}

/// A router among `K` models, ready to serve (see the module docs).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(try_from = "MultiRouterFile")]
pub struct MultiRouter {
    /// Feature names, in the order a query row must follow.
    pub feature_names: Vec<String>,
    /// PCA applied to query features before every gain model.
    pub pca: Option<PcaModel>,
    /// Which router trained the gains.
    pub kind: RouterKind,
    /// Model names.
    pub models: Vec<String>,
    /// The reference model's index (`psi_hat = 0`).
    pub reference: usize,
    /// The costs.
    pub costs: ModelCosts,
    /// Per model, its gain (`None` exactly at the reference).
    pub gains: Vec<Option<Gain>>,
    /// The cost weight of the decision rule (finite, `>= 0`).
    pub lambda: f64,
    /// How `lambda` was set.
    pub rule: LambdaRule,
}

#[derive(Deserialize)]
struct MultiRouterFile {
    feature_names: Vec<String>,
    pca: Option<PcaModel>,
    kind: RouterKind,
    models: Vec<String>,
    reference: usize,
    costs: ModelCosts,
    gains: Vec<Option<Gain>>,
    lambda: f64,
    rule: LambdaRule,
}

impl TryFrom<MultiRouterFile> for MultiRouter {
    type Error = String;
    fn try_from(f: MultiRouterFile) -> std::result::Result<Self, String> {
        let r = MultiRouter {
            feature_names: f.feature_names,
            pca: f.pca,
            kind: f.kind,
            models: f.models,
            reference: f.reference,
            costs: f.costs,
            gains: f.gains,
            lambda: f.lambda,
            rule: f.rule,
        };
        r.check().map_err(|e| e.to_string())?;
        Ok(r)
    }
}

impl MultiRouter {
    /// A serving router from trained gains, with `lambda = 0` (the best estimated model). With
    /// `pca`, the gains were fitted on the PCA scores of the features named.
    ///
    /// # Errors
    /// [`Error::Shape`] when the feature names, the PCA and a gain model disagree in size; an
    /// inconsistent `trained` (a gain at the reference, one missing elsewhere).
    pub fn new(trained: MultiTrained, feature_names: Vec<String>, pca: Option<PcaModel>) -> Result<Self> {
        let r = MultiRouter {
            feature_names,
            pca,
            kind: trained.kind,
            models: trained.models,
            reference: trained.reference,
            costs: trained.costs,
            gains: trained
                .gains
                .into_iter()
                .map(|g| g.map(|g| Gain { psi: g.psi, scale: g.scale, diagnostics: g.diagnostics }))
                .collect(),
            lambda: 0.0,
            rule: LambdaRule::Direct,
        };
        r.check()?;
        Ok(r)
    }

    fn check(&self) -> Result<()> {
        let spec = MultiSpec {
            models: self.models.clone(),
            costs: self.costs.clone(),
            reference: self.models.get(self.reference).cloned(),
        };
        if spec.reference.is_none() {
            return Err(Error::param("router", "reference", format!("index {} out of range", self.reference)));
        }
        spec.validate()?;
        if self.gains.len() != self.models.len() {
            return Err(Error::shape("gains vs models", self.models.len(), self.gains.len()));
        }
        let width = match &self.pca {
            Some(p) => {
                if p.n_features() != self.feature_names.len() {
                    return Err(Error::shape(
                        "feature names vs PCA features",
                        p.n_features(),
                        self.feature_names.len(),
                    ));
                }
                p.n_components()
            }
            None => self.feature_names.len(),
        };
        for (k, g) in self.gains.iter().enumerate() {
            match (k == self.reference, g) {
                (true, Some(_)) | (false, None) => {
                    return Err(Error::data(format!(
                        "model `{}`: a gain model must exist for every model but the reference",
                        self.models[k]
                    )));
                }
                (false, Some(g)) => {
                    if g.psi.n_features() != width {
                        return Err(Error::shape("gain model features", width, g.psi.n_features()));
                    }
                    if !(g.scale.is_finite() && g.scale > 0.0) {
                        return Err(Error::param(
                            "router",
                            "scale",
                            format!("must be finite and > 0, got {}", g.scale),
                        ));
                    }
                }
                (true, None) => {}
            }
        }
        crate::params::non_negative("router", "lambda", self.lambda)
    }

    /// Number of models `K`.
    pub fn n_models(&self) -> usize {
        self.models.len()
    }

    /// The scratch length [`MultiRouter::scores_into`] needs (the PCA components, or 0).
    pub fn scratch_len(&self) -> usize {
        self.pca.as_ref().map_or(0, PcaModel::n_components)
    }

    /// Every `psi_hat_k` on the gold scale for one query into `out` (`K` values, 0 at the
    /// reference), using `scratch` ([`MultiRouter::scratch_len`] values) for the PCA scores;
    /// allocation-free.
    ///
    /// # Errors
    /// [`Error::Shape`] for a row, scratch or `out` of the wrong length; [`Error::NonFinite`]
    /// for a NaN feature.
    pub fn scores_into(&self, row: &[f64], scratch: &mut [f64], out: &mut [f64]) -> Result<()> {
        if row.len() != self.feature_names.len() {
            return Err(Error::shape("query features", self.feature_names.len(), row.len()));
        }
        if out.len() != self.models.len() {
            return Err(Error::shape("scores buffer (one per model)", self.models.len(), out.len()));
        }
        crate::check::finite_slice("query features", row)?;
        let input: &[f64] = match &self.pca {
            None => row,
            Some(p) => {
                let k = p.n_components();
                if scratch.len() < k {
                    return Err(Error::shape("scoring scratch buffer", k, scratch.len()));
                }
                p.transform_into(
                    MatRef::from_row_major_slice(row, 1, row.len()),
                    MatMut::from_row_major_slice_mut(&mut scratch[..k], 1, k),
                )?;
                &scratch[..k]
            }
        };
        for (o, g) in out.iter_mut().zip(&self.gains) {
            *o = match g {
                None => 0.0,
                Some(g) => g.psi.predict_row(input)? / g.scale,
            };
        }
        Ok(())
    }

    /// The chosen model for scores `scores` (from [`MultiRouter::scores_into`]) at `lambda`,
    /// with the stored costs or this query's `costs` (one per model; required with per-query
    /// costs). Allocation-free.
    ///
    /// # Errors
    /// Wrong lengths, non-finite or negative `lambda`, a bad cost, no costs for a per-query router.
    pub fn choose_at(&self, scores: &[f64], costs: Option<&[f64]>, lambda: f64) -> Result<usize> {
        let k = self.models.len();
        if scores.len() != k {
            return Err(Error::shape("scores (one per model)", k, scores.len()));
        }
        crate::params::non_negative("router", "lambda", lambda)?;
        let c: &[f64] = match (costs, &self.costs) {
            (Some(c), _) => c,
            (None, ModelCosts::PerModel(c)) => c,
            (None, ModelCosts::PerQuery) => {
                return Err(Error::param("router", "costs", "this router takes each query's costs; none given"));
            }
        };
        if c.len() != k {
            return Err(Error::shape("query costs (one per model)", k, c.len()));
        }
        for (j, &v) in c.iter().enumerate() {
            check_cost(v, j, None)?;
        }
        Ok(argmax_utility(scores, lambda, |j| c[j]))
    }

    /// The chosen model for scores `scores` at the stored `lambda` (see [`MultiRouter::choose_at`]).
    ///
    /// # Errors
    /// As [`MultiRouter::choose_at`].
    pub fn choose(&self, scores: &[f64], costs: Option<&[f64]>) -> Result<usize> {
        self.choose_at(scores, costs, self.lambda)
    }

    /// `psi_hat` on the gold scale for every row of `x` (`m x K`).
    ///
    /// # Errors
    /// [`Error::Shape`] for the wrong column count.
    pub fn scores_batch(&self, x: MatRef<'_, f64>) -> Result<Mat<f64>> {
        if x.ncols() != self.feature_names.len() {
            return Err(Error::shape("query feature columns", self.feature_names.len(), x.ncols()));
        }
        let z;
        let input = match &self.pca {
            None => x,
            Some(p) => {
                z = p.transform(x)?;
                z.as_ref()
            }
        };
        let mut out = Mat::<f64>::zeros(x.nrows(), self.models.len());
        let mut col = vec![0.0; x.nrows()];
        for (k, g) in self.gains.iter().enumerate() {
            if let Some(g) = g {
                g.psi.predict_into(input, &mut col)?;
                for (i, v) in col.iter().enumerate() {
                    out[(i, k)] = v / g.scale;
                }
            }
        }
        Ok(out)
    }

    /// Sets `lambda` directly.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] for a negative or non-finite `lambda`.
    pub fn set_lambda(&mut self, lambda: f64) -> Result<()> {
        crate::params::non_negative("router", "lambda", lambda)?;
        self.lambda = lambda;
        self.rule = LambdaRule::Direct;
        Ok(())
    }

    /// Calibrates `lambda` to `target` on the queries `x` (with their costs `query_costs`,
    /// `m x K`, for a per-query router; the stored costs otherwise), stores it and reports target
    /// against realised (see [`calibrate_lambda`]).
    ///
    /// # Errors
    /// As [`calibrate_lambda`]; no costs for a per-query router.
    pub fn calibrate(
        &mut self,
        x: MatRef<'_, f64>,
        query_costs: Option<MatRef<'_, f64>>,
        target: BudgetTarget,
    ) -> Result<BudgetReport> {
        let psi = self.scores_batch(x)?;
        let costs = match (query_costs, &self.costs) {
            (Some(c), _) => CostTable::PerQuery(c),
            (None, ModelCosts::PerModel(c)) => CostTable::PerModel(c),
            (None, ModelCosts::PerQuery) => {
                return Err(Error::param("router", "costs", "this router takes each query's costs; none given"));
            }
        };
        let report = calibrate_lambda(psi.as_ref(), costs, target)?;
        self.lambda = report.lambda;
        self.rule = LambdaRule::Budget(report.clone());
        Ok(report)
    }

    /// Saves the router (versioned, checksummed file of kind [`Kind::MultiRouter`]).
    ///
    /// # Errors
    /// [`Error::Io`].
    pub fn save(&self, path: impl AsRef<Path>) -> Result<()> {
        persist::save(path, Kind::MultiRouter, self)
    }

    /// Loads a router saved by [`MultiRouter::save`].
    ///
    /// # Errors
    /// [`Error::Io`]; [`Error::ModelFile`] naming the file for a foreign, corrupt, wrong-kind or
    /// inconsistent file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self> {
        persist::load(path, Kind::MultiRouter)
    }

    /// The router file's bytes.
    ///
    /// # Errors
    /// [`Error::ModelFile`] if serialisation fails.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        persist::to_bytes(Kind::MultiRouter, self)
    }

    /// A router from a file's bytes.
    ///
    /// # Errors
    /// [`Error::ModelFile`] for a foreign, corrupt, wrong-kind, other-version or inconsistent file.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self> {
        persist::from_bytes(bytes, Kind::MultiRouter)
    }
}
