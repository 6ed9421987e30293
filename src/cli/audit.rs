//! `meta-router audit`: where the judge is biased, on the deployment data `fit` reads (one
//! label per row, its source gold or preference). The statistics are
//! [`crate::eval::audit`](mod@crate::eval::audit)'s; this file reads the data and forms the
//! pseudo-outcomes.
//!
//! Steps: read the CSV as `fit` does (features, `--source-col`, `--label-col`; optional
//! `--pca`); align the gold labels to the preference scale with the router's alignment
//! (`--align`, default `std`: the constant `c`); pool `o = c r` (gold rows) and `o = y`
//! (preference rows); cross-fit the DR-learner's nuisances with the router's flags
//! (`--nuisance`/`--learner`, `--propensity`, `--folds`, `--repeats`, `--dr-outcome`, ...) and
//! take its AIPW pseudo-outcomes ([`crate::causal::meta::dr_pseudo_outcomes`]: the very values
//! `fit --method dr` regresses); divide them by `c`, so that every figure reads on the **gold
//! scale**: `Delta(x) = E[r - y / c | x]`, the gold label minus the judge's label expressed in
//! gold units (with `--align none`, `c = 1` and it is `E[gold - pref | x]` as labelled). The
//! intervals treat `c` as known. Then the audit: mean bias, best linear projection on the
//! features (all of them, or `--blp-features`), heterogeneity test, and the bias per group of
//! `--groups COL` (any text column) or of `--clusters K` k-means clusters of the features
//! ([`crate::learn::kmeans`], seeded by `--seed`).
//!
//! The flags of the psi learner and the final stage (`--param`, `--final-stage`,
//! `--final-param`, `--final-select`, `--outcome-covariate`) are accepted, as by `fit`, but do
//! not change the audit: the pseudo-outcomes do not depend on them. `--protocol paper` (no
//! cross-fitting) and `--weight-col` (the standard errors assume unweighted rows) are refused.
//!
//! Output: a table; `--json` one object ([`crate::eval::audit::Audit::to_json`] plus `data`,
//! `scale`, `align`, `nuisance`, `propensity_overlap`, `groups_from`); `--out DIR` writes
//! `audit.json` (the same object) and, with groups, `bias_by_group.svg`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Args;
use faer::Mat;
use serde_json::{Value, json};

use crate::causal::align::{self, Sample};
use crate::causal::delta::PooledRows;
use crate::causal::meta::dr_pseudo_outcomes;
use crate::cli::args::{DataArgs, LabelColumnArgs, OutputArgs, ProtocolArg, RouterArgs, SeedArgs};
use crate::data::{ColumnRoles, read_csv};
use crate::error::{Error, Result};
use crate::eval::audit::{AuditInput, audit};
use crate::eval::bootstrap::check_level;
use crate::learn::kmeans::KMeansParams;
use crate::learn::pca::PcaParams;
use crate::rng::{Seed, stream};

/// Arguments of `meta-router audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Training CSV and its features, as for `fit` (`--weight-col` is refused).
    #[command(flatten)]
    pub input: DataArgs,
    /// The source and label columns of deployment data.
    #[command(flatten)]
    pub labels: LabelColumnArgs,
    /// The nuisances and alignment, as for `fit` (only the flags of the DR-learner's nuisances
    /// and --align matter).
    #[command(flatten)]
    pub router: RouterArgs,
    /// Reduce the features to this many principal components first (named pc1, pc2, ...).
    #[arg(long)]
    pub pca: Option<usize>,
    /// The features of the best linear projection and the heterogeneity test: comma list of
    /// names or globs among the features (after --pca: pc1, pc2, ...). Default: every feature.
    #[arg(long)]
    pub blp_features: Option<String>,
    /// A column whose values name a group per row (e.g. a topic): the bias per group.
    #[arg(long, conflicts_with = "clusters")]
    pub groups: Option<String>,
    /// Group the rows into K k-means clusters of the features instead (seeded by --seed).
    #[arg(long)]
    pub clusters: Option<usize>,
    /// Confidence level of every interval, in (0, 1); the tests reject at 1 - level.
    #[arg(long, default_value_t = 0.9)]
    pub level: f64,
    /// The seed of the folds, the nuisances, PCA and k-means.
    #[command(flatten)]
    pub seed: SeedArgs,
    /// `--json`, and `--out DIR` for audit.json and bias_by_group.svg.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The text column `name` of the CSV at `path`, one trimmed value per row.
