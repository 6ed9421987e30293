//! Several preference sources: the label source as a multi-valued treatment, and each source's
//! bias against gold estimated by the binary R-/DR-learner on its pair of arms.
//!
//! # The model
//! A row carries one label from one source `T in {0, 1, ..., S}`: `T = 0` is gold (label `r`),
//! `T = s >= 1` is preference source `s` (label `y_s`, e.g. one LLM judge). Source `s` has its
//! own scale constant `c_s > 0` ([`crate::causal::align`], gold against source `s`'s labels), and
//! on source `s`'s scale its bias is
//! ```text
//! Delta_s(x) = E[c_s r - y_s | x] = E[O(0) - O(s) | x],   O(0) = c_s r,  O(s) = y_s,
//! ```
//! the conditional effect of the contrast "gold against source `s`" of a multi-valued treatment
//! (Imbens 2000). Under unconfoundedness (`T` independent of the potential labels given `x`,
//! true when the source of a row is chosen by `x` or at random) and overlap of the arms 0 and
//! `s`, restricting to the rows with `T in {0, s}` keeps unconfoundedness, and the pairwise
//! propensity is
//! ```text
//! e_s(x) = P(T = 0 | x, T in {0, s}) = p_0(x) / (p_0(x) + p_s(x)),
//! ```
//! `p_t(x) = P(T = t | x)` the generalised (multinomial) propensity. The binary learners on the
//! pair's rows with `t = 1{T = 0}` then estimate `Delta_s`: the DR-learner's pseudo-outcome
//! `mu_0 - mu_s + t (o - mu_0) / e_s - (1 - t)(o - mu_s) / (1 - e_s)` is the multi-valued AIPW
//! score of the contrast `(0, s)` (Kennedy 2023) conditioned on the pair, and the R-learner's
//! loss is Nie & Wager's on the pair. So each source gets exactly the cross-fitted estimator of
//! [`crate::causal::meta`] with its own rows `{gold} u {source s}` (in row order), outcome
//! `o = c_s r` (gold) or `y_s` (source `s`), and its own propensity `e_s`: the known share
//! `sum_w 1{T = 0} / sum_w 1{T in {0, s}}` over the pair by default
//! ([`crate::causal::Propensity::Known`]), or the configured classifier fitted on the pair's rows
//! (`P(gold | x, pair)`: one binary classifier per pair, the pairwise form of a multinomial
//! classifier). Overlap is reported per source. The gold rows enter every pair, so the
//! `Delta_hat_s` are correlated across sources; each is consistent on its own.
//!
//! # Seeds and the one-source case
//! Source 1's estimator draws from `seed` itself, every other source from
//! `seed.indexed(SOURCE, s)` ([`pair_seed`]). With one source the pair is every row: the
//! estimator then sees the caller's feature matrix and weights themselves (no copy) and the
//! seed unchanged, i.e. exactly the two-source call of today, bit for bit.
//!
//! Nothing here knows about routers: the caller supplies the labels, the scales and the
//! estimator ([`estimate_pairs`] takes it as a function of the pooled rows, so the cross-fitted
//! learners and the paper's reference protocol both fit).

use faer::{Mat, MatRef};

use crate::causal::delta::{DeltaFit, PooledRows};
use crate::error::{Error, Result};
use crate::linalg::select::{gather_opt, select_rows};
use crate::rng::{Seed, stream};

/// Rows labelled by gold and several preference sources, with the per-source scales.
#[derive(Clone, Copy, Debug)]
pub struct SourceRows<'a> {
    /// Features, `n x d` (a query labelled by several sources appears once per label).
    pub x: MatRef<'a, f64>,
    /// The row's source: 0 gold, `s = 1..=S` preference source `s`.
    pub source: &'a [usize],
    /// The row's label, on its own source's scale (gold labels on the gold scale).
    pub label: &'a [f64],
    /// `c_s` for `s = 1..=S` (`scales[s - 1]`): gold labels on source `s`'s scale.
    pub scales: &'a [f64],
    /// Optional row weights.
    pub w: Option<&'a [f64]>,
}

