//! The percentile bootstrap over held-out queries: its parameters, the resample streams, the
//! stratified draw, and percentile intervals.
//!
//! **Streams.** Resample `b` (0-based) draws every index from its own generator,
//! `Seed(seed).child(EVAL).indexed(RESAMPLE, b)` ([`resample_seed`]), so each resample is a
//! function of `(seed, purpose, b)` alone: resamples can be computed in any order on any number
//! of threads and gathered by `b`, and the intervals are bit-identical for any thread count.
//!
//! **Stratified draw** ([`draw_stratified`]). The rows fall into strata (for the held-out
//! evaluation: rows with a gold label, then rows without); a resample draws, stratum by stratum
//! in the order given, as many indices as the stratum has rows, uniformly with replacement from
//! that stratum. Stratum sizes (the gold count) are therefore the same in every resample, as in
//! the design being imitated (a fixed number of gold labels among the held-out queries).
//!
//! **Percentile interval** at level `L` ([`percentile_interval`]): with the `B` replicate values
//! sorted, `v_(0) <= .. <= v_(B-1)`, the interval is `[Q((1 - L)/2), Q((1 + L)/2)]`, with
//! `Q(q) = v_(lo) + (pos - lo) (v_(lo+1) - v_(lo))`, `pos = q (B - 1)`, `lo = floor(pos)`
//! (linear interpolation between order statistics). The bootstrap standard error is the sample
//! standard deviation of the replicates (`B - 1` in the denominator; 0 for `B = 1`).

use rand::RngExt;

use crate::error::{Error, Result};
use crate::params::at_least;
use crate::rng::{Rng, Seed, stream};

/// The purpose, under `seed.child(EVAL)`, of the held-out bootstrap's resamples.
const RESAMPLE: u64 = 1;

/// The most resamples allowed (each keeps a few curves of [`crate::eval::curves::GRID`] values).
pub const MAX_RESAMPLES: usize = 1_000_000;

/// Parameters of the bootstrap.
///
/// Defaults: `resamples` 2000, `level` 0.9, `seed` 42.
#[derive(Clone, Debug, PartialEq)]
pub struct BootstrapParams {
    /// Number of resamples `B` (at least 1).
    pub resamples: usize,
    /// Confidence level of the intervals, in (0, 1).
    pub level: f64,
    /// Seed of the resample streams.
    pub seed: u64,
}

impl Default for BootstrapParams {
    fn default() -> Self {
        BootstrapParams { resamples: 2000, level: 0.9, seed: 42 }
    }
}

impl BootstrapParams {
    /// Checks the domains.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] for `resamples` 0 or above [`MAX_RESAMPLES`], or a `level` outside
    /// the open interval (0, 1).
    pub fn validate(&self) -> Result<()> {
        check_level("bootstrap", self.level)?;
        at_least("bootstrap", "resamples", self.resamples, 1)?;
        if self.resamples > MAX_RESAMPLES {
            return Err(Error::param(
                "bootstrap",
                "resamples",
                format!("must be at most {MAX_RESAMPLES}, got {}", self.resamples),
            ));
        }
        Ok(())
    }
}

/// Checks a confidence level lies in the open interval (0, 1).
///
/// # Errors
/// [`Error::InvalidParam`] naming `owner` and `level`.
pub fn check_level(owner: &str, level: f64) -> Result<()> {
    if level > 0.0 && level < 1.0 {
        Ok(())
    } else {
        Err(Error::param(owner, "level", format!("must lie strictly between 0 and 1, got {level}")))
    }
}

/// The seed of resample `b` (see the module docs).
pub fn resample_seed(seed: u64, b: usize) -> Seed {
    Seed(seed).child(stream::EVAL).indexed(RESAMPLE, b as u64)
}

/// Fills `out` with one stratified resample: for each stratum in order, `stratum.len()` of its
/// entries drawn uniformly with replacement. Empty strata draw nothing.
pub fn draw_stratified(strata: &[&[usize]], rng: &mut Rng, out: &mut Vec<usize>) {
    out.clear();
    for stratum in strata {
        let n = stratum.len();
        for _ in 0..n {
            out.push(stratum[rng.random_range(0..n)]);
        }
    }
}

