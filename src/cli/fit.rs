//! `meta-router fit`: fit the debiased router on deployment data (one label per row, its
//! source gold or preference) and save it.
//!
//! Prints a short summary: rows, gold and preference counts, the scale constant `c`, the final
//! stage chosen with its cross-validated loss, propensity overlap, and any warning.
//!
//! With `--model-col` the data are long-format labels of several models and `fit` trains a
//! router among them (`run_many`, flags in [`crate::cli::many`]); without it, nothing changes.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use faer::{Mat, MatRef};

use crate::cli::args::{DataArgs, LabelColumnArgs, RouterArgs, SeedArgs};
use crate::cli::many::{LongArgs, budget_json, cost_of, list, parse_costs, shares_text, target_text};
use crate::data::long::{LongSpec, LongTable, read_long};
use crate::data::{ColumnRoles, read_csv};
use crate::error::{Error, Result};
use crate::learn::pca::{PcaModel, PcaParams};
use crate::rng::{Seed, stream};
use crate::router::multi::{ModelCosts, MultiData, MultiRouter, MultiSpec, train_multi};
use crate::router::{
    Diagnostics, Router, RouterConfig, RouterData, RouterKind, Threshold, train_router, train_router_known,
};

/// Arguments of `meta-router fit`.
#[derive(Debug, Args)]
#[command(after_help = "Routing among three models, end to end (long-format labels: query, model, source, label, \
features once per query):
  meta-router simulate --models 3 --judges 2 --n 6000 --long train.csv --gold-share 0.05 --holdout 2000 -o test.csv
  meta-router fit --data train.csv --model-col model --costs m0=1,m1=10,m2=4 --budget 4 -o router.mr
  meta-router route --model router.mr --data test.csv -o decisions.csv")]
pub struct FitArgs {
    /// Training CSV, features and weights: features, a source column and a label column.
    #[command(flatten)]
    pub input: DataArgs,
    /// The source and label columns of deployment data.
    #[command(flatten)]
    pub labels: LabelColumnArgs,
    /// A per-row known propensity P(gold | x) in (0, 1) under the design that chose the gold
    /// rows (e.g. `suggest`'s `inclusion_prob`): the meta-learners use it instead of the gold
    /// share, the scale alignment weights gold rows by 1 / p (see `train_router_known`).
    #[arg(long, conflicts_with = "model_col")]
    pub propensity_col: Option<String>,
    /// The meta-learner (`dr`, `r`) or a baseline router.
    #[arg(long, value_enum, default_value_t = MethodArg::Dr)]
    pub method: MethodArg,
    /// How the router is trained.
    #[command(flatten)]
    pub router: RouterArgs,
    /// Reduce the features to this many principal components (fitted on the training rows,
    /// stored in the router).
    #[arg(long)]
    pub pca: Option<usize>,
    /// The seed.
    #[command(flatten)]
    pub seed: SeedArgs,
    /// Store this decision threshold w (route to primary when psi_hat > w, psi_hat on the
    /// gold-label scale).
    #[arg(long, conflicts_with_all = ["usage", "model_col"], allow_negative_numbers = true)]
    pub threshold: Option<f64>,
    /// Store the threshold that routes this share of the training queries to the primary model.
    #[arg(long, conflicts_with = "model_col", allow_negative_numbers = true)]
    pub usage: Option<f64>,
    /// Routing among K models: long-format data (`--model-col`, `--query-col`), costs, budget.
    #[command(flatten)]
    pub long: LongArgs,
    /// Print the summary as one JSON object (router, learner, fit_seconds, scale, threshold,
    /// usage, diagnostics; with --model-col: models, reference, sources, queries, per_model
    /// {labels, gold, pref, cost, scale, diagnostics}, lambda, budget) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Where to save the router.
    #[arg(short = 'o', long = "out")]
    pub out: PathBuf,
}

