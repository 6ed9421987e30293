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
//! **Scenarios.** [`scenarios`] names presets of these parameters (`default`, and harder worlds:
//! a non-linear topic-driven bias, a bias orthogonal to or aligned with psi, gold labels less
//! noisy than preference labels, a distorted preference scale, weak psi, small and large gold
//! shares, gold rows selected by features, raw 384-column embeddings) whose extra terms are
//! documented there: `delta_psi (psi - psi_mean)`, per-topic bias effects, interactions, the
//! distortion `pb = s g(eta) + noise`, deployment columns and the raw embedding.
//!
//! **Many models, many judges.** [`multi`] extends a table to `K` models and `S` judges with
//! known `psi_k` and `Delta_{s,k}`; `K = 2`, `S = 1` is this table bit for bit.
//!
//! References: Meta-Router (ICLR 2026) for the setting; HealthBench (Arora et al. 2025) for the
//! 5,000 queries over 26 specialties that the defaults imitate.

pub mod multi;
pub mod scenarios;

pub use multi::{MultiSimData, simulate_multi};
pub use scenarios::Scenario;

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
/// 0.20, `delta_other` 0.05, `scale` 1.8, `gold_noise` 0.55, `pref_noise` 0.30; the terms the
/// named scenarios ([`scenarios`]) switch on are off: `delta_psi`, `delta_topic`,
/// `delta_interaction`, `pref_distortion`, `deploy_gold_share`, `deploy_select` 0, `raw_dim` 0
/// (`raw_noise` 0.05).
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
    /// Coefficient of `psi(x) - psi_mean` in delta (delta aligned with psi when large).
    pub delta_psi: f64,
    /// Standard deviation of the per-topic effects in delta (a bias driven by topic clusters).
    pub delta_topic: f64,
    /// Coefficient of delta's interaction terms `u_1 u_7 + max(u_8, 0) - 0.4` (needs `d >= 8`).
    pub delta_interaction: f64,
    /// Saturation `a` of the preference labels' monotone distortion `g(z) = tanh(a z) / a`
    /// (0: none).
    pub pref_distortion: f64,
    /// Base gold share of the deployment columns `source, label, propensity` (0: not written).
    pub deploy_gold_share: f64,
    /// Slope of the deployment gold propensity along `u_1` (gold rows selected by features).
    pub deploy_select: f64,
    /// Raw embedding width: when > 0, the `d` latent scores are rotated into this many columns
    /// with isotropic noise `raw_noise` (the router then needs `--pca`).
    pub raw_dim: usize,
    /// Standard deviation of the isotropic noise of the raw embedding.
    pub raw_noise: f64,
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
            delta_psi: 0.0,
            delta_topic: 0.0,
            delta_interaction: 0.0,
            pref_distortion: 0.0,
            deploy_gold_share: 0.0,
            deploy_select: 0.0,
            raw_dim: 0,
            raw_noise: 0.05,
        }
    }
}

/// Number of leading features the topic posterior `r_k(x)` looks at.
const TOPIC_FEATURES: usize = 5;
/// The truth uses features 1..=6.
const MIN_FEATURES: usize = 6;
/// The interaction terms of delta use features 7 and 8 as well.
const INTERACTION_FEATURES: usize = 8;
/// Upper bound of `raw_dim` (a raw embedding wider than this is certainly a mistake).
const MAX_RAW_DIM: usize = 65_536;

