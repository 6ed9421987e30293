//! Routers trained on gold labels and **several preference sources** (issue 13): one pair of
//! models (one gain `psi`), labels from gold and `S >= 1` preference sources (LLM judges, crowd
//! votes), each biased in its own way. [`train_router_sources`] on [`SourceData`] with `S = 1` is
//! [`crate::router::train_router`] bit for bit (same rows, same seeds, same code path).
//!
//! # Scales
//! Source `s` has its own alignment `c_s` ([`crate::causal::align`] with `cfg.align`, the gold
//! labels against source `s`'s labels; for `all_gold`, `gold_everywhere` on every row against
//! them), so `c_s r` is gold on source `s`'s scale. The psi regression works on **source 1's
//! scale**: gold rows carry `o = c_1 r`, source `s` rows `o = (c_1 / c_s) y_s` (for `s = 1` the
//! label itself, no multiplication). So `router.psi` predicts `c_1 psi(x)`, `router.scale = c_1`,
//! and `psi / scale` is on the gold scale exactly as for the two-source routers
//! ([`crate::router::Router`]).
//!
//! # Bias per source
//! The label source is a multi-valued treatment ([`crate::causal::sources`]): `Delta_s(x) =
//! E[c_s r - y_s | x]` is estimated on source `s`'s scale by the cross-fitted R- or DR-learner
//! of `cfg.delta` on the rows `{gold} u {source s}`, with the pairwise propensity
//! `P(gold | x, gold or s)` (known share by default, or the configured classifier on the pair).
//! Source 1 draws from `seed`, source `s` from `seed.indexed(SOURCE, s)`. Each source's
//! overlap, final stage and mean bias are in [`SourceFit`]. With several sources the default
//! `nuisance_fit = auto` cross-fits the nuisances (out of bag was measured with one source,
//! and with two for `meta_dr` only); `oob` is used when asked for.
//!
//! # The routers
//! Rows and targets of the psi regression (on source 1's scale; `rho_s = c_1 / c_s`):
//!
//! | router | rows and targets |
//! | --- | --- |
//! | `gold_only` | gold rows, `c_1 r` |
//! | `pref_only` | every preference row, `rho_s y_s` |
//! | `pooled` | gold rows `c_1 r` and every preference row `rho_s y_s` |
//! | `mean_shift` | gold rows and source `s` rows `rho_s (y_s + b_s)`, `b_s = mean_w(c_s r) - mean_w(y_s)` (gold rows, source `s` rows) |
//! | `meta_r`, `meta_dr` | gold rows and source `s` rows `rho_s (y_s + Delta_hat_s(x))` |
//! | `all_gold` | every row, `c_1 g` (`gold_everywhere`; studies only) |
//!
//! Weights of the psi regression: gold rows `w_i gold_weight`; a source `s` row `w_i v_s`, with
//! `v_s` the per-source weight ([`SourceData::source_weights`], 1 without). The per-source weights
//! act only there (`pref_only`, `pooled`, `mean_shift`, `meta_r`, `meta_dr`): the alignments,
//! the shifts `b_s` and the `Delta_hat_s` use the row weights `w` alone, so a source's bias
//! estimate does not depend on how much its lifted labels count. With equal weights `v_s = v`
//! the pooled regressions are those of row weights `w_i v` on preference rows.
//!
//! A router on gold and one source `s` alone (a "pref_only for judge `s`" baseline) is
//! [`SourceData::single`]: gold rows and source `s` rows as a one-source data set (so on source
//! `s`'s scale, `scale = c_s`).
//!
//! `router.diagnostics` reports source 1 (alignment, final stage, overlap, mean bias) with every
//! source's warnings (named `preference source s: ...` when `S > 1`); `router.delta` is
//! `Delta_hat_1`. The paper protocol ([`crate::router::Protocol::Paper`]) takes one source only.

use faer::{Mat, MatRef};
use serde::{Deserialize, Serialize};

use crate::causal::align::{self, Align, Alignment, Sample};
use crate::causal::delta::{DeltaConfig, DeltaFit, Method, PooledRows};
use crate::causal::final_stage::FinalChoice;
use crate::causal::learner::fit_rows;
use crate::causal::nuisance::Overlap;
use crate::causal::oob::NuisanceFit;
use crate::causal::sources::{SourceRows, estimate_pairs, in_source};
use crate::causal::{meta, paper};
use crate::error::{Error, Result};
use crate::learn::constant::ConstantModel;
use crate::learn::{RegressorModel, check};
use crate::linalg::select::{gather, gather_opt, select_rows};
use crate::linalg::stats;
use crate::rng::{Seed, stream};
use crate::router::config::{Protocol, RouterConfig};
use crate::router::fitted::{DeltaCovariate, Diagnostics, FittedRouter, TrainedRouter, clipped_delta};
use crate::router::kind::RouterKind;
use crate::router::train::final_stage_warning;

