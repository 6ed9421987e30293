//! A HealthBench-like simulator with known truth: queries, gold gains, preference gains, and
//! the bias between them, so that a router's ranking and its bias estimate can be scored
//! against the truth.
//!
//! # The generator
//! Everything random comes from two streams of the seed: the *world* (topic weights, topic
//! centres, topic effects) from `seed.indexed(SIM, 0)` and the *rows* (topic draws, features,
//! label noise) from `seed.indexed(SIM, 1)`, both drawn sequentially, so a seed gives the same
//! table on every machine and thread count.
//!
//! **Queries** mimic `d` PCA scores of a text embedding over `K` specialties (HealthBench has 26):
//! feature `j = 1..d` has variance `v_j = j^(-decay)` (decaying like principal components),
//! a share `topic_share` of which lies between topics:
//! ```text
//! pi_k ∝ U(0.5, 1.5)                               topic weights
//! mu_kj ~ N(0, 1), then centred and scaled:       sum_k pi_k mu_kj = 0, sum_k pi_k mu_kj^2 = topic_share v_j
//! z_i ~ Categorical(pi),  x_ij = mu_{z_i j} + sqrt((1 - topic_share) v_j) N(0, 1)
//! ```
//! so `E x = 0` and `Var x_j = v_j`. Write `u_j = x_j / sqrt(v_j)` for the standardised score.
//!
//! **Gold gain** (small on average, heterogeneous, with a topic structure):
//! ```text
//! psi(x) = psi_mean + psi_linear (u_1 + u_2 - 0.6 u_3)
//!        + psi_nonlinear (sin(1.5 u_4) + u_2 u_5 / sqrt 2)
//!        + sum_k r_k(x) tau_k,        tau_k ~ N(0, psi_topic^2), centred: sum_k pi_k tau_k = 0
//! ```
//! where `r_k(x)` is the posterior probability of topic `k` given the first five features
//! (a softmax of `-sum_{j<=5} (x_j - mu_kj)^2 / (2 (1 - topic_share) v_j) + ln pi_k`).
//!
//! **Preference bias** (on the gold scale; low complexity, heterogeneous, positive on average,
//! and aligned with the direction `u_1` along which the primary model's advantage grows):
//! ```text
//! delta(x) = delta_mean + delta_slope u_1 + delta_other u_6
//! eta(x)   = psi(x) - delta(x)
//! ```
//! With the defaults the preference gain ranks queries *backwards* along `u_1`
//! (`psi_linear - delta_slope < 0`): a judge without a rubric misses exactly the gains that grow
//! with `u_1`. Preference-only and pooled routers learn that reversed direction; a global shift
//! (`mean_shift`) cannot undo it; gold-only routers have too few rows for the rest of `psi`;
//! a meta-router only has to learn the two-term `delta` from the gold rows and then learns
//! `psi` from every preference row.
//!
//! **Labels** (gold noisier per label than preference, preference on its own scale `s`):
//! ```text
//! gs = psi(x) + gold_noise N(0, 1)
//! pb = s eta(x) + pref_noise N(0, 1)          (s = scale; pref_noise on the preference scale)
//! ```
//!
//! Columns of the table: `x1..xd, gs, pb, psi, delta` (`delta` on the gold scale).
//!
//! References: Meta-Router (ICLR 2026) for the setting; HealthBench (Arora et al. 2025) for the
//! 5,000 queries over 26 specialties that the defaults imitate.

use faer::Mat;
use rand::RngExt;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::data::{Column, write_csv};
use crate::error::{Error, Result};
use crate::params::{Params, non_negative, parse_f64, parse_usize, positive, unknown};
use crate::rng::{Rng, Seed, stream};

