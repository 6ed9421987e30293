//! `meta-router evaluate`: a saved router on held-out queries with gold labels: the
//! efficiency-gain curve and its AUC with bootstrap and (with preference labels) prediction-powered
//! confidence intervals, and the usage and quality at the stored or a calibrated threshold.
//! The statistics are [`crate::eval::evaluate`](mod@crate::eval::evaluate)'s.
//!
//! Which rows have a gold label: with `--source-col`, the rows whose source is gold (`gold`, `gs`,
//! `1`; their `--gold-col` value is read, the other rows' is ignored); without it, every row.
//! `--pref-col` (a preference label on every row, gold rows included) enables the
//! prediction-powered estimate; the label `y` is put on the gold scale with the router's stored
//! alignment, `f = (y + mean Delta_hat) / c` (the scale constant `c` and the mean `Delta_hat` of
//! its training preference rows; 0 for routers without one), before the estimator recalibrates it.
//!
//! Output: a table; `--json` one object ([`crate::eval::Evaluation::to_json`] plus `router`,
//! `model`, `data`, `judge_scale`, `judge_shift`); `--out DIR` writes `evaluation.json` (the same
//! object), `curve.csv` and `efficiency_gain.svg` (the curves over their bootstrap bands).

use std::path::PathBuf;

use clap::Args;
use faer::Mat;
use serde_json::{Value, json};

use crate::cli::args::{IntervalArgs, OutputArgs, QueriesArgs, SeedArgs};
use crate::data::{ColumnRoles, read_csv};
use crate::error::{Error, Result};
use crate::eval::bootstrap::{BootstrapParams, check_level};
use crate::eval::{EvaluateParams, HeldOut, evaluate};
use crate::router::Router;

/// Arguments of `meta-router evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The router saved by `meta-router fit`.
    #[arg(long)]
    pub model: PathBuf,
    /// Held-out queries and their feature columns.
    #[command(flatten)]
    pub input: QueriesArgs,
    /// The gold-label column (read on the gold rows).
    #[arg(long, default_value = "gs")]
    pub gold_col: String,
    /// A preference-label column with a value on every row: enables the prediction-powered
    /// estimate.
    #[arg(long)]
    pub pref_col: Option<String>,
    /// The column saying which rows have a gold label (`gold`/`gs`/`1`) and which do not
    /// (`pref`/`pb`/`0`); without it every row has one.
    #[arg(long)]
    pub source_col: Option<String>,
    /// Interval level and bootstrap resamples.
    #[command(flatten)]
    pub interval: IntervalArgs,
    /// The bootstrap seed.
    #[command(flatten)]
    pub seed: SeedArgs,
    /// Also calibrate the threshold routing this share of the held-out queries to the primary
    /// model, and bound the usage it gives on new traffic.
    #[arg(long, allow_negative_numbers = true)]
    pub usage: Option<f64>,
    /// `--json`, and `--out DIR` for evaluation.json, curve.csv, efficiency_gain.svg.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Runs `meta-router evaluate`.