/// Training data with gold and several preference sources: one label per row.
#[derive(Clone, Copy, Debug)]
pub struct SourceData<'a> {
    /// Query features, `n x d`; a query labelled by several sources appears once per label
    /// (rows repeat).
    pub x: MatRef<'a, f64>,
    /// The row's source: 0 gold, `s = 1..=n_sources` preference source `s`.
    pub source: &'a [usize],
    /// The label of that row's source (gold labels on the gold scale, source `s` labels on
    /// source `s`'s scale).
    pub label: &'a [f64],
    /// The number `S >= 1` of preference sources; each must have rows.
    pub n_sources: usize,
    /// Gold labels on every row (only `all_gold` needs them; studies).
    pub gold_everywhere: Option<&'a [f64]>,
    /// Optional non-negative row weights.
    pub weights: Option<&'a [f64]>,
    /// Optional per-source weights `v_s` (`S` of them, finite and > 0) of the psi regression
    /// (module docs).
    pub source_weights: Option<&'a [f64]>,
}

/// The rows of each source, from [`validate_sources`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceIndex {
    /// Gold rows, in row order.
    pub gold: Vec<usize>,
    /// `sources[s - 1]`: the rows of preference source `s`, in row order.
    pub sources: Vec<Vec<usize>>,
    /// Every preference row, in row order.
    pub pref: Vec<usize>,
}

/// One preference source's scale and bias.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SourceFit {
    /// The source `s` (1-based).
    pub source: usize,
    /// `c_s`: gold labels on source `s`'s scale.
    pub scale: f64,
    /// How `c_s` was found.
    pub alignment: Alignment,
    /// `Delta_hat_s` on source `s`'s scale (meta-routers; the constant `b_s` for `mean_shift`).
    pub delta: Option<RegressorModel>,
    /// With an outcome covariate, the nuisance whose prediction `delta` takes as its last
    /// column (see [`FittedRouter::delta_covariate`]). Not serialised, as there.
    #[serde(skip)]
    pub delta_covariate: Option<DeltaCovariate>,
    /// Clip applied to `Delta_hat_s` before lifting (the paper protocol's).
    pub delta_clip: Option<[f64; 2]>,
    /// Mean of `Delta_hat_s` over source `s`'s rows (row-weighted; meta-routers, mean shift).
    pub delta_mean: Option<f64>,
    /// Overlap of the pairwise propensity `P(gold | x, gold or s)` (meta-routers).
    pub overlap: Option<Overlap>,
    /// The final stage of `Delta_hat_s` (meta-routers).
    pub final_stage: Option<FinalChoice>,
    /// Rows of source `s`.
    pub n_rows: usize,
    /// Warnings about this source (clamped scale, poor overlap, constant fallback).
    pub warnings: Vec<String>,
}

impl SourceFit {
    /// `Delta_hat_s` on source `s`'s scale for each row of `x` (with the clip), or `None`.
    ///
    /// # Errors
    /// [`Error::Shape`] for the wrong number of columns.
    pub fn predict_delta(&self, x: MatRef<'_, f64>) -> Result<Option<Vec<f64>>> {
        self.delta.as_ref().map(|d| clipped_delta(d, self.delta_covariate.as_ref(), self.delta_clip, x)).transpose()
    }
}

/// A router trained on several sources: the psi router (on source 1's scale) and each
/// source's fit, `sources[s - 1]` for source `s`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SourcesRouter {
    /// The trained router: `psi` on source 1's scale, `scale = c_1`.
    pub router: TrainedRouter,
    /// Per preference source: scale, bias, diagnostics.
    pub sources: Vec<SourceFit>,
}

/// [`SourceData`] owning its rows (from [`SourceData::single`]); [`OwnedSourceData::view`]
/// borrows it back.
#[derive(Clone, Debug)]
pub struct OwnedSourceData {
    /// Features.
    pub x: Mat<f64>,
    /// Sources.
    pub source: Vec<usize>,
    /// Labels.
    pub label: Vec<f64>,
    /// The number of preference sources.
    pub n_sources: usize,
    /// Gold labels on every row.
    pub gold_everywhere: Option<Vec<f64>>,
    /// Row weights.
    pub weights: Option<Vec<f64>>,
    /// Per-source weights.
    pub source_weights: Option<Vec<f64>>,
}

