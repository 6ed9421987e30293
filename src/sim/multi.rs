//! Many models and many judges (issue #13): the simulator's world with `K` models and `S`
//! preference sources, with known gains `psi_k` and biases `Delta_{s,k}`, such that `K = 2`,
//! `S = 1` is the two-model table of [`SimParams::simulate`] bit for bit.
//!
//! # The generator
//! Model 0 is the reference (the cheapest); every gain is against it, so `psi_0 = 0` and
//! `Delta_{s,0} = 0`. Model 1 is the two-model simulator's primary model and judge 0 its judge:
//! `psi_1`, `Delta_{0,1}`, `gs_1` and `pb_{0,1}` are the columns `psi`, `delta`, `gs` and `pb`
//! of [`SimParams::simulate`] with the same seed (every scenario's terms included). The other
//! models and judges add terms on the standardised scores `u_j = x_j / sqrt(v_j)` of that table
//! (1-based feature indices), from their own random streams:
//! ```text
//! psi_k(x)     = psi_mean (1 - 0.3 (k - 1)) + psi_linear (u_{6+k} - 0.5 u_1)
//!              + psi_nonlinear sin(1.5 u_{7+k})                        k = 2..K-1
//! Delta_{s,k}(x) = delta_mean (1 + s / 2) + delta_slope u_{1+s} + delta_other u_{5+k}
//!                                                                       (s, k) != (0, 1), k >= 1
//! gs_k         = psi_k + gold_noise N(0, 1)                              k >= 2
//! pb_{s,k}     = s_s g(psi_k - Delta_{s,k}) + pref_noise N(0, 1),  s_s = scale (1 + s / 2)
//! ```
//! with `g` the scenario's monotone distortion. So each extra model gains along its own
//! direction and with its own non-linearity (a router must learn which model wins where), and
//! each judge has its own scale and a bias along its own direction `u_{1+s}` (judge 0 shares
//! the two-model judge's `u_1`), plus a model-specific part along `u_{5+k}`. Costs: model 0
//! costs 1, model 1 costs 10 (the primary), the others `1 + 9 k / K`: dearer with their index
//! but cheaper than the primary. The noise of model `k >= 2` and of judges `s >= 1` comes from
//! the streams `seed.indexed(SIM, 16 + k)` and `seed.indexed(SIM, 64 + s)`.
//!
//! Raw-embedding scenarios (`raw_dim > 0`) are refused: their features are a rotation of the
//! scores, so `u` cannot be read back from the table.

use faer::Mat;

use crate::error::{Error, Result};
use crate::rng::{Seed, stream};
use crate::sim::{SimParams, normal};

/// A table with `K` models and `S` judges and its truth (see the module docs). Matrices are
/// `n x K`, column `k` model `k`; column 0 (the reference) is zero in `psi`, `gold` and every
/// `delta`, and holds the reference's own preference gain (zero) in every `pref`.
#[derive(Clone, Debug)]
pub struct MultiSimData {
    /// Features (`x1..xd`).
    pub x: Mat<f64>,
    /// Model names, `m0..m{K-1}`.
    pub models: Vec<String>,
    /// Judge names, `judge0..judge{S-1}`.
    pub judges: Vec<String>,
    /// Cost of a call to each model.
    pub costs: Vec<f64>,
    /// True gains `psi_k(x)` against model 0.
    pub psi: Mat<f64>,
    /// Gold gain labels `gs_k`.
    pub gold: Mat<f64>,
    /// Per judge: preference gain labels `pb_{s,k}`.
    pub pref: Vec<Mat<f64>>,
    /// Per judge: true biases `Delta_{s,k}(x)` on the gold scale.
    pub delta: Vec<Mat<f64>>,
    /// Per judge: the preference scale `s_s`.
    pub scales: Vec<f64>,
}

