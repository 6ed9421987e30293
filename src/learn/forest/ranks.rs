//! Feature values replaced by their dense ranks, computed once per forest and shared by every
//! tree.
//!
//! For feature `j` with sorted distinct values `v_0 < v_1 < ... < v_{m-1}`, row `i` gets rank
//! `r_ij` with `x_ij = v_{r_ij}`. In a node whose rows have ranks `... <= r < s <= ...` with no
//! rank strictly between, splitting on "rank <= r" is the same as splitting on
//! "x <= threshold" for any threshold in `[v_r, v_s)`; the fitted threshold is the midpoint
//! `(v_r + v_s) / 2` (or `v_r` when rounding makes the midpoint equal `v_s`), as in
//! scikit-learn. Ranks are `u32`, so a node's sort keys pack `(rank << 32) | position` into one
//! `u64`, sorted with a fast integer sort, and ties (equal values) are detected exactly.
//! Values compare as numbers: `-0.0` and `0.0` share a rank.

use faer::MatRef;

use crate::par;

/// Dense ranks of every feature, column-major (`ranks[j * n + i]`), and the distinct values.
#[derive(Debug)]
pub struct Ranks {
    /// Rows.
    pub n: usize,
    /// Column-major ranks.
    pub ranks: Vec<u32>,
    /// Sorted distinct values of each feature.
    pub values: Vec<Vec<f64>>,
}

/// Order-preserving map of a finite f64 to u64 (negative values flip all bits, positive set
/// the sign bit).
#[inline]
fn ordered_bits(v: f64) -> u64 {
    let b = v.to_bits();
    if b >> 63 == 1 { !b } else { b | (1 << 63) }
}

impl Ranks {
    /// Ranks of every column of `x` (finite values; checked by the caller), one column per
    /// parallel task, gathered in column order.
    pub fn new(x: MatRef<'_, f64>) -> Ranks {
        let (n, d) = (x.nrows(), x.ncols());
        let cols = par::map_indexed(d, |j| {
            let mut keyed: Vec<(u64, u32)> = (0..n).map(|i| (ordered_bits(x[(i, j)]), i as u32)).collect();
            keyed.sort_unstable();
            let mut ranks = vec![0u32; n];
            let mut values = Vec::new();
            for &(_, i) in &keyed {
                let v = x[(i as usize, j)];
                if values.last() != Some(&v) {
                    values.push(v);
                }
                ranks[i as usize] = (values.len() - 1) as u32;
            }
            (ranks, values)
        });
        let mut ranks = Vec::with_capacity(n * d);
        let mut values = Vec::with_capacity(d);
        for (r, v) in cols {
            ranks.extend_from_slice(&r);
            values.push(v);
        }
        Ranks { n, ranks, values }
    }

    /// The ranks of feature `j`, one per row.
    #[inline]
    pub fn column(&self, j: usize) -> &[u32] {
        &self.ranks[j * self.n..(j + 1) * self.n]
    }

    /// The threshold between ranks `lo < hi` of feature `j`: the midpoint of the largest value
    /// going left and the smallest going right *among the node's rows* (as scikit-learn), not
    /// the next value of the whole data set.
    pub fn threshold(&self, j: usize, lo: u32, hi: u32) -> f64 {
        let v = &self.values[j];
        let (a, b) = (v[lo as usize], v[hi as usize]);
        let mid = a / 2.0 + b / 2.0;
        if mid >= b || !mid.is_finite() { a } else { mid }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    #[test]
    fn dense_ranks_with_ties_and_signed_zero() {
        let col = [3.0, -1.0, 0.0, -0.0, 3.0, -7.5];
        let x = Mat::from_fn(6, 1, |i, _| col[i]);
        let r = Ranks::new(x.as_ref());
        assert_eq!(r.column(0), &[3, 1, 2, 2, 3, 0]);
        assert_eq!(r.values[0].len(), 4);
        assert_eq!(r.threshold(0, 0, 1), -4.25);
        assert_eq!(r.threshold(0, 2, 3), 1.5);
        assert_eq!(r.threshold(0, 0, 3), -2.25);
        // adjacent floats: the midpoint rounds onto the upper value, so the lower is used
        let a = 1.0f64;
        let b = f64::from_bits(a.to_bits() + 1);
        let x = Mat::from_fn(2, 1, |i, _| [a, b][i]);
        let r = Ranks::new(x.as_ref());
        let t = r.threshold(0, 0, 1);
        assert!(a <= t && t < b);
    }
}
