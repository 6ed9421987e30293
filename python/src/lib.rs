//! `meta_router._core`: the Python extension over the meta-router crate (PyO3 + numpy).
//!
//! A thin layer: learners are chosen and configured through the crate's run-time specs
//! (`RegressorSpec::from_name` + `set_params(&["k=v"])`, `ClassifierSpec`, `PcaParams`), routers
//! are trained by `train_router` and served by `router::Router`, models are saved with the
//! crate's versioned model files (the ones the CLI writes and reads), and studies run
//! `eval::study::run_study`. The scikit-learn-style classes live in Python
//! (`meta_router/__init__.py`) and call the functions here.
//!
//! # Arrays
//! Feature matrices arrive as float64 numpy arrays of any strides (the Python side converts
//! other dtypes and rejects object arrays); they are viewed in place as a faer `MatRef`, and
//! only the tree learners' and routers' fits copy a C-order array (see `with_column_major`).
//! Vectors (targets, weights) must be contiguous float64. The GIL is released for every fit,
//! prediction and study.
//!
//! # Errors
//! Crate errors become `OSError` (file I/O, CSV and model-file problems), `RuntimeError`
//! (a solver that did not converge) or `ValueError` (everything else: shapes, NaN, parameters,
//! unusable data), carrying the crate's one-line message.

use faer::{Mat, MatRef};
use meta_router::causal::{Align, DeltaConfig, FinalStage, Propensity, default_propensity_classifier};
use meta_router::eval::{CurveProtocol, RouterSummary, StudyConfig, StudyData, StudyRouter, run_study};
use meta_router::learn::pca::{PcaModel, PcaParams};
use meta_router::learn::{
    ClassifierModel, ClassifierSpec, Params, Predict, PredictProba, RegressorModel, RegressorSpec, TrainSet,
};
use meta_router::persist::{self, Kind};
use meta_router::rng::stream;
use meta_router::router::{Protocol, RouterConfig, RouterData, RouterKind, router_learner, train_router};
use meta_router::router::{Router, Threshold, usage_threshold};
use meta_router::{Error, Seed};
use numpy::ndarray::{Array2, ShapeBuilder};
use numpy::{IntoPyArray, PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2};
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

/// A crate error as a Python exception with the crate's message.
fn py_err(e: Error) -> PyErr {
    let msg = e.to_string();
    match e {
        Error::Io { .. } | Error::Csv { .. } | Error::MissingColumn { .. } | Error::ModelFile { .. } => {
            PyOSError::new_err(msg)
        }
        Error::NotConverged { .. } => PyRuntimeError::new_err(msg),
        _ => PyValueError::new_err(msg),
    }
}

/// `Result` of the crate into `PyResult`.
trait IntoPy<T> {
    fn py(self) -> PyResult<T>;
}

impl<T> IntoPy<T> for meta_router::Result<T> {
    fn py(self) -> PyResult<T> {
        self.map_err(py_err)
    }
}

/// A float64 numpy matrix viewed in place (any strides, no copy).
fn mat<'a>(a: &'a PyReadonlyArray2<'_, f64>) -> MatRef<'a, f64> {
    let v = a.as_array();
    let (n, d) = v.dim();
    let s = v.strides();
    // SAFETY: the pointer, shape and element strides come from the live, borrowed (read-only)
    // numpy array, which outlives the returned view through the lifetime `'a`.
    unsafe { MatRef::from_raw_parts(v.as_ptr(), n, d, s[0], s[1]) }
}

/// Calls `f` with `x` in column-major order, as the CLI's matrices are: `x` itself when it is
/// already column-major (unit row stride) or when `in_place` is set, else a copy made 8 columns
/// (one cache line of a C-order row) per task in parallel, so a C-order array costs one
/// streaming pass. The values are the same either way, so fits stay bit-identical to the CLI's.
///
/// Who copies: the linear learners (`ridge`, `logistic`), `constant`, `prior` and PCA read any
/// layout in place (their kernels give the same bits on a row-major view; see
/// `meta_router::linalg`). The tree learners (`rf`, `rfc`, `hgb`, `hgbc`) and routers get the
/// copy: trees read the matrix column by column (presorting, binning), which on a C-order view
/// walks memory with the row's stride, and the copy measured cheaper than that (BENCHMARKS.md,
/// "Python bindings").
fn with_column_major<R>(x: MatRef<'_, f64>, in_place: bool, f: impl FnOnce(MatRef<'_, f64>) -> R) -> R {
    use rayon::prelude::*;
    let (n, d) = (x.nrows(), x.ncols());
    if in_place || x.row_stride() == 1 || n == 0 || d == 0 {
        return f(x);
    }
    const COLS: usize = 8;
    let mut data = vec![0.0; n * d];
    data.par_chunks_mut(n * COLS).enumerate().for_each(|(b, chunk)| {
        let j0 = b * COLS;
        let k = chunk.len() / n;
        for i in 0..n {
            for c in 0..k {
                chunk[c * n + i] = x[(i, j0 + c)];
            }
        }
    });
    f(MatRef::from_column_major_slice(&data, n, d))
}

