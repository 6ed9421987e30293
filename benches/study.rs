//! Benchmarks of the study machinery: the efficiency-gain curve, the simulator, and one
//! Monte-Carlo round of every router (ridge learners, so the runner's own cost is visible).

use criterion::{Criterion, criterion_group, criterion_main};
use meta_router::Seed;
use meta_router::causal::FinalStage;
use meta_router::eval::curves::{CurveScratch, GRID};
use meta_router::eval::{StudyConfig, StudyData, run_study};
use meta_router::learn::RegressorSpec;
use meta_router::router::RouterConfig;
use meta_router::sim::SimParams;
use rand::RngExt;

fn curves(c: &mut Criterion) {
    for m in [500usize, 100_000] {
        let mut rng = Seed(1).rng();
        let g: Vec<f64> = (0..m).map(|_| rng.random::<f64>() - 0.4).collect();
        let s: Vec<f64> = (0..m).map(|_| rng.random::<f64>()).collect();
        let mut scratch = CurveScratch::default();
        let mut out = vec![0.0; GRID];
        c.bench_function(&format!("efficiency_gain m={m}"), |b| {
            b.iter(|| scratch.efficiency_gain_into(&g, &s, &mut out).unwrap())
        });
    }
}

fn simulator(c: &mut Criterion) {
    let p = SimParams::default();
    c.bench_function("simulate n=5000 d=50", |b| b.iter(|| p.simulate(Seed(3)).unwrap()));
}

fn study_round(c: &mut Criterion) {
    let data: StudyData = SimParams::default().simulate(Seed(4)).unwrap().into();
    let learner = RegressorSpec::from_name("ridge").unwrap();
    let mut fin = learner.clone();
    fin.set_param("alphas", "10,100,1000,10000").unwrap();
    let mut router = RouterConfig::with_learner(learner);
    router.delta.final_stage = FinalStage::Fixed(fin);
    let cfg = StudyConfig { rounds: 1, router, ..Default::default() };
    let mut g = c.benchmark_group("study");
    g.sample_size(10);
    g.bench_function("one round, all routers, ridge, n=5000", |b| b.iter(|| run_study(&data, &cfg, Seed(5)).unwrap()));
    g.finish();
}

criterion_group!(benches, curves, simulator, study_round);
criterion_main!(benches);
