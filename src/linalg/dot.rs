//! Inner products in a fixed summation order: `a . b`, `x' v`, weighted column means and
//! weighted column sums of squares.
//!
//! ```text
//! dot(a, b)                 = sum_i a_i b_i
//! xt_dot(x, v)_j            = sum_i x_ij v_i                     (one dot per column of x)
//! column_means(x, w)_j      = sum_i w_i x_ij / sum_i w_i          (w all one when absent)
//! column_sq_sums(x, w)_j    = sum_i w_i x_ij^2                    (w all one when absent)
//! ```
//!
//! # Summation order (determinism)
//! [`dot`] keeps four accumulators: `acc_k` sums the products at indices `4q + k` in increasing
//! `q`; the `n mod 4` trailing products are summed in order into `tail`, which starts at `-0.0`
//! (the neutral element of f64 addition, also where `Iterator::sum` starts, so an empty tail
//! changes nothing), and the result is `(acc_0 + acc_1) + (acc_2 + acc_3) + tail`. The order
//! depends on the length only, and the independent accumulators let the loop vectorise.
//!
//! Every column sum here has exactly that order whatever the layout of `x`, so a row-major
//! view (a C-order numpy array) gives the same bits as the same values in column-major order:
//! * column-major columns (unit row stride): one column per rayon task, [`dot`] on the slice;
//! * row-major views (unit column stride, see [`super::row_major`]): one block of adjacent
//!   columns per thread (`ceil(d / threads)` wide), each one pass over the rows in tiles of 256
//!   that keeps the four accumulators of every column of a group of 8 in registers (AVX2 on
//!   x86-64: the same operations, four columns per vector) and the tail beside them (each row's
//!   memory is read about once);
//! * any other strides: one column per task, the same order element by element (slow).
//!
//! Tasks are gathered in index order, so no sum depends on the thread count. The weights' total
//! in [`column_means`] is summed in row order. No shift is applied: the caller centres if needed.

use faer::MatRef;

use super::{RowMajor, row_major};

/// Where the tail of every sum starts: `-0.0`, the neutral element of f64 addition.
const TAIL_START: f64 = -0.0;

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
    let tail = ra.iter().zip(rb).fold(TAIL_START, |s, (x, y)| s + x * y);
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// `sum_{i < n} f(i)` in [`dot`]'s order, for terms that are not two slices.
#[inline]
fn dot_by(n: usize, f: impl Fn(usize) -> f64) -> f64 {
    let mut acc = [0.0f64; 4];
    for q in 0..n / 4 {
        for (k, a) in acc.iter_mut().enumerate() {
            *a += f(4 * q + k);
        }
    }
    let tail = (n / 4 * 4..n).fold(TAIL_START, |s, i| s + f(i));
    (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
}

/// The term summed per entry by [`column_sums`].
#[derive(Clone, Copy)]
enum Term<'a> {
    /// `x_ij * v_i`.
    Times(&'a [f64]),
    /// `(w_i * x_ij) * x_ij`.
    WeightedSquare(&'a [f64]),
    /// `x_ij * x_ij`.
    Square,
}

impl Term<'_> {
    #[inline(always)]
    fn at(self, i: usize, x: f64) -> f64 {
        match self {
            Term::Times(v) => x * v[i],
            Term::WeightedSquare(w) => w[i] * x * x,
            Term::Square => x * x,
        }
    }
}

/// Rows per tile of [`row_block_sums`]: a multiple of 4 (so that tiles keep [`dot`]'s order),
/// about 100 KB of a 50-column C-order array, which stays in cache while every group of columns
/// of the block walks it.
const ROW_TILE: usize = 256;

/// Columns per group of [`row_block_sums`] (four accumulators of eight columns: eight 256-bit
/// registers).
const GROUP: usize = 8;

/// `sum_i term(i, x_ij)` for the `w` columns `j0..j0 + w` of a row-major view, each column in
/// [`dot`]'s order (four accumulators by row index mod 4, then the tail). The rows are walked
/// in tiles of [`ROW_TILE`]; within a tile each group of [`GROUP`] adjacent columns keeps its
/// `4 x GROUP` accumulators in registers and reads its slice of every row of the tile (with
/// AVX2 on x86-64, four columns per vector: the same multiplications and additions in the same
/// order as entry by entry, so the same bits).
fn row_block_sums(rows: RowMajor<'_>, j0: usize, w: usize, term: Term<'_>) -> Vec<f64> {
    let n = rows.nrows();
    let body = n / 4 * 4;
    let mut acc = vec![[0.0f64; 4 * GROUP]; w.div_ceil(GROUP)];
    let mut i0 = 0;
    while i0 < body {
        let i1 = (i0 + ROW_TILE).min(body);
        for (g, a) in acc.iter_mut().enumerate() {
            let c0 = j0 + g * GROUP;
            let gw = GROUP.min(j0 + w - c0);
            if gw < GROUP || !group_sums_simd(rows, c0, i0, i1, term, a) {
                for q in (i0..i1).step_by(4) {
                    for k in 0..4 {
                        let i = q + k;
                        let row = &rows.row(i).as_slice()[c0..c0 + gw];
                        for (a, &v) in a[k * GROUP..].iter_mut().zip(row) {
                            *a += term.at(i, v);
                        }
                    }
                }
            }
        }
        i0 = i1;
    }
    let mut tail = vec![TAIL_START; w];
    for i in body..n {
        let r = &rows.row(i).as_slice()[j0..j0 + w];
        for (t, &v) in tail.iter_mut().zip(r) {
            *t += term.at(i, v);
        }
    }
    (0..w)
        .map(|c| {
            let (a, k) = (&acc[c / GROUP], c % GROUP);
            (a[k] + a[GROUP + k]) + (a[2 * GROUP + k] + a[3 * GROUP + k]) + tail[c]
        })
        .collect()
}

/// The AVX2 part of [`row_block_sums`]: rows `i0..i1` (a multiple of 4 apart) of the [`GROUP`]
/// columns from `c0`, added to the accumulators `acc[k * GROUP + c]`; `false` (nothing done)
/// without AVX2 or off x86-64.
#[cfg(target_arch = "x86_64")]
fn group_sums_simd(
    rows: RowMajor<'_>,
    c0: usize,
    i0: usize,
    i1: usize,
    term: Term<'_>,
    acc: &mut [f64; 4 * GROUP],
) -> bool {
    use faer::traits::pulp::{Simd, x86::V3};
    let Some(simd) = V3::try_new() else { return false };
    Simd::vectorize(simd, GroupSums { simd, rows, c0, i0, i1, term, acc });
    true
}

/// Off x86-64: no SIMD part.
#[cfg(not(target_arch = "x86_64"))]
fn group_sums_simd(_: RowMajor<'_>, _: usize, _: usize, _: usize, _: Term<'_>, _: &mut [f64; 4 * GROUP]) -> bool {
    false
}

/// The operands of [`group_sums_simd`], run with AVX2 enabled.
#[cfg(target_arch = "x86_64")]
struct GroupSums<'x, 't, 'a> {
    simd: faer::traits::pulp::x86::V3,
    rows: RowMajor<'x>,
    c0: usize,
    i0: usize,
    i1: usize,
    term: Term<'t>,
    acc: &'a mut [f64; 4 * GROUP],
}

