//! Principal component analysis: centred, by a full thin SVD or by a randomized SVD.
//!
//! With the column means `m` and the centred data `Xc = X - 1 m' = U S V'` (thin SVD), the
//! principal axes are the rows of `V'`, the scores `Xc V`, and
//!
//! ```text
//! explained_variance_k       = s_k^2 / (n - 1)
//! explained_variance_ratio_k = s_k^2 / ||Xc||_F^2 .
//! ```
//!
//! **Randomized solver** (Halko, Martinsson & Tropp 2011, algorithms 4.3/4.4 and 5.1): with
//! `l = k + n_oversamples` Gaussian test vectors `Omega` (`d x l`, drawn from
//! `seed.child(stream::SKETCH)`) and `q = n_power_iter`, a randomized subspace iteration finds
//! an orthonormal `Q` whose span captures the top right singular vectors, re-orthonormalised by
//! QR after every product for stability, and a small exact decomposition finishes. For tall data
//! the iteration runs on the Gram matrix, `Q = orth((Xc'Xc)^(q+1) Omega)` followed by the
//! Rayleigh-Ritz eigen-decomposition of `Q'Xc'XcQ`; for wide data on `Xc` itself,
//! `Q = orth(Xc Omega)`, `q` rounds of `Q = orth(Xc orth(Xc'Q))`, then the SVD of `Q'Xc`. The
//! error decays like `(s_{l+1} / s_k)^{2 q + 1}`, so a few power iterations suffice when the
//! spectrum decays.
//!
//! **Sign convention** (scikit-learn >= 1.5, `svd_flip(U, Vt, u_based_decision=False)`): each
//! component (row of `V'`) is multiplied by the sign of its entry of largest absolute value (the
//! first such entry on ties), so results are reproducible across runs, solvers and machines.
//!
//! `solver = auto` follows scikit-learn: randomized when `max(n, d) > 500` and
//! `k < 0.8 min(n, d)`, full otherwise.
//!
//! The data-sized products (the Gram matrix, the sketches) run in parallel over fixed blocks of
//! output entries (each entry computed by one task with the same kernel), so results are
//! bit-identical for any thread count. The fit reads `x` only for its column means
//! ([`crate::linalg::dot::column_means`]) and the centred copy, so a row-major view (a C-order
//! array) gives the same bits as the same values in column-major order; so does `transform`.

use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par};
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::learn::{Params, check};
use crate::linalg::dot::column_means;
use crate::linalg::gram::shifted_copy;
use crate::params;
use crate::rng::{Seed, stream};

/// Which SVD computes the components.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum PcaSolver {
    /// Randomized when `max(n, d) > 500` and `n_components < 0.8 min(n, d)`, full otherwise
    /// (scikit-learn's rule).
    #[default]
    Auto,
    /// Exact thin SVD of the centred data.
    Full,
    /// Randomized range finder with power iterations, then an exact SVD of the small sketch.
    Randomized,
}

/// The largest `n_power_iter` accepted: the sketch's error falls like `(s_{l+1} / s_k)^(2 q + 1)`,
/// so more iterations than this are certainly a mistake (and would only spend time).
pub const MAX_POWER_ITER: usize = 1000;

/// Parameters of [`PcaParams::fit`] (scikit-learn's names where one exists).
///
/// * `n_components` (default `0` = all, `min(n, d)`): components kept.
/// * `solver` (default `auto`; `full`, `randomized`): scikit-learn's `svd_solver`.
/// * `n_oversamples` (default `10`): extra test vectors of the randomized solver.
/// * `n_power_iter` (default `4`, at most [`MAX_POWER_ITER`]): power iterations of the
///   randomized solver (scikit-learn's `iterated_power`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PcaParams {
    /// Components kept (0 = all).
    pub n_components: usize,
    /// The SVD solver.
    pub solver: PcaSolver,
    /// Oversampling of the randomized solver.
    pub n_oversamples: usize,
    /// Power iterations of the randomized solver.
    pub n_power_iter: usize,
}

impl Default for PcaParams {
    fn default() -> Self {
        PcaParams { n_components: 0, solver: PcaSolver::Auto, n_oversamples: 10, n_power_iter: 4 }
    }
}