///
/// # Errors
/// [`Error::Io`], [`Error::MissingColumn`] listing the columns, [`Error::Csv`] for an empty
/// value (naming its line).
fn text_column(path: &Path, name: &str) -> Result<Vec<String>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut rdr = ::csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(file);
    let csv_err = |msg: String, line: Option<u64>| Error::Csv {
        path: path.to_path_buf(),
        line,
        column: Some(name.to_string()),
        msg,
    };
    let header: Vec<String> =
        rdr.headers().map_err(|e| csv_err(e.to_string(), Some(1)))?.iter().map(|s| s.trim().to_string()).collect();
    let j = header.iter().position(|h| h == name).ok_or_else(|| Error::MissingColumn {
        path: path.to_path_buf(),
        column: name.to_string(),
        available: header.clone(),
    })?;
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec = rec.map_err(|e| csv_err(e.to_string(), Some(i as u64 + 2)))?;
        let v = rec.get(j).unwrap_or("").trim().to_string();
        if v.is_empty() {
            return Err(csv_err("empty group value where a group name is required".into(), Some(i as u64 + 2)));
        }
        out.push(v);
    }
    Ok(out)
}

/// Runs `meta-router audit`.
///
/// # Errors
/// A bad flag value (`--level`, `--clusters` 0 or above the rows, `--pca` 0, `--protocol
/// paper`, `--weight-col`); unreadable data; a missing column; NaN features or labels; no gold
/// or no preference rows; a group with a single row; `--blp-features` matching no feature;
/// learner errors; an unwritable output directory.
pub fn run(args: AuditArgs) -> Result<()> {
    check_level("audit", args.level)
        .map_err(|_| Error::param("audit", "--level", format!("must lie in (0, 1), got {}", args.level)))?;
    if args.router.protocol == ProtocolArg::Paper {
        return Err(Error::param(
            "audit",
            "--protocol",
            "`paper` has no cross-fitted pseudo-outcomes to audit with; use `crossfit`",
        ));
    }
    if let Some(w) = &args.input.weight_col {
        return Err(Error::param(
            "audit",
            "--weight-col",
            format!("`{w}`: the audit's standard errors assume unweighted rows; drop the flag"),
        ));
    }
    if args.clusters == Some(0) {
        return Err(Error::param("audit", "--clusters", "must be at least 1, got 0"));
    }
    let cfg = args.router.config()?;
    cfg.validate()?;
    let path = &args.input.data;
    let mut roles = ColumnRoles::with_features(args.input.features.as_deref());
    roles.numeric.push(args.labels.label_col.clone());
    roles.source = Some(args.labels.source_col.clone());
    if let Some(g) = &args.groups {
        if g == &args.labels.label_col || g == &args.labels.source_col {
            return Err(Error::param("audit", "--groups", format!("`{g}` is also the label or source column")));
        }
        roles.exclude.push(g.clone());
    }
    let d = read_csv(path, &roles)?;
    d.check_finite_features()?;
    d.check_finite_column(&args.labels.label_col)?;
    let t = d.source.as_deref().ok_or_else(|| Error::data("no source column was read"))?;
    let label = d.column(&args.labels.label_col)?;
    let n = d.n_rows();
    let gold: Vec<usize> = (0..n).filter(|&i| t[i] == 1.0).collect();
    let pref: Vec<usize> = (0..n).filter(|&i| t[i] == 0.0).collect();
    for (what, rows) in [("gold", &gold), ("preference", &pref)] {
        if rows.is_empty() {
            return Err(Error::data(format!(
                "{}: no rows whose `{}` is {what}; the audit compares gold with preference labels and needs both",
                path.display(),
                args.labels.source_col
            )));
        }
    }
    if let Some(k) = args.clusters {
        if k > n {
            return Err(Error::param("audit", "--clusters", format!("{k} clusters for {n} rows: at most one per row")));
        }
    }
    let group_values = match &args.groups {
        Some(g) => Some(text_column(path, g)?),
        None => None,
    };

    let seed = Seed(args.seed.seed);
    let (x, names) = match args.pca {
        Some(k) => {
            crate::params::at_least("audit", "--pca", k, 1)?;
            let p = PcaParams { n_components: k, ..Default::default() };
            let fitted =
                p.fit(d.x.as_ref(), seed.child(stream::SKETCH)).map_err(|e| e.name_features(&d.feature_names))?;
            let z = fitted.transform(d.x.as_ref())?;
            let names = (1..=z.ncols()).map(|j| format!("pc{j}")).collect();
            (z, names)
        }
        None => (d.x.clone(), d.feature_names.clone()),
    };

    // Alignment and the pooled rows, as `fit` forms them.
    let gl: Vec<f64> = gold.iter().map(|&i| label[i]).collect();
    let pl: Vec<f64> = pref.iter().map(|&i| label[i]).collect();
    let alignment =
        align::align(cfg.align, &Sample { values: &gl, weights: None }, &Sample { values: &pl, weights: None })?;
    let c = alignment.c;
    let o: Vec<f64> = (0..n).map(|i| if t[i] == 1.0 { c * label[i] } else { label[i] }).collect();
    let rows = PooledRows { x: x.as_ref(), t, o: &o, w: None };
    let names_for_errors: &[String] = if args.pca.is_none() { &d.feature_names } else { &[] };
    let (phi, overlap) = dr_pseudo_outcomes(&rows, &cfg.delta.nuisance, &cfg.delta, seed)
        .map_err(|e| e.name_features(names_for_errors))?;
    let phi: Vec<f64> = phi.iter().map(|v| v / c).collect();

    // The projection's features.
    let blp_cols: Vec<usize> = match &args.blp_features {
        None => (0..names.len()).collect(),
        Some(list) => {
            let mut cols = Vec::new();
            for pat in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let hits: Vec<usize> =
                    (0..names.len()).filter(|&j| crate::data::glob::matches(pat, &names[j])).collect();
                if hits.is_empty() {
                    return Err(Error::param(
                        "audit",
                        "--blp-features",
                        format!("`{pat}` matches none of the features [{}]", names.join(", ")),
                    ));
                }
                cols.extend(hits.into_iter().filter(|j| !cols.contains(j)).collect::<Vec<_>>());
            }
            cols
        }
    };
    let blp_x = Mat::from_fn(n, blp_cols.len(), |i, j| x[(i, blp_cols[j])]);
    let blp_names: Vec<String> = blp_cols.iter().map(|&j| names[j].clone()).collect();

    // Groups.
    let (group_of, group_names, groups_from) = match (&group_values, args.clusters) {
        (Some(v), _) => {
            let mut index: BTreeMap<&str, usize> = BTreeMap::new();
            for s in v {
                index.insert(s.as_str(), 0);
            }
            for (k, slot) in index.values_mut().enumerate() {
                *slot = k;
            }
            let of: Vec<usize> = v.iter().map(|s| index[s.as_str()]).collect();
            let names: Vec<String> = index.keys().map(|s| s.to_string()).collect();
            let from = format!("column {}", args.groups.as_deref().unwrap_or(""));
            (Some(of), names, Some(from))
        }
        (None, Some(k)) => {
            let km = KMeansParams { n_clusters: k, ..Default::default() }
                .fit(x.as_ref(), seed.indexed(stream::SKETCH, 1))
                .map_err(|e| match e {
                    Error::InvalidParam { .. } => Error::param("audit", "--clusters", e.to_string()),
                    other => other,
                })?;
            let names = (1..=k).map(|j| format!("cluster{j}")).collect();
            (Some(km.labels), names, Some(format!("k-means, {k} clusters")))
        }
        (None, None) => (None, Vec::new(), None),
    };
    let is_gold: Vec<f64> = t.to_vec();
    let input = AuditInput {
        phi: &phi,
        is_gold: &is_gold,
        blp_x: blp_x.as_ref(),
        blp_names: &blp_names,
        groups: group_of.as_deref().map(|g| (g, group_names.as_slice())),
    };
    let mut a = audit(&input, args.level)?;
    if let Some(w) = &overlap.warning {
        a.warnings.push(w.clone());
    }

    let mut obj = a.to_json();
    obj.insert("data".into(), json!(path.display().to_string()));
    obj.insert("scale".into(), json!(c));
    obj.insert("align".into(), json!(alignment.method.name()));
    obj.insert("nuisance".into(), json!(cfg.delta.nuisance.name()));
    obj.insert(
        "propensity_overlap".into(),
        json!({"min": overlap.min, "max": overlap.max, "share_clipped": overlap.share_clipped}),
    );
    obj.insert("groups_from".into(), groups_from.as_ref().map_or(Value::Null, |g| json!(g)));
    if let Some(dir) = &args.output.out {
        write_dir(dir, &obj, &a, path)?;
    }
    if args.output.json {
        println!("{}", Value::Object(obj));
        return Ok(());
    }
    println!(
        "audit of {} ({} gold, {} preference rows): bias = gold - judge on the gold scale (judge / c, c = {:.6}, {})",
        path.display(),
        gold.len(),
        pref.len(),
        c,
        alignment.method.name()
    );
    if let Some(g) = &groups_from {
        println!("groups from {g}");
    }
    print!("{}", a.table());
    if let Some(dir) = &args.output.out {
        println!("wrote {}", dir.display());
    }
    Ok(())
}

/// `audit.json` and, with groups, `bias_by_group.svg` in `dir`.
fn write_dir(
    dir: &PathBuf,
    obj: &serde_json::Map<String, Value>,
    a: &crate::eval::audit::Audit,
    data: &Path,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let body = serde_json::to_string_pretty(&Value::Object(obj.clone()))
        .map_err(|e| Error::data(format!("cannot encode audit.json: {e}")))?;
    crate::outfile::write(dir.join("audit.json"), body + "\n")?;
    if let Some(svg) = a.groups_svg(&format!("Judge bias per group on {}", data.display())) {
        crate::outfile::write(dir.join("bias_by_group.svg"), svg)?;
    }
    Ok(())
}