/// Simulates `models` models and `judges` judges on the world of `params` (module docs).
///
/// # Errors
/// [`Error::InvalidParam`] for fewer than 2 models or 1 judge, more than 64 of either, too few
/// features for the extra models' directions (`d >= 8 + K` and `d >= 1 + S`), or a raw-embedding
/// scenario; the simulator's own parameter errors.
pub fn simulate_multi(params: &SimParams, models: usize, judges: usize, seed: Seed) -> Result<MultiSimData> {
    if !(2..=64).contains(&models) {
        return Err(Error::param("simulate", "models", format!("must lie in 2..=64, got {models}")));
    }
    if !(1..=64).contains(&judges) {
        return Err(Error::param("simulate", "judges", format!("must lie in 1..=64, got {judges}")));
    }
    if params.raw_dim > 0 {
        return Err(Error::param(
            "simulate",
            "raw_dim",
            "many models need the scores themselves; a raw embedding (raw_dim > 0) is not supported",
        ));
    }
    let need = (8 + models).max(1 + judges);
    if models > 2 && params.d < need || params.d < 1 + judges {
        return Err(Error::param(
            "simulate",
            "d",
            format!("{models} models and {judges} judges need at least {need} features, got {}", params.d),
        ));
    }
    let base = params.simulate(seed)?;
    let (n, d) = (params.n, params.d);
    crate::budget::check(
        format_args!("n {n} with {models} models and {judges} judges"),
        "the simulated many-model table",
        crate::budget::product(&[n, models, 2 + 2 * judges, 8]),
    )?;
    let sd: Vec<f64> = (1..=d).map(|j| (j as f64).powf(-params.decay).sqrt()).collect();
    let u = |i: usize, j: usize| base.x[(i, j - 1)] / sd[j - 1];
    let mut psi = Mat::<f64>::zeros(n, models);
    let mut gold = Mat::<f64>::zeros(n, models);
    for i in 0..n {
        psi[(i, 1)] = base.psi[i];
        gold[(i, 1)] = base.gold[i];
    }
    for k in 2..models {
        let mut rng = seed.indexed(stream::SIM, 16 + k as u64).rng();
        for i in 0..n {
            let p = params.psi_mean * (1.0 - 0.3 * (k as f64 - 1.0))
                + params.psi_linear * (u(i, 6 + k) - 0.5 * u(i, 1))
                + params.psi_nonlinear * (1.5 * u(i, 7 + k)).sin();
            psi[(i, k)] = p;
            gold[(i, k)] = p + params.gold_noise * normal(&mut rng);
        }
    }
    let mut pref = Vec::with_capacity(judges);
    let mut delta = Vec::with_capacity(judges);
    let mut scales = Vec::with_capacity(judges);
    for s in 0..judges {
        let scale = params.scale * (1.0 + 0.5 * s as f64);
        let mut rng = seed.indexed(stream::SIM, 64 + s as u64).rng();
        let mut dm = Mat::<f64>::zeros(n, models);
        let mut pm = Mat::<f64>::zeros(n, models);
        for k in 1..models {
            for i in 0..n {
                if s == 0 && k == 1 {
                    dm[(i, 1)] = base.delta[i];
                    pm[(i, 1)] = base.pref[i];
                    continue;
                }
                let dl = params.delta_mean * (1.0 + 0.5 * s as f64)
                    + params.delta_slope * u(i, 1 + s)
                    + params.delta_other * u(i, 5 + k);
                dm[(i, k)] = dl;
                pm[(i, k)] = scale * params.distort(psi[(i, k)] - dl) + params.pref_noise * normal(&mut rng);
            }
        }
        pref.push(pm);
        delta.push(dm);
        scales.push(scale);
    }
    let costs = (0..models)
        .map(|k| {
            if k == 0 {
                1.0
            } else if k == 1 {
                10.0
            } else {
                1.0 + 9.0 * k as f64 / models as f64
            }
        })
        .collect();
    Ok(MultiSimData {
        x: base.x,
        models: (0..models).map(|k| format!("m{k}")).collect(),
        judges: (0..judges).map(|s| format!("judge{s}")).collect(),
        costs,
        psi,
        gold,
        pref,
        delta,
        scales,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_models_and_one_judge_are_the_two_model_table() {
        for scenario in ["default", "nonlinear_bias", "distorted_scale"] {
            let p = crate::sim::Scenario::from_name(scenario).unwrap().params(300);
            let base = p.simulate(Seed(5)).unwrap();
            let m = simulate_multi(&p, 2, 1, Seed(5)).unwrap();
            assert_eq!(m.x, base.x);
            for i in 0..300 {
                assert_eq!(m.psi[(i, 1)].to_bits(), base.psi[i].to_bits());
                assert_eq!(m.gold[(i, 1)].to_bits(), base.gold[i].to_bits());
                assert_eq!(m.pref[0][(i, 1)].to_bits(), base.pref[i].to_bits());
                assert_eq!(m.delta[0][(i, 1)].to_bits(), base.delta[i].to_bits());
                assert_eq!((m.psi[(i, 0)], m.gold[(i, 0)], m.delta[0][(i, 0)]), (0.0, 0.0, 0.0));
            }
            assert_eq!(m.costs, [1.0, 10.0]);
        }
    }

    #[test]
    fn extra_models_and_judges_follow_their_equations() {
        let p = SimParams { n: 4000, ..Default::default() };
        let m = simulate_multi(&p, 3, 2, Seed(9)).unwrap();
        let sd = |j: usize| (j as f64).powf(-p.decay).sqrt();
        let u = |i: usize, j: usize| m.x[(i, j - 1)] / sd(j);
        for i in [0, 17, 3999] {
            let want =
                p.psi_mean * 0.7 + p.psi_linear * (u(i, 8) - 0.5 * u(i, 1)) + p.psi_nonlinear * (1.5 * u(i, 9)).sin();
            assert!((m.psi[(i, 2)] - want).abs() < 1e-12);
            let want = p.delta_mean * 1.5 + p.delta_slope * u(i, 2) + p.delta_other * u(i, 6);
            assert!((m.delta[1][(i, 1)] - want).abs() < 1e-12);
        }
        // label noise: gold residuals with sd gold_noise, preference residuals with pref_noise
        let n = 4000.0;
        let rg: f64 = (0..4000).map(|i| (m.gold[(i, 2)] - m.psi[(i, 2)]).powi(2)).sum::<f64>() / n;
        assert!((rg.sqrt() - p.gold_noise).abs() < 0.03, "{}", rg.sqrt());
        let rp: f64 = (0..4000)
            .map(|i| (m.pref[1][(i, 2)] - m.scales[1] * (m.psi[(i, 2)] - m.delta[1][(i, 2)])).powi(2))
            .sum::<f64>()
            / n;
        assert!((rp.sqrt() - p.pref_noise).abs() < 0.03, "{}", rp.sqrt());
        // each judge's mean bias is its documented mean (the u terms average to ~0)
        for s in 0..2 {
            let mean: f64 = (0..4000).map(|i| m.delta[s][(i, 2)]).sum::<f64>() / n;
            assert!((mean - p.delta_mean * (1.0 + 0.5 * s as f64)).abs() < 0.03, "judge {s}: {mean}");
        }
        // the extra model wins on some queries and loses on others: routing among three is real
        let wins = (0..4000).filter(|&i| m.psi[(i, 2)] > m.psi[(i, 1)].max(0.0)).count();
        assert!(wins > 400 && wins < 3600, "{wins}");
        assert_eq!(m.costs[2], 7.0);
        // same seed, same table
        assert_eq!(simulate_multi(&p, 3, 2, Seed(9)).unwrap().pref[1], m.pref[1]);
    }

    #[test]
    fn bad_shapes_are_clear_errors() {
        let p = SimParams { n: 50, ..Default::default() };
        assert!(simulate_multi(&p, 1, 1, Seed(0)).unwrap_err().to_string().contains("models"));
        assert!(simulate_multi(&p, 3, 0, Seed(0)).unwrap_err().to_string().contains("judges"));
        let narrow = SimParams { d: 9, ..p.clone() };
        assert!(simulate_multi(&narrow, 3, 1, Seed(0)).unwrap_err().to_string().contains("at least 11 features"));
        let raw = SimParams { raw_dim: 64, ..p };
        assert!(simulate_multi(&raw, 3, 1, Seed(0)).unwrap_err().to_string().contains("raw_dim"));
    }
}