/// A fitted PCA. Matrices are stored flat (row-major `n_components x n_features` for the
/// components) so that the model is serde-derivable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PcaFile")]
pub struct PcaModel {
    n_features: usize,
    n_components: usize,
    /// Column means of the training data.
    pub mean: Vec<f64>,
    /// Principal axes, row-major `n_components x n_features` (scikit-learn's `components_`).
    pub components: Vec<f64>,
    /// Singular values of the centred data, non-increasing.
    pub singular_values: Vec<f64>,
    explained_variance: Vec<f64>,
    explained_variance_ratio: Vec<f64>,
    /// `mean . component_k` for each component (makes `transform_into` allocation-free).
    mean_projection: Vec<f64>,
    /// The solver actually used (never `Auto`).
    pub solver: PcaSolver,
}

/// The serialized fields of a [`PcaModel`], checked on load: every array has the length its
/// shape implies and holds finite values, so a crafted model file cannot make `transform`
/// index out of range or produce NaN scores.
#[derive(Deserialize)]
struct PcaFile {
    n_features: usize,
    n_components: usize,
    mean: Vec<f64>,
    components: Vec<f64>,
    singular_values: Vec<f64>,
    explained_variance: Vec<f64>,
    explained_variance_ratio: Vec<f64>,
    mean_projection: Vec<f64>,
    solver: PcaSolver,
}

impl TryFrom<PcaFile> for PcaModel {
    type Error = String;
    fn try_from(f: PcaFile) -> std::result::Result<Self, String> {
        let (d, k) = (f.n_features, f.n_components);
        let sizes = [
            ("mean", f.mean.len(), d),
            ("components", f.components.len(), d.checked_mul(k).ok_or("PCA shape overflows")?),
            ("singular_values", f.singular_values.len(), k),
            ("explained_variance", f.explained_variance.len(), k),
            ("explained_variance_ratio", f.explained_variance_ratio.len(), k),
            ("mean_projection", f.mean_projection.len(), k),
        ];
        if d == 0 || k == 0 || k > d {
            return Err(format!("PCA with {k} components of {d} features"));
        }
        if let Some((name, got, want)) = sizes.iter().find(|(_, got, want)| got != want) {
            return Err(format!("PCA {name} has {got} values, expected {want}"));
        }
        let arrays = [
            &f.mean,
            &f.components,
            &f.singular_values,
            &f.explained_variance,
            &f.explained_variance_ratio,
            &f.mean_projection,
        ];
        if arrays.iter().any(|a| a.iter().any(|v| !v.is_finite())) {
            return Err("PCA model holds a non-finite value".into());
        }
        Ok(PcaModel {
            n_features: d,
            n_components: k,
            mean: f.mean,
            components: f.components,
            singular_values: f.singular_values,
            explained_variance: f.explained_variance,
            explained_variance_ratio: f.explained_variance_ratio,
            mean_projection: f.mean_projection,
            solver: f.solver,
        })
    }
}

impl Params for PcaParams {
    fn learner_name(&self) -> &'static str {
        "pca"
    }

    fn set_param(&mut self, name: &str, value: &str) -> Result<()> {
        match name {
            "n_components" => self.n_components = params::parse_usize("pca", name, value)?,
            "solver" | "svd_solver" => {
                self.solver = match value.trim().to_ascii_lowercase().as_str() {
                    "auto" => PcaSolver::Auto,
                    "full" => PcaSolver::Full,
                    "randomized" => PcaSolver::Randomized,
                    _ => {
                        return Err(Error::param("pca", name, format!("`{value}`; expected auto, full or randomized")));
                    }
                }
            }
            "n_oversamples" => self.n_oversamples = params::parse_usize("pca", name, value)?,
            "n_power_iter" | "iterated_power" => self.n_power_iter = params::parse_usize("pca", name, value)?,
            _ => {
                return Err(params::unknown("pca", name, &["n_components", "solver", "n_oversamples", "n_power_iter"]));
            }
        }
        Ok(())
    }

    fn validate(&self) -> Result<()> {
        if self.solver == PcaSolver::Randomized {
            params::at_least("pca", "n_components", self.n_components, 1)?;
        }
        if self.n_power_iter > MAX_POWER_ITER {
            let reason = format!(
                "must be at most {MAX_POWER_ITER} (the error stops falling long before), got {}",
                self.n_power_iter
            );
            return Err(Error::param("pca", "n_power_iter", reason));
        }
        Ok(())
    }
}

