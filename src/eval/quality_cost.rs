//! Quality-cost curves for routing among `K` models: the evaluation of issue #13, which for two
//! models with constant costs is exactly today's efficiency gain ([`crate::eval::curves`]).
//!
//! Test set of `m` queries and `K >= 2` models. For query `i` and model `k`: the gold quality
//! `g_ik` of model `k`'s answer, the router's estimate `psi_hat_ik` (a gain against any
//! reference model: only differences between models matter) and the cost `c_ik >= 0` (a
//! constant per model, or per query). At a cost weight `lambda` the router sends query `i` to
//! `argmax_k psi_hat_ik - lambda c_ik`.
//!
//! # The routing path
//! As `lambda` falls from `+inf` to `-inf`, query `i`'s choice climbs the upper convex hull of its
//! points `(c_ik, psi_hat_ik)`, from its cheapest model (the best-scored among the cheapest) to
//! its most expensive one (the best-scored among those); models under the hull are never
//! chosen at any `lambda`. Each hull segment `a -> b` is an *event* at
//! `lambda = (psi_hat_ib - psi_hat_ia) / (c_ib - c_ia)` that adds `c_ib - c_ia > 0` to the total
//! cost and `g_ib - g_ia` to the total gold quality. Sorting every query's events by `lambda`,
//! descending (ties by query), gives the path of routing policies: step `j` applies the first
//! `j` events. Events with equal `lambda` form a tie group; a step inside a group takes the
//! group's cost and quality in proportion to the share of its events applied, which is the
//! expectation over every tie-breaking order (as the efficiency gain splits tied scores).
//!
//! # Cost range, mixing line, curve, area
//! Model `k` alone costs `C_k = sum_i c_ik` and earns `Q_k = sum_i g_ik`. Choosing single models
//! at random attains the upper concave hull of the points `(C_k, Q_k)`: the *random-mixing
//! line* (for two models the segment between them). The cost grid spans the single models'
//! range, `C(u) = C_min + u (C_max - C_min)` for `u = 0.00, 0.01, ..., 1.00`
//! ([`crate::eval::curves::GRID`] points), and the curve is the router's gold quality above the
//! mixing line at matched cost, per query:
//! ```text
//! gain(u) = ( Q_path(C(u)) - Q_mix(C(u)) ) / m ,
//! ```
//! `Q_path(C)` the quality of the path's step whose cost is nearest to `C` (halves: the later
//! step). The **area** is the mean of `gain` over `u = 0.20, ..., 0.80`, in the spirit of
//! RouterBench's AIQ (Hu et al. 2024) and with the efficiency gain's window. With per-query
//! costs the path may reach below `C_min` and above `C_max` (each query's own cheapest or
//! dearest model); the grid stays on the single models' range.
//!
//! **Two models, constant costs.** Then every query has one event, at
//! `lambda = s_i / (c_p - c_a)` with `s_i = psi_hat_ip - psi_hat_ia`, so the path is the order of
//! `s` and `C(u)` is the cost of sending a share `u` to the dearer model `p`: `gain(u)` is the
//! efficiency gain `EG(rho = u)` of the gold gains `g_ip - g_ia` under the scores `s`.
//! [`QualityCostScratch::curve_into`] computes it with
//! [`CurveScratch::efficiency_gain_into`](crate::eval::curves::CurveScratch::efficiency_gain_into),
//! so a two-model study reproduces today's figures to the last digit;
//! [`QualityCostScratch::path_gain_into`] is the general computation, equal to it up to rounding
//! (a test checks both).
//!
//! **Matched cost.** The router's quality on the path at the cost of the best single model
//! (largest `Q_k`; ties: the cheaper, then the first), minus `Q_k`, per query: what routing adds
//! over always calling the best model at the same spend.

use faer::MatRef;

use crate::error::{Error, Result};
use crate::eval::curves::{AUC_FROM, AUC_TO, CurveScratch, GRID, rho};