#[cfg(target_arch = "x86_64")]
impl faer::traits::pulp::WithSimd for GroupSums<'_, '_, '_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: faer::traits::pulp::Simd>(self, _: S) {
        use faer::traits::pulp::{Simd, cast, f64x4};
        let GroupSums { simd, rows, c0, i0, i1, term, acc } = self;
        let mut a: [[f64x4; 2]; 4] = cast(*acc);
        let mut q = i0;
        while q < i1 {
            for (k, ak) in a.iter_mut().enumerate() {
                let i = q + k;
                let x = &rows.row(i).as_slice()[c0..c0 + GROUP];
                let lo: f64x4 = cast([x[0], x[1], x[2], x[3]]);
                let hi: f64x4 = cast([x[4], x[5], x[6], x[7]]);
                let (tl, th) = match term {
                    Term::Times(v) => {
                        let f = simd.splat_f64s(v[i]);
                        (simd.mul_f64s(lo, f), simd.mul_f64s(hi, f))
                    }
                    Term::WeightedSquare(w) => {
                        let f = simd.splat_f64s(w[i]);
                        (simd.mul_f64s(simd.mul_f64s(f, lo), lo), simd.mul_f64s(simd.mul_f64s(f, hi), hi))
                    }
                    Term::Square => (simd.mul_f64s(lo, lo), simd.mul_f64s(hi, hi)),
                };
                ak[0] = simd.add_f64s(ak[0], tl);
                ak[1] = simd.add_f64s(ak[1], th);
            }
            q += 4;
        }
        *acc = cast(a);
    }
}

/// `sum_i term(i, x_ij)` for every column `j` of `x`, in [`dot`]'s order for any layout (see
/// the module docs), gathered in column order.
fn column_sums(x: MatRef<'_, f64>, term: Term<'_>) -> Vec<f64> {
    let d = x.ncols();
    if let Some(rows) = row_major(x) {
        // One block of adjacent columns per thread, as even as the thread count allows (a column's
        // sum cannot be split over rows without changing its order), so that each row's memory
        // is read about once in all. Each column's sum has the same order whatever block it falls
        // in, so the blocking cannot change a bit.
        let width = d.div_ceil(rayon::current_num_threads().clamp(1, d));
        let blocks = crate::par::map_indexed(d.div_ceil(width), |b| {
            let j0 = b * width;
            row_block_sums(rows, j0, width.min(d - j0), term)
        });
        return blocks.concat();
    }
    crate::par::map_indexed(d, |j| {
        let col = x.col(j);
        match col.try_as_col_major() {
            Some(c) => {
                let c = c.as_slice();
                dot_by(c.len(), |i| term.at(i, c[i]))
            }
            None => dot_by(col.nrows(), |i| term.at(i, col[i])),
        }
    })
}

