//! `meta-router fit`: fit the debiased router on deployment data (one label per row, its
//! source gold or preference) and save it.
//!
//! Prints a short summary: rows, gold and preference counts, the scale constant `c`, the final
//! stage chosen with its cross-validated loss, propensity overlap, and any warning.

use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::cli::args::{DataArgs, LabelColumnArgs, RouterArgs, SeedArgs};
use crate::data::{ColumnRoles, read_csv};
use crate::error::{Error, Result};
use crate::learn::pca::PcaParams;
use crate::rng::{Seed, stream};
use crate::router::{Router, RouterConfig, RouterData, RouterKind, Threshold, train_router, train_router_known};

/// Arguments of `meta-router fit`.
#[derive(Debug, Args)]
pub struct FitArgs {
    /// Training CSV, features and weights: features, a source column and a label column.
    #[command(flatten)]
    pub input: DataArgs,
    /// The source and label columns of deployment data.
    #[command(flatten)]
    pub labels: LabelColumnArgs,
    /// A per-row known propensity P(gold | x) in (0, 1) under the design that chose the gold
    /// rows (e.g. `suggest`'s `inclusion_prob`): the meta-learners use it instead of the gold
    /// share, the scale alignment weights gold rows by 1 / p (see `train_router_known`).
    #[arg(long)]
    pub propensity_col: Option<String>,
    /// The meta-learner (`dr`, `r`) or a baseline router.
    #[arg(long, value_enum, default_value_t = MethodArg::Dr)]
    pub method: MethodArg,
    /// How the router is trained.
    #[command(flatten)]
    pub router: RouterArgs,
    /// Reduce the features to this many principal components (fitted on the training rows,
    /// stored in the router).
    #[arg(long)]
    pub pca: Option<usize>,
    /// The seed.
    #[command(flatten)]
    pub seed: SeedArgs,
    /// Store this decision threshold w (route to primary when psi_hat > w, psi_hat on the
    /// gold-label scale).
    #[arg(long, conflicts_with = "usage", allow_negative_numbers = true)]
    pub threshold: Option<f64>,
    /// Store the threshold that routes this share of the training queries to the primary model.
    #[arg(long, allow_negative_numbers = true)]
    pub usage: Option<f64>,
    /// Print the summary as one JSON object (router, learner, fit_seconds, scale, threshold,
    /// usage, diagnostics) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Where to save the router.
    #[arg(short = 'o', long = "out")]
    pub out: PathBuf,
}

/// `--method`: the router `fit` trains (maps to [`RouterKind`]; `all_gold` needs gold labels
/// on every row, so studies only).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    /// The meta-router with the DR-learner's Delta_hat.
    Dr,
    /// The meta-router with the R-learner's Delta_hat.
    R,
    /// Gold rows only.
    #[value(name = "gold_only")]
    GoldOnly,
    /// Preference rows only.
    #[value(name = "pref_only")]
    PrefOnly,
    /// Gold and preference rows pooled.
    Pooled,
    /// Preference labels shifted by the mean difference, then pooled.
    #[value(name = "mean_shift")]
    MeanShift,
}

impl From<MethodArg> for RouterKind {
    fn from(m: MethodArg) -> Self {
        match m {
            MethodArg::Dr => RouterKind::MetaDr,
            MethodArg::R => RouterKind::MetaR,
            MethodArg::GoldOnly => RouterKind::GoldOnly,
            MethodArg::PrefOnly => RouterKind::PrefOnly,
            MethodArg::Pooled => RouterKind::Pooled,
            MethodArg::MeanShift => RouterKind::MeanShift,
        }
    }
}

/// Builds the configuration and router kind from the arguments.
fn plan(args: &FitArgs) -> Result<(RouterKind, RouterConfig)> {
    let cfg = args.router.config()?;
    cfg.validate()?;
    Ok((args.method.into(), cfg))
}

