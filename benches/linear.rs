//! Criterion benchmarks of the linear learners and PCA on seeded synthetic data:
//! ridge and logistic regression fits on 100,000 x 50, PCA of 5,000 x 384 to 50 components
//! (full and randomized). The peers' figures (scikit-learn) are measured side by side by
//! `bench_py.py` in the peers' folder (a sibling checkout, not part of this repository); see
//! BENCHMARKS.md.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use faer::Mat;
use meta_router::learn::linear::{LogisticParams, RidgeParams};
use meta_router::learn::pca::{PcaParams, PcaSolver};
use meta_router::learn::{Classifier, Regressor, TrainSet};
use meta_router::linalg::stats::sigmoid;
use meta_router::rng::Seed;
use rand::RngExt;
use rand_distr::{Distribution, StandardNormal};

fn normal(rng: &mut meta_router::rng::Rng) -> f64 {
    StandardNormal.sample(rng)
}

/// `n x d` standard normal features, a linear signal, and a 0/1 label from it.
fn supervised(n: usize, d: usize) -> (Mat<f64>, Vec<f64>, Vec<f64>) {
    let mut rng = Seed(1).rng();
    let x = Mat::from_fn(n, d, |_, _| normal(&mut rng));
    let beta: Vec<f64> = (0..d).map(|j| 1.0 / (1.0 + j as f64)).collect();
    let lin: Vec<f64> = (0..n).map(|i| (0..d).map(|j| x[(i, j)] * beta[j]).sum::<f64>() * 0.5).collect();
    let y = lin.iter().map(|v| v + normal(&mut rng)).collect();
    let t = lin.iter().map(|&v| f64::from(rng.random::<f64>() < sigmoid(v))).collect();
    (x, y, t)
}

/// `n x d` embeddings with a decaying spectrum (like sentence embeddings).
fn embeddings(n: usize, d: usize) -> Mat<f64> {
    let mut rng = Seed(2).rng();
    let k = 100;
    let a = Mat::from_fn(n, k, |_, c| normal(&mut rng) / (1.0 + c as f64).sqrt());
    let b = Mat::from_fn(k, d, |_, _| normal(&mut rng));
    let mut x = a * b;
    for j in 0..d {
        for i in 0..n {
            x[(i, j)] += 0.1 * normal(&mut rng);
        }
    }
    x
}

fn bench(c: &mut Criterion) {
    let (x, y, t) = supervised(100_000, 50);
    let mut g = c.benchmark_group("linear");
    g.sample_size(10).warm_up_time(Duration::from_millis(500)).measurement_time(Duration::from_secs(3));
    g.bench_function("ridge_fit_100k_x_50", |b| {
        b.iter(|| RidgeParams::default().fit(TrainSet::new(x.as_ref(), &y), Seed(0)).unwrap())
    });
    g.bench_function("logistic_fit_100k_x_50", |b| {
        b.iter(|| LogisticParams::default().fit(TrainSet::new(x.as_ref(), &t), Seed(0)).unwrap())
    });
    let e = embeddings(5_000, 384);
    for (name, solver) in
        [("pca_full_5k_x_384_to_50", PcaSolver::Full), ("pca_randomized_5k_x_384_to_50", PcaSolver::Randomized)]
    {
        let p = PcaParams { n_components: 50, solver, ..Default::default() };
        g.bench_function(name, |b| b.iter(|| p.fit(black_box(e.as_ref()), Seed(0)).unwrap()));
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
