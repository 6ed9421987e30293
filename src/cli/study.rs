//! `meta-router study`: the Monte-Carlo study of routers ([`crate::eval::study`]) on a CSV or on
//! the built-in simulator, with a table (or one JSON object) on stdout and optional files.
//!
//! Without `--data` the table comes from [`crate::sim`] with `--n` rows and the seed `--seed`
//! (the same table `meta-router simulate --seed S` writes). With `--data`, the gold and preference
//! label columns are named by `--gold-col` / `--pref-col`; `psi` and `delta` columns (or those
//! named by `--psi-col` / `--delta-col`) are used as the truth when present; features are the
//! `--features` patterns, or every other column.
//!
//! With `--models K [--judges S]` the study routes among `K` models of the simulator
//! ([`crate::eval::study_multi`]): per router the area of the quality-cost curve, its SE and the
//! paired difference to `pooled`; `--json` prints `{"rounds", "models", "sources", "routers":
//! {NAME: {"area", "area_se", "diff_vs_pooled", "diff_vs_pooled_se", ..}}, "oracle", "singles",
//! "seconds"}`. With `--data FILE --gold-cols PATTERN --pref-cols PATTERNS --costs LIST` the same
//! study runs on a wide table (one `*` per pattern stands for the model name; one pattern per
//! judge); `--cost-cols PATTERN` instead of `--costs` reads a cost per query and model.
//! `--out DIR` writes summary.json, curves.csv, rounds.csv and quality_cost.svg; `--shard I/N
//! --out DIR` writes a K-model shard ([`crate::eval::shard_multi`]) that `meta-router merge`
//! combines into those files.
//!
//! Unless `--quiet`, a progress bar on stderr (only when stderr is a terminal) advances once per
//! finished round ([`crate::eval::Progress`]).

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};

use crate::cli::args::{GoldSelectionArgs, ModelsArgs, OutputArgs, RouterArgs, SeedArgs, WideArgs};
use crate::cli::simulate::sim_params;
use crate::data::{ColumnRoles, glob, read_csv, read_header};
use crate::error::{Error, Result};
use crate::eval::shard::{self, ShardSpec};
use crate::eval::shard_multi::run_multi_shard;
use crate::eval::study_multi::{MultiStudyData, run_multi_study};
use crate::eval::{CurveProtocol, StudyConfig, StudyData, StudyRouter, run_study_with};
use crate::rng::Seed;
use crate::router::Protocol;
use crate::sim::{Scenario, simulate_multi};

/// Gold rows per round unless `--gold` (or a scenario's gold share) says otherwise.
const DEFAULT_GOLD: usize = 100;

