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

/// Gradients and hessians, one per row (or per entry of [`Rows::Subset`]); `h` is ignored (and
/// may be empty) with [`Hessian::Constant`].
#[derive(Clone, Copy, Debug)]
pub struct Grads<'a> {
    /// Gradients.
    pub g: &'a [f64],
    /// Hessians.
    pub h: &'a [f64],
}

/// How hessians are summed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Hessian {
    /// Read from the gradient pairs.
    Varying,
    /// Every row's hessian is this constant: `H_b = c n_b`.
    Constant(f64),
}

/// Features summed in one pass over the rows: the row index and gradient are loaded once for
/// the group, and the group's bins give independent dependency chains.
const GROUP: usize = 4;

type Slot = [HistBin; STRIDE];

#[inline(always)]
fn bump<const VARYING: bool>(b: &mut HistBin, g: f64, h: f64) {
    b.g += g;
    if VARYING {
        b.h += h;
    }
    b.n += 1;
}

/// Sums `GROUP` features at once.
fn accumulate_group<const VARYING: bool>(
    slots: [&mut Slot; GROUP],
    cols: [&[u8]; GROUP],
    rows: Rows<'_>,
    gr: Grads<'_>,
) {
    let [s0, s1, s2, s3] = slots;
    let m = match rows {
        Rows::All => gr.g.len(),
        Rows::Subset(r) => r.len(),
    };
    let g = &gr.g[..m];
    let h = if VARYING { &gr.h[..m] } else { gr.h };
    match rows {
        Rows::All => {
            let (c0, c1, c2, c3) = (&cols[0][..m], &cols[1][..m], &cols[2][..m], &cols[3][..m]);
            for k in 0..m {
                let (gk, hk) = (g[k], if VARYING { h[k] } else { 0.0 });
                bump::<VARYING>(&mut s0[c0[k] as usize], gk, hk);
                bump::<VARYING>(&mut s1[c1[k] as usize], gk, hk);
                bump::<VARYING>(&mut s2[c2[k] as usize], gk, hk);
                bump::<VARYING>(&mut s3[c3[k] as usize], gk, hk);
            }
        }
        Rows::Subset(r) => {
            let [c0, c1, c2, c3] = cols;
            for k in 0..m {
                let i = r[k] as usize;
                let (gk, hk) = (g[k], if VARYING { h[k] } else { 0.0 });
                bump::<VARYING>(&mut s0[c0[i] as usize], gk, hk);
                bump::<VARYING>(&mut s1[c1[i] as usize], gk, hk);
                bump::<VARYING>(&mut s2[c2[i] as usize], gk, hk);
                bump::<VARYING>(&mut s3[c3[i] as usize], gk, hk);
            }
        }
    }
}

/// Sums one feature.
fn accumulate_one<const VARYING: bool>(slot: &mut Slot, col: &[u8], rows: Rows<'_>, gr: Grads<'_>) {
    match rows {
        Rows::All => {
            for (k, &c) in col.iter().enumerate().take(gr.g.len()) {
                bump::<VARYING>(&mut slot[c as usize], gr.g[k], if VARYING { gr.h[k] } else { 0.0 });
            }
        }
        Rows::Subset(r) => {
            for (k, &i) in r.iter().enumerate() {
                bump::<VARYING>(&mut slot[col[i as usize] as usize], gr.g[k], if VARYING { gr.h[k] } else { 0.0 });
            }
        }
    }
}

fn as_slot(s: &mut [HistBin]) -> &mut Slot {
    match <&mut Slot>::try_from(s) {
        Ok(slot) => slot,
        Err(_) => unreachable!("histogram slots have STRIDE bins"),
    }
}

/// Number of codes (value bins plus the NaN bin) of searchable slot `k`.
#[inline]
pub fn n_codes(binned: &Binned, k: usize) -> usize {
    binned.features[binned.used[k]].n_bins() + 1
}

/// Builds the slots `first..first + chunk.len() / STRIDE` (the active ones).
fn build_chunk(
    chunk: &mut [HistBin],
    first: usize,
    binned: &Binned,
    active: &[bool],
    rows: Rows<'_>,
    gr: Grads<'_>,
    hess: Hessian,
) {
    let n_slots = chunk.len() / STRIDE;
    for (k, slot) in chunk.chunks_exact_mut(STRIDE).enumerate() {
        if active[first + k] {
            slot[..n_codes(binned, first + k)].fill(HistBin::default());
        }
    }
    let varying = hess == Hessian::Varying;
    if n_slots == GROUP && active[first..first + GROUP].iter().all(|&a| a) {
        let cols = std::array::from_fn(|k| binned.col(binned.used[first + k]));
        let mut it = chunk.chunks_exact_mut(STRIDE).map(as_slot);
        let slots: [&mut Slot; GROUP] = std::array::from_fn(|_| it.next().unwrap_or_else(|| unreachable!()));
        if varying {
            accumulate_group::<true>(slots, cols, rows, gr);
        } else {
            accumulate_group::<false>(slots, cols, rows, gr);
        }
    } else {
        for (k, slot) in chunk.chunks_exact_mut(STRIDE).enumerate() {
            if active[first + k] {
                let col = binned.col(binned.used[first + k]);
                if varying {
                    accumulate_one::<true>(as_slot(slot), col, rows, gr);
                } else {
                    accumulate_one::<false>(as_slot(slot), col, rows, gr);
                }
            }
        }
    }
    if let Hessian::Constant(c) = hess {
        for (k, slot) in chunk.chunks_exact_mut(STRIDE).enumerate() {
            if active[first + k] {
                for b in slot[..n_codes(binned, first + k)].iter_mut() {
                    b.h = c * b.n as f64;
                }
            }
        }
    }
}

