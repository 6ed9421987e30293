//! How good is a router: its efficiency-gain curve and AUC on held-out queries with gold
//! labels, with confidence intervals, and its usage and quality at a threshold.
//!
//! Input ([`HeldOut`]): `N` held-out queries with the router's scores `s_i` (`psi_hat`); gold
//! labels on `n` of them (all, or the rows a mask marks; the gold rows must be a random subset
//! for the prediction-powered estimate); optionally a judge's label on every row, already on the
//! gold scale; the router's stored threshold `w`.
//!
//! # Estimates
//! * **Gold-only**: the study's curve and AUC ([`crate::eval::curves`]) on the `n` gold rows.
//!   Interval: the percentile bootstrap over the gold rows ([`crate::eval::bootstrap`]).
//! * **Prediction-powered** (with judge labels): the judge's estimate on all `N` rows corrected
//!   by the gold-minus-judge estimate on the gold rows ([`crate::eval::ppi`], which holds the
//!   math). Interval: the bootstrap with gold and non-gold rows resampled separately (stratified,
//!   so every resample has `n` gold rows), the ranks and the tuning recomputed in each.
//! * Both curves get a pointwise band: at each usage rate, the percentile interval of the
//!   resampled `EG(rho)` at the same level.
//!
//! Resample `b` draws its gold rows first, then its other rows, from [`bootstrap::resample_seed`]
//! `(seed, b)`; the gold-only and the prediction-powered replicate `b` share the gold draws.
//! Resamples run in parallel (rayon, each with its own buffers) and are gathered in index order:
//! every figure is bit-identical for any thread count.
//!
//! # Operating points
//! At a threshold `w` (the router's stored one; and, with a target usage `rho`, the threshold
//! calibrated on these queries by [`crate::router::usage_threshold`]):
//! ```text
//! usage          u = (1/N) #{i : s_i > w}                                  (all held-out rows)
//! quality gain   Q = (1/n) sum_{i in G} g_i 1{s_i > w}                      (gold rows)
//! EG at w        E = Q - u_G (1/n) sum_{i in G} g_i,   u_G = share of gold rows with s_i > w
//! ```
//! `Q` is the mean gold gain over sending every query to the alternative model, `E` the same
//! over random routing at the same usage (the curve's definition at `rho = u_G`). Their intervals
//! come from the gold-only bootstrap with `w` held fixed.
//!
//! **Usage on new traffic.** Let `U(w) = P(psi_hat(x) > w)` for a new query `x` from the same
//! distribution as the held-out queries (the long-run share routed to the primary model).
//! With `alpha = 1 - level` and `eps = sqrt(ln(2 / alpha) / (2 N))`: with probability at least
//! `1 - alpha` over the draw of the `N` held-out queries, `|U(w) - u(w)| <= eps` **for every `w`
//! simultaneously** (the Dvoretzky–Kiefer–Wolfowitz inequality with Massart's constant, which
//! holds for any score distribution, ties included), so in particular for the threshold
//! calibrated on these very queries. The reported bounds are `[u - eps, u + eps]` clipped to
//! `[0, 1]`. (The share on a finite batch of `M` new queries varies around `U(w)` by a further
//! binomial `sqrt(U (1 - U) / M)`.)

use rayon::prelude::*;
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::eval::bootstrap::{self, BootstrapParams};
use crate::eval::curves::{self, CurveScratch, GRID};
use crate::eval::paired::PairedFigures;
use crate::eval::ppi::{PpiCoefficients, PpiScratch, PpiTuning};
use crate::eval::summary::RouterSummary;
use crate::eval::svg;

/// Parameters of the held-out evaluation.
///
/// Defaults: the bootstrap's (2000 resamples, level 0.9, seed 42), the tuned prediction-powered
/// estimate, no usage target.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EvaluateParams {
    /// Resamples, level and seed.
    pub bootstrap: BootstrapParams,
    /// The judge's recalibration in the prediction-powered estimate.
    pub ppi: PpiTuning,
    /// A target primary-usage rate in [0, 1]: also report the threshold calibrated to it.
    pub usage: Option<f64>,
}

