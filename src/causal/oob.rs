//! Out-of-bag nuisances: the alternative to cross-fitting ([`crate::causal::crossfit`]) for a
//! bagged nuisance learner (`nuisance_fit = oob`, [`NuisanceFit::Oob`]), and the default's
//! choice for the R-learner's (`auto`, [`NuisanceFit::Auto`]: out of bag when the nuisance
//! learner is bagged, as the default forest nuisance is). Over the simulator's ten scenarios at
//! 40 paired rounds, out of bag matched or beat 5-fold cross-fitting for `meta_r` (no scenario
//! below -2 paired SEs, two above +2) at about half its cost, and cost `meta_dr` 2.6 SEs on two
//! scenarios, so the DR-learner cross-fits by default (STATISTICS.md).
//!
//! A random forest's out-of-bag prediction for a training row, the mean over the trees whose
//! bootstrap sample left it out, is an honest out-of-sample prediction (grf estimates its
//! nuisances `Y.hat` and `W.hat` this way): one forest on all the nuisance's rows replaces `K`
//! forests on `K - 1` folds. For a nuisance fitted on the rows `S` (all rows for `m`, the
//! preference rows for `mu0`, the gold rows for a separate `mu1`):
//!
//! * a row in `S` gets its out-of-bag prediction ([`crate::learn::forest::OutOfBag`]);
//! * a row outside `S` (a gold row for `mu0`) was never in the forest's training set and gets
//!   the whole forest's prediction;
//! * a row in `S` drawn into **every** tree's bootstrap sample has no out-of-bag prediction
//!   (chance about `0.632^K` per row for `K` trees: `1e-20` for the default 100 trees, 1% for
//!   10). Such rows get their `K`-fold cross-fitted prediction over the round's folds (the
//!   value `nuisance_fit = crossfit` gives them, [`out_of_fold`]); the `K` fold fits are made
//!   only when such a row exists.
//!
//! The DR-learner's shift `mu1 = mu0 + b` (see [`crate::causal::nuisance`]) takes `b`, the
//! weighted mean gold residual `o - mu0`, over all gold rows for a preference row and leaving
//! the row itself out for a gold row, `b_{-i} = (sum_j w_j r_j - w_i r_i) / (sum_j w_j - w_i)`:
//! no row's nuisance uses its own label. An estimated propensity whose classifier is a bagged
//! forest (`rfc` with `bootstrap = true`) is predicted out of bag alike (rows in every tree:
//! cross-fitted); any other classifier stays cross-fitted. Model seeds:
//! `seed.indexed(purpose, index)` with purpose `NUISANCE_OUTCOME` (index 0 for `m` and `mu0`, 1
//! for `mu1`) or `NUISANCE_PROPENSITY` (index 0).

use serde::{Deserialize, Serialize};

use crate::causal::crossfit::out_of_fold;
use crate::causal::folds::Folds;
use crate::causal::nuisance::{self, DrOutcome, Propensity, check_clip};
use crate::error::{Error, Result};
use crate::learn::{Classifier, Predict, Regressor, RegressorSpec, TrainSet};
use crate::linalg::select::{gather, gather_opt, select_rows};
use crate::rng::{Seed, stream};
use faer::MatRef;

/// How the outcome nuisances (`m`, `mu0`, `mu1`) are made out of sample.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum NuisanceFit {
    /// The default: `Oob` for the R-learner when its nuisance learner is bagged
    /// ([`Regressor::bagged`]: a random forest with `bootstrap = true`, as the default
    /// nuisance), `CrossFit` otherwise: for any other learner, and for the DR-learner, which
    /// lost AUC out of bag on two scenarios (the meta-learners' `nuisance_rule`).
    #[default]
    Auto,
    /// `K`-fold cross-fitting: `K` fits on `K - 1` folds (any learner).
    CrossFit,
    /// One bagged forest, each row predicted out of bag (see the module docs); needs a random
    /// forest with `bootstrap = true` as the nuisance learner.
    Oob,
}

