//! Leaf-wise (best-first) growth of one tree on binned data.
//!
//! The tree starts as one leaf holding every sampled row. Repeatedly, the leaf whose best split
//! has the largest gain (ties: the earliest leaf) is split, until `max_leaf_nodes` leaves exist or
//! no leaf has an admissible split (Shi 2007; LightGBM's leaf-wise growth). Leaves at
//! `max_depth` are not split.
//!
//! Rows live in one index buffer; a leaf is a range of it. Splitting a leaf partitions its range
//! in place and stably (left rows first, both sides keep row order, which keeps the gathers of
//! the histogram kernel close to sequential). Only the smaller child's histogram is built; the
//! larger child's is the parent's minus it, computed in the parent's buffer. Histogram buffers
//! come from a pool kept across trees, and no histogram is built for a child that cannot split.
//!
//! Leaf values are `learning_rate * (-G / (H + lambda))` (see [`super::split`]).

use rayon::prelude::*;

use super::binning::Binned;
use super::histogram::{Grads, Hessian, HistBin, Rows, STRIDE, build, subtract};
use super::predict::{Node, Tree};
use super::split::{Split, SplitRules, best_split};

/// Rows per parallel task when gathering ordered gradients.
const GATHER_BLOCK: usize = 16_384;

/// Settings of tree growth.
#[derive(Clone, Copy, Debug)]
pub struct GrowConfig {
    /// Maximum number of leaves (>= 2).
    pub max_leaf_nodes: usize,
    /// Maximum depth of a leaf (root: 0), `None` for no limit.
    pub max_depth: Option<usize>,
    /// Split constraints and the L2 penalty.
    pub rules: SplitRules,
    /// Shrinkage applied to leaf values.
    pub learning_rate: f64,
    /// How hessians are summed.
    pub hessian: Hessian,
}

/// Buffers reused across trees.
#[derive(Debug, Default)]
pub struct Workspace {
    pool: Vec<Vec<HistBin>>,
    ordered_g: Vec<f64>,
    ordered_h: Vec<f64>,
    scratch: Vec<u32>,
}

impl Workspace {
    fn take(&mut self, len: usize) -> Vec<HistBin> {
        match self.pool.pop() {
            Some(h) if h.len() == len => h,
            _ => vec![HistBin::default(); len],
        }
    }

    fn give(&mut self, h: Option<Vec<HistBin>>) {
        if let Some(h) = h {
            self.pool.push(h);
        }
    }
}

/// A leaf during growth.
struct Leaf {
    start: usize,
    end: usize,
    depth: usize,
    total: HistBin,
    hist: Option<Vec<HistBin>>,
    split: Option<Split>,
    /// The internal node that points at this leaf, and whether as its left child.
    parent: Option<(usize, bool)>,
}

/// A grown tree and, per leaf, its range in the index buffer.
#[derive(Debug)]
pub struct Grown {
    /// The tree.
    pub tree: Tree,
    /// Leaf `k` holds `idx[ranges[k].0 .. ranges[k].1]`.
    pub ranges: Vec<(usize, usize)>,
}

/// Stable partition of one block: left rows compacted to the front of `idx`, right rows
/// written to the front of `right`; returns the number of left rows.
fn partition_block(idx: &mut [u32], right: &mut [u32], col: &[u8], split: &Split, nan_code: u8) -> usize {
    let (mut l, mut r) = (0, 0);
    for k in 0..idx.len() {
        let i = idx[k];
        let c = col[i as usize];
        if c <= split.bin || (c == nan_code && split.missing_left) {
            idx[l] = i;
            l += 1;
        } else {
            right[r] = i;
            r += 1;
        }
    }
    l
}