/// The models' costs.
#[derive(Clone, Copy, Debug)]
pub enum Costs<'a> {
    /// One cost per model, the same for every query (length `K`).
    PerModel(&'a [f64]),
    /// A cost per query and model (`m x K`).
    PerQuery(MatRef<'a, f64>),
}

impl Costs<'_> {
    #[inline]
    fn get(&self, i: usize, k: usize) -> f64 {
        match self {
            Costs::PerModel(c) => c[k],
            Costs::PerQuery(c) => c[(i, k)],
        }
    }

    /// Checks the costs' shape against `m` queries and `k` models; `what` prefixes the error.
    fn check_shape(&self, m: usize, k: usize, what: &str) -> Result<()> {
        match self {
            Costs::PerModel(c) if c.len() != k => Err(Error::shape(format!("{what}costs per model"), k, c.len())),
            Costs::PerQuery(c) if c.nrows() != m || c.ncols() != k => {
                Err(Error::shape(format!("{what}costs (rows x models)"), m * k, c.nrows() * c.ncols()))
            }
            _ => Ok(()),
        }
    }
}

/// A quality-cost curve on the cost grid (see the module docs).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct QualityCostCurve {
    /// Mean cost per query at each grid point `C(u) / m`.
    pub cost: Vec<f64>,
    /// The router's mean gold quality there (its path's nearest step).
    pub quality: Vec<f64>,
    /// The random-mixing line's mean gold quality there.
    pub mixing: Vec<f64>,
    /// `gain(u)`: quality above the mixing line (for two models with constant costs, exactly
    /// the efficiency gain).
    pub gain: Vec<f64>,
    /// Mean of `gain` over `u = 0.20..0.80`.
    pub area: f64,
    /// The single model of largest total gold quality.
    pub best_single: usize,
    /// The router's mean quality at the best single model's cost, minus that model's.
    pub matched_cost_gain: f64,
}

/// One hull segment of one query: at `lambda`, query `query` moves up by `dc` in cost and `dq`
/// in gold quality.
#[derive(Clone, Copy, Debug)]
struct Event {
    lambda: f64,
    query: usize,
    dc: f64,
    dq: f64,
}

/// Reusable buffers, so a study evaluates many routers without allocating per curve.
#[derive(Clone, Debug, Default)]
pub struct QualityCostScratch {
    models: Vec<usize>,
    hull: Vec<usize>,
    events: Vec<Event>,
    step_cost: Vec<f64>,
    step_quality: Vec<f64>,
    single: Vec<(f64, f64)>,
    mix: Vec<(f64, f64)>,
    eg: CurveScratch,
    g2: Vec<f64>,
    s2: Vec<f64>,
}

fn check_inputs(gold: MatRef<'_, f64>, psi_hat: MatRef<'_, f64>, costs: &Costs<'_>) -> Result<()> {
    let (m, k) = (gold.nrows(), gold.ncols());
    if m == 0 {
        return Err(Error::empty("quality-cost curve: no test queries"));
    }
    if k < 2 {
        return Err(Error::param("quality-cost curve", "models", format!("needs at least 2 models, got {k}")));
    }
    if psi_hat.nrows() != m || psi_hat.ncols() != k {
        return Err(Error::shape(
            "quality-cost curve: psi_hat (rows x models)",
            m * k,
            psi_hat.nrows() * psi_hat.ncols(),
        ));
    }
    costs.check_shape(m, k, "quality-cost curve: ")?;
    for j in 0..k {
        for i in 0..m {
            let (g, p, c) = (gold[(i, j)], psi_hat[(i, j)], costs.get(i, j));
            if !g.is_finite() || !p.is_finite() {
                return Err(Error::param(
                    "quality-cost curve",
                    if g.is_finite() { "psi_hat" } else { "gold quality" },
                    format!("non-finite value at query {i}, model {j}"),
                ));
            }
            if !(c.is_finite() && c >= 0.0) {
                return Err(Error::param(
                    "quality-cost curve",
                    "cost",
                    format!("must be finite and >= 0, got {c} at query {i}, model {j}"),
                ));
            }
        }
    }
    Ok(())
}

