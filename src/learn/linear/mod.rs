//! Linear learners — ridge regression and L2-penalised logistic regression — and the
//! prediction and input-check helpers only they use.
//!
//! Both learners reduce to weighted Gram matrices of (shifted) feature columns,
//!
//! ```text
//! G = Z' Z,   Z[i, j] = sqrt(a_i) * (x_ij - m_j),
//! ```
//!
//! with `a_i` the sample weights (ridge) or the IRLS weights `w_i p_i (1 - p_i)` (logistic), and
//! `m` the weighted column means (ridge with an intercept) or zero, computed by
//! [`crate::linalg::gram::gram`] for the feature columns plus the target (ridge) or a column of
//! ones (the logistic intercept) in one pass over the data, with a summation order fixed by the
//! shape (so bit-identical for any thread count; see that module).
//!
//! A fitted model predicts `intercept + x . coef` ([`linear_predict_into`], row blocks in
//! parallel; [`linear_predict_row`] for one query).
//!
//! # Layouts
//! Fits and predictions give the same bits on a row-major view (a C-order numpy array) as on
//! the same values in column-major order: every pass over the data goes through the kernels of
//! [`crate::linalg`], which keep one summation order per layout, and the prediction sums each
//! row's terms in column order either way.

pub mod logistic;
pub mod ridge;

use faer::MatRef;

use crate::check::all_finite;
use crate::error::Result;
use crate::learn::{TrainSet, check};

pub use logistic::{LogisticFitInfo, LogisticModel, LogisticParams};
pub use ridge::{RidgeModel, RidgeParams, RidgeSolver};

/// [`check::train_set`] without its scan of the features ([`check::train_set_but_features`]:
/// shapes, targets, weights; a matrix without rows or columns is still refused). For learners
/// that detect a non-finite feature on their own first pass and then call [`check::train_set`]
/// for the exact error. (No feature is read here: on a row-major view even one column is a
/// strided walk through the whole matrix.)
///
/// # Errors
/// As [`check::train_set`].
pub fn check_all_but_features(data: &TrainSet<'_>) -> Result<()> {
    check::train_set_but_features(data)
}

/// [`check::train_set`] with a fast parallel scan of the features first.
///
/// # Errors
/// As [`check::train_set`].
pub fn check_train_set(data: &TrainSet<'_>) -> Result<()> {
    if all_finite(data.x) { check_all_but_features(data) } else { check::train_set(data) }
}

/// `out_i = intercept + x_i . coef` for every row, row blocks in parallel, allocation-free.
/// Each row sums `intercept + c_0 x_i0 + c_1 x_i1 + ...` left to right, skipping zero
/// coefficients, whatever the layout of `x` (column-major: one column at a time over the block;
/// row-major: eight rows side by side). Shapes are checked by the caller.
pub fn linear_predict_into(x: MatRef<'_, f64>, coef: &[f64], intercept: f64, out: &mut [f64]) {
    if let Some(rows) = crate::linalg::row_major(x) {
        let d = coef.len();
        crate::par::for_each_row_block(out, |r0, block| {
            let mut chunks = block.chunks_exact_mut(8);
            let mut i = r0;
            for chunk in &mut chunks {
                let r: [&[f64]; 8] = std::array::from_fn(|k| &rows.row(i + k).as_slice()[..d]);
                let mut acc = [intercept; 8];
                for (j, &c) in coef.iter().enumerate() {
                    if c == 0.0 {
                        continue;
                    }
                    for k in 0..8 {
                        acc[k] += c * r[k][j];
                    }
                }
                chunk.copy_from_slice(&acc);
                i += 8;
            }
            for o in chunks.into_remainder() {
                let r = &rows.row(i).as_slice()[..d];
                *o = coef.iter().zip(r).fold(intercept, |acc, (&c, &v)| if c == 0.0 { acc } else { acc + c * v });
                i += 1;
            }
        });
        return;
    }
    crate::par::for_each_row_block(out, |r0, block| {
        block.fill(intercept);
        let b = block.len();
        for (j, &c) in coef.iter().enumerate() {
            if c == 0.0 {
                continue;
            }
            let col = x.col(j).subrows(r0, b);
            match col.try_as_col_major() {
                Some(s) => {
                    for (o, &v) in block.iter_mut().zip(s.as_slice()) {
                        *o += c * v;
                    }
                }
                None => {
                    for (i, o) in block.iter_mut().enumerate() {
                        *o += c * col[i];
                    }
                }
            }
        }
    });
}