/// Every parameter name, in the order of [`SimParams`].
pub const PARAM_NAMES: &[&str] = &[
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
    "delta_psi",
    "delta_topic",
    "delta_interaction",
    "pref_distortion",
    "deploy_gold_share",
    "deploy_select",
    "raw_dim",
    "raw_noise",
];

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
            "delta_psi" => self.delta_psi = parse_f64(o, name, value)?,
            "delta_topic" => self.delta_topic = parse_f64(o, name, value)?,
            "delta_interaction" => self.delta_interaction = parse_f64(o, name, value)?,
            "pref_distortion" => self.pref_distortion = parse_f64(o, name, value)?,
            "deploy_gold_share" => self.deploy_gold_share = parse_f64(o, name, value)?,
            "deploy_select" => self.deploy_select = parse_f64(o, name, value)?,
            "raw_dim" => self.raw_dim = parse_usize(o, name, value)?,
            "raw_noise" => self.raw_noise = parse_f64(o, name, value)?,
            _ => return Err(unknown(o, name, PARAM_NAMES)),
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
        non_negative(o, "delta_topic", self.delta_topic)?;
        non_negative(o, "pref_distortion", self.pref_distortion)?;
        non_negative(o, "raw_noise", self.raw_noise)?;
        if !(self.deploy_gold_share >= 0.0 && self.deploy_gold_share < 1.0) {
            return Err(Error::param(
                o,
                "deploy_gold_share",
                format!("must be in [0, 1) (0: no deployment columns), got {}", self.deploy_gold_share),
            ));
        }
        if self.delta_interaction != 0.0 && self.d < INTERACTION_FEATURES {
            return Err(Error::param(
                o,
                "d",
                format!("must be at least {INTERACTION_FEATURES} with delta_interaction != 0, got {}", self.d),
            ));
        }
        if self.raw_dim != 0 && !(self.d..=MAX_RAW_DIM).contains(&self.raw_dim) {
            return Err(Error::param(
                o,
                "raw_dim",
                format!("must be 0 (off) or in [d = {}, {MAX_RAW_DIM}], got {}", self.d, self.raw_dim),
            ));
        }
        for (name, v) in [
            ("psi_mean", self.psi_mean),
            ("psi_linear", self.psi_linear),
            ("psi_nonlinear", self.psi_nonlinear),
            ("delta_mean", self.delta_mean),
            ("delta_slope", self.delta_slope),
            ("delta_other", self.delta_other),
            ("delta_psi", self.delta_psi),
            ("delta_interaction", self.delta_interaction),
            ("deploy_select", self.deploy_select),
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
    /// Features `x1..xd` (or the `raw_dim` raw embedding columns), column-major.
    pub x: Mat<f64>,
    /// Gold labels `gs = psi + noise`.
    pub gold: Vec<f64>,
    /// Preference labels `pb = s g(psi - delta) + noise`.
    pub pref: Vec<f64>,
    /// True gold gain `psi(x)`.
    pub psi: Vec<f64>,
    /// True bias `delta(x)` on the gold scale.
    pub delta: Vec<f64>,
    /// The preference scale `s` the labels were drawn with.
    pub scale: f64,
    /// Deployment columns (one label per row, gold rows selected by features), when
    /// `deploy_gold_share > 0`.
    pub deployment: Option<Deployment>,
}

/// Deployment-style labels of a simulated table: which rows carry a gold label (drawn with a
/// known, feature-dependent propensity), for `fit` with `--propensity estimated`.
#[derive(Clone, Debug)]
pub struct Deployment {
    /// 1.0 where the row's label is gold, 0.0 where it is the preference label.
    pub is_gold: Vec<f64>,
    /// The label of the row's source: `gs` on gold rows, `pb` on preference rows.
    pub label: Vec<f64>,
    /// The true propensity `P(gold | x)` the sources were drawn with.
    pub propensity: Vec<f64>,
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
    /// Per-topic effect in delta.
    kappa: Vec<f64>,
    /// Standard deviation of each feature, sqrt(v_j).
    sd: Vec<f64>,
}

fn normal(rng: &mut Rng) -> f64 {
    rng.sample::<f64, _>(StandardNormal)
}

/// Draws `k` effects with standard deviation `sd`, centred under the topic weights `pi`.
fn centred_effects(k: usize, sd: f64, pi: &[f64], rng: &mut Rng) -> Vec<f64> {
    let mut e: Vec<f64> = (0..k).map(|_| sd * normal(rng)).collect();
    let m: f64 = e.iter().zip(pi).map(|(a, b)| a * b).sum();
    e.iter_mut().for_each(|t| *t -= m);
    e
}

impl World {
    fn draw(p: &SimParams, rng: &mut Rng, bias_rng: &mut Rng) -> World {
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
        let tau = centred_effects(k, p.psi_topic, &pi, rng);
        let kappa = centred_effects(k, p.delta_topic, &pi, bias_rng);
        let mut acc = 0.0;
        let cum_pi = pi
            .iter()
            .map(|v| {
                acc += v;
                acc
            })
            .collect();
        World { cum_pi, ln_pi: pi.iter().map(|v| v.ln()).collect(), centres, tau, kappa, sd }
    }

