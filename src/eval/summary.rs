//! The study's results and their summary: per-round curves in ([`StudyOutcome`]), one
//! [`Summary`] out, which the text/JSON/CSV rendering (`eval/report.rs`) and the figure
//! (`eval/svg.rs`) both read; this file imports neither.
//!
//! For each router over `R` rounds with curves `EG_r(rho)` on the grid and `AUC_r` the mean of
//! `EG_r` on rho = 0.20..0.80 ([`crate::eval::curves::auc`]):
//! ```text
//! auc        = (1/R) sum_r AUC_r                                   (mean over rounds)
//! auc_se     = sd / sqrt(R),  sd^2 = (1/(R-1)) sum_r (AUC_r - auc)^2  (Monte-Carlo standard error; NaN for R = 1)
//! mean(rho)  = (1/R) sum_r EG_r(rho)
//! p_q(rho)   = v_(lo) + (pos - lo) (v_(lo+1) - v_(lo)),  pos = q (R - 1), lo = floor(pos)
//!              over the sorted values v_(0) <= .. <= v_(R-1) of EG_r(rho)   (q = 0.1, 0.9)
//! peak_eg    = max of mean(rho) on rho = 0.20..0.80,   peak_rho = where
//! oracle_fraction = auc / auc(oracle)        (when auc(oracle) > 0)
//! delta_rmse = (1/R) sum_r RMSE_r(Delta_hat / c, delta)   (when every round has one)
//! ```
//! Each router's paired differences to `pooled` and to the best baseline (and the best baseline
//! itself) come from the per-round AUCs, see [`crate::eval::paired`].
//!
//! Every figure is computed from the rounds in round order, so it is bit-identical for any thread
//! count.

use crate::error::{Error, Result};
use crate::eval::curves::{self, GRID};
use crate::eval::paired::{self, PairedFigures};

/// One router's result in one round.
#[derive(Clone, Debug, PartialEq)]
pub struct RouterRound {
    /// The efficiency-gain curve on the grid.
    pub curve: Vec<f64>,
    /// RMSE of `Delta_hat / c` against the true delta on the test rows, where both exist.
    pub delta_rmse: Option<f64>,
}

/// One Monte-Carlo round: every router's result and the oracle curve.
#[derive(Clone, Debug, PartialEq)]
pub struct Round {
    /// Results in the order of [`StudyOutcome::routers`].
    pub routers: Vec<RouterRound>,
    /// The oracle's curve (sorting by the true psi, or by the gold labels when psi is unknown).
    pub oracle: Vec<f64>,
}

/// Every round of a study.
#[derive(Clone, Debug, PartialEq)]
pub struct StudyOutcome {
    /// Router names, in reporting order.
    pub routers: Vec<String>,
    /// Rounds, in round order.
    pub rounds: Vec<Round>,
}

/// A router's summary over rounds.
#[derive(Clone, Debug, PartialEq)]
pub struct RouterSummary {
    /// The router's name.
    pub name: String,
    /// Mean AUC over rounds.
    pub auc: f64,
    /// Monte-Carlo standard error of the mean AUC.
    pub auc_se: f64,
    /// Largest mean EG on rho = 0.20..0.80.
    pub peak_eg: f64,
    /// Where it occurs.
    pub peak_rho: f64,
    /// Mean AUC over the oracle's mean AUC (`None` when the oracle's is not positive).
    pub oracle_fraction: Option<f64>,
    /// Mean Delta RMSE over rounds (`None` when the router has no Delta or the truth is unknown).
    pub delta_rmse: Option<f64>,
    /// Mean curve over rounds.
    pub mean: Vec<f64>,
    /// 10th percentile over rounds, per grid point.
    pub p10: Vec<f64>,
    /// 90th percentile over rounds, per grid point.
    pub p90: Vec<f64>,
    /// Paired AUC differences to `pooled` and to the best baseline, and the gap closed (all
    /// `None` for the oracle).
    pub paired: PairedFigures,
}

/// The summary of a study.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    /// Number of rounds.
    pub rounds: usize,
    /// One entry per router, in reporting order.
    pub routers: Vec<RouterSummary>,
    /// The oracle, summarised the same way.
    pub oracle: RouterSummary,
    /// The best baseline's name (the reference of `diff_vs_best`), when a baseline was run.
    pub best_baseline: Option<String>,
}

/// The `q` quantile of sorted values, linearly interpolated at position `q (n - 1)`.
fn quantile_sorted(v: &[f64], q: f64) -> f64 {
    let pos = q * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    v[lo] + (pos - lo as f64) * (v[hi] - v[lo])
}

