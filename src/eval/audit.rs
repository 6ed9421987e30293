//! Where is the judge biased: the audit of `Delta(x) = E[gold - pref | x]` from the DR-learner's
//! cross-fitted pseudo-outcomes.
//!
//! Input ([`AuditInput`]): one AIPW pseudo-outcome `phi_i` per training row (gold and preference
//! rows alike; [`crate::causal::meta::dr_pseudo_outcomes`]), already on the scale the audit
//! reports (the command divides by the router's scale constant `c`, so that `Delta` reads on the
//! gold scale: `E[r - y / c | x]`), the features of the best linear projection, and optionally a
//! group per row. `E[phi_i | x_i] = Delta(x_i)` when the propensity or the outcome models are
//! right (Kennedy 2023), and the cross-fitting makes the `phi_i` nearly independent given the
//! nuisances (Chernozhukov et al. 2018), so averages and regressions of `phi` estimate averages
//! and projections of `Delta` with the usual standard errors.
//!
//! # Estimates
//! * **Mean bias** (the AIPW estimate of the average effect): `theta = (1/n) sum_i phi_i` over
//!   **every** training row, with `se = sd(phi) / sqrt(n)` (`sd` with divisor `n - 1`) and the
//!   normal interval `theta +- z se`, `z = Phi^-1((1 + level) / 2)`. Every row is averaged
//!   because the audit asks about the queries the router serves, gold and preference rows
//!   together; the estimand is `E[Delta(X)]` over that population (for the rows' own average
//!   `(1/n) sum_i Delta(x_i)` the interval is slightly conservative: `Var(phi)` also holds
//!   `Var(Delta(X))`). When gold rows are drawn at random this is also the mean bias over the
//!   preference rows (what `fit` reports as `mean Delta_hat`).
//! * **Best linear projection** (Semenova & Chernozhukov 2021; grf's `best_linear_projection`):
//!   the OLS of `phi` on `[1, a - mean(a)]` for the chosen features `a`, which estimates
//!   `argmin_b E[(Delta(X) - b_0 - b'(A - E A))^2]`, with HC3 standard errors
//!   ([`crate::linalg::ols`]; grf's default). The features are centred, so the intercept is the
//!   mean bias (its point value is `theta` exactly). Per coefficient: `t = b / se` and the
//!   two-sided p-value of Student's t with `n - p` degrees of freedom; interval `b +- t_q se`
//!   with the normal quantile (`n` is in the thousands).
//! * **Heterogeneity** (is a constant shift enough?): the robust Wald test that every BLP slope
//!   is zero. `W` is referred to Hotelling's `T^2` with the scores' effective sample size
//!   ([`crate::linalg::ols::Ols::wald`]), an F test, rather than to the chi-square: the
//!   pseudo-outcomes of gold rows are their residuals divided by the gold share `e` (about 50
//!   times larger with 2% gold rows), so the robust covariance rests on about as many rows as
//!   there are gold rows, and the chi-square test would reject a constant bias far too often
//!   when the slopes are many. The test rejects at the level `alpha = 1 - level`. With fewer
//!   effective rows than slopes plus two it is not computed (`p_value` NaN, a warning): restrict
//!   the projection to fewer features. Under a constant bias `Delta(x) = theta` every slope is
//!   zero, so a test that holds its level flags it at most at rate `alpha` (tested in
//!   `tests/audit.rs`).
//! * **Groups** (a user column or k-means clusters of the features): per group `g` with `n_g`
//!   rows, `theta_g = mean of phi over g`, `se_g = sd_g / sqrt(n_g)`, the normal interval; and the
//!   test of `theta_g = theta`: `theta_g - theta = (1 - n_g / n)(theta_g - theta_rest)`, so
//!   `z_g = (theta_g - theta_rest) / sqrt(se_g^2 + se_rest^2)` (the other rows form an independent
//!   sample), two-sided normal p-values, adjusted across the groups by Holm's step-down method
//!   (Holm 1979; controls the family-wise error rate under any dependence), and flagged when
//!   the adjusted p-value is below `alpha`.
//!
//! Every figure is a sum in row order: the audit is bit-identical for any thread count (the
//! pseudo-outcomes already are).
//!
//! References: Chernozhukov, Chetverikov, Demirer, Duflo, Hansen, Newey & Robins (2018),
//! "Double/debiased machine learning"; Semenova & Chernozhukov (2021), "Debiased machine
//! learning of conditional average treatment effects and other causal functions"; Athey, Tibshirani
//! & Wager (2019), "Generalized random forests" (grf's `average_treatment_effect` and
//! `best_linear_projection`); Kennedy (2023) for the DR-learner; MacKinnon & White (1985) for HC3.