/// Builds the histogram of the rows `rows` (gradients `gr` in the same order) for every active
/// slot; inactive slots are left untouched. Parallel over groups of features.
pub fn build(hist: &mut [HistBin], binned: &Binned, active: &[bool], rows: Rows<'_>, gr: Grads<'_>, hess: Hessian) {
    let m = match rows {
        Rows::All => binned.n,
        Rows::Subset(r) => r.len(),
    };
    let work = |(q, chunk): (usize, &mut [HistBin])| build_chunk(chunk, q * GROUP, binned, active, rows, gr, hess);
    if m * binned.used.len() < PAR_MIN_WORK {
        hist.chunks_mut(STRIDE * GROUP).enumerate().for_each(work);
    } else {
        hist.par_chunks_mut(STRIDE * GROUP).enumerate().for_each(work);
    }
}

/// `parent -= child` on every active slot (the parent's histogram becomes its other child's).
pub fn subtract(parent: &mut [HistBin], child: &[HistBin], binned: &Binned, active: &[bool]) {
    parent.par_chunks_exact_mut(STRIDE).zip(child.par_chunks_exact(STRIDE)).with_min_len(8).enumerate().for_each(
        |(k, (p, c))| {
            if active[k] {
                let nc = n_codes(binned, k);
                for (pb, cb) in p[..nc].iter_mut().zip(&c[..nc]) {
                    *pb = *pb - *cb;
                }
            }
        },
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::gbm::binning::bin_matrix;
    use crate::rng::Seed;
    use faer::Mat;
    use proptest::prelude::*;

    /// The histogram by the definition, one row at a time.
    fn direct(binned: &Binned, active: &[bool], rows: &[u32], g: &[f64], h: &[f64]) -> Vec<HistBin> {
        let mut out = vec![HistBin::default(); binned.used.len() * STRIDE];
        for (k, &j) in binned.used.iter().enumerate() {
            if active[k] {
                for &i in rows {
                    let b = &mut out[k * STRIDE + binned.col(j)[i as usize] as usize];
                    b.g += g[i as usize];
                    b.h += h[i as usize];
                    b.n += 1;
                }
            }
        }
        out
    }

    /// Only the bins a histogram defines (value bins and the NaN bin of each active slot).
    fn defined(binned: &Binned, active: &[bool], hist: &[HistBin]) -> Vec<HistBin> {
        let mut v = Vec::new();
        for k in 0..binned.used.len() {
            if active[k] {
                v.extend_from_slice(&hist[k * STRIDE..k * STRIDE + n_codes(binned, k)]);
            }
        }
        v
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        /// With integer-valued gradients every sum is exact, so a built histogram equals the
        /// definition and the subtraction trick gives the other child's histogram bit for bit;
        /// six features exercise the grouped kernel and the single-feature remainder, and a
        /// random mask the inactive slots.
        #[test]
        fn subtraction_equals_direct_build(
            vals in proptest::collection::vec((0i32..6, -3i32..3, -50i32..50, 1i32..4, any::<bool>()), 2..300),
            mask in proptest::collection::vec(any::<bool>(), 6),
            constant in any::<bool>(),
        ) {
            let n = vals.len();
            let x = Mat::from_fn(n, 6, |i, j| {
                let v = if j % 2 == 0 { vals[i].0 + j as i32 } else { vals[i].1 * j as i32 };
                if j == 1 && vals[i].1 == -3 { f64::NAN } else { v as f64 }
            });
            let all: Vec<u32> = (0..n as u32).collect();
            let binned = bin_matrix(x.as_ref(), &all, None, 255, Seed(1));
            let active: Vec<bool> = (0..binned.used.len()).map(|k| mask[k]).collect();
            let g: Vec<f64> = vals.iter().map(|v| v.2 as f64).collect();
            let (h, hess): (Vec<f64>, Hessian) = if constant {
                (vec![2.0; n], Hessian::Constant(2.0))
            } else {
                (vals.iter().map(|v| v.3 as f64).collect(), Hessian::Varying)
            };
            let mut parent = vec![HistBin::default(); binned.used.len() * STRIDE];
            build(&mut parent, &binned, &active, Rows::All, Grads { g: &g, h: &h }, hess);
            let want = direct(&binned, &active, &all, &g, &h);
            prop_assert_eq!(defined(&binned, &active, &parent), defined(&binned, &active, &want));
            let left: Vec<u32> = all.iter().copied().filter(|&i| vals[i as usize].4).collect();
            let right: Vec<u32> = all.iter().copied().filter(|&i| !vals[i as usize].4).collect();
            let og: Vec<f64> = left.iter().map(|&i| g[i as usize]).collect();
            let oh: Vec<f64> = left.iter().map(|&i| h[i as usize]).collect();
            let mut lh = vec![HistBin::default(); parent.len()];
            build(&mut lh, &binned, &active, Rows::Subset(&left), Grads { g: &og, h: &oh }, hess);
            let want = direct(&binned, &active, &left, &g, &h);
            prop_assert_eq!(defined(&binned, &active, &lh), defined(&binned, &active, &want));
            subtract(&mut parent, &lh, &binned, &active);
            let want = direct(&binned, &active, &right, &g, &h);
            prop_assert_eq!(defined(&binned, &active, &parent), defined(&binned, &active, &want));
        }
    }
}