/// A contiguous float64 vector as a slice.
fn slice<'a>(a: &'a PyReadonlyArray1<'_, f64>, what: &str) -> PyResult<&'a [f64]> {
    a.as_slice().map_err(|_| PyValueError::new_err(format!("{what} must be a contiguous float64 vector")))
}

/// A faer matrix as a new numpy array (Fortran order, the matrix's own layout).
fn to_numpy<'py>(py: Python<'py>, m: MatRef<'_, f64>) -> Bound<'py, PyArray2<f64>> {
    let (n, d) = (m.nrows(), m.ncols());
    let mut data = Vec::with_capacity(n * d);
    for j in 0..d {
        data.extend(m.col(j).iter().copied());
    }
    // the shape holds exactly n * d values
    Array2::from_shape_vec((n, d).f(), data)
        .map(|a| a.into_pyarray(py))
        .unwrap_or_else(|_| PyArray2::zeros(py, [n, d], true))
}

fn row_major_to_numpy<'py>(py: Python<'py>, data: &[f64], rows: usize, cols: usize) -> Bound<'py, PyArray2<f64>> {
    let m = MatRef::from_row_major_slice(data, rows, cols);
    to_numpy(py, m)
}

/// The fitted artefact inside a [`Model`].
#[derive(Clone)]
enum Fitted {
    Regressor(RegressorModel),
    Classifier(ClassifierModel),
    Pca(PcaModel),
}

/// A fitted learner: a regressor, a classifier or a PCA.
#[pyclass(module = "meta_router._core", frozen)]
struct Model {
    inner: Fitted,
}

impl Model {
    fn kind(&self) -> Kind {
        match self.inner {
            Fitted::Regressor(_) => Kind::Regressor,
            Fitted::Classifier(_) => Kind::Classifier,
            Fitted::Pca(_) => Kind::Pca,
        }
    }

    fn bytes(&self) -> meta_router::Result<Vec<u8>> {
        match &self.inner {
            Fitted::Regressor(m) => persist::to_bytes(Kind::Regressor, m),
            Fitted::Classifier(m) => persist::to_bytes(Kind::Classifier, m),
            Fitted::Pca(m) => persist::to_bytes(Kind::Pca, m),
        }
    }

    fn decode(bytes: &[u8]) -> meta_router::Result<Model> {
        // the header's artefact kind (see `meta_router::persist`); a foreign or short file gets
        // the crate's own message from decoding it as a regressor
        let inner = match persist::peek_kind(bytes) {
            Some(Kind::Classifier) => Fitted::Classifier(persist::from_bytes(bytes, Kind::Classifier)?),
            Some(Kind::Pca) => Fitted::Pca(persist::from_bytes(bytes, Kind::Pca)?),
            Some(Kind::Router | Kind::RouterPreferenceScale) => {
                return Err(Error::model_file(None, "this file holds a router: open it with MetaRouter.load"));
            }
            _ => Fitted::Regressor(persist::from_bytes(bytes, Kind::Regressor)?),
        };
        Ok(Model { inner })
    }
}

