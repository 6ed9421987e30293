//! `meta-router simulate`: write a table from the HealthBench-like simulator
//! ([`crate::sim`]) with columns `x1..xd, gs, pb, psi, delta`; with `--models K [--judges S]`
//! the K-model table of [`crate::sim::multi`] in wide form: `x1..xd`, then per model `m`
//! (`m0..m{K-1}`, `m0` the reference, its gains all 0) `gs_m`, the judges' `pb_m` (one judge) or
//! `judge{s}_m` (several), `cost_m`, `psi_m`, and `delta_m` (one judge) or `delta_judge{s}_m`.
//!
//! `--long FILE` (with `--models`) also writes deployment data in long format for `fit
//! --model-col` ([`write_long_csv`]): columns `query, model, source, label, x1..xd`, one row per
//! label, the features on each query's first row only; every judge's label of every model, and
//! gold labels of every model on a random `--gold-share` of the queries. With `--holdout N` the
//! last `N` queries stay out of the long file and `-o` holds only them (wide, with their truth),
//! to be routed; without it `-o` is the whole wide table as before.

use std::path::PathBuf;

use clap::Args;

use crate::cli::args::{ModelsArgs, SeedArgs};
use crate::data::{Column, write_csv};
use crate::error::{Error, Result};
use crate::linalg::select::select_rows;
use crate::params::Params;
use crate::rng::{Seed, permutation, stream};
use crate::sim::{MultiSimData, Scenario, SimParams, simulate_multi};

/// Arguments of `meta-router simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Number of rows.
    #[arg(long, default_value_t = 5000)]
    pub n: usize,
    /// The seed of the simulated world and rows.
    #[command(flatten)]
    pub seed: SeedArgs,
    /// A named scenario: default, nonlinear_bias, orthogonal_bias, aligned_bias, noisy_pref,
    /// distorted_scale, weak_psi, gold_1pct, gold_10pct, selected_gold (adds the deployment
    /// columns source, label, propensity), raw384 (384 raw embedding columns); `--param`
    /// overrides its parameters.
    #[arg(long, default_value = "default")]
    pub scenario: String,
    /// Simulator parameters, `name=value` (repeatable; see `SimParams`), e.g. `scale=2`.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// `--models K`, `--judges S`: the K-model table.
    #[command(flatten)]
    pub many: ModelsArgs,
    /// With `--models`: also write long-format deployment data here (one row per label:
    /// `query, model, source, label, x1..xd`), for `fit --model-col model`.
    #[arg(long, value_name = "FILE", requires = "models")]
    pub long: Option<PathBuf>,
    /// The share of the long file's queries that carry gold labels (of every model), in [0, 1].
    #[arg(long, value_name = "P", default_value_t = 0.05, requires = "long")]
    pub gold_share: f64,
    /// Keep the last N queries out of the long file; `-o` then holds only them (wide, with
    /// their truth `psi_m`), the queries to route.
    #[arg(long, value_name = "N", default_value_t = 0, requires = "long")]
    pub holdout: usize,
    /// Output CSV file.
    #[arg(short = 'o', long = "out")]
    pub out: PathBuf,
}

/// Writes a K-model table in wide form (see the module docs).
///
/// # Errors
/// An unwritable output file.
pub fn write_multi_csv(data: &MultiSimData, path: &std::path::Path) -> Result<()> {
    let n = data.x.nrows();
    let one = data.judges.len() == 1;
    let mut names: Vec<String> = (1..=data.x.ncols()).map(|j| format!("x{j}")).collect();
    let mut values: Vec<&[f64]> = (0..data.x.ncols()).map(|j| data.x.col_as_slice(j)).collect();
    let costs: Vec<Vec<f64>> = data.costs.iter().map(|&c| vec![c; n]).collect();
    for (k, m) in data.models.iter().enumerate() {
        names.push(format!("gs_{m}"));
        values.push(data.gold.col_as_slice(k));
        for (s, judge) in data.judges.iter().enumerate() {
            names.push(if one { format!("pb_{m}") } else { format!("{judge}_{m}") });
            values.push(data.pref[s].col_as_slice(k));
        }
        names.push(format!("cost_{m}"));
        values.push(&costs[k]);
        names.push(format!("psi_{m}"));
        values.push(data.psi.col_as_slice(k));
        for (s, judge) in data.judges.iter().enumerate() {
            names.push(if one { format!("delta_{m}") } else { format!("delta_{judge}_{m}") });
            values.push(data.delta[s].col_as_slice(k));
        }
    }
    let cols: Vec<Column<'_>> = names.iter().zip(&values).map(|(name, v)| Column::Num(name, v)).collect();
    write_csv(path, &cols)
}

/// The purpose index (under [`stream::SIM`]) of the random gold queries of the long file.
const LONG_GOLD_STREAM: u64 = 4096;

