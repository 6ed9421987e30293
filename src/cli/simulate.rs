//! `meta-router simulate`: write a table from the HealthBench-like simulator
//! ([`crate::sim`]) with columns `x1..xd, gs, pb, psi, delta`; with `--models K [--judges S]`
//! the K-model table of [`crate::sim::multi`] in wide form: `x1..xd`, then per model `m`
//! (`m0..m{K-1}`, `m0` the reference, its gains all 0) `gs_m`, the judges' `pb_m` (one judge) or
//! `judge{s}_m` (several), `cost_m`, `psi_m`, and `delta_m` (one judge) or `delta_judge{s}_m`.

use std::path::PathBuf;

use clap::Args;

use crate::cli::args::{ModelsArgs, SeedArgs};
use crate::data::{Column, write_csv};
use crate::error::Result;
use crate::params::Params;
use crate::rng::Seed;
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
