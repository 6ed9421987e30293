//! Named simulator scenarios: the default world and harder ones that do not flatter the
//! meta-routers, each a preset of [`SimParams`] (plus the study settings it implies), with known
//! `psi` and `delta`.
//!
//! Notation as in [`crate::sim`]: `u_j` the standardised score of feature `j`, `r_k(x)` the
//! topic posterior, `tau_k` the per-topic effects in psi and `kappa_k ~ N(0, delta_topic^2)`
//! (centred under the topic weights) the per-topic effects in delta. Every scenario draws
//!
//! ```text
//! psi(x)   = psi_mean + psi_linear (u_1 + u_2 - 0.6 u_3)
//!          + psi_nonlinear (sin(1.5 u_4) + u_2 u_5 / sqrt 2) + sum_k r_k(x) tau_k
//! delta(x) = delta_mean + delta_slope u_1 + delta_other u_6 + delta_psi (psi(x) - psi_mean)
//!          + sum_k r_k(x) kappa_k + delta_interaction (u_1 u_7 + max(u_8, 0) - 0.4)
//! gs = psi + gold_noise N(0, 1),   pb = s g(psi - delta) + pref_noise N(0, 1),
//! g(z) = tanh(a z) / a  (a = pref_distortion; g(z) = z for a = 0)
//! ```
//!
//! and differs only in the coefficients (defaults of [`SimParams`] unless listed):
//!
//! | scenario | changes | what it tests |
//! | --- | --- | --- |
//! | `default` | none | the HealthBench-like world of today: delta linear in `u_1`, `u_6` |
//! | `nonlinear_bias` | `delta_slope` 0.05, `delta_other` 0, `delta_topic` 0.15, `delta_interaction` 0.12 | a bias driven by topic clusters and interactions, in the span of no single final-stage candidate |
//! | `orthogonal_bias` | `delta_slope` 0, `delta_other` 0.15, `delta_topic` 0.10, `delta_interaction` 0.05 | a bias nearly uncorrelated with psi: preference labels rank well, noise only |
//! | `aligned_bias` | `delta_slope` 0, `delta_other` 0, `delta_psi` 0.8 | a bias that is mostly psi itself: preference labels carry a fifth of psi's signal |
//! | `noisy_pref` | `gold_noise` 0.30, `pref_noise` 0.90 | gold labels less noisy than preference labels (per label, on the gold scale) |
//! | `distorted_scale` | `scale` 8, `pref_distortion` 4, `pref_noise` 1.33 | preference labels on a very different scale, saturated by a monotone distortion |
//! | `weak_psi` | `psi_linear` 0.03, `psi_nonlinear` 0.04, `psi_topic` 0.03 | small achievable gain: little heterogeneity to route on |
//! | `gold_1pct` | none; studies default to `--gold` = 1% of the rows | a tiny gold share |
//! | `gold_10pct` | none; studies default to `--gold` = 10% of the rows | a generous gold share |
//! | `selected_gold` | `deploy_gold_share` 0.05, `deploy_select` 1.0 | deployment columns `source, label, propensity` whose gold rows are selected by features: `P(gold | x) = sigmoid(logit(0.05) + u_1)`, for `fit --propensity estimated` |
//! | `raw384` | `raw_dim` 384, `raw_noise` 0.05 | raw 384-column embeddings `x_raw = Q x + 0.05 N(0, I)` (`Q` random with orthonormal columns); studies default to `--pca 50` |
//!
//! The extra terms draw from their own streams (`seed.indexed(SIM, 2..=5)`), so the `default`
//! scenario's table is bit-identical to the simulator's before scenarios existed.

use crate::error::{Error, Result};
use crate::sim::SimParams;

/// A named simulator scenario (see the module docs for each one's equations).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Scenario {
    /// Today's HealthBench-like world.
    #[default]
    Default,
    /// Delta driven by topic clusters and interactions.
    NonlinearBias,
    /// Delta nearly orthogonal to psi.
    OrthogonalBias,
    /// Delta strongly aligned with psi.
    AlignedBias,
    /// Gold labels less noisy than preference labels.
    NoisyPref,
    /// Preference labels on a very different scale with a monotone distortion.
    DistortedScale,
    /// Weak psi heterogeneity.
    WeakPsi,
    /// A 1% gold share in studies.
    Gold1Pct,
    /// A 10% gold share in studies.
    Gold10Pct,
    /// Deployment columns with gold rows selected by features.
    SelectedGold,
    /// Raw 384-column embeddings that need PCA.
    Raw384,
}

impl Scenario {
    /// Every scenario, in documentation order.
    pub const ALL: [Scenario; 11] = [
        Scenario::Default,
        Scenario::NonlinearBias,
        Scenario::OrthogonalBias,
        Scenario::AlignedBias,
        Scenario::NoisyPref,
        Scenario::DistortedScale,
        Scenario::WeakPsi,
        Scenario::Gold1Pct,
        Scenario::Gold10Pct,
        Scenario::SelectedGold,
        Scenario::Raw384,
    ];