///
/// # Errors
/// A bad flag value (`--level` outside (0, 1), `--bootstrap 0`, `--usage` outside [0, 1]); an
/// unreadable or foreign model; missing columns; `--features` selecting other columns than the
/// model's; NaN features, NaN gold labels on gold rows or NaN preference labels; fewer than two
/// gold rows; an unwritable output directory.
pub fn run(args: EvaluateArgs) -> Result<()> {
    check_level("evaluate", args.interval.level)
        .map_err(|_| Error::param("evaluate", "--level", format!("must lie in (0, 1), got {}", args.interval.level)))?;
    if args.interval.bootstrap == 0 {
        return Err(Error::param("evaluate", "--bootstrap", "must be >= 1 resample, got 0"));
    }
    if let Some(rho) = args.usage {
        if !(0.0..=1.0).contains(&rho) {
            return Err(Error::param("evaluate", "--usage", format!("must lie in [0, 1], got {rho}")));
        }
    }
    let params = EvaluateParams {
        bootstrap: BootstrapParams {
            resamples: args.interval.bootstrap,
            level: args.interval.level,
            seed: args.seed.seed,
        },
        usage: args.usage,
        ..Default::default()
    };
    params.validate()?;
    if let (Some(p), Some(_)) = (&args.pref_col, &args.source_col) {
        if p == &args.gold_col {
            return Err(Error::param(
                "evaluate",
                "--pref-col",
                format!(
                    "`{p}` is also --gold-col: the prediction-powered estimate needs a preference label on the gold \
                     rows too, in a column of its own"
                ),
            ));
        }
    }

    let router = Router::load(&args.model)?;
    let mut roles = match &args.input.features {
        Some(f) => ColumnRoles::with_features(Some(f)),
        None => ColumnRoles { features: Some(router.feature_names.clone()), ..Default::default() },
    };
    roles.numeric.push(args.gold_col.clone());
    if let Some(p) = &args.pref_col {
        if p != &args.gold_col {
            roles.numeric.push(p.clone());
        }
    }
    roles.source = args.source_col.clone();
    let d = read_csv(&args.input.data, &roles)?;
    d.check_finite_features()?;
    let reordered = model_features(&d.feature_names, &d.x, &router.feature_names, &args.input.data)?;
    let x = reordered.as_ref().map_or(d.x.as_ref(), |m| m.as_ref());
    let n = x.nrows();
    let has_gold: Vec<bool> = match &d.source {
        Some(src) => src.iter().map(|&v| v == 1.0).collect(),
        None => vec![true; n],
    };
    let gold = d.column(&args.gold_col)?;
    let n_gold = has_gold.iter().filter(|&&b| b).count();
    if n_gold < 2 {
        let which = match &args.source_col {
            Some(s) => format!("rows whose `{s}` is gold"),
            None => "rows".to_string(),
        };
        return Err(Error::data(format!(
            "{}: {n_gold} {which} with a gold label in `{}`; evaluate needs at least 2",
            args.input.data.display(),
            args.gold_col
        )));
    }
    if let Some(i) = (0..n).find(|&i| has_gold[i] && !gold[i].is_finite()) {
        return Err(Error::Csv {
            path: args.input.data.clone(),
            line: Some(i as u64 + 2),
            column: Some(args.gold_col.clone()),
            msg: format!("gold label {} on a gold row where a finite number is required", gold[i]),
        });
    }
    let shift = router.diagnostics.delta_mean.unwrap_or(0.0);
    let judge = match &args.pref_col {
        Some(p) => {
            d.check_finite_column(p)?;
            Some(d.column(p)?.iter().map(|&y| (y + shift) / router.scale).collect::<Vec<f64>>())
        }
        None => None,
    };
    let mut scores = vec![0.0; n];
    router.score_batch(x, &mut scores)?;
    let held = HeldOut {
        scores: &scores,
        gold,
        has_gold: Some(&has_gold),
        judge: judge.as_deref(),
        threshold: router.threshold.w,
    };
    let e = evaluate(&held, &params)?;

    let mut obj = e.to_json();
    obj.insert("router".into(), json!(router.kind.name()));
    obj.insert("model".into(), json!(args.model.display().to_string()));
    obj.insert("data".into(), json!(args.input.data.display().to_string()));
    if judge.is_some() {
        obj.insert("judge_scale".into(), json!(router.scale));
        obj.insert("judge_shift".into(), json!(shift));
    }
    if let Some(dir) = &args.output.out {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let body = serde_json::to_string_pretty(&Value::Object(obj.clone()))
            .map_err(|e| Error::data(format!("cannot encode evaluation.json: {e}")))?;
        crate::outfile::write(dir.join("evaluation.json"), body + "\n")?;
        crate::outfile::write(dir.join("curve.csv"), e.curve_csv())?;
        let title = format!("{} on {}", router.kind.name(), args.input.data.display());
        crate::outfile::write(dir.join("efficiency_gain.svg"), e.svg(&title))?;
    }
    if args.output.json {
        println!("{}", Value::Object(obj));
        return Ok(());
    }
    println!("router {} ({}) on {}", router.kind.name(), args.model.display(), args.input.data.display());
    print!("{}", e.table());
    if let Some(dir) = &args.output.out {
        println!("wrote {}", dir.display());
    }
    Ok(())
}

/// The feature matrix in the model's column order: `None` (use it as read) when the names
/// agree; reordered when `--features` picked the same columns in another order.
///
/// # Errors
/// [`Error::InvalidData`] naming both lists when the columns differ.
fn model_features(
    names: &[String],
    x: &Mat<f64>,
    model: &[String],
    path: &std::path::Path,
) -> Result<Option<Mat<f64>>> {
    if names == model {
        return Ok(None);
    }
    let pos: Option<Vec<usize>> = model.iter().map(|m| names.iter().position(|n| n == m)).collect();
    match pos {
        Some(p) if names.len() == model.len() => Ok(Some(Mat::from_fn(x.nrows(), p.len(), |i, j| x[(i, p[j])]))),
        _ => Err(Error::data(format!(
            "{}: --features selects [{}] but the model was fitted on [{}]",
            path.display(),
            names.join(", "),
            model.join(", ")
        ))),
    }
}