impl EvaluateParams {
    /// Checks the domains.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] naming the bootstrap's resamples or level, a fixed PPI
    /// coefficient, or `usage` outside [0, 1].
    pub fn validate(&self) -> Result<()> {
        self.bootstrap.validate()?;
        self.ppi.validate()?;
        if let Some(rho) = self.usage {
            if !(0.0..=1.0).contains(&rho) {
                return Err(Error::param("evaluate", "usage", format!("must lie in [0, 1], got {rho}")));
            }
        }
        Ok(())
    }
}

/// Held-out queries (see the module docs).
#[derive(Clone, Copy, Debug)]
pub struct HeldOut<'a> {
    /// The router's score `psi_hat` for every row.
    pub scores: &'a [f64],
    /// Gold labels, one per row (read only where `has_gold`).
    pub gold: &'a [f64],
    /// Which rows have a gold label (`None`: every row).
    pub has_gold: Option<&'a [bool]>,
    /// The judge's label on every row, on the gold scale (enables the prediction-powered estimate).
    pub judge: Option<&'a [f64]>,
    /// The router's stored threshold `w` (route to the primary model when `psi_hat > w`).
    pub threshold: f64,
}

/// An estimate with its interval and bootstrap standard error.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// The point estimate.
    pub value: f64,
    /// The percentile interval `[low, high]`.
    pub ci: [f64; 2],
    /// The standard deviation of the bootstrap replicates.
    pub se: f64,
}

/// A curve on the grid with its pointwise band.
#[derive(Clone, Debug, PartialEq)]
pub struct Band {
    /// `EG(rho)` on the grid.
    pub curve: Vec<f64>,
    /// Lower end of the pointwise interval.
    pub low: Vec<f64>,
    /// Upper end of the pointwise interval.
    pub high: Vec<f64>,
}

/// Usage and quality at one threshold (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct OperatingPoint {
    /// The threshold `w`.
    pub threshold: f64,
    /// The target usage it was calibrated to, if it was.
    pub target: Option<f64>,
    /// The realised usage `u` on the held-out rows.
    pub usage: f64,
    /// The DKW bounds on the long-run usage on new traffic, `[low, high]`.
    pub usage_bounds: [f64; 2],
    /// The quality gain `Q` over always using the alternative model (gold scale, per query).
    pub quality_gain: Estimate,
    /// The efficiency gain `E` over random routing at the same usage.
    pub eg: Estimate,
}

/// The prediction-powered results.
#[derive(Clone, Debug, PartialEq)]
pub struct PpiResult {
    /// The AUC.
    pub auc: Estimate,
    /// The curve and its band.
    pub band: Band,
    /// The judge's recalibration on the full held-out set.
    pub coefficients: PpiCoefficients,
}

/// Everything [`evaluate`] reports.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// Held-out rows.
    pub n: usize,
    /// Rows with a gold label.
    pub n_gold: usize,
    /// The confidence level.
    pub level: f64,
    /// Bootstrap resamples.
    pub resamples: usize,
    /// The bootstrap seed.
    pub seed: u64,
    /// The gold-only AUC.
    pub auc: Estimate,
    /// The gold-only curve and its band.
    pub band: Band,
    /// The largest gold-only EG on the AUC window and its usage rate.
    pub peak: (f64, f64),
    /// The prediction-powered results, when judge labels were given.
    pub ppi: Option<PpiResult>,
    /// At the router's stored threshold.
    pub stored: OperatingPoint,
    /// At the threshold calibrated to the target usage, when one was given.
    pub calibrated: Option<OperatingPoint>,
}

/// `(Q, E)` at threshold `w` over gold rows with scores `s` and gold labels `g` (see the
/// module docs).
fn operating(s: &[f64], g: &[f64], w: f64) -> (f64, f64) {
    let n = s.len() as f64;
    let (mut q, mut total, mut routed) = (0.0, 0.0, 0.0);
    for (&si, &gi) in s.iter().zip(g) {
        total += gi;
        if si > w {
            q += gi;
            routed += 1.0;
        }
    }
    let q = q / n;
    (q, q - routed / n * (total / n))
}

/// The DKW half-width `sqrt(ln(2 / alpha) / (2 N))`.
pub fn dkw_epsilon(n: usize, level: f64) -> f64 {
    ((2.0 / (1.0 - level)).ln() / (2.0 * n as f64)).sqrt()
}

