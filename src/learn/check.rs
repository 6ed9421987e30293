//! Checks of a learner's [`TrainSet`], shared by every learner's `fit`, built on the
//! layer-independent checks of [`crate::check`] (re-exported here, so a learner finds every check
//! it needs in one place).
//!
//! Checks run once per call, before any numerical work, so a learner's inner loops can assume
//! finite data of consistent shape.

use crate::error::{Error, Result};
use crate::learn::TrainSet;

pub use crate::check::{all_finite, feature_scale, finite_matrix, finite_slice, predict_shape, weights};

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

/// [`train_set`] without the scan of the features: the shapes, the targets and the weights. For
/// learners whose first pass over the features detects a non-finite value on its own and then
/// calls [`train_set`] for the exact error.
///
/// # Errors
/// [`Error::Empty`], [`Error::Shape`], [`Error::NonFinite`] (targets), [`Error::InvalidData`].
pub fn train_set_but_features(data: &TrainSet<'_>) -> Result<()> {
    shapes(data)?;
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
        let one = [1.0, 1.0, 1.0];
        assert!(matches!(binary_target(&TrainSet::new(x.as_ref(), &one)), Err(Error::InvalidData { .. })));
        let bad = [0.0, 2.0, 1.0];
        assert!(matches!(binary_target(&TrainSet::new(x.as_ref(), &bad)), Err(Error::InvalidData { .. })));
        // a class present only with zero weight does not count
        let w = [1.0, 0.0, 1.0];
        assert!(binary_target(&TrainSet::weighted(x.as_ref(), &y, &w)).is_err());
    }
}