#[pymethods]
impl Model {
    /// `"regressor"`, `"classifier"` or `"pca"`.
    #[getter]
    fn kind_name(&self) -> &'static str {
        match self.kind() {
            Kind::Regressor => "regressor",
            Kind::Classifier => "classifier",
            _ => "pca",
        }
    }

    /// The learner's name (`rf`, `hgbc`, `pca`, ...).
    #[getter]
    fn learner(&self) -> &'static str {
        match &self.inner {
            Fitted::Regressor(m) => match m {
                RegressorModel::Constant(_) => "constant",
                RegressorModel::Ridge(_) => "ridge",
                RegressorModel::Hgb(_) => "hgb",
                RegressorModel::Stack(_) => "stack",
                RegressorModel::RandomForest(_) => "rf",
            },
            Fitted::Classifier(m) => match m {
                ClassifierModel::Prior(_) => "prior",
                ClassifierModel::Logistic(_) => "logistic",
                ClassifierModel::Hgbc(_) => "hgbc",
                ClassifierModel::RandomForest(_) => "rfc",
            },
            Fitted::Pca(_) => "pca",
        }
    }

    /// The number of feature columns the model was fitted on.
    #[getter]
    fn n_features(&self) -> usize {
        match &self.inner {
            Fitted::Regressor(m) => m.n_features(),
            Fitted::Classifier(m) => m.n_features(),
            Fitted::Pca(m) => m.n_features(),
        }
    }

    /// Predictions of a regressor, one per row.
    fn predict<'py>(&self, py: Python<'py>, x: PyReadonlyArray2<'py, f64>) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let Fitted::Regressor(m) = &self.inner else {
            return Err(PyValueError::new_err("predict needs a regressor"));
        };
        let x = mat(&x);
        Ok(py.detach(|| m.predict(x)).py()?.into_pyarray(py))
    }

    /// P(y = 1 | x) of a classifier, one per row.
    fn predict_proba<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let Fitted::Classifier(m) = &self.inner else {
            return Err(PyValueError::new_err("predict_proba needs a classifier"));
        };
        let x = mat(&x);
        Ok(py.detach(|| m.predict_proba(x)).py()?.into_pyarray(py))
    }

    /// PCA scores, `n x n_components`.
    fn transform<'py>(&self, py: Python<'py>, x: PyReadonlyArray2<'py, f64>) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let Fitted::Pca(m) = &self.inner else {
            return Err(PyValueError::new_err("transform needs a PCA"));
        };
        let x = mat(&x);
        let z = py.detach(|| m.transform(x)).py()?;
        Ok(to_numpy(py, z.as_ref()))
    }

    /// Features reconstructed from PCA scores, `n x n_features`.
    fn inverse_transform<'py>(
        &self,
        py: Python<'py>,
        z: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Bound<'py, PyArray2<f64>>> {
        let Fitted::Pca(m) = &self.inner else {
            return Err(PyValueError::new_err("inverse_transform needs a PCA"));
        };
        let z = mat(&z);
        let x = py.detach(|| m.inverse_transform(z)).py()?;
        Ok(to_numpy(py, x.as_ref()))
    }

    /// Fitted attributes as a dict (coefficients, PCA axes, convergence figures).
    fn attributes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        let d = pyo3::types::PyDict::new(py);
        d.set_item("n_features_in_", self.n_features())?;
        match &self.inner {
            Fitted::Regressor(RegressorModel::Ridge(m)) => {
                d.set_item("coef_", m.coef.clone().into_pyarray(py))?;
                d.set_item("intercept_", m.intercept)?;
                d.set_item("alpha_", m.alpha)?;
                d.set_item("solver_", format!("{:?}", m.solver).to_lowercase())?;
            }
            Fitted::Regressor(RegressorModel::Hgb(m)) => d.set_item("n_iter_", m.ensemble.n_iter)?,
            Fitted::Classifier(ClassifierModel::Hgbc(m)) => d.set_item("n_iter_", m.ensemble.n_iter)?,
            Fitted::Classifier(ClassifierModel::Logistic(m)) => {
                d.set_item("coef_", row_major_to_numpy(py, &m.coef, 1, m.coef.len()))?;
                d.set_item("intercept_", vec![m.intercept].into_pyarray(py))?;
                d.set_item("n_iter_", vec![m.info.n_iter].into_pyarray(py))?;
                d.set_item("converged_", m.info.converged)?;
            }
            Fitted::Pca(m) => {
                let (k, p) = (m.n_components(), m.n_features());
                d.set_item("n_components_", k)?;
                d.set_item("components_", row_major_to_numpy(py, &m.components, k, p))?;
                d.set_item("mean_", m.mean.clone().into_pyarray(py))?;
                d.set_item("singular_values_", m.singular_values.clone().into_pyarray(py))?;
                d.set_item("explained_variance_", m.explained_variance().to_vec().into_pyarray(py))?;
                d.set_item("explained_variance_ratio_", m.explained_variance_ratio().to_vec().into_pyarray(py))?;
                d.set_item("solver_", format!("{:?}", m.solver).to_lowercase())?;
            }
            _ => {}
        }
        Ok(d)
    }

    /// The model file's bytes (the format `meta-router learn --save` writes).
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        Ok(PyBytes::new(py, &self.bytes().py()?))
    }

    /// A model from a model file's bytes.
    #[staticmethod]
    fn from_bytes(bytes: &[u8]) -> PyResult<Model> {
        Model::decode(bytes).py()
    }

    /// Saves the model (versioned, checksummed; `meta-router` reads it).
    fn save(&self, path: std::path::PathBuf) -> PyResult<()> {
        match &self.inner {
            Fitted::Regressor(m) => persist::save(&path, Kind::Regressor, m),
            Fitted::Classifier(m) => persist::save(&path, Kind::Classifier, m),
            Fitted::Pca(m) => persist::save(&path, Kind::Pca, m),
        }
        .py()
    }

    /// Loads a model saved by `save` or by `meta-router learn --save`.
    #[staticmethod]
    fn load(path: std::path::PathBuf) -> PyResult<Model> {
        let bytes = std::fs::read(&path).map_err(|e| py_err(Error::io(&path, e)))?;
        Model::decode(&bytes)
            .map_err(|e| match e {
                Error::ModelFile { path: None, msg } => Error::model_file(Some(path.clone()), msg),
                e => e,
            })
            .py()
    }
}

