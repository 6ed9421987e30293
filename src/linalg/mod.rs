//! Linear-algebra helpers on faer: weighted column statistics and stable scalar functions.
//!
//! faer is built without its rayon feature in this crate, so every kernel here is sequential
//! and bit-reproducible; callers get parallelism from rayon over independent units.

pub mod stats;
