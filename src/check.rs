//! Input checks on slices and matrices that every layer uses (learners, the causal core, the
//! router, the simulator, the study): finite values, sample weights, prediction shapes and the
//! scale of feature columns. They depend only on the error type, faer and [`crate::par`], never
//! on a learner type; the checks of a learner's `TrainSet` build on them in `learn::check`.
//!
//! * finite: every `v_i` (or `x_ij`) is neither NaN nor infinite; the first offending index is
//!   reported, scanning a matrix column by column ([`all_finite`] is a fast parallel yes/no).
//! * weights: `n` of them, finite, `w_i >= 0`, `sum_i w_i > 0`.
//! * feature scale: `sum_i w_i (x_ij - m_j)^2` is finite for every column `j` (the sums that
//!   Gram matrices, Hessians and SVDs form), summed in row order.
//! * prediction shape: `x` has the model's `d` columns and the output one slot per row.

use faer::MatRef;

use crate::error::{Error, Result};

/// Every element finite.
///
/// # Errors
/// [`Error::NonFinite`] naming the first offending element.
pub fn finite_slice(what: &str, v: &[f64]) -> Result<()> {
    match v.iter().position(|x| !x.is_finite()) {
        Some(i) => Err(Error::NonFinite { what: what.to_string(), row: i, col: 0, value: v[i] }),
        None => Ok(()),
    }
}

/// Every element finite (scanned column by column).
///
/// # Errors
/// [`Error::NonFinite`] naming the first offending element.
pub fn finite_matrix(what: &str, x: MatRef<'_, f64>) -> Result<()> {
    for j in 0..x.ncols() {
        for i in 0..x.nrows() {
            let v = x[(i, j)];
            if !v.is_finite() {
                return Err(Error::NonFinite { what: what.to_string(), row: i, col: j, value: v });
            }
        }
    }
    Ok(())
}

/// Checks that every feature column's sum of squares, `sum_i w_i (x_ij - m_j)^2` (about
/// `means` when given, else about 0; weights all one when `None`), is finite: learners that
/// form Gram matrices, Hessians or SVDs need it. Values must be finite already.
///
/// # Errors
/// [`Error::FeatureScale`] for the first column that overflows.
pub fn feature_scale(owner: &str, x: MatRef<'_, f64>, means: Option<&[f64]>, w: Option<&[f64]>) -> Result<()> {
    for j in 0..x.ncols() {
        let m = means.map_or(0.0, |m| m[j]);
        let col = x.col(j);
        let ss: f64 = (0..x.nrows()).map(|i| w.map_or(1.0, |w| w[i]) * (col[i] - m) * (col[i] - m)).sum();
        if !ss.is_finite() {
            let max_abs = col.iter().fold(0.0f64, |a, v| a.max(v.abs()));
            return Err(Error::FeatureScale { owner: owner.to_string(), col: j, name: None, max_abs });
        }
    }
    Ok(())
}

/// Whether every entry of `x` is finite: columns in parallel, each a branch-free pass that
/// vectorises (rows in parallel blocks for a row-major view, e.g. a C-order numpy array); the
/// exact location of a bad value is left to [`finite_matrix`].
pub fn all_finite(x: MatRef<'_, f64>) -> bool {
    if let (false, Some(rows)) = (x.row_stride() == 1 || x.ncols() == 0, x.try_as_row_major()) {
        let n = x.nrows();
        return crate::par::map_indexed(n.div_ceil(crate::par::ROW_BLOCK), |b| {
            let r0 = b * crate::par::ROW_BLOCK;
            (r0..n.min(r0 + crate::par::ROW_BLOCK))
                .fold(false, |acc, i| acc | rows.row(i).as_slice().iter().fold(false, |a, v| a | !v.is_finite()))
        })
        .into_iter()
        .all(|bad| !bad);
    }
    crate::par::map_indexed(x.ncols(), |j| {
        let col = x.col(j);
        match col.try_as_col_major() {
            Some(c) => !c.as_slice().iter().fold(false, |acc, v| acc | !v.is_finite()),
            None => (0..x.nrows()).all(|i| col[i].is_finite()),
        }
    })
    .into_iter()
    .all(|ok| ok)
}