/// One resample's figures.
struct Replicate {
    gold: Vec<f64>,
    ppi: Option<Vec<f64>>,
    /// `(Q, E)` at each threshold.
    ops: Vec<(f64, f64)>,
}

/// Per-task buffers.
#[derive(Default)]
struct Work {
    idx: Vec<usize>,
    s: Vec<f64>,
    g: Vec<f64>,
    f: Vec<f64>,
    mask: Vec<bool>,
    curves: CurveScratch,
    ppi: PpiScratch,
}

/// Evaluates a router on held-out queries (see the module docs).
///
/// # Errors
/// Bad parameters; unequal lengths; no rows; fewer than two gold rows; non-finite scores,
/// gold labels on gold rows, or judge labels; a number of resamples whose curves would not fit
/// in the memory budget.
pub fn evaluate(data: &HeldOut<'_>, params: &EvaluateParams) -> Result<Evaluation> {
    params.validate()?;
    let n = data.scores.len();
    if n == 0 {
        return Err(Error::empty("evaluate: no held-out rows"));
    }
    if data.gold.len() != n {
        return Err(Error::shape("evaluate: gold labels vs scores", n, data.gold.len()));
    }
    crate::check::finite_slice("router scores", data.scores)?;
    if data.threshold.is_nan() {
        return Err(Error::param("evaluate", "threshold", "is NaN"));
    }
    let all_gold;
    let mask = match data.has_gold {
        Some(m) => {
            if m.len() != n {
                return Err(Error::shape("evaluate: gold indicator vs scores", n, m.len()));
            }
            m
        }
        None => {
            all_gold = vec![true; n];
            &all_gold
        }
    };
    let gold_idx: Vec<usize> = (0..n).filter(|&i| mask[i]).collect();
    let other_idx: Vec<usize> = (0..n).filter(|&i| !mask[i]).collect();
    if gold_idx.len() < 2 {
        return Err(Error::data(format!(
            "evaluate: {} held-out row(s) with a gold label; at least 2 are needed",
            gold_idx.len()
        )));
    }
    if let Some(&i) = gold_idx.iter().find(|&&i| !data.gold[i].is_finite()) {
        return Err(Error::NonFinite { what: "gold labels".into(), row: i, col: 0, value: data.gold[i] });
    }
    if let Some(f) = data.judge {
        if f.len() != n {
            return Err(Error::shape("evaluate: judge labels vs scores", n, f.len()));
        }
        crate::check::finite_slice("judge labels", f)?;
    }
    let b_count = params.bootstrap.resamples;
    let curves_per = if data.judge.is_some() { 2 } else { 1 };
    crate::budget::check(
        format!("bootstrap resamples {b_count}"),
        "the bootstrap curves",
        crate::budget::product(&[b_count, curves_per + 1, GRID, 8]),
    )?;

    let mut thresholds = vec![(data.threshold, None)];
    if let Some(rho) = params.usage {
        let r = crate::router::usage_threshold(data.scores, rho)?;
        thresholds.push((r.threshold, Some(rho)));
    }

    // Point estimates.
    let sg: Vec<f64> = gold_idx.iter().map(|&i| data.scores[i]).collect();
    let gg: Vec<f64> = gold_idx.iter().map(|&i| data.gold[i]).collect();
    let gold_curve = curves::efficiency_gain(&gg, &sg)?;
    let ppi_point = match data.judge {
        Some(f) => {
            let mut out = vec![0.0; GRID];
            let c = PpiScratch::default().curve_into(data.scores, f, data.gold, mask, params.ppi, &mut out)?;
            Some((out, c))
        }
        None => None,
    };
    let ops_point: Vec<(f64, f64)> = thresholds.iter().map(|&(w, _)| operating(&sg, &gg, w)).collect();

    // Resamples.
    let seed = params.bootstrap.seed;
    let replicates: Vec<Result<Replicate>> = (0..b_count)
        .into_par_iter()
        .map_init(Work::default, |work, b| {
            let mut rng = bootstrap::resample_seed(seed, b).rng();
            let strata: &[&[usize]] = if data.judge.is_some() { &[&gold_idx, &other_idx] } else { &[&gold_idx] };
            bootstrap::draw_stratified(strata, &mut rng, &mut work.idx);
            let ng = gold_idx.len();
            work.s.clear();
            work.s.extend(work.idx.iter().map(|&i| data.scores[i]));
            work.g.clear();
            work.g.extend(work.idx.iter().map(|&i| data.gold[i]));
            let mut gold = vec![0.0; GRID];
            work.curves.efficiency_gain_into(&work.g[..ng], &work.s[..ng], &mut gold)?;
            let ops = thresholds.iter().map(|&(w, _)| operating(&work.s[..ng], &work.g[..ng], w)).collect();
            let ppi = match data.judge {
                Some(f) => {
                    work.f.clear();
                    work.f.extend(work.idx.iter().map(|&i| f[i]));
                    work.mask.clear();
                    work.mask.extend((0..work.idx.len()).map(|k| k < ng));
                    let mut out = vec![0.0; GRID];
                    work.ppi.curve_into(&work.s, &work.f, &work.g, &work.mask, params.ppi, &mut out)?;
                    Some(out)
                }
                None => None,
            };
            Ok(Replicate { gold, ppi, ops })
        })
        .collect();
    let replicates: Vec<Replicate> = replicates.into_iter().collect::<Result<_>>()?;

    let level = params.bootstrap.level;
    let estimate = |value: f64, reps: &mut Vec<f64>| -> Result<Estimate> {
        let se = bootstrap::standard_error(reps);
        let ci = bootstrap::percentile_interval(reps, level)?;
        Ok(Estimate { value, ci, se })
    };
    let band_of = |curve: Vec<f64>, pick: &dyn Fn(&Replicate) -> &[f64]| -> Result<(Band, Estimate)> {
        let (mut low, mut high) = (vec![0.0; GRID], vec![0.0; GRID]);
        let mut column = vec![0.0; replicates.len()];
        for k in 0..GRID {
            for (c, r) in column.iter_mut().zip(&replicates) {
                *c = pick(r)[k];
            }
            [low[k], high[k]] = bootstrap::percentile_interval(&mut column, level)?;
        }
        let mut aucs: Vec<f64> = replicates.iter().map(|r| curves::auc(pick(r))).collect();
        let auc = estimate(curves::auc(&curve), &mut aucs)?;
        Ok((Band { curve, low, high }, auc))
    };
    let peak = curves::peak(&gold_curve);
    let (band, auc) = band_of(gold_curve, &|r| &r.gold)?;
    let ppi = match ppi_point {
        Some((curve, coefficients)) => {
            let (band, auc) = band_of(curve, &|r| r.ppi.as_deref().unwrap_or(&[]))?;
            Some(PpiResult { auc, band, coefficients })
        }
        None => None,
    };
    let eps = dkw_epsilon(n, level);
    let mut points = Vec::with_capacity(thresholds.len());
    for (t, &(w, target)) in thresholds.iter().enumerate() {
        let usage = data.scores.iter().filter(|&&v| v > w).count() as f64 / n as f64;
        let mut qs: Vec<f64> = replicates.iter().map(|r| r.ops[t].0).collect();
        let mut es: Vec<f64> = replicates.iter().map(|r| r.ops[t].1).collect();
        points.push(OperatingPoint {
            threshold: w,
            target,
            usage,
            usage_bounds: [(usage - eps).max(0.0), (usage + eps).min(1.0)],
            quality_gain: estimate(ops_point[t].0, &mut qs)?,
            eg: estimate(ops_point[t].1, &mut es)?,
        });
    }
    let calibrated = if points.len() > 1 { points.pop() } else { None };
    let stored = points.pop().ok_or_else(|| Error::data("evaluate: no operating point"))?;
    Ok(Evaluation {
        n,
        n_gold: gold_idx.len(),
        level,
        resamples: b_count,
        seed,
        auc,
        band,
        peak,
        ppi,
        stored,
        calibrated,
    })
}

