//! Linear learners — ridge regression and L2-penalised logistic regression — and the shared
//! kernels they are built on.
//!
//! Both learners reduce to weighted Gram matrices of (shifted) feature columns,
//!
//! ```text
//! G = Z' Z,   Z[i, j] = sqrt(a_i) * (x_ij - m_j),
//! ```
//!
//! with `a_i` the sample weights (ridge) or the IRLS weights `w_i p_i (1 - p_i)` (logistic), and
//! `m` the weighted column means (ridge with an intercept) or zero. [`gram`] computes `G` for the
//! feature columns plus optional extra columns (the target for ridge, a column of ones for the
//! logistic intercept) in one pass over the data.
//!
//! # Determinism and speed
//! The rows are cut into chunks whose size depends only on the shape (see [`gram_chunk_rows`]),
//! never on the thread count. Each chunk is one rayon task that copies sub-blocks of [`GRAM_SUB_BLOCK`]
//! rows into a contiguous scratch matrix and accumulates `Z_b' Z_b` into its own partial with
//! faer's sequential lower-triangular matmul; the partials are then added in chunk order. The
//! result is therefore bit-identical for any thread count, and the inner product runs in faer's
//! SIMD micro-kernels on cache-resident blocks.

pub mod logistic;
pub mod ridge;

use faer::linalg::matmul::triangular::{BlockStructure, matmul};
use faer::{Accum, Mat, MatRef, Par};

use crate::error::Result;
use crate::learn::{TrainSet, check};

pub use logistic::{LogisticFitInfo, LogisticModel, LogisticParams};
pub use ridge::{RidgeModel, RidgeParams, RidgeSolver};

/// Smallest number of rows per parallel unit of [`gram`].
pub const GRAM_CHUNK: usize = 4096;

/// Most parallel units of [`gram`] (each holds one `m x m` partial).
pub const GRAM_MAX_CHUNKS: usize = 32;

/// Rows per parallel unit of [`gram`] for `n` rows and `m` columns: at least [`GRAM_CHUNK`], a
/// multiple of [`GRAM_SUB_BLOCK`], at most [`GRAM_MAX_CHUNKS`] units and at most about 256 MB
/// of partial sums. A function of the shape only, so the reduction has the same shape on every
/// machine and for any thread count.
pub fn gram_chunk_rows(n: usize, m: usize) -> usize {
    let by_memory = ((1usize << 25) / (m * m).max(1)).max(1);
    let units = GRAM_MAX_CHUNKS.min(by_memory).max(1);
    n.div_ceil(units).next_multiple_of(GRAM_SUB_BLOCK).max(GRAM_CHUNK)
}

/// Rows per scratch sub-block inside a chunk (fits in L2 cache for a few hundred columns).
pub const GRAM_SUB_BLOCK: usize = 512;

/// An extra column appended to the features in [`gram`].
#[derive(Clone, Copy, Debug)]
pub enum Extra<'a> {
    /// A data column and the value subtracted from it (e.g. the target and its weighted mean).
    Column(&'a [f64], f64),
    /// A column of ones (the intercept).
    Ones,
}

/// The shifted, row-scaled Gram matrix `Z'Z` of `[x - shift, extras]`, rows scaled by
/// `sqrt(row_weight_i)`; `(d + extras.len())` square, both triangles filled.
///
/// `shift` has one entry per column of `x` (pass zeros for no centring); `row_weight` is `None`
/// for all ones. Callers validate shapes beforehand; a non-finite input shows as a non-finite
/// diagonal entry.
pub fn gram(x: MatRef<'_, f64>, shift: &[f64], row_weight: Option<&[f64]>, extras: &[Extra<'_>]) -> Mat<f64> {
    let (n, d) = (x.nrows(), x.ncols());
    let m = d + extras.len();
    let chunk = gram_chunk_rows(n, m);
    let partials = crate::par::map_indexed(n.div_ceil(chunk), |c| {
        let start = c * chunk;
        let end = (start + chunk).min(n);
        let mut acc = Mat::<f64>::zeros(m, m);
        let mut scratch = Mat::<f64>::zeros(GRAM_SUB_BLOCK.min(end - start), m);
        let mut r0 = start;
        while r0 < end {
            let b = GRAM_SUB_BLOCK.min(end - r0);
            fill_block(x, shift, row_weight, extras, r0, b, &mut scratch);
            let z = scratch.as_ref().subrows(0, b);
            matmul(
                acc.as_mut(),
                BlockStructure::TriangularLower,
                Accum::Add,
                z.transpose(),
                BlockStructure::Rectangular,
                z,
                BlockStructure::Rectangular,
                1.0,
                Par::Seq,
            );
            r0 += b;
        }
        acc
    });
    let mut g = Mat::<f64>::zeros(m, m);
    for p in &partials {
        for j in 0..m {
            for i in j..m {
                g[(i, j)] += p[(i, j)];
            }
        }
    }
    for j in 0..m {
        for i in j + 1..m {
            g[(j, i)] = g[(i, j)];
        }
    }
    g
}