    /// The name used on the command line and in outputs.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Default => "default",
            Scenario::NonlinearBias => "nonlinear_bias",
            Scenario::OrthogonalBias => "orthogonal_bias",
            Scenario::AlignedBias => "aligned_bias",
            Scenario::NoisyPref => "noisy_pref",
            Scenario::DistortedScale => "distorted_scale",
            Scenario::WeakPsi => "weak_psi",
            Scenario::Gold1Pct => "gold_1pct",
            Scenario::Gold10Pct => "gold_10pct",
            Scenario::SelectedGold => "selected_gold",
            Scenario::Raw384 => "raw384",
        }
    }

    /// Parses a scenario name.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] listing the names.
    pub fn from_name(s: &str) -> Result<Self> {
        Scenario::ALL.into_iter().find(|k| k.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Scenario::ALL.iter().map(|k| k.name()).collect();
            Error::param("simulator", "scenario", format!("unknown scenario `{s}`; known: {}", names.join(", ")))
        })
    }

    /// The scenario's simulator parameters for a table of `n` rows.
    pub fn params(self, n: usize) -> SimParams {
        let base = SimParams { n, ..SimParams::default() };
        match self {
            Scenario::Default | Scenario::Gold1Pct | Scenario::Gold10Pct => base,
            Scenario::NonlinearBias => {
                SimParams { delta_slope: 0.05, delta_other: 0.0, delta_topic: 0.15, delta_interaction: 0.12, ..base }
            }
            Scenario::OrthogonalBias => {
                SimParams { delta_slope: 0.0, delta_other: 0.15, delta_topic: 0.10, delta_interaction: 0.05, ..base }
            }
            Scenario::AlignedBias => SimParams { delta_slope: 0.0, delta_other: 0.0, delta_psi: 0.8, ..base },
            Scenario::NoisyPref => SimParams { gold_noise: 0.30, pref_noise: 0.90, ..base },
            Scenario::DistortedScale => SimParams { scale: 8.0, pref_distortion: 4.0, pref_noise: 1.33, ..base },
            Scenario::WeakPsi => SimParams { psi_linear: 0.03, psi_nonlinear: 0.04, psi_topic: 0.03, ..base },
            Scenario::SelectedGold => SimParams { deploy_gold_share: 0.05, deploy_select: 1.0, ..base },
            Scenario::Raw384 => SimParams { raw_dim: 384, raw_noise: 0.05, ..base },
        }
    }

    /// The gold rows per round a study of `n` rows uses unless `--gold` is given (`None`: the
    /// study's own default).
    pub fn study_gold(self, n: usize) -> Option<usize> {
        match self {
            Scenario::Gold1Pct => Some((n / 100).max(1)),
            Scenario::Gold10Pct => Some((n / 10).max(1)),
            _ => None,
        }
    }

    /// The principal components a study fits per round unless `--pca` is given.
    pub fn study_pca(self) -> Option<usize> {
        match self {
            Scenario::Raw384 => Some(50),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::linalg::stats::correlation as corr;
    use crate::params::Params;
    use crate::rng::Seed;
    use crate::sim::tests::mean;
    use faer::linalg::solvers::SolveLstsq;

    fn sd(v: &[f64]) -> f64 {
        let m = mean(v);
        (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64).sqrt()
    }

    /// R^2 of the least-squares fit of `y` on an intercept and the given columns.
    fn r2_linear(cols: &[Vec<f64>], y: &[f64]) -> f64 {
        let n = y.len();
        let mut x = faer::Mat::<f64>::zeros(n, cols.len() + 1);
        for i in 0..n {
            x[(i, 0)] = 1.0;
            for (j, c) in cols.iter().enumerate() {
                x[(i, j + 1)] = c[i];
            }
        }
        let yv = faer::Mat::<f64>::from_fn(n, 1, |i, _| y[i]);
        let beta = x.qr().solve_lstsq(&yv);
        let fit = &x * &beta;
        let rss: f64 = (0..n).map(|i| (y[i] - fit[(i, 0)]).powi(2)).sum();
        1.0 - rss / (sd(y).powi(2) * n as f64)
    }

    #[test]
    fn names_round_trip_and_unknown_names_list_the_known() {
        for s in Scenario::ALL {
            assert_eq!(Scenario::from_name(s.name()).unwrap(), s);
            s.params(500).validate().unwrap();
        }
        let e = Scenario::from_name("nope").unwrap_err().to_string();
        assert!(e.contains("nope") && e.contains("raw384"), "{e}");
    }

    #[test]
    fn default_scenario_is_the_default_simulator_bit_for_bit() {
        let a = Scenario::Default.params(400).simulate(Seed(9)).unwrap();
        let b = SimParams { n: 400, ..Default::default() }.simulate(Seed(9)).unwrap();
        assert_eq!(a.x, b.x);
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&a.pref), bits(&b.pref));
        assert_eq!(bits(&a.delta), bits(&b.delta));
        assert!(a.deployment.is_none());
    }

    #[test]
    fn nonlinear_bias_is_not_linear_in_the_features() {
        let s = Scenario::NonlinearBias.params(6000).simulate(Seed(1)).unwrap();
        let cols: Vec<Vec<f64>> = (0..s.x.ncols()).map(|j| s.x.col_as_slice(j).to_vec()).collect();
        let r2 = r2_linear(&cols, &s.delta);
        // The default's delta is exactly linear in two features (R^2 = 1).
        assert!(r2 < 0.6, "linear R^2 of delta {r2}");
        assert!(sd(&s.delta) > 0.12, "{}", sd(&s.delta));
    }

    #[test]
    fn orthogonal_and_aligned_biases_are_what_they_say() {
        let o = Scenario::OrthogonalBias.params(8000).simulate(Seed(2)).unwrap();
        let r = corr(&o.delta, &o.psi);
        assert!(r.abs() < 0.15, "corr(delta, psi) = {r}");
        assert!(sd(&o.delta) > 0.1);
        let a = Scenario::AlignedBias.params(8000).simulate(Seed(2)).unwrap();
        let r = corr(&a.delta, &a.psi);
        assert!(r > 0.95, "corr(delta, psi) = {r}");
    }

    #[test]
    fn noisy_pref_has_gold_noise_below_preference_noise_on_the_gold_scale() {
        let p = Scenario::NoisyPref.params(10);
        assert!(p.gold_noise <= p.pref_noise / p.scale);
    }

    #[test]
    fn distorted_scale_is_monotone_and_saturated() {
        let p = Scenario::DistortedScale.params(5000);
        let s = p.simulate(Seed(3)).unwrap();
        // The noiseless preference gain is a monotone function of eta, strictly inside +-s/a.
        let bound = p.scale / p.pref_distortion;
        let mut pairs: Vec<(f64, f64)> =
            s.psi.iter().zip(&s.delta).map(|(a, b)| (a - b, p.scale * p.distort(a - b))).collect();
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert!(pairs.windows(2).all(|w| w[0].1 <= w[1].1));
        assert!(pairs.iter().all(|(_, g)| g.abs() < bound));
        // Saturation: the top tenth of eta spans far less of g than a linear map would.
        let (lo, hi) = (pairs[pairs.len() * 9 / 10], pairs[pairs.len() - 1]);
        assert!((hi.1 - lo.1) < 0.8 * p.scale * (hi.0 - lo.0), "{lo:?} {hi:?}");
    }

    #[test]
    fn weak_psi_has_a_small_achievable_gain() {
        let w = Scenario::WeakPsi.params(5000).simulate(Seed(4)).unwrap();
        let d = Scenario::Default.params(5000).simulate(Seed(4)).unwrap();
        assert!(sd(&w.psi) < 0.4 * sd(&d.psi), "{} vs {}", sd(&w.psi), sd(&d.psi));
    }

    #[test]
    fn gold_shares_set_the_study_gold_count() {
        assert_eq!(Scenario::Gold1Pct.study_gold(5000), Some(50));
        assert_eq!(Scenario::Gold10Pct.study_gold(5000), Some(500));
        assert_eq!(Scenario::Default.study_gold(5000), None);
        assert_eq!(Scenario::Raw384.study_pca(), Some(50));
    }

    #[test]
    fn selected_gold_rows_follow_the_feature_propensity() {
        let s = Scenario::SelectedGold.params(20_000).simulate(Seed(5)).unwrap();
        let dep = s.deployment.as_ref().unwrap();
        let share = mean(&dep.is_gold);
        assert!((share - mean(&dep.propensity)).abs() < 0.01, "{share}");
        // Selection depends on x_1: gold rows sit higher along it than preference rows.
        let x1 = s.x.col_as_slice(0);
        let (mut g, mut p) = (Vec::new(), Vec::new());
        for (&v, &t) in x1.iter().zip(&dep.is_gold) {
            if t == 1.0 { g.push(v) } else { p.push(v) }
        }
        assert!(mean(&g) - mean(&p) > 0.5, "{} {}", mean(&g), mean(&p));
        for i in 0..x1.len() {
            let want = if dep.is_gold[i] == 1.0 { s.gold[i] } else { s.pref[i] };
            assert_eq!(dep.label[i].to_bits(), want.to_bits());
        }
    }

    #[test]
    fn raw384_embeds_the_latent_scores_in_384_columns() {
        let p = Scenario::Raw384.params(3000);
        let s = p.simulate(Seed(6)).unwrap();
        assert_eq!(s.x.ncols(), 384);
        let latent = Scenario::Default.params(3000).simulate(Seed(6)).unwrap();
        // The truth is the latent world's (same streams), and the first latent score is a
        // linear function of the raw columns up to the small isotropic noise.
        assert_eq!(s.psi, latent.psi);
        let cols: Vec<Vec<f64>> = (0..384).map(|j| s.x.col_as_slice(j).to_vec()).collect();
        let r2 = r2_linear(&cols, latent.x.col_as_slice(0));
        assert!(r2 > 0.99, "{r2}");
    }
}
