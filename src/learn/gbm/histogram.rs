//! Gradient histograms: per feature and bin, the sums of gradients `G_b = sum g_i`, hessians
//! `H_b = sum h_i` and row counts `n_b` over the rows of one leaf.
//!
//! Layout: one flat array per leaf with a fixed stride of [`STRIDE`] = 256 bins per searchable
//! feature (slot `k` belongs to `binned.used[k]`), so a `u8` code indexes its bin without a
//! bounds check and each feature's bins are one contiguous block.
//!
//! The kernel reads the leaf's gradients in the leaf's row order ("ordered gradients", gathered
//! once per leaf, LightGBM's trick) and the feature's codes by row index. Each feature's block is
//! built by a single rayon task, summing rows in order, so there is no cross-thread reduction and
//! the sums have the same bits for any thread count.
//!
//! The subtraction trick: a split leaf's two children partition its rows, so
//! `hist(larger child) = hist(parent) - hist(smaller child)`; only the smaller child is built.
//!
//! With a constant hessian (squared error, no weights) the kernel skips the hessian sum and sets
//! `H_b = c n_b` afterwards.

use rayon::prelude::*;

use super::binning::Binned;

/// Bins per feature slot in a histogram (a `u8` code always indexes inside its slot).
pub const STRIDE: usize = 256;

/// Below this many `rows x features` a histogram is built on the calling thread.
const PAR_MIN_WORK: usize = 1 << 15;

/// The sums of one bin.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HistBin {
    /// Sum of gradients.
    pub g: f64,
    /// Sum of hessians.
    pub h: f64,
    /// Number of rows.
    pub n: u32,
}

impl std::ops::Add for HistBin {
    type Output = HistBin;
    #[inline]
    fn add(self, o: HistBin) -> HistBin {
        HistBin { g: self.g + o.g, h: self.h + o.h, n: self.n + o.n }
    }
}

impl std::ops::Sub for HistBin {
    type Output = HistBin;
    #[inline]
    fn sub(self, o: HistBin) -> HistBin {
        HistBin { g: self.g - o.g, h: self.h - o.h, n: self.n - o.n }
    }
}

/// Which rows a histogram is built from.
#[derive(Clone, Copy, Debug)]
pub enum Rows<'a> {
    /// Rows `0..n` in order; gradients indexed by row.
    All,
    /// The given rows; gradients given in the same order (ordered gradients).
    Subset(&'a [u32]),
}

/// Gradient/hessian pairs, one per row (or per entry of [`Rows::Subset`]).
pub type GradHess = [f64; 2];

/// How hessians are summed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Hessian {
    /// Read from the gradient pairs.
    Varying,
    /// Every row's hessian is this constant: `H_b = c n_b`.
    Constant(f64),
}

#[inline(always)]
fn accumulate<const VARYING: bool>(slot: &mut [HistBin; STRIDE], col: &[u8], rows: Rows<'_>, gh: &[GradHess]) {
    match rows {
        Rows::All => {
            for (&c, p) in col.iter().zip(gh) {
                let b = &mut slot[c as usize];
                b.g += p[0];
                if VARYING {
                    b.h += p[1];
                }
                b.n += 1;
            }
        }
        Rows::Subset(r) => {
            for (&i, p) in r.iter().zip(gh) {
                let b = &mut slot[col[i as usize] as usize];
                b.g += p[0];
                if VARYING {
                    b.h += p[1];
                }
                b.n += 1;
            }
        }
    }
}

fn build_slot(slot: &mut [HistBin], col: &[u8], n_codes: usize, rows: Rows<'_>, gh: &[GradHess], hess: Hessian) {
    slot[..n_codes].fill(HistBin::default());
    let Ok(slot) = <&mut [HistBin; STRIDE]>::try_from(slot) else { unreachable!("histogram slots have STRIDE bins") };
    match hess {
        Hessian::Varying => accumulate::<true>(slot, col, rows, gh),
        Hessian::Constant(c) => {
            accumulate::<false>(slot, col, rows, gh);
            for b in slot[..n_codes].iter_mut() {
                b.h = c * b.n as f64;
            }
        }
    }
}

/// Number of codes (value bins plus the NaN bin) of searchable slot `k`.
#[inline]
pub fn n_codes(binned: &Binned, k: usize) -> usize {
    binned.features[binned.used[k]].n_bins() + 1
}

