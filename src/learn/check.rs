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
}
