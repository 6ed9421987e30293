//! `meta-router learn`: fit one learner on a CSV and report fit time, predict time and quality.
//!
//! Regressors report R^2, classifiers ROC AUC (log loss beside it), on the test file when one is
//! given and on the training data otherwise. With `--json` the report is one JSON object with
//! the keys `learner, n_train, n_test, d, fit_seconds, predict_seconds, metric, value` plus
//! extra figures. Parameter names follow scikit-learn's where one exists.
//!
//! `--learner pca` takes no target: it reports the share of variance explained (the sum of the
//! explained variance ratios) and `reconstruction_error = ||X - Xhat||^2 / ||X - mean||^2` on the
//! evaluation rows, the figure scikit-learn peers report.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use serde_json::{Map, Value, json};

use crate::cli::args::{DataArgs, LearnerArgs, OutputArgs, SeedArgs};
use crate::data::{ColumnRoles, Dataset, read_csv};
use crate::error::{Error, Result};
use crate::eval::metrics;
use crate::learn::pca::PcaParams;
use crate::learn::{
    ClassifierModel, ClassifierSpec, Params, Predict, PredictProba, RegressorModel, RegressorSpec, TrainSet,
};
use crate::persist;
use crate::rng::Seed;

/// Arguments of `meta-router learn`.
#[derive(Debug, Args)]
pub struct LearnArgs {
    /// The learner and its parameters.
    #[command(flatten)]
    pub model: LearnerArgs,
    /// Training CSV, features and weights.
    #[command(flatten)]
    pub input: DataArgs,
    /// The target column (not needed for pca).
    #[arg(long)]
    pub target: Option<String>,
    /// Test CSV; quality is measured on it (on the training data when absent).
    #[arg(long)]
    pub test: Option<PathBuf>,
    /// The seed.
    #[command(flatten)]
    pub seed: SeedArgs,
    /// `--json`, and `-o/--out FILE` to save the fitted model.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// What was learned and how well.
struct Report {
    metric: &'static str,
    value: f64,
    fit_seconds: f64,
    predict_seconds: f64,
    extra: Map<String, Value>,
}

fn load(path: &PathBuf, args: &LearnArgs) -> Result<Dataset> {
    let mut roles = ColumnRoles::with_features(args.input.features.as_deref());
    roles.numeric.extend(args.target.iter().cloned());
    roles.numeric.extend(args.input.weight_col.iter().cloned());
    read_csv(path, &roles)
}

fn target<'a>(d: &'a Dataset, args: &LearnArgs) -> Result<&'a [f64]> {
    let name =
        args.target.as_deref().ok_or_else(|| Error::param("learn", "--target", "is required for this learner"))?;
    d.check_finite_column(name)?;
    d.column(name)
}

/// PCA: fit on the training features, transform (and reconstruct) the evaluation rows.
///
/// The metric is the share of variance explained (the sum of the explained variance ratios);
/// `reconstruction_error` is `||X - Xhat||^2 / ||X - mean(X)||^2` on the evaluation rows.
fn run_pca(args: &LearnArgs, train: &Dataset, eval: &Dataset, seed: Seed) -> Result<Report> {
    let mut params = PcaParams::default();
    for pair in &args.model.params {
        let (k, v) = pair.split_once('=').ok_or_else(|| Error::param("pca", pair, "expected `name=value`"))?;
        params.set_param(k.trim(), v)?;
    }
    params.validate()?;
    train.check_finite_features()?;
    eval.check_finite_features()?;
    let t0 = Instant::now();
    let model = params.fit(train.x.as_ref(), seed).map_err(|e| e.name_features(&train.feature_names))?;
    let fit_seconds = t0.elapsed().as_secs_f64();
    let t1 = Instant::now();
    let z = model.transform(eval.x.as_ref())?;
    let predict_seconds = t1.elapsed().as_secs_f64();
    let back = model.inverse_transform(z.as_ref())?;
    let x = eval.x.as_ref();
    let means = crate::linalg::dot::column_means(x, None);
    let (mut err, mut tot) = (0.0, 0.0);
    for j in 0..x.ncols() {
        for i in 0..x.nrows() {
            err += (x[(i, j)] - back[(i, j)]).powi(2);
            tot += (x[(i, j)] - means[j]).powi(2);
        }
    }
    if let Some(p) = &args.output.out {
        persist::save(p, persist::Kind::Pca, &model)?;
    }
    let mut extra = Map::new();
    extra.insert("n_components".into(), json!(model.n_components()));
    extra.insert("solver".into(), json!(format!("{:?}", model.solver).to_lowercase()));
    extra.insert("reconstruction_error".into(), json!(if tot > 0.0 { err / tot } else { 0.0 }));
    let value = model.explained_variance_ratio().iter().sum();
    Ok(Report { metric: "explained_variance", value, fit_seconds, predict_seconds, extra })
}

