//! Fuzz-target bodies, shared by the cargo-fuzz crate in `fuzz/` and by the ordinary test suite,
//! which replays the checked-in corpus in `tests/corpus/<target>/` on the stable toolchain.
//!
//! Each body takes arbitrary bytes and must never panic; where an operation succeeds, it asserts
//! the invariants a caller relies on (finite predictions from finite inputs, probabilities in
//! `[0, 1]`, bit-identical round trips). A panic inside a body is a bug found.

use std::path::Path;

use faer::Mat;

use crate::data::{ColumnRoles, read_csv_from};
use crate::learn::pca::PcaModel;
use crate::learn::{ClassifierModel, ClassifierSpec, Predict, PredictProba, RegressorModel, RegressorSpec, TrainSet};
use crate::persist::{self, Kind};
use crate::rng::Seed;
use crate::router::Router;

/// CSV parsing: arbitrary bytes as a CSV file, read with a few role layouts.
pub fn csv_bytes(data: &[u8]) {
    let layouts = [
        ColumnRoles::default(),
        ColumnRoles { numeric: vec!["y".into()], ..Default::default() },
        ColumnRoles { numeric: vec!["y".into()], source: Some("source".into()), ..Default::default() },
        ColumnRoles::with_features(Some("x*")),
    ];
    for roles in &layouts {
        if let Ok(d) = read_csv_from(data, Path::new("fuzz.csv"), roles) {
            assert!(d.n_rows() > 0 && d.x.ncols() > 0, "a dataset without rows or features was accepted");
            for v in d.numeric.values() {
                assert_eq!(v.len(), d.n_rows());
            }
            let _ = d.check_finite_features();
        }
    }
}

/// Model-file loading: arbitrary bytes decoded as each artefact kind (regressor, classifier,
/// PCA, router); a model that decodes must predict, transform or route without panicking on a
/// matching input.
pub fn model_bytes(data: &[u8]) {
    if let Ok(m) = persist::from_bytes::<RegressorModel>(data, Kind::Regressor) {
        let d = m.n_features().min(1 << 12);
        let x = Mat::<f64>::zeros(2, d);
        let _ = m.predict(x.as_ref());
    }
    if let Ok(m) = persist::from_bytes::<ClassifierModel>(data, Kind::Classifier) {
        let d = m.n_features().min(1 << 12);
        let x = Mat::<f64>::zeros(2, d);
        let _ = m.predict_proba(x.as_ref());
    }
    if let Ok(p) = persist::from_bytes::<PcaModel>(data, Kind::Pca) {
        let d = p.n_features().min(1 << 12);
        let x = Mat::<f64>::zeros(2, d);
        if let Ok(z) = p.transform(x.as_ref()) {
            assert!(z.col_iter().all(|c| c.iter().all(|v| v.is_finite())), "a loaded PCA gave non-finite scores");
            let _ = p.inverse_transform(z.as_ref());
        }
    }
    if let Ok(r) = Router::from_bytes(data) {
        let d = r.feature_names.len().min(1 << 12);
        let row = vec![0.0; d];
        let mut scratch = vec![0.0; r.scratch_len().min(1 << 12)];
        let _ = r.score_into(&row, &mut scratch);
        let _ = r.decide(&row);
        let x = Mat::<f64>::zeros(2, d);
        let _ = r.score_batch(x.as_ref(), &mut [0.0; 2]);
    }
}

/// Structurally valid files around arbitrary payloads: the header and checksum are made right,
/// so the bytes reach the decoder and, when they decode, the model's own consistency checks and
/// its prediction path. This is what a crafted (not merely corrupted) file can do.
pub fn model_payload(data: &[u8]) {
    let Some((&which, payload)) = data.split_first() else { return };
    let kind = match which % 5 {
        0 => Kind::Regressor,
        1 => Kind::Classifier,
        2 => Kind::Pca,
        3 => Kind::RouterPreferenceScale,
        _ => Kind::Router,
    };
    let file = persist::frame(kind, payload);
    model_bytes(&file);
}

/// Command-line parsing: bytes split on NUL/newline into arguments, parsed (never run: running
/// could write files named by the fuzzer).
pub fn cli_args(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let args = std::iter::once("meta-router".to_string())
        .chain(text.split(['\0', '\n']).filter(|s| !s.is_empty()).map(str::to_string));
    let _ = <crate::cli::Cli as clap::Parser>::try_parse_from(args);
}

/// Values the fit fuzzer draws from: ordinary numbers and every awkward float.
const PALETTE: [f64; 16] = [
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    2.0,
    1e-300,
    -1e300,
    1e300,
    f64::MIN_POSITIVE,
    5e-324,
    f64::NAN,
    f64::INFINITY,
    f64::NEG_INFINITY,
    3.0,
    1.0,
];

