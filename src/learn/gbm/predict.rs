//! Fitted trees as flat arrays, and prediction by an additive ensemble of them.
//!
//! A tree with `L` leaves has `L - 1` internal nodes stored as parallel arrays (feature,
//! threshold in raw feature units, default side for NaN, children). A child reference `c >= 0`
//! is an internal node, `c < 0` is leaf `!c`. A row goes left when `x_f <= threshold`, or when
//! `x_f` is NaN and the node's default is left; no binning is needed at prediction time.
//!
//! The ensemble's raw score is `F(x) = F_0 + sum_t f_t(x)`, summed in tree order for every row
//! (single-row and batch paths give the same bits). Batch prediction runs over fixed blocks of
//! rows in parallel ([`crate::par::for_each_row_block`]); inside a block, trees are the outer
//! loop over sub-blocks of [`SUB_BLOCK`] rows so that a tree's nodes and the touched feature
//! values stay in cache.

use faer::MatRef;
use serde::{Deserialize, Serialize};

use crate::par::for_each_row_block;

/// Rows per inner sub-block of batch prediction.
pub const SUB_BLOCK: usize = 256;

/// One regression tree in flat arrays.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    /// Feature column of each internal node.
    pub feature: Vec<u32>,
    /// Raw threshold of each internal node: `x <= threshold` goes left.
    pub threshold: Vec<f64>,
    /// The training bin code of each threshold (`code <= bin` goes left).
    pub bin: Vec<u8>,
    /// Whether NaN goes left at each internal node.
    pub default_left: Vec<bool>,
    /// Left child of each internal node (`< 0`: leaf `!c`).
    pub left: Vec<i32>,
    /// Right child of each internal node (`< 0`: leaf `!c`).
    pub right: Vec<i32>,
    /// Leaf values (already multiplied by the learning rate).
    pub leaf_value: Vec<f64>,
}

impl Tree {
    /// A tree of one leaf.
    pub fn constant(value: f64) -> Tree {
        Tree { leaf_value: vec![value], ..Tree::default() }
    }

    /// Number of leaves.
    pub fn n_leaves(&self) -> usize {
        self.leaf_value.len()
    }

    /// The leaf a row reaches; `value(f)` returns feature `f` of the row.
    #[inline]
    pub fn leaf_of(&self, value: impl Fn(usize) -> f64) -> usize {
        if self.feature.is_empty() {
            return 0;
        }
        let mut node = 0usize;
        loop {
            let v = value(self.feature[node] as usize);
            let go_left = if v.is_nan() { self.default_left[node] } else { v <= self.threshold[node] };
            let c = if go_left { self.left[node] } else { self.right[node] };
            if c < 0 {
                return !c as usize;
            }
            node = c as usize;
        }
    }

    /// The leaf a binned row reaches; `code(f)` returns the bin code of feature `f` and
    /// `nan_code(f)` that feature's NaN code.
    #[inline]
    pub fn leaf_of_binned(&self, code: impl Fn(usize) -> u8, nan_code: impl Fn(usize) -> u8) -> usize {
        if self.feature.is_empty() {
            return 0;
        }
        let mut node = 0usize;
        loop {
            let f = self.feature[node] as usize;
            let c = code(f);
            let go_left = if c == nan_code(f) { self.default_left[node] } else { c <= self.bin[node] };
            let next = if go_left { self.left[node] } else { self.right[node] };
            if next < 0 {
                return !next as usize;
            }
            node = next as usize;
        }
    }

    /// The tree's output for one row.
    #[inline]
    pub fn predict(&self, value: impl Fn(usize) -> f64) -> f64 {
        self.leaf_value[self.leaf_of(value)]
    }

    /// Depth of the deepest leaf (0 for a single leaf).
    pub fn depth(&self) -> usize {
        fn walk(t: &Tree, c: i32) -> usize {
            if c < 0 { 0 } else { 1 + walk(t, t.left[c as usize]).max(walk(t, t.right[c as usize])) }
        }
        if self.feature.is_empty() { 0 } else { walk(self, 0) }
    }
}

/// Raw scores `F_0 + sum_t f_t(row)` for one row given as a slice.
#[inline]
pub fn raw_row(init: f64, trees: &[Tree], row: &[f64]) -> f64 {
    let mut s = init;
    for t in trees {
        s += t.predict(|f| row[f]);
    }
    s
}

/// Raw scores for every row of `x` into `out` (shapes checked by the caller); no allocation.
pub fn raw_into(init: f64, trees: &[Tree], x: MatRef<'_, f64>, out: &mut [f64]) {
    for_each_row_block(out, |start, block| {
        for (s, sub) in block.chunks_mut(SUB_BLOCK).enumerate() {
            let first = start + s * SUB_BLOCK;
            sub.fill(init);
            for t in trees {
                for (r, o) in sub.iter_mut().enumerate() {
                    let i = first + r;
                    *o += t.predict(|f| x[(i, f)]);
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    /// x0 <= 1 ? (x1 <= 0 ? 10 : 20) : 30, NaN on x0 goes right, NaN on x1 left.
    fn tree() -> Tree {
        Tree {
            feature: vec![0, 1],
            threshold: vec![1.0, 0.0],
            bin: vec![3, 5],
            default_left: vec![false, true],
            left: vec![1, !0],
            right: vec![!2, !1],
            leaf_value: vec![10.0, 20.0, 30.0],
        }
    }

    #[test]
    fn routes_rows_and_nan() {
        let t = tree();
        let p = |a: f64, b: f64| t.predict(|f| [a, b][f]);
        assert_eq!([p(0.5, -1.0), p(0.5, 2.0), p(1.0, 0.0), p(1.5, -9.0)], [10.0, 20.0, 10.0, 30.0]);
        assert_eq!([p(f64::NAN, -1.0), p(0.0, f64::NAN)], [30.0, 10.0]);
        assert_eq!(t.depth(), 2);
        assert_eq!(Tree::constant(4.0).predict(|_| 0.0), 4.0);
    }

    #[test]
    fn batch_equals_single_rows_bitwise() {
        let t = tree();
        let trees = vec![t.clone(), Tree::constant(0.25), t];
        let x = Mat::from_fn(10_000, 2, |i, j| ((i * 7 + j * 3) % 11) as f64 / 4.0 - 1.0);
        let mut out = vec![0.0; x.nrows()];
        raw_into(0.5, &trees, x.as_ref(), &mut out);
        for (i, o) in out.iter().enumerate() {
            let row = [x[(i, 0)], x[(i, 1)]];
            assert_eq!(o.to_bits(), raw_row(0.5, &trees, &row).to_bits());
        }
    }
}
