"""Type stubs of the extension module ``meta_router._core`` (Rust, PyO3).

Matrices are float64 numpy arrays (any strides; fitting functions get Fortran order from the
Python layer); vectors are contiguous float64. Errors: ``ValueError``, ``OSError`` (files),
``RuntimeError`` (a solver that did not converge), with the crate's message.
"""

from os import PathLike
from typing import Optional, Union

import numpy as np
import numpy.typing as npt

_Mat = npt.NDArray[np.float64]
_Vec = npt.NDArray[np.float64]
_Path = Union[str, PathLike[str]]

REGRESSORS: list[str]
CLASSIFIERS: list[str]

class Model:
    """A fitted learner: a regressor, a classifier or a PCA."""

    @property
    def kind_name(self) -> str: ...
    @property
    def learner(self) -> str: ...
    @property
    def n_features(self) -> int: ...
    def predict(self, x: _Mat) -> _Vec: ...
    def predict_proba(self, x: _Mat) -> _Vec: ...
    def transform(self, x: _Mat) -> _Mat: ...
    def inverse_transform(self, z: _Mat) -> _Mat: ...
    def attributes(self) -> dict[str, object]: ...
    def to_bytes(self) -> bytes: ...
    @staticmethod
    def from_bytes(bytes: bytes) -> Model: ...
    def save(self, path: _Path) -> None: ...
    @staticmethod
    def load(path: _Path) -> Model: ...

class FittedRouter:
    """A serving router (the file ``meta-router fit`` writes)."""

    @staticmethod
    def load(path: _Path) -> FittedRouter: ...
    def save(self, path: _Path) -> None: ...
    def to_bytes(self) -> bytes: ...
    @staticmethod
    def from_bytes(bytes: bytes) -> FittedRouter: ...
    def predict(self, x: _Mat) -> _Vec: ...
    def predict_delta(self, x: _Mat) -> Optional[_Vec]: ...
    def route(
        self,
        x: _Mat,
        threshold: Optional[float] = None,
        usage: Optional[float] = None,
        cost_primary: Optional[_Vec] = None,
        cost_alternative: Optional[_Vec] = None,
        cost_weight: float = 1.0,
    ) -> tuple[_Vec, npt.NDArray[np.bool_], _Vec]: ...
    @property
    def feature_names(self) -> list[str]: ...
    @property
    def kind(self) -> str: ...
    @property
    def scale(self) -> float: ...
    @property
    def threshold(self) -> float: ...
    @property
    def n_components(self) -> int: ...
    def diagnostics_json(self) -> str: ...

def fit_regressor(
    name: str, params: list[str], x: _Mat, y: _Vec, sample_weight: Optional[_Vec] = None, seed: int = 42
) -> Model: ...
def fit_classifier(
    name: str, params: list[str], x: _Mat, y: _Vec, sample_weight: Optional[_Vec] = None, seed: int = 42
) -> Model: ...
def fit_pca(params: list[str], x: _Mat, seed: int = 42) -> Model: ...
def fit_router(
    x: _Mat,
    label: _Vec,
    is_gold: _Vec,
    sample_weight: Optional[_Vec],
    feature_names: list[str],
    *,
    method: str,
    learner: Optional[str],
    params: list[str],
    nuisance: Optional[str],
    nuisance_params: list[str],
    propensity: str,
    classifier: Optional[str],
    clip: float,
    align: str,
    folds: int,
    repeats: int,
    final_learner: Optional[str],
    protocol: str,
    pca: Optional[int],
    seed: int,
    threshold: Optional[float],
    usage: Optional[float],
) -> FittedRouter: ...
def study(
    x: Optional[_Mat],
    gold: Optional[_Vec],
    pref: Optional[_Vec],
    psi: Optional[_Vec],
    delta: Optional[_Vec],
    *,
    n: int,
    sim_params: list[str],
    n_gold: int,
    n_test: int,
    rounds: int,
    learner: Optional[str],
    params: list[str],
    routers: Optional[str],
    protocol: str,
    folds: int,
    align: Optional[str],
    final_stage: str,
    final_params: list[str],
    pca: Optional[int],
    seed: int,
) -> tuple[str, list[str], _Vec, list[_Mat]]: ...
def crate_version() -> str: ...