/// Arguments of `meta-router study`.
#[derive(Debug, Args)]
pub struct StudyArgs {
    /// A CSV with both labels on every row (default: the built-in simulator).
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// The gold-label column of `--data`.
    #[arg(long, default_value = "gs")]
    pub gold_col: String,
    /// The preference-label column of `--data`.
    #[arg(long, default_value = "pb")]
    pub pref_col: String,
    /// Feature columns: comma list of names or globs, e.g. 'x*' or 'embd.PC*' (default: every
    /// column without another role).
    #[arg(long)]
    pub features: Option<String>,
    /// The true-psi column (required when given; by default `psi` is used if present).
    #[arg(long)]
    pub psi_col: Option<String>,
    /// The true-delta column, gold scale (required when given; by default `delta` if present).
    #[arg(long)]
    pub delta_col: Option<String>,
    /// Rows of the simulated table (without `--data`).
    #[arg(long, default_value_t = 5000)]
    pub n: usize,
    /// Simulator parameters, `name=value` (repeatable; without `--data`).
    #[arg(long = "sim-param", value_name = "NAME=VALUE")]
    pub sim_params: Vec<String>,
    /// A named simulator scenario (without `--data`): default, nonlinear_bias, orthogonal_bias,
    /// aligned_bias, noisy_pref, distorted_scale, weak_psi, gold_1pct, gold_10pct,
    /// selected_gold, raw384 (see `meta_router::sim::scenarios`).
    #[arg(long)]
    pub scenario: Option<String>,
    /// Gold-labelled training rows per round [default: 100; gold_1pct and gold_10pct: 1% and
    /// 10% of the rows].
    #[arg(long)]
    pub gold: Option<usize>,
    /// Test rows per round.
    #[arg(long, default_value_t = 500)]
    pub test: usize,
    /// Monte-Carlo rounds.
    #[arg(long, default_value_t = 200)]
    pub rounds: usize,
    /// Routers to evaluate, comma separated (default: all, and `random`).
    #[arg(long)]
    pub routers: Option<String>,
    /// How the routers are trained (the learner defaults to `rf`: the paper's forest, 100
    /// trees, depth 20, sqrt features); `--protocol paper` also gives the reference curves.
    #[command(flatten)]
    pub router: RouterArgs,
    /// Principal components fitted per round on the training rows only.
    #[arg(long)]
    pub pca: Option<usize>,
    /// How the gold rows are chosen (random, or active batches).
    #[command(flatten)]
    pub gold_choice: GoldSelectionArgs,
    /// The seed (also of the simulated table).
    #[command(flatten)]
    pub seed: SeedArgs,
    /// `--models K`, `--judges S`: the study among K models of the simulator.
    #[command(flatten)]
    pub many: ModelsArgs,
    /// `--gold-cols`, `--pref-cols`, `--sources`, `--costs`: a K-model study on `--data`.
    #[command(flatten)]
    pub wide: WideArgs,
    /// `--json` and `-o/--out DIR` (summary.json, curves.csv, rounds.csv, efficiency_gain.svg).
    #[command(flatten)]
    pub output: OutputArgs,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Run only shard I of N (1 <= I <= N): the rounds r with r mod N = I - 1, with the same
    /// seeds as the whole study; writes DIR/shard.json to the required `--out DIR`. Combine the
    /// shards with `meta-router merge`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
}

fn load(args: &StudyArgs) -> Result<(StudyData, String)> {
    let Some(path) = &args.data else {
        let scenario = scenario(args)?;
        let p = sim_params(scenario, args.n, &args.sim_params)?;
        let seed = args.seed.seed;
        let data = p.simulate(Seed(seed))?;
        let source = match scenario {
            Scenario::Default => format!("simulator (n {}, seed {seed})", p.n),
            s => format!("simulator scenario {} (n {}, seed {seed})", s.name(), p.n),
        };
        return Ok((data.into(), source));
    };
    if !args.sim_params.is_empty() {
        return Err(Error::param("study", "--sim-param", "applies to the built-in simulator, not to --data"));
    }
    if args.scenario.is_some() {
        return Err(Error::param("study", "--scenario", "applies to the built-in simulator, not to --data"));
    }
    let mut roles = ColumnRoles::with_features(args.features.as_deref());
    roles.numeric = vec![args.gold_col.clone(), args.pref_col.clone()];
    roles.numeric.extend(args.psi_col.iter().cloned());
    roles.numeric.extend(args.delta_col.iter().cloned());
    let psi_col = args.psi_col.clone().unwrap_or_else(|| "psi".into());
    let delta_col = args.delta_col.clone().unwrap_or_else(|| "delta".into());
    if args.psi_col.is_none() {
        roles.optional_numeric.push(psi_col.clone());
    }
    if args.delta_col.is_none() {
        roles.optional_numeric.push(delta_col.clone());
    }
    let d = read_csv(path, &roles)?;
    d.check_finite_features()?;
    for c in [&args.gold_col, &args.pref_col, &psi_col, &delta_col] {
        if d.numeric.contains_key(c.as_str()) {
            d.check_finite_column(c)?;
        }
    }
    let take = |c: &str| d.numeric.get(c).cloned();
    let data = StudyData {
        gold: d.column(&args.gold_col)?.to_vec(),
        pref: d.column(&args.pref_col)?.to_vec(),
        psi: take(&psi_col),
        delta: take(&delta_col),
        scale: None,
        x: d.x,
    };
    Ok((data, path.display().to_string()))
}