/// The `q` quantile of sorted values, interpolated at position `q (n - 1)` (see the module docs).
fn quantile_sorted(v: &[f64], q: f64) -> f64 {
    let pos = q * (v.len() - 1) as f64;
    let lo = pos.floor() as usize;
    let hi = (lo + 1).min(v.len() - 1);
    v[lo] + (pos - lo as f64) * (v[hi] - v[lo])
}

/// The percentile interval `[low, high]` of the replicate values at `level` (sorts `values`).
///
/// # Errors
/// [`Error::Empty`] without values, [`Error::NonFinite`] for a NaN replicate, a bad level.
pub fn percentile_interval(values: &mut [f64], level: f64) -> Result<[f64; 2]> {
    check_level("bootstrap", level)?;
    if values.is_empty() {
        return Err(Error::empty("bootstrap: no replicates"));
    }
    crate::check::finite_slice("bootstrap replicates", values)?;
    values.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    Ok([quantile_sorted(values, tail), quantile_sorted(values, 1.0 - tail)])
}

/// The sample standard deviation of the replicates (0 for fewer than two).
pub fn standard_error(values: &[f64]) -> f64 {
    let b = values.len();
    if b < 2 {
        return 0.0;
    }
    let m = values.iter().sum::<f64>() / b as f64;
    let ss: f64 = values.iter().map(|v| (v - m) * (v - m)).sum();
    (ss / (b - 1) as f64).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_interpolate_between_order_statistics() {
        let mut v: Vec<f64> = (0..=100).rev().map(f64::from).collect();
        let [lo, hi] = percentile_interval(&mut v, 0.9).unwrap();
        assert!((lo - 5.0).abs() < 1e-12 && (hi - 95.0).abs() < 1e-12, "{lo} {hi}");
        let mut v = vec![3.0, 1.0];
        // positions 0.05 and 0.95 between 1 and 3
        let [lo, hi] = percentile_interval(&mut v, 0.9).unwrap();
        assert!((lo - 1.1).abs() < 1e-15 && (hi - 2.9).abs() < 1e-15);
        assert_eq!(percentile_interval(&mut [7.0], 0.5).unwrap(), [7.0, 7.0]);
        assert!(percentile_interval(&mut [], 0.9).is_err());
        assert!(percentile_interval(&mut [f64::NAN], 0.9).is_err());
        assert!((standard_error(&[1.0, 3.0]) - 2f64.sqrt()).abs() < 1e-15);
        assert_eq!(standard_error(&[1.0]), 0.0);
    }

    #[test]
    fn stratified_draws_stay_in_their_strata_and_depend_on_the_index_only() {
        let (a, b): (Vec<usize>, Vec<usize>) = ((0..5).collect(), (5..50).collect());
        let mut out = Vec::new();
        draw_stratified(&[&a, &b], &mut resample_seed(3, 7).rng(), &mut out);
        assert_eq!(out.len(), 50);
        assert!(out[..5].iter().all(|&i| i < 5) && out[5..].iter().all(|&i| (5..50).contains(&i)));
        let mut again = Vec::new();
        draw_stratified(&[&a, &b], &mut resample_seed(3, 7).rng(), &mut again);
        assert_eq!(out, again);
        draw_stratified(&[&a, &b], &mut resample_seed(3, 8).rng(), &mut again);
        assert_ne!(out, again);
        draw_stratified(&[&[], &a], &mut resample_seed(3, 8).rng(), &mut again);
        assert_eq!(again.len(), 5);
    }

    #[test]
    fn parameters_are_checked() {
        assert!(BootstrapParams::default().validate().is_ok());
        for level in [0.0, 1.0, -0.1, f64::NAN] {
            let e = BootstrapParams { level, ..Default::default() }.validate().unwrap_err();
            assert!(e.to_string().contains("level"), "{e}");
        }
        let e = BootstrapParams { resamples: 0, ..Default::default() }.validate().unwrap_err();
        assert!(e.to_string().contains("resamples"), "{e}");
    }
}
