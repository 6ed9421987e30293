//! Growing one tree: depth-first, best split per node over the node's sorted values (or bins).
//!
//! Rows carry weights `w_i` (bootstrap count times sample weight). For a node with weight
//! `W = sum w_i` and weighted target sum `S = sum w_i y_i`, splitting into `L` and `R` lowers the
//! weighted squared error `sum w_i (y_i - mean)^2` by
//! `S_L^2 / W_L + S_R^2 / W_R - S^2 / W`, so the best split maximises the proxy
//! `S_L^2 / W_L + S_R^2 / W_R` (scikit-learn's `proxy_impurity_improvement`). For 0/1 targets
//! the Gini impurity is `2 p (1 - p)`, exactly twice the variance `p (1 - p)`, so the Gini split
//! maximises the same proxy: one split search serves both criteria, and only the reported
//! impurity (for `min_impurity_decrease` and importances) is scaled by 2.
//!
//! Per node, `m` features are drawn without replacement (a partial Fisher–Yates shuffle, as
//! scikit-learn); a feature constant in the node does not count towards `m`. For each, the
//! node's rows are sorted by (rank, position) packed in a `u64` (radix sort, see [`super::sort`]),
//! then scanned once, evaluating
//! the proxy at every boundary between distinct values that leaves at least
//! `min_samples_leaf` rows and `min_weight_leaf` weight on each side. The first best candidate
//! in draw order wins ties. The threshold is the midpoint of the largest value going left and
//! the smallest going right among the node's rows ([`Ranks::threshold`]). The node's rows are then partitioned stably, so each node is a
//! contiguous range of one index buffer; all scratch is allocated once per tree.
//!
//! With `split=binned` ([`super::bins`]), nodes of at least [`BINNED_MIN_ROWS`] rows replace
//! the sort by a histogram per candidate feature: per bin the weight, weighted target sum and
//! row count of the node's rows, then one scan of the boundaries between non-empty bins with
//! the same proxy, rules and tie order (bin `b` left of the next non-empty bin `c` is the
//! split "rank <= hi_b", threshold between the values of ranks `hi_b` and `lo_c`). Smaller
//! nodes search exactly. With a bin per distinct value the candidates are the exact search's;
//! the sums differ only in their order of addition. Histograms are not derived from the
//! parent's by subtraction: that needs every feature's histogram at the parent, while the
//! forests used here draw `m = sqrt(d)` features per node (7 of 50).
//!
//! Node impurity uses two passes (mean, then `sum w (y - mean)^2 / W`) for accuracy.
//! References: Breiman (2001), *Random Forests*; Louppe (2014), *Understanding Random Forests*,
//! ch. 3 and 5; scikit-learn's `_splitter.pyx` / `_criterion.pyx` (read for conventions).

use rand::RngExt;

use super::bins::Bins;
use super::ranks::Ranks;
use super::sort;
use super::tree::Tree;
use crate::rng::Rng;

/// Impurities at or below this are pure (scikit-learn's `EPSILON`).
const EPSILON: f64 = f64::EPSILON;

/// With `split=binned`, nodes of fewer rows than this use the exact search: a histogram costs
/// a pass over the node's rows plus a clear and a scan of up to 255 bins, which is no cheaper
/// than sorting a small node (whose exact candidates are then also finer).
pub const BINNED_MIN_ROWS: usize = 256;

/// Growth rules of one tree, resolved from the forest parameters and the tree's sample.
#[derive(Clone, Copy, Debug)]
pub struct GrowRules {
    /// Maximum depth (`usize::MAX` for none).
    pub max_depth: usize,
    /// Minimum rows to split.
    pub min_samples_split: usize,
    /// Minimum rows per child.
    pub min_samples_leaf: usize,
    /// Fraction of the tree's weight each child must keep.
    pub min_weight_fraction_leaf: f64,
    /// Minimum weighted impurity decrease.
    pub min_impurity_decrease: f64,
    /// Candidate features per node.
    pub max_features: usize,
    /// Impurity scale: 1 for squared error, 2 for Gini on 0/1 targets.
    pub impurity_scale: f64,
}

/// A grown tree and its unnormalised impurity decreases per feature.
#[derive(Debug)]
pub struct Grown {
    /// The tree.
    pub tree: Tree,
    /// `sum over splits on j of W_t I_t - W_l I_l - W_r I_r`.
    pub importance: Vec<f64>,
}

/// The tree's rows: index into the training data and `[weight, target]`, kept aligned while
/// the rows are partitioned. Rows must be in increasing index order: partitions are stable, so
/// every node's rows stay in index order and gathering a feature's ranks sweeps memory forward.
pub struct Sample {
    /// Training row indices, increasing (rows of positive weight only).
    pub idx: Vec<u32>,
    /// `[weight (> 0), target]` per row.
    pub wy: Vec<[f64; 2]>,
}