/// Runs `meta-router learn`.
///
/// # Errors
/// Unknown learner or parameter, unreadable or invalid data, a failed fit.
pub fn run(args: LearnArgs) -> Result<()> {
    let train = load(&args.input.data, &args)?;
    let test = match &args.test {
        Some(p) => Some(load(p, &args)?),
        None => None,
    };
    if let Some(t) = &test {
        if t.feature_names != train.feature_names {
            return Err(Error::data(format!(
                "{} has feature columns [{}] but {} has [{}]",
                t.path.display(),
                t.feature_names.join(", "),
                train.path.display(),
                train.feature_names.join(", ")
            )));
        }
    }
    let eval = test.as_ref().unwrap_or(&train);
    // Cell-level checks here, so errors name the file, line and column (the learners' own checks
    // can only name a matrix row and column).
    let name = args.model.learner.as_str();
    let allow_missing = RegressorSpec::from_name(name).map(|s| s.accepts_missing()).unwrap_or(false)
        || ClassifierSpec::from_name(name).map(|s| s.accepts_missing()).unwrap_or(false);
    for d in [Some(&train), test.as_ref()].into_iter().flatten() {
        d.check_features(allow_missing)?;
        if ClassifierSpec::NAMES.contains(&args.model.learner.as_str()) {
            if let Some(t) = &args.target {
                d.check_column(t, |v| v == 0.0 || v == 1.0, "classifier target must be 0 or 1")?;
            }
        }
    }
    let weights = match &args.input.weight_col {
        Some(w) => {
            train.check_column(w, |v| v.is_finite() && v >= 0.0, "sample weight must be a finite number >= 0")?;
            Some(train.column(w)?)
        }
        None => None,
    };
    let seed = Seed(args.seed.seed);

    let report = if RegressorSpec::NAMES.contains(&args.model.learner.as_str()) {
        let mut spec = RegressorSpec::from_name(&args.model.learner)?;
        spec.set_params(&args.model.params)?;
        spec.validate()?;
        let y = target(&train, &args)?;
        let t0 = Instant::now();
        let model = spec
            .fit(TrainSet { x: train.x.as_ref(), y, weights }, seed)
            .map_err(|e| e.name_features(&train.feature_names))?;
        let fit_seconds = t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        let pred = model.predict(eval.x.as_ref())?;
        let predict_seconds = t1.elapsed().as_secs_f64();
        let value = metrics::r2(target(eval, &args)?, &pred)?;
        if let Some(p) = &args.output.out {
            persist::save(p, persist::Kind::Regressor, &model)?;
        }
        let mut extra = Map::new();
        if let RegressorModel::Ridge(m) = &model {
            extra.insert("alpha".into(), json!(m.alpha));
            extra.insert("solver".into(), json!(format!("{:?}", m.solver).to_lowercase()));
        }
        Report { metric: "r2", value, fit_seconds, predict_seconds, extra }
    } else if ClassifierSpec::NAMES.contains(&args.model.learner.as_str()) {
        let mut spec = ClassifierSpec::from_name(&args.model.learner)?;
        spec.set_params(&args.model.params)?;
        spec.validate()?;
        let y = target(&train, &args)?;
        let t0 = Instant::now();
        let model = spec
            .fit(TrainSet { x: train.x.as_ref(), y, weights }, seed)
            .map_err(|e| e.name_features(&train.feature_names))?;
        let fit_seconds = t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        let p = model.predict_proba(eval.x.as_ref())?;
        let predict_seconds = t1.elapsed().as_secs_f64();
        let yt = target(eval, &args)?;
        let value = metrics::auc(yt, &p)?;
        let mut extra = Map::new();
        extra.insert("log_loss".into(), json!(metrics::log_loss(yt, &p)?));
        if let ClassifierModel::Logistic(m) = &model {
            extra.insert("n_iter".into(), json!(m.info.n_iter));
            extra.insert("converged".into(), json!(m.info.converged));
        }
        if let Some(path) = &args.output.out {
            persist::save(path, persist::Kind::Classifier, &model)?;
        }
        Report { metric: "auc", value, fit_seconds, predict_seconds, extra }
    } else if args.model.learner == "pca" {
        run_pca(&args, &train, eval, seed)?
    } else {
        let mut known: Vec<&str> = RegressorSpec::NAMES.to_vec();
        known.extend_from_slice(ClassifierSpec::NAMES);
        known.push("pca");
        return Err(Error::param(
            "learn",
            "--learner",
            format!("unknown learner `{}`; known: {}", args.model.learner, known.join(", ")),
        ));
    };

    let n_test = test.as_ref().map_or(0, |t| t.n_rows());
    if args.output.json {
        let mut obj = Map::new();
        obj.insert("learner".into(), json!(args.model.learner));
        obj.insert("n_train".into(), json!(train.n_rows()));
        obj.insert("n_test".into(), json!(n_test));
        obj.insert("d".into(), json!(train.x.ncols()));
        obj.insert("fit_seconds".into(), json!(report.fit_seconds));
        obj.insert("predict_seconds".into(), json!(report.predict_seconds));
        obj.insert("metric".into(), json!(report.metric));
        obj.insert("value".into(), json!(report.value));
        obj.extend(report.extra);
        println!("{}", Value::Object(obj));
    } else {
        let on = if test.is_some() { "test" } else { "train" };
        println!("learner          {}", args.model.learner);
        println!("rows             {} train, {} test, {} features", train.n_rows(), n_test, train.x.ncols());
        println!("fit              {:.4} s", report.fit_seconds);
        println!("predict          {:.4} s", report.predict_seconds);
        println!("{:<16} {:.6} ({on})", report.metric, report.value);
        for (k, v) in &report.extra {
            println!("{k:<16} {v}");
        }
    }
    Ok(())
}
