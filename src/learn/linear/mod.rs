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

pub mod logistic;
pub mod ridge;

use faer::MatRef;

use crate::check::all_finite;
use crate::error::Result;
use crate::learn::{TrainSet, check};

pub use logistic::{LogisticFitInfo, LogisticModel, LogisticParams};
pub use ridge::{RidgeModel, RidgeParams, RidgeSolver};

/// [`check::train_set`] without its scan of the features (it still checks them for the first
/// column, which also rejects a matrix without columns). For learners that detect a non-finite
/// feature on their own first pass and then call [`check::train_set`] for the exact error.
///
/// # Errors
/// As [`check::train_set`].
pub fn check_all_but_features(data: &TrainSet<'_>) -> Result<()> {
    let first = data.x.subcols(0, data.x.ncols().min(1));
    check::train_set(&TrainSet { x: first, ..*data })
}

/// [`check::train_set`] with a fast parallel scan of the features first.
///
/// # Errors
/// As [`check::train_set`].
pub fn check_train_set(data: &TrainSet<'_>) -> Result<()> {
    if all_finite(data.x) { check_all_but_features(data) } else { check::train_set(data) }
}

/// `out_i = intercept + x_i . coef` for every row, row blocks in parallel, allocation-free.
/// Shapes are checked by the caller.
pub fn linear_predict_into(x: MatRef<'_, f64>, coef: &[f64], intercept: f64, out: &mut [f64]) {
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
mod tests {
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
}