impl PcaParams {
    /// Fits the components on the rows of `x`.
    ///
    /// # Errors
    /// Invalid parameters; fewer than 2 rows, no columns or non-finite values; `n_components`
    /// above `min(n, d)`; an SVD that does not converge.
    ///
    /// # Determinism
    /// The same data and seed give a bit-identical model for any rayon thread count.
    pub fn fit(&self, x: MatRef<'_, f64>, seed: Seed) -> Result<PcaModel> {
        self.validate()?;
        let (n, d) = (x.nrows(), x.ncols());
        if n < 2 {
            return Err(Error::empty(format!("PCA needs at least 2 rows, got {n}")));
        }
        if d == 0 {
            return Err(Error::empty("PCA data has no feature columns"));
        }
        if !check::all_finite(x) {
            check::finite_matrix("features", x)?;
        }
        let r = n.min(d);
        let k = if self.n_components == 0 { r } else { self.n_components };
        if k > r {
            return Err(Error::param("pca", "n_components", format!("{k} exceeds min(n_rows, n_features) = {r}")));
        }
        let mean = column_means(x, None);
        // `x - mean`, filled row by row from a row-major view (the same values either way)
        let xc = shifted_copy(x, &mean, None);
        let total_ss: f64 = (0..d).map(|j| xc.col_as_slice(j).iter().map(|v| v * v).sum::<f64>()).sum();
        if !total_ss.is_finite() {
            check::feature_scale("pca", x, Some(&mean), None)?;
            return Err(Error::data(
                "pca: the total sum of squares of the centred features overflows f64; rescale them",
            ));
        }
        let solver = match self.solver {
            PcaSolver::Auto if n.max(d) > 500 && k >= 1 && (k as f64) < 0.8 * r as f64 => PcaSolver::Randomized,
            PcaSolver::Auto => PcaSolver::Full,
            s => s,
        };
        let (s, vt) = match solver {
            PcaSolver::Randomized => randomized_svd(xc.as_ref(), k, self.n_oversamples, self.n_power_iter, seed)?,
            _ => full_svd(xc.as_ref(), k)?,
        };
        let mut components = vt;
        flip_signs(&mut components, d);
        let explained_variance: Vec<f64> = s.iter().map(|v| v * v / (n - 1) as f64).collect();
        let explained_variance_ratio: Vec<f64> =
            s.iter().map(|v| if total_ss > 0.0 { v * v / total_ss } else { 0.0 }).collect();
        let mean_projection =
            (0..k).map(|c| components[c * d..(c + 1) * d].iter().zip(&mean).map(|(a, b)| a * b).sum()).collect();
        Ok(PcaModel {
            n_features: d,
            n_components: k,
            mean,
            components,
            singular_values: s,
            explained_variance,
            explained_variance_ratio,
            mean_projection,
            solver,
        })
    }
}

/// The top `k` singular values and right singular vectors (row-major `k x d`) by a thin SVD.
fn full_svd(xc: MatRef<'_, f64>, k: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    let d = xc.ncols();
    let (s, v) = right_svd(xc).map_err(|_| Error::Singular { what: "PCA thin SVD (no convergence)".into() })?;
    Ok(top_k(&s, v.as_ref(), k, d))
}

/// Singular values and right singular vectors (`d x min(n, d)`) of `a`, without computing the
/// left singular vectors (PCA never needs them: that saves `O(n d^2)` work).
fn right_svd(a: MatRef<'_, f64>) -> std::result::Result<(Vec<f64>, Mat<f64>), faer::linalg::svd::SvdError> {
    use faer::dyn_stack::{MemBuffer, MemStack};
    use faer::linalg::svd::{ComputeSvdVectors, svd, svd_scratch};
    let (n, d) = a.shape();
    let r = n.min(d);
    let mut s = faer::diag::Diag::<f64>::zeros(r);
    let mut v = Mat::<f64>::zeros(d, r);
    let scratch =
        svd_scratch::<f64>(n, d, ComputeSvdVectors::No, ComputeSvdVectors::Thin, Par::Seq, Default::default());
    let mut buf = MemBuffer::new(scratch);
    svd(a, s.as_mut(), None, Some(v.as_mut()), Par::Seq, MemStack::new(&mut buf), Default::default())?;
    Ok(((0..r).map(|i| s[i]).collect(), v))
}

