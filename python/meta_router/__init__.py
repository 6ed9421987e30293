"""meta_router: LLM routers from a few gold labels and many biased preference labels.

The Python face of the meta-router Rust crate (the same engine as the ``meta-router``
command line): scikit-learn-style estimators (``RandomForestRegressor``,
``RandomForestClassifier``, ``HistGradientBoostingRegressor``,
``HistGradientBoostingClassifier``, ``Ridge``, ``LogisticRegression``, ``PCA``), the
debiased router ``MetaRouter`` and the Monte-Carlo ``study``.

Arrays: feature matrices may be float64 or float32 (or integer/bool), in C or Fortran
order; float64 arrays are read in place, other dtypes are converted once. Object, string and
complex arrays, wrong shapes and NaN where it is not allowed raise ``ValueError``; file
problems raise ``OSError``; the messages are the crate's. Fitting and predicting release the
GIL. The same data, parameters and ``random_state`` give bit-identical results to the
command line (``meta-router learn`` / ``fit`` / ``route``), whose model files both sides read.
"""

from __future__ import annotations

import inspect
import json
import numbers
import sys
import warnings
from typing import Any, NamedTuple

import numpy as np

from . import _core

__version__ = "0.1.0"

__all__ = [
    "RandomForestRegressor",
    "RandomForestClassifier",
    "HistGradientBoostingRegressor",
    "HistGradientBoostingClassifier",
    "Ridge",
    "LogisticRegression",
    "PCA",
    "MetaRouter",
    "Routing",
    "study",
    "load_model",
]


# ----------------------------------------------------------------------------------------
# input checks


def _sklearn_class(module: str, name: str, fallback: type) -> type:
    """scikit-learn's exception or warning class when scikit-learn is loaded, else ``fallback``."""
    mod = sys.modules.get(module)
    return getattr(mod, name, fallback) if mod is not None else fallback


def _as_matrix(X: Any, name: str = "X", fit: bool = False, allow_nan: bool = True) -> np.ndarray:
    """``X`` as a 2-d float64 array, in its own layout: the extension reads it in place (the
    linear learners, PCA, prediction) or copies a C-order array once into column-major order
    (the tree learners and routers); results are bit-identical to the command line's either
    way. Fitting leaves the NaN check to the crate (one pass, the row and column in its
    message)."""
    if hasattr(X, "toarray") or hasattr(X, "tocsr"):
        raise TypeError(f"{name}: sparse matrices are not supported; pass a dense numpy array")
    a = np.asarray(X)
    if a.dtype.kind == "c":
        raise ValueError(f"{name}: Complex data not supported")
    if a.dtype.kind == "O":
        try:
            a = a.astype(np.float64)
        except (TypeError, ValueError) as e:
            raise TypeError(f"{name} is an object array that does not hold only numbers: {e}") from e
    if a.dtype.kind not in "fiub":
        raise ValueError(f"{name} must hold numbers (float64 or float32), got dtype {a.dtype}")
    if a.ndim != 2:
        raise ValueError(
            f"{name} must be a 2-d array of shape (n_samples, n_features), got shape {a.shape}. "
            "Reshape your data either using X.reshape(-1, 1) if it has a single feature or "
            "X.reshape(1, -1) if it contains a single sample."
        )
    if a.shape[0] == 0:
        raise ValueError(f"{name} is empty: 0 sample(s) (shape={a.shape}) while a minimum of 1 is required.")
    if a.shape[1] == 0:
        raise ValueError(f"{name} is empty: 0 feature(s) (shape={a.shape}) while a minimum of 1 is required.")
    # Fits take any layout: the extension reads it in place or copies a C-order array into
    # column-major order itself (in parallel, without the GIL), so no numpy copy is made here.
    if a.dtype != np.float64:
        a = a.astype(np.float64)
    if not allow_nan:
        _check_finite(a, name)
    return a


def _check_finite(a: np.ndarray, name: str = "X") -> None:
    """``ValueError`` naming the first NaN or infinite cell."""
    ok = np.isfinite(a)
    if not ok.all():
        if a.ndim == 2:
            i, j = (int(v[0]) for v in np.nonzero(~ok))
            v = a[i, j]
        else:
            i, j = int(np.argmin(ok)), 0
            v = a[i]
        raise ValueError(f"Input {name} contains NaN or infinity: {v} at row {i}, column {j}")


