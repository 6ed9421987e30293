//! Cross-fitting: the only place that loops over folds.
//!
//! For fold `k` of a partition, a nuisance is fitted on the other folds and predicts fold `k`;
//! every nuisance value used for row `i` thus comes from a model that never saw row `i`
//! (Chernozhukov et al. 2018, "Double/debiased machine learning"). Folds run in parallel with
//! rayon and are gathered in fold order; outputs start as NaN and are checked complete, so a
//! row missed by the partition is an error rather than a silent zero. Repeats with fresh fold
//! assignments are aggregated per row by mean or median (`aggregate`).

use serde::{Deserialize, Serialize};

use crate::causal::folds::Folds;
use crate::causal::learner::fit_rows;
use crate::error::{Error, Result};
use crate::learn::{Predict, Regressor, TrainSet};
use crate::linalg::select::select_rows;
use crate::par;
use crate::rng::Seed;

/// How predictions from repeated cross-fits are combined per row.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Aggregate {
    /// The arithmetic mean.
    #[default]
    Mean,
    /// The median (mean of the two middle values for an even count).
    Median,
}

/// Runs `f(k, train_rows, test_rows)` for every fold in parallel; `f` returns `width` columns
/// of predictions for `test_rows`. The result is `width` columns over all rows, each row
/// filled from the fold that held it out.
///
/// # Errors
/// The error of the lowest failing fold; [`Error::Shape`] when `f` returns the wrong shape;
/// [`Error::InvalidData`] when a prediction is missing or not finite.
pub fn per_fold<F>(folds: &Folds, width: usize, f: F) -> Result<Vec<Vec<f64>>>
where
    F: Fn(usize, &[usize], &[usize]) -> Result<Vec<Vec<f64>>> + Sync + Send,
{
    let n = folds.fold_of.len();
    let parts = par::try_map_indexed(folds.k, |k| {
        let train = folds.train_rows(k);
        let test = folds.test_rows(k);
        let cols = f(k, &train, &test)?;
        if cols.len() != width {
            return Err(Error::shape(format!("nuisance outputs in fold {k}"), width, cols.len()));
        }
        for c in &cols {
            if c.len() != test.len() {
                return Err(Error::shape(format!("out-of-fold predictions in fold {k}"), test.len(), c.len()));
            }
        }
        Ok((test, cols))
    })?;
    let mut out = vec![vec![f64::NAN; n]; width];
    for (test, cols) in parts {
        for (c, col) in cols.into_iter().enumerate() {
            for (&i, v) in test.iter().zip(col) {
                out[c][i] = v;
            }
        }
    }
    for col in &out {
        if let Some(i) = col.iter().position(|v| !v.is_finite()) {
            return Err(Error::data(format!(
                "row {i} has no finite out-of-fold prediction (got {}); the nuisance learner returned a non-finite value",
                col[i]
            )));
        }
    }
    Ok(out)
}

/// Out-of-fold predictions of `learner` fitted on `data`, training in each fold only on
/// the rows where `train_mask` is true (all rows when `None`); fold `k`'s model is seeded
/// `seed.indexed(purpose, k)`.
///
/// # Errors
/// As [`per_fold`] and the learner.
pub fn out_of_fold<R: Regressor>(
    learner: &R,
    data: TrainSet<'_>,
    train_mask: Option<&[bool]>,
    folds: &Folds,
    seed: Seed,
    purpose: u64,
) -> Result<Vec<f64>> {
    let TrainSet { x, y, weights: w } = data;
    let mut cols = per_fold(folds, 1, |k, train, test| {
        let tr: Vec<usize> = match train_mask {
            Some(m) => train.iter().copied().filter(|&i| m[i]).collect(),
            None => train.to_vec(),
        };
        let model = fit_rows(learner, x, y, w, &tr, seed.indexed(purpose, k as u64))?;
        Ok(vec![model.predict(select_rows(x, test).as_ref())?])
    })?;
    Ok(cols.swap_remove(0))
}