/// Parameters of the simulator.
///
/// Defaults: `n` 5000, `d` 50, `n_topics` 26, `decay` 1.0, `topic_share` 0.6, `psi_mean` 0.07,
/// `psi_linear` 0.10, `psi_nonlinear` 0.15, `psi_topic` 0.10, `delta_mean` 0.10, `delta_slope`
/// 0.20, `delta_other` 0.05, `scale` 1.8, `gold_noise` 0.55, `pref_noise` 0.30.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimParams {
    /// Number of queries (rows).
    pub n: usize,
    /// Number of features (at least 6: the truth uses the first six).
    pub d: usize,
    /// Number of topics (specialties).
    pub n_topics: usize,
    /// Feature `j` has variance `j^(-decay)`.
    pub decay: f64,
    /// Share of each feature's variance lying between topic centres, in [0, 1).
    pub topic_share: f64,
    /// Mean of the gold gain psi.
    pub psi_mean: f64,
    /// Coefficient of the linear part of psi.
    pub psi_linear: f64,
    /// Coefficient of the non-linear part of psi.
    pub psi_nonlinear: f64,
    /// Standard deviation of the per-topic effects in psi.
    pub psi_topic: f64,
    /// Mean of the preference bias delta (positive: preference labels lower than gold).
    pub delta_mean: f64,
    /// Slope of delta along `u_1`.
    pub delta_slope: f64,
    /// Slope of delta along `u_6` (a direction psi ignores).
    pub delta_other: f64,
    /// Scale `s` of preference labels relative to gold labels (> 0).
    pub scale: f64,
    /// Standard deviation of the gold-label noise.
    pub gold_noise: f64,
    /// Standard deviation of the preference-label noise, on the preference scale.
    pub pref_noise: f64,
}

impl Default for SimParams {
    fn default() -> Self {
        SimParams {
            n: 5000,
            d: 50,
            n_topics: 26,
            decay: 1.0,
            topic_share: 0.6,
            psi_mean: 0.07,
            psi_linear: 0.10,
            psi_nonlinear: 0.15,
            psi_topic: 0.10,
            delta_mean: 0.10,
            delta_slope: 0.20,
            delta_other: 0.05,
            scale: 1.8,
            gold_noise: 0.55,
            pref_noise: 0.30,
        }
    }
}

/// Number of leading features the topic posterior `r_k(x)` looks at.
const TOPIC_FEATURES: usize = 5;
/// The truth uses features 1..=6.
const MIN_FEATURES: usize = 6;

impl Params for SimParams {
    fn learner_name(&self) -> &'static str {
        "simulator"
    }

    fn set_param(&mut self, name: &str, value: &str) -> Result<()> {
        let o = self.learner_name();
        match name {
            "n" => self.n = parse_usize(o, name, value)?,
            "d" => self.d = parse_usize(o, name, value)?,
            "n_topics" => self.n_topics = parse_usize(o, name, value)?,
            "decay" => self.decay = parse_f64(o, name, value)?,
            "topic_share" => self.topic_share = parse_f64(o, name, value)?,
            "psi_mean" => self.psi_mean = parse_f64(o, name, value)?,
            "psi_linear" => self.psi_linear = parse_f64(o, name, value)?,
            "psi_nonlinear" => self.psi_nonlinear = parse_f64(o, name, value)?,
            "psi_topic" => self.psi_topic = parse_f64(o, name, value)?,
            "delta_mean" => self.delta_mean = parse_f64(o, name, value)?,
            "delta_slope" => self.delta_slope = parse_f64(o, name, value)?,
            "delta_other" => self.delta_other = parse_f64(o, name, value)?,
            "scale" => self.scale = parse_f64(o, name, value)?,
            "gold_noise" => self.gold_noise = parse_f64(o, name, value)?,
            "pref_noise" => self.pref_noise = parse_f64(o, name, value)?,
            _ => {
                return Err(unknown(
                    o,
                    name,
                    &[
                        "n",
                        "d",
                        "n_topics",
                        "decay",
                        "topic_share",
                        "psi_mean",
                        "psi_linear",
                        "psi_nonlinear",
                        "psi_topic",
                        "delta_mean",
                        "delta_slope",
                        "delta_other",
                        "scale",
                        "gold_noise",
                        "pref_noise",
                    ],
                ));
            }
        }
        Ok(())
    }

    fn validate(&self) -> Result<()> {
        let o = self.learner_name();
        if self.n == 0 {
            return Err(Error::param(o, "n", "must be at least 1, got 0"));
        }
        if self.d < MIN_FEATURES {
            return Err(Error::param(o, "d", format!("must be at least {MIN_FEATURES}, got {}", self.d)));
        }
        if self.n_topics == 0 {
            return Err(Error::param(o, "n_topics", "must be at least 1, got 0"));
        }
        if !(self.topic_share >= 0.0 && self.topic_share < 1.0) {
            return Err(Error::param(o, "topic_share", format!("must be in [0, 1), got {}", self.topic_share)));
        }
        non_negative(o, "decay", self.decay)?;
        positive(o, "scale", self.scale)?;
        non_negative(o, "psi_topic", self.psi_topic)?;
        non_negative(o, "gold_noise", self.gold_noise)?;
        non_negative(o, "pref_noise", self.pref_noise)?;
        for (name, v) in [
            ("psi_mean", self.psi_mean),
            ("psi_linear", self.psi_linear),
            ("psi_nonlinear", self.psi_nonlinear),
            ("delta_mean", self.delta_mean),
            ("delta_slope", self.delta_slope),
            ("delta_other", self.delta_other),
        ] {
            if !v.is_finite() {
                return Err(Error::param(o, name, format!("must be finite, got {v}")));
            }
        }
        Ok(())
    }
}

