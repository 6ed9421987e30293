//! Behaviour of the fitted boosting models: exact fits, missing values, weights, monotone
//! training loss, determinism across thread counts, persistence and input errors.

use super::*;
use crate::persist;
use faer::Mat;
use rand::RngExt;
use rand_distr::{Distribution, Normal};

/// `n x d` standard normal features and `y = sin(2 x0) + x1^2 / 2 + x2 [x3 > 0] + noise`.
fn friedman_like(n: usize, d: usize, seed: u64) -> (Mat<f64>, Vec<f64>) {
    let mut rng = Seed(seed).rng();
    let normal = Normal::<f64>::new(0.0, 1.0).unwrap();
    let x = Mat::from_fn(n, d, |_, _| normal.sample(&mut rng));
    let y = (0..n)
        .map(|i| {
            let (a, b, c, e): (f64, f64, f64, f64) = (x[(i, 0)], x[(i, 1)], x[(i, 2)], x[(i, 3)]);
            (2.0 * a).sin() + 0.5 * b * b + if e > 0.0 { c } else { 0.0 } + 0.1 * normal.sample(&mut rng)
        })
        .collect();
    (x, y)
}

fn classes(y: &[f64]) -> Vec<f64> {
    let mut s = y.to_vec();
    s.sort_by(f64::total_cmp);
    let med = s[s.len() / 2];
    y.iter().map(|&v| if v > med { 1.0 } else { 0.0 }).collect()
}

#[test]
fn a_stump_target_is_fit_exactly() {
    let n = 200;
    let x = Mat::from_fn(n, 3, |i, j| ((i * (j + 7) + j) % 41) as f64);
    let y: Vec<f64> = (0..n).map(|i| if x[(i, 1)] > 20.0 { 3.5 } else { -1.25 }).collect();
    let p = HgbParams { max_iter: 1, learning_rate: 1.0, max_leaf_nodes: 2, ..HgbParams::default() };
    let m = p.fit(TrainSet::new(x.as_ref(), &y), Seed(0)).unwrap();
    let t = &m.ensemble.trees[0];
    assert_eq!((t.nodes.len(), t.nodes[0].feature), (1, 1));
    assert!(t.nodes[0].threshold > 20.0 && t.nodes[0].threshold < 21.0);
    let pred = m.predict(x.as_ref()).unwrap();
    for (a, b) in pred.iter().zip(&y) {
        assert!((a - b).abs() < 1e-12, "{a} vs {b}");
    }
}

#[test]
fn nan_rows_follow_the_learned_default_side() {
    // x0 NaN for a block of rows whose target resembles the high side of x0
    let n = 600;
    let x = Mat::from_fn(n, 1, |i, _| if i % 6 == 0 { f64::NAN } else { (i % 100) as f64 });
    let y: Vec<f64> = (0..n).map(|i| if i % 6 == 0 || i % 100 >= 50 { 10.0 } else { 0.0 }).collect();
    let p = HgbParams { max_iter: 1, learning_rate: 1.0, max_leaf_nodes: 2, ..HgbParams::default() };
    let m = p.fit(TrainSet::new(x.as_ref(), &y), Seed(0)).unwrap();
    let t = &m.ensemble.trees[0];
    assert!(!t.nodes[0].default_left, "NaN must go right, with the high values");
    assert!((m.predict_row(&[f64::NAN]).unwrap() - 10.0).abs() < 1e-12);
    assert!((m.predict_row(&[99.0]).unwrap() - 10.0).abs() < 1e-12);
    assert!(m.predict_row(&[3.0]).unwrap().abs() < 1e-12);
    // flipped: NaN rows resemble the low side and go left
    let y2: Vec<f64> = (0..n).map(|i| if i % 6 != 0 && i % 100 >= 50 { 10.0 } else { 0.0 }).collect();
    let m2 = p.fit(TrainSet::new(x.as_ref(), &y2), Seed(0)).unwrap();
    assert!(m2.ensemble.trees[0].nodes[0].default_left);
    assert!(m2.predict_row(&[f64::NAN]).unwrap().abs() < 1e-12);
    // a model trained without NaN still routes NaN somewhere (to the larger child)
    let x3 = Mat::from_fn(n, 1, |i, _| (i % 100) as f64);
    let m3 = p.fit(TrainSet::new(x3.as_ref(), &y), Seed(0)).unwrap();
    assert!(m3.predict_row(&[f64::NAN]).unwrap().is_finite());
}

