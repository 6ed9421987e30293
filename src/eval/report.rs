//! Study outputs: per-round curves in, summaries out (a table, one JSON object, CSV files).
//!
//! For each router over `R` rounds with curves `EG_r(rho)`:
//! ```text
//! auc     = mean_r AUC_r,          auc_se = sd_r(AUC_r) / sqrt(R)     (Monte-Carlo standard error)
//! mean(rho) = mean_r EG_r(rho);    p10, p90 = 10th / 90th percentiles over rounds (linear interpolation)
//! peak_eg, peak_rho = max of mean(rho) on rho = 0.20..0.80 and where
//! oracle_fraction = auc / mean_r AUC_r(oracle)      delta_rmse = mean_r RMSE_r(Delta_hat / c, delta)
//! ```
//! Every figure is computed from the rounds in round order, so it is bit-identical for any thread
//! count. Figures that do not apply are `null` in JSON and `-` in the table.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::eval::curves::{self, GRID};

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
}

/// The `q` quantile of sorted values, linearly interpolated at position `q (n - 1)`.
fn quantile_sorted(v: &[f64], q: f64) -> f64 {
    let pos = q * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    v[lo] + (pos - lo as f64) * (v[hi] - v[lo])
}

fn summarise(name: &str, curves: &[&[f64]], deltas: &[Option<f64>], oracle_auc: Option<f64>) -> RouterSummary {
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
        let routers = self
            .routers
            .iter()
            .enumerate()
            .map(|(k, name)| {
                let c: Vec<&[f64]> = self.rounds.iter().map(|r| r.routers[k].curve.as_slice()).collect();
                let d: Vec<Option<f64>> = self.rounds.iter().map(|r| r.routers[k].delta_rmse).collect();
                summarise(name, &c, &d, Some(oracle.auc))
            })
            .collect();
        Ok(Summary { rounds: self.rounds.len(), routers, oracle })
    }

    /// rounds.csv: per round and router, the AUC, the peak EG and where, and the Delta RMSE.
    pub fn rounds_csv(&self) -> String {
        let mut s = String::from("round,router,auc,peak_eg,peak_rho,delta_rmse\n");
        for (r, round) in self.rounds.iter().enumerate() {
            let rows = self.routers.iter().zip(&round.routers).map(|(n, rr)| (n.as_str(), &rr.curve, rr.delta_rmse));
            for (name, curve, d) in rows.chain(std::iter::once(("oracle", &round.oracle, None))) {
                let (p, at) = curves::peak(curve);
                let d = d.map_or(String::new(), |v| v.to_string());
                let _ = writeln!(s, "{r},{name},{},{p},{at},{d}", curves::auc(curve));
            }
        }
        s
    }
}

fn opt(v: Option<f64>) -> Value {
    match v {
        Some(x) if x.is_finite() => json!(x),
        _ => Value::Null,
    }
}

fn num(v: f64) -> Value {
    opt(Some(v))
}

impl Summary {
    /// The summary object `{"rounds": R, "routers": {name: {auc, auc_se, peak_eg, peak_rho,
    /// oracle_fraction, delta_rmse}}}`; the caller may add `seconds`.
    pub fn to_json(&self) -> Map<String, Value> {
        let mut routers = Map::new();
        for r in &self.routers {
            routers.insert(
                r.name.clone(),
                json!({
                    "auc": num(r.auc),
                    "auc_se": num(r.auc_se),
                    "peak_eg": num(r.peak_eg),
                    "peak_rho": num(r.peak_rho),
                    "oracle_fraction": opt(r.oracle_fraction),
                    "delta_rmse": opt(r.delta_rmse),
                }),
            );
        }
        let mut obj = Map::new();
        obj.insert("rounds".into(), json!(self.rounds));
        obj.insert("routers".into(), Value::Object(routers));
        obj
    }

    /// The table printed on stdout: one line per router (sorted as given), then the oracle.
    pub fn table(&self) -> String {
        let fmt = |v: Option<f64>, digits: usize| match v {
            Some(x) if x.is_finite() => format!("{x:.digits$}"),
            _ => "-".to_string(),
        };
        let mut s = String::new();
        let _ = writeln!(
            s,
            "{:<11} {:>9} {:>9} {:>9} {:>7} {:>8} {:>10}",
            "router", "auc", "auc_se", "peak_eg", "at", "oracle%", "delta_rmse"
        );
        for r in self.routers.iter().chain(std::iter::once(&self.oracle)) {
            let _ = writeln!(
                s,
                "{:<11} {:>9.5} {:>9} {:>9.5} {:>7.2} {:>8} {:>10}",
                r.name,
                r.auc,
                fmt(Some(r.auc_se), 5),
                r.peak_eg,
                r.peak_rho,
                fmt(r.oracle_fraction.map(|f| 100.0 * f), 1),
                fmt(r.delta_rmse, 4),
            );
        }
        let _ = writeln!(s, "{} rounds; auc = mean efficiency gain over usage 0.20..0.80", self.rounds);
        s
    }

    /// curves.csv: per router (and the oracle) and usage rate, the mean, 10th and 90th
    /// percentiles of EG over rounds.
    pub fn curves_csv(&self) -> String {
        let mut s = String::from("router,rho,mean,p10,p90\n");
        for r in self.routers.iter().chain(std::iter::once(&self.oracle)) {
            for i in 0..GRID {
                let _ = writeln!(s, "{},{},{},{},{}", r.name, curves::rho(i), r.mean[i], r.p10[i], r.p90[i]);
            }
        }
        s
    }

    /// Writes summary.json, curves.csv, rounds.csv and efficiency_gain.svg into `dir`
    /// (created if needed). No timing goes into these files, so they are byte-identical
    /// across runs and thread counts.
    ///
    /// # Errors
    /// [`Error::Io`] when the directory or a file cannot be written.
    pub fn write_dir(&self, outcome: &StudyOutcome, dir: &Path, title: &str) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let write = |name: &str, body: String| {
            let p = dir.join(name);
            crate::outfile::write(&p, body)
        };
        let json = serde_json::to_string_pretty(&Value::Object(self.to_json()))
            .map_err(|e| Error::data(format!("cannot encode summary.json: {e}")))?;
        write("summary.json", json + "\n")?;
        write("curves.csv", self.curves_csv())?;
        write("rounds.csv", outcome.rounds_csv())?;
        write("efficiency_gain.svg", crate::eval::svg::efficiency_gain_svg(self, title))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outcome() -> StudyOutcome {
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

    #[test]
    fn summary_figures_match_hand_computation() {
        let s = outcome().summary().unwrap();
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
        let j = Value::Object(s.to_json());
        assert_eq!(j["rounds"], 4);
        assert!(j["routers"]["random"]["delta_rmse"].is_null());
        assert!(s.table().contains("meta_r") && s.table().contains("oracle"));
        let csv = s.curves_csv();
        assert_eq!(csv.lines().count(), 1 + 3 * GRID);
        assert_eq!(outcome().rounds_csv().lines().count(), 1 + 4 * 3);
    }

    #[test]
    fn empty_or_ragged_outcomes_are_errors() {
        assert!(StudyOutcome { routers: vec![], rounds: vec![] }.summary().is_err());
        let mut o = outcome();
        o.rounds[2].routers.pop();
        assert!(o.summary().is_err());
    }
}
