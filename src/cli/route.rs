//! `meta-router route`: score queries with a saved router and decide, per row, which model
//! serves it.
//!
//! Writes the columns `psi_hat` and `decision` (`primary` or `alternative`) and reports the
//! realised usage of the primary model. `psi_hat` is on the gold-label scale (the model's
//! preference-scale prediction divided by the alignment constant `c`, see [`crate::router`]),
//! and so are thresholds and the cost rule: the same `--lambda` and costs route the same way
//! under every `--align`. The threshold is the one stored in the model unless
//! `--threshold W` or `--usage RHO` (calibrated on these queries) is given; per-query costs
//! (`--cost-primary-col`, `--cost-alternative-col` with `--lambda`) give each row its own
//! threshold `lambda (C_primary - C_alternative)`.
//!
//! A router among K models (`fit --model-col`) is recognised by its file kind and served by
//! `run_many`: `choice`, `psi_hat_<model>` and `cost` per query, at the stored
//! `--lambda`, a given one, or a budget (`--budget`, `--share`), with per-query costs from
//! `--cost-cols`. Flags of one kind of router are errors with the other.

use std::path::PathBuf;

use clap::Args;
use faer::Mat;

use crate::cli::many::{BudgetArgs, cost_columns, cost_of, shares_text, target_text};
use crate::data::{Column, ColumnRoles, read_csv, write_csv};
use crate::error::{Error, Result};
use crate::persist::{Kind, peek_kind, read_file};
use crate::router::multi::{CostTable, LambdaRule, ModelCosts, MultiRouter, calibrate_lambda};
use crate::router::{Decision, Router, Threshold};

/// Arguments of `meta-router route`.
#[derive(Debug, Args)]
#[command(after_help = "A router among K models (fit --model-col) writes choice, psi_hat_<model> and cost per query:
  meta-router route --model router.mr --data test.csv -o decisions.csv
  meta-router route --model router.mr --data test.csv --budget 3 -o decisions.csv
  meta-router route --model router.mr --data test.csv --share m1=0.1 --cost-cols 'cost_*' -o decisions.csv")]
pub struct RouteArgs {
    /// The router saved by `meta-router fit`.
    #[arg(long)]
    pub model: PathBuf,
    /// Queries CSV holding the router's feature columns.
    #[arg(long)]
    pub data: PathBuf,
    /// Route to primary when psi_hat > W (psi_hat on the gold-label scale).
    #[arg(long, conflicts_with = "usage", allow_negative_numbers = true)]
    pub threshold: Option<f64>,
    /// Calibrate the threshold so this share of the queries goes to the primary model.
    #[arg(long, allow_negative_numbers = true)]
    pub usage: Option<f64>,
    /// Utility weight of cost. Two models (with the cost columns): primary when psi_hat (gold
    /// scale) > LAMBDA (cost_primary - cost_alternative). K models: argmax_k psi_hat_k - LAMBDA
    /// cost_k instead of the stored lambda.
    #[arg(long, allow_negative_numbers = true)]
    pub lambda: Option<f64>,
    /// Per-query cost of the primary model (column name).
    #[arg(long, requires = "lambda")]
    pub cost_primary_col: Option<String>,
    /// Per-query cost of the alternative model (column name).
    #[arg(long, requires = "lambda")]
    pub cost_alternative_col: Option<String>,
    /// K models: a budget calibrated on these queries instead of the stored lambda.
    #[command(flatten)]
    pub budget: BudgetArgs,
    /// K models: each query's cost of each model, as one pattern with a single `*` standing for
    /// the model name (e.g. `cost_*`: `cost_gpt`, `cost_llama`); required for a router fitted with
    /// `--per-query-costs`.
    #[arg(long, value_name = "PATTERN", help_heading = "Routing among K models")]
    pub cost_cols: Option<String>,
    /// Where to write the decisions.
    #[arg(short = 'o', long = "out")]
    pub out: PathBuf,
}