/// The simulator scenario (`default` unless `--scenario` names one).
fn scenario(args: &StudyArgs) -> Result<Scenario> {
    args.scenario.as_deref().map_or(Ok(Scenario::Default), Scenario::from_name)
}

fn config(args: &StudyArgs) -> Result<StudyConfig> {
    // A scenario's study defaults (gold share, PCA) apply to the simulator only, below flags.
    let scenario = if args.data.is_none() { scenario(args)? } else { Scenario::Default };
    let router = args.router.config()?;
    let curves = match router.protocol {
        Protocol::Paper => CurveProtocol::Paper,
        Protocol::CrossFit => CurveProtocol::Standard,
    };
    let routers = match &args.routers {
        Some(list) => StudyRouter::parse_list(list)?,
        None => StudyRouter::all(),
    };
    let n_gold = args.gold.or(scenario.study_gold(args.n)).unwrap_or(DEFAULT_GOLD);
    Ok(StudyConfig {
        n_gold,
        n_test: args.test,
        rounds: args.rounds,
        routers,
        router,
        curves,
        pca: args.pca.or(scenario.study_pca()),
        gold_selection: args.gold_choice.selection(n_gold)?,
    })
}

/// A bar of `rounds` steps on stderr when `show` and stderr is a terminal, else a hidden one.
fn progress_bar(show: bool, rounds: usize) -> ProgressBar {
    if !show || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        return ProgressBar::hidden();
    }
    let b = ProgressBar::with_draw_target(Some(rounds as u64), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {pos}/{len} rounds (eta {eta})") {
        b.set_style(style.progress_chars("=> "));
    }
    b
}

/// The figure's title (also what a shard records for `merge`).
fn title(args: &StudyArgs, cfg: &StudyConfig, source: &str) -> String {
    format!(
        "{source}: {} gold, {} test, {} rounds, learner {}, protocol {}",
        cfg.n_gold,
        cfg.n_test,
        cfg.rounds,
        cfg.router.learner.name(),
        args.router.protocol.name()
    )
}

/// `study --shard I/N`: runs the shard's rounds and writes `shard.json` to `--out`.
fn run_shard(args: &StudyArgs, cfg: &StudyConfig, spec: ShardSpec) -> Result<()> {
    let Some(dir) = &args.output.out else {
        return Err(Error::param("study", "--shard", "needs --out DIR (where shard.json is written)"));
    };
    let (data, source) = load(args)?;
    let title = title(args, cfg, &source);
    let bar = progress_bar(!args.quiet, spec.rounds(cfg.rounds).len());
    let t0 = Instant::now();
    let shard = shard::run_shard(&data, cfg, Seed(args.seed.seed), spec, &title, &|_: usize, _: usize| bar.inc(1));
    bar.finish_and_clear();
    let shard = shard?;
    shard.write(dir)?;
    report_shard(
        args,
        spec,
        shard.rounds.len(),
        cfg.rounds,
        &shard.fingerprint,
        dir,
        t0,
        &format!("the study on {source}"),
    );
    Ok(())
}

/// Prints what a shard run did: one JSON object with `--json`, else one line.
#[allow(clippy::too_many_arguments)]
fn report_shard(
    args: &StudyArgs,
    spec: ShardSpec,
    rounds: usize,
    total: usize,
    fingerprint: &str,
    dir: &std::path::Path,
    t0: Instant,
    what: &str,
) {
    let seconds = t0.elapsed().as_secs_f64();
    let path = dir.join(shard::SHARD_FILE);
    if args.output.json {
        let obj = json!({"shard": spec.to_string(), "rounds": rounds, "total_rounds": total,
            "fingerprint": fingerprint, "file": path.display().to_string(), "seconds": seconds});
        println!("{obj}");
    } else {
        println!("shard {spec} of {what}: {rounds} of {total} rounds in {seconds:.1} s, written to {}", path.display());
    }
}

