//! Unit tests of the forest: exact fits, weights, probabilities, OOB, determinism, bad input.

use faer::Mat;
use rand::RngExt;
use rand_distr::{Distribution, Normal};

use super::*;
use crate::error::Error;
use crate::learn::Predict;
use crate::persist;

fn reg(n_estimators: usize) -> RandomForestRegressorParams {
    RandomForestRegressorParams { n_estimators, ..Default::default() }
}

fn cls(n_estimators: usize) -> RandomForestClassifierParams {
    RandomForestClassifierParams { n_estimators, ..Default::default() }
}

fn exact(n_estimators: usize) -> RandomForestRegressorParams {
    RandomForestRegressorParams { bootstrap: false, ..reg(n_estimators) }
}

/// `n x d` uniform features and `y = f(x) + noise`.
fn simulate(n: usize, d: usize, noise: f64, seed: u64, f: impl Fn(&[f64]) -> f64) -> (Mat<f64>, Vec<f64>) {
    let mut rng = Seed(seed).rng();
    let x = Mat::from_fn(n, d, |_, _| rng.random::<f64>());
    let normal = Normal::new(0.0, noise.max(1e-300)).unwrap();
    let y = (0..n)
        .map(|i| {
            let row: Vec<f64> = (0..d).map(|j| x[(i, j)]).collect();
            f(&row) + if noise > 0.0 { normal.sample(&mut rng) } else { 0.0 }
        })
        .collect();
    (x, y)
}

fn r2(y: &[f64], p: &[f64]) -> f64 {
    let m = y.iter().sum::<f64>() / y.len() as f64;
    let tot: f64 = y.iter().map(|v| (v - m).powi(2)).sum();
    let res: f64 = y.iter().zip(p).map(|(v, q)| (v - q).powi(2)).sum();
    1.0 - res / tot
}

#[test]
fn step_function_is_fit_exactly() {
    let (x, _) = simulate(300, 3, 0.0, 1, |_| 0.0);
    let step = |r: &[f64]| if r[1] > 0.5 { 3.0 } else { -1.0 };
    let y: Vec<f64> = (0..300).map(|i| step(&[x[(i, 0)], x[(i, 1)], x[(i, 2)]])).collect();
    // without bootstrap every tree is exact on the training rows
    let m = exact(5).fit(TrainSet::new(x.as_ref(), &y), Seed(3)).unwrap();
    assert_eq!(m.predict(x.as_ref()).unwrap(), y);
    // with bootstrap, points away from the step are exact too, and a single split suffices
    let p = reg(20);
    let m = p.fit(TrainSet::new(x.as_ref(), &y), Seed(3)).unwrap();
    for v in [0.0, 0.2, 0.4, 0.45, 0.55, 0.7, 1.0] {
        let want = if v > 0.5 { 3.0 } else { -1.0 };
        assert_eq!(m.predict_row(&[0.3, v, 0.9]).unwrap(), want, "x1 = {v}");
    }
    assert!(m.forest.trees().iter().all(|t| t.n_leaves() == 2));
    let imp = m.forest.feature_importances();
    assert_eq!(imp, &[0.0, 1.0, 0.0]);
}

#[test]
fn weight_two_equals_a_duplicated_row() {
    let (x, y) = simulate(60, 2, 0.3, 2, |r| r[0] * 2.0 - r[1]);
    let mut w = vec![1.0; 60];
    let dup: Vec<usize> = (0..60).filter(|i| i % 3 == 0).collect();
    for &i in &dup {
        w[i] = 2.0;
    }
    let rows: Vec<usize> = (0..60).chain(dup.iter().copied()).collect();
    let xd = Mat::from_fn(rows.len(), 2, |i, j| x[(rows[i], j)]);
    let yd: Vec<f64> = rows.iter().map(|&i| y[i]).collect();
    let p = exact(3);
    let a = p.fit(TrainSet::weighted(x.as_ref(), &y, &w), Seed(9)).unwrap();
    let b = p.fit(TrainSet::new(xd.as_ref(), &yd), Seed(9)).unwrap();
    let (ta, tb) = (&a.forest.trees()[0], &b.forest.trees()[0]);
    assert_eq!(ta.nodes, tb.nodes);
    for (u, v) in ta.value.iter().zip(&tb.value) {
        assert!((u - v).abs() <= 1e-12 * u.abs().max(1.0), "{u} vs {v}");
    }
}

