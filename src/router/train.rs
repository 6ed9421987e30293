//! The routers: the meta-routers (`meta_r`, `meta_dr`) and every baseline, trained through one
//! code path ([`train_router`], generic form [`train_router_with`]).
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

use crate::causal::align::{self, Align, Sample};
use crate::causal::delta::{Method, PooledRows};
use crate::causal::learner::fit_rows;
use crate::causal::{meta, paper};
use crate::error::{Error, Result};
use crate::learn::constant::ConstantModel;
use crate::learn::{Regressor, RegressorModel, check};
use crate::linalg::select::{gather, gather_opt};
use crate::linalg::stats;
use crate::rng::{Seed, stream};
use crate::router::config::{Protocol, RouterConfig};
use crate::router::fitted::{DeltaCovariate, Diagnostics, FittedRouter, TrainedRouter};
use crate::router::kind::RouterKind;

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

/// Trains router `kind` with the learners of `cfg` (`cfg.learner` for psi, `cfg.delta.nuisance`
/// for the outcome nuisances).
///
/// # Errors
/// Invalid configuration or data (see [`validate_data`]), alignment errors (constant labels),
/// too few gold rows for the folds, `all_gold` without `gold_everywhere`, learner errors.
pub fn train_router(kind: RouterKind, data: &RouterData<'_>, cfg: &RouterConfig, seed: Seed) -> Result<TrainedRouter> {
    train_router_with(kind, data, &cfg.learner, &cfg.delta.nuisance, cfg, seed)
}

/// Trains router `kind` with any psi learner and any nuisance learner implementing
/// [`Regressor`] (user-defined learners included); `cfg.learner` and `cfg.delta.nuisance` are
/// ignored, every other field of `cfg` applies. The final stage still comes from the spec
/// (`cfg.delta.final_stage`), so `Delta_hat` stays serialisable.
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
) -> Result<FittedRouter<L::Model>>
where
    N::Model: 'static,
{
    train_inner(kind, data, None, learner, nuisance, cfg, seed)
}

/// Trains router `kind` on rows whose gold labels were chosen by a known design: `e[i]` is
/// row `i`'s probability of being a gold row, `P(t_i = 1 | x_i)` (e.g. from the
/// study's active gold selection or `meta-router suggest`). The meta-routers' cross-fitted learners
/// use `e` as their propensity (instead of `cfg.delta.propensity`; the paper protocol keeps its
/// own); the scale alignment and `mean_shift`'s shift weight gold rows by `1 / e` and preference
/// rows by `1 / (1 - e)` (Horvitz-Thompson, so they estimate population moments); the psi
/// regressions are unweighted by `e` (a selection on `x` leaves `E[label | x]` unchanged).
///
/// # Errors
/// As [`train_router`]; `e` of the wrong length or outside `(0, 1)`.
pub fn train_router_known(
    kind: RouterKind,
    data: &RouterData<'_>,
    e: &[f64],
    cfg: &RouterConfig,
    seed: Seed,
) -> Result<TrainedRouter> {
    crate::causal::meta::check_known_propensity(e, data.x.nrows(), "known propensity vs feature rows")?;
    train_inner(kind, data, Some(e), &cfg.learner, &cfg.delta.nuisance, cfg, seed)
}

