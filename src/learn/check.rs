//! Input validation shared by every learner's `fit` and `predict_into`.
//!
//! Checks run once per call, before any numerical work, so a learner's inner loops can assume
//! finite data of consistent shape.

use faer::MatRef;

use crate::error::{Error, Result};
use crate::learn::TrainSet;

/// Checks a training set: at least one row and one column, finite features and targets,
/// matching lengths, and (when present) finite non-negative weights with a positive sum.
///
/// # Errors
/// [`Error::Empty`], [`Error::Shape`], [`Error::NonFinite`], [`Error::InvalidData`].
pub fn train_set(data: &TrainSet<'_>) -> Result<()> {
    shapes(data)?;
    finite_matrix("features", data.x)?;
    targets_and_weights(data)
}

/// Checks a training set whose features may hold NaN (missing values) but no infinity;
/// otherwise as [`train_set`].
///
/// # Errors
/// [`Error::Empty`], [`Error::Shape`], [`Error::NonFinite`], [`Error::InvalidData`].
pub fn train_set_with_missing(data: &TrainSet<'_>) -> Result<()> {
    shapes(data)?;
    for j in 0..data.x.ncols() {
        let col = data.x.col(j);
        let bad = match col.try_as_col_major() {
            Some(c) => c.as_slice().iter().position(|v| v.is_infinite()),
            None => (0..col.nrows()).find(|&i| col[i].is_infinite()),
        };
        if let Some(i) = bad {
            let what = "features (NaN is allowed as missing)".to_string();
            return Err(Error::NonFinite { what, row: i, col: j, value: col[i] });
        }
    }
    targets_and_weights(data)
}

/// At least one row and one column, one target per row.
fn shapes(data: &TrainSet<'_>) -> Result<()> {
    let n = data.x.nrows();
    if n == 0 {
        return Err(Error::empty("training data has no rows"));
    }
    if data.x.ncols() == 0 {
        return Err(Error::empty("training data has no feature columns"));
    }
    if data.y.len() != n {
        return Err(Error::shape("targets vs feature rows", n, data.y.len()));
    }
    Ok(())
}

/// Finite targets; valid weights when present.
fn targets_and_weights(data: &TrainSet<'_>) -> Result<()> {
    finite_slice("target", data.y)?;
    if let Some(w) = data.weights {
        weights(w, data.x.nrows())?;
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

/// Checks a 0/1 target with both classes present (among rows of positive weight).
///
/// # Errors
/// [`Error::InvalidData`] for a value other than 0 or 1, or a single class.
pub fn binary_target(data: &TrainSet<'_>) -> Result<()> {
    let (mut w0, mut w1) = (0.0, 0.0);
    for (i, &v) in data.y.iter().enumerate() {
        let w = data.weight(i);
        if v == 0.0 {
            w0 += w;
        } else if v == 1.0 {
            w1 += w;
        } else {
            return Err(Error::data(format!("classifier target at row {i} is {v}; expected 0 or 1")));
        }
    }
    if w0 <= 0.0 || w1 <= 0.0 {
        let only = if w1 > 0.0 { 1 } else { 0 };
        return Err(Error::data(format!(
            "classifier target has a single class (every weighted row is {only}); two classes are needed"
        )));
    }
    Ok(())
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    #[test]
    fn rejects_each_bad_input_with_its_kind() {
        let x = Mat::from_fn(3, 2, |i, j| (i + j) as f64);
        let y = [0.0, 1.0, 0.0];
        assert!(train_set(&TrainSet::new(x.as_ref(), &y)).is_ok());
        assert!(matches!(train_set(&TrainSet::new(x.as_ref(), &y[..2])), Err(Error::Shape { .. })));
        let mut xn = x.clone();
        xn[(2, 1)] = f64::NAN;
        assert!(matches!(train_set(&TrainSet::new(xn.as_ref(), &y)), Err(Error::NonFinite { row: 2, col: 1, .. })));
        let e = Mat::<f64>::zeros(0, 2);
        assert!(matches!(train_set(&TrainSet::new(e.as_ref(), &[])), Err(Error::Empty { .. })));
        assert!(matches!(weights(&[1.0, -1.0, 1.0], 3), Err(Error::InvalidData { .. })));
        assert!(matches!(weights(&[0.0, 0.0, 0.0], 3), Err(Error::InvalidData { .. })));
        assert!(matches!(weights(&[1.0, f64::NAN, 1.0], 3), Err(Error::NonFinite { .. })));
        let one = [1.0, 1.0, 1.0];
        assert!(matches!(binary_target(&TrainSet::new(x.as_ref(), &one)), Err(Error::InvalidData { .. })));
        let bad = [0.0, 2.0, 1.0];
        assert!(matches!(binary_target(&TrainSet::new(x.as_ref(), &bad)), Err(Error::InvalidData { .. })));
        // a class present only with zero weight does not count
        let w = [1.0, 0.0, 1.0];
        assert!(binary_target(&TrainSet::weighted(x.as_ref(), &y, &w)).is_err());
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