/// The first `k` singular values and the first `k` columns of `v` (`d x r`) as rows.
fn top_k(s: &[f64], v: MatRef<'_, f64>, k: usize, d: usize) -> (Vec<f64>, Vec<f64>) {
    let vals = s[..k].to_vec();
    let mut vt = vec![0.0; k * d];
    for (c, row) in vt.chunks_mut(d).enumerate() {
        for (j, o) in row.iter_mut().enumerate() {
            *o = v[(j, c)];
        }
    }
    (vals, vt)
}

/// Output rows per parallel task in the randomized solver's products.
const PRODUCT_BLOCK: usize = 64;

/// `a * b` with the rows of the result computed in parallel fixed blocks.
fn par_mul(a: MatRef<'_, f64>, b: MatRef<'_, f64>) -> Mat<f64> {
    let (n, l) = (a.nrows(), b.ncols());
    let blocks = crate::par::map_indexed(n.div_ceil(PRODUCT_BLOCK), |blk| {
        let r0 = blk * PRODUCT_BLOCK;
        let rows = PRODUCT_BLOCK.min(n - r0);
        let mut out = Mat::<f64>::zeros(rows, l);
        matmul(out.as_mut(), Accum::Replace, a.subrows(r0, rows), b, 1.0, Par::Seq);
        out
    });
    let mut out = Mat::<f64>::zeros(n, l);
    for (blk, part) in blocks.iter().enumerate() {
        out.as_mut().subrows_mut(blk * PRODUCT_BLOCK, part.nrows()).copy_from(part);
    }
    out
}

/// An orthonormal basis of the column space of `y` (thin Q of a Householder QR).
fn orth(y: MatRef<'_, f64>) -> Mat<f64> {
    y.qr().compute_thin_Q()
}

/// Randomized SVD: the top `k` singular values and right singular vectors (row-major `k x d`).
///
/// Tall data (`n >= d`) runs the subspace iteration on the `d x d` Gram matrix `C = Xc'Xc`
/// (computed once, in parallel): `Q = orth(C^(q+1) Omega)`, re-orthonormalised after every
/// product, then the Rayleigh-Ritz step `Q'CQ = W L W'`, `V = Q W`, `s = sqrt(L)`. This is the
/// same subspace as Halko's scheme on `Xc` at a fraction of the cost (one pass over the data
/// instead of `2 q + 2`); squaring the spectrum only costs accuracy for components whose
/// variance is below `1e-16` of the largest, far beyond what PCA keeps. Wide data sketches `Xc`
/// directly.
fn randomized_svd(
    xc: MatRef<'_, f64>,
    k: usize,
    oversamples: usize,
    power_iter: usize,
    seed: Seed,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let (n, d) = (xc.nrows(), xc.ncols());
    let l = k.saturating_add(oversamples).min(n.min(d));
    let mut rng = seed.child(stream::SKETCH).rng();
    let omega = Mat::from_fn(d, l, |_, _| StandardNormal.sample(&mut rng));
    if n >= d {
        let c = centred_gram(xc);
        let mut q = orth((&c * &omega).as_ref());
        for _ in 0..power_iter {
            q = orth((&c * &q).as_ref());
        }
        let t = q.as_ref().transpose() * (&c * &q);
        let evd = t
            .self_adjoint_eigen(faer::Side::Lower)
            .map_err(|_| Error::Singular { what: "randomized PCA Rayleigh-Ritz eigen-decomposition".into() })?;
        // eigenvalues ascend: reverse to a non-increasing order
        let order: Vec<usize> = (0..l).rev().collect();
        let w = Mat::from_fn(l, l, |i, j| evd.U()[(i, order[j])]);
        let s: Vec<f64> = order.iter().map(|&j| evd.S()[j].max(0.0).sqrt()).collect();
        let v = &q * &w;
        return Ok(top_k(&s, v.as_ref(), k, d));
    }
    let xt = xc.transpose();
    let mut q = orth(par_mul(xc, omega.as_ref()).as_ref());
    for _ in 0..power_iter {
        let z = orth(par_mul(xt, q.as_ref()).as_ref());
        q = orth(par_mul(xc, z.as_ref()).as_ref());
    }
    // B = Q' Xc (l x d) = Ub S V'; only S and V are needed.
    let b = par_mul(q.as_ref().transpose(), xc);
    let (s, v) = right_svd(b.as_ref()).map_err(|_| Error::Singular { what: "randomized PCA sketch SVD".into() })?;
    Ok(top_k(&s, v.as_ref(), k, d))
}

/// Columns per parallel task of [`centred_gram`].
const GRAM_COLS: usize = 32;