/// [`train_router_with`] with an optional known propensity (see [`train_router_known`]).
fn train_inner<L: Regressor, N: Regressor>(
    kind: RouterKind,
    data: &RouterData<'_>,
    known: Option<&[f64]>,
    learner: &L,
    nuisance: &N,
    cfg: &RouterConfig,
    seed: Seed,
) -> Result<FittedRouter<L::Model>>
where
    N::Model: 'static,
{
    cfg.validate()?;
    let (gold, pref) = validate_data(data)?;
    let n = data.x.nrows();
    let w = data.weights;
    // Horvitz-Thompson weights for the population moments (alignment, mean_shift) under a
    // known design; the user weights otherwise.
    let design: Option<Vec<f64>> = known.map(|e| {
        (0..n).map(|i| w.map_or(1.0, |w| w[i]) / if data.is_gold[i] == 1.0 { e[i] } else { 1.0 - e[i] }).collect()
    });
    let mw = design.as_deref().or(w);
    let align_method = if cfg.protocol == Protocol::Paper { Align::None } else { cfg.align };
    let pref_labels = gather(data.label, &pref);
    let pref_w = gather_opt(w, &pref);
    let pref_mw = gather_opt(mw, &pref);
    let pref_sample = Sample { values: &pref_labels, weights: pref_mw.as_deref() };

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
            let gw = gather_opt(mw, &gold);
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

    let mut delta_covariate = None;
    let (psi, delta, delta_clip) = match kind {
        RouterKind::GoldOnly => (fit_rows(learner, data.x, &o, w, &gold, psi_seed)?, None, None),
        RouterKind::PrefOnly => (fit_rows(learner, data.x, &o, w, &pref, psi_seed)?, None, None),
        RouterKind::Pooled => (fit_rows(learner, data.x, &o, Some(&psi_w), &all, psi_seed)?, None, None),
        RouterKind::AllGold => {
            let g: Vec<f64> = gold_all.unwrap_or(data.label).iter().map(|v| c * v).collect();
            (fit_rows(learner, data.x, &g, w, &all, psi_seed)?, None, None)
        }
        RouterKind::MeanShift => {
            let shift = stats::mean(&gather(&o, &gold), gather_opt(mw, &gold).as_deref())
                - stats::mean(&pref_labels, pref_mw.as_deref());
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
                Protocol::CrossFit => meta::estimate_delta_known(method, &rows, known, nuisance, &cfg.delta, seed)?,
                Protocol::Paper => paper::estimate_delta(method, &rows, nuisance, seed)?,
            };
            let mut d = fit.predict_train(data.x)?;
            if let Some([lo, hi]) = fit.clip {
                d.iter_mut().for_each(|z| *z = z.clamp(lo, hi));
            }
            let lifted: Vec<f64> = (0..n).map(|i| if t[i] == 1.0 { o[i] } else { o[i] + d[i] }).collect();
            diagnostics.delta_mean = Some(stats::mean(&gather(&d, &pref), pref_w.as_deref()));
            diagnostics.warnings.extend(final_stage_warning(&fit.choice, cfg.delta.selection));
            diagnostics.final_stage = Some(fit.choice);
            if let Some(ov) = &fit.overlap {
                diagnostics.warnings.extend(ov.warning.iter().cloned());
            }
            diagnostics.overlap = fit.overlap;
            diagnostics.rows_kept = fit.rows_kept;
            let model = fit_rows(learner, data.x, &lifted, Some(&psi_w), &all, psi_seed)?;
            delta_covariate = fit.covariate.map(|c| DeltaCovariate(c.model));
            (model, Some(fit.model), fit.clip)
        }
    };
    Ok(FittedRouter { kind, psi, scale: c, delta, delta_clip, diagnostics, delta_covariate })
}

/// The diagnostics' warning about a meta-router's selected final stage, if any: the fall-back
/// to the constant ([`fall_back_warning`]) or, under [`crate::causal::Selection::Calibrate`],
/// the shrinkage of `Delta_hat` towards the constant (`0 < k < 1`).
pub fn final_stage_warning(choice: &crate::causal::FinalChoice, selection: crate::causal::Selection) -> Option<String> {
    if choice.chosen == "constant" && !choice.candidates.is_empty() {
        return Some(fall_back_warning(selection));
    }
    choice.shrinkage().map(|(raw, k)| {
        format!(
            "Delta_hat shrunk towards a constant (part of the way to mean_shift): the selected final stage's \
             out-of-fold calibration slope is {raw:.3}, so {k:.3} times its deviation from the mean is served"
        )
    })
}

