//! Properties of ridge, logistic regression and PCA (proptest), PCA's thread-count determinism
//! and persistence, and the family-specific bad inputs (the checks every learner shares are in
//! tests/conformance.rs).

use faer::Mat;
use meta_router::Error;
use meta_router::learn::linear::{LogisticParams, RidgeParams};
use meta_router::learn::pca::{PcaParams, PcaSolver};
use meta_router::learn::{Classifier, Predict, PredictProba, Regressor, TrainSet};
use meta_router::linalg::stats::sigmoid;
use meta_router::rng::Seed;
use proptest::prelude::*;
use rand::RngExt;

/// Uniform features in [-1, 1], a linear target with noise, a 0/1 label, integer weights 1..=3.
struct Sample {
    x: Mat<f64>,
    y: Vec<f64>,
    t: Vec<f64>,
    w: Vec<f64>,
}

fn sample(n: usize, d: usize, seed: u64) -> Sample {
    let mut rng = Seed(seed).rng();
    let x = Mat::from_fn(n, d, |_, _| rng.random::<f64>() * 2.0 - 1.0);
    let mut y = Vec::with_capacity(n);
    let mut t = Vec::with_capacity(n);
    for i in 0..n {
        let lin: f64 = (0..d).map(|j| x[(i, j)] * (1.0 - 0.4 * j as f64)).sum::<f64>() + 0.2;
        y.push(lin + 0.3 * (rng.random::<f64>() - 0.5));
        t.push(f64::from(rng.random::<f64>() < sigmoid(2.0 * lin)));
    }
    // both classes always present
    t[0] = 0.0;
    t[1] = 1.0;
    let w = (0..n).map(|_| f64::from(rng.random_range(1..=3u32))).collect();
    Sample { x, y, t, w }
}

fn close(a: &[f64], b: &[f64], tol: f64) -> bool {
    let scale = b.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    a.iter().zip(b).all(|(x, y)| (x - y).abs() <= tol * scale)
}

