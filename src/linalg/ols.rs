//! Ordinary least squares with heteroskedasticity-robust (HC3) standard errors and the robust
//! Wald test of a block of coefficients.
//!
//! For the design `X` (`n x p`, an intercept column included by the caller if wanted) and `y`:
//! ```text
//! b     = (X'X)^-1 X'y,     e_i = y_i - x_i'b,     h_i = x_i' (X'X)^-1 x_i   (leverage)
//! V_HC3 = (X'X)^-1 [ sum_i x_i x_i' e_i^2 / (1 - h_i)^2 ] (X'X)^-1
//! ```
//! (MacKinnon & White 1985; Long & Ervin 2000 recommend HC3 in small samples; it is the
//! default of R's `sandwich::vcovHC` and of grf's `best_linear_projection`.) Columns are
//! scaled to unit root-mean-square before `X'X` is factored (Cholesky, in f64, sequentially:
//! bit-reproducible), and the coefficients and covariance scaled back exactly. A column that is
//! (numerically) a linear combination of the others is an [`Error::Singular`] naming it.
//!
//! **Wald test** of the coefficients `S` (e.g. every slope): `W = b_S' V_SS^-1 b_S`, asymptotically
//! chi-square with `q = |S|` degrees of freedom. The robust covariance is estimated from the
//! scores `s_i = x_i e_i`; when a few rows carry most of their variance (heavy tails, as with
//! inverse-propensity-weighted pseudo-outcomes), it is as noisy as a covariance of far fewer
//! rows and the chi-square test is too liberal. [`Ols::wald`] therefore refers `W` to
//! Hotelling's `T^2` distribution with an effective sample size,
//! ```text
//! F = W (m - q) / (q (m - 1)) ~ F(q, m - q),     m = n q (q + 2) / b_2,
//! b_2 = (1/n) sum_i (s_i' S^-1 s_i)^2,   S = (1/n) sum_i s_i s_i'   (the scores of the block)
//! ```
//! `b_2` is Mardia's multivariate kurtosis of the scores, `q (q + 2)` its value for Gaussian
//! scores, so `m = n / (1 + kappa)` shrinks `n` by the scores' excess kurtosis (the effective
//! number of observations behind a covariance estimate of elliptical data; Yuan & Bentler 1999
//! use the same factor). For light-tailed scores `m` is a few times smaller than `n` and the F
//! tail is within a hair of the chi-square one; for scores dominated by `k` rows `m ~ k`.
//! With `m <= q + 1` there are too few effective observations: the test reports NaN.

use faer::MatRef;

use crate::error::{Error, Result};

/// A fitted OLS with its HC3 covariance.
#[derive(Clone, Debug, PartialEq)]
pub struct Ols {
    /// Coefficients, one per design column.
    pub coef: Vec<f64>,
    /// The HC3 covariance, `p x p` row-major.
    pub cov: Vec<f64>,
    /// The scores `x_ij e_i`, `n x p` row-major (for [`Ols::wald`]).
    scores: Vec<f64>,
    /// Rows.
    pub n: usize,
    /// Columns.
    pub p: usize,
}

/// A Wald test of a block of coefficients (see the module docs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Wald {
    /// `W = b_S' V_SS^-1 b_S`.
    pub statistic: f64,
    /// `q`, the number of coefficients tested.
    pub df: usize,
    /// The chi-square p-value `P(chi2_q > W)`.
    pub p_chi_square: f64,
    /// The effective sample size `m` of the scores.
    pub effective_n: f64,
    /// The F statistic `W (m - q) / (q (m - 1))` (NaN when `m <= q + 1`).
    pub f: f64,
    /// Its denominator degrees of freedom `m - q`.
    pub f_df2: f64,
    /// `P(F(q, m - q) > f)` (NaN when `m <= q + 1`).
    pub p_value: f64,
}

