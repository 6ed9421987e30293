//! Long-format deployment data for routing among several models (issue #13): one row per
//! `(query, model, source)` label, the query's features given once, read into per-query tables.
//!
//! # The format
//! Columns: a query id, a model name, a label source, a label, and the features. A source value
//! equal to the gold source's name (`gold` by default) is a gold label; every other value names a
//! judge (a preference source). Any combination may be missing. Each query's features are given
//! on at least one of its rows; every other row of the query either repeats exactly the same
//! values or leaves every feature empty:
//! ```text
//! query,model,source,label,x1,x2
//! q1,gpt,gold,0.8,0.12,-1.5
//! q1,gpt,judgeA,0.9,,
//! q1,llama,judgeA,0.4,0.12,-1.5
//! q2,llama,gold,0.3,0.7,0.2
//! ```
//!
//! # The tables
//! [`from_dataset`] turns the rows into `q` query rows, in the order in which queries first
//! appear: the features `q x d`, the gold labels `q x K` and, per judge, its labels `q x K`
//! (`NaN` where a combination is missing). Models follow the order the caller gives (the
//! `--costs` list) or, without one, their first appearance; judges follow the caller's list or
//! sorted names. Every rule is checked and a violation names the file, the line (header = line
//! 1; two lines for a conflict), the column and the value: an empty id, model or source; a model
//! or judge outside the caller's lists; a model or judge of the lists without any label; the same
//! `(query, model, source)` labelled twice; a missing or non-finite label; a feature row with
//! some features empty or one infinite; two rows of a query with different features; a query without a feature
//! row.

use std::collections::HashMap;
use std::path::Path;

use faer::Mat;

use crate::data::{ColumnRoles, Dataset, read_csv};
use crate::error::{Error, Result};

/// Which columns hold what, and the caller's orders of models and judges.
#[derive(Clone, Debug)]
pub struct LongSpec<'a> {
    /// The query-id column.
    pub query_col: &'a str,
    /// The model-name column.
    pub model_col: &'a str,
    /// The label-source column.
    pub source_col: &'a str,
    /// The label column.
    pub label_col: &'a str,
    /// The source value that marks a gold label.
    pub gold_source: &'a str,
    /// The models, in order (with `models_flag`, the flag that gave them, for messages);
    /// `None`: every model of the data, in order of first appearance.
    pub models: Option<&'a [String]>,
    /// The flag that gave `models` (e.g. `--costs`).
    pub models_flag: &'a str,
    /// The judges, in order; `None`: every non-gold source of the data, sorted by name.
    pub sources: Option<&'a [String]>,
}

/// Labels per model: gold and per judge.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelCounts {
    /// Label rows of the model.
    pub rows: usize,
    /// Gold labels among them.
    pub gold: usize,
    /// Per judge, its labels.
    pub pref: Vec<usize>,
}

/// Long-format data as per-query tables (module docs).
#[derive(Clone, Debug)]
pub struct LongTable {
    /// Query ids, in order of first appearance.
    pub queries: Vec<String>,
    /// Feature column names.
    pub feature_names: Vec<String>,
    /// Features, `q x d`, column-major.
    pub x: Mat<f64>,
    /// Model names, in table column order.
    pub models: Vec<String>,
    /// Judge names, in order.
    pub judges: Vec<String>,
    /// Gold labels, `q x K` (`NaN`: missing).
    pub gold: Mat<f64>,
    /// Per judge, its labels `q x K` (`NaN`: missing).
    pub pref: Vec<Mat<f64>>,
    /// Per model, its label counts.
    pub counts: Vec<ModelCounts>,
    /// Label rows read.
    pub n_rows: usize,
}

/// Reads a long-format CSV (module docs) with the feature columns `features` (comma list of
/// names or globs; `None`: every column but the four of `spec`).
///
/// # Errors
/// As [`read_csv`] and [`from_dataset`].
pub fn read_long(path: impl AsRef<Path>, features: Option<&str>, spec: &LongSpec<'_>) -> Result<LongTable> {
    let cols = [spec.query_col, spec.model_col, spec.source_col, spec.label_col];
    for (i, a) in cols.iter().enumerate() {
        if cols[..i].contains(a) {
            return Err(Error::param(
                "long-format data",
                "columns",
                format!("column `{a}` is given two roles (query, model, source and label need four columns)"),
            ));
        }
    }
    let mut roles = ColumnRoles::with_features(features);
    roles.text = vec![spec.query_col.to_string(), spec.model_col.to_string(), spec.source_col.to_string()];
    roles.numeric = vec![spec.label_col.to_string()];
    let d = read_csv(path, &roles)?;
    from_dataset(&d, spec)
}

