//! k-means clustering (Lloyd's algorithm with k-means++ seeding), seeded and deterministic.
//!
//! Minimises the inertia `sum_i ||x_i - c_{z_i}||^2` over centres `c_1..c_K` and assignments
//! `z_i`:
//! * **Seeding** (Arthur & Vassilvitskii 2007): the first centre is a uniformly drawn row; each
//!   further centre a row drawn with probability proportional to its squared distance to the
//!   nearest centre so far.
//! * **Lloyd iterations**: assign every row to its nearest centre (ties to the lowest index),
//!   move every centre to the mean of its rows; stop when no assignment changes or after
//!   `max_iter` iterations. A centre left without rows is moved to the row farthest from its
//!   centre (the lowest such row), so every cluster keeps at least one row.
//! * `n_init` seedings, run one after another from the streams `seed.indexed(0, r)`; the run with
//!   the lowest inertia wins (the first on ties).
//!
//! Everything runs sequentially in row order: the same seed gives the same clusters for any
//! thread count. Cost `O(n_init * max_iter * n * K * d)`.

use faer::MatRef;
use rand::RngExt;

use crate::error::{Error, Result};
use crate::rng::Seed;

/// Parameters of k-means. Defaults: `n_clusters` 8, `max_iter` 300, `n_init` 4 (scikit-learn's
/// `KMeans` names).
#[derive(Clone, Debug, PartialEq)]
pub struct KMeansParams {
    /// The number of clusters `K` (>= 1, at most the number of rows).
    pub n_clusters: usize,
    /// Lloyd iterations per seeding (>= 1).
    pub max_iter: usize,
    /// Seedings (>= 1); the lowest inertia wins.
    pub n_init: usize,
}

impl Default for KMeansParams {
    fn default() -> Self {
        KMeansParams { n_clusters: 8, max_iter: 300, n_init: 4 }
    }
}

/// Fitted clusters.
#[derive(Clone, Debug, PartialEq)]
pub struct KMeansModel {
    /// Centres, `K x d` row-major.
    pub centres: Vec<f64>,
    /// The cluster of every training row.
    pub labels: Vec<usize>,
    /// `sum_i ||x_i - c_{z_i}||^2`.
    pub inertia: f64,
    /// Features.
    pub n_features: usize,
}

/// Squared distance of row `i` of `x` to centre `k`.
fn dist2(x: MatRef<'_, f64>, i: usize, centres: &[f64], k: usize) -> f64 {
    let d = x.ncols();
    (0..d).map(|j| (x[(i, j)] - centres[k * d + j]).powi(2)).sum()
}

/// The nearest centre of row `i` and its squared distance (ties: the lowest index).
fn nearest(x: MatRef<'_, f64>, i: usize, centres: &[f64], k: usize) -> (usize, f64) {
    let mut best = (0, f64::INFINITY);
    for c in 0..k {
        let v = dist2(x, i, centres, c);
        if v < best.1 {
            best = (c, v);
        }
    }
    best
}

impl KMeansParams {
    /// Checks the domains against `n` rows.
    ///
    /// # Errors
    /// [`Error::InvalidParam`] naming `n_clusters` (0 or more than the rows), `max_iter` or
    /// `n_init` (0).
    pub fn validate(&self, n: usize) -> Result<()> {
        if self.n_clusters == 0 {
            return Err(Error::param("kmeans", "n_clusters", "must be at least 1, got 0"));
        }
        if self.n_clusters > n {
            return Err(Error::param(
                "kmeans",
                "n_clusters",
                format!("{} clusters for {n} rows: at most one cluster per row", self.n_clusters),
            ));
        }
        if self.max_iter == 0 {
            return Err(Error::param("kmeans", "max_iter", "must be at least 1, got 0"));
        }
        if self.n_init == 0 {
            return Err(Error::param("kmeans", "n_init", "must be at least 1, got 0"));
        }
        Ok(())
    }

    /// Clusters the rows of `x` (see the module docs).
    ///
    /// # Errors
    /// Invalid parameters for the number of rows; non-finite features.
    pub fn fit(&self, x: MatRef<'_, f64>, seed: Seed) -> Result<KMeansModel> {
        let n = x.nrows();
        self.validate(n)?;
        crate::check::finite_matrix("k-means features", x)?;
        let mut best: Option<KMeansModel> = None;
        for r in 0..self.n_init {
            let m = self.run(x, seed.indexed(0, r as u64));
            if best.as_ref().is_none_or(|b| m.inertia < b.inertia) {
                best = Some(m);
            }
        }
        best.ok_or_else(|| Error::empty("kmeans: no run"))
    }

