//! The learner conformance suite: every name in `RegressorSpec::NAMES` and
//! `ClassifierSpec::NAMES` goes through the same checks, so a learner added to the spec is
//! checked without a line here.
//!
//! * **Weights**: a weight of 2 gives the fit of the row appearing twice (under each learner's
//!   exact-weight settings: no bootstrap, no row-count rules, no random row split), to 1e-6.
//! * **Threads**: the model bytes and the prediction bits are the same in pools of 1, 2 and 8
//!   threads, on 20,000 rows (more than one Gram chunk, loss chunk, gather block and
//!   prediction block, so the parallel paths run).
//! * **Persistence**: a model saved and loaded through `meta_router::persist` predicts the same
//!   bits, by batch and by row, and encodes to the same bytes.
//! * **Golden files**: `tests/data/golden/<name>.mr`, written by the binary before the learners'
//!   params types were renamed, still load and equal a fresh fit; the spec's serde encodings
//!   (bincode and JSON) are those recorded in `tests/data/golden/manifest.tsv`.
//! * **Bad input**: each fault gives its error kind: a non-finite feature (NaN is accepted as a
//!   missing value by learners whose spec says so), target or weight, no rows, mismatched
//!   lengths, a negative or all-zero weight, a non-0/1 or one-class classifier target, an
//!   unknown parameter, a prediction of the wrong shape.
//!
//! Per-learner settings ([`fast`], [`exact_weights`]) only make the checks quick or exact; a
//! learner without an entry runs with its defaults.

use faer::{Mat, MatRef};
use meta_router::data::{ColumnRoles, read_csv};
use meta_router::learn::{
    ClassifierModel, ClassifierSpec, Predict, PredictProba, RegressorModel, RegressorSpec, TrainSet,
};
use meta_router::persist::{self, Kind};
use meta_router::{Error, Result, Seed};
use rand::RngExt;

use crate::util;

/// Settings that keep a learner quick while still running its random paths (bootstrap and
/// out-of-bag rows, row and feature subsampling, early stopping).
fn fast(name: &str) -> &'static [&'static str] {
    match name {
        "rf" | "rfc" => &["n_estimators=8", "max_depth=8", "max_features=sqrt", "oob_score=true"],
        "hgb" | "hgbc" => &[
            "max_iter=10",
            "max_leaf_nodes=8",
            "min_samples_leaf=5",
            "subsample=0.7",
            "colsample=0.6",
            "early_stopping=true",
        ],
        _ => &[],
    }
}

/// Settings (applied after [`fast`]) under which a weight of 2 is exactly a duplicated row:
/// forests without bootstrap; boosting without row-count rules, subsampling or a validation
/// split.
fn exact_weights(name: &str) -> &'static [&'static str] {
    match name {
        "rf" | "rfc" => &["bootstrap=false", "oob_score=false"],
        "hgb" | "hgbc" => &["min_samples_leaf=1", "subsample=1.0", "colsample=1.0", "early_stopping=false"],
        _ => &[],
    }
}

/// The learners the settings tables name (each must be in the spec).
const TABLED: &[&str] = &["rf", "rfc", "hgb", "hgbc"];

/// One learner of the spec, regressor or classifier.
#[derive(Clone, Debug)]
enum Learner {
    Regressor(RegressorSpec),
    Classifier(ClassifierSpec),
}

/// A fitted model of either kind.
enum Fitted {
    Regressor(RegressorModel),
    Classifier(ClassifierModel),
}

impl Learner {
    /// Every learner in the spec, with default parameters.
    fn all() -> Vec<Learner> {
        let r = RegressorSpec::NAMES.iter().map(|n| Learner::Regressor(RegressorSpec::from_name(n).unwrap()));
        let c = ClassifierSpec::NAMES.iter().map(|n| Learner::Classifier(ClassifierSpec::from_name(n).unwrap()));
        r.chain(c).collect()
    }

    /// Every learner with its [`fast`] settings.
    fn all_fast() -> Vec<Learner> {
        Learner::all()
            .into_iter()
            .map(|l| {
                let name = l.name();
                l.with(fast(name))
            })
            .collect()
    }