impl QualityCostScratch {
    /// The curve of a router's estimates `psi_hat` (`m x K`) against the gold qualities `gold`
    /// (`m x K`) under `costs` (see the module docs). For two models with constant costs the
    /// gain is computed as the efficiency gain, bit for bit.
    ///
    /// # Errors
    /// No queries, fewer than two models, mismatched shapes, non-finite values, a negative cost,
    /// or single models that all cost the same in total (no cost range to draw the curve on).
    pub fn curve_into(
        &mut self,
        gold: MatRef<'_, f64>,
        psi_hat: MatRef<'_, f64>,
        costs: Costs<'_>,
        out: &mut QualityCostCurve,
    ) -> Result<()> {
        self.path_gain_into(gold, psi_hat, costs, out)?;
        if let Costs::PerModel(c) = costs {
            if c.len() == 2 {
                let (a, p) = if c[0] <= c[1] { (0, 1) } else { (1, 0) };
                let m = gold.nrows();
                self.g2.clear();
                self.g2.extend((0..m).map(|i| gold[(i, p)] - gold[(i, a)]));
                self.s2.clear();
                self.s2.extend((0..m).map(|i| psi_hat[(i, p)] - psi_hat[(i, a)]));
                self.eg.efficiency_gain_into(&self.g2, &self.s2, &mut out.gain)?;
                out.area = window_mean(&out.gain);
            }
        }
        Ok(())
    }

    /// The general path computation of [`QualityCostScratch::curve_into`], without the
    /// two-model shortcut (equal to it up to rounding there).
    ///
    /// # Errors
    /// As [`QualityCostScratch::curve_into`].
    pub fn path_gain_into(
        &mut self,
        gold: MatRef<'_, f64>,
        psi_hat: MatRef<'_, f64>,
        costs: Costs<'_>,
        out: &mut QualityCostCurve,
    ) -> Result<()> {
        check_inputs(gold, psi_hat, &costs)?;
        self.path_into(gold, psi_hat, &costs, out)
    }

