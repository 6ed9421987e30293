//! The weighted, shifted Gram matrix `G = Z'Z` of a feature matrix with optional extra columns,
//! in one pass over the rows, reproducible for any thread count.
//!
//! For `x` with `n` rows and `d` columns, per-column shifts `s`, row weights `a` (all one when
//! absent) and extra columns `e_1..e_k`,
//!
//! ```text
//! Z[i, j]     = sqrt(a_i) * (x_ij - s_j)          j < d
//! Z[i, d + k] = sqrt(a_i) * (v_i - c)             Extra::Column(v, c)
//!             = sqrt(a_i)                         Extra::Ones
//! G           = Z' Z = sum_i a_i z_i z_i'         (d + k) x (d + k), symmetric
//! ```
//!
//! The shift is the centring: pass the weighted column means for a covariance-like matrix
//! about the mean (ridge with an intercept), zeros for raw cross-products (logistic IRLS with
//! weights `w_i p_i (1 - p_i)`). Ridge appends its target as an extra column (so `G` also holds
//! `X'y` and `y'y`), logistic a column of ones for the intercept.
//!
//! # Summation order (determinism) and speed
//! The rows are cut into chunks of [`gram_chunk_rows`]`(n, m)` rows, a function of the shape only:
//!
//! ```text
//! units = max(1, min(GRAM_MAX_CHUNKS, 2^25 / m^2))
//! chunk = max(GRAM_CHUNK, roundup(ceil(n / units), GRAM_SUB_BLOCK))
//! ```
//!
//! Each chunk is one rayon task. It copies sub-blocks of [`GRAM_SUB_BLOCK`] consecutive rows of
//! `Z` into a contiguous scratch matrix and adds `Z_b' Z_b` to its own partial with faer's
//! sequential lower-triangular matmul, sub-blocks in row order. From a column-major `x` the
//! scratch is `Z_b` (`b x m`, column by column, `fill_block`); from a row-major view it is
//! `Z_b'` (`m x b`, one contiguous row copy per column, `fill_block_t`) and the product is taken
//! as `Z_b' (Z_b')'`. The scratch values are the same either way, and faer's kernels give the
//! same bits for the two operand layouts (tested below for widths 3 to 101), so a C-order array
//! fits exactly as its column-major copy would, without a transposing copy. The partials are then
//! added in chunk order (lower triangle) and the upper triangle mirrored from it. Every sum thus
//! has the same operands in the same order whatever the thread count, so the result is
//! bit-identical for 1 or 64 threads, and the inner products run in faer's SIMD micro-kernels
//! on cache-resident blocks.

use faer::linalg::matmul::triangular::{BlockStructure, matmul};
use faer::{Accum, Mat, MatMut, MatRef, Par};

use super::RowMajor;

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
        let mut acc = GramAcc::new(x, m, end - start);
        let mut r0 = start;
        while r0 < end {
            let b = GRAM_SUB_BLOCK.min(end - r0);
            acc.add_block(x, shift, row_weight, extras, r0, b);
            r0 += b;
        }
        acc.sum
    });
    reduce_partials(&partials, m)
}

/// One chunk's partial sum of [`gram`] and its scratch block: the unit that [`gram`] runs per
/// chunk, open to kernels that fuse other per-row work with the Gram matrix (the logistic
/// fit's pass), which then give [`gram`]'s bits when they add the same sub-blocks in the same
/// order and reduce with [`reduce_partials`].
pub(crate) struct GramAcc {
    /// The lower triangle of `sum_b Z_b' Z_b` so far (`m x m`).
    pub(crate) sum: Mat<f64>,
    /// `Z_b` (`b x m`) from a column-major `x`, `Z_b'` (`m x b`) from a row-major one.
    scratch: Mat<f64>,
}

impl GramAcc {
    /// Zero partial for `m` columns and a scratch block for chunks of `len` rows of `x`.
    pub(crate) fn new(x: MatRef<'_, f64>, m: usize, len: usize) -> GramAcc {
        let sub = GRAM_SUB_BLOCK.min(len);
        // Z_b (b x m) from columns; Z_b' (m x b, column k = row k of Z_b) from rows, which then
        // copy straight in
        let scratch = if super::row_major(x).is_some() { Mat::zeros(m, sub) } else { Mat::zeros(sub, m) };
        GramAcc { sum: Mat::zeros(m, m), scratch }
    }