    fn topic(&self, rng: &mut Rng) -> usize {
        let u: f64 = rng.random::<f64>() * self.cum_pi[self.cum_pi.len() - 1];
        self.cum_pi.iter().position(|&c| u < c).unwrap_or(self.cum_pi.len() - 1)
    }

    /// `(sum_k r_k(x) tau_k, sum_k r_k(x) kappa_k)` with r the topic posterior from the leading
    /// features; `logits` is scratch.
    fn topic_effects(&self, row: &[f64], within_var: &[f64], logits: &mut [f64]) -> (f64, f64) {
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
        let (mut num, mut num_bias, mut den) = (0.0, 0.0, 0.0);
        for (t, &l) in logits.iter().enumerate() {
            let w = (l - mx).exp();
            num += w * self.tau[t];
            num_bias += w * self.kappa[t];
            den += w;
        }
        (num / den, num_bias / den)
    }
}

/// A random `rows x cols` matrix with orthonormal columns (modified Gram-Schmidt on Gaussian
/// columns; `rows >= cols`), row-major.
fn orthonormal_columns(rows: usize, cols: usize, rng: &mut Rng) -> Vec<f64> {
    let mut q = vec![0.0; rows * cols];
    let mut v = vec![0.0; rows];
    for c in 0..cols {
        loop {
            v.iter_mut().for_each(|e| *e = normal(rng));
            for p in 0..c {
                let dot: f64 = (0..rows).map(|r| v[r] * q[r * cols + p]).sum();
                (0..rows).for_each(|r| v[r] -= dot * q[r * cols + p]);
            }
            let norm = v.iter().map(|e| e * e).sum::<f64>().sqrt();
            // A Gaussian vector is (almost surely) not in the span of the others; redraw if so.
            if norm > 1e-8 {
                (0..rows).for_each(|r| q[r * cols + c] = v[r] / norm);
                break;
            }
        }
    }
    q
}

impl SimParams {
    /// The true gold gain and bias of one query (`u` are the standardised scores).
    fn truth(&self, u: &[f64], psi_topic: f64, delta_topic: f64) -> (f64, f64) {
        let psi = self.psi_mean
            + self.psi_linear * (u[0] + u[1] - 0.6 * u[2])
            + self.psi_nonlinear * ((1.5 * u[3]).sin() + u[1] * u[4] / std::f64::consts::SQRT_2)
            + psi_topic;
        let mut delta = self.delta_mean + self.delta_slope * u[0] + self.delta_other * u[5];
        if self.delta_psi != 0.0 {
            delta += self.delta_psi * (psi - self.psi_mean);
        }
        if self.delta_topic != 0.0 {
            delta += delta_topic;
        }
        if self.delta_interaction != 0.0 {
            delta += self.delta_interaction * (u[0] * u[6] + u[7].max(0.0) - 0.4);
        }
        (psi, delta)
    }

    /// The preference labels' monotone distortion `g(z) = tanh(a z) / a` (identity for `a = 0`).
    fn distort(&self, z: f64) -> f64 {
        let a = self.pref_distortion;
        if a == 0.0 { z } else { (a * z).tanh() / a }
    }