use std::fmt::Write as _;

use faer::{Mat, MatRef};
use serde_json::{Map, Value, json};

use crate::error::{Error, Result};
use crate::eval::bootstrap::check_level;
use crate::linalg::dist;
use crate::linalg::ols::{Wald, ols_hc3};

/// What the audit reads (see the module docs).
#[derive(Clone, Copy, Debug)]
pub struct AuditInput<'a> {
    /// One pseudo-outcome per row, on the reported scale.
    pub phi: &'a [f64],
    /// 1.0 on gold rows, 0.0 on preference rows (for the counts per group).
    pub is_gold: &'a [f64],
    /// The projection's features, `n x q` (`q` may be 0: no projection, no test).
    pub blp_x: MatRef<'a, f64>,
    /// Their names.
    pub blp_names: &'a [String],
    /// A group index per row and the groups' names (indices into the names).
    pub groups: Option<(&'a [usize], &'a [String])>,
}

/// An estimate with its standard error and interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    /// The point estimate.
    pub value: f64,
    /// Its standard error.
    pub se: f64,
    /// The interval `[low, high]` at the audit's level.
    pub ci: [f64; 2],
}

/// One coefficient of the best linear projection.
#[derive(Clone, Debug, PartialEq)]
pub struct Coefficient {
    /// `intercept` or the feature's name.
    pub name: String,
    /// The coefficient, its HC3 standard error and interval.
    pub estimate: Estimate,
    /// `b / se`.
    pub t: f64,
    /// Two-sided p-value (Student's t, `n - p` degrees of freedom).
    pub p: f64,
}

/// The bias in one group.
#[derive(Clone, Debug, PartialEq)]
pub struct GroupBias {
    /// The group's name.
    pub name: String,
    /// Rows.
    pub n: usize,
    /// Gold rows among them.
    pub n_gold: usize,
    /// The mean pseudo-outcome with its standard error and interval.
    pub estimate: Estimate,
    /// The unadjusted two-sided p-value of `theta_g = theta`.
    pub p: f64,
    /// Holm-adjusted p-value.
    pub p_adj: f64,
    /// `p_adj < alpha`.
    pub flagged: bool,
}

/// The heterogeneity test.
#[derive(Clone, Debug, PartialEq)]
pub struct Heterogeneity {
    /// The robust Wald test of the slopes.
    pub wald: Wald,
    /// `p_value < alpha`.
    pub reject: bool,
}

/// Everything [`audit`] reports.
#[derive(Clone, Debug, PartialEq)]
pub struct Audit {
    /// Rows.
    pub n: usize,
    /// Gold rows.
    pub n_gold: usize,
    /// The level of every interval; tests reject at `1 - level`.
    pub level: f64,
    /// The mean bias over every row.
    pub mean: Estimate,
    /// The projection's coefficients, the intercept first (empty without features).
    pub blp: Vec<Coefficient>,
    /// The slopes' Wald test (`None` without features).
    pub heterogeneity: Option<Heterogeneity>,
    /// Per group, in the order of the names (`None` without groups).
    pub groups: Option<Vec<GroupBias>>,
    /// Warnings (a test that could not be computed).
    pub warnings: Vec<String>,
}