/// Runs `meta-router route`.
///
/// # Errors
/// Unreadable or foreign model file, features missing from the query file, NaN features,
/// usage outside [0, 1], an unwritable output.
pub fn run(args: RouteArgs) -> Result<()> {
    if let Ok(bytes) = read_file(&args.model) {
        if peek_kind(&bytes) == Some(Kind::MultiRouter) {
            let router = MultiRouter::load(&args.model)?;
            return run_many(&args, &router);
        }
    }
    let k_model = [
        ("--budget", args.budget.budget.is_some()),
        ("--share", args.budget.share.is_some()),
        ("--cost-cols", args.cost_cols.is_some()),
    ];
    if let Some((flag, _)) = k_model.iter().find(|(_, given)| *given) {
        return Err(Error::param(
            "route",
            flag,
            format!("applies to a router among K models; {} is a two-model router", args.model.display()),
        ));
    }
    if args.lambda.is_some() && (args.cost_primary_col.is_none() || args.cost_alternative_col.is_none()) {
        return Err(Error::param(
            "route",
            "--lambda",
            "with a two-model router needs --cost-primary-col and --cost-alternative-col",
        ));
    }
    let mut router = Router::load(&args.model)?;
    if let Some(rho) = args.usage {
        if !(0.0..=1.0).contains(&rho) {
            return Err(Error::param("route", "--usage", format!("must lie in [0, 1], got {rho}")));
        }
    }
    let mut roles = ColumnRoles { features: Some(router.feature_names.clone()), ..Default::default() };
    roles.numeric.extend(args.cost_primary_col.iter().cloned());
    roles.numeric.extend(args.cost_alternative_col.iter().cloned());
    let d = read_csv(&args.data, &roles)?;
    d.check_finite_features()?;
    let mut scores = vec![0.0; d.n_rows()];
    router.score_batch(d.x.as_ref(), &mut scores)?;
    let mut note = String::new();
    if let Some(w) = args.threshold {
        router.set_threshold(Threshold::direct(w)?);
    } else if let Some(rho) = args.usage {
        let r = router.calibrate_usage(d.x.as_ref(), rho)?;
        note = format!(" (target {:.3})", r.target);
    }
    let decisions: Vec<Decision> = match (args.lambda, &args.cost_primary_col, &args.cost_alternative_col) {
        (Some(lambda), Some(cp), Some(ca)) => {
            d.check_finite_column(cp)?;
            d.check_finite_column(ca)?;
            let (cp, ca) = (d.column(cp)?, d.column(ca)?);
            let mut out = Vec::with_capacity(scores.len());
            for i in 0..scores.len() {
                let w = Threshold::from_costs(lambda, cp[i], ca[i])?.w;
                out.push(if scores[i] > w { Decision::Primary } else { Decision::Alternative });
            }
            out
        }
        _ => scores.iter().map(|&s| router.decide_score(s)).collect(),
    };
    let names: Vec<&str> = decisions.iter().map(|d| d.name()).collect();
    write_csv(&args.out, &[Column::Num("psi_hat", &scores), Column::Text("decision", &names)])?;
    let used = decisions.iter().filter(|&&d| d == Decision::Primary).count();
    println!(
        "routed {} queries: {} primary, {} alternative; realised usage {:.4}{note}; threshold {}",
        scores.len(),
        used,
        scores.len() - used,
        used as f64 / scores.len().max(1) as f64,
        router.threshold.w
    );
    println!("wrote {}", args.out.display());
    Ok(())
}

