//! Weighted statistics and numerically stable scalar functions.
//!
//! * `log1pexp(x) = log(1 + e^x)` without overflow: `x + log1p(e^-x)` for `x > 0`.
//! * `sigmoid(x) = 1 / (1 + e^-x)` evaluated on the side that does not overflow.
//! * `exp_nonpositive(x) = e^x` for `x <= 0` without a call into the C library: `x = k ln 2 + r`
//!   with `k = round(x / ln 2)` and `|r| <= ln(2) / 2` (Cody-Waite, `ln 2` in two parts), `e^r`
//!   by its Taylor polynomial of degree 13 (truncation below `1e-17`), times `2^k` applied in two
//!   exact halves so that subnormal results round once. Within a few ulp of the correctly rounded
//!   value, branch-free, and the same bits on every platform.
//! * Weighted mean and variance by the two-pass algorithm (mean first, then centred squares),
//!   accumulated in f64 in index order.

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

/// `e^x` for `x <= 0` (see the module docs): within 2 ulp, 0 below about -745, NaN for NaN
/// (arguments above 0 are treated as 0).
#[inline]
pub fn exp_nonpositive(x: f64) -> f64 {
    const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
    // 1.5 * 2^52: adding and subtracting it rounds to the nearest integer (ties to even)
    const ROUND: f64 = 6_755_399_441_055_744.0;
    let x = x.clamp(-746.0, 0.0);
    let k = (x * std::f64::consts::LOG2_E + ROUND) - ROUND;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    // Taylor coefficients 1/j!, j = 13 down to 2, by Horner
    const C: [f64; 12] = [
        1.0 / 6_227_020_800.0,
        1.0 / 479_001_600.0,
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
    ];
    let mut p = C[0];
    for &c in &C[1..] {
        p = p * r + c;
    }
    let er = (p * r + 1.0) * r + 1.0;
    // 2^k in two exact halves, each at least 2^-539 (a normal number)
    let k = k as i64;
    let h = k / 2;
    let pow2 = |e: i64| f64::from_bits(((e + 1023) as u64) << 52);
    er * pow2(h) * pow2(k - h)
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
    fn exp_nonpositive_is_within_a_few_ulp_of_libm() {
        let mut worst = 0.0f64;
        let mut x = 0.0f64;
        while x > -745.0 {
            let (got, want) = (exp_nonpositive(x), x.exp());
            let ulp = if want >= f64::MIN_POSITIVE { want * f64::EPSILON } else { 5e-324 };
            worst = worst.max((got - want).abs() / ulp);
            x -= 0.000_731_3 * (1.0 + x.abs());
        }
        assert!(worst <= 2.0, "{worst} ulp");
        for x in [0.0, -0.0, -1e-300, -5e-324, -0.5, -1.0, -36.7, -708.3, -744.4] {
            let (got, want) = (exp_nonpositive(x), x.exp());
            assert!((got - want).abs() <= 2.0 * f64::EPSILON * want + 5e-324, "{x}: {got} vs {want}");
        }
        assert_eq!(exp_nonpositive(-746.0), 0.0);
        assert_eq!(exp_nonpositive(-1e300), 0.0);
        assert_eq!(exp_nonpositive(f64::NEG_INFINITY), 0.0);
        assert_eq!(exp_nonpositive(0.0), 1.0);
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
