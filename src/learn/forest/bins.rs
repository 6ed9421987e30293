//! Features binned into at most `max_bins` (<= 255) `u8` bins of consecutive ranks, for the
//! binned split search (`split=binned`); computed once per forest from its [`Ranks`].
//!
//! Feature `j` with `m` distinct values: when `m <= max_bins` every rank is its own bin (the
//! binned search then sees every boundary the exact search sees). Otherwise ranks are grouped
//! by quantiles of the fit's rows: walking the ranks in order, bin `b` (opened after `S` rows)
//! closes at the first rank where it holds at least `(n - S) / (max_bins - b)` rows, an equal
//! share of the rows left for the bins left. So bins hold about `n / max_bins` rows each, a
//! value with more rows than that gets a bin alone without starving the bins after it, and the
//! last bin closes only at the last rank: at most `max_bins` bins. Bin `b` covers ranks `lo_b..=hi_b`; a split "bin <= b"
//! is the split "rank <= hi_b" of the exact search, so partitioning and thresholds reuse the
//! ranks (`Ranks::threshold(j, hi_b, lo_c)` for the next non-empty bin `c` of the node).

use super::ranks::Ranks;
use crate::par;

/// Row bins, column-major (`bins[j * n + i]`), and each feature's bin edges in ranks.
#[derive(Debug)]
pub struct Bins {
    /// Rows.
    pub n: usize,
    /// Column-major bin per row.
    pub bins: Vec<u8>,
    /// Per feature, the first rank of each bin.
    pub lo: Vec<Vec<u32>>,
    /// Per feature, the last rank of each bin.
    pub hi: Vec<Vec<u32>>,
}

impl Bins {
    /// Bins every feature of `ranks` into at most `max_bins` (2..=255) bins.
    pub fn new(ranks: &Ranks, max_bins: usize) -> Bins {
        let n = ranks.n;
        let d = ranks.values.len();
        let max_bins = max_bins.clamp(2, 255);
        let cols = par::map_indexed(d, |j| {
            let col = ranks.column(j);
            let m = ranks.values[j].len();
            let mut of_rank = vec![0u8; m];
            let (mut lo, mut hi) = (Vec::new(), Vec::new());
            if m <= max_bins {
                for (r, b) in of_rank.iter_mut().enumerate() {
                    *b = r as u8;
                }
                lo.extend(0..m as u32);
                hi.extend(0..m as u32);
            } else {
                let mut count = vec![0usize; m];
                for &r in col {
                    count[r as usize] += 1;
                }
                let (mut cum, mut opened) = (0usize, 0usize);
                let mut start = 0u32;
                for (r, &c) in count.iter().enumerate() {
                    cum += c;
                    let b = lo.len();
                    of_rank[r] = b as u8;
                    if (cum - opened) * (max_bins - b) >= n - opened || r + 1 == m {
                        lo.push(start);
                        hi.push(r as u32);
                        start = r as u32 + 1;
                        opened = cum;
                    }
                }
            }
            let bins: Vec<u8> = col.iter().map(|&r| of_rank[r as usize]).collect();
            (bins, lo, hi)
        });
        let mut out = Bins { n, bins: Vec::with_capacity(n * d), lo: Vec::with_capacity(d), hi: Vec::with_capacity(d) };
        for (b, lo, hi) in cols {
            out.bins.extend_from_slice(&b);
            out.lo.push(lo);
            out.hi.push(hi);
        }
        out
    }

    /// The bins of feature `j`, one per row.
    #[inline]
    pub fn column(&self, j: usize) -> &[u8] {
        &self.bins[j * self.n..(j + 1) * self.n]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    #[test]
    fn bins_are_quantiles_of_consecutive_ranks() {
        // 1,000 distinct values into 10 bins of 100 rows each
        let x = Mat::from_fn(1000, 2, |i, j| if j == 0 { ((i * 7919) % 1000) as f64 } else { (i % 3) as f64 });
        let r = Ranks::new(x.as_ref());
        let b = Bins::new(&r, 10);
        assert_eq!(b.lo[0].len(), 10);
        for k in 0..10 {
            assert_eq!((b.lo[0][k], b.hi[0][k]), (100 * k as u32, 100 * k as u32 + 99));
        }
        for (i, &bin) in b.column(0).iter().enumerate() {
            let rank = r.column(0)[i];
            assert!(b.lo[0][bin as usize] <= rank && rank <= b.hi[0][bin as usize]);
        }
        // few distinct values: one bin per rank
        assert_eq!(b.lo[1], vec![0, 1, 2]);
        assert_eq!(b.column(1), r.column(1).iter().map(|&v| v as u8).collect::<Vec<_>>());
        // a heavy value gets a bin alone; never more than max_bins bins, ranks covered in order
        let x = Mat::from_fn(1000, 1, |i, _| if i < 600 { 0.0 } else { i as f64 });
        let r = Ranks::new(x.as_ref());
        let b = Bins::new(&r, 4);
        assert!(b.lo[0].len() <= 4);
        assert_eq!((b.lo[0][0], b.hi[0][0]), (0, 0));
        assert_eq!(*b.hi[0].last().unwrap() as usize, r.values[0].len() - 1);
        for k in 1..b.lo[0].len() {
            assert_eq!(b.lo[0][k], b.hi[0][k - 1] + 1);
        }
    }
}