/// `Xc'Xc` for centred data, both triangles: each task computes the lower-triangular panel
/// `C[j0.., j0..j0+32]` (one output entry per task, so thread-count invariant).
fn centred_gram(xc: MatRef<'_, f64>) -> Mat<f64> {
    let d = xc.ncols();
    let panels = crate::par::map_indexed(d.div_ceil(GRAM_COLS), |b| {
        let j0 = b * GRAM_COLS;
        let w = GRAM_COLS.min(d - j0);
        let mut out = Mat::<f64>::zeros(d - j0, w);
        matmul(out.as_mut(), Accum::Replace, xc.subcols(j0, d - j0).transpose(), xc.subcols(j0, w), 1.0, Par::Seq);
        out
    });
    let mut c = Mat::<f64>::zeros(d, d);
    for (b, panel) in panels.iter().enumerate() {
        let j0 = b * GRAM_COLS;
        for jj in 0..panel.ncols() {
            for ii in jj..panel.nrows() {
                let v = panel[(ii, jj)];
                c[(j0 + ii, j0 + jj)] = v;
                c[(j0 + jj, j0 + ii)] = v;
            }
        }
    }
    c
}

/// scikit-learn's `svd_flip(u_based_decision=False)`: each row's largest-|.| entry positive.
fn flip_signs(vt: &mut [f64], d: usize) {
    for row in vt.chunks_mut(d) {
        let mut best = 0;
        for j in 1..d {
            if row[j].abs() > row[best].abs() {
                best = j;
            }
        }
        if row[best] < 0.0 {
            for v in row.iter_mut() {
                *v = -*v;
            }
        }
    }
}

impl PcaModel {
    /// Feature columns seen at fit time.
    pub fn n_features(&self) -> usize {
        self.n_features
    }

    /// Components kept.
    pub fn n_components(&self) -> usize {
        self.n_components
    }

    /// Variance along each component, `s_k^2 / (n - 1)`.
    pub fn explained_variance(&self) -> &[f64] {
        &self.explained_variance
    }

    /// Share of the total variance along each component.
    pub fn explained_variance_ratio(&self) -> &[f64] {
        &self.explained_variance_ratio
    }