struct NodeStats {
    w: f64,
    mean: f64,
    impurity: f64,
}

struct Pending {
    node: u32,
    start: usize,
    end: usize,
    depth: usize,
    stats: NodeStats,
}

struct Split {
    feature: usize,
    /// The largest rank going left.
    rank: u32,
    /// The smallest rank going right (the next value present in the node).
    next: u32,
}

fn stats(wy: &[[f64; 2]], scale: f64) -> NodeStats {
    let (mut sw, mut sy) = (0.0, 0.0);
    for &[wi, yi] in wy {
        sw += wi;
        sy += wi * yi;
    }
    let mean = sy / sw;
    let mut q = 0.0;
    for &[wi, yi] in wy {
        q += wi * (yi - mean) * (yi - mean);
    }
    NodeStats { w: sw, mean, impurity: scale * q / sw }
}

struct Grower<'a> {
    ranks: &'a Ranks,
    bins: Option<&'a Bins>,
    /// Per bin `[weight, weighted target sum]` and row count (binned search only).
    hist: Vec<[f64; 2]>,
    hcount: Vec<u32>,
    rules: GrowRules,
    min_weight_leaf: f64,
    sample: Sample,
    spare: Sample,
    keys: Vec<u64>,
    tmp: Vec<u64>,
    features: Vec<usize>,
}

impl Grower<'_> {
    /// The best split of rows `start..end`, or `None` when no candidate feature has a valid one.
    fn best_split(&mut self, start: usize, end: usize, total: &NodeStats, rng: &mut Rng) -> Option<Split> {
        let n = end - start;
        let d = self.features.len();
        let msl = self.rules.min_samples_leaf;
        let (w_tot, s_tot) = (total.w, total.w * total.mean);
        let wy = &self.sample.wy[start..end];
        let idx = &self.sample.idx[start..end];
        let keys = &mut self.keys[..n];
        let mut best: Option<Split> = None;
        let mut best_proxy = f64::NEG_INFINITY;
        let mut visited = 0;
        let bins = self.bins.filter(|_| n >= BINNED_MIN_ROWS);
        for j in 0..d {
            if visited >= self.rules.max_features {
                break;
            }
            let r = rng.random_range(j..d);
            self.features.swap(j, r);
            let f = self.features[j];
            if let Some(bins) = bins {
                // histogram of the node's rows over the feature's bins, then one scan of the
                // boundaries between non-empty bins (the same rules and tie order as below)
                let (hist, hcount) = (&mut self.hist, &mut self.hcount);
                let nb = bins.lo[f].len();
                hist[..nb].fill([0.0; 2]);
                hcount[..nb].fill(0);
                let col = bins.column(f);
                let (mut lo, mut hi) = (u8::MAX, 0u8);
                for (&i, &[w, y]) in idx.iter().zip(wy) {
                    let b = col[i as usize];
                    lo = lo.min(b);
                    hi = hi.max(b);
                    let h = &mut hist[b as usize];
                    h[0] += w;
                    h[1] += w * y;
                    hcount[b as usize] += 1;
                }
                if lo == hi {
                    continue; // constant in this node: does not count as visited
                }
                visited += 1;
                let (mut wl, mut sl, mut nl) = (0.0, 0.0, 0usize);
                let mut prev = lo as usize;
                for b in lo as usize..=hi as usize {
                    if hcount[b] == 0 {
                        continue;
                    }
                    if b > lo as usize {
                        // candidate: bins <= prev go left, `b` is the next non-empty bin
                        if nl >= msl {
                            if n - nl < msl {
                                break;
                            }
                            let wr = w_tot - wl;
                            if !(wl < self.min_weight_leaf || wr < self.min_weight_leaf || wl <= 0.0 || wr <= 0.0) {
                                let sr = s_tot - sl;
                                let proxy = sl * sl / wl + sr * sr / wr;
                                if proxy > best_proxy {
                                    best_proxy = proxy;
                                    best = Some(Split { feature: f, rank: bins.hi[f][prev], next: bins.lo[f][b] });
                                }
                            }
                        }
                    }
                    wl += hist[b][0];
                    sl += hist[b][1];
                    nl += hcount[b] as usize;
                    prev = b;
                }
                continue;
            }
            let col = self.ranks.column(f);
            let (mut lo, mut hi) = (u32::MAX, 0u32);
            for (p, (key, &i)) in keys.iter_mut().zip(idx).enumerate() {
                let r = col[i as usize];
                lo = lo.min(r);
                hi = hi.max(r);
                *key = (u64::from(r) << 32) | p as u64;
            }
            if lo == hi {
                continue; // constant in this node: does not count as visited
            }
            sort::sort_keys(keys, &mut self.tmp[..n], lo, hi);
            visited += 1;
            let (mut wl, mut sl) = (0.0, 0.0);
            for p in 0..n - 1 {
                let [w, y] = wy[keys[p] as u32 as usize];
                wl += w;
                sl += w * y;
                let rank = (keys[p] >> 32) as u32;
                let next = (keys[p + 1] >> 32) as u32;
                if next == rank {
                    continue;
                }
                let nl = p + 1;
                if nl < msl {
                    continue;
                }
                if n - nl < msl {
                    break;
                }
                let wr = w_tot - wl;
                if wl < self.min_weight_leaf || wr < self.min_weight_leaf || wl <= 0.0 || wr <= 0.0 {
                    continue;
                }
                let sr = s_tot - sl;
                let proxy = sl * sl / wl + sr * sr / wr;
                if proxy > best_proxy {
                    best_proxy = proxy;
                    best = Some(Split { feature: f, rank, next });
                }
            }
        }
        best
    }

    /// Moves rows of `start..end` with rank `<= rank` on `feature` to the front, keeping the
    /// order within each side (stable); returns the first row of the right part.
    fn partition(&mut self, start: usize, end: usize, split: &Split) -> usize {
        let col = self.ranks.column(split.feature);
        let (s, t) = (&mut self.sample, &mut self.spare);
        let mut l = start;
        let mut r = 0;
        for k in start..end {
            let i = s.idx[k];
            if col[i as usize] <= split.rank {
                s.idx[l] = i;
                s.wy[l] = s.wy[k];
                l += 1;
            } else {
                t.idx[r] = i;
                t.wy[r] = s.wy[k];
                r += 1;
            }
        }
        s.idx[l..end].copy_from_slice(&t.idx[..r]);
        s.wy[l..end].copy_from_slice(&t.wy[..r]);
        l
    }
}