/// `intercept + row . coef` for one query, after checking the row's length.
///
/// # Errors
/// [`crate::Error::Shape`] when `row` and `coef` differ in length.
#[inline]
pub fn linear_predict_row(row: &[f64], coef: &[f64], intercept: f64) -> crate::Result<f64> {
    if row.len() != coef.len() {
        return Err(crate::Error::shape("feature columns at prediction vs training", coef.len(), row.len()));
    }
    Ok(row.iter().zip(coef).fold(intercept, |acc, (&a, &b)| acc + a * b))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use faer::Mat;

    #[test]
    fn predict_matches_row_formula() {
        let x = Mat::from_fn(5000, 3, |i, j| (i + j) as f64 * 0.001);
        let coef = [1.0, -2.0, 0.5];
        let mut out = vec![0.0; 5000];
        linear_predict_into(x.as_ref(), &coef, 3.0, &mut out);
        for i in [0, 4095, 4096, 4999] {
            let row = [x[(i, 0)], x[(i, 1)], x[(i, 2)]];
            assert!((out[i] - linear_predict_row(&row, &coef, 3.0).unwrap()).abs() < 1e-12);
        }
    }

    /// `x`'s values in a C-order buffer whose rows start `pad >= d` apart (as numpy holds a
    /// C-order array, or columns sliced out of a wider one), the gaps filled with NaN so that a
    /// kernel reading outside the view would show.
    pub(crate) fn c_order(x: MatRef<'_, f64>, pad: usize) -> Vec<f64> {
        let (n, d) = x.shape();
        let mut v = vec![f64::NAN; n * pad];
        for i in 0..n {
            for j in 0..d {
                v[i * pad + j] = x[(i, j)];
            }
        }
        v
    }

    pub(crate) fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    /// Random features, a linear target with noise, positive weights and a 0/1 target.
    fn problem(n: usize, d: usize) -> (Mat<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
        use rand::RngExt;
        let mut rng = crate::Seed(5).rng();
        let x = Mat::from_fn(n, d, |_, j| (rng.random::<f64>() - 0.5) * (1.0 + j as f64) + 0.1 * j as f64);
        let mut y = vec![0.0; n];
        let mut t = vec![0.0; n];
        for i in 0..n {
            let s: f64 = (0..d).map(|j| x[(i, j)] * (j as f64 - 1.5) / (1.0 + j as f64)).sum();
            y[i] = s + rng.random::<f64>() - 0.5;
            t[i] = f64::from(rng.random::<f64>() < crate::linalg::stats::sigmoid(s));
        }
        let w = (0..n).map(|i| 0.25 + (i % 7) as f64 * 0.5).collect();
        (x, y, w, t)
    }

    /// Every ridge solver (primal Cholesky, dual, SVD fallback, the leave-one-out alpha grid) and
    /// the logistic regression fit and predict the same bits on a row-major view of the values
    /// as on the column-major matrix, with 1, 2 and 8 threads, at sizes that cross the Gram
    /// kernel's chunks and are not a multiple of 4.
    #[test]
    fn row_major_views_fit_and_predict_the_same_bits() {
        use crate::Seed;
        use crate::learn::{Classifier, Predict, PredictProba, Regressor};
        use crate::linalg::gram::GRAM_CHUNK;
        let n = 2 * GRAM_CHUNK + 777;
        let (x6, y, w, t) = problem(n, 6);
        // a seventh column equal to the sum of the first two: alpha 0 falls back to the SVD
        let xc = Mat::from_fn(n, 7, |i, j| if j < 6 { x6[(i, j)] } else { x6[(i, 0)] + x6[(i, 1)] });
        let (xw, yw, ww, _) = problem(9, 20);
        type RidgeCase<'a> = (RidgeParams, &'a Mat<f64>, &'a [f64], Option<&'a [f64]>, RidgeSolver);
        let ridge_cases: Vec<RidgeCase<'_>> = vec![
            (RidgeParams::default(), &x6, &y, None, RidgeSolver::Cholesky),
            (RidgeParams { alpha: 0.3, ..Default::default() }, &x6, &y, Some(&w), RidgeSolver::Cholesky),
            (RidgeParams { fit_intercept: false, ..Default::default() }, &x6, &y, Some(&w), RidgeSolver::Cholesky),
            (
                RidgeParams { alphas: Some(vec![0.01, 1.0, 100.0]), ..Default::default() },
                &x6,
                &y,
                Some(&w),
                RidgeSolver::Cholesky,
            ),
            (RidgeParams { alpha: 0.0, ..Default::default() }, &xc, &y, Some(&w), RidgeSolver::Svd),
            (RidgeParams::default(), &xw, &yw, Some(&ww), RidgeSolver::Dual),
            (RidgeParams { alphas: Some(vec![0.1, 10.0]), ..Default::default() }, &xw, &yw, None, RidgeSolver::Dual),
        ];
        let logit = [LogisticParams::default(), LogisticParams { c: 0.05, fit_intercept: false, ..Default::default() }];
        for (case, (p, x, y, w, solver)) in ridge_cases.iter().enumerate() {
            let want = p.fit(TrainSet { x: x.as_ref(), y, weights: *w }, Seed(0)).unwrap();
            assert_eq!(want.solver, *solver, "case {case}");
            let want_pred = want.predict(x.as_ref()).unwrap();
            for pad in [x.ncols(), x.ncols() + 3] {
                let buf = c_order(x.as_ref(), pad);
                let rm = MatRef::from_row_major_slice_with_stride(&buf, x.nrows(), x.ncols(), pad);
                assert!(crate::linalg::row_major(rm).is_some());
                for threads in [1, 2, 8] {
                    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                    let got = pool.install(|| p.fit(TrainSet { x: rm, y, weights: *w }, Seed(0))).unwrap();
                    let at = format!("ridge case {case}, pad {pad}, {threads} threads");
                    assert_eq!(bits(&got.coef), bits(&want.coef), "{at}");
                    assert_eq!(got.intercept.to_bits(), want.intercept.to_bits(), "{at}");
                    assert_eq!((got.alpha.to_bits(), got.solver), (want.alpha.to_bits(), want.solver), "{at}");
                    let cv = |m: &RidgeModel| m.cv_scores.iter().flatten().map(|s| s.1.to_bits()).collect::<Vec<_>>();
                    assert_eq!(cv(&got), cv(&want), "{at}");
                    let pred = pool.install(|| want.predict(rm)).unwrap();
                    assert_eq!(bits(&pred), bits(&want_pred), "{at}");
                }
            }
        }
        for (case, p) in logit.iter().enumerate() {
            for weights in [None, Some(&w[..])] {
                let want = p.fit(TrainSet { x: x6.as_ref(), y: &t, weights }, Seed(0)).unwrap();
                assert!(want.info.converged, "{:?}", want.info);
                let want_p = want.predict_proba(x6.as_ref()).unwrap();
                for pad in [6, 9] {
                    let buf = c_order(x6.as_ref(), pad);
                    let rm = MatRef::from_row_major_slice_with_stride(&buf, n, 6, pad);
                    for threads in [1, 2, 8] {
                        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                        let got = pool.install(|| p.fit(TrainSet { x: rm, y: &t, weights }, Seed(0))).unwrap();
                        let at = format!(
                            "logistic case {case}, weighted {}, pad {pad}, {threads} threads",
                            weights.is_some()
                        );
                        assert_eq!(bits(&got.coef), bits(&want.coef), "{at}");
                        assert_eq!(got.intercept.to_bits(), want.intercept.to_bits(), "{at}");
                        assert_eq!(got.info.n_iter, want.info.n_iter, "{at}");
                        assert_eq!(got.info.objective.to_bits(), want.info.objective.to_bits(), "{at}");
                        let pr = pool.install(|| want.predict_proba(rm)).unwrap();
                        assert_eq!(bits(&pr), bits(&want_p), "{at}");
                    }
                }
            }
        }
        // the input checks see a NaN in a row-major view as in a column-major one
        let mut bad = x6.clone();
        bad[(4097, 3)] = f64::NAN;
        let buf = c_order(bad.as_ref(), 6);
        let rm = MatRef::from_row_major_slice(&buf, n, 6);
        let e = RidgeParams::default().fit(TrainSet::new(rm, &y), Seed(0)).unwrap_err();
        assert!(matches!(e, crate::Error::NonFinite { row: 4097, col: 3, .. }), "{e:?}");
        let e = LogisticParams::default().fit(TrainSet::new(rm, &t), Seed(0)).unwrap_err();
        assert!(matches!(e, crate::Error::NonFinite { row: 4097, col: 3, .. }), "{e:?}");
        // ridge reads no feature before its Gram pass: a NaN or an infinity in the first column
        // is still found there and named
        for v in [f64::NAN, f64::INFINITY] {
            let mut bad = x6.clone();
            bad[(5, 0)] = v;
            let buf = c_order(bad.as_ref(), 6);
            for x in [bad.as_ref(), MatRef::from_row_major_slice(&buf, n, 6)] {
                let e = RidgeParams::default().fit(TrainSet::new(x, &y), Seed(0)).unwrap_err();
                assert!(matches!(e, crate::Error::NonFinite { row: 5, col: 0, .. }), "{e:?}");
            }
        }
    }
}