#[test]
fn weight_two_equals_a_duplicated_row() {
    let (x, y) = friedman_like(300, 4, 3);
    let w: Vec<f64> = (0..300).map(|i| if i % 3 == 0 { 2.0 } else { 1.0 }).collect();
    let dup: Vec<usize> = (0..300).flat_map(|i| if i % 3 == 0 { vec![i, i] } else { vec![i] }).collect();
    let xd = Mat::from_fn(dup.len(), 4, |r, j| x[(dup[r], j)]);
    let yd: Vec<f64> = dup.iter().map(|&i| y[i]).collect();
    // min_samples_leaf counts rows, so it is set to 1 for the two fits to be comparable
    let p = HgbParams { max_iter: 20, min_samples_leaf: 1, max_leaf_nodes: 8, ..HgbParams::default() };
    let a = p.fit(TrainSet::weighted(x.as_ref(), &y, &w), Seed(5)).unwrap();
    let b = p.fit(TrainSet::new(xd.as_ref(), &yd), Seed(5)).unwrap();
    let (pa, pb) = (a.predict(x.as_ref()).unwrap(), b.predict(x.as_ref()).unwrap());
    for (u, v) in pa.iter().zip(&pb) {
        assert!((u - v).abs() < 1e-9, "{u} vs {v}");
    }
    let c = HgbcParams(p.clone());
    let t = classes(&y);
    let td: Vec<f64> = dup.iter().map(|&i| t[i]).collect();
    let a = c.fit(TrainSet::weighted(x.as_ref(), &t, &w), Seed(5)).unwrap();
    let b = c.fit(TrainSet::new(xd.as_ref(), &td), Seed(5)).unwrap();
    let (pa, pb) = (a.predict_proba(x.as_ref()).unwrap(), b.predict_proba(x.as_ref()).unwrap());
    for (u, v) in pa.iter().zip(&pb) {
        assert!((u - v).abs() < 1e-9, "{u} vs {v}");
    }
}

#[test]
fn training_loss_never_increases() {
    let (x, y) = friedman_like(2000, 6, 11);
    let m = HgbParams::default().fit(TrainSet::new(x.as_ref(), &y), Seed(1)).unwrap();
    let l = &m.ensemble.train_loss;
    assert_eq!(l.len(), 101);
    assert!(l.windows(2).all(|p| p[1] <= p[0]), "{l:?}");
    assert!(l[100] < 0.1 * l[0]);
    let t = classes(&y);
    let w: Vec<f64> = (0..2000).map(|i| 0.5 + (i % 4) as f64).collect();
    let m = HgbcParams::default().fit(TrainSet::weighted(x.as_ref(), &t, &w), Seed(1)).unwrap();
    let l = &m.ensemble.train_loss;
    assert!(l.windows(2).all(|p| p[1] <= p[0]), "{l:?}");
    assert!((l[0] - std::f64::consts::LN_2).abs() < 0.01);
}

/// 40,000 rows: large enough for the parallel paths (histograms, blocked partition, gathers).
#[test]
fn bit_identical_for_any_thread_count() {
    let (mut x, y) = friedman_like(40_000, 8, 21);
    for i in (0..40_000).step_by(13) {
        x[(i, 2)] = f64::NAN;
    }
    let p = HgbParams { max_iter: 15, subsample: 0.7, colsample: 0.6, early_stopping: true, ..HgbParams::default() };
    let run = |k: usize| {
        rayon::ThreadPoolBuilder::new().num_threads(k).build().unwrap().install(|| {
            let m = p.fit(TrainSet::new(x.as_ref(), &y), Seed(9)).unwrap();
            let pred = m.predict(x.as_ref()).unwrap();
            (
                persist::to_bytes(persist::Kind::Regressor, &m).unwrap(),
                pred.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            )
        })
    };
    let one = run(1);
    assert_eq!(one, run(2));
    assert_eq!(one, run(8));
    // and the seed matters when something is random
    let other = p.fit(TrainSet::new(x.as_ref(), &y), Seed(10)).unwrap();
    assert_ne!(persist::to_bytes(persist::Kind::Regressor, &other).unwrap(), one.0);
}

