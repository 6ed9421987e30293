//! A user-defined learner plugged into the causal core through the learner traits.
//!
//! `Knn` is a k-nearest-neighbour regressor written here, outside the crate: it implements
//! [`Params`], [`Regressor`] and [`Predict`], and `train_router_with` uses it for the psi model
//! and the outcome nuisances of the meta-router (the final stage still comes from the
//! configuration's spec, so `Delta_hat` stays serialisable).
//!
//! Run with `cargo run --release --example custom_learner`.

use faer::{Mat, MatRef};
use meta_router::learn::{Params, Predict, Regressor, TrainSet, check};
use meta_router::router::{RouterConfig, RouterData, RouterKind, train_router_with};
use meta_router::{Error, Result, Seed};
use rand_distr::{Distribution, Normal};

/// The largest `k` supported (neighbours are kept in a fixed-size stack buffer, so prediction
/// does not allocate).
const MAX_K: usize = 64;

/// k-nearest-neighbour regression: the weighted mean target of the `k` training rows closest
/// in Euclidean distance.
#[derive(Clone, Debug)]
struct Knn {
    k: usize,
}

/// The fitted model: the training rows themselves.
struct KnnModel {
    k: usize,
    x: Mat<f64>,
    y: Vec<f64>,
    w: Vec<f64>,
}

impl Params for Knn {
    fn learner_name(&self) -> &'static str {
        "knn"
    }
    fn set_param(&mut self, name: &str, value: &str) -> Result<()> {
        match name {
            "k" => self.k = meta_router::params::parse_usize("knn", name, value)?,
            _ => return Err(meta_router::params::unknown("knn", name, &["k"])),
        }
        Ok(())
    }
    fn validate(&self) -> Result<()> {
        if self.k == 0 || self.k > MAX_K {
            return Err(Error::param("knn", "k", format!("must lie in 1..={MAX_K}, got {}", self.k)));
        }
        Ok(())
    }
}

impl Regressor for Knn {
    type Model = KnnModel;
    fn fit(&self, data: TrainSet<'_>, _seed: Seed) -> Result<KnnModel> {
        self.validate()?;
        check::train_set(&data)?;
        let w = (0..data.n_samples()).map(|i| data.weight(i)).collect();
        Ok(KnnModel { k: self.k.min(data.n_samples()), x: data.x.to_owned(), y: data.y.to_vec(), w })
    }
}

impl Predict for KnnModel {
    fn n_features(&self) -> usize {
        self.x.ncols()
    }
    fn predict_into(&self, x: MatRef<'_, f64>, out: &mut [f64]) -> Result<()> {
        check::predict_shape(x, self.x.ncols(), out)?;
        for (q, o) in out.iter_mut().enumerate() {
            // insertion into a sorted stack buffer of the k best (distance, row)
            let mut best = [(f64::INFINITY, 0usize); MAX_K];
            for i in 0..self.x.nrows() {
                let d: f64 = (0..self.x.ncols()).map(|j| (self.x[(i, j)] - x[(q, j)]).powi(2)).sum();
                if d < best[self.k - 1].0 {
                    let mut p = self.k - 1;
                    while p > 0 && best[p - 1].0 > d {
                        best[p] = best[p - 1];
                        p -= 1;
                    }
                    best[p] = (d, i);
                }
            }
            let (mut s, mut sw) = (0.0, 0.0);
            for &(_, i) in &best[..self.k] {
                s += self.w[i] * self.y[i];
                sw += self.w[i];
            }
            *o = if sw > 0.0 { s / sw } else { 0.0 };
        }
        Ok(())
    }
}

fn main() -> Result<()> {
    // a nonlinear gain (kNN captures it) and a bias growing with x2 (the final stage captures it)
    let (n, d, n_gold) = (1500, 3, 150);
    let mut rng = Seed(3).rng();
    let normal = Normal::new(0.0, 1.0).map_err(|e| Error::data(e.to_string()))?;
    let x: Mat<f64> = Mat::from_fn(n, d, |_, _| normal.sample(&mut rng));
    let perm = meta_router::rng::permutation(n, &mut rng);
    let mut is_gold = vec![0.0; n];
    for &i in &perm[..n_gold] {
        is_gold[i] = 1.0;
    }
    let psi: Vec<f64> = (0..n).map(|i| (x[(i, 0)] * 1.5).sin()).collect();
    let label: Vec<f64> = (0..n)
        .map(|i| {
            let delta = 0.3 + 0.6 * x[(i, 1)];
            let e = 0.3 * normal.sample(&mut rng);
            if is_gold[i] == 1.0 { psi[i] + e } else { psi[i] - delta + e }
        })
        .collect();
    let data = RouterData { x: x.as_ref(), is_gold: &is_gold, label: &label, gold_everywhere: None, weights: None };
    let knn = Knn { k: 25 };
    let cfg = RouterConfig::default();
    for kind in [RouterKind::Pooled, RouterKind::MetaR, RouterKind::MetaDr] {
        let r = train_router_with(kind, &data, &knn, &knn, &cfg, Seed(11))?;
        let fitted = r.predict_psi(x.as_ref())?;
        let corr = pearson(&fitted, &psi);
        let stage = r.diagnostics.final_stage.as_ref().map_or("-".to_string(), |f| f.chosen.clone());
        println!("{:<10} corr(psi_hat, psi) = {corr:.3}   final stage {stage}", kind.name());
    }
    Ok(())
}

fn pearson(a: &[f64], b: &[f64]) -> f64 {
    let n = a.len() as f64;
    let (ma, mb) = (a.iter().sum::<f64>() / n, b.iter().sum::<f64>() / n);
    let cov: f64 = a.iter().zip(b).map(|(x, y)| (x - ma) * (y - mb)).sum();
    let va: f64 = a.iter().map(|x| (x - ma).powi(2)).sum();
    let vb: f64 = b.iter().map(|y| (y - mb).powi(2)).sum();
    cov / (va * vb).sqrt()
}