/// A simulated table with its truth.
#[derive(Clone, Debug)]
pub struct SimData {
    /// Features `x1..xd`, `n x d`, column-major.
    pub x: Mat<f64>,
    /// Gold labels `gs = psi + noise`.
    pub gold: Vec<f64>,
    /// Preference labels `pb = s (psi - delta) + noise`.
    pub pref: Vec<f64>,
    /// True gold gain `psi(x)`.
    pub psi: Vec<f64>,
    /// True bias `delta(x)` on the gold scale.
    pub delta: Vec<f64>,
    /// The preference scale `s` the labels were drawn with.
    pub scale: f64,
}

/// The fixed part of a simulated world: topic weights, centres and effects.
struct World {
    /// Cumulative topic weights, for drawing topics.
    cum_pi: Vec<f64>,
    /// ln pi_k.
    ln_pi: Vec<f64>,
    /// Centres, `n_topics x d`, row-major.
    centres: Vec<f64>,
    /// Per-topic effect in psi.
    tau: Vec<f64>,
    /// Standard deviation of each feature, sqrt(v_j).
    sd: Vec<f64>,
}

fn normal(rng: &mut Rng) -> f64 {
    rng.sample::<f64, _>(StandardNormal)
}

impl World {
    fn draw(p: &SimParams, rng: &mut Rng) -> World {
        let (k, d) = (p.n_topics, p.d);
        let sd: Vec<f64> = (1..=d).map(|j| (j as f64).powf(-p.decay).sqrt()).collect();
        let w: Vec<f64> = (0..k).map(|_| rng.random_range(0.5..1.5)).collect();
        let total: f64 = w.iter().sum();
        let pi: Vec<f64> = w.iter().map(|v| v / total).collect();
        let mut centres = vec![0.0; k * d];
        let between = p.topic_share.sqrt();
        for t in 0..k {
            for j in 0..d {
                centres[t * d + j] = between * sd[j] * normal(rng);
            }
        }
        for j in 0..d {
            let m: f64 = (0..k).map(|t| pi[t] * centres[t * d + j]).sum();
            for t in 0..k {
                centres[t * d + j] -= m;
            }
            // Rescale so the between-topic variance is exactly topic_share * v_j.
            let s2: f64 = (0..k).map(|t| pi[t] * centres[t * d + j] * centres[t * d + j]).sum();
            if s2 > 0.0 {
                let f = between * sd[j] / s2.sqrt();
                for t in 0..k {
                    centres[t * d + j] *= f;
                }
            }
        }
        let mut tau: Vec<f64> = (0..k).map(|_| p.psi_topic * normal(rng)).collect();
        let m: f64 = tau.iter().zip(&pi).map(|(a, b)| a * b).sum();
        tau.iter_mut().for_each(|t| *t -= m);
        let mut acc = 0.0;
        let cum_pi = pi
            .iter()
            .map(|v| {
                acc += v;
                acc
            })
            .collect();
        World { cum_pi, ln_pi: pi.iter().map(|v| v.ln()).collect(), centres, tau, sd }
    }

