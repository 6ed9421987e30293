//! Out-of-bag predictions of a fitted forest for its own training rows: each row's prediction
//! from the trees whose bootstrap sample left it out, an honest out-of-sample prediction (as
//! grf estimates its nuisances `Y.hat`, `W.hat`).
//!
//! With bootstrap counts `c_{ki}` (draws of row `i` into tree `k`'s sample), row `i`'s
//! out-of-bag prediction is
//! ```text
//! f_oob(x_i) = (1 / |O_i|) sum_{k in O_i} T_k(x_i),   O_i = { k : c_{ki} = 0 },
//! ```
//! summed in tree order; it is undefined (NaN, `n_trees = 0`) when row `i` was drawn into every
//! tree (probability `(1 - (1 - 1/n)^n)^K ~ 0.632^K` for `n` draws of `n` rows and `K` trees:
//! about `1e-20` for 100 trees, 1% for 10). A row drawn with a sample weight of 0 still counts
//! as in bag (the tree did not see it, but it is not counted as out of bag either), as in the
//! fit's `oob_score`.
//!
//! The counts are not stored in the model: [`InBag::replay`] redraws them from the tree seeds
//! exactly as the fit draws them (tree `k`'s generator `seed.indexed(stream::TREE, k)`, its
//! first `n_draw` draws uniform over `0..n`; see `fit.rs`), into one bit mask per tree. A unit
//! test checks the replay against the masks the fit itself records for `oob_score`.
//! [`Forest::out_of_bag`] then predicts with the batch path of `predict_into` (row-major
//! blocks, [`LANES`] rows walking a tree in lock-step) and adds a tree's leaf value only to the
//! rows it left out. Blocks run in parallel; every row sums its trees in index order, so the
//! result is bit-identical for any thread count and equals the fit's own `oob_prediction`.

use faer::MatRef;
use rand::RngExt;

use super::fit::{Forest, block_rows};
use super::params::ForestParams;
use super::tree::LANES;
use super::{RandomForestClassifierModel, RandomForestClassifierParams};
use super::{RandomForestRegressorModel, RandomForestRegressorParams};
use crate::error::{Error, Result};
use crate::learn::{Classifier, Regressor, TrainSet, check};
use crate::par;
use crate::rng::{Seed, stream};

/// The bootstrap in-bag masks of a forest's trees over its `n` training rows (bit `i` of tree
/// `k` set when `c_{ki} > 0`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InBag {
    n_rows: usize,
    words: usize,
    bits: Vec<u64>,
}

impl InBag {
    /// The masks a fit of `p` on `n` rows with `seed` draws (see the module docs).
    ///
    /// # Errors
    /// [`Error::InvalidParam`] naming `bootstrap` when the forest does not bootstrap (every
    /// tree sees every row: nothing is out of bag) and the errors of `max_samples` for `n`.
    pub(crate) fn replay(p: &ForestParams, owner: &str, n: usize, seed: Seed) -> Result<InBag> {
        if !p.bootstrap {
            return Err(Error::param(
                owner,
                "bootstrap",
                "out-of-bag predictions need bootstrap = true (without it every tree sees every row)",
            ));
        }
        let n_draw = p.max_samples.resolve(owner, n)?;
        let words = n.div_ceil(64);
        let need = crate::budget::product(&[p.n_estimators, words, 8]);
        crate::budget::check(format_args!("n_estimators {}", p.n_estimators), "the in-bag masks", need)?;
        let masks = par::map_indexed(p.n_estimators, |k| {
            // The same draws, in the same order, as the bootstrap in `fit::fit`.
            let mut rng = seed.indexed(stream::TREE, k as u64).rng();
            let mut bits = vec![0u64; words];
            for _ in 0..n_draw {
                let i = rng.random_range(0..n);
                bits[i / 64] |= 1u64 << (i % 64);
            }
            bits
        });
        Ok(InBag { n_rows: n, words, bits: masks.concat() })
    }

    /// Number of trees.
    pub fn n_trees(&self) -> usize {
        self.bits.len().checked_div(self.words).unwrap_or(0)
    }

    /// Number of training rows.
    pub fn n_rows(&self) -> usize {
        self.n_rows
    }

    /// Whether row `i` was drawn into tree `k`'s bootstrap sample.
    ///
    /// # Panics
    /// For `k >= n_trees()` or `i >= n_rows()`.
    #[inline]
    pub fn contains(&self, k: usize, i: usize) -> bool {
        assert!(i < self.n_rows, "row {i} out of range for {} rows", self.n_rows);
        self.bits[k * self.words + i / 64] >> (i % 64) & 1 == 1
    }

