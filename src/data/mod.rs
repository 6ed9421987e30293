//! Tabular data: CSV in and out, column roles, and the column-major feature matrix.
//!
//! A CSV file with a header row is read once, streaming, into a [`Dataset`]: the feature
//! columns into a column-major faer `Mat<f64>` (each feature contiguous, as the tree learners
//! want), named numeric columns (labels, weights, truths) into vectors, and an optional source
//! column (gold / preference) into a 1/0 indicator, and named text columns (ids, model and
//! source names of long-format data, [`long`]) into strings, trimmed.
//!
//! Feature columns are chosen by a comma list of names or glob patterns (`x*`, `embd.PC*`);
//! by default every column that has no other role is a feature. Empty fields and `NaN` read as
//! NaN (missing); whether a learner accepts missing values is the learner's decision, and the
//! error then names the file's line and column (see [`Dataset::check_finite_features`]).

pub mod csv;
pub mod glob;
pub mod long;

use std::collections::BTreeMap;
use std::path::PathBuf;

use faer::Mat;

use crate::error::{Error, Result};
use crate::linalg::select::{gather, gather_opt, select_rows};

pub use self::csv::{Column, read_csv, read_csv_from, read_header, write_csv};

/// Which columns of a CSV play which role.
#[derive(Clone, Debug, Default)]
pub struct ColumnRoles {
    /// Feature columns: names or glob patterns; `None` = every column without another role.
    pub features: Option<Vec<String>>,
    /// Numeric columns to load by name (labels, weights, truths). Each must exist.
    pub numeric: Vec<String>,
    /// Numeric columns to load when present (silently skipped when absent).
    pub optional_numeric: Vec<String>,
    /// The source column (gold / preference), if any.
    pub source: Option<String>,
    /// Text columns to load by name, as strings (each must exist; never features).
    pub text: Vec<String>,
    /// Columns that are never features even under the default (e.g. ids).
    pub exclude: Vec<String>,
}

impl ColumnRoles {
    /// Roles with the given feature patterns (comma separated) or the default when `None`.
    pub fn with_features(features: Option<&str>) -> Self {
        ColumnRoles {
            features: features.map(|f| f.split(',').map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect()),
            ..Default::default()
        }
    }
}

/// A loaded table.
#[derive(Clone, Debug)]
pub struct Dataset {
    /// The file it came from.
    pub path: PathBuf,
    /// Feature column names, in matrix column order.
    pub feature_names: Vec<String>,
    /// The features, `n_rows x n_features`, column-major.
    pub x: Mat<f64>,
    /// Named numeric columns.
    pub numeric: BTreeMap<String, Vec<f64>>,
    /// The source indicator (1 = gold, 0 = preference) when a source column was named.
    pub source: Option<Vec<f64>>,
    /// Named text columns (values trimmed).
    pub text: BTreeMap<String, Vec<String>>,
}

impl Dataset {
    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.x.nrows()
    }

    /// A named numeric column.
    ///
    /// # Errors
    /// [`Error::MissingColumn`] when it was not loaded.
    pub fn column(&self, name: &str) -> Result<&[f64]> {
        self.numeric.get(name).map(|v| v.as_slice()).ok_or_else(|| Error::MissingColumn {
            path: self.path.clone(),
            column: name.to_string(),
            available: self.numeric.keys().cloned().collect(),
        })
    }

    /// A named text column.
    ///
    /// # Errors
    /// [`Error::MissingColumn`] when it was not loaded.
    pub fn text_column(&self, name: &str) -> Result<&[String]> {
        self.text.get(name).map(|v| v.as_slice()).ok_or_else(|| Error::MissingColumn {
            path: self.path.clone(),
            column: name.to_string(),
            available: self.text.keys().cloned().collect(),
        })
    }

    /// Checks every feature is finite, naming the file line (header = line 1) and column.
    ///
    /// # Errors
    /// [`Error::Csv`] at the first NaN or infinite feature.
    pub fn check_finite_features(&self) -> Result<()> {
        for (j, name) in self.feature_names.iter().enumerate() {
            self.check_finite(name, self.x.col_as_slice(j))?;
        }
        Ok(())
    }

    /// Checks the features for a learner: every value finite, or, when `allow_missing` (for
    /// learners that route missing values, such as boosting), NaN allowed but no infinity.
    ///
    /// # Errors
    /// [`Error::Csv`] naming the file, line and column of the first offending value.
    pub fn check_features(&self, allow_missing: bool) -> Result<()> {
        if !allow_missing {
            return self.check_finite_features();
        }
        for (j, name) in self.feature_names.iter().enumerate() {
            self.check_values(
                name,
                self.x.col_as_slice(j),
                |v| !v.is_infinite(),
                "infinite value where a number or a missing value is required",
            )?;
        }
        Ok(())
    }

    /// Checks every value of a loaded column with `ok`, naming the file line and column of the
    /// first value that fails, with `what` as the message.
    ///
    /// # Errors
    /// [`Error::MissingColumn`] when the column was not loaded; [`Error::Csv`] at the first failure.
    pub fn check_column(&self, name: &str, ok: impl Fn(f64) -> bool, what: &str) -> Result<()> {
        self.check_values(name, self.column(name)?, ok, what)
    }

    fn check_values(&self, name: &str, v: &[f64], ok: impl Fn(f64) -> bool, what: &str) -> Result<()> {
        match v.iter().position(|&x| !ok(x)) {
            Some(i) => Err(Error::Csv {
                path: self.path.clone(),
                line: Some(i as u64 + 2),
                column: Some(name.to_string()),
                msg: format!("{what} (found {})", v[i]),
            }),
            None => Ok(()),
        }
    }

    /// Checks a numeric column is finite, naming the file line and column.
    ///
    /// # Errors
    /// [`Error::Csv`] at the first NaN or infinite value.
    pub fn check_finite_column(&self, name: &str) -> Result<()> {
        self.check_finite(name, self.column(name)?)
    }

    fn check_finite(&self, name: &str, v: &[f64]) -> Result<()> {
        if let Some(i) = v.iter().position(|x| !x.is_finite()) {
            let what = if v[i].is_nan() { "missing or NaN value" } else { "infinite value" };
            return Err(Error::Csv {
                path: self.path.clone(),
                line: Some(i as u64 + 2),
                column: Some(name.to_string()),
                msg: format!("{what} where a finite number is required"),
            });
        }
        Ok(())
    }

    /// A dataset of the selected rows (in the given order).
    pub fn select_rows(&self, rows: &[usize]) -> Dataset {
        let x = select_rows(self.x.as_ref(), rows);
        let numeric = self.numeric.iter().map(|(k, v)| (k.clone(), gather(v, rows))).collect();
        let source = gather_opt(self.source.as_deref(), rows);
        let text = self.text.iter().map(|(k, v)| (k.clone(), rows.iter().map(|&i| v[i].clone()).collect())).collect();
        Dataset { path: self.path.clone(), feature_names: self.feature_names.clone(), x, numeric, source, text }
    }
}