/// Moves the rows of `idx` that go left to the front, stably; returns how many went left.
///
/// Large ranges are cut into fixed blocks of [`GATHER_BLOCK`] rows partitioned in parallel, then
/// reassembled (left parts in block order, then right parts in block order): the result is the
/// same stable partition for any thread count.
fn partition(idx: &mut [u32], scratch: &mut Vec<u32>, col: &[u8], split: &Split, nan_code: u8) -> usize {
    let m = idx.len();
    scratch.resize(m, 0);
    if m <= GATHER_BLOCK {
        let l = partition_block(idx, scratch, col, split, nan_code);
        idx[l..].copy_from_slice(&scratch[..m - l]);
        return l;
    }
    let lefts: Vec<usize> = idx
        .par_chunks_mut(GATHER_BLOCK)
        .zip(scratch.par_chunks_mut(GATHER_BLOCK))
        .map(|(ib, sb)| partition_block(ib, sb, col, split, nan_code))
        .collect();
    let total_left: usize = lefts.iter().sum();
    // block b's left rows are idx[b B .. b B + l_b], its right rows scratch[b B .. (b+1) B - l_b]
    let mut out = vec![0u32; m];
    let (out_left, out_right) = out.split_at_mut(total_left);
    let (mut ol, mut or) = (0, 0);
    for (b, &l) in lefts.iter().enumerate() {
        let start = b * GATHER_BLOCK;
        let len = GATHER_BLOCK.min(m - start);
        out_left[ol..ol + l].copy_from_slice(&idx[start..start + l]);
        out_right[or..or + len - l].copy_from_slice(&scratch[start..start + len - l]);
        ol += l;
        or += len - l;
    }
    idx.copy_from_slice(&out);
    total_left
}

/// `out = values[rows]`, element-wise in parallel over fixed blocks.
fn gather(out: &mut Vec<f64>, rows: &[u32], values: &[f64]) {
    out.resize(rows.len(), 0.0);
    out.par_chunks_mut(GATHER_BLOCK).zip(rows.par_chunks(GATHER_BLOCK)).for_each(|(o, r)| {
        for (o, &i) in o.iter_mut().zip(r) {
            *o = values[i as usize];
        }
    });
}

/// Points child `is_left` of node `p` at `c`.
fn link(tree: &mut Tree, p: usize, is_left: bool, c: i32) {
    let n = &mut tree.nodes[p];
    if is_left { n.left = c } else { n.right = c }
}

/// Everything a tree is grown from.
pub struct Grower<'a> {
    /// The binned features.
    pub binned: &'a Binned,
    /// Settings.
    pub cfg: GrowConfig,
    /// Gradient and hessian per row (hessians unused with a constant hessian).
    pub grad: Grads<'a>,
    /// Which searchable feature slots this tree may split on.
    pub active: &'a [bool],
}