fn train_set<'a>(x: MatRef<'a, f64>, y: &'a [f64], w: Option<&'a [f64]>) -> TrainSet<'a> {
    TrainSet { x, y, weights: w }
}

/// Fits a regressor by name (`rf`, `hgb`, `ridge`, `constant`) with `k=v` parameters.
#[pyfunction]
#[pyo3(signature = (name, params, x, y, sample_weight=None, seed=42))]
fn fit_regressor(
    py: Python<'_>,
    name: &str,
    params: Vec<String>,
    x: PyReadonlyArray2<'_, f64>,
    y: PyReadonlyArray1<'_, f64>,
    sample_weight: Option<PyReadonlyArray1<'_, f64>>,
    seed: u64,
) -> PyResult<Model> {
    let mut spec = RegressorSpec::from_name(name).py()?;
    spec.set_params(&params).py()?;
    spec.validate().py()?;
    let (x, y) = (mat(&x), slice(&y, "y")?);
    let w = match &sample_weight {
        Some(w) => Some(slice(w, "sample_weight")?),
        None => None,
    };
    let in_place = matches!(spec, RegressorSpec::Ridge(_) | RegressorSpec::Constant(_));
    let m = py.detach(|| with_column_major(x, in_place, |x| spec.fit(train_set(x, y, w), Seed(seed)))).py()?;
    Ok(Model { inner: Fitted::Regressor(m) })
}

/// Fits a binary classifier by name (`rfc`, `hgbc`, `logistic`, `prior`); `y` holds 0/1.
#[pyfunction]
#[pyo3(signature = (name, params, x, y, sample_weight=None, seed=42))]
fn fit_classifier(
    py: Python<'_>,
    name: &str,
    params: Vec<String>,
    x: PyReadonlyArray2<'_, f64>,
    y: PyReadonlyArray1<'_, f64>,
    sample_weight: Option<PyReadonlyArray1<'_, f64>>,
    seed: u64,
) -> PyResult<Model> {
    let mut spec = ClassifierSpec::from_name(name).py()?;
    spec.set_params(&params).py()?;
    spec.validate().py()?;
    let (x, y) = (mat(&x), slice(&y, "y")?);
    let w = match &sample_weight {
        Some(w) => Some(slice(w, "sample_weight")?),
        None => None,
    };
    let in_place = matches!(spec, ClassifierSpec::Logistic(_) | ClassifierSpec::Prior(_));
    let m = py.detach(|| with_column_major(x, in_place, |x| spec.fit(train_set(x, y, w), Seed(seed)))).py()?;
    Ok(Model { inner: Fitted::Classifier(m) })
}

/// Fits a PCA with `k=v` parameters (`n_components`, `svd_solver`, `n_oversamples`, `iterated_power`).
#[pyfunction]
#[pyo3(signature = (params, x, seed=42))]
fn fit_pca(py: Python<'_>, params: Vec<String>, x: PyReadonlyArray2<'_, f64>, seed: u64) -> PyResult<Model> {
    let mut p = PcaParams::default();
    for pair in &params {
        let (k, v) =
            pair.split_once('=').ok_or_else(|| PyValueError::new_err(format!("`{pair}`: expected name=value")))?;
        p.set_param(k.trim(), v).py()?;
    }
    p.validate().py()?;
    let x = mat(&x);
    let m = py.detach(|| with_column_major(x, true, |x| p.fit(x, Seed(seed)))).py()?;
    Ok(Model { inner: Fitted::Pca(m) })
}