    /// Adds `Z_b' Z_b` for the rows `r0..r0 + b` (`b <=` [`GRAM_SUB_BLOCK`] and the `len` given
    /// to [`GramAcc::new`]) with faer's sequential lower-triangular matmul; `row_weight` and the
    /// extras are indexed like the rows of `x`.
    pub(crate) fn add_block(
        &mut self,
        x: MatRef<'_, f64>,
        shift: &[f64],
        row_weight: Option<&[f64]>,
        extras: &[Extra<'_>],
        r0: usize,
        b: usize,
    ) {
        let zt = match super::row_major(x) {
            Some(rows) => {
                fill_block_t(rows, shift, row_weight, extras, r0, b, self.scratch.as_mut());
                self.scratch.as_ref().subcols(0, b)
            }
            None => {
                fill_block(x, shift, row_weight, extras, r0, b, self.scratch.as_mut());
                self.scratch.as_ref().subrows(0, b).transpose()
            }
        };
        matmul(
            self.sum.as_mut(),
            BlockStructure::TriangularLower,
            Accum::Add,
            zt,
            BlockStructure::Rectangular,
            zt.transpose(),
            BlockStructure::Rectangular,
            1.0,
            Par::Seq,
        );
    }
}

/// The chunks' partials of [`gram`] added in chunk order (lower triangle), the upper triangle
/// mirrored from it.
pub(crate) fn reduce_partials(partials: &[Mat<f64>], m: usize) -> Mat<f64> {
    let mut g = Mat::<f64>::zeros(m, m);
    for p in partials {
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

/// `Z = sqrt(a) * (x - shift)` for every row (no extras), as a new column-major matrix: the
/// same values as the blocks [`gram`] multiplies, filled block by block with `fill_block`.
pub fn shifted_copy(x: MatRef<'_, f64>, shift: &[f64], row_weight: Option<&[f64]>) -> Mat<f64> {
    let n = x.nrows();
    let mut z = Mat::<f64>::zeros(n, x.ncols());
    let mut r0 = 0;
    while r0 < n {
        let b = GRAM_SUB_BLOCK.min(n - r0);
        fill_block(x, shift, row_weight, &[], r0, b, z.as_mut().subrows_mut(r0, b));
        r0 += b;
    }
    z
}

/// Writes rows `r0..r0 + b` of `sqrt(a) * [x - shift, extras]` into the top `b` rows of `out`
/// (`b <= GRAM_SUB_BLOCK`). Entry by entry `sqrt(a_i) * (x_ij - s_j)` with weights and
/// `x_ij - s_j` without, whatever the layout of `x`.
pub(crate) fn fill_block(
    x: MatRef<'_, f64>,
    shift: &[f64],
    row_weight: Option<&[f64]>,
    extras: &[Extra<'_>],
    r0: usize,
    b: usize,
    mut out: MatMut<'_, f64>,
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
    if let Some(rows) = super::row_major(x) {
        fill_rows(rows, &shift[..d], row_weight.map(|_| sw), r0, b, out.as_mut());
    } else {
        for (j, &s) in shift.iter().enumerate().take(d) {
            let col = x.col(j).subrows(r0, b);
            let Some(dst) = out.as_mut().col_mut(j).try_as_col_major_mut() else { continue };
            let dst = &mut dst.as_slice_mut()[..b];
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
                (None, true) => {
                    for (i, o) in dst.iter_mut().enumerate() {
                        *o = sw[i] * (col[i] - s);
                    }
                }
                (None, false) => {
                    for (i, o) in dst.iter_mut().enumerate() {
                        *o = col[i] - s;
                    }
                }
            }
        }
    }
    for (e, extra) in extras.iter().enumerate() {
        let Some(dst) = out.as_mut().col_mut(d + e).try_as_col_major_mut() else { continue };
        let dst = &mut dst.as_slice_mut()[..b];
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

/// The transpose of [`fill_block`] for a row-major view: writes row `r0 + k` of
/// `sqrt(a) * [x - shift, extras]` into column `k` of `out` (`m x b`, `b <= GRAM_SUB_BLOCK`),
/// a contiguous copy per row. Entry by entry the same operations as [`fill_block`]
/// (`sqrt(a_i) * (x_ij - s_j)` with weights, `x_ij - s_j` without), so the same values.
fn fill_block_t(
    rows: RowMajor<'_>,
    shift: &[f64],
    row_weight: Option<&[f64]>,
    extras: &[Extra<'_>],
    r0: usize,
    b: usize,
    mut out: MatMut<'_, f64>,
) {
    let d = rows.ncols();
    let shift = &shift[..d];
    for k in 0..b {
        let i = r0 + k;
        let q = row_weight.map(|w| w[i].sqrt());
        let Some(dst) = out.as_mut().col_mut(k).try_as_col_major_mut() else { continue };
        let dst = dst.as_slice_mut();
        let (feat, ext) = dst.split_at_mut(d);
        let row = &rows.row(i).as_slice()[..d];
        match q {
            Some(q) => {
                for ((o, &v), &s) in feat.iter_mut().zip(row).zip(shift) {
                    *o = q * (v - s);
                }
            }
            None => {
                for ((o, &v), &s) in feat.iter_mut().zip(row).zip(shift) {
                    *o = v - s;
                }
            }
        }
        let q = q.unwrap_or(1.0);
        for (o, extra) in ext.iter_mut().zip(extras) {
            *o = match *extra {
                Extra::Column(v, s) => q * (v[i] - s),
                Extra::Ones => q,
            };
        }
    }
}

/// Writes `q_k (x_{r0+k, j} - s_j)` (or `x - s` without weights `q`) for `k < b` and every
/// column `j` of the row-major view `rows` into the top `b` rows of the column-major `out`.
///
/// Groups of four columns: on x86-64 with AVX2, each 4 x 4 tile (four rows' four entries, one
/// 32-byte load per row) is shifted and scaled as four row vectors and transposed in registers
/// into four column pieces; elsewhere, and for the last `d mod 4` columns and `b mod 4` rows,
/// entry by entry. Either way each value is the same IEEE operation on the same operands
/// (`q * (x - s)`), so the scratch holds the same bits as from a column-major `x`.
fn fill_rows(rows: RowMajor<'_>, shift: &[f64], q: Option<&[f64]>, r0: usize, b: usize, mut out: MatMut<'_, f64>) {
    let d = shift.len();
    let mut j = 0;
    while j + 4 <= d {
        let (_, rest) = out.as_mut().split_at_col_mut(j);
        let (group, _) = rest.split_at_col_mut(4);
        let mut cols = group.col_iter_mut().map(|c| c.try_as_col_major_mut().map(|c| c.as_slice_mut()));
        let (Some(Some(c0)), Some(Some(c1)), Some(Some(c2)), Some(Some(c3))) =
            (cols.next(), cols.next(), cols.next(), cols.next())
        else {
            return;
        };
        let mut dst = [&mut c0[..b], &mut c1[..b], &mut c2[..b], &mut c3[..b]];
        let s = [shift[j], shift[j + 1], shift[j + 2], shift[j + 3]];
        let done = fill_group_simd(rows, j, s, q, r0, &mut dst);
        for k in done..b {
            let r = &rows.row(r0 + k).as_slice()[j..j + 4];
            for c in 0..4 {
                dst[c][k] = match q {
                    Some(q) => q[k] * (r[c] - s[c]),
                    None => r[c] - s[c],
                };
            }
        }
        j += 4;
    }
    for (j, &s) in shift.iter().enumerate().skip(j) {
        let Some(dst) = out.as_mut().col_mut(j).try_as_col_major_mut() else { continue };
        let dst = &mut dst.as_slice_mut()[..b];
        for (k, o) in dst.iter_mut().enumerate() {
            let v = rows.row(r0 + k).as_slice()[j];
            *o = match q {
                Some(q) => q[k] * (v - s),
                None => v - s,
            };
        }
    }
}

/// The AVX2 part of [`fill_rows`] for the columns `j..j + 4`: whole 4-row tiles; returns how
/// many rows it wrote (0 without AVX2, or off x86-64).
#[cfg(target_arch = "x86_64")]
fn fill_group_simd(
    rows: RowMajor<'_>,
    j: usize,
    s: [f64; 4],
    q: Option<&[f64]>,
    r0: usize,
    dst: &mut [&mut [f64]; 4],
) -> usize {
    use faer::traits::pulp::{Simd, x86::V3};
    let Some(simd) = V3::try_new() else { return 0 };
    Simd::vectorize(simd, FillGroup { simd, rows, j, s, q, r0, dst })
}

/// The operands of [`fill_group_simd`], run with AVX2 enabled (`V3::vectorize`).
#[cfg(target_arch = "x86_64")]
struct FillGroup<'x, 'q, 'b, 'o> {
    simd: faer::traits::pulp::x86::V3,
    rows: RowMajor<'x>,
    j: usize,
    s: [f64; 4],
    q: Option<&'q [f64]>,
    r0: usize,
    dst: &'b mut [&'o mut [f64]; 4],
}

#[cfg(target_arch = "x86_64")]
impl faer::traits::pulp::WithSimd for FillGroup<'_, '_, '_, '_> {
    type Output = usize;

    #[inline(always)]
    fn with_simd<S: faer::traits::pulp::Simd>(self, _: S) -> usize {
        use faer::traits::pulp::{Simd, cast, f64x4};
        let FillGroup { simd, rows, j, s, q, r0, dst } = self;
        let tiles = dst[0].len() / 4;
        let sv: f64x4 = cast(s);
        for t in 0..tiles {
            let i = 4 * t;
            let mut tile = [sv; 4];
            for (k, v) in tile.iter_mut().enumerate() {
                let r = &rows.row(r0 + i + k).as_slice()[j..j + 4];
                let x = simd.sub_f64s(cast([r[0], r[1], r[2], r[3]]), sv);
                *v = match q {
                    Some(q) => simd.mul_f64s(simd.splat_f64s(q[i + k]), x),
                    None => x,
                };
            }
            // four rows' entries -> four columns' pieces (a 4 x 4 transpose in registers)
            let cols: [f64x4; 4] = simd.deinterleave_shfl_f64s(tile);
            for (c, col) in cols.iter().enumerate() {
                let v: [f64; 4] = cast(*col);
                dst[c][i..i + 4].copy_from_slice(&v);
            }
        }
        4 * tiles
    }
}

/// Off x86-64: no SIMD part, [`fill_rows`] writes entry by entry.
#[cfg(not(target_arch = "x86_64"))]
fn fill_group_simd(
    _: RowMajor<'_>,
    _: usize,
    _: [f64; 4],
    _: Option<&[f64]>,
    _: usize,
    _: &mut [&mut [f64]; 4],
) -> usize {
    0
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

    /// A row-major view (its scratch filled transposed, `Z_b'`, and multiplied as `Z_b' (Z_b')'`)
    /// gives the bits of the column-major matrix, with and without weights and extras, for
    /// widths around faer's micro-kernel sizes and row counts that end in a partial sub-block.
    #[test]
    fn row_major_views_give_the_column_major_bits() {
        for (n, d) in [(GRAM_CHUNK + 515, 50), (1000, 3), (700, 17), (600, 64), (530, 101)] {
            let x = Mat::from_fn(n, d, |i, j| ((i * 7 + j * 13) % 19) as f64 * 0.1 + ((i + j) as f64).sin());
            let y: Vec<f64> = (0..n).map(|i| (i as f64 * 0.01).cos()).collect();
            let w: Vec<f64> = (0..n).map(|i| 0.5 + (i % 3) as f64).collect();
            let shift: Vec<f64> = (0..d).map(|j| j as f64 * 0.01).collect();
            let pad = d + 2;
            let mut buf = vec![f64::NAN; n * pad];
            for i in 0..n {
                for j in 0..d {
                    buf[i * pad + j] = x[(i, j)];
                }
            }
            for stride in [d, pad] {
                let packed = buf_for(&buf, n, d, pad, stride);
                let rm = MatRef::from_row_major_slice_with_stride(&packed, n, d, stride);
                assert!(super::super::row_major(rm).is_some());
                for (wt, extras) in [
                    (None, vec![Extra::Column(&y[..], 0.25)]),
                    (Some(&w[..]), vec![Extra::Ones]),
                    (Some(&w[..]), vec![]),
                    (None, vec![Extra::Column(&y[..], 0.0), Extra::Ones]),
                ] {
                    let want = gram(x.as_ref(), &shift, wt, &extras);
                    let got = gram(rm, &shift, wt, &extras);
                    for a in 0..want.nrows() {
                        for b in 0..want.ncols() {
                            assert_eq!(
                                want[(a, b)].to_bits(),
                                got[(a, b)].to_bits(),
                                "{n}x{d} stride {stride} ({a},{b})"
                            );
                        }
                    }
                }
            }
        }
    }

    /// `buf` (rows of width `pad`) repacked with row stride `stride` (`d <= stride <= pad`).
    fn buf_for(buf: &[f64], n: usize, d: usize, pad: usize, stride: usize) -> Vec<f64> {
        let mut out = vec![f64::NAN; n * stride];
        for i in 0..n {
            out[i * stride..i * stride + d].copy_from_slice(&buf[i * pad..i * pad + d]);
        }
        out
    }
}
