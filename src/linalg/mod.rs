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

pub mod dot;
pub mod gram;
pub mod select;
pub mod stats;
