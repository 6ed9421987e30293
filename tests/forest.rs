//! Random forests on real data against scikit-learn's figures, and through the command line.
//!
//! Reference figures (tests/data/reference.json, "accuracy", copied from the
//! benchmark workspace's shared reference folder, not part of this repository; scikit-learn 1.9.1): mean over random_state 0..4 of the
//! test score of `RandomForest{Regressor,Classifier}(n_estimators=100, max_depth=20,
//! max_features="sqrt")`, test rows = 0-based index % 5 == 0:
//! diabetes R^2 0.4769 (rf_diabetes_r2_mean_of_5_seeds), breast cancer AUC 0.9732
//! (rfc_breast_cancer_auc_mean_of_5_seeds). Our forest draws different bootstrap samples, so
//! we compare our mean over 10 seeds. The seed-to-seed standard deviation on these small test
//! sets is about 0.017 (R^2) and 0.004 (AUC), so the reference 5-seed mean itself carries a
//! standard error of about 0.008 / 0.002; the margins (R^2: 0.02, AUC: 0.005) are about two
//! standard errors of the difference. (Our 40-seed means: R^2 0.465, AUC 0.973.)

use meta_router::Seed;
use meta_router::data::{ColumnRoles, Dataset, read_csv};
use meta_router::eval::metrics;
use meta_router::learn::{ClassifierSpec, Predict, PredictProba, RegressorSpec, TrainSet};

const SKLEARN_RF_DIABETES_R2: f64 = 0.4769464892356739;
const SKLEARN_RFC_BREAST_CANCER_AUC: f64 = 0.9731756756756755;

fn load(file: &str, target: &str) -> (Dataset, Dataset, Vec<f64>, Vec<f64>) {
    let path = crate::util::data(file);
    let mut roles = ColumnRoles::with_features(None);
    roles.numeric.push(target.to_string());
    let d = read_csv(&path, &roles).unwrap();
    let n = d.n_rows();
    let test: Vec<usize> = (0..n).filter(|i| i % 5 == 0).collect();
    let train: Vec<usize> = (0..n).filter(|i| i % 5 != 0).collect();
    let (tr, te) = (d.select_rows(&train), d.select_rows(&test));
    let (ytr, yte) = (tr.column(target).unwrap().to_vec(), te.column(target).unwrap().to_vec());
    (tr, te, ytr, yte)
}

const PAPER: [&str; 3] = ["n_estimators=100", "max_depth=20", "max_features=sqrt"];
const SEEDS: u64 = 10;

/// The test score of seeds 0..SEEDS on a fixture: `(mean, each)`.
fn mean_score(
    file: &str,
    target: &str,
    score: impl Fn(&Dataset, &[f64], &Dataset, &[f64], Seed) -> f64,
) -> (f64, Vec<f64>) {
    let (tr, te, ytr, yte) = load(file, target);
    let each: Vec<f64> = (0..SEEDS).map(|s| score(&tr, &ytr, &te, &yte, Seed(s))).collect();
    (each.iter().sum::<f64>() / SEEDS as f64, each)
}

#[test]
fn rf_diabetes_r2_matches_sklearn() {
    let mut spec = RegressorSpec::from_name("rf").unwrap();
    spec.set_params(&PAPER).unwrap();
    let (mean, each) = mean_score("diabetes.csv", "y", |tr, ytr, te, yte, seed| {
        let m = spec.fit(TrainSet::new(tr.x.as_ref(), ytr), seed).unwrap();
        metrics::r2(yte, &m.predict(te.x.as_ref()).unwrap()).unwrap()
    });
    assert!((mean - SKLEARN_RF_DIABETES_R2).abs() < 0.02, "R^2 {mean} ({each:?}) vs sklearn {SKLEARN_RF_DIABETES_R2}");
}

/// The binned split search (`split=binned`, 255 bins) against the exact one on both reference
/// sets, same seeds: issue 12 asks for test R^2 / AUC within 0.002. On diabetes (353 training
/// rows, about 224 distinct in a bootstrap sample) every node is below the binned search's node
/// size, so the forests are the exact ones; on breast cancer (455 rows, 30 continuous features)
/// the upper nodes split at bin edges.
#[test]
fn binned_split_search_scores_as_the_exact_search_on_the_reference_sets() {
    let mut exact = RegressorSpec::from_name("rf").unwrap();
    exact.set_params(&PAPER).unwrap();
    let mut binned = exact.clone();
    binned.set_params(&["split=binned"]).unwrap();
    let r2 = |spec: &RegressorSpec| {
        mean_score("diabetes.csv", "y", |tr, ytr, te, yte, seed| {
            let m = spec.fit(TrainSet::new(tr.x.as_ref(), ytr), seed).unwrap();
            metrics::r2(yte, &m.predict(te.x.as_ref()).unwrap()).unwrap()
        })
    };
    let ((e, each_e), (b, each_b)) = (r2(&exact), r2(&binned));
    assert_eq!(each_e, each_b, "diabetes: the nodes are small enough for the exact search throughout");
    assert!((e - b).abs() < 0.002);
    let mut exact = ClassifierSpec::from_name("rfc").unwrap();
    exact.set_params(&PAPER).unwrap();
    let mut binned = exact.clone();
    binned.set_params(&["split=binned"]).unwrap();
    let auc = |spec: &ClassifierSpec| {
        mean_score("breast_cancer_standardized.csv", "t", |tr, ytr, te, yte, seed| {
            let m = spec.fit(TrainSet::new(tr.x.as_ref(), ytr), seed).unwrap();
            metrics::auc(yte, &m.predict_proba(te.x.as_ref()).unwrap()).unwrap()
        })
    };
    let ((e, each_e), (b, each_b)) = (auc(&exact), auc(&binned));
    assert!(each_e != each_b, "breast cancer: the root nodes use the bins");
    assert!((e - b).abs() < 0.002, "AUC binned {b} ({each_b:?}) vs exact {e} ({each_e:?})");
}

#[test]
fn rfc_breast_cancer_auc_matches_sklearn() {
    let mut spec = ClassifierSpec::from_name("rfc").unwrap();
    spec.set_params(&PAPER).unwrap();
    let (mean, each) = mean_score("breast_cancer_standardized.csv", "t", |tr, ytr, te, yte, seed| {
        let m = spec.fit(TrainSet::new(tr.x.as_ref(), ytr), seed).unwrap();
        metrics::auc(yte, &m.predict_proba(te.x.as_ref()).unwrap()).unwrap()
    });
    let sk = SKLEARN_RFC_BREAST_CANCER_AUC;
    assert!((mean - sk).abs() < 0.005, "AUC {mean} ({each:?}) vs sklearn {sk}");
}

#[test]
fn learn_command_fits_rf_with_sklearn_names() {
    let data = crate::util::data("diabetes.csv");
    let out = crate::util::bin()
        .args(["learn", "--learner", "rf", "--data"])
        .arg(&data)
        .args(["--target", "y", "--json"])
        .args(["--param", "max_depth=20", "--param", "max_features=sqrt", "--param", "n_estimators=20"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["learner"], "rf");
    // training R^2 of a deep forest is high but not 1 (bootstrap)
    let r2 = v["value"].as_f64().unwrap();
    assert!(r2 > 0.8 && r2 < 1.0, "{r2}");
    let out = crate::util::bin()
        .args(["learn", "--learner", "rf", "--data"])
        .arg(&data)
        .args(["--target", "y", "--param", "min_samples_leaf=0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("min_samples_leaf"));
}