/// Builds the histogram of the rows `rows` (gradients `gh` in the same order) for every active
/// slot; inactive slots are left untouched.
pub fn build(hist: &mut [HistBin], binned: &Binned, active: &[bool], rows: Rows<'_>, gh: &[GradHess], hess: Hessian) {
    let m = match rows {
        Rows::All => binned.n,
        Rows::Subset(r) => r.len(),
    };
    let work = |(k, slot): (usize, &mut [HistBin])| {
        if active[k] {
            build_slot(slot, binned.col(binned.used[k]), n_codes(binned, k), rows, gh, hess);
        }
    };
    if m * binned.used.len() < PAR_MIN_WORK {
        hist.chunks_exact_mut(STRIDE).enumerate().for_each(work);
    } else {
        hist.par_chunks_exact_mut(STRIDE).enumerate().for_each(work);
    }
}

/// `parent -= child` on every active slot (the parent's histogram becomes its other child's).
pub fn subtract(parent: &mut [HistBin], child: &[HistBin], binned: &Binned, active: &[bool]) {
    for (k, (p, c)) in parent.chunks_exact_mut(STRIDE).zip(child.chunks_exact(STRIDE)).enumerate() {
        if active[k] {
            let nc = n_codes(binned, k);
            for (pb, cb) in p[..nc].iter_mut().zip(&c[..nc]) {
                *pb = *pb - *cb;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::gbm::binning::bin_matrix;
    use crate::rng::Seed;
    use faer::Mat;
    use proptest::prelude::*;

    fn direct(binned: &Binned, rows: &[u32], g: &[GradHess]) -> Vec<HistBin> {
        let mut h = vec![HistBin::default(); binned.used.len() * STRIDE];
        for (k, &j) in binned.used.iter().enumerate() {
            for &i in rows {
                let b = &mut h[k * STRIDE + binned.col(j)[i as usize] as usize];
                b.g += g[i as usize][0];
                b.h += g[i as usize][1];
                b.n += 1;
            }
        }
        h
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// With integer-valued gradients every sum is exact, so the subtraction trick must give
        /// the directly built histogram of the other child bit for bit.
        #[test]
        fn subtraction_equals_direct_build(
            vals in proptest::collection::vec((0i32..6, -3i32..3, -50i32..50, 1i32..4, any::<bool>()), 2..300),
        ) {
            let n = vals.len();
            let x = Mat::from_fn(n, 2, |i, j| {
                let v = if j == 0 { vals[i].0 } else { vals[i].1 };
                if j == 1 && v == -3 { f64::NAN } else { v as f64 }
            });
            let all: Vec<u32> = (0..n as u32).collect();
            let binned = bin_matrix(x.as_ref(), &all, None, 255, Seed(1));
            let gh: Vec<GradHess> = vals.iter().map(|v| [v.2 as f64, v.3 as f64]).collect();
            let active = vec![true; binned.used.len()];
            let mut parent = vec![HistBin::default(); binned.used.len() * STRIDE];
            build(&mut parent, &binned, &active, Rows::All, &gh, Hessian::Varying);
            let left: Vec<u32> = all.iter().copied().filter(|&i| vals[i as usize].4).collect();
            let right: Vec<u32> = all.iter().copied().filter(|&i| !vals[i as usize].4).collect();
            let ordered: Vec<GradHess> = left.iter().map(|&i| gh[i as usize]).collect();
            let mut lh = vec![HistBin::default(); parent.len()];
            build(&mut lh, &binned, &active, Rows::Subset(&left), &ordered, Hessian::Varying);
            prop_assert_eq!(&lh, &direct(&binned, &left, &gh));
            subtract(&mut parent, &lh, &binned, &active);
            prop_assert_eq!(&parent, &direct(&binned, &right, &gh));
        }
    }

    #[test]
    fn constant_hessian_matches_varying() {
        let x = Mat::from_fn(500, 3, |i, j| ((i * (j + 3)) % 17) as f64);
        let all: Vec<u32> = (0..500).collect();
        let binned = bin_matrix(x.as_ref(), &all, None, 255, Seed(1));
        let gh: Vec<GradHess> = (0..500).map(|i| [(i % 7) as f64 - 3.0, 2.0]).collect();
        let active = vec![true; 3];
        let mut a = vec![HistBin::default(); 3 * STRIDE];
        let mut b = a.clone();
        build(&mut a, &binned, &active, Rows::All, &gh, Hessian::Varying);
        build(&mut b, &binned, &active, Rows::All, &gh, Hessian::Constant(2.0));
        assert_eq!(a, b);
        assert_eq!(a[..17].iter().map(|b| b.n).sum::<u32>(), 500);
    }
}
