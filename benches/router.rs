//! Criterion benchmarks of the causal core and the serving router, on the paper's shape:
//! 5,000 queries x 50 features, 100 gold rows (simulated here; the lead's route_5k_50 data
//! has the same shape).
//!
//! * `train/<router>/ridge`: one router trained end to end (alignment, cross-fitted nuisances,
//!   final-stage selection, psi fit) with ridge learners.
//! * `score_into`: one query scored by a saved router (the serving path), without and with a
//!   PCA to 20 components.
//!
//! Run: `cargo bench --bench router`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use faer::Mat;
use meta_router::Seed;
use meta_router::learn::RegressorSpec;
use meta_router::learn::pca::PcaParams;
use meta_router::router::Router;
use meta_router::router::{RouterConfig, RouterData, RouterKind, train_router};
use rand_distr::{Distribution, Normal};

struct Data {
    x: Mat<f64>,
    is_gold: Vec<f64>,
    label: Vec<f64>,
}

fn data(n: usize, d: usize, n_gold: usize) -> Data {
    let mut rng = Seed(1).rng();
    let normal = Normal::new(0.0, 1.0).unwrap();
    let x = Mat::from_fn(n, d, |_, j| normal.sample(&mut rng) / (1.0 + j as f64).sqrt());
    let perm = meta_router::rng::permutation(n, &mut rng);
    let mut is_gold = vec![0.0; n];
    for &i in &perm[..n_gold] {
        is_gold[i] = 1.0;
    }
    let label = (0..n)
        .map(|i| {
            let psi = 0.1 + 0.4 * x[(i, 0)] - 0.3 * x[(i, 1)];
            let delta = 0.2 + 0.3 * x[(i, 2)];
            let e = 0.5 * normal.sample(&mut rng);
            if is_gold[i] == 1.0 { psi + e } else { 2.0 * (psi - delta) + e }
        })
        .collect();
    Data { x, is_gold, label }
}

fn bench(c: &mut Criterion) {
    let d = data(5000, 50, 100);
    let rd = RouterData { x: d.x.as_ref(), is_gold: &d.is_gold, label: &d.label, gold_everywhere: None, weights: None };
    let ridge = RegressorSpec::from_name("ridge").unwrap();
    let cfg = RouterConfig::with_learner(ridge);
    let mut g = c.benchmark_group("train");
    g.sample_size(10);
    for kind in [RouterKind::Pooled, RouterKind::MetaR, RouterKind::MetaDr] {
        g.bench_function(format!("{}/ridge", kind.name()), |b| {
            b.iter(|| train_router(kind, black_box(&rd), &cfg, Seed(42)).unwrap())
        });
    }
    g.finish();

    let names: Vec<String> = (0..50).map(|j| format!("x{j}")).collect();
    let plain =
        Router::new(train_router(RouterKind::MetaDr, &rd, &cfg, Seed(42)).unwrap(), names.clone(), None).unwrap();
    let pca = PcaParams { n_components: 20, ..Default::default() }.fit(d.x.as_ref(), Seed(3)).unwrap();
    let z = pca.transform(d.x.as_ref()).unwrap();
    let rz = RouterData { x: z.as_ref(), ..rd };
    let with_pca =
        Router::new(train_router(RouterKind::MetaDr, &rz, &cfg, Seed(42)).unwrap(), names, Some(pca)).unwrap();
    let row: Vec<f64> = (0..50).map(|j| d.x[(7, j)]).collect();
    for (name, r) in [("score_into/ridge", &plain), ("score_into/pca20+ridge", &with_pca)] {
        let mut scratch = vec![0.0; r.scratch_len()];
        c.bench_function(name, |b| b.iter(|| r.score_into(black_box(&row), &mut scratch).unwrap()));
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
