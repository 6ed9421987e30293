//! The crate's one error type.
//!
//! Every fallible public function returns [`Result`]. Variants are structured so that a caller
//! can act on them (which file, line, column, parameter or value was at fault), and `Display`
//! writes one human line that the command-line tool prints as is. Causes (I/O errors) are kept
//! as `source()`, never flattened into strings.
//!
//! Panics are reserved for broken internal invariants; nothing a user passes in (data, parameters,
//! model files, command-line arguments) reaches a panic.

use std::fmt;
use std::path::PathBuf;

/// The crate-wide result alias.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in meta-router.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// A parameter is out of its domain or could not be parsed.
    InvalidParam {
        /// The component the parameter belongs to (`"ridge"`, `"study"`, ...).
        owner: String,
        /// The parameter name as the user spells it.
        name: String,
        /// Why it was rejected, including the offending value.
        reason: String,
    },
    /// Two things that must agree in length do not.
    Shape {
        /// What was being checked.
        what: String,
        /// The expected length.
        expected: usize,
        /// The length found.
        got: usize,
    },
    /// A NaN or infinite value where only finite values are allowed.
    NonFinite {
        /// Which input (`"features"`, `"target"`, `"weights"`, a column name...).
        what: String,
        /// 0-based row index within that input.
        row: usize,
        /// 0-based column index within that input (0 for vectors).
        col: usize,
        /// The value found.
        value: f64,
    },
    /// An input with no rows, no columns or no usable data.
    Empty {
        /// What was empty.
        what: String,
    },
    /// Data that is valid in form but unusable for the request (one-class target,
    /// constant labels, no gold rows, ...).
    InvalidData {
        /// What was wrong, naming the column or value.
        what: String,
    },
    /// A problem in a CSV file, with its location.
    Csv {
        /// The file.
        path: PathBuf,
        /// 1-based line number (the header is line 1), when known.
        line: Option<u64>,
        /// The column name, when known.
        column: Option<String>,
        /// What went wrong.
        msg: String,
    },
    /// A column the user named is not in the file.
    MissingColumn {
        /// The file.
        path: PathBuf,
        /// The column asked for.
        column: String,
        /// The columns the file has.
        available: Vec<String>,
    },
    /// An I/O failure on a file.
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A saved model file that cannot be read (corrupt, truncated, foreign, wrong version).
    ModelFile {
        /// The file, when reading from a file.
        path: Option<PathBuf>,
        /// What is wrong with it.
        msg: String,
    },
    /// An iterative solver stopped before reaching its tolerance.
    NotConverged {
        /// The solver.
        what: String,
        /// Iterations run.
        iterations: usize,
        /// The final convergence measure (e.g. gradient norm).
        residual: f64,
    },
    /// A feature column too large for f64 arithmetic: its sum of squares (weighted, about its
    /// mean where the learner centres) overflows, so a Gram matrix, Hessian or SVD of it cannot
    /// be formed. Roughly `|x| * sqrt(n) > 1e154`.
    FeatureScale {
        /// The learner.
        owner: String,
        /// 0-based feature column.
        col: usize,
        /// The column's name, when the caller knows it (see [`Error::name_features`]).
        name: Option<String>,
        /// The largest absolute value in the column.
        max_abs: f64,
    },
    /// A linear system could not be solved by any of the fallbacks.
    Singular {
        /// What was being solved.
        what: String,
    },
    /// A request whose memory cannot fit: refused before allocating (see the `budget` module).
    TooLarge {
        /// The parameter and its value as the user gave them (`"n_estimators 1000000000"`).
        what: String,
        /// What the memory is for (`"the forest"`).
        purpose: String,
        /// The estimated bytes (a lower bound; `u64::MAX` when beyond counting).
        needed_bytes: u64,
        /// The memory budget in force.
        budget_bytes: u64,
        /// The machine's memory, when known.
        machine_bytes: Option<u64>,
    },
}

impl Error {
    /// Shorthand for [`Error::InvalidParam`].
    pub fn param(owner: &str, name: &str, reason: impl Into<String>) -> Self {
        Error::InvalidParam { owner: owner.to_string(), name: name.to_string(), reason: reason.into() }
    }

    /// Shorthand for [`Error::InvalidData`].
    pub fn data(what: impl Into<String>) -> Self {
        Error::InvalidData { what: what.into() }
    }

    /// Shorthand for [`Error::Empty`].
    pub fn empty(what: impl Into<String>) -> Self {
        Error::Empty { what: what.into() }
    }

    /// Shorthand for [`Error::Shape`].
    pub fn shape(what: impl Into<String>, expected: usize, got: usize) -> Self {
        Error::Shape { what: what.into(), expected, got }
    }