#[test]
fn tiny_weights_are_honoured_exactly() {
    // R-learner-like weights: most rows 1e-4, a few 1. One feature, one split (depth 1).
    let n = 200;
    let x = Mat::from_fn(n, 1, |i, _| i as f64);
    let y: Vec<f64> = (0..n).map(|i| if i % 20 == 0 { 10.0 + (i / 100) as f64 } else { (i % 7) as f64 }).collect();
    let w: Vec<f64> = (0..n).map(|i| if i % 20 == 0 { 1.0 } else { 1e-4 }).collect();
    let mut p = exact(1);
    p.max_depth = Some(1);
    let m = p.fit(TrainSet::weighted(x.as_ref(), &y, &w), Seed(0)).unwrap();
    let t = &m.forest.trees()[0];
    let (_, thr, l, r) = t.split(0).unwrap();
    for (node, side) in [(l, true), (r, false)] {
        let (mut sw, mut swy) = (0.0, 0.0);
        for i in (0..n).filter(|&i| ((i as f64) <= thr) == side) {
            sw += w[i];
            swy += w[i] * y[i];
        }
        assert!((t.value[node] - swy / sw).abs() < 1e-12, "leaf {node}");
    }
    // the split separates the two heavy groups (10 vs 11), which unweighted rows would not
    assert!(thr > 80.0 && thr < 100.0, "threshold {thr}");
    let unweighted = p.fit(TrainSet::new(x.as_ref(), &y), Seed(0)).unwrap();
    assert_ne!(unweighted.forest.trees()[0].split(0).unwrap().1, thr);
}

#[test]
fn probabilities_are_class_frequencies_on_pure_leaves() {
    // x takes 4 values; class-1 frequency at value k is freq[k]; rows with equal x cannot be
    // separated, so each leaf holds exactly one value of x.
    let freq = [0.0, 0.25, 0.6, 1.0];
    let per = 20;
    let x = Mat::from_fn(4 * per, 1, |i, _| (i / per) as f64);
    let y: Vec<f64> = (0..4 * per).map(|i| f64::from(((i % per) as f64) < freq[i / per] * per as f64)).collect();
    let mut p = cls(4);
    p.bootstrap = false;

    let m = p.fit(TrainSet::new(x.as_ref(), &y), Seed(5)).unwrap();
    for (k, &f) in freq.iter().enumerate() {
        let q = m.predict_proba_row(&[k as f64]).unwrap();
        assert!((q - f).abs() < 1e-12, "x = {k}: {q} vs {f}");
    }
    // with bootstrap, probabilities stay in [0, 1]
    p.bootstrap = true;
    let (xs, ys) = simulate(300, 4, 0.0, 8, |r| f64::from(r[0] + 0.3 * r[1] > 0.6));
    let m = p.fit(TrainSet::new(xs.as_ref(), &ys), Seed(5)).unwrap();
    let probs = m.predict_proba(xs.as_ref()).unwrap();
    assert!(probs.iter().all(|q| (0.0..=1.0).contains(q)));
    assert!(probs.iter().any(|&q| q > 0.0 && q < 1.0));
}

#[test]
fn oob_score_tracks_a_held_out_score() {
    let f = |r: &[f64]| 3.0 * r[0] + 2.0 * (6.0 * r[1]).sin() + r[2] * r[3];
    let (x, y) = simulate(1500, 5, 0.5, 11, f);
    let (xt, yt) = simulate(3000, 5, 0.5, 12, f);
    let mut p = reg(60);
    p.oob_score = true;
    let m = p.fit(TrainSet::new(x.as_ref(), &y), Seed(1)).unwrap();
    let oob = m.forest.oob_score().unwrap();
    let held = r2(&yt, &m.predict(xt.as_ref()).unwrap());
    assert!(held > 0.5, "held-out R^2 {held}");
    assert!((oob - held).abs() < 0.05, "oob {oob} vs held-out {held}");
    let pred = m.forest.oob_prediction().unwrap();
    assert!((r2(&y, pred) - oob).abs() < 1e-12);

    let g = |r: &[f64]| f64::from(r[0] + r[1] > 1.0);
    let (x, t) = simulate(1500, 4, 0.0, 13, g);
    let (xt, tt) = simulate(3000, 4, 0.0, 14, g);
    let mut c = cls(60);
    c.oob_score = true;
    let m = c.fit(TrainSet::new(x.as_ref(), &t), Seed(1)).unwrap();
    let acc = |y: &[f64], p: &[f64]| y.iter().zip(p).filter(|&(&a, &b)| (b > 0.5) == (a == 1.0)).count() as f64;
    let held = acc(&tt, &m.predict_proba(xt.as_ref()).unwrap()) / 3000.0;
    let oob = m.forest.oob_score().unwrap();
    assert!(held > 0.9 && (oob - held).abs() < 0.03, "oob {oob} vs held-out {held}");
}

