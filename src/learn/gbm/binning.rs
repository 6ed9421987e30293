//! Feature binning: every feature is cut into at most `max_bins` intervals once, before
//! boosting, and each value is replaced by its one-byte bin code.
//!
//! Cut points are *weighted quantiles* of a seeded subsample of the training rows (at most
//! [`BIN_SAMPLE`] rows, as LightGBM's `bin_construct_sample_cnt` and scikit-learn's
//! `subsample=2e5`). With distinct values `u_1 < ... < u_K` of weights `w_k` in the sample:
//!
//! * if `K <= max_bins`, every distinct value gets its own bin, cut at the midpoints
//!   `(u_k + u_{k+1}) / 2`;
//! * otherwise the cut `j = 1..max_bins-1` sits after the first `u_k` whose cumulative weight
//!   reaches `j W / max_bins` (`W = sum w_k`), again at the midpoint to the next distinct value.
//!
//! A value `v` falls in bin `b` = the number of cuts `< v`, i.e. `v <= cut_b` for the first
//! such `b`; NaN falls in its own bin, the code `n_bins` (at most 255, so codes fit in a `u8`).
//! Because a split "bin <= b" is the same as "value <= cut_b", trees store raw cut values and
//! prediction never bins. Codes are stored column-major (one contiguous column per feature) for
//! the histogram kernel. A feature with one bin and no NaN cannot split and is left out of the
//! search.
//!
//! References: Ke et al. (2017) LightGBM, section 2; scikit-learn `_BinMapper`.

use faer::MatRef;
use rayon::prelude::*;

use crate::rng::{Seed, shuffle, stream};

/// The largest number of training rows the cut points are computed from.
pub const BIN_SAMPLE: usize = 200_000;

/// The cut points of one feature.
#[derive(Clone, Debug, PartialEq)]
pub struct FeatureBins {
    /// Increasing cut values; bin `b` holds values in `(cut_{b-1}, cut_b]`.
    pub cuts: Vec<f64>,
    /// Whether the feature has a NaN among the binned rows.
    pub has_nan: bool,
}

impl FeatureBins {
    /// Number of bins for non-missing values (`cuts.len() + 1`).
    #[inline]
    pub fn n_bins(&self) -> usize {
        self.cuts.len() + 1
    }

    /// The code of NaN (one past the last value bin).
    #[inline]
    pub fn nan_code(&self) -> u8 {
        self.cuts.len() as u8 + 1
    }

    /// The bin code of a value.
    #[inline]
    pub fn code(&self, v: f64) -> u8 {
        if v.is_nan() { self.nan_code() } else { self.cuts.partition_point(|&c| c < v) as u8 }
    }

    /// Whether a split on this feature is possible at all.
    pub fn can_split(&self) -> bool {
        self.n_bins() + usize::from(self.has_nan) >= 2
    }
}

/// The binned training matrix.
#[derive(Clone, Debug)]
pub struct Binned {
    /// Rows.
    pub n: usize,
    /// Codes, column-major: feature `j` is `codes[j n .. (j + 1) n]`.
    pub codes: Vec<u8>,
    /// Cut points per feature (every column of the input).
    pub features: Vec<FeatureBins>,
    /// The features that can split, in column order.
    pub used: Vec<usize>,
}

impl Binned {
    /// The codes of feature `j`.
    #[inline]
    pub fn col(&self, j: usize) -> &[u8] {
        &self.codes[j * self.n..(j + 1) * self.n]
    }
}

/// `(a + b) / 2` that stays strictly below `b` (falls back to `a` for adjacent floats or when
/// the difference overflows).
fn midpoint(a: f64, b: f64) -> f64 {
    let m = a + (b - a) * 0.5;
    if m.is_finite() && m >= a && m < b { m } else { a }
}

/// Cut points from `(value, weight)` pairs (NaN already removed); sorts `pairs` in place.
pub fn cuts_from_sample(pairs: &mut [(f64, f64)], max_bins: usize) -> Vec<f64> {
    pairs.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    cuts_from_sorted(pairs.iter().copied(), max_bins)
}

/// Cut points from unweighted values (NaN already removed); sorts `values` in place. Sorting
/// plain values moves half the bytes of sorting `(value, weight)` pairs.
pub fn cuts_from_values(values: &mut [f64], max_bins: usize) -> Vec<f64> {
    values.sort_unstable_by(f64::total_cmp);
    cuts_from_sorted(values.iter().map(|&v| (v, 1.0)), max_bins)
}

/// Cut points from `(value, weight)` pairs in increasing value order.
fn cuts_from_sorted(sorted: impl Iterator<Item = (f64, f64)>, max_bins: usize) -> Vec<f64> {
    // merge equal values
    let mut distinct: Vec<(f64, f64)> = Vec::new();
    for (v, w) in sorted {
        match distinct.last_mut() {
            Some(last) if last.0 == v => last.1 += w,
            _ => distinct.push((v, w)),
        }
    }
    let k = distinct.len();
    if k <= 1 {
        return Vec::new();
    }
    if k <= max_bins {
        return distinct.windows(2).map(|p| midpoint(p[0].0, p[1].0)).collect();
    }
    let total: f64 = distinct.iter().map(|p| p.1).sum();
    let mut cuts = Vec::with_capacity(max_bins - 1);
    let mut cum = 0.0;
    let mut idx = 0;
    for j in 1..max_bins {
        let target = total * j as f64 / max_bins as f64;
        while idx < k - 1 && cum + distinct[idx].1 < target {
            cum += distinct[idx].1;
            idx += 1;
        }
        if idx >= k - 1 {
            break;
        }
        let c = midpoint(distinct[idx].0, distinct[idx + 1].0);
        if cuts.last().is_none_or(|&last: &f64| c > last) {
            cuts.push(c);
        }
    }
    cuts
}

