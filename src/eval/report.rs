//! The study's text outputs, rendered from a [`Summary`] (see [`crate::eval::summary`] for how
//! its figures are computed): the table printed on stdout, the summary JSON object, curves.csv
//! (mean, p10, p90 per router and usage rate) and rounds.csv (per round and router: AUC, peak
//! EG and where, Delta RMSE).
//!
//! The paired columns (`vs_pooled`, `vs_best`, their `se`, `gap%`; JSON `diff_vs_pooled`,
//! `diff_vs_pooled_se`, `diff_vs_best`, `diff_vs_best_se`, `gap_closed` per router and
//! `best_baseline` at the top) are defined in [`crate::eval::paired`].
//!
//! Figures that do not apply (or are not finite) are `null` in JSON and `-` in the table.

use std::fmt::Write as _;

use serde_json::{Map, Value, json};

use crate::eval::curves::{self, GRID};
use crate::eval::summary::{StudyOutcome, Summary};

impl StudyOutcome {
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
    /// The summary object `{"rounds": R, "best_baseline": name, "routers": {name: {auc, auc_se,
    /// peak_eg, peak_rho, oracle_fraction, delta_rmse, diff_vs_pooled, diff_vs_pooled_se,
    /// diff_vs_best, diff_vs_best_se, gap_closed}}}`; the caller may add `seconds`.
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
                    "diff_vs_pooled": opt(r.paired.diff_vs_pooled),
                    "diff_vs_pooled_se": opt(r.paired.diff_vs_pooled_se),
                    "diff_vs_best": opt(r.paired.diff_vs_best),
                    "diff_vs_best_se": opt(r.paired.diff_vs_best_se),
                    "gap_closed": opt(r.paired.gap_closed),
                }),
            );
        }
        let mut obj = Map::new();
        obj.insert("rounds".into(), json!(self.rounds));
        obj.insert("best_baseline".into(), self.best_baseline.as_ref().map_or(Value::Null, |b| json!(b)));
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
            "{:<11} {:>9} {:>9} {:>9} {:>7} {:>8} {:>10} {:>9} {:>8} {:>9} {:>8} {:>6}",
            "router",
            "auc",
            "auc_se",
            "peak_eg",
            "at",
            "oracle%",
            "delta_rmse",
            "vs_pooled",
            "se",
            "vs_best",
            "se",
            "gap%"
        );
        for r in self.routers.iter().chain(std::iter::once(&self.oracle)) {
            let _ = writeln!(
                s,
                "{:<11} {:>9.5} {:>9} {:>9.5} {:>7.2} {:>8} {:>10} {:>9} {:>8} {:>9} {:>8} {:>6}",
                r.name,
                r.auc,
                fmt(Some(r.auc_se), 5),
                r.peak_eg,
                r.peak_rho,
                fmt(r.oracle_fraction.map(|f| 100.0 * f), 1),
                fmt(r.delta_rmse, 4),
                fmt(r.paired.diff_vs_pooled, 5),
                fmt(r.paired.diff_vs_pooled_se, 5),
                fmt(r.paired.diff_vs_best, 5),
                fmt(r.paired.diff_vs_best_se, 5),
                fmt(r.paired.gap_closed.map(|g| 100.0 * g), 1),
            );
        }
        let _ = writeln!(s, "{} rounds; auc = mean efficiency gain over usage 0.20..0.80", self.rounds);
        let best = self.best_baseline.as_deref().unwrap_or("-");
        let _ = writeln!(
            s,
            "vs_pooled, vs_best (best baseline {best}): mean per-round AUC difference, se paired; \
             gap% = 100 (auc - auc_best) / (auc_all_gold - auc_best)"
        );
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::summary::test_outcome;

    #[test]
    fn json_table_and_csv_hold_every_router() {
        let s = test_outcome().summary().unwrap();
        let j = Value::Object(s.to_json());
        assert_eq!(j["rounds"], 4);
        assert!(j["routers"]["random"]["delta_rmse"].is_null());
        assert!(j["routers"]["meta_r"]["delta_rmse"].is_number());
        // No baseline in the test outcome: the paired keys are there, and null.
        assert!(j["best_baseline"].is_null());
        for k in ["diff_vs_pooled", "diff_vs_pooled_se", "diff_vs_best", "diff_vs_best_se", "gap_closed"] {
            assert!(j["routers"]["meta_r"][k].is_null(), "{k}");
        }
        assert!(s.table().lines().next().unwrap().ends_with("vs_pooled       se   vs_best       se   gap%"));
        assert!(s.table().contains("meta_r") && s.table().contains("oracle"));
        let csv = s.curves_csv();
        assert_eq!(csv.lines().count(), 1 + 3 * GRID);
        assert_eq!(test_outcome().rounds_csv().lines().count(), 1 + 4 * 3);
    }
}