#[test]
fn bit_identical_for_any_thread_count() {
    let (x, y) = simulate(5000, 6, 0.3, 21, |r| r[0] + r[1] * r[2]);
    let mut p = reg(16);
    p.max_features = MaxFeatures::Sqrt;
    p.oob_score = true;
    let run = |k: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(k).build().unwrap();
        pool.install(|| {
            let m = p.fit(TrainSet::new(x.as_ref(), &y), Seed(77)).unwrap();
            let pred = m.predict(x.as_ref()).unwrap();
            (persist::to_bytes(persist::Kind::Regressor, &m).unwrap(), pred)
        })
    };
    let (b1, p1) = run(1);
    for k in [2, 8] {
        let (bk, pk) = run(k);
        assert!(b1 == bk, "model bytes differ with {k} threads");
        assert!(p1.iter().zip(&pk).all(|(a, b)| a.to_bits() == b.to_bits()));
    }
    // the binned search too (bins are computed in parallel over features)
    let mut pb = p.clone();
    pb.split = SplitSearch::Binned;
    pb.max_bins = 40;
    let fit_bytes = |k: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(k).build().unwrap();
        pool.install(|| {
            persist::to_bytes(persist::Kind::Regressor, &pb.fit(TrainSet::new(x.as_ref(), &y), Seed(77)).unwrap())
        })
    };
    let bb1 = fit_bytes(1).unwrap();
    assert!(bb1 != b1, "40 bins on continuous features must change some split");
    for k in [2, 8] {
        assert!(fit_bytes(k).unwrap() == bb1, "binned model bytes differ with {k} threads");
    }
    // the single-row path (trees walked in lock-step) gives the batch path's bits
    let m = p.fit(TrainSet::new(x.as_ref(), &y), Seed(77)).unwrap();
    for i in (0..5000).step_by(7) {
        let row: Vec<f64> = (0..6).map(|j| x[(i, j)]).collect();
        assert_eq!(m.predict_row(&row).unwrap().to_bits(), p1[i].to_bits(), "row {i}");
    }
    // a different seed gives a different forest
    let other = p.fit(TrainSet::new(x.as_ref(), &y), Seed(78)).unwrap();
    assert!(persist::to_bytes(persist::Kind::Regressor, &other).unwrap() != b1);
}

#[test]
fn batch_prediction_is_the_mean_of_plain_walks_for_every_layout() {
    // 600 features: blocks of 512 rows, so 1,203 rows span three blocks, the last with a
    // partial group of lanes; the batch path (row-major copies, fixed-step lane walks, tree
    // prefetch) must give the bits of walking each tree separately and averaging in tree order.
    let d = 600;
    assert_eq!(super::fit::block_rows(d), 512);
    let (x, y) = simulate(1203, d, 0.1, 5, |r| r[0] - 2.0 * r[1] + r[2] * r[3]);
    let mut p = reg(12);
    p.max_features = MaxFeatures::Count(40);
    let m = p.fit(TrainSet::new(x.as_ref(), &y), Seed(3)).unwrap();
    let plain = |row: &[f64]| {
        let trees = m.forest.trees();
        trees.iter().fold(0.0, |s, t| s + t.predict_slice(row)) / trees.len() as f64
    };
    let want: Vec<f64> = (0..x.nrows()).map(|i| plain(&(0..d).map(|j| x[(i, j)]).collect::<Vec<_>>())).collect();
    let bits = |v: &[f64]| v.iter().map(|p| p.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&m.predict(x.as_ref()).unwrap()), bits(&want), "column-major input");
    let xt = x.transpose().to_owned();
    assert_eq!(bits(&m.predict(xt.transpose()).unwrap()), bits(&want), "row-major input");
    let sub = x.as_ref().subrows(100, 700);
    assert_eq!(bits(&m.predict(sub).unwrap()), bits(&want[100..800]), "a row range");
    let mut one = [0.0];
    m.predict_into(x.as_ref().subrows(7, 1), &mut one).unwrap();
    assert_eq!(one[0].to_bits(), want[7].to_bits(), "one row through the batch path");
}