/// Writes rows `r0..r0 + b` of `sqrt(a) * [x - shift, extras]` into the top of `out`
/// (`b <= GRAM_SUB_BLOCK`).
pub(crate) fn fill_block(
    x: MatRef<'_, f64>,
    shift: &[f64],
    row_weight: Option<&[f64]>,
    extras: &[Extra<'_>],
    r0: usize,
    b: usize,
    out: &mut Mat<f64>,
) {
    let d = x.ncols();
    // sqrt of the row weights, once per block (not once per entry)
    let mut sw_buf = [0.0f64; GRAM_SUB_BLOCK];
    let sw = &mut sw_buf[..b];
    match row_weight {
        Some(w) => sw.iter_mut().zip(&w[r0..r0 + b]).for_each(|(o, &v)| *o = v.sqrt()),
        None => sw.fill(1.0),
    }
    let sw = &*sw;
    for (j, &s) in shift.iter().enumerate().take(d) {
        let col = x.col(j).subrows(r0, b);
        let dst = &mut out.col_as_slice_mut(j)[..b];
        match (col.try_as_col_major(), row_weight.is_some()) {
            (Some(c), true) => {
                for ((o, &v), &q) in dst.iter_mut().zip(c.as_slice()).zip(sw) {
                    *o = q * (v - s);
                }
            }
            (Some(c), false) => {
                for (o, &v) in dst.iter_mut().zip(c.as_slice()) {
                    *o = v - s;
                }
            }
            (None, _) => {
                for (i, o) in dst.iter_mut().enumerate() {
                    *o = sw[i] * (col[i] - s);
                }
            }
        }
    }
    for (e, extra) in extras.iter().enumerate() {
        let dst = &mut out.col_as_slice_mut(d + e)[..b];
        match *extra {
            Extra::Column(v, s) => {
                for ((o, &q), &vi) in dst.iter_mut().zip(sw).zip(&v[r0..r0 + b]) {
                    *o = q * (vi - s);
                }
            }
            Extra::Ones => dst.copy_from_slice(sw),
        }
    }
}

/// `sum_i a_i b_i` with four interleaved accumulators (a fixed order, so reproducible).
#[inline]
pub fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0f64; 4];
    let (ca, cb) = (a.chunks_exact(4), b.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for k in 0..4 {
            acc[k] += x[k] * y[k];
        }
    }
    let tail: f64 = ra.iter().zip(rb).map(|(x, y)| x * y).sum();
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// `x' v` (one entry per column of `x`), columns in parallel, each a fixed-order [`dot`].
pub fn xt_dot(x: MatRef<'_, f64>, v: &[f64]) -> Vec<f64> {
    crate::par::map_indexed(x.ncols(), |j| {
        let col = x.col(j);
        match col.try_as_col_major() {
            Some(c) => dot(c.as_slice(), v),
            None => (0..v.len()).fold(0.0, |acc, i| acc + col[i] * v[i]),
        }
    })
}

/// Whether every entry of `x` is finite: columns in parallel, each a branch-free pass that
/// vectorises (the exact location of a bad value is left to [`check::finite_matrix`]).
pub fn all_finite(x: MatRef<'_, f64>) -> bool {
    crate::par::map_indexed(x.ncols(), |j| {
        let col = x.col(j);
        match col.try_as_col_major() {
            Some(c) => !c.as_slice().iter().fold(false, |acc, v| acc | !v.is_finite()),
            None => (0..x.nrows()).all(|i| col[i].is_finite()),
        }
    })
    .into_iter()
    .all(|ok| ok)
}

/// [`check::train_set`] without its scan of the features (it still checks them for the first
/// column, which also rejects a matrix without columns). For learners that detect a non-finite
/// feature on their own first pass and then call [`check::train_set`] for the exact error.
///
/// # Errors
/// As [`check::train_set`].
pub fn check_all_but_features(data: &TrainSet<'_>) -> Result<()> {
    let first = data.x.subcols(0, data.x.ncols().min(1));
    check::train_set(&TrainSet { x: first, ..*data })
}

