//! The best split of one leaf from its histogram.
//!
//! With `G, H` the gradient and hessian sums of a leaf and `lambda` the L2 penalty, the
//! second-order objective of a leaf at its optimal value `v* = -G / (H + lambda)` is
//! `-G^2 / (2 (H + lambda))`, so splitting into `L` and `R` lowers it by half of
//!
//! `gain = G_L^2 / (H_L + lambda) + G_R^2 / (H_R + lambda) - G^2 / (H + lambda)`
//!
//! (Chen & Guestrin 2016, eq. 7). For every searchable feature the bins are scanned in order
//! (`left = bins <= b`) twice: once with the NaN bin on the right and, when the leaf has NaN
//! rows, once with it on the left; the missing side is whichever gives the larger gain. A
//! leaf without NaN rows sends future NaN to the child with more rows (scikit-learn's rule).
//! A split is admissible when both children have at least `min_samples_leaf` rows and a
//! hessian sum of at least `min_sum_hessian`, and its gain exceeds `min_gain_to_split`.
//! Ties keep the first candidate (feature order, then bin order, NaN right before NaN left),
//! so the choice is deterministic.

use rayon::prelude::*;

use super::binning::Binned;
use super::histogram::{HistBin, STRIDE};

/// The constraints on a split.
#[derive(Clone, Copy, Debug)]
pub struct SplitRules {
    /// L2 penalty on leaf values (`lambda`).
    pub l2: f64,
    /// Minimum rows per child.
    pub min_samples_leaf: u32,
    /// Minimum hessian sum per child.
    pub min_sum_hessian: f64,
    /// Minimum gain.
    pub min_gain: f64,
}

impl SplitRules {
    /// `G^2 / (H + lambda)`, the (doubled, negated) optimal objective of a leaf.
    #[inline]
    pub fn score(&self, t: HistBin) -> f64 {
        let d = t.h + self.l2;
        if d > 0.0 { t.g * t.g / d } else { 0.0 }
    }

    /// The optimal (unshrunk) leaf value `-G / (H + lambda)`.
    #[inline]
    pub fn leaf_value(&self, t: HistBin) -> f64 {
        let d = t.h + self.l2;
        if d > 0.0 { -t.g / d } else { 0.0 }
    }

    /// Whether a child with these sums is allowed.
    #[inline]
    fn admissible(&self, t: HistBin) -> bool {
        t.n >= self.min_samples_leaf && t.h >= self.min_sum_hessian
    }

    /// Whether a leaf with these sums could be split at all.
    #[inline]
    pub fn may_split(&self, t: HistBin) -> bool {
        t.n >= 2 * self.min_samples_leaf && t.h >= 2.0 * self.min_sum_hessian
    }
}

/// A chosen split.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Split {
    /// The gain (see module docs).
    pub gain: f64,
    /// The feature column.
    pub feature: usize,
    /// Rows with code `<= bin` go left.
    pub bin: u8,
    /// Whether NaN rows go left.
    pub missing_left: bool,
    /// Sums of the left child.
    pub left: HistBin,
    /// Sums of the right child.
    pub right: HistBin,
}

/// The best admissible split of a leaf with totals `total`, or `None`. Features are searched in
/// parallel and the winner picked in feature order, so the result does not depend on threads.
pub fn best_split(
    hist: &[HistBin],
    binned: &Binned,
    active: &[bool],
    total: HistBin,
    rules: &SplitRules,
) -> Option<Split> {
    let parent = rules.score(total);
    let per_feature: Vec<Option<Split>> = hist
        .par_chunks_exact(STRIDE)
        .with_min_len(8)
        .enumerate()
        .map(
            |(k, slot)| {
                if active[k] { best_in_feature(slot, binned.used[k], binned, total, parent, rules) } else { None }
            },
        )
        .collect();
    let mut best: Option<Split> = None;
    for s in per_feature.into_iter().flatten() {
        if best.is_none_or(|b| s.gain > b.gain) {
            best = Some(s);
        }
    }
    best
}