#[test]
fn leaf_rules_hold() {
    let (x, y) = simulate(400, 3, 1.0, 31, |r| r[0]);
    let mut p = exact(1);
    p.min_samples_leaf = 7;
    p.max_depth = Some(5);
    let m = p.fit(TrainSet::new(x.as_ref(), &y), Seed(2)).unwrap();
    let t = &m.forest.trees()[0];
    let mut count = vec![0usize; t.n_nodes()];
    for i in 0..400 {
        count[t.leaf_of(|f| x[(i, f)])] += 1;
    }
    for (node, &c) in count.iter().enumerate() {
        if t.is_leaf(node) {
            assert!(c >= 7, "leaf {node} has {c} rows");
        }
    }
    assert!(t.depth() <= 5 && t.n_leaves() > 8);
    // a large min_impurity_decrease stops at the root
    p.min_impurity_decrease = 1e6;
    assert_eq!(p.fit(TrainSet::new(x.as_ref(), &y), Seed(2)).unwrap().forest.trees()[0].n_nodes(), 1);
}

#[test]
fn importances_find_the_signal_and_models_round_trip() {
    let (x, y) = simulate(800, 5, 0.1, 41, |r| 4.0 * r[3]);
    let p = reg(10);
    let m = p.fit(TrainSet::new(x.as_ref(), &y), Seed(4)).unwrap();
    let imp = m.forest.feature_importances();
    assert!((imp.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    assert!(imp[3] > 0.9, "{imp:?}");
    let bytes = persist::to_bytes(persist::Kind::Regressor, &m).unwrap();
    let back: RandomForestRegressorModel = persist::from_bytes(&bytes, persist::Kind::Regressor).unwrap();
    assert_eq!(back, m);
    // a spec-registered forest predicts the same and rejects bad rows
    let spec = crate::learn::RegressorSpec::from_name("rf").unwrap();
    assert_eq!(spec.name(), "rf");
    assert!(matches!(m.predict_row(&[0.0; 4]), Err(Error::Shape { .. })));
    assert!(matches!(m.predict_row(&[0.0, f64::NAN, 0.0, 0.0, 0.0]), Err(Error::NonFinite { .. })));
}

#[test]
fn bad_input_gives_errors_not_panics() {
    let (x, y) = simulate(20, 2, 0.1, 51, |r| r[0]);
    let rf = RandomForestRegressorParams::default();
    let fit = |p: &RandomForestRegressorParams, x: &Mat<f64>, y: &[f64], w: Option<&[f64]>| {
        p.fit(TrainSet { x: x.as_ref(), y, weights: w }, Seed(0)).map(|_| ())
    };
    let mut xn = x.clone();
    xn[(3, 1)] = f64::NAN;
    assert!(matches!(fit(&rf, &xn, &y, None), Err(Error::NonFinite { row: 3, col: 1, .. })));
    xn[(3, 1)] = f64::INFINITY;
    assert!(matches!(fit(&rf, &xn, &y, None), Err(Error::NonFinite { .. })));
    let mut w = vec![1.0; 20];
    w[4] = -1.0;
    assert!(matches!(fit(&rf, &x, &y, Some(&w)), Err(Error::InvalidData { .. })));
    w[4] = f64::NAN;
    assert!(matches!(fit(&rf, &x, &y, Some(&w)), Err(Error::NonFinite { .. })));
    assert!(matches!(fit(&rf, &x, &y, Some(&[0.0; 20])), Err(Error::InvalidData { .. })));
    // a single zero weight is allowed: the row is absent
    w[4] = 0.0;
    assert!(fit(&rf, &x, &y, Some(&w)).is_ok());
    let empty = Mat::<f64>::zeros(0, 2);
    assert!(matches!(fit(&rf, &empty, &[], None), Err(Error::Empty { .. })));
    for (name, value) in [("n_estimators", "0"), ("max_depth", "0"), ("min_samples_leaf", "0")] {
        let mut p = rf.clone();
        p.set_param(name, value).unwrap();
        match fit(&p, &x, &y, None) {
            Err(Error::InvalidParam { name: n, .. }) => assert_eq!(n, name),
            other => panic!("{name}: {other:?}"),
        }
    }
    let one = vec![1.0; 20];
    let c = RandomForestClassifierParams::default();
    assert!(matches!(c.fit(TrainSet::new(x.as_ref(), &one), Seed(0)), Err(Error::InvalidData { .. })));
    let mut p = rf.clone();
    p.max_samples = MaxSamples::Count(21);
    assert!(matches!(fit(&p, &x, &y, None), Err(Error::InvalidParam { .. })));
    // a damaged model file is refused on load, not at prediction
    let m = rf.fit(TrainSet::new(x.as_ref(), &y), Seed(0)).unwrap();
    let mut bad = m.clone();
    let mut t = bad.forest.trees()[0].clone();
    t.nodes[0].left = 10_000;
    let mut trees = bad.forest.trees().to_vec();
    trees[0] = t;
    bad.forest = Forest::from_parts(trees, m.forest.n_features());
    let bytes = persist::to_bytes(persist::Kind::Regressor, &bad).unwrap();
    assert!(persist::from_bytes::<RandomForestRegressorModel>(&bytes, persist::Kind::Regressor).is_err());
}

#[test]
fn a_zero_weight_row_is_the_same_as_an_absent_row() {
    let (x, y) = simulate(120, 3, 0.4, 61, |r| r[0] - 2.0 * r[2] * r[1]);
    let dropped: Vec<usize> = (0..120).filter(|i| i % 4 == 1).collect();
    let w: Vec<f64> = (0..120).map(|i| if dropped.contains(&i) { 0.0 } else { 1.0 + (i % 3) as f64 }).collect();
    let kept: Vec<usize> = (0..120).filter(|i| !dropped.contains(i)).collect();
    let xk = Mat::from_fn(kept.len(), 3, |i, j| x[(kept[i], j)]);
    let yk: Vec<f64> = kept.iter().map(|&i| y[i]).collect();
    let wk: Vec<f64> = kept.iter().map(|&i| w[i]).collect();
    let mut p = exact(3);
    p.max_features = MaxFeatures::Count(2);
    let a = p.fit(TrainSet::weighted(x.as_ref(), &y, &w), Seed(8)).unwrap();
    let b = p.fit(TrainSet::weighted(xk.as_ref(), &yk, &wk), Seed(8)).unwrap();
    // same splits, thresholds and leaf values, bit for bit
    assert_eq!(a.forest.trees(), b.forest.trees());
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(40))]
    #[test]
    fn predictions_are_weighted_means_within_the_target_range(
        seed in 0u64..1000,
        n in 2usize..60,
        depth in 1usize..6,
        bootstrap in proptest::bool::ANY,
    ) {
        let mut rng = Seed(seed).rng();
        let x = Mat::from_fn(n, 2, |_, _| (rng.random::<f64>() * 8.0).floor());
        let y: Vec<f64> = (0..n).map(|_| rng.random::<f64>() * 10.0 - 5.0).collect();
        let w: Vec<f64> = (0..n).map(|_| if rng.random::<f64>() < 0.2 { 1e-4 } else { rng.random::<f64>() }).collect();
        let mut p = reg(5);
        p.max_depth = Some(depth);
        p.bootstrap = bootstrap;
        let m = p.fit(TrainSet::weighted(x.as_ref(), &y, &w), Seed(seed)).unwrap();
        let (lo, hi) = y.iter().fold((f64::MAX, f64::MIN), |(a, b), &v| (a.min(v), b.max(v)));
        for t in m.forest.trees() {
            proptest::prop_assert!(t.depth() <= depth);
            proptest::prop_assert!(t.value.iter().all(|v| *v >= lo - 1e-9 && *v <= hi + 1e-9));
        }
        let pred = m.predict(x.as_ref()).unwrap();
        proptest::prop_assert!(pred.iter().all(|v| *v >= lo - 1e-9 && *v <= hi + 1e-9));
    }
}