    fn path_into(
        &mut self,
        gold: MatRef<'_, f64>,
        psi: MatRef<'_, f64>,
        costs: &Costs<'_>,
        out: &mut QualityCostCurve,
    ) -> Result<()> {
        let (m, k) = (gold.nrows(), gold.ncols());
        // single models and their mixing hull
        self.single.clear();
        for j in 0..k {
            let (mut c, mut q) = (0.0, 0.0);
            for i in 0..m {
                c += costs.get(i, j);
                q += gold[(i, j)];
            }
            self.single.push((c, q));
        }
        let c_min = self.single.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
        let c_max = self.single.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
        if c_max <= c_min {
            return Err(Error::param(
                "quality-cost curve",
                "costs",
                format!("every model costs the same in total ({c_min}); the curve needs a cost range"),
            ));
        }
        self.models.clear();
        self.models.extend(0..k);
        let single = &self.single;
        self.models.sort_by(|&a, &b| single[a].0.total_cmp(&single[b].0).then(single[b].1.total_cmp(&single[a].1)));
        self.mix.clear();
        for &j in &self.models {
            let p = single[j];
            if self.mix.last().is_some_and(|l| l.0 == p.0) {
                continue; // same total cost, lower quality
            }
            while self.mix.len() >= 2 {
                let (o, a) = (self.mix[self.mix.len() - 2], self.mix[self.mix.len() - 1]);
                if (a.0 - o.0) * (p.1 - o.1) - (a.1 - o.1) * (p.0 - o.0) >= 0.0 {
                    self.mix.pop();
                } else {
                    break;
                }
            }
            self.mix.push(p);
        }
        let best_single = (0..k)
            .max_by(|&a, &b| {
                single[a].1.total_cmp(&single[b].1).then(single[b].0.total_cmp(&single[a].0)).then(b.cmp(&a))
            })
            .unwrap_or(0);

        // every query's hull events, and the path's start
        self.events.clear();
        let (mut start_cost, mut start_quality) = (0.0, 0.0);
        for i in 0..m {
            self.models.clear();
            self.models.extend(0..k);
            self.models.sort_by(|&a, &b| {
                costs.get(i, a).total_cmp(&costs.get(i, b)).then(psi[(i, b)].total_cmp(&psi[(i, a)])).then(a.cmp(&b))
            });
            self.hull.clear();
            for idx in 0..k {
                let j = self.models[idx];
                let (cj, pj) = (costs.get(i, j), psi[(i, j)]);
                if self.hull.last().is_some_and(|&l| costs.get(i, l) == cj) {
                    continue;
                }
                while self.hull.len() >= 2 {
                    let (o, a) = (self.hull[self.hull.len() - 2], self.hull[self.hull.len() - 1]);
                    let (co, po, ca, pa) = (costs.get(i, o), psi[(i, o)], costs.get(i, a), psi[(i, a)]);
                    if (ca - co) * (pj - po) - (pa - po) * (cj - co) >= 0.0 {
                        self.hull.pop();
                    } else {
                        break;
                    }
                }
                self.hull.push(j);
            }
            let first = self.hull[0];
            start_cost += costs.get(i, first);
            start_quality += gold[(i, first)];
            for w in self.hull.windows(2) {
                let (a, b) = (w[0], w[1]);
                let dc = costs.get(i, b) - costs.get(i, a);
                self.events.push(Event {
                    lambda: (psi[(i, b)] - psi[(i, a)]) / dc,
                    query: i,
                    dc,
                    dq: gold[(i, b)] - gold[(i, a)],
                });
            }
        }
        self.events.sort_by(|a, b| b.lambda.total_cmp(&a.lambda).then(a.query.cmp(&b.query)));

        // the path's steps, tie groups averaged
        let e = self.events.len();
        self.step_cost.clear();
        self.step_quality.clear();
        self.step_cost.push(start_cost);
        self.step_quality.push(start_quality);
        let (mut before_c, mut before_q) = (start_cost, start_quality);
        let mut s = 0;
        while s < e {
            let key = self.events[s].lambda;
            let mut end = s + 1;
            while end < e && self.events[end].lambda == key {
                end += 1;
            }
            let (gc, gq) = self.events[s..end].iter().fold((0.0, 0.0), |acc, ev| (acc.0 + ev.dc, acc.1 + ev.dq));
            let size = (end - s) as f64;
            for j in s + 1..=end {
                let share = (j - s) as f64 / size;
                self.step_cost.push(before_c + gc * share);
                self.step_quality.push(before_q + gq * share);
            }
            before_c += gc;
            before_q += gq;
            s = end;
        }

        let mf = m as f64;
        out.cost.resize(GRID, 0.0);
        out.quality.resize(GRID, 0.0);
        out.mixing.resize(GRID, 0.0);
        out.gain.resize(GRID, 0.0);
        for u in 0..GRID {
            let target = c_min + rho(u) * (c_max - c_min);
            let q = self.quality_at(target);
            let mx = mixing_at(&self.mix, target);
            out.cost[u] = target / mf;
            out.quality[u] = q / mf;
            out.mixing[u] = mx / mf;
            out.gain[u] = (q - mx) / mf;
        }
        out.area = window_mean(&out.gain);
        out.best_single = best_single;
        out.matched_cost_gain = (self.quality_at(single[best_single].0) - single[best_single].1) / mf;
        Ok(())
    }

    /// After a curve: the random-mixing line's total gold quality at the total cost `total_cost`
    /// (linear between the single models on its hull, flat beyond them; 0 before any curve).
    pub fn mixing_total_at(&self, total_cost: f64) -> f64 {
        if self.mix.is_empty() { 0.0 } else { mixing_at(&self.mix, total_cost) }
    }

    /// The quality of the path's step whose cost is nearest to `target` (halves: the later one).
    fn quality_at(&self, target: f64) -> f64 {
        let c = &self.step_cost;
        let j = c.partition_point(|&v| v < target);
        if j == 0 {
            return self.step_quality[0];
        }
        if j == c.len() {
            return self.step_quality[c.len() - 1];
        }
        if c[j] - target <= target - c[j - 1] { self.step_quality[j] } else { self.step_quality[j - 1] }
    }
}

