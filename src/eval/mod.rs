//! Evaluation: prediction metrics, and (for routers) efficiency-gain curves and the Monte-Carlo
//! study.
//!
//! | file | what |
//! | --- | --- |
//! | [`metrics`] | prediction metrics: R^2, ROC AUC, log loss, RMSE |
//! | [`curves`] | efficiency-gain curves, their AUC and peak |
//! | [`study`] | the study's data, settings and runner |
//! | [`study_multi`] | the study among K models: per router the area of the quality-cost curve, its SE, the paired difference to `pooled` |
//! | [`progress`] | the observer told of each finished round |
//! | [`summary`] | the study's per-round results and their summary (mean, standard error, percentiles) |
//! | [`paired`] | paired AUC differences to `pooled` and the best baseline, the gap closed to `all_gold` |
//! | [`report`] | the summary as a table, JSON and CSV |
//! | [`svg`] | the summary as a figure |
//! | [`shard`] | sharded studies: a subset of the rounds, and merging shards into one outcome |
//! | [`evaluate`](mod@evaluate) | one router on held-out queries: EG curve and AUC with bootstrap and prediction-powered intervals, usage at a threshold |
//! | [`bootstrap`] | the percentile bootstrap over queries: parameters, position-derived resample streams, intervals |
//! | [`ppi`] | the prediction-powered estimate of the EG curve and AUC (gold rows correct a judge) |
//! | [`quality_cost`] | routing among K models: the decision `argmax psi_hat - lambda cost`, the quality-cost curve above the random-mixing line, its area (for two models, the EG exactly) |
//! | [`audit`] | where the judge is biased: mean bias, best linear projection, groups, heterogeneity test from the DR pseudo-outcomes |
//! | [`active`] | active gold selection: batch inclusion probabilities with a floor, systematic sampling, the design's known propensity, the rules |
//! | `files` | the output directory holding all of them ([`Summary::write_dir`]) |
//!
//! `report` and `svg` read `summary` and not each other.

pub mod active;
pub mod audit;
pub mod bootstrap;
pub mod curves;
pub mod evaluate;
mod files;
pub mod metrics;
pub mod paired;
pub mod ppi;
pub mod progress;
pub mod quality_cost;
pub mod report;
pub mod shard;
pub mod shard_multi;
pub mod study;
pub mod study_multi;
pub mod summary;
pub mod svg;

pub use evaluate::{EvaluateParams, Evaluation, HeldOut, evaluate};
pub use progress::{NoProgress, Progress};
pub use study::{CurveProtocol, StudyConfig, StudyData, StudyRouter, run_study, run_study_with};
pub use summary::{Round, RouterRound, RouterSummary, StudyOutcome, Summary};