pub(crate) fn summarise(
    name: &str,
    curves: &[&[f64]],
    deltas: &[Option<f64>],
    oracle_auc: Option<f64>,
) -> RouterSummary {
    let r = curves.len();
    let aucs: Vec<f64> = curves.iter().map(|c| curves::auc(c)).collect();
    let auc = aucs.iter().sum::<f64>() / r as f64;
    let auc_se = if r > 1 {
        let ss: f64 = aucs.iter().map(|a| (a - auc) * (a - auc)).sum();
        (ss / (r - 1) as f64).sqrt() / (r as f64).sqrt()
    } else {
        f64::NAN
    };
    let mut mean = vec![0.0; GRID];
    let (mut p10, mut p90) = (vec![0.0; GRID], vec![0.0; GRID]);
    let mut column = vec![0.0; r];
    for i in 0..GRID {
        for (k, c) in curves.iter().enumerate() {
            column[k] = c[i];
        }
        mean[i] = column.iter().sum::<f64>() / r as f64;
        column.sort_by(f64::total_cmp);
        p10[i] = quantile_sorted(&column, 0.1);
        p90[i] = quantile_sorted(&column, 0.9);
    }
    let (peak_eg, peak_rho) = curves::peak(&mean);
    let delta_rmse = if deltas.iter().all(Option::is_some) && !deltas.is_empty() {
        Some(deltas.iter().flatten().sum::<f64>() / r as f64)
    } else {
        None
    };
    let oracle_fraction = oracle_auc.filter(|o| *o > 0.0).map(|o| auc / o);
    RouterSummary {
        name: name.to_string(),
        auc,
        auc_se,
        peak_eg,
        peak_rho,
        oracle_fraction,
        delta_rmse,
        mean,
        p10,
        p90,
        paired: PairedFigures::default(),
    }
}

impl StudyOutcome {
    /// Summarises every router and the oracle.
    ///
    /// # Errors
    /// [`Error::Empty`] when there are no rounds; [`Error::Shape`] when a round does not hold
    /// one result per router.
    pub fn summary(&self) -> Result<Summary> {
        if self.rounds.is_empty() {
            return Err(Error::empty("study summary: no rounds"));
        }
        for r in &self.rounds {
            if r.routers.len() != self.routers.len() {
                return Err(Error::shape("study round: results per router", self.routers.len(), r.routers.len()));
            }
        }
        let oracle_curves: Vec<&[f64]> = self.rounds.iter().map(|r| r.oracle.as_slice()).collect();
        let oracle = summarise("oracle", &oracle_curves, &[], None);
        let mut routers: Vec<RouterSummary> = self
            .routers
            .iter()
            .enumerate()
            .map(|(k, name)| {
                let c: Vec<&[f64]> = self.rounds.iter().map(|r| r.routers[k].curve.as_slice()).collect();
                let d: Vec<Option<f64>> = self.rounds.iter().map(|r| r.routers[k].delta_rmse).collect();
                summarise(name, &c, &d, Some(oracle.auc))
            })
            .collect();
        let aucs: Vec<Vec<f64>> = (0..self.routers.len())
            .map(|k| self.rounds.iter().map(|r| curves::auc(&r.routers[k].curve)).collect())
            .collect();
        let mean_auc: Vec<f64> = routers.iter().map(|r| r.auc).collect();
        let (figures, best) = paired::compare(&self.routers, &aucs, &mean_auc);
        for (r, f) in routers.iter_mut().zip(figures) {
            r.paired = f;
        }
        let best_baseline = best.map(|b| self.routers[b].clone());
        Ok(Summary { rounds: self.rounds.len(), routers, oracle, best_baseline })
    }
}

/// A small outcome for the tests of this module and of the renderers: two routers over four
/// rounds with curves `a rho (1 - rho)`, `a` = 1..4 for `meta_r`, 0 for `random`, 10 for the oracle.
#[cfg(test)]
pub(crate) fn test_outcome() -> StudyOutcome {
    let curve = |a: f64| -> Vec<f64> { (0..GRID).map(|i| a * (curves::rho(i) * (1.0 - curves::rho(i)))).collect() };
    let rounds = (0..4)
        .map(|r| Round {
            routers: vec![
                RouterRound { curve: curve(1.0 + r as f64), delta_rmse: Some(0.1 * r as f64) },
                RouterRound { curve: curve(0.0), delta_rmse: None },
            ],
            oracle: curve(10.0),
        })
        .collect();
    StudyOutcome { routers: vec!["meta_r".into(), "random".into()], rounds }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_figures_match_hand_computation() {
        let s = test_outcome().summary().unwrap();
        let m = &s.routers[0];
        // Curve a * rho (1 - rho): AUC = a * mean over rho in 0.20..0.80 of rho (1 - rho).
        let base: f64 = (20..=80).map(|i| curves::rho(i) * (1.0 - curves::rho(i))).sum::<f64>() / 61.0;
        assert!((m.auc - 2.5 * base).abs() < 1e-12);
        // a = 1, 2, 3, 4: sd = sqrt(5/3), se = sd / 2.
        assert!((m.auc_se - base * (5.0f64 / 3.0).sqrt() / 2.0).abs() < 1e-12);
        assert!((m.peak_rho - 0.5).abs() < 1e-12 && (m.peak_eg - 2.5 * 0.25).abs() < 1e-12);
        // p10 of (1, 2, 3, 4) at position 0.3 = 1.3; p90 at 2.7 = 3.7.
        assert!((m.p10[50] - 1.3 * 0.25).abs() < 1e-12 && (m.p90[50] - 3.7 * 0.25).abs() < 1e-12);
        assert!((m.oracle_fraction.unwrap() - 0.25).abs() < 1e-12);
        assert!((m.delta_rmse.unwrap() - 0.15).abs() < 1e-12);
        assert_eq!(s.routers[1].delta_rmse, None);
    }

    #[test]
    fn empty_or_ragged_outcomes_are_errors() {
        assert!(StudyOutcome { routers: vec![], rounds: vec![] }.summary().is_err());
        let mut o = test_outcome();
        o.rounds[2].routers.pop();
        assert!(o.summary().is_err());
    }
}
