//! Linear-algebra kernels on faer shared by the learners, the causal core and the CLI: the
//! weighted Gram matrix, inner products, row selection, weighted column statistics and stable
//! scalar functions.
//!
//! faer is built without its rayon feature in this crate, so every kernel here is sequential
//! and bit-reproducible; the kernels that use rayon split the work into units fixed by the
//! shape and gather them in index order (see each module), and callers get further
//! parallelism from rayon over independent units.
//!
//! * [`gram`]: `Z'Z` of shifted, row-weighted feature columns plus extra columns (ridge, logistic).
//! * [`dot`]: `a . b`, `x' v`, weighted column means, in a fixed summation order.
//! * [`select`]: the rows `idx` of a matrix, the elements `idx` of a vector.
//! * [`stats`]: weighted mean/variance, `log1pexp`, `sigmoid`.
//! * [`dist`]: normal CDF and quantile, chi-square, F and t tails.
//! * [`ols`]: least squares with HC3 standard errors and a robust Wald test.
//!
//! # Layouts
//! The kernels that walk the rows of a feature matrix ([`gram`], [`dot`], and the learners'
//! passes built on them) give the same bits for the same values in any layout: column-major
//! (the CLI's matrices; unit row stride) and row-major views (a C-order numpy array; unit column
//! stride, see [`row_major`]) each have a fast path with the same summation order, and any other
//! strides a slow, element-by-element one with that order too.

use faer::{ContiguousFwd, MatRef};

pub mod dist;
pub mod dot;
pub mod gram;
pub mod ols;
pub mod select;
pub mod stats;

/// A matrix view whose rows are contiguous slices (`rows.row(i).as_slice()`).
pub type RowMajor<'a> = MatRef<'a, f64, usize, usize, isize, ContiguousFwd>;

/// `x` as a [`RowMajor`] view when its column stride is 1 and its row stride is not (a C-order
/// array, or columns sliced out of one); `None` for column-major matrices (which keep their
/// column paths, also when both strides are 1), matrices without rows, and other strides.
pub fn row_major(x: MatRef<'_, f64>) -> Option<RowMajor<'_>> {
    if x.row_stride() == 1 || x.nrows() == 0 || x.ncols() == 0 { None } else { x.try_as_row_major() }
}