    /// Tree `k`'s mask words.
    fn tree(&self, k: usize) -> &[u64] {
        &self.bits[k * self.words..(k + 1) * self.words]
    }
}

/// Out-of-bag predictions for a forest's training rows.
#[derive(Clone, Debug, PartialEq)]
pub struct OutOfBag {
    /// The mean over the trees that left row `i` out; NaN when no tree did.
    pub prediction: Vec<f64>,
    /// The number of trees that left row `i` out.
    pub n_trees: Vec<u32>,
}

impl Forest {
    /// Out-of-bag predictions for the training rows `x` of this forest, whose trees' samples
    /// `inbag` describes (see the module docs), by the batch prediction path.
    ///
    /// # Errors
    /// [`Error::Shape`] for a wrong column count or when `inbag` has another number of trees or
    /// rows than the forest and `x`; [`Error::NonFinite`] for a NaN or infinite feature.
    pub fn out_of_bag(&self, x: MatRef<'_, f64>, inbag: &InBag) -> Result<OutOfBag> {
        let n = x.nrows();
        let mut prediction = vec![0.0; n];
        check::predict_shape(x, self.n_features(), &prediction)?;
        check::finite_matrix("features", x)?;
        if inbag.n_trees() != self.trees().len() {
            return Err(Error::shape("in-bag masks vs trees of the forest", self.trees().len(), inbag.n_trees()));
        }
        if inbag.n_rows() != n {
            return Err(Error::shape("in-bag rows vs rows of x", n, inbag.n_rows()));
        }
        let d = x.ncols();
        let depths: Vec<usize> = self.trees().iter().map(super::Tree::depth).collect();
        let n_trees: Vec<u32> =
            (0..n).map(|i| (0..inbag.n_trees()).filter(|&k| !inbag.contains(k, i)).count() as u32).collect();
        par::for_each_block_of(&mut prediction, block_rows(d), |start, block| {
            self.oob_block(x, start, block, inbag, &depths);
        });
        for (p, &c) in prediction.iter_mut().zip(&n_trees) {
            *p = if c > 0 { *p / f64::from(c) } else { f64::NAN };
        }
        Ok(OutOfBag { prediction, n_trees })
    }

    /// Sums over the trees that left them out for rows `start..start + block.len()` of `x`,
    /// written into `block`: the rows are copied row-major, then each tree walks them
    /// [`LANES`] at a time (lanes whose rows are all in its sample are skipped) and adds its
    /// leaf value to the rows it left out, in tree order.
    fn oob_block(&self, x: MatRef<'_, f64>, start: usize, block: &mut [f64], inbag: &InBag, depths: &[usize]) {
        let (rows, d) = (block.len(), x.ncols());
        let mut scratch = vec![0.0; rows * d];
        for j in 0..d {
            for (r, v) in x.col(j).subrows(start, rows).iter().enumerate() {
                scratch[r * d + j] = *v;
            }
        }
        block.fill(0.0);
        let mut leaf = [0.0; LANES];
        for (k, (t, &steps)) in self.trees().iter().zip(depths).enumerate() {
            let mask = inbag.tree(k);
            let out_of = |r: usize| {
                let i = start + r;
                mask[i / 64] >> (i % 64) & 1 == 0
            };
            if rows * steps * 8 >= t.n_nodes() {
                t.prefetch();
            }
            for (c, lane) in block.chunks_mut(LANES).enumerate() {
                let base = c * LANES;
                if !(0..lane.len()).any(|r| out_of(base + r)) {
                    continue;
                }
                let x_rows = &scratch[base * d..];
                leaf.fill(0.0);
                if lane.len() == LANES {
                    t.add_lanes(steps, x_rows, d, &mut leaf);
                } else {
                    for (r, l) in leaf.iter_mut().enumerate().take(lane.len()) {
                        *l = t.predict_slice(&x_rows[r * d..]);
                    }
                }
                for (r, o) in lane.iter_mut().enumerate() {
                    if out_of(base + r) {
                        *o += leaf[r];
                    }
                }
            }
        }
    }
}

impl RandomForestRegressorParams {
    /// Fits the forest on `data` and predicts every training row out of bag (see the module
    /// docs); the model is the one [`Regressor::fit`] returns for the same data and seed.
    ///
    /// # Errors
    /// As [`Regressor::fit`]; [`Error::InvalidParam`] naming `bootstrap` without bootstrap.
    pub fn fit_with_oob(&self, data: TrainSet<'_>, seed: Seed) -> Result<(RandomForestRegressorModel, OutOfBag)> {
        let inbag = InBag::replay(&ForestParams::from(self), "rf", data.n_samples(), seed)?;
        let model = Regressor::fit(self, data, seed)?;
        let oob = model.forest.out_of_bag(data.x, &inbag)?;
        Ok((model, oob))
    }
}

