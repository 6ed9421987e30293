//! The study's output directory: summary.json, curves.csv, rounds.csv (from
//! [`crate::eval::report`]) and efficiency_gain.svg (from [`crate::eval::svg`]), written side by
//! side. No timing goes into these files, so they are byte-identical across runs and thread
//! counts.

use std::path::Path;

use serde_json::Value;

use crate::error::{Error, Result};
use crate::eval::summary::{StudyOutcome, Summary};
use crate::eval::svg::efficiency_gain_svg;

impl Summary {
    /// Writes summary.json, curves.csv, rounds.csv and efficiency_gain.svg into `dir`
    /// (created if needed). No timing goes into these files, so they are byte-identical
    /// across runs and thread counts.
    ///
    /// # Errors
    /// [`Error::Io`] when the directory or a file cannot be written.
    pub fn write_dir(&self, outcome: &StudyOutcome, dir: &Path, title: &str) -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let write = |name: &str, body: String| {
            let p = dir.join(name);
            crate::outfile::write(&p, body)
        };
        let json = serde_json::to_string_pretty(&Value::Object(self.to_json()))
            .map_err(|e| Error::data(format!("cannot encode summary.json: {e}")))?;
        write("summary.json", json + "\n")?;
        write("curves.csv", self.curves_csv())?;
        write("rounds.csv", outcome.rounds_csv())?;
        write("efficiency_gain.svg", efficiency_gain_svg(self, title))
    }
}
