//! Weighted statistics and numerically stable scalar functions.
//!
//! * `log1pexp(x) = log(1 + e^x)` without overflow: `x + log1p(e^-x)` for `x > 0`.
//! * `sigmoid(x) = 1 / (1 + e^-x)` evaluated on the side that does not overflow.
//! * Weighted mean and variance by the two-pass algorithm (mean first, then centred squares),
//!   accumulated in f64 in index order.
//! * Pearson correlation `sum (a - ma)(b - mb) / sqrt(sum (a - ma)^2 sum (b - mb)^2)`, unweighted.

/// `log(1 + exp(x))`, finite for every finite `x`.
#[inline]
pub fn log1pexp(x: f64) -> f64 {
    if x > 0.0 { x + (-x).exp().ln_1p() } else { x.exp().ln_1p() }
}

/// The logistic function, in `[0, 1]` for every finite `x`.
#[inline]
pub fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Weighted mean `sum w_i v_i / sum w_i` (weights all one when `None`), accumulated in index order.
pub fn mean(v: &[f64], w: Option<&[f64]>) -> f64 {
    let (mut s, mut sw) = (0.0, 0.0);
    for (i, &x) in v.iter().enumerate() {
        let wi = w.map_or(1.0, |w| w[i]);
        s += wi * x;
        sw += wi;
    }
    s / sw
}

/// Weighted population variance `sum w (v - mean)^2 / sum w` (two-pass).
pub fn variance(v: &[f64], w: Option<&[f64]>) -> f64 {
    let m = mean(v, w);
    let (mut s, mut sw) = (0.0, 0.0);
    for (i, &x) in v.iter().enumerate() {
        let wi = w.map_or(1.0, |w| w[i]);
        s += wi * (x - m) * (x - m);
        sw += wi;
    }
    s / sw
}

/// Pearson correlation of `a` and `b` (equal lengths), about their plain means; NaN when either
/// is constant.
pub fn correlation(a: &[f64], b: &[f64]) -> f64 {
    let (ma, mb) = (mean(a, None), mean(b, None));
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        sab += (x - ma) * (y - mb);
        saa += (x - ma) * (x - ma);
        sbb += (y - mb) * (y - mb);
    }
    sab / (saa * sbb).sqrt()
}

/// Weighted population standard deviation.
pub fn std_dev(v: &[f64], w: Option<&[f64]>) -> f64 {
    variance(v, w).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stable_at_extremes() {
        assert_eq!(log1pexp(1e300), 1e300);
        assert_eq!(log1pexp(-1e300), 0.0);
        assert!((log1pexp(0.0) - 2f64.ln()).abs() < 1e-15);
        assert_eq!(sigmoid(1e300), 1.0);
        assert_eq!(sigmoid(-1e300), 0.0);
        assert!((sigmoid(0.3) + sigmoid(-0.3) - 1.0).abs() < 1e-15);
    }

    #[test]
    fn weighted_variance_equals_repetition() {
        let v = [1.0, 2.0, 4.0];
        let w = [1.0, 2.0, 1.0];
        let rep = [1.0, 2.0, 2.0, 4.0];
        assert!((variance(&v, Some(&w)) - variance(&rep, None)).abs() < 1e-15);
        assert!((mean(&v, Some(&w)) - 2.25).abs() < 1e-15);
    }
}