/// Runs `meta-router fit`.
///
/// # Errors
/// Bad arguments, unreadable data, an unknown source value, NaN labels, no gold or no
/// preference rows, a failed fit, an unwritable output file.
pub fn run(args: FitArgs) -> Result<()> {
    let (kind, cfg) = plan(&args)?;
    let mut roles = ColumnRoles::with_features(args.input.features.as_deref());
    roles.numeric.push(args.labels.label_col.clone());
    roles.numeric.extend(args.input.weight_col.iter().cloned());
    roles.numeric.extend(args.propensity_col.iter().cloned());
    roles.source = Some(args.labels.source_col.clone());
    let d = read_csv(&args.input.data, &roles)?;
    d.check_finite_features()?;
    d.check_finite_column(&args.labels.label_col)?;
    let source = d.source.as_deref().ok_or_else(|| Error::data("no source column was read"))?;
    let weights = match &args.input.weight_col {
        Some(w) => {
            d.check_column(w, |v| v.is_finite() && v >= 0.0, "sample weight must be a finite number >= 0")?;
            Some(d.column(w)?)
        }
        None => None,
    };
    let known = match &args.propensity_col {
        Some(c) => {
            d.check_column(c, |v| v > 0.0 && v < 1.0, "a known propensity must lie in (0, 1)")?;
            Some(d.column(c)?)
        }
        None => None,
    };
    let seed = Seed(args.seed.seed);
    let pca = match args.pca {
        Some(k) => {
            crate::params::at_least("fit", "--pca", k, 1)?;
            let p = PcaParams { n_components: k, ..Default::default() };
            Some(p.fit(d.x.as_ref(), seed.child(stream::SKETCH)).map_err(|e| e.name_features(&d.feature_names))?)
        }
        None => None,
    };
    let z = match &pca {
        Some(p) => Some(p.transform(d.x.as_ref())?),
        None => None,
    };
    let data = RouterData {
        x: z.as_ref().map_or(d.x.as_ref(), |z| z.as_ref()),
        is_gold: source,
        label: d.column(&args.labels.label_col)?,
        gold_everywhere: None,
        weights,
    };
    let t0 = std::time::Instant::now();
    // the learners see the CSV's feature columns unless PCA replaced them by components
    let names: &[String] = if pca.is_none() { &d.feature_names } else { &[] };
    let trained = match known {
        None => train_router(kind, &data, &cfg, seed),
        Some(e) => train_router_known(kind, &data, e, &cfg, seed),
    }
    .map_err(|e| e.name_features(names))?;
    let fit_seconds = t0.elapsed().as_secs_f64();
    let mut router = Router::new(trained, d.feature_names.clone(), pca)?;
    let usage = match (args.threshold, args.usage) {
        (Some(w), _) => {
            router.set_threshold(Threshold::direct(w)?);
            None
        }
        (None, Some(rho)) => Some(router.calibrate_usage(d.x.as_ref(), rho)?),
        (None, None) => None,
    };
    router.save(&args.out)?;

    let g = &router.diagnostics;
    if args.json {
        let v = serde_json::json!({
            "router": kind.name(),
            "learner": cfg.learner.name(),
            "fit_seconds": fit_seconds,
            "scale": router.scale,
            "threshold": router.threshold.w,
            "usage": usage.as_ref().map(|u| serde_json::json!({"target": u.target, "realised": u.realised})),
            "diagnostics": g,
            "out": args.out.display().to_string(),
        });
        println!("{v}");
        return Ok(());
    }
    println!("router           {} (learner {})", kind.name(), cfg.learner.name());
    println!("rows             {} ({} gold, {} preference), {} features", g.n_rows, g.n_gold, g.n_pref, d.x.ncols());
    if let Some(p) = &router.pca {
        let share: f64 = p.explained_variance_ratio().iter().sum();
        println!("pca              {} components, {:.1}% of the variance", p.n_components(), 100.0 * share);
    }
    println!("scale c          {:.6} ({})", router.scale, g.alignment.method.name());
    if let Some(fs) = &g.final_stage {
        let loss = fs.candidates.iter().find(|c| c.name == fs.chosen).map(|c| c.cv_loss);
        match loss {
            Some(l) => println!("final stage      {} (CV loss {l:.6})", fs.chosen),
            None => println!("final stage      {}", fs.chosen),
        }
        for c in &fs.candidates {
            println!("  candidate      {:<40} {:.6}", c.name, c.cv_loss);
        }
    }
    if let Some(ov) = &g.overlap {
        println!("propensity       range {:.4} to {:.4}, {:.1}% at the clip", ov.min, ov.max, 100.0 * ov.share_clipped);
    }
    if let Some(m) = g.delta_mean {
        println!("mean Delta_hat   {m:.6} (preference rows)");
    }
    if let Some(u) = usage {
        println!(
            "threshold        {:.6} (usage target {:.3}, realised {:.3} on training queries)",
            u.threshold, u.target, u.realised
        );
    } else {
        println!("threshold        {}", router.threshold.w);
    }
    for w in &g.warnings {
        println!("warning          {w}");
    }
    println!("saved            {}", args.out.display());
    Ok(())
}
