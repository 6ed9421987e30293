//! Numerical stability (issue 6): nearly collinear and badly scaled features, rank-deficient PCA,
//! propensities at the clip edges and near 0. Each result is checked finite and against a
//! reference computed here by an independent, better-conditioned route.

use faer::linalg::solvers::SolveLstsq;
use faer::{Mat, MatRef};
use meta_router::Seed;
use meta_router::causal::drlearner::dr_pseudo;
use meta_router::causal::nuisance::{Propensity, clip_propensity};
use meta_router::learn::linear::{LogisticParams, RidgeParams};
use meta_router::learn::pca::{PcaParams, PcaSolver};
use meta_router::learn::{Classifier, ClassifierSpec, Predict, PredictProba, Regressor, RegressorSpec, TrainSet};
use meta_router::router::{RouterConfig, RouterData, RouterKind, train_router};
use rand::RngExt;

fn gaussian(rng: &mut meta_router::rng::Rng) -> f64 {
    // Box–Muller; enough for test data.
    let (u, v): (f64, f64) = (rng.random::<f64>().max(1e-300), rng.random::<f64>());
    (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
}

/// n x 6: three free columns and three near-copies (differences of 1e-9), condition number
/// far above 1e12.
fn collinear(n: usize, seed: u64) -> Mat<f64> {
    let mut rng = Seed(seed).rng();
    let mut x = Mat::<f64>::zeros(n, 6);
    for i in 0..n {
        for j in 0..3 {
            x[(i, j)] = gaussian(&mut rng);
        }
        x[(i, 3)] = x[(i, 0)] + 1e-13 * gaussian(&mut rng);
        x[(i, 4)] = x[(i, 1)] - x[(i, 2)] + 1e-13 * gaussian(&mut rng);
        x[(i, 5)] = 0.5 * x[(i, 0)] + 2.0 * x[(i, 2)] + 1e-13 * gaussian(&mut rng);
    }
    x
}

fn condition_number(x: MatRef<'_, f64>) -> f64 {
    let s = x.singular_values().unwrap();
    s[0] / s[s.len() - 1]
}

/// Ridge by Householder QR of the augmented system [Xc; sqrt(alpha) I] b = [yc; 0]: it never
/// forms X'X, so its error grows with cond(X) rather than cond(X)^2.
fn ridge_reference(x: MatRef<'_, f64>, y: &[f64], alpha: f64) -> (Vec<f64>, f64) {
    let (n, d) = (x.nrows(), x.ncols());
    let means: Vec<f64> = (0..d).map(|j| (0..n).map(|i| x[(i, j)]).sum::<f64>() / n as f64).collect();
    let ym = y.iter().sum::<f64>() / n as f64;
    let a = Mat::from_fn(n + d, d, |i, j| {
        if i < n {
            x[(i, j)] - means[j]
        } else if i - n == j {
            alpha.sqrt()
        } else {
            0.0
        }
    });
    let rhs = Mat::from_fn(n + d, 1, |i, _| if i < n { y[i] - ym } else { 0.0 });
    let b = a.qr().solve_lstsq(&rhs);
    let coef: Vec<f64> = (0..d).map(|j| b[(j, 0)]).collect();
    let intercept = ym - coef.iter().zip(&means).map(|(c, m)| c * m).sum::<f64>();
    (coef, intercept)
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(1e-300)
}

#[test]
fn ridge_on_nearly_collinear_features_matches_a_qr_reference() {
    let x = collinear(300, 1);
    assert!(condition_number(x.as_ref()) >= 1e12, "cond {}", condition_number(x.as_ref()));
    let mut rng = Seed(2).rng();
    let y: Vec<f64> = (0..300).map(|i| x[(i, 0)] - 2.0 * x[(i, 1)] + 0.1 * gaussian(&mut rng)).collect();
    for alpha in [1e-6, 1e-2, 1.0] {
        let m = RidgeParams { alpha, ..Default::default() }.fit(TrainSet::new(x.as_ref(), &y), Seed(0)).unwrap();
        let (coef, intercept) = ridge_reference(x.as_ref(), &y, alpha);
        let fitted = m.predict(x.as_ref()).unwrap();
        for i in 0..300 {
            let r: f64 = intercept + (0..6).map(|j| coef[j] * x[(i, j)]).sum::<f64>();
            assert!(fitted[i].is_finite());
            assert!((fitted[i] - r).abs() <= 1e-7 * (1.0 + r.abs()), "alpha {alpha} row {i}: {} vs {r}", fitted[i]);
        }
        if alpha >= 1e-2 {
            for (j, (a, b)) in m.coef.iter().zip(&coef).enumerate() {
                assert!((a - b).abs() <= 1e-6 * (1.0 + b.abs()), "alpha {alpha} coef {j}");
            }
        }
    }
}

#[test]
fn ridge_and_logistic_are_equivariant_under_extreme_feature_scaling() {
    let mut rng = Seed(3).rng();
    let (n, d) = (400, 5);
    let x = Mat::from_fn(n, d, |_, _| gaussian(&mut rng));
    let y: Vec<f64> = (0..n).map(|i| x[(i, 0)] + 0.5 * x[(i, 3)] + 0.3 * gaussian(&mut rng)).collect();
    let t: Vec<f64> = (0..n).map(|i| if x[(i, 1)] + 0.8 * gaussian(&mut rng) > 0.0 { 1.0 } else { 0.0 }).collect();
    let base = RidgeParams { alpha: 3.0, ..Default::default() }.fit(TrainSet::new(x.as_ref(), &y), Seed(0)).unwrap();
    let lbase = LogisticParams { c: 0.5, ..Default::default() }.fit(TrainSet::new(x.as_ref(), &t), Seed(0)).unwrap();
    let pbase = lbase.predict_proba(x.as_ref()).unwrap();
    for s in [1e-8, 1e8] {
        let xs = Mat::from_fn(n, d, |i, j| s * x[(i, j)]);
        // sum (y - b - s x.beta')^2 + alpha s^2 |beta'|^2 has beta' = beta / s.
        let m = RidgeParams { alpha: 3.0 * s * s, ..Default::default() }
            .fit(TrainSet::new(xs.as_ref(), &y), Seed(0))
            .unwrap();
        for j in 0..d {
            assert!(rel(m.coef[j] * s, base.coef[j]) < 1e-9, "ridge scale {s} coef {j}");
        }
        assert!(rel(m.intercept, base.intercept) < 1e-9);
        // 0.5 |beta'|^2 / C' with C' = C / s^2 is the same penalty on beta = s beta'.
        let l = LogisticParams { c: 0.5 / (s * s), ..Default::default() }
            .fit(TrainSet::new(xs.as_ref(), &t), Seed(0))
            .unwrap();
        let p = l.predict_proba(xs.as_ref()).unwrap();
        for i in 0..n {
            assert!(
                p[i].is_finite() && (p[i] - pbase[i]).abs() < 1e-8,
                "logistic scale {s} row {i}: {} vs {} after {} iterations",
                p[i],
                pbase[i],
                l.info.n_iter
            );
        }
        for j in 0..d {
            assert!((l.coef[j] * s - lbase.coef[j]).abs() < 1e-7 * (1.0 + lbase.coef[j].abs()));
        }
    }
}

/// Neumaier-compensated sum, for a gradient accurate to a few ulps.
fn compensated_sum(v: impl Iterator<Item = f64>) -> f64 {
    let (mut s, mut c) = (0.0f64, 0.0f64);
    for x in v {
        let t = s + x;
        c += if s.abs() >= x.abs() { (s - t) + x } else { (x - t) + s };
        s = t;
    }
    s + c
}

#[test]
fn logistic_on_nearly_collinear_features_is_optimal_to_high_precision() {
    let x = collinear(500, 4);
    let mut rng = Seed(5).rng();
    let t: Vec<f64> =
        (0..500).map(|i| if x[(i, 0)] - x[(i, 2)] + gaussian(&mut rng) > 0.0 { 1.0 } else { 0.0 }).collect();
    let c = 1.0;
    let m = LogisticParams { c, ..Default::default() }.fit(TrainSet::new(x.as_ref(), &t), Seed(0)).unwrap();
    let p = m.predict_proba(x.as_ref()).unwrap();
    assert!(p.iter().all(|v| v.is_finite() && (0.0..=1.0).contains(v)));
    // The objective 0.5|b|^2/C + sum logloss is (1/C)-strongly convex in the coefficients, so
    // |b - b*| <= C |grad| : a small gradient, computed with compensated sums, certifies b.
    let mut grad_sq = 0.0;
    for j in 0..6 {
        let g = compensated_sum((0..500).map(|i| (p[i] - t[i]) * x[(i, j)])) + m.coef[j] / c;
        grad_sq += g * g;
    }
    let g0 = compensated_sum((0..500).map(|i| p[i] - t[i]));
    let bound = c * (grad_sq + g0 * g0).sqrt();
    assert!(bound < 1e-6, "certified coefficient error bound {bound}");
}

#[test]
fn pca_on_rank_deficient_data() {
    let mut rng = Seed(6).rng();
    let (n, d, r) = (200, 12, 3);
    let u = Mat::from_fn(n, r, |_, _| gaussian(&mut rng));
    let v = Mat::from_fn(r, d, |_, _| gaussian(&mut rng));
    let x = Mat::from_fn(n, d, |i, j| 5.0 + (0..r).map(|k| u[(i, k)] * v[(k, j)]).sum::<f64>());
    for solver in [PcaSolver::Full, PcaSolver::Randomized] {
        let full = PcaParams { n_components: d, solver: PcaSolver::Full, ..Default::default() }
            .fit(x.as_ref(), Seed(1))
            .unwrap();
        let ev = full.explained_variance();
        assert!(ev.iter().all(|v| v.is_finite() && *v >= -1e-12));
        assert!(ev[r..].iter().all(|&v| v <= 1e-12 * ev[0]), "{ev:?}");
        let m = PcaParams { n_components: r, solver, ..Default::default() }.fit(x.as_ref(), Seed(1)).unwrap();
        let back = m.inverse_transform(m.transform(x.as_ref()).unwrap().as_ref()).unwrap();
        for i in 0..n {
            for j in 0..d {
                assert!((back[(i, j)] - x[(i, j)]).abs() < 1e-9 * (1.0 + x[(i, j)].abs()), "{solver:?}");
            }
        }
        assert!((m.explained_variance_ratio().iter().sum::<f64>() - 1.0).abs() < 1e-12);
    }
}

#[test]
fn dr_pseudo_outcomes_with_propensities_near_zero_are_exact() {
    // Powers of two keep every operation exact, so the expected values are exact too.
    let e_small = 2f64.powi(-40);
    let phi = dr_pseudo(&[1.0, 0.5], &[1.0, 0.0], &[e_small, 1.0 - e_small], &[0.25, 0.25], &[0.5, 0.5]).unwrap();
    assert_eq!(phi[0], 0.25 + 0.5 * 2f64.powi(40));
    assert_eq!(phi[1], 0.25 - 0.25 * 2f64.powi(40));
    assert!(dr_pseudo(&[1.0], &[1.0], &[0.0], &[0.0], &[0.0]).is_err());
    assert!(dr_pseudo(&[1.0], &[1.0], &[f64::NAN], &[0.0], &[0.0]).is_err());
}

#[test]
fn propensities_at_the_clip_edges_stay_finite_and_are_reported() {
    let how = Propensity::Estimated { classifier: ClassifierSpec::from_name("logistic").unwrap(), clip: 0.01 };
    let fit = clip_propensity(&how, vec![0.0, 1e-300, 0.01, 0.5, 0.99, 1.0 - 1e-16, 1.0]);
    assert_eq!(fit.clipped, vec![0.01, 0.01, 0.01, 0.5, 0.99, 0.99, 0.99]);
    assert_eq!(fit.raw[0], 0.0);

    // Gold rows chosen by a hard rule on x1: the propensity model separates them almost
    // perfectly, many rows sit at the clip, and the router must still be finite and warn.
    let mut rng = Seed(7).rng();
    let (n, d) = (600, 4);
    let x = Mat::from_fn(n, d, |_, _| gaussian(&mut rng));
    let is_gold: Vec<f64> = (0..n).map(|i| if x[(i, 0)] > 1.0 { 1.0 } else { 0.0 }).collect();
    let label: Vec<f64> =
        (0..n).map(|i| x[(i, 1)] - if is_gold[i] == 0.0 { 0.4 } else { 0.0 } + 0.1 * gaussian(&mut rng)).collect();
    let data = RouterData { x: x.as_ref(), is_gold: &is_gold, label: &label, gold_everywhere: None, weights: None };
    let mut cfg = RouterConfig::with_learner(RegressorSpec::from_name("ridge").unwrap());
    cfg.delta.propensity =
        Propensity::Estimated { classifier: ClassifierSpec::from_name("logistic").unwrap(), clip: 0.01 };
    for kind in [RouterKind::MetaR, RouterKind::MetaDr] {
        let r = train_router(kind, &data, &cfg, Seed(8)).unwrap();
        let psi = r.psi.predict(x.as_ref()).unwrap();
        assert!(psi.iter().all(|v| v.is_finite()), "{kind:?}");
        let ov = r.diagnostics.overlap.as_ref().unwrap();
        assert!(ov.share_clipped > 0.05 && ov.warning.is_some(), "{kind:?}: {ov:?}");
    }
    // The same classifier, unclipped, really does reach the edges on this design.
    let lr = LogisticParams::default().fit(TrainSet::new(x.as_ref(), &is_gold), Seed(0)).unwrap();
    let raw =
        Classifier::fit(&ClassifierSpec::from_name("logistic").unwrap(), TrainSet::new(x.as_ref(), &is_gold), Seed(0))
            .unwrap()
            .predict_proba(x.as_ref())
            .unwrap();
    assert!(raw.iter().any(|&e| e < 0.01) && lr.coef[0] > 1.0);
}

#[test]
fn tree_learners_split_features_near_the_largest_f64() {
    // x1 spans +-1.7e308: split midpoints (a + b) / 2 would overflow if computed naively; the
    // trees must still separate the signs exactly, while the linear learners refuse the column.
    let mut rng = Seed(4).rng();
    let n = 400;
    let x = Mat::from_fn(n, 2, |_, j| {
        let u = rng.random::<f64>();
        if j == 0 { u } else { (2.0 * rng.random::<f64>() - 1.0) * 1.7e308 }
    });
    let y: Vec<f64> = (0..n).map(|i| f64::from(x[(i, 1)] > 0.0) + 0.1 * x[(i, 0)]).collect();
    for name in ["rf", "hgb"] {
        let spec = RegressorSpec::from_name(name).unwrap();
        let m = spec.fit(TrainSet::new(x.as_ref(), &y), Seed(1)).unwrap();
        let p = m.predict(x.as_ref()).unwrap();
        assert!(p.iter().all(|v| v.is_finite()), "{name}");
        let wrong = (0..n).filter(|&i| (p[i] > 0.55) != (x[(i, 1)] > 0.0)).count();
        assert_eq!(wrong, 0, "{name}: rows on the wrong side of the sign split");
    }
    let e = RidgeParams::default().fit(TrainSet::new(x.as_ref(), &y), Seed(0)).unwrap_err();
    assert!(matches!(e, meta_router::Error::FeatureScale { col: 1, .. }), "{e:?}");
}