/// The sample rows the cut points are computed from: all of `rows` when there are at most
/// [`BIN_SAMPLE`], else a seeded sample of that size (kept in row order).
fn sample_rows(rows: &[u32], seed: Seed) -> Vec<u32> {
    if rows.len() <= BIN_SAMPLE {
        return rows.to_vec();
    }
    let mut all = rows.to_vec();
    let mut rng = seed.child(stream::BINNING).rng();
    shuffle(&mut all, &mut rng);
    all.truncate(BIN_SAMPLE);
    all.sort_unstable();
    all
}

/// Bins every column of `x`: cut points from the (sampled) `rows` with positive weight, codes
/// for every row. Parallel over features; the result does not depend on the thread count.
pub fn bin_matrix(x: MatRef<'_, f64>, rows: &[u32], weights: Option<&[f64]>, max_bins: usize, seed: Seed) -> Binned {
    let (n, d) = (x.nrows(), x.ncols());
    let sample = sample_rows(rows, seed);
    let mut features: Vec<FeatureBins> = (0..d)
        .into_par_iter()
        .map(|j| {
            let col = x.col(j);
            let cuts = match weights {
                None => {
                    let mut values: Vec<f64> =
                        sample.iter().map(|&i| col[i as usize]).filter(|v| !v.is_nan()).collect();
                    cuts_from_values(&mut values, max_bins)
                }
                Some(w) => {
                    let mut pairs: Vec<(f64, f64)> = sample
                        .iter()
                        .filter_map(|&i| {
                            let (v, wi) = (col[i as usize], w[i as usize]);
                            (!v.is_nan() && wi > 0.0).then_some((v, wi))
                        })
                        .collect();
                    cuts_from_sample(&mut pairs, max_bins)
                }
            };
            FeatureBins { cuts, has_nan: false }
        })
        .collect();
    let mut codes = vec![0u8; n * d];
    if n > 0 {
        let nan_seen: Vec<bool> = codes
            .par_chunks_mut(n)
            .zip(features.par_iter())
            .enumerate()
            .map(|(j, (out, fb))| {
                let col = x.col(j);
                let mut nan = false;
                match col.try_as_col_major() {
                    Some(c) => {
                        for (o, &v) in out.iter_mut().zip(c.as_slice()) {
                            *o = fb.code(v);
                            nan |= v.is_nan();
                        }
                    }
                    None => {
                        for (i, o) in out.iter_mut().enumerate() {
                            let v = col[i];
                            *o = fb.code(v);
                            nan |= v.is_nan();
                        }
                    }
                }
                nan
            })
            .collect();
        for (fb, nan) in features.iter_mut().zip(nan_seen) {
            fb.has_nan = nan;
        }
    }
    let used = (0..d).filter(|&j| features[j].can_split()).collect();
    Binned { n, codes, features, used }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    #[test]
    fn few_distinct_values_get_one_bin_each() {
        let mut p: Vec<(f64, f64)> = [3.0, 1.0, 2.0, 1.0, 3.0].iter().map(|&v| (v, 1.0)).collect();
        assert_eq!(cuts_from_sample(&mut p, 255), vec![1.5, 2.5]);
        let fb = FeatureBins { cuts: vec![1.5, 2.5], has_nan: false };
        assert_eq!([fb.code(1.0), fb.code(1.5), fb.code(2.0), fb.code(9.0), fb.code(f64::NAN)], [0, 0, 1, 2, 3]);
    }

    #[test]
    fn quantile_cuts_balance_weight() {
        // 1000 distinct values, 4 bins: each bin holds about a quarter of the weight
        let mut p: Vec<(f64, f64)> = (0..1000).rev().map(|i| (i as f64, 1.0)).collect();
        let cuts = cuts_from_sample(&mut p, 4);
        assert_eq!(cuts, vec![249.5, 499.5, 749.5]);
        let mut v: Vec<f64> = (0..1000).rev().map(|i| i as f64).collect();
        assert_eq!(cuts_from_values(&mut v, 4), cuts);
        // weights shift the quantiles: the first 100 values carry half the weight
        let mut p: Vec<(f64, f64)> = (0..1000).map(|i| (i as f64, if i < 100 { 9.0 } else { 1.0 })).collect();
        let cuts = cuts_from_sample(&mut p, 2);
        assert_eq!(cuts, vec![99.5]);
    }

    #[test]
    fn constant_columns_are_dropped_and_nan_kept() {
        let x = Mat::from_fn(6, 3, |i, j| match j {
            0 => 7.0,
            1 => i as f64,
            _ => {
                if i == 2 {
                    f64::NAN
                } else {
                    1.0
                }
            }
        });
        let rows: Vec<u32> = (0..6).collect();
        let b = bin_matrix(x.as_ref(), &rows, None, 255, Seed(0));
        assert_eq!(b.used, vec![1, 2]);
        assert_eq!(b.col(1), &[0, 1, 2, 3, 4, 5]);
        assert_eq!(b.col(2), &[0, 0, 1, 0, 0, 0]);
    }
}