/// One source's `Delta_hat_s` (on source `s`'s scale) and the rows it was fitted on.
#[derive(Clone, Debug)]
pub struct PairDelta {
    /// The preference source `s` (1-based).
    pub source: usize,
    /// The pair's rows `{gold} u {source s}`, indices into [`SourceRows`], in row order.
    pub rows: Vec<usize>,
    /// The fitted `Delta_hat_s` and its diagnostics (overlap of `e_s`, final stage).
    pub fit: DeltaFit,
    /// `Delta_hat_s` on the pair's rows ([`DeltaFit::predict_train`], unclipped), aligned with
    /// `rows`.
    pub train: Vec<f64>,
}

/// The seed of source `s`'s estimator: `seed` for source 1, `seed.indexed(SOURCE, s)` otherwise.
pub fn pair_seed(seed: Seed, s: usize) -> Seed {
    if s == 1 { seed } else { seed.indexed(stream::SOURCE, s as u64) }
}

/// The rows of the pair `{gold} u {source s}`, in row order.
pub fn pair_rows(source: &[usize], s: usize) -> Vec<usize> {
    (0..source.len()).filter(|&i| source[i] == 0 || source[i] == s).collect()
}

/// Estimates `Delta_hat_s` for one source `s` (module docs): builds the pair's pooled rows
/// `(x, t = 1{gold}, o = c_s r or y_s, w)` and calls `estimate(rows, pair_seed(seed, s))`.
///
/// # Errors
/// `s` outside `1..=S`, mismatched lengths, a pair without gold or source rows; the
/// estimator's errors.
pub fn estimate_pair(
    rows: &SourceRows<'_>,
    s: usize,
    seed: Seed,
    estimate: &(dyn Fn(&PooledRows<'_>, Seed) -> Result<DeltaFit> + Sync),
) -> Result<PairDelta> {
    let n = rows.x.nrows();
    if rows.source.len() != n || rows.label.len() != n {
        return Err(Error::shape("sources and labels vs feature rows", n, rows.source.len().min(rows.label.len())));
    }
    if s == 0 || s > rows.scales.len() {
        return Err(Error::param(
            "sources",
            "source",
            format!("preference source {s} is outside 1..={}", rows.scales.len()),
        ));
    }
    let idx = pair_rows(rows.source, s);
    let n_gold = idx.iter().filter(|&&i| rows.source[i] == 0).count();
    if n_gold == 0 {
        return Err(Error::data("no gold rows: each preference source's bias is estimated against gold rows"));
    }
    if n_gold == idx.len() {
        return Err(Error::data(format!("preference source {s} has no rows")));
    }
    let c = rows.scales[s - 1];
    let t: Vec<f64> = idx.iter().map(|&i| if rows.source[i] == 0 { 1.0 } else { 0.0 }).collect();
    let o: Vec<f64> =
        idx.iter().map(|&i| if rows.source[i] == 0 { c * rows.label[i] } else { rows.label[i] }).collect();
    let seed = pair_seed(seed, s);
    // every row in the pair (one source): the caller's matrix and weights themselves
    let (fit, train) = if idx.len() == n {
        let pooled = PooledRows { x: rows.x, t: &t, o: &o, w: rows.w };
        let fit = estimate(&pooled, seed)?;
        let train = fit.predict_train(rows.x)?;
        (fit, train)
    } else {
        let xs: Mat<f64> = select_rows(rows.x, &idx);
        let ws = gather_opt(rows.w, &idx);
        let pooled = PooledRows { x: xs.as_ref(), t: &t, o: &o, w: ws.as_deref() };
        let fit = estimate(&pooled, seed)?;
        let train = fit.predict_train(xs.as_ref())?;
        (fit, train)
    };
    Ok(PairDelta { source: s, rows: idx, fit, train })
}

/// [`estimate_pair`] for every source `s = 1..=S`, in parallel over sources, returned in source
/// order (each source's work depends only on its own rows and seed, so the result is the same
/// for any thread count). With `S > 1` an error names the source it came from.
///
/// # Errors
/// As [`estimate_pair`], for the lowest failing source.
pub fn estimate_pairs(
    rows: &SourceRows<'_>,
    seed: Seed,
    estimate: &(dyn Fn(&PooledRows<'_>, Seed) -> Result<DeltaFit> + Sync),
) -> Result<Vec<PairDelta>> {
    let n_sources = rows.scales.len();
    crate::par::try_map_indexed(n_sources, |k| {
        let s = k + 1;
        estimate_pair(rows, s, seed, estimate).map_err(|e| if n_sources > 1 { in_source(e, s) } else { e })
    })
}

/// `e` with the preference source it came from named (data and emptiness errors; the others
/// already name their parameter or value).
pub fn in_source(e: Error, s: usize) -> Error {
    match e {
        Error::InvalidData { what } if !what.contains("preference source") => {
            Error::data(format!("preference source {s}: {what}"))
        }
        Error::Empty { what } => Error::empty(format!("preference source {s}: {what}")),
        e => e,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::causal::delta::{DeltaConfig, Method};
    use crate::causal::meta;
    use crate::learn::RegressorSpec;
    use rand::RngExt;
    use rand_distr::StandardNormal;

    #[test]
    fn one_source_is_the_binary_estimator_bit_for_bit_and_pairs_hold_their_rows() {
        let n = 300;
        let mut rng = Seed(3).rng();
        let x = Mat::from_fn(n, 3, |_, _| rng.sample::<f64, _>(StandardNormal));
        let source: Vec<usize> = (0..n).map(|i| if i % 5 == 0 { 0 } else { 1 }).collect();
        let label: Vec<f64> = (0..n).map(|i| x[(i, 0)] + 0.3 * rng.sample::<f64, _>(StandardNormal)).collect();
        let ridge = RegressorSpec::from_name("ridge").unwrap();
        let cfg = DeltaConfig { nuisance: ridge.clone(), ..Default::default() };
        let est = |r: &PooledRows<'_>, s: Seed| meta::estimate_delta(Method::Dr, r, &ridge, &cfg, s);
        let rows = SourceRows { x: x.as_ref(), source: &source, label: &label, scales: &[1.5], w: None };
        let got = estimate_pairs(&rows, Seed(9), &est).unwrap();
        let t: Vec<f64> = source.iter().map(|&s| if s == 0 { 1.0 } else { 0.0 }).collect();
        let o: Vec<f64> = (0..n).map(|i| if t[i] == 1.0 { 1.5 * label[i] } else { label[i] }).collect();
        let want = est(&PooledRows { x: x.as_ref(), t: &t, o: &o, w: None }, Seed(9)).unwrap();
        let want = want.predict_train(x.as_ref()).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].rows, (0..n).collect::<Vec<_>>());
        assert!(got[0].train.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()));
        // a second source: each pair holds gold and its own rows only, and source 2 draws
        // from its own stream
        let source2: Vec<usize> = (0..n).map(|i| if i % 5 == 0 { 0 } else { 1 + i % 2 }).collect();
        let rows2 = SourceRows { source: &source2, scales: &[1.5, 2.0], ..rows };
        let got = estimate_pairs(&rows2, Seed(9), &est).unwrap();
        assert!(got[1].rows.iter().all(|&i| source2[i] != 1));
        assert_eq!(got[0].rows.len() + got[1].rows.len(), n + n / 5);
        assert_ne!(pair_seed(Seed(9), 2), Seed(9));
        assert_eq!(pair_seed(Seed(9), 1), Seed(9));
        let e = estimate_pair(&rows2, 3, Seed(9), &est).unwrap_err().to_string();
        assert!(e.contains("preference source 3"), "{e}");
    }
}