    /// Shorthand for [`Error::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    /// Fills in the names of feature columns that a learner's error gives by index, from the
    /// caller's column names (the learner sees only a matrix); other errors pass unchanged.
    pub fn name_features(self, names: &[String]) -> Self {
        match self {
            Error::FeatureScale { owner, col, name: None, max_abs } => {
                Error::FeatureScale { owner, col, name: names.get(col).cloned(), max_abs }
            }
            e => e,
        }
    }

    /// Shorthand for [`Error::ModelFile`].
    pub fn model_file(path: Option<PathBuf>, msg: impl Into<String>) -> Self {
        Error::ModelFile { path, msg: msg.into() }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::InvalidParam { owner, name, reason } => {
                write!(f, "invalid parameter `{name}` for {owner}: {reason}")
            }
            Error::Shape { what, expected, got } => {
                write!(f, "length mismatch in {what}: expected {expected}, got {got}")
            }
            Error::NonFinite { what, row, col, value } => {
                write!(f, "non-finite value {value} in {what} at row {row}, column {col}")
            }
            Error::Empty { what } => write!(f, "empty input: {what}"),
            Error::InvalidData { what } => write!(f, "invalid data: {what}"),
            Error::Csv { path, line, column, msg } => {
                write!(f, "{}", path.display())?;
                if let Some(line) = line {
                    write!(f, ", line {line}")?;
                }
                if let Some(column) = column {
                    write!(f, ", column `{column}`")?;
                }
                write!(f, ": {msg}")
            }
            Error::MissingColumn { path, column, available } => {
                write!(f, "{}: no column `{column}`; the file has: {}", path.display(), available.join(", "))
            }
            Error::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Error::ModelFile { path, msg } => match path {
                Some(p) => write!(f, "model file {}: {msg}", p.display()),
                None => write!(f, "model data: {msg}"),
            },
            Error::NotConverged { what, iterations, residual } => write!(
                f,
                "{what} did not converge in {iterations} iterations (residual {residual:e}); \
                 raise max_iter or the tolerance"
            ),
            Error::FeatureScale { owner, col, name, max_abs } => {
                write!(f, "{owner}: feature column {col}")?;
                if let Some(name) = name {
                    write!(f, " (`{name}`)")?;
                }
                write!(
                    f,
                    " is too large for f64 arithmetic: its sum of squares overflows (largest |value| \
                     {max_abs:e}); rescale the column"
                )
            }
            Error::Singular { what } => write!(f, "singular system in {what}"),
            Error::TooLarge { what, purpose, needed_bytes, budget_bytes, machine_bytes } => {
                write!(
                    f,
                    "{what} would need ~{} for {purpose} (the budget is {}",
                    HumanBytes(*needed_bytes),
                    HumanBytes(*budget_bytes)
                )?;
                if let Some(m) = machine_bytes {
                    write!(f, " of the machine's {}", HumanBytes(*m))?;
                }
                write!(f, "; {} sets it)", BUDGET_ENV_VAR)
            }
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The environment variable that sets the memory budget (see the `budget` module), named in
/// [`Error::TooLarge`]'s message.
pub const BUDGET_ENV_VAR: &str = "META_ROUTER_MEMORY_BUDGET";

/// A byte count for people: `~96 GB`-style, decimal units (1 GB = 10^9 bytes), two
/// significant digits below 10.
pub struct HumanBytes(pub u64);

impl std::fmt::Display for HumanBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0 == u64::MAX {
            return write!(f, "more than 18 EB");
        }
        const UNITS: [&str; 7] = ["bytes", "kB", "MB", "GB", "TB", "PB", "EB"];
        let mut v = self.0 as f64;
        let mut u = 0;
        while v >= 1000.0 && u + 1 < UNITS.len() {
            v /= 1000.0;
            u += 1;
        }
        if u == 0 {
            write!(f, "{} bytes", self.0)
        } else if v < 10.0 {
            write!(f, "{v:.1} {}", UNITS[u])
        } else {
            write!(f, "{v:.0} {}", UNITS[u])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_the_fault() {
        let e = Error::Csv {
            path: "a.csv".into(),
            line: Some(7),
            column: Some("x3".into()),
            msg: "cannot parse `abc` as a number".into(),
        };
        assert_eq!(e.to_string(), "a.csv, line 7, column `x3`: cannot parse `abc` as a number");
        let e = Error::param("ridge", "alpha", "must be >= 0, got -1");
        assert!(e.to_string().contains("`alpha`") && e.to_string().contains("-1"));
        let e = Error::MissingColumn {
            path: "b.csv".into(),
            column: "y".into(),
            available: vec!["x1".into(), "x2".into()],
        };
        assert!(e.to_string().ends_with("x1, x2"));
    }
}