/// The routing decision at cost weight `lambda`: `out[i] = argmax_k psi_hat_ik - lambda c_ik`
/// (ties: the cheaper model, then the first). Allocation-free.
///
/// # Errors
/// Mismatched shapes (`out` one entry per query), non-finite `lambda`.
pub fn choose_into(psi_hat: MatRef<'_, f64>, costs: Costs<'_>, lambda: f64, out: &mut [usize]) -> Result<()> {
    let (m, k) = (psi_hat.nrows(), psi_hat.ncols());
    if out.len() != m {
        return Err(Error::shape("routing decisions", m, out.len()));
    }
    costs.check_shape(m, k, "")?;
    if !lambda.is_finite() {
        return Err(Error::param("router", "lambda", format!("must be finite, got {lambda}")));
    }
    for (i, o) in out.iter_mut().enumerate() {
        let (mut best, mut best_u) = (0, psi_hat[(i, 0)] - lambda * costs.get(i, 0));
        for j in 1..k {
            let u = psi_hat[(i, j)] - lambda * costs.get(i, j);
            if u > best_u || (u == best_u && costs.get(i, j) < costs.get(i, best)) {
                (best, best_u) = (j, u);
            }
        }
        *o = best;
    }
    Ok(())
}

/// The mixing hull's quality at cost `target` (linear between its points; flat beyond them).
fn mixing_at(hull: &[(f64, f64)], target: f64) -> f64 {
    let j = hull.partition_point(|p| p.0 < target);
    if j == 0 {
        return hull[0].1;
    }
    if j == hull.len() {
        return hull[hull.len() - 1].1;
    }
    let (a, b) = (hull[j - 1], hull[j]);
    a.1 + (target - a.0) / (b.0 - a.0) * (b.1 - a.1)
}

