//! Random-forest benchmarks: fit on 5,000 x 50 and 100,000 x 50 (100 trees, depth 20, sqrt
//! features: the paper's configuration; the 5,000-row fit also with `split=binned`, tree growth
//! being most of a fit), batch prediction of 100,000 rows and single-row
//! prediction of a 100-tree forest. Data are generated from a fixed seed (a smooth nonlinear
//! signal in 10 of 50 uniform features plus Gaussian noise), so runs are comparable.
//!
//! `cargo bench --bench forest` (short measurement: 10 samples, 1 s warm-up).

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use faer::Mat;
use meta_router::Seed;
use meta_router::learn::forest::{MaxFeatures, RandomForestRegressorParams, SplitSearch};
use meta_router::learn::{Predict, Regressor, TrainSet};
use rand::RngExt;
use rand_distr::{Distribution, Normal};

fn data(n: usize, d: usize, seed: u64) -> (Mat<f64>, Vec<f64>) {
    let mut rng = Seed(seed).rng();
    let x = Mat::from_fn(n, d, |_, _| rng.random::<f64>());
    let noise = Normal::new(0.0, 0.5).expect("valid normal");
    let y = (0..n)
        .map(|i| {
            let s: f64 = (0..10).map(|j| (3.0 * x[(i, j)] + j as f64).sin()).sum();
            s + x[(i, 0)] * x[(i, 1)] + noise.sample(&mut rng)
        })
        .collect();
    (x, y)
}

fn paper() -> RandomForestRegressorParams {
    RandomForestRegressorParams {
        n_estimators: 100,
        max_depth: Some(20),
        max_features: MaxFeatures::Sqrt,
        ..Default::default()
    }
}

fn bench(c: &mut Criterion) {
    let p = paper();
    let mut g = c.benchmark_group("forest");
    g.sample_size(10).warm_up_time(Duration::from_secs(1)).measurement_time(Duration::from_secs(5));
    let (x5, y5) = data(5_000, 50, 1);
    g.bench_function("fit_5k_x50_100trees_depth20_sqrt", |b| {
        b.iter(|| p.fit(TrainSet::new(x5.as_ref(), &y5), Seed(7)).expect("fit"))
    });
    let binned = RandomForestRegressorParams { split: SplitSearch::Binned, ..p.clone() };
    g.bench_function("fit_5k_x50_100trees_depth20_sqrt_binned", |b| {
        b.iter(|| binned.fit(TrainSet::new(x5.as_ref(), &y5), Seed(7)).expect("fit"))
    });
    let (x100, y100) = data(100_000, 50, 2);
    g.measurement_time(Duration::from_secs(20));
    g.bench_function("fit_100k_x50_100trees_depth20_sqrt", |b| {
        b.iter(|| p.fit(TrainSet::new(x100.as_ref(), &y100), Seed(7)).expect("fit"))
    });
    let model = p.fit(TrainSet::new(x100.as_ref(), &y100), Seed(7)).expect("fit");
    let (xt, _) = data(100_000, 50, 3);
    let mut out = vec![0.0; 100_000];
    g.measurement_time(Duration::from_secs(5));
    g.bench_function("predict_100k_rows_100trees", |b| {
        b.iter(|| model.predict_into(xt.as_ref(), black_box(&mut out)).expect("predict"))
    });
    let row: Vec<f64> = (0..50).map(|j| xt[(0, j)]).collect();
    g.bench_function("predict_row_100trees", |b| b.iter(|| model.predict_row(black_box(&row)).expect("predict")));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