/// A fitted router: the serving router of the crate (the file `meta-router fit` writes), plus,
/// when fitted in this session, the Delta model.
#[pyclass(module = "meta_router._core", frozen)]
struct FittedRouter {
    router: Router,
    /// `Delta_hat` on the router's inputs (PCA scores when the router has a PCA) and its clip.
    delta: Option<(RegressorModel, Option<[f64; 2]>)>,
}

fn learner_spec(name: Option<&str>, params: &[String]) -> meta_router::Result<RegressorSpec> {
    let mut spec = router_learner(name)?;
    spec.set_params(params)?;
    spec.validate()?;
    Ok(spec)
}

/// The router kind and configuration, as `meta-router fit` builds them from its flags.
#[allow(clippy::too_many_arguments)]
fn router_plan(
    method: &str,
    learner: Option<&str>,
    params: &[String],
    nuisance: Option<&str>,
    nuisance_params: &[String],
    propensity: &str,
    classifier: Option<&str>,
    clip: f64,
    align: &str,
    folds: usize,
    repeats: usize,
    final_learner: Option<&str>,
    protocol: &str,
) -> meta_router::Result<(RouterKind, RouterConfig)> {
    let kind = match method {
        "dr" => RouterKind::MetaDr,
        "r" => RouterKind::MetaR,
        other => match RouterKind::from_name(other) {
            Ok(RouterKind::AllGold) | Err(_) => {
                return Err(Error::param(
                    "MetaRouter",
                    "method",
                    format!("unknown method `{other}`; known: dr, r, gold_only, pref_only, pooled, mean_shift"),
                ));
            }
            Ok(k) => k,
        },
    };
    let psi = learner_spec(learner, params)?;
    let nuisance = match nuisance {
        Some(n) => learner_spec(Some(n), nuisance_params)?,
        None => {
            let mut s = psi.clone();
            s.set_params(nuisance_params)?;
            s
        }
    };
    let propensity = match propensity {
        "known" => Propensity::Known,
        "estimated" => {
            let classifier = match classifier {
                Some(c) => ClassifierSpec::from_name(c)?,
                None => default_propensity_classifier(),
            };
            Propensity::Estimated { classifier, clip }
        }
        other => {
            return Err(Error::param(
                "MetaRouter",
                "propensity",
                format!("unknown `{other}`; known: known, estimated"),
            ));
        }
    };
    let final_stage = match final_learner {
        Some(n) => FinalStage::Fixed(RegressorSpec::from_name(n)?),
        None => FinalStage::Auto,
    };
    let cfg = RouterConfig {
        learner: psi,
        align: Align::from_name(align)?,
        protocol: Protocol::from_name(protocol)?,
        delta: DeltaConfig { nuisance, propensity, n_folds: folds, repeats, final_stage, ..Default::default() },
        ..Default::default()
    };
    cfg.validate()?;
    Ok((kind, cfg))
}