impl OwnedSourceData {
    /// The borrowed view.
    pub fn view(&self) -> SourceData<'_> {
        SourceData {
            x: self.x.as_ref(),
            source: &self.source,
            label: &self.label,
            n_sources: self.n_sources,
            gold_everywhere: self.gold_everywhere.as_deref(),
            weights: self.weights.as_deref(),
            source_weights: self.source_weights.as_deref(),
        }
    }
}

impl SourceData<'_> {
    /// The gold rows and source `s`'s rows (in row order) as a one-source data set, source `s`
    /// renamed 1: the data of a router on gold and that source alone (e.g. `pref_only` for
    /// judge `s`; its `scale` is then `c_s`).
    ///
    /// # Errors
    /// As [`validate_sources`]; `s` outside `1..=n_sources`.
    pub fn single(&self, s: usize) -> Result<OwnedSourceData> {
        validate_sources(self)?;
        if s == 0 || s > self.n_sources {
            return Err(Error::param(
                "sources",
                "source",
                format!("preference source {s} is outside 1..={}", self.n_sources),
            ));
        }
        let idx = crate::causal::sources::pair_rows(self.source, s);
        Ok(OwnedSourceData {
            x: select_rows(self.x, &idx),
            source: idx.iter().map(|&i| usize::from(self.source[i] != 0)).collect(),
            label: gather(self.label, &idx),
            n_sources: 1,
            gold_everywhere: gather_opt(self.gold_everywhere, &idx),
            weights: gather_opt(self.weights, &idx),
            source_weights: self.source_weights.map(|v| vec![v[s - 1]]),
        })
    }
}