    fn name(&self) -> &'static str {
        match self {
            Learner::Regressor(s) => s.name(),
            Learner::Classifier(s) => s.name(),
        }
    }

    fn with(mut self, pairs: &[&str]) -> Learner {
        match &mut self {
            Learner::Regressor(s) => s.set_params(pairs).unwrap(),
            Learner::Classifier(s) => s.set_params(pairs).unwrap(),
        }
        self
    }

    fn set_param(&mut self, name: &str, value: &str) -> Result<()> {
        match self {
            Learner::Regressor(s) => s.set_param(name, value),
            Learner::Classifier(s) => s.set_param(name, value),
        }
    }

    fn accepts_missing(&self) -> bool {
        match self {
            Learner::Regressor(s) => s.accepts_missing(),
            Learner::Classifier(s) => s.accepts_missing(),
        }
    }

    /// The target of `d` this learner fits: `y` for a regressor, the 0/1 `t` for a classifier.
    fn target<'a>(&self, d: &'a Data) -> &'a [f64] {
        match self {
            Learner::Regressor(_) => &d.y,
            Learner::Classifier(_) => &d.t,
        }
    }

    fn fit(&self, x: MatRef<'_, f64>, y: &[f64], w: Option<&[f64]>, seed: Seed) -> Result<Fitted> {
        let data = TrainSet { x, y, weights: w };
        match self {
            Learner::Regressor(s) => s.fit(data, seed).map(Fitted::Regressor),
            Learner::Classifier(s) => s.fit(data, seed).map(Fitted::Classifier),
        }
    }

    /// Fits on `d` with its own target.
    fn fit_on(&self, d: &Data, w: Option<&[f64]>, seed: Seed) -> Result<Fitted> {
        self.fit(d.x.as_ref(), self.target(d), w, seed)
    }

    fn kind(&self) -> Kind {
        match self {
            Learner::Regressor(_) => Kind::Regressor,
            Learner::Classifier(_) => Kind::Classifier,
        }
    }

    /// The spec's serde encodings: bincode (standard config, as in model files) in hex, and JSON.
    fn encodings(&self) -> (String, String) {
        let cfg = bincode::config::standard();
        let (bytes, json) = match self {
            Learner::Regressor(s) => (bincode::serde::encode_to_vec(s, cfg), serde_json::to_string(s)),
            Learner::Classifier(s) => (bincode::serde::encode_to_vec(s, cfg), serde_json::to_string(s)),
        };
        (bytes.unwrap().iter().map(|b| format!("{b:02x}")).collect(), json.unwrap())
    }
}

impl Fitted {
    fn predict(&self, x: MatRef<'_, f64>) -> Result<Vec<f64>> {
        match self {
            Fitted::Regressor(m) => m.predict(x),
            Fitted::Classifier(m) => m.predict_proba(x),
        }
    }

    fn predict_into(&self, x: MatRef<'_, f64>, out: &mut [f64]) -> Result<()> {
        match self {
            Fitted::Regressor(m) => m.predict_into(x, out),
            Fitted::Classifier(m) => m.predict_proba_into(x, out),
        }
    }

