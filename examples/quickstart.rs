//! Quickstart: build a small routing data set in code, fit the debiased router (DR-learner),
//! save it, load it back, and route one query.
//!
//! Run with `cargo run --release --example quickstart`.

use faer::Mat;
use meta_router::learn::RegressorSpec;
use meta_router::router::Router;
use meta_router::router::{RouterConfig, RouterData, RouterKind, train_router};
use meta_router::{Result, Seed};
use rand_distr::{Distribution, Normal};

fn main() -> Result<()> {
    // 2,000 queries with 8 features; the primary model's true gain psi(x) depends on x1 and x2,
    // the preference judge's bias Delta(x) on x3. 100 queries carry a gold label.
    let (n, d, n_gold) = (2000, 8, 100);
    let mut rng = Seed(7).rng();
    let normal = Normal::new(0.0, 1.0).map_err(|e| meta_router::Error::data(e.to_string()))?;
    let x = Mat::from_fn(n, d, |_, _| normal.sample(&mut rng));
    let gold_rows = meta_router::rng::permutation(n, &mut rng);
    let mut is_gold = vec![0.0; n];
    for &i in &gold_rows[..n_gold] {
        is_gold[i] = 1.0;
    }
    let label: Vec<f64> = (0..n)
        .map(|i| {
            let psi = 0.1 + 0.5 * x[(i, 0)] - 0.3 * x[(i, 1)];
            let delta = 0.4 + 0.5 * x[(i, 2)];
            let noise = 0.4 * normal.sample(&mut rng);
            if is_gold[i] == 1.0 { psi + noise } else { 3.0 * (psi - delta) + noise }
        })
        .collect();

    let ridge = RegressorSpec::from_name("ridge")?;
    let cfg = RouterConfig::with_learner(ridge);
    let data = RouterData { x: x.as_ref(), is_gold: &is_gold, label: &label, gold_everywhere: None, weights: None };
    let trained = train_router(RouterKind::MetaDr, &data, &cfg, Seed(42))?;
    let diag = &trained.diagnostics;
    println!("scale c = {:.3} ({})", trained.scale, diag.alignment.method.name());
    if let Some(fs) = &diag.final_stage {
        println!("final stage: {} (candidates: {})", fs.chosen, fs.candidates.len());
    }

    let names: Vec<String> = (1..=d).map(|j| format!("x{j}")).collect();
    let mut router = Router::new(trained, names, None)?;
    let usage = router.calibrate_usage(x.as_ref(), 0.3)?;
    println!("threshold {:.4}: usage target {:.2}, realised {:.3}", usage.threshold, usage.target, usage.realised);

    let path = std::env::temp_dir().join("meta-router-quickstart.mr");
    router.save(&path)?;
    let served = Router::load(&path)?;
    let query = [1.2, -0.5, 0.3, 0.0, 0.1, -0.2, 0.7, 0.4];
    let mut scratch = vec![0.0; served.scratch_len()];
    let psi_hat = served.score_into(&query, &mut scratch)?;
    println!("query {query:?}: psi_hat = {psi_hat:.4} -> {}", served.decide_score(psi_hat).name());
    println!("saved to {}", path.display());
    Ok(())
}