/// `x' v` (one entry per column of `x`), each column a fixed-order [`dot`] whatever the layout of
/// `x` (row-major views in one pass over the rows; see the module docs). `v` has one entry per row.
pub fn xt_dot(x: MatRef<'_, f64>, v: &[f64]) -> Vec<f64> {
    if row_major(x).is_none() {
        // column-major columns: the slice kernel (vectorised across rows)
        let fast = (0..x.ncols()).all(|j| x.col(j).try_as_col_major().is_some());
        if fast {
            return crate::par::map_indexed(x.ncols(), |j| match x.col(j).try_as_col_major() {
                Some(c) => dot(c.as_slice(), v),
                None => 0.0,
            });
        }
    }
    column_sums(x, Term::Times(v))
}

/// `sum_i w_i x_ij^2` per column of `x` (weights all one when `None`), each column in [`dot`]'s
/// order (`(w_i x_ij) x_ij` per term) whatever the layout of `x`.
pub fn column_sq_sums(x: MatRef<'_, f64>, w: Option<&[f64]>) -> Vec<f64> {
    match w {
        Some(w) => column_sums(x, Term::WeightedSquare(w)),
        None => column_sums(x, Term::Square),
    }
}

/// Weighted column means of `x` (weights all one when `None`): each column a fixed-order [`dot`]
/// with the weights, divided by their total (summed in row order).
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

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    #[test]
    fn dot_and_means_match_the_definitions() {
        let a: Vec<f64> = (0..11).map(|i| i as f64).collect();
        let b: Vec<f64> = (0..11).map(|i| (2 * i + 1) as f64).collect();
        let naive: f64 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert_eq!(dot(&a, &b), naive);
        let x = Mat::from_fn(4, 2, |i, j| (i + 10 * j) as f64);
        assert_eq!(xt_dot(x.as_ref(), &[1.0, 0.0, 0.0, 2.0]), vec![6.0, 36.0]);
        assert_eq!(column_means(x.as_ref(), None), vec![1.5, 11.5]);
        assert_eq!(column_means(x.as_ref(), Some(&[0.0, 1.0, 1.0, 0.0])), vec![1.5, 11.5]);
        assert_eq!(column_means(x.as_ref(), Some(&[3.0, 0.0, 0.0, 1.0])), vec![0.75, 10.75]);
        assert_eq!(column_sq_sums(x.as_ref(), None), vec![14.0, 534.0]);
        assert_eq!(column_sq_sums(x.as_ref(), Some(&[0.0, 1.0, 0.0, 2.0])), vec![19.0, 459.0]);
    }

    /// The same values column-major, row-major (a C-order array, also with a row stride wider
    /// than the row, as a column slice of a wider array has) and with neither stride one
    /// give the same bits, for lengths around multiples of 4 and widths around blocks of 8.
    #[test]
    fn every_layout_gives_the_same_bits() {
        for (n, d) in [(1, 1), (3, 2), (4, 9), (7, 8), (33, 17), (8192 + 777, 50), (1030, 3)] {
            let x = Mat::from_fn(n, d, |i, j| ((i * 31 + j * 17) % 23) as f64 * 0.37 - 3.1 + (i as f64).sin());
            let v: Vec<f64> = (0..n).map(|i| (i as f64 * 0.013).cos() - 0.2).collect();
            let w: Vec<f64> = (0..n).map(|i| 0.5 + (i % 5) as f64).collect();
            let pad = d + 3;
            let mut wide = vec![f64::NAN; n * pad];
            for i in 0..n {
                for j in 0..d {
                    wide[i * pad + j] = x[(i, j)];
                }
            }
            let rm = MatRef::from_row_major_slice_with_stride(&wide, n, d, pad);
            // row stride -1, column stride n: neither layout
            let flipped = Mat::from_fn(n, d, |i, j| x[(n - 1 - i, j)]);
            let other = flipped.as_ref().reverse_rows();
            let compact = x.as_ref().transpose().to_owned();
            let tight = compact.as_ref().transpose();
            assert!(super::super::row_major(rm).is_some() && super::super::row_major(other).is_none());
            let bits = |v: Vec<f64>| v.into_iter().map(f64::to_bits).collect::<Vec<_>>();
            let want = bits(xt_dot(x.as_ref(), &v));
            let want_means = bits(column_means(x.as_ref(), Some(&w)));
            let want_sq = bits(column_sq_sums(x.as_ref(), Some(&w)));
            let naive: Vec<u64> = (0..d).map(|j| dot(x.col_as_slice(j), &v).to_bits()).collect();
            assert_eq!(want, naive, "{n}x{d}");
            for (name, y) in [("row-major", rm), ("strided", other), ("c-order", tight)] {
                assert_eq!(bits(xt_dot(y, &v)), want, "{name} {n}x{d}");
                assert_eq!(bits(column_means(y, Some(&w))), want_means, "{name} {n}x{d}");
                assert_eq!(bits(column_means(y, None)), bits(column_means(x.as_ref(), None)), "{name}");
                assert_eq!(bits(column_sq_sums(y, Some(&w))), want_sq, "{name} {n}x{d}");
            }
        }
    }
}
