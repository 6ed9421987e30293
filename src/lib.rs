//! # meta-router
//!
//! Train LLM routers from a few trusted gold-standard (GS) labels and many cheap, biased
//! preference-based (PB) labels, following *Meta-Router* (ICLR 2026).
//!
//! Per query `q` with embedding features `x`, a router predicts the quality gain
//! `psi(x)` of a costly primary model over a cheap alternative and sends the query to the
//! primary when `psi_hat(x) > w`. Gold labels measure `psi`; preference labels measure
//! `eta(x) = psi(x) - Delta(x)`, with a query-dependent bias `Delta`. Treating the label source
//! as a treatment (gold = 1, preference = 0) makes `Delta` a conditional average treatment
//! effect, estimated with cross-fitted R- or DR-learners; each preference label is lifted to
//! `y + Delta_hat(x)` and `psi_hat` is regressed on gold and lifted rows together.
//!
//! ## Layout (dependencies point downwards only; ARCHITECTURE.md has the layers and what each
//! may import, checked by `tests/imports.rs`)
//! | module | what |
//! | --- | --- |
//! | [`cli`] | the `meta-router` command line |
//! | [`eval`] | metrics, efficiency-gain curves, Monte-Carlo studies, held-out evaluation of one router |
//! | [`sim`] | the HealthBench-like simulator with known psi and delta |
//! | [`data`] | CSV in/out, column roles, the column-major feature matrix |
//! | [`router`] | the routers: kinds and baselines, training on top of `Delta_hat`, serving (score, threshold, decide, save/load) |
//! | [`causal`] | `Delta_hat`: the R-/DR-learners, cross-fitting, nuisances, final stage; scale alignment |
//! | [`learn`] | learner traits, the run-time learner spec, the learners |
//! | [`linalg`] | kernels on faer: weighted Gram matrix, dot products, row selection, stable statistics, distribution tails ([`linalg::dist`]), least squares with robust standard errors ([`linalg::ols`]) |
//! | [`check`], [`params`] | input checks on slices and matrices; `key=value` parameter parsing and domain checks |
//! | [`persist`] | versioned, checksummed model files |
//! | [`rng`], [`par`] | position-derived random streams; deterministic parallel helpers |
//! | [`error`] | the crate's one error type |
//! | [`budget`], [`outfile`] | the memory budget checked before large allocations; output files written whole or not at all |
//!
//! ## Determinism
//! The same seed gives bit-identical results for any rayon thread count on the same machine
//! and build: every random stream is derived from its position (see [`rng`]), faer kernels run
//! sequentially, and parallel work is gathered in index order (see [`par`]).

#![warn(missing_docs)]

pub mod budget;
pub mod causal;
pub mod check;
pub mod cli;
pub mod data;
pub mod error;
pub mod eval;
#[doc(hidden)]
pub mod fuzzing;
pub mod learn;
pub mod linalg;
pub mod outfile;
pub mod par;
pub mod params;
pub mod persist;
pub mod rng;
pub mod router;
pub mod sim;

pub use error::{Error, Result};

/// README.md's code blocks, compiled as doctests so the example there stays true.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
pub use rng::Seed;