impl NuisanceFit {
    /// The name users write (`auto`, `crossfit`, `oob`).
    pub fn name(self) -> &'static str {
        match self {
            NuisanceFit::Auto => "auto",
            NuisanceFit::CrossFit => "crossfit",
            NuisanceFit::Oob => "oob",
        }
    }

    /// The rule used: `Auto` becomes `Oob` when `out_of_bag` (the default's choice for the
    /// method and learner at hand, the meta-learners' `nuisance_rule`) and `CrossFit`
    /// otherwise; the explicit rules stay as they are.
    pub fn resolve(self, out_of_bag: bool) -> NuisanceFit {
        match self {
            NuisanceFit::Auto if out_of_bag => NuisanceFit::Oob,
            NuisanceFit::Auto => NuisanceFit::CrossFit,
            explicit => explicit,
        }
    }
}

/// Checks that `spec` can give out-of-bag predictions (a random forest with bootstrap).
///
/// # Errors
/// [`Error::InvalidParam`] for `nuisance_fit`, naming the learner.
pub fn check_learner(spec: &RegressorSpec) -> Result<()> {
    match spec {
        RegressorSpec::RandomForest(p) if p.bootstrap => Ok(()),
        RegressorSpec::RandomForest(_) => Err(Error::param(
            "router",
            "nuisance_fit",
            "`oob` needs a bagged nuisance forest, but the nuisance learner rf has bootstrap=false (every tree \
             sees every row, so no row is out of bag); set bootstrap=true or use nuisance_fit = crossfit",
        )),
        other => Err(not_bagged(&format!("the nuisance learner {}", other.name()))),
    }
}

/// The error for a nuisance learner without out-of-bag predictions (`learner`: how to name it).
fn not_bagged(learner: &str) -> Error {
    Error::param(
        "router",
        "nuisance_fit",
        format!(
            "`oob` needs a bagged nuisance learner (rf with bootstrap=true), but {learner} has no out-of-bag \
             predictions; use nuisance_fit = crossfit"
        ),
    )
}

/// Predictions of `learner` fitted once on the rows where `train_mask` is true (all rows when
/// `None`), seeded `seed.indexed(purpose, index)`: out of bag for its training rows, the whole
/// model's for the others, and for training rows in every member's sample the cross-fitted
/// value `out_of_fold(learner, data, train_mask, folds, seed, purpose)` (see the module docs).
///
/// # Errors
/// [`Error::InvalidParam`] for `nuisance_fit` when the learner is not bagged; the learner's
/// errors; [`Error::InvalidData`] for a non-finite prediction.
pub fn out_of_bag<R: Regressor>(
    learner: &R,
    data: TrainSet<'_>,
    train_mask: Option<&[bool]>,
    folds: &Folds,
    seed: Seed,
    (purpose, index): (u64, u64),
) -> Result<Vec<f64>> {
    let TrainSet { x, y, weights: w } = data;
    let n = x.nrows();
    let inside = |i: usize| train_mask.is_none_or(|m| m[i]);
    let train: Vec<usize> = (0..n).filter(|&i| inside(i)).collect();
    let others: Vec<usize> = (0..n).filter(|&i| !inside(i)).collect();
    let (xs, ys, ws) = (select_rows(x, &train), gather(y, &train), gather_opt(w, &train));
    let fitted = learner
        .fit_out_of_bag(TrainSet { x: xs.as_ref(), y: &ys, weights: ws.as_deref() }, seed.indexed(purpose, index))?;
    let (model, oob) = fitted.ok_or_else(|| not_bagged("this nuisance learner"))?;
    if oob.len() != train.len() {
        return Err(Error::shape("out-of-bag predictions vs training rows", train.len(), oob.len()));
    }
    let mut out = vec![f64::NAN; n];
    for (&i, v) in train.iter().zip(oob) {
        out[i] = v;
    }
    if !others.is_empty() {
        let p = model.predict(select_rows(x, &others).as_ref())?;
        for (&i, v) in others.iter().zip(p) {
            out[i] = v;
        }
    }
    if train.iter().any(|&i| out[i].is_nan()) {
        let crossfit = out_of_fold(learner, data, train_mask, folds, seed, purpose)?;
        for &i in &train {
            if out[i].is_nan() {
                out[i] = crossfit[i];
            }
        }
    }
    check_finite(&out, "out-of-bag nuisance prediction")?;
    Ok(out)
}