/// The best admissible split on one feature (`slot` is its histogram).
fn best_in_feature(
    slot: &[HistBin],
    feature: usize,
    binned: &Binned,
    total: HistBin,
    parent: f64,
    rules: &SplitRules,
) -> Option<Split> {
    let nb = binned.features[feature].n_bins();
    let nan = slot[nb];
    let mut best: Option<Split> = None;
    let mut best_gain = rules.min_gain;
    let mut cum = HistBin::default();
    for (b, &bin) in slot[..nb].iter().enumerate() {
        if bin.n == 0 {
            // the same children as the previous threshold: an equal gain never replaces it
            continue;
        }
        cum = cum + bin;
        if cum.n + nan.n < rules.min_samples_leaf {
            continue;
        }
        // NaN to the right
        let right = total - cum;
        if right.n < rules.min_samples_leaf {
            break;
        }
        let mut consider = |left: HistBin, right: HistBin, missing_left: bool| {
            if rules.admissible(left) && rules.admissible(right) {
                let gain = rules.score(left) + rules.score(right) - parent;
                if gain > best_gain {
                    best_gain = gain;
                    best = Some(Split { gain, feature, bin: b as u8, missing_left, left, right });
                }
            }
        };
        if nan.n == 0 {
            consider(cum, right, cum.n >= right.n);
        } else {
            consider(cum, right, false);
            let left = cum + nan;
            consider(left, total - left, true);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::gbm::binning::bin_matrix;
    use crate::learn::gbm::histogram::{Grads, Hessian, Rows, build};
    use crate::rng::Seed;
    use faer::Mat;

    fn rules() -> SplitRules {
        SplitRules { l2: 0.0, min_samples_leaf: 1, min_sum_hessian: 0.0, min_gain: 0.0 }
    }

    fn setup(x: &Mat<f64>, g: &[f64]) -> (Binned, Vec<HistBin>, HistBin) {
        let n = x.nrows();
        let all: Vec<u32> = (0..n as u32).collect();
        let binned = bin_matrix(x.as_ref(), &all, None, 255, Seed(0));
        let h = vec![1.0; n];
        let mut hist = vec![HistBin::default(); binned.used.len() * STRIDE];
        build(&mut hist, &binned, &vec![true; binned.used.len()], Rows::All, Grads { g, h: &h }, Hessian::Varying);
        let total = HistBin { g: g.iter().sum(), h: n as f64, n: n as u32 };
        (binned, hist, total)
    }

    #[test]
    fn finds_the_step_and_its_gain() {
        // gradients -1 for x < 3, +1 above: the split is between 2 and 3 on feature 1
        let x = Mat::from_fn(6, 2, |i, j| if j == 0 { (i % 2) as f64 } else { i as f64 });
        let g = [-1.0, -1.0, -1.0, 1.0, 1.0, 1.0];
        let (binned, hist, total) = setup(&x, &g);
        let s = best_split(&hist, &binned, &[true, true], total, &rules()).unwrap();
        assert_eq!((s.feature, s.bin), (1, 2));
        assert_eq!(s.gain, 9.0 / 3.0 + 9.0 / 3.0);
        assert_eq!((s.left.n, s.right.n), (3, 3));
        // min_samples_leaf 4 makes every split inadmissible
        let r = SplitRules { min_samples_leaf: 4, ..rules() };
        assert!(best_split(&hist, &binned, &[true, true], total, &r).is_none());
        // the feature switched off is never chosen
        let s = best_split(&hist, &binned, &[true, false], total, &rules()).unwrap();
        assert_eq!(s.feature, 0);
    }

    #[test]
    fn nan_goes_to_the_better_side() {
        // NaN rows have the gradients of the high values: they must go right with them... and
        // when they resemble the low values, left.
        for (nan_g, want_left) in [(1.0, false), (-1.0, true)] {
            let x = Mat::from_fn(8, 1, |i, _| if i >= 6 { f64::NAN } else { i as f64 });
            let g = [-1.0, -1.0, -1.0, 1.0, 1.0, 1.0, nan_g, nan_g];
            let (binned, hist, total) = setup(&x, &g);
            let s = best_split(&hist, &binned, &[true], total, &rules()).unwrap();
            assert_eq!((s.bin, s.missing_left), (2, want_left));
        }
    }
}