/// A finite number as JSON, `null` otherwise.
fn num(v: f64) -> Value {
    if v.is_finite() { json!(v) } else { Value::Null }
}

fn pair(v: [f64; 2]) -> Value {
    json!([num(v[0]), num(v[1])])
}

impl OperatingPoint {
    /// `{threshold, target, usage, usage_bounds, quality_gain, quality_gain_ci, quality_gain_se,
    /// eg, eg_ci, eg_se}`.
    pub fn to_json(&self) -> Value {
        json!({
            "threshold": num(self.threshold),
            "target": self.target.map_or(Value::Null, num),
            "usage": num(self.usage),
            "usage_bounds": pair(self.usage_bounds),
            "quality_gain": num(self.quality_gain.value),
            "quality_gain_ci": pair(self.quality_gain.ci),
            "quality_gain_se": num(self.quality_gain.se),
            "eg": num(self.eg.value),
            "eg_ci": pair(self.eg.ci),
            "eg_se": num(self.eg.se),
        })
    }
}

impl Evaluation {
    /// The JSON object: `n`, `n_gold`, `level`, `resamples`, `seed`, `auc`, `auc_ci`, `auc_se`,
    /// `peak_eg`, `peak_rho`; with judge labels `auc_ppi`, `auc_ppi_ci`, `auc_ppi_se`,
    /// `ppi_kappa`, `ppi_lambda`; `threshold` (the stored operating point) and, with a usage
    /// target, `calibrated` (see [`OperatingPoint::to_json`]). Non-finite values are `null`.
    pub fn to_json(&self) -> Map<String, Value> {
        let mut o = Map::new();
        o.insert("n".into(), json!(self.n));
        o.insert("n_gold".into(), json!(self.n_gold));
        o.insert("level".into(), num(self.level));
        o.insert("resamples".into(), json!(self.resamples));
        o.insert("seed".into(), json!(self.seed));
        o.insert("auc".into(), num(self.auc.value));
        o.insert("auc_ci".into(), pair(self.auc.ci));
        o.insert("auc_se".into(), num(self.auc.se));
        o.insert("peak_eg".into(), num(self.peak.0));
        o.insert("peak_rho".into(), num(self.peak.1));
        if let Some(p) = &self.ppi {
            o.insert("auc_ppi".into(), num(p.auc.value));
            o.insert("auc_ppi_ci".into(), pair(p.auc.ci));
            o.insert("auc_ppi_se".into(), num(p.auc.se));
            o.insert("ppi_kappa".into(), num(p.coefficients.kappa));
            o.insert("ppi_lambda".into(), num(p.coefficients.lambda));
        }
        o.insert("threshold".into(), self.stored.to_json());
        if let Some(c) = &self.calibrated {
            o.insert("calibrated".into(), c.to_json());
        }
        o
    }