def _as_vector(y: Any, n: int, name: str) -> np.ndarray:
    """``y`` as a contiguous float64 vector of length ``n`` (a column vector is flattened)."""
    if y is None:
        raise ValueError(f"this estimator requires y to be passed, but the target {name} is None")
    a = np.asarray(y)
    if a.dtype.kind == "O":
        try:
            a = a.astype(np.float64)
        except (TypeError, ValueError):
            pass
    if a.dtype.kind not in "fiub":
        raise ValueError(f"Unknown label type: {name} must hold numbers, got dtype {a.dtype}")
    if a.ndim == 2 and a.shape[1] == 1:
        warnings.warn(
            f"A column-vector {name} was passed when a 1d array was expected; it is flattened.",
            _sklearn_class("sklearn.exceptions", "DataConversionWarning", UserWarning),
            stacklevel=3,
        )
        a = a[:, 0]
    if a.ndim != 1:
        raise ValueError(f"{name} should be a 1d array, got shape {a.shape}")
    if a.shape[0] != n:
        raise ValueError(f"{name} has {a.shape[0]} values but X has {n} rows")
    return np.ascontiguousarray(a, dtype=np.float64)


def _seed(random_state: Any) -> int:
    """A u64 seed from scikit-learn's ``random_state`` conventions."""
    if random_state is None:
        return int(np.random.mtrand._rand.randint(0, 2**63 - 1, dtype=np.int64))
    if isinstance(random_state, (numbers.Integral, np.integer)) and not isinstance(random_state, bool):
        v = int(random_state)
        if v < 0:
            raise ValueError(f"random_state must be a non-negative integer, got {v}")
        return v & (2**64 - 1)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(0, 2**63 - 1, dtype=np.int64))
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(0, 2**63 - 1))
    raise ValueError(f"random_state must be None, an int or a numpy RandomState/Generator, got {random_state!r}")


def _text(v: Any) -> str:
    """A parameter value as the crate's ``name=value`` text."""
    if v is None:
        return "none"
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, (numbers.Integral, np.integer)):
        return str(int(v))
    if isinstance(v, (numbers.Real, np.floating)):
        return repr(float(v))
    if isinstance(v, str):
        return v
    raise ValueError(f"parameter value {v!r} must be a number, a bool, a string or None")


def _pairs(params: dict[str, Any] | None) -> list[str]:
    return [f"{k}={_text(v)}" for k, v in (params or {}).items()]


# ----------------------------------------------------------------------------------------
# estimators


class _Estimator:
    """scikit-learn's estimator protocol: constructor keywords are the parameters."""

    _learner: str = ""
    _allow_nan: bool = False
    # parameters handled here rather than passed to the crate
    _local: tuple[str, ...] = ("random_state",)

    @classmethod
    def _param_names(cls) -> list[str]:
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values() if p.name != "self" and p.kind != p.VAR_KEYWORD]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters and their values."""
        return {k: getattr(self, k) for k in self._param_names()}

    def set_params(self, **params: Any) -> "_Estimator":
        """Sets constructor parameters; returns ``self``."""
        valid = self._param_names()
        for k, v in params.items():
            if k not in valid:
                raise ValueError(f"invalid parameter {k!r} for estimator {type(self).__name__}; valid: {valid}")
            setattr(self, k, v)
        return self

    def __repr__(self) -> str:
        defaults = {p.name: p.default for p in inspect.signature(type(self).__init__).parameters.values()}
        shown = [f"{k}={v!r}" for k, v in self.get_params().items() if not _same(v, defaults.get(k))]
        return f"{type(self).__name__}({', '.join(shown)})"

    def _crate_params(self) -> list[str]:
        return [f"{k}={_text(v)}" for k, v in self.get_params().items() if k not in self._local]

    def _fitted(self) -> Any:
        m = getattr(self, "_model", None)
        if m is None:
            raise _not_fitted(self)
        return m

    def _check_predict_X(self, X: Any) -> np.ndarray:
        m = self._fitted()
        a = _as_matrix(X, allow_nan=self._allow_nan)
        if a.shape[1] != m.n_features:
            raise ValueError(
                f"X has {a.shape[1]} features, but {type(self).__name__} is expecting {m.n_features} features as input"
            )
        return a

    def _set_fitted(self, model: Any) -> None:
        self._model = model
        for k, v in model.attributes().items():
            setattr(self, k, v)

    def save(self, path: Any) -> None:
        """Saves the fitted model (the file format of ``meta-router learn --save``)."""
        self._fitted().save(str(path))

    @classmethod
    def load(cls, path: Any) -> Any:
        """An estimator with the model saved at ``path`` (by ``save`` or the command line)."""
        model = _core.Model.load(str(path))
        if model.learner != cls._learner:
            raise ValueError(f"{path} holds a `{model.learner}` model, not a {cls.__name__} (`{cls._learner}`)")
        est = cls()
        est._set_fitted(model)
        if isinstance(est, _Classifier):
            est.classes_ = np.array([0, 1])
        return est

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if state.get("_model") is not None:
            state["_model"] = bytes(state["_model"].to_bytes())
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if isinstance(state.get("_model"), bytes):
            state["_model"] = _core.Model.from_bytes(state["_model"])
        self.__dict__.update(state)

    def __sklearn_is_fitted__(self) -> bool:
        return getattr(self, "_model", None) is not None

    def __sklearn_tags__(self) -> Any:
        """scikit-learn's estimator tags (scikit-learn >= 1.6; imported only when asked for)."""
        from sklearn.utils import ClassifierTags, InputTags, RegressorTags, Tags, TargetTags, TransformerTags

        kind = getattr(self, "_estimator_type", "transformer")
        supervised = kind in ("regressor", "classifier")
        return Tags(
            estimator_type=None if kind == "transformer" else kind,
            target_tags=TargetTags(required=supervised),
            transformer_tags=TransformerTags() if kind == "transformer" else None,
            regressor_tags=RegressorTags() if kind == "regressor" else None,
            classifier_tags=ClassifierTags(multi_class=False) if kind == "classifier" else None,
            input_tags=InputTags(allow_nan=self._allow_nan),
        )


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:
        return False