/// Fits a router exactly as `meta-router fit` does (same configuration, seeds and PCA).
#[pyfunction]
#[pyo3(signature = (
    x, label, is_gold, sample_weight, feature_names, *, method, learner, params, nuisance,
    nuisance_params, propensity, classifier, clip, align, folds, repeats, final_learner, protocol,
    pca, seed, threshold, usage
))]
#[allow(clippy::too_many_arguments)]
fn fit_router(
    py: Python<'_>,
    x: PyReadonlyArray2<'_, f64>,
    label: PyReadonlyArray1<'_, f64>,
    is_gold: PyReadonlyArray1<'_, f64>,
    sample_weight: Option<PyReadonlyArray1<'_, f64>>,
    feature_names: Vec<String>,
    method: &str,
    learner: Option<&str>,
    params: Vec<String>,
    nuisance: Option<&str>,
    nuisance_params: Vec<String>,
    propensity: &str,
    classifier: Option<&str>,
    clip: f64,
    align: &str,
    folds: usize,
    repeats: usize,
    final_learner: Option<&str>,
    protocol: &str,
    pca: Option<usize>,
    seed: u64,
    threshold: Option<f64>,
    usage: Option<f64>,
) -> PyResult<FittedRouter> {
    let (kind, cfg) = router_plan(
        method,
        learner,
        &params,
        nuisance,
        &nuisance_params,
        propensity,
        classifier,
        clip,
        align,
        folds,
        repeats,
        final_learner,
        protocol,
    )
    .py()?;
    if pca == Some(0) {
        return Err(PyValueError::new_err("invalid parameter pca of MetaRouter: must be at least 1, got 0"));
    }
    let x = mat(&x);
    let label = slice(&label, "label")?;
    let is_gold = slice(&is_gold, "is_gold")?;
    let weights = match &sample_weight {
        Some(w) => Some(slice(w, "sample_weight")?),
        None => None,
    };
    if feature_names.len() != x.ncols() {
        return Err(py_err(Error::shape("feature names", x.ncols(), feature_names.len())));
    }
    let seed = Seed(seed);
    let out = py.detach(move || {
        with_column_major(x, false, |x| -> meta_router::Result<FittedRouter> {
            let pca = match pca {
                Some(k) => {
                    let p = PcaParams { n_components: k, ..Default::default() };
                    Some(p.fit(x, seed.child(stream::SKETCH)).map_err(|e| e.name_features(&feature_names))?)
                }
                None => None,
            };
            let z = match &pca {
                Some(p) => Some(p.transform(x)?),
                None => None,
            };
            let data =
                RouterData { x: z.as_ref().map_or(x, |z| z.as_ref()), is_gold, label, gold_everywhere: None, weights };
            let names: &[String] = if pca.is_none() { &feature_names } else { &[] };
            let trained = train_router(kind, &data, &cfg, seed).map_err(|e| e.name_features(names))?;
            let delta = trained.delta.clone().map(|d| (d, trained.delta_clip));
            let mut router = Router::new(trained, feature_names.clone(), pca)?;
            match (threshold, usage) {
                (Some(w), _) => router.set_threshold(Threshold::direct(w)?),
                (None, Some(rho)) => {
                    router.calibrate_usage(x, rho)?;
                }
                (None, None) => {}
            }
            Ok(FittedRouter { router, delta })
        })
    });
    out.py()
}

#[pymethods]
impl FittedRouter {
    /// Loads a router saved by `save` or by `meta-router fit`.
    #[staticmethod]
    fn load(path: std::path::PathBuf) -> PyResult<FittedRouter> {
        Ok(FittedRouter { router: Router::load(path).py()?, delta: None })
    }

    /// Saves the router (the file `meta-router route --model` reads).
    fn save(&self, path: std::path::PathBuf) -> PyResult<()> {
        self.router.save(path).py()
    }

    /// The router file's bytes.
    fn to_bytes<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyBytes>> {
        Ok(PyBytes::new(py, &self.router.to_bytes().py()?))
    }

    /// A router from a router file's bytes.
    #[staticmethod]
    fn from_bytes(bytes: &[u8]) -> PyResult<FittedRouter> {
        Ok(FittedRouter { router: Router::from_bytes(bytes).py()?, delta: None })
    }

    /// `psi_hat` for every row (features in `feature_names` order).
    fn predict<'py>(&self, py: Python<'py>, x: PyReadonlyArray2<'py, f64>) -> PyResult<Bound<'py, PyArray1<f64>>> {
        let x = mat(&x);
        let r = &self.router;
        let scores = py.detach(|| -> meta_router::Result<Vec<f64>> {
            let mut s = vec![0.0; x.nrows()];
            r.score_batch(x, &mut s)?;
            Ok(s)
        });
        Ok(scores.py()?.into_pyarray(py))
    }

