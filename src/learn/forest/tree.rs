//! A fitted decision tree in flat arrays (structure of arrays), and its prediction.
//!
//! Node `t` is internal when `feature[t] != LEAF`; a row `x` goes to `left[t]` when
//! `x[feature[t]] <= threshold[t]` and to `right[t]` otherwise; a leaf predicts `value[t]`, the
//! weighted mean of its training targets `sum w_i y_i / sum w_i` (for 0/1 targets, the weighted
//! class-1 frequency). Node 0 is the root; children are always created after their parent, so
//! the arrays are in depth-first creation order. Walking a tree touches a few small contiguous
//! arrays and never allocates.

use faer::MatRef;
use serde::{Deserialize, Serialize};

/// The `feature` marker of a leaf.
pub const LEAF: u32 = u32::MAX;

/// A fitted tree.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Tree {
    /// Split feature per node ([`LEAF`] for leaves).
    pub feature: Vec<u32>,
    /// Split threshold per node (0 for leaves): rows with `x <= threshold` go left.
    pub threshold: Vec<f64>,
    /// Left child per node (0 for leaves).
    pub left: Vec<u32>,
    /// Right child per node (0 for leaves).
    pub right: Vec<u32>,
    /// Weighted mean target of the node's training rows (the prediction at leaves).
    pub value: Vec<f64>,
}

impl Tree {
    /// Number of nodes.
    pub fn n_nodes(&self) -> usize {
        self.feature.len()
    }

    /// Number of leaves.
    pub fn n_leaves(&self) -> usize {
        self.feature.iter().filter(|&&f| f == LEAF).count()
    }

    /// Depth of the deepest leaf (a lone root has depth 0).
    pub fn depth(&self) -> usize {
        let mut depth = vec![0usize; self.n_nodes()];
        let mut max = 0;
        for t in 0..self.n_nodes() {
            if self.feature[t] != LEAF {
                for c in [self.left[t], self.right[t]] {
                    depth[c as usize] = depth[t] + 1;
                    max = max.max(depth[t] + 1);
                }
            }
        }
        max
    }

    /// Appends a node (a leaf until [`Tree::set_split`]) and returns its index.
    pub(crate) fn push_leaf(&mut self, value: f64) -> u32 {
        self.feature.push(LEAF);
        self.threshold.push(0.0);
        self.left.push(0);
        self.right.push(0);
        self.value.push(value);
        (self.feature.len() - 1) as u32
    }

    /// Turns leaf `t` into a split node.
    pub(crate) fn set_split(&mut self, t: u32, feature: u32, threshold: f64, left: u32, right: u32) {
        let t = t as usize;
        self.feature[t] = feature;
        self.threshold[t] = threshold;
        self.left[t] = left;
        self.right[t] = right;
    }

    /// The leaf a row reaches, reading feature `f` through `get(f)`.
    #[inline]
    pub fn leaf_of(&self, get: impl Fn(usize) -> f64) -> usize {
        let mut t = 0usize;
        loop {
            let f = self.feature[t];
            if f == LEAF {
                return t;
            }
            t = if get(f as usize) <= self.threshold[t] { self.left[t] } else { self.right[t] } as usize;
        }
    }

    /// The prediction for one row given as a slice (`row.len()` must cover every split feature).
    #[inline]
    pub fn predict_slice(&self, row: &[f64]) -> f64 {
        self.value[self.leaf_of(|f| row[f])]
    }

    /// The prediction for row `i` of `x`.
    #[inline]
    pub fn predict_at(&self, x: MatRef<'_, f64>, i: usize) -> f64 {
        self.value[self.leaf_of(|f| x[(i, f)])]
    }

    /// Checks the structure of a tree read from outside (a model file): every child index is in
    /// range and larger than its parent (so walks terminate), and split features are `< d`.
    pub fn is_well_formed(&self, d: usize) -> bool {
        let n = self.feature.len();
        if n == 0 || [self.threshold.len(), self.left.len(), self.right.len(), self.value.len()] != [n; 4] {
            return false;
        }
        (0..n).all(|t| {
            let f = self.feature[t];
            f == LEAF
                || ((f as usize) < d
                    && [self.left[t], self.right[t]].iter().all(|&c| (c as usize) > t && (c as usize) < n))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_to_the_right_leaf() {
        let mut t = Tree::default();
        let root = t.push_leaf(0.5);
        let l = t.push_leaf(1.0);
        let r = t.push_leaf(2.0);
        t.set_split(root, 1, 0.25, l, r);
        assert_eq!(t.predict_slice(&[9.0, 0.25]), 1.0);
        assert_eq!(t.predict_slice(&[9.0, 0.26]), 2.0);
        assert_eq!((t.n_nodes(), t.n_leaves(), t.depth()), (3, 2, 1));
        assert!(t.is_well_formed(2));
        assert!(!t.is_well_formed(1));
        let mut bad = t.clone();
        bad.left[0] = 0;
        assert!(!bad.is_well_formed(2));
    }
}
