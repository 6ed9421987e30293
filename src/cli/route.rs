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

use std::path::PathBuf;

use clap::Args;

use crate::data::{Column, ColumnRoles, read_csv, write_csv};
use crate::error::{Error, Result};
use crate::router::{Decision, Router, Threshold};

/// Arguments of `meta-router route`.
#[derive(Debug, Args)]
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
    /// Utility weight of cost (with the cost columns): primary when psi_hat (gold scale) >
    /// LAMBDA (cost_primary - cost_alternative).
    #[arg(long, requires_all = ["cost_primary_col", "cost_alternative_col"], allow_negative_numbers = true)]
    pub lambda: Option<f64>,
    /// Per-query cost of the primary model (column name).
    #[arg(long, requires = "lambda")]
    pub cost_primary_col: Option<String>,
    /// Per-query cost of the alternative model (column name).
    #[arg(long, requires = "lambda")]
    pub cost_alternative_col: Option<String>,
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
