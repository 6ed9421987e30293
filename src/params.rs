//! Parameters set by name: the [`Params`] trait, parsing of textual `key=value` values into
//! typed fields, and the domain checks `validate()` methods use (`x > 0`, `x >= 0`, `n >= min`).
//!
//! Used by the learners, the simulator and the command line; depends only on the error type.
//! Every error is an [`Error::InvalidParam`] naming the owner (a learner, `simulator`, `router`, a
//! command), the parameter and the offending value.

use crate::error::{Error, Result};

/// Parameters that can be set by name (from `--param k=v`) and validated: every
/// learner's params struct and the simulator's.
pub trait Params {
    /// The owner's name (a learner, the simulator), as used in error messages and on the command line.
    fn learner_name(&self) -> &'static str;
    /// Sets one parameter from its textual value.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParam`] for an unknown name or an unparsable value.
    fn set_param(&mut self, name: &str, value: &str) -> Result<()>;
    /// Checks every parameter's domain.
    ///
    /// # Errors
    /// [`crate::Error::InvalidParam`] naming the first parameter out of its domain.
    fn validate(&self) -> Result<()>;
    /// Whether `fit` accepts NaN features as missing values (infinite features are always an
    /// error). `false` unless the learner says otherwise.
    fn accepts_missing(&self) -> bool {
        false
    }
}

/// Parses a float parameter.
///
/// # Errors
/// [`Error::InvalidParam`] naming the parameter and the value.
pub fn parse_f64(owner: &str, name: &str, value: &str) -> Result<f64> {
    value.trim().parse::<f64>().map_err(|_| Error::param(owner, name, format!("`{value}` is not a number")))
}

/// Parses a non-negative integer parameter.
///
/// # Errors
/// [`Error::InvalidParam`] naming the parameter and the value.
pub fn parse_usize(owner: &str, name: &str, value: &str) -> Result<usize> {
    value
        .trim()
        .parse::<usize>()
        .map_err(|_| Error::param(owner, name, format!("`{value}` is not a non-negative integer")))
}

/// Parses an optional non-negative integer: `none` (or `null`, `inf`) means no limit.
///
/// # Errors
/// [`Error::InvalidParam`] naming the parameter and the value.
pub fn parse_opt_usize(owner: &str, name: &str, value: &str) -> Result<Option<usize>> {
    match value.trim().to_ascii_lowercase().as_str() {
        "none" | "null" | "inf" => Ok(None),
        _ => parse_usize(owner, name, value).map(Some),
    }
}

/// Parses a boolean parameter (`true/false`, `1/0`, `yes/no`, `on/off`).
///
/// # Errors
/// [`Error::InvalidParam`] naming the parameter and the value.
pub fn parse_bool(owner: &str, name: &str, value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" => Ok(false),
        _ => Err(Error::param(owner, name, format!("`{value}` is not a boolean (true/false)"))),
    }
}

/// The error for a parameter name the owner does not have.
pub fn unknown(owner: &str, name: &str, known: &[&str]) -> Error {
    Error::param(owner, name, format!("unknown parameter; {owner} takes: {}", known.join(", ")))
}

/// Checks `value > 0` and finite.
///
/// # Errors
/// [`Error::InvalidParam`].
pub fn positive(owner: &str, name: &str, value: f64) -> Result<()> {
    if value.is_finite() && value > 0.0 {
        Ok(())
    } else {
        Err(Error::param(owner, name, format!("must be a finite number > 0, got {value}")))
    }
}

/// Checks `value >= 0` and finite.
///
/// # Errors
/// [`Error::InvalidParam`].
pub fn non_negative(owner: &str, name: &str, value: f64) -> Result<()> {
    if value.is_finite() && value >= 0.0 {
        Ok(())
    } else {
        Err(Error::param(owner, name, format!("must be a finite number >= 0, got {value}")))
    }
}

/// Checks an integer is at least `min`.
///
/// # Errors
/// [`Error::InvalidParam`].
pub fn at_least(owner: &str, name: &str, value: usize, min: usize) -> Result<()> {
    if value >= min { Ok(()) } else { Err(Error::param(owner, name, format!("must be >= {min}, got {value}"))) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!(parse_f64("ridge", "alpha", " 0.5").unwrap(), 0.5);
        assert!(parse_f64("ridge", "alpha", "abc").unwrap_err().to_string().contains("`abc`"));
        assert_eq!(parse_opt_usize("rf", "max_depth", "None").unwrap(), None);
        assert_eq!(parse_opt_usize("rf", "max_depth", "7").unwrap(), Some(7));
        assert!(parse_usize("rf", "n", "-1").is_err());
        assert!(parse_bool("rf", "bootstrap", "maybe").is_err());
        assert!(positive("x", "y", 0.0).is_err());
        assert!(non_negative("x", "y", f64::NAN).is_err());
    }
}
