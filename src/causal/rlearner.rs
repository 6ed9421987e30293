//! The R-learner's final-stage data (Nie & Wager 2021, "Quasi-oracle estimation of
//! heterogeneous treatment effects").
//!
//! With cross-fitted `m(x) = E[o | x]` and `e(x) = P(t = 1 | x)`, the R-loss of a candidate
//! effect function `tau` is
//! ```text
//! L_R(tau) = sum_i w_i [ (o_i - m_i) - (t_i - e_i) tau(x_i) ]^2
//!          = sum_i w_i (t_i - e_i)^2 [ (o_i - m_i) / (t_i - e_i) - tau(x_i) ]^2,
//! ```
//! a weighted least-squares regression of the pseudo-outcome `(o - m) / (t - e)` on `x` with
//! weights `(t - e)^2` times the user weights `w`. With `e ~ 0.02` gold rows weigh ~0.96 and
//! preference rows ~0.0004, so the final learner must honour weights exactly.

use crate::error::{Error, Result};

/// The R-learner's pseudo-outcomes and weights.
#[derive(Clone, Debug, PartialEq)]
pub struct RStage {
    /// `(o - m) / (t - e)` per row.
    pub pseudo: Vec<f64>,
    /// `(t - e)^2 * w` per row.
    pub weights: Vec<f64>,
}

/// Builds the R-learner's weighted regression problem (see the module docs for the loss).
///
/// # Errors
/// [`Error::Shape`] for inputs of different lengths; [`Error::InvalidData`] when `t - e` is 0
/// for a row (a propensity of exactly 0 or 1: clip it).
pub fn r_stage(o: &[f64], m: &[f64], t: &[f64], e: &[f64], w: Option<&[f64]>) -> Result<RStage> {
    let n = o.len();
    for (what, len) in [("m", m.len()), ("t", t.len()), ("e", e.len()), ("weights", w.map_or(n, <[f64]>::len))] {
        if len != n {
            return Err(Error::shape(format!("R-learner input `{what}` vs outcomes"), n, len));
        }
    }
    let mut pseudo = Vec::with_capacity(n);
    let mut weights = Vec::with_capacity(n);
    for i in 0..n {
        let d = t[i] - e[i];
        if d == 0.0 {
            return Err(Error::data(format!(
                "row {i}: treatment residual t - e is 0 (propensity {}); clip the propensity",
                e[i]
            )));
        }
        pseudo.push((o[i] - m[i]) / d);
        weights.push(d * d * w.map_or(1.0, |w| w[i]));
    }
    Ok(RStage { pseudo, weights })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_values() {
        // gold row: o = 2, m = 1, t = 1, e = 0.2 -> pseudo 1 / 0.8 = 1.25, weight 0.64
        // pref row: o = 0.5, m = 1, t = 0, e = 0.2 -> pseudo -0.5 / -0.2 = 2.5, weight 0.04 * 3
        let s = r_stage(&[2.0, 0.5], &[1.0, 1.0], &[1.0, 0.0], &[0.2, 0.2], Some(&[1.0, 3.0])).unwrap();
        assert!((s.pseudo[0] - 1.25).abs() < 1e-15 && (s.pseudo[1] - 2.5).abs() < 1e-15);
        assert!((s.weights[0] - 0.64).abs() < 1e-15 && (s.weights[1] - 0.12).abs() < 1e-15);
        assert!(r_stage(&[1.0], &[0.0], &[1.0], &[1.0], None).is_err());
        assert!(r_stage(&[1.0], &[0.0, 1.0], &[1.0], &[0.5], None).is_err());
    }
}