class NotFittedError(ValueError, AttributeError):
    """An estimator used before ``fit`` (scikit-learn's exception of the same name)."""


def _not_fitted(est: Any) -> Exception:
    msg = f"This {type(est).__name__} instance is not fitted yet. Call 'fit' first."
    sk = _sklearn_class("sklearn.exceptions", "NotFittedError", NotFittedError)
    if sk is NotFittedError:
        return NotFittedError(msg)
    # scikit-learn is loaded: an exception that is both its NotFittedError and ours
    return type("NotFittedError", (NotFittedError, sk), {})(msg)


class _Regressor(_Estimator):
    _estimator_type = "regressor"

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> "_Regressor":
        """Fits the model; ``sample_weight`` (non-negative) is honoured exactly."""
        X = _as_matrix(X, fit=True)
        y = _as_vector(y, X.shape[0], "y")
        w = None if sample_weight is None else _as_vector(sample_weight, X.shape[0], "sample_weight")
        self._set_fitted(_core.fit_regressor(self._learner, self._crate_params(), X, y, w, _seed(self.random_state)))
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Predictions, one per row."""
        return self._fitted().predict(self._check_predict_X(X))

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """R^2 of the predictions."""
        y = np.asarray(y, dtype=np.float64).ravel()
        p = self.predict(X)
        w = np.ones_like(y) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
        ss_res = np.sum(w * (y - p) ** 2)
        ss_tot = np.sum(w * (y - np.average(y, weights=w)) ** 2)
        return float(1.0 - ss_res / ss_tot) if ss_tot > 0 else float("nan")


class _Classifier(_Estimator):
    _estimator_type = "classifier"

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> "_Classifier":
        """Fits a binary classifier; ``y`` holds two distinct labels (``classes_``)."""
        X = _as_matrix(X, fit=True)
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
        yy = np.asarray(y)
        if yy.ndim == 2 and yy.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected; it is flattened.",
                _sklearn_class("sklearn.exceptions", "DataConversionWarning", UserWarning),
                stacklevel=2,
            )
            yy = yy[:, 0]
        if yy.ndim != 1:
            raise ValueError(f"y should be a 1d array, got shape {yy.shape}")
        if yy.shape[0] != X.shape[0]:
            raise ValueError(f"y has {yy.shape[0]} values but X has {X.shape[0]} rows")
        if yy.dtype.kind == "f" and not np.isfinite(yy).all():
            raise ValueError("y: labels contain NaN or infinity")
        classes = np.unique(yy)
        if yy.dtype.kind == "f" and classes.shape[0] > 2 and np.any(classes != np.round(classes)):
            raise ValueError("Unknown label type: continuous. A classifier needs two class labels in y")
        if classes.shape[0] > 2:
            raise ValueError(
                f"Only binary classification is supported. The type of the target is multiclass "
                f"({classes.shape[0]} classes)."
            )
        if classes.shape[0] < 2:
            raise ValueError(f"y has one class only ({classes[0]!r}); a classifier needs two")
        y01 = (yy == classes[1]).astype(np.float64)
        w = None if sample_weight is None else _as_vector(sample_weight, X.shape[0], "sample_weight")
        model = _core.fit_classifier(self._learner, self._crate_params(), X, y01, w, _seed(self.random_state))
        self._set_fitted(model)
        self.classes_ = classes
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, ``(n_samples, 2)`` in ``classes_`` order."""
        p1 = self._fitted().predict_proba(self._check_predict_X(X))
        return np.column_stack([1.0 - p1, p1])

    def predict(self, X: Any) -> np.ndarray:
        """The more probable class per row (the first class on a tie)."""
        p1 = self._fitted().predict_proba(self._check_predict_X(X))
        return self.classes_[(p1 > 0.5).astype(np.intp)]

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy."""
        return float(np.average(self.predict(X) == np.asarray(y).ravel(), weights=sample_weight))


class RandomForestRegressor(_Regressor):
    """Random forest of regression trees (squared error), scikit-learn's parameters.

    Same engine as ``meta-router learn --learner rf``. ``max_features`` takes a count, a
    fraction, ``"sqrt"``, ``"log2"`` or ``None`` (all).
    """

    _learner = "rf"

    def __init__(
        self,
        n_estimators: int = 100,
        *,
        max_depth: int | None = None,
        min_samples_split: int = 2,
        min_samples_leaf: int = 1,
        min_weight_fraction_leaf: float = 0.0,
        max_features: float | int | str | None = 1.0,
        min_impurity_decrease: float = 0.0,
        bootstrap: bool = True,
        oob_score: bool = False,
        random_state: Any = None,
        max_samples: float | int | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.min_weight_fraction_leaf = min_weight_fraction_leaf
        self.max_features = max_features
        self.min_impurity_decrease = min_impurity_decrease
        self.bootstrap = bootstrap
        self.oob_score = oob_score
        self.random_state = random_state
        self.max_samples = max_samples


class RandomForestClassifier(_Classifier):
    """Random forest of classification trees (Gini), scikit-learn's parameters; binary.

    Same engine as ``meta-router learn --learner rfc``.
    """

    _learner = "rfc"

    def __init__(
        self,
        n_estimators: int = 100,
        *,
        max_depth: int | None = None,
        min_samples_split: int = 2,
        min_samples_leaf: int = 1,
        min_weight_fraction_leaf: float = 0.0,
        max_features: float | int | str | None = "sqrt",
        min_impurity_decrease: float = 0.0,
        bootstrap: bool = True,
        oob_score: bool = False,
        random_state: Any = None,
        max_samples: float | int | None = None,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_depth = max_depth
        self.min_samples_split = min_samples_split
        self.min_samples_leaf = min_samples_leaf
        self.min_weight_fraction_leaf = min_weight_fraction_leaf
        self.max_features = max_features
        self.min_impurity_decrease = min_impurity_decrease
        self.bootstrap = bootstrap
        self.oob_score = oob_score
        self.random_state = random_state
        self.max_samples = max_samples


class HistGradientBoostingRegressor(_Regressor):
    """Histogram gradient boosting (squared error), scikit-learn's parameters.

    NaN in ``X`` is a missing value (learned direction). ``early_stopping`` defaults to
    ``False`` (scikit-learn: ``"auto"``), as in ``meta-router learn --learner hgb``.
    """

    _learner = "hgb"
    _allow_nan = True

    def __init__(
        self,
        *,
        learning_rate: float = 0.1,
        max_iter: int = 100,
        max_leaf_nodes: int = 31,
        max_depth: int | None = None,
        min_samples_leaf: int = 20,
        l2_regularization: float = 0.0,
        max_bins: int = 255,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-7,
        random_state: Any = None,
    ) -> None:
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.max_bins = max_bins
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state


class HistGradientBoostingClassifier(_Classifier):
    """Histogram gradient boosting (log loss), scikit-learn's parameters; binary.

    Same engine as ``meta-router learn --learner hgbc``; NaN in ``X`` is a missing value.
    """

    _learner = "hgbc"
    _allow_nan = True

    def __init__(
        self,
        *,
        learning_rate: float = 0.1,
        max_iter: int = 100,
        max_leaf_nodes: int = 31,
        max_depth: int | None = None,
        min_samples_leaf: int = 20,
        l2_regularization: float = 0.0,
        max_bins: int = 255,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        n_iter_no_change: int = 10,
        tol: float = 1e-7,
        random_state: Any = None,
    ) -> None:
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_leaf_nodes = max_leaf_nodes
        self.max_depth = max_depth
        self.min_samples_leaf = min_samples_leaf
        self.l2_regularization = l2_regularization
        self.max_bins = max_bins
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.random_state = random_state


class Ridge(_Regressor):
    """Ridge regression: minimises ``sum w_i (y_i - b - x_i.beta)^2 + alpha |beta|^2``.

    Fitted: ``coef_``, ``intercept_``. Same engine as ``meta-router learn --learner ridge``.
    """

    _learner = "ridge"
    _local = ()

    def __init__(self, alpha: float = 1.0, *, fit_intercept: bool = True) -> None:
        self.alpha = alpha
        self.fit_intercept = fit_intercept

    @property
    def random_state(self) -> None:
        return None


class LogisticRegression(_Classifier):
    """L2-penalised logistic regression (Newton), binary: minimises
    ``0.5 |beta|^2 / C + sum w_i logloss_i``.

    Fitted: ``coef_`` (1 x d), ``intercept_`` (1,), ``n_iter_``. ``tol`` bounds the gradient's
    max-norm (per feature RMS), so its default differs from scikit-learn's.
    """

    _learner = "logistic"
    _local = ()

    def __init__(self, C: float = 1.0, *, fit_intercept: bool = True, max_iter: int = 100, tol: float = 1e-8) -> None:
        self.C = C
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol

    @property
    def random_state(self) -> None:
        return None

    def decision_function(self, X: Any) -> np.ndarray:
        """The linear score ``b + x.beta`` per row."""
        return self._check_predict_X(X) @ self.coef_[0] + self.intercept_[0]


class PCA(_Estimator):
    """Principal component analysis (exact or randomized SVD), scikit-learn's sign convention.

    ``n_components=None`` keeps ``min(n_samples, n_features)``. Fitted: ``components_``,
    ``mean_``, ``explained_variance_``, ``explained_variance_ratio_``, ``singular_values_``.
    """

    _learner = "pca"
    _local = ("random_state", "n_components", "iterated_power")

    def __init__(
        self,
        n_components: int | None = None,
        *,
        svd_solver: str = "auto",
        iterated_power: int | str = "auto",
        n_oversamples: int = 10,
        random_state: Any = None,
    ) -> None:
        self.n_components = n_components
        self.svd_solver = svd_solver
        self.iterated_power = iterated_power
        self.n_oversamples = n_oversamples
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> "PCA":
        """Fits the components (``y`` is ignored)."""
        X = _as_matrix(X, fit=True)
        if X.shape[0] < 2:
            raise ValueError(f"PCA needs at least 2 samples, got n_samples={X.shape[0]}")
        params = self._crate_params()
        k = self.n_components
        if k is not None:
            if isinstance(k, bool) or not isinstance(k, (numbers.Integral, np.integer)):
                raise ValueError(f"n_components must be None or an integer >= 1, got {k!r}")
            if not 1 <= k <= min(X.shape):
                raise ValueError(f"n_components={k} must lie in 1..={min(X.shape)} (min(n_samples, n_features))")
            params.append(f"n_components={int(k)}")
        it = self.iterated_power
        if it == "auto":
            kk = min(X.shape) if k is None else k
            it = 7 if kk < 0.1 * min(X.shape) else 4
        params.append(f"iterated_power={_text(it)}")
        self._set_fitted(_core.fit_pca(params, X, _seed(self.random_state)))
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Scores on the components, ``(n_samples, n_components_)``."""
        return self._fitted().transform(self._check_predict_X(X))

    def fit_transform(self, X: Any, y: Any = None) -> np.ndarray:
        """``fit(X).transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Features back from scores."""
        m = self._fitted()
        z = _as_matrix(X)
        _check_finite(z)
        return m.inverse_transform(z)