/// An error for the first non-finite value.
fn check_finite(v: &[f64], what: &str) -> Result<()> {
    match v.iter().position(|p| !p.is_finite()) {
        Some(i) => Err(Error::data(format!("row {i}: {what} is {}; the nuisance learner returned it", v[i]))),
        None => Ok(()),
    }
}

/// Out-of-bag `(mu0, mu1)` (see the module docs for the rules and
/// [`nuisance::outcomes_by_arm`] for the forms); `folds` serve rows in every tree's sample.
///
/// # Errors
/// As [`out_of_bag`]; [`Error::InvalidData`] for `Shift` with fewer than two gold rows of
/// positive weight.
pub fn outcomes_by_arm<N: Regressor>(
    learner: &N,
    form: DrOutcome,
    data: TrainSet<'_>,
    t: &[f64],
    folds: &Folds,
    seed: Seed,
) -> Result<(Vec<f64>, Vec<f64>)> {
    let (o, w) = (data.y, data.weights);
    let pref: Vec<bool> = t.iter().map(|&v| v != 1.0).collect();
    let mu0 = out_of_bag(learner, data, Some(&pref), folds, seed, (stream::NUISANCE_OUTCOME, 0))?;
    let mu1 = match form {
        DrOutcome::Shift => {
            let wt = |i: usize| w.map_or(1.0, |w| w[i]);
            let (mut s, mut sw) = (0.0, 0.0);
            for i in (0..t.len()).filter(|&i| !pref[i]) {
                s += wt(i) * (o[i] - mu0[i]);
                sw += wt(i);
            }
            let b = s / sw;
            (0..t.len())
                .map(|i| {
                    if pref[i] {
                        return Ok(mu0[i] + b);
                    }
                    let rest = sw - wt(i);
                    if rest <= 0.0 {
                        return Err(Error::data(
                            "nuisance_fit = oob with dr_outcome = shift needs at least two gold rows of positive weight \
                             (each gold row's shift leaves the row out)",
                        ));
                    }
                    Ok(mu0[i] + (s - wt(i) * (o[i] - mu0[i])) / rest)
                })
                .collect::<Result<Vec<f64>>>()?
        }
        DrOutcome::Separate => {
            let gold: Vec<bool> = pref.iter().map(|p| !p).collect();
            out_of_bag(learner, data, Some(&gold), folds, seed, (stream::NUISANCE_OUTCOME, 1))?
        }
    };
    Ok((mu0, mu1))
}