impl RandomForestClassifierParams {
    /// Fits the classifier on `data` and gives every training row's out-of-bag `P(y = 1 | x)`
    /// (see the module docs); the model is the one [`Classifier::fit`] returns.
    ///
    /// # Errors
    /// As [`Classifier::fit`]; [`Error::InvalidParam`] naming `bootstrap` without bootstrap.
    pub fn fit_with_oob(&self, data: TrainSet<'_>, seed: Seed) -> Result<(RandomForestClassifierModel, OutOfBag)> {
        let inbag = InBag::replay(&ForestParams::from(self), "rfc", data.n_samples(), seed)?;
        let model = Classifier::fit(self, data, seed)?;
        let oob = model.forest.out_of_bag(data.x, &inbag)?;
        Ok((model, oob))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::{Predict, PredictProba};
    use crate::linalg::stats::correlation as corr;
    use faer::Mat;

    /// `n x d` uniform features (distinct with probability 1) and a target of unique noise,
    /// unrelated to the features.
    fn noise(n: usize, d: usize, seed: u64) -> (Mat<f64>, Vec<f64>) {
        let mut rng = Seed(seed).rng();
        let x = Mat::from_fn(n, d, |_, _| rng.random::<f64>());
        let y = (0..n).map(|_| rng.random::<f64>()).collect();
        (x, y)
    }

    /// Bootstrap counts of tree `k`, recomputed here from the documented rule (not through
    /// [`InBag`]).
    fn counts(seed: Seed, k: usize, n: usize, n_draw: usize) -> Vec<u32> {
        let mut rng = seed.indexed(stream::TREE, k as u64).rng();
        let mut c = vec![0u32; n];
        for _ in 0..n_draw {
            c[rng.random_range(0..n)] += 1;
        }
        c
    }

    #[test]
    fn the_replayed_masks_give_the_fits_own_oob_prediction_bit_for_bit() {
        let (x, y) = noise(1300, 4, 3);
        let w: Vec<f64> = (0..1300).map(|i| 0.5 + (i % 3) as f64).collect();
        for (max_samples, weights) in [(MaxSamplesCase::All, None), (MaxSamplesCase::Half, Some(&w[..]))] {
            let p = RandomForestRegressorParams {
                n_estimators: 9,
                oob_score: true,
                max_samples: max_samples.get(),
                ..Default::default()
            };
            let data = TrainSet { x: x.as_ref(), y: &y, weights };
            let (m, oob) = p.fit_with_oob(data, Seed(8)).unwrap();
            let own = m.forest.oob_prediction().unwrap();
            if weights.is_none() {
                assert!(own.iter().any(|v| v.is_nan()), "with 9 trees of n draws some rows are in every sample");
            }
            for (i, (a, b)) in own.iter().zip(&oob.prediction).enumerate() {
                assert_eq!(a.to_bits(), b.to_bits(), "row {i}: fit's oob {a} vs replayed {b}");
            }
            // the same model as a plain fit
            assert!(m.forest.trees() == p.fit(data, Seed(8)).unwrap().forest.trees(), "not the plain fit's trees");
        }
    }

    #[derive(Clone, Copy)]
    enum MaxSamplesCase {
        All,
        Half,
    }
    impl MaxSamplesCase {
        fn get(self) -> super::super::MaxSamples {
            match self {
                MaxSamplesCase::All => super::super::MaxSamples::All,
                MaxSamplesCase::Half => super::super::MaxSamples::Fraction(0.5),
            }
        }
    }

    #[test]
    fn no_row_is_predicted_by_a_tree_that_saw_it() {
        // Unique noise targets and fully grown trees: a tree that drew row i predicts exactly
        // y_i there (its leaf holds row i alone), so any leak of an in-bag tree would show.
        let (n, k) = (600, 25);
        let (x, y) = noise(n, 3, 5);
        let p = RandomForestRegressorParams { n_estimators: k, ..Default::default() };
        let seed = Seed(13);
        let (m, oob) = p.fit_with_oob(TrainSet::new(x.as_ref(), &y), seed).unwrap();
        let c: Vec<Vec<u32>> = (0..k).map(|t| counts(seed, t, n, n)).collect();
        let trees = m.forest.trees();
        let mut checked = 0;
        for i in 0..n {
            let (mut s, mut cnt) = (0.0, 0u32);
            for (t, tree) in trees.iter().enumerate() {
                let v = tree.predict_at(x.as_ref(), i);
                if c[t][i] == 0 {
                    s += v;
                    cnt += 1;
                } else {
                    assert!((v - y[i]).abs() < 1e-12, "tree {t} drew row {i} but does not memorise it");
                }
            }
            assert_eq!(oob.n_trees[i], cnt, "row {i}");
            if cnt == 0 {
                assert!(oob.prediction[i].is_nan());
            } else {
                checked += 1;
                assert_eq!(oob.prediction[i].to_bits(), (s / f64::from(cnt)).to_bits(), "row {i}");
                assert!((oob.prediction[i] - y[i]).abs() > 1e-9, "row {i}: the out-of-bag mean is its own label");
            }
        }
        assert!(checked > n * 9 / 10);
    }

    #[test]
    fn a_planted_label_does_not_reach_its_out_of_bag_prediction() {
        // y is noise independent of x: in-sample predictions track y (memorisation), honest
        // out-of-sample ones cannot (their correlation with y is ~0, slightly negative).
        let (x, y) = noise(2000, 5, 9);
        let p = RandomForestRegressorParams { n_estimators: 50, ..Default::default() };
        let (m, oob) = p.fit_with_oob(TrainSet::new(x.as_ref(), &y), Seed(2)).unwrap();
        let inside = m.predict(x.as_ref()).unwrap();
        assert!(oob.n_trees.iter().all(|&c| c > 0));
        let (ci, co) = (corr(&inside, &y), corr(&oob.prediction, &y));
        assert!(ci > 0.6, "in-sample corr {ci}");
        assert!(co.abs() < 0.1, "out-of-bag corr {co}: a row's own label leaked");
        // the classifier alike: a planted 0/1 label
        let t: Vec<f64> = y.iter().map(|&v| f64::from(v > 0.5)).collect();
        let pc = RandomForestClassifierParams { n_estimators: 50, ..Default::default() };
        let (mc, oobc) = pc.fit_with_oob(TrainSet::new(x.as_ref(), &t), Seed(2)).unwrap();
        let inside = mc.predict_proba(x.as_ref()).unwrap();
        assert!(corr(&inside, &t) > 0.6);
        assert!(corr(&oobc.prediction, &t).abs() < 0.1);
        assert!(oobc.prediction.iter().all(|p| (0.0..=1.0).contains(p)));
    }

    #[test]
    fn out_of_bag_is_bit_identical_for_any_thread_count() {
        let (x, y) = noise(20_000, 6, 4);
        let p = RandomForestRegressorParams { n_estimators: 12, max_depth: Some(8), ..Default::default() };
        let run = |k: usize| {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(k).build().unwrap();
            pool.install(|| {
                let (_, o) = p.fit_with_oob(TrainSet::new(x.as_ref(), &y), Seed(6)).unwrap();
                o.prediction.iter().map(|v| v.to_bits()).collect::<Vec<_>>()
            })
        };
        let one = run(1);
        assert_eq!(one, run(2));
        assert_eq!(one, run(8));
    }

    #[test]
    fn without_bootstrap_there_is_no_out_of_bag_and_shapes_are_checked() {
        let (x, y) = noise(50, 2, 1);
        let p = RandomForestRegressorParams { n_estimators: 3, bootstrap: false, ..Default::default() };
        let e = p.fit_with_oob(TrainSet::new(x.as_ref(), &y), Seed(0)).unwrap_err();
        assert!(e.to_string().contains("bootstrap"), "{e}");
        assert!(Regressor::fit_out_of_bag(&p, TrainSet::new(x.as_ref(), &y), Seed(0)).unwrap().is_none());
        let q = RandomForestRegressorParams { n_estimators: 3, ..Default::default() };
        let (m, _) = q.fit_with_oob(TrainSet::new(x.as_ref(), &y), Seed(0)).unwrap();
        let other = InBag::replay(&ForestParams::from(&q), "rf", 49, Seed(0)).unwrap();
        assert!(matches!(m.forest.out_of_bag(x.as_ref(), &other), Err(Error::Shape { .. })));
        let fewer = InBag::replay(&ForestParams::from(&reg_trees(2)), "rf", 50, Seed(0)).unwrap();
        assert!(matches!(m.forest.out_of_bag(x.as_ref(), &fewer), Err(Error::Shape { .. })));
    }

    fn reg_trees(k: usize) -> RandomForestRegressorParams {
        RandomForestRegressorParams { n_estimators: k, ..Default::default() }
    }
}