/// Runs `meta-router route` with a K-model router (module docs).
///
/// # Errors
/// Two-model flags; features or cost columns missing from the query file; NaN features; a
/// negative or non-finite cost (named by line and column); no costs for a per-query router; a
/// bad budget; an unwritable output.
fn run_many(args: &RouteArgs, router: &MultiRouter) -> Result<()> {
    let two_model = [
        ("--threshold", args.threshold.is_some()),
        ("--usage", args.usage.is_some()),
        ("--cost-primary-col", args.cost_primary_col.is_some()),
        ("--cost-alternative-col", args.cost_alternative_col.is_some()),
    ];
    if let Some((flag, _)) = two_model.iter().find(|(_, given)| *given) {
        return Err(Error::param(
            "route",
            flag,
            format!(
                "applies to a two-model router; {} routes among {} models (use --lambda, --budget, --share, --cost-cols)",
                args.model.display(),
                router.n_models()
            ),
        ));
    }
    if args.lambda.is_some() && args.budget.given() {
        return Err(Error::param("route", "--lambda", "give either --lambda or a budget (--budget, --share)"));
    }
    let k = router.n_models();
    let cost_cols = match (&args.cost_cols, &router.costs) {
        (Some(p), _) => Some(cost_columns(p, &router.models)?),
        (None, ModelCosts::PerQuery) => {
            return Err(Error::param(
                "route",
                "--cost-cols",
                "this router was fitted with per-query costs: give each query's costs, e.g. --cost-cols 'cost_*'",
            ));
        }
        (None, ModelCosts::PerModel(_)) => None,
    };
    let mut roles = ColumnRoles { features: Some(router.feature_names.clone()), ..Default::default() };
    roles.numeric.extend(cost_cols.iter().flatten().cloned());
    let d = read_csv(&args.data, &roles)?;
    d.check_finite_features()?;
    let m = d.n_rows();
    let query_costs = match &cost_cols {
        Some(cols) => {
            let mut c = Mat::<f64>::zeros(m, k);
            for (j, name) in cols.iter().enumerate() {
                d.check_column(name, |v| v.is_finite() && v >= 0.0, "a cost must be finite and >= 0")?;
                c.col_as_slice_mut(j).copy_from_slice(d.column(name)?);
            }
            Some(c)
        }
        None => None,
    };
    // pass 1: every psi_hat, row by row, into one m x K table
    let mut psi = Mat::<f64>::zeros(m, k);
    let mut row = vec![0.0; d.x.ncols()];
    let mut scratch = vec![0.0; router.scratch_len()];
    let mut out = vec![0.0; k];
    let mut costs_row = vec![0.0; k];
    for i in 0..m {
        for (j, r) in row.iter_mut().enumerate() {
            *r = d.x[(i, j)];
        }
        router.scores_into(&row, &mut scratch, &mut out)?;
        for (j, &v) in out.iter().enumerate() {
            psi[(i, j)] = v;
        }
    }
    let table = match (&query_costs, &router.costs) {
        (Some(c), _) => CostTable::PerQuery(c.as_ref()),
        (None, ModelCosts::PerModel(c)) => CostTable::PerModel(c),
        (None, ModelCosts::PerQuery) => unreachable_costs()?,
    };
    let (lambda, budget, how) = match args.budget.target("route", &router.models)? {
        Some(target) => {
            let r = calibrate_lambda(psi.as_ref(), table, target)?;
            (r.lambda, Some(r), "calibrated on these queries")
        }
        None => match args.lambda {
            Some(l) => (l, None, "given"),
            None => (
                router.lambda,
                None,
                match router.rule {
                    LambdaRule::Direct => "stored",
                    LambdaRule::Budget(_) => "stored, calibrated at fit",
                },
            ),
        },
    };
    // pass 2: the decisions
    let mut choice: Vec<&str> = Vec::with_capacity(m);
    let mut cost = vec![0.0; m];
    let mut counts = vec![0usize; k];
    for i in 0..m {
        for (j, o) in out.iter_mut().enumerate() {
            *o = psi[(i, j)];
        }
        let c = match &query_costs {
            Some(qc) => {
                for (j, c) in costs_row.iter_mut().enumerate() {
                    *c = qc[(i, j)];
                }
                Some(costs_row.as_slice())
            }
            None => None,
        };
        let best = router.choose_at(&out, c, lambda)?;
        choice.push(&router.models[best]);
        cost[i] = c.map_or_else(|| cost_of(&router.costs, best).unwrap_or(f64::NAN), |c| c[best]);
        counts[best] += 1;
    }
    let names: Vec<String> = router.models.iter().map(|n| format!("psi_hat_{n}")).collect();
    let mut columns = vec![Column::Text("choice", &choice)];
    for (j, name) in names.iter().enumerate() {
        columns.push(Column::Num(name, psi.col_as_slice(j)));
    }
    columns.push(Column::Num("cost", &cost));
    write_csv(&args.out, &columns)?;
    let mean_cost = cost.iter().sum::<f64>() / m as f64;
    let shares: Vec<f64> = counts.iter().map(|&c| c as f64 / m as f64).collect();
    println!("routed {m} queries among {k} models at lambda {lambda} ({how})");
    if let Some(b) = &budget {
        println!("{}", target_text(b, &router.models));
    }
    println!("{}", shares_text(&shares, &router.models, mean_cost));
    println!("wrote {}", args.out.display());
    Ok(())
}

/// A per-query router without query costs was refused above; this keeps the match total
/// without a panic.
fn unreachable_costs<'a>() -> Result<CostTable<'a>> {
    Err(Error::param("route", "--cost-cols", "this router needs each query's costs"))
}
