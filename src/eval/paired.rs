//! Paired comparisons between routers over the same rounds: every router sees the same splits in
//! a round, so the per-round difference of two routers' AUCs cancels the round's shared noise and
//! has a much smaller standard error than either router's own AUC.
//!
//! With `AUC_k(r)` the AUC of router `k` in round `r` ([`crate::eval::curves::auc`]) and a
//! reference router `j`, over the `R` rounds `r` in which both have a finite AUC:
//! ```text
//! d_k(r)         = AUC_k(r) - AUC_j(r)
//! diff           = (1/R) sum_r d_k(r)
//! diff_se        = sd / sqrt(R),  sd^2 = (1/(R-1)) sum_r (d_k(r) - diff)^2   (null for R < 2)
//! ```
//! The references: `j = pooled` (`diff_vs_pooled`, `diff_vs_pooled_se`), and `j = b`, the best
//! baseline (`diff_vs_best`, `diff_vs_best_se`):
//! ```text
//! b          = argmax over the baselines {pooled, pref_only, gold_only, mean_shift} that were run
//!              of the mean AUC (the first in that order on ties)
//! gap_closed = (auc_k - auc_b) / (auc_all_gold - auc_b)   when all_gold was run and the denominator > 0
//! ```
//! with `auc_k` the mean AUC over all rounds (the summary's `auc`). Every figure is `None` (null in
//! JSON, `-` in the table) when its reference was not run.
//!
//! Rounds in which a router failed: the study stops at the first failing round (see
//! [`crate::eval::run_study`]), so every round of a summarised outcome holds every router and all
//! `R` rounds pair. A round whose AUC is not finite for either router is left out of that pair.

/// The baselines among which the best one is chosen, in tie-break order.
pub const BASELINES: [&str; 4] = ["pooled", "pref_only", "gold_only", "mean_shift"];

/// One router's paired comparisons with `pooled` and with the best baseline.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PairedFigures {
    /// Mean per-round AUC difference to `pooled`.
    pub diff_vs_pooled: Option<f64>,
    /// Its paired standard error.
    pub diff_vs_pooled_se: Option<f64>,
    /// Mean per-round AUC difference to the best baseline.
    pub diff_vs_best: Option<f64>,
    /// Its paired standard error.
    pub diff_vs_best_se: Option<f64>,
    /// Fraction of the gap between the best baseline and `all_gold` closed.
    pub gap_closed: Option<f64>,
}

/// The mean per-round difference `a(r) - b(r)` and its paired standard error, over the rounds
/// where both are finite (`None` without such rounds; the SE is `None` for fewer than two).
pub fn paired_diff(a: &[f64], b: &[f64]) -> Option<(f64, Option<f64>)> {
    let d: Vec<f64> = a.iter().zip(b).filter(|(x, y)| x.is_finite() && y.is_finite()).map(|(x, y)| x - y).collect();
    if d.is_empty() {
        return None;
    }
    let n = d.len() as f64;
    let mean = d.iter().sum::<f64>() / n;
    let se =
        (d.len() > 1).then(|| (d.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0)).sqrt() / n.sqrt());
    Some((mean, se))
}

/// The best baseline's index into `names`: the highest mean AUC among [`BASELINES`] that were run.
pub fn best_baseline(names: &[String], mean_auc: &[f64]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for base in BASELINES {
        if let Some(k) = names.iter().position(|n| n == base) {
            if best.is_none_or(|b| mean_auc[k] > mean_auc[b]) {
                best = Some(k);
            }
        }
    }
    best
}