/// The propensity with `nuisance_fit = oob`: out of bag when the classifier is bagged (rows in
/// every tree's sample, and every row for another classifier, cross-fitted as
/// [`nuisance::propensity`] does), the gold share when known.
///
/// # Errors
/// As [`nuisance::propensity`].
pub fn propensity(
    how: &Propensity,
    x: MatRef<'_, f64>,
    t: &[f64],
    w: Option<&[f64]>,
    folds: &Folds,
    seed: Seed,
) -> Result<Vec<f64>> {
    let Propensity::Estimated { classifier, clip } = how else {
        return nuisance::propensity(how, x, t, w, folds, seed);
    };
    check_clip(*clip)?;
    let data = TrainSet { x, y: t, weights: w };
    match Classifier::fit_out_of_bag(classifier, data, seed.indexed(stream::NUISANCE_PROPENSITY, 0))? {
        None => nuisance::propensity(how, x, t, w, folds, seed),
        Some((_, mut e)) => {
            if e.iter().any(|v| v.is_nan()) {
                let crossfit = nuisance::propensity(how, x, t, w, folds, seed)?;
                for (v, c) in e.iter_mut().zip(crossfit) {
                    if v.is_nan() {
                        *v = c;
                    }
                }
            }
            check_finite(&e, "out-of-bag propensity")?;
            Ok(e)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::causal::folds::stratified;
    use crate::learn::forest::RandomForestRegressorParams;
    use crate::learn::{ClassifierSpec, RegressorSpec};
    use crate::linalg::stats::correlation as corr;
    use faer::Mat;
    use rand::RngExt;

    /// `n x d` uniform features, a target of unique noise unrelated to them, and a gold flag on
    /// every 5th row.
    fn noise(n: usize, d: usize, seed: u64) -> (Mat<f64>, Vec<f64>, Vec<f64>) {
        let mut rng = Seed(seed).rng();
        let x = Mat::from_fn(n, d, |_, _| rng.random::<f64>());
        let y = (0..n).map(|_| rng.random::<f64>()).collect();
        let t = (0..n).map(|i| f64::from(i % 5 == 0)).collect();
        (x, y, t)
    }

    fn rf(k: usize) -> RandomForestRegressorParams {
        RandomForestRegressorParams { n_estimators: k, ..Default::default() }
    }

    #[test]
    fn training_rows_get_their_out_of_bag_value_and_the_others_the_whole_forest() {
        let (x, y, t) = noise(700, 3, 1);
        let folds = stratified(&t, 3, Seed(2), 0).unwrap();
        let pref: Vec<bool> = t.iter().map(|&v| v != 1.0).collect();
        let p = rf(30);
        let seed = Seed(5);
        let got = out_of_bag(&p, TrainSet::new(x.as_ref(), &y), Some(&pref), &folds, seed, (7, 3)).unwrap();
        let train: Vec<usize> = (0..700).filter(|&i| pref[i]).collect();
        let gold: Vec<usize> = (0..700).filter(|&i| !pref[i]).collect();
        let ys = gather(&y, &train);
        let (m, oob) =
            p.fit_with_oob(TrainSet::new(select_rows(x.as_ref(), &train).as_ref(), &ys), seed.indexed(7, 3)).unwrap();
        assert!(oob.n_trees.iter().all(|&c| c > 0));
        for (j, &i) in train.iter().enumerate() {
            assert_eq!(got[i].to_bits(), oob.prediction[j].to_bits(), "training row {i}");
        }
        let whole = m.predict(select_rows(x.as_ref(), &gold).as_ref()).unwrap();
        for (j, &i) in gold.iter().enumerate() {
            assert_eq!(got[i].to_bits(), whole[j].to_bits(), "row {i} outside the training set");
        }
        // the leak check: with noise targets a tree that saw row i memorises y_i, so a leak would
        // correlate the values with y; the whole forest in sample does
        let inside = m.predict(select_rows(x.as_ref(), &train).as_ref()).unwrap();
        let got_train = gather(&got, &train);
        assert!(corr(&inside, &ys) > 0.6);
        assert!(corr(&got_train, &ys).abs() < 0.1, "a row's own label leaked: corr {}", corr(&got_train, &ys));
    }

    #[test]
    fn rows_in_every_trees_sample_get_their_cross_fitted_value() {
        let (x, y, t) = noise(300, 2, 3);
        let folds = stratified(&t, 4, Seed(1), 0).unwrap();
        let p = rf(2);
        let data = TrainSet::new(x.as_ref(), &y);
        let got = out_of_bag(&p, data, None, &folds, Seed(4), (stream::NUISANCE_OUTCOME, 0)).unwrap();
        let (_, oob) = p.fit_with_oob(data, Seed(4).indexed(stream::NUISANCE_OUTCOME, 0)).unwrap();
        let crossfit = out_of_fold(&p, data, None, &folds, Seed(4), stream::NUISANCE_OUTCOME).unwrap();
        let missing = oob.n_trees.iter().filter(|&&c| c == 0).count();
        assert!(missing > 50, "two trees: about 40% of rows are in both samples, got {missing}");
        for i in 0..300 {
            let want = if oob.n_trees[i] == 0 { crossfit[i] } else { oob.prediction[i] };
            assert_eq!(got[i].to_bits(), want.to_bits(), "row {i}");
        }
    }

    #[test]
    fn learners_without_out_of_bag_predictions_are_errors_naming_the_parameter() {
        let (x, y, t) = noise(60, 2, 3);
        let folds = stratified(&t, 2, Seed(1), 0).unwrap();
        let ridge = RegressorSpec::from_name("ridge").unwrap();
        let e = out_of_bag(&ridge, TrainSet::new(x.as_ref(), &y), None, &folds, Seed(0), (2, 0)).unwrap_err();
        assert!(e.to_string().contains("nuisance_fit"), "{e}");
        let exact = RandomForestRegressorParams { bootstrap: false, ..rf(3) };
        assert!(out_of_bag(&exact, TrainSet::new(x.as_ref(), &y), None, &folds, Seed(0), (2, 0)).is_err());
        assert!(check_learner(&RegressorSpec::RandomForest(rf(3))).is_ok());
        assert!(check_learner(&RegressorSpec::RandomForest(exact)).unwrap_err().to_string().contains("bootstrap"));
        assert!(check_learner(&ridge).unwrap_err().to_string().contains("ridge"));
    }

    #[test]
    fn the_shift_leaves_each_gold_row_out_of_its_own_b() {
        let (x, y, t) = noise(400, 2, 8);
        let w: Vec<f64> = (0..400).map(|i| 1.0 + (i % 3) as f64).collect();
        let folds = stratified(&t, 3, Seed(1), 0).unwrap();
        let p = rf(20);
        let data = TrainSet { x: x.as_ref(), y: &y, weights: Some(&w) };
        let (mu0, mu1) = outcomes_by_arm(&p, DrOutcome::Shift, data, &t, &folds, Seed(3)).unwrap();
        let gold: Vec<usize> = (0..400).filter(|&i| t[i] == 1.0).collect();
        let b_without = |skip: Option<usize>| {
            let rows: Vec<usize> = gold.iter().copied().filter(|&j| Some(j) != skip).collect();
            let s: f64 = rows.iter().map(|&j| w[j] * (y[j] - mu0[j])).sum();
            s / rows.iter().map(|&j| w[j]).sum::<f64>()
        };
        let b = b_without(None);
        for i in 0..400 {
            let want = mu0[i] + if t[i] == 1.0 { b_without(Some(i)) } else { b };
            assert!((mu1[i] - want).abs() < 1e-12, "row {i}: mu1 {} vs {want}", mu1[i]);
        }
        let (_, sep) = outcomes_by_arm(&p, DrOutcome::Separate, data, &t, &folds, Seed(3)).unwrap();
        let gold_mask: Vec<bool> = t.iter().map(|&v| v == 1.0).collect();
        let want = out_of_bag(&p, data, Some(&gold_mask), &folds, Seed(3), (stream::NUISANCE_OUTCOME, 1)).unwrap();
        assert_eq!(sep, want);
        // a single gold row cannot leave itself out
        let one: Vec<f64> = (0..400).map(|i| f64::from(i == 0)).collect();
        assert!(outcomes_by_arm(&p, DrOutcome::Shift, data, &one, &folds, Seed(3)).is_err());
    }

    #[test]
    fn a_forest_propensity_is_out_of_bag_and_another_classifier_cross_fitted() {
        let (x, _, t) = noise(500, 3, 2);
        let folds = stratified(&t, 3, Seed(1), 0).unwrap();
        let rfc = ClassifierSpec::from_name("rfc").unwrap();
        let how = Propensity::estimated(rfc.clone());
        let e = propensity(&how, x.as_ref(), &t, None, &folds, Seed(6)).unwrap();
        let (_, oob) = Classifier::fit_out_of_bag(
            &rfc,
            TrainSet::new(x.as_ref(), &t),
            Seed(6).indexed(stream::NUISANCE_PROPENSITY, 0),
        )
        .unwrap()
        .unwrap();
        assert_eq!(e, oob);
        let logit = Propensity::estimated(ClassifierSpec::from_name("logistic").unwrap());
        assert_eq!(
            propensity(&logit, x.as_ref(), &t, None, &folds, Seed(6)).unwrap(),
            nuisance::propensity(&logit, x.as_ref(), &t, None, &folds, Seed(6)).unwrap()
        );
        assert_eq!(propensity(&Propensity::Known, x.as_ref(), &t, None, &folds, Seed(6)).unwrap(), vec![0.2; 500]);
    }
}