/// Mean and sample standard deviation (divisor `n - 1`) of `phi` over `rows` (all when `None`).
fn mean_sd(phi: &[f64], rows: Option<&[usize]>) -> (f64, f64, usize) {
    let (mut s, mut k) = (0.0, 0usize);
    let each = |f: &mut dyn FnMut(f64)| match rows {
        Some(r) => r.iter().for_each(|&i| f(phi[i])),
        None => phi.iter().for_each(|&v| f(v)),
    };
    each(&mut |v| {
        s += v;
        k += 1;
    });
    let m = s / k as f64;
    let mut ss = 0.0;
    each(&mut |v| ss += (v - m) * (v - m));
    (m, (ss / (k as f64 - 1.0)).sqrt(), k)
}

/// Holm's step-down adjustment: sort ascending, `p_(i) * (m - i)` (0-based), running maximum,
/// capped at 1, back in the input order.
pub fn holm(p: &[f64]) -> Vec<f64> {
    let m = p.len();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| p[a].total_cmp(&p[b]).then(a.cmp(&b)));
    let mut out = vec![0.0; m];
    let mut run = 0.0f64;
    for (rank, &i) in order.iter().enumerate() {
        run = run.max((p[i] * (m - rank) as f64).min(1.0));
        out[i] = run;
    }
    out
}

/// The audit (see the module docs).
///
/// # Errors
/// A level outside (0, 1); fewer than two rows; lengths that disagree; non-finite
/// pseudo-outcomes or features; a group with fewer than two rows (naming it); a group index
/// out of range; a projection design that is singular (naming the feature).
pub fn audit(input: &AuditInput<'_>, level: f64) -> Result<Audit> {
    check_level("audit", level)?;
    let phi = input.phi;
    let n = phi.len();
    if n < 2 {
        return Err(Error::empty(format!("audit: {n} row(s); at least 2 are needed")));
    }
    if input.is_gold.len() != n {
        return Err(Error::shape("audit: gold indicator vs pseudo-outcomes", n, input.is_gold.len()));
    }
    if input.blp_x.nrows() != n {
        return Err(Error::shape("audit: projection features vs pseudo-outcomes", n, input.blp_x.nrows()));
    }
    if input.blp_names.len() != input.blp_x.ncols() {
        return Err(Error::shape("audit: projection feature names", input.blp_x.ncols(), input.blp_names.len()));
    }
    crate::check::finite_slice("pseudo-outcomes", phi)?;
    crate::check::finite_matrix("projection features", input.blp_x)?;
    let alpha = 1.0 - level;
    let z = dist::normal_quantile(0.5 + 0.5 * level);
    let interval = |value: f64, se: f64| Estimate { value, se, ci: [value - z * se, value + z * se] };
    let n_gold = input.is_gold.iter().filter(|&&g| g == 1.0).count();
    let (m, sd, _) = mean_sd(phi, None);
    let mean = interval(m, sd / (n as f64).sqrt());
    let mut warnings = Vec::new();

    // Best linear projection on [1, a - mean(a)].
    let q = input.blp_x.ncols();
    let (blp, heterogeneity) = if q == 0 {
        (Vec::new(), None)
    } else {
        let centre: Vec<f64> = (0..q).map(|j| input.blp_x.col(j).iter().sum::<f64>() / n as f64).collect();
        let design = Mat::from_fn(n, q + 1, |i, j| if j == 0 { 1.0 } else { input.blp_x[(i, j - 1)] - centre[j - 1] });
        let names: Vec<String> =
            std::iter::once("intercept".to_string()).chain(input.blp_names.iter().cloned()).collect();
        let fit = ols_hc3(design.as_ref(), phi, &names)?;
        let df = (n - q - 1) as f64;
        let blp: Vec<Coefficient> = names
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let (b, se) = (fit.coef[j], fit.se(j));
                let t = b / se;
                Coefficient { name: name.clone(), estimate: interval(b, se), t, p: dist::student_t_two_sided(t, df) }
            })
            .collect();
        let slopes: Vec<usize> = (1..=q).collect();
        let wald = fit.wald(&slopes)?;
        if wald.p_value.is_nan() {
            warnings.push(format!(
                "heterogeneity test not computed: the pseudo-outcomes' scores behave like {:.1} independent rows \
                 (most of their variance sits on the {n_gold} gold rows), too few for a test of {q} slopes; \
                 restrict the projection with --blp-features",
                wald.effective_n
            ));
        }
        (blp, Some(Heterogeneity { wald, reject: wald.p_value < alpha }))
    };

    // Groups.
    let groups = match input.groups {
        None => None,
        Some((of, names)) => {
            if of.len() != n {
                return Err(Error::shape("audit: group per row vs pseudo-outcomes", n, of.len()));
            }
            let mut rows: Vec<Vec<usize>> = vec![Vec::new(); names.len()];
            for (i, &g) in of.iter().enumerate() {
                let slot = rows.get_mut(g).ok_or_else(|| {
                    Error::data(format!("audit: row {i} has group index {g}, but there are {} groups", names.len()))
                })?;
                slot.push(i);
            }
            if let Some(g) = (0..names.len()).find(|&g| rows[g].len() < 2) {
                return Err(Error::data(format!(
                    "audit: group `{}` has {} row(s); every group needs at least 2 for a standard error \
                     (merge it with another, or use fewer clusters)",
                    names[g],
                    rows[g].len()
                )));
            }
            if names.len() < 2 {
                warnings.push("a single group: its bias is the mean bias".into());
            }
            let mut out = Vec::with_capacity(names.len());
            let mut ps = Vec::with_capacity(names.len());
            let mut in_group = vec![false; n];
            for (g, r) in rows.iter().enumerate() {
                let (mg, sg, ng) = mean_sd(phi, Some(r));
                let se_g = sg / (ng as f64).sqrt();
                let p = if ng + 1 < n {
                    r.iter().for_each(|&i| in_group[i] = true);
                    let rest: Vec<usize> = (0..n).filter(|&i| !in_group[i]).collect();
                    r.iter().for_each(|&i| in_group[i] = false);
                    let (mr, sr, nr) = mean_sd(phi, Some(&rest));
                    let se = (se_g * se_g + sr * sr / nr as f64).sqrt();
                    2.0 * dist::normal_sf(((mg - mr) / se).abs())
                } else {
                    1.0
                };
                ps.push(p);
                out.push(GroupBias {
                    name: names[g].clone(),
                    n: ng,
                    n_gold: r.iter().filter(|&&i| input.is_gold[i] == 1.0).count(),
                    estimate: interval(mg, se_g),
                    p,
                    p_adj: 0.0,
                    flagged: false,
                });
            }
            for (gb, pa) in out.iter_mut().zip(holm(&ps)) {
                gb.p_adj = pa;
                gb.flagged = pa < alpha;
            }
            Some(out)
        }
    };
    Ok(Audit { n, n_gold, level, mean, blp, heterogeneity, groups, warnings })
}

