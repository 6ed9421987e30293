//! A small Monte-Carlo study driven from code: simulate a HealthBench-like table, run every
//! router (and `random`) over a few rounds with ridge learners, print the table and write the
//! figure. Runs in seconds: `cargo run --release --example small_study`.

use meta_router::Seed;
use meta_router::eval::{StudyConfig, StudyData, StudyRouter, run_study};
use meta_router::learn::RegressorSpec;
use meta_router::router::RouterConfig;
use meta_router::sim::SimParams;

fn main() -> meta_router::Result<()> {
    // 2,000 simulated queries with known psi and delta.
    let data: StudyData = SimParams { n: 2000, ..Default::default() }.simulate(Seed(1))?.into();

    // Ridge for psi and the nuisances; everything else at its default (cross-fitting, std alignment).
    let learner = RegressorSpec::from_name("ridge")?;
    let cfg = StudyConfig {
        n_gold: 100,
        n_test: 500,
        rounds: 10,
        routers: StudyRouter::all(),
        router: RouterConfig::with_learner(learner),
        ..Default::default()
    };
    let outcome = run_study(&data, &cfg, Seed(42))?;
    let summary = outcome.summary()?;
    print!("{}", summary.table());

    let dir = std::env::temp_dir().join("meta-router-small-study");
    summary.write_dir(&outcome, &dir, "small study: 2,000 simulated queries, ridge, 10 rounds")?;
    println!("figure: {}", dir.join("efficiency_gain.svg").display());
    Ok(())
}