    /// One seeding and its Lloyd iterations.
    fn run(&self, x: MatRef<'_, f64>, seed: Seed) -> KMeansModel {
        let (n, d, k) = (x.nrows(), x.ncols(), self.n_clusters);
        let mut rng = seed.rng();
        let mut centres = vec![0.0; k * d];
        let first = rng.random_range(0..n);
        (0..d).for_each(|j| centres[j] = x[(first, j)]);
        let mut near: Vec<f64> = (0..n).map(|i| dist2(x, i, &centres, 0)).collect();
        for c in 1..k {
            let total: f64 = near.iter().sum();
            let pick = if total > 0.0 {
                let u = rng.random::<f64>() * total;
                let mut acc = 0.0;
                let mut pick = n - 1;
                for (i, v) in near.iter().enumerate() {
                    acc += v;
                    if u < acc {
                        pick = i;
                        break;
                    }
                }
                pick
            } else {
                rng.random_range(0..n)
            };
            (0..d).for_each(|j| centres[c * d + j] = x[(pick, j)]);
            for (i, v) in near.iter_mut().enumerate() {
                *v = v.min(dist2(x, i, &centres, c));
            }
        }
        let mut labels = vec![usize::MAX; n];
        let mut dist = vec![0.0; n];
        let mut sums = vec![0.0; k * d];
        let mut counts = vec![0usize; k];
        for _ in 0..self.max_iter {
            let mut changed = false;
            for i in 0..n {
                let (c, v) = nearest(x, i, &centres, k);
                dist[i] = v;
                if labels[i] != c {
                    labels[i] = c;
                    changed = true;
                }
            }
            if !changed {
                break;
            }
            sums.iter_mut().for_each(|s| *s = 0.0);
            counts.iter_mut().for_each(|c| *c = 0);
            for i in 0..n {
                counts[labels[i]] += 1;
                (0..d).for_each(|j| sums[labels[i] * d + j] += x[(i, j)]);
            }
            for c in 0..k {
                if counts[c] == 0 {
                    // the farthest row (from its own centre) founds the empty cluster
                    let far = (0..n).fold(0, |b, i| if dist[i] > dist[b] { i } else { b });
                    (0..d).for_each(|j| centres[c * d + j] = x[(far, j)]);
                    dist[far] = 0.0;
                    counts[labels[far]] -= 1;
                    labels[far] = c;
                } else {
                    (0..d).for_each(|j| centres[c * d + j] = sums[c * d + j] / counts[c] as f64);
                }
            }
        }
        // final assignment against the final centres
        let mut inertia = 0.0;
        for (i, l) in labels.iter_mut().enumerate() {
            let (c, v) = nearest(x, i, &centres, k);
            *l = c;
            inertia += v;
        }
        KMeansModel { centres, labels, inertia, n_features: d }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    #[test]
    fn separated_blobs_are_found_and_the_seed_fixes_the_result() {
        // three tight blobs around (0, 0), (10, 0), (0, 10), 30 rows each, interleaved
        let x = Mat::from_fn(90, 2, |i, j| {
            let blob = i % 3;
            let jitter = ((i * 7 + j * 3) % 11) as f64 / 50.0;
            let centre = match (blob, j) {
                (1, 0) | (2, 1) => 10.0,
                _ => 0.0,
            };
            centre + jitter
        });
        let p = KMeansParams { n_clusters: 3, ..Default::default() };
        let m = p.fit(x.as_ref(), Seed(4)).unwrap();
        for i in 0..90 {
            assert_eq!(m.labels[i], m.labels[i % 3], "row {i}");
        }
        let distinct: std::collections::BTreeSet<usize> = m.labels.iter().copied().collect();
        assert_eq!(distinct.len(), 3);
        assert!(m.inertia < 90.0 * 0.1);
        assert_eq!(m, p.fit(x.as_ref(), Seed(4)).unwrap());
        // K = n puts every row in its own cluster; more is an error naming n_clusters
        let small = Mat::from_fn(4, 1, |i, _| i as f64);
        let m = KMeansParams { n_clusters: 4, ..Default::default() }.fit(small.as_ref(), Seed(1)).unwrap();
        let distinct: std::collections::BTreeSet<usize> = m.labels.iter().copied().collect();
        assert_eq!(distinct.len(), 4);
        let e = KMeansParams { n_clusters: 5, ..Default::default() }.fit(small.as_ref(), Seed(1)).unwrap_err();
        assert!(e.to_string().contains("n_clusters"), "{e}");
    }
}