def load_model(path: Any) -> _Estimator:
    """The estimator saved at ``path`` (by an estimator's ``save`` or ``meta-router learn --save``)."""
    m = _core.Model.load(str(path))
    by_name = {c._learner: c for c in _ESTIMATORS}
    cls = by_name.get(m.learner)
    if cls is None:
        raise ValueError(f"{path} holds a `{m.learner}` model, which has no estimator class here")
    est = cls()
    est._set_fitted(m)
    if isinstance(est, _Classifier):
        est.classes_ = np.array([0, 1])
    return est


_ESTIMATORS = (
    RandomForestRegressor,
    RandomForestClassifier,
    HistGradientBoostingRegressor,
    HistGradientBoostingClassifier,
    Ridge,
    LogisticRegression,
    PCA,
)


# ----------------------------------------------------------------------------------------
# the router


class Routing(NamedTuple):
    """The result of :meth:`MetaRouter.route`."""

    psi_hat: np.ndarray
    """Estimated quality gain of the primary model per query."""
    primary: np.ndarray
    """``True`` where the query goes to the primary model (``psi_hat > threshold``)."""
    threshold: np.ndarray
    """The threshold each query was compared with."""
    usage: float
    """The realised share of queries sent to the primary model."""


_GOLD = {"gold", "gs", "1", "1.0", "true"}
_PREF = {"pref", "pb", "preference", "0", "0.0", "false"}


