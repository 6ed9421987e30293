//! Fitted trees as flat arrays, and prediction by an additive ensemble of them.
//!
//! A tree with `L` leaves has `L - 1` internal nodes in one flat array of 24-byte [`Node`]s
//! (feature, threshold in raw feature units, default side for NaN, children; one cache line
//! holds a node and its neighbours) and `L` leaf values. A child reference `c >= 0` is an
//! internal node, `c < 0` is leaf `!c`. A row goes left when `x_f <= threshold`, or when
//! `x_f` is NaN and the node's default is left; no binning is needed at prediction time.
//!
//! The ensemble's raw score is `F(x) = F_0 + sum_t f_t(x)`, summed in tree order for every row
//! (single-row and batch paths give the same bits). Batch prediction runs over fixed blocks of
//! rows in parallel ([`crate::par::for_each_row_block`]). Inside a block, rows are copied a
//! few at a time into a row-major buffer on the stack ([`BUF`] values, so at most `BUF / d` rows)
//! and each row walks every tree, two trees at a time (their walks overlap in the processor;
//! measured 10-20% faster than one at a time, while four or eight at a time, or one tree with
//! eight rows in lockstep, were slower); nothing is allocated.

use faer::MatRef;
use serde::{Deserialize, Serialize};

use crate::par::for_each_row_block;

/// Feature values in the stack buffer of batch prediction (32 KiB).
pub const BUF: usize = 4096;

/// One internal node.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// Raw threshold: `x <= threshold` goes left.
    pub threshold: f64,
    /// Feature column.
    pub feature: u32,
    /// Left child (`< 0`: leaf `!c`).
    pub left: i32,
    /// Right child (`< 0`: leaf `!c`).
    pub right: i32,
    /// The training bin code of the threshold (`code <= bin` goes left).
    pub bin: u8,
    /// Whether NaN goes left.
    pub default_left: bool,
}

/// One regression tree: internal nodes (root first) and leaf values.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    /// Internal nodes; empty for a single-leaf tree.
    pub nodes: Vec<Node>,
    /// Leaf values (already multiplied by the learning rate).
    pub leaf_value: Vec<f64>,
}

impl Tree {
    /// A tree of one leaf.
    pub fn constant(value: f64) -> Tree {
        Tree { nodes: Vec::new(), leaf_value: vec![value] }
    }

    /// Number of leaves.
    pub fn n_leaves(&self) -> usize {
        self.leaf_value.len()
    }

    /// The leaf a row reaches; `value(f)` returns feature `f` of the row.
    #[inline]
    pub fn leaf_of(&self, value: impl Fn(usize) -> f64) -> usize {
        if self.nodes.is_empty() {
            return 0;
        }
        let mut node = &self.nodes[0];
        loop {
            let v = value(node.feature as usize);
            let go_left = if v.is_nan() { node.default_left } else { v <= node.threshold };
            let c = if go_left { node.left } else { node.right };
            if c < 0 {
                return !c as usize;
            }
            node = &self.nodes[c as usize];
        }
    }

    /// The leaf a binned row reaches; `code(f)` returns the bin code of feature `f` and
    /// `nan_code(f)` that feature's NaN code.
    #[inline]
    pub fn leaf_of_binned(&self, code: impl Fn(usize) -> u8, nan_code: impl Fn(usize) -> u8) -> usize {
        if self.nodes.is_empty() {
            return 0;
        }
        let mut node = &self.nodes[0];
        loop {
            let f = node.feature as usize;
            let c = code(f);
            let go_left = if c == nan_code(f) { node.default_left } else { c <= node.bin };
            let next = if go_left { node.left } else { node.right };
            if next < 0 {
                return !next as usize;
            }
            node = &self.nodes[next as usize];
        }
    }

    /// The tree's output for one row.
    #[inline]
    pub fn predict(&self, value: impl Fn(usize) -> f64) -> f64 {
        self.leaf_value[self.leaf_of(value)]
    }

    /// Checks the structure of a tree read from outside (a model file): one more leaf than
    /// internal nodes, finite leaf values, split features `< n_features`, non-NaN thresholds,
    /// and child references in range and after their parent (so every walk ends at a leaf).
    ///
    /// # Errors
    /// A message naming the first defect.
    pub fn check(&self, n_features: usize) -> std::result::Result<(), String> {
        if self.leaf_value.len() != self.nodes.len() + 1 {
            return Err(format!("{} leaves for {} internal nodes", self.leaf_value.len(), self.nodes.len()));
        }
        if let Some(v) = self.leaf_value.iter().find(|v| !v.is_finite()) {
            return Err(format!("leaf value {v} is not finite"));
        }
        for (i, n) in self.nodes.iter().enumerate() {
            if n.feature as usize >= n_features {
                return Err(format!("node {i} splits on feature {} of {n_features}", n.feature));
            }
            if n.threshold.is_nan() {
                return Err(format!("node {i} has a NaN threshold"));
            }
            for c in [n.left, n.right] {
                let ok = if c < 0 {
                    (!c as usize) < self.leaf_value.len()
                } else {
                    (c as usize) > i && (c as usize) < self.nodes.len()
                };
                if !ok {
                    return Err(format!("node {i} has child reference {c} out of range"));
                }
            }
        }
        Ok(())
    }

