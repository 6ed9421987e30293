//! The boosting loop shared by the regressor and the classifier.
//!
//! Gradient boosting with Newton steps (Friedman 2001; Chen & Guestrin 2016): starting from the
//! constant `F_0` of the loss, iteration `t` computes per-row `g_i, h_i` at `F_{t-1}`, grows a
//! tree on them ([`super::grow`]) and sets `F_t = F_{t-1} + f_t`, where each leaf of `f_t` holds
//! `learning_rate * (-G / (H + lambda))`.
//!
//! Randomness, all derived from the seed by position: the validation split of early stopping
//! (`stream::VALIDATION`), the binning subsample (`stream::BINNING`), and per iteration `t` the
//! row subsample (`stream::ROW_SUBSAMPLE`, index `t`, each row kept with probability
//! `subsample`) and the feature subsample (`stream::FEATURE_SUBSAMPLE`, index `t`,
//! `max(1, round(colsample * d))` searchable features). Gradients are computed element-wise
//! over fixed row blocks, and every sum runs in row order, so a fit is bit-identical for any
//! thread count.
//!
//! Early stopping (scikit-learn's rule with the loss as score): with validation losses
//! `s_0, s_1, ...` it stops after iteration `t` when none of the last `n_iter_no_change`
//! losses improved on the best earlier loss by more than `tol`; the ensemble is truncated to
//! the iteration of the lowest validation loss.

use rand::RngExt;
use rayon::prelude::*;

use super::Ensemble;
use super::HgbParams;
use super::binning::{Binned, bin_matrix};
use super::grow::{GrowConfig, Grower, Workspace};
use super::histogram::{Grads, Hessian};
use super::loss::Loss;
use super::predict::Tree;
use super::split::SplitRules;
use crate::error::{Error, Result};
use crate::learn::TrainSet;
use crate::par::ROW_BLOCK;
use crate::rng::{Seed, permutation, shuffle, stream};

/// Splits `0..n` into training and validation rows (both sorted), or all rows for training.
fn split_rows(p: &HgbParams, n: usize, seed: Seed) -> Result<(Vec<u32>, Vec<u32>)> {
    if !p.early_stopping {
        return Ok(((0..n as u32).collect(), Vec::new()));
    }
    let n_val = (p.validation_fraction * n as f64).ceil() as usize;
    if n_val == 0 || n_val >= n {
        return Err(Error::data(format!(
            "early stopping with validation_fraction {} leaves {} of {n} rows for validation; \
             both parts need at least one row",
            p.validation_fraction, n_val
        )));
    }
    let perm = permutation(n, &mut seed.child(stream::VALIDATION).rng());
    let mut val: Vec<u32> = perm[..n_val].iter().map(|&i| i as u32).collect();
    let mut train: Vec<u32> = perm[n_val..].iter().map(|&i| i as u32).collect();
    val.sort_unstable();
    train.sort_unstable();
    Ok((train, val))
}

/// `g, h` of every listed row at the current scores (weighted), element-wise in parallel.
fn gradients(loss: Loss, y: &[f64], w: Option<&[f64]>, raw: &[f64], grad: &mut [f64], hess: &mut [f64]) {
    grad.par_chunks_mut(ROW_BLOCK).zip(hess.par_chunks_mut(ROW_BLOCK)).enumerate().for_each(|(b, (gc, hc))| {
        let first = b * ROW_BLOCK;
        for (k, (g, h)) in gc.iter_mut().zip(hc.iter_mut()).enumerate() {
            let i = first + k;
            let [gi, hi] = loss.grad_hess(y[i], raw[i]);
            let wi = w.map_or(1.0, |w| w[i]);
            *g = wi * gi;
            *h = wi * hi;
        }
    });
}

/// Adds a tree's output to the scores of `rows` by walking it on the binned codes.
fn add_binned(tree: &Tree, binned: &Binned, rows: &[u32], raw: &mut [f64]) {
    for &i in rows {
        let i = i as usize;
        let leaf = tree.leaf_of_binned(|f| binned.codes[f * binned.n + i], |f| binned.features[f].nan_code());
        raw[i] += tree.leaf_value[leaf];
    }
}

/// The searchable slots this iteration may split on.
fn active_features(p: &HgbParams, n_used: usize, seed: Seed, iter: usize, active: &mut [bool]) {
    if p.colsample >= 1.0 {
        active.fill(true);
        return;
    }
    let k = ((p.colsample * n_used as f64).round() as usize).clamp(1, n_used.max(1));
    let mut slots: Vec<usize> = (0..n_used).collect();
    shuffle(&mut slots, &mut seed.indexed(stream::FEATURE_SUBSAMPLE, iter as u64).rng());
    active.fill(false);
    for &s in &slots[..k.min(n_used)] {
        active[s] = true;
    }
}