/// Cholesky factor `L` (lower, row-major) of the symmetric positive definite `a` (`p x p`);
/// `Err(j)` at the first column whose pivot is not positive relative to its diagonal.
fn cholesky(a: &[f64], p: usize) -> std::result::Result<Vec<f64>, usize> {
    let mut l = vec![0.0; p * p];
    for j in 0..p {
        let mut d = a[j * p + j];
        for k in 0..j {
            d -= l[j * p + k] * l[j * p + k];
        }
        let floor = 1e-10 * a[j * p + j].abs().max(f64::MIN_POSITIVE);
        if d.is_nan() || d <= floor {
            return Err(j);
        }
        let d = d.sqrt();
        l[j * p + j] = d;
        for i in j + 1..p {
            let mut s = a[i * p + j];
            for k in 0..j {
                s -= l[i * p + k] * l[j * p + k];
            }
            l[i * p + j] = s / d;
        }
    }
    Ok(l)
}

/// `A^-1` from the Cholesky factor of `A` (row-major).
fn inverse_from_cholesky(l: &[f64], p: usize) -> Vec<f64> {
    // L^-1 by forward substitution, then A^-1 = L^-T L^-1
    let mut li = vec![0.0; p * p];
    for j in 0..p {
        li[j * p + j] = 1.0 / l[j * p + j];
        for i in j + 1..p {
            let mut s = 0.0;
            for k in j..i {
                s -= l[i * p + k] * li[k * p + j];
            }
            li[i * p + j] = s / l[i * p + i];
        }
    }
    let mut inv = vec![0.0; p * p];
    for i in 0..p {
        for j in 0..=i {
            let mut s = 0.0;
            for k in i..p {
                s += li[k * p + i] * li[k * p + j];
            }
            inv[i * p + j] = s;
            inv[j * p + i] = s;
        }
    }
    inv
}

/// `A^-1` of a symmetric positive definite `p x p` row-major matrix; `Err(j)` for a pivot that
/// is not positive.
fn spd_inverse(a: &[f64], p: usize) -> std::result::Result<Vec<f64>, usize> {
    Ok(inverse_from_cholesky(&cholesky(a, p)?, p))
}