fn ridge_params(alpha: f64) -> RidgeParams {
    RidgeParams { alpha, ..Default::default() }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    #[test]
    fn ridge_satisfies_its_normal_equations(n in 12usize..60, d in 1usize..6, seed in 0u64..1000, alpha in prop_oneof![Just(1e-12), 0.0f64..5.0]) {
        // X'W(y - b - X beta) = alpha beta and sum W (y - b - X beta) = 0; at alpha ~ 0 this is
        // ordinary weighted least squares.
        let s = sample(n, d, seed);
        let m = ridge_params(alpha).fit(TrainSet::weighted(s.x.as_ref(), &s.y, &s.w), Seed(0)).unwrap();
        let pred = m.predict(s.x.as_ref()).unwrap();
        let r: Vec<f64> = (0..n).map(|i| s.w[i] * (s.y[i] - pred[i])).collect();
        prop_assert!(r.iter().sum::<f64>().abs() < 1e-9 * n as f64);
        for j in 0..d {
            let g: f64 = (0..n).map(|i| s.x[(i, j)] * r[i]).sum();
            prop_assert!((g - alpha * m.coef[j]).abs() < 1e-9 * n as f64, "column {}: {} vs {}", j, g, alpha * m.coef[j]);
        }
    }

    #[test]
    fn logistic_gradient_vanishes_at_the_optimum(n in 20usize..80, d in 1usize..5, seed in 0u64..1000, c in 0.05f64..20.0) {
        let s = sample(n, d, seed);
        let m = LogisticParams { c, ..Default::default() }.fit(TrainSet::weighted(s.x.as_ref(), &s.t, &s.w), Seed(0)).unwrap();
        prop_assert!(m.info.converged);
        let p = m.predict_proba(s.x.as_ref()).unwrap();
        let sw: f64 = s.w.iter().sum();
        let r: Vec<f64> = (0..n).map(|i| s.w[i] * (p[i] - s.t[i])).collect();
        prop_assert!(r.iter().sum::<f64>().abs() / sw <= 1e-8);
        for j in 0..d {
            let g: f64 = (0..n).map(|i| s.x[(i, j)] * r[i]).sum::<f64>() + m.coef[j] / c;
            prop_assert!(g.abs() / sw <= 1e-8, "{}", g);
        }
    }

    #[test]
    fn pca_with_all_components_reconstructs_and_is_orthonormal(n in 3usize..40, d in 1usize..8, seed in 0u64..1000) {
        let s = sample(n, d, seed);
        let m = PcaParams::default().fit(s.x.as_ref(), Seed(0)).unwrap();
        let k = m.n_components();
        prop_assert_eq!(k, n.min(d));
        let back = m.inverse_transform(m.transform(s.x.as_ref()).unwrap().as_ref()).unwrap();
        for j in 0..d {
            for i in 0..n {
                prop_assert!((back[(i, j)] - s.x[(i, j)]).abs() < 1e-10);
            }
        }
        let v = m.axes();
        let vtv = v.transpose() * v;
        for a in 0..k {
            for b in 0..k {
                prop_assert!((vtv[(a, b)] - f64::from(a == b)).abs() < 1e-10);
            }
        }
        prop_assert!(m.explained_variance().windows(2).all(|w| w[0] >= w[1]));
        prop_assert!((m.explained_variance_ratio().iter().sum::<f64>() - 1.0).abs() < 1e-10);
        // sign convention: each axis' largest-magnitude entry is positive
        for c in 0..k {
            let row = &m.components[c * d..(c + 1) * d];
            let big = row.iter().cloned().fold(0.0f64, |a, x| if x.abs() > a.abs() { x } else { a });
            prop_assert!(big > 0.0);
        }
    }

    #[test]
    fn randomized_pca_matches_full_on_low_rank_data(n in 60usize..200, d in 10usize..30, rank in 1usize..5, seed in 0u64..1000) {
        let mut rng = Seed(seed).rng();
        let a = Mat::from_fn(n, rank, |_, c| (rng.random::<f64>() - 0.5) * 8.0 / (c + 1) as f64);
        let b = Mat::from_fn(rank, d, |_, _| rng.random::<f64>() - 0.5);
        let x = a * b;
        let full = PcaParams { n_components: rank, solver: PcaSolver::Full, ..Default::default() }.fit(x.as_ref(), Seed(0)).unwrap();
        let rand = PcaParams { n_components: rank, solver: PcaSolver::Randomized, ..Default::default() }.fit(x.as_ref(), Seed(seed)).unwrap();
        prop_assert!(close(rand.explained_variance(), full.explained_variance(), 1e-9));
        // the axes match up to the (shared) sign convention, unless two variances tie
        let ev = full.explained_variance();
        if ev.windows(2).all(|w| w[0] > w[1] * (1.0 + 1e-6)) && ev[rank - 1] > 1e-8 * ev[0] {
            prop_assert!(close(&rand.components, &full.components, 1e-6));
        }
    }
}

#[test]
fn randomized_pca_is_bit_identical_for_any_thread_count() {
    // ridge and logistic regression: see the conformance suite (tests/conformance.rs)
    let e = sample(3_000, 40, 12).x;
    let runs = crate::util::in_pools(|| {
        let m = PcaParams { n_components: 5, solver: PcaSolver::Randomized, ..Default::default() }
            .fit(e.as_ref(), Seed(5))
            .unwrap();
        crate::util::bits(&m.components)
    });
    assert!(runs[0] == runs[1] && runs[0] == runs[2]);
}

#[test]
fn automatic_alpha_prefers_strong_shrinkage_for_pure_noise() {
    // y independent of x: shrinkage helps, so a large alpha wins over the smallest; with a strong
    // signal and little noise the smallest alpha wins.
    let s = sample(200, 5, 3);
    let mut rng = Seed(4).rng();
    let noise: Vec<f64> = (0..200).map(|_| rng.random::<f64>()).collect();
    let p = RidgeParams { alphas: Some(vec![1e-3, 1.0, 1e3, 1e5]), ..Default::default() };
    assert!(p.fit(TrainSet::new(s.x.as_ref(), &noise), Seed(0)).unwrap().alpha >= 1.0);
    assert_eq!(p.fit(TrainSet::new(s.x.as_ref(), &s.y), Seed(0)).unwrap().alpha, 1e-3);
}