/// `--method`: the router `fit` trains (maps to [`RouterKind`]; `all_gold` needs gold labels
/// on every row, so studies only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    /// The meta-router with the DR-learner's Delta_hat.
    Dr,
    /// The meta-router with the R-learner's Delta_hat.
    R,
    /// Gold rows only.
    #[value(name = "gold_only")]
    GoldOnly,
    /// Preference rows only.
    #[value(name = "pref_only")]
    PrefOnly,
    /// Gold and preference rows pooled.
    Pooled,
    /// Preference labels shifted by the mean difference, then pooled.
    #[value(name = "mean_shift")]
    MeanShift,
}

impl From<MethodArg> for RouterKind {
    fn from(m: MethodArg) -> Self {
        match m {
            MethodArg::Dr => RouterKind::MetaDr,
            MethodArg::R => RouterKind::MetaR,
            MethodArg::GoldOnly => RouterKind::GoldOnly,
            MethodArg::PrefOnly => RouterKind::PrefOnly,
            MethodArg::Pooled => RouterKind::Pooled,
            MethodArg::MeanShift => RouterKind::MeanShift,
        }
    }
}

/// Builds the configuration and router kind from the arguments.
pub(crate) fn plan(args: &FitArgs) -> Result<(RouterKind, RouterConfig)> {
    let cfg = args.router.config()?;
    cfg.validate()?;
    Ok((args.method.into(), cfg))
}

/// `--pca K` fitted on `x` (the rows of the table, or the unique queries) and `x`'s scores.
fn fit_pca(
    k: Option<usize>,
    x: MatRef<'_, f64>,
    names: &[String],
    seed: Seed,
) -> Result<(Option<PcaModel>, Option<Mat<f64>>)> {
    let Some(k) = k else { return Ok((None, None)) };
    crate::params::at_least("fit", "--pca", k, 1)?;
    let p = PcaParams { n_components: k, ..Default::default() };
    let model = p.fit(x, seed.child(stream::SKETCH)).map_err(|e| e.name_features(names))?;
    let z = model.transform(x)?;
    Ok((Some(model), Some(z)))
}

