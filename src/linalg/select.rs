//! Row selection: the rows `idx` of a matrix or the elements `idx` of a vector, in the order
//! given (indices may repeat, e.g. for a bootstrap or a fold's training rows).
//!
//! ```text
//! select_rows(x, idx)[i, j] = x[idx_i, j]
//! gather(v, idx)_i          = v[idx_i]
//! ```
//!
//! Pure copies, no arithmetic. An index out of range is a bug of the caller (indices come from
//! the crate's own folds and splits) and panics.

use faer::{Mat, MatRef};

/// The rows `idx` of `x`, in that order, as a new column-major matrix (filled column by column).
pub fn select_rows(x: MatRef<'_, f64>, idx: &[usize]) -> Mat<f64> {
    let mut out = Mat::<f64>::zeros(idx.len(), x.ncols());
    for j in 0..x.ncols() {
        let src = x.col(j);
        let dst = out.col_as_slice_mut(j);
        for (o, &r) in dst.iter_mut().zip(idx) {
            *o = src[r];
        }
    }
    out
}

/// The elements `idx` of `v`, in that order.
pub fn gather<T: Copy>(v: &[T], idx: &[usize]) -> Vec<T> {
    idx.iter().map(|&i| v[i]).collect()
}

/// The elements `idx` of optional values (e.g. sample weights): `None` stays `None`.
pub fn gather_opt<T: Copy>(v: Option<&[T]>, idx: &[usize]) -> Option<Vec<T>> {
    v.map(|w| gather(w, idx))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_order_and_repeats() {
        let x = Mat::from_fn(5, 2, |i, j| (10 * i + j) as f64);
        let g = select_rows(x.as_ref(), &[3, 0, 3]);
        assert_eq!(g.col_as_slice(0), &[30.0, 0.0, 30.0]);
        assert_eq!(g.col_as_slice(1), &[31.0, 1.0, 31.0]);
        assert_eq!(select_rows(x.as_ref(), &[]).shape(), (0, 2));
        assert_eq!(gather(&[1.0, 2.0, 3.0], &[2, 2, 0]), vec![3.0, 3.0, 1.0]);
        assert_eq!(gather(&[7u8, 8], &[1]), vec![8]);
        assert_eq!(gather_opt::<f64>(None, &[0]), None);
        assert_eq!(gather_opt(Some(&[1.0, 2.0][..]), &[1]), Some(vec![2.0]));
    }
}