    /// `Delta_hat` for every row, when the router was fitted in this session and has one.
    fn predict_delta<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f64>,
    ) -> PyResult<Option<Bound<'py, PyArray1<f64>>>> {
        let Some((d, clip)) = &self.delta else { return Ok(None) };
        let x = mat(&x);
        let pca = self.router.pca.as_ref();
        let v = py.detach(|| -> meta_router::Result<Vec<f64>> {
            let mut v = match pca {
                Some(p) => d.predict(p.transform(x)?.as_ref())?,
                None => d.predict(x)?,
            };
            if let Some([lo, hi]) = clip {
                v.iter_mut().for_each(|z| *z = z.clamp(*lo, *hi));
            }
            Ok(v)
        });
        Ok(Some(v.py()?.into_pyarray(py)))
    }

    /// Scores and decisions as `meta-router route` makes them: `(psi_hat, primary, w)` with
    /// `primary[i] = psi_hat[i] > w_i`. `w` is `threshold`, or the one routing a share `usage`
    /// of these queries, or per query `cost_weight (cost_primary - cost_alternative)` when
    /// costs are given, or else the stored threshold.
    #[pyo3(signature = (x, threshold=None, usage=None, cost_primary=None, cost_alternative=None, cost_weight=1.0))]
    #[allow(clippy::type_complexity, clippy::too_many_arguments)]
    fn route<'py>(
        &self,
        py: Python<'py>,
        x: PyReadonlyArray2<'py, f64>,
        threshold: Option<f64>,
        usage: Option<f64>,
        cost_primary: Option<PyReadonlyArray1<'py, f64>>,
        cost_alternative: Option<PyReadonlyArray1<'py, f64>>,
        cost_weight: f64,
    ) -> PyResult<(Bound<'py, PyArray1<f64>>, Bound<'py, PyArray1<bool>>, Bound<'py, PyArray1<f64>>)> {
        let scores = self.predict(py, x)?;
        let s = scores.readonly();
        let s = s.as_slice().map_err(|_| PyValueError::new_err("internal: scores not contiguous"))?;
        let n = s.len();
        let w: Vec<f64> = match (&cost_primary, &cost_alternative) {
            (Some(cp), Some(ca)) => {
                let (cp, ca) = (slice(cp, "cost_primary")?, slice(ca, "cost_alternative")?);
                if cp.len() != n || ca.len() != n {
                    return Err(py_err(Error::shape("cost vectors", n, cp.len().min(ca.len()))));
                }
                cp.iter()
                    .zip(ca)
                    .map(|(&p, &a)| Threshold::from_costs(cost_weight, p, a).map(|t| t.w))
                    .collect::<meta_router::Result<_>>()
                    .py()?
            }
            (None, None) => {
                let w = match (threshold, usage) {
                    (Some(w), _) => Threshold::direct(w).py()?.w,
                    (None, Some(rho)) => usage_threshold(s, rho).py()?.threshold,
                    (None, None) => self.router.threshold.w,
                };
                vec![w; n]
            }
            _ => return Err(PyValueError::new_err("cost_primary and cost_alternative go together")),
        };
        let primary: Vec<bool> = s.iter().zip(&w).map(|(&v, &w)| v > w).collect();
        Ok((scores.clone(), primary.into_pyarray(py), w.into_pyarray(py)))
    }

    /// Feature names, in the order a query row must follow.
    #[getter]
    fn feature_names(&self) -> Vec<String> {
        self.router.feature_names.clone()
    }

    /// The router's name (`meta_dr`, `meta_r`, `gold_only`, ...).
    #[getter]
    fn kind(&self) -> &'static str {
        self.router.kind.name()
    }

    /// The scale constant `c` applied to gold labels.
    #[getter]
    fn scale(&self) -> f64 {
        self.router.scale
    }

    /// The stored decision threshold `w`.
    #[getter]
    fn threshold(&self) -> f64 {
        self.router.threshold.w
    }

    /// Principal components the router applies to its queries (0 without a PCA).
    #[getter]
    fn n_components(&self) -> usize {
        self.router.scratch_len()
    }

    /// Training diagnostics (alignment, final stage, overlap, mean Delta, warnings) and the
    /// threshold's rule, as JSON.
    fn diagnostics_json(&self) -> PyResult<String> {
        let v = serde_json::json!({
            "diagnostics": self.router.diagnostics,
            "threshold": self.router.threshold,
        });
        Ok(v.to_string())
    }
}