/// Runs `meta-router fit`.
///
/// # Errors
/// Bad arguments, unreadable data, an unknown source value, NaN labels, no gold or no
/// preference rows, a failed fit, an unwritable output file.
pub fn run(args: FitArgs) -> Result<()> {
    if args.long.model_col.is_some() {
        return run_many(&args);
    }
    if args.long.budget.given() {
        let flag = if args.long.budget.budget.is_some() { "--budget" } else { "--share" };
        return Err(Error::param("fit", flag, "applies to routing among K models (with --model-col)"));
    }
    let (kind, cfg) = plan(&args)?;
    let mut roles = ColumnRoles::with_features(args.input.features.as_deref());
    roles.numeric.push(args.labels.label_col.clone());
    roles.numeric.extend(args.input.weight_col.iter().cloned());
    roles.numeric.extend(args.propensity_col.iter().cloned());
    roles.source = Some(args.labels.source_col.clone());
    let d = read_csv(&args.input.data, &roles)?;
    d.check_finite_features()?;
    d.check_finite_column(&args.labels.label_col)?;
    let source = d.source.as_deref().ok_or_else(|| Error::data("no source column was read"))?;
    let weights = match &args.input.weight_col {
        Some(w) => {
            d.check_column(w, |v| v.is_finite() && v >= 0.0, "sample weight must be a finite number >= 0")?;
            Some(d.column(w)?)
        }
        None => None,
    };
    let known = match &args.propensity_col {
        Some(c) => {
            d.check_column(c, |v| v > 0.0 && v < 1.0, "a known propensity must lie in (0, 1)")?;
            Some(d.column(c)?)
        }
        None => None,
    };
    let seed = Seed(args.seed.seed);
    let (pca, z) = fit_pca(args.pca, d.x.as_ref(), &d.feature_names, seed)?;
    let data = RouterData {
        x: z.as_ref().map_or(d.x.as_ref(), |z| z.as_ref()),
        is_gold: source,
        label: d.column(&args.labels.label_col)?,
        gold_everywhere: None,
        weights,
    };
    let t0 = std::time::Instant::now();
    // the learners see the CSV's feature columns unless PCA replaced them by components
    let names: &[String] = if pca.is_none() { &d.feature_names } else { &[] };
    let trained = match known {
        None => train_router(kind, &data, &cfg, seed),
        Some(e) => train_router_known(kind, &data, e, &cfg, seed),
    }
    .map_err(|e| e.name_features(names))?;
    let fit_seconds = t0.elapsed().as_secs_f64();
    let mut router = Router::new(trained, d.feature_names.clone(), pca)?;
    let usage = match (args.threshold, args.usage) {
        (Some(w), _) => {
            router.set_threshold(Threshold::direct(w)?);
            None
        }
        (None, Some(rho)) => Some(router.calibrate_usage(d.x.as_ref(), rho)?),
        (None, None) => None,
    };
    router.save(&args.out)?;

    let g = &router.diagnostics;
    if args.json {
        let v = serde_json::json!({
            "router": kind.name(),
            "learner": cfg.learner.name(),
            "fit_seconds": fit_seconds,
            "scale": router.scale,
            "threshold": router.threshold.w,
            "usage": usage.as_ref().map(|u| serde_json::json!({"target": u.target, "realised": u.realised})),
            "diagnostics": g,
            "out": args.out.display().to_string(),
        });
        println!("{v}");
        return Ok(());
    }
    println!("router           {} (learner {})", kind.name(), cfg.learner.name());
    println!("rows             {} ({} gold, {} preference), {} features", g.n_rows, g.n_gold, g.n_pref, d.x.ncols());
    if let Some(p) = &router.pca {
        let share: f64 = p.explained_variance_ratio().iter().sum();
        println!("pca              {} components, {:.1}% of the variance", p.n_components(), 100.0 * share);
    }
    println!("scale c          {:.6} ({})", router.scale, g.alignment.method.name());
    if let (Some(method), crate::router::Protocol::CrossFit) = (kind.method(), cfg.protocol) {
        println!("nuisances        {}", nuisance_text(method, &cfg.delta));
    }
    print_delta_diagnostics(g, "", true);
    if let Some(u) = usage {
        println!(
            "threshold        {:.6} (usage target {:.3}, realised {:.3} on training queries)",
            u.threshold, u.target, u.realised
        );
    } else {
        println!("threshold        {}", router.threshold.w);
    }
    for w in &g.warnings {
        println!("warning          {w}");
    }
    println!("saved            {}", args.out.display());
    Ok(())
}

/// How a meta-router's outcome nuisances were made out of sample, e.g. `rf (out of bag, one
/// forest per nuisance; --nuisance-fit auto)`.
fn nuisance_text(method: crate::causal::Method, d: &crate::causal::DeltaConfig) -> String {
    use crate::causal::NuisanceFit;
    let how = match crate::causal::meta::nuisance_rule(d, method, crate::learn::Regressor::bagged(&d.nuisance)) {
        NuisanceFit::Oob => "out of bag, one forest per nuisance".to_string(),
        _ => format!("cross-fitted, {} folds", d.n_folds),
    };
    format!("{} ({how}; --nuisance-fit {})", d.nuisance.name(), d.nuisance_fit.name())
}