    /// One row's prediction through the single-row path (for classifiers, a 1-row batch).
    fn predict_row(&self, row: &[f64]) -> Result<f64> {
        match self {
            Fitted::Regressor(m) => m.predict_row(row),
            Fitted::Classifier(m) => {
                let mut out = [0.0];
                m.predict_proba_into(MatRef::from_row_major_slice(row, 1, row.len()), &mut out)?;
                Ok(out[0])
            }
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        match self {
            Fitted::Regressor(m) => persist::to_bytes(Kind::Regressor, m).unwrap(),
            Fitted::Classifier(m) => persist::to_bytes(Kind::Classifier, m).unwrap(),
        }
    }

    fn from_bytes(bytes: &[u8], kind: Kind) -> Result<Fitted> {
        match kind {
            Kind::Classifier => persist::from_bytes(bytes, kind).map(Fitted::Classifier),
            _ => persist::from_bytes(bytes, kind).map(Fitted::Regressor),
        }
    }
}

/// Uniform features in [-1, 1], a non-linear target `y` with noise and a 0/1 target `t`
/// (both classes present).
struct Data {
    x: Mat<f64>,
    y: Vec<f64>,
    t: Vec<f64>,
}

fn sample(n: usize, d: usize, seed: u64) -> Data {
    let mut rng = Seed(seed).rng();
    let x = Mat::from_fn(n, d, |_, _| rng.random::<f64>() * 2.0 - 1.0);
    let f = |i: usize| 2.0 * x[(i, 0)] - x[(i, 1 % d)] + (3.0 * x[(i, 2 % d)]).sin();
    let y: Vec<f64> = (0..n).map(|i| f(i) + 0.3 * (rng.random::<f64>() - 0.5)).collect();
    let mut t: Vec<f64> = (0..n).map(|i| f64::from(f(i) + 0.8 * (rng.random::<f64>() - 0.5) > 0.0)).collect();
    t[0] = 0.0;
    t[1] = 1.0;
    Data { x, y, t }
}

/// Runs `check` on every learner, collects the failures, and fails listing all of them.
fn for_each(learners: Vec<Learner>, check: impl Fn(&Learner) -> std::result::Result<(), String>) {
    let failures: Vec<String> =
        learners.iter().filter_map(|l| check(l).err().map(|e| format!("{}: {e}", l.name()))).collect();
    assert!(failures.is_empty(), "{} learner(s) failed:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_learner_in_the_spec_is_covered() {
    let names: Vec<&str> = Learner::all().iter().map(Learner::name).collect();
    let mut want: Vec<&str> = RegressorSpec::NAMES.iter().chain(ClassifierSpec::NAMES).copied().collect();
    assert_eq!(names, want, "Learner::all() must list the spec's names in order");
    want.sort_unstable();
    want.dedup();
    assert_eq!(want.len(), names.len(), "a name is both a regressor and a classifier");
    for name in TABLED {
        assert!(names.contains(name), "the settings tables name `{name}`, which the spec does not have");
    }
    // every learner has a golden model file and a manifest line
    let manifest = golden_manifest();
    for name in &names {
        assert!(
            manifest.iter().any(|g| g.name == *name),
            "no line for `{name}` in tests/data/golden/manifest.tsv: see that file's header to add one"
        );
        assert!(util::data(&format!("golden/{name}.mr")).exists(), "tests/data/golden/{name}.mr is missing");
    }
}

#[test]
fn a_weight_of_two_equals_a_duplicated_row() {
    let d = sample(80, 4, 1);
    let dup: Vec<usize> = (0..80).filter(|i| i % 5 == 0).collect();
    let mut w = vec![1.0; 80];
    for &i in &dup {
        w[i] = 2.0;
    }
    let rows: Vec<usize> = (0..80).chain(dup.iter().copied()).collect();
    let xd = Mat::from_fn(rows.len(), 4, |i, j| d.x[(rows[i], j)]);
    for_each(Learner::all_fast(), |l| {
        let l = l.clone().with(exact_weights(l.name()));
        let target = l.target(&d);
        let yd: Vec<f64> = rows.iter().map(|&i| target[i]).collect();
        let a = l.fit(d.x.as_ref(), target, Some(&w), Seed(3)).map_err(|e| e.to_string())?;
        let b = l.fit(xd.as_ref(), &yd, None, Seed(3)).map_err(|e| e.to_string())?;
        let (pa, pb) = (a.predict(d.x.as_ref()).unwrap(), b.predict(d.x.as_ref()).unwrap());
        match (0..80).find(|&i| (pa[i] - pb[i]).abs() > 1e-6 * pb[i].abs().max(1.0)) {
            Some(i) => Err(format!("row {i}: weight 2 gives {} but the duplicated row {}", pa[i], pb[i])),
            None => Ok(()),
        }
    });
}

#[test]
fn fits_and_predictions_are_bit_identical_for_1_2_and_8_threads() {
    let d = sample(20_000, 6, 2);
    let w: Vec<f64> = (0..20_000).map(|i| 0.5 + (i % 4) as f64).collect();
    for_each(Learner::all_fast(), |l| {
        let runs = util::in_pools(|| {
            let m = l.fit_on(&d, Some(&w), Seed(7)).unwrap();
            (m.to_bytes(), util::bits(&m.predict(d.x.as_ref()).unwrap()))
        });
        for (k, run) in util::THREADS.iter().zip(&runs).skip(1) {
            if run.0 != runs[0].0 {
                return Err(format!("the model bytes differ with {k} threads"));
            }
            if run.1 != runs[0].1 {
                return Err(format!("the predictions differ with {k} threads"));
            }
        }
        Ok(())
    });
}

#[test]
fn a_saved_model_loads_and_predicts_the_same_bits() {
    let d = sample(300, 5, 3);
    for_each(Learner::all_fast(), |l| {
        let m = l.fit_on(&d, None, Seed(11)).unwrap();
        let bytes = m.to_bytes();
        let back = Fitted::from_bytes(&bytes, l.kind()).map_err(|e| e.to_string())?;
        if back.to_bytes() != bytes {
            return Err("the loaded model encodes to other bytes".into());
        }
        let (p, q) = (m.predict(d.x.as_ref()).unwrap(), back.predict(d.x.as_ref()).unwrap());
        if util::bits(&p) != util::bits(&q) {
            return Err("the loaded model predicts other bits".into());
        }
        let mut row = vec![0.0; 5];
        for i in (0..300).step_by(17) {
            for (j, r) in row.iter_mut().enumerate() {
                *r = d.x[(i, j)];
            }
            if back.predict_row(&row).unwrap().to_bits() != p[i].to_bits() {
                return Err(format!("row {i}: the single-row prediction differs from the batch"));
            }
        }
        // the other kind's loader refuses the file
        let other = if l.kind() == Kind::Regressor { Kind::Classifier } else { Kind::Regressor };
        match Fitted::from_bytes(&bytes, other) {
            Err(Error::ModelFile { .. }) => Ok(()),
            Err(e) => Err(format!("loading as the other kind: {e}")),
            Ok(_) => Err("loaded as the other kind".into()),
        }
    });
}

/// One line of `tests/data/golden/manifest.tsv`.
struct Golden {
    name: String,
    csv: String,
    target: String,
    params: Vec<String>,
    /// The spec's bincode encoding in hex and its JSON, as recorded (absent on a new line).
    encodings: Option<(String, String)>,
}

fn golden_manifest() -> Vec<Golden> {
    let text = std::fs::read_to_string(util::data("golden/manifest.tsv")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            assert!(f.len() == 4 || f.len() == 6, "manifest line with {} fields: {line}", f.len());
            Golden {
                name: f[0].to_string(),
                csv: f[1].to_string(),
                target: f[2].to_string(),
                params: if f[3] == "-" { vec![] } else { f[3].split(',').map(String::from).collect() },
                encodings: (f.len() == 6).then(|| (f[4].to_string(), f[5].to_string())),
            }
        })
        .collect()
}

#[test]
fn model_files_and_spec_encodings_from_before_the_rename_still_hold() {
    let by_name = |name: &str| Learner::all().into_iter().find(|l| l.name() == name);
    let mut failures = Vec::new();
    for g in golden_manifest() {
        let Some(learner) = by_name(&g.name) else {
            failures.push(format!("{}: not in the spec", g.name));
            continue;
        };
        let params: Vec<&str> = g.params.iter().map(String::as_str).collect();
        let learner = learner.with(&params);
        let encodings = learner.encodings();
        if g.encodings.as_ref() != Some(&encodings) {
            let line = format!(
                "{}\t{}\t{}\t{}\t{}\t{}",
                g.name,
                g.csv,
                g.target,
                if params.is_empty() { "-".to_string() } else { params.join(",") },
                encodings.0,
                encodings.1
            );
            failures.push(format!("{}: the spec encodes differently from the manifest; now:\n{line}", g.name));
        }
        // the file `meta-router learn --save` wrote loads, and a fresh fit (the CLI's default
        // seed, 42) gives the same model and predictions
        let mut roles = ColumnRoles::with_features(None);
        roles.numeric.push(g.target.clone());
        let d = read_csv(util::data(&format!("golden/{}", g.csv)), &roles).unwrap();
        let y = d.column(&g.target).unwrap();
        let file = std::fs::read(util::data(&format!("golden/{}.mr", g.name))).unwrap();
        let loaded = match Fitted::from_bytes(&file, learner.kind()) {
            Ok(m) => m,
            Err(e) => {
                failures.push(format!("{}: the golden file does not load: {e}", g.name));
                continue;
            }
        };
        let fresh = learner.fit(d.x.as_ref(), y, None, Seed(42)).unwrap();
        let payload = |b: &[u8]| b[34 + usize::from(u16::from_le_bytes([b[16], b[17]]))..].to_vec();
        if payload(&fresh.to_bytes()) != payload(&file) {
            failures.push(format!("{}: a fresh fit encodes differently from the golden file", g.name));
        }
        let (p, q) = (loaded.predict(d.x.as_ref()).unwrap(), fresh.predict(d.x.as_ref()).unwrap());
        if util::bits(&p) != util::bits(&q) {
            failures.push(format!("{}: the golden model predicts other bits than a fresh fit", g.name));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Asserts that `r` is an error of the kind `matches` accepts.
fn want(what: &str, r: Result<Fitted>, matches: impl Fn(&Error) -> bool) -> std::result::Result<(), String> {
    match r {
        Err(e) if matches(&e) => Ok(()),
        Err(e) => Err(format!("{what}: wrong error kind: {e:?}")),
        Ok(_) => Err(format!("{what}: accepted")),
    }
}

#[test]
fn bad_input_gives_its_error_kind() {
    let d = sample(40, 3, 4);
    for_each(Learner::all_fast(), |l| {
        let (x, y) = (d.x.as_ref(), l.target(&d));
        let fit = |x: MatRef<'_, f64>, y: &[f64], w: Option<&[f64]>| l.fit(x, y, w, Seed(0));
        let non_finite = |row: usize, col: usize| move |e: &Error| matches!(e, Error::NonFinite { row: r, col: c, .. } if *r == row && *c == col);
        let invalid_data = |e: &Error| matches!(e, Error::InvalidData { .. });
        let shape = |e: &Error| matches!(e, Error::Shape { .. });

        let mut xn = d.x.clone();
        xn[(5, 1)] = f64::NAN;
        if l.accepts_missing() {
            let m = fit(xn.as_ref(), y, None).map_err(|e| format!("NaN feature (a missing value): {e}"))?;
            if !m.predict(xn.as_ref()).unwrap().iter().all(|v| v.is_finite()) {
                return Err("a NaN feature gives a non-finite prediction".into());
            }
        } else {
            want("NaN feature", fit(xn.as_ref(), y, None), non_finite(5, 1))?;
        }
        let mut xi = d.x.clone();
        xi[(7, 2)] = f64::NEG_INFINITY;
        want("infinite feature", fit(xi.as_ref(), y, None), non_finite(7, 2))?;
        let mut yn = y.to_vec();
        yn[3] = f64::NAN;
        want("NaN target", fit(x, &yn, None), non_finite(3, 0))?;
        let empty = Mat::<f64>::zeros(0, 3);
        want("no rows", fit(empty.as_ref(), &[], None), |e| matches!(e, Error::Empty { .. }))?;
        let no_cols = Mat::<f64>::zeros(40, 0);
        want("no feature columns", fit(no_cols.as_ref(), y, None), |e| matches!(e, Error::Empty { .. }))?;
        want("targets shorter than rows", fit(x, &y[..39], None), shape)?;
        let w = vec![1.0; 40];
        want("weights shorter than rows", fit(x, y, Some(&w[..20])), shape)?;
        let mut wb = w.clone();
        wb[6] = -1.0;
        want("negative weight", fit(x, y, Some(&wb)), invalid_data)?;
        wb[6] = f64::NAN;
        want("NaN weight", fit(x, y, Some(&wb)), non_finite(6, 0))?;
        want("all-zero weights", fit(x, y, Some(&[0.0; 40])), invalid_data)?;
        if let Learner::Classifier(_) = l {
            want("one-class target", fit(x, &[1.0; 40], None), invalid_data)?;
            let mut half = y.to_vec();
            half[2] = 0.5;
            want("a target other than 0/1", fit(x, &half, None), invalid_data)?;
        }
        let mut p = l.clone();
        match p.set_param("no_such_parameter", "1") {
            Err(Error::InvalidParam { .. }) => {}
            other => return Err(format!("an unknown parameter: {other:?}")),
        }
        let m = fit(x, y, None).map_err(|e| e.to_string())?;
        if !matches!(m.predict(Mat::<f64>::zeros(2, 4).as_ref()), Err(Error::Shape { .. })) {
            return Err("predicting with the wrong number of columns is not a shape error".into());
        }
        if !matches!(m.predict_row(&[0.0; 2]), Err(Error::Shape { .. })) {
            return Err("a row of the wrong length is not a shape error".into());
        }
        let mut out = vec![0.0; 39];
        if !matches!(m.predict_into(x, &mut out), Err(Error::Shape { .. })) {
            return Err("an output buffer of the wrong length is not a shape error".into());
        }
        Ok(())
    });
}