/// Fits an ensemble (inputs already validated by the caller).
///
/// The whole fit runs on a rayon worker thread (`rayon::join` moves it there when called from
/// outside the pool), so the many small parallel steps of each tree are scheduled inside the
/// pool instead of each waking the caller's thread through a lock. The result does not depend
/// on where it runs.
pub fn fit(p: &HgbParams, loss: Loss, data: TrainSet<'_>, seed: Seed) -> Result<Ensemble> {
    let per_iter = (size_of::<Tree>() + 8 + 8 * (1 + usize::from(p.early_stopping))) as u64;
    let need = crate::budget::product(&[p.max_iter]).saturating_mul(per_iter);
    crate::budget::check(format_args!("max_iter {}", p.max_iter), "the boosting iterations", need)?;
    rayon::join(|| fit_on_worker(p, loss, data, seed), || ()).0
}

fn fit_on_worker(p: &HgbParams, loss: Loss, data: TrainSet<'_>, seed: Seed) -> Result<Ensemble> {
    let (x, y, w) = (data.x, data.y, data.weights);
    let n = x.nrows();
    let (train, val) = split_rows(p, n, seed)?;
    let binned = bin_matrix(x, &train, w, p.max_bins, seed);
    let init = loss.init(y, w, &train);
    let mut raw = vec![init; n];
    let mut grad = vec![0.0; n];
    let mut hess = vec![0.0; n];
    let hessian = match (loss.constant_hessian(), w) {
        (Some(c), None) => Hessian::Constant(c),
        _ => Hessian::Varying,
    };
    let cfg = GrowConfig {
        max_leaf_nodes: p.max_leaf_nodes,
        max_depth: p.max_depth,
        rules: SplitRules {
            l2: p.l2_regularization,
            min_samples_leaf: p.min_samples_leaf.min(u32::MAX as usize) as u32,
            min_sum_hessian: p.min_sum_hessian,
            min_gain: p.min_gain_to_split,
        },
        learning_rate: p.learning_rate,
        hessian,
    };
    let mut ws = Workspace::default();
    let mut active = vec![true; binned.used.len()];
    let mut idx: Vec<u32> = Vec::with_capacity(train.len());
    let mut oob: Vec<u32> = Vec::new();
    let mut trees = Vec::with_capacity(p.max_iter);
    let mut train_loss = vec![loss.mean_loss(y, &raw, w, &train)];
    let mut validation_loss = Vec::new();
    if p.early_stopping {
        validation_loss.push(loss.mean_loss(y, &raw, w, &val));
    }
    let mut best_iter = 0;
    for it in 0..p.max_iter {
        gradients(loss, y, w, &raw, &mut grad, &mut hess);
        idx.clear();
        oob.clear();
        if p.subsample < 1.0 {
            let mut rng = seed.indexed(stream::ROW_SUBSAMPLE, it as u64).rng();
            for &i in &train {
                if rng.random::<f64>() < p.subsample { idx.push(i) } else { oob.push(i) }
            }
        } else {
            idx.extend_from_slice(&train);
        }
        let all_rows = idx.len() == n;
        active_features(p, binned.used.len(), seed, it, &mut active);
        let grower = Grower { binned: &binned, cfg, grad: Grads { g: &grad, h: &hess }, active: &active };
        let grown = grower.grow(&mut ws, &mut idx, all_rows);
        for (leaf, &(a, b)) in grown.ranges.iter().enumerate() {
            let v = grown.tree.leaf_value[leaf];
            for &i in &idx[a..b] {
                raw[i as usize] += v;
            }
        }
        add_binned(&grown.tree, &binned, &oob, &mut raw);
        add_binned(&grown.tree, &binned, &val, &mut raw);
        let single_leaf = grown.tree.n_leaves() == 1;
        trees.push(grown.tree);
        train_loss.push(loss.mean_loss(y, &raw, w, &train));
        if p.early_stopping {
            let s = loss.mean_loss(y, &raw, w, &val);
            validation_loss.push(s);
            if s < validation_loss[best_iter] {
                best_iter = it + 1;
            }
            if stop_early(&validation_loss, p.n_iter_no_change, p.tol) {
                break;
            }
        }
        if single_leaf && p.subsample >= 1.0 && p.colsample >= 1.0 {
            // no admissible split anywhere: further trees would be constants of ~0
            break;
        }
    }
    if p.early_stopping {
        trees.truncate(best_iter);
    }
    Ok(Ensemble { init, n_iter: trees.len(), trees, n_features: x.ncols(), train_loss, validation_loss })
}

/// scikit-learn's rule: stop when none of the last `k` scores beats the score just before them
/// by more than `tol` (losses: lower is better).
fn stop_early(losses: &[f64], k: usize, tol: f64) -> bool {
    if losses.len() <= k {
        return false;
    }
    let reference = losses[losses.len() - 1 - k];
    losses[losses.len() - k..].iter().all(|&s| s >= reference - tol)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stopping_rule() {
        assert!(!stop_early(&[5.0, 4.0, 3.0], 2, 0.0));
        assert!(stop_early(&[5.0, 4.0, 4.0, 4.5], 2, 0.0));
        assert!(!stop_early(&[5.0, 4.0, 4.0, 3.9], 2, 0.0));
        assert!(stop_early(&[5.0, 4.0, 4.0, 3.9], 2, 0.5));
    }
}
