//! `fit` and `route` among K models (issue #13): their shared flags ([`LongArgs`],
//! [`BudgetArgs`]) and report helpers. `fit --model-col` (`cli::fit`) trains a
//! [`crate::router::multi::MultiRouter`] from long-format deployment data
//! ([`crate::data::long`]) and saves it; `route` (`cli::route`) serves such a file.
//!
//! # fit
//! One row per `(query, model, source)` label; the source column's value `gold` (or
//! `--gold-source`) marks a gold label, every other value a judge. The rows become per-query
//! tables (`q` queries x `K` models, `NaN` where a label is missing: [`crate::router::multi::MultiData`]); optional
//! `--pca N` is fitted on the `q` unique queries' features and every gain is trained on its
//! scores; then [`crate::router::multi::train_multi`] with the router of `--method` and the router flags (each model's
//! gain `psi_k = E[g_k - g_ref | x]` by its own two-source or multi-source router, see
//! [`crate::router::multi`]). Models are the `--costs` list, in its order (`--per-query-costs`:
//! their order of first appearance, and a named `--reference`). The router stores `lambda`:
//! `--lambda L` (default 0, the best estimated model), or one calibrated on the training queries
//! to `--budget MEAN_COST` or `--share MODEL=RHO` (the share of queries sent to `MODEL` or a
//! model at least as dear; [`BudgetTarget`]).
//!
//! # route
//! Per query, `k* = argmax_k psi_hat_k(x) - lambda cost_k(x)` (ties to the cheaper model, then
//! the first), at the stored `lambda`, `--lambda L`, or one calibrated on the queries being
//! routed to `--budget` / `--share`; costs are the stored ones or each query's from
//! `--cost-cols 'cost_*'` (the `*` stands for the model name; required when the router was
//! fitted with `--per-query-costs`). Writes `choice`, `psi_hat_<model>` for every model (gold
//! scale, 0 at the reference) and the chosen model's `cost`; prints every model's share and the
//! mean cost (and, for a budget, target against realised). Scoring runs row by row through
//! [`crate::router::multi::MultiRouter::scores_into`] and [`crate::router::multi::MultiRouter::choose_at`] with buffers allocated once.

use clap::Args;

use crate::error::{Error, Result};
use crate::router::multi::{BudgetReport, BudgetTarget, ModelCosts};

/// `fit` among K models: the long-format columns, the models' costs and the reference.
#[derive(Debug, Args)]
pub struct LongArgs {
    /// Long-format data, one row per (query, model, source) label: the column naming the model.
    /// Giving it makes `fit` train a router among the models of this column (with
    /// `--query-col`, `--source-col`, `--label-col`, `--costs`).
    #[arg(long, value_name = "COL", help_heading = "Routing among K models")]
    pub model_col: Option<String>,
    /// The query-id column of long-format data [default: query]; the features are given once
    /// per query (its other rows repeat them or leave them empty).
    #[arg(long, value_name = "COL", requires = "model_col", help_heading = "Routing among K models")]
    pub query_col: Option<String>,
    /// The source value that marks a gold label; every other value names a judge [default: gold].
    #[arg(long, value_name = "NAME", requires = "model_col", help_heading = "Routing among K models")]
    pub gold_source: Option<String>,
    /// The judges, comma separated, in this order (a source outside the list is an error;
    /// default: every non-gold source value, sorted by name).
    #[arg(long, value_name = "NAMES", requires = "model_col", help_heading = "Routing among K models")]
    pub sources: Option<String>,
    /// Cost of a call to each model, `name=cost` comma separated, e.g. `gpt=10,mixtral=1,llama=0.5`:
    /// every model of the data, none else; the order is the models' order. The cheapest model
    /// is the reference unless `--reference` names one.
    #[arg(long, value_name = "LIST", requires = "model_col", help_heading = "Routing among K models")]
    pub costs: Option<String>,
    /// Costs differ per query: `route` takes them from `--cost-cols` (needs `--reference`).
    #[arg(long, requires_all = ["model_col", "reference"], conflicts_with = "costs", help_heading = "Routing among K models")]
    pub per_query_costs: bool,
    /// The reference model (psi_hat = 0), against which every other model's gain is estimated.
    #[arg(long, value_name = "MODEL", requires = "model_col", help_heading = "Routing among K models")]
    pub reference: Option<String>,
    /// Store this cost weight: route to argmax_k psi_hat_k - LAMBDA cost_k [default: 0].
    #[arg(long, requires = "model_col", conflicts_with_all = ["budget", "share"], allow_negative_numbers = true, help_heading = "Routing among K models")]
    pub lambda: Option<f64>,
    /// A budget instead of `--lambda` (calibrated on the training queries).
    #[command(flatten)]
    pub budget: BudgetArgs,
}

/// A budget target instead of a cost weight (`fit`, `route` among K models).
#[derive(Debug, Args)]
pub struct BudgetArgs {
    /// Calibrate lambda so that the mean cost per query is at most MEAN_COST (the smallest such
    /// lambda).
    #[arg(
        long,
        value_name = "MEAN_COST",
        conflicts_with = "share",
        allow_negative_numbers = true,
        help_heading = "Routing among K models"
    )]
    pub budget: Option<f64>,
    /// Calibrate lambda so that at most the share RHO of the queries goes to MODEL or a model at
    /// least as dear, `MODEL=RHO` (for the dearest model: its own share).
    #[arg(long, value_name = "MODEL=RHO", help_heading = "Routing among K models")]
    pub share: Option<String>,
}