/// Checks source data; returns each source's rows.
///
/// # Errors
/// No rows or feature columns; mismatched lengths; `n_sources` 0; a source id above
/// `n_sources`; NaN labels or features; bad row weights; `source_weights` of the wrong length or
/// not finite and positive; no gold rows; a preference source without rows.
pub fn validate_sources(data: &SourceData<'_>) -> Result<SourceIndex> {
    let n = data.x.nrows();
    if n == 0 {
        return Err(Error::empty("router training data has no rows"));
    }
    if data.x.ncols() == 0 {
        return Err(Error::empty("router training data has no feature columns"));
    }
    if data.n_sources == 0 {
        return Err(Error::param("sources", "n_sources", "must be >= 1 (one preference source at least), got 0"));
    }
    if data.source.len() != n {
        return Err(Error::shape("sources vs feature rows", n, data.source.len()));
    }
    if data.label.len() != n {
        return Err(Error::shape("labels vs feature rows", n, data.label.len()));
    }
    if let Some(i) = data.source.iter().position(|&s| s > data.n_sources) {
        return Err(Error::data(format!(
            "source at row {i} is {}; expected 0 (gold) or a preference source 1..={}",
            data.source[i], data.n_sources
        )));
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
    if let Some(v) = data.source_weights {
        if v.len() != data.n_sources {
            return Err(Error::shape("source_weights vs preference sources", data.n_sources, v.len()));
        }
        if let Some(k) = v.iter().position(|&v| !(v.is_finite() && v > 0.0)) {
            return Err(Error::param(
                "sources",
                "source_weights",
                format!("the weight of preference source {} is {}; it must be finite and > 0", k + 1, v[k]),
            ));
        }
    }
    check::finite_slice("labels", data.label)?;
    check::finite_matrix("features", data.x)?;
    let gold: Vec<usize> = (0..n).filter(|&i| data.source[i] == 0).collect();
    if gold.is_empty() {
        return Err(Error::data("no gold rows: a router needs at least one gold-labelled row"));
    }
    let mut sources = vec![Vec::new(); data.n_sources];
    let mut pref = Vec::with_capacity(n - gold.len());
    for (i, &s) in data.source.iter().enumerate() {
        if s > 0 {
            sources[s - 1].push(i);
            pref.push(i);
        }
    }
    if let Some(k) = sources.iter().position(Vec::is_empty) {
        return Err(Error::data(format!("preference source {} has no rows", k + 1)));
    }
    Ok(SourceIndex { gold, sources, pref })
}

/// Trains router `kind` on gold and several preference sources (module docs) with the learners
/// of `cfg` (`cfg.learner` for psi, `cfg.delta.nuisance` for the outcome nuisances). With one
/// source this is [`crate::router::train_router`] on the same rows, bit for bit.
///
/// # Errors
/// Invalid configuration or data ([`validate_sources`]); the paper protocol with more than one
/// source; alignment errors (constant labels of a source); too few gold or source rows for the
/// folds; `all_gold` without `gold_everywhere`; learner errors. With several sources, data
/// errors of one source's estimation name it.
pub fn train_router_sources(
    kind: RouterKind,
    data: &SourceData<'_>,
    cfg: &RouterConfig,
    seed: Seed,
) -> Result<SourcesRouter> {
    cfg.validate()?;
    let idx = validate_sources(data)?;
    let n_sources = data.n_sources;
    if cfg.protocol == Protocol::Paper && n_sources > 1 {
        return Err(Error::param(
            "router",
            "protocol",
            format!("the paper protocol takes one preference source, got {n_sources} (use crossfit)"),
        ));
    }
    let named = |e: Error, s: usize| if n_sources > 1 { in_source(e, s) } else { e };
    let prefix = |s: usize| if n_sources > 1 { format!("preference source {s}: ") } else { String::new() };
    let n = data.x.nrows();
    let w = data.weights;
    let (learner, nuisance) = (&cfg.learner, &cfg.delta.nuisance);
    let align_method = if cfg.protocol == Protocol::Paper { Align::None } else { cfg.align };
    let gold_all = if kind == RouterKind::AllGold {
        Some(data.gold_everywhere.ok_or_else(|| {
            Error::data("all_gold needs gold labels on every training row (gold_everywhere); only studies have them")
        })?)
    } else {
        None
    };
    let gold_labels = gather(data.label, &idx.gold);
    let gold_w = gather_opt(w, &idx.gold);

    // per source: labels, weights, alignment c_s
    let mut fits = Vec::with_capacity(n_sources);
    let mut pref_labels = Vec::with_capacity(n_sources);
    let mut pref_ws = Vec::with_capacity(n_sources);
    for (k, rows) in idx.sources.iter().enumerate() {
        let s = k + 1;
        let labels = gather(data.label, rows);
        let pw = gather_opt(w, rows);
        let pref_sample = Sample { values: &labels, weights: pw.as_deref() };
        let alignment = match gold_all {
            Some(g) => align::align(align_method, &Sample { values: g, weights: w }, &pref_sample),
            None => {
                align::align(align_method, &Sample { values: &gold_labels, weights: gold_w.as_deref() }, &pref_sample)
            }
        }
        .map_err(|e| named(e, s))?;
        let mut warnings = Vec::new();
        if alignment.clamped {
            warnings.push(format!(
                "{}the {} scale estimate was {} (not positive); clamped to c = {}",
                prefix(s),
                alignment.method.name(),
                alignment.raw,
                alignment.c
            ));
        }
        fits.push(SourceFit {
            source: s,
            scale: alignment.c,
            alignment,
            delta: None,
            delta_covariate: None,
            delta_clip: None,
            delta_mean: None,
            overlap: None,
            final_stage: None,
            n_rows: rows.len(),
            warnings,
        });
        pref_labels.push(labels);
        pref_ws.push(pw);
    }
    let c = fits[0].scale;
    let scales: Vec<f64> = fits.iter().map(|f| f.scale).collect();
    // rho_s = c_1 / c_s puts source s on source 1's scale; source 1 is not multiplied
    let rho: Vec<f64> = scales.iter().map(|&cs| c / cs).collect();
    let on_first = |s: usize, v: f64| if s == 1 { v } else { v * rho[s - 1] };

    // pooled outcome o (source 1's scale) and psi weights
    let o: Vec<f64> = (0..n)
        .map(|i| match data.source[i] {
            0 => c * data.label[i],
            s => on_first(s, data.label[i]),
        })
        .collect();
    let psi_w: Vec<f64> = (0..n)
        .map(|i| {
            w.map_or(1.0, |w| w[i])
                * match data.source[i] {
                    0 => cfg.gold_weight,
                    s => data.source_weights.map_or(1.0, |v| v[s - 1]),
                }
        })
        .collect();
    let pref_fit_w = if data.source_weights.is_some() { Some(psi_w.as_slice()) } else { w };
    let psi_seed = seed.child(stream::ROUTER);
    let all: Vec<usize> = (0..n).collect();

    let mut router_delta = None;
    let mut delta_clip = None;
    let mut delta_covariate = None;
    let mut rows_kept = None;
    let psi = match kind {
        RouterKind::GoldOnly => fit_rows(learner, data.x, &o, w, &idx.gold, psi_seed)?,
        RouterKind::PrefOnly => fit_rows(learner, data.x, &o, pref_fit_w, &idx.pref, psi_seed)?,
        RouterKind::Pooled => fit_rows(learner, data.x, &o, Some(&psi_w), &all, psi_seed)?,
        RouterKind::AllGold => {
            let g: Vec<f64> = gold_all.unwrap_or(data.label).iter().map(|v| c * v).collect();
            fit_rows(learner, data.x, &g, w, &all, psi_seed)?
        }
        RouterKind::MeanShift => {
            let mut lifted = o.clone();
            for (k, rows) in idx.sources.iter().enumerate() {
                let s = k + 1;
                let cs = scales[k];
                let gold_s: Vec<f64> = idx.gold.iter().map(|&i| cs * data.label[i]).collect();
                let shift =
                    stats::mean(&gold_s, gold_w.as_deref()) - stats::mean(&pref_labels[k], pref_ws[k].as_deref());
                for &i in rows {
                    lifted[i] = if s == 1 { o[i] + shift } else { (data.label[i] + shift) * rho[k] };
                }
                let model = RegressorModel::Constant(ConstantModel { value: shift, n_features: data.x.ncols() });
                fits[k].delta_mean = Some(shift);
                fits[k].delta = Some(model);
            }
            router_delta = fits[0].delta.clone();
            fit_rows(learner, data.x, &lifted, Some(&psi_w), &all, psi_seed)?
        }
        RouterKind::MetaR | RouterKind::MetaDr => {
            let method = if kind == RouterKind::MetaR { Method::R } else { Method::Dr };
            // `nuisance_fit = auto` cross-fits with several sources: out-of-bag nuisances were
            // measured with one preference source (and two for meta_dr only; STATISTICS.md);
            // one source stays `train_router` bit for bit
            let several_cfg;
            let delta_cfg = if n_sources > 1 && cfg.delta.nuisance_fit == NuisanceFit::Auto {
                several_cfg = DeltaConfig { nuisance_fit: NuisanceFit::CrossFit, ..cfg.delta.clone() };
                &several_cfg
            } else {
                &cfg.delta
            };
            let estimate = |rows: &PooledRows<'_>, s: Seed| -> Result<DeltaFit> {
                match cfg.protocol {
                    Protocol::CrossFit => meta::estimate_delta_known(method, rows, None, nuisance, delta_cfg, s),
                    Protocol::Paper => paper::estimate_delta(method, rows, nuisance, s),
                }
            };
            let source_rows = SourceRows { x: data.x, source: data.source, label: data.label, scales: &scales, w };
            let pairs = estimate_pairs(&source_rows, seed, &estimate)?;
            let mut lifted = o.clone();
            for (k, pair) in pairs.into_iter().enumerate() {
                let s = k + 1;
                let fit = pair.fit;
                let mut d_src = Vec::with_capacity(fits[k].n_rows);
                for (&i, &d) in pair.rows.iter().zip(&pair.train) {
                    if data.source[i] != s {
                        continue;
                    }
                    let d = match fit.clip {
                        Some([lo, hi]) => d.clamp(lo, hi),
                        None => d,
                    };
                    lifted[i] = if s == 1 { o[i] + d } else { (data.label[i] + d) * rho[k] };
                    d_src.push(d);
                }
                let f = &mut fits[k];
                f.delta_mean = Some(stats::mean(&d_src, pref_ws[k].as_deref()));
                if let Some(w) = final_stage_warning(&fit.choice, cfg.delta.selection) {
                    f.warnings.push(format!("{}{w}", prefix(s)));
                }
                if let Some(ov) = &fit.overlap {
                    f.warnings.extend(ov.warning.iter().map(|w| format!("{}{w}", prefix(s))));
                }
                f.final_stage = Some(fit.choice);
                f.overlap = fit.overlap;
                f.delta_clip = fit.clip;
                f.delta_covariate = fit.covariate.map(|c| DeltaCovariate(c.model));
                f.delta = Some(fit.model);
                if s == 1 {
                    rows_kept = fit.rows_kept;
                }
            }
            router_delta = fits[0].delta.clone();
            delta_clip = fits[0].delta_clip;
            delta_covariate = fits[0].delta_covariate.clone();
            fit_rows(learner, data.x, &lifted, Some(&psi_w), &all, psi_seed)?
        }
    };
    let first = &fits[0];
    let diagnostics = Diagnostics {
        n_rows: n,
        n_gold: idx.gold.len(),
        n_pref: idx.pref.len(),
        alignment: first.alignment,
        final_stage: first.final_stage.clone(),
        overlap: first.overlap.clone(),
        delta_mean: first.delta_mean,
        rows_kept,
        warnings: fits.iter().flat_map(|f| f.warnings.iter().cloned()).collect(),
    };
    let router = FittedRouter { kind, psi, scale: c, delta: router_delta, delta_clip, diagnostics, delta_covariate };
    Ok(SourcesRouter { router, sources: fits })
}