/// A finite number as JSON, `null` otherwise.
fn num(v: f64) -> Value {
    if v.is_finite() { json!(v) } else { Value::Null }
}

fn pair(v: [f64; 2]) -> Value {
    json!([num(v[0]), num(v[1])])
}

impl Audit {
    /// The JSON object: `n`, `n_gold`, `level`, `mean_bias`, `mean_bias_se`, `mean_bias_ci`;
    /// `blp` (`[{name, coef, se, ci, t, p}]`, intercept first); `heterogeneity`
    /// (`{statistic, df, p_value, reject, test, f, df2, effective_n, p_chi_square}`, or `null`);
    /// `groups` (`[{name, n, n_gold, mean, se, ci, p, p_adj, flagged}]`, or `null`);
    /// `warnings`. Non-finite values are `null`.
    pub fn to_json(&self) -> Map<String, Value> {
        let mut o = Map::new();
        o.insert("n".into(), json!(self.n));
        o.insert("n_gold".into(), json!(self.n_gold));
        o.insert("level".into(), num(self.level));
        o.insert("mean_bias".into(), num(self.mean.value));
        o.insert("mean_bias_se".into(), num(self.mean.se));
        o.insert("mean_bias_ci".into(), pair(self.mean.ci));
        let blp: Vec<Value> = self
            .blp
            .iter()
            .map(|c| {
                json!({
                    "name": c.name,
                    "coef": num(c.estimate.value),
                    "se": num(c.estimate.se),
                    "ci": pair(c.estimate.ci),
                    "t": num(c.t),
                    "p": num(c.p),
                })
            })
            .collect();
        o.insert("blp".into(), Value::Array(blp));
        let het = match &self.heterogeneity {
            None => Value::Null,
            Some(h) => json!({
                "statistic": num(h.wald.statistic),
                "df": h.wald.df,
                "p_value": num(h.wald.p_value),
                "reject": h.reject,
                "test": "robust Wald (HC3), F with the scores' effective sample size",
                "f": num(h.wald.f),
                "df2": num(h.wald.f_df2),
                "effective_n": num(h.wald.effective_n),
                "p_chi_square": num(h.wald.p_chi_square),
            }),
        };
        o.insert("heterogeneity".into(), het);
        let groups = match &self.groups {
            None => Value::Null,
            Some(gs) => Value::Array(
                gs.iter()
                    .map(|g| {
                        json!({
                            "name": g.name,
                            "n": g.n,
                            "n_gold": g.n_gold,
                            "mean": num(g.estimate.value),
                            "se": num(g.estimate.se),
                            "ci": pair(g.estimate.ci),
                            "p": num(g.p),
                            "p_adj": num(g.p_adj),
                            "flagged": g.flagged,
                        })
                    })
                    .collect(),
            ),
        };
        o.insert("groups".into(), groups);
        o.insert("warnings".into(), json!(self.warnings));
        o
    }