impl BudgetArgs {
    /// The target for `models`, if any.
    ///
    /// # Errors
    /// `--share` not `MODEL=RHO`, an unknown model, a share that is not a number.
    pub fn target(&self, owner: &str, models: &[String]) -> Result<Option<BudgetTarget>> {
        if let Some(c) = self.budget {
            return Ok(Some(BudgetTarget::MeanCost(c)));
        }
        let Some(s) = &self.share else { return Ok(None) };
        let Some((name, rho)) = s.split_once('=') else {
            return Err(Error::param(owner, "--share", format!("`{s}` is not MODEL=RHO")));
        };
        let model = model_index(owner, "--share", name.trim(), models)?;
        let share: f64 = rho.trim().parse().map_err(|_| {
            Error::param(
                owner,
                "--share",
                format!("`{}` (share of model `{}`) is not a number", rho.trim(), name.trim()),
            )
        })?;
        Ok(Some(BudgetTarget::Share { model, share }))
    }

    /// Whether `--budget` or `--share` was given.
    pub fn given(&self) -> bool {
        self.budget.is_some() || self.share.is_some()
    }
}

fn model_index(owner: &str, flag: &str, name: &str, models: &[String]) -> Result<usize> {
    models.iter().position(|m| m == name).ok_or_else(|| {
        Error::param(owner, flag, format!("`{name}` is not a model of the router (models: {})", models.join(", ")))
    })
}

/// `--costs name=cost,...`: the models and their costs, in the list's order (`command` names
/// the subcommand in errors).
///
/// # Errors
/// An item that is not `name=cost`, an empty name, a cost that is not a number, a model given twice.
pub fn parse_costs(command: &str, list: &str) -> Result<(Vec<String>, Vec<f64>)> {
    let (mut names, mut costs) = (Vec::new(), Vec::new());
    for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        let Some((name, v)) = item.split_once('=') else {
            return Err(Error::param(command, "--costs", format!("`{item}` is not name=cost")));
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::param(command, "--costs", format!("`{item}` has no model name")));
        }
        let cost: f64 = v.trim().parse().map_err(|_| {
            Error::param(command, "--costs", format!("`{}` (model `{name}`) is not a number", v.trim()))
        })?;
        if names.iter().any(|n| n == name) {
            return Err(Error::param(command, "--costs", format!("model `{name}` is given twice")));
        }
        names.push(name.to_string());
        costs.push(cost);
    }
    Ok((names, costs))
}

/// A comma list (trimmed, empty items dropped).
pub fn list(s: &str) -> Vec<String> {
    s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// Model `k`'s constant cost (`None` for per-query costs).
pub fn cost_of(costs: &ModelCosts, k: usize) -> Option<f64> {
    match costs {
        ModelCosts::PerModel(c) => c.get(k).copied(),
        ModelCosts::PerQuery => None,
    }
}

/// A budget report as JSON, models by name.
pub fn budget_json(b: &BudgetReport, models: &[String]) -> serde_json::Value {
    let (kind, model, target) = match b.target {
        BudgetTarget::MeanCost(c) => ("mean_cost", None, c),
        BudgetTarget::Share { model, share } => ("share", Some(models[model].clone()), share),
    };
    let shares: serde_json::Map<String, serde_json::Value> =
        models.iter().zip(&b.shares).map(|(m, s)| (m.clone(), (*s).into())).collect();
    serde_json::json!({
        "target_kind": kind,
        "model": model,
        "target": target,
        "realised": b.realised,
        "lambda": b.lambda,
        "queries": b.n_queries,
        "mean_cost": b.mean_cost,
        "shares": shares,
    })
}

/// `budget: ... target T, realised R`.
pub fn target_text(b: &BudgetReport, models: &[String]) -> String {
    match b.target {
        BudgetTarget::MeanCost(c) => format!("budget: mean cost target {c}, realised {:.6}", b.realised),
        BudgetTarget::Share { model, share } => {
            format!("budget: share of `{}` or dearer target {share}, realised {:.6}", models[model], b.realised)
        }
    }
}

/// `shares m0 0.4, ...; mean cost C`.
pub fn shares_text(shares: &[f64], models: &[String], mean_cost: f64) -> String {
    let s: Vec<String> = models.iter().zip(shares).map(|(m, s)| format!("{m} {s:.4}")).collect();
    format!("shares {}; mean cost {mean_cost:.6}", s.join(", "))
}

/// The per-query cost columns `pattern` names for `models` (the `*` replaced by each name).
///
/// # Errors
/// A pattern without exactly one `*`.
pub fn cost_columns(pattern: &str, models: &[String]) -> Result<Vec<String>> {
    if pattern.matches('*').count() != 1 || pattern.contains('?') {
        return Err(Error::param(
            "route",
            "--cost-cols",
            format!("`{pattern}` needs exactly one `*` standing for the model name (e.g. cost_*)"),
        ));
    }
    Ok(models.iter().map(|m| pattern.replacen('*', m, 1)).collect())
}