def _source_to_is_gold(source: Any, n: int) -> np.ndarray:
    s = np.asarray(source)
    if s.ndim != 1 or s.shape[0] != n:
        raise ValueError(f"source must be a 1-d array of {n} values, got shape {s.shape}")
    out = np.empty(n, dtype=np.float64)
    for i, v in enumerate(s.tolist()):
        t = str(v).strip().lower()
        if t in _GOLD:
            out[i] = 1.0
        elif t in _PREF:
            out[i] = 0.0
        else:
            raise ValueError(f"source row {i}: `{v}` is neither gold (gold/gs/1) nor preference (pref/pb/0)")
    return out


class MetaRouter:
    """The debiased router of Meta-Router, trained on gold and preference labels.

    ``fit(X, label, is_gold)`` (or ``source=`` with ``gold``/``pref`` strings) estimates the
    bias ``Delta(x)`` of the preference labels with a cross-fitted DR- (``method="dr"``) or
    R-learner (``"r"``), lifts each preference label to ``y + Delta_hat(x)`` and regresses
    ``psi_hat``. Baselines: ``gold_only``, ``pref_only``, ``pooled``, ``mean_shift``.
    The parameters are those of ``meta-router fit`` and give the same router (``save``
    writes the file ``meta-router route --model`` reads; ``load`` reads ``meta-router fit -o``).

    Parameters
    ----------
    method : "dr", "r", "gold_only", "pref_only", "pooled" or "mean_shift".
    learner : the psi (and nuisance) learner: "rf" (default: 100 trees, depth 20, sqrt
        features), "hgb", "ridge", "constant".
    learner_params : dict of the learner's parameters (scikit-learn names).
    nuisance, nuisance_params : a different outcome-nuisance learner and its parameters.
    propensity : "known" (gold share) or "estimated" (with ``classifier``, clipped to ``clip``).
    align : scale alignment, "none", "amplitude", "std" or "wasserstein".
    n_folds, repeats : cross-fitting folds and repeats.
    final_learner : a fixed final-stage learner (default: selected by cross-validated loss).
    protocol : "crossfit" or "paper" (the authors' reference script).
    pca : reduce features to this many principal components (stored in the router).
    threshold, usage : the stored decision threshold, or the one routing a share ``usage`` of
        the training queries to the primary model.
    random_state : the seed (``None``: drawn from numpy's global state).

    Fitted attributes: ``router_kind_``, ``scale_``, ``threshold_``, ``delta_`` (diagnostics:
    alignment, final stage, overlap, mean Delta, warnings), ``feature_names_in_``,
    ``n_features_in_``.
    """

    def __init__(
        self,
        method: str = "dr",
        *,
        learner: str | None = None,
        learner_params: dict[str, Any] | None = None,
        nuisance: str | None = None,
        nuisance_params: dict[str, Any] | None = None,
        propensity: str = "known",
        classifier: str | None = None,
        clip: float = 0.01,
        align: str = "std",
        n_folds: int = 5,
        repeats: int = 1,
        final_learner: str | None = None,
        protocol: str = "crossfit",
        pca: int | None = None,
        threshold: float | None = None,
        usage: float | None = None,
        random_state: Any = None,
    ) -> None:
        self.method = method
        self.learner = learner
        self.learner_params = learner_params
        self.nuisance = nuisance
        self.nuisance_params = nuisance_params
        self.propensity = propensity
        self.classifier = classifier
        self.clip = clip
        self.align = align
        self.n_folds = n_folds
        self.repeats = repeats
        self.final_learner = final_learner
        self.protocol = protocol
        self.pca = pca
        self.threshold = threshold
        self.usage = usage
        self.random_state = random_state

    get_params = _Estimator.get_params
    set_params = _Estimator.set_params
    _param_names = classmethod(_Estimator._param_names.__func__)  # type: ignore[attr-defined]
    __repr__ = _Estimator.__repr__

    def fit(
        self,
        X: Any,
        label: Any,
        is_gold: Any = None,
        *,
        source: Any = None,
        sample_weight: Any = None,
        feature_names: Any = None,
    ) -> "MetaRouter":
        """Fits the router. ``label``: the gold label on gold rows, the preference label on
        preference rows; ``is_gold``: 1/0 (or ``source``: ``gold``/``pref`` strings)."""
        if feature_names is None and hasattr(X, "columns"):
            feature_names = [str(c) for c in X.columns]
        X = _as_matrix(X, fit=True)
        n, d = X.shape
        if (is_gold is None) == (source is None):
            raise ValueError("give exactly one of is_gold (1/0 per row) and source (gold/pref per row)")
        g = _as_vector(is_gold, n, "is_gold") if source is None else _source_to_is_gold(source, n)
        y = _as_vector(label, n, "label")
        w = None if sample_weight is None else _as_vector(sample_weight, n, "sample_weight")
        names = [f"x{j + 1}" for j in range(d)] if feature_names is None else [str(f) for f in feature_names]
        if len(names) != d:
            raise ValueError(f"feature_names has {len(names)} names but X has {d} columns")
        if self.pca is not None and (isinstance(self.pca, bool) or not isinstance(self.pca, numbers.Integral)):
            raise ValueError(f"pca must be None or an integer >= 1, got {self.pca!r}")
        r = _core.fit_router(
            X,
            y,
            g,
            w,
            names,
            method=str(self.method),
            learner=self.learner,
            params=_pairs(self.learner_params),
            nuisance=self.nuisance,
            nuisance_params=_pairs(self.nuisance_params),
            propensity=str(self.propensity),
            classifier=self.classifier,
            clip=float(self.clip),
            align=str(self.align),
            folds=int(self.n_folds),
            repeats=int(self.repeats),
            final_learner=self.final_learner,
            protocol=str(self.protocol),
            pca=None if self.pca is None else int(self.pca),
            seed=_seed(self.random_state),
            threshold=None if self.threshold is None else float(self.threshold),
            usage=None if self.usage is None else float(self.usage),
        )
        self._set_router(r)
        return self

    def _set_router(self, r: Any) -> None:
        self.router_ = r
        self.router_kind_ = r.kind
        self.scale_ = r.scale
        self.threshold_ = r.threshold
        self.feature_names_in_ = np.array(r.feature_names, dtype=object)
        self.n_features_in_ = len(r.feature_names)
        info = json.loads(r.diagnostics_json())
        self.delta_ = info["diagnostics"]
        self.threshold_rule_ = info["threshold"]["rule"]

    def _router(self) -> Any:
        r = getattr(self, "router_", None)
        if r is None:
            raise _not_fitted(self)
        return r

    def _query(self, X: Any) -> np.ndarray:
        r = self._router()
        if hasattr(X, "columns"):
            X = X[list(r.feature_names)]
        a = _as_matrix(X)
        _check_finite(a, "query features")
        if a.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {a.shape[1]} features, but the router was fitted with {self.n_features_in_}")
        return a

    def predict(self, X: Any) -> np.ndarray:
        """``psi_hat`` per query, on the gold-label scale (the psi model's preference-scale
        prediction divided by the alignment constant ``scale_``)."""
        return self._router().predict(self._query(X))

    def predict_delta(self, X: Any) -> np.ndarray | None:
        """``Delta_hat`` per query (``None`` for routers without one or after ``load``)."""
        return self._router().predict_delta(self._query(X))

    def route(
        self,
        X: Any,
        threshold: float | None = None,
        usage: float | None = None,
        *,
        cost_primary: Any = None,
        cost_alternative: Any = None,
        cost_weight: float = 1.0,
    ) -> Routing:
        """Decides per query, as ``meta-router route`` does: primary when ``psi_hat > w``,
        with ``w`` = ``threshold``, or the threshold routing a share ``usage`` of these
        queries, or per query ``cost_weight * (cost_primary - cost_alternative)``, or else the
        stored threshold."""
        a = self._query(X)
        n = a.shape[0]
        if threshold is not None and usage is not None:
            raise ValueError("give threshold or usage, not both")
        cp = ca = None
        if cost_primary is not None or cost_alternative is not None:
            if cost_primary is None or cost_alternative is None:
                raise ValueError("cost_primary and cost_alternative go together")
            cp = np.ascontiguousarray(np.broadcast_to(np.asarray(cost_primary, dtype=np.float64), (n,)))
            ca = np.ascontiguousarray(np.broadcast_to(np.asarray(cost_alternative, dtype=np.float64), (n,)))
            _check_finite(cp, "cost_primary")
            _check_finite(ca, "cost_alternative")
        s, primary, w = self._router().route(
            a,
            threshold=None if threshold is None else float(threshold),
            usage=None if usage is None else float(usage),
            cost_primary=cp,
            cost_alternative=ca,
            cost_weight=float(cost_weight),
        )
        return Routing(s, primary, w, float(primary.mean()))

    def save(self, path: Any) -> None:
        """Saves the router (the file ``meta-router route --model`` reads)."""
        self._router().save(str(path))

    @classmethod
    def load(cls, path: Any) -> "MetaRouter":
        """A router saved by ``save`` or by ``meta-router fit -o``."""
        r = _core.FittedRouter.load(str(path))
        est = cls()
        est._set_router(r)
        return est

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        if "router_" in state:
            state["router_"] = bytes(state["router_"].to_bytes())
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if isinstance(state.get("router_"), bytes):
            state["router_"] = _core.FittedRouter.from_bytes(state["router_"])
        self.__dict__.update(state)


