//! Prediction-quality metrics.
//!
//! * `R^2 = 1 - sum (y - p)^2 / sum (y - mean y)^2`.
//! * ROC AUC by the rank-sum (Mann–Whitney U) statistic with average ranks for ties:
//!   `AUC = (R_1 - n_1 (n_1 + 1) / 2) / (n_1 n_0)`, `R_1` the rank sum of the positives.
//! * Log loss `-mean(y log p + (1 - y) log(1 - p))` with `p` clipped to `[1e-15, 1 - 1e-15]`.

use crate::error::{Error, Result};

fn same_len(a: &[f64], b: &[f64]) -> Result<()> {
    if a.len() != b.len() {
        return Err(Error::shape("predictions vs targets", a.len(), b.len()));
    }
    if a.is_empty() {
        return Err(Error::empty("no rows to score"));
    }
    Ok(())
}

/// Coefficient of determination.
///
/// # Errors
/// Mismatched lengths, no rows, or a constant target (R^2 undefined).
pub fn r2(y: &[f64], pred: &[f64]) -> Result<f64> {
    same_len(y, pred)?;
    let m = y.iter().sum::<f64>() / y.len() as f64;
    let ss_tot: f64 = y.iter().map(|v| (v - m) * (v - m)).sum();
    let ss_res: f64 = y.iter().zip(pred).map(|(v, p)| (v - p) * (v - p)).sum();
    if ss_tot == 0.0 {
        return Err(Error::data("R^2 is undefined for a constant target"));
    }
    Ok(1.0 - ss_res / ss_tot)
}

/// Area under the ROC curve of scores against 0/1 labels.
///
/// # Errors
/// Mismatched lengths, no rows, labels other than 0/1, or a single class.
pub fn auc(y: &[f64], score: &[f64]) -> Result<f64> {
    same_len(y, score)?;
    if let Some(i) = y.iter().position(|&v| v != 0.0 && v != 1.0) {
        return Err(Error::data(format!("AUC label at row {i} is {}; expected 0 or 1", y[i])));
    }
    let mut idx: Vec<usize> = (0..y.len()).collect();
    idx.sort_by(|&a, &b| score[a].total_cmp(&score[b]));
    let (mut rank_sum, mut n1) = (0.0, 0.0);
    let mut i = 0;
    while i < idx.len() {
        let mut j = i;
        while j + 1 < idx.len() && score[idx[j + 1]] == score[idx[i]] {
            j += 1;
        }
        let avg_rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &idx[i..=j] {
            if y[k] == 1.0 {
                rank_sum += avg_rank;
                n1 += 1.0;
            }
        }
        i = j + 1;
    }
    let n0 = y.len() as f64 - n1;
    if n1 == 0.0 || n0 == 0.0 {
        return Err(Error::data("AUC needs both classes among the labels"));
    }
    Ok((rank_sum - n1 * (n1 + 1.0) / 2.0) / (n1 * n0))
}

/// Mean binary cross-entropy.
///
/// # Errors
/// Mismatched lengths or no rows.
pub fn log_loss(y: &[f64], p: &[f64]) -> Result<f64> {
    same_len(y, p)?;
    let eps = 1e-15;
    let s: f64 = y
        .iter()
        .zip(p)
        .map(|(&t, &q)| {
            let q = q.clamp(eps, 1.0 - eps);
            -(t * q.ln() + (1.0 - t) * (1.0 - q).ln())
        })
        .sum();
    Ok(s / y.len() as f64)
}

/// Root mean squared difference.
///
/// # Errors
/// Mismatched lengths or no rows.
pub fn rmse(a: &[f64], b: &[f64]) -> Result<f64> {
    same_len(a, b)?;
    let s: f64 = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum();
    Ok((s / a.len() as f64).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_closed_forms() {
        assert_eq!(auc(&[0.0, 0.0, 1.0, 1.0], &[0.1, 0.2, 0.3, 0.4]).unwrap(), 1.0);
        assert_eq!(auc(&[1.0, 1.0, 0.0, 0.0], &[0.1, 0.2, 0.3, 0.4]).unwrap(), 0.0);
        assert_eq!(auc(&[0.0, 1.0, 0.0, 1.0], &[0.5; 4]).unwrap(), 0.5);
        // one discordant pair of four: 3/4
        assert_eq!(auc(&[0.0, 1.0, 0.0, 1.0], &[0.1, 0.2, 0.3, 0.4]).unwrap(), 0.75);
        assert!(auc(&[1.0, 1.0], &[0.1, 0.2]).is_err());
    }

    #[test]
    fn r2_and_log_loss() {
        assert_eq!(r2(&[1.0, 2.0, 3.0], &[1.0, 2.0, 3.0]).unwrap(), 1.0);
        assert_eq!(r2(&[1.0, 2.0, 3.0], &[2.0, 2.0, 2.0]).unwrap(), 0.0);
        assert!((log_loss(&[1.0, 0.0], &[0.5, 0.5]).unwrap() - 2f64.ln()).abs() < 1e-15);
        assert!(log_loss(&[1.0], &[0.0]).unwrap().is_finite());
    }
}