    /// The text table printed on stdout.
    pub fn table(&self) -> String {
        let pct = 100.0 * self.level;
        let alpha = 1.0 - self.level;
        let iv = |e: &Estimate| format!("{:>10.5}  [{:>9.5}, {:>9.5}]  {:>8.5}", e.value, e.ci[0], e.ci[1], e.se);
        let mut s = format!("rows {} ({} gold); {pct:.0}% intervals, tests at level {alpha:.2}\n", self.n, self.n_gold);
        let _ = writeln!(s, "{:<24}{:>10}  {:<22}  {:>8}", "", "estimate", "interval", "se");
        let _ = writeln!(s, "{:<24}{}", "mean bias (all rows)", iv(&self.mean));
        if !self.blp.is_empty() {
            let _ = writeln!(s, "best linear projection (HC3 standard errors; features centred)");
            let _ = writeln!(s, "  {:<22}{:>10}  {:<22}  {:>8}  {:>7}  {:>8}", "", "coef", "interval", "se", "t", "p");
            for c in &self.blp {
                let _ = writeln!(s, "  {:<22}{}  {:>7.2}  {:>8.4}", c.name, iv(&c.estimate), c.t, c.p);
            }
        }
        if let Some(h) = &self.heterogeneity {
            let w = &h.wald;
            let verdict = if w.p_value.is_nan() {
                "not computed".to_string()
            } else if h.reject {
                "rejected: the bias varies with the features (a constant shift is not enough)".to_string()
            } else {
                "not rejected: no evidence against a constant shift".to_string()
            };
            let _ = writeln!(
                s,
                "heterogeneity (all {} slopes zero): W = {:.3}, F = {:.3} on ({}, {:.1}) df, p = {:.4} \
                 (chi-square p = {:.4}); {verdict}",
                w.df, w.statistic, w.f, w.df, w.f_df2, w.p_value, w.p_chi_square
            );
        }
        if let Some(gs) = &self.groups {
            let _ = writeln!(s, "bias per group (flag: differs from the mean bias, Holm-adjusted p < {alpha:.2})");
            let _ = writeln!(
                s,
                "  {:<22}{:>6} {:>5} {:>10}  {:<22}  {:>8}  {:>8}",
                "group", "n", "gold", "mean", "interval", "se", "p_adj"
            );
            for g in gs {
                let _ = writeln!(
                    s,
                    "  {:<22}{:>6} {:>5} {}  {:>8.4}{}",
                    g.name,
                    g.n,
                    g.n_gold,
                    iv(&g.estimate),
                    g.p_adj,
                    if g.flagged { "  *" } else { "" }
                );
            }
        }
        for w in &self.warnings {
            let _ = writeln!(s, "warning: {w}");
        }
        s
    }