/// Shape check for prediction: `x` has `n_features` columns and `out` one slot per row.
///
/// # Errors
/// [`Error::Shape`].
pub fn predict_shape(x: MatRef<'_, f64>, n_features: usize, out: &[f64]) -> Result<()> {
    if x.ncols() != n_features {
        return Err(Error::shape("feature columns at prediction vs training", n_features, x.ncols()));
    }
    if out.len() != x.nrows() {
        return Err(Error::shape("output buffer vs rows to predict", x.nrows(), out.len()));
    }
    Ok(())
}

/// Checks sample weights: `n` of them, finite, non-negative, positive sum.
///
/// # Errors
/// [`Error::Shape`], [`Error::NonFinite`], [`Error::InvalidData`].
pub fn weights(w: &[f64], n: usize) -> Result<()> {
    if w.len() != n {
        return Err(Error::shape("sample weights vs rows", n, w.len()));
    }
    finite_slice("sample weights", w)?;
    if let Some(i) = w.iter().position(|&v| v < 0.0) {
        return Err(Error::data(format!("sample weight at row {i} is negative ({})", w[i])));
    }
    if w.iter().sum::<f64>() <= 0.0 {
        return Err(Error::data("sample weights sum to zero"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    #[test]
    fn rejects_bad_weights_and_values() {
        assert!(weights(&[1.0, 0.0, 2.0], 3).is_ok());
        assert!(matches!(weights(&[1.0, 1.0], 3), Err(Error::Shape { .. })));
        assert!(matches!(weights(&[1.0, -1.0, 1.0], 3), Err(Error::InvalidData { .. })));
        assert!(matches!(weights(&[0.0, 0.0, 0.0], 3), Err(Error::InvalidData { .. })));
        assert!(matches!(weights(&[1.0, f64::NAN, 1.0], 3), Err(Error::NonFinite { .. })));
        assert!(matches!(finite_slice("v", &[0.0, f64::INFINITY]), Err(Error::NonFinite { row: 1, col: 0, .. })));
        let mut x = Mat::from_fn(3, 2, |i, j| (i + j) as f64);
        assert!(finite_matrix("x", x.as_ref()).is_ok() && all_finite(x.as_ref()));
        x[(2, 1)] = f64::NAN;
        assert!(matches!(finite_matrix("x", x.as_ref()), Err(Error::NonFinite { row: 2, col: 1, .. })));
        assert!(!all_finite(x.as_ref()));
        assert!(!all_finite(x.as_ref().transpose()));
        let out = [0.0; 3];
        assert!(predict_shape(x.as_ref(), 2, &out).is_ok());
        assert!(matches!(predict_shape(x.as_ref(), 3, &out), Err(Error::Shape { .. })));
        assert!(matches!(predict_shape(x.as_ref(), 2, &out[..2]), Err(Error::Shape { .. })));
    }

    #[test]
    fn feature_scale_names_the_overflowing_column() {
        // column 1 is a constant 1e200: its deviations from the mean are 0, its raw squares 1e400
        let x = Mat::from_fn(4, 3, |i, j| [i as f64, 1e200, 1e100 * i as f64][j]);
        let means = [1.5, 1e200, 1.5e100];
        assert!(feature_scale("t", x.as_ref(), Some(&means), None).is_ok());
        let e = feature_scale("t", x.as_ref(), None, None).unwrap_err();
        assert!(matches!(e, Error::FeatureScale { col: 1, max_abs, .. } if max_abs == 1e200), "{e:?}");
        let msg = e.name_features(&["a".into(), "b".into(), "c".into()]).to_string();
        assert!(msg.starts_with("t: feature column 1 (`b`) is too large"), "{msg}");
        // weights count: 1e100^2 * 9 is finite, times a weight of 1e300 it is not
        assert!(feature_scale("t", x.as_ref(), Some(&[0.0, 1e200, 0.0]), None).is_ok());
        let w = [1.0, 1.0, 1.0, 1e300];
        let e = feature_scale("t", x.as_ref(), Some(&[0.0, 1e200, 0.0]), Some(&w)).unwrap_err();
        assert!(matches!(e, Error::FeatureScale { col: 2, .. }), "{e:?}");
    }
}