    fn topic(&self, rng: &mut Rng) -> usize {
        let u: f64 = rng.random::<f64>() * self.cum_pi[self.cum_pi.len() - 1];
        self.cum_pi.iter().position(|&c| u < c).unwrap_or(self.cum_pi.len() - 1)
    }

    /// sum_k r_k(x) tau_k with r the topic posterior from the leading features; `logits` is scratch.
    fn topic_effect(&self, row: &[f64], within_var: &[f64], logits: &mut [f64]) -> f64 {
        let d = self.sd.len();
        for (t, l) in logits.iter_mut().enumerate() {
            let mut q = 0.0;
            for j in 0..TOPIC_FEATURES {
                let e = row[j] - self.centres[t * d + j];
                q += e * e / within_var[j];
            }
            *l = self.ln_pi[t] - 0.5 * q;
        }
        let mx = logits.iter().fold(f64::NEG_INFINITY, |a, &b| a.max(b));
        let (mut num, mut den) = (0.0, 0.0);
        for (t, &l) in logits.iter().enumerate() {
            let w = (l - mx).exp();
            num += w * self.tau[t];
            den += w;
        }
        num / den
    }
}

impl SimParams {
    /// The true gold gain and bias of one query (`u` are the standardised scores).
    fn truth(&self, u: &[f64], topic_effect: f64) -> (f64, f64) {
        let psi = self.psi_mean
            + self.psi_linear * (u[0] + u[1] - 0.6 * u[2])
            + self.psi_nonlinear * ((1.5 * u[3]).sin() + u[1] * u[4] / std::f64::consts::SQRT_2)
            + topic_effect;
        let delta = self.delta_mean + self.delta_slope * u[0] + self.delta_other * u[5];
        (psi, delta)
    }

    /// Draws a table.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] naming the first parameter out of its domain.
    pub fn simulate(&self, seed: Seed) -> Result<SimData> {
        self.validate()?;
        let (n, d) = (self.n, self.d);
        let table = crate::budget::product(&[n, d.saturating_add(4), 8]);
        let need = crate::budget::sum(&[table, crate::budget::product(&[self.n_topics, d.saturating_add(3), 8])]);
        crate::budget::check(
            format_args!("n {n} (with d {d}, n_topics {})", self.n_topics),
            "the simulated table",
            need,
        )?;
        let mut world_rng = seed.indexed(stream::SIM, 0).rng();
        let world = World::draw(self, &mut world_rng);
        let within_sd: Vec<f64> = world.sd.iter().map(|s| s * (1.0 - self.topic_share).sqrt()).collect();
        let within_var: Vec<f64> = within_sd.iter().map(|s| (s * s).max(f64::MIN_POSITIVE)).collect();
        let mut rng = seed.indexed(stream::SIM, 1).rng();
        let mut x = Mat::<f64>::zeros(n, d);
        let (mut gold, mut pref, mut psi, mut delta) =
            (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
        let mut row = vec![0.0; d];
        let mut u = [0.0; MIN_FEATURES];
        let mut logits = vec![0.0; self.n_topics];
        for i in 0..n {
            let t = world.topic(&mut rng);
            for j in 0..d {
                row[j] = world.centres[t * d + j] + within_sd[j] * normal(&mut rng);
                x[(i, j)] = row[j];
            }
            for j in 0..MIN_FEATURES {
                u[j] = row[j] / world.sd[j];
            }
            let te = world.topic_effect(&row, &within_var, &mut logits);
            let (p, dl) = self.truth(&u, te);
            psi.push(p);
            delta.push(dl);
            gold.push(p + self.gold_noise * normal(&mut rng));
            pref.push(self.scale * (p - dl) + self.pref_noise * normal(&mut rng));
        }
        Ok(SimData { x, gold, pref, psi, delta, scale: self.scale })
    }
}

impl SimData {
    /// Feature column names `x1..xd`.
    pub fn feature_names(&self) -> Vec<String> {
        (1..=self.x.ncols()).map(|j| format!("x{j}")).collect()
    }

