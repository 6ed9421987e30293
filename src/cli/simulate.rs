//! `meta-router simulate`: write a table from the HealthBench-like simulator
//! ([`crate::sim`]) with columns `x1..xd, gs, pb, psi, delta`.

use std::path::PathBuf;

use clap::Args;

use crate::cli::args::SeedArgs;
use crate::error::Result;
use crate::params::Params;
use crate::rng::Seed;
use crate::sim::SimParams;

/// Arguments of `meta-router simulate`.
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Number of rows.
    #[arg(long, default_value_t = 5000)]
    pub n: usize,
    /// The seed of the simulated world and rows.
    #[command(flatten)]
    pub seed: SeedArgs,
    /// Simulator parameters, `name=value` (repeatable; see `SimParams`), e.g. `scale=2`.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Output CSV file.
    #[arg(short = 'o', long = "out")]
    pub out: PathBuf,
}

/// Parses `k=v` pairs into simulator parameters (after `n`).
///
/// # Errors
/// A pair without `=`, an unknown name, an unparsable or out-of-domain value.
pub fn sim_params(n: usize, pairs: &[String]) -> Result<SimParams> {
    let mut p = SimParams { n, ..Default::default() };
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
    let p = sim_params(args.n, &args.params)?;
    let data = p.simulate(Seed(args.seed.seed))?;
    data.write_csv(&args.out)?;
    eprintln!("wrote {} rows x {} features to {}", p.n, p.d, args.out.display());
    Ok(())
}