/// The model names a pattern with one `*` picks from `header`, in header order, with their
/// column names.
fn pattern_models(pattern: &str, header: &[String], flag: &str) -> Result<Vec<(String, String)>> {
    let Some((pre, post)) = pattern.split_once('*') else {
        return Err(Error::param("study", flag, format!("`{pattern}` needs one `*` standing for the model name")));
    };
    if post.contains('*') || pattern.contains('?') {
        return Err(Error::param("study", flag, format!("`{pattern}` must have exactly one `*` and no `?`")));
    }
    let found: Vec<(String, String)> = header
        .iter()
        .filter(|h| glob::matches(pattern, h) && h.len() > pre.len() + post.len())
        .map(|h| (h[pre.len()..h.len() - post.len()].to_string(), h.clone()))
        .collect();
    if found.is_empty() {
        return Err(Error::param("study", flag, format!("`{pattern}` matches no column of the file")));
    }
    Ok(found)
}

/// `--costs name=cost,...` for `models`, in their order.
fn parse_costs(list: &str, models: &[String]) -> Result<Vec<f64>> {
    let (names, costs) = crate::cli::many::parse_costs("study", list)?;
    if let Some(name) = names.iter().find(|n| !models.contains(n)) {
        return Err(Error::param(
            "study",
            "--costs",
            format!("`{name}` is not a model of --gold-cols (models: {})", models.join(", ")),
        ));
    }
    models
        .iter()
        .map(|m| {
            names.iter().position(|n| n == m).map(|j| costs[j]).ok_or_else(|| {
                Error::param("study", "--costs", format!("no cost for model `{m}` (every model needs one)"))
            })
        })
        .collect()
}