/// The warning of a meta-router whose selected final stage is the constant: `Delta_hat` is a
/// global shift, i.e. the router is `mean_shift` with a cross-fitted shift.
pub fn fall_back_warning(selection: crate::causal::Selection) -> String {
    let rule = match selection {
        crate::causal::Selection::Argmin => "had a lower cross-validated loss than the constant",
        crate::causal::Selection::OneSe => "beat the constant by more than one paired standard error",
        crate::causal::Selection::Stack => "kept a positive weight in the non-negative stack",
        crate::causal::Selection::Test => "beat the constant by more than 1.645 paired standard errors",
        crate::causal::Selection::Calibrate => "kept a positive calibration slope",
    };
    format!("Delta_hat fell back to a constant (a global shift, as mean_shift): no final-stage candidate {rule}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::causal::{DeltaConfig, Selection};
    use crate::learn::RegressorSpec;
    use faer::Mat;
    use rand::RngExt;
    use rand_distr::StandardNormal;

    #[test]
    fn the_final_stage_warning_names_a_fall_back_and_a_shrinkage_only() {
        use crate::causal::FinalChoice;
        use crate::causal::final_stage::CandidateLoss;
        let cands = vec![CandidateLoss { name: "constant".into(), cv_loss: 1.0 }];
        let choice = |chosen: &str| FinalChoice { chosen: chosen.into(), candidates: cands.clone() };
        let sel = Selection::Calibrate;
        assert!(final_stage_warning(&choice("constant"), sel).unwrap().contains("fell back to a constant"));
        // a fixed constant stage (no candidates) is what the user asked for: no warning
        let fixed = FinalChoice { chosen: "constant".into(), candidates: vec![] };
        assert_eq!(final_stage_warning(&fixed, sel), None);
        let shrunk = choice("calibrate(kappa=0.412,0.412*ridge(alpha=100))");
        assert_eq!(shrunk.shrinkage(), Some((0.412, 0.412)));
        let w = final_stage_warning(&shrunk, sel).unwrap();
        assert!(w.contains("shrunk towards a constant") && w.contains("0.412"), "{w}");
        // served unshrunk (raw slope above 1): neither a shrinkage nor a warning
        let kept = choice("calibrate(kappa=1.250,1.000*ridge(alpha=100))");
        assert_eq!(kept.shrinkage(), None);
        assert_eq!(final_stage_warning(&kept, sel), None);
        assert_eq!(final_stage_warning(&choice("ridge(alpha=100)"), Selection::Argmin), None);
    }

    #[test]
    fn a_constant_bias_falls_back_to_the_constant_and_says_so() {
        // gold = x_0 + N, preference = x_0 - 0.5 + N: Delta is the constant 0.5, so every
        // heterogeneous final stage fits noise; the 1-SE rule keeps the constant and the
        // diagnostics say that Delta_hat is a global shift
        let n = 2000;
        let mut rng = Seed(5).rng();
        let x = Mat::from_fn(n, 5, |_, _| rng.sample::<f64, _>(StandardNormal));
        let is_gold: Vec<f64> = (0..n).map(|i| if i % 7 == 0 { 1.0 } else { 0.0 }).collect();
        let label: Vec<f64> = (0..n)
            .map(|i| x[(i, 0)] - if is_gold[i] == 1.0 { 0.0 } else { 0.5 } + 0.5 * rng.sample::<f64, _>(StandardNormal))
            .collect();
        let ridge = RegressorSpec::from_name("ridge").unwrap();
        let cfg = RouterConfig {
            learner: ridge.clone(),
            align: Align::None,
            delta: DeltaConfig { nuisance: ridge, selection: Selection::OneSe, ..Default::default() },
            ..Default::default()
        };
        let data = RouterData { x: x.as_ref(), is_gold: &is_gold, label: &label, gold_everywhere: None, weights: None };
        for kind in [RouterKind::MetaR, RouterKind::MetaDr] {
            let r = train_router(kind, &data, &cfg, Seed(1)).unwrap();
            let fs = r.diagnostics.final_stage.as_ref().unwrap();
            assert_eq!(fs.chosen, "constant", "{kind:?}: {fs:?}");
            assert!(r.diagnostics.warnings.iter().any(|w| w.contains("fell back to a constant")), "{kind:?}");
            let shift = r.diagnostics.delta_mean.unwrap();
            assert!((shift - 0.5).abs() < 0.1, "{kind:?}: shift {shift}");
        }
    }
}