fn at(d: &Dataset, row: usize, column: &str, msg: impl Into<String>) -> Error {
    Error::Csv { path: d.path.clone(), line: Some(line_of(row)), column: Some(column.to_string()), msg: msg.into() }
}

/// The file line of data row `row` (the header is line 1).
fn line_of(row: usize) -> u64 {
    row as u64 + 2
}

/// Index of `name` in `order`, adding it when `fixed` is false.
fn index_in(order: &mut Vec<String>, name: &str, fixed: bool) -> Option<usize> {
    match order.iter().position(|m| m == name) {
        Some(i) => Some(i),
        None if !fixed => {
            order.push(name.to_string());
            Some(order.len() - 1)
        }
        None => None,
    }
}

/// Builds the per-query tables from rows read with text columns `query_col`, `model_col`,
/// `source_col` and the numeric `label_col` (module docs).
///
/// # Errors
/// [`Error::Csv`] naming the line(s), column and value of the first violated rule;
/// [`Error::InvalidParam`] for a model or judge of the caller's lists without labels;
/// [`Error::MissingColumn`] for a column that was not read.
pub fn from_dataset(d: &Dataset, spec: &LongSpec<'_>) -> Result<LongTable> {
    let (qcol, mcol, scol) =
        (d.text_column(spec.query_col)?, d.text_column(spec.model_col)?, d.text_column(spec.source_col)?);
    d.check_finite_column(spec.label_col)?;
    let label = d.column(spec.label_col)?;
    let n = d.n_rows();
    let mut models: Vec<String> = spec.models.map_or_else(Vec::new, <[String]>::to_vec);
    let mut judges: Vec<String> = spec.sources.map_or_else(Vec::new, <[String]>::to_vec);
    if let Some(j) = judges.iter().position(|j| j == spec.gold_source) {
        return Err(Error::param(
            "long-format data",
            "--sources",
            format!("`{}` is the gold source, not a judge", judges[j]),
        ));
    }
    // pass 1: queries, models and source names of every row
    let mut qindex: HashMap<&str, usize> = HashMap::new();
    let mut queries: Vec<String> = Vec::new();
    let mut row_q = Vec::with_capacity(n);
    let mut row_m = Vec::with_capacity(n);
    for i in 0..n {
        for (col, v, what) in [(spec.query_col, &qcol[i], "query id"), (spec.model_col, &mcol[i], "model name")] {
            if v.is_empty() {
                return Err(at(d, i, col, format!("empty {what}")));
            }
        }
        if scol[i].is_empty() {
            return Err(at(d, i, spec.source_col, "empty label source"));
        }
        let q = *qindex.entry(qcol[i].as_str()).or_insert_with(|| {
            queries.push(qcol[i].clone());
            queries.len() - 1
        });
        row_q.push(q);
        let m = index_in(&mut models, &mcol[i], spec.models.is_some()).ok_or_else(|| {
            at(
                d,
                i,
                spec.model_col,
                format!("model `{}` is not in {} (models: {})", mcol[i], spec.models_flag, models.join(", ")),
            )
        })?;
        row_m.push(m);
        if scol[i] != spec.gold_source && spec.sources.is_none() && !judges.contains(&scol[i]) {
            judges.push(scol[i].clone());
        }
    }
    if spec.sources.is_none() {
        judges.sort();
    }
    if judges.is_empty() {
        return Err(Error::data(format!(
            "{}: no judge labels (every source is the gold source `{}`)",
            d.path.display(),
            spec.gold_source
        )));
    }
    // pass 2: labels (0 gold, s + 1 judge s) and features
    let (q, k, ns) = (queries.len(), models.len(), judges.len() + 1);
    let mut first_line = vec![0u64; q * k * ns];
    let mut tables: Vec<Mat<f64>> = (0..ns).map(|_| Mat::from_fn(q, k, |_, _| f64::NAN)).collect();
    let mut counts: Vec<ModelCounts> = vec![ModelCounts { pref: vec![0; judges.len()], ..Default::default() }; k];
    let dcols = d.x.ncols();
    let mut x = Mat::<f64>::zeros(q, dcols);
    let mut feature_line = vec![0u64; q];
    for i in 0..n {
        let (qi, mi) = (row_q[i], row_m[i]);
        let s = if scol[i] == spec.gold_source {
            0
        } else {
            1 + judges.iter().position(|j| j == &scol[i]).ok_or_else(|| {
                at(
                    d,
                    i,
                    spec.source_col,
                    format!(
                        "source `{}` is neither the gold source `{}` nor a judge of --sources ({})",
                        scol[i],
                        spec.gold_source,
                        judges.join(", ")
                    ),
                )
            })?
        };
        let slot = (s * q + qi) * k + mi;
        if first_line[slot] != 0 {
            return Err(at(
                d,
                i,
                spec.source_col,
                format!(
                    "lines {} and {} both label query `{}`, model `{}`, source `{}`",
                    first_line[slot],
                    line_of(i),
                    queries[qi],
                    models[mi],
                    scol[i]
                ),
            ));
        }
        first_line[slot] = line_of(i);
        tables[s][(qi, mi)] = label[i];
        let c = &mut counts[mi];
        c.rows += 1;
        if s == 0 {
            c.gold += 1;
        } else {
            c.pref[s - 1] += 1;
        }
        // features: all empty (none given on this row), or all given
        let empty = (0..dcols).filter(|&j| d.x[(i, j)].is_nan()).count();
        if empty == dcols {
            continue;
        }
        if empty > 0 {
            let j = (0..dcols).find(|&j| d.x[(i, j)].is_nan()).unwrap_or(0);
            return Err(at(
                d,
                i,
                &d.feature_names[j],
                format!(
                    "query `{}`: a row gives either all features or none; this one leaves `{}` empty",
                    queries[qi], d.feature_names[j]
                ),
            ));
        }
        if let Some(j) = (0..dcols).find(|&j| d.x[(i, j)].is_infinite()) {
            return Err(at(d, i, &d.feature_names[j], "infinite value where a finite number is required"));
        }
        if feature_line[qi] == 0 {
            feature_line[qi] = line_of(i);
            for j in 0..dcols {
                x[(qi, j)] = d.x[(i, j)];
            }
            continue;
        }
        if let Some(j) = (0..dcols).find(|&j| d.x[(i, j)].to_bits() != x[(qi, j)].to_bits()) {
            return Err(at(
                d,
                i,
                &d.feature_names[j],
                format!(
                    "lines {} and {} give query `{}` different features (`{}`: {} and {})",
                    feature_line[qi],
                    line_of(i),
                    queries[qi],
                    d.feature_names[j],
                    x[(qi, j)],
                    d.x[(i, j)]
                ),
            ));
        }
    }
    if let Some(qi) = feature_line.iter().position(|&l| l == 0) {
        let row = row_q.iter().position(|&r| r == qi).unwrap_or(0);
        return Err(at(
            d,
            row,
            spec.query_col,
            format!("query `{}` (first on this line) has no row with its features", queries[qi]),
        ));
    }
    if let Some(mi) = counts.iter().position(|c| c.rows == 0) {
        return Err(Error::param(
            "long-format data",
            spec.models_flag,
            format!("model `{}` has no label in {}", models[mi], d.path.display()),
        ));
    }
    for (s, judge) in judges.iter().enumerate() {
        if counts.iter().all(|c| c.pref[s] == 0) {
            return Err(Error::param(
                "long-format data",
                "--sources",
                format!("judge `{judge}` has no label in {}", d.path.display()),
            ));
        }
    }
    let gold = tables.remove(0);
    Ok(LongTable {
        queries,
        feature_names: d.feature_names.clone(),
        x,
        models,
        judges,
        gold,
        pref: tables,
        counts,
        n_rows: n,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(name: &str, body: &str, models: Option<&[String]>, sources: Option<&[String]>) -> Result<LongTable> {
        let p = std::env::temp_dir().join(format!("mr-long-{}-{name}", std::process::id()));
        std::fs::write(&p, body).unwrap();
        let spec = LongSpec {
            query_col: "query",
            model_col: "model",
            source_col: "source",
            label_col: "label",
            gold_source: "gold",
            models,
            models_flag: "--costs",
            sources,
        };
        read_long(&p, None, &spec)
    }

    const OK: &str = "query,model,source,label,x1,x2\n\
        q1,b,gold,0.8,1,2\n\
        q1,b,jB,0.9,,\n\
        q1,a,jA,0.4,1,2\n\
        q2,a,gold,0.3,3,4\n\
        q2,b,jA,0.5,,\n";

    #[test]
    fn rows_become_query_tables() {
        let t = table("ok.csv", OK, None, None).unwrap();
        assert_eq!(t.queries, ["q1", "q2"]);
        assert_eq!(t.models, ["b", "a"], "first appearance");
        assert_eq!(t.judges, ["jA", "jB"], "sorted");
        assert_eq!(t.x.col_as_slice(0), &[1.0, 3.0]);
        assert_eq!(t.x.col_as_slice(1), &[2.0, 4.0]);
        assert_eq!(t.gold[(0, 0)], 0.8);
        assert_eq!(t.gold[(1, 1)], 0.3);
        assert!(t.gold[(0, 1)].is_nan() && t.gold[(1, 0)].is_nan());
        assert_eq!(t.pref[0][(0, 1)], 0.4);
        assert_eq!(t.pref[0][(1, 0)], 0.5);
        assert_eq!(t.pref[1][(0, 0)], 0.9);
        assert_eq!(t.counts[0], ModelCounts { rows: 3, gold: 1, pref: vec![1, 1] });
        let order = ["a".to_string(), "b".to_string()];
        let t = table("ok2.csv", OK, Some(&order), Some(&["jB".to_string(), "jA".to_string()])).unwrap();
        assert_eq!(t.models, ["a", "b"]);
        assert_eq!(t.judges, ["jB", "jA"]);
        assert_eq!(t.pref[1][(0, 0)], 0.4);
    }

    #[test]
    fn every_rule_is_named() {
        let err = |name: &str, body: &str, models: Option<&[String]>, sources: Option<&[String]>| {
            table(name, body, models, sources).unwrap_err().to_string()
        };
        let head = "query,model,source,label,x1,x2\n";
        let e = err("dup.csv", &format!("{head}q1,a,gold,1,1,2\nq1,b,jA,1,,\nq1,a,gold,2,,\n"), None, None);
        assert!(e.contains("line 4") && e.contains("lines 2 and 4 both label query `q1`, model `a`"), "{e}");
        let e = err("feat.csv", &format!("{head}q1,a,gold,1,1,2\nq1,b,jA,1,1,2.5\n"), None, None);
        assert!(e.contains("lines 2 and 3 give query `q1` different features (`x2`: 2 and 2.5)"), "{e}");
        let e = err("part.csv", &format!("{head}q1,a,gold,1,1,\nq1,b,jA,1,,\n"), None, None);
        assert!(e.contains("line 2, column `x2`") && e.contains("leaves `x2` empty"), "{e}");
        let e = err("nofeat.csv", &format!("{head}q1,a,gold,1,1,2\nq2,b,jA,1,,\nq2,a,jA,1,,\n"), None, None);
        assert!(
            e.contains("line 3") && e.contains("query `q2` (first on this line) has no row with its features"),
            "{e}"
        );
        let e = err("nan.csv", &format!("{head}q1,a,gold,1,1,2\nq1,b,jA,,,\n"), None, None);
        assert!(e.contains("line 3, column `label`: missing or NaN"), "{e}");
        let e = err("inf.csv", &format!("{head}q1,a,gold,1,1,2\nq1,b,jA,inf,,\n"), None, None);
        assert!(e.contains("line 3, column `label`: infinite"), "{e}");
        let e = err("infx.csv", &format!("{head}q1,a,gold,1,1,inf\nq1,b,jA,1,,\n"), None, None);
        assert!(e.contains("line 2, column `x2`: infinite value"), "{e}");
        let e = err("empty.csv", &format!("{head}q1,,gold,1,1,2\n"), None, None);
        assert!(e.contains("line 2, column `model`: empty model name"), "{e}");
        let two = ["a".to_string(), "b".to_string()];
        let e = err("nocost.csv", &format!("{head}q1,a,gold,1,1,2\nq1,c,jA,1,,\n"), Some(&two), None);
        assert!(e.contains("line 3, column `model`: model `c` is not in --costs (models: a, b)"), "{e}");
        let e = err("nolab.csv", &format!("{head}q1,a,gold,1,1,2\nq1,a,jA,1,,\n"), Some(&two), None);
        assert!(e.contains("model `b` has no label"), "{e}");
        let e = err("src.csv", &format!("{head}q1,a,gold,1,1,2\nq1,b,jZ,1,,\n"), None, Some(&["jA".to_string()]));
        assert!(e.contains("line 3, column `source`: source `jZ` is neither the gold source"), "{e}");
        let e = err("nojudge.csv", &format!("{head}q1,a,gold,1,1,2\nq1,b,gold,1,,\n"), None, None);
        assert!(e.contains("no judge labels"), "{e}");
        let e = err(
            "silent.csv",
            &format!("{head}q1,a,gold,1,1,2\nq1,b,jA,1,,\n"),
            None,
            Some(&["jA".into(), "jB".into()]),
        );
        assert!(e.contains("judge `jB` has no label"), "{e}");
        let e = err("col.csv", "query,model,source\nq1,a,gold\n", None, None);
        assert!(e.contains("no column `label`"), "{e}");
    }
}
