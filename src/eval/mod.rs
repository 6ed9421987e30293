//! Evaluation: prediction metrics, and (for routers) efficiency-gain curves, study summaries
//! and the study figure.

pub mod curves;
pub mod metrics;
pub mod report;
pub mod study;
pub mod svg;