    /// Draws a table.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] naming the first parameter out of its domain.
    pub fn simulate(&self, seed: Seed) -> Result<SimData> {
        self.validate()?;
        let (n, d) = (self.n, self.d);
        let width = if self.raw_dim > 0 { self.raw_dim } else { d };
        // The table (features, four label and truth columns, three deployment columns when
        // asked for), the world (centres and effects) and the raw embedding's rotation.
        let extra_cols = if self.deploy_gold_share > 0.0 { 7 } else { 4 };
        let table = crate::budget::product(&[n, width.saturating_add(extra_cols), 8]);
        let world = crate::budget::product(&[self.n_topics, d.saturating_add(3), 8]);
        let rotation = crate::budget::product(&[self.raw_dim, d, 8]);
        let need = crate::budget::sum(&[table, world, rotation]);
        let raw = if self.raw_dim > 0 { format!(", raw_dim {}", self.raw_dim) } else { String::new() };
        crate::budget::check(
            format_args!("n {n} (with d {d}, n_topics {}{raw})", self.n_topics),
            "the simulated table",
            need,
        )?;
        let mut world_rng = seed.indexed(stream::SIM, 0).rng();
        let mut bias_rng = seed.indexed(stream::SIM, 2).rng();
        let world = World::draw(self, &mut world_rng, &mut bias_rng);
        let within_sd: Vec<f64> = world.sd.iter().map(|s| s * (1.0 - self.topic_share).sqrt()).collect();
        let within_var: Vec<f64> = within_sd.iter().map(|s| (s * s).max(f64::MIN_POSITIVE)).collect();
        let rotation =
            (self.raw_dim > 0).then(|| orthonormal_columns(width, d, &mut seed.indexed(stream::SIM, 3).rng()));
        let mut raw_rng = seed.indexed(stream::SIM, 4).rng();
        let mut deploy_rng = seed.indexed(stream::SIM, 5).rng();
        let mut rng = seed.indexed(stream::SIM, 1).rng();
        let mut x = Mat::<f64>::zeros(n, width);
        let (mut gold, mut pref, mut psi, mut delta) =
            (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
        let deploy = self.deploy_gold_share > 0.0;
        let base_logit = if deploy { (self.deploy_gold_share / (1.0 - self.deploy_gold_share)).ln() } else { 0.0 };
        let mut dep = Deployment {
            is_gold: Vec::with_capacity(if deploy { n } else { 0 }),
            label: Vec::with_capacity(if deploy { n } else { 0 }),
            propensity: Vec::with_capacity(if deploy { n } else { 0 }),
        };
        let mut row = vec![0.0; d];
        let mut u = [0.0; INTERACTION_FEATURES];
        let n_u = d.min(INTERACTION_FEATURES);
        let mut logits = vec![0.0; self.n_topics];
        for i in 0..n {
            let t = world.topic(&mut rng);
            for j in 0..d {
                row[j] = world.centres[t * d + j] + within_sd[j] * normal(&mut rng);
                if rotation.is_none() {
                    x[(i, j)] = row[j];
                }
            }
            if let Some(q) = &rotation {
                for r in 0..width {
                    let mut v = self.raw_noise * normal(&mut raw_rng);
                    for j in 0..d {
                        v += q[r * d + j] * row[j];
                    }
                    x[(i, r)] = v;
                }
            }
            for j in 0..n_u {
                u[j] = row[j] / world.sd[j];
            }
            let (te, be) = world.topic_effects(&row, &within_var, &mut logits);
            let (p, dl) = self.truth(&u, te, be);
            psi.push(p);
            delta.push(dl);
            let g = p + self.gold_noise * normal(&mut rng);
            let y = self.scale * self.distort(p - dl) + self.pref_noise * normal(&mut rng);
            gold.push(g);
            pref.push(y);
            if deploy {
                let e = crate::linalg::stats::sigmoid(base_logit + self.deploy_select * u[0]);
                let is_gold = deploy_rng.random::<f64>() < e;
                dep.is_gold.push(if is_gold { 1.0 } else { 0.0 });
                dep.label.push(if is_gold { g } else { y });
                dep.propensity.push(e);
            }
        }
        Ok(SimData { x, gold, pref, psi, delta, scale: self.scale, deployment: deploy.then_some(dep) })
    }
}

impl SimData {
    /// Feature column names `x1..xd`.
    pub fn feature_names(&self) -> Vec<String> {
        (1..=self.x.ncols()).map(|j| format!("x{j}")).collect()
    }

    /// Writes the table as CSV with columns `x1..xd, gs, pb, psi, delta`, and
    /// `source, label, propensity` when the table has deployment columns.
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
        let sources: Vec<&str>;
        if let Some(dep) = &self.deployment {
            sources = dep.is_gold.iter().map(|&g| if g == 1.0 { "gold" } else { "pref" }).collect();
            cols.push(Column::Text("source", &sources));
            cols.push(Column::Num("label", &dep.label));
            cols.push(Column::Num("propensity", &dep.propensity));
        }
        write_csv(path, &cols)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn mean(v: &[f64]) -> f64 {
        v.iter().sum::<f64>() / v.len() as f64
    }

    use crate::linalg::stats::correlation as corr;

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