/// Runs a Monte-Carlo study as `meta-router study` does; returns the summary as JSON, the router
/// names (the oracle last), the usage grid and the mean, 10th and 90th percentile curves
/// (`routers x grid`).
#[pyfunction]
#[pyo3(signature = (
    x, gold, pref, psi, delta, *, n, sim_params, n_gold, n_test, rounds, learner, params, routers,
    protocol, folds, align, final_stage, final_params, pca, seed
))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn study<'py>(
    py: Python<'py>,
    x: Option<PyReadonlyArray2<'py, f64>>,
    gold: Option<PyReadonlyArray1<'py, f64>>,
    pref: Option<PyReadonlyArray1<'py, f64>>,
    psi: Option<PyReadonlyArray1<'py, f64>>,
    delta: Option<PyReadonlyArray1<'py, f64>>,
    n: usize,
    sim_params: Vec<String>,
    n_gold: usize,
    n_test: usize,
    rounds: usize,
    learner: Option<&str>,
    params: Vec<String>,
    routers: Option<&str>,
    protocol: &str,
    folds: usize,
    align: Option<&str>,
    final_stage: &str,
    final_params: Vec<String>,
    pca: Option<usize>,
    seed: u64,
) -> PyResult<(String, Vec<String>, Bound<'py, PyArray1<f64>>, [Bound<'py, PyArray2<f64>>; 3])> {
    // the configuration, as `meta-router study` builds it from its flags
    let mut router = RouterConfig::default();
    if let Some(name) = learner {
        router.learner = router_learner(Some(name)).py()?;
    }
    router.learner.set_params(&params).py()?;
    router.delta.nuisance = router.learner.clone();
    router.delta.n_folds = folds;
    router.protocol = Protocol::from_name(protocol).py()?;
    if final_stage == "auto" {
        if !final_params.is_empty() {
            return Err(PyValueError::new_err("final_params needs a named final_stage, not `auto`"));
        }
    } else {
        let mut spec = RegressorSpec::from_name(final_stage).py()?;
        spec.set_params(&final_params).py()?;
        router.delta.final_stage = FinalStage::Fixed(spec);
    }
    if let Some(a) = align {
        router.align = Align::from_name(a).py()?;
    }
    let curves = match router.protocol {
        Protocol::Paper => CurveProtocol::Paper,
        Protocol::CrossFit => CurveProtocol::Standard,
    };
    let routers = match routers {
        Some(list) => StudyRouter::parse_list(list).py()?,
        None => StudyRouter::all(),
    };
    let cfg = StudyConfig { n_gold, n_test, rounds, routers, router, curves, pca, ..Default::default() };
    let data: StudyData = match (&x, &gold, &pref) {
        (None, None, None) => {
            if psi.is_some() || delta.is_some() {
                return Err(PyValueError::new_err("psi and delta go with X, gold and pref"));
            }
            let p = meta_router::cli::simulate::sim_params(meta_router::sim::Scenario::Default, n, &sim_params).py()?;
            py.detach(|| p.simulate(Seed(seed))).py()?.into()
        }
        (Some(x), Some(g), Some(p)) => {
            if !sim_params.is_empty() {
                return Err(PyValueError::new_err("sim_params apply to the built-in simulator, not to X"));
            }
            let opt = |v: &Option<PyReadonlyArray1<'_, f64>>, what: &str| -> PyResult<Option<Vec<f64>>> {
                v.as_ref().map(|v| slice(v, what).map(<[f64]>::to_vec)).transpose()
            };
            StudyData {
                x: mat(x).to_owned(),
                gold: slice(g, "gold")?.to_vec(),
                pref: slice(p, "pref")?.to_vec(),
                psi: opt(&psi, "psi")?,
                delta: opt(&delta, "delta")?,
                scale: None,
            }
        }
        _ => return Err(PyValueError::new_err("X, gold and pref go together (or none of them: the simulator)")),
    };
    let outcome = py.detach(|| run_study(&data, &cfg, Seed(seed))).py()?;
    let summary = outcome.summary().py()?;
    let json = serde_json::Value::Object(summary.to_json()).to_string();
    let all: Vec<_> = summary.routers.iter().chain(std::iter::once(&summary.oracle)).collect();
    let names = all.iter().map(|r| r.name.clone()).collect();
    let grid = all.first().map_or(0, |r| r.mean.len());
    let rho: Vec<f64> = (0..grid).map(meta_router::eval::curves::rho).collect();
    let stack = |f: &dyn Fn(&RouterSummary) -> &Vec<f64>| {
        let m = Mat::from_fn(all.len(), grid, |i, j| f(all[i])[j]);
        to_numpy(py, m.as_ref())
    };
    let bands = [stack(&|r| &r.mean), stack(&|r| &r.p10), stack(&|r| &r.p90)];
    Ok((json, names, rho.into_pyarray(py), bands))
}

/// The version of the meta-router crate inside this extension.
#[pyfunction]
fn crate_version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}

/// The extension module.
#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Model>()?;
    m.add_class::<FittedRouter>()?;
    m.add_function(wrap_pyfunction!(fit_regressor, m)?)?;
    m.add_function(wrap_pyfunction!(fit_classifier, m)?)?;
    m.add_function(wrap_pyfunction!(fit_pca, m)?)?;
    m.add_function(wrap_pyfunction!(fit_router, m)?)?;
    m.add_function(wrap_pyfunction!(study, m)?)?;
    m.add_function(wrap_pyfunction!(crate_version, m)?)?;
    m.add("REGRESSORS", RegressorSpec::NAMES.to_vec())?;
    m.add("CLASSIFIERS", ClassifierSpec::NAMES.to_vec())?;
    Ok(())
}