/// Integer features (`levels` distinct values) and an integer target, so every weighted sum is
/// exact in f64 and two searches over the same candidates must choose the same splits.
fn integer_data(n: usize, d: usize, levels: u64, seed: u64) -> (Mat<f64>, Vec<f64>) {
    let mut rng = Seed(seed).rng();
    let x = Mat::from_fn(n, d, |_, _| rng.random_range(0..levels) as f64);
    let y = (0..n).map(|i| ((x[(i, 0)] + 2.0 * x[(i, 1)]) as u64 % 5 + rng.random_range(0..2u64)) as f64).collect();
    (x, y)
}

#[test]
fn binned_search_with_a_bin_per_value_grows_the_exact_trees() {
    // 3,000 rows (nodes of >= BINNED_MIN_ROWS rows use the histograms), 60 distinct values per
    // feature (<= max_bins: one bin per value), ties everywhere, bootstrap counts > 1
    let (x, y) = integer_data(3000, 5, 60, 31);
    for max_features in [MaxFeatures::All, MaxFeatures::Count(2)] {
        let exact = RandomForestRegressorParams { n_estimators: 6, max_features, min_samples_leaf: 3, ..reg(6) };
        let binned = RandomForestRegressorParams { split: SplitSearch::Binned, max_bins: 60, ..exact.clone() };
        let a = exact.fit(TrainSet::new(x.as_ref(), &y), Seed(5)).unwrap();
        let b = binned.fit(TrainSet::new(x.as_ref(), &y), Seed(5)).unwrap();
        assert!(a.forest.trees()[0].n_nodes() > 50);
        assert_eq!(a.forest.trees(), b.forest.trees(), "{max_features:?}");
        assert_eq!(a.forest.feature_importances(), b.forest.feature_importances());
    }
    let t: Vec<f64> = y.iter().map(|v| f64::from(*v >= 3.0)).collect();
    let exact = cls(4);
    let binned = RandomForestClassifierParams { split: SplitSearch::Binned, ..cls(4) };
    let a = exact.fit(TrainSet::new(x.as_ref(), &t), Seed(6)).unwrap();
    let b = binned.fit(TrainSet::new(x.as_ref(), &t), Seed(6)).unwrap();
    assert_eq!(a.forest.trees(), b.forest.trees());
}

