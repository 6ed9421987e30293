//! Criterion benchmarks of histogram gradient boosting on seeded synthetic data, in the
//! configuration of the LightGBM comparison (issue 4): 100 iterations, 31 leaves, learning rate
//! 0.1, 255 bins, squared error.
//!
//! * `gbm/fit_100k_x_50`, `gbm/predict_100k_x_50`, `gbm/fit_classifier_100k_x_50`;
//! * `gbm_1m/fit_1m_x_50` only when `MR_BENCH_LARGE=1` is set (one fit takes seconds and the
//!   data 400 MB).
//!
//! The peers' figures (LightGBM, scikit-learn, XGBoost) come from `bench_py.py` in the peers'
//! folder (a sibling checkout, not part of this repository) on the CSVs of `make_data.py`, measured side by side; see BENCHMARKS.md.
//!
//!     cargo bench --bench gbm
//!     MR_BENCH_LARGE=1 cargo bench --bench gbm -- gbm_1m

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use faer::Mat;
use meta_router::learn::gbm::{HgbParams, HgbcParams};
use meta_router::learn::{Classifier, Predict, Regressor, TrainSet};
use meta_router::rng::Seed;
use rand_distr::{Distribution, StandardNormal};

/// `n x d` standard normal features; `y` mixes a linear part, two interactions, a sine and noise.
fn data(n: usize, d: usize) -> (Mat<f64>, Vec<f64>, Vec<f64>) {
    let mut rng = Seed(1).rng();
    let mut z = || -> f64 { StandardNormal.sample(&mut rng) };
    let x = Mat::from_fn(n, d, |_, _| z());
    let y: Vec<f64> = (0..n)
        .map(|i| {
            let lin: f64 = (0..10).map(|j| x[(i, j)] / (1.0 + j as f64)).sum();
            lin + x[(i, 10)] * x[(i, 11)]
                + (2.0 * x[(i, 12)]).sin()
                + f64::from(x[(i, 13)] > 0.5) * x[(i, 14)]
                + 0.5 * z()
        })
        .collect();
    let t = y.iter().map(|&v| f64::from(v > 0.0)).collect();
    (x, y, t)
}

fn bench(c: &mut Criterion) {
    let (x, y, t) = data(100_000, 50);
    let p = HgbParams::default();
    let mut g = c.benchmark_group("gbm");
    g.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(5));
    g.bench_function("fit_100k_x_50", |b| b.iter(|| p.fit(TrainSet::new(x.as_ref(), &y), Seed(0)).unwrap()));
    let m = p.fit(TrainSet::new(x.as_ref(), &y), Seed(0)).unwrap();
    let mut out = vec![0.0; x.nrows()];
    g.bench_function("predict_100k_x_50", |b| b.iter(|| m.predict_into(black_box(x.as_ref()), &mut out).unwrap()));
    let pc = HgbcParams::default();
    g.bench_function("fit_classifier_100k_x_50", |b| {
        b.iter(|| pc.fit(TrainSet::new(x.as_ref(), &t), Seed(0)).unwrap())
    });
    g.finish();
}

fn bench_large(c: &mut Criterion) {
    if std::env::var("MR_BENCH_LARGE").as_deref() != Ok("1") {
        return;
    }
    let (x, y, _) = data(1_000_000, 50);
    let p = HgbParams::default();
    let mut g = c.benchmark_group("gbm_1m");
    g.sample_size(10).warm_up_time(Duration::from_millis(1)).measurement_time(Duration::from_secs(1));
    g.bench_function("fit_1m_x_50", |b| b.iter(|| p.fit(TrainSet::new(x.as_ref(), &y), Seed(0)).unwrap()));
    g.finish();
}

criterion_group!(benches, bench, bench_large);
criterion_main!(benches);