/// Every router's paired figures, given the names, the per-round AUCs (`aucs[k][r]`) and the mean
/// AUCs; also the best baseline's index.
pub fn compare(names: &[String], aucs: &[Vec<f64>], mean_auc: &[f64]) -> (Vec<PairedFigures>, Option<usize>) {
    let find = |name: &str| names.iter().position(|n| n == name);
    let pooled = find("pooled");
    let best = best_baseline(names, mean_auc);
    let all_gold = find("all_gold");
    let figures = (0..names.len())
        .map(|k| {
            let vs = |j: Option<usize>| j.and_then(|j| paired_diff(&aucs[k], &aucs[j]));
            let (diff_vs_pooled, diff_vs_pooled_se) = vs(pooled).map_or((None, None), |(d, se)| (Some(d), se));
            let (diff_vs_best, diff_vs_best_se) = vs(best).map_or((None, None), |(d, se)| (Some(d), se));
            let gap_closed = match (best, all_gold) {
                (Some(b), Some(g)) if mean_auc[g] - mean_auc[b] > 0.0 => {
                    Some((mean_auc[k] - mean_auc[b]) / (mean_auc[g] - mean_auc[b]))
                }
                _ => None,
            };
            PairedFigures { diff_vs_pooled, diff_vs_pooled_se, diff_vs_best, diff_vs_best_se, gap_closed }
        })
        .collect();
    (figures, best)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn hand_computed_rounds() {
        // Three rounds. pooled 0.10, 0.20, 0.30; pref_only 0.12, 0.21, 0.33 (the best baseline,
        // mean 0.22); all_gold 0.32 flat; meta: pooled + (0.01, 0.03, 0.05).
        let n = names(&["meta", "pooled", "pref_only", "all_gold"]);
        let aucs = vec![vec![0.11, 0.23, 0.35], vec![0.10, 0.20, 0.30], vec![0.12, 0.21, 0.33], vec![0.32, 0.32, 0.32]];
        let mean: Vec<f64> = aucs.iter().map(|a| a.iter().sum::<f64>() / 3.0).collect();
        let (f, best) = compare(&n, &aucs, &mean);
        assert_eq!(best, Some(2));
        let m = &f[0];
        // d = 0.01, 0.03, 0.05: mean 0.03, sd 0.02, se 0.02 / sqrt(3).
        assert!((m.diff_vs_pooled.unwrap() - 0.03).abs() < 1e-12);
        assert!((m.diff_vs_pooled_se.unwrap() - 0.02 / 3f64.sqrt()).abs() < 1e-12);
        // vs pref_only: d = -0.01, 0.02, 0.02: mean 0.01, sd^2 = (4 + 1 + 1) e-4 / 2 = 3e-4.
        assert!((m.diff_vs_best.unwrap() - 0.01).abs() < 1e-12);
        assert!((m.diff_vs_best_se.unwrap() - (3e-4f64 / 3.0).sqrt()).abs() < 1e-12);
        // gap: (0.23 - 0.22) / (0.32 - 0.22) = 0.1.
        assert!((m.gap_closed.unwrap() - 0.1).abs() < 1e-9);
        // The best baseline against itself: zero difference, zero SE, nothing closed.
        assert_eq!(f[2].diff_vs_best, Some(0.0));
        assert_eq!(f[2].diff_vs_best_se, Some(0.0));
        assert_eq!(f[2].gap_closed, Some(0.0));
        assert!((f[3].gap_closed.unwrap() - 1.0).abs() < 1e-12);
    }

    #[test]
    fn missing_references_and_single_rounds_give_none() {
        let n = names(&["meta", "gold_only"]);
        let aucs = vec![vec![0.2], vec![0.1]];
        let (f, best) = compare(&n, &aucs, &[0.2, 0.1]);
        assert_eq!(best, Some(1));
        assert_eq!(f[0].diff_vs_pooled, None);
        assert_eq!(f[0].diff_vs_pooled_se, None);
        assert!((f[0].diff_vs_best.unwrap() - 0.1).abs() < 1e-12);
        assert_eq!(f[0].diff_vs_best_se, None);
        assert_eq!(f[0].gap_closed, None);
        let (f, best) = compare(&names(&["meta", "random"]), &[vec![0.1], vec![0.0]], &[0.1, 0.0]);
        assert_eq!(best, None);
        assert_eq!(f[0], PairedFigures::default());
        // A non-finite round is left out of the pair.
        assert_eq!(paired_diff(&[1.0, f64::NAN, 3.0], &[0.0, 0.0, 1.0]), Some((1.5, Some(0.5))));
    }
}