    /// Depth of the deepest leaf (0 for a single leaf).
    pub fn depth(&self) -> usize {
        fn walk(t: &Tree, c: i32) -> usize {
            if c < 0 { 0 } else { 1 + walk(t, t.nodes[c as usize].left).max(walk(t, t.nodes[c as usize].right)) }
        }
        if self.nodes.is_empty() { 0 } else { walk(self, 0) }
    }
}

/// One level of a walk: the child reference after node `c`, or `c` itself once it is a leaf.
#[inline(always)]
fn step(t: &Tree, c: i32, row: &[f64]) -> i32 {
    let Some(node) = t.nodes.get(c.max(0) as usize) else { return c };
    let v = row[node.feature as usize];
    let go_left = v <= node.threshold || (v.is_nan() && node.default_left);
    let next = if go_left { node.left } else { node.right };
    if c >= 0 { next } else { c }
}

/// Trees walked together by [`raw_row`].
const WAYS: usize = 2;

/// Raw scores `F_0 + sum_t f_t(row)` for one row given as a slice.
///
/// `WAYS` trees are walked together, one level of each per step, so their independent
/// load-compare-load chains overlap; leaf values are still added in tree order.
#[inline]
pub fn raw_row(init: f64, trees: &[Tree], row: &[f64]) -> f64 {
    let mut s = init;
    let mut chunks = trees.chunks_exact(WAYS);
    for ts in &mut chunks {
        let mut c = [0i32; WAYS];
        for (cj, t) in c.iter_mut().zip(ts) {
            *cj = if t.nodes.is_empty() { -1 } else { 0 };
        }
        while c.iter().any(|&v| v >= 0) {
            for (cj, t) in c.iter_mut().zip(ts) {
                *cj = step(t, *cj, row);
            }
        }
        for (&cj, t) in c.iter().zip(ts) {
            s += t.leaf_value[!cj as usize];
        }
    }
    for t in chunks.remainder() {
        s += t.predict(|f| row[f]);
    }
    s
}

/// [`raw_row`] walking one tree at a time (the reference the interleaved walk must match).
#[cfg(test)]
pub fn raw_row_serial(init: f64, trees: &[Tree], row: &[f64]) -> f64 {
    let mut s = init;
    for t in trees {
        s += t.predict(|f| row[f]);
    }
    s
}

/// Raw scores for every row of `x` into `out` (shapes checked by the caller); no allocation.
pub fn raw_into(init: f64, trees: &[Tree], x: MatRef<'_, f64>, out: &mut [f64]) {
    let d = x.ncols();
    for_each_row_block(out, |start, block| {
        if d == 0 || d > BUF {
            for (r, o) in block.iter_mut().enumerate() {
                let i = start + r;
                *o = init;
                for t in trees {
                    *o += t.predict(|f| x[(i, f)]);
                }
            }
            return;
        }
        let rows = BUF / d;
        let mut buf = [0.0f64; BUF];
        for (s, sub) in block.chunks_mut(rows).enumerate() {
            let first = start + s * rows;
            let m = sub.len();
            for f in 0..d {
                let col = x.col(f).subrows(first, m);
                for (r, &v) in col.iter().enumerate() {
                    buf[r * d + f] = v;
                }
            }
            for (o, row) in sub.iter_mut().zip(buf.chunks_exact(d)) {
                *o = raw_row(init, trees, row);
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
            nodes: vec![
                Node { threshold: 1.0, feature: 0, left: 1, right: !2, bin: 3, default_left: false },
                Node { threshold: 0.0, feature: 1, left: !0, right: !1, bin: 5, default_left: true },
            ],
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
        let x = Mat::from_fn(10_000, 3, |i, j| {
            if (i + j) % 13 == 0 { f64::NAN } else { ((i * 7 + j * 3) % 11) as f64 / 4.0 - 1.0 }
        });
        let mut out = vec![0.0; x.nrows()];
        raw_into(0.5, &trees, x.as_ref(), &mut out);
        for (i, o) in out.iter().enumerate() {
            let row = [x[(i, 0)], x[(i, 1)], x[(i, 2)]];
            assert_eq!(o.to_bits(), raw_row(0.5, &trees, &row).to_bits());
            assert_eq!(o.to_bits(), raw_row_serial(0.5, &trees, &row).to_bits());
        }
        // rows wider than the stack buffer take the direct path
        let wide = Mat::from_fn(5, BUF + 1, |i, j| if j < 2 { i as f64 - 2.0 } else { 0.0 });
        let mut out = vec![0.0; 5];
        raw_into(0.5, &trees, wide.as_ref(), &mut out);
        for (i, o) in out.iter().enumerate() {
            let row: Vec<f64> = (0..BUF + 1).map(|j| wide[(i, j)]).collect();
            assert_eq!(o.to_bits(), raw_row(0.5, &trees, &row).to_bits());
        }
    }
}