/// Fits OLS of `y` on the columns of `x` with HC3 standard errors (see the module docs);
/// `names` name the columns in errors.
///
/// # Errors
/// [`Error::Shape`] for `y` of the wrong length; [`Error::Empty`] for fewer rows than columns
/// plus one; [`Error::Singular`] naming a column that is constant zero or collinear with the
/// ones before it.
pub fn ols_hc3(x: MatRef<'_, f64>, y: &[f64], names: &[String]) -> Result<Ols> {
    let (n, p) = (x.nrows(), x.ncols());
    if y.len() != n {
        return Err(Error::shape("OLS: responses vs design rows", n, y.len()));
    }
    if n <= p {
        return Err(Error::empty(format!("OLS: {n} rows for {p} coefficients; at least {} are needed", p + 1)));
    }
    let name = |j: usize| names.get(j).cloned().unwrap_or_else(|| format!("column {j}"));
    // column scales: root mean square
    let scale: Vec<f64> = (0..p)
        .map(|j| {
            let ss: f64 = (0..n).map(|i| x[(i, j)] * x[(i, j)]).sum();
            (ss / n as f64).sqrt()
        })
        .collect();
    if let Some(j) = scale.iter().position(|&s| !(s > 0.0 && s.is_finite())) {
        return Err(Error::Singular { what: format!("the OLS design: `{}` is zero on every row", name(j)) });
    }
    let z = |i: usize, j: usize| x[(i, j)] / scale[j];
    let mut row = vec![0.0; p];
    let mut xtx = vec![0.0; p * p];
    let mut xty = vec![0.0; p];
    for (i, &yi) in y.iter().enumerate() {
        for (j, r) in row.iter_mut().enumerate() {
            *r = z(i, j);
        }
        for a in 0..p {
            xty[a] += row[a] * yi;
            for b in 0..=a {
                xtx[a * p + b] += row[a] * row[b];
            }
        }
    }
    for a in 0..p {
        for b in 0..a {
            xtx[b * p + a] = xtx[a * p + b];
        }
    }
    let inv = spd_inverse(&xtx, p).map_err(|j| Error::Singular {
        what: format!(
            "the OLS design: `{}` is (numerically) a linear combination of the columns before it; drop it",
            name(j)
        ),
    })?;
    let coef_z: Vec<f64> = (0..p).map(|a| (0..p).map(|b| inv[a * p + b] * xty[b]).sum()).collect();
    let mut meat = vec![0.0; p * p];
    let mut scores = vec![0.0; n * p];
    let mut ir = vec![0.0; p];
    for i in 0..n {
        for (j, r) in row.iter_mut().enumerate() {
            *r = z(i, j);
        }
        let fit: f64 = row.iter().zip(&coef_z).map(|(a, b)| a * b).sum();
        let e = y[i] - fit;
        for (a, v) in ir.iter_mut().enumerate() {
            *v = (0..p).map(|b| inv[a * p + b] * row[b]).sum();
        }
        let h: f64 = row.iter().zip(&ir).map(|(a, b)| a * b).sum();
        let w = e * e / ((1.0 - h) * (1.0 - h)).max(f64::MIN_POSITIVE);
        for a in 0..p {
            scores[i * p + a] = x[(i, a)] * e;
            for b in 0..=a {
                meat[a * p + b] += w * row[a] * row[b];
            }
        }
    }
    for a in 0..p {
        for b in 0..a {
            meat[b * p + a] = meat[a * p + b];
        }
    }
    // cov_z = inv meat inv, then back to the original units
    let mut tmp = vec![0.0; p * p];
    for a in 0..p {
        for b in 0..p {
            tmp[a * p + b] = (0..p).map(|k| inv[a * p + k] * meat[k * p + b]).sum();
        }
    }
    let mut cov = vec![0.0; p * p];
    for a in 0..p {
        for b in 0..p {
            let v: f64 = (0..p).map(|k| tmp[a * p + k] * inv[k * p + b]).sum();
            cov[a * p + b] = v / (scale[a] * scale[b]);
        }
    }
    let coef = coef_z.iter().zip(&scale).map(|(c, s)| c / s).collect();
    Ok(Ols { coef, cov, scores, n, p })
}

impl Ols {
    /// The robust standard error of coefficient `j`.
    pub fn se(&self, j: usize) -> f64 {
        self.cov[j * self.p + j].max(0.0).sqrt()
    }

