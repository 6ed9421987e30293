//! The causal core: gold-versus-preference label bias as a treatment effect.
//!
//! Pool gold rows (`t = 1`, outcome `o = c r`, the gold label times the scale constant of
//! [`align`]) and preference rows (`t = 0`, `o = y`). Then
//! `Delta(x) = E[o(1) - o(0) | x]` is a conditional average treatment effect: the bias of the
//! preference labels at `x`. It is estimated by
//!
//! * the **R-learner** (Nie & Wager 2021): minimise `sum_i [(o_i - m(x_i)) - (t_i - e(x_i)) tau(x_i)]^2`,
//!   a weighted regression of `(o - m)/(t - e)` with weights `(t - e)^2` ([`rlearner`]);
//! * the **DR-learner** (Kennedy 2023): regress the AIPW pseudo-outcome
//!   `mu1 - mu0 + t (o - mu1)/e - (1 - t)(o - mu0)/(1 - e)` on `x` ([`drlearner`]);
//!
//! with nuisances `m`, `mu0`, `mu1`, `e` ([`nuisance`]) cross-fitted over source-stratified
//! folds ([`folds`], [`crossfit`]), or out of bag for a bagged forest nuisance ([`oob`]), and a regularised final stage chosen by cross-validated loss
//! ([`final_stage`]): [`meta::estimate_delta`], configured by [`DeltaConfig`] ([`delta`]).
//! [`paper::estimate_delta`] reproduces the authors' reference script.
//!
//! This module estimates `Delta` and the scale constant only; the routers that lift preference
//! labels with them live in the `router` module above it. Nothing here knows about routers,
//! evaluation or the command line; the learners come in through [`crate::learn`]'s traits, so user-defined
//! learners plug in.

pub mod align;
pub mod crossfit;
pub mod delta;
pub mod drlearner;
pub mod final_stage;
pub mod folds;
pub mod learner;
pub mod meta;
pub mod nuisance;
pub mod oob;
pub mod paper;
pub mod rlearner;
pub mod sources;

pub use align::{Align, Alignment};
pub use crossfit::Aggregate;
pub use delta::{DeltaConfig, DeltaFit, Method, OutcomeCovariate, PooledRows, default_nuisance};
pub use final_stage::{FinalChoice, FinalStage, Selection};
pub use nuisance::{DrOutcome, Overlap, Propensity, default_propensity_classifier};
pub use oob::NuisanceFit;