    /// Writes the table as CSV with columns `x1..xd, gs, pb, psi, delta`.
    ///
    /// # Errors
    /// [`Error::Io`] when the file cannot be written.
    pub fn write_csv(&self, path: impl AsRef<std::path::Path>) -> Result<()> {
        let names = self.feature_names();
        let mut cols: Vec<Column<'_>> =
            names.iter().enumerate().map(|(j, name)| Column::Num(name, self.x.col_as_slice(j))).collect();
        cols.push(Column::Num("gs", &self.gold));
        cols.push(Column::Num("pb", &self.pref));
        cols.push(Column::Num("psi", &self.psi));
        cols.push(Column::Num("delta", &self.delta));
        write_csv(path, &cols)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean(v: &[f64]) -> f64 {
        v.iter().sum::<f64>() / v.len() as f64
    }

    fn corr(a: &[f64], b: &[f64]) -> f64 {
        let (ma, mb) = (mean(a), mean(b));
        let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
        for (x, y) in a.iter().zip(b) {
            sab += (x - ma) * (y - mb);
            saa += (x - ma) * (x - ma);
            sbb += (y - mb) * (y - mb);
        }
        sab / (saa * sbb).sqrt()
    }

    #[test]
    fn same_seed_same_table_and_streams_differ() {
        let p = SimParams { n: 300, ..Default::default() };
        let a = p.simulate(Seed(3)).unwrap();
        let b = p.simulate(Seed(3)).unwrap();
        let c = p.simulate(Seed(4)).unwrap();
        assert_eq!(a.x, b.x);
        assert_eq!(
            a.pref.iter().map(|v| v.to_bits()).collect::<Vec<_>>(),
            b.pref.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
        );
        assert_ne!(a.gold, c.gold);
    }

    #[test]
    fn labels_follow_the_documented_model() {
        let p = SimParams { n: 20_000, ..Default::default() };
        let s = p.simulate(Seed(11)).unwrap();
        // Gold residuals have the gold noise; preference residuals the preference noise.
        let rg: Vec<f64> = s.gold.iter().zip(&s.psi).map(|(g, p)| g - p).collect();
        let rp: Vec<f64> = (0..p.n).map(|i| s.pref[i] - p.scale * (s.psi[i] - s.delta[i])).collect();
        let sd = |v: &[f64]| {
            let m = mean(v);
            (v.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / v.len() as f64).sqrt()
        };
        assert!((sd(&rg) - p.gold_noise).abs() < 0.01, "{}", sd(&rg));
        assert!((sd(&rp) - p.pref_noise).abs() < 0.01, "{}", sd(&rp));
        assert!(mean(&rg).abs() < 0.01 && mean(&rp).abs() < 0.01);
        // Features are centred with decaying variance.
        let v1 = sd(s.x.col_as_slice(0)).powi(2);
        let v10 = sd(s.x.col_as_slice(9)).powi(2);
        assert!((v1 - 1.0).abs() < 0.15 && (v10 - 0.1).abs() < 0.02, "{v1} {v10}");
        // psi small on average, delta positive on average, and heterogeneous.
        let (mp, md) = (mean(&s.psi), mean(&s.delta));
        assert!((0.03..0.12).contains(&mp), "mean psi {mp}");
        assert!(md > 0.05, "mean delta {md}");
        assert!(sd(&s.delta) > 0.1 && sd(&s.psi) > 0.15);
        // The bias reverses part of psi's ranking: preference gains are informative but distorted.
        let eta: Vec<f64> = s.psi.iter().zip(&s.delta).map(|(a, b)| a - b).collect();
        let r = corr(&eta, &s.psi);
        assert!((0.2..0.85).contains(&r), "corr(eta, psi) = {r}");
        assert!(corr(&s.delta, &s.psi) > 0.2);
    }

    #[test]
    fn bad_parameters_are_named() {
        let mut p = SimParams::default();
        assert!(p.set_param("nope", "1").unwrap_err().to_string().contains("nope"));
        p.set_param("d", "3").unwrap();
        assert!(p.simulate(Seed(1)).unwrap_err().to_string().contains("`d`"));
        let p = SimParams { scale: 0.0, ..Default::default() };
        assert!(p.simulate(Seed(1)).unwrap_err().to_string().contains("scale"));
        let p = SimParams { topic_share: 1.0, ..Default::default() };
        assert!(p.simulate(Seed(1)).unwrap_err().to_string().contains("topic_share"));
    }
}