/// Prints a router's meta-learner diagnostics in the summary's layout (labels padded to 17
/// characters after `indent`): the final stage with its CV loss (and, with `candidates`, every
/// candidate's), the propensity overlap and the mean `Delta_hat`, each when present.
fn print_delta_diagnostics(g: &Diagnostics, indent: &str, candidates: bool) {
    let label = |name: &str| format!("{indent}{name:<w$}", w = 17usize.saturating_sub(indent.len()));
    if let Some(fs) = &g.final_stage {
        match fs.candidates.iter().find(|c| c.name == fs.chosen).map(|c| c.cv_loss) {
            Some(l) => println!("{}{} (CV loss {l:.6})", label("final stage"), fs.chosen),
            None => println!("{}{}", label("final stage"), fs.chosen),
        }
        if candidates {
            for c in &fs.candidates {
                println!("  candidate      {:<40} {:.6}", c.name, c.cv_loss);
            }
        }
    }
    if let Some(ov) = &g.overlap {
        println!(
            "{}range {:.4} to {:.4}, {:.1}% at the clip",
            label("propensity"),
            ov.min,
            ov.max,
            100.0 * ov.share_clipped
        );
    }
    if let Some(m) = g.delta_mean {
        println!("{}{m:.6} (preference rows)", label("mean Delta_hat"));
    }
}

