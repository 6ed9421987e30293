//! Inner products in a fixed summation order: `a . b`, `x' v` and weighted column means.
//!
//! ```text
//! dot(a, b)            = sum_i a_i b_i
//! xt_dot(x, v)_j       = sum_i x_ij v_i                     (one dot per column of x)
//! column_means(x, w)_j = sum_i w_i x_ij / sum_i w_i          (w all one when absent)
//! ```
//!
//! # Summation order (determinism)
//! [`dot`] keeps four accumulators: `acc_k` sums the products at indices `4q + k` in increasing
//! `q`; the `n mod 4` trailing products are summed in order into `tail`, and the result is
//! `(acc_0 + acc_1) + (acc_2 + acc_3) + tail`. The order depends on the length only, and the
//! independent accumulators let the loop vectorise. [`xt_dot`] runs one column per rayon task
//! (a column that is not contiguous is summed left to right with one accumulator) and gathers
//! the columns in index order, so no sum depends on the thread count. The weights' total in
//! [`column_means`] is summed in row order. No shift is applied: the caller centres if needed.

use faer::MatRef;

/// `sum_i a_i b_i` with four interleaved accumulators (a fixed order, so reproducible).
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// `x' v` (one entry per column of `x`), columns in parallel, each a fixed-order [`dot`].
pub fn xt_dot(x: MatRef<'_, f64>, v: &[f64]) -> Vec<f64> {
    crate::par::map_indexed(x.ncols(), |j| {
        let col = x.col(j);
        match col.try_as_col_major() {
            Some(c) => dot(c.as_slice(), v),
            None => (0..v.len()).fold(0.0, |acc, i| acc + col[i] * v[i]),
        }
    })
}

/// Weighted column means of `x` (weights all one when `None`): each column a fixed-order [`dot`]
/// with the weights, divided by their total (summed in row order).
pub fn column_means(x: MatRef<'_, f64>, w: Option<&[f64]>) -> Vec<f64> {
    let sw: f64 = w.map_or(x.nrows() as f64, |w| w.iter().sum());
    match w {
        Some(w) => xt_dot(x, w).into_iter().map(|v| v / sw).collect(),
        None => {
            let ones = vec![1.0; x.nrows()];
            xt_dot(x, &ones).into_iter().map(|v| v / sw).collect()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    #[test]
    fn dot_and_means_match_the_definitions() {
        let a: Vec<f64> = (0..11).map(|i| i as f64).collect();
        let b: Vec<f64> = (0..11).map(|i| (2 * i + 1) as f64).collect();
        let naive: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert_eq!(dot(&a, &b), naive);
        let x = Mat::from_fn(4, 2, |i, j| (i + 10 * j) as f64);
        assert_eq!(xt_dot(x.as_ref(), &[1.0, 0.0, 0.0, 2.0]), vec![6.0, 36.0]);
        assert_eq!(column_means(x.as_ref(), None), vec![1.5, 11.5]);
        assert_eq!(column_means(x.as_ref(), Some(&[0.0, 1.0, 1.0, 0.0])), vec![1.5, 11.5]);
        assert_eq!(column_means(x.as_ref(), Some(&[3.0, 0.0, 0.0, 1.0])), vec![0.75, 10.75]);
    }
}
