//! Evaluation: prediction metrics, and (for routers) efficiency-gain curves and studies.

pub mod curves;
pub mod metrics;