/// [`check::train_set`] with a fast parallel scan of the features first.
///
/// # Errors
/// As [`check::train_set`].
pub fn check_train_set(data: &TrainSet<'_>) -> Result<()> {
    if all_finite(data.x) { check_all_but_features(data) } else { check::train_set(data) }
}

/// Weighted column means of `x` (weights all one when `None`), each column summed in row order.
pub fn column_means(x: MatRef<'_, f64>, w: Option<&[f64]>) -> Vec<f64> {
    let sw: f64 = w.map_or(x.nrows() as f64, |w| w.iter().sum());
    match w {
        Some(w) => xt_dot(x, w).into_iter().map(|v| v / sw).collect(),
        None => {
            let ones = vec![1.0; x.nrows()];
            xt_dot(x, &ones).into_iter().map(|v| v / sw).collect()
        }
    }
}

/// `out_i = intercept + x_i . coef` for every row, row blocks in parallel, allocation-free.
/// Shapes are checked by the caller.
pub fn linear_predict_into(x: MatRef<'_, f64>, coef: &[f64], intercept: f64, out: &mut [f64]) {
    crate::par::for_each_row_block(out, |r0, block| {
        block.fill(intercept);
        let b = block.len();
        for (j, &c) in coef.iter().enumerate() {
            if c == 0.0 {
                continue;
            }
            let col = x.col(j).subrows(r0, b);
            match col.try_as_col_major() {
                Some(s) => {
                    for (o, &v) in block.iter_mut().zip(s.as_slice()) {
                        *o += c * v;
                    }
                }
                None => {
                    for (i, o) in block.iter_mut().enumerate() {
                        *o += c * col[i];
                    }
                }
            }
        }
    });
}

/// `intercept + row . coef` for one query, after checking the row's length.
///
/// # Errors
/// [`crate::Error::Shape`] when `row` and `coef` differ in length.
#[inline]
pub fn linear_predict_row(row: &[f64], coef: &[f64], intercept: f64) -> crate::Result<f64> {
    if row.len() != coef.len() {
        return Err(crate::Error::shape("feature columns at prediction vs training", coef.len(), row.len()));
    }
    Ok(row.iter().zip(coef).fold(intercept, |acc, (&a, &b)| acc + a * b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gram_matches_naive_and_is_thread_count_invariant() {
        let n = 2 * GRAM_CHUNK + 777;
        assert!(n.div_ceil(gram_chunk_rows(n, 7)) >= 3);
        let d = 5;
        let x = Mat::from_fn(n, d, |i, j| ((i * 7 + j * 13) % 17) as f64 * 0.1 + (i as f64).sin());
        let y: Vec<f64> = (0..n).map(|i| (i as f64 * 0.01).cos()).collect();
        let w: Vec<f64> = (0..n).map(|i| 1.0 + (i % 3) as f64).collect();
        let shift: Vec<f64> = (0..d).map(|j| j as f64 * 0.3).collect();
        let g = gram(x.as_ref(), &shift, Some(&w), &[Extra::Column(&y, 0.5), Extra::Ones]);
        let m = d + 2;
        let z = |i: usize, j: usize| {
            let v = if j < d {
                x[(i, j)] - shift[j]
            } else if j == d {
                y[i] - 0.5
            } else {
                1.0
            };
            w[i].sqrt() * v
        };
        for a in 0..m {
            for b in 0..m {
                let naive: f64 = (0..n).map(|i| z(i, a) * z(i, b)).sum();
                assert!((g[(a, b)] - naive).abs() <= 1e-9 * naive.abs().max(1.0), "({a},{b})");
            }
        }
        for k in [1, 2, 8] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(k).build().unwrap();
            let gk = pool.install(|| gram(x.as_ref(), &shift, Some(&w), &[Extra::Column(&y, 0.5), Extra::Ones]));
            for a in 0..m {
                for b in 0..m {
                    assert_eq!(g[(a, b)].to_bits(), gk[(a, b)].to_bits());
                }
            }
        }
    }

    #[test]
    fn predict_matches_row_formula() {
        let x = Mat::from_fn(5000, 3, |i, j| (i + j) as f64 * 0.001);
        let coef = [1.0, -2.0, 0.5];
        let mut out = vec![0.0; 5000];
        linear_predict_into(x.as_ref(), &coef, 3.0, &mut out);
        for i in [0, 4095, 4096, 4999] {
            let row = [x[(i, 0)], x[(i, 1)], x[(i, 2)]];
            assert!((out[i] - linear_predict_row(&row, &coef, 3.0).unwrap()).abs() < 1e-12);
        }
    }
}