    /// The robust Wald test that the coefficients `block` are all zero (see the module docs).
    ///
    /// # Errors
    /// [`Error::Empty`] for an empty block; [`Error::Singular`] when their covariance (or the
    /// scores' second moment) is not positive definite.
    pub fn wald(&self, block: &[usize]) -> Result<Wald> {
        let q = block.len();
        if q == 0 {
            return Err(Error::empty("Wald test: no coefficients to test"));
        }
        let p = self.p;
        let v: Vec<f64> = block.iter().flat_map(|&a| block.iter().map(move |&b| self.cov[a * p + b])).collect();
        let vi = spd_inverse(&v, q)
            .map_err(|_| Error::Singular { what: "the robust covariance of the tested coefficients".into() })?;
        let b: Vec<f64> = block.iter().map(|&a| self.coef[a]).collect();
        let statistic: f64 = (0..q).map(|r| b[r] * (0..q).map(|c| vi[r * q + c] * b[c]).sum::<f64>()).sum();
        // Mardia's kurtosis of the block's scores
        let n = self.n;
        let mut s2 = vec![0.0; q * q];
        for i in 0..n {
            for r in 0..q {
                let sr = self.scores[i * p + block[r]];
                for c in 0..=r {
                    s2[r * q + c] += sr * self.scores[i * p + block[c]];
                }
            }
        }
        for r in 0..q {
            for c in 0..=r {
                s2[r * q + c] /= n as f64;
                s2[c * q + r] = s2[r * q + c];
            }
        }
        let si = spd_inverse(&s2, q)
            .map_err(|_| Error::Singular { what: "the second moment of the tested coefficients' scores".into() })?;
        let mut b2 = 0.0;
        let mut s = vec![0.0; q];
        for i in 0..n {
            for (r, sv) in s.iter_mut().enumerate() {
                *sv = self.scores[i * p + block[r]];
            }
            let d: f64 = (0..q).map(|r| s[r] * (0..q).map(|c| si[r * q + c] * s[c]).sum::<f64>()).sum();
            b2 += d * d;
        }
        b2 /= n as f64;
        let qf = q as f64;
        let effective_n = (n as f64 * qf * (qf + 2.0) / b2).min(n as f64);
        let (f, f_df2, p_value) = if effective_n > qf + 1.0 {
            let f = statistic * (effective_n - qf) / (qf * (effective_n - 1.0));
            (f, effective_n - qf, crate::linalg::dist::f_sf(f, qf, effective_n - qf))
        } else {
            (f64::NAN, effective_n - qf, f64::NAN)
        };
        Ok(Wald {
            statistic,
            df: q,
            p_chi_square: crate::linalg::dist::chi_square_sf(statistic, qf),
            effective_n,
            f,
            f_df2,
            p_value,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    #[test]
    fn hand_computed_hc3_on_a_tiny_design() {
        // y = 1 + 2 x exactly except row 3: x = 0, 1, 2, 3; y = 1, 3, 5, 8
        let x = Mat::from_fn(4, 2, |i, j| if j == 0 { 1.0 } else { i as f64 });
        let y = [1.0, 3.0, 5.0, 8.0];
        let f = ols_hc3(x.as_ref(), &y, &[]).unwrap();
        // X'X = [[4, 6], [6, 14]], X'y = [17, 37], b = [0.8, 2.3]
        assert!((f.coef[0] - 0.8).abs() < 1e-12 && (f.coef[1] - 2.3).abs() < 1e-12, "{:?}", f.coef);
        // residuals 0.2, -0.1, -0.4, 0.3; leverages (X'X)^-1 = [[0.7, -0.3], [-0.3, 0.2]]:
        // h = 0.7, 0.3, 0.3, 0.7
        let e = [0.2, -0.1, -0.4, 0.3];
        let h = [0.7, 0.3, 0.3, 0.7];
        let inv = [[0.7, -0.3], [-0.3, 0.2]];
        let mut meat = [[0.0; 2]; 2];
        for i in 0..4 {
            let xi = [1.0, i as f64];
            let w = e[i] * e[i] / ((1.0 - h[i]) * (1.0 - h[i]));
            for a in 0..2 {
                for b in 0..2 {
                    meat[a][b] += w * xi[a] * xi[b];
                }
            }
        }
        for a in 0..2 {
            for b in 0..2 {
                let mut v = 0.0;
                for k in 0..2 {
                    for l in 0..2 {
                        v += inv[a][k] * meat[k][l] * inv[l][b];
                    }
                }
                assert!((f.cov[a * 2 + b] - v).abs() < 1e-12, "{a}{b}: {} vs {v}", f.cov[a * 2 + b]);
            }
        }
        let w = f.wald(&[1]).unwrap();
        assert!((w.statistic - f.coef[1] * f.coef[1] / f.cov[3]).abs() < 1e-9);
    }

    #[test]
    fn collinear_columns_are_named() {
        let x = Mat::from_fn(10, 3, |i, j| match j {
            0 => 1.0,
            1 => i as f64,
            _ => 2.0 * i as f64 + 1.0,
        });
        let y: Vec<f64> = (0..10).map(|i| i as f64).collect();
        let names = vec!["intercept".to_string(), "a".to_string(), "b".to_string()];
        let e = ols_hc3(x.as_ref(), &y, &names).unwrap_err().to_string();
        assert!(e.contains("`b`"), "{e}");
        let z = Mat::from_fn(10, 2, |i, j| if j == 0 { 1.0 } else { 0.0 * i as f64 });
        assert!(ols_hc3(z.as_ref(), &y, &names).unwrap_err().to_string().contains("`a`"));
        assert!(ols_hc3(x.as_ref(), &y[..3], &names).is_err());
    }
}