/// The wide tables of `t` as training data.
fn multi_data<'a>(t: &'a LongTable, x: MatRef<'a, f64>, judges: &'a [MatRef<'a, f64>]) -> MultiData<'a> {
    MultiData { x, gold: t.gold.as_ref(), judges, gold_everywhere: None }
}

/// Runs `meta-router fit --model-col ...` (module docs).
///
/// # Errors
/// Two-model flags (`--weight-col`); costs neither given nor per query; unreadable or invalid
/// long-format data (named by line and column); a failed fit (a model without gold labels, a
/// judge silent for a model); a budget with per-query costs; an unwritable output.
fn run_many(args: &FitArgs) -> Result<()> {
    let long = &args.long;
    let Some(model_col) = long.model_col.as_deref() else {
        return Err(Error::param("fit", "--model-col", "K-model fit needs the model column"));
    };
    if args.input.weight_col.is_some() {
        return Err(Error::param("fit", "--weight-col", "applies to two-model deployment data, not with --model-col"));
    }
    let (kind, cfg) = plan(args)?;
    let (models, costs) = match (&long.costs, long.per_query_costs) {
        (Some(c), _) => {
            let (m, c) = parse_costs("fit", c)?;
            (Some(m), ModelCosts::PerModel(c))
        }
        (None, true) => (None, ModelCosts::PerQuery),
        (None, false) => {
            return Err(Error::param(
                "fit",
                "--costs",
                "routing among models needs their costs: --costs name=cost,... (or --per-query-costs with --reference)",
            ));
        }
    };
    if matches!(costs, ModelCosts::PerQuery) && long.budget.given() {
        return Err(Error::param(
            "fit",
            if long.budget.budget.is_some() { "--budget" } else { "--share" },
            "with --per-query-costs the training file holds no costs: calibrate the budget at `route` time",
        ));
    }
    let sources = long.sources.as_deref().map(list);
    let spec = LongSpec {
        query_col: long.query_col.as_deref().unwrap_or("query"),
        model_col,
        source_col: &args.labels.source_col,
        label_col: &args.labels.label_col,
        gold_source: long.gold_source.as_deref().unwrap_or("gold"),
        models: models.as_deref(),
        models_flag: "--costs",
        sources: sources.as_deref(),
    };
    let t = read_long(&args.input.data, args.input.features.as_deref(), &spec)?;
    let mspec = MultiSpec { models: t.models.clone(), costs, reference: long.reference.clone() };
    let seed = Seed(args.seed.seed);
    let (pca, z) = fit_pca(args.pca, t.x.as_ref(), &t.feature_names, seed)?;
    let judges: Vec<MatRef<'_, f64>> = t.pref.iter().map(Mat::as_ref).collect();
    let data = multi_data(&t, z.as_ref().map_or(t.x.as_ref(), Mat::as_ref), &judges);
    let t0 = std::time::Instant::now();
    let names: &[String] = if pca.is_none() { &t.feature_names } else { &[] };
    let trained = train_multi(kind, &data, &mspec, &cfg, seed).map_err(|e| e.name_features(names))?;
    let fit_seconds = t0.elapsed().as_secs_f64();
    let mut router = MultiRouter::new(trained, t.feature_names.clone(), pca)?;
    let budget = match long.budget.target("fit", &router.models)? {
        Some(target) => Some(router.calibrate(t.x.as_ref(), None, target)?),
        None => {
            router.set_lambda(long.lambda.unwrap_or(0.0))?;
            None
        }
    };
    router.save(&args.out)?;
    if args.json {
        let per_model: serde_json::Map<String, serde_json::Value> = router
            .models
            .iter()
            .enumerate()
            .map(|(k, m)| {
                let c = &t.counts[k];
                let pref: serde_json::Map<String, serde_json::Value> =
                    t.judges.iter().zip(&c.pref).map(|(j, n)| (j.clone(), (*n).into())).collect();
                let g = router.gains[k].as_ref();
                let v = serde_json::json!({
                    "labels": c.rows,
                    "gold": c.gold,
                    "pref": pref,
                    "cost": cost_of(&router.costs, k),
                    "scale": g.map(|g| g.scale),
                    "diagnostics": g.map(|g| &g.diagnostics),
                });
                (m.clone(), v)
            })
            .collect();
        let v = serde_json::json!({
            "router": kind.name(),
            "learner": cfg.learner.name(),
            "fit_seconds": fit_seconds,
            "queries": t.queries.len(),
            "label_rows": t.n_rows,
            "features": t.feature_names.len(),
            "pca": router.pca.as_ref().map(|p| p.n_components()),
            "models": router.models,
            "reference": router.models[router.reference],
            "sources": t.judges,
            "per_model": per_model,
            "lambda": router.lambda,
            "budget": budget.as_ref().map(|b| budget_json(b, &router.models)),
            "out": args.out.display().to_string(),
        });
        println!("{v}");
        return Ok(());
    }
    let k = router.n_models();
    println!(
        "router           {} (learner {}) among {k} models, {} judge(s)",
        kind.name(),
        cfg.learner.name(),
        t.judges.len()
    );
    println!(
        "data             {} label rows, {} queries, {} features",
        t.n_rows,
        t.queries.len(),
        t.feature_names.len()
    );
    if let Some(p) = &router.pca {
        let share: f64 = p.explained_variance_ratio().iter().sum();
        println!("pca              {} components, {:.1}% of the variance", p.n_components(), 100.0 * share);
    }
    println!("sources          gold `{}`; judges {}", spec.gold_source, t.judges.join(", "));
    for (j, m) in router.models.iter().enumerate() {
        let c = &t.counts[j];
        let pref: Vec<String> = t.judges.iter().zip(&c.pref).map(|(s, n)| format!("{s} {n}")).collect();
        let cost = cost_of(&router.costs, j).map_or("per query".to_string(), |c| c.to_string());
        println!("model {m:<10} cost {cost}; {} labels (gold {}, {})", c.rows, c.gold, pref.join(", "));
        let Some(g) = &router.gains[j] else {
            println!("  reference      psi_hat = 0");
            continue;
        };
        let d = &g.diagnostics;
        println!(
            "  gain rows      {} ({} gold, {} preference); scale c {:.6} ({})",
            d.n_rows,
            d.n_gold,
            d.n_pref,
            g.scale,
            d.alignment.method.name()
        );
        print_delta_diagnostics(d, "  ", false);
        for w in &d.warnings {
            println!("  warning        {w}");
        }
    }
    match &budget {
        Some(b) => println!(
            "lambda           {:.6} ({}, on the {} training queries; {})",
            b.lambda,
            target_text(b, &router.models),
            b.n_queries,
            shares_text(&b.shares, &router.models, b.mean_cost)
        ),
        None => println!("lambda           {}", router.lambda),
    }
    println!("saved            {}", args.out.display());
    Ok(())
}