#[test]
fn single_row_batch_and_saved_model_agree() {
    let (x, y) = friedman_like(1500, 5, 2);
    let t = classes(&y);
    let m = HgbcParams::default().fit(TrainSet::new(x.as_ref(), &t), Seed(3)).unwrap();
    let p = m.predict_proba(x.as_ref()).unwrap();
    let bytes = persist::to_bytes(persist::Kind::Classifier, &m).unwrap();
    let back: HgbcModel = persist::from_bytes(&bytes, persist::Kind::Classifier).unwrap();
    assert_eq!(back, m);
    let mut row = vec![0.0; 5];
    for i in (0..1500).step_by(37) {
        for (j, r) in row.iter_mut().enumerate() {
            *r = x[(i, j)];
        }
        assert_eq!(back.predict_proba_row(&row).unwrap().to_bits(), p[i].to_bits());
    }
    assert!(m.predict_proba_row(&[0.0; 4]).is_err());
}

#[test]
fn early_stopping_stops_and_keeps_the_best_iteration() {
    // pure noise target: validation loss stalls quickly
    let mut rng = Seed(8).rng();
    let x = Mat::from_fn(3000, 4, |_, _| rng.random::<f64>());
    let y: Vec<f64> = (0..3000).map(|_| rng.random::<f64>()).collect();
    let p = HgbParams { max_iter: 200, early_stopping: true, n_iter_no_change: 5, ..HgbParams::default() };
    let m = p.fit(TrainSet::new(x.as_ref(), &y), Seed(1)).unwrap();
    let v = &m.ensemble.validation_loss;
    assert!(v.len() < 60, "ran {} iterations", v.len() - 1);
    let best = v.iter().enumerate().min_by(|a, b| a.1.total_cmp(b.1)).unwrap().0;
    assert_eq!(m.ensemble.n_iter, best);
    // every kept tree has at most max_leaf_nodes leaves and respects max_depth
    let p = HgbParams { max_iter: 5, max_depth: Some(2), ..HgbParams::default() };
    let m = p.fit(TrainSet::new(x.as_ref(), &y), Seed(1)).unwrap();
    assert!(m.ensemble.trees.iter().all(|t| t.depth() <= 2 && t.n_leaves() <= 4));
}