/// The family-specific bad inputs; the common ones (non-finite, empty, mismatched, negative
/// weight, one-class target, prediction shapes) are in the conformance suite.
#[test]
fn bad_inputs_give_their_error_kind() {
    let s = sample(20, 3, 1);
    let ridge = RidgeParams::default();
    let mut xn = s.x.clone();
    xn[(4, 1)] = f64::NAN;
    // without centring, and with the bad value on a row of weight zero, it is still caught
    let mut xi = s.x.clone();
    xi[(7, 2)] = f64::NEG_INFINITY;
    let mut w0 = s.w.clone();
    w0[7] = 0.0;
    let nc = RidgeParams { fit_intercept: false, ..Default::default() };
    for p in [&ridge, &nc] {
        let r = p.fit(TrainSet::weighted(xi.as_ref(), &s.y, &w0), Seed(0));
        assert!(matches!(r, Err(Error::NonFinite { row: 7, col: 2, .. })), "{r:?}");
    }
    assert!(matches!(PcaParams::default().fit(xn.as_ref(), Seed(0)), Err(Error::NonFinite { .. })));
    let empty = Mat::<f64>::zeros(0, 3);
    assert!(matches!(PcaParams::default().fit(empty.as_ref(), Seed(0)), Err(Error::Empty { .. })));
    for (p, name) in [
        (RidgeParams { alpha: f64::NAN, ..Default::default() }, "alpha"),
        (RidgeParams { alphas: Some(vec![1.0, -2.0]), ..Default::default() }, "alphas"),
    ] {
        match p.fit(TrainSet::new(s.x.as_ref(), &s.y), Seed(0)) {
            Err(Error::InvalidParam { name: n, .. }) => assert_eq!(n, name),
            other => panic!("{other:?}"),
        }
    }
    match (LogisticParams { c: -1.0, ..Default::default() }).fit(TrainSet::new(s.x.as_ref(), &s.t), Seed(0)) {
        Err(Error::InvalidParam { name, .. }) => assert_eq!(name, "C"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn row_major_views_fit_like_column_major_matrices() {
    let s = sample(300, 4, 21);
    let flat: Vec<f64> = (0..300).flat_map(|i| (0..4).map(move |j| (i, j))).map(|(i, j)| s.x[(i, j)]).collect();
    let xr = faer::MatRef::from_row_major_slice(&flat, 300, 4);
    let a = RidgeParams::default().fit(TrainSet::weighted(s.x.as_ref(), &s.y, &s.w), Seed(0)).unwrap();
    let b = RidgeParams::default().fit(TrainSet::weighted(xr, &s.y, &s.w), Seed(0)).unwrap();
    assert!(close(&a.coef, &b.coef, 1e-12));
    let a = LogisticParams::default().fit(TrainSet::new(s.x.as_ref(), &s.t), Seed(0)).unwrap();
    let b = LogisticParams::default().fit(TrainSet::new(xr, &s.t), Seed(0)).unwrap();
    assert!(close(&a.coef, &b.coef, 1e-10));
    assert!(close(&a.predict_proba(xr).unwrap(), &b.predict_proba(s.x.as_ref()).unwrap(), 1e-12));
    let pa = PcaParams { n_components: 3, ..Default::default() }.fit(s.x.as_ref(), Seed(0)).unwrap();
    let pb = PcaParams { n_components: 3, ..Default::default() }.fit(xr, Seed(0)).unwrap();
    assert!(close(&pa.components, &pb.components, 1e-12));
    let (za, zb) = (pa.transform(s.x.as_ref()).unwrap(), pa.transform(xr).unwrap());
    assert!((0..300).all(|i| (0..3).all(|c| (za[(i, c)] - zb[(i, c)]).abs() < 1e-12)));
}

#[test]
fn a_fitted_pca_survives_a_save_and_load() {
    // ridge and logistic regression: see the conformance suite (tests/conformance.rs)
    use meta_router::persist::{Kind, from_bytes, to_bytes};
    let s = sample(100, 3, 31);
    let p = PcaParams { n_components: 2, ..Default::default() }.fit(s.x.as_ref(), Seed(0)).unwrap();
    let back: meta_router::learn::pca::PcaModel = from_bytes(&to_bytes(Kind::Pca, &p).unwrap(), Kind::Pca).unwrap();
    assert_eq!(back, p);
    assert_eq!(back.transform(s.x.as_ref()).unwrap(), p.transform(s.x.as_ref()).unwrap());
}