    /// The components as a `n_features x n_components` column-major view (columns = axes).
    pub fn axes(&self) -> MatRef<'_, f64> {
        MatRef::from_column_major_slice(&self.components, self.n_features, self.n_components)
    }

    /// Scores `(x - mean) V` written into `out` (`n x n_components`) without allocating.
    ///
    /// # Errors
    /// [`Error::Shape`] when `x` has the wrong number of columns or `out` the wrong shape.
    pub fn transform_into(&self, x: MatRef<'_, f64>, mut out: MatMut<'_, f64>) -> Result<()> {
        if x.ncols() != self.n_features {
            return Err(Error::shape("feature columns at transform vs fit", self.n_features, x.ncols()));
        }
        if out.nrows() != x.nrows() {
            return Err(Error::shape("output rows vs rows to transform", x.nrows(), out.nrows()));
        }
        if out.ncols() != self.n_components {
            return Err(Error::shape("output columns vs components", self.n_components, out.ncols()));
        }
        matmul(out.as_mut(), Accum::Replace, x, self.axes(), 1.0, Par::Seq);
        for (c, &mp) in self.mean_projection.iter().enumerate() {
            for v in out.as_mut().col_mut(c).iter_mut() {
                *v -= mp;
            }
        }
        Ok(())
    }

    /// Scores as a new matrix.
    ///
    /// # Errors
    /// As [`PcaModel::transform_into`].
    pub fn transform(&self, x: MatRef<'_, f64>) -> Result<Mat<f64>> {
        let mut out = Mat::zeros(x.nrows(), self.n_components);
        self.transform_into(x, out.as_mut())?;
        Ok(out)
    }

    /// Back to feature space: `z V' + mean`.
    ///
    /// # Errors
    /// [`Error::Shape`] when `z` does not have `n_components` columns.
    pub fn inverse_transform(&self, z: MatRef<'_, f64>) -> Result<Mat<f64>> {
        if z.ncols() != self.n_components {
            return Err(Error::shape("score columns vs components", self.n_components, z.ncols()));
        }
        let mut out = Mat::from_fn(z.nrows(), self.n_features, |_, j| self.mean[j]);
        matmul(out.as_mut(), Accum::Add, z, self.axes().transpose(), 1.0, Par::Seq);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngExt;

    /// `n x d` data of rank `rank` plus a tiny noise, with a decaying spectrum.
    pub(crate) fn low_rank(n: usize, d: usize, rank: usize, seed: u64) -> Mat<f64> {
        let mut rng = Seed(seed).rng();
        let a = Mat::from_fn(n, rank, |_, c| (rng.random::<f64>() - 0.5) * 10.0 / (c + 1) as f64);
        let b = Mat::from_fn(rank, d, |_, _| rng.random::<f64>() - 0.5);
        let mut x = a * b;
        for j in 0..d {
            for i in 0..n {
                x[(i, j)] += 1e-9 * (rng.random::<f64>() - 0.5) + j as f64;
            }
        }
        x
    }

    #[test]
    fn all_components_reconstruct_and_are_orthonormal() {
        let x = low_rank(60, 7, 7, 1);
        let m = PcaParams::default().fit(x.as_ref(), Seed(0)).unwrap();
        assert_eq!((m.n_components(), m.solver), (7, PcaSolver::Full));
        let back = m.inverse_transform(m.transform(x.as_ref()).unwrap().as_ref()).unwrap();
        for j in 0..7 {
            for i in 0..60 {
                assert!((back[(i, j)] - x[(i, j)]).abs() < 1e-9);
            }
        }
        let v = m.axes();
        let vtv = v.transpose() * v;
        for a in 0..7 {
            for b in 0..7 {
                assert!((vtv[(a, b)] - f64::from(a == b)).abs() < 1e-12);
            }
        }
        assert!((m.explained_variance_ratio().iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(m.explained_variance().windows(2).all(|w| w[0] >= w[1]));
    }

    #[test]
    fn randomized_matches_full_on_low_rank_data_and_is_deterministic() {
        let x = low_rank(700, 40, 5, 2);
        let full = PcaParams { n_components: 5, solver: PcaSolver::Full, ..Default::default() };
        let rand = PcaParams { n_components: 5, solver: PcaSolver::Randomized, ..Default::default() };
        let mf = full.fit(x.as_ref(), Seed(3)).unwrap();
        let mr = rand.fit(x.as_ref(), Seed(3)).unwrap();
        assert_eq!(mr.solver, PcaSolver::Randomized);
        for (a, b) in mf.components.iter().zip(&mr.components) {
            assert!((a - b).abs() < 1e-8, "{a} vs {b}");
        }
        for (a, b) in mf.explained_variance().iter().zip(mr.explained_variance()) {
            assert!((a - b).abs() < 1e-8 * a);
        }
        for k in [1, 2, 8] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(k).build().unwrap();
            let mk = pool.install(|| rand.fit(x.as_ref(), Seed(3))).unwrap();
            assert!(mk.components.iter().zip(&mr.components).all(|(a, b)| a.to_bits() == b.to_bits()));
        }
        // wide data takes the direct sketch of Xc
        let xw = low_rank(30, 600, 4, 4);
        let p = |solver| PcaParams { n_components: 4, solver, ..Default::default() };
        let (mf, mr) = (
            p(PcaSolver::Full).fit(xw.as_ref(), Seed(1)).unwrap(),
            p(PcaSolver::Randomized).fit(xw.as_ref(), Seed(1)).unwrap(),
        );
        for (a, b) in mf.components.iter().zip(&mr.components) {
            assert!((a - b).abs() < 1e-8, "{a} vs {b}");
        }
        for (a, b) in mf.singular_values.iter().zip(&mr.singular_values) {
            assert!((a - b).abs() < 1e-9 * a);
        }
    }

    #[test]
    fn bad_inputs() {
        let x = low_rank(10, 4, 4, 3);
        let p = PcaParams { n_components: 5, ..Default::default() };
        assert!(matches!(p.fit(x.as_ref(), Seed(0)), Err(Error::InvalidParam { .. })));
        let one = Mat::<f64>::zeros(1, 3);
        assert!(matches!(PcaParams::default().fit(one.as_ref(), Seed(0)), Err(Error::Empty { .. })));
        let mut xn = x.clone();
        xn[(3, 2)] = f64::INFINITY;
        assert!(matches!(PcaParams::default().fit(xn.as_ref(), Seed(0)), Err(Error::NonFinite { row: 3, col: 2, .. })));
        let m = PcaParams { n_components: 2, ..Default::default() }.fit(x.as_ref(), Seed(0)).unwrap();
        let mut out = Mat::<f64>::zeros(10, 3);
        assert!(matches!(m.transform_into(x.as_ref(), out.as_mut()), Err(Error::Shape { .. })));
        assert!(matches!(m.transform(Mat::<f64>::zeros(2, 3).as_ref()), Err(Error::Shape { .. })));
        let mut p = PcaParams::default();
        assert!(matches!(p.set_param("solver", "arpack"), Err(Error::InvalidParam { .. })));
        p.set_param("solver", "randomized").unwrap();
        assert!(matches!(p.fit(x.as_ref(), Seed(0)), Err(Error::InvalidParam { .. })));
    }

    #[test]
    fn a_crafted_model_file_is_refused_on_load() {
        use crate::persist::{self, Kind};
        let x = low_rank(30, 5, 3, 8);
        let m = PcaParams { n_components: 2, ..Default::default() }.fit(x.as_ref(), Seed(1)).unwrap();
        let bytes = persist::to_bytes(Kind::Pca, &m).unwrap();
        assert_eq!(persist::from_bytes::<PcaModel>(&bytes, Kind::Pca).unwrap(), m);
        // the same fields, in the same order, with one thing wrong each time
        #[derive(Serialize)]
        struct Fields(usize, usize, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>, PcaSolver);
        let good = || {
            Fields(
                m.n_features,
                m.n_components,
                m.mean.clone(),
                m.components.clone(),
                m.singular_values.clone(),
                m.explained_variance.clone(),
                m.explained_variance_ratio.clone(),
                m.mean_projection.clone(),
                m.solver,
            )
        };
        let g = good();
        assert_eq!(persist::to_bytes(Kind::Pca, &g).unwrap(), bytes, "Fields mirrors the file layout");
        type Edit = fn(&mut Fields);
        let edits: [(&str, Edit); 6] = [
            ("components one short", |f| {
                f.3.pop();
            }),
            ("more components than features", |f| f.1 = 6),
            ("no components", |f| f.1 = 0),
            ("a NaN in the mean", |f| f.2[1] = f64::NAN),
            ("a mean projection too long", |f| f.7.push(0.0)),
            ("a shape that overflows", |f| f.0 = usize::MAX),
        ];
        for (what, edit) in edits {
            let mut f = good();
            edit(&mut f);
            let crafted = persist::to_bytes(Kind::Pca, &f).unwrap();
            let r = persist::from_bytes::<PcaModel>(&crafted, Kind::Pca);
            assert!(matches!(r, Err(Error::ModelFile { .. })), "{what}: {r:?}");
        }
    }

    /// Full and randomized PCA fit, and transform, the same bits on a row-major view (a C-order
    /// array) as on the column-major matrix, for 1, 2 and 8 threads.
    #[test]
    fn row_major_views_give_the_same_bits() {
        use crate::learn::linear::tests::{bits, c_order};
        let n = 2 * crate::linalg::gram::GRAM_CHUNK + 777;
        let x = low_rank(n, 12, 6, 7);
        for p in [
            PcaParams { n_components: 3, solver: PcaSolver::Full, ..Default::default() },
            PcaParams { n_components: 4, solver: PcaSolver::Randomized, ..Default::default() },
        ] {
            let want = p.fit(x.as_ref(), Seed(2)).unwrap();
            let want_z = want.transform(x.as_ref()).unwrap();
            for pad in [12, 15] {
                let buf = c_order(x.as_ref(), pad);
                let rm = MatRef::from_row_major_slice_with_stride(&buf, n, 12, pad);
                for threads in [1, 2, 8] {
                    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
                    let got = pool.install(|| p.fit(rm, Seed(2))).unwrap();
                    let at = format!("{:?}, pad {pad}, {threads} threads", p.solver);
                    assert_eq!(bits(&got.mean), bits(&want.mean), "{at}");
                    assert_eq!(bits(&got.components), bits(&want.components), "{at}");
                    assert_eq!(bits(&got.singular_values), bits(&want.singular_values), "{at}");
                    assert_eq!(bits(got.explained_variance_ratio()), bits(want.explained_variance_ratio()), "{at}");
                    let z = pool.install(|| want.transform(rm)).unwrap();
                    for c in 0..want.n_components() {
                        assert_eq!(bits(z.col_as_slice(c)), bits(want_z.col_as_slice(c)), "{at}, column {c}");
                    }
                }
            }
        }
    }
}