#[test]
fn bad_input_gives_clear_errors() {
    let (x, y) = friedman_like(100, 4, 4);
    let p = HgbParams::default();
    let mut xi = x.clone();
    xi[(7, 2)] = f64::INFINITY;
    assert!(matches!(p.fit(TrainSet::new(xi.as_ref(), &y), Seed(0)), Err(Error::NonFinite { row: 7, col: 2, .. })));
    // the same through a strided (row-major) view
    let mut xr = Mat::from_fn(4, 100, |j, i| x[(i, j)]);
    xr[(2, 7)] = f64::NEG_INFINITY;
    assert!(matches!(p.fit(TrainSet::new(xr.transpose(), &y), Seed(0)), Err(Error::NonFinite { row: 7, col: 2, .. })));
    let mut xn = x.clone();
    xn[(7, 2)] = f64::NAN;
    assert!(p.fit(TrainSet::new(xn.as_ref(), &y), Seed(0)).is_ok());
    let mut yn = y.clone();
    yn[3] = f64::NAN;
    assert!(matches!(p.fit(TrainSet::new(x.as_ref(), &yn), Seed(0)), Err(Error::NonFinite { row: 3, .. })));
    let mut w = vec![1.0; 100];
    w[5] = f64::NAN;
    assert!(matches!(p.fit(TrainSet::weighted(x.as_ref(), &y, &w), Seed(0)), Err(Error::NonFinite { row: 5, .. })));
    w[5] = -1.0;
    assert!(matches!(p.fit(TrainSet::weighted(x.as_ref(), &y, &w), Seed(0)), Err(Error::InvalidData { .. })));
    assert!(matches!(p.fit(TrainSet::new(x.as_ref(), &y[..50]), Seed(0)), Err(Error::Shape { .. })));
    let e = Mat::<f64>::zeros(0, 4);
    assert!(matches!(p.fit(TrainSet::new(e.as_ref(), &[]), Seed(0)), Err(Error::Empty { .. })));
    let bad = [
        HgbParams { max_bins: 256, ..HgbParams::default() },
        HgbParams { max_bins: 1, ..HgbParams::default() },
        HgbParams { learning_rate: 0.0, ..HgbParams::default() },
        HgbParams { learning_rate: f64::NAN, ..HgbParams::default() },
        HgbParams { max_leaf_nodes: 1, ..HgbParams::default() },
        HgbParams { max_iter: 0, ..HgbParams::default() },
        HgbParams { max_depth: Some(0), ..HgbParams::default() },
        HgbParams { min_samples_leaf: 0, ..HgbParams::default() },
        HgbParams { l2_regularization: -1.0, ..HgbParams::default() },
        HgbParams { subsample: 0.0, ..HgbParams::default() },
        HgbParams { colsample: 1.5, ..HgbParams::default() },
        HgbParams { validation_fraction: 1.0, ..HgbParams::default() },
        HgbParams { n_iter_no_change: 0, ..HgbParams::default() },
        HgbParams { tol: -1.0, ..HgbParams::default() },
    ];
    for b in bad {
        match b.fit(TrainSet::new(x.as_ref(), &y), Seed(0)) {
            Err(Error::InvalidParam { owner, .. }) => assert_eq!(owner, "hgb"),
            other => panic!("{b:?} gave {other:?}"),
        }
    }
    let mut q = HgbcParams::default();
    assert!(q.set_param("max_bins", "300").is_ok() && q.validate().is_err());
    assert!(matches!(q.set_param("nope", "1"), Err(Error::InvalidParam { .. })));
    assert!(matches!(q.set_param("max_iter", "-3"), Err(Error::InvalidParam { .. })));
    let one = vec![1.0; 100];
    assert!(matches!(
        HgbcParams::default().fit(TrainSet::new(x.as_ref(), &one), Seed(0)),
        Err(Error::InvalidData { .. })
    ));
    let tiny = HgbParams { early_stopping: true, validation_fraction: 0.5, ..HgbParams::default() };
    let x1 = Mat::from_fn(1, 4, |_, j| j as f64);
    assert!(matches!(tiny.fit(TrainSet::new(x1.as_ref(), &[1.0]), Seed(0)), Err(Error::InvalidData { .. })));
    let m = p.fit(TrainSet::new(x.as_ref(), &y), Seed(0)).unwrap();
    assert!(matches!(m.predict(Mat::<f64>::zeros(2, 5).as_ref()), Err(Error::Shape { .. })));
}

#[test]
fn recovers_a_nonlinear_signal() {
    let (x, y) = friedman_like(4000, 6, 5);
    let (xt, yt) = friedman_like(2000, 6, 6);
    let m = HgbParams::default().fit(TrainSet::new(x.as_ref(), &y), Seed(0)).unwrap();
    let pred = m.predict(xt.as_ref()).unwrap();
    let mean = yt.iter().sum::<f64>() / yt.len() as f64;
    let ss_res: f64 = yt.iter().zip(&pred).map(|(a, b)| (a - b) * (a - b)).sum();
    let ss_tot: f64 = yt.iter().map(|a| (a - mean) * (a - mean)).sum();
    let r2 = 1.0 - ss_res / ss_tot;
    // noise variance 0.01 against a signal variance near 1.5: a good fit is well above 0.9
    assert!(r2 > 0.9, "test R^2 {r2}");
}
