//! The DR-learner's pseudo-outcome (Kennedy 2023, "Towards optimal doubly robust estimation of
//! heterogeneous causal effects").
//!
//! With cross-fitted `mu0, mu1` and `e`, the AIPW pseudo-outcome
//! ```text
//! phi_i = mu1_i - mu0_i + t_i (o_i - mu1_i) / e_i - (1 - t_i) (o_i - mu0_i) / (1 - e_i)
//! ```
//! has conditional mean `Delta(x)` when either the outcome models or the propensity are right;
//! `phi` is regressed on `x` (weights: the user's), and the DR-loss of a candidate `tau` is
//! `sum_i w_i (phi_i - tau(x_i))^2`. With `e ~ 0.02` a gold row's correction is ~50 times its
//! residual, so the final stage must be regularised (see [`crate::causal::final_stage`]).

use crate::error::{Error, Result};

/// The AIPW pseudo-outcomes (see the module docs).
///
/// # Errors
/// [`Error::Shape`] for inputs of different lengths; [`Error::InvalidData`] for a propensity
/// outside `(0, 1)`.
pub fn dr_pseudo(o: &[f64], t: &[f64], e: &[f64], mu0: &[f64], mu1: &[f64]) -> Result<Vec<f64>> {
    let n = o.len();
    for (what, len) in [("t", t.len()), ("e", e.len()), ("mu0", mu0.len()), ("mu1", mu1.len())] {
        if len != n {
            return Err(Error::shape(format!("DR-learner input `{what}` vs outcomes"), n, len));
        }
    }
    (0..n)
        .map(|i| {
            if !(e[i] > 0.0 && e[i] < 1.0) {
                return Err(Error::data(format!("row {i}: propensity {} outside (0, 1); clip it", e[i])));
            }
            Ok(mu1[i] - mu0[i] + t[i] * (o[i] - mu1[i]) / e[i] - (1.0 - t[i]) * (o[i] - mu0[i]) / (1.0 - e[i]))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_values() {
        // gold: mu1 - mu0 = 0.5, (o - mu1)/e = (3 - 2)/0.25 = 4 -> 4.5
        // pref: 0.5 - (1 - 1.5)/(0.75) = 0.5 + 2/3
        let phi = dr_pseudo(&[3.0, 1.0], &[1.0, 0.0], &[0.25, 0.25], &[1.5, 1.5], &[2.0, 2.0]).unwrap();
        assert!((phi[0] - 4.5).abs() < 1e-15);
        assert!((phi[1] - (0.5 + 2.0 / 3.0)).abs() < 1e-15);
        assert!(dr_pseudo(&[1.0], &[1.0], &[0.0], &[0.0], &[0.0]).is_err());
    }
}