impl Grower<'_> {
    fn hist_len(&self) -> usize {
        self.binned.used.len() * STRIDE
    }

    fn may_split(&self, depth: usize, total: HistBin) -> bool {
        self.cfg.max_depth.is_none_or(|d| depth < d) && self.cfg.rules.may_split(total)
    }

    fn build_rows(&self, ws: &mut Workspace, rows: &[u32]) -> Vec<HistBin> {
        let mut h = ws.take(self.hist_len());
        gather(&mut ws.ordered_g, rows, self.grad.g);
        if self.cfg.hessian == Hessian::Varying {
            gather(&mut ws.ordered_h, rows, self.grad.h);
        }
        let ordered = Grads { g: &ws.ordered_g, h: &ws.ordered_h };
        build(&mut h, self.binned, self.active, Rows::Subset(rows), ordered, self.cfg.hessian);
        h
    }

    fn find_split(&self, ws: &mut Workspace, leaf: &mut Leaf) {
        if let Some(h) = &leaf.hist {
            leaf.split = best_split(h, self.binned, self.active, leaf.total, &self.cfg.rules);
        }
        if leaf.split.is_none() {
            ws.give(leaf.hist.take());
        }
    }

    /// Grows one tree on the rows in `idx` (permuted in place). `all_rows` says that `idx` is
    /// exactly `0..n` in order, which lets the root histogram skip the gather.
    pub fn grow(&self, ws: &mut Workspace, idx: &mut [u32], all_rows: bool) -> Grown {
        let cfg = &self.cfg;
        let mut total = HistBin { n: idx.len() as u32, ..HistBin::default() };
        for &i in idx.iter() {
            total.g += self.grad.g[i as usize];
        }
        total.h = match cfg.hessian {
            Hessian::Constant(c) => c * idx.len() as f64,
            Hessian::Varying => idx.iter().map(|&i| self.grad.h[i as usize]).fold(0.0, |a, b| a + b),
        };
        let mut root = Leaf { start: 0, end: idx.len(), depth: 0, total, hist: None, split: None, parent: None };
        if cfg.max_leaf_nodes >= 2 && self.may_split(0, total) {
            root.hist = Some(if all_rows {
                let mut h = ws.take(self.hist_len());
                build(&mut h, self.binned, self.active, Rows::All, self.grad, cfg.hessian);
                h
            } else {
                self.build_rows(ws, idx)
            });
            self.find_split(ws, &mut root);
        }
        let mut leaves = vec![root];
        let mut tree = Tree::default();
        while leaves.len() < cfg.max_leaf_nodes {
            let mut pick: Option<(usize, Split)> = None;
            for (k, l) in leaves.iter().enumerate() {
                if let Some(s) = l.split {
                    if pick.is_none_or(|(_, b)| s.gain > b.gain) {
                        pick = Some((k, s));
                    }
                }
            }
            let Some((li, s)) = pick else { break };
            let (start, end, depth, parent) = (leaves[li].start, leaves[li].end, leaves[li].depth, leaves[li].parent);
            let parent_hist = leaves[li].hist.take();
            let fb = &self.binned.features[s.feature];
            let mid =
                start + partition(&mut idx[start..end], &mut ws.scratch, self.binned.col(s.feature), &s, fb.nan_code());
            let node = tree.nodes.len();
            tree.nodes.push(Node {
                threshold: fb.cuts.get(s.bin as usize).copied().unwrap_or(f64::INFINITY),
                feature: s.feature as u32,
                left: -1,
                right: -1,
                bin: s.bin,
                default_left: s.missing_left,
            });
            if let Some((p, is_left)) = parent {
                link(&mut tree, p, is_left, node as i32);
            }
            let mut left = Leaf {
                start,
                end: mid,
                depth: depth + 1,
                total: s.left,
                hist: None,
                split: None,
                parent: Some((node, true)),
            };
            let mut right = Leaf {
                start: mid,
                end,
                depth: depth + 1,
                total: s.right,
                hist: None,
                split: None,
                parent: Some((node, false)),
            };
            let more = leaves.len() + 1 < cfg.max_leaf_nodes;
            let can_l = more && self.may_split(depth + 1, s.left);
            let can_r = more && self.may_split(depth + 1, s.right);
            if can_l || can_r {
                let left_smaller = left.total.n <= right.total.n;
                let (small, large, can_small, can_large) = if left_smaller {
                    (&mut left, &mut right, can_l, can_r)
                } else {
                    (&mut right, &mut left, can_r, can_l)
                };
                let small_hist = self.build_rows(ws, &idx[small.start..small.end]);
                match parent_hist {
                    Some(mut ph) if can_large => {
                        subtract(&mut ph, &small_hist, self.binned, self.active);
                        large.hist = Some(ph);
                    }
                    Some(ph) => ws.give(Some(ph)),
                    None if can_large => large.hist = Some(self.build_rows(ws, &idx[large.start..large.end])),
                    None => {}
                }
                if can_small {
                    small.hist = Some(small_hist)
                } else {
                    ws.give(Some(small_hist))
                }
                self.find_split(ws, &mut left);
                self.find_split(ws, &mut right);
            } else {
                ws.give(parent_hist);
            }
            leaves[li] = left;
            leaves.push(right);
        }
        let mut ranges = Vec::with_capacity(leaves.len());
        for (k, l) in leaves.iter_mut().enumerate() {
            if let Some((p, is_left)) = l.parent {
                link(&mut tree, p, is_left, !(k as i32));
            }
            tree.leaf_value.push(cfg.learning_rate * cfg.rules.leaf_value(l.total));
            ranges.push((l.start, l.end));
            ws.give(l.hist.take());
        }
        Grown { tree, ranges }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::gbm::binning::bin_matrix;
    use crate::rng::Seed;
    use faer::Mat;

    fn cfg(leaves: usize, depth: Option<usize>, msl: u32) -> GrowConfig {
        GrowConfig {
            max_leaf_nodes: leaves,
            max_depth: depth,
            rules: SplitRules { l2: 0.0, min_samples_leaf: msl, min_sum_hessian: 0.0, min_gain: 0.0 },
            learning_rate: 1.0,
            hessian: Hessian::Constant(1.0),
        }
    }

    #[test]
    fn blocked_partition_is_the_stable_partition() {
        use rand::RngExt;
        let mut rng = Seed(4).rng();
        let n = 3 * GATHER_BLOCK + 123;
        let col: Vec<u8> = (0..n).map(|_| rng.random_range(0..8u8)).collect();
        let all: Vec<u32> = (0..n as u32).filter(|i| i % 3 != 0).collect();
        for (bin, missing_left) in [(3u8, false), (3, true), (0, true), (7, false)] {
            let split =
                Split { gain: 1.0, feature: 0, bin, missing_left, left: HistBin::default(), right: HistBin::default() };
            let goes_left = |i: &u32| {
                let c = col[*i as usize];
                c <= bin || (c == 7 && missing_left)
            };
            let mut idx = all.clone();
            let l = partition(&mut idx, &mut Vec::new(), &col, &split, 7);
            let want: Vec<u32> = all
                .iter()
                .copied()
                .filter(|i| goes_left(i))
                .chain(all.iter().copied().filter(|i| !goes_left(i)))
                .collect();
            assert_eq!(idx, want);
            assert_eq!(l, all.iter().filter(|i| goes_left(i)).count());
        }
    }

    #[test]
    fn grows_the_best_leaves_and_partitions_rows() {
        // y = 4 [x0 > 0.5] + [x1 > 0.5]: the first split is on x0, then x1 on both sides
        let n = 400;
        let x = Mat::from_fn(n, 2, |i, j| if j == 0 { (i % 2) as f64 } else { ((i / 2) % 2) as f64 });
        let y: Vec<f64> = (0..n).map(|i| 4.0 * x[(i, 0)] + x[(i, 1)]).collect();
        let all: Vec<u32> = (0..n as u32).collect();
        let binned = bin_matrix(x.as_ref(), &all, None, 255, Seed(0));
        let g: Vec<f64> = y.iter().map(|&v| -v).collect();
        let grad = Grads { g: &g, h: &[] };
        let active = [true, true];
        let mut ws = Workspace::default();
        for (leaves, depth, want) in [(31, None, 4), (3, None, 3), (31, Some(1), 2)] {
            let g = Grower { binned: &binned, cfg: cfg(leaves, depth, 1), grad, active: &active };
            let mut idx = all.clone();
            let grown = g.grow(&mut ws, &mut idx, true);
            assert_eq!(grown.tree.n_leaves(), want);
            assert_eq!(grown.tree.nodes[0].feature, 0);
            // every leaf's rows reach that leaf, and leaf values are the leaf means of y
            for (k, &(a, b)) in grown.ranges.iter().enumerate() {
                let mean = idx[a..b].iter().map(|&i| y[i as usize]).sum::<f64>() / (b - a) as f64;
                assert!((grown.tree.leaf_value[k] - mean).abs() < 1e-12);
                for &i in &idx[a..b] {
                    assert_eq!(grown.tree.leaf_of(|f| x[(i as usize, f)]), k);
                }
            }
            let mut sorted = idx.clone();
            sorted.sort_unstable();
            assert_eq!(sorted, all);
        }
        // min_samples_leaf larger than half the rows: no split at all
        let g = Grower { binned: &binned, cfg: cfg(31, None, 201), grad, active: &active };
        let grown = g.grow(&mut ws, &mut all.clone(), true);
        assert_eq!(grown.tree.n_leaves(), 1);
        assert!((grown.tree.leaf_value[0] - 2.5).abs() < 1e-12);
    }
}