#[test]
fn binned_search_splits_at_bin_edges_and_keeps_the_exact_search_below_its_node_size() {
    let (x, y) = simulate(4000, 3, 0.1, 41, |r| (6.0 * r[0]).sin() + r[1]);
    let p = RandomForestRegressorParams { split: SplitSearch::Binned, max_bins: 8, ..reg(5) };
    let m = p.fit(TrainSet::new(x.as_ref(), &y), Seed(2)).unwrap();
    let ranks = ranks::Ranks::new(x.as_ref());
    let bins = bins::Bins::new(&ranks, 8);
    // thresholds of the root (4000 x 0.63 distinct rows) lie between two bins' edge values
    for t in m.forest.trees() {
        let (f, thr, _, _) = t.split(0).unwrap();
        let v = &ranks.values[f];
        let edge = (0..bins.hi[f].len() - 1).any(|b| {
            let (lo, hi) = (v[bins.hi[f][b] as usize], v[bins.lo[f][b + 1] as usize]);
            lo <= thr && thr < hi
        });
        assert!(edge, "root threshold {thr} on feature {f} is not between two bins");
    }
    // small nodes search exactly: many more distinct thresholds than 8 bins x 3 features
    let mut thr: Vec<u64> =
        m.forest.trees()[0].nodes.iter().filter(|n| n.threshold.is_finite()).map(|n| n.threshold.to_bits()).collect();
    thr.sort_unstable();
    thr.dedup();
    assert!(thr.len() > 100, "{} distinct thresholds", thr.len());
    // and the fit is about as good as the exact search's
    let (xt, yt) = simulate(2000, 3, 0.0, 42, |r| (6.0 * r[0]).sin() + r[1]);
    let e = reg(5).fit(TrainSet::new(x.as_ref(), &y), Seed(2)).unwrap();
    let (rb, re) = (r2(&yt, &m.predict(xt.as_ref()).unwrap()), r2(&yt, &e.predict(xt.as_ref()).unwrap()));
    assert!(rb > 0.97 && (rb - re).abs() < 0.01, "binned R^2 {rb} vs exact {re}");
}