    /// The text table printed on stdout.
    pub fn table(&self) -> String {
        let pct = 100.0 * self.level;
        let iv = |e: &Estimate| format!("{:>10.5}  [{:.5}, {:.5}]  {:.5}", e.value, e.ci[0], e.ci[1], e.se);
        let mut s = format!(
            "held-out rows {} ({} with gold labels); {pct:.0}% intervals, {} bootstrap resamples (seed {})\n",
            self.n, self.n_gold, self.resamples, self.seed
        );
        s += &format!("{:<26}{:>10}  {:<20}  {}\n", "", "estimate", "interval", "se");
        s += &format!("{:<26}{}\n", "EG AUC, gold labels", iv(&self.auc));
        if let Some(p) = &self.ppi {
            s += &format!(
                "{:<26}{}   (kappa {:.4}, lambda {:.4})\n",
                "EG AUC, prediction-powered",
                iv(&p.auc),
                p.coefficients.kappa,
                p.coefficients.lambda
            );
        }
        s += &format!("{:<26}{:>10.5} at usage {:.2}\n", "peak EG, gold labels", self.peak.0, self.peak.1);
        for (name, p) in std::iter::once(("stored threshold", &self.stored))
            .chain(self.calibrated.as_ref().map(|c| ("calibrated threshold", c)))
        {
            let target = p.target.map_or(String::new(), |t| format!(" (target usage {t:.3})"));
            s += &format!("{name} w = {}{target}\n", p.threshold);
            s += &format!(
                "  {:<24}{:>10.5}  new traffic in [{:.4}, {:.4}] with probability >= {:.2} (DKW)\n",
                "usage", p.usage, p.usage_bounds[0], p.usage_bounds[1], self.level
            );
            s += &format!("  {:<24}{}\n", "quality gain", iv(&p.quality_gain));
            s += &format!("  {:<24}{}\n", "EG over random", iv(&p.eg));
        }
        s
    }