/// Writes the first `queries` queries of a K-model table as long-format deployment data (see
/// the module docs): gold labels on `round(gold_share * queries)` queries drawn at random from
/// `seed` (stream `SIM`, index 4096), every judge's label everywhere.
///
/// # Errors
/// A share outside [0, 1], more queries than the table has, an unwritable file.
pub fn write_long_csv(
    data: &MultiSimData,
    queries: usize,
    gold_share: f64,
    seed: Seed,
    path: &std::path::Path,
) -> Result<()> {
    if !(0.0..=1.0).contains(&gold_share) {
        return Err(Error::param("simulate", "--gold-share", format!("must lie in [0, 1], got {gold_share}")));
    }
    if queries > data.x.nrows() {
        return Err(Error::shape("queries of the long file", data.x.nrows(), queries));
    }
    let n_gold = (gold_share * queries as f64).round() as usize;
    let mut is_gold = vec![false; queries];
    for &i in permutation(queries, &mut seed.indexed(stream::SIM, LONG_GOLD_STREAM).rng()).iter().take(n_gold) {
        is_gold[i] = true;
    }
    let (k, d) = (data.models.len(), data.x.ncols());
    let ids: Vec<String> = (0..queries).map(|i| format!("q{i}")).collect();
    let (mut query, mut model, mut source): (Vec<&str>, Vec<&str>, Vec<&str>) = (Vec::new(), Vec::new(), Vec::new());
    let mut label = Vec::new();
    let mut first = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let mut head = true;
        for j in 0..k {
            let gold = is_gold[i].then(|| ("gold", data.gold[(i, j)]));
            let judges = data.judges.iter().zip(&data.pref).map(|(s, p)| (s.as_str(), p[(i, j)]));
            for (s, v) in gold.into_iter().chain(judges) {
                query.push(id);
                model.push(&data.models[j]);
                source.push(s);
                label.push(v);
                first.push((head, i));
                head = false;
            }
        }
    }
    let features: Vec<Vec<f64>> =
        (0..d).map(|j| first.iter().map(|&(head, i)| if head { data.x[(i, j)] } else { f64::NAN }).collect()).collect();
    let names: Vec<String> = (1..=d).map(|j| format!("x{j}")).collect();
    let mut cols = vec![
        Column::Text("query", &query),
        Column::Text("model", &model),
        Column::Text("source", &source),
        Column::Num("label", &label),
    ];
    cols.extend(names.iter().zip(&features).map(|(n, v)| Column::NumOrEmpty(n, v)));
    write_csv(path, &cols)
}

/// The rows `rows` of a K-model table.
fn table_rows(data: &MultiSimData, rows: &[usize]) -> MultiSimData {
    let sel = |m: &faer::Mat<f64>| select_rows(m.as_ref(), rows);
    MultiSimData {
        x: sel(&data.x),
        models: data.models.clone(),
        judges: data.judges.clone(),
        costs: data.costs.clone(),
        psi: sel(&data.psi),
        gold: sel(&data.gold),
        pref: data.pref.iter().map(sel).collect(),
        delta: data.delta.iter().map(sel).collect(),
        scales: data.scales.clone(),
    }
}

/// Parses `k=v` pairs into simulator parameters (over the scenario's, after `n`).
///
/// # Errors
/// A pair without `=`, an unknown name, an unparsable or out-of-domain value.
pub fn sim_params(scenario: Scenario, n: usize, pairs: &[String]) -> Result<SimParams> {
    let mut p = scenario.params(n);
    for pair in pairs {
        let (k, v) =
            pair.split_once('=').ok_or_else(|| crate::Error::param("simulator", pair, "expected `name=value`"))?;
        p.set_param(k.trim(), v.trim())?;
    }
    p.validate()?;
    Ok(p)
}

/// Runs `meta-router simulate`.
///
/// # Errors
/// Bad parameters, an unwritable output file.
pub fn run(args: SimulateArgs) -> Result<()> {
    let p = sim_params(Scenario::from_name(&args.scenario)?, args.n, &args.params)?;
    if let Some(k) = args.many.models {
        let data = simulate_multi(&p, k, args.many.judges, Seed(args.seed.seed))?;
        if let Some(long) = &args.long {
            if args.holdout >= p.n {
                return Err(Error::param(
                    "simulate",
                    "--holdout",
                    format!("must leave queries for the long file: {} of {} rows", args.holdout, p.n),
                ));
            }
            let train = p.n - args.holdout;
            write_long_csv(&data, train, args.gold_share, Seed(args.seed.seed), long)?;
            eprintln!(
                "wrote {train} queries in long format ({} with gold labels) to {}",
                (args.gold_share * train as f64).round(),
                long.display()
            );
            if args.holdout > 0 {
                let rows: Vec<usize> = (train..p.n).collect();
                write_multi_csv(&table_rows(&data, &rows), &args.out)?;
                eprintln!("wrote the {} held-out queries (wide) to {}", args.holdout, args.out.display());
                return Ok(());
            }
        }
        write_multi_csv(&data, &args.out)?;
        eprintln!(
            "wrote {} rows x {} features, {k} models, {} judges to {}",
            p.n,
            data.x.ncols(),
            args.many.judges,
            args.out.display()
        );
        return Ok(());
    }
    let data = p.simulate(Seed(args.seed.seed))?;
    data.write_csv(&args.out)?;
    eprintln!("wrote {} rows x {} features to {}", p.n, data.x.ncols(), args.out.display());
    Ok(())
}