/// Grows a tree on `sample` (rows of positive weight), drawing candidate features from `rng`.
/// An empty sample gives a single leaf predicting `fallback`.
/// With `bins`, nodes of at least [`BINNED_MIN_ROWS`] rows search the bins' boundaries only.
pub fn grow(
    ranks: &Ranks,
    bins: Option<&Bins>,
    sample: Sample,
    rules: GrowRules,
    fallback: f64,
    rng: &mut Rng,
) -> Grown {
    let d = ranks.values.len();
    let mut tree = Tree::default();
    let mut importance = vec![0.0; d];
    let n = sample.idx.len();
    if n == 0 {
        tree.push_leaf(fallback);
        return Grown { tree, importance };
    }
    let scale = rules.impurity_scale;
    let root = stats(&sample.wy, scale);
    let w_root = root.w;
    let nb = if bins.is_some() { 256 } else { 0 };
    let mut g = Grower {
        ranks,
        bins,
        hist: vec![[0.0; 2]; nb],
        hcount: vec![0; nb],
        rules,
        min_weight_leaf: rules.min_weight_fraction_leaf * w_root,
        sample,
        spare: Sample { idx: vec![0; n], wy: vec![[0.0; 2]; n] },
        keys: vec![0u64; n],
        tmp: vec![0u64; n],
        features: (0..d).collect(),
    };
    let node = tree.push_leaf(root.mean);
    let mut stack = vec![Pending { node, start: 0, end: n, depth: 0, stats: root }];
    while let Some(Pending { node, start, end, depth, stats: st }) = stack.pop() {
        let rows = end - start;
        let leaf = depth >= rules.max_depth
            || rows < rules.min_samples_split
            || rows < 2 * rules.min_samples_leaf
            || st.w < 2.0 * g.min_weight_leaf
            || st.impurity <= EPSILON;
        if leaf {
            continue;
        }
        let Some(split) = g.best_split(start, end, &st, rng) else { continue };
        let mid = g.partition(start, end, &split);
        let left = stats(&g.sample.wy[start..mid], scale);
        let right = stats(&g.sample.wy[mid..end], scale);
        let decrease = st.w * st.impurity - left.w * left.impurity - right.w * right.impurity;
        if decrease / w_root + EPSILON < rules.min_impurity_decrease {
            continue;
        }
        importance[split.feature] += decrease;
        let l = tree.push_leaf(left.mean);
        let r = tree.push_leaf(right.mean);
        tree.set_split(node, split.feature as u32, ranks.threshold(split.feature, split.rank, split.next), l);
        stack.push(Pending { node: r, start: mid, end, depth: depth + 1, stats: right });
        stack.push(Pending { node: l, start, end: mid, depth: depth + 1, stats: left });
    }
    Grown { tree, importance }
}