    /// The figure of the bias per group: each group's mean with its interval, the mean bias as a
    /// dashed line and zero as a dotted one; flagged groups in red. `None` without groups.
    pub fn groups_svg(&self, title: &str) -> Option<String> {
        let gs = self.groups.as_ref()?;
        const H: f64 = 520.0;
        const LEFT: f64 = 90.0;
        const RIGHT: f64 = 40.0;
        const TOP: f64 = 50.0;
        const BOTTOM: f64 = 110.0;
        let slot = 46.0;
        let w = LEFT + RIGHT + slot * gs.len().max(1) as f64;
        let (pw, ph) = (w - LEFT - RIGHT, H - TOP - BOTTOM);
        let (lo, hi) = crate::eval::svg::padded_range(
            std::iter::once(self.mean.value).chain(gs.iter().flat_map(|g| g.estimate.ci)),
        );
        let py = |y: f64| TOP + (hi - y) / (hi - lo) * ph;
        let px = |k: usize| LEFT + slot * (k as f64 + 0.5);
        let mut s = String::new();
        let _ = writeln!(
            s,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{H}" viewBox="0 0 {w} {H}" font-family="Helvetica, Arial, sans-serif">"#
        );
        let _ = writeln!(s, r#"<rect x="0" y="0" width="{w}" height="{H}" fill="white"/>"#);
        let _ =
            writeln!(s, r##"<rect x="{LEFT}" y="{TOP}" width="{pw}" height="{ph}" fill="#FAFAFA" stroke="#444"/>"##);
        let _ = writeln!(
            s,
            r#"<text x="{}" y="30" font-size="13" text-anchor="middle">{}</text>"#,
            w / 2.0,
            crate::eval::svg::escape(title)
        );
        let step = crate::eval::svg::nice_step(hi - lo, 6.0);
        let _ = writeln!(s, r#"<g id="y-axis" font-size="14" text-anchor="end">"#);
        let mut t = (lo / step).ceil() * step;
        while t <= hi + 1e-12 {
            let y = py(t);
            let _ = writeln!(
                s,
                r##"<line x1="{LEFT}" y1="{y:.2}" x2="{:.2}" y2="{y:.2}" stroke="#000" stroke-opacity="0.08"/><text x="{:.2}" y="{:.2}">{}</text>"##,
                LEFT + pw,
                LEFT - 9.0,
                y + 5.0,
                crate::eval::svg::tick_label(t, step)
            );
            t += step;
        }
        let _ = writeln!(s, "</g>");
        let _ = writeln!(
            s,
            r##"<line class="zero" x1="{LEFT}" y1="{0:.2}" x2="{1:.2}" y2="{0:.2}" stroke="#333" stroke-dasharray="2 4"/>"##,
            py(0.0),
            LEFT + pw
        );
        let _ = writeln!(
            s,
            r##"<line class="mean" x1="{LEFT}" y1="{0:.2}" x2="{1:.2}" y2="{0:.2}" stroke="#3498DB" stroke-dasharray="8 4"/>"##,
            py(self.mean.value),
            LEFT + pw
        );
        for (k, g) in gs.iter().enumerate() {
            let colour = if g.flagged { "#E74C3C" } else { "#2C3E50" };
            let x = px(k);
            let _ = writeln!(
                s,
                r#"<g class="group"><line x1="{x:.2}" y1="{:.2}" x2="{x:.2}" y2="{:.2}" stroke="{colour}" stroke-width="2"/><circle cx="{x:.2}" cy="{:.2}" r="4" fill="{colour}"/><text x="{x:.2}" y="{:.2}" font-size="12" text-anchor="end" transform="rotate(-45 {x:.2} {:.2})">{}</text></g>"#,
                py(g.estimate.ci[0]),
                py(g.estimate.ci[1]),
                py(g.estimate.value),
                TOP + ph + 16.0,
                TOP + ph + 16.0,
                crate::eval::svg::escape(&g.name)
            );
        }
        let _ = writeln!(
            s,
            r#"<text x="22" y="{:.2}" font-size="14" text-anchor="middle" transform="rotate(-90 22 {:.2})">Bias gold - judge ({:.0}% interval)</text>"#,
            TOP + ph / 2.0,
            TOP + ph / 2.0,
            100.0 * self.level
        );
        let _ = writeln!(s, "</svg>");
        Some(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn holm_by_hand() {
        // sorted 0.01, 0.02, 0.04, 0.5 times 4, 3, 2, 1: 0.04, 0.06, 0.08, 0.5
        let p = [0.04, 0.5, 0.01, 0.02];
        assert_eq!(holm(&p), vec![0.08, 0.5, 0.04, 0.06]);
        // monotone: a larger raw p never gets a smaller adjusted one; capped at 1
        assert_eq!(holm(&[0.3, 0.31]), vec![0.6, 0.6]);
        assert_eq!(holm(&[0.9, 0.8]), vec![1.0, 1.0]);
    }

    #[test]
    fn closed_forms_on_a_small_set() {
        let phi = [1.0, 2.0, 3.0, 4.0, 10.0, 12.0];
        let gold = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0];
        let x = Mat::from_fn(6, 1, |i, _| i as f64);
        let names = vec!["a".to_string()];
        let of = [0, 0, 0, 1, 1, 1];
        let gnames = vec!["low".to_string(), "high".to_string()];
        let inp = AuditInput {
            phi: &phi,
            is_gold: &gold,
            blp_x: x.as_ref(),
            blp_names: &names,
            groups: Some((&of, &gnames)),
        };
        let a = audit(&inp, 0.9).unwrap();
        let m = 32.0 / 6.0;
        assert!((a.mean.value - m).abs() < 1e-12);
        let ss: f64 = phi.iter().map(|v| (v - m) * (v - m)).sum();
        let se = (ss / 5.0 / 6.0).sqrt();
        assert!((a.mean.se - se).abs() < 1e-12);
        let z = 1.644_853_626_951_472_2;
        assert!((a.mean.ci[1] - m - z * se).abs() < 1e-10);
        // the centred intercept is the mean exactly
        assert!((a.blp[0].estimate.value - m).abs() < 1e-12);
        let g = a.groups.as_ref().unwrap();
        assert_eq!((g[0].n, g[0].n_gold, g[1].n, g[1].n_gold), (3, 1, 3, 1));
        assert!((g[0].estimate.value - 2.0).abs() < 1e-12 && (g[1].estimate.value - 26.0 / 3.0).abs() < 1e-12);
        // with two groups the test of each against the rest is the same z: equal p, Holm doubles
        assert!((g[0].p - g[1].p).abs() < 1e-15);
        assert!((g[0].p_adj - (2.0 * g[0].p).min(1.0)).abs() < 1e-15);
        let j = a.to_json();
        for key in ["mean_bias", "mean_bias_ci", "blp", "groups", "heterogeneity"] {
            assert!(j.contains_key(key), "{key}");
        }
        assert!(a.table().contains("mean bias"));
        let svg = a.groups_svg("t").unwrap();
        assert_eq!(svg.matches(r#"class="group""#).count(), 2);
    }

    #[test]
    fn bad_input_names_the_fault() {
        let phi = [1.0, 2.0, 3.0];
        let gold = [1.0, 0.0, 0.0];
        let x = Mat::<f64>::zeros(3, 0);
        let inp = AuditInput { phi: &phi, is_gold: &gold, blp_x: x.as_ref(), blp_names: &[], groups: None };
        assert!(audit(&inp, 1.0).unwrap_err().to_string().contains("level"));
        let of = [0, 0, 1];
        let names = vec!["a".to_string(), "lonely".to_string()];
        let e = audit(&AuditInput { groups: Some((&of, &names)), ..inp }, 0.9).unwrap_err().to_string();
        assert!(e.contains("`lonely`") && e.contains("1 row"), "{e}");
        let nan = [1.0, f64::NAN, 3.0];
        assert!(audit(&AuditInput { phi: &nan, ..inp }, 0.9).unwrap_err().to_string().contains("pseudo-outcomes"));
        assert!(
            audit(&AuditInput { phi: &phi[..1], is_gold: &gold[..1], blp_x: x.as_ref().subrows(0, 1), ..inp }, 0.9)
                .is_err()
        );
    }
}