/// A wide table of the user's (`--data` with `--gold-cols`, `--pref-cols`, `--costs`): every
/// model's gold and judge labels on every row; the truth `psi_<model>` columns when present.
fn load_wide(args: &StudyArgs, path: &std::path::Path) -> Result<(MultiStudyData, String)> {
    let w = &args.wide;
    let (Some(gold_pat), Some(pref_pats)) = (&w.gold_cols, &w.pref_cols) else {
        return Err(Error::param(
            "study",
            "--gold-cols",
            "a K-model study on --data needs --gold-cols, --pref-cols and --costs (or --cost-cols)",
        ));
    };
    if w.costs.is_none() && w.cost_cols.is_none() {
        return Err(Error::param("study", "--costs", "a K-model study on --data needs --costs or --cost-cols"));
    }
    let header = read_header(path)?;
    let gold = pattern_models(gold_pat, &header, "--gold-cols")?;
    let models: Vec<String> = gold.iter().map(|(m, _)| m.clone()).collect();
    if let Some(k) = args.many.models
        && k != models.len()
    {
        return Err(Error::param(
            "study",
            "--models",
            format!("is {k} but --gold-cols `{gold_pat}` matches {} models ({})", models.len(), models.join(", ")),
        ));
    }
    let pats: Vec<&str> = pref_pats.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
    let judges: Vec<String> = match &w.sources {
        Some(list) => list.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect(),
        None => pats.iter().map(|p| p.split('*').next().unwrap_or("").trim_end_matches('_').to_string()).collect(),
    };
    if judges.len() != pats.len() {
        return Err(Error::param(
            "study",
            "--sources",
            format!("names {} judges for {} --pref-cols patterns", judges.len(), pats.len()),
        ));
    }
    let mut pref_cols: Vec<Vec<String>> = Vec::with_capacity(pats.len());
    for p in &pats {
        let found = pattern_models(p, &header, "--pref-cols")?;
        let mut cols = Vec::with_capacity(models.len());
        for m in &models {
            match found.iter().find(|(fm, _)| fm == m) {
                Some((_, c)) => cols.push(c.clone()),
                None => {
                    return Err(Error::param("study", "--pref-cols", format!("`{p}` has no column for model `{m}`")));
                }
            }
        }
        if let Some((extra, _)) = found.iter().find(|(fm, _)| !models.contains(fm)) {
            return Err(Error::param(
                "study",
                "--pref-cols",
                format!("`{p}` has model `{extra}`, which --gold-cols has not"),
            ));
        }
        pref_cols.push(cols);
    }
    let costs = w.costs.as_deref().map(|c| parse_costs(c, &models)).transpose()?;
    let cost_cols = match &w.cost_cols {
        Some(pat) => {
            let found = pattern_models(pat, &header, "--cost-cols")?;
            let cols = models
                .iter()
                .map(|m| {
                    found.iter().find(|(fm, _)| fm == m).map(|(_, c)| c.clone()).ok_or_else(|| {
                        Error::param("study", "--cost-cols", format!("`{pat}` has no column for model `{m}`"))
                    })
                })
                .collect::<Result<Vec<String>>>()?;
            if let Some((extra, _)) = found.iter().find(|(fm, _)| !models.contains(fm)) {
                return Err(Error::param(
                    "study",
                    "--cost-cols",
                    format!("`{pat}` has model `{extra}`, which --gold-cols has not"),
                ));
            }
            cols
        }
        None => Vec::new(),
    };
    let gold_cols: Vec<String> = gold.iter().map(|(_, c)| c.clone()).collect();
    let psi_cols: Vec<String> = models.iter().map(|m| format!("psi_{m}")).collect();
    let mut roles = ColumnRoles::with_features(args.features.as_deref());
    roles.numeric = gold_cols.iter().chain(pref_cols.iter().flatten()).chain(&cost_cols).cloned().collect();
    roles.optional_numeric = psi_cols.clone();
    let d = read_csv(path, &roles)?;
    d.check_finite_features()?;
    let table = |cols: &[String]| -> Result<faer::Mat<f64>> {
        for c in cols {
            d.check_finite_column(c)?;
        }
        let v: Vec<&[f64]> = cols.iter().map(|c| d.column(c)).collect::<Result<_>>()?;
        Ok(faer::Mat::from_fn(d.n_rows(), cols.len(), |i, j| v[j][i]))
    };
    let psi = if psi_cols.iter().all(|c| d.numeric.contains_key(c.as_str())) { Some(table(&psi_cols)?) } else { None };
    let cost_table = if cost_cols.is_empty() { None } else { Some(table(&cost_cols)?) };
    for (c, m) in cost_cols.iter().zip(&models) {
        d.check_column(c, |v| v >= 0.0, &format!("a cost (>= 0) of model `{m}`"))?;
    }
    let mut data = MultiStudyData {
        gold: table(&gold_cols)?,
        pref: pref_cols.iter().map(|c| table(c)).collect::<Result<_>>()?,
        psi,
        models,
        judges,
        costs: costs.unwrap_or_default(),
        cost_table: None,
        x: d.x,
    };
    if let Some(t) = cost_table {
        data.set_cost_table(t);
    }
    Ok((data, path.display().to_string()))
}

