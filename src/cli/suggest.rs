//! `meta-router suggest`: which pool queries to grade next, drawn with known inclusion
//! probabilities ([`crate::eval::active`]) so that a router refitted on them stays unbiased.
//!
//! The rule is `uncertainty`: the saved router's `psi_hat` (after its PCA, if any) scores each
//! pool row by the trees' disagreement (a forest psi model; any other model scores 1) inside
//! the usage band (rank quantile 0.2..0.8 among the pool rows), and `N` rows are drawn by
//! randomised systematic sampling with probabilities `min(1, kappa N base_i)`,
//! `base_i = (1 - floor) s_i / sum s + floor / R`. That is all a router file gives: the
//! study's default `neyman` rule needs `Delta_hat` and the gold noise, which router files do
//! not store.
//!
//! Output (`-o`): one row per chosen query: `pool_row` (0-based data row of the pool CSV), the
//! router's feature columns, `inclusion_prob` (`p_i`) and `ipw_weight` (`1 / p_i`). With
//! `--pool-out FILE`, every pool row with `pool_row`, `inclusion_prob` and `selected` (0/1).
//! `p_i` is the row's probability of being graded in this draw: when the pool rows keep their
//! preference labels and join the training data, `fit --propensity-col` takes each row's
//! `P(gold | x)` (for rows of this pool only: `inclusion_prob`; combining with an earlier random
//! gold share `q`: `1 - (1 - q)(1 - p_i)`).

use std::path::PathBuf;

use clap::Args;

use crate::cli::args::SeedArgs;
use crate::data::{Column, ColumnRoles, read_csv, write_csv};
use crate::error::{Error, Result};
use crate::eval::active::{DEFAULT_FLOOR, inclusion_probabilities, systematic_sample, uncertainty_scores};
use crate::rng::{Seed, stream};
use crate::router::Router;

/// Arguments of `meta-router suggest`.
#[derive(Debug, Args)]
pub struct SuggestArgs {
    /// The router saved by `meta-router fit`.
    #[arg(long)]
    pub model: PathBuf,
    /// Unlabelled candidate queries, holding the router's feature columns.
    #[arg(long)]
    pub pool: PathBuf,
    /// How many queries to choose.
    #[arg(long)]
    pub budget: usize,
    /// The share of the probability spread uniformly, in (0, 1] (1: a simple random sample).
    #[arg(long, default_value_t = DEFAULT_FLOOR)]
    pub floor: f64,
    /// The seed of the draw.
    #[command(flatten)]
    pub seed: SeedArgs,
    /// Also write every pool row with its inclusion probability and a `selected` column.
    #[arg(long)]
    pub pool_out: Option<PathBuf>,
    /// Where to write the chosen queries.
    #[arg(short = 'o', long = "out")]
    pub out: PathBuf,
}

/// The chosen rows (ascending pool rows) and every pool row's probability.
///
/// # Errors
/// A budget of 0 or larger than the pool; the model's prediction errors.
pub fn choose(
    router: &Router,
    x: faer::MatRef<'_, f64>,
    budget: usize,
    floor: f64,
    seed: Seed,
) -> Result<(Vec<usize>, Vec<f64>)> {
    let n = x.nrows();
    if budget == 0 {
        return Err(Error::param("suggest", "--budget", "must be at least 1, got 0"));
    }
    if budget > n {
        return Err(Error::param("suggest", "--budget", format!("{budget} is larger than the pool: it has {n} rows")));
    }
    let z = match &router.pca {
        Some(p) => Some(p.transform(x)?),
        None => None,
    };
    let s = uncertainty_scores(&router.psi, z.as_ref().map_or(x, |z| z.as_ref()))?;
    let inc = inclusion_probabilities(&s, budget, floor).map_err(|e| match e {
        Error::InvalidParam { reason, .. } => Error::param("suggest", "--floor", reason),
        other => other,
    })?;
    let chosen = systematic_sample(&inc.p, &mut seed.child(stream::ACTIVE).rng());
    Ok((chosen, inc.p))
}

/// Runs `meta-router suggest`.
///
/// # Errors
/// Unreadable or foreign model file; a pool without the router's feature columns (named) or
/// with NaN features; a budget of 0 or larger than the pool; a floor outside (0, 1]; an
/// unwritable output.
pub fn run(args: SuggestArgs) -> Result<()> {
    let router = Router::load(&args.model)?;
    let roles = ColumnRoles { features: Some(router.feature_names.clone()), ..Default::default() };
    let d = read_csv(&args.pool, &roles)?;
    d.check_finite_features()?;
    let (chosen, p) = choose(&router, d.x.as_ref(), args.budget, args.floor, Seed(args.seed.seed))?;
    let rows: Vec<f64> = chosen.iter().map(|&i| i as f64).collect();
    let feats: Vec<Vec<f64>> = (0..d.x.ncols()).map(|j| chosen.iter().map(|&i| d.x[(i, j)]).collect()).collect();
    let probs: Vec<f64> = chosen.iter().map(|&i| p[i]).collect();
    let ipw: Vec<f64> = probs.iter().map(|q| 1.0 / q).collect();
    let mut cols = vec![Column::Num("pool_row", &rows)];
    for (name, v) in d.feature_names.iter().zip(&feats) {
        cols.push(Column::Num(name, v));
    }
    cols.push(Column::Num("inclusion_prob", &probs));
    cols.push(Column::Num("ipw_weight", &ipw));
    write_csv(&args.out, &cols)?;
    if let Some(path) = &args.pool_out {
        let all: Vec<f64> = (0..d.n_rows()).map(|i| i as f64).collect();
        let mut sel = vec![0.0; d.n_rows()];
        chosen.iter().for_each(|&i| sel[i] = 1.0);
        write_csv(
            path,
            &[Column::Num("pool_row", &all), Column::Num("inclusion_prob", &p), Column::Num("selected", &sel)],
        )?;
    }
    let (lo, hi) = p.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
    println!(
        "chose {} of {} pool queries (rule uncertainty, floor {}); inclusion probabilities {lo:.4} to {hi:.4}",
        chosen.len(),
        d.n_rows(),
        args.floor
    );
    println!("wrote {}", args.out.display());
    Ok(())
}