    /// curve.csv: `rho, eg, eg_low, eg_high` and, with judge labels, `eg_ppi, eg_ppi_low,
    /// eg_ppi_high`, one line per grid point.
    pub fn curve_csv(&self) -> String {
        let mut s = String::from("rho,eg,eg_low,eg_high");
        if self.ppi.is_some() {
            s += ",eg_ppi,eg_ppi_low,eg_ppi_high";
        }
        s.push('\n');
        for k in 0..GRID {
            let b = &self.band;
            s += &format!("{},{},{},{}", curves::rho(k), b.curve[k], b.low[k], b.high[k]);
            if let Some(p) = &self.ppi {
                s += &format!(",{},{},{}", p.band.curve[k], p.band.low[k], p.band.high[k]);
            }
            s.push('\n');
        }
        s
    }

    /// The figure: each curve over its pointwise band ([`svg::bands_svg`]).
    pub fn svg(&self, title: &str) -> String {
        let entry = |name: &str, band: &Band, auc: &Estimate| RouterSummary {
            name: name.into(),
            auc: auc.value,
            auc_se: auc.se,
            peak_eg: curves::peak(&band.curve).0,
            peak_rho: curves::peak(&band.curve).1,
            oracle_fraction: None,
            delta_rmse: None,
            mean: band.curve.clone(),
            p10: band.low.clone(),
            p90: band.high.clone(),
            paired: PairedFigures::default(),
        };
        let mut lines = vec![entry("gold labels", &self.band, &self.auc)];
        if let Some(p) = &self.ppi {
            lines.push(entry("prediction-powered", &p.band, &p.auc));
        }
        let label = format!("Efficiency gain ({:.0}% bootstrap band)", 100.0 * self.level);
        svg::bands_svg(&lines, title, &label)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Seed;
    use rand::RngExt;
    use rand_distr::StandardNormal;

    /// N rows: a latent quality q, scores s = q + noise, gold g = q + noise, judge = 2 g + 1 + small
    /// noise (informative, on another scale); gold on the first `n_gold` rows.
    fn world(n: usize, n_gold: usize, seed: u64) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<bool>) {
        let mut r = Seed(seed).rng();
        let mut nrm = || r.sample::<f64, _>(StandardNormal);
        let (mut s, mut g, mut f) = (vec![], vec![], vec![]);
        for _ in 0..n {
            let q = 0.3 * nrm();
            s.push(q + 0.3 * nrm());
            let gi = q + 0.6 * nrm();
            g.push(gi);
            f.push(2.0 * gi + 1.0 + 0.2 * nrm());
        }
        (s, g, f, (0..n).map(|i| i < n_gold).collect())
    }

    fn params(b: usize) -> EvaluateParams {
        EvaluateParams { bootstrap: BootstrapParams { resamples: b, ..Default::default() }, ..Default::default() }
    }