/// `study --models K` (the simulator) or `study --data FILE --gold-cols ...` (a wide table):
/// the K-model study.
fn run_multi(args: &StudyArgs, cfg: &StudyConfig) -> Result<()> {
    let shard = args.shard.as_deref().map(ShardSpec::parse).transpose()?;
    if shard.is_some() && args.output.out.is_none() {
        return Err(Error::param("study", "--shard", "needs --out DIR (where shard.json is written)"));
    }
    let seed = args.seed.seed;
    let (data, source): (MultiStudyData, String) = match &args.data {
        Some(path) => load_wide(args, path)?,
        None => {
            let scenario = scenario(args)?;
            let p = sim_params(scenario, args.n, &args.sim_params)?;
            let k = args.many.models.unwrap_or(2);
            (
                simulate_multi(&p, k, args.many.judges, Seed(seed))?.into(),
                format!("the simulator (n {}, seed {seed})", p.n),
            )
        }
    };
    let k = data.models.len();
    let n = data.x.nrows();
    let title = format!("{k} models, {} judge(s), {}: {} rounds", data.judges.len(), source, cfg.rounds);
    let t0 = Instant::now();
    if let (Some(spec), Some(dir)) = (shard, &args.output.out) {
        let shard = run_multi_shard(&data, cfg, Seed(seed), spec, &title)?;
        shard.write(dir)?;
        let what = format!("the {k}-model study on {source}");
        report_shard(args, spec, shard.rounds.len(), cfg.rounds, &shard.fingerprint, dir, t0, &what);
        return Ok(());
    }
    let outcome = run_multi_study(&data, cfg, Seed(seed))?;
    let seconds = t0.elapsed().as_secs_f64();
    let summary = outcome.summary()?;
    if let Some(dir) = &args.output.out {
        outcome.write_dir(dir, &title)?;
    }
    if args.output.json {
        let mut obj = summary.to_json();
        obj.insert("seconds".into(), json!(seconds));
        println!("{}", Value::Object(obj));
    } else {
        let costs: Vec<String> = data.models.iter().zip(&data.costs).map(|(m, c)| format!("{m}={c}")).collect();
        let per_query = if data.cost_table.is_some() { "per query, mean " } else { "" };
        println!(
            "study among {k} models (costs {per_query}{}) and {} judge(s) on {source}: {} rounds, \
             {} gold + {} preference training rows, {} test rows, learner {}",
            costs.join(","),
            data.judges.len(),
            cfg.rounds,
            cfg.n_gold,
            n.saturating_sub(cfg.n_gold + cfg.n_test),
            cfg.n_test,
            cfg.router.learner.name()
        );
        print!("{}", summary.table());
        println!("{seconds:.1} s");
    }
    Ok(())
}

/// Runs `meta-router study`.
///
/// # Errors
/// Unreadable or invalid data, bad settings (named), a failed round.
pub fn run(args: StudyArgs) -> Result<()> {
    let cfg = config(&args)?;
    if args.many.models.is_some() || args.wide.gold_cols.is_some() {
        return run_multi(&args, &cfg);
    }
    if let Some(spec) = &args.shard {
        return run_shard(&args, &cfg, ShardSpec::parse(spec)?);
    }
    let (data, source) = load(&args)?;
    let bar = progress_bar(!args.quiet, cfg.rounds);
    let t0 = Instant::now();
    let outcome = run_study_with(&data, &cfg, Seed(args.seed.seed), &|_: usize, _: usize| bar.inc(1));
    bar.finish_and_clear();
    let outcome = outcome?;
    let seconds = t0.elapsed().as_secs_f64();
    let summary = outcome.summary()?;
    if let Some(dir) = &args.output.out {
        summary.write_dir(&outcome, dir, &title(&args, &cfg, &source))?;
    }
    if args.output.json {
        let mut obj = summary.to_json();
        obj.insert("seconds".into(), json!(seconds));
        println!("{}", Value::Object(obj));
        if let Some(dir) = &args.output.out {
            eprintln!("wrote {}", dir.display());
        }
    } else {
        println!(
            "study on {source}: {} rounds, {} gold + {} preference training rows, {} test rows, learner {}",
            cfg.rounds,
            cfg.n_gold,
            data.n_rows() - cfg.n_gold - cfg.n_test,
            cfg.n_test,
            cfg.router.learner.name()
        );
        print!("{}", summary.table());
        println!("{seconds:.1} s");
        if let Some(dir) = &args.output.out {
            println!(
                "figure: {}; also summary.json, curves.csv, rounds.csv there",
                dir.join("efficiency_gain.svg").display()
            );
        }
    }
    Ok(())
}
