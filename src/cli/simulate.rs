//! `meta-router simulate`: write a table from the HealthBench-like simulator
//! ([`crate::sim`]) with columns `x1..xd, gs, pb, psi, delta`.

use std::path::PathBuf;

use clap::Args;

use crate::cli::args::SeedArgs;
use crate::error::Result;
use crate::params::Params;
use crate::rng::Seed;
use crate::sim::{Scenario, SimParams};

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
    /// Output CSV file.
    #[arg(short = 'o', long = "out")]
    pub out: PathBuf,
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
    let data = p.simulate(Seed(args.seed.seed))?;
    data.write_csv(&args.out)?;
    eprintln!("wrote {} rows x {} features to {}", p.n, data.x.ncols(), args.out.display());
    Ok(())
}