    #[test]
    fn the_prediction_powered_interval_is_narrower_with_an_informative_judge() {
        let (s, g, f, mask) = world(2000, 200, 1);
        let h = HeldOut { scores: &s, gold: &g, has_gold: Some(&mask), judge: Some(&f), threshold: 0.0 };
        let e = evaluate(&h, &params(400)).unwrap();
        let p = e.ppi.as_ref().unwrap();
        let (wg, wp) = (e.auc.ci[1] - e.auc.ci[0], p.auc.ci[1] - p.auc.ci[0]);
        assert!(wp < 0.6 * wg, "ppi width {wp} vs gold-only {wg}");
        // the judge is recognised as 2 g + 1
        assert!((p.coefficients.lambda - 0.5).abs() < 0.05, "{:?}", p.coefficients);
        // both intervals hold their estimates, and the prediction-powered one holds the AUC
        // of the judge's underlying gold labels on all 2,000 rows (what a gold label on every
        // row would give), which it estimates far more closely than its gold-only counterpart
        assert!(e.auc.ci[0] <= e.auc.value && e.auc.value <= e.auc.ci[1]);
        assert!(p.auc.ci[0] <= p.auc.value && p.auc.value <= p.auc.ci[1]);
        let everywhere = curves::auc(&curves::efficiency_gain(&g, &s).unwrap());
        assert!(p.auc.ci[0] < everywhere && everywhere < p.auc.ci[1], "{everywhere} vs {:?}", p.auc);
        // the band holds the curve inside the window
        for k in curves::AUC_FROM..=curves::AUC_TO {
            assert!(e.band.low[k] <= e.band.high[k]);
        }
        let j = e.to_json();
        for key in ["auc", "auc_ci", "auc_ppi", "auc_ppi_ci", "level", "n", "n_gold"] {
            assert!(j.contains_key(key), "{key}");
        }
        assert_eq!(j["n_gold"], json!(200));
        let svg = e.svg("t");
        assert_eq!(svg.matches(r#"class="band""#).count(), 2);
        assert!(e.table().contains("prediction-powered"));
        assert_eq!(e.curve_csv().lines().count(), GRID + 1);
    }

    #[test]
    fn operating_points_and_the_dkw_statement() {
        // 4 rows, gold on all: scores 4, 3, 2, 1, gains 1, 2, 0, -1, w = 2.5: rows 0 and 1 routed.
        let s = [4.0, 3.0, 2.0, 1.0];
        let g = [1.0, 2.0, 0.0, -1.0];
        let h = HeldOut { scores: &s, gold: &g, has_gold: None, judge: None, threshold: 2.5 };
        let p = EvaluateParams { usage: Some(0.25), ..params(50) };
        let e = evaluate(&h, &p).unwrap();
        assert_eq!(e.stored.usage, 0.5);
        // Q = (1 + 2) / 4, E = Q - 0.5 * (2 / 4)
        assert_eq!(e.stored.quality_gain.value, 0.75);
        assert_eq!(e.stored.eg.value, 0.5);
        let eps = (20f64.ln() / 8.0).sqrt();
        assert_eq!(dkw_epsilon(4, 0.9), eps);
        assert_eq!(e.stored.usage_bounds, [(0.5 - eps).max(0.0), (0.5 + eps).min(1.0)]);
        let c = e.calibrated.as_ref().unwrap();
        assert_eq!((c.threshold, c.usage, c.target), (3.0, 0.25, Some(0.25)));
        assert!(e.ppi.is_none() && !e.to_json().contains_key("auc_ppi"));
    }

    #[test]
    fn bad_input_is_an_error_naming_it() {
        let (s, g, f, mask) = world(50, 10, 2);
        let ok = HeldOut { scores: &s, gold: &g, has_gold: Some(&mask), judge: Some(&f), threshold: 0.0 };
        let none = vec![false; 50];
        let e = evaluate(&HeldOut { has_gold: Some(&none), ..ok }, &params(10)).unwrap_err();
        assert!(e.to_string().contains("gold label"), "{e}");
        let mut gn = g.clone();
        gn[3] = f64::NAN;
        let e = evaluate(&HeldOut { gold: &gn, ..ok }, &params(10)).unwrap_err();
        assert!(e.to_string().contains("gold labels"), "{e}");
        // a NaN gold label on a row without gold is not read
        gn[3] = g[3];
        gn[40] = f64::NAN;
        assert!(evaluate(&HeldOut { gold: &gn, ..ok }, &params(10)).is_ok());
        let mut fnan = f.clone();
        fnan[40] = f64::NAN;
        let e = evaluate(&HeldOut { judge: Some(&fnan), ..ok }, &params(10)).unwrap_err();
        assert!(e.to_string().contains("judge"), "{e}");
        let e = evaluate(&ok, &params(0)).unwrap_err();
        assert!(e.to_string().contains("resamples"), "{e}");
        for level in [0.0, 1.0, 1.5] {
            let p = EvaluateParams { bootstrap: BootstrapParams { level, ..Default::default() }, ..params(10) };
            assert!(evaluate(&ok, &p).unwrap_err().to_string().contains("level"));
        }
        let p = EvaluateParams { usage: Some(1.2), ..params(10) };
        assert!(evaluate(&ok, &p).unwrap_err().to_string().contains("usage"));
        assert!(evaluate(&HeldOut { gold: &g[..10], ..ok }, &params(10)).is_err());
        assert!(
            evaluate(&HeldOut { scores: &[], gold: &[], has_gold: None, judge: None, threshold: 0.0 }, &params(10))
                .is_err()
        );
    }
}