/// Combines repeated predictions per row.
///
/// # Errors
/// [`Error::Empty`] with no repeats; [`Error::Shape`] for repeats of unequal length.
pub fn aggregate(runs: &[Vec<f64>], how: Aggregate) -> Result<Vec<f64>> {
    let first = runs.first().ok_or_else(|| Error::empty("no cross-fitting repeats"))?;
    let n = first.len();
    if let Some(r) = runs.iter().find(|r| r.len() != n) {
        return Err(Error::shape("cross-fitting repeats", n, r.len()));
    }
    if runs.len() == 1 {
        return Ok(first.clone());
    }
    let mut buf = vec![0.0; runs.len()];
    Ok((0..n)
        .map(|i| {
            for (b, r) in buf.iter_mut().zip(runs) {
                *b = r[i];
            }
            match how {
                Aggregate::Mean => buf.iter().sum::<f64>() / buf.len() as f64,
                Aggregate::Median => {
                    buf.sort_by(f64::total_cmp);
                    let h = buf.len() / 2;
                    if buf.len() % 2 == 1 { buf[h] } else { 0.5 * (buf[h - 1] + buf[h]) }
                }
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::causal::folds::stratified;
    use crate::learn::Params;
    use faer::{Mat, MatRef};

    /// A learner that memorises its training rows: predicts y for a row it saw (matched on the
    /// first feature, an id), 0 otherwise.
    #[derive(Clone, Debug, Default)]
    struct Memorise;
    struct MemoModel(Vec<(f64, f64)>, usize);

    impl Params for Memorise {
        fn learner_name(&self) -> &'static str {
            "memorise"
        }
        fn set_param(&mut self, _: &str, _: &str) -> Result<()> {
            Ok(())
        }
        fn validate(&self) -> Result<()> {
            Ok(())
        }
    }
    impl Regressor for Memorise {
        type Model = MemoModel;
        fn fit(&self, d: TrainSet<'_>, _: Seed) -> Result<MemoModel> {
            Ok(MemoModel((0..d.n_samples()).map(|i| (d.x[(i, 0)], d.y[i])).collect(), d.n_features()))
        }
    }
    impl Predict for MemoModel {
        fn n_features(&self) -> usize {
            self.1
        }
        fn predict_into(&self, x: MatRef<'_, f64>, out: &mut [f64]) -> Result<()> {
            for (i, o) in out.iter_mut().enumerate() {
                *o = self.0.iter().find(|p| p.0 == x[(i, 0)]).map_or(0.0, |p| p.1);
            }
            Ok(())
        }
    }

    #[test]
    fn no_row_is_predicted_by_a_model_that_saw_it() {
        let n = 97;
        let x = Mat::from_fn(n, 2, |i, j| if j == 0 { i as f64 } else { (i * 7 % 5) as f64 });
        let y: Vec<f64> = (0..n).map(|i| 1.0 + i as f64).collect();
        let is_gold: Vec<f64> = (0..n).map(|i| if i % 6 == 0 { 1.0 } else { 0.0 }).collect();
        let folds = stratified(&is_gold, 5, Seed(11), 0).unwrap();
        let oof = out_of_fold(&Memorise, TrainSet::new(x.as_ref(), &y), None, &folds, Seed(1), 2).unwrap();
        assert!(oof.iter().all(|&v| v == 0.0), "a row's own label leaked into its prediction");
        // while in-sample memorisation does reproduce y (the learner is not trivially blind)
        let m = Memorise.fit(TrainSet::new(x.as_ref(), &y), Seed(0)).unwrap();
        assert_eq!(m.predict(x.as_ref()).unwrap(), y);
    }

    #[test]
    fn oof_equals_a_refit_on_the_complement() {
        let n = 60;
        let x = Mat::from_fn(n, 1, |i, _| i as f64);
        let y: Vec<f64> = (0..n).map(|i| ((i * 13) % 17) as f64).collect();
        let is_gold: Vec<f64> = (0..n).map(|i| if i % 4 == 0 { 1.0 } else { 0.0 }).collect();
        let folds = stratified(&is_gold, 3, Seed(5), 0).unwrap();
        let spec = crate::learn::RegressorSpec::from_name("constant").unwrap();
        let oof = out_of_fold(&spec, TrainSet::new(x.as_ref(), &y), None, &folds, Seed(1), 2).unwrap();
        for k in 0..3 {
            let tr = folds.train_rows(k);
            let mean = tr.iter().map(|&i| y[i]).sum::<f64>() / tr.len() as f64;
            for i in folds.test_rows(k) {
                assert_eq!(oof[i].to_bits(), mean.to_bits());
            }
        }
        // a learner with real fitted state: the OOF values are bit-identical to a refit
        let x2 = Mat::from_fn(n, 2, |i, j| if j == 0 { i as f64 } else { ((i * 7) % 11) as f64 });
        let ridge = crate::learn::RegressorSpec::from_name("ridge").unwrap();
        let oof_r = out_of_fold(&ridge, TrainSet::new(x2.as_ref(), &y), None, &folds, Seed(1), 2).unwrap();
        for k in 0..3 {
            let m =
                fit_rows(&ridge, x2.as_ref(), &y, None, &folds.train_rows(k), Seed(1).indexed(2, k as u64)).unwrap();
            let test = folds.test_rows(k);
            let p = m.predict(select_rows(x2.as_ref(), &test).as_ref()).unwrap();
            for (i, v) in test.iter().zip(p) {
                assert_eq!(oof_r[*i].to_bits(), v.to_bits());
            }
        }
        let mask: Vec<bool> = is_gold.iter().map(|&g| g == 1.0).collect();
        let oof_g = out_of_fold(&spec, TrainSet::new(x.as_ref(), &y), Some(&mask), &folds, Seed(1), 2).unwrap();
        for k in 0..3 {
            let tr: Vec<usize> = folds.train_rows(k).into_iter().filter(|&i| mask[i]).collect();
            let mean = tr.iter().map(|&i| y[i]).sum::<f64>() / tr.len() as f64;
            assert!(folds.test_rows(k).iter().all(|&i| oof_g[i] == mean));
        }
    }

    #[test]
    fn incomplete_or_nonfinite_predictions_are_errors() {
        let folds = Folds { fold_of: vec![0, 1, 0, 1], k: 2 };
        let r = per_fold(&folds, 1, |_, _, test| Ok(vec![vec![f64::NAN; test.len()]]));
        assert!(r.unwrap_err().to_string().contains("row 0"));
        let r = per_fold(&folds, 1, |_, _, _| Ok(vec![vec![1.0]]));
        assert!(matches!(r, Err(Error::Shape { .. })));
    }

    #[test]
    fn aggregates() {
        let runs = vec![vec![1.0, 5.0], vec![3.0, 1.0], vec![2.0, 9.0]];
        assert_eq!(aggregate(&runs, Aggregate::Mean).unwrap(), vec![2.0, 5.0]);
        assert_eq!(aggregate(&runs, Aggregate::Median).unwrap(), vec![2.0, 5.0]);
        assert_eq!(aggregate(&runs[..2], Aggregate::Median).unwrap(), vec![2.0, 3.0]);
        assert!(aggregate(&[], Aggregate::Mean).is_err());
    }
}