/// Fitting every learner of the run-time spec on a small matrix decoded from the bytes
/// (1-8 rows, 1-4 columns, awkward values, constant and duplicate columns, zero weights).
pub fn fit_small(data: &[u8]) {
    if data.len() < 3 {
        return;
    }
    let n = 1 + (data[0] % 8) as usize;
    let d = 1 + (data[1] % 4) as usize;
    let flags = data[2];
    let mut bytes = data[3..].iter().copied().cycle();
    let mut next = || PALETTE[(bytes.next().unwrap_or(0) % 16) as usize];
    let x = Mat::from_fn(n, d, |_, _| next());
    let y: Vec<f64> = (0..n).map(|_| next()).collect();
    let w: Vec<f64> = (0..n).map(|_| next().abs()).collect();
    let weights = if flags & 1 == 1 { Some(w.as_slice()) } else { None };
    let inputs_finite = x.col_iter().all(|c| c.iter().all(|v| v.is_finite()));
    for name in RegressorSpec::NAMES {
        let Ok(spec) = RegressorSpec::from_name(name) else { continue };
        if let Ok(model) = spec.fit(TrainSet { x: x.as_ref(), y: &y, weights }, Seed(u64::from(flags))) {
            if let Ok(p) = model.predict(x.as_ref()) {
                if inputs_finite && y.iter().all(|v| v.is_finite() && v.abs() < 1e150) {
                    assert!(p.iter().all(|v| !v.is_nan()), "{name} predicted NaN from finite data");
                }
            }
        }
    }
    let t: Vec<f64> = y.iter().map(|&v| if v > 0.0 { 1.0 } else { 0.0 }).collect();
    for name in ClassifierSpec::NAMES {
        let Ok(spec) = ClassifierSpec::from_name(name) else { continue };
        if let Ok(model) = spec.fit(TrainSet { x: x.as_ref(), y: &t, weights }, Seed(u64::from(flags))) {
            if let Ok(p) = model.predict_proba(x.as_ref()) {
                assert!(p.iter().all(|v| (0.0..=1.0).contains(v)), "{name} gave a probability outside [0, 1]");
            }
        }
    }
}

/// The learners and their count parameters that [`fit_params`] sets (every one that is a
/// count; the size-limit tests draw from the same table).
pub const SIZE_PARAMS: &[(&str, &[&str])] = &[
    ("rf", &["n_estimators", "max_depth", "min_samples_split", "min_samples_leaf", "max_features", "max_samples"]),
    ("rfc", &["n_estimators", "max_depth", "min_samples_split", "min_samples_leaf", "max_features", "max_samples"]),
    ("hgb", &["max_iter", "max_leaf_nodes", "max_depth", "min_samples_leaf", "max_bins", "n_iter_no_change"]),
    ("hgbc", &["max_iter", "max_leaf_nodes", "max_depth", "min_samples_leaf", "max_bins", "n_iter_no_change"]),
    ("logistic", &["max_iter"]),
    ("pca", &["n_components", "n_oversamples", "n_power_iter"]),
];

/// Parameter values from the whole `u64` range: the first byte picks the learner and (bit 7)
/// early stopping for boosting; then each parameter takes 9 bytes, a tag and 8 little-endian
/// bytes: tag bit 0 keeps the full 64-bit value, else the value is reduced to `0..64`. The
/// learner is validated and fitted on a fixed 7 x 2 table under a 4 MB memory budget (so
/// every allocation a parameter sizes is checked before it is made); any result is fine, a
/// panic or an abort is a bug.
pub fn fit_params(data: &[u8]) {
    let Some((&first, rest)) = data.split_first() else { return };
    let (name, params) = SIZE_PARAMS[first as usize % SIZE_PARAMS.len()];
    let mut pairs: Vec<String> = Vec::new();
    for (p, chunk) in params.iter().zip(rest.chunks(9)) {
        let mut le = [0u8; 8];
        for (d, s) in le.iter_mut().zip(&chunk[1..]) {
            *d = *s;
        }
        let v = u64::from_le_bytes(le);
        let v = if chunk[0] & 1 == 1 { v } else { v % 64 };
        pairs.push(format!("{p}={v}"));
    }
    if first & 0x80 != 0 && name.starts_with("hgb") {
        pairs.push("early_stopping=true".into());
    }
    let x = Mat::from_fn(7, 2, |i, j| ((i * 3 + j * 5) % 7) as f64);
    let y: Vec<f64> = (0..7).map(|i| (i % 2) as f64).collect();
    let data = TrainSet { x: x.as_ref(), y: &y, weights: None };
    crate::budget::with_budget(4 << 20, || {
        if name == "pca" {
            let mut p =
                crate::learn::pca::PcaParams { solver: crate::learn::pca::PcaSolver::Randomized, ..Default::default() };
            for pair in &pairs {
                if let Some((k, v)) = pair.split_once('=') {
                    if crate::learn::Params::set_param(&mut p, k, v).is_err() {
                        return;
                    }
                }
            }
            if crate::learn::Params::validate(&p).is_ok() {
                if let Ok(m) = p.fit(x.as_ref(), Seed(1)) {
                    assert!(m.n_components() >= 1, "a PCA without components was fitted");
                }
            }
        } else if let Ok(mut spec) = RegressorSpec::from_name(name) {
            if spec.set_params(&pairs).is_ok() && spec.validate().is_ok() {
                if let Ok(m) = spec.fit(data, Seed(1)) {
                    let _ = m.predict(x.as_ref());
                }
            }
        } else if let Ok(mut spec) = ClassifierSpec::from_name(name) {
            if spec.set_params(&pairs).is_ok() && spec.validate().is_ok() {
                if let Ok(m) = spec.fit(data, Seed(1)) {
                    if let Ok(p) = m.predict_proba(x.as_ref()) {
                        assert!(p.iter().all(|v| (0.0..=1.0).contains(v)), "{name} gave a probability outside [0, 1]");
                    }
                }
            }
        }
    });
}