fn window_mean(curve: &[f64]) -> f64 {
    let w = &curve[AUC_FROM..=AUC_TO];
    w.iter().sum::<f64>() / w.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::curves::auc;
    use faer::Mat;
    use rand::{RngExt, SeedableRng};
    use rand_xoshiro::Xoshiro256PlusPlus;

    fn random(m: usize, k: usize, seed: u64) -> (Mat<f64>, Mat<f64>) {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let gold = Mat::from_fn(m, k, |_, j| j as f64 * 0.1 + rng.random::<f64>());
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed + 1);
        let psi = Mat::from_fn(m, k, |i, j| 0.5 * gold[(i, j)] + rng.random::<f64>());
        (gold, psi)
    }

    #[test]
    fn two_models_with_constant_costs_give_the_efficiency_gain_exactly() {
        for (m, seed) in [(300, 1), (500, 2), (137, 3)] {
            let (gold, psi) = random(m, 2, seed);
            let mut s = QualityCostScratch::default();
            let (mut fast, mut general) = (QualityCostCurve::default(), QualityCostCurve::default());
            // the dearer model first, to check the orientation
            let costs = [3.0, 0.5];
            s.curve_into(gold.as_ref(), psi.as_ref(), Costs::PerModel(&costs), &mut fast).unwrap();
            s.path_gain_into(gold.as_ref(), psi.as_ref(), Costs::PerModel(&costs), &mut general).unwrap();
            let g: Vec<f64> = (0..m).map(|i| gold[(i, 0)] - gold[(i, 1)]).collect();
            let sc: Vec<f64> = (0..m).map(|i| psi[(i, 0)] - psi[(i, 1)]).collect();
            let mut eg = vec![0.0; GRID];
            CurveScratch::default().efficiency_gain_into(&g, &sc, &mut eg).unwrap();
            assert_eq!(fast.gain, eg);
            assert_eq!(fast.area.to_bits(), auc(&eg).to_bits());
            for (u, (a, b)) in general.gain.iter().zip(&eg).enumerate() {
                assert!((a - b).abs() < 1e-12, "m {m}, u {u}: {a} vs {b}");
            }
            // cost grid from the cheap model's to the dear model's mean cost
            assert!((fast.cost[0] - 0.5).abs() < 1e-12 && (fast.cost[GRID - 1] - 3.0).abs() < 1e-12);
        }
    }

    #[test]
    fn perfect_estimates_give_the_best_curve_and_never_a_dominated_model() {
        // model 2 is never best and costs more than model 1: it must never be chosen
        let m = 400;
        let (mut gold, _) = random(m, 3, 7);
        for i in 0..m {
            gold[(i, 2)] = gold[(i, 1)].min(gold[(i, 0)]) - 0.1;
        }
        let costs = [0.0, 1.0, 2.0];
        let mut s = QualityCostScratch::default();
        let mut oracle = QualityCostCurve::default();
        s.curve_into(gold.as_ref(), gold.as_ref(), Costs::PerModel(&costs), &mut oracle).unwrap();
        let mut chosen = vec![0; m];
        choose_into(gold.as_ref(), Costs::PerModel(&costs), 0.0, &mut chosen).unwrap();
        assert!(chosen.iter().all(|&k| k != 2));
        // the path at lambda = 0 (every event of positive lambda applied) holds each query's best model
        let j = s.events.iter().filter(|e| e.lambda > 0.0).count();
        let best: f64 = (0..m).map(|i| gold[(i, 0)].max(gold[(i, 1)])).sum();
        assert!((s.step_quality[j] - best).abs() < 1e-9);
        // a large lambda sends everything to the free model
        choose_into(gold.as_ref(), Costs::PerModel(&costs), 1e6, &mut chosen).unwrap();
        assert!(chosen.iter().all(|&k| k == 0));
        // no estimate does better than the truth: a noisy router's curve lies below the oracle's
        let (_, psi) = random(m, 3, 8);
        let mut noisy = QualityCostCurve::default();
        s.curve_into(gold.as_ref(), psi.as_ref(), Costs::PerModel(&costs), &mut noisy).unwrap();
        for u in 0..GRID {
            // the oracle's steps are the vertices of the best attainable frontier; nearest steps
            // may sit up to one step's cost apart
            assert!(noisy.quality[u] <= oracle.quality[u] + 3.0 / m as f64, "u {u}");
        }
        assert!(oracle.area > noisy.area && oracle.area > 0.0);
        assert!(oracle.matched_cost_gain >= 0.0);
    }

    #[test]
    fn a_single_query_path_follows_its_hull_and_costs_are_checked() {
        // one query, three models on a line in (cost, psi): the middle one is on the hull edge
        let gold = Mat::from_fn(1, 3, |_, j| [0.0, 1.0, 1.5][j]);
        let psi = Mat::from_fn(1, 3, |_, j| [0.0, 2.0, 2.5][j]);
        let mut s = QualityCostScratch::default();
        let mut out = QualityCostCurve::default();
        s.curve_into(gold.as_ref(), psi.as_ref(), Costs::PerModel(&[0.0, 1.0, 2.0]), &mut out).unwrap();
        let lambdas: Vec<f64> = s.events.iter().map(|e| e.lambda).collect();
        assert_eq!(lambdas, [2.0, 0.5]);
        assert_eq!(s.step_quality, [0.0, 1.0, 1.5]);
        assert_eq!(out.best_single, 2);
        let bad = |c: Costs<'_>| {
            QualityCostScratch::default().curve_into(gold.as_ref(), psi.as_ref(), c, &mut QualityCostCurve::default())
        };
        assert!(bad(Costs::PerModel(&[0.0, -1.0, 2.0])).unwrap_err().to_string().contains("cost"));
        assert!(bad(Costs::PerModel(&[1.0, 1.0, 1.0])).unwrap_err().to_string().contains("cost range"));
        assert!(bad(Costs::PerModel(&[1.0, 2.0])).is_err());
        let nan = Mat::from_fn(1, 3, |_, j| if j == 1 { f64::NAN } else { 0.0 });
        let e = QualityCostScratch::default()
            .curve_into(gold.as_ref(), nan.as_ref(), Costs::PerModel(&[0.0, 1.0, 2.0]), &mut out)
            .unwrap_err();
        assert!(e.to_string().contains("psi_hat"), "{e}");
    }

    #[test]
    fn per_query_costs_equal_to_constants_give_the_per_model_curve() {
        let (gold, psi) = random(200, 3, 11);
        let costs = [0.2, 1.0, 4.0];
        let cq = Mat::from_fn(200, 3, |_, j| costs[j]);
        let mut s = QualityCostScratch::default();
        let (mut a, mut b) = (QualityCostCurve::default(), QualityCostCurve::default());
        s.curve_into(gold.as_ref(), psi.as_ref(), Costs::PerModel(&costs), &mut a).unwrap();
        s.curve_into(gold.as_ref(), psi.as_ref(), Costs::PerQuery(cq.as_ref()), &mut b).unwrap();
        assert_eq!(a, b);
    }
}