# ----------------------------------------------------------------------------------------
# the study


def study(
    X: Any = None,
    gold: Any = None,
    pref: Any = None,
    *,
    psi: Any = None,
    delta: Any = None,
    n: int = 5000,
    sim_params: dict[str, Any] | None = None,
    n_gold: int = 100,
    n_test: int = 500,
    rounds: int = 200,
    learner: str | None = None,
    learner_params: dict[str, Any] | None = None,
    routers: Any = None,
    protocol: str = "crossfit",
    n_folds: int = 5,
    align: str | None = None,
    final_stage: str = "auto",
    final_params: dict[str, Any] | None = None,
    pca: int | None = None,
    random_state: int = 42,
) -> dict[str, Any]:
    """The Monte-Carlo study of ``meta-router study``: every router trained per round on
    ``n_gold`` gold and the remaining preference rows and scored on ``n_test`` test rows.

    Without ``X`` the table comes from the built-in simulator (``n`` rows, ``sim_params``).
    Returns the summary (``summary.json``'s object: ``{"rounds": R, "routers": {name: {auc,
    auc_se, peak_eg, peak_rho, oracle_fraction, delta_rmse}}}``) with ``"curves"``:
    ``{"rho": grid, name: {"mean", "p10", "p90"}}`` as numpy arrays (the oracle included).
    """
    def vec(v: Any, what: str, rows: int) -> np.ndarray | None:
        return None if v is None else _as_vector(v, rows, what)

    if X is not None:
        X = _as_matrix(X, fit=True)
        rows = X.shape[0]
        gold, pref = vec(gold, "gold", rows), vec(pref, "pref", rows)
        psi, delta = vec(psi, "psi", rows), vec(delta, "delta", rows)
    if isinstance(routers, (list, tuple)):
        routers = ",".join(routers)
    text, names, rho, (mean, p10, p90) = _core.study(
        X,
        gold,
        pref,
        psi,
        delta,
        n=int(n),
        sim_params=_pairs(sim_params),
        n_gold=int(n_gold),
        n_test=int(n_test),
        rounds=int(rounds),
        learner=learner,
        params=_pairs(learner_params),
        routers=routers,
        protocol=str(protocol),
        folds=int(n_folds),
        align=align,
        final_stage=str(final_stage),
        final_params=_pairs(final_params),
        pca=None if pca is None else int(pca),
        seed=_seed(random_state),
    )
    out = json.loads(text)
    curves: dict[str, Any] = {"rho": rho}
    for i, name in enumerate(names):
        curves[name] = {"mean": mean[i], "p10": p10[i], "p90": p90[i]}
    out["curves"] = curves
    return out
